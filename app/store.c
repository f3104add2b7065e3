/* The data layer: the SQL of every statement beside the code that binds
 * it, transactions with bounded retries, and rows as plain structs. The
 * owner is part of every todo statement (WHERE id = ? AND user_id = ?). */
#include "store.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "todos_query.h"
#include "util.h"

/* Attempts of one write when MariaDB reports a deadlock or a lock wait
 * timeout; the transaction is rolled back and run again from the start. */
#define WRITE_ATTEMPTS 4
#define IDEM_ATTEMPTS 6
#define IDEM_PURGE_AFTER_MS (25LL * 3600 * 1000)

/* rc = expr, run again (after a short pause) while it reports a deadlock
 * or lock wait timeout, WRITE_ATTEMPTS times at most; the last -EBUSY is
 * logged as contention. expr must be one whole transaction. */
#define WITH_RETRIES(rc, expr)                                    \
	do {                                                      \
		for (int attempt_ = 0; attempt_ < WRITE_ATTEMPTS; \
		     attempt_++) {                                \
			if (attempt_)                             \
				backoff(attempt_);                \
			if (((rc) = (expr)) != -EBUSY)            \
				break;                            \
		}                                                 \
		if ((rc) == -EBUSY)                               \
			gave_up(__func__, reqid, WRITE_ATTEMPTS); \
	} while (0)

enum stmt {
	STMT_SCHEMA_VERSION,
	STMT_PING,
	STMT_USER_INSERT,
	STMT_USER_BY_EMAIL,
	STMT_USER_BY_ID,
	STMT_TODO_INSERT,
	STMT_TODO_GET,
	STMT_TODO_LOCK,
	STMT_TODO_WRITE,
	STMT_TODO_DELETE,
	STMT_TODO_APPLY,
	STMT_TODO_APPLIED,
	STMT_IDEM_INSERT,
	STMT_IDEM_GET,
	STMT_IDEM_SET,
	STMT_IDEM_DELETE,
	STMT_IDEM_PURGE,
	STMT_USER_SET_PASSWORD,
	STMT_USER_RENAME,
	STMT_USER_DELETE,
	STMT_TODO_DELETE_USER,
	STMT_IDEM_DELETE_USER,
	STMT_REVOKE_INSERT,
	STMT_REVOKE_CHECK,
	STMT_REVOKE_ALL,
	STMT_REVOKE_RECENT,
	STMT_REVOKE_PURGE,
	STMT_MAX
};

_Static_assert(STMT_MAX <= DB_FIXED_MAX, "db.h: raise DB_FIXED_MAX");
_Static_assert(TQ_VARIANTS <= DB_DYN_MAX, "db.h: raise DB_DYN_MAX");

#define USER_COLUMNS                                                  \
	"id, email, name, password_hash, email_verified, created_at," \
	" updated_at"

static const char *const sql[STMT_MAX] = {
	[STMT_SCHEMA_VERSION] =
		"SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
	[STMT_PING] = "SELECT 1",
	[STMT_USER_INSERT] =
		"INSERT INTO users (email, name, password_hash, email_verified,"
		" created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)",
	[STMT_USER_BY_EMAIL] =
		"SELECT " USER_COLUMNS " FROM users WHERE email = ?",
	[STMT_USER_BY_ID] = "SELECT " USER_COLUMNS " FROM users WHERE id = ?",
	[STMT_TODO_INSERT] =
		"INSERT INTO todos (user_id, title, description, completed,"
		" priority, due_at, version, created_at, updated_at)"
		" VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
	[STMT_TODO_GET] = "SELECT " TQ_TODO_COLUMNS
			  " FROM todos WHERE id = ? AND user_id = ?",
	/* Inside a write's transaction: the row stays locked until COMMIT,
	 * so what the write computes from it is what it replaces. */
	[STMT_TODO_LOCK] =
		"SELECT " TQ_TODO_COLUMNS
		" FROM todos WHERE id = ? AND user_id = ? FOR UPDATE",
	/* The writes of one todo name the primary key (user_id, id): left to
	 * itself, MariaDB's single-table UPDATE weighs every index that
	 * starts with user_id and takes todos_id, then the row through the
	 * primary key; forced, a PATCH costs MariaDB about a fifth less CPU
	 * (docs/performance.md, "MariaDB alone"). SELECTs by both columns are
	 * const lookups already; a single-table DELETE takes no index hint. */
	[STMT_TODO_WRITE] =
		"UPDATE todos FORCE INDEX (PRIMARY) SET title = ?,"
		" description = ?, completed = ?, priority = ?, due_at = ?,"
		" version = ?, updated_at = ? WHERE id = ? AND user_id = ?",
	[STMT_TODO_DELETE] = "DELETE FROM todos WHERE id = ? AND user_id = ?",
	/* A write without a precondition, in one autocommit statement: each
	 * column is set from the request where it says so (IF(set, value,
	 * column)), and what it is set to is kept in the session's user
	 * variables, which STMT_TODO_APPLIED reads back: the state this write
	 * produced, whatever another writer does after it. */
	[STMT_TODO_APPLY] = "UPDATE todos FORCE INDEX (PRIMARY)"
			    " SET title = (@t := IF(?, ?, title)),"
			    " description = (@d := IF(?, ?, description)),"
			    " completed = (@c := IF(?, ?, completed)),"
			    " priority = (@p := IF(?, ?, priority)),"
			    " due_at = (@u := IF(?, ?, due_at)),"
			    " version = (@v := version + 1), updated_at = ?,"
			    " created_at = (@cr := created_at)"
			    " WHERE id = ? AND user_id = ?",
	[STMT_TODO_APPLIED] =
		"SELECT @t, @d, @c, @p, CAST(@u AS DATETIME(3)), @v,"
		" CAST(@cr AS DATETIME(3))",
	[STMT_IDEM_INSERT] =
		"INSERT INTO idempotency_keys (user_id, idem_key, request_hash,"
		" todo_id, created_at) VALUES (?, ?, ?, NULL, ?)",
	[STMT_IDEM_GET] =
		"SELECT request_hash, todo_id, created_at FROM idempotency_keys"
		" WHERE user_id = ? AND idem_key = ?",
	[STMT_IDEM_SET] = "UPDATE idempotency_keys SET todo_id = ?"
			  " WHERE user_id = ? AND idem_key = ?",
	[STMT_IDEM_DELETE] = "DELETE FROM idempotency_keys"
			     " WHERE user_id = ? AND idem_key = ?",
	[STMT_IDEM_PURGE] =
		"DELETE FROM idempotency_keys WHERE created_at < ? LIMIT 1000",
	/* Compare-and-set on the old hash: of concurrent changes that all
	 * verified the same current password, one wins. */
	[STMT_USER_SET_PASSWORD] =
		"UPDATE users SET password_hash = ?, updated_at = ?"
		" WHERE id = ? AND password_hash = ?",
	[STMT_USER_RENAME] =
		"UPDATE users SET name = ?, updated_at = ? WHERE id = ?",
	[STMT_USER_DELETE] = "DELETE FROM users WHERE id = ?",
	[STMT_TODO_DELETE_USER] = "DELETE FROM todos WHERE user_id = ?",
	[STMT_IDEM_DELETE_USER] =
		"DELETE FROM idempotency_keys WHERE user_id = ?",
	[STMT_REVOKE_INSERT] = "INSERT INTO revocations (user_id, jti, cutoff,"
			       " expires_ms) VALUES (?, ?, ?, ?)",
	[STMT_REVOKE_CHECK] =
		"SELECT COUNT(*) FROM revocations WHERE user_id = ?"
		" AND expires_ms > ? AND (jti = ? OR (jti IS NULL AND cutoff > ?))",
	[STMT_REVOKE_ALL] = "SELECT user_id, jti, cutoff, expires_ms"
			    " FROM revocations WHERE expires_ms > ?",
	[STMT_REVOKE_RECENT] =
		"SELECT user_id, jti, cutoff, expires_ms FROM revocations"
		" WHERE created_at >= NOW(3) - INTERVAL ? SECOND"
		" AND expires_ms > ?",
	[STMT_REVOKE_PURGE] =
		"DELETE FROM revocations WHERE expires_ms < ? LIMIT 1000",
};

