/* Fuzzes parse_uint (Content-Length, limit/offset query values) against a
 * reference written the slow way. The first byte picks the maximum. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long long maxes[] = {
		0,
		1,
		5,
		9,
		10,
		15,
		99,
		100,
		1000,
		1048576,
		INT32_MAX,
		(long long)UINT32_MAX,
		999999999999999999LL,
		INT64_MAX - 1,
		INT64_MAX,
		-1,
		LLONG_MIN,
	};
	const char *s;
	unsigned long long want = 0;
	long long max, got = -1;
	bool ok;
	int r;

	if (size < 1)
		return 0;
	if (data[0] < 0x80) {
		max = maxes[data[0] % (sizeof(maxes) / sizeof(maxes[0]))];
		data++;
		size--;
	} else {
		/* Any 64-bit maximum, from the next eight bytes. */
		uint64_t m = 0;

		if (size < 9)
			return 0;
		memcpy(&m, data + 1, sizeof(m));
		max = (long long)m;
		data += 9;
		size -= 9;
	}
	s = (const char *)data;
	ok = size >= 1 && size <= 19 && max >= 0;
	for (size_t i = 0; ok && i < size; i++) {
		ok = s[i] >= '0' && s[i] <= '9';
		want = want * 10 + (unsigned)(s[i] - '0');
	}
	ok = ok && want <= (unsigned long long)max;
	r = parse_uint(s, size, max, &got);
	CHECK(r == 0 || r == -EINVAL);
	CHECK((r == 0) == ok);
	if (r == 0)
		CHECK(got >= 0 && (unsigned long long)got == want);
	else
		CHECK(got == -1);
	return 0;
}
