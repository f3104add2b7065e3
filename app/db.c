/* MariaDB connection per worker, its statement caches, transactions and
 * the classification of every failure by cause. */
#include "db.h"

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
#include "metrics.h"
#include "util.h"

#define PING_IDLE_MS 5000 /* ping a connection idle longer than this */
#define RECONNECT_BACKOFF_MS 250

/* A statement built at run time, under its text. */
struct dyn_stmt {
	uint64_t hash;
	char *sql; /* NULL: free slot */
	size_t len;
	MYSQL_STMT *st;
};

struct db {
	const struct config *cfg;
	MYSQL *mysql;
	int ep; /* the endpoint (cfg->db[]) mysql is connected to */
	long long ep_fail_ms[CONFIG_DB_MAX]; /* last failure of each */
	long long failback_ms; /* when to try an earlier endpoint again */
	MYSQL_STMT *fixed[DB_FIXED_MAX];
	struct dyn_stmt dyn[DB_DYN_MAX];
	long long last_used_ms;
	long long last_fail_ms;
	bool lost; /* lost since db_clear_lost() */
	bool retry_safe; /* lost before anything of this request ran */
	bool galera; /* connected to a Galera node */
	unsigned executed; /* statements run since db_clear_lost() */
	bool broken; /* to be dropped at the next db_connect() */
	bool ever_connected;
};

static void db_disconnect(struct db *db);
static bool is_gone(unsigned err);
static MYSQL *open_connection(const struct config *cfg, int ep, bool multi,
			      bool *galera, char *errbuf, size_t errlen);
static int node_ready(MYSQL *m, bool *galera, char *errbuf, size_t errlen);
static int open_first(struct db *db, int below, long long now, bool probe,
		      const char *reqid);
static int prepare(struct db *db, MYSQL_STMT **slot, const char *text,
		   size_t len, const char *func, const char *reqid);
