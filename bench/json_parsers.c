/*
 * json_parsers: the micro-benchmark behind chatlogd's choice of JSON parser. It parses
 * every non-blank line of a log with jansson, json-c, jsmn and (when built with
 * BENCH_CHATLOGD_PARSER) chatlogd's own parser and the jsmn-based parser it replaced
 * (the test oracle, tests/oracle/), pulling out the same record fields, and prints
 * lines/s for each. It measures parsing alone: no engine, no output.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_parsers.h"

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#ifdef BENCH_CHATLOGD_PARSER
#include "chatlogd/parse.h"
#include "chatlogd/record.h"
#include "parse_json_jsmn.h"
#endif

const char *const field_names[FIELD_TOTAL] = {"ts",   "kind", "shop",  "buyer", "agent",
                                              "from", "text", "order", "amount"};

/* Same ceiling as chatlogd's LIMIT_JSON_TOKENS, so jsmn does the same amount of work. */
#define JSMN_TOKENS 256
#define RUNS_DEFAULT 3

/* One line of the log, without its newline. */
struct line {
	const char *ptr;
	size_t len;
};

/* The log, loaded once; lines are views into data. */
struct corpus {
	char *data;
	size_t size;
	struct line *lines;
	size_t count;
};

/* ---- jsmn: tokens only, strings left raw (escaped), no UTF-8 check ---- */

struct jsmn_state {
	jsmntok_t tokens[JSMN_TOKENS];
};

static int jsmn_setup(void **state)
{
	return (*state = calloc(1, sizeof(struct jsmn_state))) == NULL ? -1 : 0;
}

/* Index of the token after the value at i and everything nested in it. */
static int jsmn_skip(const jsmntok_t *tok, int count, int i)
{
	int pending = 1;

	while (pending > 0 && i < count) {
		if (tok[i].type == JSMN_OBJECT)
			pending += 2 * tok[i].size;
		else if (tok[i].type == JSMN_ARRAY)
			pending += tok[i].size;
		pending--;
		i++;
	}
	return i;
}

static int jsmn_bench_parse(void *state, const char *line, size_t len, struct tally *t)
{
	struct jsmn_state *js = state;
	jsmn_parser parser;
	int count, i, k, pair;

	jsmn_init(&parser);
	count = jsmn_parse(&parser, line, len, js->tokens, JSMN_TOKENS);
	if (count < 1 || js->tokens[0].type != JSMN_OBJECT)
		return -1;
	for (i = 1, pair = 0; pair < js->tokens[0].size && i + 1 < count; pair++) {
		const jsmntok_t *key = &js->tokens[i], *value = &js->tokens[i + 1];
		size_t key_len = (size_t)(key->end - key->start);

		for (k = 0; k < (int)FIELD_TOTAL; k++) {
			if (strlen(field_names[k]) == key_len &&
			    memcmp(line + key->start, field_names[k], key_len) == 0) {
				t->fields++;
				t->bytes +=
				    (uint64_t)(value->end - value->start) +
				    (value->type == JSMN_STRING && value->end > value->start);
				break;
			}
		}
		i = jsmn_skip(js->tokens, count, i + 1);
	}
	return 0;
}

static void jsmn_teardown(void *state)
{
	free(state);
}

#ifdef BENCH_CHATLOGD_PARSER
/* ---- chatlogd: full validation, unescaping, ts and amount parsing ---- */

static int chatlogd_setup(void **state)
{
	char err[256];

	if ((*state = parser_new("json", err, sizeof(err))) == NULL) {
		fprintf(stderr, "json_parsers: chatlogd parser: %s\n", err);
		return -1;
	}
	return 0;
}

/* The same sums for both of chatlogd's parsers, so they do the same work. */
static void tally_record(const struct record *rec, struct tally *t)
{
	t->fields += 2 + (rec->shop.len > 0) + (rec->buyer.len > 0) + (rec->agent.len > 0) +
	             (rec->from != FROM_NONE) + (rec->text.len > 0) + (rec->order.len > 0);
	t->bytes += rec->shop.len + rec->buyer.len + rec->agent.len + rec->text.len +
	            rec->order.len + (uint64_t)(rec->ts_ms & 1) + (uint64_t)(rec->amount_fen & 1);
}

static int chatlogd_parse(void *state, const char *line, size_t len, struct tally *t)
{
	struct record rec;
	char err[128];

	if (parser_parse(state, line, len, &rec, err, sizeof(err)) != 0)
		return -1;
	tally_record(&rec, t);
	return 0;
}

static void chatlogd_teardown(void *state)
{
	parser_free(state);
}

/* ---- the previous parser, jsmn + a validating walk, kept as the test oracle ---- */

static int oracle_setup(void **state)
{
	char err[256];

	if ((*state = oracle_json_parser_new(err, sizeof(err))) == NULL) {
		fprintf(stderr, "json_parsers: oracle parser: %s\n", err);
		return -1;
	}
	return 0;
}

static int oracle_parse(void *state, const char *line, size_t len, struct tally *t)
{
	struct record rec;
	char err[128];

	if (oracle_json_parse(state, line, len, &rec, err, sizeof(err)) != 0)
		return -1;
	tally_record(&rec, t);
	return 0;
}

static void oracle_teardown(void *state)
{
	oracle_json_parser_free(state);
}
#endif

