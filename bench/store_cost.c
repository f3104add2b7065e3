/* bench/store_cost.c: what MariaDB alone spends on each of todod's
 * data-layer calls, with no nginx, FastCGI or handler in the way. T
 * threads, each with its own connection (a struct db, as each todod worker
 * has), call one store_* function in a loop for S seconds; then the next
 * call. For each: calls per second, and the CPU mariadbd spent per call
 * (user + system time of all its threads, from /proc/PID/stat around the
 * run, so its background threads, purge and the redo log's flushing
 * included). This is the floor under the same request through the whole
 * stack (docs/performance.md, "MariaDB alone"). bench/run.sh runs it
 * (its phase "store") with as many threads as todod has workers; by hand:
 *
 *   build/bench-store-cost CONFIG MARIADBD_PID [threads (16)] [seconds (5)]
 *   build/bench-store-cost var/todod.conf $(cat var/run/mariadb.pid)
 *
 * Uses CONFIG's database and credentials (var/todod.conf of scripts/up).
 * Makes one user (bench-store-<pid>-<ms>@bench.invalid) with 100 todos,
 * runs the calls below against them, and deletes the user (and so every
 * todo the run made) at the end. The calls:
 *   ping       store_ping (SELECT 1: the round trip alone)
 *   get        store_todo_get, round-robin over the 100
 *   list20     store_todo_list, the default page (20, newest first) + total
 *   create     store_todo_insert (durable: one commit each)
 *   patch      store_todo_update without a check, a new title: the PATCH
 *              of bench/patch.lua
 *   toggle     the same, setting completed (true and false by turns, so
 *              about half the calls move the todo between the counts the
 *              todo_counts trigger keeps)
 * One line per call on stdout, read by bench/report.py:
 *   STORE call=patch threads=16 seconds=5 calls_per_s=5789 mariadb_ms=0.2377
 * Exits 1 if any call fails. Not part of the service; built by meson.build
 * beside todod (it links the same library), not installed. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "config.h"
#include "db.h"
#include "revoke.h"
#include "store.h"
#include "todos_query.h"
#include "util.h"

#define TODOS 100

enum call {
	CALL_PING,
	CALL_GET,
	CALL_LIST,
	CALL_CREATE,
	CALL_PATCH,
	CALL_TOGGLE,
	CALL_MAX
};

static const char *const call_name[CALL_MAX] = {
	[CALL_PING] = "ping",   [CALL_GET] = "get",
	[CALL_LIST] = "list20", [CALL_CREATE] = "create",
	[CALL_PATCH] = "patch", [CALL_TOGGLE] = "toggle",
};

struct run {
	const struct config *cfg;
	enum call call;
	long long uid;
	const long long *ids;
	atomic_bool stop;
	atomic_bool failed;
};

struct thread {
	struct run *run;
	int index;
	long long calls;
};

static void each_row(void *ctx, const struct store_todo *t);
static int one_call(struct db *db, struct thread *th, long long n,
		    struct store_todo *t);
static void *thread_main(void *arg);
static long long cpu_ticks(int pid);
static double now_s(void);

static void
each_row(void *ctx, const struct store_todo *t)
{
	(void)t;
	++*(long long *)ctx;
}

static int
one_call(struct db *db, struct thread *th, long long n, struct store_todo *t)
{
	const struct run *run = th->run;
	/* Threads start apart in the set, as bench/patch.lua's do. */
	long long id = run->ids[(th->index * 37 + n) % TODOS];
	struct store_todo_change c = {0};
	struct todos_query q = {
		.sort = TQ_SORT_CREATED, .desc = true, .limit = 20};
	char title[64];
	long long rows = 0, total = 0;
	int rc;

	switch (run->call) {
	case CALL_PING: return store_ping(db, NULL);
	case CALL_GET:
		rc = store_todo_get(db, NULL, id, run->uid, t);
		return rc == 1 ? 0 : rc < 0 ? rc : -ENOENT;
	case CALL_LIST:
		rc = store_todo_list(db, NULL, run->uid, &q, each_row, &rows,
				     &total);
		return rc < 0 ? rc : rows == 20 && total >= TODOS ? 0 : -EIO;
	case CALL_CREATE:
	case CALL_PATCH:
		c.has_title = true;
		c.title = title;
		c.title_len =
			(size_t)snprintf(title, sizeof(title),
					 "store cost %d-%lld", th->index, n);
		if (run->call == CALL_PATCH)
			break;
		c.has_desc = c.has_completed = c.has_priority = c.has_due =
			true;
		c.desc = "";
		c.priority = 1;
		c.due_null = true;
		return store_todo_insert(db, NULL, run->uid, &c, t);
	case CALL_TOGGLE:
		c.has_completed = true;
		c.completed = n % 2 == 0;
		break;
	case CALL_MAX: return -EINVAL;
	}
	rc = store_todo_update(db, NULL, id, run->uid, &c, NULL, NULL, t);
	return rc == 1 ? 0 : rc < 0 ? rc : -ENOENT;
}

