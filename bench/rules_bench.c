/*
 * rules_bench: the lost-reason rules alone, without the rest of the pipeline. Reads
 * JSON Lines logs into memory, keeps every chat message (sender and text), then times
 * loading a patterns file and asking rules_first_match about every message, as the
 * engine asks about a message of an inquiry no rule has matched yet (no limit).
 *
 *   rules_bench [--runs N] [--no-memo] PATTERNS LOG...
 *
 * Each run loads the file, then asks about every message twice: the first pass
 * includes what a rule set does once (compiling the alternatives it needs, see
 * rules.c), the second is the steady state (the memo emptied before it). --no-memo
 * turns the memo of recent answers off (rules_memo), so every message is scanned
 * and matched: what a log of texts that never repeat costs. Prints the best and the
 * median of N runs (default 5), in ms and ns per message, and how many messages
 * found a rule (the same with and without the memo).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chatlogd/parse.h"
#include "chatlogd/record.h"
#include "chatlogd/rules.h"

struct message {
	enum record_from from;
	size_t offset, len; /* in the text arena */
};

struct corpus {
	struct message *message;
	size_t count, capacity;
	char *text;
	size_t text_len, text_capacity;
};

static void usage(void)
{
	fprintf(stderr, "usage: rules_bench [--runs N] [--no-memo] PATTERNS LOG...\n");
	exit(2);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *grow(void *array, size_t *capacity, size_t need, size_t size)
{
	if (need <= *capacity)
		return array;
	while (*capacity < need)
		*capacity = *capacity ? 2 * *capacity : 4096;
	if ((array = realloc(array, *capacity * size)) == NULL) {
		perror("realloc");
		exit(1);
	}
	return array;
}

/* Adds the chat messages of one log to c. */
static void corpus_read(struct corpus *c, struct parser *parser, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *line = NULL, err[256];
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct record rec;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (parser_parse(parser, line, (size_t)n, &rec, err, sizeof(err)) != 0 ||
		    rec.from == FROM_NONE || rec.text.len == 0)
			continue;
		c->message = grow(c->message, &c->capacity, c->count + 1, sizeof(*c->message));
		c->text = grow(c->text, &c->text_capacity, c->text_len + rec.text.len, 1);
		memcpy(c->text + c->text_len, rec.text.ptr, rec.text.len);
		c->message[c->count++] = (struct message){rec.from, c->text_len, rec.text.len};
		c->text_len += rec.text.len;
	}
	free(line);
	fclose(f);
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Prints the best and the median of n times (sorting them), per message too. */
static void print_times(const char *what, double *t, int n, size_t messages)
{
	qsort(t, (size_t)n, sizeof(*t), compare_double);
	printf("%-12s best %8.2f ms  median %8.2f ms", what, t[0] * 1e3, t[n / 2] * 1e3);
	if (messages > 0)
		printf("  (%.0f / %.0f ns per message)", t[0] * 1e9 / (double)messages,
		       t[n / 2] * 1e9 / (double)messages);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct corpus c = {0};
	struct parser *parser;
	char err[512];
	int runs = 5, memo = 1, arg = 1;
	double load[64], first[64], second[64];
	size_t found = 0;

	for (; arg < argc && strncmp(argv[arg], "--", 2) == 0; arg++) {
		if (strcmp(argv[arg], "--no-memo") == 0)
			memo = 0;
		else if (strcmp(argv[arg], "--runs") == 0 && arg + 1 < argc)
			runs = atoi(argv[++arg]);
		else
			usage();
	}
	if (argc - arg < 2 || runs < 1 || runs > 64)
		usage();
	if ((parser = parser_new("json", err, sizeof(err))) == NULL) {
		fprintf(stderr, "rules_bench: %s\n", err);
		return 1;
	}
	for (int i = arg + 1; i < argc; i++)
		corpus_read(&c, parser, argv[i]);
	parser_free(parser);
	for (int run = 0; run < runs; run++) {
		double t0 = now_seconds();
		struct rules *r = rules_load(argv[arg], err, sizeof(err));
		size_t matched = 0;

		if (r == NULL) {
			fprintf(stderr, "rules_bench: %s\n", err);
			return 1;
		}
		load[run] = now_seconds() - t0;
		for (int p = 0; p < 2; p++) {
			rules_memo(r, 0);
			rules_memo(r, memo);
			matched = 0;
			t0 = now_seconds();
			for (size_t m = 0; m < c.count; m++)
				matched += rules_first_match(
				               r, c.message[m].from, c.text + c.message[m].offset,
				               c.message[m].len, RULES_NONE) != RULES_NONE;
			(p == 0 ? first : second)[run] = now_seconds() - t0;
		}
		found = matched;
		rules_free(r);
	}
	printf("messages %zu (memo %s): found a rule %zu\n", c.count, memo ? "on" : "off", found);
	print_times("load", load, runs, 0);
	print_times("first pass", first, runs, c.count);
	print_times("second pass", second, runs, c.count);
	free(c.message);
	free(c.text);
	return 0;
}
