/*
 * Tests of assess.c: the rules file (each error with its line and column), exact
 * conditions at their edges, the first rule that holds, commission and prorating
 * arithmetic, periods, and the folding of accounts, teams and dated members.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/assess.h"
#include "check.h"

static struct assess_config *parse(const char *text, char *err, size_t errlen)
{
	return assess_config_parse(text, strlen(text), "t.conf", err, errlen);
}

/* Expects text to be refused with exactly want. */
static void check_refused(const char *text, const char *want)
{
	char err[256] = "";
	struct assess_config *cfg = parse(text, err, sizeof(err));

	CHECK(cfg == NULL);
	CHECK_STR(err, want);
	assess_config_free(cfg);
}

static const char rules[] = "[assess]\n"
                            "compare_with = shop\n"
                            "[team 售前]\n"
                            "band = +500 if conversion >= 60%\n"
                            "band = +300 if conversion>=50%\n"
                            "band = -200 otherwise\n"
                            "commission = 3% if conversion >= average and aov >= average\n"
                            "tier = 金牌 if conversion >= 60% and art_avg <= 10s\n"
                            "tier = 初级 otherwise\n"
                            "target = frt_avg <= 6s\n"
                            "member = alice\n"
                            "member = 小美\n"
                            "member = dave until 2026-11-15\n"
                            "[team 售后]\n"
                            "band = +100 if reply_rate >= 0.98\n"
                            "member = dave from 2026-11-16\n"
                            "[aliases]\n"
                            "小美 = xm_a 店铺:小美\n";

static void test_config_parses_teams_rules_members_aliases(void)
{
	char err[256] = "";
	struct assess_config *cfg = parse(rules, err, sizeof(err));
	int64_t nov15, nov16;

	CHECK_STR(err, "");
	if (cfg == NULL)
		return;
	CHECK_INT(cfg->team_count, 2);
	CHECK_STR(cfg->teams[0].name, "售前");
	CHECK_INT(cfg->teams[0].rule_count[RULE_BAND], 3);
	CHECK_INT(cfg->teams[0].rules[RULE_BAND][0].amount, 50000);
	CHECK_INT(cfg->teams[0].rules[RULE_BAND][2].amount, -20000);
	CHECK_INT(cfg->teams[0].rules[RULE_BAND][2].when.count, 0);
	CHECK_STR(cfg->teams[0].rules[RULE_BAND][1].when.text, "conversion>=50%");
	CHECK_INT(cfg->teams[0].rules[RULE_COMMISSION][0].amount, 300);
	CHECK_INT(cfg->teams[0].rules[RULE_COMMISSION][0].when.terms[1].against_average, 1);
	CHECK_STR(cfg->teams[0].rules[RULE_TIER][0].name, "金牌");
	CHECK_INT(cfg->teams[0].rules[RULE_TIER][0].when.terms[1].threshold, 10000);
	CHECK_INT(cfg->member_count, 4);
	CHECK_STR(assess_person(cfg, "店铺:小美"), "小美");
	CHECK_STR(assess_person(cfg, "xm_a"), "小美");
	CHECK_STR(assess_person(cfg, "alice"), "alice");
	assess_parse_day("2026-11-15", &nov15);
	assess_parse_day("2026-11-16", &nov16);
	CHECK_INT(assess_team_on(cfg, "dave", nov15), 0);
	CHECK_INT(assess_team_on(cfg, "dave", nov16), 1);
	CHECK_INT(assess_team_on(cfg, "alice", nov16), 0);
	CHECK_INT(assess_team_on(cfg, "nobody", nov16), -1);
	assess_config_free(cfg);
}

