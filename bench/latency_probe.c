/*
 * latency_probe: the live daemon's benchmark helper (bench/live.sh, docs/benchmarks.md).
 * It writes to the logs chatlogd follows and watches a private redis-server through the
 * key schema of SPEC §6; it knows nothing of the daemon's internals. Three jobs:
 *   probe   append one line at a time and time until Redis counts it (latency)
 *   feed    append a pre-generated log at a steady rate, stamped with the wall clock
 *   ingest  append a whole log at once and time until Redis counts all of it
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

/* The daemon's default timezone, Asia/Shanghai: UTC+8 all year (no DST since 1991). */
#define SHANGHAI_OFFSET_MS (8LL * 3600 * 1000)
#define FEED_TICK_MS 10            /* a rate-limited writer appends every 10 ms */
#define COPY_CHUNK_BYTES (1 << 20) /* ingest appends in 1 MiB writes, like cat */
#define RESTAMP_CHUNK_LINES 4096   /* or restamped, ~1 MB per write */
#define PROBE_LINE_BYTES 512
#define KEY_BYTES 512
#define MAX_SHOPS 4096
#define MAX_DAYS 16
#define MAX_PROBES 100000

static void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatalx(const char *fmt, ...)
{
	va_list ap;

	fputs("latency_probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_until_ns(int64_t deadline_ns)
{
	struct timespec ts = {(time_t)(deadline_ns / 1000000000), (long)(deadline_ns % 1000000000)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* splitmix64, as in gen_chatlog.c: the probe gaps are reproducible from --seed. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t parse_number(const char *name, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		fatalx("--%s wants a whole number, not \"%s\"", name, s);
	return v;
}

/* ---- time stamps and key names ---- */

/* RFC 3339 in +08:00 with milliseconds, as the loggers of SPEC §2 write it. */
static void format_ts(int64_t ms, char out[32])
{
	int64_t local = ms + SHANGHAI_OFFSET_MS;
	time_t secs = (time_t)(local / 1000);
	unsigned millis = (unsigned)(local % 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	out[n++] = '.';
	out[n++] = (char)('0' + millis / 100);
	out[n++] = (char)('0' + millis / 10 % 10);
	out[n++] = (char)('0' + millis % 10);
	memcpy(out + n, "+08:00", 7);
}

/* YYYYMMDDHHMM of the UTC minute (minute hashes) or YYYYMMDD of the Shanghai day
 * (day hashes), as daemon/publish.c names them. */
static void format_minute_utc(int64_t ms, char out[16])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(out, 16, "%Y%m%d%H%M", &tm);
}

static void format_day_shanghai(int64_t ms, char out[16])
{
	time_t secs = (time_t)((ms + SHANGHAI_OFFSET_MS) / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(out, 16, "%Y%m%d", &tm);
}

/* ---- Redis ---- */

static redisContext *redis_open(const char *socket_path)
{
	redisContext *c = redisConnectUnix(socket_path);

	if (c == NULL || c->err)
		fatalx("cannot connect to redis at %s: %s", socket_path,
		       c ? c->errstr : "out of memory");
	return c;
}

/* HGET key field as a number; 0 when the key or field does not exist. */
static long long redis_hget_number(redisContext *c, const char *key, const char *field)
{
	redisReply *r = redisCommand(c, "HGET %s %s", key, field);
	long long v = 0;

	if (r == NULL)
		fatalx("redis: %s", c->errstr);
	if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	else if (r->type == REDIS_REPLY_ERROR)
		fatalx("redis: HGET %s: %s", key, r->str);
	freeReplyObject(r);
	return v;
}

/* ---- files ---- */

static int open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		fatalx("cannot open %s: %s", path, strerror(errno));
	return fd;
}

static void write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			fatalx("write failed: %s", strerror(errno));
		data += n;
		len -= (size_t)n;
	}
}

struct mapped {
	const char *data;
	size_t len;
};

static void map_file(const char *path, struct mapped *m)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd == -1 || fstat(fd, &st) == -1)
		fatalx("cannot open %s: %s", path, strerror(errno));
	if (st.st_size == 0)
		fatalx("%s is empty", path);
	if ((p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		fatalx("cannot map %s: %s", path, strerror(errno));
	close(fd);
	m->data = p;
	m->len = (size_t)st.st_size;
}

/* ---- /proc: CPU time and I/O of another process ---- */

struct proc_sample {
	double cpu_s;         /* utime + stime */
	uint64_t rchar;       /* bytes read by read-like calls (files, sockets) */
	uint64_t wchar;       /* bytes written by write-like calls (files, sockets) */
	uint64_t write_bytes; /* bytes sent to the storage layer */
};

static void proc_sample(long pid, struct proc_sample *s)
{
	char path[64], buf[4096];
	unsigned long utime = 0, stime = 0;
	const char *p;
	FILE *f;
	size_t n;

	memset(s, 0, sizeof(*s));
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		fatalx("cannot read %s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name (which may hold spaces) start after its ')';
	 * utime and stime are fields 14 and 15, the 12th and 13th after it. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) !=
	        2)
		fatalx("cannot parse %s", path);
	s->cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%ld/io", pid);
	if ((f = fopen(path, "r")) == NULL)
		return; /* not readable: the I/O counters stay 0 */
	while (fgets(buf, sizeof(buf), f) != NULL) {
		unsigned long long v;
		if (sscanf(buf, "rchar: %llu", &v) == 1)
			s->rchar = v;
		else if (sscanf(buf, "wchar: %llu", &v) == 1)
			s->wchar = v;
		else if (sscanf(buf, "write_bytes: %llu", &v) == 1)
			s->write_bytes = v;
	}
	fclose(f);
}

/* ---- probe ---- */

struct probe_options {
	const char *redis, *log, *prefix, *shop;
	uint64_t count, max_gap_ms, poll_ms, timeout_ms, seed, flush_ms;
	const char *raw; /* one latency (ms) per line, for plots */
};

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	return sorted[rank > 0 ? rank - 1 : 0];
}

