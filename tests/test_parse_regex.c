/*
 * Tests for the line-regex format (parse_regex.c through parse.h): the format file
 * syntax and its FILE:LINE:COLUMN errors, field extraction, word maps, timestamps,
 * and the shipped presets in patterns/formats/. Local times are Asia/Shanghai:
 * 2026-11-24 10:00:00 there is 1795485600 s (`TZ=Asia/Shanghai date -d ... +%s`).
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/parse.h"
#include "chatlogd/parse_internal.h"
#include "chatlogd/timefmt.h"
#include "check.h"

#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

#define TEN_AM_MS INT64_C(1795485600000)

static struct record rec;
static char err[256];

static struct parser *load(const char *text)
{
	err[0] = '\0';
	return parser_new_regex_buffer("t.re", text, strlen(text), err, sizeof(err));
}

static int parse(struct parser *p, const char *line)
{
	err[0] = '\0';
	return parser_parse(p, line, strlen(line), &rec, err, sizeof(err));
}

static int view_eq(struct text_view v, const char *want)
{
	return v.len == strlen(want) && memcmp(v.ptr, want, v.len) == 0;
}

/* Expects loading text to fail with exactly this message. */
#define CHECK_LOAD_FAILS(text, message)                                                            \
	do {                                                                                       \
		struct parser *check_p_ = load(text);                                              \
		CHECK(check_p_ == NULL);                                                           \
		parser_free(check_p_);                                                             \
		CHECK_STR(err, message);                                                           \
	} while (0)

static struct parser *oneline(void)
{
	struct parser *p =
	    parser_new("regex:" SOURCE_DIR "/tests/data/format_oneline.re", err, sizeof(err));
	if (p == NULL)
		fprintf(stderr, "format_oneline.re: %s\n", err);
	return p;
}

static void test_minimal_format_rfc3339_without_ts_format(void)
{
	struct parser *p =
	    load("pattern = ^(?<ts>\\S+) (?<buyer>\\S+) (?<from>\\w+): (?<text>.*)$\n");
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 b1 buyer: 在吗"), 0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS);
	CHECK_INT(rec.from, FROM_BUYER);
	CHECK(view_eq(rec.buyer, "b1"));
	CHECK(view_eq(rec.text, "在吗"));
	CHECK(view_eq(rec.shop, "default"));
	parser_free(p);
}

static void test_minimal_format_epoch_without_ts_format(void)
{
	struct parser *p =
	    load("pattern = ^(?<ts>\\S+) (?<buyer>\\S+) (?<from>\\w+): (?<text>.*)$\n");
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "1795485600.250 b1 agent: hi"), -1);
	CHECK_STR(err, "missing agent");
	CHECK_INT(parse(p, "1795485600.250 b1 bot: hi"), 0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS + 250);
	CHECK_INT(rec.from, FROM_BOT);
	CHECK_INT(parse(p, "1.7e9 b1 bot: hi"), -1);
	CHECK_STR(err, "bad timestamp");
	parser_free(p);
}

static void test_format_file_by_path(void)
{
	struct parser *p =
	    parser_new("regex:" SOURCE_DIR "/tests/data/format_minimal.re", err, sizeof(err));
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24T02:00:00Z b7 buyer: x"), 0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS);
	CHECK(view_eq(rec.buyer, "b7"));
	parser_free(p);
}

static void test_missing_file_names_path(void)
{
	CHECK(parser_new("regex:/nonexistent/chatlogd.re", err, sizeof(err)) == NULL);
	CHECK_STR(err, "/nonexistent/chatlogd.re: No such file or directory");
}

static void test_no_match_and_invalid_utf8(void)
{
	struct parser *p =
	    load("pattern = ^(?<ts>\\S+) (?<buyer>\\S+) (?<from>\\w+): (?<text>.*)$");
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "just some words"), -1);
	CHECK_STR(err, "no match");
	CHECK_INT(parse(p, ""), -1);
	CHECK_STR(err, "no match");
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 b1 buyer: \xe4\xb8"), -1);
	CHECK_STR(err, "invalid UTF-8");
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 b1 buyer: \xed\xa0\x80"), -1);
	CHECK_STR(err, "invalid UTF-8");
	parser_free(p);
}

