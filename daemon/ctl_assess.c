/*
 * ctl_assess.c owns `chatlogctl assess`: it reads the counters of a period (the day
 * hashes in Redis, or a chatlogd --once report), hands them to assess.c, and lays
 * the rows out as a table by display width, JSON, CSV that Excel opens (UTF-8 with
 * BOM, CRLF) or an XLSX workbook (a sheet per team and one with the rules). The
 * rules and the arithmetic are assess.c's. docs/assess.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <xlsxwriter.h>

#include "chatlogd/assess.h"
#include "chatlogd/ctl_assess.h"
#include "chatlogd/ctl_json.h"
#include "chatlogd/ctl_redis.h"
#include "chatlogd/display.h"
#include "chatlogd/scoreboard.h"
#include "chatlogd/util.h"
#include "chatlogd/utf8.h"

/* Why the platform KPIs are not shown when the counters hold none of them. */
#define UNAVAILABLE_WHY                                                                            \
	"not counted: chatlogd counts them with assessment_counters = on (docs/metrics.md)"

/* 1 when the period's counters include the assessment counters (assessment_counters =
 * on): some row answered in service hours, was slow, or came back. Without them a
 * 0 would read as a perfect score, so the KPIs are shown as n/a instead. */
static int kpis_counted(const struct assess *a)
{
	for (size_t i = 0; i < assess_row_count(a); i++) {
		const int64_t *v = assess_row_at(a, i)->value;
		if (v[COUNTER_HOURS_RESPONSES] > 0 || v[COUNTER_SLOW_RESPONSES] > 0 ||
		    v[COUNTER_RETURNING] > 0)
			return 1;
	}
	return 0;
}

/* A KPI of assess.h as a ratio × 10000 (or a count); 0 when it has no value. */
static int kpi_value(enum assess_metric m, const int64_t *v, int counted, int64_t *out)
{
	int64_t num, den;

	if (!counted || !assess_metric_value(m, v, &num, &den))
		return 0;
	*out = den == 1 && m == ASSESS_SLOW_RECEPTIONS ? num : scoreboard_ratio_e4(num, den);
	return 1;
}

/* ---- reading the counters ---- */

/* Every account's day hashes of the period, and the shop's, from Redis. */
static int load_redis(struct ctl_redis *redis, const struct ctl_assess_options *o, struct assess *a)
{
	size_t days = (size_t)(o->last - o->first + 1), shop_count, agent_count;
	char **shops, **agents, **suffixes = xcalloc(days, sizeof(*suffixes));
	struct ctl_row *rows = xcalloc(days, sizeof(*rows));
	int rc = 0;

	for (size_t d = 0; d < days; d++) {
		char text[11];
		assess_day_text(o->first + (int64_t)d, text);
		suffixes[d] = ctl_format("d:%.4s%.2s%.2s", text, text + 5, text + 8);
	}
	if (ctl_redis_shops(redis, o->shop, &shops, &shop_count) == -1) {
		rc = -1;
		shop_count = 0;
		shops = NULL;
	}
	for (size_t s = 0; s < shop_count && rc == 0; s++) {
		if (ctl_redis_agents(redis, shops[s], &agents, &agent_count) == -1) {
			rc = -1;
			break;
		}
		/* The agents, then "*": the shop's own row, what "average" means. */
		for (size_t i = 0; i <= agent_count && rc == 0; i++) {
			const char *agent = i < agent_count ? agents[i] : "*";
			if (i < agent_count && (strcmp(agent, "*") == 0 || strcmp(agent, "-") == 0))
				continue; /* "-": inquiries nobody took are no one's pay */
			rc = ctl_redis_rows(redis, shops[s], agent, (const char *const *)suffixes,
			                    days, rows);
			for (size_t d = 0; d < days; d++) {
				if (rc == 0 && i < agent_count)
					assess_add(a, shops[s], agent, o->first + (int64_t)d,
					           rows[d].value);
				else if (rc == 0)
					assess_add_shop(a, shops[s], rows[d].value);
				ctl_row_free(&rows[d]);
			}
		}
		ctl_strings_free(agents, agent_count);
	}
	ctl_strings_free(shops, shop_count);
	ctl_strings_free(suffixes, days);
	free(rows);
	return rc;
}

/* A report's COUNTERS object (contract §5) into a row of counters. */
static void report_counters(json_t *object, struct reasons *reasons, int64_t *value)
{
	const char *key, *sub;
	json_t *member, *inner;
	char field[320], text[32];

	json_object_foreach(object, key, member)
	{
		if (json_is_integer(member)) {
			snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
			         json_integer_value(member));
			scoreboard_field(value, reasons, key, text);
		} else if (json_is_object(member) &&
		           (strcmp(key, "lost_reasons") == 0 || strcmp(key, "frt_h") == 0 ||
		            strcmp(key, "resp_h") == 0)) {
			json_object_foreach(member, sub, inner)
			{
				if (!json_is_integer(inner))
					continue;
				snprintf(field, sizeof(field), "%s:%s",
				         strcmp(key, "lost_reasons") == 0 ? "lost" : key, sub);
				snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
				         json_integer_value(inner));
				scoreboard_field(value, reasons, field, text);
			}
		}
	}
}

