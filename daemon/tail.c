/*
 * tail.c owns following log files live: glob expansion, inotify as a hint with an
 * fstat/stat backstop, rotation (rename+create, copytruncate), deletion, and the
 * exact position of every file (end of the last complete line handed out). It does
 * not interpret lines or store positions: lines go to the caller's callback, and
 * positions to whoever checkpoints them. docs/tailing.md explains the design.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "chatlogd/clock.h"
#include "chatlogd/hindex.h"
#include "chatlogd/limits.h"
#include "chatlogd/lines.h"
#include "chatlogd/log.h"
#include "chatlogd/tail.h"
#include "chatlogd/util.h"

#define TAIL_POLL_DEFAULT_MS 1000
#define TAIL_RESCAN_DEFAULT_MS 5000
/* Paths remembered so a non-regular file matched by a glob is warned about once
 * per path rather than at every rescan; past this, further ones go to debug. */
#define TAIL_WARNED_PATHS 64
#define TAIL_WATCH_MASK                                                                            \
	(IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF |        \
	 IN_MOVE_SELF | IN_ATTRIB | IN_ONLYDIR)

/* Reading state of one open file: how far it was read, how far lines were handed
 * out, and enough of the bytes read to fingerprint the position exactly and to
 * notice a truncation or rewrite before the next read. */
struct tail_stream {
	struct lines lines;
	uint64_t read_offset;  /* bytes read: the next read starts here */
	uint64_t done;         /* end of the last complete line handed out */
	uint64_t done_line_no; /* lines handed out */
	int done_in_overlong;  /* done lies inside an overlong line already reported */
	unsigned char done_before[TAIL_BEFORE_BYTES]; /* bytes before done, if in_overlong */
	size_t done_before_len;
	unsigned char head[TAIL_HEAD_BYTES];     /* the file's first head_len bytes */
	size_t head_len;                         /* min(read_offset, TAIL_HEAD_BYTES) */
	unsigned char last[TAIL_BEFORE_BYTES];   /* the bytes ending at read_offset */
	size_t last_len;                         /* min(read_offset, TAIL_BEFORE_BYTES) */
	unsigned char prefix[TAIL_BEFORE_BYTES]; /* the bytes ending where lines.buf starts */
	size_t prefix_len;
	int finishing; /* inside lines_finish: the last line has no newline */
};

/* Why a file is only being read to its end: it is no longer the file its path names.
 * DRAIN_SUPERSEDED: a rotated file found at restore with a newer rotated file after
 * it, so no writer writes it any more. */
enum tail_drain { DRAIN_NONE, DRAIN_ROTATED, DRAIN_DELETED, DRAIN_COPY, DRAIN_SUPERSEDED };

/* A followed name: counters survive rotations, and files share it by reference. */
struct tail_source {
	TAILQ_ENTRY(tail_source) link;
	char *path;
	unsigned refs;
	uint64_t lines, bytes, rotations, truncations;
};

struct tail_file {
	TAILQ_ENTRY(tail_file) link;
	struct tail *tail;
	struct tail_source *source;
	struct event *read_event;
	int fd;
	int wd; /* inotify watch of its directory, -1 without one */
	uint64_t dev, ino;
	enum tail_drain drain;
	int let_go_armed; /* let go at the end of the next read that reaches end of file */
	int restart;      /* the head changed: start again at 0 before the next read */
	int at_eof;
	int64_t last_data_ms;
	struct tail_stream stream;
};

TAILQ_HEAD(tail_file_list, tail_file);
TAILQ_HEAD(tail_source_list, tail_source);

struct tail {
	struct event_base *base;
	char **patterns;
	size_t pattern_count;
	size_t max_line_bytes, read_budget;
	int64_t poll_ms, rescan_ms, rotate_wait_ms;
	tail_line_fn fn;
	void *ctx;
	tail_follow_fn follow_fn;
	void *follow_ctx;
	struct tail_file_list files;
	struct tail_source_list sources;
	struct tail_position *restored;
	size_t restored_count;
	char **rotated_names; /* patterns with %f, %b, %e (TAIL_ROTATED_NAMES_DEFAULT) */
	size_t rotated_name_count;
	uint64_t problems;         /* files holding lines that will never be read */
	char problem_reason[1024]; /* the last one, as logged */
	int inotify_fd;
	struct event *inotify_event, *poll_event, *rescan_event, *check_event;
	int want_rescan, want_check;
	int started, paused, watch_limit_logged;
	char *warned[TAIL_WARNED_PATHS];
	size_t warned_count; /* also what tail_skipped counts */
	struct log_ratelimit warn_limit;
};

static void file_read_cb(evutil_socket_t fd, short what, void *arg);

static size_t min_size(uint64_t a, size_t b)
{
	return a < b ? (size_t)a : b;
}

/* Paths come from globs over directories others can write to: escape them. */
static const char *log_path(char *out, size_t size, const char *path)
{
	return log_escape(out, size, path, strlen(path));
}

/* The directory part of path ("." for a bare name); empty if it does not fit,
 * which no valid path does, so nothing is watched or searched by mistake. */
static void dir_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t len;

	if (slash == NULL) {
		path = ".";
		len = 1;
	} else {
		len = slash == path ? 1 : (size_t)(slash - path);
	}
	if (len >= size)
		len = 0;
	memcpy(out, path, len);
	out[len] = '\0';
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* ---- sources ---------------------------------------------------------------- */

static struct tail_source *source_get(struct tail *t, const char *path)
{
	struct tail_source *s;

	TAILQ_FOREACH(s, &t->sources, link)
	{
		if (strcmp(s->path, path) == 0) {
			s->refs++;
			return s;
		}
	}
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->refs = 1;
	TAILQ_INSERT_TAIL(&t->sources, s, link);
	if (t->follow_fn != NULL)
		t->follow_fn(t->follow_ctx, s->path, tail_rank(t, s->path));
	return s;
}

static void source_put(struct tail *t, struct tail_source *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	TAILQ_REMOVE(&t->sources, s, link);
	free(s->path);
	free(s);
}

/* ---- stream bookkeeping ------------------------------------------------------- */

/* Keeps the last TAIL_BEFORE_BYTES bytes of everything appended. */
static void window_append(unsigned char *win, size_t *len, const char *data, size_t n)
{
	size_t keep;

	if (n >= TAIL_BEFORE_BYTES) {
		memcpy(win, data + n - TAIL_BEFORE_BYTES, TAIL_BEFORE_BYTES);
		*len = TAIL_BEFORE_BYTES;
		return;
	}
	keep = *len < TAIL_BEFORE_BYTES - n ? *len : TAIL_BEFORE_BYTES - n;
	memmove(win, win + *len - keep, keep);
	memcpy(win + keep, data, n);
	*len = keep + n;
}

/* Back to offset 0 with nothing pending, keeping the framer's buffer. */
static void stream_reset(struct tail_stream *s)
{
	struct lines keep = s->lines;

	memset(s, 0, sizeof(*s));
	s->lines = keep;
	s->lines.start = s->lines.end = 0;
	s->lines.line_no = 0;
	s->lines.skipping = 0;
}

/* The bytes ending at file offset `at`, taken from the framer's buffer and the
 * prefix kept in front of it. `at` must lie between the buffer's start and
 * read_offset, which holds for `done` unless it is inside an overlong line. */
static size_t stream_bytes_before(const struct tail_stream *s, uint64_t at, unsigned char *out)
{
	uint64_t base = s->read_offset - s->lines.end;
	size_t want = min_size(at, TAIL_BEFORE_BYTES);
	size_t in_buf = min_size(at - base, want);
	size_t from_prefix = want - in_buf;

	if (from_prefix > s->prefix_len) /* cannot happen; never read outside the array */
		from_prefix = s->prefix_len;
	memcpy(out, s->prefix + s->prefix_len - from_prefix, from_prefix);
	if (in_buf > 0)
		memcpy(out + from_prefix, s->lines.buf + (at - base) - in_buf, in_buf);
	return from_prefix + in_buf;
}

