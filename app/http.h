/* The request view over FastCGI params and body, and the response writer.
 * Every response carries Content-Type application/json; charset=utf-8 (but
 * 204/304) and X-Request-Id; every error body is rendered here. */
#ifndef TODOD_HTTP_H
#define TODOD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct config;
struct db;
struct json_object;
struct FCGX_Request;

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_METHOD_MAX
};

#define HTTP_PARAMS_MAX 4
#define HTTP_HEADERS_MAX 16

struct query_param {
	const char *key, *value; /* NUL-terminated, decoded */
	size_t key_len, value_len;
};

struct request {
	struct FCGX_Request *fcgi; /* NULL in unit tests */
	char **envp; /* FastCGI params, or a test's */
	struct arena *arena;
	const struct config *cfg;
	struct db *db;
	char reqid[17];

	enum http_method method;
	const char *method_name;
	const char *path;
	size_t path_len;
	const char *query;
	const char *params[HTTP_PARAMS_MAX]; /* path parameters, decoded */
	size_t param_len[HTTP_PARAMS_MAX];
	const char *route;

	/* Set by authentication. */
	long long user_id;
	bool via_cookie;
	bool token_presented;

	/* The body as read by http_read_json, kept for a second run of the
	 * handler (the FastCGI stream is read once). */
	char *in_buf;
	int in_len;
	bool in_read;

	/* The response being built. */
	struct {
		const char *name, *value;
	} headers[HTTP_HEADERS_MAX];
	int nheaders;
	const char *body;
	size_t body_len;
	const char *content_type; /* NULL: application/json; charset=utf-8 */
	const char *err_code, *err_message, *err_field;
	const char *err_cause; /* for the log line of a 5xx */
	/* Milliseconds the answer waits before it is sent, without holding a
	 * worker (a shed sign-in's 429; see worker.c). 0: at once. */
	int hold_ms;
};

int http_method_from_name(const char *name);
const char *http_method_name(enum http_method m);

/* A request header by its CGI name (e.g. "HTTP_ORIGIN"), or NULL. */
const char *http_param(const struct request *r, const char *name);

/* Records an error response whose code is the contract's for status (see
 * the table in http.c); returns status for "return http_error(...)".
 * message NULL: the status's default sentence. */
int http_error(struct request *r, int status, const char *message,
	       const char *field);
/* The answers given in several places. */
int http_no_todo(struct request *r); /* 404 "No such todo." */
int http_if_match_failed(struct request *r); /* 409, If-Match */
int http_internal(struct request *r); /* 500, no details */
int http_invalid_origin(struct request *r); /* 403 INVALID_ORIGIN */
int http_bad_login(struct request *r); /* 401 INVALID_EMAIL_OR_PASSWORD */
int http_user_exists(struct request *r); /* 422 USER_ALREADY_EXISTS */
/* Adds a response header; name and value must outlive the request. */
void http_header(struct request *r, const char *name, const char *value);
/* Sets the response body (JSON text owned by the request's arena). */
int http_body(struct request *r, int status, const char *json, size_t len);
struct jbuf;
/* Sets the body from a JSON writer; 500 when the writer ran out of memory. */
int http_body_jbuf(struct request *r, int status, struct jbuf *b);

/* True when a Content-Type value is application/json (parameters allowed). */
bool http_is_json_type(const char *ct, size_t len);
/* Reads the body: 415 unless JSON content type, 413 above the limit, 400
 * unless a JSON object nested at most JSON_MAX_DEPTH. Returns 0 with *ret
 * owned by the request's arena, or an error status already recorded. */
int http_read_json(struct request *r, struct json_object **ret);

/* Splits and percent-decodes a query string ('+' is a space). Pure. A
 * value with a bad escape or a NUL is returned as NULL (the caller names
 * the parameter in its error); a key with one is dropped. Returns 0 or
 * -ENOMEM. */
int http_query_parse(struct arena *a, const char *qs, size_t len,
		     struct query_param **ret, size_t *ret_n);

/* Default text for a status and error code. */
const char *http_status_text(int status);
const char *http_status_code(int status);

/* Writes status, headers and body to FastCGI. */
void http_send(struct request *r, int status);

/* Maps an error result of the data layer (store.h) to its answer:
 * -EAGAIN (database unreachable) and -EBUSY (contention) 503 with
 * Retry-After, anything else 500. The cause goes to the access log. */
int http_from_errno(struct request *r, int err);

/* Validation helpers for JSON bodies; each returns 0 or a recorded 422. */
/* Every member of obj must be named in allowed (NULL-terminated). */
int http_json_known(struct request *r, struct json_object *obj,
		    const char *const *allowed);
/* v must be a string of valid UTF-8 without NUL. */
int http_json_string(struct request *r, struct json_object *v,
		     const char *field, const char **ret, size_t *ret_len);
#endif
