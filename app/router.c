/* Table-driven route lookup with 404/405 distinction. */
#include "router.h"

#include <stdbool.h>
#include <string.h>

static bool pattern_match(const char *pat, const char *path, size_t len,
			  const char *params[HTTP_PARAMS_MAX],
			  size_t param_len[HTTP_PARAMS_MAX]);

static bool
pattern_match(const char *pat, const char *path, size_t len,
	      const char *params[HTTP_PARAMS_MAX],
	      size_t param_len[HTTP_PARAMS_MAX])
{
	size_t i = 0;
	int np = 0;

	while (*pat) {
		if (*pat == ':') {
			size_t start = i;

			while (*pat && *pat != '/')
				pat++;
			while (i < len && path[i] != '/')
				i++;
			if (i == start || np == HTTP_PARAMS_MAX)
				return false;
			params[np] = path + start;
			param_len[np] = i - start;
			np++;
			continue;
		}
		if (i >= len || path[i] != *pat)
			return false;
		pat++;
		i++;
	}
	return i == len;
}

const struct route *
router_match(const struct route *table, size_t n, enum http_method method,
	     const char *path, size_t len, const char *params[HTTP_PARAMS_MAX],
	     size_t param_len[HTTP_PARAMS_MAX], unsigned *ret_allowed)
{
	enum http_method want = method == HTTP_HEAD ? HTTP_GET : method;
	const char *p[HTTP_PARAMS_MAX] = {0};
	size_t pl[HTTP_PARAMS_MAX] = {0};
	unsigned allowed = 0;

	for (size_t i = 0; i < n; i++) {
		if (!pattern_match(table[i].pattern, path, len, p, pl))
			continue;
		if (table[i].method == want) {
			memcpy(params, p, sizeof(p));
			memcpy(param_len, pl, sizeof(pl));
			return &table[i];
		}
		allowed |= 1u << table[i].method;
		if (table[i].method == HTTP_GET)
			allowed |= 1u << HTTP_HEAD;
	}
	*ret_allowed = allowed;
	return NULL;
}

void
router_allow_header(unsigned allowed, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int m = 0; m < HTTP_METHOD_MAX; m++) {
		const char *name = http_method_name((enum http_method)m);
		size_t nl = strlen(name);

		if (!(allowed & (1u << m)))
			continue;
		if (off + nl + 3 > size)
			break;
		if (off) {
			memcpy(buf + off, ", ", 2);
			off += 2;
		}
		memcpy(buf + off, name, nl);
		off += nl;
		buf[off] = '\0';
	}
}
