/*
 * Tests for record.c: field names, the kind/from/amount vocabularies, defaults and
 * required fields in record_finish.
 */
#include <string.h>

#include "chatlogd/limits.h"
#include "chatlogd/record.h"
#include "check.h"

static int amount(const char *s, int64_t *fen)
{
	return record_parse_amount(s, strlen(s), fen);
}

/* A message record with everything a buyer message needs. */
static void buyer_message(struct record *rec)
{
	record_clear(rec);
	rec->from = FROM_BUYER;
	rec->buyer.ptr = "b1";
	rec->buyer.len = 2;
}

static void test_field_lookup_every_spec_field(void)
{
	CHECK_INT(record_field_lookup("ts", 2), FIELD_TS);
	CHECK_INT(record_field_lookup("kind", 4), FIELD_KIND);
	CHECK_INT(record_field_lookup("shop", 4), FIELD_SHOP);
	CHECK_INT(record_field_lookup("buyer", 5), FIELD_BUYER);
	CHECK_INT(record_field_lookup("agent", 5), FIELD_AGENT);
	CHECK_INT(record_field_lookup("from", 4), FIELD_FROM);
	CHECK_INT(record_field_lookup("text", 4), FIELD_TEXT);
	CHECK_INT(record_field_lookup("order", 5), FIELD_ORDER);
	CHECK_INT(record_field_lookup("amount", 6), FIELD_AMOUNT);
}

static void test_field_lookup_unknown_prefix_and_case(void)
{
	CHECK_INT(record_field_lookup("t", 1), FIELD_UNKNOWN);
	CHECK_INT(record_field_lookup("tsx", 3), FIELD_UNKNOWN);
	CHECK_INT(record_field_lookup("Kind", 4), FIELD_UNKNOWN);
	CHECK_INT(record_field_lookup("", 0), FIELD_UNKNOWN);
	CHECK_INT(record_field_lookup("amounts", 7), FIELD_UNKNOWN);
	/* The length counts, not a NUL terminator. */
	CHECK_INT(record_field_lookup("tsz", 2), FIELD_TS);
}

static void test_record_clear_sets_defaults(void)
{
	struct record rec;
	memset(&rec, 0x5a, sizeof(rec));
	record_clear(&rec);
	CHECK_INT(rec.kind, RECORD_MSG);
	CHECK_INT(rec.from, FROM_NONE);
	CHECK_INT(rec.ts_ms, 0);
	CHECK_INT(rec.amount_fen, 0);
	CHECK_INT(rec.buyer.len, 0);
	CHECK_INT(rec.text.len, 0);
}

static void test_parse_kind_words(void)
{
	enum record_kind kind = RECORD_PAY;
	CHECK_INT(record_parse_kind("msg", 3, &kind), 0);
	CHECK_INT(kind, RECORD_MSG);
	CHECK_INT(record_parse_kind("order", 5, &kind), 0);
	CHECK_INT(kind, RECORD_ORDER);
	CHECK_INT(record_parse_kind("pay", 3, &kind), 0);
	CHECK_INT(kind, RECORD_PAY);
	CHECK_INT(record_parse_kind("PAY", 3, &kind), -1);
	CHECK_INT(record_parse_kind("pays", 4, &kind), -1);
	CHECK_INT(record_parse_kind("pa", 2, &kind), -1);
	CHECK_INT(record_parse_kind("", 0, &kind), -1);
	CHECK_INT(kind, RECORD_PAY);
}

static void test_parse_from_words(void)
{
	enum record_from from = FROM_NONE;
	CHECK_INT(record_parse_from("buyer", 5, &from), 0);
	CHECK_INT(from, FROM_BUYER);
	CHECK_INT(record_parse_from("agent", 5, &from), 0);
	CHECK_INT(from, FROM_AGENT);
	CHECK_INT(record_parse_from("bot", 3, &from), 0);
	CHECK_INT(from, FROM_BOT);
	CHECK_INT(record_parse_from("Bot", 3, &from), -1);
	CHECK_INT(record_parse_from("customer", 8, &from), -1);
	CHECK_INT(record_parse_from("buyer ", 6, &from), -1);
}

static void test_amount_two_decimals_exact(void)
{
	int64_t fen = -1;
	CHECK_INT(amount("59.90", &fen), 0);
	CHECK_INT(fen, 5990);
	CHECK_INT(amount("0.01", &fen), 0);
	CHECK_INT(fen, 1);
	CHECK_INT(amount("19.99", &fen), 0);
	CHECK_INT(fen, 1999);
}

static void test_amount_one_decimal_is_tens_of_fen(void)
{
	int64_t fen = -1;
	CHECK_INT(amount("59.9", &fen), 0);
	CHECK_INT(fen, 5990);
	CHECK_INT(amount("0.5", &fen), 0);
	CHECK_INT(fen, 50);
}

static void test_amount_integers(void)
{
	int64_t fen = -1;
	CHECK_INT(amount("0", &fen), 0);
	CHECK_INT(fen, 0);
	CHECK_INT(amount("10", &fen), 0);
	CHECK_INT(fen, 1000);
	CHECK_INT(amount("007.50", &fen), 0);
	CHECK_INT(fen, 750);
}

static void test_amount_largest_and_too_large(void)
{
	int64_t fen = -1;
	CHECK_INT(amount("9999999999999999.99", &fen), 0);
	CHECK_INT(fen, INT64_C(999999999999999999));
	CHECK_INT(amount("10000000000000000", &fen), -1);
}

