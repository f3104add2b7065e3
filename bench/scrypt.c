/* bench/scrypt.c: what one password hash costs, for bench/run.sh's sign-in
 * ceiling (cores / the time of one hash). Better Auth's scrypt as
 * app/password.c computes it: N=16384, r=16, p=1, a 64-byte key, maxmem
 * 64 MiB, the salt being the 32 hex characters of the stored hash (text).
 *
 *   cc -O2 bench/scrypt.c -lcrypto -o build/bench-scrypt
 *   cc -O2 -DHAVE_SODIUM bench/scrypt.c -lcrypto -lsodium -o build/bench-scrypt
 *   build/bench-scrypt [rounds (5)]
 *
 * Each round hashes the Node vector of tests/unit/test_password.c once with
 * OpenSSL's EVP_PBE_scrypt as it comes (its 32 MiB buffer allocated, page
 * faulted and freed per hash), once with OpenSSL keeping that buffer from
 * one hash to the next (what app/password.c's hashing threads do, through
 * CRYPTO_set_mem_functions), and (built with HAVE_SODIUM) once with
 * libsodium's crypto_pwhash_scryptsalsa208sha256_ll (which allocates per
 * hash), rotating which goes first, and checks every key against the vector
 * (so all give the same bytes). Prints one line per hash, then a
 * machine-readable line:
 *
 *   SCRYPT rounds=R openssl_ms=.. openssl_cpu_ms=.. kept_ms=.. \
 *          kept_cpu_ms=.. sodium_ms=.. sodium_cpu_ms=.. identical=1
 *
 * (medians of wall and thread CPU time; sodium_* are "-" without libsodium;
 * identical=0 when any key differed from the vector). Exits 1 on a
 * mismatch or a failed hash. Not part of the service. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#ifdef HAVE_SODIUM
#include <sodium.h>
#endif

#define N_COST 16384
#define R_COST 16
#define P_COST 1
#define KEY_LEN 64
#define MAXMEM (64 * 1024 * 1024)

/* From Node 20 (tests/unit/test_password.c): scrypt(pw, salthex, 64, ...). */
static const char password[] = "correct horse battery staple";
static const char salt[] = "5f0c2a9e7d41b3863e1af47c20d95b6e";
static const char want_hex[] =
	"eae035aa21e16886873ff66adf031aa10554f9796b19dd77a77c309542ca515c"
	"f5a24c4f3e9031826f1b79a5152ec98346a10068d5b5d03bcff347e93a63c699";

static double
now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* 1 when key is the vector's. */
static int
matches(const unsigned char key[KEY_LEN])
{
	char hex[2 * KEY_LEN + 1];

	for (int i = 0; i < KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	return strcmp(hex, want_hex) == 0;
}

/* OpenSSL's allocations: a block of at least 16 MiB is kept for the next
 * hash while keep is set (one hash at a time here, so one block). */
static int keep;
static void *kept_block;
static size_t kept_size;
static int kept_busy;

static void *
mem_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (keep && n >= 16 * 1024 * 1024 && !kept_busy) {
		if (kept_block && kept_size < n) {
			free(kept_block);
			kept_block = NULL;
		}
		if (!kept_block) {
			kept_block = malloc(n);
			kept_size = n;
		}
		if (kept_block) {
			kept_busy = 1;
			return kept_block;
		}
	}
	return malloc(n);
}

static void *
mem_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return p && p == kept_block ? NULL : realloc(p, n);
}

static void
mem_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	if (p && p == kept_block)
		kept_busy = 0;
	else
		free(p);
}

/* One hash with variant lib (0 OpenSSL, 1 OpenSSL with its buffer kept,
 * 2 libsodium): its wall and CPU milliseconds; -1 when it failed. */
