/*
 * Tests for scoreboard.c, every expectation worked by hand: hash fields back into
 * counters, the percentile estimate (nearest rank, upper bound of the bucket), the
 * formats, ranked lost reasons, the conversion × AOV quadrant (exact, not rounded),
 * alert messages, JSON strings and terminal-safe names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/scoreboard.h"
#include "check.h"

/* Histogram counts by bucket upper bound in ms (0 stands for "inf"). */
struct bucket_count {
	int64_t upper_ms;
	int64_t count;
};

static void histogram_set(int64_t *h, const struct bucket_count *counts, size_t n)
{
	memset(h, 0, HISTOGRAM_BUCKETS * sizeof(*h));
	for (size_t i = 0; i < n; i++)
		h[counts[i].upper_ms == 0 ? HISTOGRAM_BUCKETS - 1
		                          : counters_bucket(counts[i].upper_ms)] += counts[i].count;
}

static const char *percentile_text(const int64_t *h, unsigned percent)
{
	static char out[4][16];
	static int next;
	struct scoreboard_percentile p;
	char *text = out[next++ % 4];

	scoreboard_percentile(h, percent, &p);
	return scoreboard_format_percentile(&p, text, 16);
}

/* Runs fn over text into a string; the caller frees. */
/* ---- hash fields ---- */

static void test_hash_fields_map_to_counters_and_accumulate(void)
{
	int64_t v[COUNTER_WIDTH] = {0};
	struct reasons r;

	reasons_init(&r);
	CHECK_INT(scoreboard_field(v, &r, "inquiries", "10"), 1);
	CHECK_INT(scoreboard_field(v, &r, "inquiries", "5"), 1);
	CHECK_INT(v[COUNTER_INQUIRIES], 15);
	CHECK_INT(scoreboard_field(v, &r, "lost", "7"), 1);
	CHECK_INT(v[COUNTER_LOST], 7);
	CHECK_INT(scoreboard_field(v, &r, "silent_sales_fen", "9900"), 1);
	CHECK_INT(v[COUNTER_SILENT_SALES_FEN], 9900);
	CHECK_INT(scoreboard_field(v, &r, "frt_h:1000", "3"), 1);
	CHECK_INT(v[COUNTER_FRT_H], 3);
	CHECK_INT(scoreboard_field(v, &r, "frt_h:inf", "2"), 1);
	CHECK_INT(v[COUNTER_FRT_H + 14], 2);
	CHECK_INT(scoreboard_field(v, &r, "resp_h:300000", "4"), 1);
	CHECK_INT(v[COUNTER_RESP_H + 13], 4);
	CHECK_INT(scoreboard_field(v, &r, "lost:slow", "1"), 1);
	CHECK_INT(v[COUNTER_LOST_REASON + REASON_SLOW], 1);
	CHECK_INT(scoreboard_field(v, &r, "lost:price", "4"), 1);
	CHECK_INT(r.count, 4);
	CHECK_STR(r.names[3], "price");
	CHECK_INT(v[COUNTER_LOST_REASON + 3], 4);
	CHECK_INT(scoreboard_field(v, &r, "lost:price", "1"), 1);
	CHECK_INT(v[COUNTER_LOST_REASON + 3], 5);
	CHECK_INT(r.count, 4);
	reasons_free(&r);
}

static void test_hash_fields_derived_as_of_and_unknown_are_ignored(void)
{
	int64_t v[COUNTER_WIDTH] = {0}, zero[COUNTER_WIDTH] = {0};
	struct reasons r;

	reasons_init(&r);
	CHECK_INT(scoreboard_field(v, &r, "conversion", "0.3725"), 0);
	CHECK_INT(scoreboard_field(v, &r, "frt_avg_ms", "4500"), 0);
	CHECK_INT(scoreboard_field(v, &r, "aov", "128.00"), 0);
	CHECK_INT(scoreboard_field(v, &r, "as_of", "2026-11-24T10:07:00.000+08:00"), 0);
	CHECK_INT(scoreboard_field(v, &r, "frt_h:999", "1"), 0);
	CHECK_INT(scoreboard_field(v, &r, "frt_h:", "1"), 0);
	CHECK_INT(scoreboard_field(v, &r, "Inquiries", "1"), 0);
	CHECK(memcmp(v, zero, sizeof(v)) == 0);
	CHECK_INT(r.count, 3);
	reasons_free(&r);
}

