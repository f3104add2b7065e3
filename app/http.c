/* Request view over FastCGI params and body; response and error rendering. */
#include "http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "arena.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "util.h"

static void json_put(void *obj);
static int decode(struct arena *a, const char *s, size_t n, const char **ret,
		  size_t *ret_len);

static const char *const method_names[HTTP_METHOD_MAX] = {
	[HTTP_GET] = "GET",         [HTTP_HEAD] = "HEAD",
	[HTTP_POST] = "POST",       [HTTP_PUT] = "PUT",
	[HTTP_PATCH] = "PATCH",     [HTTP_DELETE] = "DELETE",
	[HTTP_OPTIONS] = "OPTIONS",
};

static const struct {
	int status;
	const char *reason, *code, *message;
} statuses[] = {
	{200, "OK", NULL, NULL},
	{201, "Created", NULL, NULL},
	{204, "No Content", NULL, NULL},
	{304, "Not Modified", NULL, NULL},
	{400, "Bad Request", "INVALID_JSON",
	 "The request body is not a valid JSON object."},
	{401, "Unauthorized", "UNAUTHORIZED", "Authentication is required."},
	{403, "Forbidden", "INVALID_ORIGIN",
	 "The request's origin is not allowed."},
	{404, "Not Found", "NOT_FOUND", "Not found."},
	{405, "Method Not Allowed", "METHOD_NOT_ALLOWED",
	 "The method is not allowed for this resource."},
	{409, "Conflict", "CONFLICT",
	 "The resource has changed (If-Match did not match)."},
	{413, "Content Too Large", "BODY_TOO_LARGE",
	 "The request body is too large."},
	{415, "Unsupported Media Type", "UNSUPPORTED_MEDIA_TYPE",
	 "The request body must be application/json."},
	{422, "Unprocessable Content", "VALIDATION_FAILED",
	 "The request is invalid."},
	{429, "Too Many Requests", "TOO_MANY_REQUESTS",
	 "Too many requests; try again later."},
	{500, "Internal Server Error", "INTERNAL_ERROR",
	 "An internal error occurred."},
	{503, "Service Unavailable", "UNAVAILABLE",
	 "The service is temporarily unavailable; try again shortly."},
};

#define NSTATUSES (sizeof(statuses) / sizeof(statuses[0]))

int
http_method_from_name(const char *name)
{
	for (int i = 0; i < HTTP_METHOD_MAX; i++)
		if (strcmp(name, method_names[i]) == 0)
			return i;
	return -1;
}

const char *
http_method_name(enum http_method m)
{
	return m < HTTP_METHOD_MAX ? method_names[m] : "?";
}

const char *
http_status_text(int status)
{
	for (size_t i = 0; i < NSTATUSES; i++)
		if (statuses[i].status == status)
			return statuses[i].reason;
	return "Error";
}

const char *
http_status_code(int status)
{
	for (size_t i = 0; i < NSTATUSES; i++)
		if (statuses[i].status == status && statuses[i].code)
			return statuses[i].code;
	return "INTERNAL_ERROR";
}

static const char *
status_message(int status)
{
	for (size_t i = 0; i < NSTATUSES; i++)
		if (statuses[i].status == status && statuses[i].message)
			return statuses[i].message;
	return "An internal error occurred.";
}

const char *
http_param(const struct request *r, const char *name)
{
	if (!r->envp)
		return NULL;
	return FCGX_GetParam(name, r->envp);
}

static int
error_code(struct request *r, int status, const char *code, const char *message,
	   const char *field)
{
	r->err_code = code;
	r->err_message = message;
	r->err_field = field;
	return status;
}

int
http_error(struct request *r, int status, const char *message,
	   const char *field)
{
	return error_code(r, status, http_status_code(status), message, field);
}

int
http_no_todo(struct request *r)
{
	return http_error(r, 404, "No such todo.", NULL);
}

int
http_if_match_failed(struct request *r)
{
	return http_error(
		r, 409,
		"The todo has changed: If-Match does not match its ETag.",
		NULL);
}

int
http_internal(struct request *r)
{
	return http_error(r, 500, NULL, NULL);
}

int
http_invalid_origin(struct request *r)
{
	return http_error(r, 403, "The request's origin is not allowed.", NULL);
}

int
http_bad_login(struct request *r)
{
	return error_code(r, 401, "INVALID_EMAIL_OR_PASSWORD",
			  "Invalid email or password.", NULL);
}

int
http_user_exists(struct request *r)
{
	return error_code(r, 422, "USER_ALREADY_EXISTS",
			  "A user with this email already exists.", "email");
}

void
http_header(struct request *r, const char *name, const char *value)
{
	if (r->nheaders < HTTP_HEADERS_MAX) {
		r->headers[r->nheaders].name = name;
		r->headers[r->nheaders].value = value;
		r->nheaders++;
	}
}

