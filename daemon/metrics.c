/*
 * metrics.c owns the Prometheus text format of /metrics: names, help texts, label
 * escaping and histogram layout. It knows nothing of where the numbers come from.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "chatlogd/metrics.h"

/* Label values may hold anything (file paths, Chinese names): escape \, " and \n. */
static void label_value(struct evbuffer *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(out, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, s, 1);
	}
}

static void header(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void plain(struct evbuffer *out, const char *name, const char *type, const char *help,
                  double value)
{
	header(out, name, type, help);
	evbuffer_add_printf(out, "%s %.15g\n", name, value);
}

/* shop="..." and, for an agent's row, ,agent="..." */
static void row_labels(struct evbuffer *out, const struct metrics_snapshot *m,
                       const struct counter_row *row)
{
	evbuffer_add(out, "shop=\"", 6);
	label_value(out, names_get(m->names, row->shop));
	if (row->agent != NAME_WHOLE_SHOP) {
		evbuffer_add(out, "\",agent=\"", 9);
		label_value(out, names_get(m->names, row->agent));
	}
	evbuffer_add(out, "\"", 1);
}

/* One agent's histogram from the §3.1 buckets (cumulative, in seconds). */
static void histogram_row(struct evbuffer *out, const struct metrics_snapshot *m,
                          const struct counter_row *row, const char *name, unsigned first_bucket,
                          enum counter_id sum_id, enum counter_id count_id)
{
	int64_t cumulative = 0;

	for (unsigned b = 0; b < HISTOGRAM_BUCKETS; b++) {
		cumulative += row->value[first_bucket + b];
		evbuffer_add_printf(out, "%s_bucket{", name);
		row_labels(out, m, row);
		if (b == HISTOGRAM_BUCKETS - 1)
			evbuffer_add_printf(out, ",le=\"+Inf\"} %" PRId64 "\n", cumulative);
		else
			evbuffer_add_printf(out, ",le=\"%g\"} %" PRId64 "\n",
			                    (double)counters_bucket_upper(b) / 1000, cumulative);
	}
	evbuffer_add_printf(out, "%s_sum{", name);
	row_labels(out, m, row);
	evbuffer_add_printf(out, "} %.3f\n", (double)row->value[sum_id] / 1000);
	evbuffer_add_printf(out, "%s_count{", name);
	row_labels(out, m, row);
	evbuffer_add_printf(out, "} %" PRId64 "\n", row->value[count_id]);
}

/* An agent's average gauge (seconds), when it has samples. */
static void average_row(struct evbuffer *out, const struct metrics_snapshot *m,
                        const struct counter_row *row, const char *name, enum counter_id sum_id,
                        enum counter_id count_id)
{
	if (row->value[count_id] == 0)
		return;
	evbuffer_add_printf(out, "%s{", name);
	row_labels(out, m, row);
	evbuffer_add_printf(out, "} %.3f\n",
	                    (double)row->value[sum_id] / (double)row->value[count_id] / 1000);
}

/*
 * Each shop's business counters since start, summed over its rows: a fixed set of
 * series per shop (and one per lost reason it has), so a Prometheus scraping many
 * shops holds about twenty series each, fewer than one agent's histograms. Rates
 * and ratios (conversion, reply rate, average first response) are left to the query
 * (docs/grafana/chatlogd.json): counters stay exact and summable across restarts.
 */
static const struct {
	const char *name, *help;
	enum counter_id id;
	int fen_or_ms; /* 100: fen shown in yuan; 1000: ms shown in seconds */
} shop_series[] = {
    {"chatlogd_shop_inquiries_total", "Pre-sale inquiries (询单) per shop.", COUNTER_INQUIRIES, 0},
    {"chatlogd_shop_post_sale_total", "Post-sale conversations (售后) per shop.", COUNTER_POST_SALE,
     0},
    {"chatlogd_shop_replied_total", "Conversations that got a response, per shop.", COUNTER_REPLIED,
     0},
    {"chatlogd_shop_no_reply_total", "Conversations closed without any response, per shop.",
     COUNTER_NO_REPLY, 0},
    {"chatlogd_shop_first_responses_total", "First responses per shop.", COUNTER_FIRST_RESPONSES,
     0},
    {"chatlogd_shop_first_response_seconds_total", "Sum of first-response times per shop.",
     COUNTER_FRT_MS_SUM, 1000},
    {"chatlogd_shop_first_response_breaches_total", "First responses over frt_target_ms per shop.",
     COUNTER_FRT_BREACHES, 0},
    {"chatlogd_shop_responses_total", "Responses per shop.", COUNTER_RESPONSES, 0},
    {"chatlogd_shop_response_seconds_total", "Sum of response times per shop.",
     COUNTER_RESPONSE_MS_SUM, 1000},
    {"chatlogd_shop_response_breaches_total", "Responses over art_target_ms per shop.",
     COUNTER_RESPONSE_BREACHES, 0},
    {"chatlogd_shop_ordered_inquiries_total", "Inquiries that led to an order, per shop.",
     COUNTER_ORDERED, 0},
    {"chatlogd_shop_paid_inquiries_total", "Inquiries that led to a payment, per shop.",
     COUNTER_PAID, 0},
    {"chatlogd_shop_orders_total", "Orders counted for inquiries, per shop.", COUNTER_ORDERS, 0},
    {"chatlogd_shop_payments_total", "Payments counted for inquiries, per shop.", COUNTER_PAYMENTS,
     0},
    {"chatlogd_shop_sales_yuan_total", "Sales paid after inquiries, in yuan, per shop.",
     COUNTER_SALES_FEN, 100},
    {"chatlogd_shop_silent_orders_total", "Orders without an inquiry (静默下单) per shop.",
     COUNTER_SILENT_ORDERS, 0},
    {"chatlogd_shop_silent_sales_yuan_total", "Sales paid without an inquiry, in yuan, per shop.",
     COUNTER_SILENT_SALES_FEN, 100},
    {"chatlogd_shop_lost_inquiries_total",
     "Inquiries lost (询单流失), decided when their order window passed, per shop.", COUNTER_LOST,
     0},
};

static void shop_label(struct evbuffer *out, const struct metrics_snapshot *m,
                       const struct counter_row *row)
{
	evbuffer_add(out, "shop=\"", 6);
	label_value(out, names_get(m->names, row->shop));
	evbuffer_add(out, "\"", 1);
}

/* value as a decimal of unit (100 fen in a yuan, 1000 ms in a second), exactly. */
static void exact_decimal(struct evbuffer *out, int64_t value, int unit)
{
	if (unit == 100)
		evbuffer_add_printf(out, "%" PRId64 ".%02" PRId64, value / 100, value % 100);
	else if (unit == 1000)
		evbuffer_add_printf(out, "%" PRId64 ".%03" PRId64, value / 1000, value % 1000);
	else
		evbuffer_add_printf(out, "%" PRId64, value);
}

static void shop_series_row(struct evbuffer *out, const struct metrics_snapshot *m,
                            const struct counter_row *row, size_t series)
{
	evbuffer_add_printf(out, "%s{", shop_series[series].name);
	shop_label(out, m, row);
	evbuffer_add(out, "} ", 2);
	exact_decimal(out, row->value[shop_series[series].id], shop_series[series].fen_or_ms);
	evbuffer_add(out, "\n", 1);
}

/* A shop's lost inquiries by reason: only the reasons it has. */
static void lost_reasons_row(struct evbuffer *out, const struct metrics_snapshot *m,
                             const struct counter_row *row)
{
	for (unsigned r = 0; r < m->reasons->count; r++) {
		if (row->value[COUNTER_LOST_REASON + r] == 0)
			continue;
		evbuffer_add(out, "chatlogd_shop_lost_by_reason_total{", 35);
		shop_label(out, m, row);
		evbuffer_add(out, ",reason=\"", 9);
		label_value(out, m->reasons->names[r]);
		evbuffer_add_printf(out, "\"} %" PRId64 "\n", row->value[COUNTER_LOST_REASON + r]);
	}
}

static void per_file(struct evbuffer *out, const struct metrics_snapshot *m, const char *name,
                     const char *help, int bytes)
{
	header(out, name, "counter", help);
	for (size_t i = 0; i < m->file_count; i++) {
		evbuffer_add_printf(out, "%s{file=\"", name);
		label_value(out, m->files[i].path);
		evbuffer_add_printf(out, "\"} %" PRIu64 "\n",
		                    bytes ? m->files[i].bytes : m->files[i].lines);
	}
}

static int fold_row(struct counter_table *totals, const struct counter_row *row, uint32_t agent)
{
	struct counter_row *sum = counter_table_row(totals, row->shop, agent, 0);

	if (sum == NULL)
		return -1;
	for (int id = 0; id < COUNTER_WIDTH; id++)
		sum->value[id] += row->value[id];
	return 0;
}

int metrics_fold(struct counter_table *shop_totals, struct counter_table *agent_totals,
                 struct counter_table *cut)
{
	for (size_t i = 0; i < counter_table_count(cut); i++) {
		const struct counter_row *row = counter_table_at(cut, i);
		if (fold_row(shop_totals, row, NAME_WHOLE_SHOP) == -1 ||
		    (agent_totals != NULL && fold_row(agent_totals, row, row->agent) == -1))
			return -1;
	}
	return 0;
}

/* Everything before the per-shop series: a few dozen lines, whatever the shops. */
static void render_head(const struct metrics_snapshot *m, struct evbuffer *out)
{
	static const char *const alert_types[ALERT_TYPE_COUNT] = {"raised", "cleared", "waiting",
	                                                          "warning"};

	per_file(out, m, "chatlogd_file_lines_read_total", "Lines read from each followed file.",
	         0);
	per_file(out, m, "chatlogd_file_bytes_read_total", "Bytes read from each followed file.",
	         1);
	plain(out, "chatlogd_unreadable_files_total", "counter",
	      "Files found at start to hold lines that will never be read (a rotated file "
	      "deleted or compressed while chatlogd was stopped), each logged at err.",
	      (double)m->unreadable_files);
#ifdef __GLIBC__
	/* what the daemon holds, without what malloc keeps for reuse (RSS has both) */
	plain(out, "chatlogd_heap_in_use_bytes", "gauge", "Heap memory allocated and not freed.",
	      (double)mallinfo2().uordblks);
#endif
	plain(out, "chatlogd_skipped_paths_total", "counter",
	      "Paths an input pattern matched that are not followed (a directory, a symlink "
	      "loop or dangling symlink, not a regular file, cannot be opened), each logged "
	      "at warning once.",
	      (double)m->skipped_paths);
	plain(out, "chatlogd_input_lines_total", "counter", "Lines read, blank ones included.",
	      (double)m->input.lines);
	plain(out, "chatlogd_records_total", "counter", "Valid records processed.",
	      (double)m->input.records);
	plain(out, "chatlogd_parse_errors_total", "counter",
	      "Invalid lines counted, logged and skipped.", (double)m->input.errors);
	plain(out, "chatlogd_open_inquiries", "gauge",
	      "Inquiries held: open, or waiting for their order window.",
	      (double)m->held_inquiries);
	plain(out, "chatlogd_merge_late_records_total", "counter",
	      "Records that arrived after another input had released a later time: counted "
	      "where they arrived, which may differ from --once (docs/tailing.md).",
	      (double)m->merge.late);
	plain(out, "chatlogd_merge_forced_releases_total", "counter",
	      "Records released before the other inputs caught up because the merge held "
	      "its memory limit.",
	      (double)m->merge.forced);
	plain(out, "chatlogd_merge_held_records", "gauge",
	      "Records held back until no other input can deliver an earlier one.",
	      (double)m->merge.held_records);
	plain(out, "chatlogd_redis_connected", "gauge", "1 while the Redis connection is usable.",
	      m->redis_connected);
	if (m->redis_cluster) {
		header(
		    out, "chatlogd_redis_cluster_redirects_total", "counter",
		    "Redis Cluster replies followed: MOVED and ASK redirects, and TRYAGAIN, "
		    "CLUSTERDOWN, LOADING or MASTERDOWN (retry_later: the batch is sent again).");
		evbuffer_add_printf(
		    out, "chatlogd_redis_cluster_redirects_total{kind=\"moved\"} %" PRIu64 "\n",
		    m->cluster_moved);
		evbuffer_add_printf(
		    out, "chatlogd_redis_cluster_redirects_total{kind=\"asked\"} %" PRIu64 "\n",
		    m->cluster_asked);
		evbuffer_add_printf(out,
		                    "chatlogd_redis_cluster_redirects_total{kind=\"retry_later\"} "
		                    "%" PRIu64 "\n",
		                    m->cluster_retry_later);
		plain(out, "chatlogd_redis_cluster_refreshes_total", "counter",
		      "Slot maps (CLUSTER SLOTS) the Redis Cluster client took.",
		      (double)m->cluster_refreshes);
	}
	plain(out, "chatlogd_redis_backlog_rows", "gauge",
	      "Counter rows (shop, agent, minute) not yet in Redis.", (double)m->backlog_rows);
	plain(out, "chatlogd_pending_bytes", "gauge",
	      "Memory the counts not yet in Redis hold, as max_pending_bytes counts it (rows "
	      "not cut yet at what they cost once cut).",
	      (double)m->pending_bytes);
	plain(out, "chatlogd_pending_bytes_peak", "gauge",
	      "The most chatlogd_pending_bytes has been since start.",
	      (double)m->pending_bytes_peak);
	plain(out, "chatlogd_max_pending_bytes", "gauge",
	      "The max_pending_bytes setting: reading pauses past it.",
	      (double)m->max_pending_bytes);
	plain(out, "chatlogd_redis_backlog_batches", "gauge",
	      "Batches of the cut in flight not yet acknowledged.", (double)m->backlog_batches);
	header(out, "chatlogd_redis_batches_total", "counter",
	       "Batches acknowledged by Redis: applied, or skipped as already applied.");
	evbuffer_add_printf(out, "chatlogd_redis_batches_total{result=\"applied\"} %" PRIu64 "\n",
	                    m->batches_applied);
	evbuffer_add_printf(out, "chatlogd_redis_batches_total{result=\"skipped\"} %" PRIu64 "\n",
	                    m->batches_skipped);
	plain(out, "chatlogd_redis_batches_rejected_total", "counter",
	      "Batches Redis answered with an error (each is sent again).",
	      (double)m->batches_rejected);
	plain(out, "chatlogd_redis_batches_lost_total", "counter",
	      "Batches Redis had applied and then no longer had (restart without persistence, "
	      "FLUSHDB, failover): their counts are missing in Redis.",
	      (double)m->batches_lost);
	plain(out, "chatlogd_redis_shops_refused_total", "counter",
	      "Shops Redis left out of applied batches because another instance publishes "
	      "them (one daemon per shop): this daemon's counts of them are dropped.",
	      (double)m->shops_refused);
	plain(out, "chatlogd_flush_latency_seconds", "gauge",
	      "Time from the last cut to its acknowledgement by Redis.", m->last_flush_seconds);
	plain(out, "chatlogd_journal_failing", "gauge", "1 while the journal cannot be written.",
	      m->journal_failing);
	plain(out, "chatlogd_reading_paused", "gauge",
	      "1 while reading is paused by max_pending_bytes.", m->reading_paused);
	header(out, "chatlogd_alerts_total", "counter", "Alerts produced since start, by type.");
	for (int i = 0; i < ALERT_TYPE_COUNT; i++)
		evbuffer_add_printf(out, "chatlogd_alerts_total{type=\"%s\"} %" PRIu64 "\n",
		                    alert_types[i], m->alerts[i]);
	plain(out, "chatlogd_webhook_posts_delivered_total", "counter",
	      "Alert posts the webhook accepted.", (double)m->webhook.delivered);
	plain(out, "chatlogd_webhook_failed_attempts_total", "counter",
	      "Alert post attempts that failed and were retried (no answer, 3xx, 5xx, 429).",
	      (double)m->webhook.failed_attempts);
	header(out, "chatlogd_webhook_posts_dropped_total", "counter",
	       "Alert posts given up: pushed out of a full queue, or refused for good (4xx, robot "
	       "error code).");
	evbuffer_add_printf(
	    out, "chatlogd_webhook_posts_dropped_total{reason=\"overflow\"} %" PRIu64 "\n",
	    m->webhook.dropped_overflow);
	evbuffer_add_printf(
	    out, "chatlogd_webhook_posts_dropped_total{reason=\"rejected\"} %" PRIu64 "\n",
	    m->webhook.dropped_rejected);
	plain(out, "chatlogd_webhook_rate_limited_total", "counter",
	      "Alert post attempts a robot refused with its rate-limit code (retried later).",
	      (double)m->webhook.rate_limited);
	plain(out, "chatlogd_webhook_alerts_digested_total", "counter",
	      "Alerts held back by a robot's rate limit and counted in a digest message.",
	      (double)m->webhook.digested);
	plain(out, "chatlogd_webhook_digests_total", "counter",
	      "Digest messages queued for the robots.", (double)m->webhook.digests);
	plain(out, "chatlogd_webhook_escalated_total", "counter",
	      "Waiting alerts also sent to the escalation robot.", (double)m->webhook.escalated);
	plain(out, "chatlogd_webhook_queue_length", "gauge",
	      "Alert posts waiting for the webhook, the one being sent included.",
	      (double)m->webhook.queued);
}

/* The per-agent parts, in order: two histograms, then two averages. */
static const struct {
	const char *name, *help;
	int histogram;
	unsigned first_bucket;
	enum counter_id sum_id, count_id;
} agent_parts[] = {
    {"chatlogd_agent_first_response_seconds",
     "First responses since start, per agent, in the reference.md §3 buckets.", 1, COUNTER_FRT_H,
     COUNTER_FRT_MS_SUM, COUNTER_FIRST_RESPONSES},
    {"chatlogd_agent_response_seconds",
     "Responses since start, per agent, in the reference.md §3 buckets.", 1, COUNTER_RESP_H,
     COUNTER_RESPONSE_MS_SUM, COUNTER_RESPONSES},
    {"chatlogd_agent_frt_average_seconds", "Average first response since start, per agent.", 0, 0,
     COUNTER_FRT_MS_SUM, COUNTER_FIRST_RESPONSES},
    {"chatlogd_agent_art_average_seconds", "Average response since start, per agent.", 0, 0,
     COUNTER_RESPONSE_MS_SUM, COUNTER_RESPONSES},
};

#define AGENT_PARTS (sizeof(agent_parts) / sizeof(*agent_parts))
#define SHOP_SERIES (sizeof(shop_series) / sizeof(*shop_series))

/* Where a render stands: the parts of the exposition in their order. */
enum render_part {
	PART_HEAD,         /* the daemon's own series */
	PART_SHOP_SERIES,  /* one pass over the shops per entry of shop_series */
	PART_LOST_REASONS, /* one pass over the shops */
	PART_AGENTS,       /* one pass over the agents per entry of agent_parts */
	PART_DONE,
};

struct metrics_render {
	struct metrics_snapshot m; /* m.files points at files */
	struct tail_file_stats *files;
	enum render_part part;
	size_t pass;      /* PART_SHOP_SERIES, PART_AGENTS: the entry of the table */
	int headed;       /* the current pass's HELP and TYPE lines are out */
	size_t row;       /* the next row of the pass */
	size_t shop_rows; /* the rows of the tables when the render began */
	size_t agent_rows;
};

struct metrics_render *metrics_render_new(const struct metrics_snapshot *m)
{
	/* Raw: a scrape without memory answers 503 (http.c); the daemon goes on. */
	struct metrics_render *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->m = *m;
	if (m->file_count > 0 && (r->files = calloc(m->file_count, sizeof(*r->files))) == NULL) {
		free(r);
		return NULL;
	}
	for (size_t i = 0; i < m->file_count; i++) {
		r->files[i] = m->files[i];
		if ((r->files[i].path = strdup(m->files[i].path)) == NULL) {
			r->m.file_count = i;
			metrics_render_free(r);
			return NULL;
		}
	}
	r->m.files = r->files;
	r->shop_rows = counter_table_count(m->shop_totals);
	r->agent_rows = m->agent_totals != NULL ? counter_table_count(m->agent_totals) : 0;
	return r;
}

void metrics_render_free(struct metrics_render *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->m.file_count; i++)
		free((char *)r->files[i].path);
	free(r->files);
	free(r);
}

