/* Configuration table, parser, environment overrides and validation. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "password.h"

enum opt_type { OPT_STRING, OPT_INT, OPT_BOOL, OPT_MODE, OPT_TYPE_MAX };

struct option {
	const char *key;
	enum opt_type type;
	size_t offset;
	size_t size; /* for strings: the buffer size */
	const char *def;
	long min, max;
	const char *help;
};

#define STR(f) \
	OPT_STRING, offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define NUM(f) OPT_INT, offsetof(struct config, f), 0
#define BOOL(f) OPT_BOOL, offsetof(struct config, f), 0
#define MODE(f) OPT_MODE, offsetof(struct config, f), 0

static const struct option options[] = {
	{"listen", STR(listen), "unix:/run/todod/todod.sock", 0, 0,
	 "FastCGI socket: unix:/path/to/socket, or 127.0.0.1:PORT (loopback)."},
	{"socket_mode", MODE(socket_mode), "0660", 0, 0777,
	 "Mode of the unix socket (octal); nginx's user must be able to connect."},
	{"workers", NUM(workers), "16", 1, 256,
	 "Worker threads; each serves one request at a time with its own\n"
	 "MariaDB connection."},
	{"backlog", NUM(backlog), "1024", 1, 65535,
	 "Listen backlog of the FastCGI socket."},
	{"drain_timeout", NUM(drain_timeout), "10", 0, 300,
	 "Seconds todod, once told to stop, keeps serving the FastCGI\n"
	 "connections nginx keeps (fastcgi_keep_conn) and waits for nginx to\n"
	 "close them: only nginx knows when it is not sending on one. The\n"
	 "rendered nginx config closes an idle one after 3 s and any after 5 s.\n"
	 "After this time todod closes each itself, after its next answer."},
	{"db_socket", STR(db_socket), "", 0, 0,
	 "MariaDB unix socket, or several comma-separated (the nodes of a\n"
	 "Galera cluster, at most 8) in order of preference: a worker uses\n"
	 "the first that answers and is synced, and moves back to an earlier\n"
	 "one when it is synced again. When set, db_host is not used."},
	{"db_host", STR(db_host), "127.0.0.1", 0, 0,
	 "MariaDB host, or several comma-separated as host or host:port\n"
	 "(port defaults to db_port), in order of preference as db_socket."},
	{"db_port", NUM(db_port), "3306", 1, 65535, "MariaDB port."},
	{"db_name", STR(db_name), "todod", 0, 0, "Database name."},
	{"db_user", STR(db_user), "todod", 0, 0,
	 "Database user (SELECT, INSERT, UPDATE, DELETE on db_name suffice;\n"
	 "`todod migrate` needs an account that may create tables)."},
	{"db_password", STR(db_password), "", 0, 0,
	 "Database password; prefer TODOD_DB_PASSWORD or db_password_file."},
	{"db_password_file", STR(db_password_file), "", 0, 0,
	 "File holding the database password (trailing newline ignored)."},
	{"db_timeout", NUM(db_timeout), "5", 1, 300,
	 "Seconds to wait for MariaDB to connect, read or write before the\n"
	 "request answers 503."},
	{"db_lock_timeout", NUM(db_lock_timeout), "5", 1, 300,
	 "Seconds a write waits for a row lock another transaction holds\n"
	 "(innodb_lock_wait_timeout); after a few such waits the request\n"
	 "answers 503 and the log says contention."},
	{"db_sync_wait", NUM(db_sync_wait), "7", 0, 15,
	 "wsrep_sync_wait of each connection, for a Galera cluster: the\n"
	 "statements that first wait until the node has applied everything\n"
	 "the cluster committed before them (1 reads, 2 updates and deletes,\n"
	 "4 inserts; 7 all three), so a write through one node is seen at\n"
	 "once through any other; 0 turns that off. Ignored by a server that\n"
	 "is not a Galera node."},
	{"db_failback_ms", NUM(db_failback_ms), "2000", 100, 600000,
	 "How often a worker that moved off its preferred database endpoint\n"
	 "tries the preferred one again."},
	{"jwt_secret_file", STR(jwt_secret_file), "", 0, 0,
	 "File holding the current JWT signing secret (at least 32 bytes).\n"
	 "TODOD_JWT_SECRET may carry the secret itself instead."},
	{"jwt_kid", STR(jwt_kid), "k1", 0, 0,
	 "Key id of the current secret, sent in the token header."},
	{"jwt_previous_secrets", STR(jwt_previous_secrets), "", 0, 0,
	 "Previous secrets that still verify (not sign) during a rotation:\n"
	 "comma-separated kid=/path/to/file."},
	{"jwt_ttl", NUM(jwt_ttl), "1800", 60, 86400 * 30,
	 "Token and cookie lifetime in seconds."},
	{"jwt_skew", NUM(jwt_skew), "30", 0, 300,
	 "Allowed clock skew in seconds for exp, nbf and iat."},
	{"jwt_issuer", STR(jwt_issuer), "", 0, 0,
	 "When set, tokens carry this iss and must carry it to verify."},
	{"jwt_audience", STR(jwt_audience), "", 0, 0,
	 "When set, tokens carry this aud and must carry it to verify."},
	{"public_origin", STR(public_origin), "http://127.0.0.1:8080", 0, 0,
	 "The service's own origin (scheme://host[:port]) for CSRF checks."},
	{"trusted_origins", STR(trusted_origins), "", 0, 0,
	 "Other origins allowed for cookie-authenticated writes, comma-separated."},
	{"cookie_secure", BOOL(cookie_secure), "true", 0, 0,
	 "true: cookie __Host-todod_session with Secure (HTTPS). false: cookie\n"
	 "todod_session without Secure, for plain-HTTP development only."},
	{"body_limit", NUM(body_limit), "65536", 1024, 1048576,
	 "Largest request body in bytes (413 above); match nginx's\n"
	 "client_max_body_size."},
	{"scrypt_concurrency", NUM(scrypt_concurrency), "2", 1, 64,
	 "Password hashes computed at once (about 32 MiB and 55-90 ms of a\n"
	 "core each). At most half the workers may be busy with passwords\n"
	 "(computing or waiting); sign-ins beyond that get 429 with Retry-After,\n"
	 "so a flood cannot starve the todo routes."},
	{"scrypt_nice", NUM(scrypt_nice), "19", 0, 19,
	 "Nice value of the threads that compute the hashes (0 to 19): on a\n"
	 "busy machine the todo routes get the CPU first, and a sign-in flood\n"
	 "slows sign-ins rather than the lists."},
	{"scrypt_library", STR(scrypt_library), "auto", 0, 0,
	 "Which scrypt computes the hashes: openssl (EVP_PBE_scrypt), libsodium\n"
	 "(crypto_pwhash_scryptsalsa208sha256_ll), or auto: at start, both hash\n"
	 "a known vector (they must give its key) and the faster on this CPU is\n"
	 "used (the log says which). Both give the same keys."},
	{"shed_delay_ms", NUM(shed_delay_ms), "1000", 0, 10000,
	 "How long a request refused with 429 for want of a hashing place\n"
	 "(sign-in, sign-up, a password change) waits before its answer is sent,\n"
	 "without holding a worker: a client that retries at once (a flood)\n"
	 "then costs a request a second per connection, not the CPU of the\n"
	 "todo routes. 0: answer at once."},
	{"common_passwords_file", STR(common_passwords_file),
	 "/usr/share/john/password.lst", 0, 0,
	 "A list of common passwords, one a line (Debian's john-data), that\n"
	 "sign-up and change-password refuse (case-insensitively, after NFKC);\n"
	 "lines starting with \"#!comment:\" are skipped. Empty: no list."},
	{"revocation_poll_ms", NUM(revocation_poll_ms), "500", 100, 10000,
	 "How often each process reads new token revocations (sign-out,\n"
	 "revoke-sessions, password change, account deletion) from the\n"
	 "database; a revoked token is refused everywhere within this time."},
	{"revocation_max", NUM(revocation_max), "100000", 1000, 10000000,
	 "Revoked tokens kept in memory (about 64 bytes each); past it a\n"
	 "revoked token's user loses every token issued before it instead."},
	{"log_level", STR(log_level), "info", 0, 0,
	 "error, warn, info or debug."},
	{"log_format", STR(log_format), "text", 0, 0,
	 "text (\"<time> <level> [<request id>] <message>\") or json (one\n"
	 "object a line: time, level, reqid, and msg or the request's fields)."},
	{"sql_dir", STR(sql_dir), "sql", 0, 0,
	 "Directory of the numbered migrations used by `todod migrate`."},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static int set_option(struct config *cfg, const struct option *o,
		      const char *value, char *err, size_t errlen);
static const struct option *find_option(const char *key, size_t len);
static int read_secret_file(const char *path, unsigned char *buf,
			    size_t bufsize, size_t *ret_len);
static int add_key(struct config *cfg, const char *kid, const char *path,
		   char *err, size_t errlen);
static int derive(struct config *cfg, bool load_secrets, char *err,
		  size_t errlen);
static int parse_file(struct config *cfg, const char *path, char *err,
		      size_t errlen);
static int origin_valid(const char *s, size_t len);
static int parse_endpoints(struct config *cfg, char *err, size_t errlen);

static const struct option *
find_option(const char *key, size_t len)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strlen(options[i].key) == len &&
		    memcmp(options[i].key, key, len) == 0)
			return &options[i];
	return NULL;
}

