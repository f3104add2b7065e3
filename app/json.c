/* JSON parsing (json-c, depth-limited) and a small response writer. */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"

static void jb_grow(struct jbuf *b, size_t need);

int
json_parse(const char *buf, size_t len, int max_depth, struct json_object **ret)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	int r = -EINVAL;

	if (len > (size_t)1 << 30)
		return -EINVAL;
	tok = json_tokener_new_ex(max_depth);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (json_tokener_get_error(tok) == json_tokener_continue) {
		/* The input ended inside a value: feed the end marker. */
		obj = json_tokener_parse_ex(tok, "", 1);
		if (!obj)
			goto out;
		if (json_tokener_get_parse_end(tok) != 0)
			goto out;
	} else if (json_tokener_get_error(tok) != json_tokener_success || !obj) {
		goto out;
	} else {
		size_t end = json_tokener_get_parse_end(tok);

		/* Only whitespace may follow the value. */
		for (; end < len; end++)
			if (buf[end] != ' ' && buf[end] != '\t' &&
			    buf[end] != '\n' && buf[end] != '\r')
				goto out;
	}
	*ret = obj;
	obj = NULL;
	r = 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return r;
}

void
jb_init(struct jbuf *b, struct arena *a, size_t hint)
{
	b->arena = a;
	b->len = 0;
	b->cap = hint < 64 ? 64 : hint;
	b->oom = false;
	b->buf = arena_alloc(a, b->cap);
	if (!b->buf)
		b->oom = true;
}

static void
jb_grow(struct jbuf *b, size_t need)
{
	size_t cap = b->cap;
	char *nb;

	while (cap - b->len < need) {
		if (cap > ((size_t)1 << 30)) {
			b->oom = true;
			return;
		}
		cap *= 2;
	}
	nb = arena_alloc(b->arena, cap);
	if (!nb) {
		b->oom = true;
		return;
	}
	memcpy(nb, b->buf, b->len);
	b->buf = nb;
	b->cap = cap;
}

void
jb_raw(struct jbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len < n + 1) {
		jb_grow(b, n + 1);
		if (b->oom)
			return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

void
jb_lit(struct jbuf *b, const char *s)
{
	jb_raw(b, s, strlen(s));
}

void
jb_str(struct jbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	jb_raw(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jb_raw(b, s + start, i - start);
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		jb_raw(b, esc, elen);
	}
	jb_raw(b, s + start, n - start);
	jb_raw(b, "\"", 1);
}

void
jb_cstr(struct jbuf *b, const char *s)
{
	jb_str(b, s, strlen(s));
}

void
jb_int(struct jbuf *b, long long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", v);

	jb_raw(b, tmp, (size_t)n);
}

void
jb_sep(struct jbuf *b)
{
	if (b->len > 0 && b->buf[b->len - 1] != '{' && b->buf[b->len - 1] != '[')
		jb_raw(b, ",", 1);
}

void
jb_key(struct jbuf *b, const char *key)
{
	jb_sep(b);
	jb_raw(b, "\"", 1);
	jb_lit(b, key);
	jb_raw(b, "\":", 2);
}

const char *
jb_finish(struct jbuf *b, size_t *ret_len)
{
	if (b->oom)
		return NULL;
	b->buf[b->len] = '\0'; /* jb_raw always leaves room for it */
	if (ret_len)
		*ret_len = b->len;
	return b->buf;
}
