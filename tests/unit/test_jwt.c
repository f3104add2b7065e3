/* Unit tests for jwt.c: sign/verify round trips, and tokens forged by hand
 * (OpenSSL HMAC and base64url here, not libjwt) for every rejection. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwt.h"
#include "tap.h"

#define NOW 1700000000LL
#define SKEW 30
#define TTL 1800
#define CUR "current-secret-0123456789abcdef-0123456789"
#define OLD "previous-secret-0123456789abcdef-0123456789"
#define EVIL "attacker-secret-0123456789abcdef-0123456789"
#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k2\"}"

static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "abcdefghijklmnopqrstuvwxyz0123456789-_";
static struct jwt_config cfg;
static char tok[4 * JWT_TOKEN_MAX];
static char pl[4 * JWT_TOKEN_MAX];

static void setup(void);
static void b64url(const void *in, size_t len, char *out);
static int b64url_dec(const char *in, size_t len, char *out);
static const char *payload(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static const char *forge(const char *header, const char *body, const EVP_MD *md,
			 const char *key);
static const char *other_payload(const char *t);
static int verify(const char *token);
static int verify_at(const char *token, long long now);
static const char *good(void);
static void test_forged_algs(void);
static void test_signature(void);
static void test_times(void);
static void test_sub(void);
static void test_iss_aud(void);
static void test_header(void);
static void test_keys(void);
static void test_malformed(void);
static void test_sign(void);
static void test_jti(void);
static void test_seen(void);

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.keys[0].kid, "k2");
	memcpy(cfg.keys[0].secret, CUR, strlen(CUR));
	cfg.keys[0].secret_len = strlen(CUR);
	strcpy(cfg.keys[1].kid, "k1");
	memcpy(cfg.keys[1].secret, OLD, strlen(OLD));
	cfg.keys[1].secret_len = strlen(OLD);
	cfg.nkeys = 2;
	cfg.ttl = TTL;
	cfg.skew = SKEW;
}

static void
b64url(const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	unsigned acc = 0, bits = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*out++ = abc[(acc >> bits) & 63];
		}
	}
	if (bits)
		*out++ = abc[(acc << (6 - bits)) & 63];
	*out = '\0';
}

/* Decodes one base64url segment through OpenSSL's plain base64. */
static int
b64url_dec(const char *in, size_t len, char *out)
{
	char std[JWT_TOKEN_MAX + 4] = "";
	size_t n = 0;
	int r;

	for (; n < len; n++)
		std[n] = in[n] == '-' ? '+' : in[n] == '_' ? '/' : in[n];
	while (n % 4)
		std[n++] = '=';
	r = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)std, (int)n);
	if (r >= 0)
		out[r - (len % 4 ? 4 - (int)(len % 4) : 0)] = '\0';
	return r;
}

static const char *
payload(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pl, sizeof(pl), fmt, ap);
	va_end(ap);
	return pl;
}

/* Builds header.body.signature, the signature an HMAC with md over key, or
 * empty when md is NULL. */
static const char *
forge(const char *header, const char *body, const EVP_MD *md, const char *key)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char *p = tok;

	b64url(header, strlen(header), p);
	p += strlen(p);
	*p++ = '.';
	b64url(body, strlen(body), p);
	p += strlen(p);
	if (md)
		HMAC(md, key, (int)strlen(key), (unsigned char *)tok,
		     (size_t)(p - tok), mac, &mac_len);
	*p++ = '.';
	b64url(mac, mac_len, p);
	return tok;
}

/* Token t with a payload naming user 1 in place of its own, the header
 * and the signature kept. */
static const char *
other_payload(const char *t)
{
	char body[256];
	const char *dot = strchr(t, '.');

	snprintf(body, sizeof(body),
		 "{\"sub\":\"1\",\"iat\":%lld,\"exp\":%lld}", NOW, NOW + TTL);
	memcpy(tok, t, (size_t)(dot - t) + 1);
	b64url(body, strlen(body), tok + (dot - t) + 1);
	strcat(tok, strrchr(t, '.'));
	return tok;
}

static int
verify(const char *token)
{
	return verify_at(token, NOW);
}

static int
verify_at(const char *token, long long now)
{
	struct jwt_claims c;

	return jwt_verify(&cfg, token, strlen(token), (time_t)now, &c);
}

