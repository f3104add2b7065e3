/* Password hashing in Better Auth's scrypt format: "salthex:keyhex", 16 random
 * salt bytes as 32 hex characters used (as text) for the salt, N=16384, r=16,
 * p=1, 64-byte key, over the NFKC-normalised password. */
#ifndef TODOD_PASSWORD_H
#define TODOD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_LEN (32 + 1 + 128) /* without the NUL */

/* Sets how many scrypt computations may run at once in the process (each
 * needs about 32 MiB) and how many callers may wait for a turn; a caller
 * beyond both is refused at once with -EBUSY, so a sign-in flood cannot tie
 * up every worker. Returns 0 or -EINVAL for max_concurrent < 1. */
int password_init(unsigned max_concurrent, unsigned max_waiting);

/* Starts the threads that compute the hashes (max_concurrent of
 * password_init, at most 64) at the given nice value (0..19); callers
 * queue their hash for them and wait. Before (unit tests, tools) a caller
 * hashes on its own thread. Returns 0 or -errno (nothing started). */
int password_start(int nice);
/* Stops and joins those threads (and frees their kept buffers); nothing
 * may be hashing any more. */
void password_stop(void);
/* Routes OpenSSL's allocations through hooks that let each hashing thread
 * keep its 32 MiB scrypt buffer across hashes. Call it first thing in
 * main, before OpenSSL allocates; false when that is too late (the
 * buffers are then allocated per hash, as without it). */
bool password_mem_init(void);

/* The scrypt implementations: both give Better Auth's keys (checked
 * against a Node vector before use); which is faster depends on the CPU
 * (docs/performance.md). */
enum password_scrypt {
	PASSWORD_SCRYPT_AUTO = 0, /* the faster of the two, timed here */
	PASSWORD_SCRYPT_OPENSSL, /* EVP_PBE_scrypt, its buffer kept */
	PASSWORD_SCRYPT_LIBSODIUM, /* crypto_pwhash_scryptsalsa208sha256_ll */
};
/* "auto", "openssl" or "libsodium"; NULL for anything else. */
const char *password_scrypt_name(int which);
/* The enum value of such a name, or -EINVAL. */
int password_scrypt_from_name(const char *name);
/* Makes the hashes use `which` from now on, once its key of a Node
 * vector is right; AUTO checks and times both (OpenSSL's second hash,
 * once its buffer is kept) and takes the faster. The hashes run where
 * hashes do: on a hashing thread after password_start, on the caller
 * before. ret_ms[0] and [1] get the CPU milliseconds of OpenSSL's and
 * libsodium's hash, 0 when not run, -1 when its key was wrong. Returns
 * the implementation now in use (OPENSSL or LIBSODIUM), -EINVAL, or -EIO
 * when no implementation asked for gave the right key (nothing changed).
 * Call it before the workers hash anything. */
int password_scrypt_select(int which, double ret_ms[2]);

/* Takes one of the places of password_init (a hash running or waiting)
 * for the calling thread ahead of the work that leads to its hash, so that
 * a caller who would be refused is refused before it spends anything (a
 * sign-in's user lookup). Returns 0, or -EBUSY when every place is taken.
 * The thread's next password_hash or password_verify uses the place (and
 * gives it back however it ends); password_release gives it back unused.
 * At most one per thread: a second call while one is held returns 0. */
int password_reserve(void);
/* Gives back the calling thread's reservation, if it holds one. */
void password_release(void);

/* Hashes pw[0..len) (UTF-8). On success writes a NUL-terminated hash into
 * ret_hash. Returns 0, -EINVAL (invalid UTF-8), -EBUSY (too many waiting),
 * -ENOMEM, or -EIO (OpenSSL failure). */
int password_hash(const char *pw, size_t len,
		  char ret_hash[PASSWORD_HASH_LEN + 1]);

/* Verifies pw[0..len) against a stored hash with a constant-time compare.
 * Returns 0 on match, -EACCES on mismatch, -EINVAL when the stored hash or
 * the password is malformed, -EBUSY (too many waiting), -ENOMEM, -EIO. When stored is NULL it spends
 * the same scrypt work on a fixed dummy hash and returns -EACCES, so an
 * unknown account cannot be told from a wrong password by timing. */
int password_verify(const char *pw, size_t len, const char *stored);

/* Hashes running and callers waiting for a turn now (no lock taken). */
void password_stats(unsigned *ret_running, unsigned *ret_waiting);

/* Loads the list of common passwords at path (one a line; lines starting
 * with "#!comment:" and lines that are not UTF-8 are skipped), replacing
 * any list loaded before. *ret_count is how many it holds. Returns 0,
 * -errno when the file cannot be read, or -ENOMEM. Not thread-safe: call
 * it before the workers start. */
int password_common_load(const char *path, size_t *ret_count);
/* True when pw[0..len) is on the list, compared after NFKC and lower
 * case. */
bool password_is_common(const char *pw, size_t len);
/* Frees the list. */
void password_common_free(void);

#endif
