/*
 * engine.c owns the meaning of the metrics (contract §3): conversations (inquiries
 * and post-sale), turns, responses, order attribution and lost reasons, the shops'
 * clocks, and which (shop, agent, minute) each count belongs to. It holds per
 * inquiry fixed-size state (rules are matched as messages arrive and only the best
 * rule index is kept) and, only while the inquiry is open and the patterns file has
 * `inquiry` rules that could still win, its transcript (transcript.h), which those
 * rules read when it closes. Storage is slab.c's, deadlines are deadline.c's heaps.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/deadline.h"
#include "chatlogd/engine.h"
#include "chatlogd/hindex.h"
#include "chatlogd/service_hours.h"
#include "chatlogd/slab.h"
#include "chatlogd/transcript.h"
#include "chatlogd/utf8.h"
#include "chatlogd/util.h"
#include "chatlogd/wire.h"

/* No inquiry or pair: both are slab ids. */
#define NONE SLAB_NONE
/* A name id without a shop clock yet (shop_of_name). */
#define SHOP_CLOCK_NONE UINT32_MAX
/* No agent on the message or inquiry. */
#define AGENT_UNKNOWN NAME_NONE

enum inquiry_flag {
	INQ_ALLOCATED = 1 << 0,
	INQ_OPEN = 1 << 1,      /* still takes messages */
	INQ_TURN_OPEN = 1 << 2, /* a buyer message waits for an answer */
	INQ_RESPONDED = 1 << 3, /* got at least one response */
	INQ_BREACHED = 1 << 4,  /* some response breached a target */
	INQ_ORDERED = 1 << 5,
	INQ_PAID = 1 << 6,
	INQ_IN_CLOSE_QUEUE = 1 << 7,
	INQ_WAIT_REPORTED = 1 << 8,      /* the open turn's waiting alert was given */
	INQ_POST_SALE = 1 << 9,          /* opened after an order or payment (reference.md) */
	INQ_REPLY_COUNTED = 1 << 10,     /* `replied` went out with the first response */
	INQ_WARN_REPORTED = 1 << 11,     /* the open turn's warning (warn_at) was given */
	INQ_ESCALATE_REPORTED = 1 << 12, /* ... and its escalation (escalate_after) */
	INQ_RETURNING = 1 << 13,         /* a returning buyer's inquiry (returning_window) */
	INQ_TRANSCRIPT_READ = 1 << 14    /* batch: its `inquiry` rules were read, while open */
};

#define INQ_WAITS_REPORTED (INQ_WAIT_REPORTED | INQ_WARN_REPORTED | INQ_ESCALATE_REPORTED)

/* 80 bytes. Counts that belong to the inquiry's agent are held in pending_* only
 * while that agent is not known yet (reference.md §3: the first person who answers), then emitted.
 */
struct inquiry {
	int64_t open_ms;
	int64_t last_ms; /* newest message time */
	int64_t turn_ms; /* when the open turn began */
	int64_t pending_sales_fen;
	uint32_t pair;
	uint32_t next; /* next inquiry of the pair by descending open time; free list link */
	uint32_t agent;
	uint32_t generation; /* tells a reused slot from the one a queue entry meant */
	uint32_t pending_buyer_msgs, pending_bot_msgs, pending_orders, pending_payments;
	struct transcript *transcript; /* NULL unless an `inquiry` rule may still win */
	uint16_t first_rule;           /* lowest index of a rule that matched, RULES_NONE if none */
	uint16_t flags;
};

/* One (shop, buyer): the inquiry taking messages now, all held ones, and when the
 * buyer last ordered or paid (what makes a new conversation post-sale). */
struct pair {
	uint64_t hash;
	int64_t last_order_ms; /* newest order or pay ts processed; INT64_MIN: none */
	union {
		char inline_name[16];
		char *heap_name;
	} buyer;
	uint32_t buyer_len;
	uint32_t shop;
	uint32_t current;    /* open inquiry or NONE; also the free list link */
	uint32_t head;       /* held inquiries, newest opening first */
	uint32_t generation; /* 0 while free; tells a reused slot from the one a queue meant */
};

/*
 * Each shop keeps its own event clock (live mode): the newest ts of its records,
 * or the wall clock when the logs are quiet. Its inquiries close and are decided by
 * that clock alone, so one shop's file read late, or written by a lagging writer,
 * is counted as batch mode counts it, and never closes another shop's inquiries.
 */
struct shop_clock {
	int64_t now;
	const struct service_hours *hours; /* NULL until looked up */
	struct deadline_heap close_queue, decide_queue;
	struct deadline_heap retire_queue; /* pairs remembered for their last order */
	/* Batch mode, with `inquiry` rules: the newest ts of the shop's records, and its
	 * inquiries holding a transcript, by when live mode would close them
	 * (transcript_read_early). */
	int64_t newest_ms;
	struct deadline_heap transcript_queue;
};

struct engine {
	struct engine_settings settings;
	struct names *names;
	struct reasons *reasons;
	struct counter_table *sink;
	struct rules *rules;
	unsigned rule_reason[LIMIT_RULES]; /* rule index -> reason id */

	struct slab inquiries, pairs;
	struct hindex pair_index;
	size_t held;
	uint32_t generation, pair_generation;
	int64_t event_time;
	struct deadline_heap wait_queue; /* by the wall clock, for every shop */
	struct shop_clock *shops;        /* in order of first appearance */
	uint32_t shop_count, shop_capacity;
	uint32_t *shop_of_name; /* name id -> index in shops, or SHOP_CLOCK_NONE */
	uint32_t shop_of_name_size;
	int ids_spent;
	engine_response_fn observer;
	void *observer_ctx;
};

static struct inquiry *inquiry_at(const struct engine *e, uint32_t id)
{
	return slab_at(&e->inquiries, id);
}

static struct pair *pair_at(const struct engine *e, uint32_t id)
{
	return slab_at(&e->pairs, id);
}

/* ---- shop clocks ---- */

/* The clock of shop (a name id), created at INT64_MIN. */
static struct shop_clock *shop_clock_of(struct engine *e, uint32_t shop)
{
	struct shop_clock *c;

	if (shop >= e->shop_of_name_size) {
		uint32_t size = e->shop_of_name_size ? e->shop_of_name_size : 64;
		uint32_t *map;
		while (size <= shop)
			size *= 2;
		map = xreallocarray(e->shop_of_name, size, sizeof(*map));
		for (uint32_t i = e->shop_of_name_size; i < size; i++)
			map[i] = SHOP_CLOCK_NONE;
		e->shop_of_name = map;
		e->shop_of_name_size = size;
	}
	if (e->shop_of_name[shop] != SHOP_CLOCK_NONE)
		return &e->shops[e->shop_of_name[shop]];
	if (e->shop_count == e->shop_capacity) {
		uint32_t capacity = e->shop_capacity ? e->shop_capacity * 2 : 16;
		e->shops = xreallocarray(e->shops, capacity, sizeof(*e->shops));
		e->shop_capacity = capacity;
	}
	c = &e->shops[e->shop_count];
	memset(c, 0, sizeof(*c));
	c->now = INT64_MIN;
	c->newest_ms = INT64_MIN;
	e->shop_of_name[shop] = e->shop_count++;
	return c;
}

