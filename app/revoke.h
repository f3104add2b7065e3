/* Token revocations in memory: the set every request's token is checked
 * against without a database read, kept fresh by a background thread that
 * reads the revocations table every revocation_poll_ms.
 *
 * Times are "units": 1/4096 ms since the epoch, the resolution of a
 * UUIDv7 jti (jwt.h), so tokens are ordered against a revocation finer
 * than iat's whole seconds. */
#ifndef TODOD_REVOKE_H
#define TODOD_REVOKE_H

#include <stdbool.h>

struct config;

/* Sizes the set from cfg (revocation_max). 0 or -ENOMEM. */
int revoke_init(const struct config *cfg);
/* Loads every live revocation (a failure is logged and retried by the
 * poller), then starts the poller. 0 or -errno. */
int revoke_start(const struct config *cfg);
/* Stops the poller and frees the set; harmless when not started. */
void revoke_stop(void);

/* True when a token of user uid, with jti bytes (NULL when it has none),
 * issued at units, has been revoked. Lock-free when nothing is revoked;
 * a read lock otherwise. */
bool revoke_check(long long uid, const unsigned char *jti, long long units);
/* Adds a revocation made by this process at once (the poller would find
 * it within one interval): one token (jti) or, jti NULL, every token of
 * uid issued before cutoff; it matters until expires_ms. */
void revoke_add(long long uid, const unsigned char *jti, long long cutoff,
		long long expires_ms);
/* How many revocations (token and user entries) are in memory now. */
unsigned long revoke_count(void);
/* The time now in units, strictly later than any earlier answer in this
 * process: a token minted after a revocation sorts after it. */
long long revoke_clock(void);

#endif
