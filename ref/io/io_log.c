/* Logs of the driver: one line per event on stderr, plain text or JSON
 * lines. Each line is written with a single write(2), so lines from
 * worker threads never interleave. */
#include "icelab/io.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = IL_LOG_INFO;
static atomic_bool log_json;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void il_log_setup(int level, bool json)
{
	atomic_store(&log_level, level);
	atomic_store(&log_json, json);
}

bool il_log_enabled(int level)
{
	return level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

/* Appends text as a JSON string body (quotes not included). */
static size_t json_escape(char *out, size_t cap, size_t n, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p && n + 7 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			out[n++] = '\\';
			out[n++] = (char)*p;
		} else if (*p < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *p);
		} else {
			out[n++] = (char)*p;
		}
	}
	return n;
}

void il_log(int level, const char *fmt, ...)
{
	if (level < IL_LOG_ERROR || level > IL_LOG_DEBUG || !il_log_enabled(level))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[96];
	snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ts.tv_nsec / 1000000));

	char line[1536];
	size_t n;
	if (atomic_load_explicit(&log_json, memory_order_relaxed)) {
		n = (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"",
				     when, level_names[level]);
		n = json_escape(line, sizeof line - 4, n, msg);
		memcpy(line + n, "\"}\n", 3);
		n += 3;
	} else {
		int k = snprintf(line, sizeof line, "%s %-5s %s\n", when, level_names[level], msg);
		n = k < 0 ? 0 : (size_t)k >= sizeof line ? sizeof line - 1 : (size_t)k;
		if (n == sizeof line - 1)
			line[n - 1] = '\n';
	}
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}
