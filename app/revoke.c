/* Token revocations in memory and the thread that keeps them fresh.
 *
 * Two open-addressing tables behind one read-write lock: revoked jtis
 * (16 bytes each) and per-user cutoffs. The poller reads the rows created
 * in the last few seconds by the database's clock (a window, not "ids
 * above the last one seen": ids can commit out of order), and adding a
 * revocation twice changes nothing, so overlapping windows are harmless.
 * After a failed read the next one loads every live row again. */
#include "revoke.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define PURGE_EVERY_MS 10000
#define DB_PURGE_EVERY_MS 60000
#define WINDOW_MIN_S 10

struct tok_entry {
	uint64_t a, b; /* the jti's bytes; 0, 0: a free slot */
	long long expires_ms;
};

struct user_entry {
	long long uid; /* 0: a free slot (ids start at 1) */
	long long cutoff;
	long long expires_ms;
};

struct table {
	struct tok_entry *tok;
	size_t tok_cap, tok_n;
	struct user_entry *usr;
	size_t usr_cap, usr_n;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct table cur;
static atomic_size_t nentries; /* tok_n + usr_n, read without the lock */
static size_t tok_max = 100000;
static atomic_llong last_units;
static long long last_full_warn_ms; /* under the write lock */

static pthread_t poller;
static bool poller_started;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;
static const struct config *poll_cfg;
static bool need_full; /* the load at start failed */

static uint64_t mix(uint64_t x);
static void load_jti(const unsigned char *jti, uint64_t *a, uint64_t *b);
static int table_alloc(struct table *t, size_t tok_cap, size_t usr_cap);
static void table_free(struct table *t);
static bool tok_put(struct table *t, uint64_t a, uint64_t b, long long exp);
static void usr_put(struct table *t, long long uid, long long cutoff,
		    long long exp);
static int grow(struct table *t, bool tok, long long now_ms);
static void add_locked(long long uid, const unsigned char *jti,
		       long long cutoff, long long expires_ms);
static void purge(long long now_ms);
static void on_row(void *ctx, long long uid, const unsigned char *jti,
		   long long cutoff, long long expires_ms);
static int read_rows(struct db *db, long long window_s);
static void *poll_main(void *arg);

/* A 64-bit finaliser (splitmix64): ids and UUIDs are not spread enough
 * by themselves. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
load_jti(const unsigned char *jti, uint64_t *a, uint64_t *b)
{
	memcpy(a, jti, 8);
	memcpy(b, jti + 8, 8);
}

static int
table_alloc(struct table *t, size_t tok_cap, size_t usr_cap)
{
	memset(t, 0, sizeof(*t));
	t->tok = calloc(tok_cap, sizeof(*t->tok));
	t->usr = calloc(usr_cap, sizeof(*t->usr));
	if (!t->tok || !t->usr) {
		table_free(t);
		return -ENOMEM;
	}
	t->tok_cap = tok_cap;
	t->usr_cap = usr_cap;
	return 0;
}

static void
table_free(struct table *t)
{
	free(t->tok);
	free(t->usr);
	memset(t, 0, sizeof(*t));
}

/* Inserts or extends; false when the table is too full to take it. */
static bool
tok_put(struct table *t, uint64_t a, uint64_t b, long long exp)
{
	size_t mask = t->tok_cap - 1;

	for (size_t i = mix(a ^ b) & mask;; i = (i + 1) & mask) {
		struct tok_entry *e = &t->tok[i];

		if (e->a == a && e->b == b) {
			if (exp > e->expires_ms)
				e->expires_ms = exp;
			return true;
		}
		if (e->a == 0 && e->b == 0) {
			/* At most half full keeps probes short. */
			if ((t->tok_n + 1) * 2 > t->tok_cap)
				return false;
			e->a = a;
			e->b = b;
			e->expires_ms = exp;
			t->tok_n++;
			return true;
		}
	}
}

/* The caller made room (usr_n + 1 <= usr_cap / 2). */
static void
usr_put(struct table *t, long long uid, long long cutoff, long long exp)
{
	size_t mask = t->usr_cap - 1;

	for (size_t i = mix((uint64_t)uid) & mask;; i = (i + 1) & mask) {
		struct user_entry *e = &t->usr[i];

		if (e->uid == uid) {
			if (cutoff > e->cutoff)
				e->cutoff = cutoff;
			if (exp > e->expires_ms)
				e->expires_ms = exp;
			return;
		}
		if (e->uid == 0) {
			e->uid = uid;
			e->cutoff = cutoff;
			e->expires_ms = exp;
			t->usr_n++;
			return;
		}
	}
}

/* Rebuilds cur with twice the room of the table that is short of it (or
 * the same, when expired entries freed enough), dropping what expired
 * before now_ms. Called with the write lock held. */
static int
grow(struct table *t, bool tok, long long now_ms)
{
	struct table n;
	size_t live_tok = 0, live_usr = 0, tc, uc;

	for (size_t i = 0; i < t->tok_cap; i++)
		live_tok += (t->tok[i].a || t->tok[i].b) &&
			    t->tok[i].expires_ms > now_ms;
	for (size_t i = 0; i < t->usr_cap; i++)
		live_usr += t->usr[i].uid && t->usr[i].expires_ms > now_ms;
	tc = t->tok_cap;
	uc = t->usr_cap;
	if (tok && (live_tok + 1) * 2 > tc)
		tc *= 2;
	if (!tok && (live_usr + 1) * 2 > uc)
		uc *= 2;
	if (table_alloc(&n, tc, uc) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < t->tok_cap; i++)
		if ((t->tok[i].a || t->tok[i].b) &&
		    t->tok[i].expires_ms > now_ms)
			tok_put(&n, t->tok[i].a, t->tok[i].b,
				t->tok[i].expires_ms);
	for (size_t i = 0; i < t->usr_cap; i++)
		if (t->usr[i].uid && t->usr[i].expires_ms > now_ms)
			usr_put(&n, t->usr[i].uid, t->usr[i].cutoff,
				t->usr[i].expires_ms);
	table_free(t);
	*t = n;
	return 0;
}

static void
add_locked(long long uid, const unsigned char *jti, long long cutoff,
	   long long expires_ms)
{
	long long now = time_now_ms();

	if (expires_ms <= now || uid <= 0 || !cur.tok)
		return;
	if (jti) {
		uint64_t a, b;

		load_jti(jti, &a, &b);
		if (cur.tok_n < tok_max && (tok_put(&cur, a, b, expires_ms) ||
					    (grow(&cur, true, now) == 0 &&
					     tok_put(&cur, a, b, expires_ms))))
			goto out;
		/* Over revocation_max (or out of memory): the user loses
		 * every token issued up to this revocation instead; safe,
		 * if more than was asked. Said once a minute at most. */
		if (now - last_full_warn_ms > 60000) {
			log_warn(NULL,
				 "revocations: %zu revoked tokens in memory "
				 "(revocation_max): a further sign-out revokes "
				 "every earlier token of its user",
				 cur.tok_n);
			last_full_warn_ms = now;
		}
	}
	if ((cur.usr_n + 1) * 2 > cur.usr_cap && grow(&cur, false, now) < 0) {
		log_error(NULL, "revocations: out of memory");
		goto out;
	}
	usr_put(&cur, uid, cutoff, expires_ms);
out:
	atomic_store(&nentries, cur.tok_n + cur.usr_n);
}

void
revoke_add(long long uid, const unsigned char *jti, long long cutoff,
	   long long expires_ms)
{
	pthread_rwlock_wrlock(&lock);
	add_locked(uid, jti, cutoff, expires_ms);
	pthread_rwlock_unlock(&lock);
}

bool
revoke_check(long long uid, const unsigned char *jti, long long units)
{
	long long now = time_now_ms();
	bool revoked = false;

	if (atomic_load(&nentries) == 0)
		return false;
	pthread_rwlock_rdlock(&lock);
	if (cur.usr_n) {
		size_t mask = cur.usr_cap - 1;

		for (size_t i = mix((uint64_t)uid) & mask; cur.usr[i].uid;
		     i = (i + 1) & mask)
			if (cur.usr[i].uid == uid) {
				revoked = units < cur.usr[i].cutoff &&
					  cur.usr[i].expires_ms > now;
				break;
			}
	}
	if (!revoked && jti && cur.tok_n) {
		size_t mask = cur.tok_cap - 1;
		uint64_t a, b;

		load_jti(jti, &a, &b);
		for (size_t i = mix(a ^ b) & mask; cur.tok[i].a || cur.tok[i].b;
		     i = (i + 1) & mask)
			if (cur.tok[i].a == a && cur.tok[i].b == b) {
				revoked = cur.tok[i].expires_ms > now;
				break;
			}
	}
	pthread_rwlock_unlock(&lock);
	return revoked;
}

unsigned long
revoke_count(void)
{
	return (unsigned long)atomic_load(&nentries);
}

long long
revoke_clock(void)
{
	struct timespec ts;
	long long now, last;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (long long)ts.tv_sec * 1000 * 4096 +
	      (long long)ts.tv_nsec * 4096 / 1000000;
	last = atomic_load(&last_units);
	do {
		if (now <= last)
			now = last + 1;
	} while (!atomic_compare_exchange_weak(&last_units, &last, now));
	return now;
}

static void
purge(long long now_ms)
{
	pthread_rwlock_wrlock(&lock);
	if (cur.tok_n + cur.usr_n)
		grow(&cur, false, now_ms); /* a rebuild without the expired */
	atomic_store(&nentries, cur.tok_n + cur.usr_n);
	pthread_rwlock_unlock(&lock);
}

/* Rows read by one poll, gathered before the lock is taken: no reader
 * ever waits on the database. */
struct batch {
	struct row {
		long long uid, cutoff, expires_ms;
		bool has_jti;
		unsigned char jti[16];
	} * v;
	size_t n, cap;
	bool oom;
};

static void
on_row(void *ctx, long long uid, const unsigned char *jti, long long cutoff,
       long long expires_ms)
{
	struct batch *b = ctx;
	struct row *r;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct row *v = realloc(b->v, cap * sizeof(*v));

		if (!v) {
			b->oom = true;
			return;
		}
		b->v = v;
		b->cap = cap;
	}
	r = &b->v[b->n++];
	r->uid = uid;
	r->cutoff = cutoff;
	r->expires_ms = expires_ms;
	r->has_jti = jti != NULL;
	if (jti)
		memcpy(r->jti, jti, 16);
}

