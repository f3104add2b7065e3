/* Password hashing in Better Auth's format: scrypt (N=16384, r=16, p=1,
 * 64-byte key) over the NFKC form of the password, salted with the hex text
 * of 16 random bytes, stored as "salthex:keyhex". */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sodium.h>
#include <time.h>
#include <uninorm.h>
#include <unicase.h>
#include <unistr.h>

#include "log.h"
#include "password.h"
#include "util.h"

#define SALT_BYTES 16
#define SALT_HEX (2 * SALT_BYTES)
#define KEY_BYTES 64
#define KEY_HEX (2 * KEY_BYTES)
#define SCRYPT_N 16384
#define SCRYPT_R 16
#define SCRYPT_P 1
/* scrypt needs 128 * N * r bytes (32 MiB) and a little more, which
 * OpenSSL's default limit (maxmem 0 means 32 MiB) refuses. */
#define SCRYPT_MAXMEM (64 * 1024 * 1024)

/* Checked against unknown accounts so that they cost the same scrypt work
 * as a wrong password; its password was random and has been thrown away. */
static const char dummy_hash[] =
	"6c80bf834282d368e5f6cd622bc1cb25:"
	"4a23370e25ecd2930d7951128978c79fb85921585cc31d6c08bae5acc72832da"
	"8795c0821125598dcd4f893a401fd300c7ffd86f5ff2ff7c2450c2678369265a";

/* A Node vector (crypto.scrypt) that each implementation must reproduce
 * before it computes a hash: also what password_scrypt_select times. */
static const char kat_pw[] = "correct horse battery staple";
static const char kat_salt[SALT_HEX + 1] = "5f0c2a9e7d41b3863e1af47c20d95b6e";
static const unsigned char kat_key[KEY_BYTES] = {
	0xea, 0xe0, 0x35, 0xaa, 0x21, 0xe1, 0x68, 0x86, 0x87, 0x3f, 0xf6,
	0x6a, 0xdf, 0x03, 0x1a, 0xa1, 0x05, 0x54, 0xf9, 0x79, 0x6b, 0x19,
	0xdd, 0x77, 0xa7, 0x7c, 0x30, 0x95, 0x42, 0xca, 0x51, 0x5c, 0xf5,
	0xa2, 0x4c, 0x4f, 0x3e, 0x90, 0x31, 0x82, 0x6f, 0x1b, 0x79, 0xa5,
	0x15, 0x2e, 0xc9, 0x83, 0x46, 0xa1, 0x00, 0x68, 0xd5, 0xb5, 0xd0,
	0x3b, 0xcf, 0xf3, 0x47, 0xe9, 0x3a, 0x63, 0xc6, 0x99};

/* The implementation the hashes use (PASSWORD_SCRYPT_OPENSSL or
 * _LIBSODIUM); set by password_scrypt_select before the workers run. */
static _Atomic int scrypt_lib = PASSWORD_SCRYPT_OPENSSL;

/* A counting semaphore over the scrypt computations: each takes 32 MiB. */
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slots_free = PTHREAD_COND_INITIALIZER;
static unsigned slots_max = 2;
static unsigned slots_used;
static unsigned waiting_max = 64;
static unsigned waiting;
/* Places taken by password_reserve and not yet used or given back; the
 * thread's own flag says whether it holds one. */
static unsigned reserved;
static _Thread_local bool my_reserved;
/* Copies of slots_used and waiting for a scrape, which takes no lock. */
static atomic_uint stat_running, stat_waiting;

/* The hashing threads and their queue (under slots_lock). */
#define HASHERS_MAX 64
struct hash_job {
	const char *pw;
	size_t len;
	const char *salt;
	unsigned char *key;
	int lib; /* the implementation to use; 0: scrypt_lib */
	int runs; /* computed this many times (0: once) */
	double cpu_ms; /* the thread CPU time of the last */
	int rc;
	bool done;
	pthread_cond_t done_cond; /* its caller alone waits on it */
	struct hash_job *next;
};
static pthread_t hashers[HASHERS_MAX];
static unsigned nhashers;
static bool hashers_stop;
static unsigned hashers_up; /* started, their priority set */
static int hashers_nice;
static struct hash_job *queue_head, *queue_tail;
static pthread_cond_t job_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t hashers_ready = PTHREAD_COND_INITIALIZER;