/* lines_space, keeping the prefix right when the framer slides its partial line
 * to the front (the bytes before it are overwritten by the move). */
static size_t stream_space(struct tail_stream *s, char **space)
{
	unsigned char moved[TAIL_BEFORE_BYTES];
	size_t moved_len = 0, start = s->lines.start, room;

	if (start > 0)
		moved_len = stream_bytes_before(s, s->read_offset - s->lines.end + start, moved);
	room = lines_space(&s->lines, space);
	if (start > 0 && s->lines.start == 0) {
		memcpy(s->prefix, moved, moved_len);
		s->prefix_len = moved_len;
	}
	return room;
}

/* Records n bytes just read at read_offset; called before lines_commit so the
 * line callback can turn buffer pointers into file offsets. */
static void stream_note_read(struct tail_stream *s, const char *data, size_t n)
{
	if (s->read_offset < TAIL_HEAD_BYTES) {
		size_t k = min_size(TAIL_HEAD_BYTES - s->read_offset, n);
		memcpy(s->head + s->read_offset, data, k);
		s->head_len = (size_t)s->read_offset + k;
	}
	window_append(s->last, &s->last_len, data, n);
	s->read_offset += n;
}

/* After lines_commit: an emptied framer starts its buffer at read_offset. */
static void stream_after_commit(struct tail_stream *s)
{
	if (s->lines.end == 0) {
		memcpy(s->prefix, s->last, s->last_len);
		s->prefix_len = s->last_len;
	}
}

/* ---- fingerprints ----------------------------------------------------------- */

/* The bytes that identify a file's content up to an offset. */
struct fingerprint {
	unsigned char head[TAIL_HEAD_BYTES];
	size_t head_len;
	unsigned char before[TAIL_BEFORE_BYTES];
	size_t before_len;
};

static int pread_full(int fd, unsigned char *buf, size_t len, uint64_t offset)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, (off_t)offset);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

/* Reads the fingerprint bytes of fd at offset; -1 when the file is shorter. */
static int fingerprint_read(int fd, uint64_t offset, struct fingerprint *fp)
{
	fp->head_len = min_size(offset, TAIL_HEAD_BYTES);
	fp->before_len = min_size(offset, TAIL_BEFORE_BYTES);
	if (pread_full(fd, fp->head, fp->head_len, 0) == -1)
		return -1;
	return pread_full(fd, fp->before, fp->before_len, offset - fp->before_len);
}

static int fingerprint_matches(const struct fingerprint *fp, const struct tail_position *pos)
{
	return fp->head_len == pos->head_len && fp->before_len == pos->before_len &&
	       hindex_hash(fp->head, fp->head_len, TAIL_FINGERPRINT_SEED) == pos->head_hash &&
	       hindex_hash(fp->before, fp->before_len, TAIL_FINGERPRINT_SEED) == pos->before_hash;
}

/* The position of a stream at `offset` (read_offset or done), from bytes in memory. */
static void stream_position(const struct tail_stream *s, uint64_t offset, struct tail_position *pos)
{
	unsigned char before[TAIL_BEFORE_BYTES];
	size_t before_len;

	if (offset == s->done && s->done_in_overlong) {
		memcpy(before, s->done_before, s->done_before_len);
		before_len = s->done_before_len;
	} else if (offset == s->read_offset) {
		memcpy(before, s->last, s->last_len);
		before_len = s->last_len;
	} else {
		before_len = stream_bytes_before(s, offset, before);
	}
	pos->offset = offset;
	pos->head_len = (uint32_t)min_size(offset, TAIL_HEAD_BYTES);
	pos->head_hash = hindex_hash(s->head, pos->head_len, TAIL_FINGERPRINT_SEED);
	pos->before_len = (uint32_t)before_len;
	pos->before_hash = hindex_hash(before, before_len, TAIL_FINGERPRINT_SEED);
}

/* Resumes a fresh stream at a saved position whose bytes were just verified. */
static void stream_resume(struct tail_stream *s, const struct tail_position *pos,
                          const struct fingerprint *fp)
{
	s->read_offset = s->done = pos->offset;
	s->done_line_no = s->lines.line_no = pos->line_no;
	s->done_in_overlong = s->lines.skipping = pos->in_overlong != 0;
	memcpy(s->head, fp->head, fp->head_len);
	s->head_len = fp->head_len;
	memcpy(s->last, fp->before, fp->before_len);
	s->last_len = fp->before_len;
	memcpy(s->prefix, fp->before, fp->before_len);
	s->prefix_len = fp->before_len;
	memcpy(s->done_before, fp->before, fp->before_len);
	s->done_before_len = fp->before_len;
}

/* ---- files ------------------------------------------------------------------ */

static struct tail_file *file_by_inode(const struct tail *t, uint64_t dev, uint64_t ino)
{
	struct tail_file *f;

	TAILQ_FOREACH(f, &t->files, link)
	{
		if (f->dev == dev && f->ino == ino)
			return f;
	}
	return NULL;
}

/* The file its path names now (not a predecessor being read to its end). */
static struct tail_file *file_current(const struct tail *t, const char *path)
{
	struct tail_file *f;

	TAILQ_FOREACH(f, &t->files, link)
	{
		if (f->drain == DRAIN_NONE && strcmp(f->source->path, path) == 0)
			return f;
	}
	return NULL;
}

/* A file waits while a predecessor under the same name is still being read, so
 * the lines of one name arrive in the order they were written. */
static int file_blocked(const struct tail_file *f)
{
	const struct tail_file *p;

	for (p = TAILQ_FIRST(&f->tail->files); p != f; p = TAILQ_NEXT(p, link)) {
		if (p->source == f->source && p->drain != DRAIN_NONE)
			return 1;
	}
	return 0;
}

static void schedule_read(struct tail_file *f)
{
	/* A zero timeout rather than event_active: libevent runs events activated
	 * from a callback in the same pass, which would starve I/O and timers. */
	static const struct timeval now = {0, 0};

	if (event_add(f->read_event, &now) == -1)
		log_warnx("cannot schedule a read file=%s", f->source->path);
}

static int watch_dir(struct tail *t, const char *dir)
{
	char shown[256];
	int wd;

	if (t->inotify_fd == -1)
		return -1;
	if ((wd = inotify_add_watch(t->inotify_fd, dir, TAIL_WATCH_MASK)) != -1)
		return wd;
	if (errno == ENOSPC && !t->watch_limit_logged) {
		t->watch_limit_logged = 1;
		log_warnx("inotify watch limit reached, falling back to polling dir=%s "
		          "poll_interval_ms=%" PRId64,
		          log_path(shown, sizeof(shown), dir), t->poll_ms);
	} else if (errno != ENOENT && errno != ENOSPC) {
		log_debug("cannot watch dir=%s errno=%d", log_path(shown, sizeof(shown), dir),
		          errno);
	}
	return -1;
}

/* A followed file around fd (taken: closed on failure), at offset 0, not yet in
 * the list. */
static struct tail_file *file_alloc(struct tail *t, const char *path, int fd, const struct stat *st)
{
	char dir[PATH_MAX], shown[256];
	struct tail_file *f;

	f = xcalloc(1, sizeof(*f));
	f->tail = t;
	f->fd = fd;
	f->dev = (uint64_t)st->st_dev;
	f->ino = (uint64_t)st->st_ino;
	f->last_data_ms = clock_monotonic_ms();
	if ((f->read_event = event_new(t->base, -1, 0, file_read_cb, f)) == NULL) {
		log_warnx("out of memory following file=%s", log_path(shown, sizeof(shown), path));
		free(f);
		close(fd);
		return NULL;
	}
	f->source = source_get(t, path);
	lines_init(&f->stream.lines, t->max_line_bytes);
	dir_of(path, dir, sizeof(dir));
	f->wd = watch_dir(t, dir);
	return f;
}

