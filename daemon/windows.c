/*
 * windows.c owns the rolling-window sums of reference.md §6. It stores only non-zero
 * counters of the minutes that have some, per (shop, agent), for the last day; it
 * knows nothing of Redis. A series costs memory for its active minutes only, so an
 * agent with one chat today costs a few hundred bytes, not a day of empty slots.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/agent_index.h"
#include "chatlogd/names.h"
#include "chatlogd/windows.h"
#include "chatlogd/wire.h"
#include "chatlogd/util.h"

#define DAY_MINUTES 1440

static const char *const window_names[WINDOW_COUNT] = {"1m", "5m", "15m", "1h", "24h"};
static const int64_t window_minutes[WINDOW_COUNT] = {1, 5, 15, 60, DAY_MINUTES};

struct field {
	uint16_t id;
	int64_t value;
};

/* One (shop, agent, minute): its non-zero counters. */
struct minute {
	int64_t minute;
	struct field *fields;
	uint16_t count, capacity;
};

/* One (shop, agent): its minutes with data in the last day, oldest first. */
struct series {
	uint32_t shop, agent;
	struct minute *minutes;
	uint32_t minute_count, minute_capacity;
	int64_t newest;   /* newest minute stored */
	unsigned changed; /* bit per window whose sums the last cut changed */
	int retired;      /* its hashes go in the last cut; it goes at the next */
};

struct windows {
	struct series *series;
	size_t count, capacity;
	struct agent_index ids; /* series[id] */
};

const char *windows_name(unsigned i)
{
	return window_names[i];
}

int64_t windows_minutes(unsigned i)
{
	return window_minutes[i];
}

struct windows *windows_new(void)
{
	return xcalloc(1, sizeof(struct windows));
}

size_t windows_count(const struct windows *w)
{
	return w->count;
}

static void series_clear_slot(struct minute *m)
{
	free(m->fields);
	memset(m, 0, sizeof(*m));
}

static void series_free(struct series *s);

void windows_free(struct windows *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->count; i++)
		series_free(&w->series[i]);
	free(w->series);
	agent_index_free(&w->ids);
	free(w);
}

static struct series *series_get(struct windows *w, uint32_t shop, uint32_t agent)
{
	uint32_t id = agent_index_find(&w->ids, shop, agent);
	struct series *s;

	if (id != AGENT_INDEX_NONE)
		return &w->series[id];
	if (w->count == w->capacity) {
		size_t capacity = w->capacity ? w->capacity * 2 : 16;
		w->series = xreallocarray(w->series, capacity, sizeof(*w->series));
		w->capacity = capacity;
	}
	s = &w->series[w->count];
	memset(s, 0, sizeof(*s));
	s->shop = shop;
	s->agent = agent;
	s->newest = INT64_MIN;
	s->changed = WINDOWS_ALL; /* its hashes have never been written */
	if (agent_index_add(&w->ids, shop, agent) == AGENT_INDEX_NONE)
		return NULL;
	return &w->series[w->count++];
}

/* The stored minute `minute` of s, inserted empty in order if absent. Minutes come mostly in order:
 * the newest is checked first. */
static struct minute *minute_at(struct series *s, int64_t minute)
{
	uint32_t lo = 0, hi = s->minute_count;

	if (hi > 0 && s->minutes[hi - 1].minute < minute) {
		lo = hi;
	} else {
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (s->minutes[mid].minute < minute)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < s->minute_count && s->minutes[lo].minute == minute)
			return &s->minutes[lo];
	}
	if (s->minute_count == s->minute_capacity) {
		uint32_t capacity = s->minute_capacity ? s->minute_capacity * 2 : 2;
		s->minutes = xreallocarray(s->minutes, capacity, sizeof(*s->minutes));
		s->minute_capacity = capacity;
	}
	memmove(&s->minutes[lo + 1], &s->minutes[lo], (s->minute_count - lo) * sizeof(*s->minutes));
	s->minute_count++;
	memset(&s->minutes[lo], 0, sizeof(*s->minutes));
	s->minutes[lo].minute = minute;
	return &s->minutes[lo];
}

