/*
 * The metrics engine (reference.md §3): fed one record at a time, it keeps the open and
 * held inquiries and emits counter deltas into a counter table, attributed to the
 * right (shop, agent, minute). It reads no files and talks to no network.
 */
#ifndef CHATLOGD_ENGINE_H
#define CHATLOGD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "reasons.h"
#include "names.h"
#include "record.h"
#include "rules.h"

struct service_hours_set;

struct engine_settings {
	int64_t session_idle_ms;
	int64_t order_window_ms;
	int64_t frt_target_ms;
	int64_t art_target_ms;
	int64_t post_sale_window_ms; /* 0: no conversation is post-sale */
	/* The monthly assessment's counters (hours_responses, hours_responses_3m,
	 * slow_responses, returning, returning_ordered) are counted only when this is 1,
	 * so that by default the counters are exactly the contract's. */
	int assessment_counters;
	/* Responses slower than this are slow_responses; an inquiry whose buyer last
	 * ordered more than post_sale_window and at most this before it is `returning`
	 * (0: none is). Order times are kept that long only while the counters are on. */
	int64_t slow_response_ms;
	int64_t returning_window_ms;
	/* When buyers are served (borrowed; NULL: always): turns beginning outside give
	 * no waiting alerts and are left out of hours_responses. */
	const struct service_hours_set *service_hours;
	/* Live mode, a buyer waiting for an answer: a warning this long into the wait
	 * when it is below the turn's target, an escalation when it is above; 0: none. */
	int64_t warn_at_ms;
	int64_t escalate_after_ms;
	/* Ceilings on what a stream of new names can make the engine hold (live mode;
	 * 0: none): distinct shop and agent names, and buyers remembered at once. A
	 * record that would pass one is refused (engine_feed returns -1), so memory
	 * stays bounded and a restart replays the same refusals. */
	uint32_t max_names;
	uint32_t max_buyers;
	/* 1: keep deadline queues so engine_advance() can close and decide by event
	 * time (live mode). 0: nothing is decided before engine_finish() (batch mode,
	 * exact whatever order the files come in). */
	int track_deadlines;
};

struct engine;

/* Creates an engine emitting into `sink`. names, reasons and sink are borrowed and
 * must outlive the engine. */
struct engine *engine_new(const struct engine_settings *settings, struct names *names,
                          struct reasons *reasons, struct counter_table *sink);
void engine_free(struct engine *e);

/* Uses `rules` (borrowed) for lost reasons from now on; registers their reasons.
 * Held inquiries keep the reason they already matched, mapped to the new set's first
 * rule of that reason (none if the reason is gone). The previous set may be freed
 * after the call. Returns 0, or -1 when the reason registry is full. */
int engine_set_rules(struct engine *e, struct rules *rules);

/* Told of every response as it is counted (first: the inquiry's first response; ms
 * already clamped at 0). For alerts; it must not call back into the engine. */
typedef void (*engine_response_fn)(void *ctx, uint32_t shop, uint32_t agent, int64_t ts_ms,
                                   int64_t ms, int first);
void engine_set_observer(struct engine *e, engine_response_fn fn, void *ctx);

/* Emits into `sink` (borrowed) from now on: the live daemon swaps tables at a cut. */
void engine_set_sink(struct engine *e, struct counter_table *sink);

/* Processes one record. With track_deadlines it then moves the record's shop clock
 * to its ts (if later): that shop's inquiries idle for more than session_idle are
 * closed, those opened more than order_window before are decided. Each shop has its
 * own clock, so a shop's records read late do not harm another shop's. Returns 0,
 * or -1 with a reason in err when the record is rejected (a reserved agent name) or
 * memory ran out; nothing was counted then. */
int engine_feed(struct engine *e, const struct record *rec, char *err, size_t errlen);

/* Moves every shop's clock to at least now_ms (the wall clock when the logs are
 * quiet): closes inquiries idle for more than session_idle before it and decides
 * those opened more than order_window before it. Needs track_deadlines. */
void engine_advance(struct engine *e, int64_t now_ms);

/* How long a buyer has waited for an answer: nearly at the target (warn_at_ms),
 * past it (frt for a first turn, else art), or long past it (escalate_after_ms). */
enum engine_wait_stage { ENGINE_WAIT_WARNING, ENGINE_WAIT_BREACH, ENGINE_WAIT_ESCALATE };

struct engine_wait {
	uint32_t shop, agent; /* agent: the inquiry's, or NAME_NO_AGENT when unknown */
	struct text_view buyer;
	int first;
	enum engine_wait_stage stage;
	int64_t since_ms;     /* when the turn began */
	int64_t target_ms;    /* the turn's target */
	int64_t threshold_ms; /* the wait this stage stands for */
};

/* 1 when some open turn may have reached a stage by now_ms. */
int engine_waiting_due(const struct engine *e, int64_t now_ms);

/* The earliest time an open turn may reach a stage (a timer may be armed for it;
 * the entry may be stale); INT64_MAX when none. */
int64_t engine_next_wait(const struct engine *e);

/* Calls fn once per stage each open turn has reached by now_ms and that was not
 * reported yet (once per turn and stage, also across snapshots), in deadline order.
 * Needs track_deadlines. */
void engine_waiting(struct engine *e, int64_t now_ms,
                    void (*fn)(void *ctx, const struct engine_wait *w), void *ctx);

/* End of input: closes every inquiry and decides every outcome. */
void engine_finish(struct engine *e);

/* engine_finish, calling after(ctx) once each inquiry's outcome is in the sink: the
 * caller may hand the sink's rows on there (--once --redis), so the outcomes of a
 * long batch never pile up in one table. */
void engine_finish_each(struct engine *e, void (*after)(void *ctx), void *ctx);

/* Newest record timestamp seen (event time); INT64_MIN before any record. */
int64_t engine_event_time(const struct engine *e);

/* Inquiries held (open, or closed and waiting for the order window). */
size_t engine_held(const struct engine *e);

struct wire_writer;
struct wire_reader;

/* Writes the held inquiries and event time (names are saved separately: the ids
 * in the section refer to the names table). */
void engine_save(const struct engine *e, struct wire_writer *w);

/* Restores what engine_save wrote into a fresh engine (nothing fed yet), so that it
 * then emits exactly what the saved one would have. Returns 0, or -1 on a malformed
 * section (the engine is then unusable: free it). */
int engine_load(struct engine *e, struct wire_reader *r);

#endif
