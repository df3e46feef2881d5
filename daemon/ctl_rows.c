/*
 * ctl_rows.c owns how a counter row read back from Redis is shown: its scoreboard
 * cells and its JSON, with lost reasons and alerts, for chatlogctl's text and JSON
 * outputs and for the dashboard alike, so the numbers are formatted once. It reads
 * nothing (ctl_redis.c) and lays out no table (chatlogctl.c, ctl_serve.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chatlogd/ctl_json.h"
#include "chatlogd/ctl_redis.h"
#include "chatlogd/ctl_rows.h"
#include "chatlogd/rules.h"
#include "chatlogd/scoreboard.h"

void ctl_rows_text(const int64_t *v, struct ctl_row_text *t)
{
	struct scoreboard_percentile p;
	struct derived d;

	counters_derive(v, &d);
	scoreboard_format_seconds(d.has_frt_avg, d.frt_avg_ms, t->frt_avg, sizeof(t->frt_avg));
	scoreboard_percentile(v + COUNTER_FRT_H, 50, &p);
	scoreboard_format_percentile(&p, t->frt_p50, sizeof(t->frt_p50));
	scoreboard_percentile(v + COUNTER_FRT_H, 90, &p);
	scoreboard_format_percentile(&p, t->frt_p90, sizeof(t->frt_p90));
	scoreboard_format_seconds(d.has_art_avg, d.art_avg_ms, t->art_avg, sizeof(t->art_avg));
	scoreboard_percentile(v + COUNTER_RESP_H, 50, &p);
	scoreboard_format_percentile(&p, t->art_p50, sizeof(t->art_p50));
	scoreboard_percentile(v + COUNTER_RESP_H, 90, &p);
	scoreboard_format_percentile(&p, t->art_p90, sizeof(t->art_p90));
	scoreboard_format_percent(d.has_reply_rate, d.reply_rate_e4, t->reply, sizeof(t->reply));
	scoreboard_format_percent(d.has_conversion, d.conversion_e4, t->conversion,
	                          sizeof(t->conversion));
	scoreboard_format_percent(d.has_pay_conversion, d.pay_conversion_e4, t->pay_conversion,
	                          sizeof(t->pay_conversion));
	if (d.has_aov)
		counters_format_fen(d.aov_fen, t->aov, sizeof(t->aov));
	else
		snprintf(t->aov, sizeof(t->aov), "-");
	counters_format_fen(v[COUNTER_SALES_FEN], t->sales, sizeof(t->sales));
}

const char *ctl_rows_reason_label(const struct rules *rules, const char *reason)
{
	static const struct {
		const char *reason, *label;
	} builtin[] = {{"no_reply", "未回复"}, {"slow", "响应慢"}, {"other", "其他"}};

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strcmp(reason, builtin[i].reason) == 0)
			return builtin[i].label;
	for (unsigned i = 0; rules != NULL && i < rules_count(rules); i++)
		if (strcmp(reason, rules_reason(rules, i)) == 0)
			return rules_label(rules, i);
	return NULL;
}

static void json_percentile(struct ctl_json *j, const char *key, const int64_t *histogram,
                            unsigned percent)
{
	struct scoreboard_percentile p;

	scoreboard_percentile(histogram, percent, &p);
	if (!p.present)
		return;
	ctl_json_open(j, key, '{');
	if (p.upper_ms == INT64_MAX)
		ctl_json_int(j, "gt_ms", p.lower_ms);
	else
		ctl_json_int(j, "le_ms", p.upper_ms);
	ctl_json_close(j, '}');
}

static void json_histogram(struct ctl_json *j, const char *key, const int64_t *histogram)
{
	char bound[24];
	int opened = 0;

	for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
		if (histogram[i] == 0)
			continue;
		if (!opened)
			ctl_json_open(j, key, '{');
		opened = 1;
		if (i == HISTOGRAM_BUCKETS - 1)
			snprintf(bound, sizeof(bound), "inf");
		else
			snprintf(bound, sizeof(bound), "%" PRId64, counters_bucket_upper(i));
		ctl_json_int(j, bound, histogram[i]);
	}
	if (opened)
		ctl_json_close(j, '}');
}

/* A row's numbers: counters, derived values (absent when their denominator is 0,
 * as in reference.md §3), percentiles (absent without samples), lost reasons most first. */
