/*
 * Tests for rules.c: the patterns file format and its errors (with exact
 * FILE:LINE:COLUMN), first-match order, scopes, limits, PCRE2 options, bounded
 * matching, the JIT fallback, the literal prefilter against plain matching, and the
 * shipped patterns/lost-reasons.conf's order and prefilter. What the shipped rules
 * find in chat messages is tests/test_lost_reasons.c's part.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "chatlogd/limits.h"
#include "chatlogd/log.h"
#include "chatlogd/rules.h"
#include "check.h"

#define SHIPPED SOURCE_DIR "/patterns/lost-reasons.conf"

static struct rules *load_text(const char *text, char *err, size_t errlen)
{
	return rules_load_buffer("t.conf", text, strlen(text), err, errlen);
}

static unsigned match(struct rules *r, enum record_from from, const char *text)
{
	return rules_first_match(r, from, text, strlen(text), RULES_NONE);
}

/* The reason of the first matching rule, or "-" for none. */
static const char *reason_of(struct rules *r, enum record_from from, const char *text)
{
	unsigned i = match(r, from, text);
	return i == RULES_NONE ? "-" : rules_reason(r, i);
}

/* Loads text expecting failure, and checks the whole error message. */
static void check_error(const char *text, const char *want)
{
	char err[512] = "";
	struct rules *r = load_text(text, err, sizeof(err));

	CHECK(r == NULL);
	rules_free(r);
	if (strcmp(err, want) != 0)
		fprintf(stderr, "  for %s\n", text);
	CHECK_STR(err, want);
}

/* Returns the file text with \Q\E (a no-op PCRE2 accepts anywhere) put before every
 * pattern. The prefilter cannot read \Q, so in the result every rule always runs:
 * the reference the prefilter must agree with. */
static char *without_prefilter(const char *text)
{
	size_t len = strlen(text);
	char *out = malloc(2 * len + 1), *o = out;
	const char *line = text;

	if (out == NULL)
		abort();
	while (*line != '\0') {
		const char *end = strchr(line, '\n'), *p = line;
		size_t line_len = end != NULL ? (size_t)(end - line) + 1 : strlen(line);
		int field = 0;

		while (p < line + line_len && (*p == ' ' || *p == '\t'))
			p++;
		if (*p != '#' && *p != '\n' && *p != '\r' && *p != '\0') {
			/* Past three fields and the blanks after them. */
			for (; field < 3 && *p != '\n' && *p != '\0'; field++) {
				while (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\0')
					p++;
				while (*p == ' ' || *p == '\t')
					p++;
			}
			memcpy(o, line, (size_t)(p - line));
			o += p - line;
			memcpy(o, "\\Q\\E", 4);
			o += 4;
			memcpy(o, p, line_len - (size_t)(p - line));
			o += line_len - (size_t)(p - line);
		} else {
			memcpy(o, line, line_len);
			o += line_len;
		}
		line += line_len;
	}
	*o = '\0';
	return out;
}

static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long size;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	if ((data = calloc(1, (size_t)size + 1)) == NULL ||
	    fread(data, 1, (size_t)size, f) != (size_t)size) {
		free(data);
		data = NULL;
	}
	fclose(f);
	return data;
}

