/* Unit tests for password.c: format, verification, NFKC, malformed input,
 * and vectors computed independently with Node's crypto.scrypt. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

#include "password.h"
#include "tap.h"

/* From Node 20: scrypt(pw.normalize('NFKC'), salthex, 64,
 * {N: 16384, r: 16, p: 1, maxmem: 64 * 1024 * 1024}). */
#define ASCII_PW "correct horse battery staple"
#define ASCII_HASH                                                         \
	"5f0c2a9e7d41b3863e1af47c20d95b6e:"                                \
	"eae035aa21e16886873ff66adf031aa10554f9796b19dd77a77c309542ca515c" \
	"f5a24c4f3e9031826f1b79a5152ec98346a10068d5b5d03bcff347e93a63c699"
/* U+FB01 LATIN SMALL LIGATURE FI, "anc", U+00E9, " ", fullwidth "Pass". */
#define UNI_PW         \
	"\xef\xac\x81" \
	"anc\xc3\xa9 " \
	"\xef\xbc\xb0\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93"
#define UNI_NFKC "fianc\xc3\xa9 Pass"
/* The same with e + U+0301 COMBINING ACUTE ACCENT. */
#define UNI_NFD "fiance\xcc\x81 Pass"
#define UNI_HASH                                                           \
	"a3d81f60c4e29b7513fe06ad8c2b4971:"                                \
	"fa7e2ba4e358498913a714f97c947248238b49f1a44f2caa2a3bfac6103f0d1b" \
	"a779f6fab91cf12b6a0f5469f9f9081523e7a2c20b8876daeff42aaecb110602"

static int verify(const char *pw, const char *stored);
static int well_formed(const char *h);
static void *verify_thread(void *arg);
static void test_format(void);
static void test_vectors(void);
static void test_nfkc(void);
static void test_malformed(void);
static void test_concurrency(void);
static void test_common(void);
static void test_hashers(void);
static int four_verify(void);
static void one_slot_busy(const char *how);
static int niced_threads(int nice);

static int
verify(const char *pw, const char *stored)
{
	return password_verify(pw, strlen(pw), stored);
}

static int
well_formed(const char *h)
{
	if (strlen(h) != PASSWORD_HASH_LEN || h[32] != ':')
		return 0;
	for (size_t i = 0; i < PASSWORD_HASH_LEN; i++)
		if (i != 32 && !strchr("0123456789abcdef", h[i]))
			return 0;
	return 1;
}

static void *
verify_thread(void *arg)
{
	*(int *)arg = verify(ASCII_PW, ASCII_HASH);
	return NULL;
}

static void
test_format(void)
{
	char h1[PASSWORD_HASH_LEN + 1], h2[PASSWORD_HASH_LEN + 1];

	is_int(password_hash("hunter22", 8, h1), 0, "hash succeeds");
	ok(well_formed(h1), "hash is 32 hex ':' 128 lowercase hex: %s", h1);
	is_int(password_hash("hunter22", 8, h2), 0, "hash again");
	ok(strncmp(h1, h2, 32) != 0, "each hash has a fresh salt");
	is_int(verify("hunter22", h1), 0, "right password verifies");
	is_int(verify("hunter23", h1), -EACCES, "wrong password is refused");
	is_int(verify("hunter2", h1), -EACCES, "a prefix is refused");
	is_int(password_verify("hunter22\0x", 10, h1), -EACCES,
	       "bytes after a NUL count");
	is_int(password_hash("", 0, h2), 0, "the empty password hashes");
	is_int(password_verify(NULL, 0, h2), 0, "and verifies");
	is_int(verify(ASCII_PW, NULL), -EACCES, "NULL stored is refused");
	is_int(verify("", NULL), -EACCES, "NULL stored refuses anything");
}