static void test_hash_fields_bad_counts_and_reason_names_are_refused(void)
{
	int64_t v[COUNTER_WIDTH] = {0}, zero[COUNTER_WIDTH] = {0};
	struct reasons r;

	reasons_init(&r);
	CHECK_INT(scoreboard_field(v, &r, "inquiries", "-1"), -1);
	CHECK_INT(scoreboard_field(v, &r, "inquiries", "1.5"), -1);
	CHECK_INT(scoreboard_field(v, &r, "inquiries", ""), -1);
	CHECK_INT(scoreboard_field(v, &r, "inquiries", "12a"), -1);
	CHECK_INT(scoreboard_field(v, &r, "inquiries", "9999999999999999999"), -1);
	CHECK_INT(scoreboard_field(v, &r, "lost:Price", "1"), -1);
	CHECK_INT(scoreboard_field(v, &r, "lost:", "1"), -1);
	CHECK_INT(scoreboard_field(v, &r, "lost:out-of-stock", "1"), -1);
	CHECK(memcmp(v, zero, sizeof(v)) == 0);
	CHECK_INT(r.count, 3);
	reasons_free(&r);
}

static void test_hash_fields_full_reason_registry_is_refused(void)
{
	int64_t v[COUNTER_WIDTH] = {0};
	struct reasons r;
	char name[32];

	reasons_init(&r);
	for (unsigned i = 3; i < LIMIT_REASONS; i++) {
		snprintf(name, sizeof(name), "lost:r%u", i);
		CHECK_INT(scoreboard_field(v, &r, name, "1"), 1);
	}
	CHECK_INT(r.count, LIMIT_REASONS);
	CHECK_INT(scoreboard_field(v, &r, "lost:one_too_many", "1"), -1);
	CHECK_INT(scoreboard_field(v, &r, "lost:r3", "1"), 1); /* known ones still add */
	CHECK_INT(v[COUNTER_LOST_REASON + 3], 2);
	reasons_free(&r);
}

/* ---- percentiles ---- */

static void test_percentile_empty_histogram_is_absent(void)
{
	int64_t h[HISTOGRAM_BUCKETS] = {0};
	struct scoreboard_percentile p;

	scoreboard_percentile(h, 50, &p);
	CHECK_INT(p.present, 0);
	CHECK_INT(p.samples, 0);
	CHECK_STR(percentile_text(h, 90), "-");
}

static void test_percentile_one_sample_is_its_bucket(void)
{
	static const struct bucket_count c[] = {{1000, 1}};
	int64_t h[HISTOGRAM_BUCKETS];
	struct scoreboard_percentile p;

	histogram_set(h, c, 1);
	scoreboard_percentile(h, 50, &p);
	CHECK_INT(p.present, 1);
	CHECK_INT(p.bucket, 0);
	CHECK_INT(p.lower_ms, 0);
	CHECK_INT(p.upper_ms, 1000);
	CHECK_INT(p.samples, 1);
	CHECK_STR(percentile_text(h, 50), "<=1s");
	CHECK_STR(percentile_text(h, 90), "<=1s");
}

/* alice's first responses in the integration data: 1 / 2 / 2 / 3 / 1 in the
 * buckets <=1s, <=3s, <=5s, <=8s, <=10s (9 samples). p50: rank ceil(4.5) = 5,
 * cumulative 1, 3, 5 -> <=5s. p90: rank ceil(8.1) = 9, cumulative 1, 3, 5, 8, 9 ->
 * <=10s. */