static int
set_option(struct config *cfg, const struct option *o, const char *value,
	   char *err, size_t errlen)
{
	char *field = (char *)cfg + o->offset;
	char *end;
	long v;

	switch (o->type) {
	case OPT_STRING:
		if (strlen(value) >= o->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes",
				 o->key, o->size - 1);
			return -EINVAL;
		}
		strcpy(field, value);
		return 0;
	case OPT_INT:
	case OPT_MODE:
		errno = 0;
		v = strtol(value, &end, o->type == OPT_MODE ? 8 : 10);
		if (errno || end == value || *end || v < o->min || v > o->max) {
			snprintf(err, errlen,
				 "%s: \"%s\" is not %s between %ld and %ld",
				 o->key, value,
				 o->type == OPT_MODE ? "an octal mode"
						     : "an integer",
				 o->min, o->max);
			return -EINVAL;
		}
		*(long *)(void *)field = v;
		return 0;
	case OPT_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "1") == 0) {
			*(bool *)(void *)field = true;
		} else if (strcmp(value, "false") == 0 ||
			   strcmp(value, "no") == 0 ||
			   strcmp(value, "0") == 0) {
			*(bool *)(void *)field = false;
		} else {
			snprintf(err, errlen, "%s: \"%s\" is not true or false",
				 o->key, value);
			return -EINVAL;
		}
		return 0;
	case OPT_TYPE_MAX: break;
	}
	return -EINVAL;
}

