/* The /api/todos routes. The owner always comes from the token and is part
 * of every statement (WHERE id = ? AND user_id = ?), so no path can read or
 * touch another user's row. */
#include "todos.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define TITLE_MAX 200
#define DESCRIPTION_MAX 2000
#define Q_MAX 200
#define LIMIT_DEFAULT 50
#define LIMIT_MAX 200
#define OFFSET_MAX INT64_MAX
#define IDEM_KEY_MAX 255
#define IDEM_RETENTION_MS (24LL * 3600 * 1000)
#define IDEM_PURGE_AFTER_MS (25LL * 3600 * 1000)
#define UPDATE_ATTEMPTS 3

enum priority { PRIORITY_LOW, PRIORITY_NORMAL, PRIORITY_HIGH, PRIORITY_MAX };

static const char *const priority_names[PRIORITY_MAX] = {
	[PRIORITY_LOW] = "low",
	[PRIORITY_NORMAL] = "normal",
	[PRIORITY_HIGH] = "high",
};

enum sort { SORT_CREATED, SORT_DUE, SORT_PRIORITY, SORT_TITLE, SORT_MAX };

static const struct {
	const char *name;
	const char *asc, *desc;
} sorts[SORT_MAX] = {
	[SORT_CREATED] = {"createdAt", "created_at ASC, id ASC",
			  "created_at DESC, id DESC"},
	/* Todos without a due date come last in both directions. */
	[SORT_DUE] = {"dueAt", "due_at IS NULL, due_at ASC, id ASC",
		      "due_at IS NULL, due_at DESC, id DESC"},
	[SORT_PRIORITY] = {"priority", "priority ASC, id ASC",
			   "priority DESC, id DESC"},
	[SORT_TITLE] = {"title", "title ASC, id ASC", "title DESC, id DESC"},
};

/* One row as read from the database. */
struct todo {
	long long id;
	char title[TITLE_MAX * 4 + 1];
	unsigned long title_len;
	char desc[DESCRIPTION_MAX * 4 + 1];
	unsigned long desc_len;
	long long completed;
	long long priority;
	MYSQL_TIME due;
	my_bool due_null;
	long long version;
	MYSQL_TIME created, updated;
};

/* The writable fields of a request body. */
struct input {
	bool has_title, has_desc, has_completed, has_priority, has_due;
	const char *title, *desc;
	size_t title_len, desc_len;
	bool completed;
	int priority;
	bool due_null;
	long long due_ms;
};

static int parse_input(struct request *r, struct json_object *body,
		       bool title_required, struct input *in);
static int todo_id(struct request *r, long long *ret);
static void bind_todo(MYSQL_BIND res[9], struct todo *t);
static int todo_load(struct request *r, long long id, struct todo *t);
static const char *etag(struct request *r, const struct todo *t);
static int etag_matches(const char *header, const char *tag, bool weak_ok);
static int respond_todo(struct request *r, int status, const struct todo *t);
static void todo_json(struct jbuf *b, const struct todo *t);
static void apply_input(struct todo *t, const struct input *in);
static int create_plain(struct request *r, const struct input *in,
			struct todo *t);
static int create_idempotent(struct request *r, const struct input *in,
			     const char *key, struct todo *t);
static void request_hash(const struct input *in, unsigned char out[32]);
static int write_update(struct request *r, bool replace,
			const struct input *in);
static int update(struct request *r, bool replace);
static void like_pattern(struct request *r, const char *q, size_t len,
			 char **ret, unsigned long *ret_len);

static int
parse_input(struct request *r, struct json_object *body, bool title_required,
	    struct input *in)
{
	static const char *const allowed[] = {
		"title", "description", "completed", "priority", "dueAt", NULL};
	struct json_object *v;
	const char *s;
	size_t len;
	long n;
	int rc;

