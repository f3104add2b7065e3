/* One MariaDB connection per worker: connect and reconnect, statements
 * prepared once per connection (and again after a reconnect), parameters
 * only through MYSQL_BIND, errors classified by cause. Only the data layer
 * (store.c, migrate.c) includes this header; the handlers see store.h. */
#ifndef TODOD_DB_H
#define TODOD_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <mysql.h>

struct config;

/* Slots for the data layer's fixed statements (its enum stmt), and the
 * size of the cache of statements built at run time, keyed by their text. */
#define DB_FIXED_MAX 32
#define DB_DYN_MAX 160

/* Error results, negative errno values carried up to the handlers:
 *   -EAGAIN  the server cannot be reached or the connection was lost (503)
 *   -EBUSY   deadlock or lock wait timeout (retried by the caller, then 503)
 *   -EEXIST  a unique key was violated
 *   -ENOENT  a foreign key's parent row is missing
 *   -EIO     anything else (500), logged with the MariaDB errno and message
 * Every failure but -EEXIST and -ENOENT is logged here with the caller's
 * name; bound values never are. */

struct db;

struct db *db_new(const struct config *cfg);
void db_free(struct db *db); /* accepts NULL */
/* Makes sure the connection is up; 0 or -EAGAIN when unavailable. */
int db_connect(struct db *db, const char *reqid);
/* True when the connection was lost since the last db_clear_lost(). */
bool db_lost(const struct db *db);
/* True when the connection was lost before any statement of this request
 * ran (the node refused the first one as not synced, 1047, or it could
 * not be sent, 2006): the request may run again whatever it does. */
bool db_retry_safe(const struct db *db);
/* Starts a request: forgets the loss and drops a broken connection (a
 * connection found broken mid-request stays open, with its statements,
 * until then, so that no caller uses a freed statement). */
void db_clear_lost(struct db *db);

/* The statement in fixed slot id with text sql, prepared on first use of
 * this connection. 0 with *ret (owned by db), or an error result: a
 * statement that cannot be prepared is -EIO, not -EAGAIN. */
int db_stmt(struct db *db, unsigned id, const char *sql, const char *func,
	    const char *reqid, MYSQL_STMT **ret);
/* The same for a statement built at run time: cached under its text (a
 * hash of it, compared in full on a hit). */
int db_stmt_text(struct db *db, const char *sql, size_t len, const char *func,
		 const char *reqid, MYSQL_STMT **ret);

/* Classifies (and logs) the failure of st, or of the connection when st
 * is NULL, as one of the error results above. */
int db_fail(struct db *db, MYSQL_STMT *st, const char *func, const char *reqid);

/* An explicit transaction on the autocommit connection: START
 * TRANSACTION ... COMMIT. db_rollback is harmless without one. */
int db_begin(struct db *db, const char *func, const char *reqid);
int db_commit(struct db *db, const char *func, const char *reqid);
void db_rollback(struct db *db, const char *reqid);

/* Binding helpers: the pointed-to values must live until execute/fetch. */
void db_bind_ll(MYSQL_BIND *b, long long *v, my_bool *is_null);
void db_bind_str(MYSQL_BIND *b, const char *s, unsigned long *len);
void db_bind_buf(MYSQL_BIND *b, char *buf, size_t cap, unsigned long *len,
		 my_bool *is_null);
void db_bind_blob(MYSQL_BIND *b, const void *p, unsigned long *len);
void db_bind_time(MYSQL_BIND *b, MYSQL_TIME *t, my_bool *is_null);
void db_time_from_ms(MYSQL_TIME *t, long long ms);
long long db_time_to_ms(const MYSQL_TIME *t);

/* Runs a statement with params; binds results when given. 0 or an error
 * result. */
int db_exec(struct db *db, MYSQL_STMT *st, MYSQL_BIND *params,
	    MYSQL_BIND *results, const char *func, const char *reqid);
/* Fetches the next row: 1 row, 0 no more rows, or an error result. A
 * truncated column is -EIO. */
int db_fetch(struct db *db, MYSQL_STMT *st, const char *func,
	     const char *reqid);
/* Rows changed by the last execute of st, and the id it inserted. */
long long db_affected(MYSQL_STMT *st);
long long db_insert_id(MYSQL_STMT *st);
/* Releases the result set of st (after the last db_fetch). */
void db_done(MYSQL_STMT *st);

/* A separate connection (migrations): multi-statements allowed. NULL with
 * the reason in errbuf. */
MYSQL *db_open_admin(const struct config *cfg, char *errbuf, size_t errlen);

#endif
