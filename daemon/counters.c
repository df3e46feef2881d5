/*
 * counters.c owns the counter schema of reference.md §3, tables of counter rows and the
 * derived values. It does not know where counts come from (engine.c) or where they
 * go (report.c, publish.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/counters.h"
#include "chatlogd/hindex.h"
#include "chatlogd/wire.h"
#include "chatlogd/util.h"

static const int64_t bucket_upper[HISTOGRAM_BUCKETS] = {1000,  2000,  3000,   4000,   5000,
                                                        6000,  8000,  10000,  15000,  20000,
                                                        30000, 60000, 120000, 300000, INT64_MAX};

static const char *const fixed_names[COUNTER_FRT_H] = {"inquiries",
                                                       "post_sale",
                                                       "replied",
                                                       "no_reply",
                                                       "first_responses",
                                                       "frt_ms_sum",
                                                       "frt_breaches",
                                                       "responses",
                                                       "response_ms_sum",
                                                       "response_breaches",
                                                       "unanswered",
                                                       "buyer_msgs",
                                                       "agent_msgs",
                                                       "bot_msgs",
                                                       "orders",
                                                       "payments",
                                                       "sales_fen",
                                                       "ordered",
                                                       "paid",
                                                       "lost",
                                                       "clock_skew",
                                                       "silent_orders",
                                                       "silent_sales_fen"};

static const char *const assessment_names[COUNTER_WIDTH - COUNTER_HOURS_RESPONSES] = {
    "hours_responses", "hours_responses_3m", "slow_responses", "returning", "returning_ordered"};

int64_t counters_bucket_upper(unsigned i)
{
	return bucket_upper[i];
}

unsigned counters_bucket(int64_t ms)
{
	unsigned i = 0;
	while (i < HISTOGRAM_BUCKETS - 1 && ms > bucket_upper[i])
		i++;
	return i;
}

const char *counters_field_name(enum counter_id id, const char *const *reason_names, char *out,
                                size_t out_size)
{
	if (id < COUNTER_FRT_H) {
		snprintf(out, out_size, "%s", fixed_names[id]);
	} else if (id >= COUNTER_HOURS_RESPONSES) {
		snprintf(out, out_size, "%s", assessment_names[id - COUNTER_HOURS_RESPONSES]);
	} else if (id < COUNTER_LOST_REASON) {
		int frt = id < COUNTER_RESP_H;
		unsigned bucket = id - (frt ? COUNTER_FRT_H : COUNTER_RESP_H);
		if (bucket == HISTOGRAM_BUCKETS - 1)
			snprintf(out, out_size, "%s:inf", frt ? "frt_h" : "resp_h");
		else
			snprintf(out, out_size, "%s:%" PRId64, frt ? "frt_h" : "resp_h",
			         bucket_upper[bucket]);
	} else {
		snprintf(out, out_size, "lost:%s", reason_names[id - COUNTER_LOST_REASON]);
	}
	return out;
}

struct counter_table {
	int by_minute;
	struct counter_row **rows; /* stable pointers: rows never move once made */
	size_t count, capacity;
	size_t allocated; /* rows ever allocated (reused after clear) */
	struct hindex index;
	/* The row each agent id was last counted in, checked before use: an agent works
	 * in one shop, so this nearly always answers without the index (agent ids are
	 * small and dense, they index names). Grown on demand up to BY_AGENT_MAX ids
	 * (a state file may name any id: past that, rows are found by the index alone);
	 * emptied by clear, as cleared rows are reused for other keys. */
	struct counter_row **by_agent;
	uint32_t by_agent_size;
};

#define BY_AGENT_MAX (1u << 20)

struct row_key {
	uint32_t shop, agent;
	int64_t minute;
};

static uint64_t row_hash(uint32_t shop, uint32_t agent, int64_t minute)
{
	return hindex_hash_ints((uint64_t)shop << 32 | agent, (uint64_t)minute);
}

static int row_equals(const void *ctx, uint32_t id)
{
	const void *const *probe = ctx;
	const struct counter_table *t = probe[0];
	const struct row_key *key = probe[1];
	const struct counter_row *row = t->rows[id];
	return row->shop == key->shop && row->agent == key->agent && row->minute == key->minute;
}

struct counter_table *counter_table_new(int by_minute)
{
	struct counter_table *t = xcalloc(1, sizeof(*t));

	t->by_minute = by_minute;
	return t;
}

void counter_table_free(struct counter_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->allocated; i++)
		free(t->rows[i]);
	free(t->rows);
	free(t->by_agent);
	hindex_free(&t->index);
	free(t);
}