/* Forgets the minutes at or before `oldest_gone`: a day older than the newest, in
 * no window any more (their leaving was noted by the cut that moved past them). */
static void series_forget_before(struct series *s, int64_t oldest_gone)
{
	uint32_t n = 0;

	while (n < s->minute_count && s->minutes[n].minute <= oldest_gone)
		series_clear_slot(&s->minutes[n++]);
	if (n == 0)
		return;
	memmove(s->minutes, &s->minutes[n], (s->minute_count - n) * sizeof(*s->minutes));
	s->minute_count -= n;
}

static void minute_add(struct minute *m, unsigned id, int64_t value)
{
	for (uint16_t k = 0; k < m->count; k++)
		if (m->fields[k].id == id) {
			m->fields[k].value += value;
			return;
		}
	if (m->count == m->capacity) {
		uint16_t capacity = m->capacity ? (uint16_t)(m->capacity * 2) : 8;
		m->fields = xreallocarray(m->fields, capacity, sizeof(*m->fields));
		m->capacity = capacity;
	}
	m->fields[m->count++] = (struct field){(uint16_t)id, value};
}

/* Adds a row's values at minute, dropping what a newer day already overwrote. */
static void series_add(struct series *s, int64_t minute, const int64_t *value)
{
	struct minute *m;

	if (s->newest != INT64_MIN && minute <= s->newest - DAY_MINUTES)
		return; /* older than the day held: in no window */
	if (minute > s->newest) {
		s->newest = minute;
		series_forget_before(s, minute - DAY_MINUTES);
	}
	m = minute_at(s, minute);
	for (unsigned id = 0; id < COUNTER_WIDTH; id++)
		if (value[id] != 0)
			minute_add(m, id, value[id]);
}

static int64_t minute_of(int64_t ms)
{
	return ms / 60000 - (ms % 60000 < 0);
}

/* The windows in which a minute lies as of minute now. */
static unsigned windows_holding(int64_t minute, int64_t now)
{
	int64_t age = now - minute;
	unsigned mask = 0;

	for (unsigned win = 0; win < WINDOW_COUNT; win++)
		if (age >= 0 && age < window_minutes[win])
			mask |= 1u << win;
	return mask;
}

/* The windows whose sums change when their end moves from minute prev to now:
 * those a stored minute has left, i.e. a minute in (prev - N, now - N]. */
static unsigned windows_slid(const struct series *s, int64_t prev, int64_t now)
{
	unsigned mask = 0;

	if (now <= prev)
		return 0;
	for (uint32_t k = 0; k < s->minute_count; k++) {
		const struct minute *m = &s->minutes[k];
		for (unsigned win = 0; win < WINDOW_COUNT; win++)
			if (m->minute > prev - window_minutes[win] &&
			    m->minute <= now - window_minutes[win])
				mask |= 1u << win;
		if (mask == WINDOWS_ALL)
			break;
	}
	return mask;
}

static int add_row(struct windows *w, uint32_t shop, uint32_t agent, int64_t minute,
                   const int64_t *value, int64_t now)
{
	struct series *s = series_get(w, shop, agent);

	if (s == NULL)
		return -1;
	s->changed |= windows_holding(minute, now);
	series_add(s, minute, value);
	return 0;
}

static void series_free(struct series *s)
{
	for (uint32_t k = 0; k < s->minute_count; k++)
		series_clear_slot(&s->minutes[k]);
	free(s->minutes);
}

