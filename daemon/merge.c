/*
 * merge.c owns live mode's watermark merge: per input a FIFO of held record copies,
 * the release rule, the memory bound and the late count. It does not read files,
 * the clock or the journal: live.c tells it what tail knows and journals the
 * releases that depend on that (docs/exactly-once.md).
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/limits.h"
#include "chatlogd/log.h"
#include "chatlogd/merge.h"
#include "chatlogd/wire.h"
#include "chatlogd/util.h"

/* One held record; its strings follow it in the same allocation. */
struct held {
	struct held *next;
	int64_t ts_ms;
	uint64_t line_no;
	int64_t amount_fen;
	uint8_t kind, from;
	uint32_t len[5]; /* shop, buyer, agent, text, order */
	char data[];
};

struct merge_in {
	char *path;
	uint32_t rank;
	int64_t last_ts;   /* ts of the last record pushed; INT64_MIN before any */
	int64_t last_wall; /* wall time of the last line (live only, not saved) */
	struct held *head, *tail;
	size_t held;
};

/* The newest released ts and its input, kept for two inputs so that an input's
 * watermark (the newest ts released from the others) is known at once. */
struct mark {
	int64_t ts;
	int input;
};

struct merge {
	struct merge_settings settings;
	merge_release_fn fn;
	void *ctx;
	struct merge_in *inputs;
	size_t count, capacity;
	size_t held_records, held_bytes;
	struct mark best, second;
	int64_t advanced; /* newest quiet-time advance */
	uint64_t late, forced;
	struct log_ratelimit late_log;
};

struct merge *merge_new(const struct merge_settings *settings, merge_release_fn fn, void *ctx)
{
	struct merge *m = xcalloc(1, sizeof(*m));

	m->settings = *settings;
	if (m->settings.max_held_bytes == 0)
		m->settings.max_held_bytes = LIMIT_MERGE_HELD_BYTES;
	m->fn = fn;
	m->ctx = ctx;
	m->best = m->second = (struct mark){INT64_MIN, -1};
	m->advanced = INT64_MIN;
	m->late_log.per_second = LIMIT_ERROR_LOGS_PER_SECOND;
	return m;
}

void merge_free(struct merge *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->count; i++) {
		struct held *h = m->inputs[i].head, *next;
		for (; h != NULL; h = next) {
			next = h->next;
			free(h);
		}
		free(m->inputs[i].path);
	}
	free(m->inputs);
	free(m);
}

int merge_input(struct merge *m, const char *path, uint32_t rank)
{
	struct merge_in *in;

	for (size_t i = 0; i < m->count; i++) {
		if (strcmp(m->inputs[i].path, path) == 0) {
			m->inputs[i].rank = rank;
			return (int)i;
		}
	}
	if (m->count == m->capacity) {
		size_t capacity = m->capacity ? m->capacity * 2 : 8;
		m->inputs = xreallocarray(m->inputs, capacity, sizeof(*m->inputs));
		m->capacity = capacity;
	}
	in = &m->inputs[m->count];
	memset(in, 0, sizeof(*in));
	in->path = xstrdup(path);
	in->rank = rank;
	in->last_ts = INT64_MIN;
	in->last_wall = INT64_MIN;
	return (int)m->count++;
}

/* Batch order between the next records of two inputs: ts, then the input given
 * first (rank, then path: glob lists matches sorted). */
static int before(const struct merge *m, int64_t ts_a, int a, int64_t ts_b, int b)
{
	const struct merge_in *x = &m->inputs[a], *y = &m->inputs[b];
	int by_path;

	if (ts_a != ts_b)
		return ts_a < ts_b;
	if (x->rank != y->rank)
		return x->rank < y->rank;
	by_path = strcmp(x->path, y->path);
	return by_path != 0 ? by_path < 0 : a < b;
}

