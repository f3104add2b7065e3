/* Fuzzes utf8_count (title and description lengths) against libunistring,
 * which the service already links for normalisation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <unistr.h>

#include "fuzz.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long n = utf8_count((const char *)data, size);
	bool valid = u8_check(data, size) == NULL;

	CHECK(n >= -1 && (n < 0 || (size_t)n <= size));
	CHECK((n >= 0) == valid);
	if (valid)
		CHECK((size_t)n == u8_mbsnlen(data, size));
	return 0;
}