/* The next pass, or the next part when the current one has no pass left. */
static void next_pass(struct metrics_render *r, size_t passes)
{
	r->headed = 0;
	r->row = 0;
	if (++r->pass < passes)
		return;
	r->pass = 0;
	r->part++;
	if (r->part == PART_AGENTS && r->m.agent_totals == NULL)
		r->part = PART_DONE;
}

/* Rows of the current pass until out holds stop bytes or the pass ends. */
static void render_pass(struct metrics_render *r, struct evbuffer *out, size_t stop)
{
	const struct metrics_snapshot *m = &r->m;

	switch (r->part) {
	case PART_HEAD:
		render_head(m, out);
		next_pass(r, 1);
		return;
	case PART_SHOP_SERIES:
		if (!r->headed)
			header(out, shop_series[r->pass].name, "counter",
			       shop_series[r->pass].help);
		r->headed = 1;
		for (; r->row < r->shop_rows && evbuffer_get_length(out) < stop; r->row++)
			shop_series_row(out, m, counter_table_at(m->shop_totals, r->row), r->pass);
		if (r->row == r->shop_rows)
			next_pass(r, SHOP_SERIES);
		return;
	case PART_LOST_REASONS:
		if (!r->headed)
			header(out, "chatlogd_shop_lost_by_reason_total", "counter",
			       "Lost inquiries per shop and lost reason (patterns file, no_reply, "
			       "slow, "
			       "other).");
		r->headed = 1;
		for (;
		     r->row < r->shop_rows && m->reasons != NULL && evbuffer_get_length(out) < stop;
		     r->row++)
			lost_reasons_row(out, m, counter_table_at(m->shop_totals, r->row));
		if (r->row == r->shop_rows || m->reasons == NULL)
			next_pass(r, 1);
		return;
	case PART_AGENTS:
		if (!r->headed)
			header(out, agent_parts[r->pass].name,
			       agent_parts[r->pass].histogram ? "histogram" : "gauge",
			       agent_parts[r->pass].help);
		r->headed = 1;
		for (; r->row < r->agent_rows && evbuffer_get_length(out) < stop; r->row++) {
			const struct counter_row *row = counter_table_at(m->agent_totals, r->row);
			if (row->agent == NAME_WHOLE_SHOP)
				continue;
			if (agent_parts[r->pass].histogram)
				histogram_row(out, m, row, agent_parts[r->pass].name,
				              agent_parts[r->pass].first_bucket,
				              agent_parts[r->pass].sum_id,
				              agent_parts[r->pass].count_id);
			else
				average_row(out, m, row, agent_parts[r->pass].name,
				            agent_parts[r->pass].sum_id,
				            agent_parts[r->pass].count_id);
		}
		if (r->row == r->agent_rows)
			next_pass(r, AGENT_PARTS);
		return;
	case PART_DONE:
		return;
	}
}

int metrics_render_next(struct metrics_render *r, struct evbuffer *out, size_t budget)
{
	size_t start = evbuffer_get_length(out);
	size_t stop = budget > SIZE_MAX - start ? SIZE_MAX : start + budget;

	while (r->part != PART_DONE && evbuffer_get_length(out) < stop)
		render_pass(r, out, stop);
	return r->part != PART_DONE;
}

void metrics_render(const struct metrics_snapshot *m, struct evbuffer *out)
{
	struct metrics_render *r = metrics_render_new(m);

	if (r == NULL)
		return;
	while (metrics_render_next(r, out, SIZE_MAX))
		;
	metrics_render_free(r);
}