/* 1 when a turn of shop that began at ts_ms began in its service hours. */
static int in_service_hours(struct engine *e, uint32_t shop, int64_t ts_ms)
{
	struct shop_clock *c;

	if (e->settings.service_hours == NULL)
		return 1;
	c = shop_clock_of(e, shop);
	if (c->hours == NULL)
		c->hours =
		    service_hours_set_find(e->settings.service_hours, names_get(e->names, shop),
		                           names_length(e->names, shop));
	return service_hours_contains(c->hours, ts_ms);
}

/* ---- emitting counts ---- */

static void emit(struct engine *e, uint32_t shop, uint32_t agent, int64_t ts_ms, enum counter_id id,
                 int64_t delta)
{
	if (delta != 0 && counter_table_add(e->sink, shop, agent, ts_ms, id, delta) == -1)
		e->ids_spent = 1;
}

static uint32_t inquiry_shop(const struct engine *e, const struct inquiry *inq)
{
	return pair_at(e, inq->pair)->shop;
}

/* Counts something about the inquiry: to its agent at its opening minute, or held
 * in pending_* until the agent is known. */
static void count_for_inquiry(struct engine *e, struct inquiry *inq, enum counter_id id,
                              int64_t delta)
{
	if (inq->agent != AGENT_UNKNOWN) {
		emit(e, inquiry_shop(e, inq), inq->agent, inq->open_ms, id, delta);
		return;
	}
	switch (id) {
	case COUNTER_BUYER_MSGS:
		inq->pending_buyer_msgs += (uint32_t)delta;
		break;
	case COUNTER_BOT_MSGS:
		inq->pending_bot_msgs += (uint32_t)delta;
		break;
	case COUNTER_ORDERS:
		inq->pending_orders += (uint32_t)delta;
		break;
	case COUNTER_PAYMENTS:
		inq->pending_payments += (uint32_t)delta;
		break;
	case COUNTER_SALES_FEN:
		inq->pending_sales_fen += delta;
		break;
	default:
		break; /* ORDERED/PAID are flags, emitted from the flags */
	}
}

/* Fixes the inquiry's agent and emits everything that waited for it. */
static void assign_agent(struct engine *e, struct inquiry *inq, uint32_t agent)
{
	uint32_t shop = inquiry_shop(e, inq);

	inq->agent = agent;
	emit(e, shop, agent, inq->open_ms,
	     (inq->flags & INQ_POST_SALE) ? COUNTER_POST_SALE : COUNTER_INQUIRIES, 1);
	emit(e, shop, agent, inq->open_ms, COUNTER_BUYER_MSGS, inq->pending_buyer_msgs);
	emit(e, shop, agent, inq->open_ms, COUNTER_BOT_MSGS, inq->pending_bot_msgs);
	emit(e, shop, agent, inq->open_ms, COUNTER_ORDERS, inq->pending_orders);
	emit(e, shop, agent, inq->open_ms, COUNTER_PAYMENTS, inq->pending_payments);
	emit(e, shop, agent, inq->open_ms, COUNTER_SALES_FEN, inq->pending_sales_fen);
	emit(e, shop, agent, inq->open_ms, COUNTER_RETURNING, (inq->flags & INQ_RETURNING) != 0);
	emit(e, shop, agent, inq->open_ms, COUNTER_ORDERED, (inq->flags & INQ_ORDERED) != 0);
	emit(e, shop, agent, inq->open_ms, COUNTER_RETURNING_ORDERED,
	     (inq->flags & (INQ_ORDERED | INQ_RETURNING)) == (INQ_ORDERED | INQ_RETURNING));
	emit(e, shop, agent, inq->open_ms, COUNTER_PAID, (inq->flags & INQ_PAID) != 0);
	inq->pending_buyer_msgs = inq->pending_bot_msgs = 0;
	inq->pending_orders = inq->pending_payments = 0;
	inq->pending_sales_fen = 0;
}

/* ---- pairs ---- */

static const char *pair_buyer(const struct pair *p)
{
	return p->buyer_len < sizeof(p->buyer.inline_name) ? p->buyer.inline_name
	                                                   : p->buyer.heap_name;
}

struct pair_probe {
	const struct engine *engine;
	uint32_t shop;
	const char *buyer;
	size_t len;
};

static int pair_equals(const void *ctx, uint32_t id)
{
	const struct pair_probe *probe = ctx;
	const struct pair *p = pair_at(probe->engine, id);
	return p->shop == probe->shop && p->buyer_len == probe->len &&
	       memcmp(pair_buyer(p), probe->buyer, probe->len) == 0;
}

static uint32_t pair_find(struct engine *e, uint32_t shop, struct text_view buyer, int create)
{
	uint64_t hash = hindex_hash(buyer.ptr, buyer.len, shop);
	struct pair_probe probe = {e, shop, buyer.ptr, buyer.len};
	uint32_t id = hindex_find(&e->pair_index, hash, pair_equals, &probe);
	struct pair *p;

	if (id != NONE || !create)
		return id;
	if ((id = slab_alloc(&e->pairs, offsetof(struct pair, current))) == NONE)
		return NONE;
	p = pair_at(e, id);
	p->hash = hash;
	p->buyer_len = (uint32_t)buyer.len;
	if (buyer.len < sizeof(p->buyer.inline_name)) {
		memcpy(p->buyer.inline_name, buyer.ptr, buyer.len);
		p->buyer.inline_name[buyer.len] = '\0';
	} else {
		p->buyer.heap_name = xstrndup(buyer.ptr, buyer.len);
	}
	p->shop = shop;
	p->current = NONE;
	p->head = NONE;
	p->last_order_ms = INT64_MIN;
	p->generation = ++e->pair_generation ? e->pair_generation : ++e->pair_generation;
	if (hindex_insert(&e->pair_index, hash, id) == -1) {
		if (buyer.len >= sizeof(p->buyer.inline_name))
			free(p->buyer.heap_name);
		slab_release(&e->pairs, id, offsetof(struct pair, current));
		return NONE;
	}
	return id;
}

static void pair_release(struct engine *e, uint32_t id)
{
	struct pair *p = pair_at(e, id);

	hindex_remove(&e->pair_index, p->hash, id);
	if (p->buyer_len >= sizeof(p->buyer.inline_name))
		free(p->buyer.heap_name);
	p->generation = 0;
	slab_release(&e->pairs, id, offsetof(struct pair, current));
}

/* How long a buyer's last order matters: post-sale, then returning buyer. */
static int64_t returning_window_ms(const struct engine *e)
{
	return e->settings.assessment_counters ? e->settings.returning_window_ms : 0;
}

