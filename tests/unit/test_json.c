/* Unit tests for json.c: the depth-limited parser (valid documents, trailing
 * garbage, truncation, depth at and over the limit) and the jbuf writer
 * (escaping, separators, growth). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "json.h"
#include "util.h"
#include "tap.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/* A known bug in app/: reported as TAP "TODO" so the suite stays green
 * while it is open, and turns into an unexpected pass once fixed. */
static int parses(const char *s, size_t len, int depth);
static int deep(int n, const char *open, const char *leaf, const char *close,
		int depth);
static void test_parse_valid(void);
static void test_parse_invalid(void);
static void test_depth(void);
static void test_writer_escape(void);
static void test_writer_sep(void);
static void test_writer_grow(void);
static void test_surrogates(void);

/* 1 when buf parses, 0 when json_parse returns -EINVAL, -1 otherwise. */
static int
parses(const char *s, size_t len, int depth)
{
	struct json_object *o = NULL;
	int r = json_parse(s, len, depth, &o);

	if (r == 0) {
		json_object_put(o);
		return 1;
	}
	return r == -EINVAL ? 0 : -1;
}

/* parses() of n nestings of open ... close around leaf. */
static int
deep(int n, const char *open, const char *leaf, const char *close, int depth)
{
	char buf[2048];
	size_t len = 0, ol = strlen(open), ll = strlen(leaf),
	       cl = strlen(close);

	if ((size_t)n * (ol + cl) + ll > sizeof(buf))
		return -1;
	for (int i = 0; i < n; i++, len += ol)
		memcpy(buf + len, open, ol);
	memcpy(buf + len, leaf, ll);
	len += ll;
	for (int i = 0; i < n; i++, len += cl)
		memcpy(buf + len, close, cl);
	return parses(buf, len, depth);
}

static void
test_parse_valid(void)
{
	struct json_object *o = NULL, *v;
	const char *doc =
		"{\"title\":\"Buy milk\",\"done\":false,\"n\":42,"
		"\"tags\":[\"a\",\"b\"],\"x\":null,\"u\":\"\\u00e9\\n\"}";

	is_int(json_parse(doc, strlen(doc), JSON_MAX_DEPTH, &o), 0,
	       "parse an object");
	ok(o && json_object_is_type(o, json_type_object),
	   "result is an object");
	ok(o && json_object_object_get_ex(o, "title", &v) &&
		   strcmp(json_object_get_string(v), "Buy milk") == 0,
	   "string member");
	ok(o && json_object_object_get_ex(o, "done", &v) &&
		   json_object_is_type(v, json_type_boolean) &&
		   !json_object_get_boolean(v),
	   "boolean member");
	ok(o && json_object_object_get_ex(o, "n", &v) &&
		   json_object_get_int64(v) == 42,
	   "integer member");
	ok(o && json_object_object_get_ex(o, "tags", &v) &&
		   json_object_array_length(v) == 2,
	   "array member");
	ok(o && json_object_object_get_ex(o, "u", &v) &&
		   strcmp(json_object_get_string(v), "\xc3\xa9\n") == 0,
	   "\\u escapes decoded");
	json_object_put(o);

	o = NULL;
	is_int(json_parse(S("[1, 2, 3]"), JSON_MAX_DEPTH, &o), 0,
	       "parse an array");
	ok(o && json_object_is_type(o, json_type_array) &&
		   json_object_array_length(o) == 3,
	   "array of three");
	json_object_put(o);

	is_int(parses(S("{}"), 32), 1, "empty object");
	is_int(parses(S("[]"), 32), 1, "empty array");
	is_int(parses(S("  {\"a\" : 1 }  \r\n\t"), 32), 1,
	       "whitespace around the value");
	is_int(parses(S("123"), 32), 1, "a bare number (ends at end of input)");
	is_int(parses(S("-1.5e3"), 32), 1, "a bare number with exponent");
	is_int(parses(S("\"x\""), 32), 1, "a bare string");
	is_int(parses(S("true"), 32), 1, "true");
	is_int(parses(S("{\"a\":null}"), 32), 1, "null member");
	is_int(parses(S("{\"a\":\"\\u0000\"}"), 32), 1,
	       "escaped NUL in a string");
	ok(parses(S("null"), 32) == 1, "top-level null is a JSON value");
}