static void test_amount_malformed_rejected(void)
{
	int64_t fen = 42;
	CHECK_INT(amount("1.234", &fen), -1);
	CHECK_INT(amount("-1", &fen), -1);
	CHECK_INT(amount("+1", &fen), -1);
	CHECK_INT(amount("1e2", &fen), -1);
	CHECK_INT(amount(".5", &fen), -1);
	CHECK_INT(amount("5.", &fen), -1);
	CHECK_INT(amount("", &fen), -1);
	CHECK_INT(amount(" 5", &fen), -1);
	CHECK_INT(amount("5 ", &fen), -1);
	CHECK_INT(amount("1.2.3", &fen), -1);
	CHECK_INT(amount("1,000", &fen), -1);
	CHECK_INT(amount("¥5", &fen), -1);
	CHECK_INT(fen, 42);
}

static void test_finish_shop_defaults_to_default(void)
{
	struct record rec;
	char err[64];
	buyer_message(&rec);
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), 0);
	CHECK_INT(rec.shop.len, 7);
	CHECK(memcmp(rec.shop.ptr, "default", 7) == 0);
}

static void test_finish_missing_ts(void)
{
	struct record rec;
	char err[64];
	buyer_message(&rec);
	CHECK_INT(record_finish(&rec, 0, err, sizeof(err)), -1);
	CHECK_STR(err, "missing ts");
}

static void test_finish_missing_buyer(void)
{
	struct record rec;
	char err[64];
	buyer_message(&rec);
	rec.buyer.len = 0;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "missing buyer");
}

static void test_finish_message_needs_from(void)
{
	struct record rec;
	char err[64];
	buyer_message(&rec);
	rec.from = FROM_NONE;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "missing from");
}

static void test_finish_agent_message_needs_agent(void)
{
	struct record rec;
	char err[64];
	buyer_message(&rec);
	rec.from = FROM_AGENT;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "missing agent");
	rec.agent.ptr = "alice";
	rec.agent.len = 5;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), 0);
}

static void test_finish_buyer_and_bot_messages_need_no_agent(void)
{
	struct record rec;
	char err[64];
	buyer_message(&rec);
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), 0);
	buyer_message(&rec);
	rec.from = FROM_BOT;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), 0);
}

static void test_finish_order_needs_no_from_and_drops_it(void)
{
	struct record rec;
	char err[64];
	buyer_message(&rec);
	rec.kind = RECORD_ORDER;
	rec.from = FROM_NONE;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), 0);
	buyer_message(&rec);
	rec.kind = RECORD_PAY;
	rec.from = FROM_AGENT; /* agent without a name: irrelevant on a payment */
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), 0);
	CHECK_INT(rec.from, FROM_NONE);
}

static void test_finish_name_at_limit_accepted_past_limit_rejected(void)
{
	static char name[LIMIT_NAME_BYTES + 1];
	struct record rec;
	char err[64];

	memset(name, 'n', sizeof(name));
	buyer_message(&rec);
	rec.shop.ptr = name;
	rec.shop.len = LIMIT_NAME_BYTES;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), 0);
	rec.shop.len = LIMIT_NAME_BYTES + 1;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "shop too long");

	buyer_message(&rec);
	rec.buyer.ptr = name;
	rec.buyer.len = LIMIT_NAME_BYTES + 1;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "buyer too long");

	buyer_message(&rec);
	rec.agent.ptr = name;
	rec.agent.len = LIMIT_NAME_BYTES + 1;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "agent too long");
}

static void test_finish_nul_in_name_rejected(void)
{
	struct record rec;
	char err[64];

	buyer_message(&rec);
	rec.buyer.ptr = "b\0x";
	rec.buyer.len = 3;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "NUL byte in buyer");

	buyer_message(&rec);
	rec.agent.ptr = "\0";
	rec.agent.len = 1;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "NUL byte in agent");

	buyer_message(&rec);
	rec.shop.ptr = "s\0";
	rec.shop.len = 2;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), -1);
	CHECK_STR(err, "NUL byte in shop");
}

static void test_finish_nul_in_text_is_fine(void)
{
	struct record rec;
	char err[64];
	buyer_message(&rec);
	rec.text.ptr = "a\0b";
	rec.text.len = 3;
	CHECK_INT(record_finish(&rec, 1, err, sizeof(err)), 0);
}

static void test_finish_error_cut_to_errlen(void)
{
	struct record rec;
	char err[5];
	buyer_message(&rec);
	CHECK_INT(record_finish(&rec, 0, err, sizeof(err)), -1);
	CHECK_STR(err, "miss");
}

int main(void)
{
	RUN(test_field_lookup_every_spec_field);
	RUN(test_field_lookup_unknown_prefix_and_case);
	RUN(test_record_clear_sets_defaults);
	RUN(test_parse_kind_words);
	RUN(test_parse_from_words);
	RUN(test_amount_two_decimals_exact);
	RUN(test_amount_one_decimal_is_tens_of_fen);
	RUN(test_amount_integers);
	RUN(test_amount_largest_and_too_large);
	RUN(test_amount_malformed_rejected);
	RUN(test_finish_shop_defaults_to_default);
	RUN(test_finish_missing_ts);
	RUN(test_finish_missing_buyer);
	RUN(test_finish_message_needs_from);
	RUN(test_finish_agent_message_needs_agent);
	RUN(test_finish_buyer_and_bot_messages_need_no_agent);
	RUN(test_finish_order_needs_no_from_and_drops_it);
	RUN(test_finish_name_at_limit_accepted_past_limit_rejected);
	RUN(test_finish_nul_in_name_rejected);
	RUN(test_finish_nul_in_text_is_fine);
	RUN(test_finish_error_cut_to_errlen);
	return check_done();
}
