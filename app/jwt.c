/* HS256 JSON Web Tokens: signing with the current key, and verification that
 * checks the header, the signature and every claim here, because libjwt 1.10
 * trusts the header's alg, skips the signature without a key, and checks no
 * claim. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
/* libjwt's header; ours is "jwt.h" (meson keeps app/ off the library's
 * include path so that the two cannot be confused). */
#include <jwt.h>

#include "jwt.h"
#include "util.h"

#define JSON_DEPTH 8 /* headers and claims are flat objects */
#define HS256_LEN 32 /* bytes of an HMAC-SHA256 */
#define HS256_B64_LEN 43 /* its unpadded base64url length */
#define SKEW_LIMIT 86400L /* a larger skew is a configuration error */
/* Tokens libjwt accepted, remembered per key and thread. */
#define SEEN_SLOTS 64

static bool key_usable(const struct jwt_key *key);
static bool config_usable(const struct jwt_config *cfg);
static int b64url_value(unsigned char c);
static int b64url_decode(const char *in, size_t len, unsigned char *out,
			 size_t *ret_len);
static int split(const char *token, size_t len, size_t *ret_dot1,
		 size_t *ret_dot2);
static int parse_object(const char *buf, size_t len,
			struct json_object **ret_obj);
static bool json_str_eq(struct json_object *v, const char *s);
static int check_header(const struct jwt_config *cfg, const char *seg,
			size_t len, const struct jwt_key **ret_key);
struct mac_entry;
static int check_signature(const struct jwt_key *key, const char *token,
			   size_t signed_len, const char *sig, size_t sig_len,
			   unsigned char got[HS256_LEN],
			   struct mac_entry **ret_e);
static int libjwt_verify(const struct jwt_key *key, const char *token,
			 size_t len);
static int numeric_date(struct json_object *v, long long *ret);
static bool aud_matches(struct json_object *aud, const char *want);
static int check_claims(const struct jwt_config *cfg, const char *seg,
			size_t seg_len, time_t now,
			struct jwt_claims *ret_claims);

static bool
key_usable(const struct jwt_key *key)
{
	return key->secret_len >= JWT_SECRET_MIN &&
	       key->secret_len <= JWT_SECRET_MAX;
}

static bool
config_usable(const struct jwt_config *cfg)
{
	return cfg->nkeys >= 1 && cfg->nkeys <= JWT_MAX_KEYS &&
	       cfg->skew >= 0 && cfg->skew <= SKEW_LIMIT;
}

static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes unpadded base64url strictly: no padding, no other alphabet, and
 * the unused low bits of the last character must be zero, so that each
 * value has exactly one encoding. out holds at least len * 3 / 4 bytes. */
static int
b64url_decode(const char *in, size_t len, unsigned char *out, size_t *ret_len)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	if (len % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)in[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -EINVAL;
	*ret_len = n;
	return 0;
}

/* Finds the two dots of header.payload.signature; a token has exactly two,
 * non-empty header and payload, and nothing outside base64url and dots. */
static int
split(const char *token, size_t len, size_t *ret_dot1, size_t *ret_dot2)
{
	size_t dots[2], ndots = 0;

	for (size_t i = 0; i < len; i++) {
		if (token[i] != '.') {
			if (b64url_value((unsigned char)token[i]) < 0)
				return -EINVAL;
			continue;
		}
		if (ndots == 2)
			return -EINVAL;
		dots[ndots++] = i;
	}
	if (ndots != 2 || dots[0] == 0 || dots[1] == dots[0] + 1)
		return -EINVAL;
	*ret_dot1 = dots[0];
	*ret_dot2 = dots[1];
	return 0;
}

/* Parses buf[0..len) as exactly one JSON object, strictly and with bounded
 * depth. On success the caller owns *ret_obj. */
static int
parse_object(const char *buf, size_t len, struct json_object **ret_obj)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	int r = -EINVAL;

	if (len > INT_MAX)
		return -EINVAL;
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(obj, json_type_object))
		goto out;
	*ret_obj = obj;
	obj = NULL;
	r = 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return r;
}

/* True when v is a JSON string equal to s, byte for byte (a string with an
 * embedded NUL never matches). */
