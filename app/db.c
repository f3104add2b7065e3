/* MariaDB connection per worker, prepared statements, migrations. */
#include "db.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define PING_IDLE_MS 5000 /* ping a connection idle longer than this */
#define RECONNECT_BACKOFF_MS 250

static const char *const sql[STMT_MAX] = {
	[STMT_SCHEMA_VERSION] =
		"SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
	[STMT_PING] = "SELECT 1",
	[STMT_USER_INSERT] =
		"INSERT INTO users (email, name, password_hash, email_verified,"
		" created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)",
	[STMT_USER_BY_EMAIL] =
		"SELECT id, email, name, password_hash, email_verified,"
		" created_at, updated_at FROM users WHERE email = ?",
	[STMT_USER_BY_ID] =
		"SELECT id, email, name, password_hash, email_verified,"
		" created_at, updated_at FROM users WHERE id = ?",
	[STMT_TODO_INSERT] =
		"INSERT INTO todos (user_id, title, description, completed,"
		" priority, due_at, version, created_at, updated_at)"
		" VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
	[STMT_TODO_GET] =
		"SELECT id, title, description, completed, priority, due_at,"
		" version, created_at, updated_at FROM todos"
		" WHERE id = ? AND user_id = ?",
	[STMT_TODO_UPDATE] =
		"UPDATE todos SET title = ?, description = ?, completed = ?,"
		" priority = ?, due_at = ?, version = version + 1,"
		" updated_at = ? WHERE id = ? AND user_id = ? AND version = ?",
	[STMT_TODO_DELETE] = "DELETE FROM todos WHERE id = ? AND user_id = ?",
	[STMT_TODO_DELETE_VERSION] =
		"DELETE FROM todos WHERE id = ? AND user_id = ? AND version = ?",
	[STMT_IDEM_INSERT] =
		"INSERT INTO idempotency_keys (user_id, idem_key, request_hash,"
		" todo_id, created_at) VALUES (?, ?, ?, NULL, ?)",
	[STMT_IDEM_GET] =
		"SELECT request_hash, todo_id, created_at FROM idempotency_keys"
		" WHERE user_id = ? AND idem_key = ?",
	[STMT_IDEM_SET] = "UPDATE idempotency_keys SET todo_id = ?"
			  " WHERE user_id = ? AND idem_key = ?",
	[STMT_IDEM_DELETE] =
		"DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ?",
	[STMT_IDEM_PURGE] =
		"DELETE FROM idempotency_keys WHERE created_at < ? LIMIT 1000",
};

struct db {
	const struct config *cfg;
	MYSQL *mysql;
	MYSQL_STMT *stmts[STMT_MAX];
	MYSQL_STMT *dyn[DB_DYN_MAX];
	long long last_used_ms;
	long long last_fail_ms;
	bool lost; /* lost since db_clear_lost() */
	bool broken; /* to be dropped at the next db_connect() */
};

static void db_disconnect(struct db *db);
static bool is_gone(unsigned err);
static MYSQL *open_connection(const struct config *cfg, bool multi,
			      char *errbuf, size_t errlen);
static MYSQL_STMT *prepare(struct db *db, MYSQL_STMT **slot, const char *text,
			   const char *reqid);
static int run_file(MYSQL *m, const char *path);

struct db *
db_new(const struct config *cfg)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db)
		db->cfg = cfg;
	return db;
}

static void
db_disconnect(struct db *db)
{
	for (int i = 0; i < STMT_MAX; i++) {
		if (db->stmts[i])
			mysql_stmt_close(db->stmts[i]);
		db->stmts[i] = NULL;
	}
	for (int i = 0; i < DB_DYN_MAX; i++) {
		if (db->dyn[i])
			mysql_stmt_close(db->dyn[i]);
		db->dyn[i] = NULL;
	}
	if (db->mysql)
		mysql_close(db->mysql);
	db->mysql = NULL;
}

void
db_free(struct db *db)
{
	if (!db)
		return;
	db_disconnect(db);
	free(db);
}