static int64_t order_memory_ms(const struct engine *e)
{
	return e->settings.post_sale_window_ms > returning_window_ms(e)
	           ? e->settings.post_sale_window_ms
	           : returning_window_ms(e);
}

/* 1 while the pair must be kept for its buyer's last order. */
static int pair_remembers_order(const struct engine *e, const struct pair *p, int64_t now)
{
	return p->last_order_ms != INT64_MIN && now - p->last_order_ms <= order_memory_ms(e);
}

/* Lets the pair go once it holds no inquiry and its order no longer matters. */
static void pair_release_if_done(struct engine *e, uint32_t id, int64_t now)
{
	struct pair *p = pair_at(e, id);

	if (p->head == NONE && !pair_remembers_order(e, p, now))
		pair_release(e, id);
}

/* ---- inquiry life ---- */

/* post-sale when the buyer ordered or paid at this shop at or before ts
 * and no more than post_sale_window before it. */
static int opens_post_sale(const struct engine *e, const struct pair *p, int64_t ts_ms)
{
	return e->settings.post_sale_window_ms > 0 && p->last_order_ms != INT64_MIN &&
	       p->last_order_ms <= ts_ms &&
	       ts_ms - p->last_order_ms <= e->settings.post_sale_window_ms;
}

/* A returning buyer (回头客): the last order is older than post_sale_window (else
 * the conversation is post-sale) and no more than returning_window old. */
static int opens_returning(const struct engine *e, const struct pair *p, int64_t ts_ms)
{
	return returning_window_ms(e) > 0 && p->last_order_ms != INT64_MIN &&
	       p->last_order_ms <= ts_ms &&
	       ts_ms - p->last_order_ms > e->settings.post_sale_window_ms &&
	       ts_ms - p->last_order_ms <= returning_window_ms(e);
}

static uint32_t inquiry_open(struct engine *e, uint32_t pair_id, const struct record *rec,
                             uint32_t agent)
{
	uint32_t id = slab_alloc(&e->inquiries, offsetof(struct inquiry, next));
	struct pair *p = pair_at(e, pair_id);
	struct inquiry *inq;
	uint32_t *link;

	if (id == NONE)
		return NONE;
	inq = inquiry_at(e, id);
	memset(inq, 0, sizeof(*inq));
	inq->open_ms = inq->last_ms = rec->ts_ms;
	inq->pair = pair_id;
	inq->agent = AGENT_UNKNOWN;
	inq->generation = ++e->generation;
	inq->first_rule = RULES_NONE;
	inq->flags = INQ_ALLOCATED | INQ_OPEN;
	if (opens_post_sale(e, p, rec->ts_ms))
		inq->flags |= INQ_POST_SALE;
	else if (opens_returning(e, p, rec->ts_ms))
		inq->flags |= INQ_RETURNING;

	/* Keep the pair's list sorted by opening time, newest first; on a tie the one
	 * opened last comes first (reference.md §3: the one opened last). */
	link = &p->head;
	while (*link != NONE && inquiry_at(e, *link)->open_ms > rec->ts_ms)
		link = &inquiry_at(e, *link)->next;
	inq->next = *link;
	*link = id;
	p->current = id;
	e->held++;

	if (e->settings.track_deadlines) {
		struct shop_clock *c = shop_clock_of(e, p->shop);
		inq->flags |= INQ_IN_CLOSE_QUEUE;
		deadline_push(&c->close_queue, rec->ts_ms + e->settings.session_idle_ms, id,
		              inq->generation);
		deadline_push(&c->decide_queue, rec->ts_ms + e->settings.order_window_ms, id,
		              inq->generation);
	}
	if (agent != AGENT_UNKNOWN)
		assign_agent(e, inq, agent);
	return id;
}

/* When an open inquiry closes if nothing more comes: session_idle after its last
 * message (live mode closes it once its shop's clock is past this). */
static int64_t close_due(const struct engine *e, const struct inquiry *inq)
{
	return inq->last_ms + e->settings.session_idle_ms;
}

/* Reads the `inquiry` rules against the inquiry's transcript, once, and lets the
 * transcript go. */
static void transcript_read(struct engine *e, struct inquiry *inq)
{
	if (inq->transcript == NULL)
		return;
	if (e->rules != NULL && !(inq->flags & (INQ_ORDERED | INQ_POST_SALE))) {
		unsigned match = rules_first_inquiry_match(e->rules, inq->transcript->text,
		                                           inq->transcript->len, inq->first_rule);
		if (match != RULES_NONE)
			inq->first_rule = (uint16_t)match;
	}
	transcript_free(&inq->transcript);
	inq->flags |= INQ_TRANSCRIPT_READ;
}

/*
 * Batch mode keeps no deadlines and closes an inquiry only when its buyer writes
 * again or the input ends, so it would hold every transcript to the end: a month's
 * log, every chat's text. It reads a transcript instead when live mode would close
 * the inquiry: once its shop's newest record is more than session_idle past the
 * inquiry's last message (live mode's shop clock, without the wall clock). Both then
 * read the same messages, whatever the order of the shops' records. One heap entry
 * per transcript, per shop; an entry whose inquiry moved on is pushed again.
 */
static void transcript_read_early(struct engine *e, struct shop_clock *c)
{
	while (deadline_due(&c->transcript_queue, c->newest_ms)) {
		struct deadline d = deadline_pop(&c->transcript_queue);
		struct inquiry *inq = inquiry_at(e, d.id);

		if (!(inq->flags & INQ_ALLOCATED) || inq->generation != d.generation ||
		    inq->transcript == NULL)
			continue;
		if (close_due(e, inq) > d.at)
			deadline_push(&c->transcript_queue, close_due(e, inq), d.id, d.generation);
		else
			transcript_read(e, inq);
	}
}

/* Stops the inquiry taking messages and counts what its close decides. */
static void inquiry_close(struct engine *e, uint32_t id)
{
	struct inquiry *inq = inquiry_at(e, id);

	if (!(inq->flags & INQ_OPEN))
		return;
	if (inq->agent == AGENT_UNKNOWN)
		assign_agent(e, inq, NAME_NO_AGENT);
	if (inq->flags & INQ_TURN_OPEN)
		count_for_inquiry(e, inq, COUNTER_UNANSWERED, 1);
	/* `replied` normally went out with the first response; an inquiry restored from
	 * a state written before that counts it here. */
	if (!(inq->flags & INQ_RESPONDED))
		count_for_inquiry(e, inq, COUNTER_NO_REPLY, 1);
	else if (!(inq->flags & INQ_REPLY_COUNTED))
		count_for_inquiry(e, inq, COUNTER_REPLIED, 1);
	inq->flags &= (uint16_t) ~(INQ_OPEN | INQ_TURN_OPEN);
	pair_at(e, inq->pair)->current = NONE;
	/* The inquiry takes no more messages: its `inquiry` rules can be read now. */
	transcript_read(e, inq);
}

