/*
 * Reading the published counters back for people (chatlogctl): a Redis counters
 * hash (reference.md §6) into a counter row, percentiles estimated from the histograms,
 * lost reasons ranked, an agent's conversion × AOV quadrant against its shop, reference.md §7
 * alert messages parsed, and JSON strings written safely. No Redis and no terminal
 * here: chatlogctl.c fetches and lays out.
 */
#ifndef CHATLOGD_SCOREBOARD_H
#define CHATLOGD_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "counters.h"
#include "reasons.h"
#include "limits.h"

/* Adds one field of a counters hash (minute, day or window) to value, a row of
 * COUNTER_WIDTH, naming lost reasons in reasons (new names are interned). Returns 1
 * when the field is a counter, 0 when it is something else (derived values, as_of,
 * unknown fields), -1 when a counter's text is not a non-negative integer or the
 * reason registry is full (the field is then skipped). */
int scoreboard_field(int64_t *value, struct reasons *reasons, const char *field, const char *text);

/* A percentile estimated from a histogram of reference.md §3. The estimate is the upper
 * bound of the bucket where the cumulative count first reaches the percentile's
 * rank (nearest rank: ceil(percent × samples / 100)): at least that share of the
 * samples took at most upper_ms, and fewer than that share took at most lower_ms.
 * It never reports a time better than the data show. */
struct scoreboard_percentile {
	int present;      /* 0 when the histogram is empty */
	unsigned bucket;  /* index of the bucket, 0 .. HISTOGRAM_BUCKETS - 1 */
	int64_t lower_ms; /* the bound before (0 for the first bucket): exclusive */
	int64_t upper_ms; /* INT64_MAX for the open last bucket ("inf") */
	int64_t samples;  /* the histogram's total */
};

/* histogram points at HISTOGRAM_BUCKETS counts (value + COUNTER_FRT_H or
 * COUNTER_RESP_H); percent in 1 .. 100. */
void scoreboard_percentile(const int64_t *histogram, unsigned percent,
                           struct scoreboard_percentile *out);

/* "<=5s", ">300s" for the open bucket, "-" when absent. Returns out. */
const char *scoreboard_format_percentile(const struct scoreboard_percentile *p, char *out,
                                         size_t size);

/* A histogram bucket's label as people read it: "<=1s" .. "<=300s", ">300s". */
const char *scoreboard_bucket_label(unsigned bucket, char *out, size_t size);

/* Milliseconds as seconds with one decimal ("12.5s", rounded half up), "-" when
 * !has. Ratios ×10000 as a percentage with one decimal ("37.3%", half up). */
const char *scoreboard_format_seconds(int has, int64_t ms, char *out, size_t size);
const char *scoreboard_format_percent(int has, int64_t e4, char *out, size_t size);

/* part / whole × 10000 rounded half up (whole > 0). */
int64_t scoreboard_ratio_e4(int64_t part, int64_t whole);

/* Lost reasons with a count, most first; equal counts in name order. */
struct scoreboard_reason {
	unsigned id; /* index into the registry */
	int64_t count;
};

/* Fills out (room for max) and returns how many reasons of value have a count. */
unsigned scoreboard_rank_reasons(const int64_t *value, const struct reasons *reasons,
                                 struct scoreboard_reason *out, unsigned max);

/* An agent with fewer inquiries than this over the report's day is not placed in a
 * quadrant: 2 orders out of 3 inquiries say nothing about a person's conversion. */
#define SCOREBOARD_MIN_INQUIRIES 5

/* Conversion × AOV of an agent against the shop (high means >= the shop's value). */
enum scoreboard_quadrant {
	QUADRANT_BEST,            /* high conversion, high AOV */
	QUADRANT_RELATED_SELLING, /* high conversion, low AOV: train on related selling */
	QUADRANT_SPEED,           /* low conversion, high AOV: look at response speed */
	QUADRANT_REVIEW,          /* low conversion, low AOV */
	QUADRANT_NO_PAID,         /* enough inquiries but no paid one: AOV unknown */
	QUADRANT_TOO_FEW,         /* fewer than SCOREBOARD_MIN_INQUIRIES inquiries */
};

/* Places an agent's row against its shop's row (both value arrays). Conversion and
 * AOV are compared exactly (as fractions), not by their rounded displays. */
enum scoreboard_quadrant scoreboard_quadrant(const int64_t *agent, const int64_t *shop);

/* "best", "related_selling", "speed", "review", "no_paid", "too_few". */
const char *scoreboard_quadrant_code(enum scoreboard_quadrant q);

/* What the manager reads, e.g. "high conv, low AOV: train on related selling (关联销售)". */
const char *scoreboard_quadrant_label(enum scoreboard_quadrant q);

/* A reference.md §7 alert message. Text fields absent from the message are "", numbers -1.
 * Text longer than its field is cut at a character boundary. */
struct scoreboard_alert {
	char type[16];
	char shop[LIMIT_NAME_BYTES + 1];
	char agent[LIMIT_NAME_BYTES + 1];
	char metric[16];
	int64_t value_ms, target_ms, samples, window_s;
	char ts[40];
};

/* Parses a message. Returns 0 when json is exactly one valid JSON object (UTF-8;
 * unknown fields skipped), -1 otherwise (out then holds whatever was read). */
int scoreboard_alert_parse(const char *json, size_t len, struct scoreboard_alert *out);

/* A copy of [s, s+len) fit for a terminal: control characters (C0, DEL, C1) and
 * bytes that are not valid UTF-8 become '?', so a name from Redis can neither move
 * the cursor nor break the alignment. The caller frees. */
char *scoreboard_display_text(const char *s, size_t len);

/* 1 when [s, s+len) is exactly one valid JSON value in valid UTF-8, else 0: what may
 * be copied verbatim into a JSON document. */
int scoreboard_json_valid(const char *s, size_t len);

#endif