	memset(in, 0, sizeof(*in));
	in->priority = PRIORITY_NORMAL;
	in->due_null = true;
	in->desc = "";
	if ((rc = http_json_known(r, body, allowed)))
		return rc;
	if (json_object_object_get_ex(body, "title", &v)) {
		if ((rc = http_json_string(r, v, "title", &s, &len)))
			return rc;
		s = str_trim(s, &len);
		n = utf8_count(s, len);
		if (n < 1 || n > TITLE_MAX)
			return http_error(
				r, 422, "VALIDATION_FAILED",
				"title must be 1 to 200 characters after trimming.",
				"title");
		in->has_title = true;
		in->title = s;
		in->title_len = len;
	} else if (title_required) {
		return http_error(r, 422, "VALIDATION_FAILED",
				  "title is required.", "title");
	}
	if (json_object_object_get_ex(body, "description", &v)) {
		if ((rc = http_json_string(r, v, "description", &s, &len)))
			return rc;
		if (utf8_count(s, len) > DESCRIPTION_MAX)
			return http_error(
				r, 422, "VALIDATION_FAILED",
				"description must be at most 2000 characters.",
				"description");
		in->has_desc = true;
		in->desc = s;
		in->desc_len = len;
	}
	if (json_object_object_get_ex(body, "completed", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return http_error(r, 422, "VALIDATION_FAILED",
					  "completed must be true or false.",
					  "completed");
		in->has_completed = true;
		in->completed = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(body, "priority", &v)) {
		int p = -1;

		if (json_object_is_type(v, json_type_string))
			for (int i = 0; i < PRIORITY_MAX; i++)
				if (strcmp(json_object_get_string(v),
					   priority_names[i]) == 0 &&
				    (size_t)json_object_get_string_len(v) ==
					    strlen(priority_names[i]))
					p = i;
		if (p < 0)
			return http_error(
				r, 422, "VALIDATION_FAILED",
				"priority must be one of low, normal, high.",
				"priority");
		in->has_priority = true;
		in->priority = p;
	}
	if (json_object_object_get_ex(body, "dueAt", &v)) {
		in->has_due = true;
		if (json_object_is_type(v, json_type_null)) {
			in->due_null = true;
		} else if (!json_object_is_type(v, json_type_string) ||
			   rfc3339_parse(json_object_get_string(v),
					 (size_t)json_object_get_string_len(v),
					 &in->due_ms) < 0) {
			return http_error(
				r, 422, "VALIDATION_FAILED",
				"dueAt must be an RFC 3339 date-time or null.",
				"dueAt");
		} else {
			in->due_null = false;
		}
	}
	return 0;
}

static int
todo_id(struct request *r, long long *ret)
{
	if (parse_id(r->params[0], r->param_len[0], ret) < 0)
		return http_error(r, 404, "NOT_FOUND", "No such todo.", NULL);
	return 0;
}

static void
bind_todo(MYSQL_BIND res[9], struct todo *t)
{
	db_bind_ll(&res[0], &t->id, NULL);
	db_bind_buf(&res[1], t->title, sizeof(t->title) - 1, &t->title_len,
		    NULL);
	db_bind_buf(&res[2], t->desc, sizeof(t->desc) - 1, &t->desc_len, NULL);
	db_bind_ll(&res[3], &t->completed, NULL);
	db_bind_ll(&res[4], &t->priority, NULL);
	db_bind_time(&res[5], &t->due, &t->due_null);
	db_bind_ll(&res[6], &t->version, NULL);
	db_bind_time(&res[7], &t->created, NULL);
	db_bind_time(&res[8], &t->updated, NULL);
}

/* 1 found, 0 missing (or another user's), negative error. */
static int
todo_load(struct request *r, long long id, struct todo *t)
{
	MYSQL_STMT *st = db_stmt(r->db, STMT_TODO_GET, r->reqid);
	MYSQL_BIND p[2], res[9];
	long long uid = r->user_id;
	int rc;

	if (!st)
		return -EAGAIN;
	db_bind_ll(&p[0], &id, NULL);
	db_bind_ll(&p[1], &uid, NULL);
	bind_todo(res, t);
	rc = db_exec(r->db, st, p, res, __func__, r->reqid);
	if (rc < 0)
		return rc;
	rc = db_fetch(r->db, st, __func__, r->reqid);
	mysql_stmt_free_result(st);
	return rc;
}

static const char *
etag(struct request *r, const struct todo *t)
{
	return arena_printf(r->arena, "\"%lld-%lld\"", t->id, t->version);
}

/* 1 when the If-Match/If-None-Match list matches tag. "*" matches. Weak
 * tags (W/) match only under weak comparison (If-None-Match). */
static int
etag_matches(const char *header, const char *tag, bool weak_ok)
{
	const char *p = header;
	size_t tlen = strlen(tag);

	while (*p) {
		const char *start;
		bool weak = false;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/') {
			weak = true;
			p += 2;
		}
		start = p;
		if (*p == '"') {
			p++;
			while (*p && *p != '"')
				p++;
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',')
				p++;
		}
		if ((size_t)(p - start) == tlen &&
		    memcmp(start, tag, tlen) == 0 && (!weak || weak_ok))
			return 1;
		while (*p && *p != ',')
			p++;
	}
	return 0;
}

