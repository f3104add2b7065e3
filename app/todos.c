/* The /api/todos routes: requests in, JSON out. The data layer (store.c)
 * does every read and write; the owner always comes from the token and is
 * part of every statement, so no path can read or touch another user's
 * row. */
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
#include "http.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "todos_query.h"
#include "util.h"

#define IDEM_KEY_MAX 255

enum priority { PRIORITY_LOW, PRIORITY_NORMAL, PRIORITY_HIGH, PRIORITY_MAX };

static const char *const priority_names[PRIORITY_MAX] = {
	[PRIORITY_LOW] = "low",
	[PRIORITY_NORMAL] = "normal",
	[PRIORITY_HIGH] = "high",
};

/* The state of a list response being written, row by row. */
struct list_out {
	struct jbuf b;
};

static int parse_input(struct request *r, struct json_object *body,
		       bool title_required, struct store_todo_change *in);
static void set_all(struct store_todo_change *in);
static int todo_id(struct request *r, long long *ret);
static const char *etag(struct request *r, const struct store_todo *t);
static int etag_matches(const char *header, const char *tag, bool weak_ok);
static bool if_match(const struct store_todo *cur, void *ctx);
static int respond_todo(struct request *r, int status,
			const struct store_todo *t);
static void todo_json(struct jbuf *b, const struct store_todo *t);
static void request_hash(const struct store_todo_change *in,
			 unsigned char out[32]);
static int update(struct request *r, bool replace);
static void list_row(void *ctx, const struct store_todo *t);

static int
parse_input(struct request *r, struct json_object *body, bool title_required,
	    struct store_todo_change *in)
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
		if (n < 1 || n > STORE_TITLE_MAX)
			return http_error(
				r, 422,
				"title must be 1 to 200 characters after trimming.",
				"title");
		in->has_title = true;
		in->title = s;
		in->title_len = len;
	} else if (title_required) {
		return http_error(r, 422, "title is required.", "title");
	}
	if (json_object_object_get_ex(body, "description", &v)) {
		if ((rc = http_json_string(r, v, "description", &s, &len)))
			return rc;
		if (utf8_count(s, len) > STORE_DESCRIPTION_MAX)
			return http_error(
				r, 422,
				"description must be at most 2000 characters.",
				"description");
		in->has_desc = true;
		in->desc = s;
		in->desc_len = len;
	}
	if (json_object_object_get_ex(body, "completed", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return http_error(r, 422,
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
				r, 422,
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
				r, 422,
				"dueAt must be an RFC 3339 date-time or null.",
				"dueAt");
		} else {
			in->due_null = false;
		}
	}
	return 0;
}

/* A create and a PUT set every field: the ones the body left out take
 * their defaults (parse_input put them in place). */
static void
set_all(struct store_todo_change *in)
{
	in->has_title = in->has_desc = in->has_completed = true;
	in->has_priority = in->has_due = true;
}

static int
todo_id(struct request *r, long long *ret)
{
	if (parse_id(r->params[0], r->param_len[0], ret) < 0)
		return http_no_todo(r);
	return 0;
}

static const char *
etag(struct request *r, const struct store_todo *t)
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

/* The If-Match precondition, checked by the store under the row's lock;
 * ctx is the request. */
static bool
if_match(const struct store_todo *cur, void *ctx)
{
	struct request *r = ctx;
	const char *tag = etag(r, cur);

	return tag && etag_matches(http_param(r, "HTTP_IF_MATCH"), tag, false);
}

static void
todo_json(struct jbuf *b, const struct store_todo *t)
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
	if (t->has_due) {
		time_format(t->due_ms, ts);
		jb_lit(b, "\",\"dueAt\":\"");
		jb_lit(b, ts);
		jb_lit(b, "\"");
	} else {
		jb_lit(b, "\",\"dueAt\":null");
	}
	time_format(t->created_ms, ts);
	jb_lit(b, ",\"createdAt\":\"");
	jb_lit(b, ts);
	time_format(t->updated_ms, ts);
	jb_lit(b, "\",\"updatedAt\":\"");
	jb_lit(b, ts);
	jb_lit(b, "\"}");
}

static int
respond_todo(struct request *r, int status, const struct store_todo *t)
{
	struct jbuf b;
	const char *tag = etag(r, t);

	if (!tag)
		return http_internal(r);
	http_header(r, "ETag", tag);
	jb_init(&b, r->arena, 512 + t->title_len + t->desc_len * 2);
	todo_json(&b, t);
	return http_body_jbuf(r, status, &b);
}

/* A digest of what the request asks for, after defaults: the same todo
 * asked twice hashes the same whatever the JSON spelling. */
static void
request_hash(const struct store_todo_change *in, unsigned char out[32])
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

