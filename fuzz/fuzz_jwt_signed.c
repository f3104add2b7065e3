/* Fuzzes what jwt_verify does behind the signature check: the harness signs
 * the fuzzed header and claims itself, so libjwt's decoder and the claim
 * checks see arbitrary JSON. Input: one flags byte, then the header JSON, a
 * NUL, and the claims JSON (no NUL: all claims, with a standard header).
 * Flags: bit 0 configures iss and aud; bit 1 signs with the previous key;
 * bit 2 signs with a key the service does not have, which must fail. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "jwt.h"

#define NOW 1764000000L
#define KEY1 "todod-fuzz-current-key-0123456789abcdef"
#define KEY0 "todod-fuzz-previous-key-0123456789abcdef"
#define EVIL "todod-fuzz-attacker-key-0123456789abcdef"
#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"

enum {
	F_ISS_AUD = 1 << 0,
	F_OLD_KEY = 1 << 1,
	F_EVIL_KEY = 1 << 2,
};

static struct jwt_config plain, strict;

static void add_key(struct jwt_config *cfg, const char *kid,
		    const char *secret);
static size_t b64url(const void *in, size_t len, char *out);
int LLVMFuzzerInitialize(int *argc, char ***argv);
static void
add_key(struct jwt_config *cfg, const char *kid, const char *secret)
{
	struct jwt_key *k = &cfg->keys[cfg->nkeys++];

	strcpy(k->kid, kid);
	k->secret_len = strlen(secret);
	memcpy(k->secret, secret, k->secret_len);
}

static size_t
b64url(const void *in, size_t len, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = in;
	unsigned acc = 0, bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = abc[(acc >> bits) & 63];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits)
		out[o++] = abc[(acc << (6 - bits)) & 63];
	return o;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	add_key(&plain, "k1", KEY1);
	add_key(&plain, "k0", KEY0);
	plain.ttl = 1800;
	plain.skew = 30;
	strict = plain;
	strcpy(strict.issuer, "todod");
	strcpy(strict.audience, "todod-api");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct jwt_config *cfg;
	const char *hdr, *body, *nul, *secret;
	size_t hdr_len, body_len, n;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	struct jwt_claims c;
	unsigned flags;
	char *tok;
	int r;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	nul = memchr(data, '\0', size);
	if (nul) {
		hdr = (const char *)data;
		hdr_len = (size_t)(nul - hdr);
		body = nul + 1;
		body_len = size - hdr_len - 1;
	} else {
		hdr = HDR;
		hdr_len = strlen(HDR);
		body = (const char *)data;
		body_len = size;
	}
	cfg = flags & F_ISS_AUD ? &strict : &plain;
	secret = flags & F_EVIL_KEY ? EVIL : flags & F_OLD_KEY ? KEY0 : KEY1;

	/* Sized exactly, so that ASan sees any read past the token. */
	tok = malloc((hdr_len * 4 + 2) / 3 + (body_len * 4 + 2) / 3 + 2 + 43);
	if (!tok)
		abort();
	n = b64url(hdr, hdr_len, tok);
	tok[n++] = '.';
	n += b64url(body, body_len, tok + n);
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret),
		  (const unsigned char *)tok, n, mac, &mac_len))
		abort();
	tok[n++] = '.';
	n += b64url(mac, mac_len, tok + n);
	tok = realloc(tok, n);
	if (!tok)
		abort();

	memset(&c, 0xa5, sizeof(c));
	r = jwt_verify(cfg, tok, n, NOW, &c);
	CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == 0) {
		size_t sub_len = strnlen(c.sub, sizeof(c.sub));

		CHECK(!(flags & F_EVIL_KEY));
		CHECK(n <= JWT_TOKEN_MAX);
		CHECK(sub_len >= 1 && sub_len <= JWT_SUB_MAX);
		CHECK(c.exp >= NOW - cfg->skew);
		CHECK(c.iat <= NOW + cfg->skew);
	}
	free(tok);
	return 0;
}