/* The input whose head comes first in batch order, -1 when nothing is held. */
static int earliest(const struct merge *m)
{
	int best = -1;

	for (size_t i = 0; i < m->count; i++) {
		const struct merge_in *in = &m->inputs[i];
		if (in->head != NULL && (best < 0 || before(m, in->head->ts_ms, (int)i,
		                                            m->inputs[best].head->ts_ms, best)))
			best = (int)i;
	}
	return best;
}

/* What the others' released records say input `input` should have come before. */
static int64_t watermark_for(const struct merge *m, int input)
{
	int64_t mark = m->best.input == input ? m->second.ts : m->best.ts;
	return mark > m->advanced ? mark : m->advanced;
}

static void note_released(struct merge *m, int input, int64_t ts)
{
	if (m->best.input == input) {
		if (ts > m->best.ts)
			m->best.ts = ts;
	} else if (ts > m->best.ts) {
		m->second = m->best;
		m->best = (struct mark){ts, input};
	} else if (ts > m->second.ts) {
		m->second = (struct mark){ts, input};
	}
}

/* Whether an input with nothing held may still deliver a record that batch would
 * put before (ts, input). Its last record is the best guess of its next one: a
 * later one (or the same ts from an input given later) means it has moved past. */
static int may_precede(const struct merge *m, int other, int64_t ts, int input)
{
	const struct merge_in *o = &m->inputs[other];

	if (o->last_ts == INT64_MIN)
		return 1; /* nothing read from it yet: it may hold anything */
	return !before(m, ts, input, o->last_ts, other);
}

/* What tail and the wall clock say beyond the records (live only): an input read
 * to its end does not hold back records stamped at or before `stamped_by`, nor any
 * once it has been quiet for the grace period. */
enum waiver { HOLDS, AT_END, QUIET };
struct waivers {
	const unsigned char *input; /* enum waiver per input */
	int64_t stamped_by;         /* wall clock minus grace */
};

/* The release rule: no other input with nothing held may still deliver an earlier
 * record (waivers NULL: the records alone decide, as in a replay). */
static int releasable(const struct merge *m, int64_t ts, int input, const struct waivers *w)
{
	for (size_t j = 0; j < m->count; j++) {
		if ((int)j == input || m->inputs[j].head != NULL)
			continue;
		if (w != NULL &&
		    (w->input[j] == QUIET || (w->input[j] == AT_END && ts <= w->stamped_by)))
			continue;
		if (may_precede(m, (int)j, ts, input))
			return 0;
	}
	return 1;
}

static size_t held_size(const struct held *h)
{
	size_t n = sizeof(*h);
	for (int k = 0; k < 5; k++)
		n += h->len[k];
	return n;
}

static void release_head(struct merge *m, int input)
{
	struct merge_in *in = &m->inputs[input];
	struct held *h = in->head;
	struct record rec;
	struct text_view *views[5] = {&rec.shop, &rec.buyer, &rec.agent, &rec.text, &rec.order};
	const char *p = h->data;

	in->head = h->next;
	if (in->head == NULL)
		in->tail = NULL;
	in->held--;
	m->held_records--;
	m->held_bytes -= held_size(h);
	memset(&rec, 0, sizeof(rec));
	rec.ts_ms = h->ts_ms;
	rec.kind = (enum record_kind)h->kind;
	rec.from = (enum record_from)h->from;
	rec.amount_fen = h->amount_fen;
	for (int k = 0; k < 5; k++) {
		views[k]->ptr = h->len[k] ? p : NULL;
		views[k]->len = h->len[k];
		p += h->len[k];
	}
	note_released(m, input, h->ts_ms);
	m->fn(m->ctx, &rec, in->path, h->line_no);
	free(h);
}

/* Releases heads while the rule allows. Returns how many. */
static uint64_t release_while(struct merge *m, const struct waivers *w)
{
	uint64_t n = 0;
	int i;

	while ((i = earliest(m)) >= 0 && releasable(m, m->inputs[i].head->ts_ms, i, w)) {
		release_head(m, i);
		n++;
	}
	return n;
}