static MYSQL *
open_connection(const struct config *cfg, bool multi, char *errbuf,
		size_t errlen)
{
	unsigned timeout = (unsigned)cfg->db_timeout;
	my_bool off = 0;
	MYSQL *m = mysql_init(NULL);

	if (!m) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(
		m, MYSQL_INIT_COMMAND,
		"SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,"
		"NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO'");
	if (!mysql_real_connect(m, cfg->db_socket[0] ? NULL : cfg->db_host,
				cfg->db_user, cfg->db_password, cfg->db_name,
				cfg->db_socket[0] ? 0 : (unsigned)cfg->db_port,
				cfg->db_socket[0] ? cfg->db_socket : NULL,
				multi ? CLIENT_MULTI_STATEMENTS : 0)) {
		snprintf(errbuf, errlen, "%s", mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

int
db_connect(struct db *db, const char *reqid)
{
	long long now = time_now_ms();
	char err[256];

	/* A connection found broken during the last request is dropped here,
	 * at the start of the next use, never while a caller holds one of its
	 * statements. */
	if (db->broken) {
		db_disconnect(db);
		db->broken = false;
	}
	if (db->mysql && now - db->last_used_ms > PING_IDLE_MS &&
	    mysql_ping(db->mysql) != 0) {
		log_warn(reqid, "db: idle connection is gone: %s",
			 mysql_error(db->mysql));
		db_disconnect(db);
	}
	if (db->mysql) {
		db->last_used_ms = now;
		return 0;
	}
	/* A worker does not hammer a server that is down. */
	if (db->last_fail_ms && now - db->last_fail_ms < RECONNECT_BACKOFF_MS)
		return -EAGAIN;
	db->mysql = open_connection(db->cfg, false, err, sizeof(err));
	if (!db->mysql) {
		db->last_fail_ms = now;
		log_error(reqid, "db: cannot connect: %s", err);
		return -EAGAIN;
	}
	if (db->last_fail_ms)
		log_info(reqid, "db: reconnected");
	db->last_fail_ms = 0;
	db->last_used_ms = now;
	return 0;
}

bool
db_lost(const struct db *db)
{
	return db->lost;
}

void
db_clear_lost(struct db *db)
{
	/* Called between requests (and before a retry), when no statement
	 * of this connection is in use: a broken connection can go. */
	if (db->broken) {
		db_disconnect(db);
		db->broken = false;
	}
	db->lost = false;
}

MYSQL *
db_mysql(struct db *db)
{
	return db->mysql;
}

static bool
is_gone(unsigned err)
{
	switch (err) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case ER_QUERY_INTERRUPTED:
	case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */ return true;
	default: return false;
	}
}

int
db_fail(struct db *db, MYSQL_STMT *st, const char *func, const char *reqid)
{
	unsigned err;
	const char *msg;

	if (!db->mysql || db->broken)
		return -EAGAIN;
	err = st ? mysql_stmt_errno(st) : mysql_errno(db->mysql);
	msg = st ? mysql_stmt_error(st) : mysql_error(db->mysql);
	if (err == ER_DUP_ENTRY)
		return -EEXIST;
	if (err == ER_NO_REFERENCED_ROW_2 || err == ER_NO_REFERENCED_ROW)
		return -ENOENT;
	if (err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT) {
		log_warn(reqid, "%s: %s", func, msg);
		return -EBUSY;
	}
	if (is_gone(err) || err == 0) {
		log_error(reqid, "%s: database connection lost: %s (%u)", func,
			  msg, err);
		db->broken = true;
		db->lost = true;
		db->last_fail_ms = 0;
		return -EAGAIN;
	}
	log_error(reqid, "%s: %s (%u)", func, msg, err);
	return -EIO;
}

static MYSQL_STMT *
prepare(struct db *db, MYSQL_STMT **slot, const char *text, const char *reqid)
{
	MYSQL_STMT *st;

	if (db->broken)
		return NULL; /* the rest of this request answers 503 */
	if (db_connect(db, reqid) < 0)
		return NULL;
	if (*slot)
		return *slot;
	st = mysql_stmt_init(db->mysql);
	if (!st) {
		db_fail(db, NULL, __func__, reqid);
		return NULL;
	}
	if (mysql_stmt_prepare(st, text, (unsigned long)strlen(text)) != 0) {
		db_fail(db, st, __func__, reqid);
		mysql_stmt_close(st);
		return NULL;
	}
	*slot = st;
	return st;
}

MYSQL_STMT *
db_stmt(struct db *db, enum stmt id, const char *reqid)
{
	return prepare(db, &db->stmts[id], sql[id], reqid);
}

MYSQL_STMT *
db_stmt_dyn(struct db *db, unsigned slot, const char *text, const char *reqid)
{
	if (slot >= DB_DYN_MAX)
		return NULL;
	return prepare(db, &db->dyn[slot], text, reqid);
}

int
db_begin(struct db *db, const char *reqid)
{
	if (db->broken || db_connect(db, reqid) < 0)
		return -EAGAIN;
	if (mysql_autocommit(db->mysql, 0) != 0)
		return db_fail(db, NULL, __func__, reqid);
	return 0;
}

int
db_commit(struct db *db, const char *reqid)
{
	int r = 0;

	if (!db->mysql || db->broken)
		return -EAGAIN;
	if (mysql_commit(db->mysql) != 0)
		return db_fail(db, NULL, __func__, reqid);
	if (mysql_autocommit(db->mysql, 1) != 0)
		r = db_fail(db, NULL, __func__, reqid);
	return r;
}

void
db_rollback(struct db *db)
{
	if (!db->mysql || db->broken)
		return;
	if (mysql_rollback(db->mysql) != 0 ||
	    mysql_autocommit(db->mysql, 1) != 0)
		db_fail(db, NULL, __func__, NULL);
}

void
db_bind_ll(MYSQL_BIND *b, long long *v, my_bool *is_null)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = v;
	b->is_null = is_null;
}

void
db_bind_str(MYSQL_BIND *b, const char *s, unsigned long *len)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = (void *)(uintptr_t)s;
	b->buffer_length = *len;
	b->length = len;
}

