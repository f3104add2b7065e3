/* Worker threads: the FastCGI accept loop, request setup, dispatch through
 * the route table, the access log line and the per-request cleanup. */
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "arena.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "routes.h"
#include "store.h"
#include "util.h"

struct worker {
	struct pool *pool;
	int id;
	pthread_t thread;
	bool initialised, started;
	FCGX_Request req;
	struct arena *arena;
	struct db *db;
	unsigned rid_prefix;
	unsigned long long served;
};

struct pool {
	const struct config *cfg;
	int listen_fd;
	atomic_bool stopping;
	int nworkers;
	struct worker *workers;
};

static void *worker_main(void *arg);
static void handle(struct worker *w);
static bool replayable(const struct request *r, const struct route *route);
static long long mono_us(void);

static atomic_llong last_purge_ms;

/* A write that ends in the same state when it runs twice: a create under
 * an Idempotency-Key (the second run finds the key, or makes the todo the
 * first never committed), a PUT or PATCH without If-Match (the same fields
 * set again). */
static bool
replayable(const struct request *r, const struct route *route)
{
	if (!(route->flags & ROUTE_REPLAY))
		return false;
	if (r->method == HTTP_POST)
		return http_param(r, "HTTP_IDEMPOTENCY_KEY") != NULL;
	return http_param(r, "HTTP_IF_MATCH") == NULL;
}

static void
handle(struct worker *w)
{
	struct request r;
	const struct route *route;
	const char *uri, *q, *m;
	unsigned allowed = 0;
	long long start = mono_us();
	int status, method, nh0;
	long long duration;

	memset(&r, 0, sizeof(r));
	r.fcgi = &w->req;
	r.envp = w->req.envp;
	r.arena = w->arena;
	r.cfg = w->pool->cfg;
	r.db = w->db;
	snprintf(r.reqid, sizeof(r.reqid), "%08x%08llx", w->rid_prefix,
		 w->served & 0xffffffffULL);

	m = http_param(&r, "REQUEST_METHOD");
	method = m ? http_method_from_name(m) : -1;
	r.method_name = m ? m : "-";
	uri = http_param(&r, "REQUEST_URI");
	if (!uri)
		uri = http_param(&r, "DOCUMENT_URI");
	if (!uri)
		uri = "";
	q = strchr(uri, '?');
	r.path = uri;
	r.path_len = q ? (size_t)(q - uri) : strlen(uri);
	r.query = http_param(&r, "QUERY_STRING");
	if (!r.query)
		r.query = q ? q + 1 : "";

	route = method < 0 ? NULL
			   : router_match(routes_table(), routes_count(),
					  (enum http_method)method, r.path,
					  r.path_len, r.params, r.param_len,
					  &allowed);
	if (method < 0) {
		/* An unknown method: say which ones the path takes, if any. */
		const char *p[HTTP_PARAMS_MAX];
		size_t pl[HTTP_PARAMS_MAX];

		router_match(routes_table(), routes_count(), HTTP_OPTIONS,
			     r.path, r.path_len, p, pl, &allowed);
	}
	if (!route) {
		/* Everything under /api/auth/ is uncacheable, errors included. */
		if (r.path_len >= 10 && memcmp(r.path, "/api/auth/", 10) == 0)
			http_header(&r, "Cache-Control", "no-store");
		if (allowed) {
			char *allow = arena_alloc(r.arena, 64);

			if (allow) {
				router_allow_header(allowed, allow, 64);
				http_header(&r, "Allow", allow);
			}
			status = http_error(
				&r, 405,
				"The method is not allowed for this resource.",
				NULL);
		} else {
			status = http_error(&r, 404, "No such resource.", NULL);
		}
		r.route = "-";
		goto send;
	}
	r.method = (enum http_method)method;
	r.route = route->pattern;
	if (route->flags & ROUTE_NOSTORE)
		http_header(&r, "Cache-Control", "no-store");
	if (route->flags & ROUTE_PRIVATE)
		http_header(&r, "Cache-Control", "private, no-cache");
	if (route->flags & ROUTE_AUTH) {
		status = auth_require(&r);
		if (status)
			goto send;
	}
	db_clear_lost(w->db);
	nh0 = r.nheaders;
	status = route->handler(&r);
	if (status == 503 && db_lost(w->db) &&
	    (r.method == HTTP_GET || r.method == HTTP_HEAD ||
	     db_retry_safe(w->db) || replayable(&r, route))) {
		/* The connection died under a safe request (MariaDB restarted
		 * since this worker last used it, or the node died), under one
		 * that ends the same when run twice, or before anything of any
		 * request ran: reconnect (to the next endpoint when this one is
		 * gone) and run it again, once. */
		r.err_code = r.err_message = r.err_field = r.err_cause = NULL;
		r.body = NULL;
		r.body_len = 0;
		r.nheaders = nh0;
		db_clear_lost(w->db);
		status = route->handler(&r);
	}
send:
	http_send(&r, status);
	duration = mono_us() - start;
	metrics_request(route ? (int)(route - routes_table()) : -1, status,
			duration);
	log_request(r.reqid, r.method_name, r.route, status,
		    status >= 500 ? (r.err_code ? r.err_code
						: http_status_code(status))
				  : NULL,
		    r.err_cause, duration);
}

