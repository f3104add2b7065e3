/* pwtool: hashes or verifies a password read from stdin with password.c, so
 * that tests/node/scrypt_compat.mjs can check it against Better Auth's
 * algorithm. "pwtool hash" prints a hash; "pwtool verify HASH" exits 0 on a
 * match, 1 on a mismatch, 2 on any error. A first argument
 * --scrypt=openssl|libsodium|auto picks the implementation (default
 * openssl, without the check password_scrypt_select makes). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "password.h"

#define PW_MAX 4096

static int read_password(char *buf, size_t size, size_t *ret_len);

/* Reads all of stdin; one final "\n" (from echo or a heredoc) is not part
 * of the password. */
static int
read_password(char *buf, size_t size, size_t *ret_len)
{
	size_t n = fread(buf, 1, size, stdin);

	if (ferror(stdin) || n == size)
		return -EINVAL;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	*ret_len = n;
	return 0;
}

int
main(int argc, char **argv)
{
	char pw[PW_MAX + 1], hash[PASSWORD_HASH_LEN + 1];
	size_t len = 0;
	int r;

	if (argc > 1 && strncmp(argv[1], "--scrypt=", 9) == 0) {
		double ms[2];
		int lib = password_scrypt_from_name(argv[1] + 9);

		if (lib < 0 || (r = password_scrypt_select(lib, ms)) < 0) {
			fprintf(stderr, "pwtool: %s: %s\n", argv[1],
				lib < 0 ? "unknown" : strerror(-r));
			return 2;
		}
		argc--;
		argv++;
	}
	if (!((argc == 2 && strcmp(argv[1], "hash") == 0) ||
	      (argc == 3 && strcmp(argv[1], "verify") == 0))) {
		fprintf(stderr, "usage: pwtool [--scrypt=NAME] hash | "
				"pwtool [--scrypt=NAME] verify HASH "
				"(password on stdin)\n");
		return 2;
	}
	if (read_password(pw, sizeof(pw), &len) < 0) {
		fprintf(stderr, "pwtool: stdin: at most %d bytes\n", PW_MAX);
		return 2;
	}
	if (argc == 2) {
		r = password_hash(pw, len, hash);
		if (r == 0)
			printf("%s\n", hash);
	} else {
		r = password_verify(pw, len, argv[2]);
		if (r == -EACCES)
			return 1;
	}
	if (r < 0) {
		fprintf(stderr, "pwtool: %s\n", strerror(-r));
		return 2;
	}
	return 0;
}