static void
todo_json(struct jbuf *b, const struct todo *t)
{
	char ts[TIME_STR_LEN + 1];

	jb_lit(b, "{\"id\":");
	jb_int(b, t->id);
	jb_lit(b, ",\"title\":");
	jb_str(b, t->title, t->title_len);
	jb_lit(b, ",\"description\":");
	jb_str(b, t->desc, t->desc_len);
	jb_lit(b,
	       t->completed ? ",\"completed\":true" : ",\"completed\":false");
	jb_lit(b, ",\"priority\":\"");
	jb_lit(b, priority_names[t->priority >= 0 && t->priority < PRIORITY_MAX
					 ? t->priority
					 : PRIORITY_NORMAL]);
	if (t->due_null) {
		jb_lit(b, "\",\"dueAt\":null");
	} else {
		time_format(db_time_to_ms(&t->due), ts);
		jb_lit(b, "\",\"dueAt\":\"");
		jb_lit(b, ts);
		jb_lit(b, "\"");
	}
	time_format(db_time_to_ms(&t->created), ts);
	jb_lit(b, ",\"createdAt\":\"");
	jb_lit(b, ts);
	time_format(db_time_to_ms(&t->updated), ts);
	jb_lit(b, "\",\"updatedAt\":\"");
	jb_lit(b, ts);
	jb_lit(b, "\"}");
}

static int
respond_todo(struct request *r, int status, const struct todo *t)
{
	struct jbuf b;
	const char *tag = etag(r, t);

	if (!tag)
		return http_error(r, 500, "INTERNAL_ERROR", NULL, NULL);
	http_header(r, "ETag", tag);
	jb_init(&b, r->arena, 512 + t->title_len + t->desc_len * 2);
	todo_json(&b, t);
	return http_body_jbuf(r, status, &b);
}

/* Copies the given fields of in over t (the text must fit: it was
 * validated to the column sizes). */
static void
apply_input(struct todo *t, const struct input *in)
{
	if (in->has_title) {
		memcpy(t->title, in->title, in->title_len);
		t->title_len = in->title_len;
	}
	if (in->has_desc) {
		memcpy(t->desc, in->desc, in->desc_len);
		t->desc_len = in->desc_len;
	}
	if (in->has_completed)
		t->completed = in->completed;
	if (in->has_priority)
		t->priority = in->priority;
	if (in->has_due) {
		t->due_null = in->due_null;
		if (!in->due_null)
			db_time_from_ms(&t->due, in->due_ms);
	}
}

/* Inserts one todo for the caller; fills t. 0 or negative errno. */
static int
create_plain(struct request *r, const struct input *in, struct todo *t)
{
	MYSQL_STMT *st = db_stmt(r->db, STMT_TODO_INSERT, r->reqid);
	MYSQL_BIND p[8];
	long long uid = r->user_id;
	int rc;

	if (!st)
		return -EAGAIN;
	memset(t, 0, sizeof(*t));
	t->priority = PRIORITY_NORMAL;
	t->due_null = 1;
	apply_input(t, in);
	db_time_from_ms(&t->created, time_now_ms());
	t->updated = t->created;
	t->version = 1;
	db_bind_ll(&p[0], &uid, NULL);
	db_bind_str(&p[1], t->title, &t->title_len);
	db_bind_str(&p[2], t->desc, &t->desc_len);
	db_bind_ll(&p[3], &t->completed, NULL);
	db_bind_ll(&p[4], &t->priority, NULL);
	db_bind_time(&p[5], &t->due, &t->due_null);
	db_bind_time(&p[6], &t->created, NULL);
	db_bind_time(&p[7], &t->updated, NULL);
	rc = db_exec(r->db, st, p, NULL, __func__, r->reqid);
	if (rc < 0)
		return rc;
	t->id = (long long)mysql_stmt_insert_id(st);
	return 0;
}

/* A digest of what the request asks for, after defaults: the same todo
 * asked twice hashes the same whatever the JSON spelling. */