/* Microseconds of a monotonic clock: durations, not times. */
static long long
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;

	while (!atomic_load(&p->stopping)) {
		long long now, last;

		if (FCGX_Accept_r(&w->req) < 0) {
			/* pool_stop shut the socket down (accept fails with
			 * EINVAL), or accept failed for want of resources
			 * (EMFILE, ENOBUFS...): then wait a little and go on,
			 * a worker never leaves the pool by itself. */
			if (atomic_load(&p->stopping))
				break;
			log_error(NULL, "worker %d: accept failed: %s", w->id,
				  strerror(errno));
			nanosleep(&(struct timespec){.tv_nsec =
							     100 * 1000 * 1000},
				  NULL);
			continue;
		}
		w->served++;
		metrics_worker_busy(1);
		handle(w);
		FCGX_Finish_r(&w->req);
		metrics_worker_busy(-1);
		arena_reset(w->arena);

		/* Expired idempotency keys go away about once a minute, after
		 * a response has been sent, by whichever worker comes first. */
		now = time_now_ms();
		last = atomic_load(&last_purge_ms);
		if (now - last > 60000 && atomic_compare_exchange_strong(
						  &last_purge_ms, &last, now)) {
			db_clear_lost(w->db);
			store_idem_purge(w->db, now);
		}
	}
	FCGX_Finish_r(&w->req);
	return NULL;
}

struct pool *
pool_start(const struct config *cfg, int listen_fd)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = cfg;
	p->listen_fd = listen_fd;
	p->nworkers = (int)cfg->workers;
	p->workers = calloc((size_t)p->nworkers, sizeof(*p->workers));
	if (!p->workers)
		goto fail;
	for (int i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		w->pool = p;
		w->id = i;
		if (getrandom(&w->rid_prefix, sizeof(w->rid_prefix), 0) !=
		    sizeof(w->rid_prefix))
			w->rid_prefix = (unsigned)rand();
		w->arena = arena_new(64 * 1024);
		w->db = db_new(cfg);
		if (!w->arena || !w->db ||
		    FCGX_InitRequest(&w->req, listen_fd, 0) != 0)
			goto fail;
		w->initialised = true;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			goto fail;
		w->started = true;
	}
	return p;
fail:
	log_error(NULL, "cannot start the worker pool");
	pool_stop(p);
	return NULL;
}

void
pool_stop(struct pool *p)
{
	struct pollfd pfd;

	if (!p)
		return;
	/* The caller has removed the socket's path, so no new connection
	 * can come; the ones already queued are served before the socket is
	 * shut (bounded: 30 s). */
	pfd.fd = p->listen_fd;
	pfd.events = POLLIN;
	for (int i = 0; i < 1200 && p->workers; i++) {
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN))
			break;
		nanosleep(&(struct timespec){.tv_nsec = 25 * 1000 * 1000},
			  NULL);
	}
	atomic_store(&p->stopping, true);
	FCGX_ShutdownPending();
	/* Wakes every thread blocked in accept() (EINVAL); the others finish
	 * their request and see the flag. */
	shutdown(p->listen_fd, SHUT_RDWR);
	for (int i = 0; p->workers && i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->initialised)
			FCGX_Free(&w->req, 1);
		db_free(w->db);
		arena_free(w->arena);
	}
	free(p->workers);
	free(p);
}
