/* Unit tests for router.c over a table of our own (parameters, 404 vs 405,
 * HEAD, trailing slashes, empty segments, the Allow header) and for the
 * service's real table in routes.c (every route of the contract). */
#include <string.h>

#include "router.h"
#include "routes.h"
#include "tap.h"

#define BIT(m) (1u << (m))

static int h_list(struct request *r);
static int h_create(struct request *r);
static int h_get(struct request *r);
static int h_put(struct request *r);
static int h_patch(struct request *r);
static int h_delete(struct request *r);
static int h_sub(struct request *r);
static const struct route *match(const struct route *t, size_t n,
				 enum http_method m, const char *path);
static void test_match(void);
static void test_404_405(void);
static void test_edges(void);
static void test_allow(void);
static void test_real_table(void);

static int
h_list(struct request *r)
{
	(void)r;
	return 1;
}

static int
h_create(struct request *r)
{
	(void)r;
	return 2;
}

static int
h_get(struct request *r)
{
	(void)r;
	return 3;
}

static int
h_put(struct request *r)
{
	(void)r;
	return 4;
}

static int
h_patch(struct request *r)
{
	(void)r;
	return 5;
}

static int
h_delete(struct request *r)
{
	(void)r;
	return 6;
}

static int
h_sub(struct request *r)
{
	(void)r;
	return 7;
}