/* Deterministic xorshift so failures reproduce. */
static uint32_t random_next(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* The seed of a randomized test: CHATLOGD_TEST_SEED, else from the clock. Tests
 * print it, so that a failure can be replayed. */
static uint32_t test_seed(void)
{
	const char *s = getenv("CHATLOGD_TEST_SEED");
	uint32_t seed = s != NULL ? (uint32_t)strtoul(s, NULL, 10)
	                          : (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;

	return seed != 0 ? seed : 1; /* xorshift stays at 0 */
}

/* Every character of s (UTF-8), as separate NUL-terminated strings in out. */
static size_t split_chars(const char *s, char out[][5], size_t max)
{
	size_t n = 0;

	while (*s != '\0' && n < max) {
		size_t len = 1;
		unsigned char c = (unsigned char)*s;
		if (c >= 0xf0)
			len = 4;
		else if (c >= 0xe0)
			len = 3;
		else if (c >= 0xc0)
			len = 2;
		memcpy(out[n], s, len);
		out[n][len] = '\0';
		n++;
		s += len;
	}
	return n;
}

/* ---- the file format ----------------------------------------------------------------- */

static void test_rule_fields_reason_label_and_count(void)
{
	char err[256];
	struct rules *r = load_text("out_of_stock 缺货 buyer 没货\n"
	                            "price 价格 buyer 太贵\n"
	                            "out_of_stock 缺货 agent 卖完了\n",
	                            err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_count(r), 3);
	CHECK_STR(rules_reason(r, 0), "out_of_stock");
	CHECK_STR(rules_label(r, 0), "缺货");
	CHECK_STR(rules_reason(r, 1), "price");
	CHECK_STR(rules_label(r, 1), "价格");
	CHECK_STR(rules_reason(r, 2), "out_of_stock");
	CHECK(rules_reason(r, 3) == NULL);
	CHECK(rules_label(r, 3) == NULL);
	CHECK_INT(rules_limit_hits(r), 0);
	rules_free(r);
}

static void test_comment_blank_and_crlf_lines_are_skipped(void)
{
	char err[256];
	struct rules *r = load_text("# a comment\r\n"
	                            "\r\n"
	                            "   \t \r\n"
	                            "  # an indented comment\r\n"
	                            "\n"
	                            "r 标签 buyer 没货$\r\n"
	                            "#no space after the hash\n",
	                            err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_count(r), 1);
	/* '$' proves the '\r' is not part of the pattern. */
	CHECK_INT(match(r, FROM_BUYER, "这个没货"), 0);
	rules_free(r);
}

static void test_last_line_without_newline_is_read(void)
{
	char err[256];
	struct rules *r = load_text("r 标签 buyer 没货", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_count(r), 1);
	CHECK_INT(match(r, FROM_BUYER, "没货"), 0);
	rules_free(r);
}

static void test_trailing_blanks_are_stripped_inner_ones_kept(void)
{
	char err[256];
	struct rules *r = load_text("r 标签 buyer a b#c   \t\n"
	                            "s 标签 buyer ^x$ \t \r\n",
	                            err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_BUYER, "1 a b#c 2"), 0);
	CHECK_INT(match(r, FROM_BUYER, "a  b#c"), RULES_NONE);
	CHECK_INT(match(r, FROM_BUYER, "x"), 1);
	CHECK_INT(match(r, FROM_BUYER, "x "), RULES_NONE);
	rules_free(r);
}

static void test_tabs_and_runs_of_blanks_separate_fields(void)
{
	char err[256];
	struct rules *r = load_text("  r\t\t标签  \t any \t 没货\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_STR(rules_reason(r, 0), "r");
	CHECK_STR(rules_label(r, 0), "标签");
	CHECK_INT(match(r, FROM_AGENT, "没货"), 0);
	rules_free(r);
}

static void test_byte_order_mark_is_skipped(void)
{
	char err[256];
	struct rules *r = load_text("\xef\xbb\xbfr 标签 buyer 没货\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_STR(rules_reason(r, 0), "r");
	rules_free(r);
}

static void test_empty_file_has_no_rules(void)
{
	char err[256];
	struct rules *r = load_text("# nothing\n\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_count(r), 0);
	CHECK_INT(match(r, FROM_BUYER, "没货"), RULES_NONE);
	rules_free(r);
}

static void test_rules_empty_matches_nothing(void)
{
	struct rules *r = rules_empty();

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_count(r), 0);
	CHECK_INT(match(r, FROM_BUYER, "没货"), RULES_NONE);
	CHECK(rules_reason(r, 0) == NULL);
	rules_free(r);
	rules_free(NULL);
}

/* ---- errors, with columns counted by hand ---------------------------------------------- */

static void test_error_invalid_utf8_column_counts_characters(void)
{
	/* r(1) ' '(2) 缺(3) 货(4) ' '(5) buyer(6-10) ' '(11) 没(12) then the bad byte. */
	check_error("r 缺货 buyer 没\xff货\n", "t.conf:1:13: invalid UTF-8");
	/* An overlong '/' and a surrogate are not UTF-8 either. */
	check_error("# ok\nr 缺货 buyer \xc0\xaf\n", "t.conf:2:12: invalid UTF-8");
	check_error("r 缺货 buyer \xed\xa0\x80\n", "t.conf:1:12: invalid UTF-8");
	/* Inside a comment too: the file as a whole must be UTF-8. */
	check_error("# 注释\xe6\x97\n", "t.conf:1:5: invalid UTF-8");
}

static void test_error_nul_character(void)
{
	static const char text[] = "r 缺货 buyer 没\0货\n";
	char err[256] = "";
	struct rules *r = rules_load_buffer("t.conf", text, sizeof(text) - 1, err, sizeof(err));

	CHECK(r == NULL);
	CHECK_STR(err, "t.conf:1:13: NUL character");
}

static void test_error_missing_fields_point_past_the_line(void)
{
	check_error("out_of_stock\n",
	            "t.conf:1:13: missing LABEL (a rule is REASON LABEL SCOPE PATTERN)");
	check_error("r 缺货\n", "t.conf:1:5: missing SCOPE (a rule is REASON LABEL SCOPE PATTERN)");
	/* Trailing blanks and \r do not count: the column is right after "buyer". */
	check_error("# c\n\nr 缺货 buyer  \t\r\n",
	            "t.conf:3:11: missing PATTERN (a rule is REASON LABEL SCOPE PATTERN)");
}

static void test_error_bad_scope_column(void)
{
	check_error("r 缺货 buyers 没货\n",
	            "t.conf:1:6: scope \"buyers\": expected buyer, agent, bot, any or inquiry");
	/* A tab is one column. */
	check_error("r\t缺货\tBuyer\t没货\n",
	            "t.conf:1:6: scope \"Buyer\": expected buyer, agent, bot, any or inquiry");
	/* A byte order mark is not a column. */
	check_error("\xef\xbb\xbfr 缺货 all 没货\n",
	            "t.conf:1:6: scope \"all\": expected buyer, agent, bot, any or inquiry");
}

static void test_error_full_width_space_gets_a_hint(void)
{
	/* 缺货　buyer is one field (U+3000 is not a separator), so the scope is 没货:
	 * r(1) ' '(2) 缺(3) 货(4) U+3000(5) buyer(6-10) ' '(11) 没(12). */
	check_error(
	    "r 缺货\xe3\x80\x80"
	    "buyer 没货 x\n",
	    "t.conf:1:12: scope \"没货\": expected buyer, agent, bot, any or inquiry (a full-width "
	    "space does not separate fields)");
}

static void test_error_bad_reason_name_points_at_the_character(void)
{
	check_error("Out_of_stock 缺货 buyer 没货\n",
	            "t.conf:1:1: reason \"Out_of_stock\": only a-z, 0-9 and _ are allowed");
	check_error("out-of-stock 缺货 buyer 没货\n",
	            "t.conf:1:4: reason \"out-of-stock\": only a-z, 0-9 and _ are allowed");
	check_error("  缺货 缺货 buyer 没货\n",
	            "t.conf:1:3: reason \"缺货\": only a-z, 0-9 and _ are allowed");
}

static void test_error_reason_too_long(void)
{
	char text[256], want[256];

	memset(text, 'a', LIMIT_REASON_BYTES + 1);
	strcpy(text + LIMIT_REASON_BYTES + 1, " 标签 buyer x\n");
	snprintf(want, sizeof(want), "t.conf:1:%d: reason longer than %d characters",
	         LIMIT_REASON_BYTES + 1, LIMIT_REASON_BYTES);
	check_error(text, want);
	/* Exactly the limit is fine. */
	text[LIMIT_REASON_BYTES] = ' ';
	{
		char err[256];
		struct rules *r = load_text(text, err, sizeof(err));
		CHECK(r != NULL);
		rules_free(r);
	}
}

static void test_error_builtin_reasons_cannot_be_redefined(void)
{
	check_error("other 其他 buyer 没货\n",
	            "t.conf:1:1: reason \"other\" is built in and cannot be redefined");
	check_error("  slow 慢 any 慢\n",
	            "t.conf:1:3: reason \"slow\" is built in and cannot be redefined");
	check_error("# x\nno_reply 未回复 agent 忙\n",
	            "t.conf:2:1: reason \"no_reply\" is built in and cannot be redefined");
	/* Names that merely contain them are fine. */
	{
		char err[256];
		struct rules *r =
		    load_text("other_shop 别家 buyer 别家\nslowly 慢 any 慢\n", err, sizeof(err));
		CHECK(r != NULL);
		rules_free(r);
	}
}

static void test_error_same_reason_with_another_label(void)
{
	check_error("price 价格 buyer 贵\n"
	            "courier 快递 buyer 顺丰\n"
	            "price 价钱 buyer 便宜\n",
	            "t.conf:3:7: reason price is labelled \"价格\" on line 1");
}

static void test_error_pattern_column_inside_pattern_counts_characters(void)
{
	/* The pattern starts at column 12 (r 缺货 buyer = 11 characters). */
	check_error("r 缺货 buyer 没货)缺\n",
	            "t.conf:1:14: bad pattern: unmatched closing parenthesis");
	check_error("r 缺货 buyer 没货(缺\n",
	            "t.conf:1:16: bad pattern: missing closing parenthesis");
	/* PCRE2 points at the '}': 货(12) {(13) 2(14) ,(15) 1(16) }(17). */
	check_error("# 第一行\nr 缺货 buyer 货{2,1}\n",
	            "t.conf:2:17: bad pattern: numbers out of order in {} quantifier");
	/* ... and just past \C: a(12) \(13) C(14). */
	check_error("r 缺货 buyer a\\C\n",
	            "t.conf:1:15: bad pattern: using \\C is disabled by the application");
}

static void test_error_pattern_matching_empty_text(void)
{
	check_error("r 缺货 buyer 没货|缺货|\n",
	            "t.conf:1:12: pattern matches empty text, so it would match every "
	            "message (a stray '|'?)");
	check_error("r 缺货 buyer (?:没货)?\n",
	            "t.conf:1:12: pattern matches empty text, so it would match every "
	            "message (a stray '|'?)");
}

static void test_error_more_than_limit_rules(void)
{
	size_t size = (LIMIT_RULES + 1) * 32;
	char *text = malloc(size), *p = text, want[128];

	for (int i = 0; i < LIMIT_RULES + 1; i++)
		p += sprintf(p, "r 标签 buyer ^x%d$\n", i);
	snprintf(want, sizeof(want), "t.conf:%d:1: more than %d rules", LIMIT_RULES + 1,
	         LIMIT_RULES);
	check_error(text, want);
	/* Exactly LIMIT_RULES loads. */
	*strstr(text, "r 标签 buyer ^x256$\n") = '\0';
	{
		char err[256];
		struct rules *r = load_text(text, err, sizeof(err));
		CHECK(r != NULL);
		if (r != NULL) {
			CHECK_INT(rules_count(r), LIMIT_RULES);
			CHECK_INT(match(r, FROM_BUYER, "x255"), LIMIT_RULES - 1);
			CHECK_INT(match(r, FROM_BUYER, "x25"), 25);
		}
		rules_free(r);
	}
	free(text);
}

static void test_error_more_than_limit_reasons(void)
{
	char text[LIMIT_REASONS * 40], *p = text, want[128];

	for (int i = 0; i < LIMIT_REASONS + 1; i++)
		p += sprintf(p, "reason%d 标签%d buyer x%d\n", i, i, i);
	snprintf(want, sizeof(want), "t.conf:%d:1: more than %d distinct reasons",
	         LIMIT_REASONS + 1, LIMIT_REASONS);
	check_error(text, want);
}

static void test_error_missing_file(void)
{
	char err[256] = "";
	struct rules *r = rules_load("/nonexistent/lost.conf", err, sizeof(err));

	CHECK(r == NULL);
	CHECK_STR(err, "/nonexistent/lost.conf: No such file or directory");
}

static void test_error_message_is_cut_to_the_buffer(void)
{
	char err[12];
	struct rules *r = load_text("r 缺货 buyers x\n", err, sizeof(err));

	CHECK(r == NULL);
	CHECK_STR(err, "t.conf:1:6:");
	CHECK(load_text("r 缺货 buyers x\n", err, 0) == NULL);
}

/* ---- matching ---------------------------------------------------------------------------- */

static void test_first_rule_in_file_order_wins(void)
{
	char err[256];
	struct rules *r = load_text("late 晚 buyer 发货\n"
	                            "stock 缺货 buyer 没货\n"
	                            "late 晚 buyer 慢\n",
	                            err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	/* Rule 0 wins though 没货 comes first in the text. */
	CHECK_INT(match(r, FROM_BUYER, "没货了，发货吧"), 0);
	CHECK_INT(match(r, FROM_BUYER, "没货了，好慢"), 1);
	CHECK_INT(match(r, FROM_BUYER, "好慢"), 2);
	CHECK_INT(match(r, FROM_BUYER, "好的"), RULES_NONE);
	rules_free(r);
}

static void test_limit_stops_before_rule_index(void)
{
	char err[256];
	struct rules *r =
	    load_text("a 甲 buyer 甲\nb 乙 buyer 乙\nc 丙 buyer 丙\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_first_match(r, FROM_BUYER, "丙乙", 6, RULES_NONE), 1);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "丙乙", 6, 2), 1);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "丙乙", 6, 1), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "丙乙", 6, 0), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "丙", 3, 3), 2);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "丙", 3, 2), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "丙", 3, 1000), 2);
	rules_free(r);
}

static void test_limit_past_the_first_64_rules(void)
{
	char text[200 * 32], *p = text, err[256];
	struct rules *r;

	for (int i = 0; i < 200; i++)
		p += sprintf(p, "r 标签 %s 词%d号\n", i % 2 ? "agent" : "buyer", i);
	r = load_text(text, err, sizeof(err));
	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_BUYER, "词130号"), 130);
	CHECK_INT(match(r, FROM_AGENT, "词131号"), 131);
	CHECK_INT(match(r, FROM_AGENT, "词130号"), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "词130号", 9, 130), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "词130号", 9, 131), 130);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "词128号 词64号", 18, 129), 64);
	rules_free(r);
}