static void test_percentile_nearest_rank_upper_bound_hand_worked(void)
{
	static const struct bucket_count c[] = {
	    {1000, 1}, {3000, 2}, {5000, 2}, {8000, 3}, {10000, 1}};
	int64_t h[HISTOGRAM_BUCKETS];
	struct scoreboard_percentile p;

	histogram_set(h, c, 5);
	scoreboard_percentile(h, 50, &p);
	CHECK_INT(p.lower_ms, 4000);
	CHECK_INT(p.upper_ms, 5000);
	scoreboard_percentile(h, 90, &p);
	CHECK_INT(p.lower_ms, 8000);
	CHECK_INT(p.upper_ms, 10000);
	CHECK_STR(percentile_text(h, 50), "<=5s");
	CHECK_STR(percentile_text(h, 90), "<=10s");
	CHECK_STR(percentile_text(h, 1), "<=1s");    /* rank 1 */
	CHECK_STR(percentile_text(h, 100), "<=10s"); /* rank 9: the slowest bucket */
	CHECK_STR(percentile_text(h, 11), "<=1s");   /* rank ceil(0.99) = 1 */
	CHECK_STR(percentile_text(h, 12), "<=3s");   /* rank ceil(1.08) = 2 */
}

/* A cumulative count that lands exactly on the rank stops in that bucket. */
static void test_percentile_rank_exactly_at_a_bucket_edge(void)
{
	static const struct bucket_count ten[] = {{1000, 5}, {2000, 5}};
	static const struct bucket_count eleven[] = {{1000, 5}, {2000, 6}};
	static const struct bucket_count hundred[] = {{1000, 90}, {2000, 10}};
	static const struct bucket_count under[] = {{1000, 89}, {2000, 11}};
	int64_t h[HISTOGRAM_BUCKETS];

	histogram_set(h, ten, 2);
	CHECK_STR(percentile_text(h, 50), "<=1s"); /* rank 5 = 5 */
	CHECK_STR(percentile_text(h, 90), "<=2s"); /* rank 9 */
	histogram_set(h, eleven, 2);
	CHECK_STR(percentile_text(h, 50), "<=2s"); /* rank ceil(5.5) = 6 > 5 */
	histogram_set(h, hundred, 2);
	CHECK_STR(percentile_text(h, 90), "<=1s"); /* rank 90 = 90 */
	histogram_set(h, under, 2);
	CHECK_STR(percentile_text(h, 90), "<=2s"); /* 89 < 90 */
}

static void test_percentile_open_last_bucket_is_more_than_300s(void)
{
	static const struct bucket_count slow[] = {{0, 1}};
	static const struct bucket_count mixed[] = {{5000, 8}, {0, 2}};
	int64_t h[HISTOGRAM_BUCKETS];
	struct scoreboard_percentile p;

	histogram_set(h, slow, 1);
	scoreboard_percentile(h, 50, &p);
	CHECK_INT(p.bucket, HISTOGRAM_BUCKETS - 1);
	CHECK_INT(p.lower_ms, 300000);
	CHECK(p.upper_ms == INT64_MAX);
	CHECK_STR(percentile_text(h, 50), ">300s");
	histogram_set(h, mixed, 2);
	CHECK_STR(percentile_text(h, 80), "<=5s");  /* rank 8 */
	CHECK_STR(percentile_text(h, 81), ">300s"); /* rank ceil(8.1) = 9 */
	CHECK_STR(percentile_text(h, 90), ">300s");
}

static void test_percentile_skips_empty_buckets(void)
{
	static const struct bucket_count c[] = {{60000, 3}, {120000, 1}};
	int64_t h[HISTOGRAM_BUCKETS];
	struct scoreboard_percentile p;

	histogram_set(h, c, 2);
	scoreboard_percentile(h, 50, &p);
	CHECK_INT(p.lower_ms, 30000);
	CHECK_INT(p.upper_ms, 60000);
	CHECK_STR(percentile_text(h, 75), "<=60s");  /* rank 3 */
	CHECK_STR(percentile_text(h, 76), "<=120s"); /* rank ceil(3.04) = 4 */
}

