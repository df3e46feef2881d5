/*
 * Ingest: one framed input line to the engine. Strips CR, skips blank lines, parses,
 * feeds, and accounts for every line (lines, records, errors), logging bad ones
 * with file:line, rate-limited. Shared by batch mode and the live tailer.
 */
#ifndef CHATLOGD_INGEST_H
#define CHATLOGD_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "log.h"
#include "parse.h"

struct ingest_stats {
	uint64_t lines;
	uint64_t records;
	uint64_t errors;
};

struct ingest {
	struct parser *parser; /* borrowed */
	struct engine *engine; /* borrowed */
	struct ingest_stats stats;
	struct log_ratelimit error_log;
	const char *source; /* name of the input in log lines (borrowed) */
};

void ingest_init(struct ingest *in, struct parser *parser, struct engine *engine);

/* A lines_fn: ctx is the struct ingest. */
void ingest_line(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong);

#endif