static void
request_hash(const struct input *in, unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	char buf[64];
	int n;

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		/* Out of memory: an all-zero digest only weakens the body check. */
		memset(out, 0, 32);
		EVP_MD_CTX_free(c);
		return;
	}
	n = snprintf(buf, sizeof(buf), "v1|%zu|", in->title_len);
	EVP_DigestUpdate(c, buf, (size_t)n);
	EVP_DigestUpdate(c, in->title, in->title_len);
	n = snprintf(buf, sizeof(buf), "|%zu|", in->desc_len);
	EVP_DigestUpdate(c, buf, (size_t)n);
	EVP_DigestUpdate(c, in->desc, in->desc_len);
	n = snprintf(buf, sizeof(buf), "|%d|%d|%d|%lld", in->completed ? 1 : 0,
		     in->priority, in->due_null ? 1 : 0,
		     in->due_null ? 0 : in->due_ms);
	EVP_DigestUpdate(c, buf, (size_t)n);
	EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
}

/* Creates under an Idempotency-Key: the key row is inserted first, in the
 * same transaction as the todo, so a racing duplicate waits on its lock
 * and then finds the committed result. Returns 0 with t filled, a
 * negative errno, or a positive status already recorded. */
static int
create_idempotent(struct request *r, const struct input *in, const char *key,
		  struct todo *t)
{
	unsigned char hash[32], stored[32];
	unsigned long hash_len = 32, stored_len = 0, key_len = strlen(key);
	long long uid = r->user_id, todo_id = 0;
	my_bool todo_null = 0;
	MYSQL_TIME created;
	int rc = 0;

	request_hash(in, hash);
	for (int attempt = 0; attempt < 4; attempt++) {
		MYSQL_STMT *st;
		MYSQL_BIND p[4], res[3];

		if ((rc = db_begin(r->db, r->reqid)) < 0)
			return rc;
		st = db_stmt(r->db, STMT_IDEM_INSERT, r->reqid);
		if (!st) {
			db_rollback(r->db);
			return -EAGAIN;
		}
		db_time_from_ms(&created, time_now_ms());
		db_bind_ll(&p[0], &uid, NULL);
		db_bind_str(&p[1], key, &key_len);
		db_bind_blob(&p[2], hash, &hash_len);
		db_bind_time(&p[3], &created, NULL);
		rc = db_exec(r->db, st, p, NULL, __func__, r->reqid);
		if (rc == 0) {
			rc = create_plain(r, in, t);
			if (rc == 0) {
				st = db_stmt(r->db, STMT_IDEM_SET, r->reqid);
				if (!st) {
					rc = -EAGAIN;
				} else {
					db_bind_ll(&p[0], &t->id, NULL);
					db_bind_ll(&p[1], &uid, NULL);
					db_bind_str(&p[2], key, &key_len);
					rc = db_exec(r->db, st, p, NULL,
						     __func__, r->reqid);
				}
			}
			if (rc == 0)
				rc = db_commit(r->db, r->reqid);
			if (rc < 0)
				db_rollback(r->db);
			if (rc == -EBUSY)
				continue;
			return rc;
		}
		db_rollback(r->db);
		if (rc == -EBUSY)
			continue;
		if (rc != -EEXIST)
			return rc;

		/* The key exists: replay its result. */
		st = db_stmt(r->db, STMT_IDEM_GET, r->reqid);
		if (!st)
			return -EAGAIN;
		db_bind_ll(&p[0], &uid, NULL);
		db_bind_str(&p[1], key, &key_len);
		memset(res, 0, sizeof(res));
		res[0].buffer_type = MYSQL_TYPE_BLOB;
		res[0].buffer = stored;
		res[0].buffer_length = sizeof(stored);
		res[0].length = &stored_len;
		db_bind_ll(&res[1], &todo_id, &todo_null);
		db_bind_time(&res[2], &created, NULL);
		rc = db_exec(r->db, st, p, res, __func__, r->reqid);
		if (rc < 0)
			return rc;
		rc = db_fetch(r->db, st, __func__, r->reqid);
		mysql_stmt_free_result(st);
		if (rc < 0)
			return rc;
		if (rc == 0 || todo_null)
			continue; /* gone or not committed yet: try again */
		if (time_now_ms() - db_time_to_ms(&created) <=
			    IDEM_RETENTION_MS &&
		    (stored_len != 32 || !ct_equal(stored, 32, hash, 32)))
			return http_error(
				r, 422, "VALIDATION_FAILED",
				"This Idempotency-Key was already used with a "
				"different request body.",
				"Idempotency-Key");
		if (time_now_ms() - db_time_to_ms(&created) >
		    IDEM_RETENTION_MS) {
			/* Expired: the key is free again. */
			st = db_stmt(r->db, STMT_IDEM_DELETE, r->reqid);
			if (!st)
				return -EAGAIN;
			db_bind_ll(&p[0], &uid, NULL);
			db_bind_str(&p[1], key, &key_len);
			if ((rc = db_exec(r->db, st, p, NULL, __func__,
					  r->reqid)) < 0)
				return rc;
			continue;
		}
		rc = todo_load(r, todo_id, t);
		if (rc < 0)
			return rc;
		if (rc == 0)
			/* The retry must not create a second todo: the first
			 * result, since deleted, is what it gets. */
			return http_error(
				r, 404, "NOT_FOUND",
				"The todo created with this Idempotency-Key "
				"has since been deleted.",
				NULL);
		return 0;
	}
	return rc < 0 ? rc : -EBUSY;
}