static void test_scope_buyer_never_matches_agent_or_bot_text(void)
{
	char err[256];
	struct rules *r = load_text("price 价格 buyer 太贵\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_BUYER, "太贵了"), 0);
	CHECK_INT(match(r, FROM_AGENT, "太贵了"), RULES_NONE);
	CHECK_INT(match(r, FROM_BOT, "太贵了"), RULES_NONE);
	CHECK_INT(match(r, FROM_NONE, "太贵了"), RULES_NONE);
	rules_free(r);
}

/* reference.md §4: `agent` means human agents only; auto-replies have their own `bot`. */
static void test_scope_agent_covers_human_agents_only(void)
{
	char err[256];
	struct rules *r = load_text("out_of_stock 缺货 agent 暂时没货\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_AGENT, "亲，暂时没货哦"), 0);
	CHECK_INT(match(r, FROM_BOT, "亲，暂时没货哦"), RULES_NONE);
	CHECK_INT(match(r, FROM_BUYER, "亲，暂时没货哦"), RULES_NONE);
	CHECK_INT(match(r, FROM_NONE, "亲，暂时没货哦"), RULES_NONE);
	rules_free(r);
}

static void test_scope_bot_covers_bots_only(void)
{
	char err[256];
	struct rules *r = load_text("out_of_stock 缺货 bot 暂时没货\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_BOT, "亲，暂时没货哦"), 0);
	CHECK_INT(match(r, FROM_AGENT, "亲，暂时没货哦"), RULES_NONE);
	CHECK_INT(match(r, FROM_BUYER, "亲，暂时没货哦"), RULES_NONE);
	rules_free(r);
}

/* A message a skip rule of its scope matches is no evidence for any rule, wherever
 * the skip rule stands in the file; in another scope it changes nothing. */
static void test_skip_rule_leaves_its_message_out(void)
{
	char err[256];
	struct rules *r = load_text("courier 快递 buyer 快递(?!费)\n"
	                            "out_of_stock 缺货 any 没货\n"
	                            "skip - buyer ^\\S*快递\\(移动端\\)\\s*\\S{0,4}$\n",
	                            err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_count(r), 3);
	CHECK(rules_is_skip(r, 2));
	CHECK(!rules_is_skip(r, 0));
	/* the client's channel tag alone: skipped */
	CHECK_INT(match(r, FROM_BUYER, "京东快递(移动端) 你好"), RULES_NONE);
	/* a real complaint in the same words plus more: not skipped */
	CHECK_INT(match(r, FROM_BUYER, "京东快递(移动端) 我的快递三天没动了"), 0);
	/* skip in buyer scope leaves agent messages alone */
	CHECK_INT(match(r, FROM_AGENT, "京东快递(移动端) 没货"), 1);
	/* a skipped message is left out of every rule, also later ones */
	CHECK_INT(match(r, FROM_BUYER, "快递(移动端) 没货"), RULES_NONE);
	/* below a limit that excludes the reasons, still none (skip is never returned) */
	CHECK_INT(rules_first_match(r, FROM_BUYER, "快递(移动端)", strlen("快递(移动端)"), 3),
	          RULES_NONE);
	rules_free(r);
}

static void test_scope_any_covers_every_sender(void)
{
	char err[256];
	struct rules *r = load_text("out_of_stock 缺货 any 售罄\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_BUYER, "已售罄"), 0);
	CHECK_INT(match(r, FROM_AGENT, "已售罄"), 0);
	CHECK_INT(match(r, FROM_BOT, "已售罄"), 0);
	CHECK_INT(match(r, FROM_NONE, "已售罄"), 0);
	CHECK_INT(match(r, (enum record_from)7, "已售罄"), RULES_NONE);
	rules_free(r);
}

static void test_scope_skips_to_a_later_rule_in_scope(void)
{
	char err[256];
	struct rules *r = load_text("a 甲 agent 没货\nb 乙 buyer 没货\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_BUYER, "没货"), 1);
	CHECK_INT(match(r, FROM_AGENT, "没货"), 0);
	CHECK_INT(match(r, FROM_BOT, "没货"), RULES_NONE);
	rules_free(r);
}

static void test_caseless_ascii(void)
{
	char err[256];
	struct rules *r =
	    load_text("courier 快递 buyer (?<![a-z])sf(?![a-z])|EMS\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_BUYER, "能发SF吗"), 0);
	CHECK_INT(match(r, FROM_BUYER, "能发sf吗"), 0);
	CHECK_INT(match(r, FROM_BUYER, "能发Sf吗"), 0);
	CHECK_INT(match(r, FROM_BUYER, "ems可以吗"), 0);
	CHECK_INT(match(r, FROM_BUYER, "transfer"), RULES_NONE);
	/* Unicode caseless partners of ASCII letters: U+017F long s, U+212A Kelvin. */
	CHECK_INT(match(r, FROM_BUYER,
	                "\xc5\xbf"
	                "f"),
	          0);
	rules_free(r);
	r = load_text("k 开尔文 buyer kg\n", err, sizeof(err));
	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_BUYER, "5\xe2\x84\xaaG"), 0);
	CHECK_INT(match(r, FROM_BUYER, "5KG"), 0);
	rules_free(r);
}

static void test_ucp_digits_and_word_characters(void)
{
	char err[256];
	struct rules *r = load_text("a 甲 buyer \\d+小时\n"
	                            "b 乙 buyer ^\\w{2}$\n",
	                            err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(match(r, FROM_BUYER, "48小时内发吗"), 0);
	CHECK_INT(match(r, FROM_BUYER, "\xef\xbc\x94\xef\xbc\x98小时内发吗"),
	          0);                               /* full width 48 */
	CHECK_INT(match(r, FROM_BUYER, "缺货"), 1); /* Han is \w */
	CHECK_INT(match(r, FROM_BUYER, "缺货了"), RULES_NONE);
	rules_free(r);
}

static void test_empty_and_null_text_match_nothing(void)
{
	char err[256];
	struct rules *r = load_text("a 甲 any x\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_first_match(r, FROM_BUYER, "", 0, RULES_NONE), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, NULL, 0, RULES_NONE), RULES_NONE);
	rules_free(r);
}

static void test_text_length_is_respected_not_nul(void)
{
	char err[256];
	struct rules *r = load_text("a 甲 any 没货\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_first_match(r, FROM_BUYER, "没货", 3, RULES_NONE), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "x\0没货", 8, RULES_NONE), 0);
	rules_free(r);
}

static void test_catastrophic_pattern_gives_up_and_counts_limit_hit(void)
{
	static const char *const patterns[] = {"(a+)+$", "(a|aa)+$", "(\\w+\\s?)+$"};
	size_t len = 60000;
	char *text = malloc(len + 2), err[256];

	memset(text, 'a', len);
	text[len] = '!';
	text[len + 1] = '\0';
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		char rule[64];
		struct rules *r;

		snprintf(rule, sizeof(rule), "evil 恶意 any %s\n", patterns[i]);
		r = load_text(rule, err, sizeof(err));
		CHECK(r != NULL);
		if (r == NULL)
			continue;
		CHECK_INT(rules_first_match(r, FROM_BUYER, text, len + 1, RULES_NONE), RULES_NONE);
		CHECK_INT(rules_limit_hits(r), 1);
		CHECK_INT(rules_first_match(r, FROM_BUYER, text + len - 30, 31, RULES_NONE),
		          RULES_NONE);
		CHECK_INT(rules_limit_hits(r), 2);
		/* A rule after it still gets its turn. */
		rules_free(r);
		snprintf(rule, sizeof(rule), "evil 恶意 any %s\nok 好 any !\n", patterns[i]);
		r = load_text(rule, err, sizeof(err));
		CHECK(r != NULL);
		if (r != NULL)
			CHECK_INT(rules_first_match(r, FROM_BUYER, text, len + 1, RULES_NONE), 1);
		rules_free(r);
	}
	free(text);
}

static void test_catastrophic_pattern_without_its_literal_never_runs(void)
{
	/* (?:a|a)*b needs a 'b': on a line of a's neither the prefilter nor PCRE2's own
	 * required-character check lets it start, so it ends at once, no limit hit. */
	size_t len = 60000;
	char *text = malloc(len), err[256];
	struct rules *r = load_text("evil 恶意 any (?:a|a)*b\n", err, sizeof(err));

	memset(text, 'a', len);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_INT(rules_first_match(r, FROM_BUYER, text, len, RULES_NONE), RULES_NONE);
		CHECK_INT(rules_limit_hits(r), 0);
	}
	rules_free(r);
	free(text);
}

static void test_no_jit_pattern_runs_on_the_interpreter(void)
{
	char err[256];
	struct rules *r =
	    load_text("a 甲 buyer (*NO_JIT)没货\nb 乙 buyer 太贵\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_jit_enabled(r), 0);
	CHECK_INT(match(r, FROM_BUYER, "没货了"), 0);
	CHECK_INT(match(r, FROM_BUYER, "太贵了"), 1);
	rules_free(r);
}

#if defined(__x86_64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef TEST_AUDIT_ARCH
/* What systemd's MemoryDenyWriteExecute=yes does, a little stricter: mmap and
 * mprotect asking for PROT_EXEC fail with EPERM. Irreversible: only in a child. */
static int deny_executable_memory(void)
{
	struct sock_filter filter[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TEST_AUDIT_ARCH, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog program = {sizeof(filter) / sizeof(filter[0]), filter};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == -1)
		return -1;
	return 0;
}

/* rules_load with what it logs (level warning and up) appended to log. */
static struct rules *load_capturing_stderr(const char *path, FILE *log, char *err, size_t errlen)
{
	int saved = dup(STDERR_FILENO);
	struct rules *r;

	fflush(stderr);
	dup2(fileno(log), STDERR_FILENO);
	log_set_level(LOG_LEVEL_WARNING);
	r = rules_load(path, err, errlen);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	return r;
}

static int lines_containing(FILE *log, const char *needle)
{
	char line[1024];
	int count = 0;

	rewind(log);
	while (fgets(line, sizeof(line), log) != NULL)
		count += strstr(line, needle) != NULL;
	return count;
}
#endif

/*
 * Must run before any other test JIT-compiles: PCRE2's JIT allocator keeps freed
 * executable memory for reuse, which a forked child would inherit.
 */
static void test_jit_fallback_when_executable_memory_is_denied(void)
{
#ifdef TEST_AUDIT_ARCH
	uint32_t jit_built = 0;
	int status = 0;
	pid_t pid;

	pcre2_config(PCRE2_CONFIG_JIT, &jit_built);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		int before = check_failed;
		char err[512];
		struct rules *r;
		char *text = malloc(60001);
		FILE *log = tmpfile();

		if (deny_executable_memory() == -1)
			_exit(77);
		/* The daemon loads a set several times (the start-up check, its own
		 * load, each reload): the warning comes once. */
		rules_free(load_capturing_stderr(SHIPPED, log, err, sizeof(err)));
		r = load_capturing_stderr(SHIPPED, log, err, sizeof(err));
		CHECK_INT(lines_containing(log, "rules: JIT unavailable"), 1);
		CHECK(r != NULL);
		if (r == NULL)
			_exit(1);
		CHECK_INT(rules_jit_enabled(r), 0);
		log_set_level(LOG_LEVEL_ERR);
		CHECK_STR(reason_of(r, FROM_BUYER, "这件太贵了"), "price");
		CHECK_STR(reason_of(r, FROM_AGENT, "亲，暂时没货了"), "out_of_stock");
		CHECK_STR(reason_of(r, FROM_BUYER, "在吗"), "-");
		rules_free(r);
		/* The interpreter's limits hold too. */
		if ((r = load_text("evil 恶意 any (a+)+$\n", err, sizeof(err))) == NULL)
			_exit(1);
		memset(text, 'a', 60000);
		text[60000] = '!';
		CHECK_INT(rules_first_match(r, FROM_BUYER, text, 60001, RULES_NONE), RULES_NONE);
		CHECK_INT(rules_limit_hits(r), 1);
		rules_free(r);
		free(text);
		fclose(log);
		fflush(NULL);
		_exit(check_failed - before > 0 ? 1 : 0);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr, "     (seccomp unavailable: JIT fallback not exercised)\n");
		return;
	}
	CHECK_INT(WEXITSTATUS(status), 0);
	if (jit_built) {
		/* And with executable memory allowed, JIT is on. */
		char err[512];
		struct rules *r = rules_load(SHIPPED, err, sizeof(err));
		CHECK(r != NULL);
		if (r != NULL)
			CHECK_INT(rules_jit_enabled(r), 1);
		rules_free(r);
	}
#else
	fprintf(stderr, "     (no seccomp filter for this architecture: skipped)\n");
#endif
}

/* ---- the prefilter never changes an answer ----------------------------------------------- */

/* Runs random texts over alphabet against rules_text with and without the prefilter
 * and checks that every answer agrees, for every sender and a few limits. */
/* Runs random texts of up to max_chars characters over alphabet against rules_text
 * with and without the prefilter; they must agree on every answer. */
static void check_prefilter_agrees(const char *rules_text, const char *alphabet, int rounds,
                                   size_t max_chars, uint32_t seed)
{
	static char chars[1024][5];
	char err[512], *plain_text = without_prefilter(rules_text);
	struct rules *fast = load_text(rules_text, err, sizeof(err));
	struct rules *plain = load_text(plain_text, err, sizeof(err));
	size_t n = split_chars(alphabet, chars, 1024);
	int disagreements = 0;

	if (seed == 0)
		seed = 1; /* xorshift stays at 0 */

	CHECK(fast != NULL && plain != NULL);
	if (fast == NULL || plain == NULL)
		goto end;
	rules_memo(plain, 0);
	for (int round = 0; round < rounds; round++) {
		char text[4 * 400 + 1];
		size_t len = 0, count = random_next(&seed) % (max_chars + 1);
		unsigned limit = random_next(&seed) % 4 == 0
		                     ? random_next(&seed) % (rules_count(fast) + 1)
		                     : RULES_NONE;

		for (size_t i = 0; i < count; i++) {
			const char *c = chars[random_next(&seed) % n];
			memcpy(text + len, c, strlen(c));
			len += strlen(c);
		}
		text[len] = '\0';
		for (int from = FROM_NONE; from <= FROM_BOT; from++) {
			unsigned a =
			    rules_first_match(fast, (enum record_from)from, text, len, limit);
			unsigned b =
			    rules_first_match(plain, (enum record_from)from, text, len, limit);
			if (a != b && disagreements++ < 5)
				fprintf(stderr,
				        "  prefilter %u, plain %u: from=%d limit=%u text=\"%s\"\n",
				        a, b, from, limit, text);
		}
	}
	CHECK_INT(disagreements, 0);
end:
	rules_free(fast);
	rules_free(plain);
	free(plain_text);
}

static void test_prefilter_agrees_on_tricky_syntax(void)
{
	static const char *const patterns[] = {
	    "a(?=b)c",
	    "(?<!x)ab",
	    "ab?c",
	    "(ab|cd)?ef",
	    "a{2,3}b",
	    "a*b",
	    "(?:a|b)(?:c|d)",
	    "[ab]c",
	    "\\bab\\b",
	    "a.b",
	    "^ab$",
	    "a\\.b",
	    "(?>ab|a)c",
	    "(?>a|ab)c",
	    "a?+a",
	    "ab?+c",
	    "(?:ab|a)\\b",
	    "a(b|)c",
	    "x?y?z",
	    "(a|b)+c",
	    "(?:ab){2}",
	    "a\\d+b",
	    "缺货?了",
	    "没有?货",
	    "\\p{Han}货",
	    "[[:alpha:]]b",
	    "[]a]b",
	    "[^]a]b",
	    "a]b",
	    "a}b",
	    "(?i:ab)",
	    "a\\x{62}",
	    "\\Qa.b\\E",
	    "ſf",
	    "sf",
	    "k",
	    "\\w货",
	    "(?|(a)|(b))c",
	    "a{2}",
	    "(?:a|b|c|d)",
	    "a(?!b)",
	    "(?<=a)b",
	    "(a)\\1",
	    "a\\Kb",
	    "[a-c]{1,2}",
	    "a+?b",
	    "(?:a(?:b(?:c)))",
	    ".",
	    "a|b",
	    "货$",
	    "^没",
	    "[缺货]了",
	    "(?:缺|没)(?:货|有)",
	    "a\\sb",
	    "x*",
	    "a{0}b",
	    "(?:)a",
	    "a(?:)",
	    "\\A缺",
	    "了\\z",
	    "(?=.*缺).*货",
	    "a{1,}b",
	    "(?:ab|a)(?:bc|c)",
	    "K",
	};
	char text[64];
	uint32_t seed = (uint32_t)check_seed("random texts; pattern i takes seed + i", 1);

	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		char err[256];
		struct rules *r;

		snprintf(text, sizeof(text), "r 标签 any %s\n", patterns[i]);
		if ((r = load_text(text, err, sizeof(err))) == NULL)
			continue; /* x* and a{0}b match empty text: refused, fine */
		rules_free(r);
		check_prefilter_agrees(text, "abcdxyzsfkKS ſK.缺货了没有]}[\xe2\x84\xaa", 4000, 11,
		                       seed + (uint32_t)i);
	}
}

static void test_prefilter_agrees_on_alternatives_and_guards(void)
{
	/* Patterns the prefilter splits into alternatives, with start guards that admit
	 * every first character, some of them, or that it cannot read. */
	static const char *const patterns[] = {
	    "(?=[ab])(?:ab|bc)",
	    "(?=[a])(?:ab|bc)",
	    "(?=[A])(?:ab|Bc)",
	    "(?=[a-c])(?:ab|bc)",
	    "(?=[^x])(?:ab|bc)",
	    "(?=[\\x{61}b])(?:ab|bc)",
	    "(?=[]a])(?:ab|bc)",
	    "(?=[ab])a|bc",
	    "(?=[ab])(?:a|b)c",
	    "(?=[ab])(?:ab|bc)+",
	    "(?=[ab])(?:ab|bc)d",
	    "(?=[a缺])(?:(?<!不)缺货|ab)",
	    "(?:ab|cd)ef",
	    "(?:ab|cd)|ef",
	    "ab.{0,3}cd|ef",
	    "ab.{0,3}(?:cd|de)|ef",
	    "(?:a|b)+c|d",
	    "(?:ab|cd)(?:ef|gh)|ij",
	    "a(?=b)|c",
	    "\\bab|cd",
	    "^ab|cd$",
	    "(?|a|b)c|d",
	    "(?>ab|a)c|d",
	    "(?:a(?:b|c)|d)e",
	    "(?:(?<!x)ab|cd(?!e))",
	    "(?:a|)b|c",
	    "(?:ab?c|d)",
	    "缺货|(?:没有?|无)货|断货",
	    "(?=[没缺])(?:没(?:有)?货|缺(?:货)?了)",
	    "(?:(?:物流|快递).{0,2}(?:不|没)(?:动|更新)|一直不动)",
	    "(?:abc|ab|a)(?:x|y)",
	    "(?:ab|ab)",
	    "(?:a\\.b|c\\|d)",
	};
	uint32_t seed = test_seed();
	char text[160];

	fprintf(stderr, "     seed=%u\n", seed);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		char err[256];
		struct rules *r;

		snprintf(text, sizeof(text), "r 标签 any %s\nq 标签 buyer (?:cd|de)\n",
		         patterns[i]);
		if ((r = load_text(text, err, sizeof(err))) == NULL) {
			fprintf(stderr, "  %s: %s\n", patterns[i], err);
			CHECK(r != NULL);
			continue;
		}
		rules_free(r);
		check_prefilter_agrees(text,
		                       "abcdefghijxyABC .\\|缺货了没有不无断物流快递动更新一直",
		                       3000, 9, seed + (uint32_t)i);
	}
}

/* The characters of the shipped file's patterns (PATTERN fields of its rule lines,
 * every non-ASCII character once), then the ASCII and punctuation of chat text: the
 * alphabet random messages are drawn from, so that they keep hitting the rules'
 * literal words as the file changes. */
static char *shipped_alphabet(const char *text)
{
	static const char extra[] = "的了吗呢我你是不在有这个0123456789sfemxSFEMX []，。？！,.?!~";
	size_t cap = strlen(text) + sizeof(extra), len = 0;
	char *out = malloc(cap), *line_end;
	const char *line = text;

	if (out == NULL)
		abort();
	out[0] = '\0';
	for (; *line != '\0'; line = line_end != NULL ? line_end + 1 : line + strlen(line)) {
		const char *p = line;

		line_end = strchr(line, '\n');
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		for (int field = 0; field < 3; field++) { /* past REASON LABEL SCOPE */
			while (*p != '\0' && *p != '\n' && *p != ' ' && *p != '\t')
				p++;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		while (*p != '\0' && *p != '\n') {
			size_t n = (unsigned char)*p >= 0xf0   ? 4
			           : (unsigned char)*p >= 0xe0 ? 3
			           : (unsigned char)*p >= 0xc0 ? 2
			                                       : 1;
			char c[5] = "";

			memcpy(c, p, n);
			if (n > 1 && strstr(out, c) == NULL) {
				memcpy(out + len, c, n);
				len += n;
				out[len] = '\0';
			}
			p += n;
		}
	}
	memcpy(out + len, extra, sizeof(extra));
	return out;
}

static void test_prefilter_agrees_with_plain_matching_on_shipped_file(void)
{
	char *text = read_whole(SHIPPED), *alphabet;
	static char chars[1024][5];

	CHECK(text != NULL);
	if (text == NULL)
		return;
	alphabet = shipped_alphabet(text);
	/* Every character of the alphabet is drawn from (split_chars keeps 1024). */
	CHECK(split_chars(alphabet, chars, 1024) < 1024);
	check_prefilter_agrees(text, alphabet, 200000, 11,
	                       (uint32_t)check_seed("random texts", 12345));
	/* Long messages: past the characters and key hits the prefilter checks literal
	 * by literal, it falls back to keys alone and exact rules run PCRE2 again. */
	check_prefilter_agrees(text, alphabet, 3000, 400,
	                       (uint32_t)check_seed("random long texts", 54321));
	free(alphabet);
	free(text);
}

/* ---- the memo never changes an answer ------------------------------------------------------ */

static void test_memo_answers_each_limit_and_sender(void)
{
	char err[256];
	struct rules *r = load_text("a 甲 buyer 没货\n"
	                            "b 乙 buyer 太贵\n"
	                            "c 丙 agent 太贵\n"
	                            "skip - buyer ^在吗.{0,2}$\n",
	                            err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	/* Asked first with a limit that hides rule 1, then without: the second answer is
	 * not the remembered "none". */
	CHECK_INT(rules_first_match(r, FROM_BUYER, "太贵", 6, 1), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "太贵", 6, RULES_NONE), 1);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "太贵", 6, 1), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "太贵", 6, 2), 1);
	/* The same text from another sender is another question. */
	CHECK_INT(rules_first_match(r, FROM_AGENT, "太贵", 6, RULES_NONE), 2);
	CHECK_INT(rules_first_match(r, FROM_BOT, "太贵", 6, RULES_NONE), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "太贵", 6, RULES_NONE), 1);
	/* A found rule answers every limit. */
	CHECK_INT(rules_first_match(r, FROM_BUYER, "没货太贵", 12, RULES_NONE), 0);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "没货太贵", 12, 1), 0);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "没货太贵", 12, 0), RULES_NONE);
	/* A skipped text stays skipped, whatever the limit. */
	CHECK_INT(rules_first_match(r, FROM_BUYER, "在吗没货", 12, RULES_NONE), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "在吗没货", 12, 1), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_AGENT, "在吗没货", 12, RULES_NONE), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "在吗太贵", 12, RULES_NONE), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_AGENT, "在吗太贵", 12, RULES_NONE), 2);
	/* Same bytes up to a length: the length is part of the question. */
	CHECK_INT(rules_first_match(r, FROM_BUYER, "没货太贵", 3, RULES_NONE), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "没货太贵", 6, RULES_NONE), 0);
	/* Off, then on again (empty): the same answers. */
	rules_memo(r, 0);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "太贵", 6, RULES_NONE), 1);
	rules_memo(r, 1);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "太贵", 6, 1), RULES_NONE);
	CHECK_INT(rules_first_match(r, FROM_BUYER, "太贵", 6, RULES_NONE), 1);
	rules_free(r);
}