/* The result columns of one todo (TQ_TODO_COLUMNS) bound over a struct
 * store_todo; row_finish converts what MariaDB's types hold. */
struct todo_row {
	struct store_todo *t;
	long long completed, priority;
	MYSQL_TIME due, created, updated;
	my_bool due_null;
	MYSQL_BIND res[10];
};

/* The result columns of one user (USER_COLUMNS). */
struct user_row {
	struct store_user *u;
	long long verified;
	MYSQL_TIME created, updated;
	my_bool hash_null;
	MYSQL_BIND res[7];
};

static int stmt(struct db *db, enum stmt id, const char *func,
		const char *reqid, MYSQL_STMT **ret);
static void row_bind(struct todo_row *row, struct store_todo *t);
static void row_finish(struct todo_row *row);
static void user_bind(struct user_row *row, struct store_user *u);
static void user_finish(struct user_row *row);
static int user_load(struct db *db, const char *reqid, enum stmt which,
		     MYSQL_BIND *param, struct store_user *ret);
static int todo_read(struct db *db, const char *reqid, enum stmt which,
		     long long id, long long uid, struct store_todo *ret);
static void apply(struct store_todo *t, const struct store_todo_change *c);
static bool change_empty(const struct store_todo_change *c);
static int insert_once(struct db *db, const char *reqid, long long uid,
		       const struct store_todo_change *c,
		       struct store_todo *ret);
static int update_once(struct db *db, const char *reqid, long long id,
		       long long uid, const struct store_todo_change *c,
		       store_check_fn *check, void *ctx,
		       struct store_todo *ret);
static int apply_once(struct db *db, const char *reqid, long long id,
		      long long uid, const struct store_todo_change *c,
		      struct store_todo *ret);
static int delete_once(struct db *db, const char *reqid, long long id,
		       long long uid, store_check_fn *check, void *ctx);
static int idem_once(struct db *db, const char *reqid, long long uid,
		     const char *key, size_t key_len,
		     const unsigned char hash[32],
		     const struct store_todo_change *c, struct store_todo *ret,
		     enum store_idem *ret_outcome);
static void backoff(int attempt);
static int gave_up(const char *func, const char *reqid, int attempts);
static int revocation_insert(struct db *db, const char *reqid, long long uid,
			     const unsigned char *jti, long long cutoff,
			     long long expires_ms);
static int exec_uid(struct db *db, const char *reqid, enum stmt id,
		    long long uid, long long *ret_rows);
static int query_ll(struct db *db, const char *reqid, enum stmt id,
		    MYSQL_BIND *params, long long *ret);
static void bind_values(const struct tq_statement *s, MYSQL_BIND *p,
			long long *ints, unsigned long *lens);

static int
stmt(struct db *db, enum stmt id, const char *func, const char *reqid,
     MYSQL_STMT **ret)
{
	return db_stmt(db, (unsigned)id, sql[id], func, reqid, ret);
}

/* A short random pause before a retry, growing with the attempt, so that
 * two writers that deadlocked do not meet again in step. */
static void
backoff(int attempt)
{
	unsigned r = 0;
	long ms;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned)time_now_ms();
	ms = 1 + (long)(r % (2u << attempt));
	nanosleep(&(struct timespec){.tv_nsec = ms * 1000000L}, NULL);
}

