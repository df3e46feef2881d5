/*
 * Batch input: reads whole files (or stdin for "-") through the line framer into an
 * ingest. Several files are read side by side and merged by event time into one
 * sequence (reference.md §2), so the numbers do not depend on how records are spread
 * over files.
 */
#ifndef CHATLOGD_BATCH_H
#define CHATLOGD_BATCH_H

#include "ingest.h"
#include "lines.h"

/* Reads path to its end (a last line without newline counts). Returns 0, or -1 when
 * the file cannot be opened or read (logged). */
int batch_read_file(struct ingest *in, const char *path, size_t max_line_bytes);

/* The files as one sequence merged by ts (one file: batch_read_file). Returns 0, or
 * -1 when any failed. */
int batch_read_files(struct ingest *in, char **files, int file_count, size_t max_line_bytes);

/* batch_read_files, calling after(ctx) after every line the ingest took: a caller
 * that hands on what the engine emitted (--once --redis) does it there, at points that
 * depend only on the input. */
int batch_read_files_each(struct ingest *in, char **files, int file_count, size_t max_line_bytes,
                          void (*after)(void *ctx), void *ctx);

enum batch_file_error { BATCH_CANNOT_OPEN, BATCH_READ_FAILED };

/* What batch_merge hands out, in order. Records are borrowed for the call. */
struct batch_sink {
	void (*line)(void *ctx); /* one more line framed (blank ones too) */
	void (*record)(void *ctx, const char *path, uint64_t line_no, const struct record *rec);
	void (*bad_line)(void *ctx, const char *path, uint64_t line_no, const char *reason);
	void (*file_error)(void *ctx, enum batch_file_error what, const char *path, int errnum);
};

/* Reads every file side by side and hands out their records as one sequence: next
 * is the smallest ts among the files' next records, the file given first on a tie;
 * within a file records keep their order (reference.md §2). Bad lines and file errors
 * are handed out as they are read. parser is used for every file; records stamped
 * after max_ts_ms are bad lines. Returns 0, or -1 when some file failed. */
int batch_merge(char **files, int file_count, size_t max_line_bytes, struct parser *parser,
                int64_t max_ts_ms, const struct batch_sink *sink, void *ctx);

/* Told when a file cannot be opened or read; errnum is errno then (0: none). */
typedef void (*batch_error_fn)(void *ctx, enum batch_file_error what, const char *path, int errnum);

/* batch_read_file's reading for any consumer of lines: frames path into fn, and
 * reports a failure to on_error at the point it happens (before the lines that
 * still follow it: a partial last line). Both get ctx. Returns 0, or -1 after a
 * failure. */
int batch_read_lines(const char *path, size_t max_line_bytes, lines_fn fn, batch_error_fn on_error,
                     void *ctx);

/* Logs a failure as batch_read_file does. */
void batch_log_file_error(enum batch_file_error what, const char *path, int errnum);

#endif