/* A valid token signed with the current key. */
static const char *
good(void)
{
	return forge(HDR,
		     payload("{\"sub\":\"42\",\"iat\":%lld,\"exp\":%lld}", NOW,
			     NOW + TTL),
		     EVP_sha256(), CUR);
}

static void
test_forged_algs(void)
{
	char saved[128];
	struct jwt_claims c;

	snprintf(saved, sizeof(saved), "{\"sub\":\"42\",\"exp\":%lld}",
		 NOW + 60);
	memset(&c, 0, sizeof(c));
	good();
	is_int(jwt_verify(&cfg, tok, strlen(tok), NOW, &c), 0,
	       "a well-formed HS256 token is accepted");
	is_str(c.sub, "42", "sub is returned");
	is_int(c.iat, NOW, "iat is returned");
	is_int(c.exp, NOW + TTL, "exp is returned");

	is_int(verify(forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", saved, NULL,
			    NULL)),
	       -EINVAL, "alg none with an empty signature is rejected");
	is_int(verify(forge("{\"alg\":\"None\"}", saved, NULL, NULL)), -EINVAL,
	       "alg None is rejected");
	is_int(verify(forge("{\"alg\":\"NONE\"}", saved, NULL, NULL)), -EINVAL,
	       "alg NONE is rejected");
	is_int(verify(forge("{\"alg\":\"none\",\"kid\":\"k2\"}", saved, NULL,
			    NULL)),
	       -EINVAL, "alg none with a kid is rejected");
	is_int(verify(forge("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", saved,
			    EVP_sha384(), CUR)),
	       -EINVAL, "HS384 signed with the right key is rejected");
	is_int(verify(forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", saved,
			    EVP_sha512(), CUR)),
	       -EINVAL, "HS512 signed with the right key is rejected");
	is_int(verify(forge("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", saved,
			    EVP_sha256(), CUR)),
	       -EINVAL, "RS256 header over an HMAC signature is rejected");
	is_int(verify(forge("{\"alg\":\"hs256\"}", saved, EVP_sha256(), CUR)),
	       -EINVAL, "alg hs256 (wrong case) is rejected");
	is_int(verify(forge("{\"typ\":\"JWT\"}", saved, EVP_sha256(), CUR)),
	       -EINVAL, "a header without alg is rejected");
	is_int(verify(forge("{\"alg\":[\"HS256\"]}", saved, EVP_sha256(), CUR)),
	       -EINVAL, "alg as an array is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\\u0000\"}", saved, EVP_sha256(),
			    CUR)),
	       -EINVAL, "alg with an embedded NUL is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\"}", saved, EVP_sha256(), CUR)),
	       0,
	       "a header of alg alone is accepted (kid defaults to current)");
}

static void
test_signature(void)
{
	char t[JWT_TOKEN_MAX];
	size_t n;

	strcpy(t, good());
	n = strlen(t);
	t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
	is_int(verify(t), -EINVAL, "a changed signature is rejected");

	strcpy(t, good());
	t[strlen(t) - 1] = '\0';
	is_int(verify(t), -EINVAL, "a truncated signature is rejected");

	strcpy(t, good());
	strcat(t, "AA");
	is_int(verify(t), -EINVAL, "an overlong signature is rejected");

	/* The last character of a 32-byte base64url value carries 2 unused
	 * bits: setting one gives a second spelling of the same bytes. */
	strcpy(t, good());
	n = strlen(t);
	t[n - 1] = abc[(strchr(abc, t[n - 1]) - abc) ^ 1];
	is_int(verify(t), -EINVAL, "a non-canonical signature is rejected");

	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld}", NOW + 60),
			    EVP_sha256(), EVIL)),
	       -EINVAL, "a token signed with another key is rejected");

	/* Swap in a payload naming another user, keeping the signature. */
	strcpy(t, good());
	is_int(verify(other_payload(t)), -EINVAL,
	       "a tampered payload is rejected");

	strcpy(t, good());
	strcat(t, "garbage");
	is_int(jwt_verify(&cfg, t, strlen(t) - 7, NOW,
			  &(struct jwt_claims){.iat = 0}),
	       0, "only token[0..len) is read");
}