static unsigned lost_reason(const struct engine *e, const struct inquiry *inq)
{
	if (!(inq->flags & INQ_RESPONDED))
		return REASON_NO_REPLY;
	if (inq->first_rule != RULES_NONE)
		return e->rule_reason[inq->first_rule];
	if (inq->flags & INQ_BREACHED)
		return REASON_SLOW;
	return REASON_OTHER;
}

/* Closes the inquiry and counts its outcome: a loss, and why, unless it ordered. */
static void inquiry_count_outcome(struct engine *e, uint32_t id)
{
	struct inquiry *inq = inquiry_at(e, id);

	inquiry_close(e, id);
	if (!(inq->flags & (INQ_ORDERED | INQ_POST_SALE))) {
		count_for_inquiry(e, inq, COUNTER_LOST, 1);
		count_for_inquiry(e, inq, COUNTER_LOST_REASON + lost_reason(e, inq), 1);
	}
}

/* The order window has passed: counts the outcome and lets the inquiry go. */
static void inquiry_decide(struct engine *e, uint32_t id, int64_t now)
{
	struct inquiry *inq = inquiry_at(e, id);
	uint32_t pair_id = inq->pair;
	struct pair *p = pair_at(e, pair_id);
	uint32_t *link;

	inquiry_count_outcome(e, id);
	for (link = &p->head; *link != id; link = &inquiry_at(e, *link)->next)
		;
	*link = inq->next;
	inq->flags = 0;
	slab_release(&e->inquiries, id, offsetof(struct inquiry, next));
	e->held--;
	pair_release_if_done(e, pair_id, now);
}

static void shop_advance(struct engine *e, struct shop_clock *c, int64_t now_ms);

/* ---- records ---- */

static int64_t wait_target(const struct engine *e, const struct inquiry *inq)
{
	return (inq->flags & INQ_RESPONDED) ? e->settings.art_target_ms : e->settings.frt_target_ms;
}

/* When the open turn's buyer will have waited long enough for `stage`; 0 when that
 * stage is off (warn_at not below the target, escalate_after not above it). */
static int64_t wait_deadline(const struct engine *e, const struct inquiry *inq,
                             enum engine_wait_stage stage)
{
	int64_t target = wait_target(e, inq);

	switch (stage) {
	case ENGINE_WAIT_WARNING:
		if (e->settings.warn_at_ms <= 0 || e->settings.warn_at_ms >= target)
			return 0;
		return inq->turn_ms + e->settings.warn_at_ms;
	case ENGINE_WAIT_BREACH:
		return inq->turn_ms + target;
	case ENGINE_WAIT_ESCALATE:
		if (e->settings.escalate_after_ms <= target)
			return 0;
		return inq->turn_ms + e->settings.escalate_after_ms;
	}
	return 0;
}

static const uint16_t stage_flag[] = {
    [ENGINE_WAIT_WARNING] = INQ_WARN_REPORTED,
    [ENGINE_WAIT_BREACH] = INQ_WAIT_REPORTED,
    [ENGINE_WAIT_ESCALATE] = INQ_ESCALATE_REPORTED,
};

/* Live mode: remember when the open turn's buyer will have waited long enough for
 * each stage not reported yet. */
static void queue_waits(struct engine *e, uint32_t id, const struct inquiry *inq)
{
	/* nobody is expected to answer outside service hours */
	if (!in_service_hours(e, inquiry_shop(e, inq), inq->turn_ms))
		return;
	for (int stage = ENGINE_WAIT_WARNING; stage <= ENGINE_WAIT_ESCALATE; stage++) {
		int64_t at = wait_deadline(e, inq, (enum engine_wait_stage)stage);
		if (at != 0 && !(inq->flags & stage_flag[stage]))
			deadline_push(&e->wait_queue, at, id, inq->generation);
	}
}

static void queue_wait(struct engine *e, uint32_t id, struct inquiry *inq)
{
	if (e->settings.track_deadlines)
		queue_waits(e, id, inq);
}

static void respond(struct engine *e, struct inquiry *inq, uint32_t shop, uint32_t agent,
                    int64_t ts_ms)
{
	int64_t ms = ts_ms - inq->turn_ms;

	if (ms < 0) {
		ms = 0;
		emit(e, shop, agent, ts_ms, COUNTER_CLOCK_SKEW, 1);
	}
	if (!(inq->flags & INQ_RESPONDED)) {
		/* Certain from now on, so it goes out now (reference.md §3: its minute is still
		 * the inquiry's), and live reply rates mean something before the close. */
		count_for_inquiry(e, inq, COUNTER_REPLIED, 1);
		inq->flags |= INQ_REPLY_COUNTED;
		emit(e, shop, agent, ts_ms, COUNTER_FIRST_RESPONSES, 1);
		emit(e, shop, agent, ts_ms, COUNTER_FRT_MS_SUM, ms);
		emit(e, shop, agent, ts_ms, COUNTER_FRT_H + counters_bucket(ms), 1);
		if (ms > e->settings.frt_target_ms) {
			emit(e, shop, agent, ts_ms, COUNTER_FRT_BREACHES, 1);
			inq->flags |= INQ_BREACHED;
		}
	}
	emit(e, shop, agent, ts_ms, COUNTER_RESPONSES, 1);
	emit(e, shop, agent, ts_ms, COUNTER_RESPONSE_MS_SUM, ms);
	emit(e, shop, agent, ts_ms, COUNTER_RESP_H + counters_bucket(ms), 1);
	if (e->settings.assessment_counters) {
		if (in_service_hours(e, shop, inq->turn_ms)) {
			emit(e, shop, agent, ts_ms, COUNTER_HOURS_RESPONSES, 1);
			emit(e, shop, agent, ts_ms, COUNTER_HOURS_RESPONSES_3M,
			     ms <= COUNTERS_FAST_RESPONSE_MS);
		}
		emit(e, shop, agent, ts_ms, COUNTER_SLOW_RESPONSES,
		     ms > e->settings.slow_response_ms);
	}
	if (ms > e->settings.art_target_ms) {
		emit(e, shop, agent, ts_ms, COUNTER_RESPONSE_BREACHES, 1);
		inq->flags |= INQ_BREACHED;
	}
	if (e->observer != NULL)
		e->observer(e->observer_ctx, shop, agent, ts_ms, ms, !(inq->flags & INQ_RESPONDED));
	inq->flags |= INQ_RESPONDED;
	inq->flags &= (uint16_t) ~(INQ_TURN_OPEN | INQ_WAITS_REPORTED);
}