/* Appends one buyer message of the probe's conversation, stamped now; returns the
 * monotonic time just before the write. */
static int64_t probe_write(int fd, const struct probe_options *o, const char *buyer, uint64_t n,
                           int64_t at_ms)
{
	char line[PROBE_LINE_BYTES], ts[32];
	int64_t t;
	int len;

	format_ts(at_ms, ts);
	len = snprintf(line, sizeof(line),
	               "{\"ts\":\"%s\",\"shop\":\"%s\",\"buyer\":\"%s\",\"agent\":\"%s:probe\","
	               "\"from\":\"buyer\",\"text\":\"在吗 probe %" PRIu64 "\"}\n",
	               ts, o->shop, buyer, o->shop, n);
	if (len < 0 || (size_t)len >= sizeof(line))
		fatalx("probe line too long");
	t = monotonic_ns();
	write_all(fd, line, (size_t)len);
	return t;
}

/*
 * The daemon cuts on a periodic timer (flush_interval_ms; libevent reschedules a
 * persistent timer from when it was due, so it does not drift): ticks at
 * phase + k * period. Two consecutive probes first seen in different polls had a
 * tick between their writes (give or take the ~1 ms the daemon takes to read a
 * line); probes seen in the same poll went out in the same cut. Each such boundary
 * allows a range of phases; the phase (1 ms bins) allowed by the most boundaries is
 * the timer's. Each cut is then timed from its tick (the last one before the poll
 * that showed it) to visible in Redis: the part of the latency spent journaling,
 * building and applying the cut, apart from waiting for the tick.
 */
struct cut_delay {
	unsigned boundaries, agree, cuts;
	double min, p50, p90, p99, max;
};

