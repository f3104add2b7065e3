/* Fuzzes router_match over the service's own route table. Input: one byte
 * for the method, then the path. A match must rebuild the path from its
 * pattern and parameters; a miss must not list the method as allowed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "router.h"
#include "routes.h"

static bool rebuilds(const char *pat, const char *path, size_t len,
		     const char *const params[HTTP_PARAMS_MAX],
		     const size_t param_len[HTTP_PARAMS_MAX]);
/* Substitutes the parameters into the pattern and compares with path. */
static bool
rebuilds(const char *pat, const char *path, size_t len,
	 const char *const params[HTTP_PARAMS_MAX],
	 const size_t param_len[HTTP_PARAMS_MAX])
{
	size_t i = 0;
	int np = 0;

	while (*pat) {
		if (*pat != ':') {
			if (i >= len || path[i] != *pat)
				return false;
			pat++;
			i++;
			continue;
		}
		while (*pat && *pat != '/')
			pat++;
		if (np == HTTP_PARAMS_MAX || param_len[np] == 0 ||
		    params[np] != path + i || param_len[np] > len - i ||
		    memchr(params[np], '/', param_len[np]))
			return false;
		i += param_len[np++];
	}
	return i == len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct route *table = routes_table(), *rt, *head;
	size_t n = routes_count();
	const char *params[HTTP_PARAMS_MAX], *hp[HTTP_PARAMS_MAX];
	size_t param_len[HTTP_PARAMS_MAX], hl[HTTP_PARAMS_MAX];
	unsigned allowed = 0xdead, hallowed = 0xdead, all = 0;
	enum http_method m;
	const char *path;
	char allow[128];

	if (size < 1)
		return 0;
	m = (enum http_method)(data[0] % HTTP_METHOD_MAX);
	path = (const char *)data + 1;
	size--;
	for (size_t i = 0; i < n; i++)
		all |= 1u << table[i].method;
	if (all & (1u << HTTP_GET))
		all |= 1u << HTTP_HEAD;

	rt = router_match(table, n, m, path, size, params, param_len, &allowed);
	if (rt) {
		CHECK(rt >= table && rt < table + n);
		CHECK(rt->method == (m == HTTP_HEAD ? HTTP_GET : m));
		CHECK(rebuilds(rt->pattern, path, size, params, param_len));
	} else {
		CHECK((allowed & ~all) == 0);
		CHECK(!(allowed & (1u << m)));
		router_allow_header(allowed, allow, sizeof(allow));
		CHECK(strlen(allow) < sizeof(allow));
		CHECK((allowed == 0) == (allow[0] == '\0'));
	}
	/* HEAD is answered by the GET route, with the same parameters. */
	if (m == HTTP_GET) {
		head = router_match(table, n, HTTP_HEAD, path, size, hp, hl,
				    &hallowed);
		CHECK(head == rt);
		if (rt) {
			CHECK(memcmp(hp, params, sizeof(hp)) == 0);
			CHECK(memcmp(hl, param_len, sizeof(hl)) == 0);
		} else {
			CHECK(hallowed == allowed);
		}
	}
	return 0;
}
