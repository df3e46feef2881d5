/*
 * Tailing against real files in a temporary directory, a real libevent loop and
 * the real logrotate: every line exactly once and in order per file, through
 * rotation, truncation, rewrites, deletion, restarts and inotify's blind spots.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "chatlogd/hindex.h"
#include "chatlogd/tail.h"
#include "check.h"

/* ---- what the callback saw ---------------------------------------------------- */

struct seen_line {
	char *path;
	char *text;
	size_t len;
	uint64_t line_no;
	int overlong;
};

struct seen {
	struct seen_line *lines;
	size_t count, capacity;
	struct tail *tail;   /* for positions taken inside the callback */
	int probe_positions; /* record the position after each line */
	uint64_t probed_offsets[16];
};

static void collect(void *ctx, const char *path, const char *line, size_t len, uint64_t line_no,
                    int overlong)
{
	struct seen *s = ctx;
	struct seen_line *l;

	if (s->count == s->capacity) {
		s->capacity = s->capacity ? s->capacity * 2 : 64;
		s->lines = realloc(s->lines, s->capacity * sizeof(*s->lines));
		if (s->lines == NULL)
			abort();
	}
	l = &s->lines[s->count];
	l->path = strdup(path);
	l->text = malloc(len + 1);
	if (l->path == NULL || l->text == NULL)
		abort();
	memcpy(l->text, line, len);
	l->text[len] = '\0';
	l->len = len;
	l->line_no = line_no;
	l->overlong = overlong;
	if (s->probe_positions && s->count < 16) {
		struct tail_position *p;
		size_t n;
		tail_positions(s->tail, &p, &n);
		if (n == 1)
			s->probed_offsets[s->count] = p[0].offset;
		tail_positions_free(p, n);
	}
	s->count++;
}

static void seen_clear(struct seen *s)
{
	for (size_t i = 0; i < s->count; i++) {
		free(s->lines[i].path);
		free(s->lines[i].text);
	}
	free(s->lines);
	memset(s, 0, sizeof(*s));
}

/* ---- a temporary directory, a loop and a tailer --------------------------------- */

struct fixture {
	char dir[64];
	struct event_base *base;
	struct tail *tail;
	struct seen seen;
	char pattern[PATH_MAX]; /* fixture_settings' one pattern */
	const char *patterns[1];
};

static int fixture_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_tail.XXXXXX");
	if (mkdtemp(fx->dir) == NULL || (fx->base = event_base_new()) == NULL) {
		perror("fixture");
		return -1;
	}
	return 0;
}

static const char *in_dir(const struct fixture *fx, const char *name, char *out)
{
	snprintf(out, PATH_MAX, "%s/%s", fx->dir, name);
	return out;
}

/* Settings that make the backstops quick, so a test never waits long for them. */
static struct tail_settings quick_settings(const char *const *patterns, size_t count)
{
	struct tail_settings s = {
	    .patterns = patterns,
	    .pattern_count = count,
	    .max_line_bytes = 1024,
	    .poll_interval_ms = 20,
	    .rescan_interval_ms = 50,
	    .read_budget_bytes = 0,
	    .rotate_wait_ms = 200,
	};
	return s;
}

/* Starts a tailer over one pattern (relative to the directory) into fx->seen. */
static int fixture_start_with(struct fixture *fx, const struct tail_settings *settings,
                              const struct tail_position *restore, size_t restore_count)
{
	char err[256];

	fx->tail = tail_new(fx->base, settings, collect, &fx->seen, err, sizeof(err));
	if (fx->tail == NULL) {
		fprintf(stderr, "tail_new: %s\n", err);
		return -1;
	}
	fx->seen.tail = fx->tail;
	if (tail_restore(fx->tail, restore, restore_count) == -1 || tail_start(fx->tail) == -1)
		return -1;
	return 0;
}

/* quick_settings over one pattern relative to the directory, for a test to change
 * before fixture_start_with. */
static struct tail_settings fixture_settings(struct fixture *fx, const char *pattern)
{
	fx->patterns[0] = in_dir(fx, pattern, fx->pattern);
	return quick_settings(fx->patterns, 1);
}

static int fixture_start(struct fixture *fx, const char *pattern,
                         const struct tail_position *restore, size_t restore_count)
{
	struct tail_settings settings = fixture_settings(fx, pattern);

	return fixture_start_with(fx, &settings, restore, restore_count);
}

/* A stop, as far as the tailer knows: everything it holds is released. */
static void fixture_stop(struct fixture *fx)
{
	tail_free(fx->tail);
	fx->tail = NULL;
	fx->seen.tail = NULL;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fixture_free(struct fixture *fx)
{
	fixture_stop(fx);
	seen_clear(&fx->seen);
	if (fx->base != NULL)
		event_base_free(fx->base);
	nftw(fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- driving the loop ----------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Turns the loop until done(arg) holds, within a generous bound (no test asserts
 * anything about time). */
static int run_until(struct event_base *base, int (*done)(void *), void *arg)
{
	int64_t give_up = now_ms() + 20000;

	while (!done(arg)) {
		if (now_ms() > give_up)
			return 0;
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(200);
	}
	return 1;
}

/* Turns the loop somewhat longer than the poll interval, so that a duplicate or a
 * line that must not come yet would show up. */
static void settle(struct event_base *base)
{
	int64_t until = now_ms() + 150;

	while (now_ms() < until) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(200);
	}
}

struct count_goal {
	const struct seen *seen;
	size_t want;
};

static int count_reached(void *arg)
{
	const struct count_goal *g = arg;
	return g->seen->count >= g->want;
}

static int wait_lines(struct fixture *fx, size_t want)
{
	struct count_goal goal = {&fx->seen, want};
	int ok = run_until(fx->base, count_reached, &goal);
	if (!ok)
		fprintf(stderr, "  gave up waiting: %zu lines seen, %zu wanted\n", fx->seen.count,
		        want);
	return ok;
}

static size_t followed_count(struct tail *t)
{
	struct tail_position *p;
	size_t n;

	tail_positions(t, &p, &n);
	tail_positions_free(p, n);
	return n;
}

struct followed_goal {
	struct tail *tail;
	size_t want;
};

static int followed_reached(void *arg)
{
	const struct followed_goal *g = arg;
	return followed_count(g->tail) == g->want;
}

static int wait_followed(struct fixture *fx, size_t want)
{
	struct followed_goal goal = {fx->tail, want};
	return run_until(fx->base, followed_reached, &goal);
}

/* ---- files ------------------------------------------------------------------- */

static void write_bytes(const char *path, const char *data, size_t len, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);

	if (fd == -1 || write(fd, data, len) != (ssize_t)len) {
		perror(path);
		abort();
	}
	close(fd);
}

static void put_file(const char *path, const char *text)
{
	write_bytes(path, text, strlen(text), O_TRUNC);
}

static void append_file(const char *path, const char *text)
{
	write_bytes(path, text, strlen(text), O_APPEND);
}

/* What copytruncate's copy step does. */
static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (in == -1 || out == -1)
		abort();
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n)
			abort();
	}
	close(in);
	close(out);
}

/* Descriptors of this process open on path (deleted or not). */
static int fds_open_on(const char *path)
{
	char link[PATH_MAX + 32], target[PATH_MAX + 32];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int count = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		ssize_t n;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		if ((n = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, path, strlen(path)) == 0)
			count++;
	}
	closedir(d);
	return count;
}

static void check_texts(const struct seen *s, size_t first, const char *const *want, size_t n)
{
	CHECK_INT(s->count, first + n);
	for (size_t i = 0; i < n && first + i < s->count; i++)
		CHECK_STR(s->lines[first + i].text, want[i]);
}

static const struct tail_file_stats *stats_for(struct tail *t, const char *path,
                                               struct tail_file_stats *all, size_t max)
{
	size_t n = tail_stats(t, all, max);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(all[i].path, path) == 0)
			return &all[i];
	}
	return NULL;
}

/* ---- appending and partial lines -------------------------------------------------- */

static void test_append_is_read_as_lines(void)
{
	struct fixture fx;
	char a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "one\ntwo\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	append_file(a, "three\n");
	CHECK(wait_lines(&fx, 3));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"one", "two", "three"}, 3);
	CHECK_STR(fx.seen.lines[2].path, a);
	CHECK_INT(fx.seen.lines[2].line_no, 3);
	CHECK_INT(tail_idle(fx.tail), 1);
	append_file(a, "four\n");
	CHECK_INT(tail_idle(fx.tail), 0);
	fixture_free(&fx);
}

static void test_partial_last_line_waits_for_its_newline(void)
{
	struct fixture fx;
	struct tail_position *p;
	size_t n;
	char a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "whole\npart");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	settle(fx.base);
	CHECK_INT(fx.seen.count, 1);
	tail_positions(fx.tail, &p, &n);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(p[0].offset, 6); /* the partial line is not consumed */
		CHECK_INT(p[0].line_no, 1);
	}
	tail_positions_free(p, n);
	append_file(a, "ial\n");
	CHECK(wait_lines(&fx, 2));
	check_texts(&fx.seen, 0, (const char *[]){"whole", "partial"}, 2);
	CHECK_INT(fx.seen.lines[1].line_no, 2);
	fixture_free(&fx);
}

