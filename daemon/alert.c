/*
 * alert.c owns the alert rules of reference.md §7: rolling per-agent response samples and
 * the raised/cleared state. It produces events; publish.c delivers them.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/alert.h"
#include "chatlogd/agent_index.h"
#include "chatlogd/names.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/wire.h"
#include "chatlogd/util.h"
#include "chatlogd/json_write.h"

struct sample {
	int64_t ts_ms;
	int64_t ms;
	int first;
};

/* One agent: its samples in the window (a ring in arrival order) and running sums. */
struct agent_state {
	uint32_t shop, agent;
	struct sample *ring;
	size_t head, count, capacity;
	int64_t frt_sum, frt_n, art_sum, art_n;
	int raised, raised_frt;
};

struct alerts {
	struct alert_settings s;
	struct agent_state *agents;
	size_t count, capacity;
	struct agent_index ids; /* agents[id] */
	struct alert_event *events;
	size_t event_count, event_capacity;
	/* No sample leaves any window before this time: alerts_advance, called after
	 * every line, returns at once until then. */
	int64_t next_expiry;
};

struct alerts *alerts_new(const struct alert_settings *settings)
{
	struct alerts *a = xcalloc(1, sizeof(*a));

	a->s = *settings;
	a->next_expiry = INT64_MAX;
	return a;
}

void alerts_free(struct alerts *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->count; i++)
		free(a->agents[i].ring);
	free(a->agents);
	free(a->events);
	agent_index_free(&a->ids);
	free(a);
}

static struct agent_state *agent_get(struct alerts *a, uint32_t shop, uint32_t agent)
{
	uint32_t id = agent_index_find(&a->ids, shop, agent);

	if (id != AGENT_INDEX_NONE)
		return &a->agents[id];
	if (a->count == a->capacity) {
		size_t capacity = a->capacity ? a->capacity * 2 : 16;
		a->agents = xreallocarray(a->agents, capacity, sizeof(*a->agents));
		a->capacity = capacity;
	}
	memset(&a->agents[a->count], 0, sizeof(a->agents[0]));
	a->agents[a->count].shop = shop;
	a->agents[a->count].agent = agent;
	if (agent_index_add(&a->ids, shop, agent) == AGENT_INDEX_NONE)
		return NULL;
	return &a->agents[a->count++];
}

static int64_t average(int64_t sum, int64_t n)
{
	return n ? sum / n + ((sum % n) * 2 >= n) : 0; /* half up, like the report */
}

static void emit(struct alerts *a, const struct alert_event *ev)
{
	if (a->event_count == a->event_capacity) {
		size_t capacity = a->event_capacity ? a->event_capacity * 2 : 16;
		a->events = xreallocarray(a->events, capacity, sizeof(*a->events));
		a->event_capacity = capacity;
	}
	a->events[a->event_count++] = *ev;
}

/* Raises or ends the agent's alert from its current window, at event time now.
 *
 * A metric is over when it has min_samples and its average exceeds the target. An
 * alert is raised when either metric is over, and reports that one (first responses
 * first: the golden 6 seconds). While either is still over it stands. When neither is,
 * it ends, and how it ends depends on the metric it was raised for: with min_samples
 * or more in the window that metric is back within target (it is not over), which is
 * a true "cleared"; with fewer, the window merely ran out of samples and its average
 * proves nothing (it may well still be over target), so the alert "expires". Every
 * first response is also a response, so art never has fewer samples than frt. */
static void evaluate(struct alerts *a, struct agent_state *st, int64_t now)
{
	int frt_over =
	    st->frt_n >= a->s.min_samples && average(st->frt_sum, st->frt_n) > a->s.frt_target_ms;
	int art_over =
	    st->art_n >= a->s.min_samples && average(st->art_sum, st->art_n) > a->s.art_target_ms;
	struct alert_event ev = {.type = ALERT_RAISED,
	                         .shop = st->shop,
	                         .agent = st->agent,
	                         .window_s = a->s.window_ms / 1000,
	                         .ts_ms = now};

	if (!st->raised && (frt_over || art_over)) {
		st->raised = 1;
		st->raised_frt = frt_over;
	} else if (st->raised && !frt_over && !art_over) {
		st->raised = 0;
		ev.type = ALERT_CLEARED;
	} else {
		return;
	}
	/* an ending reports the metric that was raised */
	ev.frt = st->raised_frt ? ALERT_FRT : 0;
	ev.value_ms =
	    st->raised_frt ? average(st->frt_sum, st->frt_n) : average(st->art_sum, st->art_n);
	ev.target_ms = st->raised_frt ? a->s.frt_target_ms : a->s.art_target_ms;
	ev.samples = st->raised_frt ? st->frt_n : st->art_n;
	if (ev.type == ALERT_CLEARED && ev.samples < a->s.min_samples)
		ev.frt |= ALERT_EXPIRED;
	emit(a, &ev);
}

