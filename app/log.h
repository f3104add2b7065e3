/* Logging to stderr: one line per event with time, level and request id.
 * Callers never pass tokens, passwords, cookies or secrets. */
#ifndef TODOD_LOG_H
#define TODOD_LOG_H

enum log_level { LOGL_ERROR, LOGL_WARN, LOGL_INFO, LOGL_DEBUG, LOGL_MAX };

/* Returns the level for a name or -1. */
int log_level_from_name(const char *name);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(rid, ...) log_msg(LOGL_ERROR, rid, __VA_ARGS__)
#define log_warn(rid, ...) log_msg(LOGL_WARN, rid, __VA_ARGS__)
#define log_info(rid, ...) log_msg(LOGL_INFO, rid, __VA_ARGS__)
#define log_debug(rid, ...) log_msg(LOGL_DEBUG, rid, __VA_ARGS__)

#endif
