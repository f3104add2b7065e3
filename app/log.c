/* stderr logger: "2026-11-25T02:00:00.000Z info [reqid] message", or with
 * log_format = json one object a line: {"time", "level", "reqid", "msg"},
 * and for a request {"method", "route", "status", "duration_ms", "code",
 * "cause"} in place of msg. */
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
static int json;

static size_t json_escape(char *out, size_t cap, const char *s);
static void emit(enum log_level level, const char *reqid, const char *body,
		 int body_is_json);

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
log_set_json(int on)
{
	json = on;
}

/* s as the inside of a JSON string into out (NUL-terminated, cut at cap);
 * returns the length written. */
static size_t
json_escape(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

/* One line: body is the message (text) or, body_is_json, the members of
 * the JSON object after time, level and reqid. */
static void
emit(enum log_level level, const char *reqid, const char *body,
     int body_is_json)
{
	char line[3072], ts[TIME_STR_LEN + 1], rid[64];

	time_format(time_now_ms(), ts);
	if (json) {
		char msg[2048];

		json_escape(rid, sizeof(rid), reqid ? reqid : "-");
		if (body_is_json)
			snprintf(line, sizeof(line),
				 "{\"time\":\"%s\",\"level\":\"%s\","
				 "\"reqid\":\"%s\",%s}",
				 ts, level_names[level], rid, body);
		else {
			json_escape(msg, sizeof(msg), body);
			snprintf(line, sizeof(line),
				 "{\"time\":\"%s\",\"level\":\"%s\","
				 "\"reqid\":\"%s\",\"msg\":\"%s\"}",
				 ts, level_names[level], rid, msg);
		}
	} else {
		snprintf(line, sizeof(line), "%s %s [%s] %s", ts,
			 level_names[level], reqid ? reqid : "-", body);
		/* One line per event, whatever the message holds. */
		for (char *p = line; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	/* One write per line keeps lines from different workers whole. */
	fprintf(stderr, "%s\n", line);
}

void
log_msg(enum log_level level, const char *reqid, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (level > current)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, reqid, msg, 0);
}

void
log_request(const char *reqid, const char *method, const char *route,
	    int status, const char *code, const char *cause,
	    long long duration_us)
{
	enum log_level level = status >= 500 ? LOGL_ERROR : LOGL_INFO;
	char body[1024], m[64], rt[128];
	long long ms = duration_us / 1000;

	if (level > current)
		return;
	if (!json) {
		if (status >= 500)
			snprintf(body, sizeof(body),
				 "%s %s -> %d %s (%s) %lldms", method, route,
				 status, code ? code : "", cause ? cause : "-",
				 ms);
		else
			snprintf(body, sizeof(body), "%s %s -> %d %lldms",
				 method, route, status, ms);
		emit(level, reqid, body, 0);
		return;
	}
	json_escape(m, sizeof(m), method);
	json_escape(rt, sizeof(rt), route);
	snprintf(body, sizeof(body),
		 "\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,"
		 "\"duration_ms\":%.3f%s%s%s%s%s%s",
		 m, rt, status, (double)duration_us / 1000.0,
		 code ? ",\"code\":\"" : "", code ? code : "", code ? "\"" : "",
		 cause ? ",\"cause\":\"" : "", cause ? cause : "",
		 cause ? "\"" : "");
	emit(level, reqid, body, 1);
}
