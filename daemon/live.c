/*
 * live.c owns live mode's wiring on one libevent loop: tail -> journal -> parse ->
 * merge -> engine -> cuts, the flush and watchdog timers, signals and reloads, the
 * snapshot and journal replay at start, and /metrics and /healthz. Every line goes
 * through process_parsed() both live and in replay, so a replay repeats exactly what
 * the live run did (docs/exactly-once.md). A cut's way to Redis is sender.c's; the
 * journal's record format is journal_record.c's.
 */
#include <errno.h>
#include <malloc.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <systemd/sd-daemon.h>

#include "chatlogd/clock.h"
#include "chatlogd/alert.h"
#include "chatlogd/engine.h"
#include "chatlogd/engine_config.h"
#include "chatlogd/http.h"
#include "chatlogd/ingest.h"
#include "chatlogd/journal_record.h"
#include "chatlogd/limits.h"
#include "chatlogd/live.h"
#include "chatlogd/log.h"
#include "chatlogd/merge.h"
#include "chatlogd/metrics.h"
#include "chatlogd/parse.h"
#include "chatlogd/publish.h"
#include "chatlogd/rediscluster.h"
#include "chatlogd/store.h"
#include "chatlogd/rules.h"
#include "chatlogd/rules_file.h"
#include "chatlogd/sender.h"
#include "chatlogd/state.h"
#include "chatlogd/tail.h"
#include "chatlogd/webhook.h"
#include "chatlogd/windows.h"
#include "chatlogd/wire.h"
#include "chatlogd/json_write.h"
#include "chatlogd/util.h"

#define SNAPSHOT_VERSION 7u /* 7: window_writes and the windows a cut changed */
/* v4 lacks quiet_clock, v4 and v5 the merge; read when no cut is in flight */
#define SNAPSHOT_VERSION_OLDEST 4u
#define OLDER_STATE_ADVICE                                                                         \
	"start that version again with Redis reachable and stop it with SIGTERM, then this one "   \
	"(docs/operations.md, Upgrading)"
#define SHUTDOWN_GRACE_MS 5000
#define WEBHOOK_DRAIN_MS 2000 /* after the flush: queued alert posts get this long */
#define JOURNAL_SNAPSHOT_BYTES (256ull * 1024 * 1024)
#define TRIM_INTERVAL_MS 60000                /* return_free_memory: at most this often */
#define TRIM_FREE_BYTES (64ull * 1024 * 1024) /* ... and only with this much free */
/* A snapshot that could not be written (a full disk) is tried again after this long,
 * not at every flush tick: each try writes the whole snapshot until the disk says
 * no. The journal keeps every line meanwhile. */
#define SNAPSHOT_RETRY_MS 5000
/* Failures to write state_dir are logged at most once a minute while they last. */
#define STATE_WARN_WINDOW_MS 60000
/* /healthz: counts waiting this many flush intervals with nothing acknowledged */
#define HEALTH_STALL_FLUSHES 5
/* Alerts made within this long go out in one cut (a burst of responses). */
#define ALERT_CUT_DELAY_US 5000

/* Lines between checks of the wall-clock release rule while the merge holds more
 * than a quarter of its bound (a backlog read faster than the flush timer ticks). */
#define RELEASE_CHECK_LINES 4096

struct live {
	struct event_base *base;
	const struct config *cfg;
	struct publish_settings publish;
	char instance[256];

	struct names *names;
	struct reasons reasons;
	struct rules *rules;
	char *rules_name, *rules_text; /* kept for snapshots: restores use the same rules */
	size_t rules_len;
	struct parser *parser;
	struct engine *engine;
	struct service_hours_set *service_hours; /* the engine's settings point here */
	int state_windows_changed_only; /* window_writes of the state restored (format 7) */
	struct ingest ingest;
	struct merge *merge;
	uint64_t lines_since_release_check;
	struct counter_table *pending; /* deltas since the last cut */
	struct windows *windows;       /* the last day of cuts, for w:WINDOW hashes */
	struct alerts *alerts;
	struct alert_event *inflight_alerts; /* the alerts of the cut in flight */
	size_t inflight_alert_count;
	int64_t inflight_as_of; /* as_of of the cut in flight (or the last one): its windows' */
	int64_t quiet_clock;    /* the newest wall-clock advance (quiet logs), or INT64_MIN */
	uint32_t state_version; /* of the snapshot recovered from (its journal's writer) */

	/* the cut in flight: its table here, its batches in the sender */
	struct counter_table *inflight;
	struct sender *sender;

	/* for /healthz: is what is read reaching Redis? */
	int64_t waiting_since_ms; /* monotonic, since rows wait with none acknowledged; 0 */
	/* sources named in the current journal */
	char *sources[JOURNAL_MAX_SOURCES];
	int source_input[JOURNAL_MAX_SOURCES]; /* the merge's input id of each source */
	uint32_t source_count;
	uint32_t last_source;              /* consecutive lines mostly come from one file */
	struct log_ratelimit sources_warn; /* lines of files past JOURNAL_MAX_SOURCES */
	struct wire_writer line_record;    /* reused for every journaled line */

	struct state_journal *journal;
	uint64_t generation;
	int64_t last_snapshot_ms;
	int journal_failing;
	struct log_ratelimit state_warn; /* journal and snapshot write failures */
	uint64_t snapshot_failures;      /* in a row, since the last snapshot written */
	int64_t snapshot_failing_since_ms, snapshot_retry_ms;

	struct tail *tail;
	struct tail_position *positions; /* as of the last cut (replay) */
	size_t position_count;
	int paused;
	size_t pending_peak; /* the most pending_bytes has been, for /metrics */
	uint64_t lines_since_tick;

	struct store *store;
	struct webhook *webhook; /* NULL: no alert_webhook */

	/* for /metrics */
	struct http *http;
	struct counter_table *shop_totals;  /* folded per shop, since start (/metrics) */
	struct counter_table *agent_totals; /* per (shop, agent); NULL: metrics_per_agent off */
	uint64_t alerts_by_type[ALERT_TYPE_COUNT];
	int64_t cut_started_ms;
	double last_flush_seconds;

	live_reload_fn reload;
	void *reload_ctx;

	struct event *flush_timer, *watchdog_timer, *sigterm, *sigint, *sighup;
	int64_t trimmed_ms;        /* monotonic time memory was last given back */
	struct event *wait_timer;  /* the next buyer's wait deadline, by the wall clock */
	struct event *alert_timer; /* a cut soon after alerts are made, or a missed tick */
	int tick_missed;           /* a flush tick found the cut before still in flight */
	int64_t wait_armed_for;    /* the deadline wait_timer is armed for */
	int stopping;
	int64_t stop_deadline_ms;
	int exit_status;
};

/* ---- the one path every line takes, live and in replay ---- */

/* The merge hands records over in batch order (reference.md §2); path and strings are
 * borrowed for the call. */
static void on_release(void *ctx, const struct record *rec, const char *path, uint64_t line_no)
{
	struct live *l = ctx;

	l->ingest.source = path;
	/* engine_feed moves the record's shop clock itself (closing and deciding that
	 * shop's inquiries); the alerts' window follows event time after every record,
	 * so a replay moves it at exactly the same points. */
	ingest_record(&l->ingest, rec, line_no);
	if (engine_event_time(l->engine) != INT64_MIN)
		alerts_advance(l->alerts, engine_event_time(l->engine));
}

static enum ingest_parsed parse_line(struct live *l, const char *line, size_t len, int overlong,
                                     struct record *rec, char *err, size_t errlen)
{
	/* no max_ts here: the verdict journaled with the line says */
	return ingest_parse(l->parser, line, len, overlong, INT64_MAX, rec, err, errlen);
}

/* A parsed line with its verdict: counted, and its record into the merge. */
static void process_parsed(struct live *l, uint32_t source, enum ingest_parsed parsed,
                           const struct record *rec, const char *err, uint64_t line_no,
                           enum line_verdict verdict)
{
	l->ingest.stats.lines++;
	l->ingest.source = l->sources[source];
	if (parsed == INGEST_RECORD && verdict == VERDICT_AHEAD) {
		ingest_error(&l->ingest, line_no,
		             "timestamp too far ahead of the wall clock (max_clock_ahead)");
		return;
	}
	if (parsed == INGEST_BAD)
		ingest_error(&l->ingest, line_no, err);
	else if (parsed == INGEST_RECORD)
		merge_push(l->merge, l->source_input[source], rec, line_no);
}