static void
test_vectors(void)
{
	char upper[] = ASCII_HASH;

	is_int(verify(ASCII_PW, ASCII_HASH), 0, "Node vector, ASCII");
	is_int(verify(ASCII_PW "!", ASCII_HASH), -EACCES,
	       "Node vector, ASCII, wrong password");
	is_int(verify(UNI_PW, UNI_HASH), 0, "Node vector, non-ASCII");
	for (char *p = upper + 33; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	is_int(verify(ASCII_PW, upper), 0, "an upper-case key verifies");
}

static void
test_nfkc(void)
{
	char h[PASSWORD_HASH_LEN + 1];

	is_int(verify(UNI_NFKC, UNI_HASH), 0,
	       "the NFKC form verifies against the Node vector");
	is_int(verify(UNI_NFD, UNI_HASH), 0,
	       "the decomposed form verifies against the Node vector");
	is_int(verify("fiance Pass", UNI_HASH), -EACCES,
	       "without the accent it does not");
	is_int(password_hash("\xef\xac\x81", 3, h), 0, "hash the fi ligature");
	is_int(verify("fi", h), 0, "U+FB01 and \"fi\" are one password");
	is_int(password_hash("\xef\xbc\xa1\xef\xbc\xa2", 6, h), 0,
	       "hash fullwidth AB");
	is_int(verify("AB", h), 0,
	       "fullwidth and ASCII letters are one password");
	is_int(verify("ab", h), -EACCES, "case still matters");
}

static void
test_malformed(void)
{
	static const char *const bad_utf8[] = {
		"\xff", "abc\x80", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
	};
	static const char *const bad_stored[] = {
		"",
		"5f0c2a9e7d41b3863e1af47c20d95b6e",
		"5f0c2a9e7d41b3863e1af47c20d95b6e:",
		ASCII_HASH "0",
		ASCII_HASH ":",
		" " ASCII_HASH,
	};
	/* One character of the vector changed: salt of 31 digits, non-hex in
	 * the salt, not a colon, non-hex at either end of the key. */
	static const struct {
		size_t pos;
		char c;
	} edits[] = {{31, ':'}, {5, 'g'}, {32, ';'}, {33, 'x'}, {160, 'z'}};
	char h[PASSWORD_HASH_LEN + 1];

	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(*bad_utf8); i++) {
		is_int(password_hash(bad_utf8[i], strlen(bad_utf8[i]), h),
		       -EINVAL, "hash refuses invalid UTF-8 #%zu", i);
		is_int(verify(bad_utf8[i], ASCII_HASH), -EINVAL,
		       "verify refuses invalid UTF-8 #%zu", i);
	}
	is_int(verify("\xff", NULL), -EINVAL,
	       "invalid UTF-8 with NULL stored is -EINVAL");
	for (size_t i = 0; i < sizeof(bad_stored) / sizeof(*bad_stored); i++)
		is_int(verify(ASCII_PW, bad_stored[i]), -EINVAL,
		       "malformed stored hash \"%s\" is -EINVAL",
		       bad_stored[i]);
	for (size_t i = 0; i < sizeof(edits) / sizeof(*edits); i++) {
		strcpy(h, ASCII_HASH);
		h[edits[i].pos] = edits[i].c;
		is_int(verify(ASCII_PW, h), -EINVAL,
		       "stored hash with '%c' at %zu is -EINVAL", edits[i].c,
		       edits[i].pos);
	}
}

/* Four threads verify the vector at once: 1 when all of them match. */
static int
four_verify(void)
{
	pthread_t t[4];
	int rc[4], all = 1;

	for (size_t i = 0; i < 4; i++) {
		rc[i] = -1;
		pthread_create(&t[i], NULL, verify_thread, &rc[i]);
	}
	for (size_t i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		all = all && rc[i] == 0;
	}
	return all;
}

/* With one slot and no waiting place (password_init(1, 0)): while one
 * hash runs, the next caller is refused at once. */
static void
one_slot_busy(const char *how)
{
	pthread_t t;
	int rc = -1;

	pthread_create(&t, NULL, verify_thread, &rc);
	nanosleep(&(struct timespec){.tv_nsec = 40 * 1000 * 1000}, NULL);
	is_int(verify(ASCII_PW, ASCII_HASH), -EBUSY,
	       "%s: a caller beyond the running and waiting bound gets -EBUSY",
	       how);
	pthread_join(t, NULL);
	is_int(rc, 0, "%s: the hash that held the slot completes", how);
}

static void
test_concurrency(void)
{
	is_int(password_init(0, 0), -EINVAL, "password_init(0, 0) is refused");
	is_int(password_init(1, 8), 0, "password_init(1, 8)");
	ok(four_verify(), "four threads through one slot all verify");

	/* Refused at once instead of tying up the caller's thread. */
	is_int(password_init(1, 0), 0, "password_init(1, 0)");
	one_slot_busy("inline");
	is_int(verify(ASCII_PW, ASCII_HASH), 0,
	       "the slot is free again afterwards");
	is_int(password_init(2, 8), 0, "password_init(2, 8)");
}

static void *
reserve_thread(void *arg)
{
	*(int *)arg = password_reserve();
	return NULL;
}

/* password_reserve on another thread (a thread holds one at most). */
static int
reserve_elsewhere(void)
{
	pthread_t t;
	int rc = 1;

	pthread_create(&t, NULL, reserve_thread, &rc);
	pthread_join(t, NULL);
	return rc;
}