static void test_memo_keeps_no_answer_that_hit_a_limit(void)
{
	char err[256], text[32];
	struct rules *r = load_text("evil 恶意 any (a+)+$\n", err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL)
		return;
	memset(text, 'a', 30);
	text[30] = '!';
	/* Matched, and counted, every time: a remembered answer would count once. */
	for (int i = 1; i <= 3; i++) {
		CHECK_INT(rules_first_match(r, FROM_BUYER, text, 31, RULES_NONE), RULES_NONE);
		CHECK_INT(rules_limit_hits(r), i);
	}
	rules_free(r);
}

/* The CJK words of the shipped file's patterns (runs of two or more characters from
 * U+4E00 up, split at everything else), as NUL-terminated strings in one buffer;
 * *count of them. Texts made of them hit the rules' literals and often match. */
static char *shipped_words(const char *text, size_t *count)
{
	size_t len = strlen(text), n = 0, run = 0;
	char *out = malloc(2 * len + 1), *o = out, *start = out;

	if (out == NULL)
		abort();
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0';) {
		int cjk = *p >= 0xe4 && *p <= 0xe9;

		if (cjk) {
			memcpy(o, p, 3);
			o += 3;
			p += 3;
			run++;
			continue;
		}
		if (run >= 2) {
			*o++ = '\0';
			n++;
			start = o;
		} else
			o = start;
		run = 0;
		p++;
	}
	*count = n;
	return out;
}