static bool wait_begin(void);
/* Each hashing thread keeps its scrypt buffer from one hash to the next.
 * Freed and mapped anew each time, its 32 MiB cost 8,192 page faults per
 * hash, more than half of a hash's time on these virtual machines. OpenSSL's
 * allocations go through mem_malloc/mem_realloc/mem_free (set by
 * password_mem_init before OpenSSL allocates anything): on a hashing
 * thread one of at least KEEP_MIN bytes is served from, and given back
 * to, that thread's kept block. OpenSSL cleanses the buffer before it
 * frees it, as ever. */
#define KEEP_MIN (16 * 1024 * 1024)
struct kept {
	_Atomic(void *) p; /* read by every thread's free */
	size_t n;
	bool busy;
};
static struct kept kept[HASHERS_MAX];
static atomic_uint kept_n; /* entries in use: the hashing threads */
static _Thread_local int my_kept = -1;

static void *mem_malloc(size_t n, const char *file, int line);
static void *mem_realloc(void *p, size_t n, const char *file, int line);
static void mem_free(void *p, const char *file, int line);
static struct kept *kept_of(const void *p);

static int slot_acquire(void);
static void slot_release(void);
static int scrypt(int lib, const uint8_t *in, size_t len, const char *salt,
		  unsigned char *key);
static void job_run(struct hash_job *job);
static int job_queue(struct hash_job *job);
static int hash_queued(const uint8_t *in, size_t len, const char *salt,
		       unsigned char *key);
static int kat_timed(int lib, double *ret_cpu_ms);
static void *hasher_main(void *arg);
static bool is_ascii(const uint8_t *s, size_t len);
static int derive(const char *pw, size_t len, const char salt[SALT_HEX],
		  unsigned char ret_key[KEY_BYTES]);
static char *fold(const char *s, size_t len);
static int cmp_str(const void *a, const void *b);
static int parse_stored(const char *stored, char ret_salt[SALT_HEX],
			unsigned char ret_key[KEY_BYTES]);

/* Under slots_lock: true when a place (running, waiting or reserved) is
 * free. */
static bool
place_free(void)
{
	return slots_used + waiting + reserved < slots_max + waiting_max;
}

/* Under slots_lock: counts the caller among those waiting for a turn (in
 * the place it reserved, if it did), or says no when every place is
 * taken. */
static bool
wait_begin(void)
{
	if (my_reserved) {
		my_reserved = false;
		reserved--;
	} else if (!place_free()) {
		return false;
	}
	waiting++;
	atomic_store_explicit(&stat_waiting, waiting, memory_order_relaxed);
	return true;
}

int
password_reserve(void)
{
	int rc = 0;

	pthread_mutex_lock(&slots_lock);
	if (!my_reserved) {
		if (place_free()) {
			reserved++;
			my_reserved = true;
		} else {
			rc = -EBUSY;
		}
	}
	pthread_mutex_unlock(&slots_lock);
	return rc;
}

void
password_release(void)
{
	if (!my_reserved)
		return;
	pthread_mutex_lock(&slots_lock);
	my_reserved = false;
	reserved--;
	pthread_mutex_unlock(&slots_lock);
}

static int
slot_acquire(void)
{
	pthread_mutex_lock(&slots_lock);
	if (!wait_begin()) {
		pthread_mutex_unlock(&slots_lock);
		return -EBUSY;
	}
	while (slots_used >= slots_max)
		pthread_cond_wait(&slots_free, &slots_lock);
	waiting--;
	slots_used++;
	atomic_store_explicit(&stat_waiting, waiting, memory_order_relaxed);
	atomic_store_explicit(&stat_running, slots_used, memory_order_relaxed);
	pthread_mutex_unlock(&slots_lock);
	return 0;
}

static void
slot_release(void)
{
	pthread_mutex_lock(&slots_lock);
	slots_used--;
	atomic_store_explicit(&stat_running, slots_used, memory_order_relaxed);
	pthread_cond_signal(&slots_free);
	pthread_mutex_unlock(&slots_lock);
}

static void *
mem_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (my_kept >= 0 && n >= KEEP_MIN && !kept[my_kept].busy) {
		struct kept *k = &kept[my_kept];
		void *p = atomic_load(&k->p);

		if (p && k->n < n) {
			atomic_store(&k->p, NULL);
			free(p);
			p = NULL;
		}
		if (!p) {
			p = malloc(n);
			k->n = p ? n : 0;
			atomic_store(&k->p, p);
		}
		if (p) {
			k->busy = true;
			return p;
		}
	}
	return malloc(n);
}

