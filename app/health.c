/* GET /api/health: 200 when MariaDB answers, 503 otherwise. */
#include "health.h"

#include <string.h>

#include "db.h"
#include "http.h"

int
health_get(struct request *r)
{
	static const char ok[] = "{\"status\":\"ok\",\"database\":\"ok\"}";
	static const char down[] =
		"{\"status\":\"unavailable\",\"database\":\"unavailable\","
		"\"code\":\"UNAVAILABLE\",\"message\":\"The database cannot be reached.\"}";
	MYSQL_STMT *st = db_stmt(r->db, STMT_PING, r->reqid);
	long long one = 0;
	MYSQL_BIND res[1];
	int rc = -1;

	if (st) {
		db_bind_ll(&res[0], &one, NULL);
		rc = db_exec(r->db, st, NULL, res, __func__, r->reqid);
		if (rc == 0) {
			rc = db_fetch(r->db, st, __func__, r->reqid);
			mysql_stmt_free_result(st);
		}
	}
	if (rc == 1 && one == 1)
		return http_body(r, 200, ok, sizeof(ok) - 1);
	/* The body has the health shape and the error shape at once. */
	http_header(r, "Retry-After", "2");
	return http_body(r, 503, down, sizeof(down) - 1);
}