static void test_config_errors_name_line_and_column(void)
{
	check_refused("band = +1 otherwise\n", "t.conf:1:1: a line before any section");
	check_refused("[team a]\nband = +1 if convrsion >= 5%\n",
	              "t.conf:2:14: unknown metric \"convrsion\"");
	check_refused("[team a]\nband = +1 if rate_3mn >= 90%\n",
	              "t.conf:2:14: unknown metric \"rate_3mn\"");
	check_refused("[team a]\nband = +1 if art_avg <= 10\n",
	              "t.conf:2:25: a time needs its unit: \"6s\" or \"6000ms\"");
	check_refused("[team a]\nband = +1 if conversion = 5%\n",
	              "t.conf:2:25: expected >=, >, <= or < after conversion");
	check_refused("[team a]\nband = +1.005 otherwise\n",
	              "t.conf:2:8: a bonus is yuan with at most 2 decimals (+500, -200)");
	check_refused("[team a]\ncommission = 3 otherwise\n",
	              "t.conf:2:14: a commission is a rate from 0% to 100% with at most 2 "
	              "decimals (3%, 4.5%)");
	check_refused("[team a]\nband = +1 when conversion >= 5%\n",
	              "t.conf:2:11: expected \"if CONDITION\" or \"otherwise\"");
	check_refused("[team a]\nband = +1 if conversion >= 5% or reply_rate >= 9%\n",
	              "t.conf:2:31: expected \"and\" or the end of the line");
	check_refused("[team a]\nmember = x\n[team b]\nmember = x from 2026-11-01\n",
	              "t.conf:4:10: x is already in team a on some of these days");
	check_refused("[team a]\nmember = x from 2026-11-31\n",
	              "t.conf:2:17: a date is YYYY-MM-DD");
	check_refused("[team a]\n[team a]\n", "t.conf:2:7: team a is defined twice");
	check_refused("[aliases]\np = a\nq = a\n", "t.conf:3:5: account a already belongs to p");
	check_refused("[assess]\n", "t.conf: no [team NAME] section");
	check_refused("[team a]\nmember = xm_a\n[aliases]\n小美 = xm_a\n",
	              "t.conf: member xm_a is an account of 小美: name the person");
	check_refused("[team a]\nfoo = 1\n",
	              "t.conf:2:1: unknown key (band, commission, tier, target, member)");
}

static void test_config_accepts_bom_crlf_and_comments(void)
{
	static const char text[] = "\xEF\xBB\xBF# rules\r\n[team a]\r\n  # indented\r\n"
	                           "band = +1 otherwise\r\n";
	char err[256] = "";
	struct assess_config *cfg = parse(text, err, sizeof(err));

	CHECK(cfg != NULL);
	if (cfg != NULL)
		CHECK_INT(cfg->teams[0].rule_count[RULE_BAND], 1);
	assess_config_free(cfg);
}

/* inquiries, ordered: the two counters conversion is made of. */
static void set_conversion(int64_t *v, int64_t inquiries, int64_t ordered)
{
	memset(v, 0, COUNTER_WIDTH * sizeof(*v));
	v[COUNTER_INQUIRIES] = inquiries;
	v[COUNTER_ORDERED] = ordered;
}

static void test_band_edge_exactly_50_percent_is_in(void)
{
	char err[256];
	struct assess_config *cfg = parse(rules, err, sizeof(err));
	int64_t *v = calloc(COUNTER_WIDTH, sizeof(*v));

	set_conversion(v, 10, 5); /* exactly 50 % */
	CHECK_INT(assess_first_rule(&cfg->teams[0], RULE_BAND, v, NULL), 1);
	set_conversion(v, 20001, 10000); /* 49.9975 %: shows as 50.0 %, is below */
	CHECK_INT(assess_first_rule(&cfg->teams[0], RULE_BAND, v, NULL), 2);
	set_conversion(v, 5, 3); /* 60 % */
	CHECK_INT(assess_first_rule(&cfg->teams[0], RULE_BAND, v, NULL), 0);
	set_conversion(v, 0, 0); /* no inquiry: conversion absent, only "otherwise" */
	CHECK_INT(assess_first_rule(&cfg->teams[0], RULE_BAND, v, NULL), 2);
	free(v);
	assess_config_free(cfg);
}

/* The platform KPIs from the assessment counters, worked by hand: 3-minute rate
 * 9 / 10 = 90 % (exactly at the edge), slow receptions 2, returning share 3 / 12 =
 * 25 %, new-buyer conversion (5 - 2) / (12 - 3) = 1/3; a KPI with no denominator has
 * no value and only "otherwise" holds. */