/* A chatlogd --once report: every account of every shop, undated (the whole report
 * is the period). */
static int load_report(const struct ctl_assess_options *o, struct assess *a)
{
	json_error_t error;
	json_t *root = json_load_file(o->report, 0, &error), *shops, *shop, *agents, *agent;
	const char *shop_name, *agent_name;
	struct reasons reasons;
	int64_t *value = xcalloc(COUNTER_WIDTH, sizeof(*value));
	int found = 0;

	if (root == NULL) {
		ctl_error("%s:%d:%d: %s", o->report, error.line, error.column, error.text);
		free(value);
		return -1;
	}
	if ((shops = json_object_get(root, "shops")) == NULL || !json_is_object(shops)) {
		ctl_error("%s: not a chatlogd --once report (no \"shops\" object)", o->report);
		json_decref(root);
		free(value);
		return -1;
	}
	reasons_init(&reasons);
	json_object_foreach(shops, shop_name, shop)
	{
		json_t *totals = json_object_get(shop, "totals");
		if (o->shop != NULL && strcmp(o->shop, shop_name) != 0)
			continue;
		found = 1;
		agents = json_object_get(shop, "agents");
		json_object_foreach(agents, agent_name, agent)
		{
			if (strcmp(agent_name, "-") == 0 || !json_is_object(agent))
				continue;
			memset(value, 0, COUNTER_WIDTH * sizeof(*value));
			report_counters(agent, &reasons, value);
			assess_add(a, shop_name, agent_name, ASSESS_UNDATED, value);
		}
		memset(value, 0, COUNTER_WIDTH * sizeof(*value));
		if (json_is_object(totals))
			report_counters(totals, &reasons, value);
		assess_add_shop(a, shop_name, value);
	}
	reasons_free(&reasons);
	json_decref(root);
	free(value);
	if (o->shop != NULL && !found) {
		char *shown = ctl_display(o->shop, strlen(o->shop));
		ctl_error("shop %s is not in %s", shown, o->report);
		free(shown);
		return -1;
	}
	return 0;
}

/* ---- values as text ---- */

/* Yuan with a sign when asked: "+300.00", "-200.00", "1234.50". */
static const char *money_text(int64_t fen, int plus, char *out, size_t size)
{
	int64_t magnitude = fen < 0 ? -fen : fen;

	snprintf(out, size, "%s%" PRId64 ".%02" PRId64,
	         fen < 0           ? "-"
	         : plus && fen > 0 ? "+"
	                           : "",
	         magnitude / 100, magnitude % 100);
	return out;
}

/* Ratio × 10000 as "1.25" (answer ratio: agent messages per buyer message). */
static const char *ratio_text(int has, int64_t e4, char *out, size_t size)
{
	if (!has)
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%" PRId64 ".%02" PRId64, (e4 + 50) / 10000,
		         ((e4 + 50) % 10000) / 100);
	return out;
}

static int answer_ratio_e4(const int64_t *v, int64_t *e4)
{
	if (v[COUNTER_BUYER_MSGS] <= 0)
		return 0;
	*e4 = scoreboard_ratio_e4(v[COUNTER_AGENT_MSGS], v[COUNTER_BUYER_MSGS]);
	return 1;
}

static const char *team_name(const struct ctl_assess_options *o, int team)
{
	return team >= 0 ? o->rules->teams[team].name : "(no team)";
}

static const char *row_name(const struct assess_row *row)
{
	return row->kind == ROW_PERSON ? row->person : row->kind == ROW_TEAM ? "(team)" : "(shop)";
}

static const char *tier_name(const struct ctl_assess_options *o, const struct assess_row *row)
{
	return row->tier >= 0 ? o->rules->teams[row->team].rules[RULE_TIER][row->tier].name : NULL;
}

static const char *band_text(const struct ctl_assess_options *o, const struct assess_row *row)
{
	return row->band >= 0 ? o->rules->teams[row->team].rules[RULE_BAND][row->band].when.text
	                      : NULL;
}

/* "frt_avg <= 6s; reply_rate >= 95%": the targets a row missed. */
static char *missed_text(const struct ctl_assess_options *o, const struct assess_row *row)
{
	char *out = xstrndup("", 0), *more;

	for (unsigned i = 0; row->team >= 0 && i < row->targets_total; i++) {
		if (!(row->targets_missed & (1u << i)))
			continue;
		more = ctl_format("%s%s%s", out, out[0] ? "; " : "",
		                  o->rules->teams[row->team].rules[RULE_TARGET][i].when.text);
		free(out);
		out = more;
	}
	return out;
}

/* Whether a row has an assessment of its own (a person in a team with conversations). */
static int assessed(const struct assess_row *row)
{
	return row->kind == ROW_PERSON && row->team >= 0 &&
	       row->value[COUNTER_INQUIRIES] + row->value[COUNTER_POST_SALE] > 0;
}

/* ---- the table ---- */

static void put_left(FILE *out, const char *text, size_t width)
{
	char *shown = ctl_display(text, strlen(text));

	display_pad(out, shown, width);
	free(shown);
}

static size_t shown_width(const char *text)
{
	char *shown = ctl_display(text, strlen(text));
	size_t w = display_width(shown, strlen(shown));

	free(shown);
	return w;
}