static void estimate_cut_delay(const int64_t *written, const int64_t *observed, uint64_t n,
                               uint64_t period_ms, struct cut_delay *out)
{
	const int64_t ms = 1000000, period = (int64_t)period_ms * ms;
	unsigned *votes = calloc(period_ms, sizeof(*votes));
	double *delay = calloc(n ? n : 1, sizeof(*delay));
	uint64_t best = 0;

	memset(out, 0, sizeof(*out));
	if (votes == NULL || delay == NULL)
		fatalx("out of memory");
	for (uint64_t i = 0; i + 1 < n; i++) {
		int64_t from = written[i] - ms, to = written[i + 1] + 2 * ms;
		if (observed[i] == observed[i + 1])
			continue;
		out->boundaries++;
		if (to - from >= period)
			to = from + period - ms;
		for (int64_t t = from; t <= to; t += ms)
			votes[(t % period) / ms]++;
	}
	for (uint64_t b = 1; b < period_ms; b++)
		if (votes[b] > votes[best])
			best = b;
	out->agree = votes[best];
	for (uint64_t i = 0; i < n; i++) {
		int64_t phase = (int64_t)best * ms + ms / 2, tick;
		if (i > 0 && observed[i] == observed[i - 1])
			continue;
		tick = phase + (observed[i] - phase) / period * period;
		delay[out->cuts++] = (double)(observed[i] - tick) / 1e6;
	}
	if (out->cuts > 0) {
		qsort(delay, out->cuts, sizeof(*delay), compare_double);
		out->min = delay[0];
		out->p50 = percentile(delay, out->cuts, 50);
		out->p90 = percentile(delay, out->cuts, 90);
		out->p99 = percentile(delay, out->cuts, 99);
		out->max = delay[out->cuts - 1];
	}
	free(votes);
	free(delay);
}

/*
 * All probes are buyer messages of one conversation (one buyer, one agent, gaps far
 * below session_idle), so the engine counts each at once, in buyer_msgs of the
 * minute the inquiry opened: one hash whose count says how many probes are applied.
 * Lines are applied in order, so count >= k means probe k is visible. Unique keys
 * per probe would work too but add a shop or agent per probe, and every one the
 * daemon has seen gets its five w:WINDOW hashes rewritten at each flush: the load
 * would grow during the measurement. Probes are written on their own schedule
 * (random gaps), not after the previous one is seen, so the flush phase is sampled
 * uniformly; a latency is taken when a poll's reply first shows its count.
 */
static int run_probe(const struct probe_options *o)
{
	redisContext *c = redis_open(o->redis);
	int fd = open_append(o->log);
	char buyer[64], minute[16], key[KEY_BYTES];
	int64_t *written = calloc(o->count, sizeof(*written));
	int64_t *observed = calloc(o->count, sizeof(*observed));
	double *latency = calloc(o->count, sizeof(*latency));
	struct cut_delay cuts;
	int64_t now, start_ms, poll_ns = (int64_t)o->poll_ms * 1000000, next_write, next_poll;
	long long base;
	uint64_t rng = o->seed, sent = 0, seen = 0;
	double sum = 0;
	FILE *raw = NULL;

	if (written == NULL || observed == NULL || latency == NULL)
		fatalx("out of memory");
	snprintf(buyer, sizeof(buyer), "probe-%ld-%" PRId64, (long)getpid(), wall_ms());
	start_ms = wall_ms();
	format_minute_utc(start_ms, minute);
	snprintf(key, sizeof(key), "%s:{%s}:a:*:m:%s", o->prefix, o->shop, minute);
	base = redis_hget_number(c, key, "buyer_msgs");

	/* Warm-up: the first line opens the inquiry (and the shop's series); not timed. */
	probe_write(fd, o, buyer, 0, start_ms);
	now = monotonic_ns();
	while (redis_hget_number(c, key, "buyer_msgs") < base + 1) {
		if (monotonic_ns() - now > (int64_t)o->timeout_ms * 1000000)
			fatalx("the warm-up probe did not show in %s within %" PRIu64 " ms", key,
			       o->timeout_ms);
		sleep_until_ns(monotonic_ns() + poll_ns);
	}
	base++;

	next_write = next_poll = monotonic_ns();
	while (seen < o->count) {
		now = monotonic_ns();
		if (sent < o->count && now >= next_write) {
			written[sent] = probe_write(fd, o, buyer, sent + 1, wall_ms());
			sent++;
			next_write =
			    now + (int64_t)(rng_next(&rng) % (o->max_gap_ms + 1)) * 1000000;
		}
		if (now >= next_poll) {
			long long applied = redis_hget_number(c, key, "buyer_msgs") - base;
			int64_t t = monotonic_ns();
			while (seen < sent && (long long)seen < applied) {
				observed[seen] = t;
				latency[seen] = (double)(t - written[seen]) / 1e6;
				sum += latency[seen];
				seen++;
			}
			next_poll = now + poll_ns;
		}
		if (sent == o->count && seen < sent &&
		    now - written[seen] > (int64_t)o->timeout_ms * 1000000)
			break; /* not seen within the timeout: reported as lost */
		sleep_until_ns(sent < o->count && next_write < next_poll ? next_write : next_poll);
	}

	if (o->raw != NULL && (raw = fopen(o->raw, "w")) == NULL)
		fatalx("cannot write %s: %s", o->raw, strerror(errno));
	for (uint64_t i = 0; raw != NULL && i < seen; i++)
		fprintf(raw, "%.3f\n", latency[i]);
	if (raw != NULL)
		fclose(raw);
	if (seen == 0)
		fatalx("no probe showed in %s", key);
	estimate_cut_delay(written, observed, seen, o->flush_ms, &cuts);
	qsort(latency, seen, sizeof(*latency), compare_double);
	printf("probes=%" PRIu64 " seen=%" PRIu64 " lost=%" PRIu64
	       " min_ms=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f mean_ms=%.1f "
	       "cuts=%u tick_fit=%u/%u cut_min_ms=%.1f cut_p50_ms=%.1f cut_p90_ms=%.1f "
	       "cut_p99_ms=%.1f cut_max_ms=%.1f key=%s\n",
	       o->count, seen, o->count - seen, latency[0], percentile(latency, seen, 50),
	       percentile(latency, seen, 90), percentile(latency, seen, 99), latency[seen - 1],
	       sum / (double)seen, cuts.cuts, cuts.agree, cuts.boundaries, cuts.min, cuts.p50,
	       cuts.p90, cuts.p99, cuts.max, key);
	free(written);
	free(observed);
	free(latency);
	close(fd);
	redisFree(c);
	return seen == o->count ? 0 : 1;
}