int
http_body(struct request *r, int status, const char *json, size_t len)
{
	r->body = json;
	r->body_len = len;
	return status;
}

int
http_body_jbuf(struct request *r, int status, struct jbuf *b)
{
	size_t len;
	const char *s = jb_finish(b, &len);

	if (!s)
		return http_internal(r);
	return http_body(r, status, s, len);
}

bool
http_is_json_type(const char *ct, size_t len)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	while (len > 0 && (*ct == ' ' || *ct == '\t')) {
		ct++;
		len--;
	}
	if (len < n || strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	len -= n;
	while (len > 0 && (*ct == ' ' || *ct == '\t')) {
		ct++;
		len--;
	}
	return len == 0 || *ct == ';';
}

static void
json_put(void *obj)
{
	json_object_put(obj);
}

int
http_read_json(struct request *r, struct json_object **ret)
{
	const char *ct = http_param(r, "CONTENT_TYPE");
	const char *cl = http_param(r, "CONTENT_LENGTH");
	long long length = 0;
	struct json_object *obj = NULL;
	char *buf;
	int n;

	if (!ct || !http_is_json_type(ct, strlen(ct)))
		return http_error(r, 415,
				  "The request body must be application/json.",
				  NULL);
	if (cl && *cl && parse_uint(cl, strlen(cl), INT64_MAX, &length) < 0)
		return http_error(
			r, 400, "The Content-Length header is invalid.", NULL);
	if (length > r->cfg->body_limit)
		return http_error(r, 413,
				  "The request body is larger than the limit.",
				  NULL);
	if (r->in_read) {
		buf = r->in_buf;
		n = r->in_len;
	} else {
		/* One byte more than the limit tells an overlong stream
		 * apart. */
		buf = arena_alloc(r->arena, (size_t)r->cfg->body_limit + 2);
		if (!buf)
			return http_internal(r);
		n = r->fcgi ? FCGX_GetStr(buf, (int)r->cfg->body_limit + 1,
					  r->fcgi->in)
			    : 0;
		r->in_buf = buf;
		r->in_len = n;
		r->in_read = true;
	}
	if (n > r->cfg->body_limit)
		return http_error(r, 413,
				  "The request body is larger than the limit.",
				  NULL);
	if (n <= 0 || json_parse(buf, (size_t)n, JSON_MAX_DEPTH, &obj) < 0)
		return http_error(r, 400, "The request body is not valid JSON.",
				  NULL);
	if (arena_defer(r->arena, json_put, obj) < 0)
		return http_internal(r);
	if (!json_object_is_type(obj, json_type_object))
		return http_error(r, 400,
				  "The request body must be a JSON object.",
				  NULL);
	*ret = obj;
	return 0;
}

static int
decode(struct arena *a, const char *s, size_t n, const char **ret,
       size_t *ret_len)
{
	char *out = arena_alloc(a, n + 1);
	size_t o = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (n - i < 3)
				return -EINVAL;
			hi = hex_digit(s[i + 1]);
			lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '\0') {
			return -EINVAL;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return 0;
}

int
http_query_parse(struct arena *a, const char *qs, size_t len,
		 struct query_param **ret, size_t *ret_n)
{
	struct query_param *params;
	size_t count = 1, n = 0, i = 0;
	int rc;

	for (size_t k = 0; k < len; k++)
		if (qs[k] == '&')
			count++;
	params = arena_alloc(a, count * sizeof(*params));
	if (!params)
		return -ENOMEM;
	while (i < len) {
		const char *part = qs + i, *amp = memchr(part, '&', len - i);
		size_t plen = amp ? (size_t)(amp - part) : len - i;
		const char *eq = memchr(part, '=', plen);
		size_t klen = eq ? (size_t)(eq - part) : plen;
		struct query_param *p = &params[n];

		i += plen + 1;
		if (plen == 0)
			continue;
		rc = decode(a, part, klen, &p->key, &p->key_len);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			continue; /* no name to match: an unknown parameter */
		if (eq) {
			rc = decode(a, eq + 1, plen - klen - 1, &p->value,
				    &p->value_len);
			if (rc == -ENOMEM)
				return rc;
			if (rc < 0) {
				p->value = NULL;
				p->value_len = 0;
			}
		} else {
			p->value = "";
			p->value_len = 0;
		}
		n++;
	}
	*ret = params;
	*ret_n = n;
	return 0;
}

