/*
 * Batch input: reads whole files (or stdin for "-") one after another, in the
 * order given, through the line framer into an ingest.
 */
#ifndef CHATLOGD_BATCH_H
#define CHATLOGD_BATCH_H

#include "ingest.h"

/* Reads path to its end (a last line without newline counts). Returns 0, or -1 when
 * the file cannot be opened or read (logged). */
int batch_read_file(struct ingest *in, const char *path, size_t max_line_bytes);

#endif
