/* Fuzzes str_trim (titles, header values): the result is a slice of the
 * input and only ASCII whitespace was cut from either end. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "util.h"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t len = size;
	const char *t = str_trim(s, &len);
	size_t head;

	CHECK(t >= s && t <= s + size);
	head = (size_t)(t - s);
	CHECK(len <= size - head);
	for (size_t i = 0; i < head; i++)
		CHECK(is_space(s[i]));
	for (size_t i = head + len; i < size; i++)
		CHECK(is_space(s[i]));
	if (len > 0)
		CHECK(!is_space(t[0]) && !is_space(t[len - 1]));
	return 0;
}