int
todos_create(struct request *r)
{
	struct json_object *body;
	struct input in;
	struct todo *t = arena_alloc(r->arena, sizeof(*t));
	const char *key = http_param(r, "HTTP_IDEMPOTENCY_KEY");
	int rc;

	if (!t)
		return http_error(r, 500, "INTERNAL_ERROR", NULL, NULL);
	if ((rc = http_read_json(r, &body)) ||
	    (rc = parse_input(r, body, true, &in)))
		return rc;
	if (key) {
		size_t n = strlen(key);
		bool ok = n >= 1 && n <= IDEM_KEY_MAX;

		for (size_t i = 0; ok && i < n; i++)
			ok = key[i] >= 0x21 && key[i] <= 0x7e;
		if (!ok)
			return http_error(
				r, 422, "VALIDATION_FAILED",
				"Idempotency-Key must be 1 to 255 visible ASCII characters.",
				"Idempotency-Key");
		rc = create_idempotent(r, &in, key, t);
	} else {
		rc = create_plain(r, &in, t);
	}
	if (rc > 0)
		return rc;
	if (rc == -ENOENT) {
		/* The token's user no longer exists (account deleted). */
		r->token_presented = true;
		return http_error(r, 401, "UNAUTHORIZED",
				  "The account of this token no longer exists.",
				  NULL);
	}
	if (rc < 0)
		return http_from_errno(r, rc);
	http_header(r, "Location",
		    arena_printf(r->arena, "/api/todos/%lld", t->id));
	return respond_todo(r, 201, t);
}

int
todos_get(struct request *r)
{
	struct todo *t = arena_alloc(r->arena, sizeof(*t));
	const char *inm = http_param(r, "HTTP_IF_NONE_MATCH");
	const char *tag;
	long long id;
	int rc;

	if (!t)
		return http_error(r, 500, "INTERNAL_ERROR", NULL, NULL);
	if ((rc = todo_id(r, &id)))
		return rc;
	rc = todo_load(r, id, t);
	if (rc < 0)
		return http_from_errno(r, rc);
	if (rc == 0)
		return http_error(r, 404, "NOT_FOUND", "No such todo.", NULL);
	tag = etag(r, t);
	if (inm && tag && etag_matches(inm, tag, true)) {
		http_header(r, "ETag", tag);
		return 304;
	}
	return respond_todo(r, 200, t);
}