void
http_send(struct request *r, int status)
{
	struct jbuf h, b;
	const char *head, *body = r->body;
	size_t head_len, body_len = r->body_len;
	char tmp[64];
	bool has_body = status != 204 && status != 304;

	if (status >= 400 && !body) {
		const char *code =
			r->err_code ? r->err_code : http_status_code(status);
		const char *msg = r->err_message ? r->err_message
						 : status_message(status);

		jb_init(&b, r->arena, 256);
		jb_lit(&b, "{\"code\":");
		jb_cstr(&b, code);
		jb_lit(&b, ",\"message\":");
		jb_cstr(&b, msg);
		if (r->err_field) {
			jb_lit(&b, ",\"field\":");
			jb_cstr(&b, r->err_field);
		}
		jb_lit(&b, "}");
		body = jb_finish(&b, &body_len);
		if (status == 401)
			http_header(
				r, "WWW-Authenticate",
				r->token_presented
					? "Bearer realm=\"todo\", error=\"invalid_token\""
					: "Bearer realm=\"todo\"");
		if (status == 503)
			http_header(r, "Retry-After", "2");
	}
	if (!body) {
		body = "";
		body_len = 0;
	}

	jb_init(&h, r->arena, 512);
	snprintf(tmp, sizeof(tmp), "Status: %d %s\r\n", status,
		 http_status_text(status));
	jb_lit(&h, tmp);
	if (has_body) {
		jb_lit(&h, "Content-Type: ");
		jb_lit(&h, r->content_type && status < 400
				   ? r->content_type
				   : "application/json; charset=utf-8");
		jb_lit(&h, "\r\n");
	}
	jb_lit(&h, "X-Request-Id: ");
	jb_lit(&h, r->reqid);
	jb_lit(&h, "\r\n");
	for (int i = 0; i < r->nheaders; i++) {
		jb_lit(&h, r->headers[i].name);
		jb_lit(&h, ": ");
		jb_lit(&h, r->headers[i].value);
		jb_lit(&h, "\r\n");
	}
	if (has_body) {
		snprintf(tmp, sizeof(tmp), "Content-Length: %zu\r\n\r\n",
			 body_len);
		jb_lit(&h, tmp);
	} else {
		jb_lit(&h, "\r\n");
	}
	head = jb_finish(&h, &head_len);
	if (!head || !body) {
		static const char oom[] =
			"Status: 500 Internal Server Error\r\n"
			"Content-Type: application/json; charset=utf-8\r\n"
			"X-Request-Id: ";
		static const char oom_body[] =
			"\r\n\r\n{\"code\":\"INTERNAL_ERROR\",\"message\":\"An internal error occurred.\"}";

		if (r->fcgi) {
			FCGX_PutStr(oom, sizeof(oom) - 1, r->fcgi->out);
			FCGX_PutStr(r->reqid, (int)strlen(r->reqid),
				    r->fcgi->out);
			FCGX_PutStr(oom_body, sizeof(oom_body) - 1,
				    r->fcgi->out);
		}
		return;
	}
	if (!r->fcgi)
		return;
	FCGX_PutStr(head, (int)head_len, r->fcgi->out);
	if (has_body && r->method != HTTP_HEAD && body_len)
		FCGX_PutStr(body, (int)body_len, r->fcgi->out);
}

int
http_from_errno(struct request *r, int err)
{
	if (err == -EAGAIN) {
		r->err_cause = "database unreachable";
		return http_error(
			r, 503,
			"The database cannot be reached; try again shortly.",
			NULL);
	}
	if (err == -EBUSY) {
		r->err_cause = "contention";
		return http_error(
			r, 503,
			"Too many requests are changing the same data at "
			"once; try again shortly.",
			NULL);
	}
	r->err_cause = err == -ENOMEM ? "out of memory" : "internal error";
	return http_internal(r);
}

int
http_json_known(struct request *r, struct json_object *obj,
		const char *const *allowed)
{
	json_object_object_foreach(obj, key, val)
	{
		bool found = false;
		size_t klen = strlen(key);

		(void)val;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				found = true;
		if (found)
			continue;
		/* Echo the key only when it is printable and short. */
		if (klen > 64 || utf8_count(key, klen) < 0)
			return http_error(
				r, 422, "The body has an unknown field.", NULL);
		return http_error(
			r, 422,
			arena_printf(r->arena, "Unknown field \"%s\".", key),
			arena_strdup(r->arena, key));
	}
	return 0;
}

int
http_json_string(struct request *r, struct json_object *v, const char *field,
		 const char **ret, size_t *ret_len)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return http_error(
			r, 422,
			arena_printf(r->arena, "%s must be a string.", field),
			field);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', len) || utf8_count(s, len) < 0)
		return http_error(
			r, 422,
			arena_printf(
				r->arena,
				"%s must be valid UTF-8 without NUL characters.",
				field),
			field);
	*ret = s;
	*ret_len = len;
	return 0;
}