/* ---- rotation ---------------------------------------------------------------- */

/* A read budget of a few bytes makes the old file take many loop turns: the new
 * one, which has data at once, must still wait for it. */
static void test_rename_create_rotation_with_writes_just_before_and_after(void)
{
	struct fixture fx;
	struct tail_file_stats all[4];
	const struct tail_file_stats *st;
	char a[PATH_MAX], a1[PATH_MAX];
	struct tail_settings settings;

	if (fixture_init(&fx) == -1)
		return;
	settings = fixture_settings(&fx, "*.log");
	settings.read_budget_bytes = 4;
	put_file(in_dir(&fx, "a.log", a), "L1\nL2\n");
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	append_file(a, "L3\nL4\nL5\nL6\nL7\n");
	CHECK(rename(a, in_dir(&fx, "a.log.1", a1)) == 0);
	put_file(a, "N1\nN2\n");
	CHECK(wait_lines(&fx, 9));
	CHECK(wait_followed(&fx, 1));
	settle(fx.base);
	check_texts(&fx.seen, 0,
	            (const char *[]){"L1", "L2", "L3", "L4", "L5", "L6", "L7", "N1", "N2"}, 9);
	CHECK_INT(fx.seen.lines[7].line_no, 1);
	CHECK_INT(fds_open_on(a1), 0);
	st = stats_for(fx.tail, a, all, 4);
	CHECK(st != NULL);
	if (st != NULL) {
		CHECK_INT(st->rotations, 1);
		CHECK_INT(st->lines, 9);
		CHECK_INT(st->bytes, 27);
	}
	fixture_free(&fx);
}

/* A writer that keeps its descriptor after the rename: the old file is followed
 * until it has been quiet for rotate_wait, then let go. */
static void test_renamed_file_without_successor_is_followed_until_quiet(void)
{
	struct fixture fx;
	char a[PATH_MAX], a1[PATH_MAX];
	struct tail_settings settings;
	int fd;

	if (fixture_init(&fx) == -1)
		return;
	/* Long enough that no stall between the writes below can pass for quiet. */
	settings = fixture_settings(&fx, "*.log");
	settings.rotate_wait_ms = 1000;
	put_file(in_dir(&fx, "a.log", a), "L1\n");
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	fd = open(a, O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(rename(a, in_dir(&fx, "a.log.1", a1)) == 0);
	CHECK(write(fd, "L2\n", 3) == 3);
	CHECK(wait_lines(&fx, 2));
	CHECK(write(fd, "L3\n", 3) == 3);
	CHECK(wait_lines(&fx, 3));
	CHECK(wait_followed(&fx, 0));
	close(fd);
	put_file(a, "N1\n");
	CHECK(wait_lines(&fx, 4));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L1", "L2", "L3", "N1"}, 4);
	fixture_free(&fx);
}

static void test_copytruncate_reads_unread_lines_from_the_copy(void)
{
	struct fixture fx;
	char a[PATH_MAX], a1[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "L1\nL2\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	append_file(a, "L3\n");
	copy_file(a, in_dir(&fx, "a.log.1", a1));
	CHECK(truncate(a, 0) == 0);
	append_file(a, "N1\n");
	CHECK(wait_lines(&fx, 4));
	CHECK(wait_followed(&fx, 1));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L1", "L2", "L3", "N1"}, 4);
	CHECK_INT(fds_open_on(a1), 0);
	fixture_free(&fx);
}

/* The file regrows past the old offset before the tailer looks again: its size
 * alone would hide the truncation; the bytes before the offset do not. */
static void test_copytruncate_regrown_past_old_offset_while_paused(void)
{
	struct fixture fx;
	struct tail_file_stats all[4];
	const struct tail_file_stats *st;
	char a[PATH_MAX], a1[PATH_MAX];
	struct tail_settings settings;

	if (fixture_init(&fx) == -1)
		return;
	/* The backstops an hour away: the head check of the poll must not be what
	 * notices; the bytes before the offset, checked at every read, must. */
	settings = fixture_settings(&fx, "*.log");
	settings.poll_interval_ms = settings.rescan_interval_ms = 3600 * 1000;
	put_file(in_dir(&fx, "a.log", a), "L1\nL2\n");
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	tail_pause(fx.tail);
	append_file(a, "L3\nL4\n");
	copy_file(a, in_dir(&fx, "a.log.1", a1));
	CHECK(truncate(a, 0) == 0);
	append_file(a, "N1-longer\nN2-longer\nN3\n");
	settle(fx.base);
	CHECK_INT(fx.seen.count, 2);
	tail_resume(fx.tail);
	CHECK(wait_lines(&fx, 7));
	settle(fx.base);
	check_texts(&fx.seen, 0,
	            (const char *[]){"L1", "L2", "L3", "L4", "N1-longer", "N2-longer", "N3"}, 7);
	CHECK_INT(fx.seen.lines[4].line_no, 1);
	st = stats_for(fx.tail, a, all, 4);
	if (st != NULL)
		CHECK_INT(st->truncations, 1);
	fixture_free(&fx);
}

/* Rewritten in place to the same length: nothing to read by size, yet different. */
static void test_same_length_rewrite_restarts_at_zero(void)
{
	struct fixture fx;
	char a[PATH_MAX];
	int fd;

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "aaaa\nbbbb\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	fd = open(a, O_WRONLY | O_CLOEXEC);
	CHECK(pwrite(fd, "cccc\ndddd\n", 10, 0) == 10);
	close(fd);
	CHECK(wait_lines(&fx, 4));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"aaaa", "bbbb", "cccc", "dddd"}, 4);
	CHECK_INT(fx.seen.lines[2].line_no, 1);
	fixture_free(&fx);
}

/* Only the last line rewritten, far past the head: the head still matches, the
 * bytes before the offset do not. With the poll an hour away, the write's inotify
 * event and the check before the read are all there is. */
static void test_same_length_rewrite_past_the_head_restarts_at_zero(void)
{
	struct fixture fx;
	char a[PATH_MAX], text[2 * TAIL_HEAD_BYTES + 16];
	struct tail_settings settings;
	size_t len;
	int fd;

	if (fixture_init(&fx) == -1)
		return;
	settings = fixture_settings(&fx, "*.log");
	settings.poll_interval_ms = settings.rescan_interval_ms = 3600 * 1000;
	settings.max_line_bytes = sizeof(text);
	memset(text, 'h', 2 * TAIL_HEAD_BYTES);
	text[2 * TAIL_HEAD_BYTES] = '\0';
	strcat(text, "\nlast\n");
	len = strlen(text);
	put_file(in_dir(&fx, "a.log", a), text);
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	fd = open(a, O_WRONLY | O_CLOEXEC);
	CHECK(pwrite(fd, "LAST", 4, (off_t)len - 5) == 4);
	close(fd);
	CHECK(wait_lines(&fx, 4));
	settle(fx.base);
	CHECK_INT(fx.seen.count, 4);
	if (fx.seen.count == 4) {
		CHECK_STR(fx.seen.lines[1].text, "last");
		CHECK_INT(fx.seen.lines[2].line_no, 1);
		CHECK_STR(fx.seen.lines[3].text, "LAST");
	}
	fixture_free(&fx);
}

/* ---- restarts ----------------------------------------------------------------- */

static int take_positions(struct fixture *fx, struct tail_position **p, size_t *n)
{
	tail_positions(fx->tail, p, n);
	fixture_stop(fx);
	seen_clear(&fx->seen);
	return 0;
}

static void test_positions_round_trip(void)
{
	struct fixture fx;
	struct tail_position *p, *q;
	size_t n, m;
	char a[PATH_MAX], b[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "A1\nA2\n");
	put_file(in_dir(&fx, "b.log", b), "B1\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 3));
	CHECK(take_positions(&fx, &p, &n) == 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(p[0].path, a);
		CHECK_INT(p[0].offset, 6);
		CHECK_INT(p[0].line_no, 2);
		CHECK_INT(p[0].head_len, 6);
		CHECK_INT(p[0].before_len, 6);
		CHECK_INT(p[0].in_overlong, 0);
		CHECK_STR(p[1].path, b);
		CHECK_INT(p[1].offset, 3);
	}
	CHECK(fixture_start(&fx, "*.log", p, n) == 0);
	settle(fx.base);
	CHECK_INT(fx.seen.count, 0);
	append_file(a, "A3\n");
	append_file(b, "B2\n");
	CHECK(wait_lines(&fx, 2));
	settle(fx.base);
	CHECK_INT(fx.seen.count, 2);
	for (size_t i = 0; i < fx.seen.count; i++) {
		const struct seen_line *l = &fx.seen.lines[i];
		CHECK_INT(l->line_no, strcmp(l->path, a) == 0 ? 3 : 2);
	}
	tail_positions(fx.tail, &q, &m);
	CHECK_INT(m, 2);
	if (m == 2 && n == 2) {
		CHECK_INT(q[0].offset, 9);
		CHECK_INT(q[0].ino, p[0].ino);
		CHECK_INT(q[1].offset, 6);
	}
	tail_positions_free(q, m);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

static void test_partial_line_at_crash_is_read_whole_after_restart(void)
{
	struct fixture fx;
	struct tail_position *p;
	size_t n;
	char a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "L1\npar");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	settle(fx.base);
	CHECK(take_positions(&fx, &p, &n) == 0);
	CHECK(n == 1 && p[0].offset == 3);
	append_file(a, "tial\nL2\n");
	CHECK(fixture_start(&fx, "*.log", p, n) == 0);
	CHECK(wait_lines(&fx, 2));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"partial", "L2"}, 2);
	CHECK_INT(fx.seen.lines[0].line_no, 2);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

