/* Fuzzes parse_id (path parameters such as /api/todos/:id) against a
 * reference written the slow way. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	unsigned long long want = 0;
	bool ok = size >= 1 && size <= 19 && s[0] != '0';
	long long got = -1;
	int r = parse_id(s, size, &got);

	/* At most 19 digits cannot overflow 64 unsigned bits. */
	for (size_t i = 0; ok && i < size; i++) {
		ok = s[i] >= '0' && s[i] <= '9';
		want = want * 10 + (unsigned)(s[i] - '0');
	}
	ok = ok && want <= INT64_MAX;
	CHECK(r == 0 || r == -EINVAL);
	CHECK((r == 0) == ok);
	if (r == 0)
		CHECK(got > 0 && (unsigned long long)got == want);
	else
		CHECK(got == -1);
	return 0;
}