static void
test_times(void)
{
	const EVP_MD *md = EVP_sha256();
	struct jwt_claims c;

	is_int(verify(forge(HDR, "{\"sub\":\"42\"}", md, CUR)), -EINVAL,
	       "missing exp is rejected");
	is_int(verify(forge(
		       HDR,
		       payload("{\"sub\":\"42\",\"exp\":\"%lld\"}", NOW + 60),
		       md, CUR)),
	       -EINVAL, "string exp is rejected");
	is_int(verify(forge(HDR, "{\"sub\":\"42\",\"exp\":null}", md, CUR)),
	       -EINVAL, "null exp is rejected");
	is_int(verify(forge(HDR, "{\"sub\":\"42\",\"exp\":true}", md, CUR)),
	       -EINVAL, "boolean exp is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld.5}", NOW + 60),
			    md, CUR)),
	       -EINVAL, "fractional exp is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld.0}", NOW + 60),
			    md, CUR)),
	       0, "integral float exp is accepted");
	is_int(verify(forge(HDR, "{\"sub\":\"42\",\"exp\":1e300}", md, CUR)),
	       -EINVAL, "exp beyond 63 bits is rejected");
	is_int(verify(forge(
		       HDR,
		       payload("{\"sub\":\"42\",\"exp\":%lld}", NOW - SKEW - 1),
		       md, CUR)),
	       -EINVAL, "exp past by more than the skew is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld}", NOW - SKEW),
			    md, CUR)),
	       0, "exp past by exactly the skew is accepted");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld}", NOW - 5),
			    md, CUR)),
	       0, "exp just past, within the skew, is accepted");

	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,\"nbf\":%lld}",
				    NOW + 600, NOW + SKEW + 1),
			    md, CUR)),
	       -EINVAL, "nbf in the future beyond the skew is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,\"nbf\":%lld}",
				    NOW + 600, NOW + SKEW),
			    md, CUR)),
	       0, "nbf within the skew is accepted");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"nbf\":\"%lld\"}",
				    NOW + 600, NOW),
			    md, CUR)),
	       -EINVAL, "string nbf is rejected");

	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,\"iat\":%lld}",
				    NOW + 600, NOW + SKEW + 1),
			    md, CUR)),
	       -EINVAL, "iat in the future beyond the skew is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,\"iat\":%lld}",
				    NOW + 600, NOW + SKEW),
			    md, CUR)),
	       0, "iat within the skew is accepted");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"iat\":\"%lld\"}",
				    NOW + 600, NOW),
			    md, CUR)),
	       -EINVAL, "string iat is rejected");

	c.iat = 7;
	forge(HDR, payload("{\"sub\":\"42\",\"exp\":%lld}", NOW + 60), md, CUR);
	is_int(jwt_verify(&cfg, tok, strlen(tok), NOW, &c), 0,
	       "a token without iat is accepted");
	is_int(c.iat, 0, "absent iat is returned as 0");
}

static void
test_sub(void)
{
	const EVP_MD *md = EVP_sha256();
	char body[256];
	struct jwt_claims c;

	is_int(verify(forge(HDR, payload("{\"exp\":%lld}", NOW + 60), md, CUR)),
	       -EINVAL, "missing sub is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"\",\"exp\":%lld}", NOW + 60),
			    md, CUR)),
	       -EINVAL, "empty sub is rejected");
	is_int(verify(forge(HDR, payload("{\"sub\":42,\"exp\":%lld}", NOW + 60),
			    md, CUR)),
	       -EINVAL, "numeric sub is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"4\\u00002\",\"exp\":%lld}",
				    NOW + 60),
			    md, CUR)),
	       -EINVAL, "sub with an embedded NUL is rejected");
	snprintf(body, sizeof(body), "{\"sub\":\"%0*d\",\"exp\":%lld}",
		 JWT_SUB_MAX + 1, 0, NOW + 60);
	is_int(verify(forge(HDR, body, md, CUR)), -EINVAL,
	       "sub of JWT_SUB_MAX + 1 bytes is rejected");
	snprintf(body, sizeof(body), "{\"sub\":\"%0*d\",\"exp\":%lld}",
		 JWT_SUB_MAX, 7, NOW + 60);
	forge(HDR, body, md, CUR);
	is_int(jwt_verify(&cfg, tok, strlen(tok), NOW, &c), 0,
	       "sub of JWT_SUB_MAX bytes is accepted");
	is_int(strlen(c.sub), JWT_SUB_MAX, "and returned whole");
}

