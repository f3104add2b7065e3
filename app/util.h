/* Small pure helpers over (pointer, length): UTF-8, trimming, integers,
 * RFC 3339 times, hex, constant-time compare. No I/O. */
#ifndef TODOD_UTIL_H
#define TODOD_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#define TIME_STR_LEN 24 /* "2026-11-25T02:00:00.000Z" without NUL */

/* Number of code points in s[0..len), or -1 when s is not valid UTF-8
 * (overlongs, surrogates and values above U+10FFFF are invalid). */
long utf8_count(const char *s, size_t len);
/* Trims ASCII whitespace at both ends; returns the new start, sets *len. */
const char *str_trim(const char *s, size_t *len);
/* Parses a positive decimal integer that fits in 63 bits: digits only, no
 * sign, no leading zero. Returns 0 or -EINVAL. */
int parse_id(const char *s, size_t len, long long *ret);
/* Parses a non-negative decimal integer <= max. Returns 0 or -EINVAL. */
int parse_uint(const char *s, size_t len, long long max, long long *ret);
/* Parses an RFC 3339 date-time (T or t, fraction of any length, Z or
 * +hh:mm/-hh:mm) into milliseconds since the epoch, UTC, years 0001-9999.
 * Returns 0 or -EINVAL. */
int rfc3339_parse(const char *s, size_t len, long long *ret_ms);
/* Formats ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void time_format(long long ms, char out[TIME_STR_LEN + 1]);
/* Milliseconds since the epoch now. */
long long time_now_ms(void);
/* Days-from-civil conversions (proleptic Gregorian, UTC). */
long long days_from_civil(long long y, unsigned m, unsigned d);
void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d);
void hex_encode(const unsigned char *in, size_t len, char *out);
/* The value of a hex digit (either case), or -1. */
int hex_digit(char c);
/* Constant-time equality of two byte strings of possibly different length. */
bool ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