/* ---- restamping ---- */

/* Whether a ts value (with its quotes, if a string) reads as a time: a number, or
 * "YYYY-MM-DD?HH:MM:SS..." with a plausible clock. gen_chatlog's bad-timestamp noise
 * ("yesterday 10:00", "2026-11-24 25:61:00") fails, so noise stays noise. */
static int ts_plausible(const char *value, size_t len)
{
	static const char shape[] = "0000-00-00?00:00:00"; /* 0: a digit, ?: any byte */
	const char *v = value + 1;

	if (len > 0 && value[0] >= '0' && value[0] <= '9')
		return 1;
	if (len < sizeof(shape) + 1 || value[0] != '"')
		return 0;
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		int digit = v[i] >= '0' && v[i] <= '9';
		if (shape[i] == '0' ? !digit : shape[i] != '?' && v[i] != shape[i])
			return 0;
	}
	return (v[11] - '0') * 10 + (v[12] - '0') < 24 && v[14] < '6' && v[17] < '6';
}

/* Copies one line (with its newline) into out, its ts replaced by stamp when the
 * line starts with {"ts": (every valid line gen_chatlog writes does) and its value
 * reads as a time. Returns the bytes written: at most len + 40. */
static size_t restamp_line(const char *line, size_t len, const char *stamp, char *out)
{
	static const char head[] = "{\"ts\":";
	const size_t head_len = sizeof(head) - 1;
	const char *value = line + head_len, *end = line + len, *rest;
	size_t n;

	if (stamp == NULL || len <= head_len || memcmp(line, head, head_len) != 0) {
		memcpy(out, line, len);
		return len;
	}
	if (*value == '"') {
		rest = memchr(value + 1, '"', (size_t)(end - value - 1));
		rest = rest ? rest + 1 : value;
	} else {
		for (rest = value; rest < end && *rest != ',' && *rest != '}'; rest++)
			;
	}
	if (!ts_plausible(value, (size_t)(rest - value))) {
		memcpy(out, line, len);
		return len;
	}
	n = (size_t)snprintf(out, 48, "%s\"%s\"", head, stamp);
	memcpy(out + n, rest, (size_t)(end - rest));
	return n + (size_t)(end - rest);
}