/* Drops samples at or before now - window. */
static void expire(struct alerts *a, struct agent_state *st, int64_t now)
{
	while (st->count > 0) {
		struct sample *oldest = &st->ring[st->head];
		if (oldest->ts_ms > now - a->s.window_ms)
			break;
		st->art_sum -= oldest->ms;
		st->art_n--;
		if (oldest->first) {
			st->frt_sum -= oldest->ms;
			st->frt_n--;
		}
		st->head = (st->head + 1) % st->capacity;
		st->count--;
	}
}

static void push_sample(struct agent_state *st, const struct sample *sm)
{
	if (st->count == st->capacity) {
		size_t capacity = st->capacity ? st->capacity * 2 : 8;
		struct sample *ring = xreallocarray(NULL, capacity, sizeof(*ring));
		for (size_t i = 0; i < st->count; i++)
			ring[i] = st->ring[(st->head + i) % st->capacity];
		free(st->ring);
		st->ring = ring;
		st->head = 0;
		st->capacity = capacity;
	}
	st->ring[(st->head + st->count) % st->capacity] = *sm;
	st->count++;
	st->art_sum += sm->ms;
	st->art_n++;
	if (sm->first) {
		st->frt_sum += sm->ms;
		st->frt_n++;
	}
}

void alerts_response(struct alerts *a, uint32_t shop, uint32_t agent, int64_t ts_ms, int64_t ms,
                     int first)
{
	struct agent_state *st = agent_get(a, shop, agent);
	struct sample sm = {ts_ms, ms, first};

	if (st == NULL)
		return;
	push_sample(st, &sm);
	if (ts_ms + a->s.window_ms < a->next_expiry)
		a->next_expiry = ts_ms + a->s.window_ms;
	expire(a, st, ts_ms);
	evaluate(a, st, ts_ms);
}

void alerts_advance(struct alerts *a, int64_t now_ms)
{
	if (now_ms < a->next_expiry)
		return;
	a->next_expiry = INT64_MAX;
	for (size_t i = 0; i < a->count; i++) {
		struct agent_state *st = &a->agents[i];
		size_t before = st->count;
		expire(a, st, now_ms);
		if (st->count != before)
			evaluate(a, st, now_ms);
		if (st->count > 0 && st->ring[st->head].ts_ms + a->s.window_ms < a->next_expiry)
			a->next_expiry = st->ring[st->head].ts_ms + a->s.window_ms;
	}
}

int alerts_push(struct alerts *a, const struct alert_event *ev)
{
	size_t before = a->event_count;
	emit(a, ev);
	return a->event_count > before ? 0 : -1;
}

size_t alerts_pending(const struct alerts *a)
{
	return a->event_count;
}

size_t alerts_take(struct alerts *a, const struct alert_event **events)
{
	size_t n = a->event_count;
	*events = a->events;
	a->event_count = 0;
	return n;
}

int alerts_active(const struct alerts *a, uint32_t shop, uint32_t agent)
{
	for (size_t i = 0; i < a->count; i++)
		if (a->agents[i].shop == shop && a->agents[i].agent == agent)
			return a->agents[i].raised;
	return 0;
}

void alert_put(char **p, char *end, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*p >= end)
		return;
	va_start(ap, fmt);
	n = vsnprintf(*p, (size_t)(end - *p), fmt, ap);
	va_end(ap);
	if (n > 0)
		*p += (size_t)n < (size_t)(end - *p) ? (size_t)n : (size_t)(end - *p) - 1;
}

int alert_is_frt(const struct alert_event *ev)
{
	return (ev->frt & ALERT_FRT) != 0;
}

int alert_is_expired(const struct alert_event *ev)
{
	return ev->type == ALERT_CLEARED && (ev->frt & ALERT_EXPIRED) != 0;
}

const char *alert_type_name(const struct alert_event *ev)
{
	static const char *const types[ALERT_TYPE_COUNT] = {"raised", "cleared", "waiting",
	                                                    "warning"};

	if (alert_is_expired(ev))
		return "expired";
	return (unsigned)ev->type < ALERT_TYPE_COUNT ? types[ev->type] : "unknown";
}