/* Drops the series the last cut retired; the index is rebuilt (ids move). */
static int drop_retired(struct windows *w)
{
	size_t kept = 0;

	for (size_t i = 0; i < w->count; i++) {
		if (w->series[i].retired)
			series_free(&w->series[i]);
		else
			w->series[kept++] = w->series[i];
	}
	if (kept == w->count)
		return 0;
	w->count = kept;
	agent_index_clear(&w->ids);
	for (size_t i = 0; i < w->count; i++)
		if (agent_index_add(&w->ids, w->series[i].shop, w->series[i].agent) ==
		    AGENT_INDEX_NONE)
			return -1;
	return 0;
}

int windows_add(struct windows *w, struct counter_table *cut, int64_t prev_as_of_ms,
                int64_t as_of_ms)
{
	int64_t prev = minute_of(prev_as_of_ms), now = minute_of(as_of_ms);

	if (drop_retired(w) == -1)
		return -1;
	/* Before adding: a minute the cut's newer rows make a day old may still have slid. */
	for (size_t i = 0; i < w->count; i++)
		w->series[i].changed = windows_slid(&w->series[i], prev, now);
	for (size_t i = 0; i < counter_table_count(cut); i++) {
		const struct counter_row *row = counter_table_at(cut, i);
		if (add_row(w, row->shop, row->agent, row->minute, row->value, now) == -1 ||
		    (row->agent != NAME_WHOLE_SHOP &&
		     add_row(w, row->shop, NAME_WHOLE_SHOP, row->minute, row->value, now) == -1))
			return -1;
	}
	/* Idle for a day and already written as zeros by an earlier cut (this one changes
	 * nothing): its hashes are deleted and it is forgotten, so agents who left cost
	 * neither memory nor Redis commands. All its data is at or before newest. */
	for (size_t i = 0; i < w->count; i++) {
		struct series *s = &w->series[i];
		s->retired =
		    s->changed == 0 && (s->newest == INT64_MIN || now - s->newest >= DAY_MINUTES);
	}
	return 0;
}

void windows_mark_all_changed(struct windows *w)
{
	for (size_t i = 0; i < w->count; i++)
		w->series[i].changed = WINDOWS_ALL;
}

static int compare_series(const void *a, const void *b)
{
	const struct series *x = *(const struct series *const *)a;
	const struct series *y = *(const struct series *const *)b;
	if (x->shop != y->shop)
		return x->shop < y->shop ? -1 : 1;
	return x->agent < y->agent ? -1 : x->agent > y->agent;
}

int windows_each(struct windows *w, int64_t as_of_ms, windows_fn fn, void *ctx)
{
	int64_t now = minute_of(as_of_ms);
	struct series **order = xreallocarray(NULL, w->count, sizeof(*order));
	int64_t(*sums)[COUNTER_WIDTH] = xreallocarray(NULL, WINDOW_COUNT, sizeof(*sums));
	int rc = 0;

	for (size_t i = 0; i < w->count; i++)
		order[i] = &w->series[i];
	qsort(order, w->count, sizeof(*order), compare_series);
	for (size_t i = 0; i < w->count && rc == 0; i++) {
		struct series *s = order[i];
		memset(sums, 0, WINDOW_COUNT * sizeof(*sums));
		for (uint32_t k = 0; s->changed != 0 && k < s->minute_count; k++) {
			const struct minute *m = &s->minutes[k];
			int64_t age = now - m->minute;
			if (age < 0 || age >= DAY_MINUTES)
				continue;
			for (unsigned win = 0; win < WINDOW_COUNT; win++)
				if (age < window_minutes[win])
					for (uint16_t f = 0; f < m->count; f++)
						sums[win][m->fields[f].id] += m->fields[f].value;
		}
		/* Also when empty: the window's hash must show zeros, not stale counts. */
		rc = fn(ctx, s->shop, s->agent, s->retired ? WINDOWS_RETIRED : s->changed,
		        (const int64_t(*)[COUNTER_WIDTH])sums);
	}
	free(order);
	free(sums);
	return rc;
}