static void hold(struct merge *m, int input, const struct record *rec, uint64_t line_no)
{
	const struct text_view *views[5] = {&rec->shop, &rec->buyer, &rec->agent, &rec->text,
	                                    &rec->order};
	struct merge_in *in = &m->inputs[input];
	size_t bytes = 0;
	struct held *h;
	char *p;

	for (int k = 0; k < 5; k++)
		bytes += views[k]->len;
	h = xmalloc(sizeof(*h) + bytes);
	h->next = NULL;
	h->ts_ms = rec->ts_ms;
	h->line_no = line_no;
	h->amount_fen = rec->amount_fen;
	h->kind = (uint8_t)rec->kind;
	h->from = (uint8_t)rec->from;
	p = h->data;
	for (int k = 0; k < 5; k++) {
		h->len[k] = (uint32_t)views[k]->len;
		if (views[k]->len > 0)
			memcpy(p, views[k]->ptr, views[k]->len);
		p += views[k]->len;
	}
	if (in->tail != NULL)
		in->tail->next = h;
	else
		in->head = h;
	in->tail = h;
	in->held++;
	m->held_records++;
	m->held_bytes += held_size(h);
}

void merge_push(struct merge *m, int input, const struct record *rec, uint64_t line_no)
{
	struct merge_in *in = &m->inputs[input];
	int first = earliest(m);

	if (rec->ts_ms < watermark_for(m, input)) {
		m->late++;
		if (log_ratelimit_allow(&m->late_log, "late records"))
			log_warnx("late record file=%s line=%llu: another input already went past "
			          "its time; counted where it arrives (docs/tailing.md, Merging)",
			          in->path, (unsigned long long)line_no);
	}
	in->last_ts = rec->ts_ms;
	/* Nothing of its own held, and it comes before everything held: it may go now,
	 * without a copy (always so with a single input). */
	if (in->head == NULL &&
	    (first < 0 || before(m, rec->ts_ms, input, m->inputs[first].head->ts_ms, first)) &&
	    releasable(m, rec->ts_ms, input, NULL)) {
		note_released(m, input, rec->ts_ms);
		m->fn(m->ctx, rec, in->path, line_no);
	} else {
		hold(m, input, rec, line_no);
	}
	release_while(m, NULL);
	while (m->held_bytes > m->settings.max_held_bytes && (first = earliest(m)) >= 0) {
		release_head(m, first);
		m->forced++;
	}
}

void merge_touch(struct merge *m, int input, int64_t wall_ms)
{
	m->inputs[input].last_wall = wall_ms;
}

uint64_t merge_release_due(struct merge *m, int64_t wall_ms, merge_at_end_fn at_end, void *ctx)
{
	struct waivers w = {NULL, wall_ms - m->settings.grace_ms};
	unsigned char *state;
	uint64_t n;

	if (m->held_records == 0)
		return 0;
	state = xcalloc(m->count, 1);
	for (size_t j = 0; j < m->count; j++) {
		const struct merge_in *o = &m->inputs[j];
		if (o->head != NULL || !at_end(ctx, o->path))
			continue;
		/* never touched in this run: quiet since before it started */
		state[j] =
		    o->last_wall == INT64_MIN || wall_ms - o->last_wall >= m->settings.grace_ms
		        ? QUIET
		        : AT_END;
	}
	w.input = state;
	n = release_while(m, &w);
	free(state);
	return n;
}

void merge_release_count(struct merge *m, uint64_t n)
{
	int i;

	while (n-- > 0 && (i = earliest(m)) >= 0)
		release_head(m, i);
	release_while(m, NULL);
}

void merge_note_advance(struct merge *m, int64_t t)
{
	if (t > m->advanced)
		m->advanced = t;
}

