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
	/* Records stamped later than this are bad lines (max_clock_ahead past the wall
	 * clock, fixed by the caller); INT64_MAX: no limit. */
	int64_t max_ts_ms;
};

void ingest_init(struct ingest *in, struct parser *parser, struct engine *engine);

/* A lines_fn: ctx is the struct ingest. */
void ingest_line(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong);

/* ingest_line in its two halves, for batch mode's two threads (pipeline.c). */
enum ingest_parsed { INGEST_RECORD, INGEST_BLANK, INGEST_BAD };

/* The half that needs no engine: strips CR, skips blank lines, parses, and refuses
 * a record stamped after max_ts_ms. INGEST_BAD comes with the reason in err.
 * Counts nothing. */
enum ingest_parsed ingest_parse(struct parser *parser, const char *line, size_t len, int overlong,
                                int64_t max_ts_ms, struct record *rec, char *err, size_t errlen);

/* The max_ts_ms for a max_clock_ahead setting (0: none) at the wall clock now. */
int64_t ingest_max_ts(int64_t max_clock_ahead_ms);

/* The engine's half: feeds a parsed record and counts it as a record or an error. */
void ingest_record(struct ingest *in, const struct record *rec, uint64_t line_no);

/* Counts an error and logs it (rate-limited) as file=in->source line=line_no. */
void ingest_error(struct ingest *in, uint64_t line_no, const char *reason);

#endif
