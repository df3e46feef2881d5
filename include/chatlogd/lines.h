/*
 * Splitting a byte stream into lines: counts line numbers, holds a partial last
 * line until its newline arrives, and cuts lines longer than the limit (reported
 * once, then skipped to the next newline) so one bad line never pins memory.
 */
#ifndef CHATLOGD_LINES_H
#define CHATLOGD_LINES_H

#include <stddef.h>
#include <stdint.h>

/* Called once per line, without its '\n'. overlong != 0 means the line exceeded the
 * limit: line/len are then only its first bytes and the line is to be counted as an
 * error. line_no counts from 1. */
typedef void (*lines_fn)(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong);

struct lines {
	char *buf;
	size_t capacity;
	size_t start; /* first byte of the pending partial line */
	size_t end;   /* bytes in buf */
	size_t max_line;
	size_t chunk;     /* bytes read at a time */
	uint64_t line_no; /* lines completed so far */
	int skipping;     /* inside an overlong line already reported */
};

/* Prepares a reader for lines of at most max_line bytes. */
void lines_init(struct lines *lr, size_t max_line);

/* Same, reading `chunk` bytes at a time instead of LIMIT_READ_CHUNK (a merge of many
 * files keeps one reader per file). */
void lines_init_sized(struct lines *lr, size_t max_line, size_t chunk);
void lines_free(struct lines *lr);

/* Space to read into at *space: the rest of the buffer, at least the read chunk
 * once the partial line is slid to the front. Returns its size. */
size_t lines_space(struct lines *lr, char **space);

/* Accepts n bytes written at the space lines_space gave, emitting complete lines. */
void lines_commit(struct lines *lr, size_t n, lines_fn fn, void *ctx);

/* Copies data in and emits complete lines (for callers that already hold bytes). */
void lines_feed(struct lines *lr, const char *data, size_t len, lines_fn fn, void *ctx);

/* End of input: emits a last line that has no newline (batch mode). */
void lines_finish(struct lines *lr, lines_fn fn, void *ctx);

/* Bytes of a partial line held back (not yet emitted). */
size_t lines_pending(const struct lines *lr);

#endif