static void
test_iss_aud(void)
{
	const EVP_MD *md = EVP_sha256();

	strcpy(cfg.issuer, "https://todo.example");
	strcpy(cfg.audience, "todo-api");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"iss\":\"https://todo.example\","
				    "\"aud\":\"todo-api\"}",
				    NOW + 60),
			    md, CUR)),
	       0, "right iss and aud are accepted");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"iss\":\"https://todo.example\","
				    "\"aud\":[\"other\",\"todo-api\"]}",
				    NOW + 60),
			    md, CUR)),
	       0, "aud as an array containing ours is accepted");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"iss\":\"https://todo.example\","
				    "\"aud\":[\"other\",1]}",
				    NOW + 60),
			    md, CUR)),
	       -EINVAL, "aud as an array without ours is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"iss\":\"https://evil.example\","
				    "\"aud\":\"todo-api\"}",
				    NOW + 60),
			    md, CUR)),
	       -EINVAL, "wrong iss is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"iss\":\"https://todo.example/\","
				    "\"aud\":\"todo-api\"}",
				    NOW + 60),
			    md, CUR)),
	       -EINVAL, "iss is compared exactly");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"aud\":\"todo-api\"}",
				    NOW + 60),
			    md, CUR)),
	       -EINVAL, "missing iss is rejected when configured");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"iss\":\"https://todo.example\","
				    "\"aud\":\"other\"}",
				    NOW + 60),
			    md, CUR)),
	       -EINVAL, "wrong aud is rejected");
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"iss\":\"https://todo.example\"}",
				    NOW + 60),
			    md, CUR)),
	       -EINVAL, "missing aud is rejected when configured");
	cfg.issuer[0] = cfg.audience[0] = '\0';
	is_int(verify(forge(HDR,
			    payload("{\"sub\":\"42\",\"exp\":%lld,"
				    "\"iss\":\"anyone\",\"aud\":\"anything\"}",
				    NOW + 60),
			    md, CUR)),
	       0, "iss and aud are not checked when not configured");
}

static void
test_header(void)
{
	const EVP_MD *md = EVP_sha256();
	char body[128];

	snprintf(body, sizeof(body), "{\"sub\":\"42\",\"exp\":%lld}", NOW + 60);
	is_int(verify(forge("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", body, md,
			    CUR)),
	       -EINVAL, "typ JWS is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\",\"typ\":null}", body, md, CUR)),
	       -EINVAL, "typ null is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", body, md,
			    CUR)),
	       -EINVAL, "a crit header is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k9\"}", body, md,
			    CUR)),
	       -EINVAL, "an unknown kid is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\",\"kid\":2}", body, md, CUR)),
	       -EINVAL, "a numeric kid is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k2\","
			    "\"jku\":\"https://evil.example/jwks.json\","
			    "\"x5u\":\"https://evil.example/cert.pem\","
			    "\"jwk\":{\"kty\":\"oct\",\"k\":\"ZXZpbA\"}}",
			    body, md, EVIL)),
	       -EINVAL, "jku/x5u/jwk do not supply a key");
	is_int(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k2\","
			    "\"jku\":\"https://evil.example/jwks.json\","
			    "\"x5u\":\"https://evil.example/cert.pem\","
			    "\"jwk\":{\"kty\":\"oct\",\"k\":\"ZXZpbA\"}}",
			    body, md, CUR)),
	       0, "jku/x5u/jwk are ignored with the right key");
}

