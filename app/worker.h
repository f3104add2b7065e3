/* The worker pool: N threads, each with its own MariaDB connection and
 * arena, taking FastCGI requests from one epoll set that holds the
 * listening socket and every kept connection between two requests. */
#ifndef TODOD_WORKER_H
#define TODOD_WORKER_H

struct config;
struct pool;

/* Starts cfg->workers threads on listen_fd. NULL on failure. */
struct pool *pool_start(const struct config *cfg, int listen_fd);
/* Serves what waits in the backlog, keeps serving the kept connections
 * until their peer closes them (at most cfg->drain_timeout seconds, then
 * closes each after its next answer), lets every request in flight
 * finish, joins the threads and frees the pool. */
void pool_stop(struct pool *p);

#endif