/* A reservation holds one of the places (running or waiting) from
 * password_reserve until the thread's next hash ends or it is released.
 * The other thread's attempts here all fail, so it never holds one. */
static void
test_reserve(void)
{
	char h[PASSWORD_HASH_LEN + 1];

	is_int(password_init(1, 0), 0, "password_init(1, 0)");
	is_int(password_reserve(), 0, "the one place is reserved");
	is_int(password_reserve(), 0,
	       "a second reservation on the same thread is the same one");
	is_int(reserve_elsewhere(), -EBUSY,
	       "another thread finds no place while it is reserved");
	is_int(verify(ASCII_PW, ASCII_HASH), 0,
	       "a hash runs in the place its caller reserved");
	is_int(password_reserve(), 0, "the hash gave the place back");
	is_int(password_hash("\xff", 1, h), -EINVAL,
	       "a hash refused before it runs (invalid UTF-8) ...");
	is_int(password_reserve(), 0, "... gives its reservation back too");
	password_release();
	password_release();
	is_int(password_reserve(), 0,
	       "released twice, one place is given back, not two");
	is_int(reserve_elsewhere(), -EBUSY,
	       "so the one place is still counted once it is taken again");
	password_release();
	is_int(password_init(2, 8), 0, "password_init(2, 8)");
}

static void
test_common(void)
{
	char path[] = "/tmp/todod-common-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	size_t n = 0;

	ok(!password_is_common("password1", 9),
	   "without a list nothing is common");
	if (!f) {
		ok(0, "cannot make a temporary list");
		return;
	}
	/* A comment, CRLF, a fullwidth entry, a line that is not UTF-8. */
	fputs("#!comment: a list\n#!comment:\npassword1\r\n"
	      "Dragon\n\xef\xbd\x90\xef\xbd\x81ss\n\xff\xfe\n\n",
	      f);
	fclose(f);
	is_int(password_common_load(path, &n), 0, "the list loads");
	is_int((long long)n, 3, "comments, blank and non-UTF-8 lines skipped");
	ok(password_is_common("password1", 9), "an entry is common");
	ok(password_is_common("PassWord1", 9), "compared case-insensitively");
	ok(password_is_common("dragon", 6), "the list's case does not matter");
	ok(password_is_common("pass", 4), "the list is NFKC-normalised");
	ok(password_is_common("\xef\xbc\xb0"
			      "ASS",
			      6),
	   "and so is the password (fullwidth P)");
	ok(!password_is_common("#!comment: a list", 17),
	   "a comment line is no entry");
	ok(!password_is_common("password12", 10), "a longer one is not");
	ok(!password_is_common("passwor", 7), "a prefix is not");
	ok(!password_is_common("\xff", 1), "invalid UTF-8 is not");
	unlink(path);
	is_int(password_common_load(path, &n), -ENOENT,
	       "a missing file is -ENOENT");
	ok(password_is_common("dragon", 6), "and keeps the list loaded before");
	password_common_free();
	ok(!password_is_common("dragon", 6), "freed: nothing is common");
}

/* How many of this process's threads run at the given nice value (field
 * 19 of /proc/self/task/TID/stat, after the command in parentheses). */
static int
niced_threads(int nice)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], buf[1024], *p;
		FILE *f;
		int field = 3, value;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (!p)
			continue;
		for (p += 2; *p && field < 19; p++)
			if (*p == ' ')
				field++;
		if (sscanf(p, "%d", &value) == 1 && value == nice)
			n++;
	}
	closedir(d);
	return n;
}

/* Both implementations reproduce the Node vectors; auto times both and
 * takes one that does, on the hashing threads once they run. */