/* A journaled line, in replay. */
static void process_line(struct live *l, uint32_t source, const char *line, size_t len,
                         uint64_t line_no, enum line_verdict verdict)
{
	struct record rec;
	char err[128];
	enum ingest_parsed parsed =
	    parse_line(l, line, len, verdict == VERDICT_OVERLONG, &rec, err, sizeof(err));

	process_parsed(l, source, parsed, &rec, err, line_no, verdict);
}

/* Advances to a wall-clock time (quiet logs), live and in replay alike. */
static void advance_to(struct live *l, int64_t t)
{
	merge_note_advance(l->merge, t);
	engine_advance(l->engine, t);
	alerts_advance(l->alerts, t);
	if (t > l->quiet_clock)
		l->quiet_clock = t;
}

/* The time windows end at: event time, or the wall clock when the logs went quiet,
 * so an idle shop's windows empty as time passes. Never goes back. */
static int64_t clock_now(const struct live *l)
{
	int64_t t = engine_event_time(l->engine);

	if (l->quiet_clock > t)
		t = l->quiet_clock;
	return t > l->inflight_as_of ? t : l->inflight_as_of;
}

static int64_t minute_floor(int64_t ms)
{
	return ms / 60000 - (ms % 60000 < 0);
}

/* The windows' minute has moved on since the last cut: a cut must tell Redis, even
 * with no new counts, or the 1m window would keep an idle minute's numbers. */
static int windows_slide_due(const struct live *l)
{
	int64_t now = clock_now(l);

	return now != INT64_MIN && windows_count(l->windows) > 0 &&
	       minute_floor(now) != minute_floor(l->inflight_as_of);
}

/* Whether a cut would carry anything: counts, alerts, or windows that slid. */
static int cut_wanted(const struct live *l)
{
	return counter_table_count(l->pending) > 0 || alerts_pending(l->alerts) > 0 ||
	       windows_slide_due(l);
}

struct waiting_check {
	struct live *live;
	int64_t now_ms;
};

static void on_waiting(void *ctx, const struct engine_wait *w)
{
	const struct waiting_check *wc = ctx;
	/* warn_at reached: a warning; the target or escalate_after: a waiting alert (its
	 * value tells the robot's escalation which) */
	struct alert_event ev = {
	    .type = w->stage == ENGINE_WAIT_WARNING ? ALERT_WARNING : ALERT_WAITING,
	    .shop = w->shop,
	    .agent = w->agent,
	    .frt = w->first ? ALERT_FRT : 0,
	    .value_ms = wc->now_ms - w->since_ms,
	    .target_ms = w->target_ms,
	    .samples = 1,
	    .window_s = wc->live->cfg->alert_window_ms / 1000,
	    .ts_ms = wc->now_ms,
	};
	size_t len = w->buyer.len < sizeof(ev.buyer) - 1 ? w->buyer.len : sizeof(ev.buyer) - 1;

	memcpy(ev.buyer, w->buyer.ptr, len);
	ev.buyer[len] = '\0';
	alerts_push(wc->live->alerts, &ev);
}

/* Buyers kept waiting past the target by the wall clock: live and in replay alike. */
static void check_waiting(struct live *l, int64_t now_ms)
{
	struct waiting_check wc = {l, now_ms};
	engine_waiting(l->engine, now_ms, on_waiting, &wc);
}

static void on_response(void *ctx, uint32_t shop, uint32_t agent, int64_t ts_ms, int64_t ms,
                        int first)
{
	struct live *l = ctx;
	alerts_response(l->alerts, shop, agent, ts_ms, ms, first);
}

/* Queues one record in the running journal. Memory is util.h's, and every record is
 * far below the journal's 256 MiB record limit (a line at most max_line_bytes, the
 * patterns at most LIMIT_SETTINGS_FILE_BYTES): a refusal here is a bug, not a state
 * to count on past. */
static void journal_put(struct live *l, const struct wire_writer *w)
{
	if (w->failed || state_journal_append(l->journal, w->data, w->len) == -1)
		fatalx("journal refused a record of %zu bytes", w->len);
}

static int add_source(struct live *l, uint32_t id, const char *path, size_t len, uint32_t rank)
{
	if (id != l->source_count || id >= JOURNAL_MAX_SOURCES)
		return -1;
	l->sources[id] = xstrndup(path, len);
	l->source_input[id] = merge_input(l->merge, l->sources[id], rank);
	l->source_count++;
	return 0;
}

static void clear_sources(struct live *l)
{
	for (uint32_t i = 0; i < l->source_count; i++)
		free(l->sources[i]);
	l->source_count = 0;
}

/* Rank unknown to the caller: asked of tail when the source is new (not per line:
 * tail_rank runs fnmatch). */
#define RANK_FROM_TAIL UINT32_MAX

/* No journal id: more files were met since the last snapshot than a journal names. */
#define SOURCE_NONE UINT32_MAX

/* The journal id of path, declaring it (and its rank for the merge) in the journal
 * the first time; SOURCE_NONE (logged) when the journal has no id left for it: its
 * lines are skipped until the next snapshot starts a journal with no ids used. */
static uint32_t source_id(struct live *l, const char *path, uint32_t rank)
{
	struct wire_writer w = {0};

	if (l->last_source < l->source_count && strcmp(l->sources[l->last_source], path) == 0)
		return l->last_source;
	for (uint32_t i = 0; i < l->source_count; i++)
		if (strcmp(l->sources[i], path) == 0)
			return l->last_source = i;
	if (l->source_count >= JOURNAL_MAX_SOURCES) {
		if (log_ratelimit_allow(&l->sources_warn, "lines skipped: too many input files"))
			log_warnx("file=%s lines skipped: more than %d input files since the "
			          "last snapshot; its lines count again after the next one",
			          path, JOURNAL_MAX_SOURCES);
		return SOURCE_NONE;
	}
	if (rank == RANK_FROM_TAIL)
		rank = tail_rank(l->tail, path);
	add_source(l, l->source_count, path, strlen(path), rank); /* id and count checked above */
	journal_record_put_source(&w, l->source_count - 1, path, rank);
	journal_put(l, &w);
	wire_writer_free(&w);
	return l->source_count - 1;
}

static void journal_release(struct live *l, uint64_t count)
{
	struct wire_writer w = {0};

	journal_record_put_release(&w, count);
	journal_put(l, &w);
	wire_writer_free(&w);
}

static int input_at_end(void *ctx, const char *path)
{
	const struct live *l = ctx;
	return tail_at_end(l->tail, path);
}

/* Releases what the wall clock and tail allow, journaled: a replay cannot ask them. */
static void release_due(struct live *l)
{
	uint64_t n = merge_release_due(l->merge, clock_wall_ms(), input_at_end, l);

	if (n > 0)
		journal_release(l, n);
	l->lines_since_release_check = 0;
}

/* A name followed from now on is an input of the merge before its first line, so
 * a file not read yet (a backlog) holds the others back until it is read. */
static void on_follow(void *ctx, const char *path, uint32_t rank)
{
	struct live *l = ctx;
	uint32_t source = source_id(l, path, rank);

	if (source != SOURCE_NONE)
		merge_touch(l->merge, l->source_input[source], clock_wall_ms());
}

/*
 * Alerts go out as soon as they are made (issue 10), not with the next flush tick:
 * a cut is made ALERT_CUT_DELAY_US after the first one (or as soon as the cut in
 * flight is acknowledged), carrying the alerts and whatever counts wait with them.
 * Counters stay exactly once (a cut is a cut); only alerts make cuts more often.
 */
static void alerts_soon(struct live *l)
{
	struct timeval delay = {0, ALERT_CUT_DELAY_US};

	if (l->alert_timer != NULL && !l->stopping && /* NULL while replaying */
	    (alerts_pending(l->alerts) > 0 || l->tick_missed) &&
	    !evtimer_pending(l->alert_timer, NULL))
		evtimer_add(l->alert_timer, &delay);
}

static void cut(struct live *l);
static void waiting_due(struct live *l);
static void backpressure(struct live *l);

