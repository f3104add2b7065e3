/* Small pure helpers: UTF-8, trimming, integers, RFC 3339, hex. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

static int digits(const char *s, size_t n, unsigned *ret);

long
utf8_count(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	long n = 0;

	while (i < len) {
		unsigned c = p[i];
		unsigned cp, need, min;

		if (c < 0x80) {
			i++;
			n++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			cp = c & 0x1f;
			need = 1;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			cp = c & 0x0f;
			need = 2;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			cp = c & 0x07;
			need = 3;
			min = 0x10000;
		} else {
			return -1;
		}
		if (len - i - 1 < need)
			return -1;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += need + 1;
		n++;
	}
	return n;
}

const char *
str_trim(const char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ||
			 *s == '\f' || *s == '\v')) {
		s++;
		n--;
	}
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
		s[n - 1] == '\r' || s[n - 1] == '\f' || s[n - 1] == '\v'))
		n--;
	*len = n;
	return s;
}

int
parse_uint(const char *s, size_t len, long long max, long long *ret)
{
	long long v = 0;

	if (len == 0 || len > 19)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (s[i] - '0' > max || v > (max - (s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

int
parse_id(const char *s, size_t len, long long *ret)
{
	long long v;

	if (len == 0 || s[0] == '0')
		return -EINVAL;
	if (parse_uint(s, len, INT64_MAX, &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int
digits(const char *s, size_t n, unsigned *ret)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

void
civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

int
rfc3339_parse(const char *s, size_t len, long long *ret_ms)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0;
	size_t i = 19;
	long long days, total;
	int sign = 0;

	if (len < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return -EINVAL;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &sec))
		return -EINVAL;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
	    sec > 60)
		return -EINVAL;
	if (d > mdays[mo - 1] + (mo == 2 && (y % 4 == 0 &&
					     (y % 100 != 0 || y % 400 == 0))))
		return -EINVAL;
	if (sec == 60) /* A leap second is folded into the next second. */
		sec = 59;
	if (s[i] == '.') {
		size_t start = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (i - start < 3)
				ms = ms * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (i == start)
			return -EINVAL;
		for (size_t k = i - start; k < 3; k++)
			ms *= 10;
	}
	if (i >= len)
		return -EINVAL;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '+' ? 1 : -1;
		if (len - i != 6 || s[i + 3] != ':' ||
		    digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return -EINVAL;
		i += 6;
	} else {
		return -EINVAL;
	}
	if (i != len)
		return -EINVAL;
	days = days_from_civil(y, mo, d);
	total = ((days * 24 + h) * 60 + mi) * 60 + sec;
	total -= sign * (long long)(oh * 3600 + om * 60);
	/* Keep the stored value within what DATETIME can hold. */
	if (total < days_from_civil(1000, 1, 1) * 86400 ||
	    total >= days_from_civil(10000, 1, 1) * 86400)
		return -EINVAL;
	*ret_ms = total * 1000 + ms;
	return 0;
}

/* Two decimal digits of v (0..99), by table: time_format writes forty
 * timestamps for a page of twenty todos. */
static void
put2(char *o, unsigned v)
{
	static const char d2[] = "00010203040506070809"
				 "10111213141516171819"
				 "20212223242526272829"
				 "30313233343536373839"
				 "40414243444546474849"
				 "50515253545556575859"
				 "60616263646566676869"
				 "70717273747576777879"
				 "80818283848586878889"
				 "90919293949596979899";

	o[0] = d2[2 * v];
	o[1] = d2[2 * v + 1];
}

void
time_format(long long ms, char out[TIME_STR_LEN + 1])
{
	long long secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	long long days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	unsigned rem = (unsigned)(secs - days * 86400);
	unsigned msec = (unsigned)(ms - secs * 1000), year;
	long long y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	year = y < 0 ? 0 : y > 9999 ? 9999 : (unsigned)y;
	/* YYYY-MM-DDTHH:MM:SS.mmmZ */
	put2(out, year / 100);
	put2(out + 2, year % 100);
	out[4] = '-';
	put2(out + 5, m);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = 'T';
	put2(out + 11, rem / 3600);
	out[13] = ':';
	put2(out + 14, rem / 60 % 60);
	out[16] = ':';
	put2(out + 17, rem % 60);
	out[19] = '.';
	out[20] = (char)('0' + msec / 100);
	put2(out + 21, msec % 100);
	out[23] = 'Z';
	out[24] = '\0';
}

long long
time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

bool
ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return false;
	return CRYPTO_memcmp(a, b, alen) == 0;
}