static void
test_scrypt_select(void)
{
	double ms[2];
	char hash[PASSWORD_HASH_LEN + 1];

	is_int(password_scrypt_from_name("auto"), PASSWORD_SCRYPT_AUTO,
	       "\"auto\" names PASSWORD_SCRYPT_AUTO");
	is_int(password_scrypt_from_name("libsodium"),
	       PASSWORD_SCRYPT_LIBSODIUM, "\"libsodium\" names libsodium");
	is_int(password_scrypt_from_name("sodium"), -EINVAL,
	       "an unknown implementation is refused");
	is_int(password_scrypt_select(7, ms), -EINVAL,
	       "select refuses a value out of range");
	for (int lib = PASSWORD_SCRYPT_OPENSSL;
	     lib <= PASSWORD_SCRYPT_LIBSODIUM; lib++) {
		const char *name = password_scrypt_name(lib);

		is_int(password_scrypt_select(lib, ms), lib,
		       "%s passes the Node vector and is selected", name);
		ok(ms[lib - 1] > 0 && ms[2 - lib] == 0,
		   "%s alone was timed (%.1f ms)", name, ms[lib - 1]);
		is_int(verify(ASCII_PW, ASCII_HASH), 0,
		       "%s: Node vector, ASCII", name);
		is_int(verify(UNI_PW, UNI_HASH), 0,
		       "%s: Node vector, non-ASCII", name);
		is_int(verify("wrong password", ASCII_HASH), -EACCES,
		       "%s: a wrong password is refused", name);
		is_int(password_hash(ASCII_PW, strlen(ASCII_PW), hash), 0,
		       "%s: hashes", name);
		is_int(verify(ASCII_PW, hash), 0, "%s: its hash verifies",
		       name);
	}
	/* A hash made with one verifies with the other. */
	is_int(password_scrypt_select(PASSWORD_SCRYPT_OPENSSL, ms),
	       PASSWORD_SCRYPT_OPENSSL, "back to openssl");
	is_int(verify(ASCII_PW, hash), 0,
	       "a libsodium hash verifies with openssl");

	is_int(password_init(2, 8), 0, "password_init(2, 8)");
	is_int(password_start(7), 0, "password_start(7)");
	{
		int got = password_scrypt_select(PASSWORD_SCRYPT_AUTO, ms);

		ok(got == PASSWORD_SCRYPT_OPENSSL ||
			   got == PASSWORD_SCRYPT_LIBSODIUM,
		   "auto on the hashing threads picks one (%s: openssl "
		   "%.1f ms, libsodium %.1f ms)",
		   got > 0 ? password_scrypt_name(got) : "none", ms[0], ms[1]);
		ok(ms[0] > 0 && ms[1] > 0, "auto timed both");
		ok(got == (ms[1] < ms[0] ? PASSWORD_SCRYPT_LIBSODIUM
					 : PASSWORD_SCRYPT_OPENSSL),
		   "auto picked the faster");
	}
	is_int(verify(ASCII_PW, ASCII_HASH), 0,
	       "after auto a queued hash verifies the Node vector");
	password_stop();
	is_int(password_scrypt_select(PASSWORD_SCRYPT_OPENSSL, ms),
	       PASSWORD_SCRYPT_OPENSSL, "openssl again for the tests after");
}

static void
test_hashers(void)
{
	is_int(password_init(2, 8), 0, "password_init(2, 8)");
	is_int(password_start(7), 0, "password_start(7)");
	is_int(niced_threads(7), 2, "two hashing threads run at nice 7");
	is_int(verify(ASCII_PW, ASCII_HASH), 0,
	       "a queued hash verifies the Node vector");
	is_int(verify("wrong password", ASCII_HASH), -EACCES,
	       "a queued hash rejects a wrong password");
	ok(four_verify(),
	   "four callers through two hashing threads all verify");
	{
		/* A hashing thread keeps its 32 MiB buffer: hashes after
		 * the first fault in a few pages, not 8,192 each. */
		struct rusage before, after;
		long faults;

		verify(ASCII_PW, ASCII_HASH);
		verify(ASCII_PW, ASCII_HASH);
		getrusage(RUSAGE_SELF, &before);
		verify(ASCII_PW, ASCII_HASH);
		verify(ASCII_PW, ASCII_HASH);
		getrusage(RUSAGE_SELF, &after);
		faults = after.ru_minflt - before.ru_minflt;
		ok(faults < 2000,
		   "two more hashes take %ld page faults (< 2000: the buffer is kept)",
		   faults);
	}
	password_stop();
	is_int(niced_threads(7), 0, "password_stop joins the hashing threads");

	/* One hashing thread, no waiting place: while it hashes, the next
	 * caller is refused at once. */
	is_int(password_init(1, 0), 0, "password_init(1, 0)");
	is_int(password_start(7), 0, "password_start(7) with one slot");
	one_slot_busy("queued");
	password_stop();
	is_int(verify(ASCII_PW, ASCII_HASH), 0,
	       "after password_stop callers hash on their own thread");
	is_int(password_init(2, 8), 0, "password_init(2, 8)");
}

int
main(void)
{
	/* First, before OpenSSL allocates anything. */
	ok(password_mem_init(),
	   "OpenSSL's allocations are hooked before any is made");
	test_format();
	test_vectors();
	test_nfkc();
	test_malformed();
	test_concurrency();
	test_reserve();
	test_hashers();
	test_scrypt_select();
	test_common();
	return done();
}
