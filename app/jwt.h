/* HS256 JSON Web Tokens: signing with the current key, verification with
 * every claim checked here (libjwt 1.10 checks none and trusts the header's
 * alg), key selection by kid for secret rotation. */
#ifndef TODOD_JWT_H
#define TODOD_JWT_H

#include <stddef.h>
#include <time.h>

#define JWT_MAX_KEYS 8
#define JWT_KID_MAX 64
#define JWT_SECRET_MIN 32
#define JWT_SECRET_MAX 1024
#define JWT_TOKEN_MAX 4096 /* longer tokens are rejected before decoding */
#define JWT_SUB_MAX 64

struct jwt_key {
	char kid[JWT_KID_MAX + 1];
	unsigned char secret[JWT_SECRET_MAX];
	size_t secret_len;
};

struct jwt_config {
	/* keys[0] is the current key: it signs and verifies; the others are
	 * previous keys that only verify, selected by the token's kid. */
	struct jwt_key keys[JWT_MAX_KEYS];
	size_t nkeys;
	char issuer[256]; /* "" when not configured: not set, not checked */
	char audience[256]; /* "" when not configured: not set, not checked */
	long ttl; /* token lifetime in seconds */
	long skew; /* allowed clock skew in seconds */
};

#define JWT_JTI_LEN 36 /* a UUID's text form */

struct jwt_claims {
	char sub[JWT_SUB_MAX + 1];
	long long iat;
	long long exp;
	char jti[JWT_JTI_LEN + 1]; /* "" when the token has none */
};

/* Signs a token for sub with id jti (NULL: none), issued at now, expiring
 * at now + ttl. On success *ret_token is a NUL-terminated string the caller
 * releases with free(). Returns 0, -EINVAL (bad sub or jti, or no key) or
 * -ENOMEM. */
int jwt_sign(const struct jwt_config *cfg, const char *sub, const char *jti,
	     time_t now, char **ret_token);

/* A jti in UUIDv7 text form: its 16 bytes, and its time in 1/4096 ms since
 * the epoch (the 48-bit milliseconds and the 12 bits after the version).
 * Returns 0, or -EINVAL when jti is not a UUIDv7. Pure. */
int jwt_jti_parse(const char *jti, unsigned char ret_bytes[16],
		  long long *ret_units);
/* Writes the UUIDv7 text of (units, 62 random bits) into out. Pure. */
void jwt_jti_format(long long units, const unsigned char rnd[8],
		    char out[JWT_JTI_LEN + 1]);

/* Verifies token[0..len) at time now. Returns 0 and fills *ret_claims when
 * the token is valid; -EINVAL for any rejection (malformed, too long, alg
 * other than HS256, typ other than JWT, unknown kid, bad signature, exp
 * missing/non-numeric/expired beyond skew, nbf or iat in the future beyond
 * skew, sub missing/empty/non-string/too long, iss or aud wrong when
 * configured, jti present but not a UUIDv7 string); -ENOMEM on allocation failure. Pure: no I/O, no logging. */
int jwt_verify(const struct jwt_config *cfg, const char *token, size_t len,
	       time_t now, struct jwt_claims *ret_claims);

#endif
