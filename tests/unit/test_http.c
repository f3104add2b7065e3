/* Unit tests for the pure parts of http.c: the JSON content-type check, the
 * query-string parser, status texts and codes, method names, and the body
 * checks of http_read_json that happen before any input is read. */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "tap.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static struct arena *arena;

static int is_json(const char *ct);
static int qp(const char *qs, struct query_param **ret, size_t *n);
static int has(const struct query_param *p, size_t n, size_t i, const char *key,
	       size_t klen, const char *value, size_t vlen);
static void test_is_json(void);
static void test_query(void);
static void test_status(void);
static void test_methods(void);
static void test_request(void);
static void test_read_json(void);

static int
is_json(const char *ct)
{
	return http_is_json_type(ct, strlen(ct));
}

static int
qp(const char *qs, struct query_param **ret, size_t *n)
{
	*ret = NULL;
	*n = 99;
	return http_query_parse(arena, qs, strlen(qs), ret, n);
}

static int
has(const struct query_param *p, size_t n, size_t i, const char *key,
    size_t klen, const char *value, size_t vlen)
{
	return p && i < n && p[i].key_len == klen &&
	       memcmp(p[i].key, key, klen) == 0 && p[i].key[klen] == '\0' &&
	       p[i].value_len == vlen && memcmp(p[i].value, value, vlen) == 0 &&
	       p[i].value[vlen] == '\0';
}

#define HAS(p, n, i, k, v) has(p, n, i, k, sizeof(k) - 1, v, sizeof(v) - 1)

static void
test_is_json(void)
{
	ok(is_json("application/json"), "application/json");
	ok(is_json("application/json; charset=utf-8"),
	   "application/json; charset=utf-8");
	ok(is_json("application/json;charset=UTF-8"),
	   "no space before parameter");
	ok(is_json("APPLICATION/JSON"), "APPLICATION/JSON");
	ok(is_json("Application/Json; Charset=utf-8"), "mixed case");
	ok(is_json(" application/json"), "leading space");
	ok(is_json("\tapplication/json"), "leading tab");
	ok(is_json("application/json "), "trailing space");
	ok(is_json("application/json ; charset=utf-8"), "space before ';'");
	ok(!is_json("application/jsonx"), "application/jsonx rejected");
	ok(!is_json("application/json-patch+json"),
	   "application/json-patch+json rejected");
	ok(!is_json("application/json,text/plain"), "a list rejected");
	ok(!is_json("text/plain"), "text/plain rejected");
	ok(!is_json("text/json"), "text/json rejected");
	ok(!is_json("application/jso"), "application/jso rejected");
	ok(!is_json("application/ json"), "space inside the type rejected");
	ok(!is_json(""), "empty rejected");
	ok(!is_json("   "), "blank rejected");
	ok(!is_json("multipart/form-data; boundary=application/json"),
	   "json only as a parameter rejected");
	ok(!is_json("application/x-www-form-urlencoded"), "form rejected");
	ok(!http_is_json_type("application/json", 15), "len cuts the type");
	ok(http_is_json_type("application/jsonx", 16), "len excludes the tail");
}