static void test_positions_taken_inside_the_callback_end_at_that_line(void)
{
	struct fixture fx;
	char a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "a\nbb\nccc\nunfinished");
	fx.seen.probe_positions = 1;
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 3));
	CHECK_INT(fx.seen.probed_offsets[0], 2);
	CHECK_INT(fx.seen.probed_offsets[1], 5);
	CHECK_INT(fx.seen.probed_offsets[2], 9);
	fixture_free(&fx);
}

static void test_rotation_while_down_reads_exactly_the_missing_lines(void)
{
	struct fixture fx;
	struct tail_position *p;
	size_t n;
	char a[PATH_MAX], a1[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "L1\nL2\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	CHECK(take_positions(&fx, &p, &n) == 0);
	append_file(a, "L3\n");
	CHECK(rename(a, in_dir(&fx, "a.log.1", a1)) == 0);
	put_file(a, "N1\n");
	CHECK(fixture_start(&fx, "*.log", p, n) == 0);
	CHECK(wait_lines(&fx, 2));
	CHECK(wait_followed(&fx, 1));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "N1"}, 2);
	CHECK_INT(fx.seen.lines[0].line_no, 3);
	CHECK_INT(fx.seen.lines[1].line_no, 1);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

static void test_copytruncate_while_down_reads_the_rest_from_the_copy(void)
{
	struct fixture fx;
	struct tail_position *p;
	size_t n;
	char a[PATH_MAX], a1[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "L1\nL2\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	CHECK(take_positions(&fx, &p, &n) == 0);
	append_file(a, "L3\n");
	copy_file(a, in_dir(&fx, "a.log.1", a1));
	CHECK(truncate(a, 0) == 0);
	append_file(a, "N1\n");
	CHECK(fixture_start(&fx, "*.log", p, n) == 0);
	CHECK(wait_lines(&fx, 2));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "N1"}, 2);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* A file checkpointed before anything was read has empty fingerprints; they must
 * not make whatever now sits at its path pass for it. */
static void test_unread_file_rotated_while_down_is_still_read(void)
{
	struct fixture fx;
	struct tail_position *p;
	size_t n;
	char a[PATH_MAX], a1[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	settle(fx.base);
	CHECK(take_positions(&fx, &p, &n) == 0);
	CHECK(n == 1 && p[0].offset == 0);
	append_file(a, "L1\n");
	CHECK(rename(a, in_dir(&fx, "a.log.1", a1)) == 0);
	put_file(a, "N1\n");
	CHECK(fixture_start(&fx, "*.log", p, n) == 0);
	CHECK(wait_lines(&fx, 2));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L1", "N1"}, 2);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* A checkpoint taken while a renamed file is still being read holds two positions
 * under one path; after a restart both resume, the old file first. */
static void test_checkpoint_during_rotation_resumes_both_files_in_order(void)
{
	struct fixture fx;
	struct tail_position *p;
	size_t n;
	char a[PATH_MAX], a1[PATH_MAX];
	struct tail_settings settings;
	int fd;

	if (fixture_init(&fx) == -1)
		return;
	settings = fixture_settings(&fx, "*.log");
	settings.rotate_wait_ms = 3600 * 1000;
	put_file(in_dir(&fx, "a.log", a), "L1\n");
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	fd = open(a, O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(rename(a, in_dir(&fx, "a.log.1", a1)) == 0);
	put_file(a, "");
	CHECK(write(fd, "L2\n", 3) == 3);
	CHECK(wait_lines(&fx, 2));
	CHECK(wait_followed(&fx, 2));
	CHECK(take_positions(&fx, &p, &n) == 0);
	CHECK(n == 2 && p[0].offset == 6 && p[1].offset == 0);
	CHECK(n == 2 && strcmp(p[0].path, p[1].path) == 0 && p[0].ino != p[1].ino);
	CHECK(write(fd, "L3\n", 3) == 3);
	close(fd);
	append_file(a, "N1\n");
	CHECK(fixture_start_with(&fx, &settings, p, n) == 0);
	CHECK(wait_lines(&fx, 2));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "N1"}, 2);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* The saved inode names a different file now. Whether the filesystem hands the
 * old inode number to the new file is up to it, so the checkpoint is made to
 * carry the new file's inode: exactly the situation of a reused inode. */
static void test_inode_reuse_with_a_saved_checkpoint_starts_at_zero(void)
{
	struct fixture fx;
	struct tail_position *p;
	struct stat st;
	size_t n;
	char a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "old1\nold2\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	CHECK(take_positions(&fx, &p, &n) == 0);
	CHECK(unlink(a) == 0);
	put_file(a, "new1\nnew2\nnew3\n");
	CHECK(stat(a, &st) == 0);
	if (n == 1) {
		p[0].dev = (uint64_t)st.st_dev;
		p[0].ino = (uint64_t)st.st_ino;
	}
	CHECK(fixture_start(&fx, "*.log", p, n) == 0);
	CHECK(wait_lines(&fx, 3));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"new1", "new2", "new3"}, 3);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* ---- rotated while stopped (issue 8): every rotation logrotate can make while the
 * daemon is down, driven from positions a first tailer saved ---------------------- */

/* A first tailer reads a.log ("L1\nL2\n") and stops; *p holds its positions. */
static int stopped_after_two_lines(struct fixture *fx, struct tail_position **p, size_t *n)
{
	char a[PATH_MAX];

	if (fixture_init(fx) == -1)
		return -1;
	put_file(in_dir(fx, "a.log", a), "L1\nL2\n");
	if (fixture_start(fx, "*.log", NULL, 0) == -1 || !wait_lines(fx, 2))
		return -1;
	return take_positions(fx, p, n);
}

/* logrotate's rename: NAME.k becomes NAME.k+1 from the oldest down, NAME becomes
 * NAME.1; nothing is created (the writer makes its new file). */
static void rotate_rename(struct fixture *fx, int generations)
{
	char from[PATH_MAX], to[PATH_MAX], name[64];

	for (int k = generations; k >= 1; k--) {
		snprintf(name, sizeof(name), "a.log.%d", k);
		in_dir(fx, name, from);
		snprintf(name, sizeof(name), "a.log.%d", k + 1);
		if (access(from, F_OK) == 0)
			CHECK(rename(from, in_dir(fx, name, to)) == 0);
	}
	CHECK(rename(in_dir(fx, "a.log", from), in_dir(fx, "a.log.1", to)) == 0);
}

/* logrotate's copytruncate: the older generations move up, a.log is copied to
 * a.log.1 and truncated in place. */
static void rotate_copytruncate(struct fixture *fx, int generations)
{
	char from[PATH_MAX], to[PATH_MAX], name[64];

	for (int k = generations; k >= 1; k--) {
		snprintf(name, sizeof(name), "a.log.%d", k);
		in_dir(fx, name, from);
		snprintf(name, sizeof(name), "a.log.%d", k + 1);
		if (access(from, F_OK) == 0)
			CHECK(rename(from, in_dir(fx, name, to)) == 0);
	}
	copy_file(in_dir(fx, "a.log", from), in_dir(fx, "a.log.1", to));
	CHECK(truncate(from, 0) == 0);
}

/* Restarts from p, waits for want lines and for every rotated file to be let go. */
static void restart_and_read(struct fixture *fx, struct tail_position *p, size_t n, size_t want)
{
	CHECK(fixture_start(fx, "*.log", p, n) == 0);
	CHECK(wait_lines(fx, want));
	CHECK(wait_followed(fx, 1));
	settle(fx->base);
}

static void test_two_renames_while_stopped_read_the_middle_file_whole(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	char a[PATH_MAX];

	CHECK(stopped_after_two_lines(&fx, &p, &n) == 0);
	in_dir(&fx, "a.log", a);
	append_file(a, "L3\n");
	rotate_rename(&fx, 0);
	put_file(a, "M1\nM2\nM3\n");
	rotate_rename(&fx, 1);
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 5);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "M1", "M2", "M3", "N1"}, 5);
	if (fx.seen.count == 5) {
		CHECK_INT(fx.seen.lines[0].line_no, 3);
		CHECK_INT(fx.seen.lines[1].line_no, 1);
		CHECK_INT(fx.seen.lines[4].line_no, 1);
	}
	CHECK_INT(tail_problems(fx.tail, NULL), 0);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