static bool
json_str_eq(struct json_object *v, const char *s)
{
	size_t n = strlen(s);

	return json_object_is_type(v, json_type_string) &&
	       (size_t)json_object_get_string_len(v) == n &&
	       memcmp(json_object_get_string(v), s, n) == 0;
}

/* Checks the header and picks the key by kid. jku, x5u, jwk and the like
 * are ignored: keys come from the configuration only. */
static int
check_header(const struct jwt_config *cfg, const char *seg, size_t len,
	     const struct jwt_key **ret_key)
{
	unsigned char buf[JWT_TOKEN_MAX];
	struct json_object *hdr = NULL, *v = NULL;
	const struct jwt_key *key = NULL;
	size_t n = 0;
	int r;

	r = b64url_decode(seg, len, buf, &n);
	if (r < 0)
		goto out;
	r = parse_object((const char *)buf, n, &hdr);
	if (r < 0)
		goto out;
	r = -EINVAL;
	if (!json_object_object_get_ex(hdr, "alg", &v) ||
	    !json_str_eq(v, "HS256"))
		goto out;
	if (json_object_object_get_ex(hdr, "typ", &v) && !json_str_eq(v, "JWT"))
		goto out;
	/* Critical extensions are by definition ones this code does not
	 * implement (RFC 7515, 4.1.11). */
	if (json_object_object_get_ex(hdr, "crit", NULL))
		goto out;
	if (!json_object_object_get_ex(hdr, "kid", &v))
		key = &cfg->keys[0];
	else
		for (size_t i = 0; !key && i < cfg->nkeys; i++)
			if (json_str_eq(v, cfg->keys[i].kid))
				key = &cfg->keys[i];
	if (!key || !key_usable(key))
		goto out;
	*ret_key = key;
	r = 0;
out:
	json_object_put(hdr);
	return r;
}

/* Per thread, an HMAC-SHA256 context keyed once per secret: OpenSSL 3's
 * one-shot HMAC() fetches the algorithm and builds a context on every
 * call, which was a sixth of a list request's instructions. A context is
 * re-initialised with its key (EVP_MAC_init without a key) per token. */
struct mac_entry {
	unsigned char secret[JWT_SECRET_MAX];
	size_t len;
	EVP_MAC_CTX *ctx;
	/* The HMACs of tokens libjwt accepted under this key, in the slot of
	 * their first byte (an HMAC's bytes are uniform). */
	unsigned char seen[SEEN_SLOTS][HS256_LEN];
	bool seen_set[SEEN_SLOTS];
};

struct mac_cache {
	EVP_MAC *mac;
	struct mac_entry e[JWT_MAX_KEYS];
	size_t n, next;
};

static pthread_key_t mac_tls;
static pthread_once_t mac_once = PTHREAD_ONCE_INIT;
static bool mac_tls_ok;

static void
mac_cache_free(void *arg)
{
	struct mac_cache *c = arg;

	for (size_t i = 0; i < c->n; i++)
		EVP_MAC_CTX_free(c->e[i].ctx);
	EVP_MAC_free(c->mac);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

static void
mac_tls_init(void)
{
	mac_tls_ok = pthread_key_create(&mac_tls, mac_cache_free) == 0;
}

/* This thread's entry for key, its context ready for EVP_MAC_update; NULL
 * when OpenSSL or memory fails. */
static struct mac_entry *
mac_for(const struct jwt_key *key)
{
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
				       OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
			       OSSL_PARAM_construct_end()};
	struct mac_cache *c;
	struct mac_entry *e;

	pthread_once(&mac_once, mac_tls_init);
	if (!mac_tls_ok)
		return NULL;
	c = pthread_getspecific(mac_tls);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		c->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (!c->mac || pthread_setspecific(mac_tls, c) != 0) {
			mac_cache_free(c);
			return NULL;
		}
	}
	for (size_t i = 0; i < c->n; i++) {
		e = &c->e[i];
		if (e->len == key->secret_len &&
		    CRYPTO_memcmp(e->secret, key->secret, e->len) == 0)
			return EVP_MAC_init(e->ctx, NULL, 0, NULL) ? e : NULL;
	}
	/* A key not seen yet on this thread (or a full cache: the oldest
	 * entry makes room). */
	if (c->n < JWT_MAX_KEYS) {
		e = &c->e[c->n++];
	} else {
		e = &c->e[c->next];
		c->next = (c->next + 1) % JWT_MAX_KEYS;
		EVP_MAC_CTX_free(e->ctx);
	}
	memcpy(e->secret, key->secret, key->secret_len);
	e->len = key->secret_len;
	memset(e->seen_set, 0, sizeof(e->seen_set));
	e->ctx = EVP_MAC_CTX_new(c->mac);
	if (!e->ctx || !EVP_MAC_init(e->ctx, e->secret, e->len, params)) {
		/* Unusable: forget it, so that the next call tries again. */
		EVP_MAC_CTX_free(e->ctx);
		*e = c->e[--c->n];
		return NULL;
	}
	return e;
}