static void
test_keys(void)
{
	const EVP_MD *md = EVP_sha256();
	char body[128];

	snprintf(body, sizeof(body), "{\"sub\":\"42\",\"exp\":%lld}", NOW + 60);
	is_int(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", body, md,
			    OLD)),
	       0, "the previous key is accepted by its kid");
	is_int(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k2\"}", body, md,
			    OLD)),
	       -EINVAL, "the previous key under the current kid is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\"}", body, md, OLD)), -EINVAL,
	       "the previous key without a kid is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", body, md,
			    CUR)),
	       -EINVAL, "the current key under the previous kid is rejected");
	cfg.nkeys = 1;
	is_int(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", body, md,
			    OLD)),
	       -EINVAL, "a removed key is rejected");
	cfg.nkeys = 0;
	is_int(verify(good()), -EINVAL, "no keys rejects everything");
	setup();
	cfg.keys[0].secret_len = 0;
	is_int(verify(forge("{\"alg\":\"HS256\"}", body, md, "")), -EINVAL,
	       "an empty key never verifies");
	setup();

	/* The HMAC contexts kept per thread follow the secret's bytes: a
	 * new secret under the same kid, and more secrets than the cache
	 * holds, one after another. */
	for (int i = 0; i < 2 * JWT_MAX_KEYS + 1; i++) {
		char secret[64];
		int all = 1;

		snprintf(secret, sizeof(secret),
			 "rotated-secret-%02d-0123456789abcdefghijkl", i);
		memcpy(cfg.keys[0].secret, secret, strlen(secret));
		cfg.keys[0].secret_len = strlen(secret);
		all = all && verify(forge(HDR, body, md, secret)) == 0;
		all = all && verify(forge(HDR, body, md, CUR)) == -EINVAL;
		if (i == 0 || i == 2 * JWT_MAX_KEYS)
			ok(all,
			   "secret %d of %d verifies, the original one no more",
			   i + 1, 2 * JWT_MAX_KEYS + 1);
		else if (!all)
			ok(0, "secret %d verifies, the original one no more",
			   i + 1);
	}
	setup();
	is_int(verify(good()), 0, "the first secret verifies again");
}

static void
test_malformed(void)
{
	char t[2 * JWT_TOKEN_MAX], body[2 * JWT_TOKEN_MAX];
	const EVP_MD *md = EVP_sha256();
	int pad;

	strcpy(t, good());
	*strrchr(t, '.') = '\0';
	is_int(verify(t), -EINVAL, "two segments are rejected");
	*strchr(t, '.') = '\0';
	is_int(verify(t), -EINVAL, "one segment is rejected");
	strcpy(t, good());
	strcat(t, ".");
	is_int(verify(t), -EINVAL, "a trailing dot is rejected");
	strcpy(t, good());
	strcat(t, ".AAAA");
	is_int(verify(t), -EINVAL, "four segments are rejected");
	is_int(verify(""), -EINVAL, "the empty token is rejected");
	is_int(verify(".."), -EINVAL, "empty segments are rejected");
	strcpy(t, good());
	t[3] = '+';
	is_int(verify(t), -EINVAL, "base64 '+' is rejected");
	strcpy(t, good());
	t[0] = '!';
	is_int(verify(t), -EINVAL, "a character outside base64url is rejected");
	strcpy(t, "=");
	strcat(t, good());
	is_int(verify(t), -EINVAL, "padding is rejected");
	snprintf(t, sizeof(t), "ee%s", good());
	is_int(verify(t), -EINVAL,
	       "a header of impossible base64 length is rejected");
	is_int(verify(forge("not json", "{}", md, CUR)), -EINVAL,
	       "a non-JSON header is rejected");
	is_int(verify(forge("[\"HS256\"]", "{}", md, CUR)), -EINVAL,
	       "a header that is an array is rejected");
	is_int(verify(forge("{\"alg\":\"HS256\"} ", "{}", md, CUR)), -EINVAL,
	       "trailing bytes after the header are rejected");
	is_int(verify(forge("{\"alg\":\"HS256\",\"x\":[[[[[[[[[1]]]]]]]]]}",
			    "{}", md, CUR)),
	       -EINVAL, "a deeply nested header is rejected");
	is_int(verify(forge(HDR, "not json", md, CUR)), -EINVAL,
	       "a non-JSON payload is rejected");
	is_int(verify(forge(HDR, "[1]", md, CUR)), -EINVAL,
	       "a payload that is an array is rejected");

	/* Grow a valid token until it passes the limit. */
	for (pad = 2800;; pad++) {
		snprintf(body, sizeof(body),
			 "{\"sub\":\"42\",\"exp\":%lld,\"pad\":\"%0*d\"}",
			 NOW + 60, pad, 0);
		forge(HDR, body, md, CUR);
		if (strlen(tok) > JWT_TOKEN_MAX)
			break;
		strcpy(t, tok);
	}
	is_int(verify(t), 0, "a token of %zu bytes is accepted", strlen(t));
	is_int(verify(tok), -EINVAL, "a token of %zu bytes is rejected",
	       strlen(tok));
	is_int(jwt_verify(&cfg, NULL, 0, NOW, &(struct jwt_claims){.iat = 0}),
	       -EINVAL, "a NULL token is rejected");
}