static int
one(int lib, unsigned char key[KEY_LEN], double *wall, double *cpu)
{
	double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
	int ok;

	memset(key, 0, KEY_LEN);
	keep = lib == 1;
	if (lib < 2)
		ok = EVP_PBE_scrypt(password, strlen(password),
				    (const unsigned char *)salt, strlen(salt),
				    N_COST, R_COST, P_COST, MAXMEM, key,
				    KEY_LEN) == 1;
	else
#ifdef HAVE_SODIUM
		ok = crypto_pwhash_scryptsalsa208sha256_ll(
			     (const uint8_t *)password, strlen(password),
			     (const uint8_t *)salt, strlen(salt), N_COST,
			     R_COST, P_COST, key, KEY_LEN) == 0;
#else
		ok = 0;
#endif
	*wall = now_ms(CLOCK_MONOTONIC) - w0;
	*cpu = now_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = {"openssl", "openssl-kept",
					    "libsodium"};
	int rounds = argc > 1 ? atoi(argv[1]) : 5, nlibs = 2, identical = 1;
	double *wall[3], *cpu[3];
	unsigned char key[KEY_LEN];

	/* Before OpenSSL allocates anything. */
	if (!CRYPTO_set_mem_functions(mem_malloc, mem_realloc, mem_free)) {
		fprintf(stderr, "bench-scrypt: CRYPTO_set_mem_functions failed\n");
		return 1;
	}
	if (rounds < 1 || rounds > 1000) {
		fprintf(stderr, "usage: %s [rounds 1..1000]\n", argv[0]);
		return 2;
	}
#ifdef HAVE_SODIUM
	if (sodium_init() < 0) {
		fprintf(stderr, "bench-scrypt: sodium_init failed\n");
		return 1;
	}
	nlibs = 3;
#endif
	for (int l = 0; l < 3; l++) {
		wall[l] = calloc((size_t)rounds, sizeof(double));
		cpu[l] = calloc((size_t)rounds, sizeof(double));
		if (!wall[l] || !cpu[l])
			return 1;
	}
	/* The kept buffer back to back, as a hashing thread of todod runs
	 * it; its first hash faults it in (once per thread in todod): not a
	 * round. Then the two that allocate per hash, alternated: neither
	 * always runs on a warm cache or right after the other's faults. */
	for (int i = -1; i < rounds; i++) {
		int j = i < 0 ? 0 : i;

		if (one(1, key, &wall[1][j], &cpu[1][j]) < 0) {
			fprintf(stderr, "bench-scrypt: %s failed\n", names[1]);
			return 1;
		}
		if (!matches(key))
			identical = 0;
		if (i >= 0)
			printf("%s round %d: %.1f ms (cpu %.1f ms)%s\n",
			       names[1], i + 1, wall[1][i], cpu[1][i],
			       matches(key) ? ""
					    : " KEY DIFFERS FROM THE VECTOR");
	}
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < nlibs - 1; k++) {
			int l = (i + k) % (nlibs - 1) == 0 ? 0 : 2;

			if (one(l, key, &wall[l][i], &cpu[l][i]) < 0) {
				fprintf(stderr, "bench-scrypt: %s failed\n",
					names[l]);
				return 1;
			}
			if (!matches(key))
				identical = 0;
			printf("%s round %d: %.1f ms (cpu %.1f ms)%s\n", names[l],
			       i + 1, wall[l][i], cpu[l][i],
			       matches(key) ? "" : " KEY DIFFERS FROM THE VECTOR");
		}
	}
	printf("SCRYPT rounds=%d openssl_ms=%.1f openssl_cpu_ms=%.1f", rounds,
	       median(wall[0], rounds), median(cpu[0], rounds));
	printf(" kept_ms=%.1f kept_cpu_ms=%.1f", median(wall[1], rounds),
	       median(cpu[1], rounds));
	if (nlibs == 3)
		printf(" sodium_ms=%.1f sodium_cpu_ms=%.1f",
		       median(wall[2], rounds), median(cpu[2], rounds));
	else
		printf(" sodium_ms=- sodium_cpu_ms=-");
	printf(" identical=%d\n", identical);
	return identical ? 0 : 1;
}