static const struct route table[] = {
	{HTTP_GET, "/api/todos", h_list, ROUTE_AUTH},
	{HTTP_POST, "/api/todos", h_create, ROUTE_AUTH},
	{HTTP_GET, "/api/todos/:id", h_get, ROUTE_AUTH},
	{HTTP_PUT, "/api/todos/:id", h_put, ROUTE_AUTH},
	{HTTP_PATCH, "/api/todos/:id", h_patch, ROUTE_AUTH},
	{HTTP_DELETE, "/api/todos/:id", h_delete, ROUTE_AUTH},
	{HTTP_GET, "/api/lists/:list/items/:item", h_sub, 0},
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

static const char *params[HTTP_PARAMS_MAX];
static size_t param_len[HTTP_PARAMS_MAX];
static unsigned allowed;

static const struct route *
match(const struct route *t, size_t n, enum http_method m, const char *path)
{
	memset(params, 0, sizeof(params));
	memset(param_len, 0, sizeof(param_len));
	allowed = 0xdeadu;
	return router_match(t, n, m, path, strlen(path), params, param_len,
			    &allowed);
}

#define PARAM_IS(i, s)                             \
	(params[i] && param_len[i] == strlen(s) && \
	 memcmp(params[i], s, strlen(s)) == 0)

static void
test_match(void)
{
	const struct route *rt;
	const char *path;

	rt = match(table, NTABLE, HTTP_GET, "/api/todos");
	ok(rt && rt->handler == h_list, "GET /api/todos -> list");
	rt = match(table, NTABLE, HTTP_POST, "/api/todos");
	ok(rt && rt->handler == h_create, "POST /api/todos -> create");

	rt = match(table, NTABLE, HTTP_GET, "/api/todos/17");
	ok(rt && rt->handler == h_get, "GET /api/todos/17 -> get");
	ok(PARAM_IS(0, "17"), "param is \"17\"");
	rt = match(table, NTABLE, HTTP_PUT, "/api/todos/17");
	ok(rt && rt->handler == h_put && PARAM_IS(0, "17"),
	   "PUT /api/todos/17");
	rt = match(table, NTABLE, HTTP_PATCH, "/api/todos/9223372036854775807");
	ok(rt && rt->handler == h_patch && PARAM_IS(0, "9223372036854775807"),
	   "PATCH with a long id");
	rt = match(table, NTABLE, HTTP_DELETE, "/api/todos/abc");
	ok(rt && rt->handler == h_delete && PARAM_IS(0, "abc"),
	   "DELETE: the router does not validate the id's form");
	rt = match(table, NTABLE, HTTP_GET, "/api/todos/%41b");
	ok(rt && PARAM_IS(0, "%41b"), "params are raw, not decoded");

	path = "/api/todos/42";
	rt = router_match(table, NTABLE, HTTP_GET, path, strlen(path), params,
			  param_len, &allowed);
	ok(rt && params[0] == path + 11 && param_len[0] == 2,
	   "param points into the path");

	rt = match(table, NTABLE, HTTP_GET, "/api/lists/a1/items/b22");
	ok(rt && rt->handler == h_sub && PARAM_IS(0, "a1") &&
		   PARAM_IS(1, "b22"),
	   "two params in order");

	/* HEAD matches GET routes. */
	rt = match(table, NTABLE, HTTP_HEAD, "/api/todos");
	ok(rt && rt->handler == h_list, "HEAD /api/todos -> list");
	rt = match(table, NTABLE, HTTP_HEAD, "/api/todos/5");
	ok(rt && rt->handler == h_get && PARAM_IS(0, "5"),
	   "HEAD /api/todos/5 -> get");

	/* The path length bounds the match. */
	path = "/api/todos/42";
	rt = router_match(table, NTABLE, HTTP_GET, path, 10, params, param_len,
			  &allowed);
	ok(rt && rt->handler == h_list,
	   "len 10 of /api/todos/42 is /api/todos");
}

static void
test_404_405(void)
{
	const struct route *rt;

	rt = match(table, NTABLE, HTTP_GET, "/api/nothing");
	ok(rt == NULL && allowed == 0, "unknown path: 404 (allowed 0)");
	rt = match(table, NTABLE, HTTP_GET, "/");
	ok(rt == NULL && allowed == 0, "/: 404");
	rt = match(table, NTABLE, HTTP_GET, "");
	ok(rt == NULL && allowed == 0, "empty path: 404");
	rt = match(table, NTABLE, HTTP_GET, "/api/todosx");
	ok(rt == NULL && allowed == 0, "/api/todosx: 404");
	rt = match(table, NTABLE, HTTP_GET, "/api/todo");
	ok(rt == NULL && allowed == 0, "/api/todo: 404");
	rt = match(table, NTABLE, HTTP_GET, "/API/todos");
	ok(rt == NULL && allowed == 0, "paths are case-sensitive");
	rt = match(table, NTABLE, HTTP_GET, "/api/todos/1/extra");
	ok(rt == NULL && allowed == 0, "extra segment: 404");

	rt = match(table, NTABLE, HTTP_DELETE, "/api/todos");
	ok(rt == NULL, "DELETE /api/todos: no route");
	is_int(allowed, BIT(HTTP_GET) | BIT(HTTP_HEAD) | BIT(HTTP_POST),
	       "DELETE /api/todos: 405 allowing GET, HEAD, POST");
	rt = match(table, NTABLE, HTTP_POST, "/api/todos/3");
	ok(rt == NULL, "POST /api/todos/3: no route");
	is_int(allowed,
	       BIT(HTTP_GET) | BIT(HTTP_HEAD) | BIT(HTTP_PUT) |
		       BIT(HTTP_PATCH) | BIT(HTTP_DELETE),
	       "POST /api/todos/3: 405 allowing GET, HEAD, PUT, PATCH, DELETE");
	rt = match(table, NTABLE, HTTP_OPTIONS, "/api/todos");
	ok(rt == NULL &&
		   allowed == (BIT(HTTP_GET) | BIT(HTTP_HEAD) | BIT(HTTP_POST)),
	   "OPTIONS /api/todos: 405");
	rt = match(table, NTABLE, HTTP_POST, "/api/lists/x/items/y");
	ok(rt == NULL && allowed == (BIT(HTTP_GET) | BIT(HTTP_HEAD)),
	   "POST on a GET-only route: 405 allowing GET, HEAD");
	rt = match(table, 0, HTTP_GET, "/api/todos");
	ok(rt == NULL && allowed == 0, "empty table: 404");
}

static void
test_edges(void)
{
	const struct route *rt;

	rt = match(table, NTABLE, HTTP_GET, "/api/todos/");
	ok(rt == NULL && allowed == 0, "trailing slash /api/todos/: 404");
	rt = match(table, NTABLE, HTTP_GET, "/api/todos/5/");
	ok(rt == NULL && allowed == 0, "trailing slash /api/todos/5/: 404");
	rt = match(table, NTABLE, HTTP_GET, "/api/todos//");
	ok(rt == NULL && allowed == 0, "/api/todos//: 404");
	rt = match(table, NTABLE, HTTP_GET, "/api/lists//items/1");
	ok(rt == NULL && allowed == 0, "empty first param: 404");
	rt = match(table, NTABLE, HTTP_GET, "/api/lists/1/items/");
	ok(rt == NULL && allowed == 0, "empty last param: 404");
	rt = match(table, NTABLE, HTTP_GET, "//api/todos");
	ok(rt == NULL && allowed == 0, "double leading slash: 404");
	rt = match(table, NTABLE, HTTP_GET, "/api//todos");
	ok(rt == NULL && allowed == 0, "double inner slash: 404");
	rt = match(table, NTABLE, HTTP_GET, "api/todos");
	ok(rt == NULL && allowed == 0, "no leading slash: 404");
	rt = match(table, NTABLE, HTTP_GET, "/api/todos?x=1");
	ok(rt == NULL && allowed == 0, "query string is not part of the path");

	/* More parameters than HTTP_PARAMS_MAX never match. */
	{
		static const struct route many[] = {
			{HTTP_GET, "/:a/:b/:c/:d/:e", h_sub, 0},
			{HTTP_GET, "/:a/:b/:c/:d", h_get, 0},
		};
		rt = match(many, 2, HTTP_GET, "/1/2/3/4/5");
		ok(rt == NULL && allowed == 0, "five params do not match");
		rt = match(many, 2, HTTP_GET, "/1/2/3/4");
		ok(rt && rt->handler == h_get && PARAM_IS(0, "1") &&
			   PARAM_IS(3, "4"),
		   "four params match");
	}
	/* The first matching route wins. */
	{
		static const struct route order[] = {
			{HTTP_GET, "/x/:id", h_get, 0},
			{HTTP_GET, "/x/new", h_create, 0},
		};
		rt = match(order, 2, HTTP_GET, "/x/new");
		ok(rt && rt->handler == h_get, "table order decides");
	}
}

static void
test_allow(void)
{
	char buf[128];
	char tiny[8];

	router_allow_header(BIT(HTTP_GET) | BIT(HTTP_HEAD) | BIT(HTTP_POST),
			    buf, sizeof(buf));
	is_str(buf, "GET, HEAD, POST", "Allow: GET, HEAD, POST");
	router_allow_header(BIT(HTTP_GET) | BIT(HTTP_HEAD) | BIT(HTTP_PUT) |
				    BIT(HTTP_PATCH) | BIT(HTTP_DELETE),
			    buf, sizeof(buf));
	is_str(buf, "GET, HEAD, PUT, PATCH, DELETE",
	       "Allow for /api/todos/:id");
	router_allow_header(BIT(HTTP_POST), buf, sizeof(buf));
	is_str(buf, "POST", "Allow: POST");
	router_allow_header(BIT(HTTP_DELETE) | BIT(HTTP_GET), buf, sizeof(buf));
	is_str(buf, "GET, DELETE", "Allow lists in method order");
	router_allow_header(0, buf, sizeof(buf));
	is_str(buf, "", "no methods: empty");
	router_allow_header((1u << HTTP_METHOD_MAX) - 1, buf, sizeof(buf));
	is_str(buf, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
	       "all methods");

	/* A small buffer truncates at a method boundary, NUL-terminated. */
	memset(tiny, 'X', sizeof(tiny));
	router_allow_header(BIT(HTTP_GET) | BIT(HTTP_HEAD) | BIT(HTTP_POST),
			    tiny, sizeof(tiny));
	ok(memchr(tiny, '\0', sizeof(tiny)) != NULL,
	   "small buffer NUL-terminated");
	is_str(tiny, "GET", "small buffer holds whole names only");

	/* The allowed mask from a 405 renders directly. */
	match(table, NTABLE, HTTP_DELETE, "/api/todos");
	router_allow_header(allowed, buf, sizeof(buf));
	is_str(buf, "GET, HEAD, POST", "405 mask of /api/todos renders");
}

static void
test_real_table(void)
{
	static const struct {
		enum http_method method;
		const char *path, *pattern, *param;
		unsigned flags;
	} cases[] = {
		{HTTP_GET, "/api/health", "/api/health", NULL, ROUTE_NOSTORE},
		{HTTP_GET, "/api/metrics", "/api/metrics", NULL, ROUTE_NOSTORE},
		{HTTP_POST, "/api/auth/sign-up/email",
		 "/api/auth/sign-up/email", NULL, ROUTE_NOSTORE},
		{HTTP_POST, "/api/auth/sign-in/email",
		 "/api/auth/sign-in/email", NULL, ROUTE_NOSTORE},
		{HTTP_POST, "/api/auth/sign-out", "/api/auth/sign-out", NULL,
		 ROUTE_NOSTORE},
		{HTTP_GET, "/api/auth/get-session", "/api/auth/get-session",
		 NULL, ROUTE_NOSTORE},
		{HTTP_GET, "/api/auth/token", "/api/auth/token", NULL,
		 ROUTE_NOSTORE},
		{HTTP_POST, "/api/auth/change-password",
		 "/api/auth/change-password", NULL, ROUTE_AUTH | ROUTE_NOSTORE},
		{HTTP_POST, "/api/auth/update-user", "/api/auth/update-user",
		 NULL, ROUTE_AUTH | ROUTE_NOSTORE},
		{HTTP_POST, "/api/auth/delete-user", "/api/auth/delete-user",
		 NULL, ROUTE_AUTH | ROUTE_NOSTORE},
		{HTTP_POST, "/api/auth/revoke-sessions",
		 "/api/auth/revoke-sessions", NULL, ROUTE_AUTH | ROUTE_NOSTORE},
		{HTTP_GET, "/api/todos", "/api/todos", NULL,
		 ROUTE_AUTH | ROUTE_PRIVATE},
		{HTTP_POST, "/api/todos", "/api/todos", NULL,
		 ROUTE_AUTH | ROUTE_PRIVATE | ROUTE_REPLAY},
		{HTTP_GET, "/api/todos/17", "/api/todos/:id", "17",
		 ROUTE_AUTH | ROUTE_PRIVATE},
		{HTTP_PUT, "/api/todos/17", "/api/todos/:id", "17",
		 ROUTE_AUTH | ROUTE_PRIVATE | ROUTE_REPLAY},
		{HTTP_PATCH, "/api/todos/17", "/api/todos/:id", "17",
		 ROUTE_AUTH | ROUTE_PRIVATE | ROUTE_REPLAY},
		{HTTP_DELETE, "/api/todos/17", "/api/todos/:id", "17",
		 ROUTE_AUTH | ROUTE_PRIVATE},
	};
	const struct route *t = routes_table();
	size_t n = routes_count();
	const struct route *rt;
	char buf[128];

	is_int(n, sizeof(cases) / sizeof(cases[0]), "routes_count()");
	for (size_t i = 0; i < n; i++)
		ok(t[i].handler != NULL && t[i].pattern != NULL &&
			   t[i].pattern[0] == '/',
		   "route %zu has a handler and an absolute pattern", i);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = http_method_name(cases[i].method);

		rt = match(t, n, cases[i].method, cases[i].path);
		ok(rt && rt->method == cases[i].method &&
			   strcmp(rt->pattern, cases[i].pattern) == 0,
		   "%s %s matches %s", name, cases[i].path, cases[i].pattern);
		ok(rt && rt->flags == cases[i].flags, "%s %s flags", name,
		   cases[i].path);
		if (cases[i].param)
			ok(PARAM_IS(0, cases[i].param), "%s %s param", name,
			   cases[i].path);
	}
	/* Todo routes need authentication; auth routes are no-store. */
	for (size_t i = 0; i < n; i++) {
		if (strncmp(t[i].pattern, "/api/todos", 10) == 0)
			ok(t[i].flags & ROUTE_AUTH, "%s needs auth",
			   t[i].pattern);
		else
			ok(t[i].flags & ROUTE_NOSTORE, "%s is no-store",
			   t[i].pattern);
	}

	rt = match(t, n, HTTP_HEAD, "/api/health");
	ok(rt && rt->method == HTTP_GET, "HEAD /api/health -> GET route");
	rt = match(t, n, HTTP_HEAD, "/api/todos/1");
	ok(rt && rt->method == HTTP_GET, "HEAD /api/todos/1 -> GET route");

	rt = match(t, n, HTTP_DELETE, "/api/todos");
	router_allow_header(allowed, buf, sizeof(buf));
	ok(rt == NULL, "DELETE /api/todos: 405");
	is_str(buf, "GET, HEAD, POST", "DELETE /api/todos: Allow");
	rt = match(t, n, HTTP_POST, "/api/todos/1");
	router_allow_header(allowed, buf, sizeof(buf));
	ok(rt == NULL, "POST /api/todos/1: 405");
	is_str(buf, "GET, HEAD, PUT, PATCH, DELETE",
	       "POST /api/todos/1: Allow");
	rt = match(t, n, HTTP_GET, "/api/auth/sign-in/email");
	router_allow_header(allowed, buf, sizeof(buf));
	ok(rt == NULL, "GET /api/auth/sign-in/email: 405");
	is_str(buf, "POST", "GET /api/auth/sign-in/email: Allow POST");
	rt = match(t, n, HTTP_POST, "/api/health");
	router_allow_header(allowed, buf, sizeof(buf));
	ok(rt == NULL, "POST /api/health: 405");
	is_str(buf, "GET, HEAD", "POST /api/health: Allow GET, HEAD");
	rt = match(t, n, HTTP_PUT, "/api/auth/token");
	router_allow_header(allowed, buf, sizeof(buf));
	is_str(buf, "GET, HEAD", "PUT /api/auth/token: Allow GET, HEAD");

	rt = match(t, n, HTTP_GET, "/api/todos/");
	ok(rt == NULL && allowed == 0, "GET /api/todos/: 404");
	rt = match(t, n, HTTP_GET, "/api/health/");
	ok(rt == NULL && allowed == 0, "GET /api/health/: 404");
	rt = match(t, n, HTTP_GET, "/api/auth");
	ok(rt == NULL && allowed == 0, "GET /api/auth: 404");
	rt = match(t, n, HTTP_GET, "/api/auth/sign-up");
	ok(rt == NULL && allowed == 0, "GET /api/auth/sign-up: 404");
	rt = match(t, n, HTTP_GET, "/api/todos/1/2");
	ok(rt == NULL && allowed == 0, "GET /api/todos/1/2: 404");
	rt = match(t, n, HTTP_GET, "/todos");
	ok(rt == NULL && allowed == 0, "GET /todos: 404");
}

int
main(void)
{
	test_match();
	test_404_405();
	test_edges();
	test_allow();
	test_real_table();
	return done();
}