static void table_header(FILE *out, size_t name_w, size_t tier_w)
{
	fputs("  ", out);
	put_left(out, "person", name_w);
	fprintf(out, " %4s %9s %9s %7s %7s %7s %7s %7s %10s %11s %6s %6s %4s %9s %12s  ", "days",
	        "inquiries", "post-sale", "reply", "FRT avg", "ART avg", "conv", "paid/o", "AOV",
	        "sales", "answer", "3-min", "slow", "bonus", "commission");
	put_left(out, "tier", tier_w);
	fputs(" targets  band\n", out);
}

static void table_row(FILE *out, const struct ctl_assess_options *o, const struct assess_row *row,
                      int counted, size_t name_w, size_t tier_w)
{
	const int64_t *v = row->value;
	char reply[16], frt[16], art[16], conv[16], paid[16], aov[32], sales[32], answer[32];
	char rate_3min[16], slow[24];
	int64_t kpi = 0;
	int has_kpi;
	char bonus[32], commission[48], rate[16], money[32], days[16], targets[16];
	const char *tier = tier_name(o, row), *band = band_text(o, row);
	struct derived d;
	int64_t answer_e4 = 0;
	int has_answer = answer_ratio_e4(v, &answer_e4);

	counters_derive(v, &d);
	days[0] = '\0';
	if (row->kind == ROW_PERSON)
		snprintf(days, sizeof(days), "%" PRId64, row->days);
	if (d.has_aov)
		money_text(d.aov_fen, 0, aov, sizeof(aov));
	else
		snprintf(aov, sizeof(aov), "-");
	money_text(v[COUNTER_SALES_FEN], 0, sales, sizeof(sales));
	if (assessed(row) || row->kind == ROW_TEAM) {
		money_text(row->bonus_fen, 1, bonus, sizeof(bonus));
		money_text(row->commission_fen, 0, money, sizeof(money));
		if (row->kind == ROW_PERSON)
			snprintf(commission, sizeof(commission), "%s %s", money,
			         scoreboard_format_percent(1, row->commission_rate_e4, rate,
			                                   sizeof(rate)));
		else
			snprintf(commission, sizeof(commission), "%s", money);
	} else {
		snprintf(bonus, sizeof(bonus), "-");
		snprintf(commission, sizeof(commission), "-");
	}
	has_kpi = kpi_value(ASSESS_RATE_3MIN, v, counted, &kpi); /* before kpi is read */
	scoreboard_format_percent(has_kpi, kpi, rate_3min, sizeof(rate_3min));
	if (kpi_value(ASSESS_SLOW_RECEPTIONS, v, counted, &kpi))
		snprintf(slow, sizeof(slow), "%" PRId64, kpi);
	else
		snprintf(slow, sizeof(slow), "-");
	if (assessed(row) && row->targets_total > 0)
		snprintf(targets, sizeof(targets), "%u/%u", row->targets_met, row->targets_total);
	else
		snprintf(targets, sizeof(targets), "-");
	fputs("  ", out);
	put_left(out, row_name(row), name_w);
	fprintf(out,
	        " %4s %9" PRId64 " %9" PRId64
	        " %7s %7s %7s %7s %7s %10s %11s %6s %6s %4s %9s %12s  ",
	        days, v[COUNTER_INQUIRIES], v[COUNTER_POST_SALE],
	        scoreboard_format_percent(d.has_reply_rate, d.reply_rate_e4, reply, sizeof(reply)),
	        scoreboard_format_seconds(d.has_frt_avg, d.frt_avg_ms, frt, sizeof(frt)),
	        scoreboard_format_seconds(d.has_art_avg, d.art_avg_ms, art, sizeof(art)),
	        scoreboard_format_percent(d.has_conversion, d.conversion_e4, conv, sizeof(conv)),
	        scoreboard_format_percent(d.has_pay_conversion, d.pay_conversion_e4, paid,
	                                  sizeof(paid)),
	        aov, sales, ratio_text(has_answer, answer_e4, answer, sizeof(answer)), rate_3min,
	        slow, bonus, commission);
	put_left(out, tier != NULL ? tier : "-", tier_w);
	fprintf(out, " %7s  ", targets);
	if (band != NULL)
		put_left(out, band, 0);
	else
		fputs(assessed(row) ? "(no band)" : "-", out);
	fputc('\n', out);
}