static void on_alert_timer(evutil_socket_t fd, short what, void *ctx)
{
	struct live *l = ctx;
	(void)fd;
	(void)what;

	/* busy: on_cut_done asks again once the cut in flight is acknowledged */
	if (!l->stopping && !sender_busy(l->sender) && sender_seq_known(l->sender) &&
	    !l->journal_failing &&
	    (alerts_pending(l->alerts) > 0 || (l->tick_missed && cut_wanted(l))))
		cut(l);
}

/* Arms wait_timer for the earliest wait deadline, so a `waiting` alert is made when
 * the buyer has waited past the target, not at the next flush tick. */
static void arm_wait_timer(struct live *l)
{
	int64_t next = engine_next_wait(l->engine), delay_ms;
	struct timeval delay;

	if (l->wait_timer == NULL || next == INT64_MAX || /* NULL while replaying */
	    (next == l->wait_armed_for && evtimer_pending(l->wait_timer, NULL)))
		return;
	delay_ms = next - clock_wall_ms() + 1;
	if (delay_ms < 0)
		delay_ms = 0;
	if (delay_ms > l->cfg->flush_interval_ms) /* the flush tick checks too */
		delay_ms = l->cfg->flush_interval_ms;
	delay.tv_sec = (time_t)(delay_ms / 1000);
	delay.tv_usec = (suseconds_t)(delay_ms % 1000) * 1000;
	evtimer_add(l->wait_timer, &delay);
	l->wait_armed_for = next;
}

static void on_wait_timer(evutil_socket_t fd, short what, void *ctx)
{
	struct live *l = ctx;
	(void)fd;
	(void)what;

	waiting_due(l);
	arm_wait_timer(l);
	arm_wait_timer(l);
	alerts_soon(l);
}

/* One line of the input with journal id source: journaled, then counted. */
static void take_line(struct live *l, uint32_t source, const char *line, size_t len,
                      uint64_t line_no, int overlong)
{
	struct wire_writer *w = &l->line_record;
	struct record rec;
	char err[128];
	enum ingest_parsed parsed = parse_line(l, line, len, overlong, &rec, err, sizeof(err));
	enum line_verdict verdict = overlong ? VERDICT_OVERLONG : VERDICT_OK;
	int64_t now = parsed == INGEST_RECORD ? clock_wall_ms() : 0;
	struct merge_stats held;

	/* reference.md §1: a clock this far ahead moves nothing, in any shop */
	if (parsed == INGEST_RECORD && l->cfg->max_clock_ahead_ms > 0 &&
	    rec.ts_ms > now + l->cfg->max_clock_ahead_ms)
		verdict = VERDICT_AHEAD;
	w->len = 0;
	journal_record_put_line(w, source, line_no, verdict, line, overlong ? 0 : len);
	journal_put(l, w);
	/* a bad line says nothing of the input's time: only records keep it awake */
	if (parsed == INGEST_RECORD && verdict == VERDICT_OK)
		merge_touch(l->merge, l->source_input[source], now);
	process_parsed(l, source, parsed, &rec, err, line_no, verdict);
	l->lines_since_tick++;
	backpressure(l); /* at every line: a flush interval of reading can be many times the cap */
	arm_wait_timer(l);
	alerts_soon(l);
	if (++l->lines_since_release_check >= RELEASE_CHECK_LINES) {
		merge_stats(l->merge, &held);
		l->lines_since_release_check = 0;
		if (held.held_bytes > LIMIT_MERGE_HELD_BYTES / 4)
			release_due(l);
	}
}

static void on_line(void *ctx, const char *path, const char *line, size_t len, uint64_t line_no,
                    int overlong)
{
	struct live *l = ctx;
	uint32_t source = source_id(l, path, RANK_FROM_TAIL);

	if (source != SOURCE_NONE)
		take_line(l, source, line, len, line_no, overlong);
}

/* ---- positions ---- */

static void positions_replace(struct live *l, struct tail_position *p, size_t count)
{
	tail_positions_free(l->positions, l->position_count);
	l->positions = p;
	l->position_count = count;
}

/* ---- cuts and sending ---- */

/* The sender's hook: Redis has answered the cut's last batch. Its alerts go to the
 * webhook now, never before Redis has them; a cut Redis had applied before (re-sent
 * after a restart) was posted then, or lost with that process: not again. */
static void on_cut_done(void *ctx, int applied)
{
	struct live *l = ctx;

	for (size_t i = 0; applied && l->webhook != NULL && i < l->inflight_alert_count; i++)
		webhook_post_alert(l->webhook, &l->inflight_alerts[i], l->names);
	alerts_soon(l); /* made while this cut was in flight */
	counter_table_clear(l->inflight);
	l->inflight_alert_count = 0;
	l->last_flush_seconds = (double)(clock_monotonic_ms() - l->cut_started_ms) / 1000;
}

/* The sender's hook: state_dir does not fit what Redis applied. Stop without sending
 * or saving anything more, with the reason and the way out in the log. */
static void on_refused(void *ctx, const char *why)
{
	struct live *l = ctx;

	log_errx("%s. Reading the files again would count their lines twice, so chatlogd "
	         "stops. Restore state_dir from a backup, or rebuild this instance's counts "
	         "from the logs (docs/operations.md, Recovering), or set state_mismatch = "
	         "count_again to start anyway and count again what is read again.",
	         why);
	l->exit_status = 1;
	event_base_loopexit(l->base, NULL);
}

/* What cut_tables makes: a fresh cut, or the snapshot's cut in flight, already in
 * the windows, with or without the windows it changed (format 7 keeps them). */
enum cut_kind { CUT_RESTORED_ALL, CUT_FRESH, CUT_RESTORED_AS_SAVED };

/* Turns the pending deltas into the cut in flight, numbered from first_seq, and
 * returns its batches for the sender (their count, or -1). */
static int cut_tables(struct live *l, uint64_t first_seq, enum cut_kind add_to_windows,
                      struct publish_batch **batches)
{
	struct counter_table *swap = l->inflight;
	struct publish_extra extra;

	counter_table_clear(swap);
	l->inflight = l->pending;
	l->pending = swap;
	engine_set_sink(l->engine, l->pending);
	if (add_to_windows == CUT_FRESH) {
		/* a fresh cut: this period's alerts go with it (a restored cut has its own) */
		const struct alert_event *events;
		size_t n = alerts_take(l->alerts, &events);
		struct alert_event *copy = xreallocarray(NULL, n, sizeof(*copy));
		int64_t as_of = clock_now(l);
		if (windows_add(l->windows, l->inflight, l->inflight_as_of, as_of) == -1) {
			free(copy);
			return -1;
		}
		if (n > 0)
			memcpy(copy, events, n * sizeof(*copy));
		for (size_t i = 0; i < n; i++)
			l->alerts_by_type[events[i].type]++;
		if (metrics_fold(l->shop_totals, l->agent_totals, l->inflight) == -1) {
			free(copy);
			return -1;
		}
		l->cut_started_ms = clock_monotonic_ms();
		free(l->inflight_alerts);
		l->inflight_alerts = copy;
		l->inflight_alert_count = n;
		l->inflight_as_of = as_of;
	} else if (add_to_windows == CUT_RESTORED_ALL) {
		/* A cut restored from a snapshot of format 6 is rebuilt as it was cut, into
		 * the same batches with the same sequences; which windows it changed was not
		 * kept, so it rewrites them all (one row each way: the batches split the
		 * same). From format 7 the snapshot says which changed (add_to_windows 2). */
		windows_mark_all_changed(l->windows);
	}
	extra.windows = l->windows;
	extra.as_of_ms = l->inflight_as_of;
	extra.alerts = l->inflight_alerts;
	extra.alert_count = l->inflight_alert_count;
	return publish_build_cut(&l->publish, l->inflight, l->names, &l->reasons, first_seq, &extra,
	                         batches);
}

/* Cuts the pending deltas into batches numbered from first_seq and hands them to the
 * sender, which sends nothing before its next tick. */
static int cut_to_sender(struct live *l, uint64_t first_seq)
{
	struct publish_batch *batches = NULL;
	int count = cut_tables(l, first_seq, CUT_FRESH, &batches);

	if (count < 0)
		return -1;
	sender_take_cut(l->sender, first_seq, batches, count);
	return 0;
}

