/*
 * lines.c owns line splitting for every input path (batch files, stdin, tailed
 * files). It never interprets line content; it only frames it.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/limits.h"
#include "chatlogd/lines.h"
#include "chatlogd/util.h"

void lines_init_sized(struct lines *lr, size_t max_line, size_t chunk)
{
	memset(lr, 0, sizeof(*lr));
	lr->max_line = max_line;
	lr->chunk = chunk;
	/* Room for one maximal line plus a full read chunk behind it. */
	lr->capacity = max_line + 1 + chunk;
	lr->buf = xmalloc(lr->capacity);
}

void lines_init(struct lines *lr, size_t max_line)
{
	lines_init_sized(lr, max_line, LIMIT_READ_CHUNK);
}

void lines_free(struct lines *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}

size_t lines_space(struct lines *lr, char **space)
{
	/* Slide the partial line to the front when the tail is short of a chunk. */
	if (lr->capacity - lr->end < lr->chunk && lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	*space = lr->buf + lr->end;
	return lr->capacity - lr->end;
}

static void emit_lines(struct lines *lr, lines_fn fn, void *ctx)
{
	char *p = lr->buf + lr->start;
	char *limit = lr->buf + lr->end;

	for (;;) {
		char *nl = memchr(p, '\n', (size_t)(limit - p));
		if (nl == NULL)
			break;
		lr->line_no++;
		if (lr->skipping)
			lr->skipping = 0; /* the tail of an overlong line already reported */
		else if ((size_t)(nl - p) > lr->max_line)
			fn(ctx, p, lr->max_line, lr->line_no, 1);
		else
			fn(ctx, p, (size_t)(nl - p), lr->line_no, 0);
		p = nl + 1;
	}
	lr->start = (size_t)(p - lr->buf);
	if (lr->start == lr->end)
		lr->start = lr->end = 0;
	/* A partial line already past the limit: report it now and drop its bytes, so
	 * memory stays bounded however long the line grows. */
	if (!lr->skipping && lr->end - lr->start > lr->max_line) {
		fn(ctx, lr->buf + lr->start, lr->max_line, lr->line_no + 1, 1);
		lr->skipping = 1;
	}
	if (lr->skipping)
		lr->start = lr->end = 0;
}

void lines_commit(struct lines *lr, size_t n, lines_fn fn, void *ctx)
{
	lr->end += n;
	emit_lines(lr, fn, ctx);
}

void lines_feed(struct lines *lr, const char *data, size_t len, lines_fn fn, void *ctx)
{
	while (len > 0) {
		char *space;
		size_t room = lines_space(lr, &space);
		size_t n = len < room ? len : room;
		memcpy(space, data, n);
		lines_commit(lr, n, fn, ctx);
		data += n;
		len -= n;
	}
}

void lines_finish(struct lines *lr, lines_fn fn, void *ctx)
{
	if (lr->skipping) {
		lr->line_no++;
		lr->skipping = 0;
	} else if (lr->end > lr->start) {
		lr->line_no++;
		fn(ctx, lr->buf + lr->start, lr->end - lr->start, lr->line_no, 0);
	}
	lr->start = lr->end = 0;
}

size_t lines_pending(const struct lines *lr)
{
	return lr->end - lr->start;
}
