/*
 * Counter rows read back from Redis as people and programs see them, written once for
 * every chatlogctl output: the cells of the scoreboard (the text `top` prints and the
 * dashboard shows), the JSON of a row (`--json` and the dashboard's API), lost
 * reasons with their labels and shares, and lists of alerts. Part of the chatlogctl
 * program only; the numbers themselves come from counters.c and scoreboard.c.
 */
#ifndef CHATLOGD_CTL_ROWS_H
#define CHATLOGD_CTL_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "reasons.h"

struct ctl_alert;
struct ctl_json;
struct ctl_row;
struct rules;

/* The scoreboard's cells of one row, as `chatlogctl top` prints them ("12.5s",
 * "<=8s", ">300s", "37.3%", "128.00"; "-" when there is nothing to show). */
struct ctl_row_text {
	char frt_avg[16], frt_p50[16], frt_p90[16];
	char art_avg[16], art_p50[16], art_p90[16];
	char reply[16], conversion[16], pay_conversion[16];
	char aov[32], sales[32];
};

void ctl_rows_text(const int64_t *value, struct ctl_row_text *out);

/* A lost reason's label: the built-in ones (未回复, 响应慢, 其他), then the patterns
 * file's (rules may be NULL); NULL when it has none. */
const char *ctl_rows_reason_label(const struct rules *rules, const char *reason);

/* A row's members (docs/chatlogctl.md, --json): counters, derived values,
 * percentiles, lost reasons named from reasons (the registry the row was read
 * with), histograms. */
void ctl_rows_json_members(struct ctl_json *j, const struct reasons *reasons,
                           const struct ctl_row *row);

/* The row as an object under key; with_alert adds its active alert (or null). */
void ctl_rows_json(struct ctl_json *j, const char *key, const struct reasons *reasons,
                   const struct ctl_row *row, int with_alert);

/* The cells of ctl_rows_text as an object under key. */
void ctl_rows_json_text(struct ctl_json *j, const char *key, const int64_t *value);

/* The lost-reason breakdown of value, most first: [{"reason", "label", "count",
 * "share"}], share of all lost to 4 decimals. */
void ctl_rows_json_reasons(struct ctl_json *j, const char *key, const struct reasons *reasons,
                           const struct rules *rules, const int64_t *value);

/* Alerts as [{"id"?, "shop"?, "agent"?, "alert"}]. */
void ctl_rows_json_alerts(struct ctl_json *j, const char *key, const struct ctl_alert *alerts,
                          size_t count);

#endif