/* Writes a random text to buf: 1 to max_parts shipped words (or parts of one), with
 * chat particles and punctuation between them. Returns its length. */
static size_t random_chat_text(char *buf, size_t cap, const char *words, size_t word_count,
                               size_t max_parts, uint32_t *seed)
{
	static const char *const glue[] = {"",   "",   "了", "吗", "呢",   "，",
	                                   "。", "？", "不", "没", "我",   "亲",
	                                   "的", " ",  "a",  "3",  "如果", "已经"};
	size_t len = 0, parts = 1 + random_next(seed) % max_parts;

	for (size_t i = 0; i < parts; i++) {
		const char *w = words;
		const char *g = glue[random_next(seed) % (sizeof(glue) / sizeof(glue[0]))];
		size_t wl, skip;

		for (size_t k = random_next(seed) % word_count; k > 0; k--)
			w += strlen(w) + 1;
		wl = strlen(w);
		/* Sometimes only the start or the end of the word (cut between characters). */
		skip = random_next(seed) % 4 == 0 ? 3 * (random_next(seed) % (wl / 3)) : 0;
		if (random_next(seed) % 4 == 0 && wl - skip > 3)
			wl -= 3;
		if (len + strlen(g) + (wl - skip) + 1 > cap)
			break;
		memcpy(buf + len, g, strlen(g));
		len += strlen(g);
		memcpy(buf + len, w + skip, wl - skip);
		len += wl - skip;
	}
	buf[len] = '\0';
	return len;
}