/* The whole shop s1 of the integration data (48 first responses, 79 responses). */
static void test_percentile_shop_row_hand_worked(void)
{
	static const struct bucket_count frt[] = {{1000, 6},  {2000, 13}, {3000, 7},
	                                          {4000, 5},  {5000, 6},  {8000, 6},
	                                          {10000, 1}, {15000, 3}, {0, 1}};
	static const struct bucket_count resp[] = {{2000, 8},  {5000, 44}, {10000, 18},
	                                           {15000, 6}, {30000, 1}, {0, 2}};
	int64_t h[HISTOGRAM_BUCKETS];

	histogram_set(h, frt, 9);
	CHECK_STR(percentile_text(h, 50), "<=3s");  /* rank 24: 6, 19, 26 */
	CHECK_STR(percentile_text(h, 90), "<=10s"); /* rank 44: ..., 37, 43, 44 */
	histogram_set(h, resp, 6);
	CHECK_STR(percentile_text(h, 50), "<=5s");  /* rank 40: 8, 52 */
	CHECK_STR(percentile_text(h, 90), "<=15s"); /* rank 72: 8, 52, 70, 76 */
}

static void test_bucket_labels(void)
{
	char out[16];

	CHECK_STR(scoreboard_bucket_label(0, out, sizeof(out)), "<=1s");
	CHECK_STR(scoreboard_bucket_label(6, out, sizeof(out)), "<=8s");
	CHECK_STR(scoreboard_bucket_label(13, out, sizeof(out)), "<=300s");
	CHECK_STR(scoreboard_bucket_label(14, out, sizeof(out)), ">300s");
}

/* ---- formats ---- */

static void test_formats_round_half_up(void)
{
	char out[32];

	CHECK_STR(scoreboard_format_seconds(1, 12500, out, sizeof(out)), "12.5s");
	CHECK_STR(scoreboard_format_seconds(1, 12949, out, sizeof(out)), "12.9s");
	CHECK_STR(scoreboard_format_seconds(1, 12950, out, sizeof(out)), "13.0s");
	CHECK_STR(scoreboard_format_seconds(1, 0, out, sizeof(out)), "0.0s");
	CHECK_STR(scoreboard_format_seconds(1, 400000, out, sizeof(out)), "400.0s");
	CHECK_STR(scoreboard_format_seconds(0, 5000, out, sizeof(out)), "-");
	CHECK_STR(scoreboard_format_percent(1, 3725, out, sizeof(out)), "37.3%");
	CHECK_STR(scoreboard_format_percent(1, 3745, out, sizeof(out)), "37.5%");
	CHECK_STR(scoreboard_format_percent(1, 3744, out, sizeof(out)), "37.4%");
	CHECK_STR(scoreboard_format_percent(1, 10000, out, sizeof(out)), "100.0%");
	CHECK_STR(scoreboard_format_percent(1, 0, out, sizeof(out)), "0.0%");
	CHECK_STR(scoreboard_format_percent(0, 5000, out, sizeof(out)), "-");
	CHECK_INT(scoreboard_ratio_e4(9, 32), 2813); /* 0.28125 */
	CHECK_INT(scoreboard_ratio_e4(6, 32), 1875);
	CHECK_INT(scoreboard_ratio_e4(3, 32), 938); /* 0.09375 */
	CHECK_INT(scoreboard_ratio_e4(1, 3), 3333);
	CHECK_INT(scoreboard_ratio_e4(2, 3), 6667);
	CHECK_INT(scoreboard_ratio_e4(5, 5), 10000);
	CHECK_INT(scoreboard_ratio_e4(1, 0), 0);
}

/* ---- lost reasons ---- */

static void test_rank_reasons_most_first_ties_by_name_and_cut(void)
{
	int64_t v[COUNTER_WIDTH] = {0};
	struct scoreboard_reason out[8];
	struct reasons r;

	reasons_init(&r);
	scoreboard_field(v, &r, "lost:slow", "9");
	scoreboard_field(v, &r, "lost:price", "9");
	scoreboard_field(v, &r, "lost:out_of_stock", "6");
	scoreboard_field(v, &r, "lost:other", "1");
	scoreboard_field(v, &r, "lost:courier", "0");
	CHECK_INT(scoreboard_rank_reasons(v, &r, out, 8), 4);
	CHECK_STR(r.names[out[0].id], "price");
	CHECK_INT(out[0].count, 9);
	CHECK_STR(r.names[out[1].id], "slow");
	CHECK_STR(r.names[out[2].id], "out_of_stock");
	CHECK_STR(r.names[out[3].id], "other");
	CHECK_INT(scoreboard_rank_reasons(v, &r, out, 2), 2);
	CHECK_STR(r.names[out[1].id], "slow");
	memset(v, 0, sizeof(v));
	CHECK_INT(scoreboard_rank_reasons(v, &r, out, 8), 0);
	reasons_free(&r);
}

