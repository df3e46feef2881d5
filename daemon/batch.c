/*
 * batch.c owns reading finished files for `--once`: large reads straight into the
 * line framer's buffer, no tailing, no offsets; several files are read side by side
 * and merged by event time (reference.md §2).
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "chatlogd/batch.h"
#include "chatlogd/log.h"
#include "chatlogd/util.h"

static const char *const file_error_text[] = {
    [BATCH_CANNOT_OPEN] = "cannot open",
    [BATCH_READ_FAILED] = "read failed",
};

void batch_log_file_error(enum batch_file_error what, const char *path, int errnum)
{
	if (errnum == 0) {
		log_warnx("%s file=%s", file_error_text[what], path);
	} else {
		errno = errnum;
		log_warn("%s file=%s", file_error_text[what], path);
	}
}

int batch_read_lines(const char *path, size_t max_line_bytes, lines_fn fn, batch_error_fn on_error,
                     void *ctx)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	struct lines lr;
	int rc = 0;

	if (fd == -1) {
		on_error(ctx, BATCH_CANNOT_OPEN, path, errno);
		return -1;
	}
	lines_init(&lr, max_line_bytes);
#ifdef POSIX_FADV_SEQUENTIAL
	if (!is_stdin)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	for (;;) {
		char *space;
		size_t room = lines_space(&lr, &space);
		ssize_t n = read(fd, space, room);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			on_error(ctx, BATCH_READ_FAILED, path, errno);
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		lines_commit(&lr, (size_t)n, fn, ctx);
	}
	lines_finish(&lr, fn, ctx);
	lines_free(&lr);
	if (!is_stdin)
		close(fd);
	return rc;
}

static void log_error(void *ctx, enum batch_file_error what, const char *path, int errnum)
{
	(void)ctx;
	batch_log_file_error(what, path, errnum);
}

int batch_read_file(struct ingest *in, const char *path, size_t max_line_bytes)
{
	in->source = path;
	return batch_read_lines(path, max_line_bytes, ingest_line, log_error, in);
}

static void ingest_counted_line(void *ctx)
{
	((struct ingest *)ctx)->stats.lines++;
}

static void ingest_merged_record(void *ctx, const char *path, uint64_t line_no,
                                 const struct record *rec)
{
	struct ingest *in = ctx;
	in->source = path;
	ingest_record(in, rec, line_no);
}

static void ingest_bad_line(void *ctx, const char *path, uint64_t line_no, const char *reason)
{
	struct ingest *in = ctx;
	in->source = path;
	ingest_error(in, line_no, reason);
}

int batch_read_files(struct ingest *in, char **files, int file_count, size_t max_line_bytes)
{
	static const struct batch_sink into_ingest = {
	    .line = ingest_counted_line,
	    .record = ingest_merged_record,
	    .bad_line = ingest_bad_line,
	    .file_error = log_error,
	};

	if (file_count == 1) /* one file is its own sequence: no copies */
		return batch_read_file(in, files[0], max_line_bytes);
	return batch_merge(files, file_count, max_line_bytes, in->parser, in->max_ts_ms,
	                   &into_ingest, in);
}

/* An ingest with a call after every line it takes (batch_read_files_each). */
struct hooked_ingest {
	struct ingest *in;
	void (*after)(void *ctx);
	void *ctx;
};

static void hooked_line(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong)
{
	struct hooked_ingest *h = ctx;

	ingest_line(h->in, line, len, line_no, overlong);
	h->after(h->ctx);
}

static void hooked_counted_line(void *ctx)
{
	ingest_counted_line(((struct hooked_ingest *)ctx)->in);
}

static void hooked_record(void *ctx, const char *path, uint64_t line_no, const struct record *rec)
{
	struct hooked_ingest *h = ctx;

	ingest_merged_record(h->in, path, line_no, rec);
	h->after(h->ctx);
}

static void hooked_bad_line(void *ctx, const char *path, uint64_t line_no, const char *reason)
{
	struct hooked_ingest *h = ctx;

	ingest_bad_line(h->in, path, line_no, reason);
	h->after(h->ctx);
}