/*
 * The shipped file (prefilter on, memo on or off) against the same file with the
 * memo off and the prefilter defeated (plain PCRE2 on every rule): random texts of
 * up to max_parts words from a pool, asked again and again from random senders with
 * random limits, as the engine asks. A pool larger than the memo makes entries get
 * replaced; texts of hundreds of words pass the characters and key hits the
 * prefilter checks literal by literal. The seed is printed, so that a failure can be
 * replayed (CHATLOGD_TEST_SEED).
 */
static void check_shipped_agrees(size_t pool_size, size_t max_parts, int rounds, int memo,
                                 uint32_t seed)
{
	char *text = read_whole(SHIPPED), *plain_text = NULL, *words = NULL, err[512];
	size_t cap = 40 * max_parts + 1, word_count = 0;
	char *pool = malloc(pool_size * cap);
	size_t *pool_len = calloc(pool_size, sizeof(*pool_len));
	struct rules *fast = NULL, *plain = NULL;
	int disagreements = 0, matched = 0;

	fprintf(stderr, "     pool=%zu words<=%zu rounds=%d memo=%d seed=%u\n", pool_size,
	        max_parts, rounds, memo, seed);
	CHECK(text != NULL && pool != NULL && pool_len != NULL);
	if (text == NULL || pool == NULL || pool_len == NULL)
		goto end;
	plain_text = without_prefilter(text);
	words = shipped_words(text, &word_count);
	fast = load_text(text, err, sizeof(err));
	plain = load_text(plain_text, err, sizeof(err));
	CHECK(fast != NULL && plain != NULL);
	CHECK(word_count > 500);
	if (fast == NULL || plain == NULL || word_count == 0)
		goto end;
	rules_memo(fast, memo);
	rules_memo(plain, 0);
	for (size_t i = 0; i < pool_size; i++)
		pool_len[i] =
		    random_chat_text(pool + i * cap, cap, words, word_count, max_parts, &seed);
	for (int round = 0; round < rounds; round++) {
		size_t i = random_next(&seed) % pool_size;
		enum record_from from = (enum record_from)(random_next(&seed) % 4);
		unsigned limit = random_next(&seed) % 3 == 0
		                     ? random_next(&seed) % (rules_count(fast) + 1)
		                     : RULES_NONE;
		unsigned a = rules_first_match(fast, from, pool + i * cap, pool_len[i], limit);
		unsigned b = rules_first_match(plain, from, pool + i * cap, pool_len[i], limit);

		matched += b != RULES_NONE;
		if (a != b && disagreements++ < 5)
			fprintf(stderr, "  fast %u, plain %u: from=%d limit=%u text=\"%s\"\n", a, b,
			        (int)from, limit, pool + i * cap);
	}
	CHECK_INT(disagreements, 0);
	/* The texts are worth the test: some 5% of the questions about short texts find
	 * a rule (two words rarely make a phrase; the senders and limits vary), most
	 * about long ones. */
	CHECK(matched > rounds / 50);
end:
	rules_free(fast);
	rules_free(plain);
	free(words);
	free(plain_text);
	free(text);
	free(pool);
	free(pool_len);
}