static int
parse_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char line[2048];
	FILE *f = fopen(path, "re");
	int lineno = 0, r = 0;

	if (!f) {
		snprintf(err, errlen, "config: cannot open %s: %s", path,
			 strerror(errno));
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *eq, *key_end, *val;
		size_t n;
		const struct option *o;

		lineno++;
		n = strlen(p);
		if (n == sizeof(line) - 1 && p[n - 1] != '\n') {
			snprintf(err, errlen, "config: %s:%d: line too long",
				 path, lineno);
			r = -EINVAL;
			goto out;
		}
		while (*p && isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen,
				 "config: %s:%d: expected key = value", path,
				 lineno);
			r = -EINVAL;
			goto out;
		}
		key_end = eq;
		while (key_end > p && isspace((unsigned char)key_end[-1]))
			key_end--;
		val = eq + 1;
		while (*val && isspace((unsigned char)*val))
			val++;
		n = strlen(val);
		while (n > 0 && isspace((unsigned char)val[n - 1]))
			val[--n] = '\0';
		o = find_option(p, (size_t)(key_end - p));
		if (!o) {
			snprintf(err, errlen,
				 "config: %s:%d: unknown setting \"%.*s\"",
				 path, lineno, (int)(key_end - p), p);
			r = -EINVAL;
			goto out;
		}
		r = set_option(cfg, o, val, err, errlen);
		if (r < 0)
			goto out;
	}