static void
test_sign(void)
{
	char *t = NULL, part[JWT_TOKEN_MAX], sub[JWT_SUB_MAX + 2];
	struct jwt_claims c;

	is_int(jwt_sign(&cfg, "user-17", NULL, (time_t)NOW, &t), 0,
	       "sign succeeds");
	memset(&c, 0, sizeof(c));
	is_int(jwt_verify(&cfg, t, strlen(t), (time_t)NOW, &c), 0,
	       "a signed token verifies");
	is_str(c.sub, "user-17", "round trip keeps sub");
	is_int(c.iat, NOW, "iat is now");
	is_int(c.exp, NOW + TTL, "exp is now + ttl");
	b64url_dec(t, (size_t)(strchr(t, '.') - t), part);
	ok(strstr(part, "\"alg\":\"HS256\"") != NULL,
	   "header has alg HS256: %s", part);
	ok(strstr(part, "\"typ\":\"JWT\"") != NULL, "header has typ JWT");
	ok(strstr(part, "\"kid\":\"k2\"") != NULL,
	   "header has the current kid");
	is_int(verify_at(t, NOW + TTL + SKEW), 0,
	       "accepted at expiry plus the skew");
	is_int(verify_at(t, NOW + TTL + SKEW + 1), -EINVAL,
	       "rejected after expiry plus the skew");

	/* Rotation: the old current key becomes a previous key. */
	cfg.keys[1] = cfg.keys[0];
	strcpy(cfg.keys[0].kid, "k3");
	memcpy(cfg.keys[0].secret, EVIL, strlen(EVIL));
	cfg.keys[0].secret_len = strlen(EVIL);
	is_int(verify(t), 0, "a token survives a key rotation");
	free(t);
	t = NULL;
	setup();

	strcpy(cfg.issuer, "https://todo.example");
	strcpy(cfg.audience, "todo-api");
	is_int(jwt_sign(&cfg, "user-17", NULL, (time_t)NOW, &t), 0,
	       "sign with iss and aud succeeds");
	is_int(verify(t), 0, "and verifies");
	b64url_dec(strchr(t, '.') + 1,
		   (size_t)(strrchr(t, '.') - strchr(t, '.') - 1), part);
	ok(strstr(part, "\"iss\":\"https://todo.example\"") &&
		   strstr(part, "\"aud\":\"todo-api\""),
	   "payload carries iss and aud: %s", part);
	free(t);
	t = NULL;
	setup();

	is_int(jwt_sign(&cfg, NULL, NULL, (time_t)NOW, &t), -EINVAL,
	       "NULL sub is refused");
	is_int(jwt_sign(&cfg, "", NULL, (time_t)NOW, &t), -EINVAL,
	       "empty sub is refused");
	memset(sub, 'x', sizeof(sub) - 1);
	sub[sizeof(sub) - 1] = '\0';
	is_int(jwt_sign(&cfg, sub, NULL, (time_t)NOW, &t), -EINVAL,
	       "overlong sub is refused");
	cfg.nkeys = 0;
	is_int(jwt_sign(&cfg, "42", NULL, (time_t)NOW, &t), -EINVAL,
	       "no key is refused");
	setup();
	cfg.keys[0].secret_len = JWT_SECRET_MIN - 1;
	is_int(jwt_sign(&cfg, "42", NULL, (time_t)NOW, &t), -EINVAL,
	       "a short key is refused");
	setup();
	ok(t == NULL, "failures leave the token untouched");
}

