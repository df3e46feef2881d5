/* Counter schema, tables and derived values (reference.md §3). */
#include "chatlogd/counters.h"
#include "chatlogd/reasons.h"
#include "chatlogd/wire.h"
#include "check.h"

static void test_bucket_bounds_are_inclusive_upper(void)
{
	CHECK_INT(counters_bucket(0), 0);
	CHECK_INT(counters_bucket(1000), 0);
	CHECK_INT(counters_bucket(1001), 1);
	CHECK_INT(counters_bucket(6000), 5);
	CHECK_INT(counters_bucket(6001), 6);
	CHECK_INT(counters_bucket(300000), 13);
	CHECK_INT(counters_bucket(300001), 14);
	CHECK_INT(counters_bucket(INT64_MAX), 14);
}

static void test_field_names_match_the_spec(void)
{
	const char *reasons[] = {"no_reply", "slow", "other", "out_of_stock"};
	char buf[64];
	CHECK_STR(counters_field_name(COUNTER_INQUIRIES, reasons, buf, sizeof(buf)), "inquiries");
	CHECK_STR(counters_field_name(COUNTER_RESPONSE_BREACHES, reasons, buf, sizeof(buf)),
	          "response_breaches");
	CHECK_STR(counters_field_name(COUNTER_CLOCK_SKEW, reasons, buf, sizeof(buf)), "clock_skew");
	CHECK_STR(counters_field_name(COUNTER_FRT_H, reasons, buf, sizeof(buf)), "frt_h:1000");
	CHECK_STR(counters_field_name(COUNTER_FRT_H + 14, reasons, buf, sizeof(buf)), "frt_h:inf");
	CHECK_STR(counters_field_name(COUNTER_RESP_H + 13, reasons, buf, sizeof(buf)),
	          "resp_h:300000");
	CHECK_STR(counters_field_name(COUNTER_LOST_REASON + 3, reasons, buf, sizeof(buf)),
	          "lost:out_of_stock");
}

/* Averages round half up: 3/2 = 1.5 → 2; 7/4 = 1.75 → 2; 5/4 = 1.25 → 1.
 * Ratios to 4 decimals: 2/3 → 0.6667, 1/8 → 0.1250, 1/3 → 0.3333, 1/16 = 0.0625.
 * aov: (5990 + 1) fen / 2 = 2995.5 → 2996 fen → 29.96. */
static void test_derived_values_round_half_up(void)
{
	int64_t v[COUNTER_WIDTH] = {0};
	struct derived d;
	char buf[32];

	counters_derive(v, &d);
	CHECK(!d.has_frt_avg && !d.has_art_avg && !d.has_reply_rate && !d.has_conversion &&
	      !d.has_pay_conversion && !d.has_aov);

	v[COUNTER_FIRST_RESPONSES] = 2;
	v[COUNTER_FRT_MS_SUM] = 3;
	v[COUNTER_RESPONSES] = 4;
	v[COUNTER_RESPONSE_MS_SUM] = 5;
	v[COUNTER_INQUIRIES] = 3;
	v[COUNTER_REPLIED] = 2;
	v[COUNTER_ORDERED] = 1;
	v[COUNTER_PAID] = 2;
	v[COUNTER_SALES_FEN] = 5991;
	counters_derive(v, &d);
	CHECK_INT(d.frt_avg_ms, 2);
	CHECK_INT(d.art_avg_ms, 1);
	CHECK_STR(counters_format_e4(d.reply_rate_e4, buf, sizeof(buf)), "0.6667");
	CHECK_STR(counters_format_e4(d.conversion_e4, buf, sizeof(buf)), "0.3333");
	CHECK_STR(counters_format_e4(d.pay_conversion_e4, buf, sizeof(buf)), "2.0000");
	CHECK_STR(counters_format_fen(d.aov_fen, buf, sizeof(buf)), "29.96");

	v[COUNTER_RESPONSE_MS_SUM] = 7;
	v[COUNTER_INQUIRIES] = 8;
	v[COUNTER_REPLIED] = 1;
	counters_derive(v, &d);
	CHECK_INT(d.art_avg_ms, 2);
	CHECK_STR(counters_format_e4(d.reply_rate_e4, buf, sizeof(buf)), "0.1250");
	v[COUNTER_INQUIRIES] = 16;
	counters_derive(v, &d);
	CHECK_STR(counters_format_e4(d.reply_rate_e4, buf, sizeof(buf)), "0.0625");
	/* 1/30000 = 0.0000333 → 0.0000; 2/30000 = 0.0000667 → 0.0001 */
	v[COUNTER_INQUIRIES] = 30000;
	counters_derive(v, &d);
	CHECK_STR(counters_format_e4(d.reply_rate_e4, buf, sizeof(buf)), "0.0000");
	v[COUNTER_REPLIED] = 2;
	counters_derive(v, &d);
	CHECK_STR(counters_format_e4(d.reply_rate_e4, buf, sizeof(buf)), "0.0001");
	CHECK_STR(counters_format_fen(5, buf, sizeof(buf)), "0.05");
}