static void print_table(const struct ctl_assess_options *o, const struct assess *a)
{
	size_t n = assess_row_count(a), name_w = 6, tier_w = 4, w;
	const char *shop = NULL;
	int team = -2, counted = kpis_counted(a);
	char first[11], last[11];

	for (size_t i = 0; i < n; i++) {
		const struct assess_row *row = assess_row_at(a, i);
		const char *tier = tier_name(o, row);
		if ((w = shown_width(row_name(row))) > name_w)
			name_w = w;
		if (tier != NULL && (w = shown_width(tier)) > tier_w)
			tier_w = w;
	}
	assess_day_text(o->first, first);
	assess_day_text(o->last, last);
	printf("assess %s  %s .. %s (%" PRId64 " days)  source %s  rules %s\n", o->label, first,
	       last, assess_period_days(a), o->report != NULL ? o->report : "redis", o->rules_path);
	if (n == 0)
		printf("no counters in this period\n");
	for (size_t i = 0; i < n; i++) {
		const struct assess_row *row = assess_row_at(a, i);
		if (shop == NULL || strcmp(shop, row->shop) != 0) {
			const struct assess_row *total = NULL;
			struct derived d;
			char conv[16], aov[32];
			for (size_t k = i; k < n && total == NULL; k++)
				if (assess_row_at(a, k)->kind == ROW_SHOP &&
				    strcmp(assess_row_at(a, k)->shop, row->shop) == 0)
					total = assess_row_at(a, k);
			counters_derive(total->value, &d);
			printf("\nshop ");
			put_left(stdout, row->shop, 0);
			printf("  (shop conversion %s, AOV %s; commission compares with the %s)\n",
			       scoreboard_format_percent(d.has_conversion, d.conversion_e4, conv,
			                                 sizeof(conv)),
			       d.has_aov ? money_text(d.aov_fen, 0, aov, sizeof(aov)) : "-",
			       o->rules->compare_with == COMPARE_TEAM ? "team" : "shop");
			shop = row->shop;
			team = -2;
		}
		if (row->kind != ROW_SHOP && row->team != team) {
			printf("\nteam ");
			put_left(stdout, team_name(o, row->team), 0);
			printf("%s\n",
			       row->team < 0 ? "  (in no team of the rules: not assessed)" : "");
			table_header(stdout, name_w, tier_w);
			team = row->team;
		} else if (row->kind == ROW_SHOP) {
			printf("\n");
			table_header(stdout, name_w, tier_w);
		}
		table_row(stdout, o, row, counted, name_w, tier_w);
	}
	if (!counted)
		printf("\n3-minute response rate, slow receptions, returning buyers: n/a (%s)\n",
		       UNAVAILABLE_WHY);
	printf("\nanswer = 答问比 (agent messages per buyer message); 3-min = responses within "
	       "180 s of turns begun in service hours; slow = 慢响应 (over slow_response); bonus "
	       "prorated by days in the team: %s\n",
	       o->rules->prorate ? "yes" : "no");
}

/* ---- JSON ---- */

/* A KPI in JSON: its value, or null when it has none (or is not counted). */
static void json_kpi(struct ctl_json *j, const char *key, enum assess_metric m, const int64_t *v,
                     int counted)
{
	int64_t kpi = 0;

	if (!kpi_value(m, v, counted, &kpi))
		ctl_json_number(j, key, "null");
	else if (m == ASSESS_SLOW_RECEPTIONS)
		ctl_json_int(j, key, kpi);
	else
		ctl_json_e4(j, key, kpi);
}

static void json_row(struct ctl_json *j, const struct ctl_assess_options *o,
                     const struct assess_row *row, int counted)
{
	static const char *const kinds[] = {"person", "team", "shop"};
	const int64_t *v = row->value;
	const char *tier = tier_name(o, row), *band = band_text(o, row);
	struct derived d;
	int64_t answer_e4 = 0;
	int has_answer;
	char text[32];

	counters_derive(v, &d);
	ctl_json_open(j, NULL, '{');
	ctl_json_text(j, "shop", row->shop); /* on every row: a flat list suits scripts */
	ctl_json_text(j, "kind", kinds[row->kind]);
	if (row->kind != ROW_SHOP)
		ctl_json_text(j, "team", team_name(o, row->team));
	if (row->kind == ROW_PERSON) {
		ctl_json_text(j, "person", row->person);
		ctl_json_text(j, "accounts", row->accounts);
		ctl_json_int(j, "days", row->days);
	}
	ctl_json_int(j, "inquiries", v[COUNTER_INQUIRIES]);
	ctl_json_int(j, "post_sale", v[COUNTER_POST_SALE]);
	ctl_json_int(j, "replied", v[COUNTER_REPLIED]);
	ctl_json_int(j, "first_responses", v[COUNTER_FIRST_RESPONSES]);
	ctl_json_int(j, "responses", v[COUNTER_RESPONSES]);
	ctl_json_int(j, "ordered", v[COUNTER_ORDERED]);
	ctl_json_int(j, "paid", v[COUNTER_PAID]);
	ctl_json_int(j, "sales_fen", v[COUNTER_SALES_FEN]);
	ctl_json_int(j, "agent_msgs", v[COUNTER_AGENT_MSGS]);
	ctl_json_int(j, "buyer_msgs", v[COUNTER_BUYER_MSGS]);
	if (d.has_reply_rate)
		ctl_json_e4(j, "reply_rate", d.reply_rate_e4);
	if (d.has_frt_avg)
		ctl_json_int(j, "frt_avg_ms", d.frt_avg_ms);
	if (d.has_art_avg)
		ctl_json_int(j, "art_avg_ms", d.art_avg_ms);
	if (d.has_conversion)
		ctl_json_e4(j, "conversion", d.conversion_e4);
	if (d.has_pay_conversion)
		ctl_json_e4(j, "pay_conversion", d.pay_conversion_e4);
	if (d.has_aov)
		ctl_json_number(j, "aov", counters_format_fen(d.aov_fen, text, sizeof(text)));
	has_answer = answer_ratio_e4(v, &answer_e4); /* before answer_e4 is read */
	if (has_answer)
		ctl_json_e4(j, "answer_ratio", answer_e4);
	json_kpi(j, "rate_3min", ASSESS_RATE_3MIN, v, counted);
	json_kpi(j, "slow_receptions", ASSESS_SLOW_RECEPTIONS, v, counted);
	json_kpi(j, "returning_share", ASSESS_RETURNING_SHARE, v, counted);
	json_kpi(j, "new_buyer_conversion", ASSESS_NEW_BUYER_CONVERSION, v, counted);
	if (assessed(row)) {
		char *missed;
		if (band != NULL) {
			ctl_json_text(j, "band", band);
			ctl_json_int(j, "bonus_full_fen", row->bonus_full_fen);
		} else {
			ctl_json_number(j, "band", "null");
		}
		ctl_json_int(j, "bonus_fen", row->bonus_fen);
		ctl_json_e4(j, "commission_rate", row->commission_rate_e4);
		ctl_json_int(j, "commission_fen", row->commission_fen);
		if (tier != NULL)
			ctl_json_text(j, "tier", tier);
		else
			ctl_json_number(j, "tier", "null");
		ctl_json_int(j, "targets_met", row->targets_met);
		ctl_json_int(j, "targets_total", row->targets_total);
		missed = missed_text(o, row);
		ctl_json_text(j, "targets_missed", missed);
		free(missed);
	} else if (row->kind == ROW_TEAM) {
		ctl_json_int(j, "bonus_fen", row->bonus_fen);
		ctl_json_int(j, "commission_fen", row->commission_fen);
	}
	ctl_json_close(j, '}');
}