/* PUT (replace) and PATCH: optimistic update on the version column. */
static int
write_update(struct request *r, bool replace, const struct input *in)
{
	const char *im = http_param(r, "HTTP_IF_MATCH");
	struct todo *t = arena_alloc(r->arena, sizeof(*t));
	long long id, uid = r->user_id;
	int rc;

	if (!t)
		return http_error(r, 500, "INTERNAL_ERROR", NULL, NULL);
	if ((rc = todo_id(r, &id)))
		return rc;
	for (int attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
		MYSQL_STMT *st;
		MYSQL_BIND p[9];
		long long old_version;
		const char *tag;

		rc = todo_load(r, id, t);
		if (rc < 0)
			return http_from_errno(r, rc);
		if (rc == 0)
			return http_error(r, 404, "NOT_FOUND", "No such todo.",
					  NULL);
		tag = etag(r, t);
		if (im && (!tag || !etag_matches(im, tag, false)))
			return http_error(
				r, 409, "CONFLICT",
				"The todo has changed: If-Match does not match its ETag.",
				NULL);
		if (!replace && !in->has_title && !in->has_desc &&
		    !in->has_completed && !in->has_priority && !in->has_due)
			return respond_todo(r, 200,
					    t); /* PATCH {}: nothing to do */
		if (replace) {
			t->title_len = 0;
			t->desc_len = 0;
			t->completed = 0;
			t->priority = PRIORITY_NORMAL;
			t->due_null = 1;
		}
		apply_input(t, in);
		old_version = t->version;
		db_time_from_ms(&t->updated, time_now_ms());
		st = db_stmt(r->db, STMT_TODO_UPDATE, r->reqid);
		if (!st)
			return http_from_errno(r, -EAGAIN);
		db_bind_str(&p[0], t->title, &t->title_len);
		db_bind_str(&p[1], t->desc, &t->desc_len);
		db_bind_ll(&p[2], &t->completed, NULL);
		db_bind_ll(&p[3], &t->priority, NULL);
		db_bind_time(&p[4], &t->due, &t->due_null);
		db_bind_time(&p[5], &t->updated, NULL);
		db_bind_ll(&p[6], &id, NULL);
		db_bind_ll(&p[7], &uid, NULL);
		db_bind_ll(&p[8], &old_version, NULL);
		rc = db_exec(r->db, st, p, NULL, __func__, r->reqid);
		if (rc == -EBUSY)
			continue;
		if (rc < 0)
			return http_from_errno(r, rc);
		if (mysql_stmt_affected_rows(st) == 1) {
			t->version = old_version + 1;
			return respond_todo(r, 200, t);
		}
		/* Changed (or deleted) between the read and the write. */
		if (im)
			return http_error(
				r, 409, "CONFLICT",
				"The todo has changed: If-Match does not match its ETag.",
				NULL);
	}
	return http_error(r, 503, "UNAVAILABLE",
			  "The todo is being changed concurrently; try again.",
			  NULL);
}

/* A missing or foreign id answers 404 before the body is looked at. */
static int
update(struct request *r, bool replace)
{
	struct json_object *body;
	struct input in;
	long long id;
	int rc;

	if ((rc = todo_id(r, &id)) || (rc = http_read_json(r, &body)) ||
	    (rc = parse_input(r, body, replace, &in)))
		return rc;
	return write_update(r, replace, &in);
}

int
todos_replace(struct request *r)
{
	return update(r, true);
}

int
todos_patch(struct request *r)
{
	return update(r, false);
}

int
todos_delete(struct request *r)
{
	const char *im = http_param(r, "HTTP_IF_MATCH");
	long long id, uid = r->user_id, version = 0;
	MYSQL_STMT *st;
	MYSQL_BIND p[3];
	int rc;

	if ((rc = todo_id(r, &id)))
		return rc;
	if (im) {
		struct todo *t = arena_alloc(r->arena, sizeof(*t));
		const char *tag;

		if (!t)
			return http_error(r, 500, "INTERNAL_ERROR", NULL, NULL);
		rc = todo_load(r, id, t);
		if (rc < 0)
			return http_from_errno(r, rc);
		if (rc == 0)
			return http_error(r, 404, "NOT_FOUND", "No such todo.",
					  NULL);
		tag = etag(r, t);
		if (!tag || !etag_matches(im, tag, false))
			return http_error(
				r, 409, "CONFLICT",
				"The todo has changed: If-Match does not match its ETag.",
				NULL);
		version = t->version;
	}
	st = db_stmt(r->db, im ? STMT_TODO_DELETE_VERSION : STMT_TODO_DELETE,
		     r->reqid);
	if (!st)
		return http_from_errno(r, -EAGAIN);
	db_bind_ll(&p[0], &id, NULL);
	db_bind_ll(&p[1], &uid, NULL);
	db_bind_ll(&p[2], &version, NULL);
	rc = db_exec(r->db, st, p, NULL, __func__, r->reqid);
	if (rc < 0)
		return http_from_errno(r, rc);
	if (mysql_stmt_affected_rows(st) != 1) {
		if (im)
			return http_error(
				r, 409, "CONFLICT",
				"The todo has changed: If-Match does not match its ETag.",
				NULL);
		return http_error(r, 404, "NOT_FOUND", "No such todo.", NULL);
	}
	return 204;
}