/* The kept block p is, or NULL. Only its own thread takes a block, so a
 * match needs no lock. */
static struct kept *
kept_of(const void *p)
{
	unsigned n = atomic_load_explicit(&kept_n, memory_order_relaxed);

	for (unsigned i = 0; p && i < n; i++)
		if (atomic_load_explicit(&kept[i].p, memory_order_relaxed) == p)
			return &kept[i];
	return NULL;
}

static void *
mem_realloc(void *p, size_t n, const char *file, int line)
{
	struct kept *k = kept_of(p);
	void *q;

	(void)file;
	(void)line;
	if (!k)
		return realloc(p, n);
	q = malloc(n);
	if (q) {
		memcpy(q, p, n < k->n ? n : k->n);
		k->busy = false;
	}
	return q;
}

static void
mem_free(void *p, const char *file, int line)
{
	struct kept *k = kept_of(p);

	(void)file;
	(void)line;
	if (k)
		k->busy = false;
	else
		free(p);
}

bool
password_mem_init(void)
{
	return CRYPTO_set_mem_functions(mem_malloc, mem_realloc, mem_free) == 1;
}

static int
scrypt(int lib, const uint8_t *in, size_t len, const char *salt,
       unsigned char *key)
{
	if (lib == PASSWORD_SCRYPT_LIBSODIUM)
		return crypto_pwhash_scryptsalsa208sha256_ll(
			       in, len, (const uint8_t *)salt, SALT_HEX,
			       SCRYPT_N, SCRYPT_R, SCRYPT_P, key,
			       KEY_BYTES) == 0
			       ? 0
			       : -EIO;
	return EVP_PBE_scrypt((const char *)in, len,
			      (const unsigned char *)salt, SALT_HEX, SCRYPT_N,
			      SCRYPT_R, SCRYPT_P, SCRYPT_MAXMEM, key,
			      KEY_BYTES) == 1
		       ? 0
		       : -EIO;
}

static double
thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Computes the job's hash on the calling thread (runs times) and times
 * the last. */
static void
job_run(struct hash_job *job)
{
	int lib = job->lib ? job->lib
			   : atomic_load_explicit(&scrypt_lib,
						  memory_order_relaxed);
	int i = 0;

	do {
		double t0 = thread_cpu_ms();

		job->rc = scrypt(lib, (const uint8_t *)job->pw, job->len,
				 job->salt, job->key);
		job->cpu_ms = thread_cpu_ms() - t0;
	} while (job->rc == 0 && ++i < job->runs);
}

/* Hands the job to a hashing thread and waits for it: at most slots_max
 * run, at most waiting_max wait, the rest get -EBUSY. */
static int
job_queue(struct hash_job *job)
{
	pthread_cond_init(&job->done_cond, NULL);
	pthread_mutex_lock(&slots_lock);
	if (!wait_begin()) {
		pthread_mutex_unlock(&slots_lock);
		pthread_cond_destroy(&job->done_cond);
		return -EBUSY;
	}
	if (queue_tail)
		queue_tail->next = job;
	else
		queue_head = job;
	queue_tail = job;
	pthread_cond_signal(&job_ready);
	while (!job->done)
		pthread_cond_wait(&job->done_cond, &slots_lock);
	pthread_mutex_unlock(&slots_lock);
	pthread_cond_destroy(&job->done_cond);
	return job->rc;
}

static int
hash_queued(const uint8_t *in, size_t len, const char *salt, unsigned char *key)
{
	struct hash_job job = {
		.pw = (const char *)in, .len = len, .salt = salt, .key = key};

	return job_queue(&job);
}

