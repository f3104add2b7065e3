/* The data layer: every SQL statement of the service, its binds and its
 * result rows, behind plain C functions over plain structs. Transactions,
 * bounded retries of deadlocks and lock waits, and the mapping of MariaDB's
 * errors to causes live here; the handlers never see MariaDB's API.
 *
 * Results are 0 (or 1/0 for found/missing where said) or a negative errno
 * naming the cause (see db.h): -EAGAIN database unreachable, -EBUSY
 * contention that outlasted the retries, -EEXIST a unique key, -ENOENT a
 * missing parent row, -ECANCELED a precondition that did not hold, -EIO
 * anything else (logged with MariaDB's error number and message). */
#ifndef TODOD_STORE_H
#define TODOD_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct db;
struct todos_query;

#define STORE_TITLE_MAX 200 /* characters */
#define STORE_DESCRIPTION_MAX 2000 /* characters */
#define STORE_EMAIL_MAX 254 /* bytes */
#define STORE_NAME_MAX 100 /* characters */
#define STORE_HASH_MAX 255 /* bytes */
#define STORE_IDEM_RETENTION_MS (24LL * 3600 * 1000)

/* A todo as stored. Text is UTF-8, not NUL-terminated. */
struct store_todo {
	long long id;
	char title[STORE_TITLE_MAX * 4 + 1];
	unsigned long title_len;
	char desc[STORE_DESCRIPTION_MAX * 4 + 1];
	unsigned long desc_len;
	bool completed;
	int priority; /* rank: 0 low, 1 normal, 2 high */
	bool has_due;
	long long due_ms;
	long long version; /* bumped by every write */
	long long created_ms, updated_ms;
};

/* The fields a write sets: a create and a PUT set them all (defaults
 * filled in by the caller), a PATCH those flagged. Text must already be
 * validated to the column sizes. */
struct store_todo_change {
	bool has_title, has_desc, has_completed, has_priority, has_due;
	const char *title, *desc;
	size_t title_len, desc_len;
	bool completed;
	int priority;
	bool due_null;
	long long due_ms;
};

/* A precondition on the current row, checked under its lock: true lets
 * the write go on. NULL means none. */
typedef bool store_check_fn(const struct store_todo *cur, void *ctx);

struct store_user {
	long long id;
	char email[STORE_EMAIL_MAX + 1]; /* NUL-terminated */
	unsigned long email_len;
	char name[STORE_NAME_MAX * 4 + 1]; /* NUL-terminated */
	unsigned long name_len;
	char hash[STORE_HASH_MAX + 1]; /* NUL-terminated */
	unsigned long hash_len;
	bool email_verified;
	long long created_ms, updated_ms;
};

/* 0 when the server answers. */
int store_ping(struct db *db, const char *reqid);
int store_schema_version(struct db *db, long long *ret);

/* Inserts a user; 0 with *ret filled, -EEXIST for a taken email. */
int store_user_insert(struct db *db, const char *reqid, const char *email,
		      size_t email_len, const char *name, size_t name_len,
		      const char *hash, long long now_ms,
		      struct store_user *ret);
/* 1 with *ret filled, 0 when there is no such user. */
int store_user_by_email(struct db *db, const char *reqid, const char *email,
			size_t email_len, struct store_user *ret);
int store_user_by_id(struct db *db, const char *reqid, long long id,
		     struct store_user *ret);

/* Sets uid's password hash to new_hash if it is still old_hash (a
 * concurrent change wins once), and revokes every token of the user
 * issued before cutoff, in one transaction. 1 done, 0 no such user,
 * -ECANCELED when the hash had changed. */
int store_user_set_password(struct db *db, const char *reqid, long long uid,
			    const char *old_hash, const char *new_hash,
			    long long now_ms, long long cutoff,
			    long long expires_ms);
/* 1 renamed, 0 no such user. */
int store_user_rename(struct db *db, const char *reqid, long long uid,
		      const char *name, size_t name_len, long long now_ms);
/* Deletes the user, their todos and idempotency keys, and revokes their
 * tokens issued before cutoff, in one transaction. 1 done, 0 missing. */
int store_user_delete(struct db *db, const char *reqid, long long uid,
		      long long cutoff, long long expires_ms);

/* Records a revocation: one token (jti, 16 bytes) or, jti NULL, every
 * token of uid issued before cutoff (units, revoke.h), until expires_ms. */
int store_revocation_add(struct db *db, const char *reqid, long long uid,
			 const unsigned char *jti, long long cutoff,
			 long long expires_ms);
/* 1 when the token (jti NULL: it has none; issued at units) is revoked by
 * a row in the table, 0 when not. */
int store_revocation_check(struct db *db, const char *reqid, long long uid,
			   const unsigned char *jti, long long units,
			   long long now_ms);
/* Hands each unexpired revocation created in the last window_s seconds
 * by the database's clock (0: every unexpired one) to each. */
int store_revocations_read(struct db *db, long long window_s, long long now_ms,
			   void (*each)(void *ctx, long long uid,
					const unsigned char *jti,
					long long cutoff, long long expires_ms),
			   void *ctx);
/* Deletes revocations that expired before now_ms (a batch). */
void store_revocations_purge(struct db *db, long long now_ms);

/* 1 with *ret filled, 0 when uid has no todo id. */
int store_todo_get(struct db *db, const char *reqid, long long id,
		   long long uid, struct store_todo *ret);
/* Creates a todo from c (every field set); 0 with *ret, -ENOENT when the
 * user no longer exists. */
int store_todo_insert(struct db *db, const char *reqid, long long uid,
		      const struct store_todo_change *c,
		      struct store_todo *ret);

enum store_idem {
	STORE_IDEM_CREATED, /* a new todo, *ret */
	STORE_IDEM_REPLAYED, /* the key's earlier result, *ret */
	STORE_IDEM_MISMATCH, /* the key was used with another request */
	STORE_IDEM_GONE, /* the key's todo has since been deleted */
};
/* Creates under an Idempotency-Key (per user, kept 24 hours): racing
 * duplicates wait for the first and replay its result. hash is a digest
 * of the request after defaults. 0 with *ret_outcome, or an error. */
int store_todo_create_idempotent(struct db *db, const char *reqid,
				 long long uid, const char *key, size_t key_len,
				 const unsigned char hash[32],
				 const struct store_todo_change *c,
				 struct store_todo *ret,
				 enum store_idem *ret_outcome);

/* Applies c to todo id of uid atomically: under the row's lock, check
 * (when given) sees the current row, and the write bumps the version once.
 * 1 with *ret the state this write produced, 0 when missing, -ECANCELED
 * when check refused. A change that sets nothing writes nothing: *ret is
 * the current row (check still applies). */
int store_todo_update(struct db *db, const char *reqid, long long id,
		      long long uid, const struct store_todo_change *c,
		      store_check_fn *check, void *ctx, struct store_todo *ret);
/* 1 deleted, 0 missing, -ECANCELED when check refused the current row. */
int store_todo_delete(struct db *db, const char *reqid, long long id,
		      long long uid, store_check_fn *check, void *ctx);

/* Runs the list query q over uid's todos: each row of the page is handed
 * to each (which must copy what it keeps), then *ret_total is the size of
 * the filtered set. 0 or an error. */
int store_todo_list(struct db *db, const char *reqid, long long uid,
		    const struct todos_query *q,
		    void (*each)(void *ctx, const struct store_todo *t),
		    void *ctx, long long *ret_total);

/* Deletes idempotency keys older than their retention (and a margin);
 * errors are logged. */
void store_idem_purge(struct db *db, long long now_ms);

#endif
