/* Unit tests for revoke.c's set in memory (no database: the poller is not
 * started): token and user revocations, ordering by units, expiry, growth,
 * the revocation_max fallback, and the clock. */
#include <string.h>

#include "config.h"
#include "revoke.h"
#include "tap.h"
#include "util.h"

static void
jti_of(unsigned n, unsigned char out[16])
{
	memset(out, 0, 16);
	out[6] = 0x70;
	out[8] = 0x80;
	memcpy(out + 12, &n, sizeof(n));
}

int
main(void)
{
	struct config cfg;
	unsigned char a[16], b[16];
	long long now = time_now_ms(), t0, t1, later = now + 60000;
	bool all = true;

	memset(&cfg, 0, sizeof(cfg));
	cfg.revocation_max = 2000;
	is_int(revoke_init(&cfg), 0, "init");
	jti_of(1, a);
	jti_of(2, b);
	ok(!revoke_check(7, a, 100), "nothing revoked at first");

	revoke_add(7, a, 100, later);
	ok(revoke_check(7, a, 1), "a revoked jti is refused");
	ok(!revoke_check(7, b, 1), "another jti of the user is not");
	ok(!revoke_check(8, b, 1), "nor another user's");
	ok(!revoke_check(7, NULL, 1), "nor a token without jti");

	revoke_add(9, NULL, 5000, later);
	ok(revoke_check(9, b, 4999),
	   "a token before the user's cutoff is refused");
	ok(revoke_check(9, NULL, 4999), "also without a jti");
	ok(!revoke_check(9, b, 5000), "one issued at the cutoff is not");
	ok(!revoke_check(9, b, 5001), "nor one issued after it");
	revoke_add(9, NULL, 4000, later);
	ok(revoke_check(9, b, 4999), "an older cutoff does not lower it");
	revoke_add(9, NULL, 6000, later);
	ok(revoke_check(9, b, 5999), "a newer cutoff raises it");

	revoke_add(11, b, 1, now - 1);
	ok(!revoke_check(11, b, 0), "an expired revocation is not added");

	/* Growth: many tokens, all found. */
	for (unsigned i = 100; i < 1900; i++) {
		unsigned char j[16];

		jti_of(i, j);
		revoke_add(20, j, 1, later);
	}
	for (unsigned i = 100; i < 1900; i++) {
		unsigned char j[16];

		jti_of(i, j);
		all = all && revoke_check(20, j, 1);
	}
	ok(all, "1,800 revoked tokens are all found after the tables grew");
	ok(!revoke_check(20, b, 1), "and an unrevoked one is not");

	/* Past revocation_max: the user loses every token before it. */
	for (unsigned i = 2000; i < 2300; i++) {
		unsigned char j[16];

		jti_of(i, j);
		revoke_add(30, j, 777, later);
	}
	ok(revoke_check(30, b, 776),
	   "past revocation_max a user's older tokens are refused");
	ok(!revoke_check(30, b, 778), "but not the ones issued after");

	t0 = revoke_clock();
	t1 = revoke_clock();
	ok(t1 > t0, "the clock never repeats");
	ok(t0 / 4096 >= now - 1000 && t0 / 4096 <= now + 1000,
	   "and is in 1/4096 ms since the epoch");

	revoke_stop();
	ok(!revoke_check(7, a, 1), "stopped: the set is empty");
	return done();
}