static int
gave_up(const char *func, const char *reqid, int attempts)
{
	log_error(reqid,
		  "%s: contention: still deadlocked or waiting for a "
		  "row lock after %d attempts",
		  func, attempts);
	return -EBUSY;
}

static void
row_bind(struct todo_row *row, struct store_todo *t)
{
	memset(row, 0, sizeof(*row));
	row->t = t;
	db_bind_ll(&row->res[0], &t->id, NULL);
	db_bind_buf(&row->res[1], t->title, sizeof(t->title) - 1, &t->title_len,
		    NULL);
	db_bind_buf(&row->res[2], t->desc, sizeof(t->desc) - 1, &t->desc_len,
		    NULL);
	db_bind_ll(&row->res[3], &row->completed, NULL);
	db_bind_ll(&row->res[4], &row->priority, NULL);
	db_bind_time(&row->res[5], &row->due, &row->due_null);
	db_bind_ll(&row->res[6], &t->version, NULL);
	db_bind_time(&row->res[7], &row->created, NULL);
	db_bind_time(&row->res[8], &row->updated, NULL);
}

static void
row_finish(struct todo_row *row)
{
	struct store_todo *t = row->t;

	t->completed = row->completed != 0;
	t->priority = row->priority >= 0 && row->priority <= 2
			      ? (int)row->priority
			      : 1;
	t->has_due = !row->due_null;
	t->due_ms = t->has_due ? db_time_to_ms(&row->due) : 0;
	t->created_ms = db_time_to_ms(&row->created);
	t->updated_ms = db_time_to_ms(&row->updated);
}

static void
user_bind(struct user_row *row, struct store_user *u)
{
	memset(row, 0, sizeof(*row));
	memset(u, 0, sizeof(*u));
	row->u = u;
	db_bind_ll(&row->res[0], &u->id, NULL);
	db_bind_buf(&row->res[1], u->email, sizeof(u->email) - 1, &u->email_len,
		    NULL);
	db_bind_buf(&row->res[2], u->name, sizeof(u->name) - 1, &u->name_len,
		    NULL);
	db_bind_buf(&row->res[3], u->hash, sizeof(u->hash) - 1, &u->hash_len,
		    &row->hash_null);
	db_bind_ll(&row->res[4], &row->verified, NULL);
	db_bind_time(&row->res[5], &row->created, NULL);
	db_bind_time(&row->res[6], &row->updated, NULL);
}

static void
user_finish(struct user_row *row)
{
	struct store_user *u = row->u;

	u->email[u->email_len] = '\0';
	u->name[u->name_len] = '\0';
	if (row->hash_null)
		u->hash_len = 0;
	u->hash[u->hash_len] = '\0';
	u->email_verified = row->verified != 0;
	u->created_ms = db_time_to_ms(&row->created);
	u->updated_ms = db_time_to_ms(&row->updated);
}

/* Runs statement id (params may be NULL) whose answer is one integer:
 * 1 with *ret, 0 when it returned no row, or an error result. */
static int
query_ll(struct db *db, const char *reqid, enum stmt id, MYSQL_BIND *params,
	 long long *ret)
{
	MYSQL_STMT *st;
	MYSQL_BIND res[1];
	long long v = 0;
	int rc;

	if ((rc = stmt(db, id, __func__, reqid, &st)))
		return rc;
	db_bind_ll(&res[0], &v, NULL);
	if ((rc = db_exec(db, st, params, res, __func__, reqid)))
		return rc;
	rc = db_fetch(db, st, __func__, reqid);
	db_done(st);
	if (rc == 1)
		*ret = v;
	return rc;
}

int
store_ping(struct db *db, const char *reqid)
{
	long long one = 0;
	int rc = query_ll(db, reqid, STMT_PING, NULL, &one);

	if (rc < 0)
		return rc;
	return rc == 1 && one == 1 ? 0 : -EIO;
}

int
store_schema_version(struct db *db, long long *ret)
{
	long long v = 0;
	int rc = query_ll(db, NULL, STMT_SCHEMA_VERSION, NULL, &v);

	if (rc < 0)
		return rc;
	*ret = v;
	return 0;
}

int
store_user_insert(struct db *db, const char *reqid, const char *email,
		  size_t email_len, const char *name, size_t name_len,
		  const char *hash, long long now_ms, struct store_user *ret)
{
	unsigned long l_email = email_len, l_name = name_len,
		      l_hash = strlen(hash);
	MYSQL_STMT *st;
	MYSQL_BIND p[5];
	MYSQL_TIME now;
	int rc;

	if (email_len > STORE_EMAIL_MAX || name_len >= sizeof(ret->name) ||
	    l_hash > STORE_HASH_MAX)
		return -EINVAL;
	if ((rc = stmt(db, STMT_USER_INSERT, __func__, reqid, &st)))
		return rc;
	db_time_from_ms(&now, now_ms);
	db_bind_str(&p[0], email, &l_email);
	db_bind_str(&p[1], name, &l_name);
	db_bind_str(&p[2], hash, &l_hash);
	db_bind_time(&p[3], &now, NULL);
	db_bind_time(&p[4], &now, NULL);
	if ((rc = db_exec(db, st, p, NULL, __func__, reqid)))
		return rc;
	memset(ret, 0, sizeof(*ret));
	ret->id = db_insert_id(st);
	memcpy(ret->email, email, email_len);
	ret->email_len = email_len;
	memcpy(ret->name, name, name_len);
	ret->name_len = name_len;
	memcpy(ret->hash, hash, l_hash);
	ret->hash_len = l_hash;
	/* What the DATETIME(3) column holds: the time to the millisecond. */
	ret->created_ms = ret->updated_ms = db_time_to_ms(&now);
	return 0;
}

