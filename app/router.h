/* Route lookup over a table of {method, pattern, handler, flags}. Patterns
 * are literal segments and ":name" parameters matching one non-empty
 * segment. Tells 404 (no path matched) from 405 (path matched, method did
 * not; the allowed methods are returned). */
#ifndef TODOD_ROUTER_H
#define TODOD_ROUTER_H

#include <stddef.h>

#include "http.h"

enum route_flags {
	ROUTE_AUTH = 1 << 0, /* needs a valid token (401 otherwise) */
	ROUTE_NOSTORE = 1 << 1, /* Cache-Control: no-store */
	ROUTE_PRIVATE = 1 << 2, /* Cache-Control: private, no-cache */
	/* Runs again when its database connection was lost under it, if
	 * running it twice ends in the same state: a POST with an
	 * Idempotency-Key, a PUT or PATCH without If-Match. */
	ROUTE_REPLAY = 1 << 3,
};

struct route {
	enum http_method method;
	const char *pattern;
	int (*handler)(struct request *r);
	unsigned flags;
};

/* Returns the matching route and fills params/param_len (pointers into
 * path, not NUL-terminated), or NULL with *ret_allowed set to a bitmask of
 * (1 << method) of the routes whose pattern matched (0: no such path). HEAD
 * matches GET routes. */
const struct route *router_match(const struct route *table, size_t n,
				 enum http_method method, const char *path,
				 size_t len,
				 const char *params[HTTP_PARAMS_MAX],
				 size_t param_len[HTTP_PARAMS_MAX],
				 unsigned *ret_allowed);
/* Writes "GET, HEAD, POST" for a bitmask into buf. */
void router_allow_header(unsigned allowed, char *buf, size_t size);

#endif
