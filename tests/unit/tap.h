/* A tiny TAP producer for the unit tests: ok(), is_int(), is_str(), done(). */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <stdarg.h>
#include <string.h>

static int tap_n;
static int tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                           \
	do {                                                             \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		if (!ok(g_ == w_, __VA_ARGS__))                          \
			printf("#   got %lld, want %lld\n", g_, w_);     \
	} while (0)
#define is_str(got, want, ...)                                          \
	do {                                                            \
		const char *g_ = (got), *w_ = (want);                   \
		int eq_ = (g_ == NULL && w_ == NULL) ||                 \
			  (g_ && w_ && strcmp(g_, w_) == 0);            \
		if (!ok(eq_, __VA_ARGS__))                              \
			printf("#   got \"%s\", want \"%s\"\n",         \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

__attribute__((format(printf, 4, 5), unused)) static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass)
		printf("#   at %s:%d\n", file, line);
	return pass;
}

__attribute__((unused)) static int
done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