struct buffer {
	char *data;
	size_t len, capacity;
};

/* Appends count lines of m from *at on (wrapping around to the start) to b, each
 * restamped with stamp (NULL: as they are); a last line without its newline gets one. */
static void copy_lines(const struct mapped *m, size_t *at, uint64_t count, const char *stamp,
                       struct buffer *b)
{
	for (uint64_t i = 0; i < count; i++) {
		const char *line = m->data + *at;
		const char *nl = memchr(line, '\n', m->len - *at);
		size_t len = nl ? (size_t)(nl - line) + 1 : m->len - *at;

		if (b->len + len + 64 > b->capacity) {
			size_t capacity = (b->len + len + 64) * 2;
			char *bigger = realloc(b->data, capacity);
			if (bigger == NULL)
				fatalx("out of memory");
			b->data = bigger;
			b->capacity = capacity;
		}
		b->len += restamp_line(line, len, stamp, b->data + b->len);
		if (nl == NULL)
			b->data[b->len++] = '\n';
		*at += len;
		if (*at >= m->len)
			*at = 0;
	}
}

/* ---- feed ---- */

struct feed_options {
	const char *log, *from;
	uint64_t rate, seconds, skip;
	int keep_ts;
};

/* Start of line number skip (0-based) of m, wrapping around. */
static size_t line_offset(const struct mapped *m, uint64_t skip)
{
	size_t at = 0;

	for (uint64_t i = 0; i < skip; i++) {
		const char *nl = memchr(m->data + at, '\n', m->len - at);
		at = nl ? (size_t)(nl - m->data) + 1 : 0;
		if (at >= m->len)
			at = 0;
	}
	return at;
}

/*
 * A steady writer: every FEED_TICK_MS it appends, in one write(), the lines due by
 * then at `rate` lines/s, taken in order from a pre-generated log (wrapping around).
 * Each line's ts is replaced by the wall clock at that tick (RFC 3339, +08:00), so
 * event time advances with real time as in a live log, whatever the rate; otherwise
 * a faster feed would also be a faster event clock and touch more minute hashes per
 * flush. Bounded by --seconds.
 */
static int run_feed(const struct feed_options *o)
{
	struct mapped m;
	struct buffer b = {0};
	int fd = open_append(o->log);
	int64_t start = monotonic_ns(), end = start + (int64_t)o->seconds * 1000000000;
	int64_t tick = start;
	uint64_t lines = 0, bytes = 0;
	size_t at;
	char stamp[32];

	map_file(o->from, &m);
	at = line_offset(&m, o->skip);
	while (tick < end) {
		double elapsed = (double)(tick - start) / 1e9;
		uint64_t due = (uint64_t)(elapsed * (double)o->rate);

		format_ts(wall_ms(), stamp);
		b.len = 0;
		copy_lines(&m, &at, due - lines, o->keep_ts ? NULL : stamp, &b);
		lines = due;
		if (b.len > 0)
			write_all(fd, b.data, b.len);
		bytes += b.len;
		tick += FEED_TICK_MS * 1000000;
		sleep_until_ns(tick);
	}
	printf("lines=%" PRIu64 " bytes=%" PRIu64 " seconds=%.3f rate=%.0f\n", lines, bytes,
	       (double)(monotonic_ns() - start) / 1e9,
	       (double)lines / ((double)(monotonic_ns() - start) / 1e9));
	free(b.data);
	close(fd);
	return 0;
}

/* ---- ingest ---- */

struct ingest_options {
	const char *redis, *log, *from, *prefix, *field;
	uint64_t expect, start_ms, days, poll_ms, timeout_s;
	long pid, redis_pid;
	int restamp;
};