static void
test_parse_invalid(void)
{
	struct json_object *sentinel = json_object_new_int(7), *o = sentinel;
	char big[64];

	is_int(json_parse(S("{} x"), 32, &o), -EINVAL,
	       "trailing garbage `{} x`");
	ok(o == sentinel, "*ret untouched on failure");
	json_object_put(sentinel);
	is_int(parses(S("{}x"), 32), 0, "trailing garbage `{}x`");
	is_int(parses(S("{} {}"), 32), 0, "two values");
	is_int(parses(S("[] []"), 32), 0, "two arrays");
	is_int(parses(S("1 2"), 32), 0, "two numbers");
	is_int(parses(S("123abc"), 32), 0, "number then letters");
	is_int(parses("{}\0", 3, 32), 0, "NUL after the value");
	is_int(parses("{\"a\":1}\0{", 9, 32), 0,
	       "NUL then more after the value");
	is_int(parses(S("{\"a\":"), 32), 0, "truncated `{\"a\":`");
	is_int(parses(S("{\"a\":1"), 32), 0, "truncated `{\"a\":1`");
	is_int(parses(S("{\"a\""), 32), 0, "truncated `{\"a\"`");
	is_int(parses(S("["), 32), 0, "truncated `[`");
	is_int(parses(S("\"abc"), 32), 0, "unterminated string");
	is_int(parses(S("tru"), 32), 0, "truncated literal");
	is_int(parses(S("-"), 32), 0, "lone minus");
	is_int(parses("", 0, 32), 0, "empty input");
	is_int(parses(S("   \n"), 32), 0, "whitespace only");
	is_int(parses(S("{\"a\":1,}"), 32), 0, "trailing comma in object");
	is_int(parses(S("[1,]"), 32), 0, "trailing comma in array");
	is_int(parses(S("{a:1}"), 32), 0, "unquoted key");
	is_int(parses(S("{\"a\":'b'}"), 32), 0, "single-quoted string value");
	is_int(parses(S("['x']"), 32), 0, "single-quoted array element");
	is_int(parses(S("[True]"), 32), 0, "capitalised literal");
	is_int(parses(S("[+1]"), 32), 0, "number with a plus sign");
	is_int(parses(S("[nan]"), 32), 0, "lower-case nan");
	is_int(parses(S("/*c*/{}"), 32), 0, "comment");
	is_int(parses(S("[01]"), 32), 0, "leading zero");
	is_int(parses(S("[.5]"), 32), 0, "number starting with a dot");
	is_int(parses(S("[0x1]"), 32), 0, "hex number");
	is_int(parses(S("\"\\x\""), 32), 0, "bad escape");
	is_int(parses(S("\xef\xbb\xbf{}"), 32), 0, "byte order mark");
	is_int(parses(S("nul"), 32), 0, "truncated null");
	/* The length bounds the input: a valid prefix followed by more bytes. */
	is_int(parses("{\"a\":1}", 6, 32), 0, "len cuts the closing brace");
	strcpy(big, "[1]   ");
	is_int(parses(big, 3, 32), 1, "len excludes trailing bytes");

	ok(parses(S("NaN"), 32) == 0, "NaN rejected");
	ok(parses(S("{\"a\":Infinity}"), 32) == 0, "Infinity rejected");
	ok(parses(S("[-Infinity]"), 32) == 0, "-Infinity rejected");
	ok(parses(S("[1.]"), 32) == 0, "`1.` rejected");
	ok(parses(S("{\"a\":\"x\ty\"}"), 32) == 0,
	   "raw TAB inside a string rejected");
	ok(parses(S("{'a':1}"), 32) == 0, "single-quoted key rejected");
	ok(parses(S("[\"\x01\"]"), 32) == 0,
	   "raw U+0001 inside a string rejected");
}

