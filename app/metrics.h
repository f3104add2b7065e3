/* Process metrics for Prometheus: per-process atomic counters, gauges and
 * a latency histogram per route, written in the text format 0.0.4 by
 * GET /api/metrics. Counting takes no lock; neither does a scrape. */
#ifndef TODOD_METRICS_H
#define TODOD_METRICS_H

#include <stddef.h>

struct request;
struct route;

#define METRICS_ROUTES_MAX 32 /* the route table's size at most */

enum metrics_db_error {
	METRICS_DB_UNAVAILABLE, /* server gone, cannot connect */
	METRICS_DB_CONTENTION, /* deadlock, lock wait timeout */
	METRICS_DB_OTHER, /* anything else */
	METRICS_DB_MAX
};

/* The route table (its patterns and methods label the counters, by
 * index) and the worker count; called once before the workers start. */
void metrics_init(const struct route *routes, size_t nroutes, long workers);
/* One answered request: route index (or -1 when no route matched), its
 * status and how long it took. */
void metrics_request(int route, int status, long long duration_us);
void metrics_worker_busy(int delta);
void metrics_db_error(enum metrics_db_error kind);
void metrics_db_reconnect(void);
void metrics_signin_shed(void);

/* GET /api/metrics. */
int metrics_get(struct request *r);

#endif