static int
user_load(struct db *db, const char *reqid, enum stmt which, MYSQL_BIND *param,
	  struct store_user *ret)
{
	struct user_row row;
	MYSQL_STMT *st;
	int rc;

	if ((rc = stmt(db, which, __func__, reqid, &st)))
		return rc;
	user_bind(&row, ret);
	if ((rc = db_exec(db, st, param, row.res, __func__, reqid)))
		return rc;
	rc = db_fetch(db, st, __func__, reqid);
	db_done(st);
	if (rc == 1)
		user_finish(&row);
	return rc;
}

int
store_user_by_email(struct db *db, const char *reqid, const char *email,
		    size_t email_len, struct store_user *ret)
{
	unsigned long len = email_len;
	MYSQL_BIND p[1];

	db_bind_str(&p[0], email, &len);
	return user_load(db, reqid, STMT_USER_BY_EMAIL, p, ret);
}

int
store_user_by_id(struct db *db, const char *reqid, long long id,
		 struct store_user *ret)
{
	MYSQL_BIND p[1];

	db_bind_ll(&p[0], &id, NULL);
	return user_load(db, reqid, STMT_USER_BY_ID, p, ret);
}

/* STMT_TODO_GET or STMT_TODO_LOCK: 1 found, 0 missing, or an error. */
static int
todo_read(struct db *db, const char *reqid, enum stmt which, long long id,
	  long long uid, struct store_todo *ret)
{
	struct todo_row row;
	MYSQL_STMT *st;
	MYSQL_BIND p[2];
	int rc;

	if ((rc = stmt(db, which, __func__, reqid, &st)))
		return rc;
	db_bind_ll(&p[0], &id, NULL);
	db_bind_ll(&p[1], &uid, NULL);
	row_bind(&row, ret);
	if ((rc = db_exec(db, st, p, row.res, __func__, reqid)))
		return rc;
	rc = db_fetch(db, st, __func__, reqid);
	db_done(st);
	if (rc == 1)
		row_finish(&row);
	return rc;
}

int
store_todo_get(struct db *db, const char *reqid, long long id, long long uid,
	       struct store_todo *ret)
{
	return todo_read(db, reqid, STMT_TODO_GET, id, uid, ret);
}

static void
apply(struct store_todo *t, const struct store_todo_change *c)
{
	if (c->has_title) {
		memcpy(t->title, c->title, c->title_len);
		t->title_len = c->title_len;
	}
	if (c->has_desc) {
		memcpy(t->desc, c->desc, c->desc_len);
		t->desc_len = c->desc_len;
	}
	if (c->has_completed)
		t->completed = c->completed;
	if (c->has_priority)
		t->priority = c->priority;
	if (c->has_due) {
		t->has_due = !c->due_null;
		t->due_ms = c->due_null ? 0 : c->due_ms;
	}
}

static bool
change_empty(const struct store_todo_change *c)
{
	return !c->has_title && !c->has_desc && !c->has_completed &&
	       !c->has_priority && !c->has_due;
}

static int
insert_once(struct db *db, const char *reqid, long long uid,
	    const struct store_todo_change *c, struct store_todo *ret)
{
	struct store_todo *t = ret;
	long long completed, priority;
	MYSQL_TIME due, now;
	my_bool due_null;
	MYSQL_STMT *st;
	MYSQL_BIND p[8];
	int rc;

	if ((rc = stmt(db, STMT_TODO_INSERT, __func__, reqid, &st)))
		return rc;
	memset(t, 0, sizeof(*t));
	t->priority = 1;
	apply(t, c);
	db_time_from_ms(&now, time_now_ms());
	t->created_ms = t->updated_ms = db_time_to_ms(&now);
	t->version = 1;
	completed = t->completed;
	priority = t->priority;
	due_null = !t->has_due;
	db_time_from_ms(&due, t->due_ms);
	db_bind_ll(&p[0], &uid, NULL);
	db_bind_str(&p[1], t->title, &t->title_len);
	db_bind_str(&p[2], t->desc, &t->desc_len);
	db_bind_ll(&p[3], &completed, NULL);
	db_bind_ll(&p[4], &priority, NULL);
	db_bind_time(&p[5], &due, &due_null);
	db_bind_time(&p[6], &now, NULL);
	db_bind_time(&p[7], &now, NULL);
	if ((rc = db_exec(db, st, p, NULL, __func__, reqid)))
		return rc;
	t->id = db_insert_id(st);
	return 0;
}

int
store_todo_insert(struct db *db, const char *reqid, long long uid,
		  const struct store_todo_change *c, struct store_todo *ret)
{
	int rc;

	WITH_RETRIES(rc, insert_once(db, reqid, uid, c, ret));
	return rc;
}

/* One attempt of an update: lock the row, check it, write the new state
 * computed from it, commit. Any failure rolls the transaction back. */
static int
update_once(struct db *db, const char *reqid, long long id, long long uid,
	    const struct store_todo_change *c, store_check_fn *check, void *ctx,
	    struct store_todo *ret)
{
	struct store_todo *t = ret;
	long long completed, priority, version;
	MYSQL_TIME due, now;
	my_bool due_null;
	MYSQL_STMT *st;
	MYSQL_BIND p[9];
	int rc;

