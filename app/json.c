/* JSON parsing (json-c, depth-limited) and a small response writer. */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"

struct scan {
	const char *s;
	size_t len, i;
	int depth, max_depth;
	bool bad_surrogate; /* a \uD800-\uDFFF escape that is not a pair */
	char *fix; /* when set: a copy of s to mark them in */
};

static void jb_grow(struct jbuf *b, size_t need);
static void scan_ws(struct scan *sc);
static int scan_value(struct scan *sc);
static int scan_string(struct scan *sc, bool key);
static int scan_number(struct scan *sc);
static int scan_literal(struct scan *sc, const char *lit);
static int scan_hex4(struct scan *sc, unsigned *ret);
static int scan_all(struct scan *sc);
static int scan_escape_u(struct scan *sc, bool key);

/* A strict RFC 8259 syntax check ahead of json-c, which lets NaN,
 * Infinity, "1.", single quotes and raw control characters through. Raw
 * bytes >= 0x80 pass here; the fields that are read check their UTF-8. */
static void
scan_ws(struct scan *sc)
{
	while (sc->i < sc->len &&
	       (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' ||
		sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r'))
		sc->i++;
}

static int
scan_literal(struct scan *sc, const char *lit)
{
	size_t n = strlen(lit);

	if (sc->len - sc->i < n || memcmp(sc->s + sc->i, lit, n) != 0)
		return -EINVAL;
	sc->i += n;
	return 0;
}

/* Four hex digits at sc->i; advances past them. */
static int
scan_hex4(struct scan *sc, unsigned *ret)
{
	unsigned v = 0;

	if (sc->len - sc->i < 4)
		return -EINVAL;
	for (int k = 0; k < 4; k++) {
		char h = sc->s[sc->i++];

		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= (unsigned)(h - '0');
		else if (h >= 'a' && h <= 'f')
			v |= (unsigned)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			v |= (unsigned)(h - 'A' + 10);
		else
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* After "\u": a high surrogate must be followed at once by a low one.
 * json-c would turn a lone or reversed half into U+FFFD, and the stored
 * text would differ from what the client sent; instead the half is
 * marked (in sc->fix) as six 0xFF bytes, which are not UTF-8, so the
 * field that holds it is refused by its UTF-8 check and named in a 422. */
static int
scan_escape_u(struct scan *sc, bool key)
{
	size_t start = sc->i - 2; /* the backslash */
	unsigned cp, lo;

	if (key && sc->len - sc->i >= 4 &&
	    memcmp(sc->s + sc->i, "0000", 4) == 0)
		return -EINVAL;
	if (scan_hex4(sc, &cp) < 0)
		return -EINVAL;
	if (cp < 0xd800 || cp > 0xdfff)
		return 0;
	if (cp <= 0xdbff && sc->len - sc->i >= 6 && sc->s[sc->i] == '\\' &&
	    sc->s[sc->i + 1] == 'u') {
		size_t save = sc->i;

		sc->i += 2;
		if (scan_hex4(sc, &lo) < 0)
			return -EINVAL;
		if (lo >= 0xdc00 && lo <= 0xdfff)
			return 0; /* a pair: json-c decodes it */
		sc->i = save; /* the next escape stands on its own */
	}
	sc->bad_surrogate = true;
	if (sc->fix)
		memset(sc->fix + start, 0xff, 6);
	return 0;
}

/* A key may not contain \u0000: json-c would cut it there, and
 * {"title\u0000x": ...} must not pass for "title". */
static int
scan_string(struct scan *sc, bool key)
{
	sc->i++; /* the opening quote */
	while (sc->i < sc->len) {
		unsigned char c = (unsigned char)sc->s[sc->i++];

		if (c == '"')
			return 0;
		if (c < 0x20)
			return -EINVAL;
		if (c != '\\')
			continue;
		if (sc->i >= sc->len)
			return -EINVAL;
		c = (unsigned char)sc->s[sc->i++];
		if (c == 'u') {
			if (scan_escape_u(sc, key) < 0)
				return -EINVAL;
		} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
			return -EINVAL;
		}
	}
	return -EINVAL;
}

static int
scan_number(struct scan *sc)
{
	size_t start;

	if (sc->s[sc->i] == '-')
		sc->i++;
	if (sc->i >= sc->len)
		return -EINVAL;
	if (sc->s[sc->i] == '0') {
		sc->i++;
	} else if (sc->s[sc->i] >= '1' && sc->s[sc->i] <= '9') {
		while (sc->i < sc->len && sc->s[sc->i] >= '0' &&
		       sc->s[sc->i] <= '9')
			sc->i++;
	} else {
		return -EINVAL;
	}
	if (sc->i < sc->len && sc->s[sc->i] == '.') {
		start = ++sc->i;
		while (sc->i < sc->len && sc->s[sc->i] >= '0' &&
		       sc->s[sc->i] <= '9')
			sc->i++;
		if (sc->i == start)
			return -EINVAL;
	}
	if (sc->i < sc->len && (sc->s[sc->i] == 'e' || sc->s[sc->i] == 'E')) {
		sc->i++;
		if (sc->i < sc->len &&
		    (sc->s[sc->i] == '+' || sc->s[sc->i] == '-'))
			sc->i++;
		start = sc->i;
		while (sc->i < sc->len && sc->s[sc->i] >= '0' &&
		       sc->s[sc->i] <= '9')
			sc->i++;
		if (sc->i == start)
			return -EINVAL;
	}
	return 0;
}

static int
scan_value(struct scan *sc)
{
	char c, close;

	scan_ws(sc);
	if (sc->i >= sc->len)
		return -EINVAL;
	c = sc->s[sc->i];
	switch (c) {
	case '"': return scan_string(sc, false);
	case 't': return scan_literal(sc, "true");
	case 'f': return scan_literal(sc, "false");
	case 'n': return scan_literal(sc, "null");
	case '{':
	case '[': break;
	default: return scan_number(sc);
	}
	if (++sc->depth > sc->max_depth)
		return -EINVAL;
	close = c == '{' ? '}' : ']';
	sc->i++;
	scan_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == close) {
		sc->i++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		if (c == '{') {
			scan_ws(sc);
			if (sc->i >= sc->len || sc->s[sc->i] != '"' ||
			    scan_string(sc, true) < 0)
				return -EINVAL;
			scan_ws(sc);
			if (sc->i >= sc->len || sc->s[sc->i] != ':')
				return -EINVAL;
			sc->i++;
		}
		if (scan_value(sc) < 0)
			return -EINVAL;
		scan_ws(sc);
		if (sc->i >= sc->len)
			return -EINVAL;
		if (sc->s[sc->i] == ',') {
			sc->i++;
			continue;
		}
		if (sc->s[sc->i] != close)
			return -EINVAL;
		sc->i++;
		sc->depth--;
		return 0;
	}
}

static int
scan_all(struct scan *sc)
{
	if (scan_value(sc) < 0)
		return -EINVAL;
	scan_ws(sc);
	return sc->i == sc->len ? 0 : -EINVAL;
}

int
json_check(const char *buf, size_t len, int max_depth)
{
	struct scan sc = {.s = buf, .len = len, .max_depth = max_depth};

	return scan_all(&sc);
}

int
json_parse(const char *buf, size_t len, int max_depth, struct json_object **ret)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	struct scan sc = {.s = buf, .len = len, .max_depth = max_depth};
	char *copy = NULL;
	int r = -EINVAL;

	if (len > (size_t)1 << 30 || scan_all(&sc) < 0)
		return -EINVAL;
	if (sc.bad_surrogate) {
		/* Rare: parse a copy with the unpaired halves marked. */
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, buf, len);
		sc = (struct scan){.s = buf,
				   .len = len,
				   .max_depth = max_depth,
				   .fix = copy};
		scan_all(&sc);
		buf = copy;
	}
	/* json-c counts a scalar inside the innermost container as a level. */
	tok = json_tokener_new_ex(max_depth + 1);
	if (!tok) {
		r = -ENOMEM;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (json_tokener_get_error(tok) == json_tokener_continue) {
		/* The input ended inside a value: feed the end marker. */
		obj = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) != json_tokener_success)
			goto out;
	} else if (json_tokener_get_error(tok) != json_tokener_success) {
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
	free(copy);
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
	/* Digits from the end; the magnitude as unsigned, so that LLONG_MIN
	 * has one. No snprintf: ids are on every row of a page. */
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u =
		v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	jb_raw(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
jb_sep(struct jbuf *b)
{
	if (b->len > 0 && b->buf[b->len - 1] != '{' &&
	    b->buf[b->len - 1] != '[')
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
