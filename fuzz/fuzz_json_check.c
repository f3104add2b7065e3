/* Fuzzes json_check, the strict RFC 8259 syntax check that runs on every
 * request body before json-c sees it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int shallow = json_check(s, size, 1);
	int deep = json_check(s, size, JSON_MAX_DEPTH);

	CHECK(shallow == 0 || shallow == -EINVAL);
	CHECK(deep == 0 || deep == -EINVAL);
	/* A depth limit only ever rejects more. */
	CHECK(shallow < 0 || deep == 0);
	if (deep == 0)
		CHECK(json_check(s, size, 4 * JSON_MAX_DEPTH) == 0);
	return 0;
}