int batch_read_files_each(struct ingest *in, char **files, int file_count, size_t max_line_bytes,
                          void (*after)(void *ctx), void *ctx)
{
	static const struct batch_sink into_hooked = {
	    .line = hooked_counted_line,
	    .record = hooked_record,
	    .bad_line = hooked_bad_line,
	    .file_error = log_error,
	};
	struct hooked_ingest h = {.in = in, .after = after, .ctx = ctx};

	if (file_count == 1) {
		in->source = files[0];
		return batch_read_lines(files[0], max_line_bytes, hooked_line, log_error, &h);
	}
	return batch_merge(files, file_count, max_line_bytes, in->parser, in->max_ts_ms,
	                   &into_hooked, &h);
}

/* ---- several files: one sequence merged by event time (reference.md §2) ---- */

/* Read size per file when many are open at once: memory stays at about
 * (max_line_bytes + this) per file. */
#define MERGE_SMALL_CHUNK (64 * 1024)
#define MERGE_FEW_FILES 8

struct framed_line {
	const char *ptr;
	size_t len;
	uint64_t line_no;
	int overlong;
};

/* One file of the merge: its framer, the lines framed from the last read and not yet
 * parsed, and its next record (strings copied: the parser is shared). */
struct cursor {
	const char *path;
	int fd;
	int rank; /* position on the command line: ties go to the lower */
	int at_end;
	struct lines lr;
	struct framed_line *framed;
	size_t framed_count, framed_next, framed_capacity;
	struct record head;
	uint64_t head_line_no;
	char *head_bytes;
	size_t head_capacity;
};

struct merge {
	struct cursor *cursors;
	int *heap; /* cursors with a head, by (ts, rank) */
	int heap_count;
	struct parser *parser;
	int64_t max_ts_ms;
	const struct batch_sink *sink;
	void *ctx;
	int rc;
};

static void collect_line(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong)
{
	struct cursor *c = ctx;

	if (c->framed_count == c->framed_capacity) {
		size_t capacity = c->framed_capacity ? c->framed_capacity * 2 : 256;
		c->framed = xreallocarray(c->framed, capacity, sizeof(*c->framed));
		c->framed_capacity = capacity;
	}
	c->framed[c->framed_count++] = (struct framed_line){line, len, line_no, overlong};
}

/* Frames the next piece of the file; sets at_end at its end or on a read error. */
static void cursor_read(struct merge *m, struct cursor *c)
{
	char *space;
	size_t room;
	ssize_t n;

	c->framed_count = c->framed_next = 0;
	room = lines_space(&c->lr, &space);
	do
		n = read(c->fd, space, room);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		m->sink->file_error(m->ctx, BATCH_READ_FAILED, c->path, errno);
		m->rc = -1;
	}
	if (n <= 0) {
		lines_finish(&c->lr, collect_line, c);
		c->at_end = 1;
		return;
	}
	lines_commit(&c->lr, (size_t)n, collect_line, c);
}

static char *copy_into(char *dst, struct text_view *v)
{
	if (v->len > 0)
		v->ptr = memcpy(dst, v->ptr, v->len);
	return dst + v->len;
}

/* Keeps the parsed record as the cursor's head, its strings in the cursor's bytes. */
static void cursor_keep(struct cursor *c, const struct record *rec, uint64_t line_no)
{
	size_t need =
	    rec->shop.len + rec->buyer.len + rec->agent.len + rec->text.len + rec->order.len;
	char *p;

	if (need > c->head_capacity) {
		c->head_bytes = xreallocarray(c->head_bytes, need, 1);
		c->head_capacity = need;
	}
	c->head = *rec;
	c->head_line_no = line_no;
	p = c->head_bytes;
	p = copy_into(p, &c->head.shop);
	p = copy_into(p, &c->head.buyer);
	p = copy_into(p, &c->head.agent);
	p = copy_into(p, &c->head.text);
	copy_into(p, &c->head.order);
}

/* Moves the cursor to its next record: 1 when it has one, 0 at the end of the file.
 * Blank lines are passed over; bad lines are handed out on the way. */