static void test_folded_table_merges_minutes(void)
{
	struct counter_table *t = counter_table_new(0);
	counter_table_add(t, 2, 3, 0, COUNTER_INQUIRIES, 1);
	counter_table_add(t, 2, 3, 3600000, COUNTER_INQUIRIES, 1);
	counter_table_add(t, 2, 4, 0, COUNTER_INQUIRIES, 5);
	CHECK_INT(counter_table_count(t), 2);
	CHECK_INT(counter_table_row(t, 2, 3, 99)->value[COUNTER_INQUIRIES], 2);
	counter_table_free(t);
}

static void test_minute_table_keeps_minutes_apart(void)
{
	struct counter_table *t = counter_table_new(1);
	counter_table_add(t, 2, 3, 59999, COUNTER_RESPONSES, 1);
	counter_table_add(t, 2, 3, 60000, COUNTER_RESPONSES, 1);
	counter_table_add(t, 2, 3, 60001, COUNTER_RESPONSES, 1);
	counter_table_add(t, 2, 3, -1, COUNTER_RESPONSES, 1); /* minute -1, before 1970 */
	CHECK_INT(counter_table_count(t), 3);
	CHECK_INT(counter_table_row(t, 2, 3, 60000)->minute, 1);
	CHECK_INT(counter_table_row(t, 2, 3, 60000)->value[COUNTER_RESPONSES], 2);
	CHECK_INT(counter_table_row(t, 2, 3, -1)->minute, -1);
	counter_table_clear(t);
	CHECK_INT(counter_table_count(t), 0);
	CHECK_INT(counter_table_row(t, 2, 3, 60000)->value[COUNTER_RESPONSES], 0);
	counter_table_free(t);
}

static void test_many_rows_survive_growth(void)
{
	struct counter_table *t = counter_table_new(1);
	for (int64_t m = 0; m < 20000; m++)
		counter_table_add(t, (uint32_t)(m % 7), (uint32_t)(m % 13), m * 60000,
		                  COUNTER_AGENT_MSGS, m);
	CHECK_INT(counter_table_count(t), 20000);
	CHECK_INT(
	    counter_table_row(t, 12345 % 7, 12345 % 13, 12345LL * 60000)->value[COUNTER_AGENT_MSGS],
	    12345);
	counter_table_free(t);
}

/* A burst of 20000 rows, cleared, then a few, cleared (the burst's rows and index are
 * let go), then a burst again: every use sees only its own rows, with their values. */
static void test_clear_after_a_burst_lets_its_rows_go(void)
{
	struct counter_table *t = counter_table_new(1);

	for (int round = 0; round < 3; round++) {
		int64_t rows = round == 1 ? 5 : 20000;
		for (int64_t m = 0; m < rows; m++)
			counter_table_add(t, (uint32_t)(m % 7), (uint32_t)(m % 13), m * 60000,
			                  COUNTER_AGENT_MSGS, m + round);
		CHECK_INT(counter_table_count(t), rows);
		for (int64_t m = 0; m < rows; m += 997)
			CHECK_INT(
			    counter_table_row(t, (uint32_t)(m % 7), (uint32_t)(m % 13), m * 60000)
			        ->value[COUNTER_AGENT_MSGS],
			    m + round);
		CHECK_INT(counter_table_count(t), rows);
		counter_table_clear(t);
	}
	counter_table_free(t);
}

