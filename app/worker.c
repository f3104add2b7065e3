/* Worker threads: the FastCGI accept loop, request setup, dispatch through
 * the route table, the access log line and the per-request cleanup. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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
#include "password.h"
#include "router.h"
#include "routes.h"
#include "store.h"
#include "util.h"

/* One FastCGI connection from nginx. With fastcgi_keep_conn it carries
 * request after request; between them it waits in the pool's epoll set,
 * so an idle connection holds no thread. Owned by one worker at a time:
 * the one that took its (one-shot) event or accepted it. */
struct conn {
	FCGX_Request req;
	struct conn *prev, *next; /* the pool's open connections */
	bool in_epoll;
	/* While its answer is held (see hold_put): when it is due, and the
	 * next held one. */
	long long due_us;
	struct conn *held_next;
};

/* Connections taken off the listening socket per listener event. */
#define ACCEPT_BATCH 16
/* Answers held back at once (each keeps one connection from nginx open);
 * past that, a shed request is answered at once. */
#define HOLD_MAX 256

struct worker {
	struct pool *pool;
	int id;
	pthread_t thread;
	bool started;
	struct arena *arena;
	struct db *db;
	unsigned rid_prefix;
	unsigned long long served;
};

struct pool {
	const struct config *cfg;
	int listen_fd;
	int epfd, stopfd;
	/* draining: connections close after their request; stopping: the
	 * workers leave. */
	atomic_bool draining, stopping;
	atomic_int busy;
	atomic_ullong started_requests;
	int nworkers;
	struct worker *workers;
	pthread_mutex_t conns_lock;
	struct conn *conns;
	/* Held answers, oldest (first due) first, and the thread that sends
	 * each when it is due. */
	pthread_mutex_t hold_lock;
	pthread_cond_t hold_cond;
	struct conn *held_head, *held_tail;
	int nheld;
	bool hold_stop;
	pthread_t holder;
	bool holder_started;
};

static void *worker_main(void *arg);
static int handle(struct worker *w, FCGX_Request *fr);
static struct conn *conn_new(struct pool *p, int fd);
static struct conn *conn_accept(struct pool *p);
static void conn_arm(struct pool *p, struct conn *c);
static void conn_close(struct pool *p, struct conn *c);
static void serve(struct worker *w, struct conn *c);
static void conn_finish(struct pool *p, struct conn *c);
static bool hold_put(struct pool *p, struct conn *c, int ms);
static void *holder_main(void *arg);
static void drain_stdin(FCGX_Request *fr);
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

/* Runs one request and writes its answer (not yet sent: FCGX_Finish_r
 * sends it). Returns how many milliseconds the answer is to be held back
 * (request.hold_ms), usually 0. */
static int
handle(struct worker *w, FCGX_Request *fr)
{
	struct request r;
	const struct route *route;
	const char *uri, *q, *m;
	unsigned allowed = 0;
	long long start = mono_us();
	int status, method, nh0;
	long long duration;

	memset(&r, 0, sizeof(r));
	r.fcgi = fr;
	r.envp = fr->envp;
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
	/* A hash's place a handler reserved and did not use goes back. */
	password_release();
	http_send(&r, status);
	duration = mono_us() - start;
	metrics_request(route ? (int)(route - routes_table()) : -1, status,
			duration);
	log_request(r.reqid, r.method_name, r.route, status,
		    status >= 500 ? (r.err_code ? r.err_code
						: http_status_code(status))
				  : NULL,
		    r.err_cause, duration);
	return r.hold_ms;
}

/* Microseconds of a monotonic clock: durations, not times. */
static long long
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A connection struct for fd, on the pool's list; NULL (fd closed) when
 * out of memory. */
static struct conn *
conn_new(struct pool *p, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		log_error(NULL, "accept: out of memory");
		close(fd);
		return NULL;
	}
	/* No listening socket: when a kept connection turns out closed,
	 * FCGX_Accept_r fails instead of accepting (blocking) by itself. */
	FCGX_InitRequest(&c->req, -1, 0);
	c->req.ipcFd = fd;
	/* FCGX_Accept_r first finishes the request before, and would close
	 * a connection not marked kept; its BEGIN_REQUEST sets the flag. */
	c->req.keepConnection = 1;
	pthread_mutex_lock(&p->conns_lock);
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	pthread_mutex_unlock(&p->conns_lock);
	return c;
}