static void print_json(const struct ctl_assess_options *o, const struct assess *a)
{
	struct ctl_json j;
	char day[11];
	int counted = kpis_counted(a);

	ctl_json_init(&j, stdout);
	ctl_json_open(&j, NULL, '{');
	ctl_json_text(&j, "period", o->label);
	assess_day_text(o->first, day);
	ctl_json_text(&j, "first", day);
	assess_day_text(o->last, day);
	ctl_json_text(&j, "last", day);
	ctl_json_int(&j, "days", assess_period_days(a));
	ctl_json_text(&j, "source", o->report != NULL ? o->report : "redis");
	ctl_json_text(&j, "rules", o->rules_path);
	ctl_json_text(&j, "compare_with", o->rules->compare_with == COMPARE_TEAM ? "team" : "shop");
	if (!counted) {
		ctl_json_open(&j, "unavailable", '{');
		ctl_json_text(&j, "rate_3min", UNAVAILABLE_WHY);
		ctl_json_text(&j, "slow_receptions", UNAVAILABLE_WHY);
		ctl_json_text(&j, "returning_share", UNAVAILABLE_WHY);
		ctl_json_text(&j, "new_buyer_conversion", UNAVAILABLE_WHY);
		ctl_json_close(&j, '}');
	}
	ctl_json_open(&j, "rows", '[');
	for (size_t i = 0; i < assess_row_count(a); i++)
		json_row(&j, o, assess_row_at(a, i), counted);
	ctl_json_close(&j, ']');
	ctl_json_close(&j, '}');
	putchar('\n');
}

/* ---- CSV and XLSX: one table of columns ---- */

enum cell_kind { CELL_TEXT, CELL_INT, CELL_PERCENT, CELL_SECONDS, CELL_MONEY, CELL_RATIO };

/* One cell: text, or a number in the unit of its kind (ratios × 10000, ms, fen). */
struct cell {
	enum cell_kind kind;
	int present;
	int64_t number;
	char *text; /* CELL_TEXT; owned */
};

#define COLUMNS 26

static const char *const column_titles[COLUMNS] = {
    "店铺 shop",
    "组 team",
    "客服 person",
    "账号 accounts",
    "天数 days",
    "询单 inquiries",
    "售后 post-sale",
    "回复率 reply rate",
    "首响 FRT avg (s)",
    "平均响应 ART avg (s)",
    "询单转化率 conversion",
    "付款转化率 pay conversion",
    "客单价 AOV",
    "销售额 sales",
    "答问比 answer ratio",
    "档位 band",
    "奖金 bonus",
    "提成比例 commission rate",
    "提成 commission",
    "等级 tier",
    "达标 targets met",
    "未达标 targets missed",
    "3分钟响应率 3-min rate",
    "慢响应 slow receptions",
    "回头客占比 returning share",
    "新客转化率 new-buyer conversion",
};

static void cell_text(struct cell *c, const char *text)
{
	c->kind = CELL_TEXT;
	c->present = text != NULL;
	c->text = text != NULL ? xstrdup(text) : NULL;
}

static void cell_number(struct cell *c, enum cell_kind kind, int present, int64_t number)
{
	c->kind = kind;
	c->present = present;
	c->number = number;
	c->text = NULL;
}

static void row_cells(const struct ctl_assess_options *o, const struct assess_row *row, int counted,
                      struct cell cells[COLUMNS])
{
	static const enum assess_metric kpis[] = {ASSESS_RATE_3MIN, ASSESS_SLOW_RECEPTIONS,
	                                          ASSESS_RETURNING_SHARE,
	                                          ASSESS_NEW_BUYER_CONVERSION};
	const int64_t *v = row->value;
	struct derived d;
	int64_t answer_e4 = 0, kpi = 0;
	int has_answer = answer_ratio_e4(v, &answer_e4), done = assessed(row);
	char *missed;