static void
test_depth(void)
{
	is_int(deep(32, "[", "", "]", 32), 1,
	       "32 nested arrays accepted with max_depth 32");
	is_int(deep(33, "[", "", "]", 32), 0,
	       "33 nested arrays rejected with max_depth 32");
	is_int(deep(100, "[", "", "]", 32), 0, "100 nested arrays rejected");
	is_int(deep(31, "{\"a\":", "{}", "}", 32), 1,
	       "32 nested objects accepted");
	is_int(deep(32, "{\"a\":", "{}", "}", 32), 0,
	       "33 nested objects rejected");
	is_int(deep(31, "[", "1", "]", 32), 1,
	       "31 nested arrays around a number accepted");
	is_int(deep(33, "[", "1", "]", 32), 0,
	       "33 nested arrays around a number rejected");
	is_int(deep(33, "{\"a\":", "1", "}", 32), 0,
	       "33 nested objects around a number rejected");
	ok(deep(32, "[", "1", "]", 32) == 1,
	   "32 nested arrays around a number accepted with max_depth 32");
	ok(deep(32, "{\"a\":", "1", "}", 32) == 1,
	   "32 nested objects around a number accepted with max_depth 32");
	is_int(parses(S("[[]]"), 2), 1, "depth 2 at max_depth 2");
	is_int(parses(S("[[[]]]"), 2), 0, "depth 3 over max_depth 2");
	is_int(parses(S("[]"), 1), 1, "depth 1 at max_depth 1");
	is_int(parses(S("[[]]"), 1), 0, "depth 2 over max_depth 1");
	/* The limit is per document: wide but shallow is fine. */
	{
		char *wide = malloc(40000);
		size_t k = 0;

		wide[k++] = '[';
		for (int i = 0; i < 5000; i++)
			k += (size_t)sprintf(wide + k, "%s[[1]]", i ? "," : "");
		wide[k++] = ']';
		is_int(parses(wide, k, 32), 1,
		       "5000 shallow siblings accepted");
		free(wide);
	}
}

static void
test_writer_escape(void)
{
	struct arena *a = arena_new(1024);
	struct jbuf b;
	size_t len = 99;
	const char *out;

	jb_init(&b, a, 0);
	out = jb_finish(&b, &len);
	ok(out && len == 0 && out[0] == '\0', "empty buffer finishes as \"\"");

	jb_init(&b, a, 16);
	jb_cstr(&b, "plain");
	is_str(jb_finish(&b, NULL), "\"plain\"", "plain string quoted");

	jb_init(&b, a, 16);
	jb_cstr(&b, "say \"hi\"");
	is_str(jb_finish(&b, NULL), "\"say \\\"hi\\\"\"", "quotes escaped");

	jb_init(&b, a, 16);
	jb_cstr(&b, "a\\b");
	is_str(jb_finish(&b, NULL), "\"a\\\\b\"", "backslash escaped");

	jb_init(&b, a, 16);
	jb_cstr(&b, "line1\nline2\r\t\b\f");
	is_str(jb_finish(&b, NULL), "\"line1\\nline2\\r\\t\\b\\f\"",
	       "newline, CR, tab, backspace, form feed escaped");

	jb_init(&b, a, 16);
	jb_cstr(&b, "\x01\x1f\x7f");
	is_str(jb_finish(&b, NULL), "\"\\u0001\\u001f\x7f\"",
	       "control chars as \\u00XX (DEL passes through)");

	jb_init(&b, a, 16);
	jb_str(&b, "a\0b", 3);
	out = jb_finish(&b, &len);
	is_str(out, "\"a\\u0000b\"", "embedded NUL as \\u0000");
	is_int(len, 10, "length of the escaped NUL string");

	jb_init(&b, a, 16);
	jb_cstr(&b, "caf\xc3\xa9 \xf0\x9f\x98\x80 </script>");
	is_str(jb_finish(&b, NULL),
	       "\"caf\xc3\xa9 \xf0\x9f\x98\x80 </script>\"",
	       "UTF-8 passes through unchanged");

	jb_init(&b, a, 16);
	jb_cstr(&b, "");
	is_str(jb_finish(&b, NULL), "\"\"", "empty string");

	/* What the writer escapes, json-c reads back verbatim. */
	{
		char all[128];
		struct json_object *o = NULL;

		for (int i = 0; i < 127; i++)
			all[i] = (char)(i + 1);
		all[127] = '\0';
		jb_init(&b, a, 16);
		jb_lit(&b, "[");
		jb_str(&b, all, 127);
		jb_lit(&b, "]");
		out = jb_finish(&b, &len);
		ok(out && json_parse(out, len, 32, &o) == 0 &&
			   strcmp(json_object_get_string(
					  json_object_array_get_idx(o, 0)),
				  all) == 0,
		   "every ASCII byte round-trips through json_parse");
		json_object_put(o);
	}

	jb_init(&b, a, 16);
	jb_int(&b, 0);
	jb_lit(&b, " ");
	jb_int(&b, -42);
	jb_lit(&b, " ");
	jb_int(&b, 9223372036854775807LL);
	jb_lit(&b, " ");
	jb_int(&b, -9223372036854775807LL - 1);
	is_str(jb_finish(&b, NULL),
	       "0 -42 9223372036854775807 -9223372036854775808", "jb_int");
	arena_free(a);
}

