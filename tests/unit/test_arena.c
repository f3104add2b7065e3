/* Unit tests for arena.c: chunk growth, large and aligned allocations,
 * string helpers, deferred cleanups in reverse order, reuse after reset. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "tap.h"

static char order[64];
static size_t norder;

static void record(void *arg);
static void free_ptr(void *arg);
static void test_many(void);
static void test_large(void);
static void test_align(void);
static void test_strings(void);
static void test_defer_reset(void);
static void test_defer_free(void);
static void test_reuse(void);
static void test_overflow(void);

static void
record(void *arg)
{
	if (norder < sizeof(order) - 1)
		order[norder++] = *(const char *)arg;
	order[norder] = '\0';
}

static void
free_ptr(void *arg)
{
	free(arg);
}

static void
test_many(void)
{
	struct arena *a = arena_new(1024);
	unsigned char *p[1000];
	int bad_fill = 0, overlap = 0, null = 0;

	ok(a != NULL, "arena_new(1024)");
	/* 1000 * 48 bytes spans many 1 KiB chunks. */
	for (int i = 0; i < 1000; i++) {
		p[i] = arena_alloc(a, 40);
		if (!p[i]) {
			null++;
			continue;
		}
		memset(p[i], i & 0xff, 40);
	}
	for (int i = 0; i < 1000; i++) {
		if (!p[i])
			continue;
		for (int k = 0; k < 40; k++)
			if (p[i][k] != (unsigned char)(i & 0xff))
				bad_fill++;
		if (i > 0 && p[i - 1] && p[i] >= p[i - 1] &&
		    p[i] < p[i - 1] + 40)
			overlap++;
	}
	is_int(null, 0, "1000 allocations across chunk boundaries all succeed");
	is_int(bad_fill, 0, "no allocation overwrote another");
	is_int(overlap, 0, "consecutive allocations do not overlap");

	/* Exactly filling a chunk, then one more byte. */
	arena_reset(a);
	{
		unsigned char *x = arena_alloc(a, 1024);
		unsigned char *y = arena_alloc(a, 1);

		ok(x && y, "a chunk-sized allocation then one more byte");
		if (x && y) {
			memset(x, 0xaa, 1024);
			*y = 0x55;
			ok(x[1023] == 0xaa && *y == 0x55,
			   "full chunk and the next allocation are distinct");
		}
	}
	arena_free(a);
}

static void
test_large(void)
{
	struct arena *a = arena_new(1024);
	unsigned char *small1, *big, *small2;
	size_t bigsize = 100000;
	int bad = 0;

	small1 = arena_alloc(a, 100);
	big = arena_alloc(a, bigsize);
	small2 = arena_alloc(a, 100);
	ok(small1 && big && small2, "allocation larger than the chunk size");
	if (small1 && big && small2) {
		memset(small1, 1, 100);
		memset(big, 2, bigsize);
		memset(small2, 3, 100);
		for (size_t i = 0; i < bigsize; i++)
			if (big[i] != 2)
				bad++;
		for (size_t i = 0; i < 100; i++)
			if (small1[i] != 1 || small2[i] != 3)
				bad++;
		is_int(bad, 0,
		       "large block and neighbours keep their contents");
	}
	/* Several large blocks in a row, then reset and again. */
	for (int round = 0; round < 3; round++) {
		int fails = 0;

		for (int i = 0; i < 5; i++) {
			unsigned char *q = arena_alloc(a, 5000 + (size_t)i);

			if (!q)
				fails++;
			else
				memset(q, 0x7f, 5000 + (size_t)i);
		}
		is_int(fails, 0, "round %d: five 5 KB blocks in a 1 KiB arena",
		       round);
		arena_reset(a);
	}
	arena_free(a);
}

static void
test_align(void)
{
	struct arena *a = arena_new(4096);
	int misaligned = 0;
	size_t sizes[] = {1, 3, 7, 15, 16, 17, 31, 33, 100, 1000, 5000, 0};

	for (int round = 0; round < 20; round++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			void *p = arena_alloc(a, sizes[i]);

			if (!p || (uintptr_t)p % 16 != 0)
				misaligned++;
		}
	is_int(misaligned, 0, "every allocation is 16-byte aligned");
	{
		char *s = arena_strdup(a, "x");
		long double *ld = arena_alloc(a, sizeof(long double));

		ok(s && (uintptr_t)s % 16 == 0, "strdup result aligned");
		ok(ld && (uintptr_t)ld % _Alignof(long double) == 0,
		   "long double storage aligned");
		if (ld)
			*ld = 1.5L;
	}
	{
		unsigned char *z = arena_calloc(a, 300);
		int nonzero = 0;

		ok(z != NULL, "arena_calloc");
		for (int i = 0; z && i < 300; i++)
			if (z[i])
				nonzero++;
		is_int(nonzero, 0, "arena_calloc zeroes the memory");
	}
	/* calloc after reset must zero memory that held data before. */
	arena_reset(a);
	memset(arena_alloc(a, 256), 0xee, 256);
	arena_reset(a);
	{
		unsigned char *z = arena_calloc(a, 256);
		int nonzero = 0;

		for (int i = 0; z && i < 256; i++)
			if (z[i])
				nonzero++;
		ok(z && nonzero == 0, "arena_calloc zeroes reused memory");
	}
	arena_free(a);
}