	if ((rc = db_begin(db, __func__, reqid)))
		return rc;
	rc = todo_read(db, reqid, STMT_TODO_LOCK, id, uid, t);
	if (rc <= 0)
		goto fail;
	if (check && !check(t, ctx)) {
		rc = -ECANCELED;
		goto fail;
	}
	apply(t, c);
	db_time_from_ms(&now, time_now_ms());
	t->updated_ms = db_time_to_ms(&now);
	version = t->version + 1;
	completed = t->completed;
	priority = t->priority;
	due_null = !t->has_due;
	db_time_from_ms(&due, t->due_ms);
	if ((rc = stmt(db, STMT_TODO_WRITE, __func__, reqid, &st)))
		goto fail;
	db_bind_str(&p[0], t->title, &t->title_len);
	db_bind_str(&p[1], t->desc, &t->desc_len);
	db_bind_ll(&p[2], &completed, NULL);
	db_bind_ll(&p[3], &priority, NULL);
	db_bind_time(&p[4], &due, &due_null);
	db_bind_ll(&p[5], &version, NULL);
	db_bind_time(&p[6], &now, NULL);
	db_bind_ll(&p[7], &id, NULL);
	db_bind_ll(&p[8], &uid, NULL);
	if ((rc = db_exec(db, st, p, NULL, __func__, reqid)))
		goto fail;
	if (db_affected(st) != 1) {
		/* The row is locked by this transaction: it cannot have gone. */
		log_error(reqid, "%s: %lld rows changed, expected 1", __func__,
			  db_affected(st));
		rc = -EIO;
		goto fail;
	}
	if ((rc = db_commit(db, __func__, reqid)))
		goto fail;
	t->version = version;
	return 1;
fail:
	db_rollback(db, reqid);
	return rc;
}

int
store_todo_update(struct db *db, const char *reqid, long long id, long long uid,
		  const struct store_todo_change *c, store_check_fn *check,
		  void *ctx, struct store_todo *ret)
{
	int rc;

	if (change_empty(c)) {
		/* Nothing to write: the current row, if the check holds. */
		rc = todo_read(db, reqid, STMT_TODO_GET, id, uid, ret);
		if (rc == 1 && check && !check(ret, ctx))
			return -ECANCELED;
		return rc;
	}
	if (check)
		WITH_RETRIES(rc, update_once(db, reqid, id, uid, c, check, ctx,
					     ret));
	else
		WITH_RETRIES(rc, apply_once(db, reqid, id, uid, c, ret));
	return rc;
}

/* The write of a PUT or PATCH without If-Match: STMT_TODO_APPLY, then the
 * values it set from the session's variables (two round trips, no
 * explicit transaction: the statement is atomic, and the variables are
 * this connection's alone). 1 written, 0 missing. */
static int
apply_once(struct db *db, const char *reqid, long long id, long long uid,
	   const struct store_todo_change *c, struct store_todo *ret)
{
	long long f[5], completed = c->completed, priority = c->priority;
	unsigned long tl = c->has_title ? c->title_len : 0,
		      dl = c->has_desc ? c->desc_len : 0;
	my_bool due_null = c->due_null;
	MYSQL_TIME due, now, created;
	struct todo_row row;
	MYSQL_STMT *st;
	MYSQL_BIND p[13], res[7];
	int rc;

	if ((rc = stmt(db, STMT_TODO_APPLY, __func__, reqid, &st)))
		return rc;
	f[0] = c->has_title;
	f[1] = c->has_desc;
	f[2] = c->has_completed;
	f[3] = c->has_priority;
	f[4] = c->has_due;
	db_time_from_ms(&due, c->due_null ? 0 : c->due_ms);
	db_time_from_ms(&now, time_now_ms());
	db_bind_ll(&p[0], &f[0], NULL);
	db_bind_str(&p[1], c->has_title ? c->title : "", &tl);
	db_bind_ll(&p[2], &f[1], NULL);
	db_bind_str(&p[3], c->has_desc ? c->desc : "", &dl);
	db_bind_ll(&p[4], &f[2], NULL);
	db_bind_ll(&p[5], &completed, NULL);
	db_bind_ll(&p[6], &f[3], NULL);
	db_bind_ll(&p[7], &priority, NULL);
	db_bind_ll(&p[8], &f[4], NULL);
	db_bind_time(&p[9], &due, &due_null);
	db_bind_time(&p[10], &now, NULL);
	db_bind_ll(&p[11], &id, NULL);
	db_bind_ll(&p[12], &uid, NULL);
	if ((rc = db_exec(db, st, p, NULL, __func__, reqid)))
		return rc;
	if (db_affected(st) != 1)
		return 0; /* version always changes: no such row */

	if ((rc = stmt(db, STMT_TODO_APPLIED, __func__, reqid, &st)))
		return rc;
	row_bind(&row, ret);
	/* The same buffers as a row read, in the variables' order. */
	res[0] = row.res[1];
	res[1] = row.res[2];
	res[2] = row.res[3];
	res[3] = row.res[4];
	res[4] = row.res[5];
	res[5] = row.res[6];
	db_bind_time(&res[6], &created, NULL);
	if ((rc = db_exec(db, st, NULL, res, __func__, reqid)))
		return rc;
	rc = db_fetch(db, st, __func__, reqid);
	db_done(st);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return -EIO;
	row.created = created;
	row.updated = now;
	ret->id = id;
	row_finish(&row);
	return 1;
}

static int
delete_once(struct db *db, const char *reqid, long long id, long long uid,
	    store_check_fn *check, void *ctx)
{
	struct store_todo cur;
	MYSQL_STMT *st;
	MYSQL_BIND p[2];
	int rc;

	/* With a check, the row is locked first so that the check sees the
	 * row the delete removes. */
	if (check) {
		if ((rc = db_begin(db, __func__, reqid)))
			return rc;
		rc = todo_read(db, reqid, STMT_TODO_LOCK, id, uid, &cur);
		if (rc <= 0)
			goto fail;
		if (!check(&cur, ctx)) {
			rc = -ECANCELED;
			goto fail;
		}
	}
	if ((rc = stmt(db, STMT_TODO_DELETE, __func__, reqid, &st)))
		goto fail;
	db_bind_ll(&p[0], &id, NULL);
	db_bind_ll(&p[1], &uid, NULL);
	if ((rc = db_exec(db, st, p, NULL, __func__, reqid)))
		goto fail;
	if (check && (rc = db_commit(db, __func__, reqid)))
		goto fail;
	return db_affected(st) == 1;
fail:
	if (check)
		db_rollback(db, reqid);
	return rc;
}

