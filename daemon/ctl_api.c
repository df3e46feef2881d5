/*
 * ctl_api.c owns the answers of the dashboard's JSON API: which keys each one reads
 * (in one pipelined round trip per kind of key, never KEYS), how many rows it may
 * hold, and its JSON shape. The numbers are those of chatlogctl top: the same reads
 * (ctl_redis.c) and the same cells (ctl_rows.c). Parameters are checked here;
 * access, HTTP and the event loop are ctl_serve.c's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "chatlogd/decimal.h"
#include "chatlogd/assess.h"
#include "chatlogd/counters.h"
#include "chatlogd/ctl_api.h"
#include "chatlogd/ctl_json.h"
#include "chatlogd/ctl_redis.h"
#include "chatlogd/ctl_rows.h"
#include "chatlogd/limits.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"
#include "chatlogd/windows.h"

#define API_DEFAULT_SHOPS 100
/* Minutes scanned to find a local day's minutes: the widest UTC offsets (-12 h,
 * +14 h) around a day of 25 hours (a DST change). */
#define API_MINUTE_SCAN ((14 + 25 + 12) * 60)

/* What a request asks about: a period (a window or a day) and a shop, maybe an agent. */
struct api_request {
	const struct ctl_api *api;
	const struct evkeyvalq *query;
	int64_t now_ms;
	FILE *out;
	const char *window; /* NULL: the day */
	int64_t day;        /* days since 1970 */
	char day_key[9];    /* YYYYMMDD */
	char day_label[11]; /* YYYY-MM-DD */
	char suffix[24];    /* "w:1h" or "d:YYYYMMDD" */
	char **shops;       /* PREFIX:shops, sorted */
	size_t shop_count;
	const char *shop; /* the shop parameter, checked to be in shops */
};

static const char *param(const struct api_request *r, const char *name)
{
	const char *value = evhttp_find_header(r->query, name);

	return value != NULL && value[0] != '\0' ? value : NULL;
}

static int api_error(const struct api_request *r, int status, const char *message)
{
	struct ctl_json j;

	ctl_json_init(&j, r->out);
	ctl_json_open(&j, NULL, '{');
	ctl_json_text(&j, "error", message);
	ctl_json_close(&j, '}');
	return status;
}

static int redis_failed(const struct api_request *r)
{
	return api_error(r, 503, "Redis did not answer (see chatlogctl serve's log)");
}

/* The day parameter (YYYY-MM-DD), or today in `timezone`. -1 for a bad one. */
static int parse_day_param(struct api_request *r)
{
	const char *text = param(r, "day");
	char key[9];

	if (text == NULL) {
		timefmt_day_key(r->now_ms, key);
		snprintf(r->day_label, sizeof(r->day_label), "%.4s-%.2s-%.2s", key, key + 4,
		         key + 6);
		text = r->day_label;
	}
	if (strlen(text) != 10 || assess_parse_day(text, &r->day) == -1 || r->day < 0)
		return -1;
	assess_day_text(r->day, r->day_label);
	snprintf(r->day_key, sizeof(r->day_key), "%.4s%.2s%.2s", r->day_label, r->day_label + 5,
	         r->day_label + 8);
	return 0;
}

/* period=day (the default) or a window; sets the key suffix. -1 for a bad one. */
static int parse_period(struct api_request *r)
{
	const char *period = param(r, "period");

	if (parse_day_param(r) == -1)
		return -1;
	if (period == NULL || strcmp(period, "day") == 0) {
		snprintf(r->suffix, sizeof(r->suffix), "d:%s", r->day_key);
		return 0;
	}
	for (size_t i = 0; i < WINDOW_COUNT; i++)
		if (strcmp(period, windows_name(i)) == 0) {
			r->window = windows_name(i);
			snprintf(r->suffix, sizeof(r->suffix), "w:%s", r->window);
			return 0;
		}
	return -1;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(const char *const *)b);
}

/* Reads the shops; with need_shop, the shop parameter must be one of them. Returns
 * 0, or the status of the answer already written. */
static int load_shops(struct api_request *r, int need_shop)
{
	const char *shop = param(r, "shop");

	if (ctl_redis_shops(r->api->redis, NULL, &r->shops, &r->shop_count) == -1)
		return redis_failed(r);
	if (!need_shop)
		return 0;
	if (shop == NULL)
		return api_error(r, 400, "shop is missing");
	if (bsearch(&shop, r->shops, r->shop_count, sizeof(*r->shops), compare_names) == NULL)
		return api_error(r, 404, "no such shop");
	r->shop = shop;
	return 0;
}