/* ---- quadrant ---- */

static void row_of(int64_t *v, int64_t inquiries, int64_t ordered, int64_t paid, int64_t sales_fen)
{
	memset(v, 0, COUNTER_WIDTH * sizeof(*v));
	v[COUNTER_INQUIRIES] = inquiries;
	v[COUNTER_ORDERED] = ordered;
	v[COUNTER_PAID] = paid;
	v[COUNTER_SALES_FEN] = sales_fen;
}

/* Shop s1's day: conversion 19/51 = 37.25%, AOV 6584.00/19 = 346.53. */
static void test_quadrants_of_the_integration_shop(void)
{
	int64_t shop[COUNTER_WIDTH], a[COUNTER_WIDTH];

	row_of(shop, 51, 19, 19, 658400);
	row_of(a, 20, 10, 10, 500000); /* bob: 50%, 500.00 */
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_BEST);
	row_of(a, 8, 4, 4, 20000); /* 售前小美: 50%, 50.00 */
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_RELATED_SELLING);
	row_of(a, 10, 2, 2, 100000); /* dave: 20%, 500.00 */
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_SPEED);
	row_of(a, 10, 3, 3, 38400); /* alice: 30%, 128.00 */
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_REVIEW);
	row_of(a, 3, 3, 3, 900000); /* carol-like: 3 inquiries, however good */
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_TOO_FEW);
	row_of(a, 4, 0, 0, 0);
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_TOO_FEW);
	row_of(a, 5, 0, 0, 0); /* exactly the threshold is placed */
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_NO_PAID);
	row_of(a, 5, 4, 0, 0); /* ordered but nothing paid: AOV unknown */
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_NO_PAID);
}

static void test_quadrant_equal_to_the_shop_is_high(void)
{
	int64_t shop[COUNTER_WIDTH], a[COUNTER_WIDTH];

	row_of(shop, 40, 10, 8, 80000); /* 25%, 100.00 */
	row_of(a, 20, 5, 2, 20000);     /* 25%, 100.00 exactly */
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_BEST);
}

/* 3725/10000 and 19/51 both show as 37.3%, but 0.3725 < 0.372549...: low. */
static void test_quadrant_compares_exactly_not_the_rounded_display(void)
{
	int64_t shop[COUNTER_WIDTH], a[COUNTER_WIDTH];
	char x[16], y[16];

	row_of(shop, 51, 19, 19, 658400);
	row_of(a, 10000, 3725, 100, 3465300); /* AOV 346.53 exactly > 346.526... */
	CHECK_STR(scoreboard_format_percent(1, scoreboard_ratio_e4(3725, 10000), x, sizeof(x)),
	          scoreboard_format_percent(1, scoreboard_ratio_e4(19, 51), y, sizeof(y)));
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_SPEED);
	row_of(a, 10000, 3726, 100, 3465200); /* 0.3726 > 0.37255; 346.52 < 346.526 */
	CHECK_INT(scoreboard_quadrant(a, shop), QUADRANT_RELATED_SELLING);
}