static void classify(struct engine *e, uint32_t id, struct inquiry *inq, const struct record *rec)
{
	unsigned match;

	if (e->rules == NULL || rec->text.len == 0)
		return;
	/* An ordered or post-sale conversation can never be lost, and no rule can beat
	 * rule 0. */
	if ((inq->flags & (INQ_ORDERED | INQ_POST_SALE)) || inq->first_rule == 0) {
		transcript_free(&inq->transcript);
		return;
	}
	match =
	    rules_first_match(e->rules, rec->from, rec->text.ptr, rec->text.len, inq->first_rule);
	if (match != RULES_NONE)
		inq->first_rule = (uint16_t)match;
	/* The transcript is kept only while an `inquiry` rule comes before the best
	 * match so far. */
	if (rules_first_inquiry(e->rules) >= inq->first_rule ||
	    (inq->flags & INQ_TRANSCRIPT_READ)) {
		transcript_free(&inq->transcript);
	} else if (!rules_skips(e->rules, rec->from, rec->text.ptr, rec->text.len)) {
		if (inq->transcript == NULL && !e->settings.track_deadlines)
			deadline_push(&shop_clock_of(e, inquiry_shop(e, inq))->transcript_queue,
			              close_due(e, inq), id, inq->generation);
		transcript_append(&inq->transcript, rec->from, rec->text.ptr, rec->text.len);
	}
}

/* The record's agent as a name id in *agent; AGENT_UNKNOWN when absent or "-" (on a
 * buyer or bot message: no agent). Returns 0, or -1 when the name table is full. */
static int record_agent(struct engine *e, const struct record *rec, uint32_t *agent)
{
	*agent = AGENT_UNKNOWN;
	if (rec->agent.len == 0 || (rec->agent.len == 1 && rec->agent.ptr[0] == '-'))
		return 0;
	*agent = names_intern(e->names, rec->agent.ptr, rec->agent.len);
	return *agent == NAME_NONE ? -1 : 0;
}

static int feed_message(struct engine *e, const struct record *rec, uint32_t shop)
{
	uint32_t pair_id = pair_find(e, shop, rec->buyer, rec->from == FROM_BUYER);
	uint32_t id = pair_id == NONE ? NONE : pair_at(e, pair_id)->current;
	uint32_t agent = AGENT_UNKNOWN;
	int idle;
	struct inquiry *inq;

	if (rec->from == FROM_BUYER && pair_id == NONE)
		return -1;
	idle = id != NONE && rec->ts_ms - inquiry_at(e, id)->last_ms > e->settings.session_idle_ms;
	/* Only an agent's message and a buyer's message that opens an inquiry use the
	 * agent field; the others skip interning it (hashing a long name), about half
	 * of all lines. */
	if ((rec->from == FROM_AGENT || (rec->from == FROM_BUYER && (id == NONE || idle))) &&
	    record_agent(e, rec, &agent) == -1)
		return -1;
	if (idle) {
		inquiry_close(e, id);
		id = NONE;
	}
	if (rec->from == FROM_AGENT)
		emit(e, shop, agent, rec->ts_ms, COUNTER_AGENT_MSGS, 1);
	if (id == NONE) {
		if (rec->from == FROM_BOT)
			emit(e, shop, NAME_NO_AGENT, rec->ts_ms, COUNTER_BOT_MSGS, 1);
		if (rec->from != FROM_BUYER)
			return 0; /* agent and bot messages never open an inquiry */
		if ((id = inquiry_open(e, pair_id, rec, agent)) == NONE)
			return -1;
	}
	inq = inquiry_at(e, id);
	if (rec->ts_ms > inq->last_ms)
		inq->last_ms = rec->ts_ms;

	switch (rec->from) {
	case FROM_BUYER:
		count_for_inquiry(e, inq, COUNTER_BUYER_MSGS, 1);
		if (!(inq->flags & INQ_TURN_OPEN)) {
			inq->flags |= INQ_TURN_OPEN;
			inq->turn_ms = rec->ts_ms;
			queue_wait(e, id, inq);
		}
		break;
	case FROM_BOT:
		count_for_inquiry(e, inq, COUNTER_BOT_MSGS, 1);
		break;
	case FROM_AGENT:
		if (inq->agent == AGENT_UNKNOWN)
			assign_agent(e, inq, agent);
		if (inq->flags & INQ_TURN_OPEN)
			respond(e, inq, shop, agent, rec->ts_ms);
		break;
	case FROM_NONE:
		break;
	}
	classify(e, id, inq, rec);
	return 0;
}

/* The held inquiry an order or payment belongs to: the latest opened at or before
 * it, no more than order_window before it. */
static uint32_t attribution(const struct engine *e, uint32_t pair_id, int64_t ts_ms)
{
	for (uint32_t id = pair_at(e, pair_id)->head; id != NONE; id = inquiry_at(e, id)->next) {
		const struct inquiry *inq = inquiry_at(e, id);
		if (inq->open_ms > ts_ms || (inq->flags & INQ_POST_SALE))
			continue;
		return ts_ms - inq->open_ms <= e->settings.order_window_ms ? id : NONE;
	}
	return NONE;
}

/* Remembers the buyer's order time (live mode: for as long as it matters). */
static void remember_order(struct engine *e, uint32_t pair_id, int64_t ts_ms)
{
	struct pair *p = pair_at(e, pair_id);

	if (p->last_order_ms != INT64_MIN && p->last_order_ms >= ts_ms)
		return;
	p->last_order_ms = ts_ms;
	if (e->settings.track_deadlines)
		deadline_push(&shop_clock_of(e, p->shop)->retire_queue, ts_ms + order_memory_ms(e),
		              pair_id, p->generation);
}

static int feed_order(struct engine *e, const struct record *rec, uint32_t shop)
{
	int remember = order_memory_ms(e) > 0;
	uint32_t pair_id = pair_find(e, shop, rec->buyer, remember);
	uint32_t id = pair_id == NONE ? NONE : attribution(e, pair_id, rec->ts_ms);
	struct inquiry *inq;

	if (remember) {
		if (pair_id == NONE)
			return -1;
		remember_order(e, pair_id, rec->ts_ms);
	}

	if (id == NONE) {
		if (rec->kind == RECORD_ORDER)
			emit(e, shop, NAME_WHOLE_SHOP, rec->ts_ms, COUNTER_SILENT_ORDERS, 1);
		else
			emit(e, shop, NAME_WHOLE_SHOP, rec->ts_ms, COUNTER_SILENT_SALES_FEN,
			     rec->amount_fen);
		return 0;
	}
	inq = inquiry_at(e, id);
	if (rec->kind == RECORD_ORDER) {
		count_for_inquiry(e, inq, COUNTER_ORDERS, 1);
	} else {
		count_for_inquiry(e, inq, COUNTER_PAYMENTS, 1);
		count_for_inquiry(e, inq, COUNTER_SALES_FEN, rec->amount_fen);
		if (!(inq->flags & INQ_PAID)) {
			inq->flags |= INQ_PAID;
			count_for_inquiry(e, inq, COUNTER_PAID, 1);
		}
	}
	if (!(inq->flags & INQ_ORDERED)) { /* a payment implies an order */
		inq->flags |= INQ_ORDERED;
		count_for_inquiry(e, inq, COUNTER_ORDERED, 1);
		if (inq->flags & INQ_RETURNING)
			count_for_inquiry(e, inq, COUNTER_RETURNING_ORDERED, 1);
	}
	return 0;
}