/* A row as the page takes it: ctl_rows' members, the cells as `top` prints them
 * under "text", and with with_alert the active alert. */
static void page_row(struct ctl_json *j, const char *key, const struct api_request *r,
                     const struct ctl_row *row, int with_alert)
{
	ctl_json_open(j, key, '{');
	ctl_rows_json_members(j, ctl_redis_reasons(r->api->redis), row);
	ctl_rows_json_text(j, "text", row->value);
	if (with_alert)
		ctl_json_alert(j, "alert", row->alert, row->alert_len);
	ctl_json_close(j, '}');
}

static void period_members(struct ctl_json *j, const struct api_request *r)
{
	ctl_json_text(j, "period", r->window != NULL ? r->window : "day");
	if (r->window == NULL)
		ctl_json_text(j, "day", r->day_label);
}

static void row_add(struct ctl_row *sum, const struct ctl_row *row)
{
	for (size_t i = 0; i < COUNTER_WIDTH; i++)
		sum->value[i] += row->value[i];
}

/* ---- /api/overview: every shop's own row, busiest first ---- */

struct shop_line {
	const char *name;
	const struct ctl_row *row;
	size_t alerts;
};

static int compare_lines(const void *a, const void *b)
{
	const struct shop_line *x = a, *y = b;
	int64_t xi = x->row->value[COUNTER_INQUIRIES], yi = y->row->value[COUNTER_INQUIRIES];

	if (xi != yi)
		return xi > yi ? -1 : 1;
	return strcmp(x->name, y->name);
}

static long number_param(const struct api_request *r, const char *name, long fallback, long max)
{
	const char *text = param(r, name);
	uint64_t n;

	if (text == NULL)
		return fallback;
	return decimal_parse(text, strlen(text), (uint64_t)max, &n) == -1 ? -1 : (long)n;
}

static int answer_overview(struct api_request *r)
{
	long offset = number_param(r, "offset", 0, 1000000000L);
	long limit = number_param(r, "limit", API_DEFAULT_SHOPS, LIMIT_DASHBOARD_SHOPS);
	struct ctl_row *rows, all;
	struct shop_line *lines;
	struct ctl_alert *alerts = NULL;
	size_t alert_count = 0, a = 0;
	struct ctl_json j;
	int rc;

	if (offset < 0 || limit < 0)
		return api_error(r, 400, "offset and limit must be counts (limit at most 500)");
	if ((rc = load_shops(r, 0)) != 0)
		return rc;
	rows = xcalloc(r->shop_count, sizeof(*rows));
	lines = xcalloc(r->shop_count, sizeof(*lines));
	if (ctl_redis_totals(r->api->redis, r->shops, r->shop_count, r->suffix, rows) == -1 ||
	    ctl_redis_active_alerts_of(r->api->redis, r->shops, r->shop_count, &alerts,
	                               &alert_count) == -1) {
		rc = redis_failed(r);
		goto done;
	}
	memset(&all, 0, sizeof(all));
	all.name = "*";
	for (size_t i = 0; i < r->shop_count; i++) {
		lines[i].name = r->shops[i];
		lines[i].row = &rows[i];
		/* alerts come by shop in the order of r->shops */
		for (; a < alert_count && strcmp(alerts[a].shop, r->shops[i]) == 0; a++)
			lines[i].alerts++;
		row_add(&all, &rows[i]);
		if (all.as_of[0] == '\0' || strcmp(rows[i].as_of, all.as_of) > 0)
			memcpy(all.as_of, rows[i].as_of, sizeof(all.as_of));
	}
	qsort(lines, r->shop_count, sizeof(*lines), compare_lines);
	ctl_json_init(&j, r->out);
	ctl_json_open(&j, NULL, '{');
	period_members(&j, r);
	ctl_json_int(&j, "shop_count", (int64_t)r->shop_count);
	ctl_json_int(&j, "offset", offset);
	ctl_json_int(&j, "limit", limit);
	ctl_json_int(&j, "active_alerts", (int64_t)alert_count);
	page_row(&j, "all", r, &all, 0);
	ctl_json_open(&j, "shops", '[');
	for (size_t i = (size_t)offset; i < r->shop_count && i < (size_t)(offset + limit); i++) {
		ctl_json_open(&j, NULL, '{');
		ctl_json_text(&j, "shop", lines[i].name);
		ctl_json_int(&j, "alerts", (int64_t)lines[i].alerts);
		page_row(&j, "total", r, lines[i].row, 0);
		ctl_json_close(&j, '}');
	}
	ctl_json_close(&j, ']');
	ctl_json_close(&j, '}');
	rc = 200;
done:
	for (size_t i = 0; i < r->shop_count; i++)
		ctl_row_free(&rows[i]);
	free(rows);
	free(lines);
	ctl_alerts_free(alerts, alert_count);
	return rc;
}

