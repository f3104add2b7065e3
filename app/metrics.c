/* Prometheus metrics: relaxed atomics bumped by the workers, read by a
 * scrape into the text exposition format 0.0.4. */
#include "metrics.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "json.h"
#include "password.h"
#include "revoke.h"
#include "router.h"

#ifndef TODOD_VERSION
#define TODOD_VERSION "unknown"
#endif

/* Upper bounds of the latency buckets, in microseconds (+Inf last). */
static const long long bucket_us[] = {1000,   2500,    5000,    10000,
				      25000,  50000,   100000,  250000,
				      500000, 1000000, 2500000, 5000000};

#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]) + 1)
#define NCLASSES 5 /* 1xx .. 5xx */
#define UNMATCHED METRICS_ROUTES_MAX

struct route_stats {
	atomic_ullong status[NCLASSES];
	atomic_ullong bucket[NBUCKETS]; /* not cumulative */
	atomic_ullong sum_us;
};

static struct route_stats stats[METRICS_ROUTES_MAX + 1];
static const struct route *route_table;
static size_t nroutes;
static long nworkers;
static atomic_int busy;
static atomic_ullong db_errors[METRICS_DB_MAX];
static atomic_ullong db_reconnects;
static atomic_ullong signins_shed;

static const char *const db_error_names[METRICS_DB_MAX] = {
	[METRICS_DB_UNAVAILABLE] = "unavailable",
	[METRICS_DB_CONTENTION] = "contention",
	[METRICS_DB_OTHER] = "other",
};

