/* stderr logger: "2026-11-25T02:00:00.000Z info [reqid] message". */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static const char *const level_names[LOGL_MAX] = {
	[LOGL_ERROR] = "error",
	[LOGL_WARN] = "warn",
	[LOGL_INFO] = "info",
	[LOGL_DEBUG] = "debug",
};

static enum log_level current = LOGL_INFO;

int
log_level_from_name(const char *name)
{
	for (int i = 0; i < LOGL_MAX; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void
log_set_level(enum log_level level)
{
	current = level;
}

int
log_enabled(enum log_level level)
{
	return level <= current;
}

void
log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
{
	char line[2048], ts[TIME_STR_LEN + 1];
	va_list ap;
	int n;

	if (level > current)
		return;
	time_format(time_now_ms(), ts);
	n = snprintf(line, sizeof(line), "%s %s [%s] ", ts, level_names[level],
		     reqid ? reqid : "-");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line keeps lines from different workers whole. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s\n", line);
}
