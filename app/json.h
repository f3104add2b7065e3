/* JSON in and out: a depth-limited parser over (pointer, length) on top of
 * json-c, and an append-only writer into arena memory for responses. */
#ifndef TODOD_JSON_H
#define TODOD_JSON_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct json_object;

#define JSON_MAX_DEPTH 32

/* Checks that buf[0..len) is one RFC 8259 JSON value with at most
 * max_depth nested objects/arrays. Returns 0 or -EINVAL. Pure. */
int json_check(const char *buf, size_t len, int max_depth);

/* Parses buf[0..len) as one JSON value with nesting at most max_depth
 * (json_check first). On success *ret is a new reference the caller owns
 * (json_object_put), NULL for the JSON null. Returns 0, -EINVAL or
 * -ENOMEM. Pure. */
int json_parse(const char *buf, size_t len, int max_depth,
	       struct json_object **ret);

struct jbuf {
	struct arena *arena;
	char *buf;
	size_t len, cap;
	bool oom;
};

void jb_init(struct jbuf *b, struct arena *a, size_t hint);
void jb_raw(struct jbuf *b, const char *s, size_t n);
void jb_lit(struct jbuf *b, const char *s); /* jb_raw of a C string */
/* Writes a JSON string literal; s must be valid UTF-8. */
void jb_str(struct jbuf *b, const char *s, size_t n);
void jb_cstr(struct jbuf *b, const char *s);
void jb_int(struct jbuf *b, long long v);
/* Writes ",\"key\":" or "\"key\":" after '{'. */
void jb_key(struct jbuf *b, const char *key);
/* Writes ',' unless the last byte opens an object or array. */
void jb_sep(struct jbuf *b);
/* NUL-terminates and returns the text, or NULL after an allocation failure. */
const char *jb_finish(struct jbuf *b, size_t *ret_len);

#endif
