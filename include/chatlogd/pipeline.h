/*
 * Batch mode on two threads: a reader thread reads, frames and parses, and the
 * calling thread feeds the engine. The report, the counts and every log line (bad
 * lines with file:line, files that cannot be read) come out exactly as from
 * batch_read_file over each file, in the same order.
 */
#ifndef CHATLOGD_PIPELINE_H
#define CHATLOGD_PIPELINE_H

#include <stddef.h>

#include "ingest.h"

/* Reads files in order into in: in's parser is used on the reader thread only, its
 * engine (and the engine's rules) on the calling thread only. Runs on one thread
 * when the reader cannot be started. Returns 0, or -1 when some file could not be
 * opened or read (logged). */
int pipeline_run(struct ingest *in, char **files, int file_count, size_t max_line_bytes);

#endif