int
store_todo_delete(struct db *db, const char *reqid, long long id, long long uid,
		  store_check_fn *check, void *ctx)
{
	int rc;

	WITH_RETRIES(rc, delete_once(db, reqid, id, uid, check, ctx));
	return rc;
}

/* One attempt of an idempotent create. The key row is inserted first, in
 * the same transaction as the todo, so a racing duplicate waits on its
 * lock and then finds the committed result. -EAGAIN from here asks the
 * caller to look again (the key's first request has not committed). */
static int
idem_once(struct db *db, const char *reqid, long long uid, const char *key,
	  size_t key_len, const unsigned char hash[32],
	  const struct store_todo_change *c, struct store_todo *ret,
	  enum store_idem *ret_outcome)
{
	unsigned char stored[32];
	unsigned long hash_len = 32, stored_len = 0, klen = key_len;
	long long todo_id = 0, age;
	my_bool todo_null = 0;
	MYSQL_TIME created;
	MYSQL_STMT *st;
	MYSQL_BIND p[4], res[3];
	int rc;

	if ((rc = db_begin(db, __func__, reqid)))
		return rc;
	if ((rc = stmt(db, STMT_IDEM_INSERT, __func__, reqid, &st)))
		goto fail;
	db_time_from_ms(&created, time_now_ms());
	db_bind_ll(&p[0], &uid, NULL);
	db_bind_str(&p[1], key, &klen);
	db_bind_blob(&p[2], hash, &hash_len);
	db_bind_time(&p[3], &created, NULL);
	rc = db_exec(db, st, p, NULL, __func__, reqid);
	if (rc == 0) {
		if ((rc = insert_once(db, reqid, uid, c, ret)) ||
		    (rc = stmt(db, STMT_IDEM_SET, __func__, reqid, &st)))
			goto fail;
		db_bind_ll(&p[0], &ret->id, NULL);
		db_bind_ll(&p[1], &uid, NULL);
		db_bind_str(&p[2], key, &klen);
		if ((rc = db_exec(db, st, p, NULL, __func__, reqid)) ||
		    (rc = db_commit(db, __func__, reqid)))
			goto fail;
		*ret_outcome = STORE_IDEM_CREATED;
		return 0;
	}
	db_rollback(db, reqid);
	if (rc != -EEXIST)
		return rc;

	/* The key exists: replay its result. */
	if ((rc = stmt(db, STMT_IDEM_GET, __func__, reqid, &st)))
		return rc;
	db_bind_ll(&p[0], &uid, NULL);
	db_bind_str(&p[1], key, &klen);
	memset(res, 0, sizeof(res));
	res[0].buffer_type = MYSQL_TYPE_BLOB;
	res[0].buffer = stored;
	res[0].buffer_length = sizeof(stored);
	res[0].length = &stored_len;
	db_bind_ll(&res[1], &todo_id, &todo_null);
	db_bind_time(&res[2], &created, NULL);
	if ((rc = db_exec(db, st, p, res, __func__, reqid)))
		return rc;
	rc = db_fetch(db, st, __func__, reqid);
	db_done(st);
	if (rc < 0)
		return rc;
	if (rc == 0 || todo_null)
		return -EINPROGRESS; /* gone or not committed yet: again */
	age = time_now_ms() - db_time_to_ms(&created);
	if (age > STORE_IDEM_RETENTION_MS) {
		/* Expired: the key is free again. */
		if ((rc = stmt(db, STMT_IDEM_DELETE, __func__, reqid, &st)))
			return rc;
		db_bind_ll(&p[0], &uid, NULL);
		db_bind_str(&p[1], key, &klen);
		if ((rc = db_exec(db, st, p, NULL, __func__, reqid)))
			return rc;
		return -EINPROGRESS;
	}
	if (stored_len != 32 || !ct_equal(stored, 32, hash, 32)) {
		*ret_outcome = STORE_IDEM_MISMATCH;
		return 0;
	}
	rc = todo_read(db, reqid, STMT_TODO_GET, todo_id, uid, ret);
	if (rc < 0)
		return rc;
	*ret_outcome = rc == 1 ? STORE_IDEM_REPLAYED : STORE_IDEM_GONE;
	return 0;
fail:
	db_rollback(db, reqid);
	return rc;
}

int
store_todo_create_idempotent(struct db *db, const char *reqid, long long uid,
			     const char *key, size_t key_len,
			     const unsigned char hash[32],
			     const struct store_todo_change *c,
			     struct store_todo *ret,
			     enum store_idem *ret_outcome)
{
	int rc = 0;

	for (int attempt = 0; attempt < IDEM_ATTEMPTS; attempt++) {
		if (attempt)
			backoff(attempt);
		rc = idem_once(db, reqid, uid, key, key_len, hash, c, ret,
			       ret_outcome);
		if (rc != -EBUSY && rc != -EINPROGRESS)
			return rc;
	}
	return gave_up(__func__, reqid, IDEM_ATTEMPTS);
}

/* MYSQL_BINDs over a built statement's values; ints and lens give the
 * binds storage of the right types. */
static void
bind_values(const struct tq_statement *s, MYSQL_BIND *p, long long *ints,
	    unsigned long *lens)
{
	for (int i = 0; i < s->nvalues; i++) {
		const struct tq_value *v = &s->values[i];

		if (v->type == TQ_STR) {
			lens[i] = v->len;
			db_bind_str(&p[i], v->s, &lens[i]);
		} else {
			ints[i] = v->i;
			db_bind_ll(&p[i], &ints[i], NULL);
		}
	}
}