/* ---- /api/shop: the shop's scoreboard, as top shows it ---- */

static int answer_shop(struct api_request *r)
{
	struct ctl_shop shop;
	struct ctl_json j;
	int rc;

	if ((rc = load_shops(r, 1)) != 0)
		return rc;
	if (ctl_redis_shop(r->api->redis, r->shop, r->suffix, 1, &shop) == -1) {
		ctl_shop_free(&shop);
		return redis_failed(r);
	}
	ctl_json_init(&j, r->out);
	ctl_json_open(&j, NULL, '{');
	ctl_json_text(&j, "shop", shop.name);
	period_members(&j, r);
	ctl_json_open(&j, "agents", '[');
	for (size_t i = 0; i < shop.agent_count; i++)
		page_row(&j, NULL, r, &shop.agents[i], 1);
	ctl_json_close(&j, ']');
	page_row(&j, "total", r, &shop.total, 0);
	ctl_rows_json_reasons(&j, "lost_reasons", ctl_redis_reasons(r->api->redis), r->api->labels,
	                      shop.total.value);
	ctl_json_close(&j, '}');
	ctl_shop_free(&shop);
	return 200;
}

/* ---- /api/trend: the day minute by minute ---- */

/* The UTC minutes (epoch ms) of the local day r->day_key that have begun by now_ms,
 * into minutes (room for API_MINUTE_SCAN). Returns how many. */
static size_t day_minutes(const struct api_request *r, int64_t *minutes)
{
	int64_t start = r->day * 86400000LL - 14 * 3600000LL;
	size_t n = 0;
	char key[9];

	for (int i = 0; i < API_MINUTE_SCAN; i++) {
		int64_t ms = start + (int64_t)i * 60000;
		int cmp;
		if (ms > r->now_ms)
			break;
		timefmt_day_key(ms, key);
		if ((cmp = strcmp(key, r->day_key)) > 0)
			break;
		if (cmp == 0)
			minutes[n++] = ms;
	}
	return n;
}

/* A derived ratio as a JSON number, or null. */
static void ratio_or_null(struct ctl_json *j, int has, int64_t e4)
{
	if (has)
		ctl_json_e4(j, NULL, e4);
	else
		ctl_json_number(j, NULL, "null");
}

static void int_or_null(struct ctl_json *j, int has, int64_t value)
{
	if (has)
		ctl_json_int(j, NULL, value);
	else
		ctl_json_number(j, NULL, "null");
}