void windows_save(const struct windows *w, struct wire_writer *out)
{
	wire_put_u64(out, w->count);
	for (size_t i = 0; i < w->count; i++) {
		const struct series *s = &w->series[i];
		uint32_t used = 0;
		for (uint32_t k = 0; k < s->minute_count; k++)
			used += s->minutes[k].count > 0;
		wire_put_u32(out, s->shop);
		wire_put_u32(out, s->agent);
		wire_put_i64(out, s->newest);
		wire_put_u32(out, used);
		for (uint32_t k = 0; k < s->minute_count; k++) {
			const struct minute *m = &s->minutes[k];
			if (m->count == 0)
				continue;
			wire_put_i64(out, m->minute);
			wire_put_u32(out, m->count);
			for (uint16_t f = 0; f < m->count; f++) {
				wire_put_u32(out, m->fields[f].id);
				wire_put_i64(out, m->fields[f].value);
			}
		}
	}
}

void windows_save_changed(const struct windows *w, struct wire_writer *out)
{
	wire_put_u64(out, w->count);
	for (size_t i = 0; i < w->count; i++)
		wire_put_u32(out, w->series[i].changed);
}

int windows_load_changed(struct windows *w, struct wire_reader *in)
{
	uint64_t n = wire_get_u64(in);

	if (n != w->count)
		return -1;
	for (uint64_t i = 0; i < n && !in->failed; i++) {
		uint32_t changed = wire_get_u32(in);
		if (changed & ~WINDOWS_ALL)
			return -1;
		w->series[i].changed = changed;
	}
	return in->failed ? -1 : 0;
}

void windows_save_retired(const struct windows *w, struct wire_writer *out)
{
	uint64_t n = 0;

	for (size_t i = 0; i < w->count; i++)
		n += w->series[i].retired != 0;
	wire_put_u64(out, n);
	for (size_t i = 0; i < w->count; i++)
		if (w->series[i].retired) {
			wire_put_u32(out, w->series[i].shop);
			wire_put_u32(out, w->series[i].agent);
		}
}

int windows_load_retired(struct windows *w, struct wire_reader *in)
{
	uint64_t n = wire_get_u64(in);

	if (n > w->count)
		return -1;
	for (uint64_t i = 0; i < n && !in->failed; i++) {
		uint32_t shop = wire_get_u32(in), agent = wire_get_u32(in);
		uint32_t id = agent_index_find(&w->ids, shop, agent);
		if (id == AGENT_INDEX_NONE)
			return -1;
		w->series[id].retired = 1;
	}
	return in->failed ? -1 : 0;
}

int windows_load(struct windows *w, struct wire_reader *in, unsigned schema)
{
	uint64_t count = wire_get_u64(in);

	for (uint64_t i = 0; i < count && !in->failed; i++) {
		uint32_t shop = wire_get_u32(in), agent = wire_get_u32(in);
		struct series *s = series_get(w, shop, agent);
		int64_t newest = wire_get_i64(in);
		uint32_t used = wire_get_u32(in);
		if (s == NULL || used > DAY_MINUTES)
			return -1;
		s->newest = newest;
		for (uint32_t k = 0; k < used && !in->failed; k++) {
			int64_t minute = wire_get_i64(in);
			uint32_t fields = wire_get_u32(in);
			/* A minute a day older than the newest is in no window: a state
			 * written before the minutes were kept sparse may hold some. */
			int stale = minute <= newest - DAY_MINUTES;
			struct minute *m = NULL;
			if (fields > COUNTER_WIDTH || minute > newest ||
			    (!stale && (m = minute_at(s, minute))->count > 0))
				return -1;
			for (uint32_t f = 0; f < fields; f++) {
				uint32_t id = counters_id_from_schema(wire_get_u32(in), schema);
				int64_t value = wire_get_i64(in);
				if (id >= COUNTER_WIDTH)
					return -1;
				if (m != NULL)
					minute_add(m, id, value);
			}
		}
	}
	return in->failed ? -1 : 0;
}
