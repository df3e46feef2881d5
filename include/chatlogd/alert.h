/*
 * Alerts (SPEC §7): per agent, the responses of the last alert_window of event time;
 * an alert is raised when the average first response or the average response is over
 * its target with enough samples, and cleared when neither is. Deterministic (fed by
 * the engine's responses and event time), so replays give the same alerts.
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

enum alert_type { ALERT_RAISED, ALERT_CLEARED, ALERT_WAITING };

struct alert_event {
	enum alert_type type;
	uint32_t shop, agent;
	int frt;          /* metric: 1 frt, 0 art */
	int64_t value_ms; /* the window's average (waiting: how long the buyer waits) */
	int64_t target_ms;
	int64_t samples;
	int64_t window_s;
	int64_t ts_ms;   /* event time of the decision (waiting: the wall clock) */
	char buyer[257]; /* waiting alerts: who waits ("" otherwise) */
};

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

/* The SPEC §7 message: {"type":"raised","shop":...,"ts":"..."}; names resolve ids.
 * A waiting alert also names the buyer ("buyer":"..."). Returns its length; cut short
 * (NUL-terminated, never past size) if size is too small: ALERT_MESSAGE_MAX always
 * suffices (three names of LIMIT_NAME_BYTES, each byte escaped to at most 6). */
#define ALERT_MESSAGE_MAX (3 * 6 * LIMIT_NAME_BYTES + 512)
struct names;
size_t alert_format(const struct alert_event *ev, const struct names *names, char *out,
                    size_t size);

/* Appends s as the inside of a JSON string at *p (quote and backslash escaped, control
 * bytes as \u00XX, other bytes as they are), stopping short of end - 7; advances *p
 * and NUL-terminates. */
void alert_json_escape(char **p, char *end, const char *s);

/* printf at *p, never past end: advances *p by what fit (keeping room for the NUL). */
void alert_put(char **p, char *end, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One event, for state files. */
void alert_event_save(const struct alert_event *ev, struct wire_writer *w);
int alert_event_load(struct alert_event *ev, struct wire_reader *r);

void alerts_save(const struct alerts *a, struct wire_writer *w);
int alerts_load(struct alerts *a, struct wire_reader *r);

#endif