out:
	fclose(f);
	return r;
}

static int
read_secret_file(const char *path, unsigned char *buf, size_t bufsize,
		 size_t *ret_len)
{
	int fd = -1, r = -EINVAL;
	size_t len = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		char extra;

		if (len == bufsize) {
			/* Full: the file must end here. */
			n = read(fd, &extra, 1);
			if (n > 0) {
				r = -EFBIG;
				goto out;
			}
			break;
		}
		n = read(fd, buf + len, bufsize - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0) {
		r = -errno;
		goto out;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	*ret_len = len;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static int
add_key(struct config *cfg, const char *kid, const char *path, char *err,
	size_t errlen)
{
	const char *setting =
		cfg->jwt.nkeys ? "jwt_previous_secrets" : "jwt_kid";
	struct jwt_key *k;
	int r;

	if (cfg->jwt.nkeys >= JWT_MAX_KEYS) {
		snprintf(err, errlen, "jwt_previous_secrets: at most %d keys",
			 JWT_MAX_KEYS - 1);
		return -EINVAL;
	}
	if (kid[0] == '\0' || strlen(kid) > JWT_KID_MAX) {
		snprintf(err, errlen, "%s: key id \"%s\" must be 1 to %d bytes",
			 setting, kid, JWT_KID_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->jwt.nkeys; i++)
		if (strcmp(cfg->jwt.keys[i].kid, kid) == 0) {
			snprintf(
				err, errlen,
				"jwt_previous_secrets: key id \"%s\" is used twice",
				kid);
			return -EINVAL;
		}
	k = &cfg->jwt.keys[cfg->jwt.nkeys];
	strcpy(k->kid, kid);
	r = read_secret_file(path, k->secret, sizeof(k->secret),
			     &k->secret_len);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read %s: %s",
			 cfg->jwt.nkeys ? "jwt_previous_secrets"
					: "jwt_secret_file",
			 path, r == -EFBIG ? "file too large" : strerror(-r));
		return -EINVAL;
	}
	if (k->secret_len < JWT_SECRET_MIN) {
		snprintf(
			err, errlen,
			"%s: the secret in %s is %zu bytes; at least %d are required",
			cfg->jwt.nkeys ? "jwt_previous_secrets"
				       : "jwt_secret_file",
			path, k->secret_len, JWT_SECRET_MIN);
		return -EINVAL;
	}
	cfg->jwt.nkeys++;
	return 0;
}

static int
origin_valid(const char *s, size_t len)
{
	/* scheme://host[:port], no path, no trailing slash. */
	const char *p = memchr(s, ':', len);

	if (!p || len - (size_t)(p - s) < 4 || memcmp(p, "://", 3) != 0)
		return 0;
	if ((size_t)(p - s) != 4 && (size_t)(p - s) != 5)
		return 0;
	if (memcmp(s, "http", 4) != 0 || ((size_t)(p - s) == 5 && s[4] != 's'))
		return 0;
	return memchr(p + 3, '/', len - (size_t)(p + 3 - s)) == NULL;
}

/* db_socket's list, else db_host's, into cfg->db[]. An empty item, a
 * relative socket path, a bad port or a ninth endpoint is refused. */
static int
parse_endpoints(struct config *cfg, char *err, size_t errlen)
{
	bool sockets = cfg->db_socket[0] != '\0';
	const char *key = sockets ? "db_socket" : "db_host";
	const char *p = sockets ? cfg->db_socket : cfg->db_host;

	cfg->ndb = 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct db_endpoint *e = &cfg->db[cfg->ndb];

		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || cfg->ndb == CONFIG_DB_MAX) {
			snprintf(err, errlen,
				 "%s: an empty item or more than %d endpoints",
				 key, CONFIG_DB_MAX);
			return -EINVAL;
		}
		memset(e, 0, sizeof(*e));
		if (sockets) {
			if (*p != '/' || len >= sizeof(e->socket)) {
				snprintf(err, errlen,
					 "%s: \"%.*s\" is not an absolute path",
					 key, (int)len, p);
				return -EINVAL;
			}
			memcpy(e->socket, p, len);
		} else {
			const char *colon = memchr(p, ':', len);
			size_t hlen = colon ? (size_t)(colon - p) : len;
			long port = cfg->db_port;

			if (colon) {
				char num[8], *stop;

				if (len - hlen - 1 == 0 ||
				    len - hlen - 1 >= sizeof(num))
					goto bad_host;
				memcpy(num, colon + 1, len - hlen - 1);
				num[len - hlen - 1] = '\0';
				errno = 0;
				port = strtol(num, &stop, 10);
				if (errno || *stop || port < 1 || port > 65535)
					goto bad_host;
			}
			if (hlen == 0 || hlen >= sizeof(e->host))
				goto bad_host;
			memcpy(e->host, p, hlen);
			e->port = (unsigned)port;
		}
		cfg->ndb++;
		if (!end)
			return 0;
		p = end + 1;
	}
