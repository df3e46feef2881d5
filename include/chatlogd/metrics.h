/*
 * The Prometheus text exposition of chatlogd's own state (/metrics): input per file,
 * records and errors, held inquiries, the merge of the inputs, Redis link and
 * backlog, flush latency, alerts, the alert webhook, each shop's business counters
 * (inquiries, responses, orders, sales, lost inquiries by reason) for dashboards,
 * and per-agent FRT/ART histograms with the buckets of reference.md §3 on request
 * (metrics_per_agent: a series per agent grows with every agent ever seen).
 * Formats numbers it is given; gathers nothing itself.
 */
#ifndef CHATLOGD_METRICS_H
#define CHATLOGD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "reasons.h"
#include "ingest.h"
#include "merge.h"
#include "names.h"
#include "tail.h"
#include "webhook.h"

struct evbuffer;
struct metrics_render;

struct metrics_snapshot {
	const struct tail_file_stats *files;
	size_t file_count;
	uint64_t unreadable_files; /* tail_problems: rotated files that could not be read */
	uint64_t skipped_paths;    /* tail_skipped: matched paths not followed */
	struct ingest_stats input;
	size_t held_inquiries;
	struct merge_stats merge; /* live mode's merge of the inputs */
	int redis_connected;
	int redis_cluster; /* redis_cluster = on: the counts below are there */
	uint64_t cluster_moved, cluster_asked, cluster_retry_later, cluster_refreshes;
	int journal_failing;
	int reading_paused;
	size_t backlog_rows;       /* counter rows not yet in Redis (pending + in flight) */
	size_t pending_bytes;      /* the memory they hold, as max_pending_bytes counts it */
	size_t pending_bytes_peak; /* the most it has been since start */
	size_t max_pending_bytes;
	size_t backlog_batches; /* batches of the cut in flight not yet acknowledged */
	uint64_t batches_applied, batches_skipped;
	uint64_t batches_rejected; /* Redis answered a batch with an error */
	uint64_t batches_lost;     /* Redis no longer had batches it had applied */
	uint64_t shops_refused;    /* shops left out of batches: another instance publishes them */
	double last_flush_seconds; /* from a cut to its last batch's acknowledgement */
	uint64_t alerts[ALERT_TYPE_COUNT];  /* by type since start */
	struct counter_table *shop_totals;  /* folded per shop (agent "*"), since start */
	struct counter_table *agent_totals; /* per (shop, agent); NULL: no per-agent series */
	const struct names *names;
	const struct reasons *reasons; /* names the lost-reason counters */
	struct webhook_stats webhook;  /* zeros without alert_webhook */
};

/* Adds a cut's rows into the totals /metrics shows: each row into its shop's row
 * (agent "*": the agents' and the shop's own, as Redis's agent "*") and, when
 * agent_totals is not NULL, into its (shop, agent) row. Returns 0, or -1 when out of
 * memory. */
int metrics_fold(struct counter_table *shop_totals, struct counter_table *agent_totals,
                 struct counter_table *cut);

/*
 * A render of the exposition in slices, so that a large one (a series per shop, and
 * per agent on request) never holds the event loop for long: metrics_render_next
 * appends rows until out has grown by about budget bytes, and the caller sends them
 * and comes back on a later loop turn. m is copied, the file stats and their paths
 * with it; the counter tables, names and reasons stay borrowed and must outlive the
 * render. Rows added to the tables meanwhile are left out (each series shows the rows
 * there were at metrics_render_new); each row's values are read when its line is
 * written, so a render that spans several loop turns can mix moments (docs/limits.md).
 * NULL when out of memory.
 */
struct metrics_render *metrics_render_new(const struct metrics_snapshot *m);

/* Appends the next slice, stopping at the first row boundary past budget bytes.
 * Returns 1 while there is more to render, 0 once the exposition is complete. */
int metrics_render_next(struct metrics_render *r, struct evbuffer *out, size_t budget);
void metrics_render_free(struct metrics_render *r);

/* Appends the whole exposition of m to out in one go. */
void metrics_render(const struct metrics_snapshot *m, struct evbuffer *out);

#endif