	counters_derive(v, &d);
	memset(cells, 0, COLUMNS * sizeof(*cells));
	cell_text(&cells[0], row->shop);
	cell_text(&cells[1], row->kind == ROW_SHOP ? "(shop)" : team_name(o, row->team));
	cell_text(&cells[2], row_name(row));
	cell_text(&cells[3], row->kind == ROW_PERSON ? row->accounts : "");
	cell_number(&cells[4], CELL_INT, row->kind == ROW_PERSON, row->days);
	cell_number(&cells[5], CELL_INT, 1, v[COUNTER_INQUIRIES]);
	cell_number(&cells[6], CELL_INT, 1, v[COUNTER_POST_SALE]);
	cell_number(&cells[7], CELL_PERCENT, d.has_reply_rate, d.reply_rate_e4);
	cell_number(&cells[8], CELL_SECONDS, d.has_frt_avg, d.frt_avg_ms);
	cell_number(&cells[9], CELL_SECONDS, d.has_art_avg, d.art_avg_ms);
	cell_number(&cells[10], CELL_PERCENT, d.has_conversion, d.conversion_e4);
	cell_number(&cells[11], CELL_PERCENT, d.has_pay_conversion, d.pay_conversion_e4);
	cell_number(&cells[12], CELL_MONEY, d.has_aov, d.aov_fen);
	cell_number(&cells[13], CELL_MONEY, 1, v[COUNTER_SALES_FEN]);
	cell_number(&cells[14], CELL_RATIO, has_answer, answer_e4);
	cell_text(&cells[15], done ? (band_text(o, row) ? band_text(o, row) : "(no band)") : NULL);
	cell_number(&cells[16], CELL_MONEY, done || row->kind == ROW_TEAM, row->bonus_fen);
	cell_number(&cells[17], CELL_PERCENT, done, row->commission_rate_e4);
	cell_number(&cells[18], CELL_MONEY, done || row->kind == ROW_TEAM, row->commission_fen);
	cell_text(&cells[19], done ? tier_name(o, row) : NULL);
	cell_number(&cells[20], CELL_INT, done, row->targets_met);
	missed = done ? missed_text(o, row) : NULL;
	cell_text(&cells[21], missed);
	free(missed);
	for (int k = 0; k < 4; k++) {
		struct cell *c = &cells[22 + k];
		if (!counted)
			cell_text(c, "n/a");
		else if (kpi_value(kpis[k], v, counted, &kpi))
			cell_number(c, kpis[k] == ASSESS_SLOW_RECEPTIONS ? CELL_INT : CELL_PERCENT,
			            1, kpi);
	}
}

static void cells_free(struct cell cells[COLUMNS])
{
	for (int i = 0; i < COLUMNS; i++)
		free(cells[i].text);
}

/* A CSV field as Excel reads it: quoted when it holds a comma, quote or line break,
 * quotes doubled; text Excel would take for a formula gets a leading apostrophe. */
