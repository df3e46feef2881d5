/*
 * Shared by the json_parsers micro-benchmark's files: one parser adapter per library.
 * jansson and json-c both declare `json_object`, so each lives in its own file.
 */
#ifndef BENCH_JSON_PARSERS_H
#define BENCH_JSON_PARSERS_H

#include <stddef.h>
#include <stdint.h>

/* The record fields every parser extracts, in SPEC §2 order. */
#define FIELD_TOTAL 9
extern const char *const field_names[FIELD_TOTAL];

/* What one parser found over the corpus: parsed lines, rejected lines, and sums over
 * the extracted values that keep the compiler from discarding the work. */
struct tally {
	uint64_t ok;
	uint64_t failed;
	uint64_t fields;
	uint64_t bytes;
};

struct bench_parser {
	const char *name;
	const char *note;
	/* Makes the parser's reusable state; returns 0, or -1. */
	int (*setup)(void **state);
	/* Parses one line and adds what it extracted to t; returns 0, or -1 on a bad line. */
	int (*parse)(void *state, const char *line, size_t len, struct tally *t);
	void (*teardown)(void *state);
};

extern const struct bench_parser bench_parser_jansson; /* json_parsers_jansson.c */
extern const struct bench_parser bench_parser_json_c;  /* json_parsers_json_c.c */

#endif