static void
test_strings(void)
{
	struct arena *a = arena_new(1024);
	char big[3000];
	char *s;

	is_str(arena_strdup(a, "hello"), "hello", "arena_strdup");
	is_str(arena_strdup(a, ""), "", "arena_strdup of empty string");
	is_str(arena_strndup(a, "hello world", 5), "hello",
	       "arena_strndup stops at n");
	s = arena_strndup(a, "ab\0cd", 5);
	ok(s && memcmp(s, "ab\0cd", 6) == 0,
	   "arena_strndup copies embedded NUL");
	is_str(arena_strndup(a, "xyz", 0), "", "arena_strndup n=0");
	is_str(arena_printf(a, "%s=%d/%05.1f", "k", -42, 3.14159),
	       "k=-42/003.1", "arena_printf formats");
	is_str(arena_printf(a, "%s", ""), "", "arena_printf empty");

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = arena_printf(a, "<%s>", big);
	ok(s && strlen(s) == sizeof(big) + 1 && s[0] == '<' &&
		   s[sizeof(big)] == '>' && s[1500] == 'q',
	   "arena_printf output larger than a chunk");
	s = arena_strdup(a, big);
	ok(s && strcmp(s, big) == 0, "arena_strdup larger than a chunk");
	arena_free(a);
}

static void
test_defer_reset(void)
{
	struct arena *a = arena_new(1024);
	static const char tags[] = "abcde";

	norder = 0;
	order[0] = '\0';
	for (int i = 0; i < 5; i++)
		is_int(arena_defer(a, record, (void *)&tags[i]), 0, "defer %c",
		       tags[i]);
	is_str(order, "", "nothing runs before reset");
	arena_reset(a);
	is_str(order, "edcba", "defers run in reverse order at reset");
	arena_reset(a);
	is_str(order, "edcba", "a second reset runs nothing again");

	/* Defers registered after a reset run at the next one, once. */
	norder = 0;
	order[0] = '\0';
	arena_defer(a, record, (void *)&tags[0]);
	for (int i = 0; i < 200; i++) /* the defer record must survive growth */
		arena_alloc(a, 100);
	arena_defer(a, record, (void *)&tags[1]);
	arena_reset(a);
	is_str(order, "ba", "defers across chunk growth run in reverse order");

	/* Foreign objects released by a defer: ASan reports a leak if not. */
	for (int i = 0; i < 10; i++)
		arena_defer(a, free_ptr, malloc(64));
	arena_reset(a);
	arena_free(a);
}

static void
test_defer_free(void)
{
	struct arena *a = arena_new(1024);
	static const char tags[] = "xyz";

	norder = 0;
	order[0] = '\0';
	for (int i = 0; i < 3; i++)
		arena_defer(a, record, (void *)&tags[i]);
	arena_defer(a, free_ptr, malloc(32));
	arena_free(a);
	is_str(order, "zyx", "defers run in reverse order at arena_free");
	arena_free(NULL);
	ok(1, "arena_free(NULL) is a no-op");
}

static void
test_reuse(void)
{
	struct arena *a = arena_new(1024);
	void *first, *again;

	first = arena_alloc(a, 64);
	arena_reset(a);
	again = arena_alloc(a, 64);
	ok(first == again, "reset reuses the first chunk");

	/* Many grow/reset cycles: with a leak, ASan's leak check fails. */
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 50; i++)
			memset(arena_alloc(a, 200), round & 0xff, 200);
		arena_alloc(a, 20000);
		arena_reset(a);
	}
	again = arena_alloc(a, 64);
	ok(first == again,
	   "after 200 grow/reset cycles the first chunk is reused");
	arena_free(a);
}

static void
test_overflow(void)
{
	struct arena *a = arena_new(1024);

	ok(arena_alloc(a, SIZE_MAX) == NULL, "arena_alloc(SIZE_MAX) fails");
	ok(arena_alloc(a, SIZE_MAX - 8) == NULL,
	   "arena_alloc(SIZE_MAX - 8) fails");
	ok(arena_strndup(a, "x", SIZE_MAX) == NULL,
	   "arena_strndup(SIZE_MAX) fails");
	is_str(arena_strdup(a, "still usable"), "still usable",
	       "arena usable after failed allocations");
	arena_free(a);

	a = arena_new(0);
	ok(a != NULL, "arena_new(0) uses a minimum chunk size");
	ok(a && arena_alloc(a, 10) != NULL, "and allocates");
	arena_free(a);
}

int
main(void)
{
	test_many();
	test_large();
	test_align();
	test_strings();
	test_defer_reset();
	test_defer_free();
	test_reuse();
	test_overflow();
	return done();
}