/* '%' + q with LIKE's metacharacters escaped by '!' + '%'. */
static void
like_pattern(struct request *r, const char *q, size_t len, char **ret,
	     unsigned long *ret_len)
{
	char *out = arena_alloc(r->arena, len * 2 + 3);
	size_t o = 0;

	*ret = out;
	if (!out)
		return;
	out[o++] = '%';
	for (size_t i = 0; i < len; i++) {
		if (q[i] == '%' || q[i] == '_' || q[i] == '!')
			out[o++] = '!';
		out[o++] = q[i];
	}
	out[o++] = '%';
	out[o] = '\0';
	*ret_len = o;
}

enum filter { F_COMPLETED = 1, F_PRIORITY = 2, F_Q = 4 };

int
todos_list(struct request *r)
{
	struct query_param *qp = NULL;
	size_t nqp = 0;
	int filters = 0, sort = SORT_CREATED, priority = 0, rc;
	bool desc = true, seen[6] = {0};
	long long completed = 0, prio = 0, limit = LIMIT_DEFAULT, offset = 0;
	long long total = 0, uid = r->user_id;
	char *like = NULL;
	unsigned long like_len = 0;
	MYSQL_STMT *st;
	MYSQL_BIND p[12], res[10];
	struct todo *t = arena_alloc(r->arena, sizeof(*t));
	struct jbuf b;
	int rows = 0;
	char where[160];
	int np = 0;
	char sql[768];

	if (!t)
		return http_error(r, 500, "INTERNAL_ERROR", NULL, NULL);
	if (http_query_parse(r->arena, r->query, strlen(r->query), &qp, &nqp) <
	    0)
		return http_error(r, 500, "INTERNAL_ERROR", NULL, NULL);
	for (size_t i = 0; i < nqp; i++) {
		static const char *const names[] = {"completed", "priority",
						    "q",         "sort",
						    "limit",     "offset"};
		const char *k = qp[i].key, *v = qp[i].value;
		size_t vl = qp[i].value_len;
		int which = -1;

		for (int n = 0; n < 6; n++)
			if (strcmp(k, names[n]) == 0 &&
			    strlen(names[n]) == qp[i].key_len)
				which = n;
		if (which < 0)
			continue; /* unknown parameters are ignored */
		if (!v)
			return http_error(
				r, 422, "VALIDATION_FAILED",
				arena_printf(
					r->arena,
					"%s is not well-formed (bad percent-encoding).",
					names[which]),
				names[which]);
		if (seen[which])
			return http_error(
				r, 422, "VALIDATION_FAILED",
				arena_printf(r->arena,
					     "%s is given more than once.",
					     names[which]),
				names[which]);
		seen[which] = true;
		switch (which) {
		case 0:
			if (strcmp(v, "true") == 0)
				completed = 1;
			else if (strcmp(v, "false") == 0)
				completed = 0;
			else
				return http_error(
					r, 422, "VALIDATION_FAILED",
					"completed must be true or false.",
					"completed");
			filters |= F_COMPLETED;
			break;
		case 1:
			priority = -1;
			for (int k2 = 0; k2 < PRIORITY_MAX; k2++)
				if (strcmp(v, priority_names[k2]) == 0)
					priority = k2;
			if (priority < 0)
				return http_error(
					r, 422, "VALIDATION_FAILED",
					"priority must be one of low, normal, high.",
					"priority");
			prio = priority;
			filters |= F_PRIORITY;
			break;
		case 2: {
			long n = utf8_count(v, vl);

			if (n < 0 || n > Q_MAX || memchr(v, '\0', vl))
				return http_error(
					r, 422, "VALIDATION_FAILED",
					"q must be valid UTF-8 of at most 200 characters.",
					"q");
			if (vl > 0) {
				like_pattern(r, v, vl, &like, &like_len);
				if (!like)
					return http_error(r, 500,
							  "INTERNAL_ERROR",
							  NULL, NULL);
				filters |= F_Q;
			}
			break;
		}
		case 3: {
			const char *name = v;

			desc = v[0] == '-';
			if (desc)
				name++;
			sort = -1;
			for (int k2 = 0; k2 < SORT_MAX; k2++)
				if (strcmp(name, sorts[k2].name) == 0)
					sort = k2;
			if (sort < 0)
				return http_error(
					r, 422, "VALIDATION_FAILED",
					"sort must be one of createdAt, dueAt, priority, "
					"title, optionally prefixed by '-'.",
					"sort");
			break;
		}
		case 4:
			if (parse_uint(v, vl, LIMIT_MAX, &limit) < 0 ||
			    limit < 1)
				return http_error(
					r, 422, "VALIDATION_FAILED",
					"limit must be an integer from 1 to 200.",
					"limit");
			break;
		case 5:
			if (parse_uint(v, vl, OFFSET_MAX, &offset) < 0)
				return http_error(
					r, 422, "VALIDATION_FAILED",
					"offset must be a non-negative integer.",
					"offset");
			break;
		}
	}

	/* The filter's parameters: user, completed, priority, q, q. */
	db_bind_ll(&p[np++], &uid, NULL);
	if (filters & F_COMPLETED)
		db_bind_ll(&p[np++], &completed, NULL);
	if (filters & F_PRIORITY)
		db_bind_ll(&p[np++], &prio, NULL);
	if (filters & F_Q) {
		db_bind_str(&p[np++], like, &like_len);
		db_bind_str(&p[np++], like, &like_len);
	}
	snprintf(
		where, sizeof(where), "user_id = ?%s%s%s",
		filters & F_COMPLETED ? " AND completed = ?" : "",
		filters & F_PRIORITY ? " AND priority = ?" : "",
		filters & F_Q
			? " AND (title LIKE ? ESCAPE '!' OR description LIKE ? ESCAPE '!')"
			: "");

	/* One round trip for the page and its total: the total is an
	 * uncorrelated subquery (evaluated once, over the same index range),
	 * not COUNT(*) OVER(), which would sort the whole filtered set. The
	 * statement text comes from fixed fragments only; every value is a
	 * bound parameter: the filter's twice, then limit and offset. */
	snprintf(sql, sizeof(sql),
		 "SELECT id, title, description, completed, priority, due_at,"
		 " version, created_at, updated_at,"
		 " (SELECT COUNT(*) FROM todos WHERE %s)"
		 " FROM todos WHERE %s ORDER BY %s LIMIT ? OFFSET ?",
		 where, where, desc ? sorts[sort].desc : sorts[sort].asc);
	st = db_stmt_dyn(r->db, (unsigned)(filters * 8 + sort * 2 + desc), sql,
			 r->reqid);
	if (!st)
		return http_from_errno(r, -EAGAIN);
	memcpy(&p[np], &p[0], (size_t)np * sizeof(p[0]));
	db_bind_ll(&p[2 * np], &limit, NULL);
	db_bind_ll(&p[2 * np + 1], &offset, NULL);
	bind_todo(res, t);
	db_bind_ll(&res[9], &total, NULL);
	if ((rc = db_exec(r->db, st, p, res, __func__, r->reqid)) < 0)
		return http_from_errno(r, rc);
	jb_init(&b, r->arena, 4096);
	jb_lit(&b, "{\"items\":[");
	while ((rc = db_fetch(r->db, st, __func__, r->reqid)) == 1) {
		jb_sep(&b);
		todo_json(&b, t);
		rows++;
	}
	mysql_stmt_free_result(st);
	if (rc < 0)
		return http_from_errno(r, rc);

	/* An empty page past the end still reports the total. */
	if (rows == 0 && offset > 0) {
		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM todos WHERE %s", where);
		st = db_stmt_dyn(r->db, 64 + (unsigned)filters, sql, r->reqid);
		if (!st)
			return http_from_errno(r, -EAGAIN);
		db_bind_ll(&res[0], &total, NULL);
		if ((rc = db_exec(r->db, st, p, res, __func__, r->reqid)) < 0)
			return http_from_errno(r, rc);
		rc = db_fetch(r->db, st, __func__, r->reqid);
		mysql_stmt_free_result(st);
		if (rc < 0)
			return http_from_errno(r, rc);
	}
	jb_lit(&b, "],\"total\":");
	jb_int(&b, total);
	jb_lit(&b, ",\"limit\":");
	jb_int(&b, limit);
	jb_lit(&b, ",\"offset\":");
	jb_int(&b, offset);
	jb_lit(&b, "}");
	return http_body_jbuf(r, 200, &b);
}

void
todos_purge_idempotency(struct db *db, long long now_ms)
{
	MYSQL_STMT *st = db_stmt(db, STMT_IDEM_PURGE, NULL);
	MYSQL_TIME cutoff;
	MYSQL_BIND p[1];

	if (!st)
		return;
	db_time_from_ms(&cutoff, now_ms - IDEM_PURGE_AFTER_MS);
	db_bind_time(&p[0], &cutoff, NULL);
	db_exec(db, st, p, NULL, __func__, NULL);
}