static void test_platform_kpis(void)
{
	char err[256];
	struct assess_config *cfg =
	    parse("[team 金牌]\n"
	          "tier = 金牌 if rate_3min >= 90% and slow_receptions <= 2 and "
	          "returning_share >= 25%\n"
	          "tier = 新客 if new_buyer_conversion > 33.33%\n"
	          "tier = 其他 otherwise\n",
	          err, sizeof(err));
	int64_t *v = calloc(COUNTER_WIDTH, sizeof(*v)), num, den;

	CHECK(cfg != NULL);
	if (cfg == NULL) {
		fprintf(stderr, "  %s\n", err);
		free(v);
		return;
	}
	v[COUNTER_HOURS_RESPONSES] = 10;
	v[COUNTER_HOURS_RESPONSES_3M] = 9;
	v[COUNTER_SLOW_RESPONSES] = 2;
	v[COUNTER_INQUIRIES] = 12;
	v[COUNTER_RETURNING] = 3;
	v[COUNTER_ORDERED] = 5;
	v[COUNTER_RETURNING_ORDERED] = 2;
	CHECK(assess_metric_value(ASSESS_NEW_BUYER_CONVERSION, v, &num, &den));
	CHECK_INT(num, 3);
	CHECK_INT(den, 9);
	CHECK_INT(assess_first_rule(&cfg->teams[0], RULE_TIER, v, NULL), 0);
	v[COUNTER_SLOW_RESPONSES] = 3; /* one slow reception too many: 1/3 > 33.33 % */
	CHECK_INT(assess_first_rule(&cfg->teams[0], RULE_TIER, v, NULL), 1);
	v[COUNTER_HOURS_RESPONSES] = 0; /* no response in service hours: no 3-minute rate */
	v[COUNTER_HOURS_RESPONSES_3M] = 0;
	v[COUNTER_RETURNING] = v[COUNTER_INQUIRIES]; /* all returning: no new buyer */
	CHECK(!assess_metric_value(ASSESS_NEW_BUYER_CONVERSION, v, &num, &den));
	CHECK_INT(assess_first_rule(&cfg->teams[0], RULE_TIER, v, NULL), 2);
	free(v);
	assess_config_free(cfg);
}

static void test_condition_against_average_is_exact(void)
{
	char err[256];
	struct assess_config *cfg = parse(rules, err, sizeof(err));
	int64_t *v = calloc(COUNTER_WIDTH, sizeof(*v)), *avg = calloc(COUNTER_WIDTH, sizeof(*avg));
	const struct assess_team *t = &cfg->teams[0];

	set_conversion(v, 10, 5);
	v[COUNTER_PAID] = 5;
	v[COUNTER_SALES_FEN] = 100000;
	set_conversion(avg, 26, 13);
	avg[COUNTER_PAID] = 12;
	avg[COUNTER_SALES_FEN] = 180000;
	CHECK_INT(assess_first_rule(t, RULE_COMMISSION, v, avg), 0); /* equal counts as at */
	v[COUNTER_SALES_FEN] = 74999;                                /* AOV 149.998 < 150.00 */
	CHECK_INT(assess_first_rule(t, RULE_COMMISSION, v, avg), -1);
	CHECK_INT(assess_first_rule(t, RULE_COMMISSION, v, NULL), -1); /* no average: fails */
	v[COUNTER_RESPONSES] = 3;
	v[COUNTER_RESPONSE_MS_SUM] = 30000; /* 10 s exactly: <= 10s holds */
	set_conversion(avg, 1, 1);
	v[COUNTER_ORDERED] = 6;
	CHECK_INT(assess_first_rule(t, RULE_TIER, v, avg), 0);
	v[COUNTER_RESPONSE_MS_SUM] = 30001;
	CHECK_INT(assess_first_rule(t, RULE_TIER, v, avg), 1);
	free(v);
	free(avg);
	assess_config_free(cfg);
}

static void test_commission_and_prorate_rounding(void)
{
	CHECK_INT(assess_commission_fen(100000, 300), 3000);
	CHECK_INT(assess_commission_fen(1650, 300), 50); /* 49.5 fen rounds up */
	CHECK_INT(assess_commission_fen(1649, 300), 49);
	CHECK_INT(assess_prorate(-20000, 15, 30), -10000);
	CHECK_INT(assess_prorate(50000, 16, 30), 26667);
	CHECK_INT(assess_prorate(-50000, 16, 30), -26667); /* away from zero, symmetric */
	CHECK_INT(assess_prorate(1, 1, 2), 1);
	CHECK_INT(assess_prorate(-1, 1, 2), -1);
}