/* Reads the rows of the last window_s seconds (0: every live row) and
 * adds them. 0 or an error result. */
static int
read_rows(struct db *db, long long window_s)
{
	struct batch b = {0};
	int rc;

	db_clear_lost(db);
	rc = store_revocations_read(db, window_s, time_now_ms(), on_row, &b);
	if (rc == 0 && b.oom)
		rc = -ENOMEM;
	if (rc == 0 && b.n) {
		pthread_rwlock_wrlock(&lock);
		for (size_t i = 0; i < b.n; i++)
			add_locked(b.v[i].uid,
				   b.v[i].has_jti ? b.v[i].jti : NULL,
				   b.v[i].cutoff, b.v[i].expires_ms);
		pthread_rwlock_unlock(&lock);
	}
	free(b.v);
	return rc;
}

static void *
poll_main(void *arg)
{
	struct db *db = arg;
	long long poll_ms = poll_cfg->revocation_poll_ms;
	long long window_s = poll_ms * 3 / 1000;
	long long last_purge = time_now_ms(), last_db_purge = 0;
	bool full = need_full, failing = need_full;

	if (window_s < WINDOW_MIN_S)
		window_s = WINDOW_MIN_S;
	pthread_mutex_lock(&stop_lock);
	while (!stopping) {
		struct timespec until;
		long long now;
		int rc;

		pthread_mutex_unlock(&stop_lock);
		rc = read_rows(db, full ? 0 : window_s);
		if (rc < 0 && !failing)
			log_warn(NULL,
				 "revocations: cannot read new ones (%d); "
				 "the last known set stays in force",
				 rc);
		if (rc == 0 && failing)
			log_info(NULL, "revocations: reading again");
		/* After a gap, rows may have slipped past the window. */
		full = rc < 0;
		failing = rc < 0;
		now = time_now_ms();
		if (now - last_purge >= PURGE_EVERY_MS) {
			purge(now);
			last_purge = now;
		}
		if (rc == 0 && now - last_db_purge >= DB_PURGE_EVERY_MS) {
			store_revocations_purge(db, now);
			last_db_purge = now;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(poll_ms % 1000) * 1000000L;
		until.tv_sec +=
			(time_t)(poll_ms / 1000) + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&stop_lock);
		while (!stopping &&
		       pthread_cond_timedwait(&stop_cond, &stop_lock, &until) !=
			       ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&stop_lock);
	db_free(db);
	return NULL;
}

int
revoke_init(const struct config *cfg)
{
	int rc;

	tok_max = (size_t)cfg->revocation_max;
	pthread_rwlock_wrlock(&lock);
	table_free(&cur);
	rc = table_alloc(&cur, 1024, 256);
	atomic_store(&nentries, 0);
	pthread_rwlock_unlock(&lock);
	return rc;
}

int
revoke_start(const struct config *cfg)
{
	struct db *db = db_new(cfg);
	int rc;

	if (!db)
		return -ENOMEM;
	poll_cfg = cfg;
	rc = read_rows(db, 0);
	need_full = rc < 0;
	if (rc < 0)
		log_warn(NULL,
			 "revocations: cannot load them at start (%d); "
			 "retrying every %ld ms",
			 rc, cfg->revocation_poll_ms);
	else
		log_info(NULL, "revocations: %zu in memory",
			 atomic_load(&nentries));
	stopping = false;
	if (pthread_create(&poller, NULL, poll_main, db) != 0) {
		db_free(db);
		return -EAGAIN;
	}
	poller_started = true;
	return 0;
}

void
revoke_stop(void)
{
	if (poller_started) {
		pthread_mutex_lock(&stop_lock);
		stopping = true;
		pthread_cond_signal(&stop_cond);
		pthread_mutex_unlock(&stop_lock);
		pthread_join(poller, NULL);
		poller_started = false;
	}
	pthread_rwlock_wrlock(&lock);
	table_free(&cur);
	atomic_store(&nentries, 0);
	pthread_rwlock_unlock(&lock);
}
