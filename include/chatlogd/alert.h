/*
 * Alerts (reference.md §7): per agent, the responses of the last alert_window of event time;
 * an alert is raised when the average first response or the average response is over
 * its target with enough samples, and cleared when the raised metric is back within
 * target with enough samples and neither is over. A raised alert whose metric runs out
 * of samples instead ends as "expired": nothing says the agent is back. Deterministic
 * (fed by the engine's responses and event time), so replays give the same alerts.
 */
#ifndef CHATLOGD_ALERT_H
#define CHATLOGD_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"

struct alerts;
struct wire_writer;
struct wire_reader;

struct alert_settings {
	int64_t window_ms;
	int64_t min_samples;
	int64_t frt_target_ms;
	int64_t art_target_ms;
};

/* What an event says. An alert that ends is ALERT_CLEARED in both its endings: the
 * agent's standing alert is gone either way (Redis drops it, /metrics counts it as
 * cleared). ALERT_EXPIRED in `frt` tells the two apart for people and programs. */
enum alert_type {
	ALERT_RAISED,
	ALERT_CLEARED,
	ALERT_WAITING, /* a buyer has waited past the target (or past escalate_after) */
	ALERT_WARNING, /* a buyer has waited warn_at: the target is near */
	ALERT_TYPE_COUNT
};

/* Bits of alert_event.frt. The flag lives in an existing field because callers
 * (live.c) fill alert_event positionally: a new member would leave their initializers
 * short (-Wmissing-field-initializers), a new alert_type would overrun their arrays
 * indexed by type. With designated initializers everywhere it can become a field. */
#define ALERT_FRT 1 /* the metric is frt (else art) */
#define ALERT_EXPIRED                                                                              \
	2 /* ALERT_CLEARED only: the raised metric fell below min_samples                          \
	     in the window (value_ms and samples are what is left: an                              \
	     average of fewer samples than an alert needs, 0 for none), so                         \
	     the message's type is "expired", not "cleared" */

struct alert_event {
	enum alert_type type;
	uint32_t shop, agent;
	int frt;          /* ALERT_FRT: metric frt, else art; ALERT_EXPIRED (see above) */
	int64_t value_ms; /* the window's average (waiting: how long the buyer waits) */
	int64_t target_ms;
	int64_t samples;
	int64_t window_s;
	int64_t ts_ms;   /* event time of the decision (waiting: the wall clock) */
	char buyer[257]; /* waiting alerts: who waits ("" otherwise) */
};

/* 1 when ev's metric is frt, 0 art. */
int alert_is_frt(const struct alert_event *ev);

/* 1 when ev ends an alert whose window ran out of samples (type "expired"). */
int alert_is_expired(const struct alert_event *ev);

/* The message type: "raised", "cleared", "waiting" or "expired". */
const char *alert_type_name(const struct alert_event *ev);

struct alerts *alerts_new(const struct alert_settings *settings);
void alerts_free(struct alerts *a);

/* A response the engine counted (first = it was the inquiry's first response). */
void alerts_response(struct alerts *a, uint32_t shop, uint32_t agent, int64_t ts_ms, int64_t ms,
                     int first);

/* Event time is now_ms: samples older than the window leave it; may clear alerts. */
void alerts_advance(struct alerts *a, int64_t now_ms);

/* Adds an event from outside (waiting alerts come from the wall clock). */
int alerts_push(struct alerts *a, const struct alert_event *ev);

/* Events waiting to be taken. */
size_t alerts_pending(const struct alerts *a);

/* Events produced since the last call; the array stays valid until the next call
 * to any alerts function. */
size_t alerts_take(struct alerts *a, const struct alert_event **events);

/* 1 when the agent's alert is raised. */
int alerts_active(const struct alerts *a, uint32_t shop, uint32_t agent);

/* The reference.md §7 message: {"type":"raised","shop":...,"ts":"..."}; names resolve ids.
 * type is alert_type_name(ev).
 * A waiting alert also names the buyer ("buyer":"..."). Returns its length; cut short
 * (NUL-terminated, never past size) if size is too small: ALERT_MESSAGE_MAX always
 * suffices (three names of LIMIT_NAME_BYTES, each byte escaped to at most 6). */
#define ALERT_MESSAGE_MAX (3 * 6 * LIMIT_NAME_BYTES + 512)
struct names;
size_t alert_format(const struct alert_event *ev, const struct names *names, char *out,
                    size_t size);

/* printf at *p, never past end: advances *p by what fit (keeping room for the NUL). */
void alert_put(char **p, char *end, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One event, for state files (frt with its flags, as it is: files written before
 * ALERT_EXPIRED existed load unchanged). */
void alert_event_save(const struct alert_event *ev, struct wire_writer *w);
int alert_event_load(struct alert_event *ev, struct wire_reader *r);

void alerts_save(const struct alerts *a, struct wire_writer *w);
int alerts_load(struct alerts *a, struct wire_reader *r);

#endif
