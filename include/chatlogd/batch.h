/*
 * Batch input: reads whole files (or stdin for "-") one after another, in the
 * order given, through the line framer into an ingest.
 */
#ifndef CHATLOGD_BATCH_H
#define CHATLOGD_BATCH_H

#include "ingest.h"
#include "lines.h"

/* Reads path to its end (a last line without newline counts). Returns 0, or -1 when
 * the file cannot be opened or read (logged). */
int batch_read_file(struct ingest *in, const char *path, size_t max_line_bytes);

/* batch_read_file over each file in order. Returns 0, or -1 when any failed. */
int batch_read_files(struct ingest *in, char **files, int file_count, size_t max_line_bytes);

enum batch_file_error { BATCH_CANNOT_OPEN, BATCH_NO_MEMORY, BATCH_READ_FAILED };

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