/* 1 when the name is absent and the names table is at max_names. */
static int name_over_limit(const struct engine *e, struct text_view name)
{
	return names_count(e->names) >= e->settings.max_names &&
	       names_find(e->names, name.ptr, name.len) == NAME_NONE;
}

/* Whether the record would pass a ceiling (max_names, max_buyers); checked before
 * anything is counted. Cheap unless a table is at its ceiling. */
static int over_limits(struct engine *e, const struct record *rec, char *err, size_t errlen)
{
	int agent_used = rec->kind == RECORD_MSG && rec->agent.len > 0 &&
	                 !(rec->agent.len == 1 && rec->agent.ptr[0] == '-');

	if (e->settings.max_names > 0 &&
	    (name_over_limit(e, rec->shop) || (agent_used && name_over_limit(e, rec->agent)))) {
		snprintf(err, errlen, "a new shop or agent name past max_names (%u): refused",
		         e->settings.max_names);
		return 1;
	}
	if (e->settings.max_buyers > 0 && rec->kind == RECORD_MSG && rec->from == FROM_BUYER &&
	    e->pair_index.count >= e->settings.max_buyers) {
		uint32_t shop = names_find(e->names, rec->shop.ptr, rec->shop.len);
		if (shop == NAME_NONE || pair_find(e, shop, rec->buyer, 0) == NONE) {
			snprintf(err, errlen, "a new buyer past max_buyers (%u): refused",
			         e->settings.max_buyers);
			return 1;
		}
	}
	return 0;
}

int engine_feed(struct engine *e, const struct record *rec, char *err, size_t errlen)
{
	uint32_t shop;

	if (rec->agent.len == 1 && rec->agent.ptr[0] == '*') {
		snprintf(err, errlen, "reserved agent name");
		return -1;
	}
	if (rec->from == FROM_AGENT && rec->agent.len == 1 && rec->agent.ptr[0] == '-') {
		snprintf(err, errlen, "reserved agent name");
		return -1;
	}
	if (over_limits(e, rec, err, errlen))
		return -1;
	if ((shop = names_intern(e->names, rec->shop.ptr, rec->shop.len)) == NAME_NONE)
		goto ids_spent;
	if (rec->ts_ms > e->event_time)
		e->event_time = rec->ts_ms;

	if ((rec->kind == RECORD_MSG ? feed_message(e, rec, shop) : feed_order(e, rec, shop)) == -1)
		goto ids_spent;
	if (e->settings.track_deadlines) {
		struct shop_clock *c = shop_clock_of(e, shop);
		if (rec->ts_ms > c->now)
			shop_advance(e, c, rec->ts_ms);
	} else if (e->rules != NULL && rules_first_inquiry(e->rules) != RULES_NONE) {
		/* as live mode moves the shop's clock: only forward */
		struct shop_clock *c = shop_clock_of(e, shop);
		if (rec->ts_ms > c->newest_ms) {
			c->newest_ms = rec->ts_ms;
			transcript_read_early(e, c);
		}
	}
	if (e->ids_spent)
		goto ids_spent;
	return 0;

ids_spent:
	snprintf(err, errlen, "more names, buyers or inquiries than the engine's ids hold");
	return -1;
}

/* ---- time ---- */

/* Moves one shop's clock to now_ms: closes its inquiries idle for more than
 * session_idle, decides those opened more than order_window before, and forgets
 * buyers whose last order no longer matters. */
static void shop_advance(struct engine *e, struct shop_clock *c, int64_t now_ms)
{
	c->now = now_ms;
	while (deadline_due(&c->close_queue, now_ms)) {
		struct deadline d = deadline_pop(&c->close_queue);
		struct inquiry *inq = inquiry_at(e, d.id);
		int64_t due;

		if (!(inq->flags & INQ_ALLOCATED) || inq->generation != d.generation ||
		    !(inq->flags & INQ_OPEN))
			continue;
		due = close_due(e, inq);
		if (due < now_ms)
			inquiry_close(e, d.id);
		else
			deadline_push(&c->close_queue, due, d.id, d.generation);
	}
	while (deadline_due(&c->decide_queue, now_ms)) {
		struct deadline d = deadline_pop(&c->decide_queue);
		struct inquiry *inq = inquiry_at(e, d.id);

		if (!(inq->flags & INQ_ALLOCATED) || inq->generation != d.generation)
			continue;
		/* A buyer still writing when the order window ends: the conversation goes on
		 * until session_idle of silence (reference.md §3), as in batch mode, and is
		 * decided when it closes. The close loop above has closed every inquiry due
		 * before now_ms, so this time is not before it. */
		if (inq->flags & INQ_OPEN)
			deadline_push(&c->decide_queue, close_due(e, inq), d.id, d.generation);
		else
			inquiry_decide(e, d.id, now_ms);
	}
	while (deadline_due(&c->retire_queue, now_ms)) {
		struct deadline d = deadline_pop(&c->retire_queue);

		/* the pair's generation: a slot reused since is another buyer */
		if (d.id < e->pairs.used && pair_at(e, d.id)->generation == d.generation)
			pair_release_if_done(e, d.id, now_ms);
	}
}

void engine_advance(struct engine *e, int64_t now_ms)
{
	for (uint32_t i = 0; i < e->shop_count; i++)
		if (e->shops[i].now < now_ms)
			shop_advance(e, &e->shops[i], now_ms);
}

int engine_waiting_due(const struct engine *e, int64_t now_ms)
{
	return deadline_due(&e->wait_queue, now_ms);
}

/* Which stage a popped wait deadline stands for; -1 when it is stale: the turn was
 * answered, a later turn began (it queued its own), or the stage was reported. */
static int wait_stage_of(const struct engine *e, const struct inquiry *inq, struct deadline d)
{
	if (!(inq->flags & INQ_ALLOCATED) || inq->generation != d.generation ||
	    !(inq->flags & INQ_TURN_OPEN))
		return -1;
	for (int stage = ENGINE_WAIT_WARNING; stage <= ENGINE_WAIT_ESCALATE; stage++)
		if (wait_deadline(e, inq, (enum engine_wait_stage)stage) == d.at &&
		    !(inq->flags & stage_flag[stage]))
			return stage;
	return -1;
}

void engine_waiting(struct engine *e, int64_t now_ms,
                    void (*fn)(void *ctx, const struct engine_wait *w), void *ctx)
{
	while (engine_waiting_due(e, now_ms)) {
		struct deadline d = deadline_pop(&e->wait_queue);
		struct inquiry *inq = inquiry_at(e, d.id);
		int stage = wait_stage_of(e, inq, d);
		const struct pair *p;
		struct engine_wait w;

		if (stage == -1)
			continue;
		inq->flags |= stage_flag[stage];
		p = pair_at(e, inq->pair);
		w.shop = p->shop;
		w.agent = inq->agent == AGENT_UNKNOWN ? NAME_NO_AGENT : inq->agent;
		w.buyer.ptr = pair_buyer(p);
		w.buyer.len = p->buyer_len;
		w.first = !(inq->flags & INQ_RESPONDED);
		w.stage = (enum engine_wait_stage)stage;
		w.since_ms = inq->turn_ms;
		w.target_ms = wait_target(e, inq);
		w.threshold_ms = d.at - inq->turn_ms;
		fn(ctx, &w);
	}
}