static void file_free(struct tail *t, struct tail_file *f)
{
	TAILQ_REMOVE(&t->files, f, link);
	event_free(f->read_event);
	lines_free(&f->stream.lines);
	close(f->fd);
	source_put(t, f->source);
	free(f);
}

/* Predecessors go in front of the file their path names now. */
static void file_insert(struct tail *t, struct tail_file *f)
{
	struct tail_file *current;

	if (f->drain != DRAIN_NONE && (current = file_current(t, f->source->path)) != NULL)
		TAILQ_INSERT_BEFORE(current, f, link);
	else
		TAILQ_INSERT_TAIL(&t->files, f, link);
}

/* Opens path for reading only if it is a regular file, never blocking on a FIFO
 * or touching a device: stat first, then open non-blocking and check again. */
static int open_regular(const char *path, struct stat *st)
{
	int fd;

	if (stat(path, st) == -1 || !S_ISREG(st->st_mode))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- finding where a file went ---------------------------------------------- */

/* Opens dir/name if it is a regular file not followed already whose bytes match
 * pos (and, by_inode, whose inode is pos's). Fills *st and *fp. */
static int candidate_open(const struct tail *t, int dir_fd, const char *name,
                          const struct tail_position *pos, int by_inode, struct stat *st,
                          struct fingerprint *fp)
{
	int fd;

	if (fstatat(dir_fd, name, st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st->st_mode))
		return -1;
	if ((uint64_t)st->st_size < pos->offset || file_by_inode(t, st->st_dev, st->st_ino))
		return -1;
	if (by_inode && ((uint64_t)st->st_dev != pos->dev || (uint64_t)st->st_ino != pos->ino))
		return -1;
	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1 || fingerprint_read(fd, pos->offset, fp) == -1 ||
	    !fingerprint_matches(fp, pos)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One pass over a directory for candidate_open; the name found goes to name. */
static int scan_dir(const struct tail *t, DIR *d, const struct tail_position *pos, int by_inode,
                    struct stat *st, struct fingerprint *fp, char *name, size_t name_size)
{
	struct dirent *de;
	int fd;

	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (by_inode && (uint64_t)de->d_ino != pos->ino)
			continue;
		fd = candidate_open(t, dirfd(d), de->d_name, pos, by_inode, st, fp);
		if (fd != -1) {
			snprintf(name, name_size, "%s", de->d_name);
			return fd;
		}
	}
	return -1;
}

/* Looks in pos's directory for the file that holds pos's bytes: first the inode
 * it had (renamed, e.g. to a.log.1), then any file whose fingerprints match (a
 * copytruncate copy; not at offset 0, where the fingerprints are empty and match
 * anything). Skips files already followed; *by_inode says which pass found it. */
static int find_continuation(const struct tail *t, const struct tail_position *pos, struct stat *st,
                             struct fingerprint *fp, int *by_inode, char *name, size_t name_size)
{
	char dir[PATH_MAX];
	DIR *d;
	int fd;

	dir_of(pos->path, dir, sizeof(dir));
	if ((d = opendir(dir)) == NULL)
		return -1;
	*by_inode = 1;
	if ((fd = scan_dir(t, d, pos, 1, st, fp, name, name_size)) == -1 && pos->offset > 0) {
		*by_inode = 0;
		fd = scan_dir(t, d, pos, 0, st, fp, name, name_size);
	}
	closedir(d);
	return fd;
}

/* ---- reading ---------------------------------------------------------------- */

/* lines_fn: turns the framer's line into the caller's, and records exactly where
 * the line ends in the file so a position taken at any moment is exact. */
static void file_line(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong)
{
	struct tail_file *f = ctx;
	struct tail_stream *s = &f->stream;
	uint64_t base = s->read_offset - s->lines.end;
	const char *end = line + len;

	if (overlong && line_no != s->lines.line_no) {
		/* Reported before its newline: everything read is consumed and the
		 * framer skips the rest of the line. */
		s->done = s->read_offset;
		s->done_line_no = line_no - 1;
		s->done_in_overlong = 1;
		memcpy(s->done_before, s->last, s->last_len);
		s->done_before_len = s->last_len;
	} else {
		if (overlong) /* only its first bytes were given: find its newline */
			end = memchr(end, '\n', (size_t)(s->lines.buf + s->lines.end - end));
		s->done = base + (uint64_t)(end - s->lines.buf) + (s->finishing ? 0 : 1);
		s->done_line_no = line_no;
		s->done_in_overlong = 0;
	}
	f->source->lines++;
	f->tail->fn(f->tail->ctx, f->source->path, line, len, line_no, overlong);
}

/* Moves f's stream (with any partial line) to the copy a copytruncate left behind,
 * so the lines we had not read yet come from there; f starts afresh at 0. */
static int file_split_copy(struct tail *t, struct tail_file *f)
{
	struct tail_position want = {.path = f->source->path};
	struct fingerprint fp;
	struct tail_file *copy;
	struct lines fresh;
	struct stat st;
	char name[NAME_MAX + 1], shown[256];
	int by_inode, fd;

	stream_position(&f->stream, f->stream.read_offset, &want);
	fd = find_continuation(t, &want, &st, &fp, &by_inode, name, sizeof(name));
	if (fd == -1 || (copy = file_alloc(t, f->source->path, fd, &st)) == NULL)
		return -1;
	copy->drain = DRAIN_COPY;
	fresh = copy->stream.lines;
	copy->stream = f->stream;
	memset(&f->stream, 0, sizeof(f->stream));
	f->stream.lines = fresh;
	TAILQ_INSERT_BEFORE(f, copy, link);
	log_info(
	    "file truncated, reading the rest from its copy first file=%s copy=%s offset=%" PRIu64,
	    log_path(shown, sizeof(shown), f->source->path), name, copy->stream.read_offset);
	schedule_read(copy);
	return 0;
}

/* The bytes before read_offset changed: the file was truncated (copytruncate, maybe
 * regrown already) or rewritten. Reads the rest from a copy if one is found, then
 * the file again from 0. */
static void file_truncated(struct tail_file *f)
{
	struct tail *t = f->tail;
	char shown[256];

	f->source->truncations++;
	if (f->stream.read_offset > 0 && file_split_copy(t, f) == 0)
		return;
	log_info("file truncated or rewritten, reading from the start file=%s offset=%" PRIu64
	         " dropped_partial_bytes=%zu",
	         log_path(shown, sizeof(shown), f->source->path), f->stream.read_offset,
	         lines_pending(&f->stream.lines));
	stream_reset(&f->stream);
}

/* One read: the bytes just before read_offset (to verify) and new data, in one
 * system call. Returns the new bytes, 0 at end of file, -1 if the file changed
 * under us, -2 on a read error. */
static ssize_t file_pread(struct tail_file *f, char *space, size_t want)
{
	struct tail_stream *s = &f->stream;
	unsigned char check[TAIL_BEFORE_BYTES];
	size_t check_len = s->last_len;
	struct iovec iov[2] = {{check, check_len}, {space, want}};
	ssize_t n;

	do
		n = preadv(f->fd, iov, 2, (off_t)(s->read_offset - check_len));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -2;
	if ((size_t)n < check_len || memcmp(check, s->last, check_len) != 0)
		return -1;
	return n - (ssize_t)check_len;
}

/* Reads at most the budget, handing out complete lines. Returns 1 when there is
 * more to read (budget spent, truncation handled, paused), 0 at end of file, -1
 * on a read error (retried at the next poll). */
static int file_read_some(struct tail_file *f)
{
	struct tail *t = f->tail;
	struct tail_stream *s = &f->stream;
	size_t budget = t->read_budget;
	char shown[256];

	if (f->restart) {
		f->restart = 0;
		file_truncated(f);
		return 1;
	}
	while (budget > 0 && !t->paused) {
		char *space;
		size_t room = stream_space(s, &space);
		size_t want = room < budget ? room : budget;
		ssize_t got = file_pread(f, space, want);

		if (got == -2) {
			if (log_ratelimit_allow(&t->warn_limit, "tail read errors"))
				log_warn("read failed file=%s",
				         log_path(shown, sizeof(shown), f->source->path));
			return -1;
		}
		if (got == -1) {
			file_truncated(f);
			return 1;
		}
		if (got == 0)
			return 0;
		stream_note_read(s, space, (size_t)got);
		f->source->bytes += (uint64_t)got;
		f->last_data_ms = clock_monotonic_ms();
		lines_commit(&s->lines, (size_t)got, file_line, f);
		stream_after_commit(s);
		budget -= (size_t)got;
		if ((size_t)got < want)
			return 0; /* a short read of a regular file: its end for now */
	}
	return 1;
}

/* ---- letting go --------------------------------------------------------------- */

static const char *drain_name(enum tail_drain drain)
{
	switch (drain) {
	case DRAIN_ROTATED:
		return "rotated";
	case DRAIN_DELETED:
		return "deleted";
	case DRAIN_COPY:
		return "copy";
	case DRAIN_SUPERSEDED:
		return "superseded";
	default:
		return "none";
	}
}

/* Whether a predecessor read to its end will get no more lines: a deleted file, a
 * copy or a superseded one never does; a renamed one once its writer has moved on (the new file at
 * its path has data) or it has been quiet for rotate_wait. */
static int drain_may_end(const struct tail_file *f)
{
	struct stat st;

	if (f->drain != DRAIN_ROTATED)
		return 1;
	if (clock_monotonic_ms() - f->last_data_ms >= f->tail->rotate_wait_ms)
		return 1;
	return stat(f->source->path, &st) == 0 && st.st_size > 0 &&
	       ((uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino);
}

/* Closes a file read to its end; a last line without its newline will never be
 * completed now, so it is handed out as it is. Wakes the file that waited. */
static void file_let_go(struct tail *t, struct tail_file *f)
{
	struct tail_file *next;
	char shown[256];

	f->stream.finishing = 1;
	lines_finish(&f->stream.lines, file_line, f);
	log_info("file let go file=%s inode=%" PRIu64 " reason=%s offset=%" PRIu64,
	         log_path(shown, sizeof(shown), f->source->path), f->ino, drain_name(f->drain),
	         f->stream.read_offset);
	for (next = TAILQ_NEXT(f, link); next != NULL; next = TAILQ_NEXT(next, link)) {
		if (next->source == f->source)
			schedule_read(next);
	}
	file_free(t, f);
}

static void file_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail_file *f = arg;
	struct tail *t = f->tail;
	int armed = f->let_go_armed; /* armed before this read began */
	int rc;

	(void)fd;
	(void)what;
	if (t->paused || file_blocked(f))
		return;
	rc = file_read_some(f);
	f->at_eof = rc == 0;
	if (rc == 1 && !t->paused)
		schedule_read(f);
	if (rc != 0 || f->drain == DRAIN_NONE)
		return;
	if (armed) {
		file_let_go(t, f);
	} else if (drain_may_end(f)) {
		/* One more read to the end, begun after the condition held, so a line
		 * written just before it is not left behind. */
		f->let_go_armed = 1;
		schedule_read(f);
	}
}

/* ---- noticing rotation, deletion, new files ----------------------------------- */

static void file_drain(struct tail_file *f, enum tail_drain drain)
{
	char shown[256];

	if (f->drain == drain)
		return;
	if (f->drain == DRAIN_NONE && drain == DRAIN_ROTATED)
		f->source->rotations++;
	f->drain = drain;
	f->last_data_ms = clock_monotonic_ms();
	f->tail->want_rescan = 1; /* to open the file the path names now */
	log_info("file %s, reading it to its end file=%s inode=%" PRIu64 " offset=%" PRIu64,
	         drain_name(drain), log_path(shown, sizeof(shown), f->source->path), f->ino,
	         f->stream.read_offset);
}

/* A file whose first bytes changed was rewritten even if its last bytes agree. */
static int file_head_changed(const struct tail_file *f)
{
	unsigned char head[TAIL_HEAD_BYTES];
	size_t len = f->stream.head_len;

	if (len == 0 || pread_full(f->fd, head, len, 0) == -1)
		return len != 0;
	return memcmp(head, f->stream.head, len) != 0;
}

/* fstat and stat: deleted (no links left), rotated (the path names another inode or
 * nothing), or renamed back to its path. */
static void file_check(struct tail_file *f, int check_head)
{
	struct stat st, path_st;

	if (fstat(f->fd, &st) == -1)
		return;
	if (st.st_nlink == 0) {
		file_drain(f, DRAIN_DELETED);
		return;
	}
	if (f->drain == DRAIN_DELETED || f->drain == DRAIN_COPY || f->drain == DRAIN_SUPERSEDED)
		return;
	if (stat(f->source->path, &path_st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			file_drain(f, DRAIN_ROTATED);
		return;
	}
	if ((uint64_t)path_st.st_dev != f->dev || (uint64_t)path_st.st_ino != f->ino)
		file_drain(f, DRAIN_ROTATED);
	else if (f->drain == DRAIN_ROTATED && file_current(f->tail, f->source->path) == NULL)
		f->drain = DRAIN_NONE; /* renamed back before we let it go */
	else if (check_head && f->drain == DRAIN_NONE && file_head_changed(f))
		f->restart = 1;
}

static void check_all(struct tail *t, int check_head)
{
	struct tail_file *f;

	TAILQ_FOREACH(f, &t->files, link)
	{
		file_check(f, check_head);
		schedule_read(f);
	}
}

/* Warns once per path about a match we cannot follow (bounded memory). */
static void warn_skipped(struct tail *t, const char *path, const char *why)
{
	char shown[256];
	size_t i;

	for (i = 0; i < t->warned_count; i++) {
		if (strcmp(t->warned[i], path) == 0)
			return;
	}
	log_path(shown, sizeof(shown), path);
	if (t->warned_count == TAIL_WARNED_PATHS) {
		log_debug("skipped file=%s reason=%s", shown, why);
		return;
	}
	t->warned[t->warned_count++] = xstrdup(path);
	log_warnx("skipped file=%s reason=%s", shown, why);
}

/* Why a path a pattern matched cannot be stat'ed (stat_errno), for warn_skipped, or
 * NULL when it is simply gone since glob listed it: nothing to warn about then. A
 * symlink leading nowhere or in circles is a mistake someone should hear of. */
static const char *stat_failure(const char *path, int stat_errno)
{
	struct stat link;

	if (lstat(path, &link) == -1)
		return NULL;
	if (S_ISLNK(link.st_mode) && stat_errno == ELOOP)
		return "symlink loop (too many levels of symbolic links)";
	if (S_ISLNK(link.st_mode) && stat_errno == ENOENT)
		return "dangling symlink (its target does not exist)";
	return strerror(stat_errno);
}

/* Starts following a path a pattern matched, from its first byte. */
static void follow_new(struct tail *t, const char *path)
{
	struct tail_file *f, *same;
	struct stat st;
	const char *why;
	char shown[256];
	int fd;

	if (file_current(t, path) != NULL)
		return;
	if (stat(path, &st) == -1) {
		if ((why = stat_failure(path, errno)) != NULL)
			warn_skipped(t, path, why);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		warn_skipped(t, path,
		             S_ISDIR(st.st_mode)
		                 ? "a directory (to follow the files in it, name them: DIR/*.jsonl)"
		                 : "not a regular file");
		return;
	}
	if ((same = file_by_inode(t, st.st_dev, st.st_ino)) != NULL) {
		if (same->drain != DRAIN_NONE && strcmp(same->source->path, path) != 0)
			warn_skipped(t, path,
			             "a pattern matches a rotated name; it would be read "
			             "again once let go");
		return;
	}
	if ((fd = open_regular(path, &st)) == -1) {
		/* e.g. permission denied: say so once, or the file is silently never read */
		warn_skipped(t, path, strerror(errno));
		return;
	}
	if ((f = file_alloc(t, path, fd, &st)) == NULL)
		return;
	file_insert(t, f);
	log_info("following file=%s inode=%" PRIu64 " from=0", log_path(shown, sizeof(shown), path),
	         f->ino);
	schedule_read(f);
}

static int has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Expands every pattern, following what is new, and (re)watches the directories
 * named literally (a recreated directory gets a new watch here). */
static void rescan(struct tail *t)
{
	char dir[PATH_MAX];
	size_t i, j;

	t->want_rescan = 0;
	for (i = 0; i < t->pattern_count; i++) {
		glob_t g;

		dir_of(t->patterns[i], dir, sizeof(dir));
		if (!has_glob_chars(dir))
			(void)watch_dir(t, dir);
		if (glob(t->patterns[i], 0, NULL, &g) == 0) {
			for (j = 0; j < g.gl_pathc; j++)
				follow_new(t, g.gl_pathv[j]);
		}
		globfree(&g);
	}
}

/* ---- event handlers --------------------------------------------------------- */

static void check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail *t = arg;

	(void)fd;
	(void)what;
	if (t->want_check) {
		t->want_check = 0;
		check_all(t, 0);
	}
	if (t->want_rescan)
		rescan(t);
}

static void request_check(struct tail *t)
{
	static const struct timeval now = {0, 0};

	if ((t->want_check || t->want_rescan) && event_add(t->check_event, &now) == -1)
		log_warnx("cannot schedule a file check");
}

/* A write to a file in a watched directory: read the file of that name; a write
 * to an unknown name may be a predecessor under its rotated name. */
static void wake_by_name(struct tail *t, int wd, const char *name)
{
	struct tail_file *f;

	TAILQ_FOREACH(f, &t->files, link)
	{
		if (f->wd != wd)
			continue;
		if (f->drain != DRAIN_NONE ||
		    (name != NULL && strcmp(base_of(f->source->path), name) == 0))
			schedule_read(f);
	}
}

static void inotify_handle(struct tail *t, const struct inotify_event *ev)
{
	struct tail_file *f;

	if (ev->mask & IN_Q_OVERFLOW) {
		log_warnx("inotify queue overflowed, checking every file and pattern");
		t->want_check = t->want_rescan = 1;
		return;
	}
	if (ev->mask & IN_IGNORED) { /* directory gone: its watch went with it */
		TAILQ_FOREACH(f, &t->files, link)
		{
			if (f->wd == ev->wd)
				f->wd = -1;
		}
		t->want_check = t->want_rescan = 1;
		return;
	}
	if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF))
		t->want_rescan = 1;
	if (ev->mask &
	    (IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF))
		t->want_check = 1;
	if (ev->mask & IN_MODIFY)
		wake_by_name(t, ev->wd, ev->len > 0 ? ev->name : NULL);
}