static void test_ts_format_local_time_with_fraction(void)
{
	struct parser *p = load("pattern = ^(?<ts>[^|]+)\\|(?<buyer>[^|]+)\\|(?<from>.+)$\n"
	                        "ts_format = %d/%m/%Y %H:%M:%S\n");
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "24/11/2026 10:00:00|b1|buyer"), 0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS);
	CHECK_INT(parse(p, "24/11/2026 10:00:00.0429|b1|buyer"), 0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS + 42);
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00|b1|buyer"), -1);
	CHECK_STR(err, "bad timestamp");
	CHECK_INT(parse(p, "31/11/2026 10:00:00|b1|buyer"), -1);
	CHECK_STR(err, "bad timestamp");
	parser_free(p);
}

static void test_word_maps_for_from_and_kind(void)
{
	struct parser *p = load("pattern = ^(?<ts>\\S+) (?<kind>\\S+) (?<from>\\S+) (?<buyer>\\S+)"
	                        "(?: (?<amount>\\S+))?$\n"
	                        "from.买家 = buyer\nfrom.客服=agent\nfrom.机器人 = bot\n"
	                        "kind.消息 = msg\nkind.下单 = order\nkind.付款 = pay\n");
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 消息 买家 b1"), 0);
	CHECK_INT(rec.kind, RECORD_MSG);
	CHECK_INT(rec.from, FROM_BUYER);
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 消息 机器人 b1"), 0);
	CHECK_INT(rec.from, FROM_BOT);
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 付款 - b1 59.90"), -1);
	CHECK_STR(err, "bad from");
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 下单 buyer b1 59.9"), 0);
	CHECK_INT(rec.kind, RECORD_ORDER);
	CHECK_INT(rec.from, FROM_NONE);
	CHECK_INT(rec.amount_fen, 5990);
	/* The spec's own words work without a map entry. */
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 pay buyer b1 1"), 0);
	CHECK_INT(rec.kind, RECORD_PAY);
	CHECK_INT(rec.amount_fen, 100);
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 聊天 买家 b1"), -1);
	CHECK_STR(err, "bad kind");
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 pay buyer b1 1.234"), -1);
	CHECK_STR(err, "bad amount");
	parser_free(p);
}

static void test_empty_or_unset_group_is_absent(void)
{
	struct parser *p = load("pattern = ^(?<ts>\\S+) \\[(?<shop>[^]]*)\\] (?<buyer>\\w*)"
	                        "(?: (?<agent>\\w+))? (?<from>\\w+)$");
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 [] b1 buyer"), 0);
	CHECK(view_eq(rec.shop, "default"));
	CHECK_INT(rec.agent.len, 0);
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 [s1]  buyer"), -1);
	CHECK_STR(err, "missing buyer");
	parser_free(p);
}

static void test_duplicate_group_names_first_set_wins(void)
{
	struct parser *p = load("pattern = ^(?<ts>\\S+) (?:(?<buyer>\\w+) > (?<agent>\\w+)"
	                        "(?<from>)|(?<agent>\\w+) > (?<buyer>\\w+)): (?<text>.*)$\n");
	if (p == NULL)
		return;
	/* An empty group is absent, so the first alternative has no from. */
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 b1 > alice: hi"), -1);
	CHECK_STR(err, "missing from");
	parser_free(p);

	p = load("pattern = ^(?<ts>\\S+) (?:(?<buyer>\\w+) > (?<agent>\\w+)|"
	         "(?<agent>\\w+) < (?<buyer>\\w+)) (?<from>\\w+): (?<text>.*)$\n");
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 b1 > alice buyer: hi"), 0);
	CHECK(view_eq(rec.buyer, "b1"));
	CHECK(view_eq(rec.agent, "alice"));
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 bob < b2 agent: hello"), 0);
	CHECK(view_eq(rec.buyer, "b2"));
	CHECK(view_eq(rec.agent, "bob"));
	CHECK(view_eq(rec.text, "hello"));
	parser_free(p);
}

static void test_name_rules_apply(void)
{
	struct parser *p = load("pattern = ^(?<ts>\\S+) (?<buyer>.+) (?<from>\\w+)$");
	char line[600];
	if (p == NULL)
		return;
	snprintf(line, sizeof(line), "2026-11-24T10:00:00+08:00 %0300d buyer", 7);
	CHECK_INT(parse(p, line), -1);
	CHECK_STR(err, "buyer too long");
	CHECK_INT(
	    parser_parse(p, "2026-11-24T10:00:00+08:00 b\0 buyer", 34, &rec, err, sizeof(err)), -1);
	CHECK_STR(err, "NUL byte in buyer");
	parser_free(p);
}