/* Sum of field over every shop's whole-shop ("*") day hashes of the given days. */
static long long sum_days(redisContext *c, const struct ingest_options *o, char days[][16],
                          int day_count)
{
	redisReply *shops, *r;
	long long sum = 0;
	char key[KEY_BYTES];
	size_t queued = 0;

	if ((shops = redisCommand(c, "SMEMBERS %s:shops", o->prefix)) == NULL)
		fatalx("redis: %s", c->errstr);
	if (shops->type != REDIS_REPLY_ARRAY || shops->elements > MAX_SHOPS)
		fatalx("redis: unexpected reply to SMEMBERS %s:shops", o->prefix);
	for (size_t i = 0; i < shops->elements; i++)
		for (int d = 0; d < day_count; d++) {
			snprintf(key, sizeof(key), "%s:{%s}:a:*:d:%s", o->prefix,
			         shops->element[i]->str, days[d]);
			if (redisAppendCommand(c, "HGET %s %s", key, o->field) != REDIS_OK)
				fatalx("redis: %s", c->errstr);
			queued++;
		}
	for (size_t i = 0; i < queued; i++) {
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			fatalx("redis: %s", c->errstr);
		if (r->type == REDIS_REPLY_STRING)
			sum += strtoll(r->str, NULL, 10);
		freeReplyObject(r);
	}
	freeReplyObject(shops);
	return sum;
}

/*
 * Appends the whole log to the followed file as fast as the page cache takes it
 * (1 MiB writes; with --restamp, 4096 lines at a time stamped with the wall clock,
 * so event time is now, as in a live log, instead of the log's own hours), then
 * polls Redis until the day totals of --field over all shops, minus what they held
 * before, reach --expect (gen_chatlog's count of that kind of line; agent_msgs is
 * counted the moment an agent line is read, unlike buyer messages, which may wait
 * for their inquiry's agent). Also notes when the daemon has read every byte (its
 * rchar), and its CPU time and I/O over the run.
 */
static int run_ingest(const struct ingest_options *o)
{
	redisContext *c = redis_open(o->redis);
	struct mapped m;
	struct proc_sample d0, d1, r0, r1, now_sample;
	char days[MAX_DAYS][16];
	int fd = open_append(o->log), day_count = (int)o->days;
	uint64_t lines = 0, appended = 0;
	int64_t t0, t_appended, t_read = 0, t_done = 0, deadline;
	long long sum = 0, base;

	if (day_count < 1 || day_count > MAX_DAYS)
		fatalx("--days wants 1 to %d", MAX_DAYS);
	for (int d = 0; d < day_count; d++)
		format_day_shanghai((int64_t)o->start_ms + (int64_t)d * 86400000, days[d]);
	map_file(o->from, &m);
	for (const char *p = m.data; (p = memchr(p, '\n', m.len - (size_t)(p - m.data))) != NULL;
	     p++)
		lines++;

	base = sum_days(c, o, days, day_count); /* 0 on a fresh Redis */
	proc_sample(o->pid, &d0);
	proc_sample(o->redis_pid, &r0);
	t0 = monotonic_ns();
	if (o->restamp) {
		struct buffer b = {0};
		size_t at = 0;
		char stamp[32];
		for (uint64_t done = 0; done < lines; done += RESTAMP_CHUNK_LINES) {
			format_ts(wall_ms(), stamp);
			b.len = 0;
			copy_lines(&m, &at,
			           lines - done < RESTAMP_CHUNK_LINES ? lines - done
			                                              : RESTAMP_CHUNK_LINES,
			           stamp, &b);
			write_all(fd, b.data, b.len);
			appended += b.len;
		}
		free(b.data);
	} else {
		for (size_t at = 0; at < m.len; at += COPY_CHUNK_BYTES)
			write_all(fd, m.data + at,
			          m.len - at < COPY_CHUNK_BYTES ? m.len - at : COPY_CHUNK_BYTES);
		appended = m.len;
	}
	t_appended = monotonic_ns();
	deadline = t0 + (int64_t)o->timeout_s * 1000000000;
	while (monotonic_ns() < deadline) {
		if (t_read == 0 && o->pid > 0) {
			proc_sample(o->pid, &now_sample);
			if (now_sample.rchar - d0.rchar >= appended)
				t_read = monotonic_ns();
		}
		if ((sum = sum_days(c, o, days, day_count) - base) >= (long long)o->expect) {
			t_done = monotonic_ns();
			break;
		}
		sleep_until_ns(monotonic_ns() + (int64_t)o->poll_ms * 1000000);
	}
	proc_sample(o->pid, &d1);
	proc_sample(o->redis_pid, &r1);
	if (t_done == 0) {
		printf("done=0 counted=%lld expect=%" PRIu64 " lines=%" PRIu64 "\n", sum, o->expect,
		       lines);
		return 1;
	}
	printf("done=1 lines=%" PRIu64 " bytes=%" PRIu64 " append_s=%.3f read_s=%.3f done_s=%.3f "
	       "lines_per_s=%.0f read_lines_per_s=%.0f counted=%lld daemon_cpu_s=%.2f "
	       "daemon_rchar=%" PRIu64 " daemon_wchar=%" PRIu64 " daemon_write_bytes=%" PRIu64
	       " redis_cpu_s=%.2f\n",
	       lines, appended, (double)(t_appended - t0) / 1e9,
	       t_read ? (double)(t_read - t0) / 1e9 : 0.0, (double)(t_done - t0) / 1e9,
	       (double)lines / ((double)(t_done - t0) / 1e9),
	       t_read ? (double)lines / ((double)(t_read - t0) / 1e9) : 0.0, sum,
	       d1.cpu_s - d0.cpu_s, d1.rchar - d0.rchar, d1.wchar - d0.wchar,
	       d1.write_bytes - d0.write_bytes, r1.cpu_s - r0.cpu_s);
	close(fd);
	redisFree(c);
	return 0;
}

