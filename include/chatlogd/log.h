/*
 * Operator-facing logging: one line per event on stderr with a journald priority
 * prefix (<3> error, <4> warning, <6> info, <7> debug) and key=value context.
 * Log content never becomes a format string: callers pass it as an argument.
 */
#ifndef CHATLOGD_LOG_H
#define CHATLOGD_LOG_H

#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7
};

/* The level named by the `log_level` setting: err, warning, info (any other) or debug. */
enum log_level log_level_parse(const char *name);

/* Sets the most verbose level printed (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level level);

void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends strerror(errno); the *x ones do not. fatal* exit(1): start-up only;
 * log_errx is for an error after which the caller exits with a status of its own. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Allows at most `per_second` events per second (per `window_ms`, when set: a
 * condition that lasts, like a full disk, wants one line a minute, not a second); the
 * rest are counted as suppressed. With `whole_run` set the window never ends: the
 * first `per_second` events of the run are logged and log_ratelimit_flush() reports
 * the rest, so a batch run logs the same lines however fast it goes. */
struct log_ratelimit {
	int64_t window_start_ms;
	unsigned in_window;
	unsigned per_second;
	int whole_run;
	uint64_t suppressed;
	int64_t window_ms; /* 0: 1000 */
};

/* Returns 1 when the caller may log now. When a new second starts and some were
 * suppressed, logs one "suppressed N" line for `what` first. */
int log_ratelimit_allow(struct log_ratelimit *rl, const char *what);

/* Logs the "suppressed N" line for `what` now, if any were suppressed. */
void log_ratelimit_flush(struct log_ratelimit *rl, const char *what);

/* Escapes s for a log line: control bytes become \xNN, quotes and backslashes are
 * escaped, and the result is cut at out_size - 1 bytes. Returns out. */
char *log_escape(char *out, size_t out_size, const char *s, size_t len);

#endif
