/* Fuzzes rfc3339_parse (due dates in todo bodies); every accepted time must
 * lie in the DATETIME range and survive a round trip through time_format. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char text[TIME_STR_LEN + 1];
	long long ms = -1, again = -1;
	int r = rfc3339_parse(s, size, &ms);

	CHECK(r == 0 || r == -EINVAL);
	if (r < 0) {
		CHECK(ms == -1);
		return 0;
	}
	CHECK(ms >= days_from_civil(1000, 1, 1) * 86400000LL);
	CHECK(ms < days_from_civil(10000, 1, 1) * 86400000LL);
	time_format(ms, text);
	CHECK(strlen(text) == TIME_STR_LEN);
	CHECK(rfc3339_parse(text, TIME_STR_LEN, &again) == 0);
	CHECK(again == ms);
	return 0;
}
