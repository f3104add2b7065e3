/* GET /api/health: 200 when MariaDB answers, 503 otherwise. */
#include "health.h"

#include <string.h>

#include "http.h"
#include "store.h"

int
health_get(struct request *r)
{
	static const char ok[] = "{\"status\":\"ok\",\"database\":\"ok\"}";
	static const char down[] =
		"{\"status\":\"unavailable\",\"database\":\"unavailable\","
		"\"code\":\"UNAVAILABLE\",\"message\":\"The database cannot be reached.\"}";

	if (store_ping(r->db, r->reqid) == 0)
		return http_body(r, 200, ok, sizeof(ok) - 1);
	/* The body has the health shape and the error shape at once. */
	http_header(r, "Retry-After", "2");
	return http_body(r, 503, down, sizeof(down) - 1);
}