bad_host:
	snprintf(err, errlen, "%s: \"%s\" is not host[:port],...", key,
		 cfg->db_host);
	return -EINVAL;
}

static int
derive(struct config *cfg, bool load_secrets, char *err, size_t errlen)
{
	const char *env;
	char list[sizeof(cfg->trusted_origins)];
	char *tok, *save = NULL;
	int lvl;

	lvl = log_level_from_name(cfg->log_level);
	if (lvl < 0) {
		snprintf(err, errlen,
			 "log_level: \"%s\" is not error, warn, info or debug",
			 cfg->log_level);
		return -EINVAL;
	}
	if (password_scrypt_from_name(cfg->scrypt_library) < 0) {
		snprintf(err, errlen,
			 "scrypt_library: \"%s\" is not auto, openssl or "
			 "libsodium",
			 cfg->scrypt_library);
		return -EINVAL;
	}
	if (strcmp(cfg->log_format, "text") != 0 &&
	    strcmp(cfg->log_format, "json") != 0) {
		snprintf(err, errlen, "log_format: \"%s\" is not text or json",
			 cfg->log_format);
		return -EINVAL;
	}
	if (strncmp(cfg->listen, "unix:/", 6) != 0 &&
	    !strchr(cfg->listen, ':')) {
		snprintf(err, errlen,
			 "listen: \"%s\" is not unix:/path or host:port",
			 cfg->listen);
		return -EINVAL;
	}
	if (!origin_valid(cfg->public_origin, strlen(cfg->public_origin))) {
		snprintf(err, errlen,
			 "public_origin: \"%s\" is not scheme://host[:port]",
			 cfg->public_origin);
		return -EINVAL;
	}
	strcpy(cfg->origins[0], cfg->public_origin);
	cfg->norigins = 1;
	strcpy(list, cfg->trusted_origins);
	for (tok = strtok_r(list, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (cfg->norigins == CONFIG_ORIGINS_MAX ||
		    strlen(tok) >= sizeof(cfg->origins[0]) ||
		    !origin_valid(tok, strlen(tok))) {
			snprintf(
				err, errlen,
				"trusted_origins: \"%s\" is not scheme://host[:port] "
				"(at most %d origins)",
				tok, CONFIG_ORIGINS_MAX - 1);
			return -EINVAL;
		}
		strcpy(cfg->origins[cfg->norigins++], tok);
	}
	if (parse_endpoints(cfg, err, errlen) < 0)
		return -EINVAL;

	memset(&cfg->jwt, 0, sizeof(cfg->jwt));
	strcpy(cfg->jwt.issuer, cfg->jwt_issuer);
	strcpy(cfg->jwt.audience, cfg->jwt_audience);
	cfg->jwt.ttl = cfg->jwt_ttl;
	cfg->jwt.skew = cfg->jwt_skew;
	/* Needed by `migrate` too, unlike the JWT secrets. */
	if (cfg->db_password_file[0]) {
		unsigned char buf[sizeof(cfg->db_password)];
		size_t n;
		int r = read_secret_file(cfg->db_password_file, buf,
					 sizeof(buf) - 1, &n);

		if (r < 0) {
			snprintf(err, errlen,
				 "db_password_file: cannot read %s: %s",
				 cfg->db_password_file,
				 r == -EFBIG ? "file too large" : strerror(-r));
			return -EINVAL;
		}
		memcpy(cfg->db_password, buf, n);
		cfg->db_password[n] = '\0';
	}
	if (!load_secrets)
		return 0;

	env = getenv("TODOD_JWT_SECRET");
	if (env && *env) {
		struct jwt_key *k = &cfg->jwt.keys[0];
		size_t n = strlen(env);

		if (n < JWT_SECRET_MIN || n > sizeof(k->secret)) {
			snprintf(
				err, errlen,
				"TODOD_JWT_SECRET: the secret must be %d to %zu bytes",
				JWT_SECRET_MIN, sizeof(k->secret));
			return -EINVAL;
		}
		if (cfg->jwt_kid[0] == '\0') {
			snprintf(err, errlen, "jwt_kid: must not be empty");
			return -EINVAL;
		}
		strcpy(k->kid, cfg->jwt_kid);
		memcpy(k->secret, env, n);
		k->secret_len = n;
		cfg->jwt.nkeys = 1;
	} else if (cfg->jwt_secret_file[0]) {
		if (add_key(cfg, cfg->jwt_kid, cfg->jwt_secret_file, err,
			    errlen) < 0)
			return -EINVAL;
	} else {
		snprintf(
			err, errlen,
			"jwt_secret_file: no JWT secret configured (set jwt_secret_file "
			"or TODOD_JWT_SECRET; at least %d bytes)",
			JWT_SECRET_MIN);
		return -EINVAL;
	}
	strcpy(list, cfg->jwt_previous_secrets);
	save = NULL;
	for (tok = strtok_r(list, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || eq[1] == '\0') {
			snprintf(
				err, errlen,
				"jwt_previous_secrets: \"%s\" is not kid=/path",
				tok);
			return -EINVAL;
		}
		*eq = '\0';
		if (add_key(cfg, tok, eq + 1, err, errlen) < 0)
			return -EINVAL;
	}

	return 0;
}

int
config_load(struct config *cfg, const char *path, bool load_secrets, char *err,
	    size_t errlen)
{
	char envname[64];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NOPTIONS; i++)
		if (set_option(cfg, &options[i], options[i].def, err, errlen) <
		    0)
			return -EINVAL;
	if (path && parse_file(cfg, path, err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < NOPTIONS; i++) {
		const char *v;
		size_t k;

		strcpy(envname, "TODOD_");
		for (k = 0; options[i].key[k]; k++)
			envname[6 + k] =
				(char)toupper((unsigned char)options[i].key[k]);
		envname[6 + k] = '\0';
		v = getenv(envname);
		if (v && set_option(cfg, &options[i], v, err, errlen) < 0)
			return -EINVAL;
	}
	return derive(cfg, load_secrets, err, errlen);
}

void
config_write_sample(FILE *f)
{
	fputs("# todod configuration. Every setting can be overridden by the\n"
	      "# environment variable TODOD_<SETTING>, e.g. TODOD_WORKERS=8.\n"
	      "# Lines are `key = value`; `#` starts a comment. Defaults shown.\n",
	      f);
	for (size_t i = 0; i < NOPTIONS; i++) {
		const char *h = options[i].help;

		fputs("\n# ", f);
		for (; *h; h++) {
			fputc(*h, f);
			if (*h == '\n')
				fputs("# ", f);
		}
		if (options[i].def[0])
			fprintf(f, "\n%s = %s\n", options[i].key,
				options[i].def);
		else
			fprintf(f, "\n# %s =\n", options[i].key);
	}
}

bool
config_origin_allowed(const struct config *cfg, const char *origin, size_t len)
{
	for (int i = 0; i < cfg->norigins; i++)
		if (strlen(cfg->origins[i]) == len &&
		    memcmp(cfg->origins[i], origin, len) == 0)
			return true;
	return false;
}