/* ---- options ---- */

static void usage(void)
{
	fprintf(stderr,
	        "usage: latency_probe probe --redis SOCK --log FILE [--count 300]\n"
	        "                     [--max-gap-ms 200] [--poll-ms 2] [--timeout-ms 10000]\n"
	        "                     [--shop probe] [--prefix cs] [--seed 1] [--raw FILE]\n"
	        "                     [--flush-ms 1000]\n"
	        "       latency_probe feed --log FILE --from LOG --rate LINES_PER_S --seconds S\n"
	        "                     [--skip LINES] [--keep-ts]\n"
	        "       latency_probe ingest --redis SOCK --log FILE --from LOG --expect N\n"
	        "                     --start-ms MS [--field agent_msgs] [--days 4] [--pid PID]\n"
	        "                     [--redis-pid PID] [--poll-ms 20] [--timeout-s 300]\n"
	        "                     [--prefix cs] [--restamp]\n"
	        "Redis is reached on a Unix socket; results go to stdout as key=value.\n");
	exit(2);
}

enum {
	OPT_REDIS = 1,
	OPT_LOG,
	OPT_FROM,
	OPT_COUNT,
	OPT_MAX_GAP,
	OPT_POLL,
	OPT_TIMEOUT_MS,
	OPT_TIMEOUT_S,
	OPT_SHOP,
	OPT_PREFIX,
	OPT_SEED,
	OPT_RAW,
	OPT_RATE,
	OPT_SECONDS,
	OPT_SKIP,
	OPT_KEEP_TS,
	OPT_EXPECT,
	OPT_START_MS,
	OPT_FIELD,
	OPT_DAYS,
	OPT_PID,
	OPT_REDIS_PID,
	OPT_RESTAMP,
	OPT_FLUSH_MS,
};