static int journal_sync(struct live *l)
{
	char err[512];

	if (state_journal_sync(l->journal, err, sizeof(err)) == -1) {
		if (!l->journal_failing &&
		    log_ratelimit_allow(&l->state_warn, "state_dir failures"))
			log_warnx("%s; nothing is sent to Redis until it works again", err);
		l->journal_failing = 1;
		sender_journal_failing(l->sender, 1);
		return -1;
	}
	if (l->journal_failing)
		log_info("journal writes work again");
	l->journal_failing = 0;
	sender_journal_failing(l->sender, 0);
	return 0;
}

/* Cuts the pending deltas: journal the cut (with file positions) durably, then send. */
static void cut(struct live *l)
{
	struct wire_writer w = {0};
	struct tail_position *p = NULL;
	size_t count = 0;
	uint64_t first_seq = sender_next_seq(l->sender);

	l->tick_missed = 0;
	tail_positions(l->tail, &p, &count);
	journal_record_put_cut(&w, first_seq, p, count);
	tail_positions_free(p, count);
	journal_put(l, &w);
	if (cut_to_sender(l, first_seq) == -1)
		fatalx("cannot cut a batch: more (shop, agent) rows than a table's ids hold");
	wire_writer_free(&w);
	/* Sent only once the cut is durable: a crash then replays the same cut. */
	if (journal_sync(l) == 0)
		sender_tick(l->sender);
}

/* ---- snapshots ---- */

static void snapshot_body(struct live *l, struct wire_writer *w)
{
	struct tail_position *p = NULL;
	size_t count = 0;

	if (l->tail != NULL)
		tail_positions(l->tail, &p, &count);

	wire_put_u32(w, SNAPSHOT_VERSION);
	wire_put_u64(w, sender_next_seq(l->sender));
	wire_put_u8(w, (uint8_t)sender_seq_known(l->sender));
	wire_put_bytes(w, l->rules_name, strlen(l->rules_name));
	wire_put_bytes(w, l->rules_text, l->rules_len);
	names_save(l->names, w);
	reasons_save(&l->reasons, w);
	engine_save(l->engine, w);
	windows_save(l->windows, w);
	alerts_save(l->alerts, w);
	wire_put_i64(w, l->inflight_as_of);
	wire_put_u64(w, l->inflight_alert_count);
	for (size_t i = 0; i < l->inflight_alert_count; i++)
		alert_event_save(&l->inflight_alerts[i], w);
	wire_put_i64(w, l->quiet_clock); /* since format 5 */
	windows_save_retired(l->windows, w);
	merge_save(l->merge, w);                                  /* since format 6 */
	wire_put_u8(w, (uint8_t)l->publish.windows_changed_only); /* since format 7 */
	windows_save_changed(l->windows, w);
	wire_put_u64(w, l->ingest.stats.lines);
	wire_put_u64(w, l->ingest.stats.records);
	wire_put_u64(w, l->ingest.stats.errors);
	if (l->tail)
		journal_record_put_positions(w, p, count);
	else
		journal_record_put_positions(w, l->positions, l->position_count);
	tail_positions_free(p, count);
	/* the cut not yet acknowledged (from its next unsent batch on) and pending deltas */
	wire_put_u64(w, sender_resend_seq(l->sender));
	wire_put_u64(w, sender_cut_first_seq(l->sender));
	counter_table_save(l->inflight, w);
	counter_table_save(l->pending, w);
}

/* A snapshot could not be written: said once a minute at most while it lasts (a full
 * disk fails every try), tried again after SNAPSHOT_RETRY_MS. */
static void snapshot_failed(struct live *l, const char *err)
{
	if (l->snapshot_failures++ == 0)
		l->snapshot_failing_since_ms = clock_monotonic_ms();
	l->snapshot_retry_ms = clock_monotonic_ms() + SNAPSHOT_RETRY_MS;
	if (log_ratelimit_allow(&l->state_warn, "state_dir failures"))
		log_warnx("%s; the journal keeps every line, a snapshot is tried again every %d s",
		          err, SNAPSHOT_RETRY_MS / 1000);
}

/*
 * Writes a snapshot of generation+1 and starts its empty journal. The journal is
 * prepared first: a full disk then fails the attempt while the running snapshot and
 * journal stand, and it is tried again later. Once the snapshot is written only a
 * rename is left.
 */
static int snapshot(struct live *l)
{
	struct wire_writer w = {0};
	char err[512];
	struct state_journal *journal;

	snapshot_body(l, &w);
	if (w.failed) {
		wire_writer_free(&w);
		log_warnx("cannot write a snapshot: a field over 4 GiB");
		return -1;
	}
	if ((journal = state_journal_prepare(l->cfg->state_dir, l->generation + 1, err,
	                                     sizeof(err))) == NULL) {
		wire_writer_free(&w);
		snapshot_failed(l, err);
		return -1;
	}
	if (state_snapshot_write(l->cfg->state_dir, l->generation + 1, w.data, w.len, err,
	                         sizeof(err)) == -1) {
		wire_writer_free(&w);
		state_journal_close(journal);
		snapshot_failed(l, err);
		return -1;
	}
	wire_writer_free(&w);
	if (l->snapshot_failures > 0) {
		log_info("snapshot written again failed_attempts=%llu failing_for=%llds",
		         (unsigned long long)l->snapshot_failures,
		         (long long)(clock_monotonic_ms() - l->snapshot_failing_since_ms) / 1000);
		l->snapshot_failures = 0;
		l->state_warn.suppressed = 0; /* that line says how it went */
	}
	/* The new snapshot stands and the running journal is stale: without its journal
	 * no line could be counted exactly once. Only a rename in state_dir failed. */
	if (state_journal_commit(journal, err, sizeof(err)) == -1)
		fatalx("%s", err);
	/* queued records count against max_pending_bytes: write them out well before */
	state_journal_set_write_chunk(journal, (size_t)l->cfg->max_pending_bytes / 8);
	state_journal_close(l->journal);
	l->journal = journal;
	l->generation++;
	clear_sources(l);
	l->last_snapshot_ms = clock_monotonic_ms();
	log_debug("snapshot generation=%llu", (unsigned long long)l->generation);
	return 0;
}

/* Puts compiled rules (taken) in force with the text they came from (copied), which
 * snapshots keep. Returns 0, or -1 when the engine refuses them (too many distinct
 * reasons): they are freed and the running rules and text stay. */
static int install_rules(struct live *l, const char *name, const char *text, size_t len,
                         struct rules *rules)
{
	if (engine_set_rules(l->engine, rules) == -1) {
		rules_free(rules);
		return -1;
	}
	free(l->rules_name);
	free(l->rules_text);
	l->rules_name = xstrdup(name);
	l->rules_text = xmalloc(len);
	memcpy(l->rules_text, text, len);
	l->rules_len = len;
	rules_free(l->rules);
	l->rules = rules;
	return 0;
}