static void test_quadrant_codes_and_labels(void)
{
	CHECK_STR(scoreboard_quadrant_code(QUADRANT_BEST), "best");
	CHECK_STR(scoreboard_quadrant_code(QUADRANT_RELATED_SELLING), "related_selling");
	CHECK_STR(scoreboard_quadrant_code(QUADRANT_SPEED), "speed");
	CHECK_STR(scoreboard_quadrant_code(QUADRANT_REVIEW), "review");
	CHECK_STR(scoreboard_quadrant_code(QUADRANT_NO_PAID), "no_paid");
	CHECK_STR(scoreboard_quadrant_code(QUADRANT_TOO_FEW), "too_few");
	CHECK_STR(scoreboard_quadrant_label(QUADRANT_BEST), "high/high: best");
	CHECK_STR(scoreboard_quadrant_label(QUADRANT_RELATED_SELLING),
	          "high conv, low AOV: train on related selling (关联销售)");
	CHECK_STR(scoreboard_quadrant_label(QUADRANT_SPEED),
	          "low conv, high AOV: look at response speed");
	CHECK_STR(scoreboard_quadrant_label(QUADRANT_REVIEW), "low/low: review");
	CHECK_STR(scoreboard_quadrant_label(QUADRANT_TOO_FEW), "too few inquiries");
}

/* ---- alert messages ---- */

static void test_alert_parse_spec_example(void)
{
	static const char msg[] =
	    "{\"type\":\"raised\",\"shop\":\"s1\",\"agent\":\"alice\",\"metric\":\"art\","
	    "\"value_ms\":12500,\n \"target_ms\":10000,\"samples\":7,\"window_s\":300,"
	    "\"ts\":\"2026-11-24T10:07:00.000+08:00\"}";
	struct scoreboard_alert a;

	CHECK_INT(scoreboard_alert_parse(msg, strlen(msg), &a), 0);
	CHECK_STR(a.type, "raised");
	CHECK_STR(a.shop, "s1");
	CHECK_STR(a.agent, "alice");
	CHECK_STR(a.metric, "art");
	CHECK_INT(a.value_ms, 12500);
	CHECK_INT(a.target_ms, 10000);
	CHECK_INT(a.samples, 7);
	CHECK_INT(a.window_s, 300);
	CHECK_STR(a.ts, "2026-11-24T10:07:00.000+08:00");
	CHECK_INT(scoreboard_json_valid(msg, strlen(msg)), 1);
}

static void test_alert_parse_escapes_unknown_fields_and_missing_ones(void)
{
	static const char msg[] = " { \"extra\" : {\"a\": [1, 2.5e3, true, null, \"x\"]},"
	                          "\"agent\": \"\\u5ba2\\u670d\\\"\\\\ \\ud83d\\ude00\","
	                          "\"shop\": \"优衣库\", \"value_ms\": 8.5, \"samples\": -2 } ";
	struct scoreboard_alert a;

	CHECK_INT(scoreboard_alert_parse(msg, strlen(msg), &a), 0);
	CHECK_STR(a.agent, "客服\"\\ \xf0\x9f\x98\x80");
	CHECK_STR(a.shop, "优衣库");
	CHECK_STR(a.type, "");
	CHECK_INT(a.value_ms, -1); /* not an integer: left absent */
	CHECK_INT(a.samples, -2);
	CHECK_INT(a.target_ms, -1);
}

static void test_alert_parse_refuses_what_is_not_one_json_object(void)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "\"raised\"",
	    "{\"type\":\"raised\"",
	    "{\"type\":\"raised\"} x",
	    "{\"type\":\"raised\",}",
	    "{\"type\" \"raised\"}",
	    "{type:\"raised\"}",
	    "{\"type\":\"ra\\qsed\"}",
	    "{\"type\":\"\\ud800\"}",
	    "{\"type\":\"\\udc00\"}",
	    "{\"type\":\"a\tb\"}",
	    "{\"type\":\"\xff\"}",
	    "{\"type\":\"\xc0\xaf\"}",
	    "{\"samples\":01}",
	    "{\"samples\":1.}",
	    "{\"samples\":-}",
	    "{\"x\":tru}",
	    "{\"x\":[1,]}",
	};
	struct scoreboard_alert a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = scoreboard_alert_parse(bad[i], strlen(bad[i]), &a);
		if (rc != -1)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		CHECK_INT(rc, -1);
	}
}

