/*
 * ingest.c owns what happens to one input line between framing and the engine:
 * blank-line skipping, CR stripping, parsing, and the error accounting of SPEC §2.
 */
#include <stdio.h>
#include <string.h>

#include "chatlogd/ingest.h"
#include "chatlogd/limits.h"

void ingest_init(struct ingest *in, struct parser *parser, struct engine *engine)
{
	memset(in, 0, sizeof(*in));
	in->parser = parser;
	in->engine = engine;
	in->error_log.per_second = LIMIT_ERROR_LOGS_PER_SECOND;
	in->source = "-";
}

static int is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return 1;
}

static void ingest_error(struct ingest *in, uint64_t line_no, const char *reason)
{
	in->stats.errors++;
	if (log_ratelimit_allow(&in->error_log, "bad lines"))
		log_warnx("bad line file=%s line=%llu error=\"%s\"", in->source,
		          (unsigned long long)line_no, reason);
}

void ingest_line(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong)
{
	struct ingest *in = ctx;
	struct record rec;
	char err[128];

	in->stats.lines++;
	if (overlong) {
		ingest_error(in, line_no, "line longer than max_line_bytes");
		return;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (is_blank(line, len))
		return;
	if (parser_parse(in->parser, line, len, &rec, err, sizeof(err)) == -1 ||
	    engine_feed(in->engine, &rec, err, sizeof(err)) == -1) {
		ingest_error(in, line_no, err);
		return;
	}
	in->stats.records++;
}