static const struct option long_options[] = {
    {"redis", required_argument, NULL, OPT_REDIS},
    {"log", required_argument, NULL, OPT_LOG},
    {"from", required_argument, NULL, OPT_FROM},
    {"count", required_argument, NULL, OPT_COUNT},
    {"max-gap-ms", required_argument, NULL, OPT_MAX_GAP},
    {"poll-ms", required_argument, NULL, OPT_POLL},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
    {"timeout-s", required_argument, NULL, OPT_TIMEOUT_S},
    {"shop", required_argument, NULL, OPT_SHOP},
    {"prefix", required_argument, NULL, OPT_PREFIX},
    {"seed", required_argument, NULL, OPT_SEED},
    {"raw", required_argument, NULL, OPT_RAW},
    {"rate", required_argument, NULL, OPT_RATE},
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"skip", required_argument, NULL, OPT_SKIP},
    {"keep-ts", no_argument, NULL, OPT_KEEP_TS},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"start-ms", required_argument, NULL, OPT_START_MS},
    {"field", required_argument, NULL, OPT_FIELD},
    {"days", required_argument, NULL, OPT_DAYS},
    {"pid", required_argument, NULL, OPT_PID},
    {"redis-pid", required_argument, NULL, OPT_REDIS_PID},
    {"restamp", no_argument, NULL, OPT_RESTAMP},
    {"flush-ms", required_argument, NULL, OPT_FLUSH_MS},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	struct probe_options probe = {.prefix = "cs",
	                              .shop = "probe",
	                              .count = 300,
	                              .max_gap_ms = 200,
	                              .poll_ms = 2,
	                              .timeout_ms = 10000,
	                              .seed = 1,
	                              .flush_ms = 1000};
	struct feed_options feed = {0};
	struct ingest_options ingest = {
	    .prefix = "cs", .field = "agent_msgs", .days = 4, .poll_ms = 20, .timeout_s = 300};
	const char *mode;
	int opt;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case OPT_REDIS:
			probe.redis = ingest.redis = optarg;
			break;
		case OPT_LOG:
			probe.log = feed.log = ingest.log = optarg;
			break;
		case OPT_FROM:
			feed.from = ingest.from = optarg;
			break;
		case OPT_COUNT:
			probe.count = parse_number("count", optarg);
			break;
		case OPT_MAX_GAP:
			probe.max_gap_ms = parse_number("max-gap-ms", optarg);
			break;
		case OPT_POLL:
			probe.poll_ms = ingest.poll_ms = parse_number("poll-ms", optarg);
			break;
		case OPT_TIMEOUT_MS:
			probe.timeout_ms = parse_number("timeout-ms", optarg);
			break;
		case OPT_TIMEOUT_S:
			ingest.timeout_s = parse_number("timeout-s", optarg);
			break;
		case OPT_SHOP:
			probe.shop = optarg;
			break;
		case OPT_PREFIX:
			probe.prefix = ingest.prefix = optarg;
			break;
		case OPT_SEED:
			probe.seed = parse_number("seed", optarg);
			break;
		case OPT_RAW:
			probe.raw = optarg;
			break;
		case OPT_RATE:
			feed.rate = parse_number("rate", optarg);
			break;
		case OPT_SECONDS:
			feed.seconds = parse_number("seconds", optarg);
			break;
		case OPT_SKIP:
			feed.skip = parse_number("skip", optarg);
			break;
		case OPT_KEEP_TS:
			feed.keep_ts = 1;
			break;
		case OPT_EXPECT:
			ingest.expect = parse_number("expect", optarg);
			break;
		case OPT_START_MS:
			ingest.start_ms = parse_number("start-ms", optarg);
			break;
		case OPT_FIELD:
			ingest.field = optarg;
			break;
		case OPT_DAYS:
			ingest.days = parse_number("days", optarg);
			break;
		case OPT_PID:
			ingest.pid = (long)parse_number("pid", optarg);
			break;
		case OPT_REDIS_PID:
			ingest.redis_pid = (long)parse_number("redis-pid", optarg);
			break;
		case OPT_RESTAMP:
			ingest.restamp = 1;
			break;
		case OPT_FLUSH_MS:
			probe.flush_ms = parse_number("flush-ms", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (strcmp(mode, "probe") == 0) {
		if (probe.redis == NULL || probe.log == NULL || probe.count == 0 ||
		    probe.count > MAX_PROBES || probe.poll_ms == 0 || probe.flush_ms == 0 ||
		    probe.flush_ms > 3600000)
			usage();
		return run_probe(&probe);
	}
	if (strcmp(mode, "feed") == 0) {
		if (feed.log == NULL || feed.from == NULL || feed.rate == 0 || feed.seconds == 0)
			usage();
		return run_feed(&feed);
	}
	if (strcmp(mode, "ingest") == 0) {
		if (ingest.redis == NULL || ingest.log == NULL || ingest.from == NULL ||
		    ingest.expect == 0 || ingest.start_ms == 0 || ingest.poll_ms == 0)
			usage();
		return run_ingest(&ingest);
	}
	usage();
}
