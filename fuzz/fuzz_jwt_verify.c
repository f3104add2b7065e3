/* Fuzzes jwt_verify with raw bearer tokens. The seed corpus holds a valid
 * token from jwt_sign with the key below at NOW (kid "k1", sub "42"), so
 * mutations start from past the signature check; whatever is accepted must
 * carry a genuine HMAC under a configured key. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "jwt.h"

#define NOW 1764000000L /* the seed token's iat; it expires 1800 s later */
#define KEY1 "todod-fuzz-current-key-0123456789abcdef"
#define KEY0 "todod-fuzz-previous-key-0123456789abcdef"

static struct jwt_config cfg;

static void add_key(const char *kid, const char *secret);
static bool genuine(const char *tok, size_t len);
int LLVMFuzzerInitialize(int *argc, char ***argv);
static void
add_key(const char *kid, const char *secret)
{
	struct jwt_key *k = &cfg.keys[cfg.nkeys++];

	strcpy(k->kid, kid);
	k->secret_len = strlen(secret);
	memcpy(k->secret, secret, k->secret_len);
}

/* Recomputes HS256 over header.payload with every configured key. */
static bool
genuine(const char *tok, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *dot = memchr(tok, '.', len), *dot2;
	unsigned char mac[EVP_MAX_MD_SIZE];
	char sig[64];

	if (!dot)
		return false;
	dot2 = memchr(dot + 1, '.', len - (size_t)(dot + 1 - tok));
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - tok)) ||
	    len - (size_t)(dot2 + 1 - tok) != 43)
		return false;
	for (size_t k = 0; k < cfg.nkeys; k++) {
		unsigned mac_len = 0;
		unsigned acc = 0, bits = 0;
		size_t o = 0;

		if (!HMAC(EVP_sha256(), cfg.keys[k].secret,
			  (int)cfg.keys[k].secret_len,
			  (const unsigned char *)tok, (size_t)(dot2 - tok), mac,
			  &mac_len))
			abort();
		for (unsigned i = 0; i < mac_len; i++) {
			acc = (acc << 8) | mac[i];
			bits += 8;
			while (bits >= 6) {
				bits -= 6;
				sig[o++] = abc[(acc >> bits) & 63];
			}
		}
		if (bits)
			sig[o++] = abc[(acc << (6 - bits)) & 63];
		if (o == 43 && memcmp(sig, dot2 + 1, 43) == 0)
			return true;
	}
	return false;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct jwt_claims c;
	char *tok = NULL;

	(void)argc;
	(void)argv;
	add_key("k1", KEY1);
	add_key("k0", KEY0);
	cfg.ttl = 1800;
	cfg.skew = 30;
	/* The harness and the seed must agree, or the fuzzer wastes its time
	 * in front of the signature check. */
	if (jwt_sign(&cfg, "42", NULL, NOW, &tok) != 0 ||
	    jwt_verify(&cfg, tok, strlen(tok), NOW, &c) != 0 ||
	    strcmp(c.sub, "42") != 0 || !genuine(tok, strlen(tok))) {
		fprintf(stderr,
			"fuzz_jwt_verify: sign/verify round trip fails\n");
		abort();
	}
	free(tok);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tok = (const char *)data;
	struct jwt_claims c;
	size_t sub_len;
	int r;

	memset(&c, 0xa5, sizeof(c));
	r = jwt_verify(&cfg, tok, size, NOW, &c);
	CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r != 0)
		return 0;
	CHECK(size <= JWT_TOKEN_MAX);
	CHECK(genuine(tok, size));
	sub_len = strnlen(c.sub, sizeof(c.sub));
	CHECK(sub_len >= 1 && sub_len <= JWT_SUB_MAX);
	CHECK(c.exp >= NOW - cfg.skew);
	CHECK(c.iat <= NOW + cfg.skew);
	return 0;
}