static void
test_jti(void)
{
	static const unsigned char rnd[8] = {0xff, 1, 2, 3, 4, 5, 6, 7};
	unsigned char b[16];
	char text[JWT_JTI_LEN + 1], *t = NULL, body[256];
	long long units = 0, u2 = 0;
	struct jwt_claims c;

	/* 2026-11-25T02:00:00.123Z and a fraction of 0xabc/4096 ms. */
	jwt_jti_format(1795579200123LL * 4096 + 0xabc, rnd, text);
	is_int((long long)strlen(text), JWT_JTI_LEN, "a jti is 36 characters");
	ok(text[14] == '7' && strchr("89ab", text[19]) != NULL,
	   "version 7, RFC 9562 variant: %s", text);
	is_int(jwt_jti_parse(text, b, &units), 0, "a formatted jti parses");
	ok(units == 1795579200123LL * 4096 + 0xabc,
	   "its time survives the round trip");
	jwt_jti_format(units + 1, rnd, text);
	jwt_jti_parse(text, b, &u2);
	ok(u2 == units + 1 && strcmp(text, "") != 0,
	   "1/4096 ms later is later");
	is_int(jwt_jti_parse("0190c5a8-7e1c-4abc-8def-0123456789ab", b, &units),
	       -EINVAL, "a UUIDv4 is not a jti");
	is_int(jwt_jti_parse("0190c5a8-7e1c-7abc-cdef-0123456789ab", b, &units),
	       -EINVAL, "another variant is not a jti");
	is_int(jwt_jti_parse("0190c5a87e1c-7abc-8def-0123456789ab-", b, &units),
	       -EINVAL, "misplaced hyphens are not a jti");
	is_int(jwt_jti_parse("0190c5a8-7e1c-7abc-8def-0123456789a", b, &units),
	       -EINVAL, "a short jti is refused");
	is_int(jwt_jti_parse("0190c5a8-7e1c-7abc-8def-0123456789ag", b, &units),
	       -EINVAL, "a non-hex jti is refused");

	jwt_jti_format(1795579200123LL * 4096, rnd, text);
	is_int(jwt_sign(&cfg, "17", text, (time_t)NOW, &t), 0,
	       "sign with a jti");
	memset(&c, 0, sizeof(c));
	is_int(jwt_verify(&cfg, t, strlen(t), (time_t)NOW, &c), 0,
	       "and it verifies");
	is_str(c.jti, text, "the jti round-trips");
	free(t);
	t = NULL;
	is_int(jwt_sign(&cfg, "17", "not-a-uuid", (time_t)NOW, &t), -EINVAL,
	       "sign refuses a malformed jti");
	snprintf(body, sizeof(body),
		 "{\"sub\":\"17\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"x\"}",
		 (long long)NOW, (long long)NOW + 60);
	is_int(verify(forge(HDR, body, EVP_sha256(), CUR)), -EINVAL,
	       "a token whose jti is not a UUIDv7 is refused");
	snprintf(body, sizeof(body),
		 "{\"sub\":\"17\",\"iat\":%lld,\"exp\":%lld,\"jti\":7}",
		 (long long)NOW, (long long)NOW + 60);
	is_int(verify(forge(HDR, body, EVP_sha256(), CUR)), -EINVAL,
	       "a token whose jti is a number is refused");
	snprintf(body, sizeof(body),
		 "{\"sub\":\"17\",\"iat\":%lld,\"exp\":%lld}", (long long)NOW,
		 (long long)NOW + 60);
	memset(&c, 0, sizeof(c));
	is_int(jwt_verify(&cfg, forge(HDR, body, EVP_sha256(), CUR),
			  strlen(forge(HDR, body, EVP_sha256(), CUR)), NOW, &c),
	       0, "a token without jti still verifies");
	is_str(c.jti, "", "and has an empty jti");
}

/* A token libjwt accepted once is not decoded by libjwt again on this
 * thread; everything else is checked at every use. */
static void
test_seen(void)
{
	const EVP_MD *md = EVP_sha256();
	char t[JWT_TOKEN_MAX];

	strcpy(t, good());
	is_int(verify(t), 0, "a token verifies");
	is_int(verify(t), 0, "the same token verifies again");
	is_int(verify_at(t, NOW + TTL + SKEW + 1), -EINVAL,
	       "a token seen before still expires");
	/* Its signature over another payload. */
	is_int(verify(other_payload(t)), -EINVAL,
	       "a seen signature does not vouch for another payload");
	/* The same claims signed with the other key: checked anew. */
	is_int(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}",
			    payload("{\"sub\":\"42\",\"iat\":%lld,\"exp\":%lld}",
				    NOW, NOW + TTL),
			    md, CUR)),
	       -EINVAL, "a seen token's claims under another kid are refused");
}

int
main(void)
{
	setup();
	test_forged_algs();
	test_signature();
	test_times();
	test_sub();
	test_iss_aud();
	test_header();
	test_keys();
	test_malformed();
	test_sign();
	test_jti();
	test_seen();
	return done();
}