static void test_match_limit_counts_as_no_match(void)
{
	struct parser *p = load("pattern = ^(?<ts>\\S+) (?<buyer>(a|aa)+)+$");
	char line[128];
	if (p == NULL)
		return;
	snprintf(line, sizeof(line), "2026-11-24T10:00:00+08:00 %s",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	CHECK_INT(parse(p, line), -1);
	CHECK_STR(err, "no match (match limit)");
	parser_free(p);
}

static void test_comments_blank_lines_crlf_and_bom(void)
{
	struct parser *p = load("\xef\xbb\xbf# a comment\r\n\r\n   \r\n"
	                        "pattern = ^(?<ts>\\S+) (?<buyer>\\S+) (?<from>\\w+)$   \r\n"
	                        "# another\r\n");
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00 b1 buyer"), 0);
	parser_free(p);
}

static void test_continued_pattern_with_extended_mode(void)
{
	struct parser *p = load("pattern = (?x) ^\n"
	                        "    (?<ts> \\S+ ) [ ]   # the time\n"
	                        "# a file comment between pieces\n"
	                        "\n"
	                        "\t(?<buyer> \\S+ ) [ ] (?<from> \\w+ )\n"
	                        "    $\n"
	                        "ts_format = %Y-%m-%dT%H:%M:%S\n");
	CHECK(p != NULL);
	if (p == NULL) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_INT(parse(p, "2026-11-24T10:00:00 b1 buyer"), 0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS);
	parser_free(p);
}

static void test_error_unknown_group_name_column(void)
{
	CHECK_LOAD_FAILS("pattern = ^(?<ts>\\S+) (?<foo>.*)$",
	                 "t.re:1:26: unknown group name \"foo\"");
	CHECK_LOAD_FAILS("# x\npattern = (?<ts>.)(?'Buyer'.)",
	                 "t.re:2:22: unknown group name \"Buyer\"");
}

static void test_error_pcre2_compile_column(void)
{
	CHECK_LOAD_FAILS("pattern = ^(?<ts>a(b$", "t.re:1:22: missing closing parenthesis");
	CHECK_LOAD_FAILS("\n\npattern   =   x{2,1}(?<ts>.)",
	                 "t.re:3:20: numbers out of order in {} quantifier");
}

static void test_error_compile_column_on_continuation_line(void)
{
	CHECK_LOAD_FAILS("# comment\n"
	                 "pattern = (?x) ^\n"
	                 "\t(?<ts> \\S+ ) [ ]\n"
	                 "\t(?<buyer> [a-z )\n",
	                 "t.re:4:18: missing terminating ] for character class");
	CHECK_LOAD_FAILS("pattern = (?x)\n"
	                 "  (?<ts>.) (?<nope>.)\n",
	                 "t.re:2:15: unknown group name \"nope\"");
}

static void test_error_file_structure(void)
{
	CHECK_LOAD_FAILS("# nothing here\n", "t.re:1:1: no pattern");
	CHECK_LOAD_FAILS("", "t.re:1:1: no pattern");
	CHECK_LOAD_FAILS("pattern = (?<ts>.)\npattern = (?<ts>..)\n",
	                 "t.re:2:1: pattern given twice");
	CHECK_LOAD_FAILS("pattern =   \n", "t.re:1:13: empty pattern");
	CHECK_LOAD_FAILS("pattern = (?<ts>.)\n  patern = x\nshop = s1\n",
	                 "t.re:3:1: unknown key \"shop\"");
	CHECK_LOAD_FAILS("pattern (?<ts>.)\n", "t.re:1:1: expected key = value");
	CHECK_LOAD_FAILS("  indented = 1\n", "t.re:1:1: indented line does not continue a pattern");
	CHECK_LOAD_FAILS("pattern = (?<ts>.)\nts_format = %Y\nts_format = %Y\n",
	                 "t.re:3:1: ts_format given twice");
	CHECK_LOAD_FAILS("pattern = (?<ts>.)\nts_format = iso\n",
	                 "t.re:2:13: ts_format needs strptime conversions");
	CHECK_LOAD_FAILS("pattern = (?<ts>.)\n\xff\n", "t.re:1:1: format file is not UTF-8 text");
}

static void test_error_word_maps(void)
{
	CHECK_LOAD_FAILS("pattern = (?<ts>.)\nfrom.顾客 = customer\n",
	                 "t.re:2:15: want buyer, agent or bot, not \"customer\"");
	CHECK_LOAD_FAILS("pattern = (?<ts>.)\nkind.x = refund\n",
	                 "t.re:2:10: want msg, order or pay, not \"refund\"");
	CHECK_LOAD_FAILS("pattern = (?<ts>.)\nfrom.买家 = buyer\nfrom.买家 = agent\n",
	                 "t.re:3:6: word mapped twice: \"买家\"");
	CHECK_LOAD_FAILS("pattern = (?<ts>.)\nfrom. = buyer\n", "t.re:2:1: unknown key \"from.\"");
}

static void test_jit_used_when_available(void)
{
	struct regex_parser *rp =
	    regex_parser_load_buffer("t.re", "pattern = (?<ts>.)", 18, err, sizeof(err));
	CHECK(rp != NULL);
	if (rp == NULL)
		return;
	/* Debian's libpcre2 is built with JIT on x86-64; elsewhere 0 is fine too. */
	CHECK(regex_parser_jit_enabled(rp) == 0 || regex_parser_jit_enabled(rp) == 1);
	regex_parser_free(rp);
}

static void test_oneline_buyer_to_agent(void)
{
	struct parser *p = oneline();
	if (p == NULL)
		return;
	CHECK_INT(
	    parse(p, "2026-11-24 10:00:00 [旗舰店] 买家 tb_b1 -> 客服 小美: 在吗,这款有现货吗"), 0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS);
	CHECK_INT(rec.kind, RECORD_MSG);
	CHECK_INT(rec.from, FROM_BUYER);
	CHECK(view_eq(rec.shop, "旗舰店"));
	CHECK(view_eq(rec.buyer, "tb_b1"));
	CHECK(view_eq(rec.agent, "小美"));
	CHECK(view_eq(rec.text, "在吗,这款有现货吗"));
	parser_free(p);
}

static void test_oneline_agent_sub_account_keeps_colon(void)
{
	struct parser *p = oneline();
	if (p == NULL)
		return;
	CHECK_INT(
	    parse(p, "2026-11-24 10:00:04.500 [旗舰店] 客服 旗舰店:小美 -> 买家 tb_b1: 亲: 在的"),
	    0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS + 4500);
	CHECK_INT(rec.from, FROM_AGENT);
	CHECK(view_eq(rec.agent, "旗舰店:小美"));
	CHECK(view_eq(rec.buyer, "tb_b1"));
	CHECK(view_eq(rec.text, "亲: 在的"));
	parser_free(p);
}

static void test_oneline_full_width_colon_and_no_agent(void)
{
	struct parser *p = oneline();
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24 10:00:30 [旗舰店] 买家 tb_b1：什么时候发货：今天吗"), 0);
	CHECK_INT(rec.from, FROM_BUYER);
	CHECK(view_eq(rec.buyer, "tb_b1"));
	CHECK_INT(rec.agent.len, 0);
	CHECK(view_eq(rec.text, "什么时候发货：今天吗"));
	parser_free(p);
}

static void test_oneline_bot_with_and_without_name(void)
{
	struct parser *p = oneline();
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24 10:00:01 [旗舰店] 机器人 -> 买家 tb_b1: 您好"), 0);
	CHECK_INT(rec.from, FROM_BOT);
	CHECK_INT(rec.agent.len, 0);
	CHECK_INT(parse(p, "2026-11-24 10:00:01 [旗舰店] 机器人 小蜜 -> 买家 tb_b1: 您好"), 0);
	CHECK(view_eq(rec.agent, "小蜜"));
	parser_free(p);
}

static void test_oneline_order_and_payment(void)
{
	struct parser *p = oneline();
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24 10:03:00 [旗舰店] 下单 买家 tb_b1 订单 O1 金额 59.90"), 0);
	CHECK_INT(rec.kind, RECORD_ORDER);
	CHECK_INT(rec.from, FROM_NONE);
	CHECK(view_eq(rec.order, "O1"));
	CHECK_INT(rec.amount_fen, 5990);
	CHECK_INT(rec.ts_ms, TEN_AM_MS + 180000);
	CHECK_INT(parse(p, "2026-11-24 10:05:00 [] 付款 买家 tb_b2 订单 O2"), 0);
	CHECK_INT(rec.kind, RECORD_PAY);
	CHECK(view_eq(rec.shop, "default"));
	CHECK_INT(rec.amount_fen, 0);
	parser_free(p);
}

/* Reads tests/data/parse_qianniu_sample.log and checks each line's outcome. */
static void test_oneline_sample_log(void)
{
	static const struct {
		int ok;
		const char *reason; /* when !ok */
		int64_t ts_ms;
		enum record_kind kind;
		enum record_from from;
		int64_t amount_fen;
	} want[] = {
	    {1, NULL, TEN_AM_MS, RECORD_MSG, FROM_BUYER, 0},
	    {1, NULL, TEN_AM_MS + 1000, RECORD_MSG, FROM_BOT, 0},
	    {1, NULL, TEN_AM_MS + 4500, RECORD_MSG, FROM_AGENT, 0},
	    {1, NULL, TEN_AM_MS + 30000, RECORD_MSG, FROM_BUYER, 0},
	    {0, "no match", 0, RECORD_MSG, FROM_NONE, 0},
	    {1, NULL, TEN_AM_MS + 180000, RECORD_ORDER, FROM_NONE, 5990},
	    {1, NULL, TEN_AM_MS + 300000, RECORD_PAY, FROM_NONE, 5990},
	    {1, NULL, TEN_AM_MS + 360000, RECORD_PAY, FROM_NONE, 0},
	    {0, "bad amount", 0, RECORD_MSG, FROM_NONE, 0},
	    {0, "bad timestamp", 0, RECORD_MSG, FROM_NONE, 0},
	};
	struct parser *p = oneline();
	char line[1024];
	size_t n = 0;
	FILE *f;

	if (p == NULL)
		return;
	f = fopen(SOURCE_DIR "/tests/data/parse_qianniu_sample.log", "r");
	CHECK(f != NULL);
	if (f == NULL)
		goto end;
	while (fgets(line, sizeof(line), f) != NULL && n < sizeof(want) / sizeof(want[0])) {
		line[strcspn(line, "\n")] = '\0';
		int rc = parse(p, line);
		CHECK_INT(rc, want[n].ok ? 0 : -1);
		if (!want[n].ok) {
			CHECK_STR(err, want[n].reason);
		} else if (rc == 0) {
			CHECK_INT(rec.ts_ms, want[n].ts_ms);
			CHECK_INT(rec.kind, want[n].kind);
			CHECK_INT(rec.from, want[n].from);
			CHECK_INT(rec.amount_fen, want[n].amount_fen);
		}
		n++;
	}
	CHECK_INT(n, sizeof(want) / sizeof(want[0]));
	fclose(f);
end:
	parser_free(p);
}

static void test_tsv_preset(void)
{
	struct parser *p =
	    parser_new("regex:" SOURCE_DIR "/patterns/formats/tsv.re", err, sizeof(err));
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_INT(parse(p, "2026-11-24T10:00:00+08:00\ts1\tb1\t\t买家\t在吗\tand a tab"), 0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS);
	CHECK_INT(rec.from, FROM_BUYER);
	CHECK_INT(rec.agent.len, 0);
	CHECK(view_eq(rec.text, "在吗\tand a tab"));
	CHECK_INT(parse(p, "1795485600.5\ts1\tb1\talice\tagent\t亲"), 0);
	CHECK_INT(rec.ts_ms, TEN_AM_MS + 500);
	CHECK(view_eq(rec.agent, "alice"));
	CHECK_INT(parse(p, "1795485600\ts1\tb1\talice"), -1);
	CHECK_STR(err, "no match");
	parser_free(p);
}

int main(void)
{
	if (timefmt_set_timezone("Asia/Shanghai") != 0) {
		fprintf(stderr, "Asia/Shanghai: unknown time zone (tzdata missing?)\n");
		return 1;
	}
	RUN(test_minimal_format_rfc3339_without_ts_format);
	RUN(test_minimal_format_epoch_without_ts_format);
	RUN(test_format_file_by_path);
	RUN(test_missing_file_names_path);
	RUN(test_no_match_and_invalid_utf8);
	RUN(test_ts_format_local_time_with_fraction);
	RUN(test_word_maps_for_from_and_kind);
	RUN(test_empty_or_unset_group_is_absent);
	RUN(test_duplicate_group_names_first_set_wins);
	RUN(test_name_rules_apply);
	RUN(test_match_limit_counts_as_no_match);
	RUN(test_comments_blank_lines_crlf_and_bom);
	RUN(test_continued_pattern_with_extended_mode);
	RUN(test_error_unknown_group_name_column);
	RUN(test_error_pcre2_compile_column);
	RUN(test_error_compile_column_on_continuation_line);
	RUN(test_error_file_structure);
	RUN(test_error_word_maps);
	RUN(test_jit_used_when_available);
	RUN(test_oneline_buyer_to_agent);
	RUN(test_oneline_agent_sub_account_keeps_colon);
	RUN(test_oneline_full_width_colon_and_no_agent);
	RUN(test_oneline_bot_with_and_without_name);
	RUN(test_oneline_order_and_payment);
	RUN(test_oneline_sample_log);
	RUN(test_tsv_preset);
	return check_done();
}