static void
test_writer_sep(void)
{
	struct arena *a = arena_new(1024);
	struct jbuf b;

	jb_init(&b, a, 0);
	jb_lit(&b, "{");
	jb_key(&b, "id");
	jb_int(&b, 1);
	jb_key(&b, "title");
	jb_cstr(&b, "x");
	jb_key(&b, "tags");
	jb_lit(&b, "[");
	jb_sep(&b);
	jb_cstr(&b, "a");
	jb_sep(&b);
	jb_cstr(&b, "b");
	jb_lit(&b, "]");
	jb_key(&b, "o");
	jb_lit(&b, "{");
	jb_key(&b, "k");
	jb_lit(&b, "true");
	jb_lit(&b, "}");
	jb_lit(&b, "}");
	is_str(jb_finish(&b, NULL),
	       "{\"id\":1,\"title\":\"x\",\"tags\":[\"a\",\"b\"],\"o\":{\"k\":true}}",
	       "jb_key/jb_sep: commas only between members");

	jb_init(&b, a, 0);
	jb_sep(&b);
	jb_int(&b, 1);
	is_str(jb_finish(&b, NULL), "1",
	       "jb_sep on an empty buffer writes nothing");

	jb_init(&b, a, 0);
	jb_lit(&b, "[");
	for (int i = 0; i < 3; i++) {
		jb_sep(&b);
		jb_lit(&b, "{");
		jb_key(&b, "i");
		jb_int(&b, i);
		jb_lit(&b, "}");
	}
	jb_lit(&b, "]");
	is_str(jb_finish(&b, NULL), "[{\"i\":0},{\"i\":1},{\"i\":2}]",
	       "array of objects");

	jb_init(&b, a, 0);
	jb_lit(&b, "{");
	jb_key(&b, "a");
	jb_lit(&b, "[]");
	jb_key(&b, "b");
	jb_lit(&b, "{}");
	jb_key(&b, "c");
	jb_lit(&b, "null");
	jb_lit(&b, "}");
	is_str(jb_finish(&b, NULL), "{\"a\":[],\"b\":{},\"c\":null}",
	       "comma after an empty array and object");
	arena_free(a);
}

static void
test_writer_grow(void)
{
	struct arena *a = arena_new(1024);
	struct jbuf b;
	size_t len = 0;
	const char *out;
	struct json_object *o = NULL;
	int bad = 0;

	jb_init(&b, a, 64);
	jb_lit(&b, "[");
	for (int i = 0; i < 20000; i++) {
		jb_sep(&b);
		jb_lit(&b, "{");
		jb_key(&b, "id");
		jb_int(&b, i);
		jb_key(&b, "t");
		jb_cstr(&b, "quote\" slash\\ nl\n");
		jb_lit(&b, "}");
	}
	jb_lit(&b, "]");
	out = jb_finish(&b, &len);
	ok(out != NULL && !b.oom, "large output: no allocation failure");
	ok(out && len > 500000 && strlen(out) == len,
	   "large output: length matches, NUL-terminated");
	is_int(json_parse(out, len, 32, &o), 0, "large output is valid JSON");
	is_int(o ? (long long)json_object_array_length(o) : -1, 20000,
	       "large output: 20000 elements");
	for (int i = 0; o && i < 20000; i += 997) {
		struct json_object *e = json_object_array_get_idx(o, (size_t)i),
				   *v;

		if (!json_object_object_get_ex(e, "id", &v) ||
		    json_object_get_int(v) != i ||
		    !json_object_object_get_ex(e, "t", &v) ||
		    strcmp(json_object_get_string(v), "quote\" slash\\ nl\n") !=
			    0)
			bad++;
	}
	is_int(bad, 0, "large output: elements survive growth intact");
	json_object_put(o);

	/* One raw write much larger than the buffer. */
	{
		char *blob = malloc(300001);

		memset(blob, 'z', 300000);
		blob[300000] = '\0';
		jb_init(&b, a, 0);
		jb_lit(&b, "ab");
		jb_raw(&b, blob, 300000);
		jb_lit(&b, "cd");
		out = jb_finish(&b, &len);
		ok(out && len == 300004 && memcmp(out, "ab", 2) == 0 &&
			   out[2] == 'z' && out[300001] == 'z' &&
			   strcmp(out + 300002, "cd") == 0,
		   "single write larger than the buffer");
		free(blob);
	}

	/* Exactly at capacity: the NUL still fits. */
	jb_init(&b, a, 64);
	{
		char fill[64];

		memset(fill, 'f', sizeof(fill));
		jb_raw(&b, fill, 63);
		jb_raw(&b, "g", 1);
		out = jb_finish(&b, &len);
		ok(out && len == 64 && out[63] == 'g' && out[64] == '\0',
		   "growth at exactly the initial capacity");
	}
	arena_free(a);
}