int64_t engine_next_wait(const struct engine *e)
{
	return e->wait_queue.count > 0 ? e->wait_queue.items[0].at : INT64_MAX;
}

/* Lets every pair and inquiry go at once (their slab chunks stay for reuse). */
static void engine_clear(struct engine *e)
{
	for (uint32_t id = 0; id < e->pairs.used; id++) {
		struct pair *p = pair_at(e, id);
		/* Released pairs had their name freed at release (generation 0). */
		if (p->generation != 0 && p->buyer_len >= sizeof(p->buyer.inline_name))
			free(p->buyer.heap_name);
	}
	for (uint32_t id = 0; id < e->inquiries.used; id++) {
		struct inquiry *inq = inquiry_at(e, id);
		if (inq->flags & INQ_ALLOCATED)
			transcript_free(&inq->transcript);
	}
	slab_clear(&e->pairs);
	slab_clear(&e->inquiries);
	hindex_free(&e->pair_index);
	e->held = 0;
	for (uint32_t i = 0; i < e->shop_count; i++) {
		e->shops[i].close_queue.count = 0;
		e->shops[i].decide_queue.count = 0;
		e->shops[i].retire_queue.count = 0;
	}
	e->wait_queue.count = 0;
	for (uint32_t i = 0; i < e->shop_count; i++)
		e->shops[i].transcript_queue.count = 0;
}

void engine_finish_each(struct engine *e, void (*after)(void *ctx), void *ctx)
{
	/* Outcomes are counted in slot order, as deciding one by one would; the tables are
	 * then dropped whole: unlinking each inquiry and removing each pair from the index
	 * (a backward-shift deletion in a table much larger than the cache) only to end
	 * empty cost about 5 % of a batch run. */
	for (uint32_t id = 0; id < e->inquiries.used; id++)
		if (inquiry_at(e, id)->flags & INQ_ALLOCATED) {
			inquiry_count_outcome(e, id);
			if (after != NULL)
				after(ctx);
		}
	engine_clear(e);
}

void engine_finish(struct engine *e)
{
	engine_finish_each(e, NULL, NULL);
}

int64_t engine_event_time(const struct engine *e)
{
	return e->event_time;
}

size_t engine_held(const struct engine *e)
{
	return e->held;
}

/* ---- snapshots ---- */

/* Version 2 added the shop clocks and each buyer's last order (reference.md); version 1
 * is still read: every shop then stood at the one event clock. */
#define ENGINE_SECTION_VERSION 3u

/* Shop clocks, then pair by pair, inquiries in list order (newest opening first),
 * so the lists and their tie order come back exactly; slot ids are not kept
 * (nothing depends on them). */
void engine_save(const struct engine *e, struct wire_writer *w)
{
	uint32_t pairs = 0, version = 2;

	for (uint32_t id = 0; id < e->pairs.used; id++)
		pairs += pair_at(e, id)->generation != 0;
	/* Version 3 only when a transcript must be carried: a chatlogd from before the
	 * `inquiry` scope can still read what this one writes without such rules. */
	for (uint32_t id = 0; id < e->inquiries.used && version == 2; id++) {
		const struct inquiry *inq = inquiry_at(e, id);
		if ((inq->flags & INQ_ALLOCATED) && inq->transcript != NULL)
			version = ENGINE_SECTION_VERSION;
	}
	wire_put_u32(w, version);
	wire_put_i64(w, e->event_time);
	wire_put_u32(w, e->generation);
	wire_put_u32(w, e->shop_count);
	for (uint32_t name = 0; name < e->shop_of_name_size; name++) {
		if (e->shop_of_name[name] == NONE)
			continue;
		wire_put_u32(w, name);
		wire_put_i64(w, e->shops[e->shop_of_name[name]].now);
	}
	wire_put_u32(w, pairs);
	for (uint32_t id = 0; id < e->pairs.used; id++) {
		const struct pair *p = pair_at(e, id);
		uint32_t count = 0;
		if (p->generation == 0)
			continue;
		for (uint32_t q = p->head; q != NONE; q = inquiry_at(e, q)->next)
			count++;
		wire_put_u32(w, p->shop);
		wire_put_bytes(w, pair_buyer(p), p->buyer_len);
		wire_put_i64(w, p->last_order_ms);
		wire_put_u32(w, count);
		for (uint32_t q = p->head; q != NONE; q = inquiry_at(e, q)->next) {
			const struct inquiry *inq = inquiry_at(e, q);
			wire_put_i64(w, inq->open_ms);
			wire_put_i64(w, inq->last_ms);
			wire_put_i64(w, inq->turn_ms);
			wire_put_i64(w, inq->pending_sales_fen);
			wire_put_u32(w, inq->agent);
			wire_put_u32(w, inq->generation);
			wire_put_u32(w, inq->pending_buyer_msgs);
			wire_put_u32(w, inq->pending_bot_msgs);
			wire_put_u32(w, inq->pending_orders);
			wire_put_u32(w, inq->pending_payments);
			wire_put_u32(w, inq->first_rule);
			wire_put_u32(w, inq->flags & (uint16_t)~INQ_IN_CLOSE_QUEUE);
			if (version < 3)
				continue;
			/* 0: no transcript; 1: one; 2: one that is full */
			wire_put_u32(w, inq->transcript ? 1u + inq->transcript->full : 0u);
			if (inq->transcript != NULL)
				wire_put_bytes(w, inq->transcript->text, inq->transcript->len);
		}
	}
}