void ctl_rows_json_members(struct ctl_json *j, const struct reasons *reasons,
                           const struct ctl_row *row)
{
	struct scoreboard_reason ranked[LIMIT_REASONS];
	const int64_t *v = row->value;
	unsigned n = scoreboard_rank_reasons(v, reasons, ranked, LIMIT_REASONS);
	struct derived d;
	char text[32];

	counters_derive(v, &d);
	ctl_json_text(j, "agent", row->name);
	if (row->as_of[0] != '\0')
		ctl_json_text(j, "as_of", row->as_of);
	ctl_json_int(j, "inquiries", v[COUNTER_INQUIRIES]);
	ctl_json_int(j, "post_sale", v[COUNTER_POST_SALE]);
	ctl_json_int(j, "replied", v[COUNTER_REPLIED]);
	ctl_json_int(j, "no_reply", v[COUNTER_NO_REPLY]);
	ctl_json_int(j, "unanswered", v[COUNTER_UNANSWERED]);
	ctl_json_int(j, "first_responses", v[COUNTER_FIRST_RESPONSES]);
	if (d.has_frt_avg)
		ctl_json_int(j, "frt_avg_ms", d.frt_avg_ms);
	json_percentile(j, "frt_p50", v + COUNTER_FRT_H, 50);
	json_percentile(j, "frt_p90", v + COUNTER_FRT_H, 90);
	ctl_json_int(j, "frt_breaches", v[COUNTER_FRT_BREACHES]);
	ctl_json_int(j, "responses", v[COUNTER_RESPONSES]);
	if (d.has_art_avg)
		ctl_json_int(j, "art_avg_ms", d.art_avg_ms);
	json_percentile(j, "art_p50", v + COUNTER_RESP_H, 50);
	json_percentile(j, "art_p90", v + COUNTER_RESP_H, 90);
	ctl_json_int(j, "response_breaches", v[COUNTER_RESPONSE_BREACHES]);
	if (d.has_reply_rate)
		ctl_json_e4(j, "reply_rate", d.reply_rate_e4);
	ctl_json_int(j, "orders", v[COUNTER_ORDERS]);
	ctl_json_int(j, "ordered", v[COUNTER_ORDERED]);
	if (d.has_conversion)
		ctl_json_e4(j, "conversion", d.conversion_e4);
	ctl_json_int(j, "payments", v[COUNTER_PAYMENTS]);
	ctl_json_int(j, "paid", v[COUNTER_PAID]);
	if (d.has_pay_conversion)
		ctl_json_e4(j, "pay_conversion", d.pay_conversion_e4);
	ctl_json_int(j, "sales_fen", v[COUNTER_SALES_FEN]);
	if (d.has_aov)
		ctl_json_number(j, "aov", counters_format_fen(d.aov_fen, text, 32));
	if (row->name[0] == '*' && row->name[1] == '\0') {
		ctl_json_int(j, "silent_orders", v[COUNTER_SILENT_ORDERS]);
		ctl_json_int(j, "silent_sales_fen", v[COUNTER_SILENT_SALES_FEN]);
	}
	ctl_json_int(j, "lost", v[COUNTER_LOST]);
	ctl_json_open(j, "lost_reasons", '{');
	for (unsigned i = 0; i < n; i++)
		ctl_json_int(j, reasons->names[ranked[i].id], ranked[i].count);
	ctl_json_close(j, '}');
	json_histogram(j, "frt_h", v + COUNTER_FRT_H);
	json_histogram(j, "resp_h", v + COUNTER_RESP_H);
}

void ctl_rows_json(struct ctl_json *j, const char *key, const struct reasons *reasons,
                   const struct ctl_row *row, int with_alert)
{
	ctl_json_open(j, key, '{');
	ctl_rows_json_members(j, reasons, row);
	if (with_alert)
		ctl_json_alert(j, "alert", row->alert, row->alert_len);
	ctl_json_close(j, '}');
}

void ctl_rows_json_text(struct ctl_json *j, const char *key, const int64_t *value)
{
	struct ctl_row_text t;

	ctl_rows_text(value, &t);
	ctl_json_open(j, key, '{');
	ctl_json_text(j, "frt_avg", t.frt_avg);
	ctl_json_text(j, "frt_p50", t.frt_p50);
	ctl_json_text(j, "frt_p90", t.frt_p90);
	ctl_json_text(j, "art_avg", t.art_avg);
	ctl_json_text(j, "art_p50", t.art_p50);
	ctl_json_text(j, "art_p90", t.art_p90);
	ctl_json_text(j, "reply", t.reply);
	ctl_json_text(j, "conversion", t.conversion);
	ctl_json_text(j, "pay_conversion", t.pay_conversion);
	ctl_json_text(j, "aov", t.aov);
	ctl_json_text(j, "sales", t.sales);
	ctl_json_close(j, '}');
}

void ctl_rows_json_reasons(struct ctl_json *j, const char *key, const struct reasons *reasons,
                           const struct rules *rules, const int64_t *value)
{
	struct scoreboard_reason ranked[LIMIT_REASONS];
	unsigned n = scoreboard_rank_reasons(value, reasons, ranked, LIMIT_REASONS);
	int64_t lost = 0;

	for (unsigned i = 0; i < n; i++)
		lost += ranked[i].count;
	ctl_json_open(j, key, '[');
	for (unsigned i = 0; i < n; i++) {
		const char *reason = reasons->names[ranked[i].id];
		const char *label = ctl_rows_reason_label(rules, reason);
		ctl_json_open(j, NULL, '{');
		ctl_json_text(j, "reason", reason);
		if (label != NULL)
			ctl_json_text(j, "label", label);
		ctl_json_int(j, "count", ranked[i].count);
		ctl_json_e4(j, "share", scoreboard_ratio_e4(ranked[i].count, lost));
		ctl_json_close(j, '}');
	}
	ctl_json_close(j, ']');
}

void ctl_rows_json_alerts(struct ctl_json *j, const char *key, const struct ctl_alert *alerts,
                          size_t count)
{
	ctl_json_open(j, key, '[');
	for (size_t i = 0; i < count; i++) {
		ctl_json_open(j, NULL, '{');
		if (alerts[i].id != NULL)
			ctl_json_text(j, "id", alerts[i].id);
		if (alerts[i].shop != NULL) {
			ctl_json_text(j, "shop", alerts[i].shop);
			ctl_json_text(j, "agent", alerts[i].agent);
		}
		ctl_json_alert(j, "alert", alerts[i].json, alerts[i].json_len);
		ctl_json_close(j, '}');
	}
	ctl_json_close(j, ']');
}
