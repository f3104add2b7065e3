/* todod: argv, configuration, the FastCGI socket, signals, and the
 * `serve` and `migrate` commands. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <json_c_version.h>
#include <mysql.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <unistring/version.h>

#include "config.h"
#include "db.h"
#include "migrate.h"
#include "store.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "password.h"
#include "revoke.h"
#include "todod_version.h"
#include "worker.h"

static int open_listener(const struct config *cfg);
static int check_schema(const struct config *cfg);
static int select_scrypt(const struct config *cfg);
static void usage(FILE *f);
static void print_version(FILE *f);

static void
usage(FILE *f)
{
	fputs("usage: todod [-c FILE] [serve | migrate]\n"
	      "       todod --sample-config | --version\n"
	      "Settings come from FILE (or $TODOD_CONFIG) and TODOD_* variables.\n",
	      f);
}

/* The version, and those of the libraries: at run time where the library
 * tells it, else (libjwt 1.10, libfcgi: no such call) as built against. */
static void
print_version(FILE *f)
{
	fprintf(f, "todod %s\n", TODOD_VERSION);
	fprintf(f, "MariaDB Connector/C %s\n", mysql_get_client_info());
	fprintf(f, "json-c %s\n", json_c_version());
	fprintf(f, "%s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(f, "libunistring %d.%d.%d\n", _libunistring_version >> 16,
		(_libunistring_version >> 8) & 0xff,
		_libunistring_version & 0xff);
	fprintf(f, "libsodium %s\n", sodium_version_string());
	fprintf(f, "libjwt %s (build time)\n", TODOD_LIBJWT_VERSION);
	fprintf(f, "libfcgi %s (build time)\n", TODOD_LIBFCGI_VERSION);
}