static void *
hasher_main(void *arg)
{
	my_kept = (int)(intptr_t)arg;
	/* Linux keeps a nice value per thread: only the hashing yields. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), hashers_nice) < 0)
		log_warn(NULL, "a hashing thread stays at nice 0: %s",
			 strerror(errno));
	pthread_mutex_lock(&slots_lock);
	hashers_up++;
	pthread_cond_broadcast(&hashers_ready);
	for (;;) {
		struct hash_job *job;

		while (!queue_head && !hashers_stop)
			pthread_cond_wait(&job_ready, &slots_lock);
		if (!queue_head)
			break;
		job = queue_head;
		queue_head = job->next;
		if (!queue_head)
			queue_tail = NULL;
		waiting--;
		slots_used++;
		atomic_store_explicit(&stat_waiting, waiting,
				      memory_order_relaxed);
		atomic_store_explicit(&stat_running, slots_used,
				      memory_order_relaxed);
		pthread_mutex_unlock(&slots_lock);
		job_run(job);
		pthread_mutex_lock(&slots_lock);
		slots_used--;
		atomic_store_explicit(&stat_running, slots_used,
				      memory_order_relaxed);
		job->done = true;
		/* Only this job's caller wakes, not every waiting one. */
		pthread_cond_signal(&job->done_cond);
	}
	pthread_mutex_unlock(&slots_lock);
	return NULL;
}

int
password_start(int nice)
{
	unsigned n;

	pthread_mutex_lock(&slots_lock);
	n = slots_max < HASHERS_MAX ? slots_max : HASHERS_MAX;
	hashers_nice = nice;
	hashers_stop = false;
	pthread_mutex_unlock(&slots_lock);
	atomic_store(&kept_n, n);
	for (nhashers = 0; nhashers < n; nhashers++) {
		int r = pthread_create(&hashers[nhashers], NULL, hasher_main,
				       (void *)(intptr_t)nhashers);

		if (r != 0) {
			password_stop();
			return -r;
		}
	}
	/* Returns once every thread runs at its priority. */
	pthread_mutex_lock(&slots_lock);
	while (hashers_up < n)
		pthread_cond_wait(&hashers_ready, &slots_lock);
	pthread_mutex_unlock(&slots_lock);
	return 0;
}

void
password_stop(void)
{
	pthread_mutex_lock(&slots_lock);
	hashers_stop = true;
	pthread_cond_broadcast(&job_ready);
	pthread_mutex_unlock(&slots_lock);
	for (unsigned i = 0; i < nhashers; i++) {
		pthread_join(hashers[i], NULL);
		free(atomic_load(&kept[i].p));
		atomic_store(&kept[i].p, NULL);
		kept[i].n = 0;
		kept[i].busy = false;
	}
	atomic_store(&kept_n, 0);
	nhashers = 0;
	hashers_up = 0;
}

static bool
is_ascii(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 0x80)
			return false;
	return true;
}

/* Derives the scrypt key of the NFKC form of pw. ASCII is its own NFKC
 * form, so only other input is checked and normalised. */
static int
derive(const char *pw, size_t len, const char salt[SALT_HEX],
       unsigned char ret_key[KEY_BYTES])
{
	const uint8_t *in = (const uint8_t *)pw;
	uint8_t *norm = NULL;
	size_t norm_len = len;
	int r;

	if (!pw && len > 0)
		return -EINVAL;
	if (!is_ascii(in, len)) {
		if (u8_check(in, len))
			return -EINVAL;
		norm = u8_normalize(UNINORM_NFKC, in, len, NULL, &norm_len);
		if (!norm)
			return errno == ENOMEM ? -ENOMEM : -EINVAL;
		in = norm;
	}
	if (nhashers > 0) {
		r = hash_queued(in, norm_len, salt, ret_key);
		goto out;
	}
	r = slot_acquire();
	if (r < 0)
		goto out;
	r = scrypt(atomic_load_explicit(&scrypt_lib, memory_order_relaxed), in,
		   norm_len, salt, ret_key);
	slot_release();
out:
	if (norm) {
		OPENSSL_cleanse(norm, norm_len);
		free(norm);
	}
	return r;
}

/* Splits "salthex:keyhex" (exactly 32 and 128 hex digits). The salt stays
 * text, as Better Auth uses it; the key is decoded. */
static int
parse_stored(const char *stored, char ret_salt[SALT_HEX],
	     unsigned char ret_key[KEY_BYTES])
{
	const char *key = stored + SALT_HEX + 1;

	if (strnlen(stored, PASSWORD_HASH_LEN + 1) != PASSWORD_HASH_LEN ||
	    stored[SALT_HEX] != ':')
		return -EINVAL;
	for (size_t i = 0; i < SALT_HEX; i++)
		if (hex_digit(stored[i]) < 0)
			return -EINVAL;
	for (size_t i = 0; i < KEY_HEX; i++)
		if (hex_digit(key[i]) < 0)
			return -EINVAL;
	memcpy(ret_salt, stored, SALT_HEX);
	for (size_t i = 0; i < KEY_BYTES; i++)
		ret_key[i] = (unsigned char)(hex_digit(key[2 * i]) << 4 |
					     hex_digit(key[2 * i + 1]));
	return 0;
}