static void test_three_renames_while_stopped_read_in_the_order_written(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	char a[PATH_MAX];

	CHECK(stopped_after_two_lines(&fx, &p, &n) == 0);
	in_dir(&fx, "a.log", a);
	append_file(a, "L3\n");
	rotate_rename(&fx, 0);
	put_file(a, "M1\n");
	rotate_rename(&fx, 1);
	put_file(a, "O1\nO2\n");
	rotate_rename(&fx, 2);
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 5);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "M1", "O1", "O2", "N1"}, 5);
	CHECK_INT(tail_problems(fx.tail, NULL), 0);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* The second measurement: the renamed file, then the copy of its successor,
 * then what was written after the truncation. */
static void test_rename_then_copytruncate_while_stopped(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	char a[PATH_MAX];

	CHECK(stopped_after_two_lines(&fx, &p, &n) == 0);
	in_dir(&fx, "a.log", a);
	append_file(a, "L3\n");
	rotate_rename(&fx, 0);
	put_file(a, "M1\nM2\n");
	rotate_copytruncate(&fx, 1);
	append_file(a, "N1\n");
	restart_and_read(&fx, p, n, 4);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "M1", "M2", "N1"}, 4);
	CHECK_INT(tail_problems(fx.tail, NULL), 0);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* The saved file's rest is in the copy (a.log.2, found by its fingerprints); the
 * original, truncated and written again, was renamed to a.log.1 and is read whole. */
static void test_copytruncate_then_rename_while_stopped(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	char a[PATH_MAX];

	CHECK(stopped_after_two_lines(&fx, &p, &n) == 0);
	in_dir(&fx, "a.log", a);
	append_file(a, "L3\n");
	rotate_copytruncate(&fx, 0);
	append_file(a, "M1\nM2\n");
	rotate_rename(&fx, 1);
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 4);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "M1", "M2", "N1"}, 4);
	CHECK_INT(tail_problems(fx.tail, NULL), 0);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* Positions saved before any line was read (offset 0: what live mode saves right
 * after it starts) still find their file by inode, and the files after it. */
static void test_position_saved_before_reading_finds_rename_then_copytruncate(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	char a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "L1\nL2\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(take_positions(&fx, &p, &n) == 0);
	CHECK(n == 1 && p[0].offset == 0);
	rotate_rename(&fx, 0);
	put_file(a, "M1\n");
	rotate_copytruncate(&fx, 1);
	append_file(a, "N1\n");
	restart_and_read(&fx, p, n, 4);
	check_texts(&fx.seen, 0, (const char *[]){"L1", "L2", "M1", "N1"}, 4);
	CHECK_INT(tail_problems(fx.tail, NULL), 0);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

static void test_deleted_middle_file_is_logged_and_counted(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	const char *reason = NULL;
	char a[PATH_MAX], a1[PATH_MAX];

	CHECK(stopped_after_two_lines(&fx, &p, &n) == 0);
	in_dir(&fx, "a.log", a);
	append_file(a, "L3\n");
	rotate_rename(&fx, 0);
	put_file(a, "M1\n");
	rotate_rename(&fx, 1);
	CHECK(unlink(in_dir(&fx, "a.log.1", a1)) == 0);
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 2);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "N1"}, 2);
	CHECK_INT(tail_problems(fx.tail, &reason), 1);
	CHECK(reason != NULL && strstr(reason, "missing=") != NULL &&
	      strstr(reason, "/a.log.1") != NULL);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

static void test_compressed_middle_file_is_logged_and_counted(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	const char *reason = NULL;
	char a[PATH_MAX], a1[PATH_MAX], gz[PATH_MAX];

	CHECK(stopped_after_two_lines(&fx, &p, &n) == 0);
	in_dir(&fx, "a.log", a);
	append_file(a, "L3\n");
	rotate_rename(&fx, 0);
	put_file(a, "M1\n");
	rotate_rename(&fx, 1);
	/* what gzip leaves: a.log.1.gz in place of a.log.1 (10 bytes here) */
	write_bytes(in_dir(&fx, "a.log.1.gz", gz), "\x1f\x8b\x08\0\0\0\0\0\0\x03", 10, O_TRUNC);
	CHECK(unlink(in_dir(&fx, "a.log.1", a1)) == 0);
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 2);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "N1"}, 2);
	CHECK_INT(tail_problems(fx.tail, &reason), 1);
	CHECK(reason != NULL && strstr(reason, "compressed") != NULL &&
	      strstr(reason, "a.log.1.gz") != NULL && strstr(reason, "size=10") != NULL);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* A compressed file under a name without a compression suffix is recognised by its
 * magic number and not read as lines. */
static void test_compressed_content_without_its_suffix_is_not_read(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	char a[PATH_MAX], a1[PATH_MAX];

	CHECK(stopped_after_two_lines(&fx, &p, &n) == 0);
	in_dir(&fx, "a.log", a);
	rotate_rename(&fx, 0);
	put_file(a, "M1\n");
	rotate_rename(&fx, 1);
	write_bytes(in_dir(&fx, "a.log.1", a1), "\x28\xb5\x2f\xfd junk\n", 10, O_TRUNC);
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 1);
	check_texts(&fx.seen, 0, (const char *[]){"N1"}, 1);
	CHECK_INT(tail_problems(fx.tail, NULL), 1);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* Older generations, compressed long ago (and with newer mtimes than the saved file,
 * as compression leaves them), were read before: they are neither read nor
 * reported. */
static void test_older_compressed_generations_are_left_alone(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	char a[PATH_MAX], old[PATH_MAX], gz[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log.1", old), "O1\n");
	put_file(in_dir(&fx, "a.log", a), "L1\nL2\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	CHECK(take_positions(&fx, &p, &n) == 0);
	append_file(a, "L3\n");
	CHECK(rename(old, in_dir(&fx, "a.log.2.gz", gz)) == 0);
	rotate_rename(&fx, 0);
	CHECK(utimensat(AT_FDCWD, gz, NULL, 0) == 0); /* compressed just now */
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 2);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "N1"}, 2);
	CHECK_INT(tail_problems(fx.tail, NULL), 0);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* logrotate's dateext: the dates in the names give the order, whatever the mtimes. */
static void test_dateext_names_are_read_in_date_order(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	char a[PATH_MAX], d1[PATH_MAX], d2[PATH_MAX];
	struct timespec times[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};

	CHECK(stopped_after_two_lines(&fx, &p, &n) == 0);
	in_dir(&fx, "a.log", a);
	append_file(a, "L3\n");
	CHECK(rename(a, in_dir(&fx, "a.log-20240101", d1)) == 0);
	put_file(a, "M1\n");
	CHECK(rename(a, in_dir(&fx, "a.log-20240102", d2)) == 0);
	CHECK(utimensat(AT_FDCWD, d2, times, 0) == 0); /* an mtime older than d1's */
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 3);
	check_texts(&fx.seen, 0, (const char *[]){"L3", "M1", "N1"}, 3);
	CHECK_INT(tail_problems(fx.tail, NULL), 0);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* A rotated file that has the saved inode but other bytes is another file: it is
 * not resumed inside, and since the saved file is gone nothing after it can be
 * ordered; the loss is reported, the rotated file named, and none is read. */
static void test_inode_reuse_among_rotated_names_is_not_resumed(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	struct stat st;
	const char *reason = NULL;
	char a[PATH_MAX], a1[PATH_MAX];

	CHECK(stopped_after_two_lines(&fx, &p, &n) == 0);
	in_dir(&fx, "a.log", a);
	CHECK(unlink(a) == 0);
	put_file(in_dir(&fx, "a.log.1", a1), "other1\nother2\nother3\n");
	CHECK(stat(a1, &st) == 0);
	if (n == 1) {
		p[0].dev = (uint64_t)st.st_dev;
		p[0].ino = (uint64_t)st.st_ino;
	}
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 1);
	check_texts(&fx.seen, 0, (const char *[]){"N1"}, 1);
	CHECK_INT(tail_problems(fx.tail, &reason), 1);
	CHECK(reason != NULL && strstr(reason, "a.log.1 (21 bytes)") != NULL);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* A checkpoint taken during a rotation holds the renamed file and its successor;
 * both rotated again while stopped: each resumes at its offset, nothing is read
 * twice, and the file written after them comes last. */
