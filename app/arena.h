/* Per-request memory: a bump allocator released in one place (arena_reset)
 * when the request ends, with a cleanup list for foreign objects. */
#ifndef TODOD_ARENA_H
#define TODOD_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(size_t chunk_size);
/* Runs the deferred cleanups and frees everything; accepts NULL. */
void arena_free(struct arena *a);
/* Runs the deferred cleanups, keeps the first chunk for reuse. */
void arena_reset(struct arena *a);
/* 16-byte aligned; NULL on overflow or out of memory. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Registers fn(arg) to run at the next reset (last registered runs first).
 * Returns 0 or -ENOMEM; on failure fn(arg) is run at once. */
int arena_defer(struct arena *a, void (*fn)(void *), void *arg);

#endif