static int64_t minute_of(int64_t ts_ms)
{
	int64_t m = ts_ms / 60000;
	return (ts_ms % 60000 < 0) ? m - 1 : m; /* floor, also before 1970 */
}

/* Makes room in by_agent for ids up to agent. */
static void by_agent_grow(struct counter_table *t, uint32_t agent)
{
	uint32_t size = t->by_agent_size ? t->by_agent_size : 64;
	struct counter_row **grown;

	while (size <= agent)
		size *= 2;
	grown = xreallocarray(t->by_agent, size, sizeof(*grown));
	memset(grown + t->by_agent_size, 0, (size - t->by_agent_size) * sizeof(*grown));
	t->by_agent = grown;
	t->by_agent_size = size;
}

static struct counter_row *remember(struct counter_table *t, uint32_t agent,
                                    struct counter_row *row)
{
	if (agent < t->by_agent_size)
		t->by_agent[agent] = row;
	return row;
}

struct counter_row *counter_table_row(struct counter_table *t, uint32_t shop, uint32_t agent,
                                      int64_t ts_ms)
{
	int64_t minute = t->by_minute ? minute_of(ts_ms) : 0;
	struct row_key key = {shop, agent, minute};
	const void *probe[2] = {t, &key};
	struct counter_row *row;
	uint64_t hash;
	uint32_t id;

	if (agent < t->by_agent_size && (row = t->by_agent[agent]) != NULL && row->shop == shop &&
	    row->minute == minute)
		return row;
	if (agent >= t->by_agent_size && agent < BY_AGENT_MAX)
		by_agent_grow(t, agent);
	hash = row_hash(shop, agent, minute);
	id = hindex_find(&t->index, hash, row_equals, probe);
	if (id != HINDEX_NONE)
		return remember(t, agent, t->rows[id]);

	if (t->count == t->capacity) {
		size_t capacity = t->capacity ? t->capacity * 2 : 64;
		t->rows = xreallocarray(t->rows, capacity, sizeof(*t->rows));
		t->capacity = capacity;
	}
	if (t->count == t->allocated) {
		t->rows[t->count] = xmalloc(sizeof(**t->rows));
		t->allocated++;
	}
	row = t->rows[t->count];
	memset(row, 0, sizeof(*row));
	row->shop = shop;
	row->agent = agent;
	row->minute = minute;
	if (hindex_insert(&t->index, hash, (uint32_t)t->count) == -1)
		return NULL;
	t->count++;
	return remember(t, agent, row);
}

size_t counter_table_count(const struct counter_table *t)
{
	return t->count;
}

struct counter_row *counter_table_at(struct counter_table *t, size_t i)
{
	return t->rows[i];
}

void counter_table_clear(struct counter_table *t)
{
	/* A few rows are kept for reuse, not all: a burst (a backlog read at start,
	 * every agent in one cut) must not hold its memory, about 1 KB a row, while the
	 * daemon idles. A new key's row is allocated once per cut, not per line. */
	size_t keep = 64 + t->count / 8;

	for (size_t i = keep; i < t->allocated; i++)
		free(t->rows[i]);
	if (t->allocated > keep)
		t->allocated = keep;
	t->count = 0;
	if (t->by_agent != NULL)
		memset(t->by_agent, 0, t->by_agent_size * sizeof(*t->by_agent));
	if (t->index.slots != NULL && t->index.mask + 1 > 16 * keep) {
		hindex_free(&t->index); /* sized for the burst: grown again on demand */
		memset(&t->index, 0, sizeof(t->index));
	} else if (t->index.slots != NULL) {
		memset(t->index.slots, 0, (t->index.mask + 1) * sizeof(*t->index.slots));
	}
	t->index.count = 0;
}

void counter_table_save(struct counter_table *t, struct wire_writer *w)
{
	wire_put_u64(w, t->count);
	for (size_t i = 0; i < t->count; i++) {
		const struct counter_row *row = t->rows[i];
		uint32_t nonzero = 0;
		for (unsigned id = 0; id < COUNTER_WIDTH; id++)
			nonzero += row->value[id] != 0;
		wire_put_u32(w, row->shop);
		wire_put_u32(w, row->agent);
		wire_put_i64(w, row->minute);
		wire_put_u32(w, nonzero);
		for (unsigned id = 0; id < COUNTER_WIDTH; id++) {
			if (row->value[id] == 0)
				continue;
			wire_put_u32(w, id);
			wire_put_i64(w, row->value[id]);
		}
	}
}