static int
open_listener(const struct config *cfg)
{
	int fd = -1;

	if (strncmp(cfg->listen, "unix:", 5) == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		const char *path = cfg->listen + 5;

		if (strlen(path) >= sizeof(sa.sun_path)) {
			log_error(NULL, "listen: socket path too long");
			return -1;
		}
		strcpy(sa.sun_path, path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		/* A socket file left by a previous run is replaced. */
		if (unlink(path) < 0 && errno != ENOENT)
			goto fail;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
		if (chmod(path, (mode_t)cfg->socket_mode) < 0)
			goto fail;
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		char host[256];
		const char *colon = strrchr(cfg->listen, ':');
		long port = strtol(colon + 1, NULL, 10);
		int one = 1;

		snprintf(host, sizeof(host), "%.*s", (int)(colon - cfg->listen),
			 cfg->listen);
		if (port < 1 || port > 65535 ||
		    inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
			log_error(NULL, "listen: \"%s\" is not IPv4:port",
				  cfg->listen);
			return -1;
		}
		sa.sin_port = htons((uint16_t)port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	}
	if (listen(fd, (int)cfg->backlog) < 0)
		goto fail;
	return fd;
fail:
	log_error(NULL, "listen: %s: %s", cfg->listen, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
check_schema(const struct config *cfg)
{
	struct db *db = db_new(cfg);
	long long v = 0;
	int r = 0;

	if (!db)
		return -1;
	if (db_connect(db, NULL) < 0) {
		/* Not fatal: requests answer 503 until MariaDB is back. */
		log_warn(
			NULL,
			"database unavailable at start; serving 503 until it is back");
		goto out;
	}
	if (store_schema_version(db, &v) < 0 || v < SCHEMA_VERSION) {
		log_error(NULL,
			  "the database schema is at version %lld, this build "
			  "needs %d: run `todod migrate` first",
			  v, SCHEMA_VERSION);
		r = -1;
	}
out:
	db_free(db);
	return r;
}

/* Settles scrypt_library on the hashing threads (docs/performance.md:
 * which scrypt is faster depends on the CPU) and says which it took. */
static int
select_scrypt(const struct config *cfg)
{
	int want = password_scrypt_from_name(cfg->scrypt_library);
	double ms[2];
	int got = password_scrypt_select(want, ms);

	if (got < 0) {
		log_error(NULL, "scrypt_library %s: %s", cfg->scrypt_library,
			  got == -EIO ? "its key of the Node vector is wrong"
				      : strerror(-got));
		return -1;
	}
	if (want == PASSWORD_SCRYPT_AUTO && (ms[0] < 0 || ms[1] < 0))
		log_warn(NULL, "scrypt: %s gave a wrong key of the Node vector",
			 ms[0] < 0 ? "openssl" : "libsodium");
	if (want == PASSWORD_SCRYPT_AUTO)
		log_info(NULL,
			 "scrypt: openssl %.1f ms, libsodium %.1f ms a hash: "
			 "using %s",
			 ms[0], ms[1], password_scrypt_name(got));
	else
		log_info(NULL, "scrypt: using %s (%.1f ms a hash)",
			 password_scrypt_name(got), ms[got - 1]);
	return 0;
}

int
main(int argc, char **argv)
{
	struct config *cfg = NULL;
	const char *path = getenv("TODOD_CONFIG"), *cmd = "serve";
	char err[512];
	sigset_t set;
	struct pool *pool = NULL;
	int fd = -1, sig = 0, code = 1, r;
	ino_t listen_ino = 0;
	long budget, running;
	bool kept_buffers = password_mem_init();

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--sample-config") == 0) {
			config_write_sample(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			print_version(stdout);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "serve") == 0 ||
			   strcmp(argv[i], "migrate") == 0) {
			cmd = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return 1;
	if (config_load(cfg, path && *path ? path : NULL,
			strcmp(cmd, "serve") == 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "todod: %s\n", err);
		code = 2;
		goto out;
	}
	log_set_level((enum log_level)log_level_from_name(cfg->log_level));
	log_set_json(strcmp(cfg->log_format, "json") == 0);
	if (mysql_library_init(0, NULL, NULL) != 0) {
		log_error(NULL, "cannot initialise the MariaDB client library");
		goto out;
	}
	if (strcmp(cmd, "migrate") == 0) {
		code = migrate_run(cfg, cfg->sql_dir) == 0 ? 0 : 1;
		goto out_lib;
	}

	/* At most half the workers (at least one) may be busy with password
	 * hashing, computing or waiting; the others stay free for the todo
	 * routes whatever the sign-in load. */
	budget = cfg->workers / 2 > 0 ? cfg->workers / 2 : 1;
	running = cfg->scrypt_concurrency < budget ? cfg->scrypt_concurrency
						   : budget;
	if (password_init((unsigned)running, (unsigned)(budget - running)) <
		    0 ||
	    FCGX_Init() != 0)
		goto out_lib;
	if (check_schema(cfg) < 0)
		goto out_lib;
	if (cfg->common_passwords_file[0]) {
		size_t n = 0;

		r = password_common_load(cfg->common_passwords_file, &n);
		if (r < 0) {
			fprintf(stderr,
				"todod: common_passwords_file: cannot read %s: "
				"%s\n",
				cfg->common_passwords_file, strerror(-r));
			code = 2;
			goto out_lib;
		}
		log_info(NULL, "%zu common passwords refused", n);
	}
	if (revoke_init(cfg) < 0)
		goto out_lib;

	/* Every thread inherits this mask; the main thread takes the signals
	 * with sigwait, so libfcgi's own handlers (SIGUSR1 and SIGTERM only
	 * set a flag that would retire workers one by one) never run. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	{
		/* Each kept FastCGI connection is a descriptor: take the hard
		 * limit (at most 65536) rather than a soft 1024. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	fd = open_listener(cfg);
	if (fd < 0)
		goto out_lib;
	{
		struct stat st;

		if (strncmp(cfg->listen, "unix:", 5) == 0 &&
		    stat(cfg->listen + 5, &st) == 0)
			listen_ino = st.st_ino;
	}
	/* After the mask: the poller thread inherits it. */
	if (revoke_start(cfg) < 0)
		goto out_lib;
	metrics_init(routes_table(), routes_count(), cfg->workers);
	if (!kept_buffers)
		log_warn(NULL, "OpenSSL allocated before main: each password "
			       "hash maps its 32 MiB anew");
	if ((r = password_start((int)cfg->scrypt_nice)) < 0) {
		log_error(NULL, "cannot start the hashing threads: %s",
			  strerror(-r));
		goto out_lib;
	}
	if (select_scrypt(cfg) < 0)
		goto out_lib;
	pool = pool_start(cfg, fd);
	if (!pool)
		goto out_lib;
	log_info(NULL, "todod listening on %s with %ld workers", cfg->listen,
		 cfg->workers);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
		log_info(
			NULL,
			"signal %d ignored (restart to reload the configuration)",
			sig);
	}
	log_info(NULL, "signal %d: finishing requests in flight", sig);
	/* First take the path away so that nothing new arrives (only if it is
	 * still ours: a new instance started for a restart may have bound it
	 * already), then serve what is queued and in flight. */
	if (strncmp(cfg->listen, "unix:", 5) == 0) {
		struct stat st;

		if (stat(cfg->listen + 5, &st) == 0 && st.st_ino == listen_ino)
			unlink(cfg->listen + 5);
	}
	pool_stop(pool);
	log_info(NULL, "stopped");
	code = 0;
out_lib:
	revoke_stop();
	password_stop();
	password_common_free();
	if (fd >= 0)
		close(fd);
	mysql_library_end();
out:
	if (cfg)
		memset(cfg, 0, sizeof(*cfg)); /* the secrets */
	free(cfg);
	return code;
}