static int answer_trend(struct api_request *r)
{
	const char *agent = param(r, "agent");
	int64_t *minutes = xcalloc(API_MINUTE_SCAN, sizeof(*minutes));
	char(*suffixes)[16] = NULL;
	const char **list = NULL;
	struct ctl_row *rows = NULL;
	struct ctl_json j;
	size_t n;
	int rc, found;

	if ((rc = load_shops(r, 1)) != 0)
		goto done;
	if (agent == NULL)
		agent = "*";
	if ((found = ctl_redis_agent_in_shop(r->api->redis, r->shop, agent)) != 1) {
		rc = found == 0 ? api_error(r, 404, "no such agent in this shop") : redis_failed(r);
		goto done;
	}
	n = day_minutes(r, minutes);
	suffixes = xcalloc(n, sizeof(*suffixes));
	list = xcalloc(n, sizeof(*list));
	rows = xcalloc(n, sizeof(*rows));
	for (size_t i = 0; i < n; i++) {
		char key[13];
		timefmt_minute_key(minutes[i], key);
		snprintf(suffixes[i], sizeof(suffixes[i]), "m:%s", key);
		list[i] = suffixes[i];
	}
	if (ctl_redis_rows(r->api->redis, r->shop, agent, list, n, rows) == -1) {
		rc = redis_failed(r);
		goto done;
	}
	ctl_json_init(&j, r->out);
	ctl_json_open(&j, NULL, '{');
	ctl_json_text(&j, "shop", r->shop);
	ctl_json_text(&j, "agent", agent);
	ctl_json_text(&j, "day", r->day_label);
	ctl_json_text(&j, "timezone", r->api->timezone);
	ctl_json_open(&j, "columns", '[');
	static const char *const columns[] = {"t_ms",       "inquiries",  "post_sale",
	                                      "frt_avg_ms", "art_avg_ms", "reply_rate",
	                                      "conversion", "unanswered", "frt_breaches"};
	for (size_t c = 0; c < sizeof(columns) / sizeof(*columns); c++)
		ctl_json_text(&j, NULL, columns[c]);
	ctl_json_close(&j, ']');
	ctl_json_open(&j, "points", '[');
	for (size_t i = 0; i < n; i++) {
		const int64_t *v = rows[i].value;
		struct derived d;
		counters_derive(v, &d);
		ctl_json_open(&j, NULL, '[');
		ctl_json_int(&j, NULL, minutes[i]);
		ctl_json_int(&j, NULL, v[COUNTER_INQUIRIES]);
		ctl_json_int(&j, NULL, v[COUNTER_POST_SALE]);
		int_or_null(&j, d.has_frt_avg, d.frt_avg_ms);
		int_or_null(&j, d.has_art_avg, d.art_avg_ms);
		ratio_or_null(&j, d.has_reply_rate, d.reply_rate_e4);
		ratio_or_null(&j, d.has_conversion, d.conversion_e4);
		ctl_json_int(&j, NULL, v[COUNTER_UNANSWERED]);
		ctl_json_int(&j, NULL, v[COUNTER_FRT_BREACHES]);
		ctl_json_close(&j, ']');
	}
	ctl_json_close(&j, ']');
	ctl_json_close(&j, '}');
	rc = 200;
done:
	for (size_t i = 0; rows != NULL && i < n; i++)
		ctl_row_free(&rows[i]);
	free(rows);
	free(list);
	free(suffixes);
	free(minutes);
	return rc;
}

/* ---- /api/agent: one agent's windows, day and month ---- */

static int answer_agent(struct api_request *r)
{
	const char *agent = param(r, "agent");
	struct ctl_row periods[WINDOW_COUNT + 1], alert_row, *days = NULL, month;
	char(*day_suffixes)[16] = NULL, month_label[8];
	const char **day_list = NULL;
	struct ctl_periods p;
	int64_t first = r->day - (atoi(r->day_label + 8) - 1); /* the 1st of the month */
	size_t day_count = (size_t)(r->day - first + 1);
	struct ctl_json j;
	int rc, found;

	memset(periods, 0, sizeof(periods));
	memset(&alert_row, 0, sizeof(alert_row));
	memset(&month, 0, sizeof(month));
	if ((rc = load_shops(r, 1)) != 0)
		return rc;
	if (agent == NULL)
		return api_error(r, 400, "agent is missing");
	if ((found = ctl_redis_agent_in_shop(r->api->redis, r->shop, agent)) != 1)
		return found == 0 ? api_error(r, 404, "no such agent in this shop")
		                  : redis_failed(r);
	ctl_periods_init(&p, r->day_key);
	day_suffixes = xcalloc(day_count, sizeof(*day_suffixes));
	day_list = xcalloc(day_count, sizeof(*day_list));
	days = xcalloc(day_count, sizeof(*days));
	for (size_t i = 0; i < day_count; i++) {
		char label[11];
		assess_day_text(first + (int64_t)i, label);
		snprintf(day_suffixes[i], sizeof(day_suffixes[i]), "d:%.4s%.2s%.2s", label,
		         label + 5, label + 8);
		day_list[i] = day_suffixes[i];
	}
	if (ctl_redis_agent(r->api->redis, r->shop, agent, p.list, CTL_PERIODS, periods,
	                    &alert_row) == -1 ||
	    ctl_redis_rows(r->api->redis, r->shop, agent, day_list, day_count, days) == -1) {
		rc = redis_failed(r);
		goto done;
	}
	month.name = alert_row.name; /* borrowed for the JSON's "agent" */
	for (size_t i = 0; i < day_count; i++)
		row_add(&month, &days[i]);
	snprintf(month_label, sizeof(month_label), "%.7s", r->day_label);
	ctl_json_init(&j, r->out);
	ctl_json_open(&j, NULL, '{');
	ctl_json_text(&j, "shop", r->shop);
	ctl_json_text(&j, "agent", agent);
	ctl_json_text(&j, "day", r->day_label);
	ctl_json_text(&j, "month", month_label);
	ctl_json_alert(&j, "alert", alert_row.alert, alert_row.alert_len);
	ctl_json_open(&j, "windows", '{');
	for (size_t w = 0; w < WINDOW_COUNT; w++)
		page_row(&j, windows_name(w), r, &periods[w], 0);
	ctl_json_close(&j, '}');
	page_row(&j, "today", r, &periods[WINDOW_COUNT], 0);
	page_row(&j, "month_total", r, &month, 0);
	ctl_json_open(&j, "days", '[');
	for (size_t i = 0; i < day_count; i++) {
		char label[11];
		assess_day_text(first + (int64_t)i, label);
		ctl_json_open(&j, NULL, '{');
		ctl_json_text(&j, "day", label);
		page_row(&j, "row", r, &days[i], 0);
		ctl_json_close(&j, '}');
	}
	ctl_json_close(&j, ']');
	ctl_rows_json_reasons(&j, "day_lost_reasons", ctl_redis_reasons(r->api->redis),
	                      r->api->labels, periods[WINDOW_COUNT].value);
	ctl_rows_json_reasons(&j, "month_lost_reasons", ctl_redis_reasons(r->api->redis),
	                      r->api->labels, month.value);
	ctl_json_close(&j, '}');
	rc = 200;
done:
	for (size_t w = 0; w <= WINDOW_COUNT; w++)
		ctl_row_free(&periods[w]);
	ctl_row_free(&alert_row);
	for (size_t i = 0; days != NULL && i < day_count; i++)
		ctl_row_free(&days[i]);
	free(days);
	free(day_list);
	free(day_suffixes);
	return rc;
}