/* Recomputes the HMAC over header.payload: a second check beside libjwt's,
 * so that a regression in either one cannot let a forged token through.
 * On success *ret_e is this thread's entry for key and got the HMAC. */
static int
check_signature(const struct jwt_key *key, const char *token, size_t signed_len,
		const char *sig, size_t sig_len, unsigned char got[HS256_LEN],
		struct mac_entry **ret_e)
{
	unsigned char want[EVP_MAX_MD_SIZE];
	size_t got_len = 0, want_len = 0;
	struct mac_entry *e;

	if (sig_len != HS256_B64_LEN ||
	    b64url_decode(sig, sig_len, got, &got_len) < 0 ||
	    got_len != HS256_LEN)
		return -EINVAL;
	e = mac_for(key);
	if (!e)
		return -ENOMEM;
	if (!EVP_MAC_update(e->ctx, (const unsigned char *)token, signed_len) ||
	    !EVP_MAC_final(e->ctx, want, &want_len, sizeof(want)) ||
	    want_len != HS256_LEN)
		return -EINVAL;
	if (CRYPTO_memcmp(got, want, HS256_LEN) != 0)
		return -EINVAL;
	*ret_e = e;
	return 0;
}

/* Whether libjwt accepted this very token before, on this thread: its
 * HMAC (just checked against header.payload) is one libjwt's check let
 * through under the same key. Equal HMACs mean equal header.payload, and
 * the signature decodes strictly (one encoding per value), so the token is
 * byte for byte the one libjwt accepted and would accept again: it depends
 * on nothing else. The claims are still checked at every use. */
static bool
libjwt_accepted(const struct mac_entry *e, const unsigned char mac[HS256_LEN])
{
	size_t slot = mac[0] % SEEN_SLOTS;

	return e->seen_set[slot] &&
	       CRYPTO_memcmp(e->seen[slot], mac, HS256_LEN) == 0;
}

static void
libjwt_remember(struct mac_entry *e, const unsigned char mac[HS256_LEN])
{
	size_t slot = mac[0] % SEEN_SLOTS;

	memcpy(e->seen[slot], mac, HS256_LEN);
	e->seen_set[slot] = true;
}

/* Has libjwt verify the token with the selected key and insists that it
 * saw HS256. The claims are read from the payload by check_claims: the
 * same bytes libjwt just parsed, not libjwt's JSON written out again. */