/* Hashes the Node vector with lib where hashes are computed (a hashing
 * thread once they run; else the caller): 0 and its CPU time when the
 * key is the vector's, -EIO otherwise. OpenSSL's first hash on a thread
 * maps its buffer, the ones after reuse it: it runs twice on one thread
 * and the second counts. */
static int
kat_timed(int lib, double *ret_cpu_ms)
{
	unsigned char key[KEY_BYTES];
	struct hash_job job = {.pw = kat_pw,
			       .len = sizeof(kat_pw) - 1,
			       .salt = kat_salt,
			       .key = key,
			       .lib = lib,
			       .runs = lib == PASSWORD_SCRYPT_OPENSSL ? 2 : 1};
	int r;

	if (nhashers > 0) {
		r = job_queue(&job);
	} else {
		r = slot_acquire();
		if (r == 0) {
			job_run(&job);
			r = job.rc;
			slot_release();
		}
	}
	if (r == 0 && CRYPTO_memcmp(key, kat_key, KEY_BYTES) != 0)
		r = -EIO;
	*ret_cpu_ms = job.cpu_ms;
	return r;
}

const char *
password_scrypt_name(int which)
{
	switch (which) {
	case PASSWORD_SCRYPT_AUTO: return "auto";
	case PASSWORD_SCRYPT_OPENSSL: return "openssl";
	case PASSWORD_SCRYPT_LIBSODIUM: return "libsodium";
	}
	return NULL;
}

int
password_scrypt_from_name(const char *name)
{
	for (int i = PASSWORD_SCRYPT_AUTO; i <= PASSWORD_SCRYPT_LIBSODIUM; i++)
		if (strcmp(name, password_scrypt_name(i)) == 0)
			return i;
	return -EINVAL;
}

int
password_scrypt_select(int which, double ret_ms[2])
{
	int ok[2] = {-EIO, -EIO};
	static bool sodium_ready;

	ret_ms[0] = ret_ms[1] = 0;
	if (which < PASSWORD_SCRYPT_AUTO || which > PASSWORD_SCRYPT_LIBSODIUM)
		return -EINVAL;
	/* libsodium picks its fastest code for this CPU in sodium_init. */
	if (!sodium_ready && which != PASSWORD_SCRYPT_OPENSSL) {
		if (sodium_init() < 0)
			return -EIO;
		sodium_ready = true;
	}
	for (int lib = PASSWORD_SCRYPT_OPENSSL;
	     lib <= PASSWORD_SCRYPT_LIBSODIUM; lib++) {
		int i = lib - PASSWORD_SCRYPT_OPENSSL;

		if (which != PASSWORD_SCRYPT_AUTO && which != lib)
			continue;
		ok[i] = kat_timed(lib, &ret_ms[i]);
		if (ok[i] == -EBUSY)
			return -EBUSY;
		if (ok[i] < 0)
			ret_ms[i] = -1;
	}
	if (ok[0] < 0 && ok[1] < 0)
		return -EIO;
	if (ok[1] < 0 || (ok[0] == 0 && which == PASSWORD_SCRYPT_AUTO &&
			  ret_ms[0] <= ret_ms[1]))
		which = PASSWORD_SCRYPT_OPENSSL;
	else
		which = PASSWORD_SCRYPT_LIBSODIUM;
	atomic_store(&scrypt_lib, which);
	/* libsodium maps its own buffer per hash: the ones OpenSSL kept for
	 * the timing go (the hashing threads are idle: nothing is queued). */
	if (which == PASSWORD_SCRYPT_LIBSODIUM) {
		pthread_mutex_lock(&slots_lock);
		for (unsigned i = 0; i < nhashers; i++) {
			if (kept[i].busy)
				continue;
			free(atomic_load(&kept[i].p));
			atomic_store(&kept[i].p, NULL);
			kept[i].n = 0;
		}
		pthread_mutex_unlock(&slots_lock);
	}
	return which;
}