int64_t merge_earliest_held(const struct merge *m)
{
	int64_t ts = INT64_MAX;

	for (size_t i = 0; i < m->count; i++)
		if (m->inputs[i].head != NULL && m->inputs[i].head->ts_ms < ts)
			ts = m->inputs[i].head->ts_ms;
	return ts;
}

void merge_stats(const struct merge *m, struct merge_stats *out)
{
	out->late = m->late;
	out->forced = m->forced;
	out->held_records = m->held_records;
	out->held_bytes = m->held_bytes;
	out->inputs = m->count;
}

void merge_save(const struct merge *m, struct wire_writer *w)
{
	wire_put_u32(w, (uint32_t)m->count);
	for (size_t i = 0; i < m->count; i++) {
		const struct merge_in *in = &m->inputs[i];
		wire_put_bytes(w, in->path, strlen(in->path));
		wire_put_u32(w, in->rank);
		wire_put_i64(w, in->last_ts);
		wire_put_u64(w, in->held);
		for (const struct held *h = in->head; h != NULL; h = h->next) {
			const char *p = h->data;
			wire_put_i64(w, h->ts_ms);
			wire_put_u64(w, h->line_no);
			wire_put_i64(w, h->amount_fen);
			wire_put_u8(w, h->kind);
			wire_put_u8(w, h->from);
			for (int k = 0; k < 5; k++) {
				wire_put_bytes(w, p, h->len[k]);
				p += h->len[k];
			}
		}
	}
	wire_put_i64(w, m->best.ts);
	wire_put_u32(w, (uint32_t)m->best.input);
	wire_put_i64(w, m->second.ts);
	wire_put_u32(w, (uint32_t)m->second.input);
	wire_put_i64(w, m->advanced);
	wire_put_u64(w, m->late);
	wire_put_u64(w, m->forced);
}

static int load_held(struct merge *m, int input, struct wire_reader *r)
{
	struct record rec;
	struct text_view *views[5] = {&rec.shop, &rec.buyer, &rec.agent, &rec.text, &rec.order};
	uint64_t line_no;
	uint8_t kind, from;

	memset(&rec, 0, sizeof(rec));
	rec.ts_ms = wire_get_i64(r);
	line_no = wire_get_u64(r);
	rec.amount_fen = wire_get_i64(r);
	kind = wire_get_u8(r);
	from = wire_get_u8(r);
	for (int k = 0; k < 5; k++) {
		views[k]->ptr = wire_get_bytes(r, &views[k]->len);
		if (views[k]->len > UINT32_MAX)
			return -1;
	}
	if (r->failed || kind > RECORD_PAY || from > FROM_BOT)
		return -1;
	rec.kind = (enum record_kind)kind;
	rec.from = (enum record_from)from;
	hold(m, input, &rec, line_no);
	return 0;
}

int merge_load(struct merge *m, struct wire_reader *r)
{
	uint32_t count = wire_get_u32(r);

	if (r->failed || m->count != 0)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		size_t len;
		const char *path = wire_get_bytes(r, &len);
		char *copy;
		int input;
		uint64_t held;

		if (r->failed)
			return -1;
		copy = xstrndup(path, len);
		input = merge_input(m, copy, 0);
		free(copy);
		if (input != (int)i)
			return -1; /* a path twice */
		m->inputs[i].rank = wire_get_u32(r);
		m->inputs[i].last_ts = wire_get_i64(r);
		held = wire_get_u64(r);
		for (uint64_t k = 0; k < held; k++)
			if (r->failed || load_held(m, (int)i, r) == -1)
				return -1;
	}
	m->best.ts = wire_get_i64(r);
	m->best.input = (int)wire_get_u32(r);
	m->second.ts = wire_get_i64(r);
	m->second.input = (int)wire_get_u32(r);
	m->advanced = wire_get_i64(r);
	m->late = wire_get_u64(r);
	m->forced = wire_get_u64(r);
	return r->failed ? -1 : 0;
}