static void test_alert_parse_depth_limit(void)
{
	char deep[200];
	struct scoreboard_alert a;
	size_t n = 0;

	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"x\":");
	for (int i = 0; i < 40; i++)
		deep[n++] = '[';
	for (int i = 0; i < 40; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	CHECK_INT(scoreboard_alert_parse(deep, n, &a), -1);
	CHECK_INT(scoreboard_json_valid(deep, n), 0);
	CHECK_INT(scoreboard_json_valid("[[[1]]]", 7), 1);
}

/* A name longer than the field is cut before a character, never inside one. */
static void test_alert_parse_cuts_long_names_at_a_character(void)
{
	char msg[1200], *p = msg;
	struct scoreboard_alert a;

	p += sprintf(p, "{\"agent\":\"");
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "客"); /* 300 bytes */
	p += sprintf(p, "\"}");
	CHECK_INT(scoreboard_alert_parse(msg, (size_t)(p - msg), &a), 0);
	CHECK_INT(strlen(a.agent), 255); /* 85 characters of 3 bytes fit in 256 */
	CHECK(strncmp(a.agent, "客客客", 9) == 0);
}

static int valid(const char *s)
{
	return scoreboard_json_valid(s, strlen(s));
}

static void test_json_valid(void)
{
	CHECK_INT(valid("{}"), 1);
	CHECK_INT(valid(" {\"a\": [1, -2, 3.5e-2, \"\\u00e9\"]} "), 1);
	CHECK_INT(valid("null"), 1);
	CHECK_INT(valid("{} {}"), 0);
	CHECK_INT(valid("{'a': 1}"), 0);
	CHECK_INT(valid(""), 0);
}

/* ---- JSON strings and terminal text ---- */

/* Bytes (len of them) and the string a function must make of them. */
struct text_case {
	const char *text;
	size_t len;
	const char *want;
};

/* Checks make (which returns a string to free) on every case. */
static void check_text_cases(char *(*make)(const char *text, size_t len),
                             const struct text_case *cases, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		char *s = make(cases[i].text, cases[i].len);
		CHECK_STR(s, cases[i].want);
		free(s);
	}
}

static void test_display_text_replaces_controls_and_bad_bytes(void)
{
	static const struct text_case cases[] = {
	    {"x\"y\\z\x1b[31m", 10, "x\"y\\z?[31m"},
	    {"tab\there\x7f", 9, "tab?here?"},
	    {"c1:\xc2\x85:nbsp:\xc2\xa0", 13, "c1:?:nbsp:\xc2\xa0"},
	    {"客服\xff\xe4\xb8", 9, "客服???"},
	};

	check_text_cases(scoreboard_display_text, cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	RUN(test_hash_fields_map_to_counters_and_accumulate);
	RUN(test_hash_fields_derived_as_of_and_unknown_are_ignored);
	RUN(test_hash_fields_bad_counts_and_reason_names_are_refused);
	RUN(test_hash_fields_full_reason_registry_is_refused);
	RUN(test_percentile_empty_histogram_is_absent);
	RUN(test_percentile_one_sample_is_its_bucket);
	RUN(test_percentile_nearest_rank_upper_bound_hand_worked);
	RUN(test_percentile_rank_exactly_at_a_bucket_edge);
	RUN(test_percentile_open_last_bucket_is_more_than_300s);
	RUN(test_percentile_skips_empty_buckets);
	RUN(test_percentile_shop_row_hand_worked);
	RUN(test_bucket_labels);
	RUN(test_formats_round_half_up);
	RUN(test_rank_reasons_most_first_ties_by_name_and_cut);
	RUN(test_quadrants_of_the_integration_shop);
	RUN(test_quadrant_equal_to_the_shop_is_high);
	RUN(test_quadrant_compares_exactly_not_the_rounded_display);
	RUN(test_quadrant_codes_and_labels);
	RUN(test_alert_parse_spec_example);
	RUN(test_alert_parse_escapes_unknown_fields_and_missing_ones);
	RUN(test_alert_parse_refuses_what_is_not_one_json_object);
	RUN(test_alert_parse_depth_limit);
	RUN(test_alert_parse_cuts_long_names_at_a_character);
	RUN(test_json_valid);
	RUN(test_display_text_replaces_controls_and_bad_bytes);
	return check_done();
}