size_t alert_format(const struct alert_event *ev, const struct names *names, char *out, size_t size)
{
	char ts[30], *p = out, *end = out + size;

	timefmt_format_rfc3339(ev->ts_ms, ts);
	if (size == 0)
		return 0;
	*p = '\0';
	alert_put(&p, end, "{\"type\":\"%s\",\"shop\":\"", alert_type_name(ev));
	json_write_escape(&p, end, names_get(names, ev->shop), names_length(names, ev->shop));
	alert_put(&p, end, "\",\"agent\":\"");
	json_write_escape(&p, end, names_get(names, ev->agent), names_length(names, ev->agent));
	if (ev->type == ALERT_WAITING || ev->type == ALERT_WARNING) {
		alert_put(&p, end, "\",\"buyer\":\"");
		json_write_escape(&p, end, ev->buyer, strlen(ev->buyer));
	}
	alert_put(&p, end,
	          "\",\"metric\":\"%s\",\"value_ms\":%" PRId64 ",\"target_ms\":%" PRId64
	          ",\"samples\":%" PRId64 ",\"window_s\":%" PRId64 ",\"ts\":\"%s\"}",
	          alert_is_frt(ev) ? "frt" : "art", ev->value_ms, ev->target_ms, ev->samples,
	          ev->window_s, ts);
	return (size_t)(p - out);
}

void alert_event_save(const struct alert_event *ev, struct wire_writer *w)
{
	wire_put_u8(w, (uint8_t)ev->type);
	wire_put_u32(w, ev->shop);
	wire_put_u32(w, ev->agent);
	wire_put_u8(w, (uint8_t)ev->frt);
	wire_put_i64(w, ev->value_ms);
	wire_put_i64(w, ev->target_ms);
	wire_put_i64(w, ev->samples);
	wire_put_i64(w, ev->window_s);
	wire_put_i64(w, ev->ts_ms);
	wire_put_bytes(w, ev->buyer, strlen(ev->buyer));
}

int alert_event_load(struct alert_event *ev, struct wire_reader *r)
{
	const char *buyer;
	size_t len;
	uint8_t type = wire_get_u8(r);

	ev->type = (enum alert_type)type;
	ev->shop = wire_get_u32(r);
	ev->agent = wire_get_u32(r);
	ev->frt = wire_get_u8(r);
	ev->value_ms = wire_get_i64(r);
	ev->target_ms = wire_get_i64(r);
	ev->samples = wire_get_i64(r);
	ev->window_s = wire_get_i64(r);
	ev->ts_ms = wire_get_i64(r);
	buyer = wire_get_bytes(r, &len);
	if (r->failed || type >= ALERT_TYPE_COUNT || len >= sizeof(ev->buyer))
		return -1;
	memcpy(ev->buyer, buyer, len);
	ev->buyer[len] = '\0';
	return 0;
}

void alerts_save(const struct alerts *a, struct wire_writer *w)
{
	wire_put_u64(w, a->count);
	for (size_t i = 0; i < a->count; i++) {
		const struct agent_state *st = &a->agents[i];
		wire_put_u32(w, st->shop);
		wire_put_u32(w, st->agent);
		wire_put_u8(w, (uint8_t)st->raised);
		wire_put_u8(w, (uint8_t)st->raised_frt);
		wire_put_u64(w, st->count);
		for (size_t k = 0; k < st->count; k++) {
			const struct sample *sm = &st->ring[(st->head + k) % st->capacity];
			wire_put_i64(w, sm->ts_ms);
			wire_put_i64(w, sm->ms);
			wire_put_u8(w, (uint8_t)sm->first);
		}
	}
	wire_put_u64(w, a->event_count);
	for (size_t i = 0; i < a->event_count; i++)
		alert_event_save(&a->events[i], w);
}

int alerts_load(struct alerts *a, struct wire_reader *r)
{
	uint64_t count = wire_get_u64(r), events;

	for (uint64_t i = 0; i < count && !r->failed; i++) {
		uint32_t shop = wire_get_u32(r), agent = wire_get_u32(r);
		struct agent_state *st = agent_get(a, shop, agent);
		uint64_t samples;
		if (st == NULL)
			return -1;
		st->raised = wire_get_u8(r);
		st->raised_frt = wire_get_u8(r);
		samples = wire_get_u64(r);
		for (uint64_t k = 0; k < samples && !r->failed; k++) {
			struct sample sm;
			sm.ts_ms = wire_get_i64(r);
			sm.ms = wire_get_i64(r);
			sm.first = wire_get_u8(r);
			push_sample(st, &sm);
		}
	}
	for (size_t i = 0; i < a->count; i++) {
		const struct agent_state *st = &a->agents[i];
		if (st->count > 0 && st->ring[st->head].ts_ms + a->s.window_ms < a->next_expiry)
			a->next_expiry = st->ring[st->head].ts_ms + a->s.window_ms;
	}
	events = wire_get_u64(r);
	for (uint64_t i = 0; i < events && !r->failed; i++) {
		struct alert_event ev;
		if (alert_event_load(&ev, r) == -1 || alerts_push(a, &ev) == -1)
			return -1;
	}
	return r->failed ? -1 : 0;
}
