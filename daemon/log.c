/*
 * log.c owns how chatlogd talks to operators: stderr lines with journald priority
 * prefixes when stderr is the journal, the level in plain words anywhere else, and
 * rate limiting of repeated events. It does not decide what to log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatlogd/clock.h"
#include "chatlogd/log.h"

static enum log_level log_max_level = LOG_LEVEL_INFO;

enum log_level log_level_parse(const char *name)
{
	if (strcmp(name, "err") == 0)
		return LOG_LEVEL_ERR;
	if (strcmp(name, "warning") == 0)
		return LOG_LEVEL_WARNING;
	if (strcmp(name, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	return LOG_LEVEL_INFO;
}

void log_set_level(enum log_level level)
{
	log_max_level = level;
}

/*
 * Whether stderr is the journal: systemd sets JOURNAL_STREAM to the device and inode
 * of the stream it connected, so a child that redirected stderr elsewhere (or a shell
 * that inherited the variable) is told apart by comparing them with fstat.
 */
static int stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (stream == NULL || sscanf(stream, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* "<4>" for journald, which turns it into the entry's priority; the level in words for
 * a person at a terminal, a file or a pipe (`chatlogd --once 2>err.log`). */
static const char *level_prefix(enum log_level level, char *buf, size_t size)
{
	static int journal = -1;

	if (journal == -1)
		journal = stderr_is_journal();
	if (journal)
		snprintf(buf, size, "<%d>chatlogd: ", level);
	else if (level <= LOG_LEVEL_ERR)
		snprintf(buf, size, "chatlogd: error: ");
	else if (level == LOG_LEVEL_WARNING)
		snprintf(buf, size, "chatlogd: warning: ");
	else
		snprintf(buf, size, "chatlogd: ");
	return buf;
}

static void log_vwrite(enum log_level level, const char *fmt, va_list ap, int with_errno)
{
	char line[2048], prefix[32];
	int saved_errno = errno;
	int n;

	if (level > log_max_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	level_prefix(level, prefix, sizeof(prefix));
	if (with_errno)
		fprintf(stderr, "%s%s: %s\n", prefix, line, strerror(saved_errno));
	else
		fprintf(stderr, "%s%s\n", prefix, line);
}

#define LOG_FUNCTION(name, level, with_errno)                                                      \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vwrite(level, fmt, ap, with_errno);                                            \
		va_end(ap);                                                                        \
	}

LOG_FUNCTION(log_errx, LOG_LEVEL_ERR, 0)
LOG_FUNCTION(log_warn, LOG_LEVEL_WARNING, 1)
LOG_FUNCTION(log_warnx, LOG_LEVEL_WARNING, 0)
LOG_FUNCTION(log_info, LOG_LEVEL_INFO, 0)
LOG_FUNCTION(log_debug, LOG_LEVEL_DEBUG, 0)

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERR, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERR, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

int log_ratelimit_allow(struct log_ratelimit *rl, const char *what)
{
	int64_t now = rl->whole_run ? rl->window_start_ms : clock_monotonic_ms();

	if (now - rl->window_start_ms >= (rl->window_ms > 0 ? rl->window_ms : 1000)) {
		if (rl->suppressed > 0)
			log_warnx("%s suppressed=%llu", what, (unsigned long long)rl->suppressed);
		rl->window_start_ms = now;
		rl->in_window = 0;
		rl->suppressed = 0;
	}
	if (rl->in_window < rl->per_second) {
		rl->in_window++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}

void log_ratelimit_flush(struct log_ratelimit *rl, const char *what)
{
	if (rl->suppressed > 0)
		log_warnx("%s suppressed=%llu", what, (unsigned long long)rl->suppressed);
	rl->suppressed = 0;
}

char *log_escape(char *out, size_t out_size, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (out_size == 0)
		return out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[4];
		size_t n;

		if (c < 0x20 || c == 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			n = 4;
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		if (o + n >= out_size)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = '\0';
	return out;
}