/* Rows are remembered per agent id: a clear must forget them (the row objects are
 * reused for other keys), and the same agent id in two shops, or an id too large to
 * remember, must still get its own row. */
static void test_rows_by_agent_are_checked_and_forgotten_on_clear(void)
{
	struct counter_table *t = counter_table_new(1);
	counter_table_add(t, 2, 3, 60000, COUNTER_RESPONSES, 7);
	counter_table_clear(t);
	CHECK_INT(counter_table_row(t, 2, 3, 60000)->value[COUNTER_RESPONSES], 0);
	CHECK_INT(counter_table_count(t), 1);

	counter_table_add(t, 2, 3, 60000, COUNTER_RESPONSES, 1);
	counter_table_add(t, 5, 3, 60000, COUNTER_RESPONSES, 10); /* agent 3 in shop 5 */
	counter_table_add(t, 2, 3, 60000, COUNTER_RESPONSES, 1);
	counter_table_add(t, 2, 4000000000u, 60000, COUNTER_RESPONSES, 100);
	counter_table_add(t, 2, 4000000000u, 60000, COUNTER_RESPONSES, 100);
	CHECK_INT(counter_table_count(t), 3);
	CHECK_INT(counter_table_row(t, 2, 3, 60000)->value[COUNTER_RESPONSES], 2);
	CHECK_INT(counter_table_row(t, 5, 3, 60000)->value[COUNTER_RESPONSES], 10);
	CHECK_INT(counter_table_row(t, 2, 4000000000u, 60000)->value[COUNTER_RESPONSES], 200);
	counter_table_free(t);
}

/* State written before contract v2 (schema 1) had no post_sale: its ids from that
 * place on were one lower. Loading it under schema 1 puts each count back in its
 * counter; under the current schema the same bytes mean what they say. */
static void test_schema_1_counter_ids_load_into_their_counters(void)
{
	struct wire_writer w = {0};
	struct wire_reader r;
	struct counter_table *t = counter_table_new(1);
	struct counter_row *row;

	wire_put_u64(&w, 1);        /* rows */
	wire_put_u32(&w, 2);        /* shop */
	wire_put_u32(&w, 3);        /* agent */
	wire_put_i64(&w, 29924760); /* minute */
	wire_put_u32(&w, 3);        /* non-zero counters */
	wire_put_u32(&w, 0);        /* inquiries, in both schemas */
	wire_put_i64(&w, 7);
	wire_put_u32(&w, 1); /* schema 1: replied */
	wire_put_i64(&w, 5);
	wire_put_u32(&w, COUNTER_LOST_REASON - 1); /* schema 1: lost reason 0 */
	wire_put_i64(&w, 2);
	wire_reader_init(&r, w.data, w.len);
	CHECK_INT(counter_table_load(t, &r, 1), 0);
	row = counter_table_row(t, 2, 3, 29924760LL * 60000);
	CHECK_INT(row->value[COUNTER_INQUIRIES], 7);
	CHECK_INT(row->value[COUNTER_POST_SALE], 0);
	CHECK_INT(row->value[COUNTER_REPLIED], 5);
	CHECK_INT(row->value[COUNTER_LOST_REASON + REASON_NO_REPLY], 2);
	CHECK_INT(counters_id_from_schema(COUNTER_REPLIED, COUNTERS_SCHEMA), COUNTER_REPLIED);
	counter_table_free(t);
	wire_writer_free(&w);
}

int main(void)
{
	RUN(test_bucket_bounds_are_inclusive_upper);
	RUN(test_schema_1_counter_ids_load_into_their_counters);
	RUN(test_field_names_match_the_spec);
	RUN(test_derived_values_round_half_up);
	RUN(test_folded_table_merges_minutes);
	RUN(test_minute_table_keeps_minutes_apart);
	RUN(test_many_rows_survive_growth);
	RUN(test_clear_after_a_burst_lets_its_rows_go);
	RUN(test_rows_by_agent_are_checked_and_forgotten_on_clear);
	return check_done();
}