int
password_init(unsigned max_concurrent, unsigned max_waiting)
{
	if (max_concurrent < 1)
		return -EINVAL;
	pthread_mutex_lock(&slots_lock);
	slots_max = max_concurrent;
	waiting_max = max_waiting;
	pthread_cond_broadcast(&slots_free);
	pthread_mutex_unlock(&slots_lock);
	return 0;
}

int
password_hash(const char *pw, size_t len, char ret_hash[PASSWORD_HASH_LEN + 1])
{
	unsigned char salt[SALT_BYTES], key[KEY_BYTES];
	char salt_hex[SALT_HEX + 1];
	int r;

	if (!ret_hash) {
		r = -EINVAL;
		goto out;
	}
	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		r = -EIO;
		goto out;
	}
	hex_encode(salt, sizeof(salt), salt_hex);
	r = derive(pw, len, salt_hex, key);
	if (r < 0)
		goto out;
	memcpy(ret_hash, salt_hex, SALT_HEX);
	ret_hash[SALT_HEX] = ':';
	hex_encode(key, sizeof(key), ret_hash + SALT_HEX + 1);
out:
	/* A reservation the hash did not use (it failed before) goes back. */
	password_release();
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

int
password_verify(const char *pw, size_t len, const char *stored)
{
	unsigned char want[KEY_BYTES], got[KEY_BYTES];
	char salt[SALT_HEX];
	int r;

	r = parse_stored(stored ? stored : dummy_hash, salt, want);
	if (r < 0)
		goto out;
	r = derive(pw, len, salt, got);
	if (r < 0)
		goto out;
	r = CRYPTO_memcmp(got, want, KEY_BYTES) == 0 && stored ? 0 : -EACCES;
out:
	password_release();
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(want, sizeof(want));
	return r;
}

/* The common passwords, folded, sorted for bsearch; read-only once the
 * workers run. */
static char **common;
static size_t ncommon;

/* NFKC and lower case (Unicode): what both sides of the comparison go
 * through. A malloc'd NUL-terminated string, or NULL (not UTF-8, or out
 * of memory). */
static char *
fold(const char *s, size_t len)
{
	size_t n = 0;
	uint8_t *low;
	char *out;

	if (u8_check((const uint8_t *)s, len))
		return NULL;
	low = u8_tolower((const uint8_t *)s, len, NULL, UNINORM_NFKC, NULL, &n);
	if (!low)
		return NULL;
	out = malloc(n + 1);
	if (out) {
		memcpy(out, low, n);
		out[n] = '\0';
	}
	free(low);
	return out;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
password_common_free(void)
{
	for (size_t i = 0; i < ncommon; i++)
		free(common[i]);
	free(common);
	common = NULL;
	ncommon = 0;
}

int
password_common_load(const char *path, size_t *ret_count)
{
	FILE *f = fopen(path, "re");
	char **v = NULL, *line = NULL;
	size_t n = 0, cap = 0, linecap = 0;
	ssize_t len;
	int r = -ENOMEM;

	if (!f)
		return -errno;
	while ((len = getline(&line, &linecap, f)) >= 0) {
		char *folded;

		while (len > 0 &&
		       (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || strncmp(line, "#!comment:", 10) == 0 ||
		    memchr(line, '\0', (size_t)len))
			continue;
		if (!(folded = fold(line, (size_t)len))) {
			if (errno == ENOMEM)
				goto out;
			continue;
		}
		if (n == cap) {
			size_t c = cap ? cap * 2 : 1024;
			char **nv = realloc(v, c * sizeof(*nv));

			if (!nv) {
				free(folded);
				goto out;
			}
			v = nv;
			cap = c;
		}
		v[n++] = folded;
	}
	if (ferror(f)) {
		r = -EIO;
		goto out;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	password_common_free();
	common = v;
	ncommon = n;
	v = NULL;
	n = 0;
	*ret_count = ncommon;
	r = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(line);
	fclose(f);
	return r;
}

bool
password_is_common(const char *pw, size_t len)
{
	char *key;
	bool found;

	if (!ncommon)
		return false;
	key = fold(pw, len);
	if (!key)
		return false;
	found = bsearch(&key, common, ncommon, sizeof(*common), cmp_str) !=
		NULL;
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	return found;
}

void
password_stats(unsigned *ret_running, unsigned *ret_waiting)
{
	*ret_running =
		atomic_load_explicit(&stat_running, memory_order_relaxed);
	*ret_waiting =
		atomic_load_explicit(&stat_waiting, memory_order_relaxed);
}
