/* Schema migrations: the sql/ directory's NNN_name.sql files, applied in
 * order of their number, each once, recorded in schema_migrations. */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"

struct names {
	char **v;
	size_t n, cap;
};

static int list_files(const char *dir, struct names *ret);
static void names_free(struct names *n);
static int cmp_names(const void *a, const void *b);
static int run_file(MYSQL *m, const char *path);
static int applied(MYSQL *m, long long version, int *ret);
static int record(MYSQL *m, long long version, const char *name);

static void
names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	n->v = NULL;
	n->n = n->cap = 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NNN_*.sql file of dir, sorted; no limit on how many. */
static int
list_files(const char *dir, struct names *ret)
{
	struct names n = {0};
	struct dirent *e;
	DIR *d = opendir(dir);
	int r = -1;

	if (!d) {
		log_error(NULL, "migrate: cannot open %s: %s", dir,
			  strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 8 || strcmp(e->d_name + len - 4, ".sql") != 0 ||
		    e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (n.n == n.cap) {
			size_t cap = n.cap ? n.cap * 2 : 16;
			char **v = realloc(n.v, cap * sizeof(*v));

			if (!v)
				goto out;
			n.v = v;
			n.cap = cap;
		}
		if (!(n.v[n.n] = strdup(e->d_name)))
			goto out;
		n.n++;
	}
	qsort(n.v, n.n, sizeof(n.v[0]), cmp_names);
	*ret = n;
	n = (struct names){0};
	r = 0;
out:
	if (r < 0)
		log_error(NULL, "migrate: out of memory listing %s", dir);
	names_free(&n);
	closedir(d);
	return r;
}

static int
run_file(MYSQL *m, const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	long size;
	int r = -1;

	if (!f)
		goto out;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	text = malloc((size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size)
		goto out;
	text[size] = '\0';
	/* The file is the project's own DDL, not input: it runs as a
	 * multi-statement batch. */
	if (mysql_real_query(m, text, (unsigned long)size) != 0)
		goto out;
	for (;;) {
		MYSQL_RES *res = mysql_store_result(m);
		int next;

		if (res)
			mysql_free_result(res);
		else if (mysql_errno(m))
			goto out;
		next = mysql_next_result(m);
		if (next > 0)
			goto out;
		if (next < 0)
			break;
	}
	r = 0;
out:
	if (f)
		fclose(f);
	free(text);
	return r;
}

/* *ret = 1 when version is recorded as applied. 0 or -1. */
static int
applied(MYSQL *m, long long version, int *ret)
{
	static const char q[] =
		"SELECT COUNT(*) FROM schema_migrations WHERE version = ?";
	MYSQL_STMT *st = mysql_stmt_init(m);
	MYSQL_BIND p[1], res[1];
	long long found = 0;
	int r = -1;

	if (!st)
		return -1;
	db_bind_ll(&p[0], &version, NULL);
	db_bind_ll(&res[0], &found, NULL);
	if (mysql_stmt_prepare(st, q, sizeof(q) - 1) ||
	    mysql_stmt_bind_param(st, p) || mysql_stmt_execute(st) ||
	    mysql_stmt_bind_result(st, res) || mysql_stmt_fetch(st) != 0) {
		log_error(NULL, "migrate: %s (%u)", mysql_stmt_error(st),
			  mysql_stmt_errno(st));
		goto out;
	}
	*ret = found > 0;
	r = 0;
out:
	mysql_stmt_close(st);
	return r;
}

static int
record(MYSQL *m, long long version, const char *name)
{
	static const char q[] =
		"INSERT INTO schema_migrations (version, name) VALUES (?, ?)";
	MYSQL_STMT *st = mysql_stmt_init(m);
	unsigned long len = strlen(name);
	MYSQL_BIND p[2];
	int r = -1;

	if (!st)
		return -1;
	db_bind_ll(&p[0], &version, NULL);
	db_bind_str(&p[1], name, &len);
	if (mysql_stmt_prepare(st, q, sizeof(q) - 1) ||
	    mysql_stmt_bind_param(st, p) || mysql_stmt_execute(st)) {
		log_error(NULL, "migrate: %s (%u)", mysql_stmt_error(st),
			  mysql_stmt_errno(st));
		goto out;
	}
	r = 0;
out:
	mysql_stmt_close(st);
	return r;
}

int
migrate_run(const struct config *cfg, const char *dir)
{
	static const char create[] =
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		" version INT UNSIGNED NOT NULL PRIMARY KEY,"
		" name VARCHAR(255) NOT NULL,"
		" applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
		") ENGINE=InnoDB";
	struct names files = {0};
	char err[256];
	MYSQL *m = db_open_admin(cfg, err, sizeof(err));
	int r = -1;

	if (!m) {
		log_error(NULL, "migrate: cannot connect: %s", err);
		return -1;
	}
	if (mysql_query(m, create) != 0) {
		log_error(NULL, "migrate: %s (%u)", mysql_error(m),
			  mysql_errno(m));
		goto out;
	}
	if (list_files(dir, &files) < 0)
		goto out;
	for (size_t i = 0; i < files.n; i++) {
		long long version = strtoll(files.v[i], NULL, 10);
		char path[4096];
		int have = 0;

		if (applied(m, version, &have) < 0)
			goto out;
		if (have)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     files.v[i]) >= sizeof(path)) {
			log_error(NULL, "migrate: path too long: %s/%s", dir,
				  files.v[i]);
			goto out;
		}
		log_info(NULL, "migrate: applying %s", files.v[i]);
		if (run_file(m, path) < 0) {
			log_error(NULL, "migrate: %s failed: %s (%u)",
				  files.v[i], mysql_error(m), mysql_errno(m));
			goto out;
		}
		if (record(m, version, files.v[i]) < 0)
			goto out;
	}
	log_info(NULL, "migrate: schema is at version %d", SCHEMA_VERSION);
	r = 0;
out:
	names_free(&files);
	mysql_close(m);
	return r;
}