/* Takes what waits on the listening socket, up to ACCEPT_BATCH
 * connections (non-blocking: another worker may have taken them), and
 * re-arms the socket for the next worker. Taking them in a batch keeps new
 * connections from queueing twice, in the backlog behind one listener
 * event and then behind the kept ones. Returns the first, for the caller;
 * the others are armed. NULL when there was none, or the process is out of
 * descriptors (then after a pause, so that the workers do not spin). */
static struct conn *
conn_accept(struct pool *p)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT,
				 .data.ptr = &p->listen_fd};
	struct conn *first = NULL;
	int fds[ACCEPT_BATCH], n = 0, err = 0;

	while (n < ACCEPT_BATCH) {
		int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			err = errno;
			break;
		}
		fds[n++] = fd;
	}
	if (n == 0 && err != EAGAIN && err != EWOULDBLOCK && err != EINTR &&
	    err != ECONNABORTED && !atomic_load(&p->stopping)) {
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection waits in
		 * the backlog until there is room. */
		log_error(NULL, "accept failed: %s", strerror(err));
		nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000},
			  NULL);
	}
	if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, p->listen_fd, &ev) < 0)
		log_error(NULL, "epoll_ctl (listener): %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		struct conn *c = conn_new(p, fds[i]);

		if (!c)
			continue;
		if (!first)
			first = c;
		else
			conn_arm(p, c);
	}
	return first;
}

/* Puts an idle connection in the epoll set: whichever worker is free when
 * its next request arrives takes it. The caller owns it no more. */
static void
conn_arm(struct pool *p, struct conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT,
				 .data.ptr = c};
	int op = c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	/* Set before: once armed, c may be taken, served and freed by
	 * another worker before epoll_ctl returns here. */
	c->in_epoll = true;
	if (epoll_ctl(p->epfd, op, c->req.ipcFd, &ev) == 0)
		return;
	log_error(NULL, "epoll_ctl (connection): %s", strerror(errno));
	conn_close(p, c);
}

static void
conn_close(struct pool *p, struct conn *c)
{
	pthread_mutex_lock(&p->conns_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&p->conns_lock);
	/* Closing takes the descriptor out of the epoll set too. */
	FCGX_Free(&c->req, 1);
	free(c);
}

/* Reads what is left of the request body (a route that reads none, a
 * body past the limit), so that the connection's next record is the next
 * request's. A body too large to skip cheaply ends the connection. */
static void
drain_stdin(FCGX_Request *fr)
{
	char buf[4096];
	size_t total = 0;
	int n;

	while ((n = FCGX_GetStr(buf, sizeof(buf), fr->in)) > 0) {
		total += (size_t)n;
		if (total > 1024 * 1024) {
			fr->keepConnection = 0;
			return;
		}
	}
}

/* Sends c's answer (and the end of its request), then keeps c for the
 * next request (nginx asked for keep-conn and the pool is not draining) or
 * closes it. */
static void
conn_finish(struct pool *p, struct conn *c)
{
	if (atomic_load(&p->draining))
		c->req.keepConnection = 0;
	FCGX_Finish_r(&c->req);
	if (c->req.ipcFd >= 0)
		conn_arm(p, c);
	else
		conn_close(p, c);
}

/* Holds c's answer back for ms milliseconds: the holder thread sends it
 * then, and the worker is free meanwhile. A client that retries as soon
 * as it is shed (a flood) is slowed to a request per ms per connection,
 * instead of taking the CPU from everyone else with its refusals. False
 * (the caller sends it now) when HOLD_MAX are held or the pool stops. All
 * are held equally long, so the list stays in due order. */
static bool
hold_put(struct pool *p, struct conn *c, int ms)
{
	bool held = false;

	pthread_mutex_lock(&p->hold_lock);
	if (p->holder_started && !p->hold_stop && p->nheld < HOLD_MAX) {
		c->due_us = mono_us() + (long long)ms * 1000;
		c->held_next = NULL;
		if (p->held_tail)
			p->held_tail->held_next = c;
		else
			p->held_head = c;
		p->held_tail = c;
		if (p->nheld++ == 0)
			pthread_cond_signal(&p->hold_cond);
		held = true;
	}
	pthread_mutex_unlock(&p->hold_lock);
	return held;
}