static int load_inquiry(struct engine *e, struct wire_reader *r, uint32_t version, uint32_t pair_id,
                        uint32_t **tail)
{
	uint32_t id = slab_alloc(&e->inquiries, offsetof(struct inquiry, next)), transcript = 0;
	struct text_view text = {NULL, 0};
	struct inquiry *inq;

	if (id == NONE)
		return -1;
	inq = inquiry_at(e, id);
	inq->open_ms = wire_get_i64(r);
	inq->last_ms = wire_get_i64(r);
	inq->turn_ms = wire_get_i64(r);
	inq->pending_sales_fen = wire_get_i64(r);
	inq->agent = wire_get_u32(r);
	inq->generation = wire_get_u32(r);
	inq->pending_buyer_msgs = wire_get_u32(r);
	inq->pending_bot_msgs = wire_get_u32(r);
	inq->pending_orders = wire_get_u32(r);
	inq->pending_payments = wire_get_u32(r);
	inq->first_rule = (uint16_t)wire_get_u32(r);
	inq->flags = (uint16_t)wire_get_u32(r);
	inq->transcript = NULL;
	if (version >= 3 && (transcript = wire_get_u32(r)) != 0)
		text.ptr = wire_get_bytes(r, &text.len);
	inq->pair = pair_id;
	inq->next = NONE;
	**tail = id;
	*tail = &inq->next;
	e->held++;
	if (r->failed || !(inq->flags & INQ_ALLOCATED) ||
	    (inq->agent != AGENT_UNKNOWN && inq->agent >= names_count(e->names)) ||
	    (inq->first_rule != RULES_NONE && inq->first_rule >= LIMIT_RULES) || transcript > 2 ||
	    (transcript != 0 && (!(inq->flags & INQ_OPEN) || text.len > LIMIT_TRANSCRIPT_BYTES ||
	                         !utf8_valid(text.ptr, text.len))))
		return -1;
	if (transcript != 0)
		transcript_restore(&inq->transcript, text.ptr, text.len, transcript == 2);
	if (inq->flags & INQ_OPEN) {
		struct pair *p = pair_at(e, pair_id);
		if (p->current != NONE)
			return -1; /* two inquiries taking messages for one buyer */
		p->current = id;
	}
	if (e->settings.track_deadlines) {
		struct shop_clock *c = shop_clock_of(e, pair_at(e, pair_id)->shop);
		if (inq->flags & INQ_OPEN) {
			inq->flags |= INQ_IN_CLOSE_QUEUE;
			deadline_push(&c->close_queue, close_due(e, inq), id, inq->generation);
		}
		deadline_push(&c->decide_queue, inq->open_ms + e->settings.order_window_ms, id,
		              inq->generation);
		if (inq->flags & INQ_TURN_OPEN)
			queue_waits(e, id, inq);
	}
	return 0;
}

/* Reads one pair and its inquiries (section version 3; 2 without transcripts; 1 also
 * without last order). */
static int load_pair(struct engine *e, struct wire_reader *r, uint32_t version)
{
	struct text_view buyer;
	uint32_t shop = wire_get_u32(r), count, pair_id, *tail;
	int64_t last_order_ms;

	buyer.ptr = wire_get_bytes(r, &buyer.len);
	last_order_ms = version >= 2 ? wire_get_i64(r) : INT64_MIN;
	count = wire_get_u32(r);
	if (r->failed || shop >= names_count(e->names) || buyer.len == 0 ||
	    (count == 0 && last_order_ms == INT64_MIN))
		return -1;
	if ((pair_id = pair_find(e, shop, buyer, 1)) == NONE ||
	    pair_at(e, pair_id)->last_order_ms != INT64_MIN || pair_at(e, pair_id)->head != NONE)
		return -1; /* the ids are spent, or the same buyer twice */
	if (version == 1 && e->settings.track_deadlines)
		shop_clock_of(e, shop)->now = e->event_time; /* every shop stood at the one clock */
	if (last_order_ms != INT64_MIN) {
		remember_order(e, pair_id, last_order_ms);
		if (e->ids_spent)
			return -1;
	}
	tail = &pair_at(e, pair_id)->head;
	for (uint32_t k = 0; k < count; k++)
		if (load_inquiry(e, r, version, pair_id, &tail) == -1)
			return -1;
	return 0;
}

int engine_load(struct engine *e, struct wire_reader *r)
{
	uint32_t version = wire_get_u32(r), shops, pairs;

	if (version < 1 || version > ENGINE_SECTION_VERSION)
		return -1;
	e->event_time = wire_get_i64(r);
	e->generation = wire_get_u32(r);
	shops = version >= 2 ? wire_get_u32(r) : 0;
	for (uint32_t i = 0; i < shops && !r->failed; i++) {
		uint32_t shop = wire_get_u32(r);
		int64_t now = wire_get_i64(r);
		if (r->failed || shop >= names_count(e->names))
			return -1;
		shop_clock_of(e, shop)->now = now;
	}
	pairs = wire_get_u32(r);
	for (uint32_t i = 0; i < pairs && !r->failed; i++)
		if (load_pair(e, r, version) == -1)
			return -1;
	return r->failed ? -1 : 0;
}

/* ---- setup ---- */

struct engine *engine_new(const struct engine_settings *settings, struct names *names,
                          struct reasons *reasons, struct counter_table *sink)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->settings = *settings;
	e->names = names;
	e->reasons = reasons;
	e->sink = sink;
	e->event_time = INT64_MIN;
	slab_init(&e->inquiries, sizeof(struct inquiry));
	slab_init(&e->pairs, sizeof(struct pair));
	return e;
}

void engine_set_observer(struct engine *e, engine_response_fn fn, void *ctx)
{
	e->observer = fn;
	e->observer_ctx = ctx;
}

void engine_set_sink(struct engine *e, struct counter_table *sink)
{
	e->sink = sink;
}

/* The first rule of the current set with that reason, or RULES_NONE. */
static uint16_t rule_for_reason(const struct engine *e, unsigned count, unsigned reason)
{
	for (unsigned i = 0; i < count; i++)
		if (e->rule_reason[i] == reason)
			return (uint16_t)i;
	return RULES_NONE;
}

int engine_set_rules(struct engine *e, struct rules *rules)
{
	unsigned count = rules ? rules_count(rules) : 0;
	unsigned old_reason[LIMIT_RULES];
	unsigned new_reason[LIMIT_RULES];

	for (unsigned i = 0; i < count; i++) {
		unsigned reason = REASON_NONE; /* skip rules are never a reason */
		if (!rules_is_skip(rules, i) &&
		    (reason = reasons_intern(e->reasons, rules_reason(rules, i))) == REASON_NONE)
			return -1;
		new_reason[i] = reason;
	}
	memcpy(old_reason, e->rule_reason, sizeof(old_reason));
	memcpy(e->rule_reason, new_reason, count * sizeof(new_reason[0]));
	/* Held inquiries keep the reason they matched (rule numbers change with the file):
	 * the new file's first rule of that reason, or none if the reason is gone. */
	for (uint32_t id = 0; e->rules != NULL && id < e->inquiries.used; id++) {
		struct inquiry *inq = inquiry_at(e, id);
		if ((inq->flags & INQ_ALLOCATED) && inq->first_rule != RULES_NONE)
			inq->first_rule = rule_for_reason(e, count, old_reason[inq->first_rule]);
	}
	e->rules = rules;
	return 0;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	engine_clear(e);
	slab_free(&e->inquiries);
	slab_free(&e->pairs);
	for (uint32_t i = 0; i < e->shop_count; i++) {
		deadline_free(&e->shops[i].close_queue);
		deadline_free(&e->shops[i].decide_queue);
		deadline_free(&e->shops[i].retire_queue);
		deadline_free(&e->shops[i].transcript_queue);
	}
	free(e->shops);
	free(e->shop_of_name);
	deadline_free(&e->wait_queue);
	free(e);
}