static void test_checkpoint_during_rotation_then_two_renames_while_stopped(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	struct tail_settings settings;
	char a[PATH_MAX], a1[PATH_MAX];
	int fd;

	if (fixture_init(&fx) == -1)
		return;
	settings = fixture_settings(&fx, "*.log");
	settings.rotate_wait_ms = 3600 * 1000;
	put_file(in_dir(&fx, "a.log", a), "L1\n");
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	fd = open(a, O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(rename(a, in_dir(&fx, "a.log.1", a1)) == 0);
	put_file(a, "");
	CHECK(wait_followed(&fx, 2));
	CHECK(take_positions(&fx, &p, &n) == 0);
	CHECK(n == 2 && p[0].offset == 3 && p[1].offset == 0);
	CHECK(write(fd, "L2\n", 3) == 3);
	close(fd);
	append_file(a, "M1\n");
	rotate_rename(&fx, 1);
	put_file(a, "O1\n");
	rotate_rename(&fx, 2);
	put_file(a, "N1\n");
	restart_and_read(&fx, p, n, 4);
	check_texts(&fx.seen, 0, (const char *[]){"L2", "M1", "O1", "N1"}, 4);
	CHECK_INT(tail_problems(fx.tail, NULL), 0);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

static void test_rotated_names_setting_is_checked_and_used(void)
{
	struct fixture fx;
	struct tail_position *p = NULL;
	size_t n = 0;
	struct tail_settings settings;
	char a[PATH_MAX], r1[PATH_MAX], r2[PATH_MAX], err[256] = "";

	if (fixture_init(&fx) == -1)
		return;
	settings = fixture_settings(&fx, "*.log");
	settings.rotated_names = "old-*";
	CHECK(tail_new(fx.base, &settings, collect, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "neither %f nor %b") != NULL);
	settings.rotated_names = "%f.%d";
	CHECK(tail_new(fx.base, &settings, collect, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "unknown %d") != NULL);
	/* logrotate's `extension .log`: a.log becomes a.1.log */
	settings.rotated_names = "  %b.[0-9]*%e*  ";
	put_file(in_dir(&fx, "a.log", a), "L1\n");
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	CHECK(take_positions(&fx, &p, &n) == 0);
	append_file(a, "L2\n");
	CHECK(rename(a, in_dir(&fx, "a.1.log", r1)) == 0);
	put_file(a, "M1\n");
	CHECK(rename(r1, in_dir(&fx, "a.2.log", r2)) == 0);
	CHECK(rename(a, r1) == 0);
	put_file(a, "N1\n");
	/* the input pattern also matches the rotated names: read once, then warned */
	settings.patterns = fx.patterns;
	fx.patterns[0] = in_dir(&fx, "a.log", fx.pattern);
	CHECK(fixture_start_with(&fx, &settings, p, n) == 0);
	CHECK(wait_lines(&fx, 3));
	CHECK(wait_followed(&fx, 1));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L2", "M1", "N1"}, 3);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

/* ---- deletion, directories, new files ------------------------------------------ */

static void test_deleted_file_is_read_to_its_end_and_let_go(void)
{
	struct fixture fx;
	char a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "L1\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	CHECK_INT(fds_open_on(a), 1);
	append_file(a, "L2\n");
	CHECK(unlink(a) == 0);
	CHECK(wait_lines(&fx, 2));
	CHECK(wait_followed(&fx, 0));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L1", "L2"}, 2);
	CHECK_INT(fds_open_on(a), 0);
	fixture_free(&fx);
}

static void test_directory_removed_and_recreated(void)
{
	struct fixture fx;
	char sub[PATH_MAX], a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	CHECK(mkdir(in_dir(&fx, "sub", sub), 0755) == 0);
	put_file(in_dir(&fx, "sub/a.log", a), "L1\n");
	CHECK(fixture_start(&fx, "sub/*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	CHECK(unlink(a) == 0);
	CHECK(rmdir(sub) == 0);
	CHECK(wait_followed(&fx, 0));
	CHECK(mkdir(sub, 0755) == 0);
	put_file(a, "M1\n");
	CHECK(wait_lines(&fx, 2));
	append_file(a, "M2\n");
	CHECK(wait_lines(&fx, 3));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L1", "M1", "M2"}, 3);
	CHECK_INT(fx.seen.lines[1].line_no, 1);
	fixture_free(&fx);
}

static void test_new_file_matching_the_glob_is_read_from_its_start(void)
{
	struct fixture fx;
	char a[PATH_MAX], b[PATH_MAX], other[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "A1\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	put_file(in_dir(&fx, "b.log", b), "B1\nB2\n");
	put_file(in_dir(&fx, "b.txt", other), "not followed\n");
	CHECK(wait_lines(&fx, 3));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"A1", "B1", "B2"}, 3);
	if (fx.seen.count == 3)
		CHECK_STR(fx.seen.lines[1].path, b);
	fixture_free(&fx);
}

struct followed {
	char path[4][PATH_MAX];
	uint32_t rank[4];
	size_t lines_when[4]; /* lines seen when it was announced */
	size_t count;
	struct seen *seen;
};

static void note_follow(void *ctx, const char *path, uint32_t rank)
{
	struct followed *f = ctx;

	if (f->count < 4) {
		snprintf(f->path[f->count], PATH_MAX, "%s", path);
		f->rank[f->count] = rank;
		f->lines_when[f->count] = f->seen->count;
		f->count++;
	}
}

/* The merge's view of the inputs (docs/tailing.md, Merging): every name is announced
 * with its rank before its first line, including one that appears later; the rank
 * is the first pattern that matches; tail_at_end says whether a name has bytes left. */
static void test_follow_announces_names_with_their_rank_before_their_lines(void)
{
	struct fixture fx;
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], first[PATH_MAX], rest[PATH_MAX];
	const char *patterns[2];
	struct tail_settings settings;
	struct followed f = {.count = 0};
	char err[256];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "A1\nA2\n");
	put_file(in_dir(&fx, "b.log", b), "B1\n");
	patterns[0] = in_dir(&fx, "b.log", first);
	patterns[1] = in_dir(&fx, "*.log", rest);
	settings = quick_settings(patterns, 2);
	f.seen = &fx.seen;
	fx.tail = tail_new(fx.base, &settings, collect, &fx.seen, err, sizeof(err));
	CHECK(fx.tail != NULL);
	if (fx.tail == NULL)
		goto end;
	tail_set_follow(fx.tail, note_follow, &f);
	CHECK_INT(tail_rank(fx.tail, b), 0);
	CHECK_INT(tail_rank(fx.tail, a), 1);
	CHECK_INT(tail_rank(fx.tail, "/elsewhere/x.txt"), 2);
	CHECK(tail_start(fx.tail) == 0);
	CHECK_INT(f.count, 2); /* both announced at start, before any line */
	CHECK_INT(f.lines_when[0] + f.lines_when[1], 0);
	CHECK_INT(tail_at_end(fx.tail, a), 0); /* not read yet: a backlog */
	CHECK(wait_lines(&fx, 3));
	settle(fx.base);
	CHECK_INT(tail_at_end(fx.tail, a), 1);
	CHECK_INT(tail_at_end(fx.tail, b), 1);
	CHECK_INT(tail_at_end(fx.tail, "/not/followed"), 1);
	append_file(a, "A3\n");
	CHECK_INT(tail_at_end(fx.tail, a), 0);
	CHECK_INT(tail_at_end(fx.tail, b), 1);
	put_file(in_dir(&fx, "c.log", c), "C1\n");
	CHECK(wait_lines(&fx, 5));
	CHECK_INT(f.count, 3);
	if (f.count == 3) {
		CHECK_STR(f.path[2], c);
		CHECK_INT(f.rank[2], 1);
		CHECK(f.lines_when[2] < 5); /* before C1 */
	}
end:
	fixture_free(&fx);
}

static void test_fifo_matching_the_glob_is_skipped_without_blocking(void)
{
	struct fixture fx;
	char a[PATH_MAX], fifo[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	CHECK(mkfifo(in_dir(&fx, "pipe.log", fifo), 0644) == 0);
	put_file(in_dir(&fx, "a.log", a), "A1\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	settle(fx.base);
	CHECK_INT(fx.seen.count, 1);
	CHECK_INT(followed_count(fx.tail), 1);
	fixture_free(&fx);
}

/* What tail logs to stderr while fn runs, into out (NUL-terminated, cut to size). */
static void capture_stderr(void (*fn)(void *), void *arg, char *out, size_t size)
{
	char path[] = "/tmp/test_tail_stderr.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;

	out[0] = '\0';
	if (fd == -1 || saved == -1 || dup2(fd, STDERR_FILENO) == -1) {
		perror("capture_stderr");
		return;
	}
	fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

struct start_run {
	struct fixture *fx;
	const char *pattern;
	size_t lines; /* to wait for */
};

/* Starts the fixture's tailer over the pattern and turns the loop through several
 * rescans (every 50 ms) after its lines arrived. */
static void start_and_rescan(void *arg)
{
	struct start_run *run = arg;
	int64_t until;

	CHECK(fixture_start(run->fx, run->pattern, NULL, 0) == 0);
	CHECK(run->lines == 0 || wait_lines(run->fx, run->lines));
	for (until = now_ms() + 400; now_ms() < until; usleep(200))
		event_base_loop(run->fx->base, EVLOOP_NONBLOCK);
}

/* A directory, a symlink loop and a dangling symlink that a pattern matches cannot be
 * followed: each is warned about once with its reason (however many rescans see it)
 * and counted by tail_skipped. They used to be passed over without a word. */
static void test_directory_symlink_loop_and_dangling_symlink_are_warned_once(void)
{
	struct fixture fx;
	char a[PATH_MAX], path[PATH_MAX], log[8192], want[PATH_MAX + 128];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "A1\n");
	CHECK(mkdir(in_dir(&fx, "shop1.log", path), 0755) == 0);
	CHECK(symlink("loop2.log", in_dir(&fx, "loop1.log", path)) == 0);
	CHECK(symlink("loop1.log", in_dir(&fx, "loop2.log", path)) == 0);
	CHECK(symlink("nowhere.jsonl", in_dir(&fx, "gone.log", path)) == 0);
	capture_stderr(start_and_rescan, &(struct start_run){&fx, "*.log", 1}, log, sizeof(log));
	CHECK_INT(fx.seen.count, 1);
	CHECK_INT(followed_count(fx.tail), 1);
	CHECK_INT(tail_skipped(fx.tail), 4);
	snprintf(want, sizeof(want),
	         "skipped file=%s/shop1.log reason=a directory (to follow the files in it, name "
	         "them: DIR/*.jsonl)\n",
	         fx.dir);
	CHECK_INT(count_of(log, want), 1);
	snprintf(want, sizeof(want),
	         "skipped file=%s/loop1.log reason=symlink loop (too many levels of symbolic "
	         "links)\n",
	         fx.dir);
	CHECK_INT(count_of(log, want), 1);
	snprintf(want, sizeof(want), "skipped file=%s/loop2.log reason=symlink loop", fx.dir);
	CHECK_INT(count_of(log, want), 1);
	snprintf(want, sizeof(want),
	         "skipped file=%s/gone.log reason=dangling symlink (its target does not exist)\n",
	         fx.dir);
	CHECK_INT(count_of(log, want), 1);
	CHECK_INT(count_of(log, "skipped file="), 4);
	if (count_of(log, "skipped file=") != 4)
		fprintf(stderr, "%s", log);
	fixture_free(&fx);
}

/* A name the pattern gives literally, not a glob, that is a directory: the usual
 * mistake (`input = /var/log/cs`). */
static void test_input_naming_a_directory_is_warned(void)
{
	struct fixture fx;
	char dir[PATH_MAX], log[4096], want[PATH_MAX + 128];

	if (fixture_init(&fx) == -1)
		return;
	CHECK(mkdir(in_dir(&fx, "cs", dir), 0755) == 0);
	put_file(in_dir(&fx, "cs/a.log", want), "A1\n");
	capture_stderr(start_and_rescan, &(struct start_run){&fx, "cs", 0}, log, sizeof(log));
	CHECK_INT(followed_count(fx.tail), 0);
	CHECK_INT(tail_skipped(fx.tail), 1);
	snprintf(want, sizeof(want), "skipped file=%s reason=a directory", dir);
	CHECK_INT(count_of(log, want), 1);
	fixture_free(&fx);
}

/* ---- line content ----------------------------------------------------------- */

static void test_overlong_lines_are_reported_once_with_their_line_number(void)
{
	struct fixture fx;
	char a[PATH_MAX], text[128];
	struct tail_settings settings;

	if (fixture_init(&fx) == -1)
		return;
	settings = fixture_settings(&fx, "*.log");
	settings.max_line_bytes = 16;
	snprintf(text, sizeof(text), "short\n%040d\nafter\n", 0);
	put_file(in_dir(&fx, "a.log", a), text);
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 3));
	CHECK(fx.seen.count == 3 && fx.seen.lines[1].overlong && fx.seen.lines[1].len == 16);
	CHECK(fx.seen.count == 3 && fx.seen.lines[1].line_no == 2 && !fx.seen.lines[2].overlong);
	CHECK_STR(fx.seen.lines[0].path, a);
	/* One written in pieces is reported before its newline arrives, and only once. */
	append_file(a, "ok\nyyyyyyyyyyyyyyyyyyyy");
	CHECK(wait_lines(&fx, 5));
	append_file(a, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\nend\n");
	CHECK(wait_lines(&fx, 6));
	settle(fx.base);
	CHECK_INT(fx.seen.count, 6);
	if (fx.seen.count == 6) {
		CHECK_INT(fx.seen.lines[4].overlong, 1);
		CHECK_INT(fx.seen.lines[4].line_no, 5);
		CHECK_STR(fx.seen.lines[5].text, "end");
		CHECK_INT(fx.seen.lines[5].line_no, 6);
	}
	fixture_free(&fx);
}

static void test_position_inside_an_overlong_line_resumes_after_it(void)
{
	struct fixture fx;
	struct tail_position *p;
	size_t n;
	char a[PATH_MAX];
	struct tail_settings settings;

	if (fixture_init(&fx) == -1)
		return;
	settings = fixture_settings(&fx, "*.log");
	settings.max_line_bytes = 16;
	put_file(in_dir(&fx, "a.log", a), "ok\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	CHECK(take_positions(&fx, &p, &n) == 0);
	CHECK(n == 1 && p[0].in_overlong == 1 && p[0].line_no == 1 && p[0].offset == 43);
	append_file(a, "xxxxxxxxxx\nnext\n");
	CHECK(fixture_start_with(&fx, &settings, p, n) == 0);
	CHECK(wait_lines(&fx, 1));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"next"}, 1);
	CHECK_INT(fx.seen.lines[0].line_no, 3);
	tail_positions_free(p, n);
	fixture_free(&fx);
}

static void test_nul_bytes_and_invalid_utf8_pass_through_as_bytes(void)
{
	static const char bytes[] = "a\0b\xff\xfe\xc3\n\xe4\xbd\xa0\xe5\xa5\n";
	struct fixture fx;
	char a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	write_bytes(in_dir(&fx, "a.log", a), bytes, sizeof(bytes) - 1, O_TRUNC);
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 2));
	CHECK_INT(fx.seen.count, 2);
	if (fx.seen.count == 2) {
		CHECK_INT(fx.seen.lines[0].len, 6);
		CHECK(memcmp(fx.seen.lines[0].text, bytes, 6) == 0);
		CHECK_INT(fx.seen.lines[1].len, 5);
		CHECK(memcmp(fx.seen.lines[1].text, bytes + 7, 5) == 0);
	}
	fixture_free(&fx);
}

