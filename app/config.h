/* Service configuration: one table of settings drives file parsing,
 * TODOD_* environment overrides, validation and the sample file. */
#ifndef TODOD_CONFIG_H
#define TODOD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "jwt.h"

#define CONFIG_ORIGINS_MAX 16
#define CONFIG_DB_MAX 8 /* database endpoints */

/* One MariaDB server: a unix socket, or a host and port. */
struct db_endpoint {
	char socket[256];
	char host[256];
	unsigned port;
};

struct config {
	char listen[256];
	long socket_mode;
	long workers;
	long backlog;
	long drain_timeout;
	char db_socket[1024];
	char db_host[1024];
	long db_port;
	char db_name[64];
	char db_user[64];
	char db_password[256];
	char db_password_file[256];
	long db_timeout;
	long db_lock_timeout;
	long db_sync_wait;
	long db_failback_ms;
	char jwt_secret_file[256];
	char jwt_kid[JWT_KID_MAX + 1];
	char jwt_previous_secrets[1024];
	long jwt_ttl;
	long jwt_skew;
	char jwt_issuer[256];
	char jwt_audience[256];
	char public_origin[256];
	char trusted_origins[1024];
	bool cookie_secure;
	long body_limit;
	long scrypt_concurrency;
	long scrypt_nice;
	char scrypt_library[16];
	long shed_delay_ms;
	char common_passwords_file[256];
	long revocation_poll_ms;
	long revocation_max;
	char log_level[16];
	char log_format[8];
	char sql_dir[256];

	/* Derived by config_load. */
	struct jwt_config jwt;
	char origins[CONFIG_ORIGINS_MAX][256]; /* public + trusted */
	int norigins;
	/* db_socket's list, else db_host's, in order of preference. */
	struct db_endpoint db[CONFIG_DB_MAX];
	int ndb;
};

/* Sets defaults, reads path (NULL: none), applies TODOD_* overrides from
 * the environment, validates. With load_secrets, reads the JWT secrets and
 * the DB password file too. Returns 0, or -EINVAL with one line naming the
 * setting in err. */
int config_load(struct config *cfg, const char *path, bool load_secrets,
		char *err, size_t errlen);
/* Writes the documented sample configuration. */
void config_write_sample(FILE *f);
/* True when origin[0..len) is the public origin or a trusted one. */
bool config_origin_allowed(const struct config *cfg, const char *origin,
			   size_t len);

#endif