int
store_todo_list(struct db *db, const char *reqid, long long uid,
		const struct todos_query *q,
		void (*each)(void *ctx, const struct store_todo *t), void *ctx,
		long long *ret_total)
{
	struct tq_statement stmt_buf, *s = &stmt_buf;
	struct store_todo todo_buf, *t = &todo_buf;
	long long ints[TQ_VALUES_MAX], total = 0;
	unsigned long lens[TQ_VALUES_MAX];
	MYSQL_BIND p[TQ_VALUES_MAX];
	struct todo_row row;
	MYSQL_STMT *st;
	int rc, rows = 0;

	if ((rc = todos_query_build(q, uid, TQ_PAGE, s)) < 0) {
		log_error(reqid, "%s: the list statement does not fit",
			  __func__);
		rc = -EIO;
		goto out;
	}
	if ((rc = db_stmt_text(db, s->sql, s->sql_len, __func__, reqid, &st)))
		goto out;
	bind_values(s, p, ints, lens);
	row_bind(&row, t);
	db_bind_ll(&row.res[9], &total, NULL);
	if ((rc = db_exec(db, st, p, row.res, __func__, reqid)))
		goto out;
	while ((rc = db_fetch(db, st, __func__, reqid)) == 1) {
		row_finish(&row);
		each(ctx, t);
		rows++;
	}
	db_done(st);
	if (rc < 0)
		goto out;

	/* An empty page past the end still reports the total. */
	if (rows == 0 && q->offset > 0) {
		MYSQL_BIND res[1];

		if ((rc = todos_query_build(q, uid, TQ_COUNT, s)) < 0) {
			rc = -EIO;
			goto out;
		}
		if ((rc = db_stmt_text(db, s->sql, s->sql_len, __func__, reqid,
				       &st)))
			goto out;
		bind_values(s, p, ints, lens);
		db_bind_ll(&res[0], &total, NULL);
		if ((rc = db_exec(db, st, p, res, __func__, reqid)))
			goto out;
		rc = db_fetch(db, st, __func__, reqid);
		db_done(st);
		if (rc < 0)
			goto out;
	}
	*ret_total = total;
	rc = 0;
out:
	return rc;
}

void
store_idem_purge(struct db *db, long long now_ms)
{
	MYSQL_TIME cutoff;
	MYSQL_STMT *st;
	MYSQL_BIND p[1];

	if (stmt(db, STMT_IDEM_PURGE, __func__, NULL, &st))
		return;
	db_time_from_ms(&cutoff, now_ms - IDEM_PURGE_AFTER_MS);
	db_bind_time(&p[0], &cutoff, NULL);
	db_exec(db, st, p, NULL, __func__, NULL);
}

/* INSERT INTO revocations inside the caller's transaction (or alone). */
static int
revocation_insert(struct db *db, const char *reqid, long long uid,
		  const unsigned char *jti, long long cutoff,
		  long long expires_ms)
{
	unsigned long jti_len = 16;
	my_bool jti_null = jti == NULL;
	MYSQL_STMT *st;
	MYSQL_BIND p[4];
	int rc;

	if ((rc = stmt(db, STMT_REVOKE_INSERT, __func__, reqid, &st)))
		return rc;
	db_bind_ll(&p[0], &uid, NULL);
	db_bind_blob(&p[1], jti ? (const void *)jti : "", &jti_len);
	p[1].is_null = &jti_null;
	db_bind_ll(&p[2], &cutoff, NULL);
	db_bind_ll(&p[3], &expires_ms, NULL);
	return db_exec(db, st, p, NULL, __func__, reqid);
}

int
store_revocation_add(struct db *db, const char *reqid, long long uid,
		     const unsigned char *jti, long long cutoff,
		     long long expires_ms)
{
	int rc;

	WITH_RETRIES(
		rc, revocation_insert(db, reqid, uid, jti, cutoff, expires_ms));
	return rc;
}

/* Runs statement id with one bound id (uid) inside the caller's
 * transaction; *ret_rows the rows it changed. */
static int
exec_uid(struct db *db, const char *reqid, enum stmt id, long long uid,
	 long long *ret_rows)
{
	MYSQL_STMT *st;
	MYSQL_BIND p[1];
	int rc;

	if ((rc = stmt(db, id, __func__, reqid, &st)))
		return rc;
	db_bind_ll(&p[0], &uid, NULL);
	if ((rc = db_exec(db, st, p, NULL, __func__, reqid)))
		return rc;
	if (ret_rows)
		*ret_rows = db_affected(st);
	return 0;
}

static int
set_password_once(struct db *db, const char *reqid, long long uid,
		  const char *old_hash, const char *new_hash, long long now_ms,
		  long long cutoff, long long expires_ms)
{
	unsigned long l_old = strlen(old_hash), l_new = strlen(new_hash);
	MYSQL_TIME now;
	MYSQL_STMT *st;
	MYSQL_BIND p[4];
	int rc;

	if ((rc = db_begin(db, __func__, reqid)))
		return rc;
	if ((rc = stmt(db, STMT_USER_SET_PASSWORD, __func__, reqid, &st)))
		goto fail;
	db_time_from_ms(&now, now_ms);
	db_bind_str(&p[0], new_hash, &l_new);
	db_bind_time(&p[1], &now, NULL);
	db_bind_ll(&p[2], &uid, NULL);
	db_bind_str(&p[3], old_hash, &l_old);
	if ((rc = db_exec(db, st, p, NULL, __func__, reqid)))
		goto fail;
	if (db_affected(st) != 1) {
		rc = -ECANCELED; /* changed meanwhile, or gone */
		goto fail;
	}
	if ((rc = revocation_insert(db, reqid, uid, NULL, cutoff,
				    expires_ms)) ||
	    (rc = db_commit(db, __func__, reqid)))
		goto fail;
	return 1;
fail:
	db_rollback(db, reqid);
	return rc;
}