/* Sends each held answer when it is due; every one at once when the pool
 * stops. */
static void *
holder_main(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->hold_lock);
	for (;;) {
		struct conn *c = p->held_head;
		long long now;

		if (!c) {
			if (p->hold_stop)
				break;
			pthread_cond_wait(&p->hold_cond, &p->hold_lock);
			continue;
		}
		now = mono_us();
		if (c->due_us > now && !p->hold_stop) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (c->due_us - now) / 1000000;
			ts.tv_nsec += (c->due_us - now) % 1000000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&p->hold_cond, &p->hold_lock,
					       &ts);
			continue;
		}
		p->held_head = c->held_next;
		if (!p->held_head)
			p->held_tail = NULL;
		p->nheld--;
		pthread_mutex_unlock(&p->hold_lock);
		conn_finish(p, c);
		pthread_mutex_lock(&p->hold_lock);
	}
	pthread_mutex_unlock(&p->hold_lock);
	return NULL;
}

/* Runs the next request on c, then keeps c for the one after (nginx asked
 * for keep-conn and the pool is not draining) or closes it. */
static void
serve(struct worker *w, struct conn *c)
{
	struct pool *p = w->pool;
	long long now, last;
	int hold;

	if (FCGX_Accept_r(&c->req) < 0) {
		/* nginx closed an idle connection, or sent no FastCGI. */
		conn_close(p, c);
		return;
	}
	w->served++;
	atomic_fetch_add(&p->started_requests, 1);
	atomic_fetch_add(&p->busy, 1);
	metrics_worker_busy(1);
	hold = handle(w, &c->req);
	drain_stdin(&c->req);
	/* The answer is in libfcgi's buffer, not in the arena. */
	arena_reset(w->arena);
	if (hold > 0 && hold_put(p, c, hold)) {
		metrics_worker_busy(-1);
		atomic_fetch_sub(&p->busy, 1);
		return;
	}
	conn_finish(p, c);
	metrics_worker_busy(-1);
	atomic_fetch_sub(&p->busy, 1);

	/* Expired idempotency keys go away about once a minute, after a
	 * response has been sent, by whichever worker comes first. */
	now = time_now_ms();
	last = atomic_load(&last_purge_ms);
	if (now - last > 60000 &&
	    atomic_compare_exchange_strong(&last_purge_ms, &last, now)) {
		db_clear_lost(w->db);
		store_idem_purge(w->db, now);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;

	for (;;) {
		struct epoll_event ev;
		struct conn *c;
		struct pollfd pfd;
		int n = epoll_wait(p->epfd, &ev, 1, -1);

		if (n < 0) {
			/* A worker never leaves the pool by itself. */
			if (errno != EINTR) {
				log_error(NULL, "worker %d: epoll_wait: %s",
					  w->id, strerror(errno));
				nanosleep(&(struct timespec){.tv_nsec = 100 *
									1000 *
									1000},
					  NULL);
			}
			continue;
		}
		if (n == 0)
			continue;
		if (ev.data.ptr == &p->stopfd)
			break;
		if (ev.data.ptr != &p->listen_fd) {
			serve(w, ev.data.ptr);
			continue;
		}
		c = conn_accept(p);
		if (!c)
			continue;
		/* nginx writes the request right after connecting; until it
		 * has, the connection waits in the set, not in a worker. */
		pfd.fd = c->req.ipcFd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) > 0)
			serve(w, c);
		else
			conn_arm(p, c);
	}
	return NULL;
}

