/* Logging to stderr: one line per event with time, level and request id.
 * Callers never pass tokens, passwords, cookies or secrets. */
#ifndef TODOD_LOG_H
#define TODOD_LOG_H

enum log_level { LOGL_ERROR, LOGL_WARN, LOGL_INFO, LOGL_DEBUG, LOGL_MAX };

/* Returns the level for a name or -1. */
int log_level_from_name(const char *name);
void log_set_level(enum log_level level);
/* json: one JSON object a line instead of text. */
void log_set_json(int json);
/* The line of one answered request: info, or error for a 5xx (with the
 * error code and its cause). */
void log_request(const char *reqid, const char *method, const char *route,
		 int status, const char *code, const char *cause,
		 long long duration_us);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(rid, ...) log_msg(LOGL_ERROR, rid, __VA_ARGS__)
#define log_warn(rid, ...) log_msg(LOGL_WARN, rid, __VA_ARGS__)
#define log_info(rid, ...) log_msg(LOGL_INFO, rid, __VA_ARGS__)
#define log_debug(rid, ...) log_msg(LOGL_DEBUG, rid, __VA_ARGS__)

#endif