static void inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail *t = arg;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	(void)what;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			inotify_handle(t, ev);
		}
	}
	if (n == -1 && errno != EAGAIN && log_ratelimit_allow(&t->warn_limit, "tail inotify"))
		log_warn("reading inotify events failed");
	request_check(t);
}

/* The backstop: inotify misses writes through symlinks, on some filesystems, and
 * when its queue overflows; every open file is checked and read this often. */
static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail *t = arg;

	(void)fd;
	(void)what;
	check_all(t, 1);
	if (t->want_rescan)
		rescan(t);
}

static void rescan_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tail *t = arg;

	(void)fd;
	(void)what;
	check_all(t, 0);
	rescan(t);
}

/* ---- restoring positions ------------------------------------------------------- */

/* Counts and logs at err a file whose lines will never be read; the reason is kept
 * for tail_problems (health reports it). */
static void problem(struct tail *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct tail *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->problem_reason, sizeof(t->problem_reason), fmt, ap);
	va_end(ap);
	t->problems++;
	log_errx("%s", t->problem_reason);
}

/* Follows fd (taken) as a file resumed at a verified saved position, or from 0 when
 * pos is NULL. Returns the file, or NULL (out of memory, logged). */
static struct tail_file *follow_restored(struct tail *t, const char *path,
                                         const struct tail_position *pos, int fd,
                                         const struct stat *st, const struct fingerprint *fp,
                                         enum tail_drain drain)
{
	struct tail_file *f;