/* ---- /api/alerts: active alerts of every shop and the latest of the log ---- */

static int answer_alerts(struct api_request *r)
{
	struct ctl_alert *active = NULL, *recent = NULL;
	size_t active_count = 0, recent_count = 0;
	struct ctl_json j;
	char last_id[64];
	int rc;

	if ((rc = load_shops(r, 0)) != 0)
		return rc;
	if (ctl_redis_active_alerts_of(r->api->redis, r->shops, r->shop_count, &active,
	                               &active_count) == -1 ||
	    ctl_redis_recent_alerts(r->api->redis, LIMIT_DASHBOARD_RECENT_ALERTS, &recent,
	                            &recent_count, last_id, sizeof(last_id)) == -1) {
		rc = redis_failed(r);
		goto done;
	}
	ctl_json_init(&j, r->out);
	ctl_json_open(&j, NULL, '{');
	ctl_json_number(&j, "live", r->api->alerts_live ? "true" : "false");
	ctl_rows_json_alerts(&j, "active", active, active_count);
	ctl_rows_json_alerts(&j, "recent", recent, recent_count);
	ctl_json_close(&j, '}');
	rc = 200;
done:
	ctl_alerts_free(active, active_count);
	ctl_alerts_free(recent, recent_count);
	return rc;
}

int ctl_api_answer(const struct ctl_api *api, const char *path, const struct evkeyvalq *query,
                   int64_t now_ms, FILE *out)
{
	static const struct {
		const char *path;
		int (*answer)(struct api_request *r);
		int period; /* takes period= (and day=); else only day= */
	} routes[] = {
	    {"/api/overview", answer_overview, 1}, {"/api/shop", answer_shop, 1},
	    {"/api/trend", answer_trend, 0},       {"/api/agent", answer_agent, 0},
	    {"/api/alerts", answer_alerts, 0},
	};
	struct api_request r = {.api = api, .query = query, .now_ms = now_ms, .out = out};
	int rc = 0;

	for (size_t i = 0; i < sizeof(routes) / sizeof(*routes); i++) {
		if (strcmp(path, routes[i].path) != 0)
			continue;
		if (routes[i].period ? parse_period(&r) == -1 : parse_day_param(&r) == -1)
			rc = api_error(&r, 400,
			               "day must be a date YYYY-MM-DD and period one of day 1m "
			               "5m 15m 1h 24h");
		else
			rc = routes[i].answer(&r);
		break;
	}
	ctl_strings_free(r.shops, r.shop_count);
	return rc;
}
