/* bench/bare.c: the baseline for bench/run.sh, "what nginx + libfcgi can
 * do" on this machine. A bare libfcgi responder shaped like todod's worker
 * pool (app/main.c, app/worker.c): one unix socket with the same backlog,
 * N threads each blocked in FCGX_Accept_r on it, one FastCGI connection per
 * request (nginx keeps no upstream keepalive). Every request, whatever its
 * method and path, gets the same small JSON body: no routing, no JSON
 * building, no database, no log line.
 *
 *   cc -O2 bench/bare.c -lfcgi -lpthread -o build/bench-bare
 *   build/bench-bare /abs/path/bare.sock [threads (16)] [backlog (1024)]
 *
 * Runs until SIGTERM or SIGINT, then removes its socket and exits 0 at
 * once (requests in flight are cut). Not part of the service and not built
 * by the top-level meson.build. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcgiapp.h>

static const char response[] =
	"Status: 200 OK\r\n"
	"Content-Type: application/json; charset=utf-8\r\n"
	"Cache-Control: private, no-cache\r\n"
	"\r\n"
	"{\"items\":[],\"total\":0,\"limit\":50,\"offset\":0}\n";

static int listen_fd = -1;

static void *
serve(void *arg)
{
	FCGX_Request req;

	(void)arg;
	if (FCGX_InitRequest(&req, listen_fd, 0) != 0) {
		fprintf(stderr, "bench-bare: FCGX_InitRequest failed\n");
		exit(1);
	}
	for (;;) {
		if (FCGX_Accept_r(&req) < 0) {
			/* Like todod: a failed accept (EMFILE...) is not fatal. */
			usleep(100 * 1000);
			continue;
		}
		/* A request body (POST) is drained, as todod reads it. */
		while (FCGX_GetChar(req.in) != EOF)
			;
		FCGX_PutStr(response, (int)sizeof(response) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path;
	int threads, backlog;
	pthread_t *tids;
	sigset_t set;
	int sig = 0;

	if (argc < 2 || argc > 4 || argv[1][0] != '/') {
		fprintf(stderr,
			"usage: %s /abs/path.sock [threads] [backlog]\n",
			argv[0]);
		return 2;
	}
	path = argv[1];
	threads = argc > 2 ? atoi(argv[2]) : 16;
	backlog = argc > 3 ? atoi(argv[3]) : 1024;
	if (threads < 1 || threads > 1024 || backlog < 1 ||
	    strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "bench-bare: bad arguments\n");
		return 2;
	}
	strcpy(sa.sun_path, path);

	if (FCGX_Init() != 0) {
		fprintf(stderr, "bench-bare: FCGX_Init failed\n");
		return 1;
	}
	/* The socket as app/main.c makes it: unlink a stale file, bind,
	 * chmod (nginx's workers may run as another user), listen. */
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || (unlink(path) < 0 && errno != ENOENT) ||
	    bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0 || listen(listen_fd, backlog) < 0) {
		fprintf(stderr, "bench-bare: %s: %s\n", path, strerror(errno));
		return 1;
	}

	/* libfcgi's own SIGTERM handler only sets a flag that threads blocked
	 * in accept never see: block the signals in every thread and wait for
	 * them here instead (as todod does). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	tids = calloc((size_t)threads, sizeof(*tids));
	if (!tids)
		return 1;
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&tids[i], NULL, serve, NULL) != 0) {
			fprintf(stderr, "bench-bare: pthread_create failed\n");
			return 1;
		}
	}
	fprintf(stderr, "bench-bare: listening on %s with %d threads\n", path,
		threads);
	sigwait(&set, &sig);
	unlink(path);
	_exit(0);
}