static void csv_text(FILE *out, const char *text)
{
	int quote = strpbrk(text, ",\"\r\n") != NULL;

	if (quote)
		fputc('"', out);
	if (strchr("=+-@\t", text[0]) != NULL && text[0] != '\0')
		fputc('\'', out);
	for (const char *s = text; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	if (quote)
		fputc('"', out);
}

static void csv_cell(FILE *out, const struct cell *c)
{
	char text[48];

	if (!c->present)
		return;
	switch (c->kind) {
	case CELL_TEXT:
		csv_text(out, c->text);
		return;
	case CELL_INT:
		fprintf(out, "%" PRId64, c->number);
		return;
	case CELL_PERCENT: /* "50.0%": Excel reads it as the number 0.5 */
		fputs(scoreboard_format_percent(1, c->number, text, sizeof(text)), out);
		return;
	case CELL_SECONDS:
		scoreboard_format_seconds(1, c->number, text, sizeof(text));
		text[strlen(text) - 1] = '\0';
		fputs(text, out);
		return;
	case CELL_MONEY:
		fputs(money_text(c->number, 0, text, sizeof(text)), out);
		return;
	case CELL_RATIO:
		fputs(ratio_text(1, c->number, text, sizeof(text)), out);
		return;
	}
}

static void print_csv(const struct ctl_assess_options *o, const struct assess *a)
{
	struct cell cells[COLUMNS];

	fputs("\xEF\xBB\xBF", stdout); /* the BOM: Excel then reads UTF-8, not GBK */
	for (int c = 0; c < COLUMNS; c++) {
		if (c > 0)
			fputc(',', stdout);
		csv_text(stdout, column_titles[c]);
	}
	fputs("\r\n", stdout);
	for (size_t i = 0; i < assess_row_count(a); i++) {
		row_cells(o, assess_row_at(a, i), kpis_counted(a), cells);
		for (int c = 0; c < COLUMNS; c++) {
			if (c > 0)
				fputc(',', stdout);
			csv_cell(stdout, &cells[c]);
		}
		fputs("\r\n", stdout);
		cells_free(cells);
	}
}

struct xlsx_formats {
	lxw_format *header, *percent, *seconds, *money, *ratio;
};

static void xlsx_cell(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const struct cell *cell,
                      const struct xlsx_formats *f)
{
	if (!cell->present)
		return;
	switch (cell->kind) {
	case CELL_TEXT:
		worksheet_write_string(ws, r, c, cell->text, NULL);
		break;
	case CELL_INT:
		worksheet_write_number(ws, r, c, (double)cell->number, NULL);
		break;
	case CELL_PERCENT:
		worksheet_write_number(ws, r, c, (double)cell->number / 10000.0, f->percent);
		break;
	case CELL_SECONDS:
		worksheet_write_number(ws, r, c, (double)cell->number / 1000.0, f->seconds);
		break;
	case CELL_MONEY:
		worksheet_write_number(ws, r, c, (double)cell->number / 100.0, f->money);
		break;
	case CELL_RATIO:
		worksheet_write_number(ws, r, c, (double)cell->number / 10000.0, f->ratio);
		break;
	}
}

/* A sheet name Excel takes: at most 31 characters, none of []:*?/\, unique. */
static char *sheet_name(lxw_workbook *wb, const char *name, int serial)
{
	char buf[128];
	size_t n = 0;

	for (const char *s = name; *s != '\0' && n < sizeof(buf) - 8; s++)
		buf[n++] = strchr("[]:*?/\\", *s) != NULL ? '_' : *s;
	buf[n] = '\0';
	/* 31 characters, cut at a UTF-8 boundary. */
	for (size_t i = 0, chars = 0; buf[i] != '\0'; i++)
		if (!utf8_is_continuation((unsigned char)buf[i]) && ++chars > 28) {
			buf[i] = '\0';
			break;
		}
	if (buf[0] == '\0' || workbook_validate_sheet_name(wb, buf) != LXW_NO_ERROR)
		return ctl_format("%s~%d", buf, serial);
	return xstrdup(buf);
}

static void xlsx_header(lxw_worksheet *ws, const struct xlsx_formats *f)
{
	for (int c = 0; c < COLUMNS; c++)
		worksheet_write_string(ws, 0, (lxw_col_t)c, column_titles[c], f->header);
	worksheet_freeze_panes(ws, 1, 3);
	worksheet_set_column(ws, 0, 3, 14, NULL);
	worksheet_set_column(ws, 4, COLUMNS - 1, 12, NULL);
	worksheet_set_column(ws, 15, 15, 24, NULL);
	worksheet_set_column(ws, 21, 21, 30, NULL);
}

static void xlsx_rules(lxw_workbook *wb, const struct ctl_assess_options *o,
                       const struct xlsx_formats *f, int counted)
{
	static const char *const kinds[RULE_KINDS] = {"band 奖金档位", "commission 提成",
	                                              "tier 等级", "target 目标"};
	lxw_worksheet *ws = workbook_add_worksheet(wb, "规则 rules");
	lxw_row_t r = 0;
	char first[11], last[11], text[64];

	assess_day_text(o->first, first);
	assess_day_text(o->last, last);
	worksheet_set_column(ws, 0, 0, 18, NULL);
	worksheet_set_column(ws, 1, 1, 18, NULL);
	worksheet_set_column(ws, 2, 3, 44, NULL);
	worksheet_write_string(ws, r, 0, "period", f->header);
	worksheet_write_string(ws, r, 1, o->label, NULL);
	snprintf(text, sizeof(text), "%s .. %s", first, last);
	worksheet_write_string(ws, r++, 2, text, NULL);
	worksheet_write_string(ws, r, 0, "source", f->header);
	worksheet_write_string(ws, r++, 1, o->report != NULL ? o->report : "redis", NULL);
	worksheet_write_string(ws, r, 0, "rules file", f->header);
	worksheet_write_string(ws, r++, 1, o->rules_path, NULL);
	worksheet_write_string(ws, r, 0, "compare_with", f->header);
	worksheet_write_string(ws, r++, 1, o->rules->compare_with == COMPARE_TEAM ? "team" : "shop",
	                       NULL);
	worksheet_write_string(ws, r, 0, "prorate", f->header);
	worksheet_write_string(ws, r++, 1, o->rules->prorate ? "days" : "none", NULL);
	worksheet_write_string(ws, r, 0, "3-min rate, slow", f->header);
	worksheet_write_string(ws, r++, 1, counted ? "counted" : "n/a", NULL);
	if (!counted)
		worksheet_write_string(ws, r - 1, 2, UNAVAILABLE_WHY, NULL);
	r++;
	worksheet_write_string(ws, r, 0, "team 组", f->header);
	worksheet_write_string(ws, r, 1, "rule 规则", f->header);
	worksheet_write_string(ws, r, 2, "value 值", f->header);
	worksheet_write_string(ws, r++, 3, "when 条件", f->header);
	for (size_t t = 0; t < o->rules->team_count; t++) {
		const struct assess_team *team = &o->rules->teams[t];
		for (int k = 0; k < RULE_KINDS; k++)
			for (unsigned i = 0; i < team->rule_count[k]; i++) {
				worksheet_write_string(ws, r, 0, team->name, NULL);
				worksheet_write_string(ws, r, 1, kinds[k], NULL);
				worksheet_write_string(ws, r, 2, team->rules[k][i].name, NULL);
				worksheet_write_string(ws, r++, 3, team->rules[k][i].when.text,
				                       NULL);
			}
		for (size_t m = 0; m < o->rules->member_count; m++) {
			const struct assess_member *member = &o->rules->members[m];
			char from[11] = "", until[11] = "";
			if (member->team != t)
				continue;
			if (member->from != INT64_MIN)
				assess_day_text(member->from, from);
			if (member->until != INT64_MAX)
				assess_day_text(member->until, until);
			worksheet_write_string(ws, r, 0, team->name, NULL);
			worksheet_write_string(ws, r, 1, "member 成员", NULL);
			worksheet_write_string(ws, r, 2, member->person, NULL);
			snprintf(text, sizeof(text), "%s%s%s%s", from[0] ? "from " : "", from,
			         until[0] ? (from[0] ? " until " : "until ") : "", until);
			worksheet_write_string(ws, r++, 3, text, NULL);
		}
	}
	for (size_t i = 0; i < o->rules->alias_count; i++) {
		worksheet_write_string(ws, r, 0, "", NULL);
		worksheet_write_string(ws, r, 1, "alias 账号", NULL);
		worksheet_write_string(ws, r, 2, o->rules->aliases[i].account, NULL);
		worksheet_write_string(ws, r++, 3, o->rules->aliases[i].person, NULL);
	}
}

/* One sheet per team of the rules (and "(no team)" when some rows have none), the
 * shops' rows on every sheet, then the rules. */
static int write_xlsx(const struct ctl_assess_options *o, const struct assess *a)
{
	lxw_workbook *wb = workbook_new(o->xlsx_path);
	struct xlsx_formats f;
	struct cell cells[COLUMNS];
	lxw_error error;
	int sheets = (int)o->rules->team_count + 1, counted = kpis_counted(a);

	if (wb == NULL) {
		ctl_error("%s: cannot create the workbook", o->xlsx_path);
		return -1;
	}
	f.header = workbook_add_format(wb);
	format_set_bold(f.header);
	f.percent = workbook_add_format(wb);
	format_set_num_format(f.percent, "0.0%");
	f.seconds = workbook_add_format(wb);
	format_set_num_format(f.seconds, "0.0");
	f.money = workbook_add_format(wb);
	format_set_num_format(f.money, "0.00");
	f.ratio = workbook_add_format(wb);
	format_set_num_format(f.ratio, "0.00");
	for (int t = 0; t < sheets; t++) {
		int team = t < (int)o->rules->team_count ? t : -1;
		lxw_worksheet *ws = NULL;
		lxw_row_t r = 1;
		for (size_t i = 0; i < assess_row_count(a); i++) {
			const struct assess_row *row = assess_row_at(a, i);
			if (row->team != team || row->kind == ROW_SHOP)
				continue;
			if (ws == NULL) {
				char *name = sheet_name(wb, team_name(o, team), t + 1);
				ws = workbook_add_worksheet(wb, name);
				free(name);
				xlsx_header(ws, &f);
			}
			row_cells(o, row, counted, cells);
			for (int c = 0; c < COLUMNS; c++)
				xlsx_cell(ws, r, (lxw_col_t)c, &cells[c], &f);
			cells_free(cells);
			r++;
		}
		if (ws == NULL && team >= 0) { /* a team without rows still gets its sheet */
			char *name = sheet_name(wb, team_name(o, team), t + 1);
			ws = workbook_add_worksheet(wb, name);
			free(name);
			xlsx_header(ws, &f);
		}
		/* The shop rows close each sheet: the averages the rows were compared with. */
		for (size_t i = 0; ws != NULL && i < assess_row_count(a); i++) {
			const struct assess_row *row = assess_row_at(a, i);
			if (row->kind != ROW_SHOP)
				continue;
			row_cells(o, row, counted, cells);
			for (int c = 0; c < COLUMNS; c++)
				xlsx_cell(ws, r, (lxw_col_t)c, &cells[c], &f);
			cells_free(cells);
			r++;
		}
	}
	xlsx_rules(wb, o, &f, counted);
	if ((error = workbook_close(wb)) != LXW_NO_ERROR) {
		ctl_error("%s: %s", o->xlsx_path, lxw_strerror(error));
		return -1;
	}
	return 0;
}

int ctl_assess_run(struct ctl_redis *redis, const struct ctl_assess_options *o)
{
	struct assess *a = assess_new(o->rules, o->first, o->last);
	int rc = o->report != NULL ? load_report(o, a) : load_redis(redis, o, a);

	if (rc == 0) {
		assess_finish(a);
		switch (o->format) {
		case ASSESS_TABLE:
			print_table(o, a);
			break;
		case ASSESS_JSON:
			print_json(o, a);
			break;
		case ASSESS_CSV:
			print_csv(o, a);
			break;
		case ASSESS_XLSX:
			rc = write_xlsx(o, a);
			if (rc == 0)
				printf("wrote %s\n", o->xlsx_path);
			break;
		}
	}
	assess_free(a);
	return rc;
}