static const struct bench_parser bench_parser_jsmn = {
    "jsmn",        "tokens only: no unescaping, no UTF-8 check", jsmn_setup, jsmn_bench_parse,
    jsmn_teardown,
};

#ifdef BENCH_CHATLOGD_PARSER
static const struct bench_parser bench_parser_oracle = {
    "oracle",        "the previous parser: jsmn + RFC 8259 walk, UTF-8, unescape, ts, amount",
    oracle_setup,    oracle_parse,
    oracle_teardown,
};

static const struct bench_parser bench_parser_chatlogd = {
    "chatlogd",        "own: SSE2 index + walk, RFC 8259, UTF-8, unescape, ts, amount",
    chatlogd_setup,    chatlogd_parse,
    chatlogd_teardown,
};
#endif

static const struct bench_parser *const parsers[] = {
    &bench_parser_jansson, &bench_parser_json_c,   &bench_parser_jsmn,
#ifdef BENCH_CHATLOGD_PARSER
    &bench_parser_oracle,  &bench_parser_chatlogd,
#endif
};

/* ---- driver ---- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads path into memory and indexes its non-blank lines. Returns 0, or -1 (reported). */
static int corpus_load(struct corpus *c, const char *path)
{
	FILE *f;
	size_t cap = 1 << 20, i, start;

	memset(c, 0, sizeof(*c));
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "json_parsers: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		char *grown;
		size_t n;

		if ((grown = realloc(c->data, cap)) == NULL)
			goto fail;
		c->data = grown;
		n = fread(c->data + c->size, 1, cap - c->size, f);
		c->size += n;
		if (c->size < cap)
			break;
		cap *= 2;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	f = NULL;
	for (i = 0, cap = 0; i < c->size; i++)
		cap += c->data[i] == '\n';
	if ((c->lines = calloc(cap + 1, sizeof(*c->lines))) == NULL)
		goto fail;
	for (i = start = 0; i <= c->size; i++) {
		if (i < c->size && c->data[i] != '\n')
			continue;
		if (i > start) {
			c->lines[c->count].ptr = c->data + start;
			c->lines[c->count].len = i - start;
			c->count++;
		}
		start = i + 1;
	}
	return 0;
fail:
	fprintf(stderr, "json_parsers: %s: cannot load: %s\n", path, strerror(errno));
	if (f != NULL)
		fclose(f);
	free(c->data);
	return -1;
}

/* Runs one parser over the corpus `runs` times; returns the best seconds, or -1. */
static double bench_run(const struct bench_parser *bp, const struct corpus *c, int runs,
                        struct tally *out)
{
	double best = -1;
	int run;

	for (run = 0; run < runs; run++) {
		struct tally t = {0, 0, 0, 0};
		void *state;
		double start, elapsed;
		size_t i;

		if (bp->setup(&state) != 0)
			return -1;
		start = now_seconds();
		for (i = 0; i < c->count; i++) {
			if (bp->parse(state, c->lines[i].ptr, c->lines[i].len, &t) == 0)
				t.ok++;
			else
				t.failed++;
		}
		elapsed = now_seconds() - start;
		bp->teardown(state);
		if (best < 0 || elapsed < best)
			best = elapsed;
		*out = t;
	}
	return best;
}

static void usage(void)
{
	fprintf(stderr, "usage: json_parsers [--runs N] LOG\n"
	                "Parses every non-blank line of LOG with each JSON parser, extracting\n"
	                "ts kind shop buyer agent from text order amount; prints the best of N\n"
	                "runs (default 3) as lines/s.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct corpus c;
	const char *path = NULL;
	int runs = RUNS_DEFAULT, i;
	size_t p;
	char summary[512];
	size_t used = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
			if (runs < 1)
				usage();
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			usage();
		} else if (path == NULL) {
			path = argv[i];
		} else {
			usage();
		}
	}
	if (path == NULL)
		usage();
	if (corpus_load(&c, path) != 0)
		return 1;
	printf("json_parsers: %zu lines, %.1f MB, best of %d\n", c.count, (double)c.size / 1e6,
	       runs);
	printf("%-9s %12s %8s %9s %10s %8s  %s\n", "parser", "lines/s", "ns/line", "MB/s", "ok",
	       "failed", "what");
	used = (size_t)snprintf(summary, sizeof(summary), "json_parsers:");
	for (p = 0; p < sizeof(parsers) / sizeof(parsers[0]); p++) {
		struct tally t;
		double secs = bench_run(parsers[p], &c, runs, &t);

		if (secs < 0) {
			fprintf(stderr, "json_parsers: %s: setup failed\n", parsers[p]->name);
			continue;
		}
		printf("%-9s %12.0f %8.1f %9.1f %10" PRIu64 " %8" PRIu64 "  %s\n", parsers[p]->name,
		       (double)c.count / secs, secs * 1e9 / (double)c.count,
		       (double)c.size / 1e6 / secs, t.ok, t.failed, parsers[p]->note);
		if (t.fields == 0 && t.bytes == 0)
			printf("  (nothing extracted)\n");
		if (used < sizeof(summary))
			used += (size_t)snprintf(summary + used, sizeof(summary) - used, " %s=%.0f",
			                         parsers[p]->name, (double)c.count / secs);
	}
	printf("%s\n", summary);
	free(c.lines);
	free(c.data);
	return 0;
}