static void put(struct jbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void route_labels(char *out, size_t cap, size_t i);
static long long rss_bytes(void);
static long open_fds(void);

void
metrics_init(const struct route *routes, size_t n, long workers)
{
	route_table = routes;
	nroutes = n < METRICS_ROUTES_MAX ? n : METRICS_ROUTES_MAX;
	nworkers = workers;
}

void
metrics_request(int route, int status, long long duration_us)
{
	struct route_stats *s =
		&stats[route >= 0 && (size_t)route < nroutes ? (size_t)route
							     : UNMATCHED];
	int cls = status / 100 - 1;
	size_t b = 0;

	if (cls < 0 || cls >= NCLASSES)
		cls = NCLASSES - 1;
	while (b < NBUCKETS - 1 && duration_us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&s->status[cls], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(
		&s->sum_us,
		(unsigned long long)(duration_us > 0 ? duration_us : 0),
		memory_order_relaxed);
}

void
metrics_worker_busy(int delta)
{
	atomic_fetch_add_explicit(&busy, delta, memory_order_relaxed);
}

void
metrics_db_error(enum metrics_db_error kind)
{
	if (kind < METRICS_DB_MAX)
		atomic_fetch_add_explicit(&db_errors[kind], 1,
					  memory_order_relaxed);
}

void
metrics_db_reconnect(void)
{
	atomic_fetch_add_explicit(&db_reconnects, 1, memory_order_relaxed);
}

void
metrics_signin_shed(void)
{
	atomic_fetch_add_explicit(&signins_shed, 1, memory_order_relaxed);
}

static void
put(struct jbuf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		jb_raw(b, line,
		       (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* route="<pattern>",method="<METHOD>": the patterns are the route
 * table's constants, no label escaping needed. */
static void
route_labels(char *out, size_t cap, size_t i)
{
	if (i == UNMATCHED)
		snprintf(out, cap, "route=\"unmatched\",method=\"\"");
	else
		snprintf(out, cap, "route=\"%s\",method=\"%s\"",
			 route_table[i].pattern,
			 http_method_name(route_table[i].method));
}

static long long
rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	long long size = 0, rss = 0;

	if (!f)
		return -1;
	if (fscanf(f, "%lld %lld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

static long
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

int
metrics_get(struct request *r)
{
	static const char *const classes[NCLASSES] = {"1xx", "2xx", "3xx",
						      "4xx", "5xx"};
	unsigned running = 0, waiting = 0;
	struct jbuf b;
	char labels[256];
	int nbusy = atomic_load_explicit(&busy, memory_order_relaxed);

	jb_init(&b, r->arena, 16384);
	put(&b,
	    "# HELP todod_build_info The running build.\n"
	    "# TYPE todod_build_info gauge\n"
	    "todod_build_info{version=\"%s\"} 1\n",
	    TODOD_VERSION);
	put(&b, "# HELP todod_requests_total Requests answered, by route "
		"and status class.\n# TYPE todod_requests_total counter\n");
	for (size_t i = 0; i <= UNMATCHED; i++) {
		if (i >= nroutes && i != UNMATCHED)
			continue;
		route_labels(labels, sizeof(labels), i);
		for (int c = 0; c < NCLASSES; c++)
			put(&b, "todod_requests_total{%s,status=\"%s\"} %llu\n",
			    labels, classes[c],
			    atomic_load_explicit(&stats[i].status[c],
						 memory_order_relaxed));
	}
	put(&b, "# HELP todod_request_duration_seconds Time from the "
		"request's arrival at a worker to its answer.\n"
		"# TYPE todod_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= UNMATCHED; i++) {
		unsigned long long cum = 0;

		if (i >= nroutes && i != UNMATCHED)
			continue;
		route_labels(labels, sizeof(labels), i);
		for (size_t k = 0; k < NBUCKETS; k++) {
			cum += atomic_load_explicit(&stats[i].bucket[k],
						    memory_order_relaxed);
			if (k < NBUCKETS - 1)
				put(&b,
				    "todod_request_duration_seconds_bucket{%s,"
				    "le=\"%g\"} %llu\n",
				    labels, (double)bucket_us[k] / 1e6, cum);
			else
				put(&b,
				    "todod_request_duration_seconds_bucket{%s,"
				    "le=\"+Inf\"} %llu\n",
				    labels, cum);
		}
		put(&b, "todod_request_duration_seconds_sum{%s} %.6f\n", labels,
		    (double)atomic_load_explicit(&stats[i].sum_us,
						 memory_order_relaxed) /
			    1e6);
		put(&b, "todod_request_duration_seconds_count{%s} %llu\n",
		    labels, cum);
	}
	put(&b,
	    "# HELP todod_workers Worker threads, by state.\n"
	    "# TYPE todod_workers gauge\n"
	    "todod_workers{state=\"busy\"} %d\n"
	    "todod_workers{state=\"idle\"} %ld\n",
	    nbusy, nworkers - nbusy);
	put(&b, "# HELP todod_db_errors_total Database failures, by cause.\n"
		"# TYPE todod_db_errors_total counter\n");
	for (int k = 0; k < METRICS_DB_MAX; k++)
		put(&b, "todod_db_errors_total{kind=\"%s\"} %llu\n",
		    db_error_names[k],
		    atomic_load_explicit(&db_errors[k], memory_order_relaxed));
	put(&b,
	    "# HELP todod_db_reconnects_total Connections opened again after "
	    "one was lost or could not be made.\n"
	    "# TYPE todod_db_reconnects_total counter\n"
	    "todod_db_reconnects_total %llu\n",
	    atomic_load_explicit(&db_reconnects, memory_order_relaxed));
	password_stats(&running, &waiting);
	put(&b,
	    "# HELP todod_password_hashes Password hashes (scrypt), by "
	    "state.\n# TYPE todod_password_hashes gauge\n"
	    "todod_password_hashes{state=\"running\"} %u\n"
	    "todod_password_hashes{state=\"waiting\"} %u\n",
	    running, waiting);
	put(&b,
	    "# HELP todod_signins_shed_total Sign-ins (and other password "
	    "work) answered 429 because every hashing place was taken.\n"
	    "# TYPE todod_signins_shed_total counter\n"
	    "todod_signins_shed_total %llu\n",
	    atomic_load_explicit(&signins_shed, memory_order_relaxed));
	put(&b,
	    "# HELP todod_revocations Token revocations held in memory "
	    "(revoked tokens and per-user cutoffs).\n"
	    "# TYPE todod_revocations gauge\n"
	    "todod_revocations %lu\n",
	    revoke_count());
	put(&b,
	    "# HELP todod_resident_memory_bytes Resident set size.\n"
	    "# TYPE todod_resident_memory_bytes gauge\n"
	    "todod_resident_memory_bytes %lld\n"
	    "# HELP todod_open_fds Open file descriptors.\n"
	    "# TYPE todod_open_fds gauge\n"
	    "todod_open_fds %ld\n",
	    rss_bytes(), open_fds());
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return http_body_jbuf(r, 200, &b);
}