/* ---- positions against the file's own bytes --------------------------------------- */

/* A file written in random pieces, and what the tailer made of it so far. */
struct random_run {
	char *content; /* everything that will be written */
	size_t size, written;
	size_t max_line;
	struct tail *tail;
	struct seen seen;
	size_t positions_checked, positions_wrong;
};

static size_t min_len(uint64_t a, size_t b)
{
	return a < b ? (size_t)a : b;
}

/* A position is exact if its line count is the newlines before its offset, the
 * offset ends a line (or lies inside a line already reported as overlong), and its
 * hashes are those of the file's own bytes. */
static int position_is_exact(const struct tail_position *p, const char *content, size_t size)
{
	uint64_t newlines = 0;
	size_t head = min_len(p->offset, TAIL_HEAD_BYTES), before = min_len(p->offset, 64);

	if (p->offset > size)
		return 0;
	for (size_t i = 0; i < p->offset; i++)
		newlines += content[i] == '\n';
	if (newlines != p->line_no || p->head_len != head || p->before_len != before)
		return 0;
	if (!p->in_overlong && p->offset > 0 && content[p->offset - 1] != '\n')
		return 0;
	return hindex_hash(content, head, TAIL_FINGERPRINT_SEED) == p->head_hash &&
	       hindex_hash(content + p->offset - before, before, TAIL_FINGERPRINT_SEED) ==
	           p->before_hash;
}

static void random_check_positions(struct random_run *r)
{
	struct tail_position *p;
	size_t n;

	tail_positions(r->tail, &p, &n);
	if (n != 1) {
		r->positions_wrong++;
		return;
	}
	r->positions_checked++;
	r->positions_wrong += !position_is_exact(&p[0], r->content, r->written);
	tail_positions_free(p, n);
}

static void random_line(void *ctx, const char *path, const char *line, size_t len, uint64_t line_no,
                        int overlong)
{
	struct random_run *r = ctx;

	collect(&r->seen, path, line, len, line_no, overlong);
	if (line_no % 3 == 0)
		random_check_positions(r);
}

static int random_all_seen(void *arg)
{
	const struct random_run *r = arg;
	size_t lines = 0;

	for (size_t i = 0; i < r->size; i++)
		lines += r->content[i] == '\n';
	return r->seen.count >= lines;
}

static uint32_t next_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/* Lines of 0..50 bytes (some past the 32-byte limit) ending in a newline. */
static void random_content(struct random_run *r, uint32_t *state)
{
	r->size = 0;
	while (r->size < 6000) {
		size_t len = next_random(state) % 51;
		for (size_t i = 0; i < len; i++)
			r->content[r->size++] = (char)('a' + next_random(state) % 26);
		r->content[r->size++] = '\n';
	}
}

/* The lines handed out against the content: every line once, in order, overlong
 * ones flagged and cut at the limit. */
static void random_check_lines(const struct random_run *r)
{
	const char *p = r->content, *end = r->content + r->size;
	size_t i = 0, wrong = 0;

	for (; p < end && i < r->seen.count; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)(nl - p);
		const struct seen_line *l = &r->seen.lines[i];
		int overlong = len > r->max_line;

		wrong += l->overlong != overlong || l->line_no != i + 1 ||
		         l->len != (overlong ? r->max_line : len) ||
		         memcmp(l->text, p, l->len) != 0;
		p = nl + 1;
	}
	CHECK_INT(wrong, 0);
	CHECK(p == end && i == r->seen.count);
}