static uint64_t text_hash(const char *s, size_t len);

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
	for (int i = 0; i < DB_FIXED_MAX; i++) {
		if (db->fixed[i])
			mysql_stmt_close(db->fixed[i]);
		db->fixed[i] = NULL;
	}
	/* The texts go too: a reconnect starts with an empty cache. */
	for (int i = 0; i < DB_DYN_MAX; i++) {
		if (db->dyn[i].st)
			mysql_stmt_close(db->dyn[i].st);
		free(db->dyn[i].sql);
		memset(&db->dyn[i], 0, sizeof(db->dyn[i]));
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
open_connection(const struct config *cfg, int ep, bool multi, bool *galera,
		char *errbuf, size_t errlen)
{
	const struct db_endpoint *e = &cfg->db[ep];
	unsigned timeout = (unsigned)cfg->db_timeout;
	my_bool off = 0;
	char init[320];
	MYSQL *m = mysql_init(NULL);

	if (!m) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	/* A row lock held elsewhere is waited for db_lock_timeout seconds,
	 * not InnoDB's 50: the write is retried or answered long before
	 * nginx gives up on it. wsrep_sync_wait only acts on a Galera node:
	 * there it makes each read see every write the cluster committed
	 * before it (read-your-writes through any node). */
	snprintf(
		init, sizeof(init),
		"SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,"
		"NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO',"
		" innodb_lock_wait_timeout = %ld, wsrep_sync_wait = %ld",
		cfg->db_lock_timeout, cfg->db_sync_wait);
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_INIT_COMMAND, init);
	if (!mysql_real_connect(m, e->socket[0] ? NULL : e->host, cfg->db_user,
				cfg->db_password, cfg->db_name,
				e->socket[0] ? 0 : e->port,
				e->socket[0] ? e->socket : NULL,
				multi ? CLIENT_MULTI_STATEMENTS : 0)) {
		snprintf(errbuf, errlen, "%s: %s (%u)",
			 e->socket[0] ? e->socket : e->host, mysql_error(m),
			 mysql_errno(m));
		mysql_close(m);
		return NULL;
	}
	if (node_ready(m, galera, errbuf, errlen) < 0) {
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* 0 when the server takes queries: not a Galera node, or one whose
 * wsrep_ready is ON (a joining, donor-blocked or non-primary node refuses
 * them with 1047, and counts as unreachable). SHOW is answered even by a
 * node that is not ready. */
static int
node_ready(MYSQL *m, bool *galera, char *errbuf, size_t errlen)
{
	static const char q[] = "SHOW GLOBAL STATUS LIKE 'wsrep_ready'";
	static const char on[] = "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'";
	const char *what[2] = {on, q};
	bool val[2] = {false, false};

	for (int i = 0; i < 2; i++) {
		MYSQL_RES *res;
		MYSQL_ROW row;

		if (mysql_real_query(m, what[i], strlen(what[i])) != 0 ||
		    !(res = mysql_store_result(m))) {
			snprintf(errbuf, errlen, "%s (%u)", mysql_error(m),
				 mysql_errno(m));
			return -1;
		}
		row = mysql_fetch_row(res);
		val[i] = row && row[1] && strcmp(row[1], "ON") == 0;
		mysql_free_result(res);
		if (i == 0 && !val[0])
			return 0; /* not a cluster node */
	}
	*galera = true;
	if (val[1])
		return 0;
	snprintf(errbuf, errlen,
		 "the Galera node is not synced (wsrep_ready "
		 "OFF)");
	return -1;
}

MYSQL *
db_open_admin(const struct config *cfg, char *errbuf, size_t errlen)
{
	MYSQL *m = NULL;
	bool galera = false;

	for (int i = 0; i < cfg->ndb && !m; i++)
		m = open_connection(cfg, i, true, &galera, errbuf, errlen);
	return m;
}

/* Connects to the first endpoint before `below` that answers and is
 * ready, skipping those that failed less than RECONNECT_BACKOFF_MS ago
 * (a worker does not hammer a server that is down). 0, or -EAGAIN. A
 * probe (trying to move back while connected elsewhere) that fails is
 * no request's failure: it is not counted as the database unavailable. */
static int
open_first(struct db *db, int below, long long now, bool probe,
	   const char *reqid)
{
	char err[320];

	for (int i = 0; i < below; i++) {
		bool galera = false;
		MYSQL *m;

		if (db->ep_fail_ms[i] &&
		    now - db->ep_fail_ms[i] < RECONNECT_BACKOFF_MS)
			continue;
		m = open_connection(db->cfg, i, false, &galera, err,
				    sizeof(err));
		if (!m) {
			/* Logged once per outage of an endpoint. */
			if (!db->ep_fail_ms[i])
				log_error(reqid, "db: cannot connect: %s", err);
			db->ep_fail_ms[i] = now;
			if (!probe)
				metrics_db_error(METRICS_DB_UNAVAILABLE);
			continue;
		}
		if (db->mysql) {
			log_info(reqid, "db: back on endpoint %d", i + 1);
			db_disconnect(db);
		} else if (db->ever_connected || db->last_fail_ms) {
			if (db->cfg->ndb > 1)
				log_info(reqid,
					 "db: reconnected to endpoint %d",
					 i + 1);
			else
				log_info(reqid, "db: reconnected");
			metrics_db_reconnect();
		}
		db->mysql = m;
		db->galera = galera;
		db->ep = i;
		db->ep_fail_ms[i] = 0;
		db->failback_ms = now + db->cfg->db_failback_ms;
		return 0;
	}
	return -EAGAIN;
}

int
db_connect(struct db *db, const char *reqid)
{
	long long now = time_now_ms();

	/* A connection found broken during the last request is dropped here,
	 * at the start of the next use, never while a caller holds one of its
	 * statements. */
	if (db->broken) {
		db_disconnect(db);
		db->broken = false;
	}
	/* Mid-request this never replaces a live connection (that would
	 * leave its transaction): a dead one is found by the statement that
	 * fails on it, or by the ping at the start of a request. */
	if (db->mysql) {
		db->last_used_ms = now;
		return 0;
	}
	if (open_first(db, db->cfg->ndb, now, false, reqid) < 0) {
		db->last_fail_ms = now;
		return -EAGAIN;
	}
	db->ever_connected = true;
	db->last_fail_ms = 0;
	db->last_used_ms = now;
	return 0;
}

bool
db_lost(const struct db *db)
{
	return db->lost;
}

bool
db_retry_safe(const struct db *db)
{
	return db->lost && db->retry_safe;
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
	db->retry_safe = false;
	db->executed = 0;
	if (db->mysql && time_now_ms() - db->last_used_ms > PING_IDLE_MS &&
	    mysql_ping(db->mysql) != 0) {
		log_warn(NULL, "db: idle connection is gone: %s (%u)",
			 mysql_error(db->mysql), mysql_errno(db->mysql));
		db_disconnect(db);
	}
	/* Off the preferred endpoint: now and then try the earlier ones, and
	 * move back to the first that is synced again (here, where no
	 * transaction is open and no statement in use). */
	if (db->mysql && db->ep > 0) {
		long long now = time_now_ms();

		if (now >= db->failback_ms) {
			db->failback_ms = now + db->cfg->db_failback_ms;
			open_first(db, db->ep, now, true, NULL);
		}
	}
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
	case ER_CON_COUNT_ERROR:
	case ER_UNKNOWN_COM_ERROR: /* 1047: Galera node not ready */
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
		log_warn(reqid, "%s: contention: %s (%u)", func, msg, err);
		metrics_db_error(METRICS_DB_CONTENTION);
		return -EBUSY;
	}
	/* On a Galera node a failed commit (1180) is a node that lost the
	 * cluster's primary component as it replicated: nothing was
	 * committed, and the node is as good as unreachable. */
	if (is_gone(err) || err == 0 ||
	    (db->galera && err == ER_ERROR_DURING_COMMIT)) {
		metrics_db_error(METRICS_DB_UNAVAILABLE);
		log_error(reqid, "%s: database connection lost: %s (%u)", func,
			  msg, err);
		db->broken = true;
		db->lost = true;
		/* Refused by a node that is not synced, or not sent at all:
		 * when nothing ran before, nothing of this request happened. */
		db->retry_safe =
			db->executed == 0 && (err == ER_UNKNOWN_COM_ERROR ||
					      err == CR_SERVER_GONE_ERROR);
		db->last_fail_ms = 0;
		return -EAGAIN;
	}
	log_error(reqid, "%s: %s (%u)", func, msg, err);
	metrics_db_error(METRICS_DB_OTHER);
	return -EIO;
}

static int
prepare(struct db *db, MYSQL_STMT **slot, const char *text, size_t len,
	const char *func, const char *reqid)
{
	MYSQL_STMT *st;
	int rc;

	if (db->broken)
		return -EAGAIN; /* the rest of this request answers 503 */
	if ((rc = db_connect(db, reqid)) < 0)
		return rc;
	if (*slot)
		return 0;
	st = mysql_stmt_init(db->mysql);
	if (!st)
		return db_fail(db, NULL, func, reqid);
	if (mysql_stmt_prepare(st, text, (unsigned long)len) != 0) {
		/* A statement that cannot prepare (a bad migration, a typo)
		 * is a 500 with its reason logged, not an outage. */
		rc = db_fail(db, st, func, reqid);
		mysql_stmt_close(st);
		return rc == -EEXIST || rc == -ENOENT ? -EIO : rc;
	}
	*slot = st;
	return 0;
}

int
db_stmt(struct db *db, unsigned id, const char *sql, const char *func,
	const char *reqid, MYSQL_STMT **ret)
{
	int rc;

	if (id >= DB_FIXED_MAX)
		return -EINVAL;
	if ((rc = prepare(db, &db->fixed[id], sql, strlen(sql), func, reqid)))
		return rc;
	*ret = db->fixed[id];
	return 0;
}

/* FNV-1a: the cache needs a spread, not a defence. */
static uint64_t
text_hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

int
db_stmt_text(struct db *db, const char *sql, size_t len, const char *func,
	     const char *reqid, MYSQL_STMT **ret)
{
	uint64_t h = text_hash(sql, len);
	struct dyn_stmt *e = NULL;
	int rc;

	/* Connect first: a connect that finds the connection dead drops it
	 * with every cached text, and the entry below must outlive that. */
	if (db->broken)
		return -EAGAIN;
	if ((rc = db_connect(db, reqid)) < 0)
		return rc;

	/* Open addressing; a slot is never emptied but by a disconnect. */
	for (unsigned i = 0; i < DB_DYN_MAX; i++) {
		struct dyn_stmt *d = &db->dyn[(h + i) % DB_DYN_MAX];

		if (!d->sql || (d->hash == h && d->len == len &&
				memcmp(d->sql, sql, len) == 0)) {
			e = d;
			break;
		}
	}
	if (!e) {
		log_error(reqid, "%s: statement cache full (%d texts)", func,
			  DB_DYN_MAX);
		return -EIO;
	}
	if (!e->sql) {
		e->sql = malloc(len + 1);
		if (!e->sql)
			return -ENOMEM;
		memcpy(e->sql, sql, len);
		e->sql[len] = '\0';
		e->len = len;
		e->hash = h;
	}
	if ((rc = prepare(db, &e->st, e->sql, len, func, reqid)))
		return rc;
	*ret = e->st;
	return 0;
}

int
db_begin(struct db *db, const char *func, const char *reqid)
{
	static const char q[] = "START TRANSACTION";
	int rc;

	if (db->broken)
		return -EAGAIN;
	if ((rc = db_connect(db, reqid)) < 0)
		return rc;
	if (mysql_real_query(db->mysql, q, sizeof(q) - 1) != 0)
		return db_fail(db, NULL, func, reqid);
	db->executed++;
	return 0;
}

int
db_commit(struct db *db, const char *func, const char *reqid)
{
	if (!db->mysql || db->broken)
		return -EAGAIN;
	if (mysql_commit(db->mysql) != 0)
		return db_fail(db, NULL, func, reqid);
	return 0;
}

void
db_rollback(struct db *db, const char *reqid)
{
	if (!db->mysql || db->broken)
		return;
	if (mysql_rollback(db->mysql) != 0)
		db_fail(db, NULL, __func__, reqid);
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
	db->executed++;
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

long long
db_affected(MYSQL_STMT *st)
{
	return (long long)mysql_stmt_affected_rows(st);
}

long long
db_insert_id(MYSQL_STMT *st)
{
	return (long long)mysql_stmt_insert_id(st);
}

void
db_done(MYSQL_STMT *st)
{
	mysql_stmt_free_result(st);
}
