/*
 * ingest.c owns what happens to one input line between framing and the engine:
 * blank-line skipping, CR stripping, parsing, and the error accounting of reference.md §1.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chatlogd/clock.h"
#include "chatlogd/ingest.h"
#include "chatlogd/limits.h"

void ingest_init(struct ingest *in, struct parser *parser, struct engine *engine)
{
	memset(in, 0, sizeof(*in));
	in->parser = parser;
	in->engine = engine;
	in->error_log.per_second = LIMIT_ERROR_LOGS_PER_SECOND;
	in->source = "-";
	in->max_ts_ms = INT64_MAX;
}

int64_t ingest_max_ts(int64_t max_clock_ahead_ms)
{
	if (max_clock_ahead_ms <= 0)
		return INT64_MAX;
	return clock_wall_ms() + max_clock_ahead_ms;
}

static int is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return 1;
}

void ingest_error(struct ingest *in, uint64_t line_no, const char *reason)
{
	in->stats.errors++;
	if (log_ratelimit_allow(&in->error_log, "bad lines"))
		log_warnx("bad line file=%s line=%llu error=\"%s\"", in->source,
		          (unsigned long long)line_no, reason);
}

enum ingest_parsed ingest_parse(struct parser *parser, const char *line, size_t len, int overlong,
                                int64_t max_ts_ms, struct record *rec, char *err, size_t errlen)
{
	if (overlong) {
		snprintf(err, errlen, "line longer than max_line_bytes");
		return INGEST_BAD;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (is_blank(line, len))
		return INGEST_BLANK;
	if (parser_parse(parser, line, len, rec, err, errlen) == -1)
		return INGEST_BAD;
	/* The contract leaves a clock this far ahead no say: one such line would otherwise
	 * move event time, and close every open inquiry, for every shop. */
	if (rec->ts_ms > max_ts_ms) {
		snprintf(err, errlen,
		         "timestamp too far ahead of the wall clock (max_clock_ahead)");
		return INGEST_BAD;
	}
	return INGEST_RECORD;
}

void ingest_record(struct ingest *in, const struct record *rec, uint64_t line_no)
{
	char err[128];

	if (engine_feed(in->engine, rec, err, sizeof(err)) == -1) {
		ingest_error(in, line_no, err);
		return;
	}
	in->stats.records++;
}

void ingest_line(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong)
{
	struct ingest *in = ctx;
	struct record rec;
	char err[128];

	in->stats.lines++;
	switch (
	    ingest_parse(in->parser, line, len, overlong, in->max_ts_ms, &rec, err, sizeof(err))) {
	case INGEST_BLANK:
		break;
	case INGEST_BAD:
		ingest_error(in, line_no, err);
		break;
	case INGEST_RECORD:
		ingest_record(in, &rec, line_no);
		break;
	}
}