static void
test_query(void)
{
	struct query_param *p;
	size_t n;

	is_int(qp("a=1&b=2", &p, &n), 0, "a=1&b=2 parses");
	is_int(n, 2, "a=1&b=2: two params");
	ok(HAS(p, n, 0, "a", "1") && HAS(p, n, 1, "b", "2"),
	   "a=1&b=2: keys, values");

	is_int(qp("q=hello%20world%2Bmore", &p, &n), 0,
	       "percent escapes parse");
	ok(n == 1 && HAS(p, n, 0, "q", "hello world+more"),
	   "%%20 is space, %%2B is '+'");
	is_int(qp("q=a+b+%2b", &p, &n), 0, "'+' parses");
	ok(n == 1 && HAS(p, n, 0, "q", "a b +"),
	   "'+' is a space; %%2b (lower) is '+'");
	is_int(qp("my+key%3D=v%26w", &p, &n), 0, "escaped '=' and '&'");
	ok(n == 1 && HAS(p, n, 0, "my key=", "v&w"), "keys are decoded too");
	is_int(qp("t=caf%C3%A9", &p, &n), 0, "UTF-8 escapes");
	ok(n == 1 && HAS(p, n, 0, "t", "caf\xc3\xa9"),
	   "%%C3%%A9 decodes to two bytes");

	is_int(qp("a=", &p, &n), 0, "empty value");
	ok(n == 1 && HAS(p, n, 0, "a", ""), "a= has an empty value");
	is_int(qp("flag", &p, &n), 0, "key without '='");
	ok(n == 1 && HAS(p, n, 0, "flag", ""),
	   "key without '=' has an empty value");
	is_int(qp("=v", &p, &n), 0, "empty key");
	ok(n == 1 && HAS(p, n, 0, "", "v"), "=v has an empty key");
	is_int(qp("a=b=c", &p, &n), 0, "second '=' in the value");
	ok(n == 1 && HAS(p, n, 0, "a", "b=c"),
	   "the value keeps the second '='");
	is_int(qp("&&", &p, &n), 0, "&& parses");
	is_int(n, 0, "&&: no params");
	is_int(qp("&a=1&&b=2&", &p, &n), 0, "empty parts skipped");
	ok(n == 2 && HAS(p, n, 0, "a", "1") && HAS(p, n, 1, "b", "2"),
	   "&a=1&&b=2&: two params");
	is_int(qp("", &p, &n), 0, "empty query");
	is_int(n, 0, "empty query: no params");
	is_int(qp("a=1&a=2", &p, &n), 0, "repeated key");
	ok(n == 2 && HAS(p, n, 0, "a", "1") && HAS(p, n, 1, "a", "2"),
	   "repeated keys kept in order");
	is_int(http_query_parse(arena, "a=1&b=2", 3, &p, &n), 0,
	       "len cuts the query");
	ok(n == 1 && HAS(p, n, 0, "a", "1"), "only a=1 within len");

	/* A value that does not decode is kept as NULL, so the caller can
	 * name the parameter; a key that does not decode is dropped. */
	{
		static const char *const bad_values[] = {
			"a=%zz", "a=%4", "a=%", "a=%4g", "a=%g4", "a=%00"};

		for (size_t i = 0; i < sizeof(bad_values) / sizeof(*bad_values);
		     i++) {
			is_int(qp(bad_values[i], &p, &n), 0, "%s parses",
			       bad_values[i]);
			ok(n == 1 && strcmp(p[0].key, "a") == 0 &&
				   p[0].value == NULL,
			   "%s: key a with a NULL value", bad_values[i]);
		}
	}
	is_int(qp("%zz=1&b=2", &p, &n), 0, "bad escape in a key");
	ok(n == 1 && HAS(p, n, 0, "b", "2"), "the undecodable key is dropped");
	is_int(qp("a%00b=1", &p, &n), 0, "%%00 in a key");
	is_int((long long)n, 0, "a key with NUL is dropped");
	is_int(qp("a=%4&b=1", &p, &n), 0, "truncated escape before '&'");
	ok(n == 2 && p[0].value == NULL && HAS(p, n, 1, "b", "1"),
	   "the next parameter still parses");
	is_int(http_query_parse(arena, "a=x\0y", 5, &p, &n), 0, "raw NUL");
	ok(n == 1 && p[0].value == NULL, "a raw NUL makes the value NULL");
	is_int(qp("a=%01", &p, &n), 0, "%%01 is not NUL");
	ok(n == 1 && HAS(p, n, 0, "a", "\x01"), "%%01 decodes to 0x01");
	arena_reset(arena);
}