static void *
thread_main(void *arg)
{
	struct thread *th = arg;
	struct store_todo *t = malloc(sizeof(*t));
	struct db *db = NULL;
	int rc;

	mysql_thread_init();
	if (!t || !(db = db_new(th->run->cfg)) || db_connect(db, NULL) < 0) {
		fprintf(stderr, "bench-store-cost: cannot connect\n");
		atomic_store(&th->run->failed, true);
		goto out;
	}
	while (!atomic_load(&th->run->stop)) {
		if ((rc = one_call(db, th, th->calls, t)) < 0) {
			fprintf(stderr, "bench-store-cost: %s: %s\n",
				call_name[th->run->call], strerror(-rc));
			atomic_store(&th->run->failed, true);
			break;
		}
		th->calls++;
	}
out:
	db_free(db);
	free(t);
	mysql_thread_end();
	return NULL;
}

/* utime + stime of every thread of pid, in clock ticks. */
static long long
cpu_ticks(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15, counted after the ')' that ends the name. */
	if (!(p = strrchr(buf, ')')))
		return -1;
	for (i = 0; i < 12 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, "%llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static struct config cfg;
	static struct store_todo t;
	struct store_todo_change c = {.has_title = true,
				      .has_desc = true,
				      .has_completed = true,
				      .has_priority = true,
				      .has_due = true,
				      .desc = "",
				      .priority = 1,
				      .due_null = true};
	struct store_user u;
	struct run run = {.cfg = &cfg};
	struct db *db = NULL;
	struct thread th[64];
	pthread_t tid[64];
	long long ids[TODOS], ticks0, ticks1, calls;
	char err[256], email[96];
	double t0, t1, hz = (double)sysconf(_SC_CLK_TCK);
	int pid, threads = 16, seconds = 5, code = 1, i, n;
	enum call k;

	if (argc < 3 || argc > 5) {
		fprintf(stderr,
			"usage: %s CONFIG MARIADBD_PID [threads] [seconds]\n",
			argv[0]);
		return 2;
	}
	pid = atoi(argv[2]);
	if (argc > 3)
		threads = atoi(argv[3]);
	if (argc > 4)
		seconds = atoi(argv[4]);
	if (pid <= 0 || cpu_ticks(pid) < 0 || threads < 1 || threads > 64 ||
	    seconds < 1 || seconds > 600) {
		fprintf(stderr,
			"%s: bad pid, threads (1-64) or seconds (1-600)\n",
			argv[0]);
		return 2;
	}
	if (config_load(&cfg, argv[1], true, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	if (mysql_library_init(0, NULL, NULL) != 0)
		return 1;
	db = db_new(&cfg);
	if (!db || db_connect(db, NULL) < 0) {
		fprintf(stderr, "%s: cannot connect to the database\n",
			argv[0]);
		goto out;
	}
	n = snprintf(email, sizeof(email), "bench-store-%d-%lld@bench.invalid",
		     (int)getpid(), time_now_ms());
	if (store_user_insert(db, NULL, email, (size_t)n, "bench", 5,
			      "not a password hash", time_now_ms(), &u) < 0)
		goto out;
	run.uid = u.id;
	run.ids = ids;
	for (i = 0; i < TODOS; i++) {
		char title[32];
		c.title = title;
		c.title_len =
			(size_t)snprintf(title, sizeof(title), "seed %d", i);
		if (store_todo_insert(db, NULL, u.id, &c, &t) < 0)
			goto drop;
		ids[i] = t.id;
	}
	for (k = 0; k < CALL_MAX; k++) {
		run.call = k;
		atomic_store(&run.stop, false);
		ticks0 = cpu_ticks(pid);
		t0 = now_s();
		for (i = 0; i < threads; i++) {
			th[i] = (struct thread){.run = &run, .index = i};
			if (pthread_create(&tid[i], NULL, thread_main,
					   &th[i]) != 0) {
				atomic_store(&run.stop, true);
				threads = i;
				atomic_store(&run.failed, true);
				break;
			}
		}
		sleep((unsigned)seconds);
		atomic_store(&run.stop, true);
		calls = 0;
		for (i = 0; i < threads; i++) {
			pthread_join(tid[i], NULL);
			calls += th[i].calls;
		}
		t1 = now_s();
		ticks1 = cpu_ticks(pid);
		if (atomic_load(&run.failed) || calls == 0)
			goto drop;
		printf("STORE call=%s threads=%d seconds=%d calls_per_s=%.0f"
		       " mariadb_ms=%.4f\n",
		       call_name[k], threads, seconds,
		       (double)calls / (t1 - t0),
		       (double)(ticks1 - ticks0) / hz * 1000.0 / (double)calls);
		fflush(stdout);
	}
	code = 0;
drop:
	if (store_user_delete(db, NULL, u.id, revoke_clock(), time_now_ms()) <
	    0) {
		fprintf(stderr, "%s: could not delete %s\n", argv[0], email);
		code = 1;
	}
out:
	db_free(db);
	mysql_library_end();
	return code;
}