int
store_user_set_password(struct db *db, const char *reqid, long long uid,
			const char *old_hash, const char *new_hash,
			long long now_ms, long long cutoff,
			long long expires_ms)
{
	int rc;

	WITH_RETRIES(rc, set_password_once(db, reqid, uid, old_hash, new_hash,
					   now_ms, cutoff, expires_ms));
	return rc;
}

int
store_user_rename(struct db *db, const char *reqid, long long uid,
		  const char *name, size_t name_len, long long now_ms)
{
	struct store_user u;
	unsigned long l_name = name_len;
	MYSQL_TIME now;
	MYSQL_STMT *st;
	MYSQL_BIND p[3];
	int rc;

	if ((rc = stmt(db, STMT_USER_RENAME, __func__, reqid, &st)))
		return rc;
	db_time_from_ms(&now, now_ms);
	db_bind_str(&p[0], name, &l_name);
	db_bind_time(&p[1], &now, NULL);
	db_bind_ll(&p[2], &uid, NULL);
	for (int attempt = 0;; attempt++) {
		rc = db_exec(db, st, p, NULL, __func__, reqid);
		if (rc != -EBUSY)
			break;
		if (attempt + 1 >= WRITE_ATTEMPTS)
			return gave_up(__func__, reqid, WRITE_ATTEMPTS);
		backoff(attempt + 1);
	}
	if (rc)
		return rc;
	if (db_affected(st) == 1)
		return 1;
	/* Nothing changed: the same name in the same millisecond, or no
	 * such user. */
	return store_user_by_id(db, reqid, uid, &u);
}

static int
delete_user_once(struct db *db, const char *reqid, long long uid,
		 long long cutoff, long long expires_ms)
{
	long long n = 0;
	int rc;

	if ((rc = db_begin(db, __func__, reqid)))
		return rc;
	/* Children first: the foreign keys would cascade, but the explicit
	 * statements keep the order of locks the same as a todo write's. */
	if ((rc = revocation_insert(db, reqid, uid, NULL, cutoff,
				    expires_ms)) ||
	    (rc = exec_uid(db, reqid, STMT_IDEM_DELETE_USER, uid, NULL)) ||
	    (rc = exec_uid(db, reqid, STMT_TODO_DELETE_USER, uid, NULL)) ||
	    (rc = exec_uid(db, reqid, STMT_USER_DELETE, uid, &n)))
		goto fail;
	if (n != 1) {
		rc = 0;
		goto fail;
	}
	if ((rc = db_commit(db, __func__, reqid)))
		goto fail;
	return 1;
fail:
	db_rollback(db, reqid);
	return rc;
}

int
store_user_delete(struct db *db, const char *reqid, long long uid,
		  long long cutoff, long long expires_ms)
{
	int rc;

	WITH_RETRIES(rc, delete_user_once(db, reqid, uid, cutoff, expires_ms));
	return rc;
}

int
store_revocation_check(struct db *db, const char *reqid, long long uid,
		       const unsigned char *jti, long long units,
		       long long now_ms)
{
	unsigned long jti_len = 16;
	my_bool jti_null = jti == NULL;
	long long n = 0;
	MYSQL_BIND p[4];
	int rc;

	db_bind_ll(&p[0], &uid, NULL);
	db_bind_ll(&p[1], &now_ms, NULL);
	db_bind_blob(&p[2], jti ? (const void *)jti : "", &jti_len);
	p[2].is_null = &jti_null;
	db_bind_ll(&p[3], &units, NULL);
	rc = query_ll(db, reqid, STMT_REVOKE_CHECK, p, &n);
	if (rc < 0)
		return rc;
	return n > 0;
}

int
store_revocations_read(struct db *db, long long window_s, long long now_ms,
		       void (*each)(void *ctx, long long uid,
				    const unsigned char *jti, long long cutoff,
				    long long expires_ms),
		       void *ctx)
{
	unsigned char jti[16];
	unsigned long jti_len = 0;
	my_bool jti_null = 0;
	long long uid = 0, cutoff = 0, expires = 0;
	MYSQL_STMT *st;
	MYSQL_BIND p[2], res[4];
	int rc, np = 0;

	if ((rc = stmt(db, window_s > 0 ? STMT_REVOKE_RECENT : STMT_REVOKE_ALL,
		       __func__, NULL, &st)))
		return rc;
	if (window_s > 0)
		db_bind_ll(&p[np++], &window_s, NULL);
	db_bind_ll(&p[np++], &now_ms, NULL);
	db_bind_ll(&res[0], &uid, NULL);
	memset(&res[1], 0, sizeof(res[1]));
	res[1].buffer_type = MYSQL_TYPE_BLOB;
	res[1].buffer = jti;
	res[1].buffer_length = sizeof(jti);
	res[1].length = &jti_len;
	res[1].is_null = &jti_null;
	db_bind_ll(&res[2], &cutoff, NULL);
	db_bind_ll(&res[3], &expires, NULL);
	if ((rc = db_exec(db, st, p, res, __func__, NULL)))
		return rc;
	while ((rc = db_fetch(db, st, __func__, NULL)) == 1)
		each(ctx, uid, !jti_null && jti_len == 16 ? jti : NULL, cutoff,
		     expires);
	db_done(st);
	return rc < 0 ? rc : 0;
}

void
store_revocations_purge(struct db *db, long long now_ms)
{
	MYSQL_STMT *st;
	MYSQL_BIND p[1];

	if (stmt(db, STMT_REVOKE_PURGE, __func__, NULL, &st))
		return;
	db_bind_ll(&p[0], &now_ms, NULL);
	db_exec(db, st, p, NULL, __func__, NULL);
}
