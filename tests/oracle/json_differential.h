/*
 * The differential check shared by tests/test_parse_json_differential.c and
 * tests/fuzz/fuzz_json_differential.c: one line through chatlogd's JSON parser (as
 * built, through parse.h: AVX2 where the CPU has it), the same parser built without
 * AVX2 and without SSE2, and the jsmn-based oracle it replaced. All must accept or
 * reject alike and produce the same record field by field. The three builds of our
 * parser must also give the same error reason; the oracle only the same kind of
 * reason (the line is not JSON, or a field is wrong), since its wording and order
 * were jsmn's and ours is the first error in document order.
 */
#ifndef CHATLOGD_TEST_ORACLE_JSON_DIFFERENTIAL_H
#define CHATLOGD_TEST_ORACLE_JSON_DIFFERENTIAL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/parse.h"
#include "parse_json_jsmn.h"
#include "parse_json_scalar.h"
#include "parse_json_sse2.h"

struct json_trio {
	struct parser *parser;             /* the daemon's parser, AVX2 or SSE2 as the CPU has */
	struct json_parser *sse2;          /* the same code without AVX2 */
	struct json_parser *scalar;        /* the same code without SSE2 */
	struct oracle_json_parser *oracle; /* the jsmn-based parser it replaced */
};

/* Makes the three parsers; returns 0, or -1 with a message on stderr. */
static inline int json_trio_init(struct json_trio *t)
{
	char err[256];

	memset(t, 0, sizeof(*t));
	if ((t->parser = parser_new("json", err, sizeof(err))) == NULL ||
	    (t->sse2 = sse2_json_parser_new()) == NULL ||
	    (t->scalar = scalar_json_parser_new()) == NULL ||
	    (t->oracle = oracle_json_parser_new(err, sizeof(err))) == NULL) {
		fprintf(stderr, "json_trio_init: %s\n", err);
		return -1;
	}
	return 0;
}

static inline void json_trio_free(struct json_trio *t)
{
	parser_free(t->parser);
	sse2_json_parser_free(t->sse2);
	scalar_json_parser_free(t->scalar);
	oracle_json_parser_free(t->oracle);
}

static inline int json_views_equal(struct text_view a, struct text_view b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Names the first field in which two records differ, or NULL when they are equal. */
static inline const char *json_record_difference(const struct record *a, const struct record *b)
{
	if (a->ts_ms != b->ts_ms)
		return "ts";
	if (a->kind != b->kind)
		return "kind";
	if (a->from != b->from)
		return "from";
	if (!json_views_equal(a->shop, b->shop))
		return "shop";
	if (!json_views_equal(a->buyer, b->buyer))
		return "buyer";
	if (!json_views_equal(a->agent, b->agent))
		return "agent";
	if (!json_views_equal(a->text, b->text))
		return "text";
	if (!json_views_equal(a->order, b->order))
		return "order";
	if (a->amount_fen != b->amount_fen)
		return "amount";
	return NULL;
}

/* 1 when a reason says the line itself is refused (not JSON, too long, not UTF-8),
 * 0 when the JSON was read and a field or the record is wrong. */
static inline int json_reason_is_line_level(const char *err)
{
	return strncmp(err, "bad JSON", 8) == 0 || strncmp(err, "too many JSON tokens", 20) == 0 ||
	       strcmp(err, "invalid UTF-8") == 0 || strcmp(err, "line too long") == 0;
}

/*
 * Compares one parser's outcome with another's (want); describes a difference in
 * why. same_reason: the reasons must be equal, else only of the same kind.
 */
static inline int json_outcome_differs(const char *who, const char *other, int rc,
                                       const struct record *rec, const char *err, int want_rc,
                                       const struct record *want_rec, const char *want_err,
                                       int same_reason, char *why, size_t whylen)
{
	const char *field;

	if (rc != want_rc) {
		snprintf(why, whylen, "%s %s (%s), %s %s (%s)", who,
		         rc == 0 ? "accepts" : "rejects", rc == 0 ? "-" : err, other,
		         want_rc == 0 ? "accepts" : "rejects", want_rc == 0 ? "-" : want_err);
		return 1;
	}
	if (rc != 0 &&
	    (same_reason ? strcmp(err, want_err) != 0
	                 : json_reason_is_line_level(err) != json_reason_is_line_level(want_err))) {
		snprintf(why, whylen, "%s says \"%s\", %s \"%s\"", who, err, other, want_err);
		return 1;
	}
	if (rc == 0 && (field = json_record_difference(rec, want_rec)) != NULL) {
		snprintf(why, whylen, "%s differs from the %s in %s", who, other, field);
		return 1;
	}
	return 0;
}

/*
 * Runs the line through all four parsers. Returns 0 when they agree, 1 with a
 * description in why when not. The line should sit in a buffer of exactly len bytes
 * so that AddressSanitizer catches a read past its end.
 */
static inline int json_trio_compare(struct json_trio *t, const char *line, size_t len, char *why,
                                    size_t whylen)
{
	struct record fast_rec, sse2_rec, scalar_rec, oracle_rec;
	char fast_err[128], sse2_err[128], scalar_err[128], oracle_err[128];
	int fast_rc, sse2_rc, scalar_rc, oracle_rc;

	fast_err[0] = sse2_err[0] = scalar_err[0] = oracle_err[0] = '\0';
	oracle_rc =
	    oracle_json_parse(t->oracle, line, len, &oracle_rec, oracle_err, sizeof(oracle_err));
	fast_rc = parser_parse(t->parser, line, len, &fast_rec, fast_err, sizeof(fast_err));
	sse2_rc = sse2_json_parser_parse(t->sse2, line, len, &sse2_rec, sse2_err, sizeof(sse2_err));
	scalar_rc = scalar_json_parser_parse(t->scalar, line, len, &scalar_rec, scalar_err,
	                                     sizeof(scalar_err));
	return json_outcome_differs("parser", "oracle", fast_rc, &fast_rec, fast_err, oracle_rc,
	                            &oracle_rec, oracle_err, 0, why, whylen) ||
	       json_outcome_differs("SSE2 parser", "parser", sse2_rc, &sse2_rec, sse2_err, fast_rc,
	                            &fast_rec, fast_err, 1, why, whylen) ||
	       json_outcome_differs("scalar parser", "parser", scalar_rc, &scalar_rec, scalar_err,
	                            fast_rc, &fast_rec, fast_err, 1, why, whylen);
}

#endif
