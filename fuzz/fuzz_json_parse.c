/* Fuzzes json_parse (json_check, then json-c in strict mode) the way
 * http_read_json calls it on a request body. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct json_object *obj = NULL;
	int r = json_parse(s, size, JSON_MAX_DEPTH, &obj);

	CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	/* The two parsers agree: what json_check accepts json-c parses (a
	 * valid body never becomes a 400), and nothing gets past json_check. */
	CHECK((r == 0) == (json_check(s, size, JSON_MAX_DEPTH) == 0) ||
	      r == -ENOMEM);
	if (r < 0) {
		CHECK(obj == NULL); /* outputs are untouched on failure */
		return 0;
	}
	/* Walk the tree the way handlers do: serialising touches every node. */
	(void)json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	json_object_put(obj);
	return 0;
}