static void test_prefilter_agrees_with_plain_matching_on_shipped_words(void)
{
	uint32_t seed = test_seed();

	check_shipped_agrees(20000, 4, 40000, 0, seed);
	/* Past SCAN_CHARS characters and SCAN_HITS key hits (daemon/prefilter.c). */
	check_shipped_agrees(100, 400, 1000, 0, seed + 1);
}

static void test_memo_agrees_with_plain_matching_on_shipped_file(void)
{
	uint32_t seed = test_seed() + 2;

	/* A pool the memo holds, and one four times larger. */
	check_shipped_agrees(300, 4, 60000, 1, seed);
	check_shipped_agrees(4 * LIMIT_RULES_MEMO_ENTRIES, 4, 60000, 1, seed + 1);
}

/* ---- the shipped patterns file ------------------------------------------------------------- */

static void test_shipped_file_loads_in_the_documented_order(void)
{
	/* patterns/lost-reasons.conf, WHY THIS ORDER: skip rules, then the reasons
	 * from cause to consequence; within delivery, the carrier's failures before a
	 * buyer's slowness or urgency, and those before a bare "not received yet". */
	static const char *const reasons[] = {
	    "skip",          "skip",          "out_of_stock", "out_of_stock", "shipping_time",
	    "shipping_time", "courier",       "courier",      "courier",      "courier",
	    "shipping_time", "courier",       "price",        "price",        "product_doubt",
	    "product_doubt", "product_doubt", "personal",     "personal",     "personal",
	};
	char err[512] = "";
	struct rules *r = rules_load(SHIPPED, err, sizeof(err));

	CHECK_STR(err, "");
	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(rules_count(r), sizeof(reasons) / sizeof(reasons[0]));
	for (unsigned i = 0; i < rules_count(r) && i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		CHECK_STR(rules_reason(r, i), reasons[i]);
		CHECK_INT(rules_is_skip(r, i), strcmp(reasons[i], "skip") == 0);
	}
	CHECK_STR(rules_label(r, 2), "缺货");
	CHECK_STR(rules_label(r, 4), "发货");
	CHECK_STR(rules_label(r, 6), "快递");
	CHECK_STR(rules_label(r, 10), "发货");
	CHECK_STR(rules_label(r, 12), "价格");
	CHECK_STR(rules_label(r, 14), "产品疑虑");
	CHECK_STR(rules_label(r, 17), "个人原因");
	CHECK_INT(rules_first_inquiry(r), RULES_NONE); /* see its WHOLE-INQUIRY comment */
	rules_free(r);
}

/* The prefilter keys on a character only when nothing else matches it caselessly.
 * These are the ranges literal_char_safe() in daemon/prefilter.c trusts (keep in step):
 * a caseless class of them must match no code point outside them. */