static int cursor_next(struct merge *m, struct cursor *c)
{
	struct record rec;
	char err[128];

	for (;;) {
		const struct framed_line *fl;
		if (c->framed_next == c->framed_count) {
			if (c->at_end)
				return 0;
			cursor_read(m, c);
			continue;
		}
		fl = &c->framed[c->framed_next++];
		m->sink->line(m->ctx);
		switch (ingest_parse(m->parser, fl->ptr, fl->len, fl->overlong, m->max_ts_ms, &rec,
		                     err, sizeof(err))) {
		case INGEST_BLANK:
			break;
		case INGEST_BAD:
			m->sink->bad_line(m->ctx, c->path, fl->line_no, err);
			break;
		case INGEST_RECORD:
			cursor_keep(c, &rec, fl->line_no);
			return 1;
		}
	}
}

/* (ts, rank) order of two cursors' heads. */
static int head_before(const struct merge *m, int a, int b)
{
	const struct cursor *x = &m->cursors[a], *y = &m->cursors[b];

	if (x->head.ts_ms != y->head.ts_ms)
		return x->head.ts_ms < y->head.ts_ms;
	return x->rank < y->rank;
}

static void heap_sift_down(struct merge *m, int i)
{
	for (;;) {
		int child = 2 * i + 1, tmp;
		if (child >= m->heap_count)
			return;
		if (child + 1 < m->heap_count && head_before(m, m->heap[child + 1], m->heap[child]))
			child++;
		if (!head_before(m, m->heap[child], m->heap[i]))
			return;
		tmp = m->heap[i];
		m->heap[i] = m->heap[child];
		m->heap[child] = tmp;
		i = child;
	}
}

static void heap_push(struct merge *m, int cursor)
{
	int i = m->heap_count++;

	m->heap[i] = cursor;
	while (i > 0 && head_before(m, m->heap[i], m->heap[(i - 1) / 2])) {
		int parent = (i - 1) / 2, tmp = m->heap[i];
		m->heap[i] = m->heap[parent];
		m->heap[parent] = tmp;
		i = parent;
	}
}

static int cursor_open(struct merge *m, struct cursor *c, const char *path, int rank,
                       size_t max_line_bytes, size_t chunk)
{
	c->path = path;
	c->rank = rank;
	c->fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd == -1) {
		m->sink->file_error(m->ctx, BATCH_CANNOT_OPEN, path, errno);
		return -1;
	}
	lines_init_sized(&c->lr, max_line_bytes, chunk);
#ifdef POSIX_FADV_SEQUENTIAL
	if (c->fd != STDIN_FILENO)
		(void)posix_fadvise(c->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	return 0;
}

int batch_merge(char **files, int file_count, size_t max_line_bytes, struct parser *parser,
                int64_t max_ts_ms, const struct batch_sink *sink, void *ctx)
{
	size_t chunk = file_count <= MERGE_FEW_FILES ? LIMIT_READ_CHUNK : MERGE_SMALL_CHUNK;
	struct merge m = {.parser = parser, .max_ts_ms = max_ts_ms, .sink = sink, .ctx = ctx};

	m.cursors = xcalloc((size_t)file_count, sizeof(*m.cursors));
	m.heap = xcalloc((size_t)file_count, sizeof(*m.heap));
	for (int i = 0; i < file_count; i++) {
		if (cursor_open(&m, &m.cursors[i], files[i], i, max_line_bytes, chunk) == -1)
			m.rc = -1;
		else if (cursor_next(&m, &m.cursors[i]))
			heap_push(&m, i);
	}
	while (m.heap_count > 0) {
		struct cursor *c = &m.cursors[m.heap[0]];
		sink->record(ctx, c->path, c->head_line_no, &c->head);
		if (!cursor_next(&m, c))
			m.heap[0] = m.heap[--m.heap_count];
		heap_sift_down(&m, 0);
	}
	for (int i = 0; i < file_count; i++) {
		struct cursor *c = &m.cursors[i];
		if (c->fd > STDIN_FILENO)
			close(c->fd);
		if (c->fd != -1)
			lines_free(&c->lr);
		free(c->framed);
		free(c->head_bytes);
	}
	free(m.cursors);
	free(m.heap);
	return m.rc;
}