uint32_t counters_id_from_schema(uint32_t id, unsigned schema)
{
	/* schema 1: every id from post_sale's place on came one earlier */
	return schema == 1 && id >= COUNTER_POST_SALE ? id + 1 : id;
}

int counter_table_load(struct counter_table *t, struct wire_reader *r, unsigned schema)
{
	uint64_t count = wire_get_u64(r);

	for (uint64_t i = 0; i < count && !r->failed; i++) {
		uint32_t shop = wire_get_u32(r), agent = wire_get_u32(r);
		int64_t minute = wire_get_i64(r);
		uint32_t nonzero = wire_get_u32(r);
		/* rows are keyed by minute; the table folds minutes itself when it must */
		struct counter_row *row = counter_table_row(t, shop, agent, minute * 60000);
		if (row == NULL || nonzero > COUNTER_WIDTH)
			return -1;
		for (uint32_t k = 0; k < nonzero; k++) {
			uint32_t id = counters_id_from_schema(wire_get_u32(r), schema);
			int64_t value = wire_get_i64(r);
			if (id >= COUNTER_WIDTH)
				return -1;
			row->value[id] += value;
		}
	}
	return r->failed ? -1 : 0;
}

/* num/den rounded half up, for non-negative num and positive den. */
static int64_t div_round(int64_t num, int64_t den)
{
	return (num / den) + ((num % den) * 2 >= den ? 1 : 0);
}

void counters_derive(const int64_t *v, struct derived *d)
{
	memset(d, 0, sizeof(*d));
	if ((d->has_frt_avg = v[COUNTER_FIRST_RESPONSES] > 0))
		d->frt_avg_ms = div_round(v[COUNTER_FRT_MS_SUM], v[COUNTER_FIRST_RESPONSES]);
	if ((d->has_art_avg = v[COUNTER_RESPONSES] > 0))
		d->art_avg_ms = div_round(v[COUNTER_RESPONSE_MS_SUM], v[COUNTER_RESPONSES]);
	/* every conversation can be replied to, pre-sale or post-sale */
	if ((d->has_reply_rate = v[COUNTER_INQUIRIES] + v[COUNTER_POST_SALE] > 0))
		d->reply_rate_e4 = div_round(v[COUNTER_REPLIED] * 10000,
		                             v[COUNTER_INQUIRIES] + v[COUNTER_POST_SALE]);
	if ((d->has_conversion = v[COUNTER_INQUIRIES] > 0))
		d->conversion_e4 = div_round(v[COUNTER_ORDERED] * 10000, v[COUNTER_INQUIRIES]);
	if ((d->has_pay_conversion = v[COUNTER_ORDERED] > 0))
		d->pay_conversion_e4 = div_round(v[COUNTER_PAID] * 10000, v[COUNTER_ORDERED]);
	if ((d->has_aov = v[COUNTER_PAID] > 0))
		d->aov_fen = div_round(v[COUNTER_SALES_FEN], v[COUNTER_PAID]);
}

unsigned counters_derived_fields(const int64_t *value, struct derived_field out[DERIVED_FIELDS])
{
	struct derived d;
	unsigned n = 0;

	counters_derive(value, &d);
	if (d.has_frt_avg) {
		out[n].name = "frt_avg_ms";
		snprintf(out[n++].text, sizeof(out->text), "%" PRId64, d.frt_avg_ms);
	}
	if (d.has_art_avg) {
		out[n].name = "art_avg_ms";
		snprintf(out[n++].text, sizeof(out->text), "%" PRId64, d.art_avg_ms);
	}
	if (d.has_reply_rate) {
		out[n].name = "reply_rate";
		counters_format_e4(d.reply_rate_e4, out[n++].text, sizeof(out->text));
	}
	if (d.has_conversion) {
		out[n].name = "conversion";
		counters_format_e4(d.conversion_e4, out[n++].text, sizeof(out->text));
	}
	if (d.has_pay_conversion) {
		out[n].name = "pay_conversion";
		counters_format_e4(d.pay_conversion_e4, out[n++].text, sizeof(out->text));
	}
	if (d.has_aov) {
		out[n].name = "aov";
		counters_format_fen(d.aov_fen, out[n++].text, sizeof(out->text));
	}
	return n;
}

const char *counters_format_e4(int64_t e4, char *out, size_t out_size)
{
	snprintf(out, out_size, "%" PRId64 ".%04" PRId64, e4 / 10000, e4 % 10000);
	return out;
}

const char *counters_format_fen(int64_t fen, char *out, size_t out_size)
{
	snprintf(out, out_size, "%" PRId64 ".%02" PRId64, fen / 100, fen % 100);
	return out;
}
