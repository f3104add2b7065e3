/* One MariaDB connection per worker: connect and reconnect, statements
 * prepared once per connection (and again after a reconnect), parameters
 * only through MYSQL_BIND, errors mapped to errno values. */
#ifndef TODOD_DB_H
#define TODOD_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <mysql.h>

struct config;

enum stmt {
	STMT_SCHEMA_VERSION,
	STMT_PING,
	STMT_USER_INSERT,
	STMT_USER_BY_EMAIL,
	STMT_USER_BY_ID,
	STMT_TODO_INSERT,
	STMT_TODO_GET,
	STMT_TODO_UPDATE,
	STMT_TODO_DELETE,
	STMT_TODO_DELETE_VERSION,
	STMT_IDEM_INSERT,
	STMT_IDEM_GET,
	STMT_IDEM_SET,
	STMT_IDEM_DELETE,
	STMT_IDEM_PURGE,
	STMT_MAX
};

/* Slots for statements whose text is assembled from fixed fragments (the
 * list query variants); callers own the numbering below DB_DYN_MAX. */
#define DB_DYN_MAX 160

/* The schema version this binary needs (the highest sql/NNN_*.sql). */
#define DB_SCHEMA_VERSION 1

struct db;

struct db *db_new(const struct config *cfg);
void db_free(struct db *db); /* accepts NULL */
/* Makes sure the connection is up; 0 or -EAGAIN when unavailable. */
int db_connect(struct db *db, const char *reqid);
/* True when the connection was lost since the last db_clear_lost(). */
bool db_lost(const struct db *db);
/* Starts a request: forgets the loss and drops a broken connection (a
 * connection found broken mid-request stays open, with its statements,
 * until then, so that no caller uses a freed statement). */
void db_clear_lost(struct db *db);
MYSQL *db_mysql(struct db *db);
/* The prepared statement (prepared on first use); NULL and -EAGAIN in
 * *ret_err when the database is unavailable, -EIO otherwise. */
MYSQL_STMT *db_stmt(struct db *db, enum stmt id, const char *reqid);
MYSQL_STMT *db_stmt_dyn(struct db *db, unsigned slot, const char *sql,
			const char *reqid);
/* Logs the failure of st (or of the connection when st is NULL) with the
 * caller's name and maps it: -EAGAIN when the server is gone (the
 * connection is dropped and reconnected on next use), -EEXIST for a
 * duplicate key, -ENOENT for a missing foreign key row, -EIO otherwise. */
int db_fail(struct db *db, MYSQL_STMT *st, const char *func, const char *reqid);
int db_begin(struct db *db, const char *reqid);
int db_commit(struct db *db, const char *reqid);
void db_rollback(struct db *db);

/* Binding helpers: the pointed-to values must live until execute/fetch. */
void db_bind_ll(MYSQL_BIND *b, long long *v, my_bool *is_null);
void db_bind_str(MYSQL_BIND *b, const char *s, unsigned long *len);
void db_bind_buf(MYSQL_BIND *b, char *buf, size_t cap, unsigned long *len,
		 my_bool *is_null);
void db_bind_blob(MYSQL_BIND *b, const void *p, unsigned long *len);
void db_bind_time(MYSQL_BIND *b, MYSQL_TIME *t, my_bool *is_null);
void db_time_from_ms(MYSQL_TIME *t, long long ms);
long long db_time_to_ms(const MYSQL_TIME *t);

/* Runs a statement with params; binds results when given. Returns 0 or
 * the db_fail() mapping. */
int db_exec(struct db *db, MYSQL_STMT *st, MYSQL_BIND *params,
	    MYSQL_BIND *results, const char *func, const char *reqid);
/* Fetches the next row: 1 row, 0 no more rows, negative error. A
 * truncated column is an error (-EIO). */
int db_fetch(struct db *db, MYSQL_STMT *st, const char *func,
	     const char *reqid);

/* Applies pending migrations from dir. Logs progress. Returns 0 or -1. */
int db_migrate(const struct config *cfg, const char *dir);
/* Reads the schema version; 0 or negative. */
int db_schema_version(struct db *db, long long *ret);

#endif