int
todos_create(struct request *r)
{
	struct json_object *body;
	struct store_todo_change in;
	struct store_todo *t = arena_alloc(r->arena, sizeof(*t));
	const char *key = http_param(r, "HTTP_IDEMPOTENCY_KEY");
	enum store_idem outcome = STORE_IDEM_CREATED;
	int rc;

	if (!t)
		return http_internal(r);
	if ((rc = http_read_json(r, &body)) ||
	    (rc = parse_input(r, body, true, &in)))
		return rc;
	set_all(&in);
	if (key) {
		size_t n = strlen(key);
		bool ok = n >= 1 && n <= IDEM_KEY_MAX;
		unsigned char hash[32];

		for (size_t i = 0; ok && i < n; i++)
			ok = key[i] >= 0x21 && key[i] <= 0x7e;
		if (!ok)
			return http_error(r, 422,
					  "Idempotency-Key must be 1 to 255 "
					  "visible ASCII characters.",
					  "Idempotency-Key");
		request_hash(&in, hash);
		rc = store_todo_create_idempotent(r->db, r->reqid, r->user_id,
						  key, n, hash, &in, t,
						  &outcome);
	} else {
		rc = store_todo_insert(r->db, r->reqid, r->user_id, &in, t);
	}
	if (rc == -ENOENT) {
		/* The token's user no longer exists (account deleted). */
		r->token_presented = true;
		return http_error(r, 401,
				  "The account of this token no longer exists.",
				  NULL);
	}
	if (rc < 0)
		return http_from_errno(r, rc);
	if (outcome == STORE_IDEM_MISMATCH)
		return http_error(
			r, 422,
			"This Idempotency-Key was already used with a "
			"different request body.",
			"Idempotency-Key");
	if (outcome == STORE_IDEM_GONE)
		/* The retry must not create a second todo: the first result,
		 * since deleted, is what it gets. */
		return http_error(r, 404,
				  "The todo created with this Idempotency-Key "
				  "has since been deleted.",
				  NULL);
	http_header(r, "Location",
		    arena_printf(r->arena, "/api/todos/%lld", t->id));
	return respond_todo(r, 201, t);
}

int
todos_get(struct request *r)
{
	struct store_todo *t = arena_alloc(r->arena, sizeof(*t));
	const char *inm = http_param(r, "HTTP_IF_NONE_MATCH");
	const char *tag;
	long long id;
	int rc;

	if (!t)
		return http_internal(r);
	if ((rc = todo_id(r, &id)))
		return rc;
	rc = store_todo_get(r->db, r->reqid, id, r->user_id, t);
	if (rc < 0)
		return http_from_errno(r, rc);
	if (rc == 0)
		return http_no_todo(r);
	tag = etag(r, t);
	if (inm && tag && etag_matches(inm, tag, true)) {
		http_header(r, "ETag", tag);
		return 304;
	}
	return respond_todo(r, 200, t);
}

/* PUT (replace) and PATCH. A missing or foreign id answers 404 before the
 * body is looked at. The store applies the change under the row's lock,
 * so concurrent writers without If-Match all succeed, one after another,
 * and each answer is the state its own write produced. */
static int
update(struct request *r, bool replace)
{
	struct store_todo *t = arena_alloc(r->arena, sizeof(*t));
	bool im = http_param(r, "HTTP_IF_MATCH") != NULL;
	struct json_object *body;
	struct store_todo_change in;
	long long id;
	int rc;

	if (!t)
		return http_internal(r);
	if ((rc = todo_id(r, &id)) || (rc = http_read_json(r, &body)) ||
	    (rc = parse_input(r, body, replace, &in)))
		return rc;
	if (replace)
		set_all(&in);
	rc = store_todo_update(r->db, r->reqid, id, r->user_id, &in,
			       im ? if_match : NULL, r, t);
	if (rc == -ECANCELED)
		return http_if_match_failed(r);
	if (rc < 0)
		return http_from_errno(r, rc);
	if (rc == 0)
		return http_no_todo(r);
	return respond_todo(r, 200, t);
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
	bool im = http_param(r, "HTTP_IF_MATCH") != NULL;
	long long id;
	int rc;

	if ((rc = todo_id(r, &id)))
		return rc;
	rc = store_todo_delete(r->db, r->reqid, id, r->user_id,
			       im ? if_match : NULL, r);
	if (rc == -ECANCELED)
		return http_if_match_failed(r);
	if (rc < 0)
		return http_from_errno(r, rc);
	if (rc == 0)
		return http_no_todo(r);
	return 204;
}

static void
list_row(void *ctx, const struct store_todo *t)
{
	struct list_out *out = ctx;

	jb_sep(&out->b);
	todo_json(&out->b, t);
}

int
todos_list(struct request *r)
{
	struct query_param *qp = NULL;
	struct todos_query q;
	struct tq_error err;
	struct list_out out;
	size_t nqp = 0;
	long long total = 0;
	int rc;

	if (http_query_parse(r->arena, r->query, strlen(r->query), &qp, &nqp) <
	    0)
		return http_internal(r);
	rc = todos_query_parse(r->arena, qp, nqp, &q, &err);
	if (rc == -EINVAL)
		return http_error(r, 422, err.message, err.field);
	if (rc < 0)
		return http_internal(r);
	jb_init(&out.b, r->arena, 4096);
	jb_lit(&out.b, "{\"items\":[");
	rc = store_todo_list(r->db, r->reqid, r->user_id, &q, list_row, &out,
			     &total);
	if (rc < 0)
		return http_from_errno(r, rc);
	jb_lit(&out.b, "],\"total\":");
	jb_int(&out.b, total);
	jb_lit(&out.b, ",\"limit\":");
	jb_int(&out.b, q.limit);
	jb_lit(&out.b, ",\"offset\":");
	jb_int(&out.b, q.offset);
	jb_lit(&out.b, "}");
	return http_body_jbuf(r, 200, &out.b);
}