static void random_round(size_t budget, uint32_t seed)
{
	struct fixture fx;
	struct random_run r = {.max_line = 32};
	char a[PATH_MAX], err[256];
	struct tail_settings settings;
	uint32_t state = seed ? seed : 1; /* xorshift stays at 0 */

	if (fixture_init(&fx) == -1 || (r.content = malloc(6100)) == NULL)
		return;
	random_content(&r, &state);
	put_file(in_dir(&fx, "a.log", a), "");
	settings = fixture_settings(&fx, "*.log");
	settings.max_line_bytes = r.max_line;
	settings.read_budget_bytes = budget;
	r.tail = tail_new(fx.base, &settings, random_line, &r, err, sizeof(err));
	CHECK(r.tail != NULL && tail_start(r.tail) == 0);
	while (r.tail != NULL && r.written < r.size) {
		size_t n = min_len(r.size - r.written, 1 + next_random(&state) % 200);
		write_bytes(a, r.content + r.written, n, O_APPEND);
		r.written += n;
		for (uint32_t turns = next_random(&state) % 4; turns > 0; turns--) {
			event_base_loop(fx.base, EVLOOP_NONBLOCK);
			usleep(100);
		}
		random_check_positions(&r);
	}
	CHECK(run_until(fx.base, random_all_seen, &r));
	settle(fx.base);
	random_check_positions(&r);
	random_check_lines(&r);
	CHECK(r.positions_checked > 100);
	CHECK_INT(r.positions_wrong, 0);
	tail_free(r.tail);
	seen_clear(&r.seen);
	free(r.content);
	fixture_free(&fx);
}

/* Random pieces, partial and overlong lines, small and large read budgets, with
 * positions taken between loop turns and inside the callback: every one of them
 * must describe the file's bytes exactly. */
static void test_positions_match_the_file_bytes_at_every_moment(void)
{
	random_round(5, (uint32_t)check_seed("file content and write sizes", 0x12345u));
	random_round(64, (uint32_t)check_seed("file content and write sizes", 0xbeef1u));
	random_round(1 << 20, (uint32_t)check_seed("file content and write sizes", 0xc0ffeeu));
}

/* ---- inotify's blind spots, fairness, back-pressure ----------------------------- */

/* Writes to a symlink's target land in a directory nobody watches: only the stat
 * poll sees them. */