/* The string member "t" of the object parsed from text, as bytes. */
static int
member(const char *text, const char **ret, size_t *ret_len,
       struct json_object **ret_obj)
{
	struct json_object *obj = NULL, *v;

	if (json_parse(text, strlen(text), 8, &obj) < 0)
		return -1;
	if (!json_object_object_get_ex(obj, "t", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		json_object_put(obj);
		return -1;
	}
	*ret = json_object_get_string(v);
	*ret_len = (size_t)json_object_get_string_len(v);
	*ret_obj = obj;
	return 0;
}

static void
test_surrogates(void)
{
	static const struct {
		const char *text, *what;
	} bad[] = {
		{"{\"t\":\"a\\ud800b\"}", "lone high surrogate"},
		{"{\"t\":\"a\\udc00b\"}", "lone low surrogate"},
		{"{\"t\":\"\\udc00\\ud800\"}", "reversed pair"},
		{"{\"t\":\"\\ud800\\u0041\"}", "high before a non-surrogate"},
		{"{\"t\":\"x\\ud800\"}", "high at the end of the string"},
		{"{\"t\":\"\\ud800\\ud800\\udc00\"}", "two highs, then a low"},
		{"{\"t\":\"\\uDBFF\"}", "uppercase lone high"},
	};
	struct json_object *obj = NULL;
	const char *s;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(json_check(bad[i].text, strlen(bad[i].text), 8) == 0,
		   "json_check: a %s is valid syntax", bad[i].what);
		if (member(bad[i].text, &s, &len, &obj) < 0) {
			ok(0, "json_parse: %s parses", bad[i].what);
			continue;
		}
		/* Not U+FFFD (EF BF BD): bytes that fail the UTF-8 check. */
		ok(utf8_count(s, len) < 0 && !memmem(s, len, "\xef\xbf\xbd", 3),
		   "json_parse: a %s is not valid UTF-8 afterwards",
		   bad[i].what);
		json_object_put(obj);
	}

	ok(member("{\"t\":\"\\ud800\\u0041\"}", &s, &len, &obj) == 0 &&
		   len == 7 && s[6] == 'A',
	   "the escape after an unpaired high stands on its own");
	json_object_put(obj);
	ok(member("{\"t\":\"\\ud83d\\ude00\"}", &s, &len, &obj) == 0 &&
		   len == 4 && memcmp(s, "\xf0\x9f\x98\x80", 4) == 0,
	   "a pair decodes to its character (U+1F600)");
	json_object_put(obj);
	ok(member("{\"t\":\"\\uD83D\\uDE00x\"}", &s, &len, &obj) == 0 &&
		   len == 5 && memcmp(s, "\xf0\x9f\x98\x80x", 5) == 0,
	   "an uppercase pair decodes too");
	json_object_put(obj);
	ok(member("{\"t\":\"\\uffff\\ud7ff\\ue000\"}", &s, &len, &obj) == 0 &&
		   utf8_count(s, len) == 3,
	   "code points around the surrogates are kept");
	json_object_put(obj);

	/* A key with an unpaired half cannot pass for a known key. */
	{
		const char *text = "{\"ti\\ud800tle\":1}";
		struct json_object *o = NULL, *v;
		bool fine =
			json_parse(text, strlen(text), 8, &o) == 0 &&
			!json_object_object_get_ex(o, "title", &v) &&
			!json_object_object_get_ex(o, "ti\xef\xbf\xbdtle", &v);

		ok(fine,
		   "an unpaired half in a key is neither dropped nor U+FFFD");
		json_object_put(o);
	}
}

int
main(void)
{
	test_parse_valid();
	test_parse_invalid();
	test_depth();
	test_writer_escape();
	test_writer_sep();
	test_writer_grow();
	test_surrogates();
	return done();
}