void
db_bind_blob(MYSQL_BIND *b, const void *p, unsigned long *len)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_BLOB;
	b->buffer = (void *)(uintptr_t)p;
	b->buffer_length = *len;
	b->length = len;
}

void
db_bind_buf(MYSQL_BIND *b, char *buf, size_t cap, unsigned long *len,
	    my_bool *is_null)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = buf;
	b->buffer_length = cap;
	b->length = len;
	b->is_null = is_null;
}

void
db_bind_time(MYSQL_BIND *b, MYSQL_TIME *t, my_bool *is_null)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_DATETIME;
	b->buffer = t;
	b->is_null = is_null;
}

void
db_time_from_ms(MYSQL_TIME *t, long long ms)
{
	long long secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	long long days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	long long rem = secs - days * 86400, msec = ms - secs * 1000;
	long long y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	memset(t, 0, sizeof(*t));
	t->year = (unsigned)y;
	t->month = m;
	t->day = d;
	t->hour = (unsigned)(rem / 3600);
	t->minute = (unsigned)(rem / 60 % 60);
	t->second = (unsigned)(rem % 60);
	t->second_part = (unsigned long)msec * 1000;
	t->time_type = MYSQL_TIMESTAMP_DATETIME;
}

long long
db_time_to_ms(const MYSQL_TIME *t)
{
	long long days = days_from_civil(t->year, t->month, t->day);

	return ((days * 24 + t->hour) * 60 + t->minute) * 60000 +
	       (long long)t->second * 1000 + (long long)(t->second_part / 1000);
}

int
db_exec(struct db *db, MYSQL_STMT *st, MYSQL_BIND *params, MYSQL_BIND *results,
	const char *func, const char *reqid)
{
	if (params && mysql_stmt_bind_param(st, params) != 0)
		return db_fail(db, st, func, reqid);
	if (mysql_stmt_execute(st) != 0)
		return db_fail(db, st, func, reqid);
	if (results && mysql_stmt_bind_result(st, results) != 0)
		return db_fail(db, st, func, reqid);
	return 0;
}

int
db_fetch(struct db *db, MYSQL_STMT *st, const char *func, const char *reqid)
{
	int rc = mysql_stmt_fetch(st);

	if (rc == 0)
		return 1;
	if (rc == MYSQL_NO_DATA)
		return 0;
	if (rc == MYSQL_DATA_TRUNCATED) {
		log_error(reqid, "%s: a column did not fit its buffer", func);
		mysql_stmt_free_result(st);
		return -EIO;
	}
	return db_fail(db, st, func, reqid);
}