static int
libjwt_verify(const struct jwt_key *key, const char *token, size_t len)
{
	char buf[JWT_TOKEN_MAX + 1];
	jwt_t *jwt = NULL;
	int r;

	memcpy(buf, token, len);
	buf[len] = '\0';
	r = jwt_decode(&jwt, buf, key->secret, (int)key->secret_len);
	if (r != 0) {
		r = r == ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	r = jwt_get_alg(jwt) == JWT_ALG_HS256 ? 0 : -EINVAL;
out:
	jwt_free(jwt);
	return r;
}

/* Reads a NumericDate: a JSON integer, or a number with a fraction of zero
 * that fits in 63 bits. Strings, booleans and null are rejected. */
static int
numeric_date(struct json_object *v, long long *ret)
{
	double d;
	long long t;

	if (json_object_is_type(v, json_type_int)) {
		*ret = (long long)json_object_get_int64(v);
		return 0;
	}
	if (!json_object_is_type(v, json_type_double))
		return -EINVAL;
	d = json_object_get_double(v);
	/* NaN fails both comparisons; the bound is below 2^63. */
	if (!(d > -9.2e18 && d < 9.2e18))
		return -EINVAL;
	t = (long long)d;
	if ((double)t != d)
		return -EINVAL;
	*ret = t;
	return 0;
}

/* aud is one string or an array of strings (RFC 7519, 4.1.3). */
static bool
aud_matches(struct json_object *aud, const char *want)
{
	if (!json_object_is_type(aud, json_type_array))
		return json_str_eq(aud, want);
	for (size_t i = 0; i < json_object_array_length(aud); i++)
		if (json_str_eq(json_object_array_get_idx(aud, i), want))
			return true;
	return false;
}

static int
check_claims(const struct jwt_config *cfg, const char *seg, size_t seg_len,
	     time_t now, struct jwt_claims *ret_claims)
{
	unsigned char json[JWT_TOKEN_MAX];
	size_t json_len = 0;
	struct json_object *claims = NULL, *v = NULL;
	struct jwt_claims c;
	long long lo = (long long)now - cfg->skew;
	long long hi = (long long)now + cfg->skew;
	long long nbf = 0;
	size_t sub_len;
	int r;

	memset(&c, 0, sizeof(c));
	r = b64url_decode(seg, seg_len, json, &json_len);
	if (r < 0)
		goto out;
	r = parse_object((const char *)json, json_len, &claims);
	if (r < 0)
		goto out;
	r = -EINVAL;
	if (!json_object_object_get_ex(claims, "exp", &v) ||
	    numeric_date(v, &c.exp) < 0 || c.exp < lo)
		goto out;
	if (json_object_object_get_ex(claims, "nbf", &v) &&
	    (numeric_date(v, &nbf) < 0 || nbf > hi))
		goto out;
	if (json_object_object_get_ex(claims, "iat", &v) &&
	    (numeric_date(v, &c.iat) < 0 || c.iat > hi))
		goto out;
	if (!json_object_object_get_ex(claims, "sub", &v) ||
	    !json_object_is_type(v, json_type_string))
		goto out;
	sub_len = (size_t)json_object_get_string_len(v);
	if (sub_len == 0 || sub_len > JWT_SUB_MAX ||
	    memchr(json_object_get_string(v), '\0', sub_len))
		goto out;
	memcpy(c.sub, json_object_get_string(v), sub_len);
	c.sub[sub_len] = '\0';
	if (json_object_object_get_ex(claims, "jti", &v)) {
		unsigned char b[16];
		long long units;

		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) != JWT_JTI_LEN ||
		    jwt_jti_parse(json_object_get_string(v), b, &units) < 0)
			goto out;
		memcpy(c.jti, json_object_get_string(v), JWT_JTI_LEN + 1);
	}
	if (cfg->issuer[0] && (!json_object_object_get_ex(claims, "iss", &v) ||
			       !json_str_eq(v, cfg->issuer)))
		goto out;
	if (cfg->audience[0] &&
	    (!json_object_object_get_ex(claims, "aud", &v) ||
	     !aud_matches(v, cfg->audience)))
		goto out;
	*ret_claims = c;
	r = 0;
out:
	json_object_put(claims);
	return r;
}

