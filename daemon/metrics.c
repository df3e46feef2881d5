/*
 * metrics.c owns the Prometheus text format of /metrics: names, help texts, label
 * escaping and histogram layout. It knows nothing of where the numbers come from.
 */
#include <inttypes.h>
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

static void agent_labels(struct evbuffer *out, const struct metrics_snapshot *m,
                         const struct counter_row *row)
{
	evbuffer_add(out, "shop=\"", 6);
	label_value(out, names_get(m->names, row->shop));
	evbuffer_add(out, "\",agent=\"", 9);
	label_value(out, names_get(m->names, row->agent));
	evbuffer_add(out, "\"", 1);
}

/* One histogram per agent from the §3.1 buckets (cumulative, in seconds). */
static void histogram(struct evbuffer *out, const struct metrics_snapshot *m, const char *name,
                      const char *help, unsigned first_bucket, enum counter_id sum_id,
                      enum counter_id count_id)
{
	size_t n = counter_table_count(m->agent_totals);

	header(out, name, "histogram", help);
	for (size_t i = 0; i < n; i++) {
		const struct counter_row *row = counter_table_at(m->agent_totals, i);
		int64_t cumulative = 0;
		if (row->agent == NAME_WHOLE_SHOP)
			continue;
		for (unsigned b = 0; b < HISTOGRAM_BUCKETS; b++) {
			cumulative += row->value[first_bucket + b];
			evbuffer_add_printf(out, "%s_bucket{", name);
			agent_labels(out, m, row);
			if (b == HISTOGRAM_BUCKETS - 1)
				evbuffer_add_printf(out, ",le=\"+Inf\"} %" PRId64 "\n", cumulative);
			else
				evbuffer_add_printf(out, ",le=\"%g\"} %" PRId64 "\n",
				                    (double)counters_bucket_upper(b) / 1000,
				                    cumulative);
		}
		evbuffer_add_printf(out, "%s_sum{", name);
		agent_labels(out, m, row);
		evbuffer_add_printf(out, "} %.3f\n", (double)row->value[sum_id] / 1000);
		evbuffer_add_printf(out, "%s_count{", name);
		agent_labels(out, m, row);
		evbuffer_add_printf(out, "} %" PRId64 "\n", row->value[count_id]);
	}
}

/* Average gauges (seconds) for agents that have samples. */
static void averages(struct evbuffer *out, const struct metrics_snapshot *m, const char *name,
                     const char *help, enum counter_id sum_id, enum counter_id count_id)
{
	header(out, name, "gauge", help);
	for (size_t i = 0; i < counter_table_count(m->agent_totals); i++) {
		const struct counter_row *row = counter_table_at(m->agent_totals, i);
		if (row->agent == NAME_WHOLE_SHOP || row->value[count_id] == 0)
			continue;
		evbuffer_add_printf(out, "%s{", name);
		agent_labels(out, m, row);
		evbuffer_add_printf(out, "} %.3f\n",
		                    (double)row->value[sum_id] / (double)row->value[count_id] /
		                        1000);
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

void metrics_render(const struct metrics_snapshot *m, struct evbuffer *out)
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
	plain(out, "chatlogd_flush_latency_seconds", "gauge",
	      "Time from the last cut to its acknowledgement by Redis.", m->last_flush_seconds);
	plain(out, "chatlogd_journal_failing", "gauge", "1 while the journal cannot be written.",
	      m->journal_failing);
	plain(out, "chatlogd_reading_paused", "gauge",
	      "1 while reading is paused by max_pending_bytes.", m->reading_paused);
	header(out, "chatlogd_alerts_total", "counter", "Alerts produced since start, by type.");
	for (int i = 0; i < 3; i++)
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
	histogram(out, m, "chatlogd_agent_first_response_seconds",
	          "First responses since start, per agent, in the SPEC 3.1 buckets.", COUNTER_FRT_H,
	          COUNTER_FRT_MS_SUM, COUNTER_FIRST_RESPONSES);
	histogram(out, m, "chatlogd_agent_response_seconds",
	          "Responses since start, per agent, in the SPEC 3.1 buckets.", COUNTER_RESP_H,
	          COUNTER_RESPONSE_MS_SUM, COUNTER_RESPONSES);
	averages(out, m, "chatlogd_agent_frt_average_seconds",
	         "Average first response since start, per agent.", COUNTER_FRT_MS_SUM,
	         COUNTER_FIRST_RESPONSES);
	averages(out, m, "chatlogd_agent_art_average_seconds",
	         "Average response since start, per agent.", COUNTER_RESPONSE_MS_SUM,
	         COUNTER_RESPONSES);
}