struct pool *
pool_start(const struct config *cfg, int listen_fd)
{
	struct epoll_event ev;
	struct pool *p = calloc(1, sizeof(*p));
	int fl;

	if (!p)
		return NULL;
	p->cfg = cfg;
	p->listen_fd = listen_fd;
	p->epfd = p->stopfd = -1;
	pthread_mutex_init(&p->conns_lock, NULL);
	pthread_mutex_init(&p->hold_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&p->hold_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	p->nworkers = (int)cfg->workers;
	p->workers = calloc((size_t)p->nworkers, sizeof(*p->workers));
	if (!p->workers)
		goto fail;
	/* Workers take turns on the listening socket (one-shot, re-armed
	 * after each accept); the stop event stays readable once written,
	 * so that every worker sees it. */
	fl = fcntl(listen_fd, F_GETFL);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    p->epfd < 0 || p->stopfd < 0)
		goto fail;
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT,
				  .data.ptr = &p->listen_fd};
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
		goto fail;
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &p->stopfd};
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->stopfd, &ev) < 0)
		goto fail;
	if (pthread_create(&p->holder, NULL, holder_main, p) != 0)
		goto fail;
	p->holder_started = true;
	for (int i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		w->pool = p;
		w->id = i;
		if (getrandom(&w->rid_prefix, sizeof(w->rid_prefix), 0) !=
		    sizeof(w->rid_prefix))
			w->rid_prefix = (unsigned)rand();
		w->arena = arena_new(64 * 1024);
		w->db = db_new(cfg);
		if (!w->arena || !w->db)
			goto fail;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			goto fail;
		w->started = true;
	}
	return p;
fail:
	log_error(NULL, "cannot start the worker pool: %s", strerror(errno));
	pool_stop(p);
	return NULL;
}

void
pool_stop(struct pool *p)
{
	struct pollfd pfd;
	unsigned long long seen;
	int quiet = 0;

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
	/* Kept connections. Closing one that nginx thinks idle races the
	 * request nginx may be writing on it at that moment, and nginx
	 * cannot send a POST or PATCH that got no answer to another server:
	 * the client would get a 502. So first they are served as usual and
	 * todod waits, at most drain_timeout, for nginx to close them all
	 * itself (its upstream keepalive_timeout and keepalive_time). */
	for (long i = 0; i < p->cfg->drain_timeout * 40 && p->workers; i++) {
		bool none;

		pthread_mutex_lock(&p->conns_lock);
		none = p->conns == NULL;
		pthread_mutex_unlock(&p->conns_lock);
		if (none)
			break;
		nanosleep(&(struct timespec){.tv_nsec = 25 * 1000 * 1000},
			  NULL);
	}
	/* What is left (a peer that keeps connections open for ever): a
	 * request sent on one now is still served, and the connection closed
	 * after it, which tells the peer to drop it. Until no request has
	 * started for 100 ms (at most 10 s), then the idle ones are closed. */
	atomic_store(&p->draining, true);
	seen = atomic_load(&p->started_requests);
	for (int i = 0; i < 400 && p->workers && quiet < 4; i++) {
		unsigned long long now_seen;

		nanosleep(&(struct timespec){.tv_nsec = 25 * 1000 * 1000},
			  NULL);
		now_seen = atomic_load(&p->started_requests);
		quiet = now_seen == seen && atomic_load(&p->busy) == 0
				? quiet + 1
				: 0;
		seen = now_seen;
	}
	/* Held answers go now (their connections closed after them). */
	pthread_mutex_lock(&p->hold_lock);
	p->hold_stop = true;
	pthread_cond_signal(&p->hold_cond);
	pthread_mutex_unlock(&p->hold_lock);
	if (p->holder_started)
		pthread_join(p->holder, NULL);
	atomic_store(&p->stopping, true);
	if (p->stopfd >= 0 &&
	    write(p->stopfd, &(uint64_t){1}, sizeof(uint64_t)) < 0)
		log_error(NULL, "stop event: %s", strerror(errno));
	for (int i = 0; p->workers && i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		db_free(w->db);
		arena_free(w->arena);
	}
	/* What nginx still keeps idle is closed without the linger of
	 * libfcgi's close (a shutdown, then a wait for nginx's EOF). */
	while (p->conns) {
		struct conn *c = p->conns;

		p->conns = c->next;
		if (c->req.ipcFd >= 0)
			close(c->req.ipcFd);
		c->req.ipcFd = -1;
		FCGX_Free(&c->req, 0);
		free(c);
	}
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->stopfd >= 0)
		close(p->stopfd);
	pthread_mutex_destroy(&p->conns_lock);
	pthread_mutex_destroy(&p->hold_lock);
	pthread_cond_destroy(&p->hold_cond);
	free(p->workers);
	free(p);
}