static void test_file_behind_a_symlink_is_read_by_the_poll(void)
{
	struct fixture fx;
	char real_dir[PATH_MAX], real[PATH_MAX], link[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	CHECK(mkdir(in_dir(&fx, "real", real_dir), 0755) == 0);
	put_file(in_dir(&fx, "real/x.log", real), "S1\n");
	CHECK(symlink(real, in_dir(&fx, "link.log", link)) == 0);
	CHECK(fixture_start(&fx, "link.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	append_file(real, "S2\n");
	CHECK(wait_lines(&fx, 2));
	check_texts(&fx.seen, 0, (const char *[]){"S1", "S2"}, 2);
	fixture_free(&fx);
}

static long max_queued_events(void)
{
	FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	long n = 16384;

	if (f != NULL) {
		if (fscanf(f, "%ld", &n) != 1)
			n = 16384;
		fclose(f);
	}
	return n;
}

/* With the backstops an hour away, only the overflow rescan can find b.log: its
 * creation event is dropped by the full queue. */
static void test_inotify_overflow_rescans_every_pattern(void)
{
	struct fixture fx;
	char a[PATH_MAX], b[PATH_MAX], x[PATH_MAX], y[PATH_MAX];
	struct tail_settings settings;
	int fx_fd, fy_fd;
	long failed_writes = 0;

	if (fixture_init(&fx) == -1)
		return;
	settings = fixture_settings(&fx, "*.log");
	settings.poll_interval_ms = settings.rescan_interval_ms = 3600 * 1000;
	put_file(in_dir(&fx, "a.log", a), "A1\n");
	CHECK(fixture_start_with(&fx, &settings, NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	fx_fd = open(in_dir(&fx, "x.txt", x), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	fy_fd = open(in_dir(&fx, "y.txt", y), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	/* Alternating names, so the kernel cannot merge consecutive events. */
	for (long i = 0, n = max_queued_events() + 64; i < n; i++)
		failed_writes += pwrite(i % 2 ? fy_fd : fx_fd, "z", 1, 0) != 1;
	CHECK_INT(failed_writes, 0);
	close(fx_fd);
	close(fy_fd);
	put_file(in_dir(&fx, "b.log", b), "B1\n");
	CHECK(wait_lines(&fx, 2));
	check_texts(&fx.seen, 0, (const char *[]){"A1", "B1"}, 2);
	fixture_free(&fx);
}

struct turns {
	size_t count, first_b, last_a;
	int saw_b;
	struct event *timer;   /* armed with a zero timeout at the first line */
	size_t count_at_timer; /* lines seen when it ran */
};

static void note_timer(evutil_socket_t fd, short what, void *arg)
{
	struct turns *t = arg;

	(void)fd;
	(void)what;
	t->count_at_timer = t->count;
}

static void note_turn(void *ctx, const char *path, const char *line, size_t len, uint64_t line_no,
                      int overlong)
{
	struct turns *t = ctx;
	size_t n = strlen(path);

	(void)line;
	(void)len;
	(void)line_no;
	(void)overlong;
	if (t->count == 0) {
		static const struct timeval now = {0, 0};
		if (evtimer_add(t->timer, &now) == -1)
			abort();
	}
	if (path[n - 5] == 'b' && !t->saw_b) {
		t->saw_b = 1;
		t->first_b = t->count;
	} else if (path[n - 5] == 'a') {
		t->last_a = t->count;
	}
	t->count++;
}

static int turns_done(void *arg)
{
	const struct turns *t = arg;
	return t->count >= 2 * 65536;
}

/* Big files do not hold the loop: with a small budget the two files are read in
 * turns, so b's first line comes long before a's last, and a timer due at once,
 * armed at the first line, runs long before the end (a read that re-activated
 * itself at once would keep libevent in one pass until both files were done). */
static void test_large_files_are_read_in_turns(void)
{
	struct fixture fx;
	struct turns turns = {0};
	struct tail *t;
	char a[PATH_MAX], b[PATH_MAX], err[256];
	struct tail_settings settings;
	char *data = malloc(65536 * 64 + 1);

	if (data == NULL || fixture_init(&fx) == -1) {
		free(data);
		return;
	}
	for (int i = 0; i < 65536; i++)
		snprintf(data + i * 64, 65, "%07d-%055d\n", i, 0);
	write_bytes(in_dir(&fx, "a.log", a), data, 65536 * 64, O_TRUNC);
	write_bytes(in_dir(&fx, "b.log", b), data, 65536 * 64, O_TRUNC);
	free(data);
	settings = fixture_settings(&fx, "*.log");
	settings.read_budget_bytes = 65536;
	turns.timer = evtimer_new(fx.base, note_timer, &turns);
	t = tail_new(fx.base, &settings, note_turn, &turns, err, sizeof(err));
	CHECK(turns.timer != NULL && t != NULL && tail_start(t) == 0);
	CHECK(run_until(fx.base, turns_done, &turns));
	CHECK_INT(turns.count, 2 * 65536);
	CHECK(turns.saw_b && turns.first_b < turns.last_a);
	CHECK(turns.first_b < 65536 / 2);
	CHECK(turns.count_at_timer > 0 && turns.count_at_timer < 65536);
	event_free(turns.timer);
	tail_free(t);
	fixture_free(&fx);
}

static void test_pause_holds_lines_back_and_resume_delivers_them(void)
{
	struct fixture fx;
	char a[PATH_MAX];

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "L1\n");
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	CHECK(wait_lines(&fx, 1));
	tail_pause(fx.tail);
	append_file(a, "L2\nL3\n");
	settle(fx.base);
	CHECK_INT(fx.seen.count, 1);
	tail_resume(fx.tail);
	CHECK(wait_lines(&fx, 3));
	settle(fx.base);
	check_texts(&fx.seen, 0, (const char *[]){"L1", "L2", "L3"}, 3);
	fixture_free(&fx);
}

static void test_bad_settings_are_refused_with_a_reason(void)
{
	struct event_base *base = event_base_new();
	const char *patterns[] = {"/nonexistent/*.log"};
	struct tail_settings settings = quick_settings(patterns, 0);
	char err[256] = "";

	CHECK(tail_new(base, &settings, collect, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no input files") != NULL);
	settings.pattern_count = 1;
	settings.max_line_bytes = (size_t)1 << 30;
	CHECK(tail_new(base, &settings, collect, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "max_line_bytes") != NULL);
	event_base_free(base);
}

/* ---- the real logrotate with a writer appending ---------------------------------- */

#define WRITER_LINES 3000

/* Appends numbered lines like a daemon that notices rotation by itself: it reopens
 * the path (never creating it) once the path names a new file. */
static void writer_run(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	char line[32];

	for (int i = 0; fd != -1 && i < WRITER_LINES; i++) {
		struct stat named, open_st;
		int len = snprintf(line, sizeof(line), "line %07d\n", i);
		if (stat(path, &named) == 0 && fstat(fd, &open_st) == 0 &&
		    named.st_ino != open_st.st_ino) {
			int again = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (again != -1) {
				close(fd);
				fd = again;
			}
		}
		if (write(fd, line, (size_t)len) != len)
			_exit(1);
		usleep(150);
	}
	_exit(0);
}

struct child {
	pid_t pid;
	int status;
	int exited;
};

static int child_exited(void *arg)
{
	struct child *c = arg;
	if (!c->exited && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
		c->exited = 1;
	return c->exited;
}

/* Runs logrotate -f while the loop keeps tailing; 0 when it succeeded. */
static int run_logrotate(struct fixture *fx, const char *conf, const char *state)
{
	char out[PATH_MAX], text[2048];
	struct child c = {0};
	FILE *f;

	in_dir(fx, "logrotate.out", out);
	if ((c.pid = fork()) == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl("/usr/sbin/logrotate", "logrotate", "-f", "-s", state, conf, (char *)NULL);
		_exit(127);
	}
	if (c.pid == -1 || !run_until(fx->base, child_exited, &c))
		return -1;
	if (WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0)
		return 0;
	if ((f = fopen(out, "r")) != NULL) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fprintf(stderr, "  logrotate failed: %s\n", text);
		fclose(f);
	}
	return -1;
}

/* Marks the numbered lines present in path (a rotated generation or the live file). */
static void mark_on_disk(const char *path, unsigned char *on_disk)
{
	FILE *f = fopen(path, "r");
	char line[64];
	int n;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "line %d", &n) == 1 && n >= 0 && n < WRITER_LINES)
			on_disk[n] = 1;
	}
	fclose(f);
}

struct coverage {
	const struct seen *seen;
	const unsigned char *on_disk;
};

static int on_disk_all_seen(void *arg)
{
	const struct coverage *c = arg;
	unsigned char seen[WRITER_LINES] = {0};
	int n;

	for (size_t i = 0; i < c->seen->count; i++) {
		if (sscanf(c->seen->lines[i].text, "line %d", &n) == 1 && n >= 0 &&
		    n < WRITER_LINES)
			seen[n] = 1;
	}
	for (int i = 0; i < WRITER_LINES; i++) {
		if (c->on_disk[i] && !seen[i])
			return 0;
	}
	return 1;
}

/* Every line seen at most once and in the order written; every line that exists
 * on disk afterwards seen. Returns the lines seen. */
static int check_writer_lines(const struct seen *s, const unsigned char *on_disk)
{
	unsigned char times[WRITER_LINES] = {0};
	int previous = -1, in_order = 1, duplicates = 0, missing = 0, n;

	for (size_t i = 0; i < s->count; i++) {
		if (sscanf(s->lines[i].text, "line %d", &n) != 1 || n < 0 || n >= WRITER_LINES) {
			CHECK(!"a line the writer did not write");
			continue;
		}
		duplicates += times[n]++ > 0;
		in_order &= n > previous;
		previous = n;
	}
	for (int i = 0; i < WRITER_LINES; i++)
		missing += on_disk[i] && !times[i];
	CHECK_INT(duplicates, 0);
	CHECK_INT(in_order, 1);
	CHECK_INT(missing, 0);
	return (int)s->count;
}

static void logrotate_with_writer(const char *mode)
{
	struct fixture fx;
	struct child writer = {0};
	unsigned char on_disk[WRITER_LINES] = {0};
	struct coverage coverage = {&fx.seen, on_disk};
	char a[PATH_MAX], conf[PATH_MAX], state[PATH_MAX], text[PATH_MAX + 128], gen[PATH_MAX + 16];
	int seen;

	if (fixture_init(&fx) == -1)
		return;
	put_file(in_dir(&fx, "a.log", a), "");
	snprintf(text, sizeof(text), "%s {\n\trotate 9\n\t%s\n\tmissingok\n\tnocompress\n}\n", a,
	         mode);
	put_file(in_dir(&fx, "logrotate.conf", conf), text);
	in_dir(&fx, "logrotate.state", state);
	CHECK(fixture_start(&fx, "*.log", NULL, 0) == 0);
	if ((writer.pid = fork()) == 0)
		writer_run(a);
	CHECK(writer.pid > 0);
	CHECK(wait_lines(&fx, WRITER_LINES / 3));
	CHECK_INT(run_logrotate(&fx, conf, state), 0);
	CHECK(wait_lines(&fx, 2 * WRITER_LINES / 3));
	CHECK_INT(run_logrotate(&fx, conf, state), 0);
	CHECK(run_until(fx.base, child_exited, &writer));
	CHECK(WIFEXITED(writer.status) && WEXITSTATUS(writer.status) == 0);
	mark_on_disk(a, on_disk);
	for (int i = 1; i <= 9; i++) {
		snprintf(gen, sizeof(gen), "%s.%d", a, i);
		mark_on_disk(gen, on_disk);
	}
	CHECK(run_until(fx.base, on_disk_all_seen, &coverage));
	settle(fx.base);
	seen = check_writer_lines(&fx.seen, on_disk);
	if (strcmp(mode, "create") == 0)
		CHECK_INT(seen, WRITER_LINES);
	else if (seen < WRITER_LINES)
		fprintf(stderr,
		        "  note: %d lines were written between logrotate's copy and its "
		        "truncate and are on no disk (a documented copytruncate loss)\n",
		        WRITER_LINES - seen);
	fixture_free(&fx);
}

static void test_logrotate_create_while_a_writer_appends(void)
{
	logrotate_with_writer("create");
}

static void test_logrotate_copytruncate_while_a_writer_appends(void)
{
	logrotate_with_writer("copytruncate");
}

int main(void)
{
	RUN(test_append_is_read_as_lines);
	RUN(test_partial_last_line_waits_for_its_newline);
	RUN(test_rename_create_rotation_with_writes_just_before_and_after);
	RUN(test_renamed_file_without_successor_is_followed_until_quiet);
	RUN(test_copytruncate_reads_unread_lines_from_the_copy);
	RUN(test_copytruncate_regrown_past_old_offset_while_paused);
	RUN(test_same_length_rewrite_restarts_at_zero);
	RUN(test_same_length_rewrite_past_the_head_restarts_at_zero);
	RUN(test_positions_round_trip);
	RUN(test_partial_line_at_crash_is_read_whole_after_restart);
	RUN(test_positions_taken_inside_the_callback_end_at_that_line);
	RUN(test_rotation_while_down_reads_exactly_the_missing_lines);
	RUN(test_copytruncate_while_down_reads_the_rest_from_the_copy);
	RUN(test_unread_file_rotated_while_down_is_still_read);
	RUN(test_checkpoint_during_rotation_resumes_both_files_in_order);
	RUN(test_inode_reuse_with_a_saved_checkpoint_starts_at_zero);
	RUN(test_two_renames_while_stopped_read_the_middle_file_whole);
	RUN(test_three_renames_while_stopped_read_in_the_order_written);
	RUN(test_rename_then_copytruncate_while_stopped);
	RUN(test_copytruncate_then_rename_while_stopped);
	RUN(test_position_saved_before_reading_finds_rename_then_copytruncate);
	RUN(test_deleted_middle_file_is_logged_and_counted);
	RUN(test_compressed_middle_file_is_logged_and_counted);
	RUN(test_compressed_content_without_its_suffix_is_not_read);
	RUN(test_older_compressed_generations_are_left_alone);
	RUN(test_dateext_names_are_read_in_date_order);
	RUN(test_inode_reuse_among_rotated_names_is_not_resumed);
	RUN(test_checkpoint_during_rotation_then_two_renames_while_stopped);
	RUN(test_rotated_names_setting_is_checked_and_used);
	RUN(test_deleted_file_is_read_to_its_end_and_let_go);
	RUN(test_directory_removed_and_recreated);
	RUN(test_new_file_matching_the_glob_is_read_from_its_start);
	RUN(test_follow_announces_names_with_their_rank_before_their_lines);
	RUN(test_fifo_matching_the_glob_is_skipped_without_blocking);
	RUN(test_directory_symlink_loop_and_dangling_symlink_are_warned_once);
	RUN(test_input_naming_a_directory_is_warned);
	RUN(test_overlong_lines_are_reported_once_with_their_line_number);
	RUN(test_position_inside_an_overlong_line_resumes_after_it);
	RUN(test_nul_bytes_and_invalid_utf8_pass_through_as_bytes);
	RUN(test_positions_match_the_file_bytes_at_every_moment);
	RUN(test_file_behind_a_symlink_is_read_by_the_poll);
	RUN(test_inotify_overflow_rescans_every_pattern);
	RUN(test_large_files_are_read_in_turns);
	RUN(test_pause_holds_lines_back_and_resume_delivers_them);
	RUN(test_bad_settings_are_refused_with_a_reason);
	RUN(test_logrotate_create_while_a_writer_appends);
	RUN(test_logrotate_copytruncate_while_a_writer_appends);
	return check_done();
}
