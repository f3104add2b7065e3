/* Fuzzes http_query_parse, the percent-decoder of QUERY_STRING, with one
 * arena reset after every input as the worker does after every request. A
 * bad escape drops the key or turns the value into NULL; only running out
 * of memory fails the whole string. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "arena.h"
#include "http.h"

static struct arena *arena;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena = arena_new(4096);
	if (!arena)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct query_param *params = NULL;
	size_t n = 0, amps = 0;
	int r = http_query_parse(arena, s, size, &params, &n);

	CHECK(r == 0 || r == -ENOMEM);
	if (r == 0) {
		for (size_t k = 0; k < size; k++)
			amps += s[k] == '&';
		CHECK(n <= amps + 1);
		for (size_t i = 0; i < n; i++) {
			/* Decoding only shrinks, and %00 and raw NUL are
			 * refused, so the C strings end where the lengths say. */
			CHECK(params[i].key != NULL);
			CHECK(params[i].key_len + params[i].value_len <= size);
			CHECK(strlen(params[i].key) == params[i].key_len);
			if (params[i].value)
				CHECK(strlen(params[i].value) ==
				      params[i].value_len);
			else
				CHECK(params[i].value_len == 0);
		}
	}
	arena_reset(arena);
	return 0;
}