	if ((f = file_alloc(t, path, fd, st)) == NULL)
		return NULL;
	if (pos != NULL)
		stream_resume(&f->stream, pos, fp);
	f->drain = drain;
	file_insert(t, f);
	schedule_read(f);
	return f;
}

/* The path's own file resumes if its bytes match pos and it has the saved inode or,
 * past offset 0, the same content (device numbers may change across boots). */
static int restore_at_path(struct tail *t, const struct tail_position *pos, const char *shown)
{
	struct fingerprint fp;
	struct stat st;
	int fd;

	if ((fd = open_regular(pos->path, &st)) == -1)
		return 0;
	if (file_by_inode(t, st.st_dev, st.st_ino) == NULL &&
	    ((uint64_t)st.st_ino == pos->ino || pos->offset > 0) &&
	    fingerprint_read(fd, pos->offset, &fp) == 0 && fingerprint_matches(&fp, pos)) {
		log_info("resuming file=%s inode=%" PRIu64 " offset=%" PRIu64, shown,
		         (uint64_t)st.st_ino, pos->offset);
		return follow_restored(t, pos->path, pos, fd, &st, &fp, DRAIN_NONE) != NULL;
	}
	if ((uint64_t)st.st_ino == pos->ino)
		log_info("saved position does not match the file (truncated, rewritten or inode "
		         "reused) file=%s offset=%" PRIu64,
		         shown, pos->offset);
	close(fd);
	return 0;
}

/* One of a followed file's older generations in its directory (rotated_names). */
struct rotated {
	char *name;
	struct stat st;
	int compressed;               /* by its name: it cannot be read as lines */
	size_t digits_at, digits_len; /* the number in its name, if any (digits_len > 0) */
	uint64_t number;
};

struct rotated_set {
	char dir[PATH_MAX];
	struct rotated *items; /* oldest first (rotated_order) */
	size_t count;
};

/* Numbers of up to this many digits count rotations (NAME.1 is newer than NAME.2);
 * longer ones are dates (NAME-20240102 is newer than NAME-20240101). */
#define ROTATED_INDEX_DIGITS 5

static int rotated_is_index(const struct rotated *r)
{
	return r->digits_len > 0 && r->digits_len <= ROTATED_INDEX_DIGITS;
}

/* Rotation order, oldest first: by the numbers in the names when both are counts or
 * both dates of one length (exact for logrotate, whose compression changes mtimes);
 * otherwise by mtime; then by name, so the order is total. */
static int rotated_order(const void *x, const void *y)
{
	const struct rotated *a = x, *b = y;
	int cmp;

	if (rotated_is_index(a) && rotated_is_index(b) && a->number != b->number)
		return a->number > b->number ? -1 : 1;
	if (a->digits_len > ROTATED_INDEX_DIGITS && a->digits_len == b->digits_len &&
	    (cmp = memcmp(a->name + a->digits_at, b->name + b->digits_at, a->digits_len)) != 0)
		return cmp;
	if (a->st.st_mtim.tv_sec != b->st.st_mtim.tv_sec)
		return a->st.st_mtim.tv_sec < b->st.st_mtim.tv_sec ? -1 : 1;
	if (a->st.st_mtim.tv_nsec != b->st.st_mtim.tv_nsec)
		return a->st.st_mtim.tv_nsec < b->st.st_mtim.tv_nsec ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Where the number in a rotated name is: the first run of digits after what the name
 * shares with the followed file's name (a.log.2, a.2.log, a.log-20240102.gz). */
static void rotated_number(struct rotated *r, const char *base)
{
	const char *name = r->name, *p;
	size_t common = 0;

	while (name[common] != '\0' && name[common] == base[common])
		common++;
	while (common > 0 && name[common] >= '0' && name[common] <= '9' &&
	       base[common - 1] >= '0' && base[common - 1] <= '9')
		common--; /* the shared part ended inside a number (a.1 -> a.10) */
	for (p = name + common; *p != '\0' && (*p < '0' || *p > '9'); p++)
		;
	r->digits_at = (size_t)(p - name);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (r->digits_len < 19)
			r->number = r->number * 10 + (uint64_t)(*p - '0');
		r->digits_len++;
	}
}