static void test_prefilter_safe_ranges_have_no_case_partners_outside(void)
{
	static const char safe[] = "[\\x{2000}-\\x{206f}\\x{3000}-\\x{30ff}\\x{3400}-\\x{4dbf}"
	                           "\\x{4e00}-\\x{9fff}\\x{f900}-\\x{faff}\\x{ff01}-\\x{ff20}"
	                           "\\x{20000}-\\x{3ffff}\\x{0}-\\x{7f}\\x{17f}\\x{212a}]";
	int code, outside_matches = 0;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)safe, PCRE2_ZERO_TERMINATED,
	                               PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_ANCHORED,
	                               &code, &offset, NULL);
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);

	CHECK(re != NULL);
	if (re == NULL)
		goto end;
	for (uint32_t cp = 0x80; cp < 0x110000; cp++) {
		unsigned char s[4];
		size_t n;

		if ((cp >= 0xd800 && cp < 0xe000) || cp == 0x17f || cp == 0x212a ||
		    (cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x3000 && cp <= 0x30ff) ||
		    (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) ||
		    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xff01 && cp <= 0xff20) ||
		    (cp >= 0x20000 && cp <= 0x3ffff))
			continue;
		if (cp < 0x800) {
			s[0] = (unsigned char)(0xc0 | cp >> 6);
			s[1] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			s[0] = (unsigned char)(0xe0 | cp >> 12);
			s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			s[2] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			s[0] = (unsigned char)(0xf0 | cp >> 18);
			s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
			s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			s[3] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		if (pcre2_match(re, s, n, 0, 0, md, NULL) >= 0 && outside_matches++ < 5)
			fprintf(stderr, "  U+%04X matches a safe character caselessly\n", cp);
	}
	CHECK_INT(outside_matches, 0);
end:
	pcre2_match_data_free(md);
	pcre2_code_free(re);
}

/* `inquiry` rules read a transcript (one message per line, ^ and $ at each), are
 * never asked about a message, and take their place in file order against limit;
 * a skip rule cannot have that scope. rules_skips answers for skip rules of the
 * sender's scope only. */
static void test_inquiry_scope(void)
{
	static const char text[] = "skip - agent ^稍等$\n"
	                           "price 价格 buyer 贵\n"
	                           "wait 发货 inquiry ^B:.*发货[\\s\\S]*^B:太久$\n"
	                           "late 晚 inquiry ^A:明天\n";
	static const char chat[] = "B:几号发货\nA:明天\nB:太久\n";
	static const char longer[] = "B:几号发货\nB:太久了\n";
	static const char tomorrow[] = "B:几号发货\nA:明天见\n";
	char err[256] = "";
	struct rules *r = load_text(text, err, sizeof(err));

	CHECK(r != NULL);
	if (r == NULL) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_INT(rules_first_inquiry(r), 2);
	CHECK_INT(rules_first_inquiry_match(r, chat, strlen(chat), RULES_NONE), 2);
	CHECK_INT(rules_first_inquiry_match(r, chat, strlen(chat), 3), 2);
	CHECK_INT(rules_first_inquiry_match(r, chat, strlen(chat), 2), RULES_NONE);
	/* $ is the end of a message: "B:太久了" does not end in 太久 */
	CHECK_INT(rules_first_inquiry_match(r, longer, strlen(longer), RULES_NONE), RULES_NONE);
	CHECK_INT(rules_first_inquiry_match(r, tomorrow, strlen(tomorrow), RULES_NONE), 3);
	/* no message is ever matched against an inquiry rule */
	CHECK_STR(reason_of(r, FROM_BUYER, "B:几号发货"), "-");
	CHECK_STR(reason_of(r, FROM_AGENT, "A:明天"), "-");
	CHECK_STR(reason_of(r, FROM_BUYER, "太贵"), "price");
	CHECK_INT(rules_skips(r, FROM_AGENT, "稍等", strlen("稍等")), 1);
	CHECK_INT(rules_skips(r, FROM_BUYER, "稍等", strlen("稍等")), 0);
	CHECK_INT(rules_skips(r, FROM_AGENT, "请稍等", strlen("请稍等")), 0);
	rules_free(r);

	r = load_text("price 价格 buyer 贵\n", err, sizeof(err));
	CHECK_INT(rules_first_inquiry(r), RULES_NONE);
	CHECK_INT(rules_first_inquiry_match(r, chat, strlen(chat), RULES_NONE), RULES_NONE);
	rules_free(r);
	check_error("skip - inquiry ^B:在吗$\n",
	            "t.conf:1:8: a skip rule leaves out messages: its scope cannot be inquiry");
}

int main(void)
{
	/* First: it needs a process that has not JIT-compiled yet. */
	RUN(test_jit_fallback_when_executable_memory_is_denied);

	RUN(test_rule_fields_reason_label_and_count);
	RUN(test_inquiry_scope);
	RUN(test_comment_blank_and_crlf_lines_are_skipped);
	RUN(test_last_line_without_newline_is_read);
	RUN(test_trailing_blanks_are_stripped_inner_ones_kept);
	RUN(test_tabs_and_runs_of_blanks_separate_fields);
	RUN(test_byte_order_mark_is_skipped);
	RUN(test_empty_file_has_no_rules);
	RUN(test_rules_empty_matches_nothing);

	RUN(test_error_invalid_utf8_column_counts_characters);
	RUN(test_error_nul_character);
	RUN(test_error_missing_fields_point_past_the_line);
	RUN(test_error_bad_scope_column);
	RUN(test_error_full_width_space_gets_a_hint);
	RUN(test_error_bad_reason_name_points_at_the_character);
	RUN(test_error_reason_too_long);
	RUN(test_error_builtin_reasons_cannot_be_redefined);
	RUN(test_error_same_reason_with_another_label);
	RUN(test_error_pattern_column_inside_pattern_counts_characters);
	RUN(test_error_pattern_matching_empty_text);
	RUN(test_error_more_than_limit_rules);
	RUN(test_error_more_than_limit_reasons);
	RUN(test_error_missing_file);
	RUN(test_error_message_is_cut_to_the_buffer);

	RUN(test_first_rule_in_file_order_wins);
	RUN(test_limit_stops_before_rule_index);
	RUN(test_limit_past_the_first_64_rules);
	RUN(test_scope_buyer_never_matches_agent_or_bot_text);
	RUN(test_scope_agent_covers_human_agents_only);
	RUN(test_scope_bot_covers_bots_only);
	RUN(test_skip_rule_leaves_its_message_out);
	RUN(test_scope_any_covers_every_sender);
	RUN(test_scope_skips_to_a_later_rule_in_scope);
	RUN(test_caseless_ascii);
	RUN(test_ucp_digits_and_word_characters);
	RUN(test_empty_and_null_text_match_nothing);
	RUN(test_text_length_is_respected_not_nul);
	RUN(test_catastrophic_pattern_gives_up_and_counts_limit_hit);
	RUN(test_catastrophic_pattern_without_its_literal_never_runs);
	RUN(test_no_jit_pattern_runs_on_the_interpreter);

	RUN(test_prefilter_agrees_on_tricky_syntax);
	RUN(test_prefilter_agrees_on_alternatives_and_guards);
	RUN(test_prefilter_agrees_with_plain_matching_on_shipped_file);
	RUN(test_prefilter_safe_ranges_have_no_case_partners_outside);

	RUN(test_prefilter_agrees_with_plain_matching_on_shipped_words);
	RUN(test_memo_answers_each_limit_and_sender);
	RUN(test_memo_keeps_no_answer_that_hit_a_limit);
	RUN(test_memo_agrees_with_plain_matching_on_shipped_file);

	RUN(test_shipped_file_loads_in_the_documented_order);
	return check_done();
}