int
db_schema_version(struct db *db, long long *ret)
{
	MYSQL_STMT *st = db_stmt(db, STMT_SCHEMA_VERSION, NULL);
	MYSQL_BIND res[1];
	long long v = 0;
	int r;

	if (!st)
		return db->mysql ? -EIO : -EAGAIN;
	db_bind_ll(&res[0], &v, NULL);
	r = db_exec(db, st, NULL, res, __func__, NULL);
	if (r < 0)
		return r;
	r = db_fetch(db, st, __func__, NULL);
	mysql_stmt_free_result(st);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

static int
run_file(MYSQL *m, const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	long size;
	int r = -1;

	if (!f)
		goto out;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	text = malloc((size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size)
		goto out;
	text[size] = '\0';
	if (mysql_real_query(m, text, (unsigned long)size) != 0)
		goto out;
	/* Drain every result of the multi-statement batch. */
	for (;;) {
		MYSQL_RES *res = mysql_store_result(m);
		int next;

		if (res)
			mysql_free_result(res);
		else if (mysql_errno(m))
			goto out;
		next = mysql_next_result(m);
		if (next > 0)
			goto out;
		if (next < 0)
			break;
	}
	r = 0;
out:
	if (f)
		fclose(f);
	free(text);
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
db_migrate(const struct config *cfg, const char *dir)
{
	static const char create[] =
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		" version INT UNSIGNED NOT NULL PRIMARY KEY,"
		" name VARCHAR(255) NOT NULL,"
		" applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
		") ENGINE=InnoDB";
	char err[256];
	MYSQL *m = open_connection(cfg, true, err, sizeof(err));
	DIR *d = NULL;
	struct dirent *e;
	char *names[1000];
	size_t n = 0;
	int r = -1;

	if (!m) {
		log_error(NULL, "migrate: cannot connect: %s", err);
		return -1;
	}
	if (mysql_query(m, create) != 0) {
		log_error(NULL, "migrate: %s", mysql_error(m));
		goto out;
	}
	d = opendir(dir);
	if (!d) {
		log_error(NULL, "migrate: cannot open %s: %s", dir,
			  strerror(errno));
		goto out;
	}
	while ((e = readdir(d)) && n < 1000) {
		size_t len = strlen(e->d_name);

		if (len < 8 || strcmp(e->d_name + len - 4, ".sql") != 0 ||
		    e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		names[n] = strdup(e->d_name);
		if (!names[n])
			goto out;
		n++;
	}
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		MYSQL_STMT *st = NULL;
		MYSQL_BIND b[2];
		long long version = strtoll(names[i], NULL, 10), found = 0;
		unsigned long len = strlen(names[i]);
		char path[4096];
		int have;

		/* The versions table is read through a statement, like all else. */
		st = mysql_stmt_init(m);
		if (!st)
			goto out;
		{
			static const char q[] =
				"SELECT COUNT(*) FROM schema_migrations WHERE version = ?";
			MYSQL_BIND res[1];

			db_bind_ll(&b[0], &version, NULL);
			db_bind_ll(&res[0], &found, NULL);
			if (mysql_stmt_prepare(st, q, sizeof(q) - 1) ||
			    mysql_stmt_bind_param(st, b) ||
			    mysql_stmt_execute(st) ||
			    mysql_stmt_bind_result(st, res) ||
			    mysql_stmt_fetch(st) != 0) {
				log_error(NULL, "migrate: %s",
					  mysql_stmt_error(st));
				mysql_stmt_close(st);
				goto out;
			}
			mysql_stmt_free_result(st);
		}
		have = found > 0;
		if (have) {
			mysql_stmt_close(st);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		log_info(NULL, "migrate: applying %s", names[i]);
		if (run_file(m, path) < 0) {
			log_error(NULL, "migrate: %s failed: %s", names[i],
				  mysql_error(m));
			mysql_stmt_close(st);
			goto out;
		}
		{
			static const char q[] =
				"INSERT INTO schema_migrations (version, name) VALUES (?, ?)";

			db_bind_ll(&b[0], &version, NULL);
			db_bind_str(&b[1], names[i], &len);
			if (mysql_stmt_prepare(st, q, sizeof(q) - 1) ||
			    mysql_stmt_bind_param(st, b) ||
			    mysql_stmt_execute(st)) {
				log_error(NULL, "migrate: %s",
					  mysql_stmt_error(st));
				mysql_stmt_close(st);
				goto out;
			}
		}
		mysql_stmt_close(st);
	}
	log_info(NULL, "migrate: schema is at version %d", DB_SCHEMA_VERSION);
	r = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	if (d)
		closedir(d);
	mysql_close(m);
	return r;
}