static int name_is_compressed(const char *name)
{
	static const char *const suffixes[] = {".gz", ".bz2",  ".xz",  ".zst", ".lz4",
	                                       ".Z",  ".lzma", ".zip", ".br"};
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i]);
		if (len > n && strcmp(name + len - n, suffixes[i]) == 0)
			return 1;
	}
	return 0;
}

/* The magic numbers of gzip, bzip2, xz, zstd and lz4: a compressed file under a name
 * without its suffix (logrotate's compressext) is still not read as lines. */
static int content_is_compressed(int fd)
{
	unsigned char m[6];

	if (pread_full(fd, m, sizeof(m), 0) == -1)
		return 0;
	return (m[0] == 0x1f && m[1] == 0x8b) || memcmp(m, "BZh", 3) == 0 ||
	       memcmp(m,
	              "\xfd"
	              "7zXZ\0",
	              6) == 0 ||
	       memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0 || memcmp(m, "\x04\x22\x4d\x18", 4) == 0;
}

/* pattern with %f, %b, %e replaced by the parts of base, glob characters in them
 * escaped. -1 when it does not fit. */
static int rotated_pattern(const char *pattern, const char *base, char *out, size_t size)
{
	const char *dot = strrchr(base, '.');
	size_t stem_len = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
	size_t n = 0;

	for (const char *p = pattern; *p != '\0'; p++) {
		const char *part = p;
		size_t len = 1;

		if (*p == '%') {
			p++;
			if (*p == 'f') {
				part = base;
				len = strlen(base);
			} else if (*p == 'b') {
				part = base;
				len = stem_len;
			} else if (*p == 'e') {
				part = base + stem_len;
				len = strlen(base) - stem_len;
			} else {
				part = p; /* %%: checked by tail_new, nothing else is left */
			}
			for (size_t i = 0; i < len; i++) {
				if (strchr("*?[]\\", part[i]) != NULL && n + 1 < size)
					out[n++] = '\\';
				if (n + 1 >= size)
					return -1;
				out[n++] = part[i];
			}
			continue;
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = *part;
	}
	out[n] = '\0';
	return 0;
}

static int rotated_matches(const struct tail *t, const char *name, const char *base)
{
	char pattern[2 * NAME_MAX + 64];

	if (strcmp(name, base) == 0)
		return 0;
	for (size_t i = 0; i < t->rotated_name_count; i++) {
		if (rotated_pattern(t->rotated_names[i], base, pattern, sizeof(pattern)) == 0 &&
		    fnmatch(pattern, name, 0) == 0)
			return 1;
	}
	return 0;
}

static void rotated_set_free(struct rotated_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		free(set->items[i].name);
	free(set->items);
	set->items = NULL;
	set->count = 0;
}

/* The regular files in path's directory that rotated_names call its older
 * generations, oldest first. -1 when the directory cannot be read. */
static int rotated_list(const struct tail *t, const char *path, struct rotated_set *set)
{
	const char *base = base_of(path);
	struct dirent *de;
	size_t capacity = 0;
	DIR *d;

	memset(set, 0, sizeof(*set));
	dir_of(path, set->dir, sizeof(set->dir));
	if ((d = opendir(set->dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		struct rotated r = {0};

		if (!rotated_matches(t, de->d_name, base) ||
		    fstatat(dirfd(d), de->d_name, &r.st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(r.st.st_mode))
			continue;
		if (set->count == capacity) {
			size_t more = capacity ? capacity * 2 : 8;
			set->items = xreallocarray(set->items, more, sizeof(*set->items));
			capacity = more;
		}
		r.name = xstrdup(de->d_name);
		r.compressed = name_is_compressed(r.name);
		rotated_number(&r, base);
		set->items[set->count++] = r;
	}
	closedir(d);
	if (set->count > 1)
		qsort(set->items, set->count, sizeof(*set->items), rotated_order);
	return 0;
}

/* "a.log.1 (300 bytes), a.log.2.gz (41 bytes, compressed)" for a log line. */
static void rotated_describe(const struct rotated_set *set, size_t from, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = from; i < set->count && n < size; i++) {
		char shown[256];
		int k = snprintf(out + n, size - n, "%s%s (%" PRIu64 " bytes%s)", n ? ", " : "",
		                 log_path(shown, sizeof(shown), set->items[i].name),
		                 (uint64_t)set->items[i].st.st_size,
		                 set->items[i].compressed ? ", compressed" : "");
		if (k < 0)
			break;
		n += (size_t)k;
	}
	if (n == 0)
		snprintf(out, size, "none");
}

/* Finds the saved file among the rotated ones: by its inode and fingerprints, or
 * (past offset 0) as a copytruncate copy, by fingerprints alone, the oldest such. Its
 * index, with fd, st and fp filled and *by_inode set; -1 if none. */
static ssize_t rotated_find(const struct tail *t, const struct rotated_set *set,
                            const struct tail_position *pos, int *fd, struct stat *st,
                            struct fingerprint *fp, int *by_inode)
{
	DIR *d;
	ssize_t found = -1;

	if (set->count == 0 || (d = opendir(set->dir)) == NULL)
		return -1;
	for (int pass = 1; pass >= 0 && found == -1; pass--) {
		if (pass == 0 && pos->offset == 0)
			break; /* empty fingerprints match anything: inode only */
		for (size_t i = 0; i < set->count && found == -1; i++) {
			const struct rotated *r = &set->items[i];
			if (r->compressed || (pass == 1 && (uint64_t)r->st.st_ino != pos->ino))
				continue;
			*fd = candidate_open(t, dirfd(d), r->name, pos, pass, st, fp);
			if (*fd != -1) {
				found = (ssize_t)i;
				*by_inode = pass;
			}
		}
	}
	closedir(d);
	return found;
}

/* The rotated names newer than the one at `at` whose numbers are missing (deleted
 * while we were down): NAME.3 found, so NAME.2 and NAME.1 must exist, plain or
 * compressed. Logged and counted. */
static void rotated_check_gaps(struct tail *t, const struct rotated_set *set, size_t at,
                               const char *shown)
{
	const struct rotated *saved = &set->items[at];

	if (!rotated_is_index(saved))
		return;
	for (uint64_t want = 1; want < saved->number; want++) {
		size_t i;
		for (i = 0; i < set->count; i++) {
			if (rotated_is_index(&set->items[i]) && set->items[i].number == want)
				break;
		}
		if (i == set->count) {
			char name[NAME_MAX + 32], name_shown[256];
			snprintf(name, sizeof(name), "%.*s%" PRIu64 "%s", (int)saved->digits_at,
			         saved->name, want,
			         saved->name + saved->digits_at + saved->digits_len);
			problem(t,
			        "rotated file deleted while stopped: its lines are lost file=%s "
			        "missing=%s/%s",
			        shown, set->dir, log_path(name_shown, sizeof(name_shown), name));
		}
	}
}

/* Reads whole, after the saved file, every rotated file newer than it (at `at`): they
 * were written while we were down. Compressed ones are reported instead. Returns the
 * last file followed, or NULL. */
static struct tail_file *rotated_follow_newer(struct tail *t, const char *path,
                                              const struct rotated_set *set, size_t at,
                                              const char *shown)
{
	struct tail_file *last = NULL, *f;
	char path_shown[256];
	int dir_fd;

	rotated_check_gaps(t, set, at, shown);
	if ((dir_fd = open(set->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return NULL;
	for (size_t i = at + 1; i < set->count; i++) {
		const struct rotated *r = &set->items[i];
		struct stat st;
		int fd = -1;

		log_path(path_shown, sizeof(path_shown), r->name);
		if (!r->compressed)
			fd = openat(dir_fd, r->name,
			            O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
		if (fd != -1 && (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		                 file_by_inode(t, st.st_dev, st.st_ino) != NULL)) {
			close(fd);
			continue;
		}
		if (r->compressed || fd == -1 || content_is_compressed(fd)) {
			const char *why =
			    r->compressed || fd != -1 ? "compressed" : strerror(errno);
			if (fd != -1)
				close(fd);
			problem(t,
			        "rotated file written while stopped cannot be read (%s): its lines "
			        "are lost file=%s rotated=%s/%s size=%" PRIu64,
			        why, shown, set->dir, path_shown, (uint64_t)r->st.st_size);
			continue;
		}
		log_info("rotated while stopped and never read, reading it whole file=%s from=%s "
		         "size=%" PRIu64,
		         shown, path_shown, (uint64_t)st.st_size);
		if ((f = follow_restored(t, path, NULL, fd, &st, NULL, DRAIN_SUPERSEDED)) != NULL)
			last = f;
	}
	close(dir_fd);
	return last;
}

/* The saved positions of one path, oldest file first (a predecessor and its
 * successor when the checkpoint was taken during a rotation). The newest one that
 * is still found decides what else was written while we were down:
 *
 *   - found at the path: nothing was rotated after it;
 *   - found among the rotated names (renamed, or a copytruncate copy): every rotated
 *     file after it in rotation order is newer, never read, and is read whole, in
 *     order, before the path's current file (which the rescan opens from 0);
 *   - found elsewhere in the directory (a name rotated_names do not cover): read to
 *     its end, but nothing newer can be ordered, so nothing else is read;
 *   - not found (deleted, compressed, inode reused): its unread lines, and those of
 *     the files rotated after it, cannot be told apart from older rotated files that
 *     were read long ago; none is read (a double count is worse than a reported
 *     loss), and the rotated files present are named in the error.
 *
 * The last file followed is the only one a writer may still append to; the others
 * are let go as soon as they are read. */
static void restore_path(struct tail *t, const struct tail_position *positions, size_t count)
{
	const char *path = positions[0].path;
	struct tail_file *newest = NULL, *f;
	struct rotated_set set;
	ssize_t newest_at = -1;
	int at_path = 0, listed;
	char shown[256], name[NAME_MAX + 1], present[768];

	log_path(shown, sizeof(shown), path);
	listed = rotated_list(t, path, &set) == 0;
	for (size_t i = 0; i < count; i++) {
		const struct tail_position *pos = &positions[i];
		struct fingerprint fp;
		struct stat st;
		int fd = -1, by_inode = 0;
		ssize_t at;

		if (restore_at_path(t, pos, shown)) {
			at_path = 1;
			continue;
		}
		if ((at = rotated_find(t, &set, pos, &fd, &st, &fp, &by_inode)) != -1) {
			snprintf(name, sizeof(name), "%s", set.items[at].name);
		} else if ((fd = find_continuation(t, pos, &st, &fp, &by_inode, name,
		                                   sizeof(name))) == -1) {
			rotated_describe(&set, 0, present, sizeof(present));
			problem(
			    t,
			    "file replaced while stopped and the file read last is gone (deleted, "
			    "compressed, or its inode reused): its lines after the saved offset, "
			    "and those of the files rotated after it, may be lost; none of the "
			    "rotated files is read file=%s inode=%" PRIu64 " offset=%" PRIu64
			    " rotated_files=%s",
			    shown, pos->ino, pos->offset, present);
			newest = NULL; /* what came after it cannot be ordered */
			continue;
		}
		log_info("file rotated while stopped, reading the rest first file=%s from=%s "
		         "offset=%" PRIu64,
		         shown, name, pos->offset);
		f = follow_restored(t, path, pos, fd, &st, &fp,
		                    by_inode ? DRAIN_ROTATED : DRAIN_COPY);
		if (f != NULL) {
			newest = f;
			newest_at = at;
		}
	}
	if (!at_path && newest != NULL && newest_at != -1 && listed &&
	    (f = rotated_follow_newer(t, path, &set, (size_t)newest_at, shown)) != NULL) {
		if (newest->drain == DRAIN_ROTATED)
			newest->drain = DRAIN_SUPERSEDED;
		f->drain = DRAIN_ROTATED; /* the newest: its writer may not have moved on yet */
	}
	rotated_set_free(&set);
}

/* ---- public interface ------------------------------------------------------- */

static int tail_settings_apply(struct tail *t, const struct tail_settings *settings, char *err,
                               size_t errlen)
{
	if (settings->pattern_count == 0) {
		snprintf(err, errlen, "no input files to follow");
		return -1;
	}
	if (settings->max_line_bytes > LIMIT_LINE_BYTES_MAX) {
		snprintf(err, errlen, "max_line_bytes %zu is above the limit %d",
		         settings->max_line_bytes, LIMIT_LINE_BYTES_MAX);
		return -1;
	}
	t->max_line_bytes =
	    settings->max_line_bytes ? settings->max_line_bytes : LIMIT_LINE_BYTES_DEFAULT;
	t->read_budget =
	    settings->read_budget_bytes ? settings->read_budget_bytes : LIMIT_READ_CHUNK;
	t->poll_ms =
	    settings->poll_interval_ms > 0 ? settings->poll_interval_ms : TAIL_POLL_DEFAULT_MS;
	t->rescan_ms = settings->rescan_interval_ms > 0 ? settings->rescan_interval_ms
	                                                : TAIL_RESCAN_DEFAULT_MS;
	t->rotate_wait_ms =
	    settings->rotate_wait_ms > 0 ? settings->rotate_wait_ms : TAIL_ROTATE_WAIT_DEFAULT_MS;
	return 0;
}

/* Checks one rotated_names pattern: %f or %b must anchor it to the file's name (or it
 * would take unrelated files for generations), and only %f %b %e %% are known. */
int tail_check_rotated_name(const char *pattern, char *err, size_t errlen)
{
	int anchored = 0;

	for (const char *p = pattern; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == 'f' || *p == 'b')
			anchored = 1;
		else if (*p != 'e' && *p != '%') {
			snprintf(err, errlen, "rotated_names pattern \"%s\": unknown %%%c", pattern,
			         *p ? *p : ' ');
			return -1;
		}
	}
	if (!anchored) {
		snprintf(err, errlen, "rotated_names pattern \"%s\" has neither %%f nor %%b",
		         pattern);
		return -1;
	}
	if (strlen(pattern) > NAME_MAX) {
		snprintf(err, errlen, "rotated_names pattern \"%.32s...\" is too long", pattern);
		return -1;
	}
	return 0;
}

/* Splits rotated_names at blanks into t->rotated_names, each one checked. */
static int tail_rotated_names_apply(struct tail *t, const char *names, char *err, size_t errlen)
{
	const char *p = names != NULL && names[strspn(names, " \t")] != '\0'
	                    ? names
	                    : TAIL_ROTATED_NAMES_DEFAULT;

	while (*(p += strspn(p, " \t")) != '\0') {
		size_t len = strcspn(p, " \t");
		char *pattern = xstrndup(p, len);

		t->rotated_names = xreallocarray(t->rotated_names, t->rotated_name_count + 1,
		                                 sizeof(*t->rotated_names));
		t->rotated_names[t->rotated_name_count++] = pattern;
		if (tail_check_rotated_name(pattern, err, errlen) == -1)
			return -1;
		p += len;
	}
	return 0;
}

struct tail *tail_new(struct event_base *base, const struct tail_settings *settings,
                      tail_line_fn fn, void *ctx, char *err, size_t errlen)
{
	struct tail *t;
	size_t i;

	t = xcalloc(1, sizeof(*t));
	t->base = base;
	t->fn = fn;
	t->ctx = ctx;
	t->inotify_fd = -1;
	t->warn_limit.per_second = LIMIT_ERROR_LOGS_PER_SECOND;
	TAILQ_INIT(&t->files);
	TAILQ_INIT(&t->sources);
	if (tail_settings_apply(t, settings, err, errlen) == -1 ||
	    tail_rotated_names_apply(t, settings->rotated_names, err, errlen) == -1)
		goto fail;
	t->patterns = xcalloc(settings->pattern_count, sizeof(*t->patterns));
	for (i = 0; i < settings->pattern_count; i++, t->pattern_count++)
		t->patterns[i] = xstrdup(settings->patterns[i]);
	t->poll_event = event_new(base, -1, EV_PERSIST, poll_cb, t);
	t->rescan_event = event_new(base, -1, EV_PERSIST, rescan_cb, t);
	t->check_event = event_new(base, -1, 0, check_cb, t);
	if (t->poll_event != NULL && t->rescan_event != NULL && t->check_event != NULL)
		return t;
	snprintf(err, errlen, "out of memory");
fail:
	tail_free(t);
	return NULL;
}

int tail_restore(struct tail *t, const struct tail_position *positions, size_t count)
{
	size_t i;

	if (t->started || t->restored != NULL)
		return -1;
	if (count == 0)
		return 0;
	t->restored = xcalloc(count, sizeof(*t->restored));
	for (i = 0; i < count; i++, t->restored_count++) {
		t->restored[i] = positions[i];
		t->restored[i].path = xstrdup(positions[i].path);
	}
	return 0;
}

static void inotify_start(struct tail *t)
{
	t->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->inotify_fd == -1) {
		log_warn(
		    "inotify unavailable, following files by polling poll_interval_ms=%" PRId64,
		    t->poll_ms);
		return;
	}
	t->inotify_event = event_new(t->base, t->inotify_fd, EV_READ | EV_PERSIST, inotify_cb, t);
	if (t->inotify_event == NULL || event_add(t->inotify_event, NULL) == -1) {
		log_warnx("cannot watch inotify, following files by polling");
		if (t->inotify_event != NULL)
			event_free(t->inotify_event);
		t->inotify_event = NULL;
		close(t->inotify_fd);
		t->inotify_fd = -1;
	}
}

static struct timeval ms_to_timeval(int64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

/* Restores the saved positions path by path, each path's in the order saved
 * (a predecessor before its successor). */
static void restore_all(struct tail *t)
{
	struct tail_position *group;
	size_t i, j, n;

	if (t->restored_count == 0)
		return;
	group = xcalloc(t->restored_count, sizeof(*group));
	for (i = 0; i < t->restored_count; i++) {
		const char *path = t->restored[i].path;
		for (j = 0; j < i && strcmp(t->restored[j].path, path) != 0; j++)
			;
		if (j < i)
			continue; /* restored with the first position of its path */
		for (j = i, n = 0; j < t->restored_count; j++) {
			if (strcmp(t->restored[j].path, path) == 0)
				group[n++] = t->restored[j]; /* borrows the path strings */
		}
		restore_path(t, group, n);
	}
	free(group);
}

int tail_start(struct tail *t)
{
	struct timeval poll = ms_to_timeval(t->poll_ms), again = ms_to_timeval(t->rescan_ms);

	if (t->started)
		return -1;
	t->started = 1;
	inotify_start(t);
	restore_all(t);
	tail_positions_free(t->restored, t->restored_count);
	t->restored = NULL;
	t->restored_count = 0;
	rescan(t);
	if (event_add(t->poll_event, &poll) == -1 || event_add(t->rescan_event, &again) == -1) {
		log_warnx("cannot arm the tail timers");
		return -1;
	}
	return 0;
}

void tail_pause(struct tail *t)
{
	t->paused = 1;
}

void tail_resume(struct tail *t)
{
	struct tail_file *f;

	if (!t->paused)
		return;
	t->paused = 0;
	TAILQ_FOREACH(f, &t->files, link)
	{
		schedule_read(f);
	}
}

void tail_positions(struct tail *t, struct tail_position **out, size_t *count)
{
	struct tail_position *positions;
	struct tail_file *f;
	size_t n = 0;

	*out = NULL;
	*count = 0;
	TAILQ_FOREACH(f, &t->files, link)
	{
		n++;
	}
	if (n == 0)
		return;
	positions = xcalloc(n, sizeof(*positions));
	n = 0;
	TAILQ_FOREACH(f, &t->files, link)
	{
		struct tail_position *p = &positions[n];
		p->path = xstrdup(f->source->path);
		n++;
		p->dev = f->dev;
		p->ino = f->ino;
		p->line_no = f->stream.done_line_no;
		p->in_overlong = f->stream.done_in_overlong;
		stream_position(&f->stream, f->stream.done, p);
	}
	*out = positions;
	*count = n;
}

void tail_positions_free(struct tail_position *positions, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(positions[i].path);
	free(positions);
}

void tail_set_follow(struct tail *t, tail_follow_fn fn, void *ctx)
{
	t->follow_fn = fn;
	t->follow_ctx = ctx;
}

uint32_t tail_rank(const struct tail *t, const char *path)
{
	uint32_t i;

	/* glob(3) matches what fnmatch(3) does with these flags */
	for (i = 0; i < t->pattern_count; i++)
		if (fnmatch(t->patterns[i], path, FNM_PATHNAME | FNM_PERIOD) == 0)
			return i;
	return i;
}

/* Whether a file of this name may deliver a line without more being written: one
 * not read to its end yet (a backlog), or shorter than its file. Judged by the file,
 * not by a read being scheduled: the poll timer schedules a read of every file each
 * poll_interval, and a merge that took that for unread lines held the other inputs
 * back whenever it fell in the same loop pass as the flush tick (seconds at a time,
 * as the two 1 s timers drifted past each other). */
static int file_has_unread(const struct tail_file *f)
{
	struct stat st;

	if (!f->at_eof)
		return 1;
	return fstat(f->fd, &st) == 0 && (uint64_t)st.st_size != f->stream.read_offset;
}

int tail_at_end(const struct tail *t, const char *path)
{
	const struct tail_file *f;

	TAILQ_FOREACH(f, &t->files, link)
	{
		if (strcmp(f->source->path, path) == 0 && file_has_unread(f))
			return 0;
	}
	return 1;
}

int tail_idle(const struct tail *t)
{
	const struct tail_file *f;

	TAILQ_FOREACH(f, &t->files, link)
	{
		if (file_has_unread(f))
			return 0;
	}
	return 1;
}

size_t tail_stats(const struct tail *t, struct tail_file_stats *out, size_t max)
{
	const struct tail_source *s;
	size_t n = 0;

	TAILQ_FOREACH(s, &t->sources, link)
	{
		if (n == max)
			break;
		out[n].path = s->path;
		out[n].lines = s->lines;
		out[n].bytes = s->bytes;
		out[n].rotations = s->rotations;
		out[n].truncations = s->truncations;
		n++;
	}
	return n;
}

uint64_t tail_skipped(const struct tail *t)
{
	return t->warned_count;
}

uint64_t tail_problems(const struct tail *t, const char **reason)
{
	if (reason != NULL)
		*reason = t->problem_reason;
	return t->problems;
}

void tail_free(struct tail *t)
{
	struct tail_file *f;

	if (t == NULL)
		return;
	while ((f = TAILQ_FIRST(&t->files)) != NULL)
		file_free(t, f);
	if (t->inotify_event != NULL)
		event_free(t->inotify_event);
	if (t->inotify_fd != -1)
		close(t->inotify_fd);
	if (t->poll_event != NULL)
		event_free(t->poll_event);
	if (t->rescan_event != NULL)
		event_free(t->rescan_event);
	if (t->check_event != NULL)
		event_free(t->check_event);
	for (size_t i = 0; i < t->pattern_count; i++)
		free(t->patterns[i]);
	free(t->patterns);
	for (size_t i = 0; i < t->rotated_name_count; i++)
		free(t->rotated_names[i]);
	free(t->rotated_names);
	tail_positions_free(t->restored, t->restored_count);
	for (size_t i = 0; i < t->warned_count; i++)
		free(t->warned[i]);
	free(t);
}