static void test_periods(void)
{
	int64_t first, last;
	char text[11];

	CHECK_INT(assess_parse_month("2026-11", &first, &last), 0);
	CHECK_INT(last - first + 1, 30);
	assess_day_text(last, text);
	CHECK_STR(text, "2026-11-30");
	CHECK_INT(assess_parse_month("2028-02", &first, &last), 0);
	CHECK_INT(last - first + 1, 29);
	CHECK_INT(assess_parse_month("2026-12", &first, &last), 0);
	assess_day_text(last, text);
	CHECK_STR(text, "2026-12-31");
	CHECK_INT(assess_parse_month("2026-13", &first, &last), -1);
	CHECK_INT(assess_parse_week("2026-W47", &first, &last), 0);
	assess_day_text(first, text);
	CHECK_STR(text, "2026-11-16"); /* a Monday */
	assess_day_text(last, text);
	CHECK_STR(text, "2026-11-22");
	CHECK_INT(assess_parse_week("2026-W01", &first, &last), 0);
	assess_day_text(first, text);
	CHECK_STR(text, "2025-12-29");                              /* week 1 holds 4 January */
	CHECK_INT(assess_parse_week("2026-W53", &first, &last), 0); /* 2026 has 53 weeks */
	CHECK_INT(assess_parse_week("2025-W53", &first, &last), -1);
	CHECK_INT(assess_parse_week("2026-47", &first, &last), -1);
	CHECK_INT(assess_parse_day("2026-02-29", &first), -1);
}

static void test_fold_aliases_and_team_move(void)
{
	char err[256];
	struct assess_config *cfg = parse(rules, err, sizeof(err));
	int64_t *v = calloc(COUNTER_WIDTH, sizeof(*v)), first, last, day;
	struct assess *a;
	size_t n;

	assess_parse_month("2026-11", &first, &last);
	a = assess_new(cfg, first, last);
	set_conversion(v, 5, 3);
	assess_add(a, "s1", "xm_a", first + 2, v);
	assess_add(a, "s1", "店铺:小美", first + 20, v);
	set_conversion(v, 4, 1);
	assess_parse_day("2026-11-10", &day);
	assess_add(a, "s1", "dave", day, v);
	v[COUNTER_INQUIRIES] = 0;
	v[COUNTER_ORDERED] = 0;
	v[COUNTER_POST_SALE] = 5;
	v[COUNTER_REPLIED] = 5;
	assess_parse_day("2026-11-20", &day);
	assess_add(a, "s1", "dave", day, v);
	memset(v, 0, COUNTER_WIDTH * sizeof(*v));
	assess_add(a, "s1", "ghost", day, v); /* all zero: no row */
	set_conversion(v, 14, 7);
	assess_add_shop(a, "s1", v);
	assess_finish(a);
	n = assess_row_count(a);
	/* 售前: dave, 小美, (team); 售后: dave, (team); (shop). */
	CHECK_INT(n, 6);
	if (n == 6) {
		const struct assess_row *r = assess_row_at(a, 0);
		CHECK_STR(r->person, "dave");
		CHECK_INT(r->team, 0);
		CHECK_INT(r->days, 15);
		CHECK_INT(r->bonus_full_fen, -20000);
		CHECK_INT(r->bonus_fen, -10000);
		r = assess_row_at(a, 1);
		CHECK_STR(r->person, "小美");
		CHECK_STR(r->accounts, "xm_a 店铺:小美");
		CHECK_INT(r->value[COUNTER_INQUIRIES], 10);
		CHECK_INT(r->bonus_fen, 50000);
		r = assess_row_at(a, 2);
		CHECK_INT(r->kind, ROW_TEAM);
		CHECK_INT(r->value[COUNTER_INQUIRIES], 14);
		CHECK_INT(r->bonus_fen, 40000);
		r = assess_row_at(a, 3);
		CHECK_STR(r->person, "dave");
		CHECK_INT(r->team, 1);
		CHECK_INT(r->days, 15);
		CHECK_INT(r->band, 0);
		CHECK_INT(r->bonus_fen, 5000);
		CHECK_INT(assess_row_at(a, 5)->kind, ROW_SHOP);
	}
	assess_free(a);
	free(v);
	assess_config_free(cfg);
}

int main(void)
{
	RUN(test_config_parses_teams_rules_members_aliases);
	RUN(test_config_errors_name_line_and_column);
	RUN(test_config_accepts_bom_crlf_and_comments);
	RUN(test_band_edge_exactly_50_percent_is_in);
	RUN(test_platform_kpis);
	RUN(test_condition_against_average_is_exact);
	RUN(test_commission_and_prorate_rounding);
	RUN(test_periods);
	RUN(test_fold_aliases_and_team_move);
	return check_done();
}