/* Compiles rules from a text a snapshot or the journal kept, and puts them in force. */
static int load_rules_text(struct live *l, const char *name, const char *text, size_t len)
{
	char err[512];
	struct rules *rules =
	    len ? rules_load_buffer(name, text, len, err, sizeof(err)) : rules_empty();

	if (rules == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	if (install_rules(l, name, text, len, rules) == -1) {
		log_warnx("%s: too many distinct lost reasons", name);
		return -1;
	}
	return 0;
}

static int restore_inflight_alerts(struct live *l, struct wire_reader *r)
{
	uint64_t n;

	l->inflight_as_of = wire_get_i64(r);
	n = wire_get_u64(r);

	if (r->failed || n > 1000000)
		return -1;
	l->inflight_alerts = xcalloc(n, sizeof(*l->inflight_alerts));
	for (uint64_t i = 0; i < n; i++)
		if (alert_event_load(&l->inflight_alerts[i], r) == -1)
			return -1;
	l->inflight_alert_count = n;
	return 0;
}

/* The counter ids a snapshot format holds: formats before 6 were written before
 * contract v2 added post_sale. */
static unsigned counter_schema(uint32_t version)
{
	return version >= 6 ? COUNTERS_SCHEMA : 1;
}

/* Restores a snapshot body into the fresh tables. Returns 0 or -1 (corrupt). */
static int restore(struct live *l, const void *body, size_t len)
{
	struct wire_reader r;
	const char *name, *text;
	size_t name_len, text_len;
	char rules_name[4096];
	struct tail_position *p;
	size_t count;
	uint64_t resend_from, first_seq, next_seq;
	uint32_t version;
	int seq_known;

	wire_reader_init(&r, body, len);
	version = l->state_version = wire_get_u32(&r);
	if (version < SNAPSHOT_VERSION_OLDEST || version > SNAPSHOT_VERSION) {
		log_warnx("snapshot format %u; this chatlogd reads %u to %u", version,
		          SNAPSHOT_VERSION_OLDEST, SNAPSHOT_VERSION);
		return -1;
	}
	next_seq = wire_get_u64(&r);
	seq_known = wire_get_u8(&r);
	sender_restore(l->sender, next_seq, seq_known);
	name = wire_get_bytes(&r, &name_len);
	text = wire_get_bytes(&r, &text_len);
	if (r.failed || name_len >= sizeof(rules_name))
		return -1;
	memcpy(rules_name, name, name_len);
	rules_name[name_len] = '\0';
	if (names_load(l->names, &r) == -1 || reasons_load(&l->reasons, &r) == -1 ||
	    load_rules_text(l, rules_name, text, text_len) == -1 ||
	    engine_load(l->engine, &r) == -1 ||
	    windows_load(l->windows, &r, counter_schema(version)) == -1 ||
	    alerts_load(l->alerts, &r) == -1 || restore_inflight_alerts(l, &r) == -1)
		return -1;
	l->quiet_clock = version >= 5 ? wire_get_i64(&r) : INT64_MIN;
	if (version >= 5 && windows_load_retired(l->windows, &r) == -1)
		return -1;
	if (version >= 6 && merge_load(l->merge, &r) == -1)
		return -1;
	l->state_windows_changed_only = 0; /* before format 7: every window, every cut */
	if (version >= 7) {
		l->state_windows_changed_only = wire_get_u8(&r);
		if (windows_load_changed(l->windows, &r) == -1)
			return -1;
	}
	l->ingest.stats.lines = wire_get_u64(&r);
	l->ingest.stats.records = wire_get_u64(&r);
	l->ingest.stats.errors = wire_get_u64(&r);
	if (journal_record_get_positions(&r, &p, &count) == -1)
		return -1;
	positions_replace(l, p, count);
	resend_from = wire_get_u64(&r);
	first_seq = wire_get_u64(&r);
	if (counter_table_load(l->pending, &r, counter_schema(version)) == -1)
		return -1;
	/* Rebuild the cut in flight exactly as it was numbered; send what was not acked. */
	if (resend_from != 0 && version < 6) {
		/* an older format's cut is not rebuilt: v5 split cuts differently from v4 (v6
		 * splits as v7 writing every window) */
		log_warnx("the snapshot's last batch (seq=%llu) was not acknowledged by Redis and "
		          "was made by an older chatlogd: %s",
		          (unsigned long long)resend_from, OLDER_STATE_ADVICE);
		return -1;
	}
	if (resend_from != 0) {
		struct publish_batch *batches = NULL;
		int batch_count;
		if (l->state_windows_changed_only != l->publish.windows_changed_only) {
			log_warnx(
			    "the snapshot's last batch (seq=%llu) was not acknowledged by "
			    "Redis and was made with window_writes = %s: start once with that "
			    "setting and stop with SIGTERM, then change it",
			    (unsigned long long)resend_from,
			    l->state_windows_changed_only ? "changed" : "every_flush");
			return -1;
		}
		batch_count =
		    cut_tables(l, first_seq,
		               version >= 7 ? CUT_RESTORED_AS_SAVED : CUT_RESTORED_ALL, &batches);
		if (batch_count < 0)
			return -1;
		sender_restore_cut(l->sender, batches, batch_count, resend_from);
	}
	if (counter_table_load(l->pending, &r, counter_schema(version)) == -1)
		return -1;
	return r.failed || r.pos != r.len ? -1 : 0;
}

/* ---- replay ---- */

struct replay {
	struct live *live;
	long record, last_cut; /* replay only up to the last cut: later lines are re-read */
};

static int count_cuts(void *ctx, const void *record, size_t len)
{
	struct replay *rp = ctx;
	rp->record++;
	if (journal_record_is_cut(record, len))
		rp->last_cut = rp->record;
	return 0;
}

/* Repeats one journaled record, as the live run did it. */
static int replay_one(struct live *l, const struct journal_record *rec)
{
	char path[4096];

	switch (rec->type) {
	case JOURNAL_SOURCE:
		return add_source(l, rec->source, rec->text, rec->text_len, rec->rank);
	case JOURNAL_LINE:
		if (rec->source >= l->source_count)
			return -1;
		process_line(l, rec->source, rec->text, rec->text_len, rec->line_no, rec->verdict);
		return 0;
	case JOURNAL_RELEASE:
		merge_release_count(l->merge, rec->count);
		return 0;
	case JOURNAL_ADVANCE:
		advance_to(l, rec->time_ms);
		return 0;
	case JOURNAL_RULES:
		if (rec->name_len >= sizeof(path))
			return -1;
		memcpy(path, rec->name, rec->name_len);
		path[rec->name_len] = '\0';
		return load_rules_text(l, path, rec->text ? rec->text : "", rec->text_len);
	case JOURNAL_WAITING:
		check_waiting(l, rec->time_ms);
		return 0;
	case JOURNAL_CUT:
		/* The live run cut only after the previous cut was acknowledged; cuts are
		 * only made once the sequence is known: the sender takes it so. */
		positions_replace(l, rec->positions, rec->position_count);
		return cut_to_sender(l, rec->first_seq);
	}
	return -1;
}

static int replay_record(void *ctx, const void *record, size_t len)
{
	struct replay *rp = ctx;
	struct journal_record rec;
	int status;

	if (++rp->record > rp->last_cut)
		return 0;
	if (journal_record_decode(record, len, &rec) == -1)
		return -1;
	status = replay_one(rp->live, &rec);
	if (rec.type == JOURNAL_CUT) { /* its positions are the live state's now */
		rec.positions = NULL;
		rec.position_count = 0;
	}
	journal_record_clear(&rec);
	return status;
}

/* Loads the snapshot and replays its journal, then starts a fresh generation. */
static int recover(struct live *l, const char *rules_path)
{
	char err[512];
	void *body;
	size_t len;
	uint64_t generation = 0;
	int found =
	    state_snapshot_read(l->cfg->state_dir, &generation, &body, &len, err, sizeof(err));
	struct replay rp = {l, 0, 0};
	long records;

	if (found == -1) {
		log_errx("%s", err);
		return -1;
	}
	if (found == 1) {
		if (restore(l, body, len) == -1) {
			free(body);
			log_errx("snapshot in %s is unreadable", l->cfg->state_dir);
			return -1;
		}
		free(body);
		l->generation = generation;
	} else {
		/* First start: the configured rules, read as a reload reads them. */
		char *text;
		size_t text_len;
		struct rules *rules =
		    rules_file_load(rules_path, &text, &text_len, err, sizeof(err));
		if (rules == NULL)
			fatalx("%s", err);
		if (install_rules(l, rules_path ? rules_path : "", text, text_len, rules) == -1)
			fatalx("%s: too many distinct lost reasons", rules_path);
		free(text);
	}
	if (state_journal_replay(l->cfg->state_dir, l->generation, count_cuts, &rp, err,
	                         sizeof(err)) == -1) {
		log_errx("%s", err);
		return -1;
	}
	/* A journal follows its snapshot's writer; cuts of an older one would be rebuilt
	 * split otherwise, under sequences Redis may have applied (a crash, not a stop:
	 * a stop leaves an empty journal). */
	if (found == 1 && l->state_version < 6 && rp.last_cut > 0) {
		log_warnx("the journal in %s holds batches made by an older chatlogd (it did not "
		          "stop cleanly): %s",
		          l->cfg->state_dir, OLDER_STATE_ADVICE);
		return -1;
	}
	/* The same for a journal cut with the other window_writes: its batches split
	 * otherwise. */
	if (rp.last_cut > 0 && l->state_windows_changed_only != l->publish.windows_changed_only) {
		log_warnx("the journal in %s holds batches made with window_writes = %s (chatlogd "
		          "did not stop cleanly): start once with that setting and stop with "
		          "SIGTERM, then change it",
		          l->cfg->state_dir,
		          l->state_windows_changed_only ? "changed" : "every_flush");
		return -1;
	}
	rp.record = 0;
	records = state_journal_replay(l->cfg->state_dir, l->generation, replay_record, &rp, err,
	                               sizeof(err));
	if (records == -1) {
		log_errx("%s", err);
		return -1;
	}
	if (found == 1 || records > 0)
		log_info("recovered generation=%llu journal_records=%ld held_inquiries=%zu "
		         "next_seq=%llu",
		         (unsigned long long)l->generation, rp.last_cut, engine_held(l->engine),
		         (unsigned long long)sender_next_seq(l->sender));
	return snapshot(l);
}

/* ---- timers, signals ---- */

/*
 * The memory that counts waiting for Redis hold, which max_pending_bytes bounds: the
 * cut in flight as it is (its rows, and the Redis commands they were encoded into),
 * rows not cut yet at what they will cost once cut (LIMIT_PENDING_ROW_COST times
 * their size: row and commands live together until Redis acknowledges the cut), and
 * journal records not yet written. Counting pending rows at their size alone let the
 * cut made when Redis came back take about 2.5 times the cap.
 */
static size_t pending_bytes(const struct live *l)
{
	return counter_table_count(l->pending) * LIMIT_PENDING_ROW_COST *
	           sizeof(struct counter_row) +
	       counter_table_count(l->inflight) * sizeof(struct counter_row) +
	       sender_cut_bytes(l->sender) + state_journal_queued(l->journal);
}

/* Pauses reading past max_pending_bytes and resumes below 3/4 of it. Called at every
 * line, so the cap is passed by at most what one read (LIMIT_READ_CHUNK of log) adds,
 * and at every flush tick, which is when pending memory shrinks. */
static void backpressure(struct live *l)
{
	size_t bytes = pending_bytes(l);
	size_t cap = (size_t)l->cfg->max_pending_bytes;

	if (bytes > l->pending_peak)
		l->pending_peak = bytes;
	if (!l->paused && bytes > cap) {
		log_warnx("pending counters reached max_pending_bytes=%zu; reading paused until "
		          "Redis catches up",
		          cap);
		tail_pause(l->tail);
		l->paused = 1;
	} else if (l->paused && bytes < cap / 4 * 3 && !l->stopping) {
		log_info("reading resumed");
		tail_resume(l->tail);
		l->paused = 0;
	}
}

/* Bytes read per file per loop turn: 4 MiB, or 1/64 of a cap below 256 MiB. */
static size_t read_budget(size_t max_pending_bytes)
{
	size_t budget = 4u * 1024 * 1024;

	return max_pending_bytes / 64 < budget ? max_pending_bytes / 64 : budget;
}

static void quit(struct live *l)
{
	event_base_loopexit(l->base, NULL);
}

/* Buyers waiting past a stage by the wall clock: journaled, so a replay repeats the
 * check at the same time. */
static void waiting_due(struct live *l)
{
	int64_t t = clock_wall_ms();
	struct wire_writer w = {0};

	if (l->stopping || !engine_waiting_due(l->engine, t))
		return;
	journal_record_put_waiting(&w, t);
	journal_put(l, &w);
	wire_writer_free(&w);
	check_waiting(l, t);
}

/*
 * Gives memory freed after a burst (a backlog read at start makes tables, batches
 * and the merge big for a while) back to the system, at most once a minute and only
 * when malloc holds much more free than the daemon uses: RSS then follows what is
 * held, not the biggest moment since start.
 */
static void return_free_memory(struct live *l)
{
#ifdef __GLIBC__
	int64_t now = clock_monotonic_ms();
	struct mallinfo2 info;

	if (now - l->trimmed_ms < TRIM_INTERVAL_MS)
		return;
	l->trimmed_ms = now;
	info = mallinfo2();
	if (info.fordblks > TRIM_FREE_BYTES && info.fordblks > info.uordblks / 2)
		malloc_trim(0);
#else
	(void)l;
#endif
}

static void on_flush(evutil_socket_t fd, short what, void *ctx)
{
	struct live *l = ctx;
	int64_t event_time, held_from;
	(void)fd;
	(void)what;

	return_free_memory(l);
	if (!l->stopping)
		release_due(l);
	event_time = engine_event_time(l->engine);
	held_from = merge_earliest_held(l->merge);
	/* Quiet logs: event time follows the wall clock, so idle shops still close; never
	 * past a record the merge still holds, which must come first. */
	if (l->lines_since_tick == 0 && event_time != INT64_MIN &&
	    clock_wall_ms() - l->cfg->wall_clock_lag_ms > event_time &&
	    held_from - 1 > event_time && !l->stopping) {
		int64_t t = clock_wall_ms() - l->cfg->wall_clock_lag_ms;
		if (t > held_from - 1)
			t = held_from - 1;
		struct wire_writer w = {0};
		journal_record_put_advance(&w, t);
		journal_put(l, &w);
		wire_writer_free(&w);
		advance_to(l, t);
	}
	l->lines_since_tick = 0;
	if (!sender_busy(l->sender) && counter_table_count(l->pending) == 0)
		l->waiting_since_ms = 0;
	else if (l->waiting_since_ms == 0)
		l->waiting_since_ms = clock_monotonic_ms();

	waiting_due(l);

	if (l->journal_failing && journal_sync(l) == 0)
		sender_tick(l->sender);
	if (sender_busy(l->sender) && cut_wanted(l))
		/* A slow cut (a window slide, Redis busy) must not make the lines read since
		 * wait a whole interval more: cut as soon as it is acknowledged. */
		l->tick_missed = 1;
	if (!sender_busy(l->sender) && sender_seq_known(l->sender) && cut_wanted(l))
		cut(l);
	else if (state_journal_queued(l->journal) > 0)
		journal_sync(l); /* bounds memory; lines after the last cut replay as re-reads */
	else
		sender_tick(l->sender); /* an error reply is retried here */

	if (!l->stopping && !l->journal_failing && clock_monotonic_ms() >= l->snapshot_retry_ms &&
	    (clock_monotonic_ms() - l->last_snapshot_ms >= l->cfg->checkpoint_interval_ms ||
	     state_journal_size(l->journal) > JOURNAL_SNAPSHOT_BYTES))
		snapshot(l);
	backpressure(l);
	sd_notifyf(0, "STATUS=lines=%llu records=%llu errors=%llu held=%zu redis=%s",
	           (unsigned long long)l->ingest.stats.lines,
	           (unsigned long long)l->ingest.stats.records,
	           (unsigned long long)l->ingest.stats.errors, engine_held(l->engine),
	           store_connected(l->store) ? "up" : "down");

	if (l->stopping && ((!sender_busy(l->sender) && counter_table_count(l->pending) == 0 &&
	                     alerts_pending(l->alerts) == 0) ||
	                    clock_monotonic_ms() > l->stop_deadline_ms)) {
		if (sender_busy(l->sender))
			log_warnx("stopping with batch seq=%llu unacknowledged; it is sent at the "
			          "next start",
			          (unsigned long long)sender_resend_seq(l->sender));
		snapshot(l);
		quit(l);
	}
}

static void on_watchdog(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	(void)ctx;
	sd_notify(0, "WATCHDOG=1");
}

static void on_stop_signal(evutil_socket_t fd, short what, void *ctx)
{
	struct live *l = ctx;
	(void)what;
	if (l->stopping)
		return;
	log_info("signal=%d: flushing and stopping", (int)fd);
	sd_notify(0, "STOPPING=1");
	l->stopping = 1;
	l->stop_deadline_ms = clock_monotonic_ms() + SHUTDOWN_GRACE_MS;
	tail_pause(l->tail);
}

/* SIGHUP: new patterns take effect at once (journaled, so a replay swaps them at the
 * same line); a bad file keeps the running set. Other settings need a restart. */
static void on_hangup(evutil_socket_t fd, short what, void *ctx)
{
	struct live *l = ctx;
	struct config fresh;
	char path[4096], err[512];
	char *text = NULL;
	size_t len = 0;
	struct rules *rules;
	struct wire_writer w = {0};
	(void)fd;
	(void)what;

	memset(&fresh, 0, sizeof(fresh));
	if (l->reload == NULL ||
	    l->reload(l->reload_ctx, &fresh, path, sizeof(path), err, sizeof(err)) == -1) {
		log_warnx("reload failed, keeping the running settings: %s", err);
		config_free(&fresh);
		return;
	}
	/* log_level first: turning on debug is how one finds out why patterns are refused */
	log_set_level(log_level_parse(fresh.log_level));
	/* The same reader and limit as start-up: a directory or an oversized file is
	 * refused here too, not loaded as no rules or as its first megabyte. */
	if ((rules = rules_file_load(path, &text, &len, err, sizeof(err))) == NULL) {
		log_warnx("reload failed, keeping the running patterns: %s", err);
		goto done;
	}
	if (install_rules(l, path, text, len, rules) == -1) {
		log_warnx("reload failed, keeping the running patterns: %s: too many distinct "
		          "lost reasons",
		          path);
		goto done;
	}
	/* Journaled right after, before any other line: a replay swaps at the same place. */
	journal_record_put_rules(&w, path, text, len);
	journal_put(l, &w);
	log_info("reloaded patterns=%s rules=%u; other settings take effect at the next start",
	         path[0] ? path : "none", rules_count(l->rules));
done:
	wire_writer_free(&w);
	free(text);
	config_free(&fresh);
}

static void on_redis_state(void *ctx, int connected, const char *reason)
{
	struct live *l = ctx;
	if (connected) {
		log_info("redis connected");
		sender_connected(l->sender); /* asks first: did Redis keep what it applied? */
	} else {
		log_warnx("redis disconnected reason=\"%s\"", reason ? reason : "");
		sender_disconnected(l->sender);
	}
}

/* ---- setup ---- */

static int live_init(struct live *l, const struct config *cfg)
{
	struct engine_settings settings;
	struct alert_settings alert_settings = {cfg->alert_window_ms, cfg->alert_min_samples,
	                                        cfg->frt_target_ms, cfg->art_target_ms};
	char err[512], seq_key[512];
	struct sender_hooks hooks = {.cut_done = on_cut_done, .refused = on_refused, .ctx = l};

	memset(l, 0, sizeof(*l));
	l->cfg = cfg;
	l->inflight_as_of = INT64_MIN; /* no cut yet */
	l->quiet_clock = INT64_MIN;
	l->state_warn = (struct log_ratelimit){.per_second = 1, .window_ms = STATE_WARN_WINDOW_MS};
	l->sources_warn =
	    (struct log_ratelimit){.per_second = 1, .window_ms = STATE_WARN_WINDOW_MS};
	if (cfg->instance[0] != '\0')
		snprintf(l->instance, sizeof(l->instance), "%s", cfg->instance);
	else if (gethostname(l->instance, sizeof(l->instance) - 1) == -1)
		snprintf(l->instance, sizeof(l->instance), "chatlogd");
	/* strict_sequence stays 0: one batch is in flight at a time (docs/exactly-once.md) */
	l->publish = (struct publish_settings){.prefix = cfg->prefix,
	                                       .instance = l->instance,
	                                       .minute_ttl_s = cfg->minute_ttl_ms / 1000,
	                                       .day_ttl_s = cfg->day_ttl_ms / 1000,
	                                       .max_rows_per_batch = 2000,
	                                       /* renewed by every batch with counts of
	                                        * the shop; a shop moved to another daemon,
	                                        * or a daemon renamed, is free 10 min after
	                                        * the last of them */
	                                       .claim_shops = 1,
	                                       .claim_ttl_s = 600,
	                                       .windows_changed_only =
	                                           strcmp(cfg->window_writes, "changed") == 0};
	l->state_windows_changed_only = l->publish.windows_changed_only; /* until a restore */
	publish_seq_key(&l->publish, seq_key, sizeof(seq_key));
	l->sender = sender_new(
	    &(struct sender_settings){
	        .seq_key = seq_key,
	        .instance = l->instance,
	        .state_dir = cfg->state_dir,
	        .count_again = strcmp(cfg->state_mismatch, "count_again") == 0,
	    },
	    &hooks);
	if ((l->service_hours = engine_config_settings(cfg, 1, &settings, err, sizeof(err))) ==
	    NULL)
		fatalx("%s", err);
	l->names = names_new();
	reasons_init(&l->reasons);
	l->pending = counter_table_new(1);
	l->inflight = counter_table_new(1);
	l->windows = windows_new();
	l->alerts = alerts_new(&alert_settings);
	l->shop_totals = counter_table_new(0);
	if (strcmp(cfg->metrics_per_agent, "on") == 0)
		l->agent_totals = counter_table_new(0);
	l->engine = engine_new(&settings, l->names, &l->reasons, l->pending);
	engine_set_observer(l->engine, on_response, l);
	if ((l->parser = parser_new(cfg->format, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	ingest_init(&l->ingest, l->parser, l->engine);
	l->merge =
	    merge_new(&(struct merge_settings){.grace_ms = cfg->merge_grace_ms}, on_release, l);
	if (mkdir(cfg->state_dir, 0700) == -1 && errno != EEXIST)
		fatal("cannot create state_dir %s", cfg->state_dir);
	return 0;
}

static void live_free(struct live *l)
{
	http_free(l->http);
	tail_free(l->tail);
	store_free(l->store); /* before the sender: its pending replies go there */
	sender_free(l->sender);
	state_journal_close(l->journal);
	positions_replace(l, NULL, 0);
	clear_sources(l);
	wire_writer_free(&l->line_record);
	merge_free(l->merge);
	engine_free(l->engine);
	service_hours_set_free(l->service_hours);
	parser_free(l->parser);
	rules_free(l->rules);
	free(l->rules_name);
	free(l->rules_text);
	counter_table_free(l->pending);
	counter_table_free(l->inflight);
	windows_free(l->windows);
	alerts_free(l->alerts);
	free(l->inflight_alerts);
	counter_table_free(l->shop_totals);
	counter_table_free(l->agent_totals);
	reasons_free(&l->reasons);
	names_free(l->names);
	if (l->flush_timer)
		event_free(l->flush_timer);
	if (l->wait_timer)
		event_free(l->wait_timer);
	if (l->alert_timer)
		event_free(l->alert_timer);
	if (l->watchdog_timer)
		event_free(l->watchdog_timer);
	if (l->sigterm)
		event_free(l->sigterm);
	if (l->sigint)
		event_free(l->sigint);
	if (l->sighup)
		event_free(l->sighup);
	/* Last, with nothing else left on the loop: queued alert posts get a moment. */
	webhook_drain(l->webhook, WEBHOOK_DRAIN_MS);
	webhook_free(l->webhook);
	if (l->base)
		event_base_free(l->base);
}

/* The render /metrics sends in slices: the figures of this moment, the counter
 * tables borrowed (http_free goes first in live_free). */
static struct metrics_render *render_metrics(void *ctx)
{
	struct live *l = ctx;
	struct tail_file_stats files[256];
	struct metrics_snapshot m = {0};
	struct sender_stats sent;
	struct rediscluster_stats cluster;

	m.files = files;
	m.file_count = tail_stats(l->tail, files, sizeof(files) / sizeof(files[0]));
	m.unreadable_files = tail_problems(l->tail, NULL);
	m.skipped_paths = tail_skipped(l->tail);
	m.input = l->ingest.stats;
	m.held_inquiries = engine_held(l->engine);
	merge_stats(l->merge, &m.merge);
	m.redis_connected = store_connected(l->store);
	if (store_cluster_stats(l->store, &cluster) == 0) {
		m.redis_cluster = 1;
		m.cluster_moved = cluster.moved;
		m.cluster_asked = cluster.asked;
		m.cluster_retry_later = cluster.retry_later;
		m.cluster_refreshes = cluster.refreshes;
	}
	m.journal_failing = l->journal_failing;
	m.reading_paused = l->paused;
	m.backlog_rows = counter_table_count(l->pending) + counter_table_count(l->inflight);
	m.pending_bytes = pending_bytes(l);
	m.pending_bytes_peak = l->pending_peak;
	m.max_pending_bytes = (size_t)l->cfg->max_pending_bytes;
	sender_stats(l->sender, &sent);
	m.backlog_batches = sent.backlog_batches;
	m.batches_applied = sent.batches_applied;
	m.batches_skipped = sent.batches_skipped;
	m.batches_rejected = sent.batches_rejected;
	m.batches_lost = sent.lost_batches;
	m.shops_refused = sent.shops_refused;
	m.last_flush_seconds = l->last_flush_seconds;
	memcpy(m.alerts, l->alerts_by_type, sizeof(m.alerts));
	m.shop_totals = l->shop_totals;
	m.agent_totals = l->agent_totals;
	m.names = l->names;
	m.reasons = &l->reasons;
	webhook_stats(l->webhook, &m.webhook);
	return metrics_render_new(&m);
}

/*
 * /healthz says ok only while what is read reaches Redis: degraded, with the reasons,
 * while the journal cannot be written, Redis is unreachable, Redis rejects batches,
 * counts wait and nothing was acknowledged for HEALTH_STALL_FLUSHES flushes, or Redis
 * lost batches it had applied (until a restart: its numbers are short).
 */
static int report_health(void *ctx, struct evbuffer *out)
{
	struct live *l = ctx;
	int64_t now = clock_monotonic_ms(),
	        stall_ms = l->cfg->flush_interval_ms * HEALTH_STALL_FLUSHES;
	struct sender_stats sent;
	int waiting, stalled;
	char reason[7][512], escaped[1024];
	const char *unreadable = NULL;
	int count = 0;

	sender_stats(l->sender, &sent);
	waiting = sender_busy(l->sender) || counter_table_count(l->pending) > 0;
	stalled = waiting && l->waiting_since_ms != 0 && now - l->waiting_since_ms > stall_ms &&
	          now - sent.last_applied_ms > stall_ms;

	if (l->journal_failing)
		snprintf(reason[count++], sizeof(reason[0]),
		         "the journal cannot be written: nothing is sent");
	if (!store_connected(l->store))
		snprintf(reason[count++], sizeof(reason[0]), "redis is unreachable");
	if (sent.last_rejection[0] != '\0')
		snprintf(reason[count++], sizeof(reason[0]), "redis rejects batches: %s",
		         sent.last_rejection);
	if (sent.refused_at_ms != 0 && now - sent.refused_at_ms < 60000)
		snprintf(reason[count++], sizeof(reason[0]), "redis leaves shops out: %s",
		         sent.last_refused);
	if (stalled)
		snprintf(reason[count++], sizeof(reason[0]),
		         "counts wait and redis acknowledged nothing for %lld s",
		         (long long)((now - l->waiting_since_ms) / 1000));
	if (sent.lost_batches > 0)
		snprintf(reason[count++], sizeof(reason[0]),
		         "redis lost batches %llu..%llu after applying them",
		         (unsigned long long)sent.lost_first, (unsigned long long)sent.lost_last);
	if (tail_problems(l->tail, &unreadable) > 0)
		snprintf(reason[count++], sizeof(reason[0]), "%s", unreadable);
	evbuffer_add_printf(out, "{\"status\":\"%s\",\"reasons\":[", count ? "degraded" : "ok");
	for (int i = 0; i < count; i++) {
		char *p = escaped;
		json_write_escape(&p, escaped + sizeof(escaped) - 1, reason[i], strlen(reason[i]));
		*p = '\0';
		evbuffer_add_printf(out, "%s\"%s\"", i ? "," : "", escaped);
	}
	evbuffer_add_printf(out,
	                    "],\"redis\":\"%s\",\"journal\":\"%s\",\"reading\":\"%s\","
	                    "\"held_inquiries\":%zu}\n",
	                    store_connected(l->store) ? "up" : "down",
	                    l->journal_failing ? "failing" : "ok", l->paused ? "paused" : "running",
	                    engine_held(l->engine));
	return count == 0;
}

static struct event *add_timer(struct live *l, int64_t every_ms,
                               void (*fn)(evutil_socket_t, short, void *))
{
	struct timeval tv = {(time_t)(every_ms / 1000), (suseconds_t)(every_ms % 1000) * 1000};
	struct event *ev = event_new(l->base, -1, EV_PERSIST, fn, l);
	if (ev == NULL || event_add(ev, &tv) == -1)
		fatalx("cannot arm a timer");
	return ev;
}

static struct event *add_signal(struct live *l, int signo,
                                void (*fn)(evutil_socket_t, short, void *))
{
	struct event *ev = evsignal_new(l->base, signo, fn, l);
	if (ev == NULL || event_add(ev, NULL) == -1)
		fatalx("cannot watch signal %d", signo);
	return ev;
}

int live_run(const struct config *cfg, const char *rules_path, live_reload_fn reload,
             void *reload_ctx)
{
	struct live l;
	struct tail_settings tail_settings = {
	    .patterns = (const char *const *)cfg->inputs,
	    .pattern_count = cfg->input_count,
	    .max_line_bytes = (size_t)cfg->max_line_bytes,
	    .poll_interval_ms = 1000,
	    .rescan_interval_ms = 5000,
	    /* Reading pauses at max_pending_bytes only between reads, so a small cap reads
	     * in smaller pieces: what one read adds stays a small part of the cap. */
	    .read_budget_bytes = read_budget((size_t)cfg->max_pending_bytes),
	    .rotate_wait_ms = 0,
	    .rotated_names = cfg->rotated_names};
	struct store_settings store_settings = {
	    .redis = {.url = cfg->redis,
	              .password_file = cfg->redis_password_file,
	              .cluster = strcmp(cfg->redis_cluster, "on") == 0,
	              .connect_timeout_ms = 5000,
	              .command_timeout_ms =
	                  cfg->flush_interval_ms * 5 > 10000 ? cfg->flush_interval_ms * 5 : 10000,
	              .backoff_min_ms = 100,
	              .backoff_max_ms = 5000},
	    .publish = &l.publish};
	uint64_t watchdog_usec = 0;
	char err[512], where[512];

	/* A reload asked for while starting (before the loop watches SIGHUP) must not
	 * kill the daemon, SIGHUP's default: the settings are being read now anyway. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	live_init(&l, cfg);
	l.reload = reload;
	l.reload_ctx = reload_ctx;
	if ((l.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if (recover(&l, rules_path) == -1)
		fatalx("cannot recover state from %s. Restore it from a backup, or rebuild the "
		       "counts from the logs (docs/operations.md, Recovering); moving it away "
		       "alone makes chatlogd refuse to start while Redis holds this instance's "
		       "batches",
		       cfg->state_dir);
	if ((l.tail = tail_new(l.base, &tail_settings, on_line, &l, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	tail_set_follow(l.tail, on_follow, &l);
	if (tail_restore(l.tail, l.positions, l.position_count) == -1 || tail_start(l.tail) == -1)
		fatalx("cannot start following the inputs");
	/* Saves where every file starts (its inode) before the first cut, so that a file
	 * rotated while we are down before that cut is still found (docs/tailing.md). */
	if (snapshot(&l) == -1)
		fatalx("cannot write a snapshot in %s", cfg->state_dir);
	if ((l.store = store_new(l.base, &store_settings, on_redis_state, &l, err, sizeof(err))) ==
	    NULL)
		fatalx("%s", err);
	sender_attach(l.sender, l.store);
	if (cfg->alert_webhook[0] != '\0' &&
	    (l.webhook = webhook_new_from_config(l.base, cfg, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (cfg->http_listen[0] != '\0') {
		struct http_handlers handlers = {
		    .metrics = render_metrics, .health = report_health, .ctx = &l};
		if ((l.http = http_start(l.base, cfg->http_listen, &handlers, err, sizeof(err))) ==
		    NULL)
			fatalx("%s", err);
	}
	l.flush_timer = add_timer(&l, cfg->flush_interval_ms, on_flush);
	if ((l.wait_timer = evtimer_new(l.base, on_wait_timer, &l)) == NULL ||
	    (l.alert_timer = evtimer_new(l.base, on_alert_timer, &l)) == NULL)
		fatalx("cannot arm a timer");
	if (sd_watchdog_enabled(0, &watchdog_usec) > 0)
		l.watchdog_timer = add_timer(&l, (int64_t)(watchdog_usec / 2000), on_watchdog);
	l.sigterm = add_signal(&l, SIGTERM, on_stop_signal);
	l.sigint = add_signal(&l, SIGINT, on_stop_signal);
	l.sighup = add_signal(&l, SIGHUP, on_hangup);
	/* the endpoint, not cfg->redis: the URL may hold a password */
	log_info("started instance=%s inputs=%zu redis=\"%s\" state_dir=%s", l.instance,
	         cfg->input_count, store_endpoint(l.store, where, sizeof(where)), cfg->state_dir);
	sd_notify(0, "READY=1");
	event_base_dispatch(l.base);
	live_free(&l);
	return l.exit_status;
}
