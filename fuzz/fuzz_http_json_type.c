/* Fuzzes http_is_json_type, the Content-Type check in front of every body. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "fuzz.h"
#include "http.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char want[] = "application/json";
	const char *s = (const char *)data;
	size_t i = 0;

	if (!http_is_json_type(s, size))
		return 0;
	/* Accepted: optional blanks, the media type in any case, optional
	 * blanks, then the end or parameters after ';'. */
	while (i < size && (s[i] == ' ' || s[i] == '\t'))
		i++;
	CHECK(size - i >= sizeof(want) - 1);
	CHECK(strncasecmp(s + i, want, sizeof(want) - 1) == 0);
	i += sizeof(want) - 1;
	while (i < size && (s[i] == ' ' || s[i] == '\t'))
		i++;
	CHECK(i == size || s[i] == ';');
	return 0;
}