static void
test_status(void)
{
	static const struct {
		int status;
		const char *code, *text;
	} cases[] = {
		{400, "INVALID_JSON", "Bad Request"},
		{401, "UNAUTHORIZED", "Unauthorized"},
		{403, "INVALID_ORIGIN", "Forbidden"},
		{404, "NOT_FOUND", "Not Found"},
		{405, "METHOD_NOT_ALLOWED", "Method Not Allowed"},
		{409, "CONFLICT", "Conflict"},
		{413, "BODY_TOO_LARGE", "Content Too Large"},
		{415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type"},
		{422, "VALIDATION_FAILED", "Unprocessable Content"},
		{429, "TOO_MANY_REQUESTS", "Too Many Requests"},
		{500, "INTERNAL_ERROR", "Internal Server Error"},
		{503, "UNAVAILABLE", "Service Unavailable"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		is_str(http_status_code(cases[i].status), cases[i].code,
		       "http_status_code(%d)", cases[i].status);
		is_str(http_status_text(cases[i].status), cases[i].text,
		       "http_status_text(%d)", cases[i].status);
	}
	is_str(http_status_text(200), "OK", "http_status_text(200)");
	is_str(http_status_text(201), "Created", "http_status_text(201)");
	is_str(http_status_text(204), "No Content", "http_status_text(204)");
	is_str(http_status_text(304), "Not Modified", "http_status_text(304)");
	is_str(http_status_code(418), "INTERNAL_ERROR",
	       "unknown status maps to INTERNAL_ERROR");
	ok(http_status_text(418) != NULL && *http_status_text(418),
	   "unknown status has some reason text");
}

static void
test_methods(void)
{
	static const char *const names[] = {"GET",   "HEAD",   "POST",   "PUT",
					    "PATCH", "DELETE", "OPTIONS"};

	for (int m = 0; m < HTTP_METHOD_MAX; m++) {
		is_str(http_method_name((enum http_method)m), names[m],
		       "http_method_name(%d)", m);
		is_int(http_method_from_name(names[m]), m,
		       "http_method_from_name(%s)", names[m]);
	}
	is_int(http_method_from_name("get"), -1,
	       "method names are case-sensitive");
	is_int(http_method_from_name("TRACE"), -1, "TRACE unknown");
	is_int(http_method_from_name(""), -1, "empty method unknown");
	is_int(http_method_from_name("GETX"), -1, "GETX unknown");
	is_str(http_method_name(HTTP_METHOD_MAX), "?",
	       "out-of-range method name");
}

static void
test_request(void)
{
	char *env[] = {"HTTP_ORIGIN=https://example.com", "EMPTY=", NULL};
	struct request r;

	memset(&r, 0, sizeof(r));
	r.arena = arena;
	is_str(http_param(&r, "HTTP_ORIGIN"), NULL, "http_param without envp");
	r.envp = env;
	is_str(http_param(&r, "HTTP_ORIGIN"), "https://example.com",
	       "http_param");
	is_str(http_param(&r, "EMPTY"), "", "http_param of an empty value");
	is_str(http_param(&r, "HTTP_ORIGI"), NULL,
	       "http_param prefix is no match");
	is_str(http_param(&r, "NONE"), NULL, "http_param of a missing name");

	is_int(http_error(&r, 422, "bad", "title"), 422,
	       "http_error returns the status");
	ok(strcmp(r.err_code, "VALIDATION_FAILED") == 0 &&
		   strcmp(r.err_message, "bad") == 0 &&
		   strcmp(r.err_field, "title") == 0,
	   "http_error records the status's code, message and field");
	{
		/* Every status the contract names has its code. */
		static const struct {
			int status;
			const char *code;
		} table[] = {
			{400, "INVALID_JSON"},
			{401, "UNAUTHORIZED"},
			{403, "INVALID_ORIGIN"},
			{404, "NOT_FOUND"},
			{405, "METHOD_NOT_ALLOWED"},
			{409, "CONFLICT"},
			{413, "BODY_TOO_LARGE"},
			{415, "UNSUPPORTED_MEDIA_TYPE"},
			{422, "VALIDATION_FAILED"},
			{429, "TOO_MANY_REQUESTS"},
			{500, "INTERNAL_ERROR"},
			{503, "UNAVAILABLE"},
		};

		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
			http_error(&r, table[i].status, NULL, NULL);
			is_str(r.err_code, table[i].code,
			       "the contract's code for the status");
		}
	}
	is_int(http_bad_login(&r), 401, "http_bad_login is 401");
	is_str(r.err_code, "INVALID_EMAIL_OR_PASSWORD",
	       "http_bad_login's code");
	is_int(http_user_exists(&r), 422, "http_user_exists is 422");
	is_str(r.err_code, "USER_ALREADY_EXISTS", "http_user_exists's code");
	is_str(r.err_field, "email", "http_user_exists names email");
	is_int(http_no_todo(&r), 404, "http_no_todo is 404");
	is_int(http_if_match_failed(&r), 409, "http_if_match_failed is 409");
	is_str(r.err_code, "CONFLICT", "http_if_match_failed's code");
	is_int(http_body(&r, 201, "{}", 2), 201,
	       "http_body returns the status");
	ok(r.body && r.body_len == 2, "http_body records the body");

	for (int i = 0; i < HTTP_HEADERS_MAX + 3; i++)
		http_header(&r, "X-A", "b");
	is_int(r.nheaders, HTTP_HEADERS_MAX,
	       "headers capped at HTTP_HEADERS_MAX");

	memset(&r, 0, sizeof(r));
	is_int(http_from_errno(&r, -EAGAIN), 503, "-EAGAIN is 503");
	is_str(r.err_code, "UNAVAILABLE", "-EAGAIN is UNAVAILABLE");
	is_str(r.err_cause, "database unreachable", "-EAGAIN's cause");
	is_int(http_from_errno(&r, -EBUSY), 503, "-EBUSY is 503");
	is_str(r.err_cause, "contention", "-EBUSY's cause is contention");
	is_int(http_from_errno(&r, -EIO), 500, "-EIO is 500");
	is_str(r.err_code, "INTERNAL_ERROR", "-EIO is INTERNAL_ERROR");

	/* JSON body validation helpers. */
	{
		static const char *const allowed[] = {"title", "completed",
						      NULL};
		struct json_object *o = NULL, *v;
		const char *s = NULL;
		size_t sl = 0;

		memset(&r, 0, sizeof(r));
		r.arena = arena;
		json_parse(S("{\"title\":\"x\",\"completed\":true}"), 32, &o);
		is_int(http_json_known(&r, o, allowed), 0,
		       "known keys accepted");
		json_object_put(o);
		json_parse(S("{\"title\":\"x\",\"bogus\":1}"), 32, &o);
		is_int(http_json_known(&r, o, allowed), 422,
		       "unknown key is 422");
		is_str(r.err_field, "bogus", "unknown key named in field");
		json_object_put(o);

		json_parse(
			S("{\"a\":\"caf\\u00e9\",\"b\":1,\"c\":\"x\\u0000y\"}"),
			32, &o);
		json_object_object_get_ex(o, "a", &v);
		ok(http_json_string(&r, v, "a", &s, &sl) == 0 && sl == 5 &&
			   strcmp(s, "caf\xc3\xa9") == 0,
		   "http_json_string accepts UTF-8");
		json_object_object_get_ex(o, "b", &v);
		is_int(http_json_string(&r, v, "b", &s, &sl), 422,
		       "a number is not a string");
		is_str(r.err_field, "b", "the field is named");
		json_object_object_get_ex(o, "c", &v);
		is_int(http_json_string(&r, v, "c", &s, &sl), 422,
		       "a string with NUL is rejected");
		json_object_put(o);
	}
	arena_reset(arena);
}

static void
test_read_json(void)
{
	struct config cfg;
	struct request r;
	struct json_object *o = NULL;
	char *env_none[] = {NULL};
	char *env_text[] = {"CONTENT_TYPE=text/plain", NULL};
	char *env_big[] = {"CONTENT_TYPE=application/json",
			   "CONTENT_LENGTH=65537", NULL};
	char *env_badlen[] = {"CONTENT_TYPE=application/json",
			      "CONTENT_LENGTH=12x", NULL};
	char *env_ok[] = {"CONTENT_TYPE=application/json", "CONTENT_LENGTH=2",
			  NULL};

	memset(&cfg, 0, sizeof(cfg));
	cfg.body_limit = 65536;
	memset(&r, 0, sizeof(r));
	r.arena = arena;
	r.cfg = &cfg;

	r.envp = env_none;
	is_int(http_read_json(&r, &o), 415, "no Content-Type is 415");
	is_str(r.err_code, "UNSUPPORTED_MEDIA_TYPE", "415 code");
	r.envp = env_text;
	is_int(http_read_json(&r, &o), 415, "text/plain is 415");
	r.envp = env_big;
	is_int(http_read_json(&r, &o), 413,
	       "Content-Length over the limit is 413");
	is_str(r.err_code, "BODY_TOO_LARGE", "413 code");
	r.envp = env_badlen;
	is_int(http_read_json(&r, &o), 400, "bad Content-Length is 400");
	r.envp = env_ok;
	is_int(http_read_json(&r, &o), 400, "an empty body is 400");
	is_str(r.err_code, "INVALID_JSON", "400 code");
	arena_reset(arena);
}

int
main(void)
{
	arena = arena_new(4096);
	test_is_json();
	test_query();
	test_status();
	test_methods();
	test_request();
	test_read_json();
	arena_free(arena);
	return done();
}