int
jwt_jti_parse(const char *jti, unsigned char ret_bytes[16],
	      long long *ret_units)
{
	unsigned char b[16];
	size_t k = 0;
	long long ms = 0;

	if (strlen(jti) != JWT_JTI_LEN)
		return -EINVAL;
	for (size_t i = 0; i < JWT_JTI_LEN; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (jti[i] != '-')
				return -EINVAL;
			continue;
		}
		hi = hex_digit(jti[i]);
		lo = hex_digit(jti[i + 1]);
		if (hi < 0 || lo < 0 || i + 1 == 8 || i + 1 == 13 ||
		    i + 1 == 18 || i + 1 == 23)
			return -EINVAL;
		b[k++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	/* Version 7, RFC 9562 variant. */
	if ((b[6] >> 4) != 7 || (b[8] >> 6) != 2)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		ms = ms << 8 | b[i];
	memcpy(ret_bytes, b, 16);
	*ret_units = ms * 4096 + ((b[6] & 0x0f) << 8 | b[7]);
	return 0;
}

void
jwt_jti_format(long long units, const unsigned char rnd[8],
	       char out[JWT_JTI_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned long long ms = (unsigned long long)units / 4096;
	unsigned frac = (unsigned)((unsigned long long)units % 4096);
	unsigned char b[16];
	size_t o = 0;

	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (8 * (5 - i)));
	b[6] = (unsigned char)(0x70 | frac >> 8);
	b[7] = (unsigned char)(frac & 0xff);
	b[8] = (unsigned char)(0x80 | (rnd[0] & 0x3f));
	memcpy(b + 9, rnd + 1, 7);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

int
jwt_sign(const struct jwt_config *cfg, const char *sub, const char *jti,
	 time_t now, char **ret_token)
{
	const struct jwt_key *key;
	char times[64];
	jwt_t *jwt = NULL;
	char *token = NULL;
	size_t sub_len;
	int r;

	if (!cfg || !sub || !ret_token || !config_usable(cfg))
		return -EINVAL;
	key = &cfg->keys[0];
	sub_len = strlen(sub);
	if (jti) {
		unsigned char b[16];
		long long units;

		if (jwt_jti_parse(jti, b, &units) < 0)
			return -EINVAL;
	}
	if (sub_len == 0 || sub_len > JWT_SUB_MAX || !key_usable(key) ||
	    cfg->ttl <= 0 || (long long)now > LLONG_MAX - cfg->ttl)
		return -EINVAL;
	snprintf(times, sizeof(times), "{\"iat\":%lld,\"exp\":%lld}",
		 (long long)now, (long long)now + cfg->ttl);

	r = jwt_new(&jwt);
	if (r == 0)
		r = jwt_set_alg(jwt, JWT_ALG_HS256, key->secret,
				(int)key->secret_len);
	if (r == 0)
		r = jwt_add_header(jwt, "typ", "JWT");
	if (r == 0 && key->kid[0])
		r = jwt_add_header(jwt, "kid", key->kid);
	if (r == 0)
		r = jwt_add_grant(jwt, "sub", sub);
	if (r == 0 && jti)
		r = jwt_add_grant(jwt, "jti", jti);
	if (r == 0)
		r = jwt_add_grants_json(jwt, times);
	if (r == 0 && cfg->issuer[0])
		r = jwt_add_grant(jwt, "iss", cfg->issuer);
	if (r == 0 && cfg->audience[0])
		r = jwt_add_grant(jwt, "aud", cfg->audience);
	if (r != 0) {
		r = r == ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	token = jwt_encode_str(jwt);
	if (!token) {
		r = errno == ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	*ret_token = token;
	r = 0;
out:
	jwt_free(jwt);
	return r;
}

int
jwt_verify(const struct jwt_config *cfg, const char *token, size_t len,
	   time_t now, struct jwt_claims *ret_claims)
{
	const struct jwt_key *key = NULL;
	struct mac_entry *e = NULL;
	unsigned char mac[HS256_LEN];
	size_t dot1 = 0, dot2 = 0;
	int r;

	/* The length check comes before anything reads the token. */
	if (!cfg || !token || !ret_claims || len > JWT_TOKEN_MAX ||
	    !config_usable(cfg))
		return -EINVAL;
	r = split(token, len, &dot1, &dot2);
	if (r < 0)
		goto out;
	r = check_header(cfg, token, dot1, &key);
	if (r < 0)
		goto out;
	r = check_signature(key, token, dot2, token + dot2 + 1, len - dot2 - 1,
			    mac, &e);
	if (r < 0)
		goto out;
	/* libjwt's decode is a quarter of a list request's instructions; a
	 * client sends its token again and again, and libjwt sees it once. */
	if (!libjwt_accepted(e, mac)) {
		r = libjwt_verify(key, token, len);
		if (r < 0)
			goto out;
		libjwt_remember(e, mac);
	}
	r = check_claims(cfg, token + dot1 + 1, dot2 - dot1 - 1, now,
			 ret_claims);
out:
	return r;
}
