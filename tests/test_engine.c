/*
 * Engine semantics (reference.md §3), one case per rule and edge. Expected numbers are
 * worked out by hand in each test's comment. Times are ms from T0.
 */
#include <stdlib.h>

#include "chatlogd/engine.h"
#include "chatlogd/service_hours.h"
#include "chatlogd/timefmt.h"
#include "check.h"

#define T0 1795485600000LL /* 2026-11-24T10:00:00+08:00 */
#define S 1000LL
#define MIN (60 * S)
#define IDLE (600 * S)
#define WINDOW (86400 * S)

struct fixture {
	struct names *names;
	struct reasons reasons;
	struct counter_table *table;
	struct rules *rules;
	struct engine *engine;
};

/* post_sale_window for the next setup(); 0 (off) keeps the v1 tests about orders apart
 * from post-sale conversations. */
static int64_t next_post_sale_window;
static int64_t next_warn_at, next_escalate_after; /* likewise for the wait stages */
/* ... and for the assessment counters (off unless a test turns them on) */
static int next_assessment;
static int64_t next_returning_window;
static const struct service_hours_set *next_service_hours;
static uint32_t next_max_names, next_max_buyers;

static void setup(struct fixture *f, int by_minute, int track_deadlines, const char *patterns)
{
	struct engine_settings settings = {
	    .session_idle_ms = IDLE,
	    .order_window_ms = WINDOW,
	    .frt_target_ms = 6000,
	    .art_target_ms = 10000,
	    .post_sale_window_ms = next_post_sale_window,
	    .warn_at_ms = next_warn_at,
	    .escalate_after_ms = next_escalate_after,
	    .assessment_counters = next_assessment,
	    .slow_response_ms = 120 * 1000,
	    .returning_window_ms = next_returning_window,
	    .service_hours = next_service_hours,
	    .max_names = next_max_names,
	    .max_buyers = next_max_buyers,
	    .track_deadlines = track_deadlines,
	};
	char err[256];

	f->names = names_new();
	reasons_init(&f->reasons);
	f->table = counter_table_new(by_minute);
	f->rules =
	    patterns ? rules_load_buffer("test.conf", patterns, strlen(patterns), err, sizeof(err))
	             : rules_empty();
	if (f->rules == NULL) {
		fprintf(stderr, "rules: %s\n", err);
		exit(1);
	}
	f->engine = engine_new(&settings, f->names, &f->reasons, f->table);
	engine_set_rules(f->engine, f->rules);
}

static void teardown(struct fixture *f)
{
	engine_free(f->engine);
	rules_free(f->rules);
	counter_table_free(f->table);
	reasons_free(&f->reasons);
	names_free(f->names);
}

static struct text_view view(const char *s)
{
	struct text_view v = {s, s ? strlen(s) : 0};
	return v;
}

static int feed(struct fixture *f, int64_t at, const char *shop, const char *buyer,
                const char *agent, enum record_from from, const char *text)
{
	struct record r;
	char err[64];
	record_clear(&r);
	r.ts_ms = T0 + at;
	r.kind = RECORD_MSG;
	r.from = from;
	r.shop = view(shop);
	r.buyer = view(buyer);
	r.agent = view(agent);
	r.text = view(text);
	return engine_feed(f->engine, &r, err, sizeof(err));
}

static void feed_order(struct fixture *f, int64_t at, enum record_kind kind, const char *shop,
                       const char *buyer, int64_t fen)
{
	struct record r;
	char err[64];
	record_clear(&r);
	r.ts_ms = T0 + at;
	r.kind = kind;
	r.shop = view(shop);
	r.buyer = view(buyer);
	r.order = view("O1");
	r.amount_fen = fen;
	engine_feed(f->engine, &r, err, sizeof(err));
}

#define BUYER(f, at, buyer, agent, text) feed(f, at, "s1", buyer, agent, FROM_BUYER, text)
#define AGENT(f, at, buyer, agent, text) feed(f, at, "s1", buyer, agent, FROM_AGENT, text)
#define BOT(f, at, buyer, text) feed(f, at, "s1", buyer, NULL, FROM_BOT, text)

/* Folded counter of (shop s1, agent) — 0 when the row does not exist. */
static int64_t get(struct fixture *f, const char *agent, enum counter_id id)
{
	uint32_t shop = names_find(f->names, "s1", 2);
	uint32_t a = names_find(f->names, agent, strlen(agent));
	if (shop == NAME_NONE || a == NAME_NONE)
		return 0;
	for (size_t i = 0; i < counter_table_count(f->table); i++) {
		struct counter_row *row = counter_table_at(f->table, i);
		if (row->shop == shop && row->agent == a)
			return row->value[id];
	}
	return 0;
}

static int64_t reason(struct fixture *f, const char *agent, const char *name)
{
	unsigned id = reasons_intern(&f->reasons, name);
	return get(f, agent, COUNTER_LOST_REASON + id);
}

/* buyer@0, alice@4.5s: one inquiry, first response 4500 ms (bucket 5000), no
 * breach; never ordered, so lost with reason "other" (responded, no rule, no breach). */
static void test_first_response_counts_once(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "在吗,这款有现货吗");
	AGENT(&f, 4500, "b1", "alice", "亲,在的哦");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 0);
	CHECK_INT(get(&f, "alice", COUNTER_FIRST_RESPONSES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_MS_SUM), 4500);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSE_MS_SUM), 4500);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_H + 4), 1); /* 4000 < 4500 <= 5000 */
	CHECK_INT(get(&f, "alice", COUNTER_RESP_H + 4), 1);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_BREACHES), 0);
	CHECK_INT(get(&f, "alice", COUNTER_BUYER_MSGS), 1);
	CHECK_INT(get(&f, "alice", COUNTER_AGENT_MSGS), 1);
	CHECK_INT(get(&f, "alice", COUNTER_UNANSWERED), 0);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 1);
	CHECK_INT(reason(&f, "alice", "other"), 1);
	teardown(&f);
}

/* Gap of exactly session_idle after the last message: still the same inquiry. The
 * second buyer message opens a turn nobody answers: unanswered 1. */
static void test_idle_gap_exactly_session_idle_continues(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "hi");
	AGENT(&f, 1 * S, "b1", "alice", "hello");
	BUYER(&f, 1 * S + IDLE, "b1", "alice", "still there?");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_BUYER_MSGS), 2);
	CHECK_INT(get(&f, "alice", COUNTER_UNANSWERED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 1);
	teardown(&f);
}

/* One ms more than session_idle: the first inquiry closed (replied), the buyer's
 * message opens a second inquiry that nobody answers (no_reply, unanswered). */
static void test_idle_gap_one_ms_more_opens_new_inquiry(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "hi");
	AGENT(&f, 1 * S, "b1", "alice", "hello");
	BUYER(&f, 1 * S + IDLE + 1, "b1", "alice", "still there?");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 2);
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 1);
	CHECK_INT(get(&f, "alice", COUNTER_UNANSWERED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 2);
	CHECK_INT(reason(&f, "alice", "no_reply"), 1);
	CHECK_INT(reason(&f, "alice", "other"), 1);
	teardown(&f);
}

/* An agent message after the idle gap belongs to no inquiry: counted in agent_msgs
 * but it is no response. */
static void test_agent_message_after_close_is_not_a_response(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "hi");
	AGENT(&f, IDLE + 1, "b1", "alice", "sorry, late");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_AGENT_MSGS), 1);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), 0);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 1);
	CHECK_INT(get(&f, "alice", COUNTER_UNANSWERED), 1);
	teardown(&f);
}

/* frt exactly at the 6 s target is no breach; 6001 ms is. art: 10000 no, 10001 yes. */
static void test_breach_is_strictly_longer_than_target(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "q");
	AGENT(&f, 6000, "b1", "alice", "a"); /* frt 6000: no breach */
	BUYER(&f, 7000, "b1", "alice", "q2");
	AGENT(&f, 17000, "b1", "alice", "a2"); /* 10000: no breach */
	BUYER(&f, 0, "b2", "alice", "q");
	AGENT(&f, 6001, "b2", "alice", "a"); /* frt 6001: frt breach only */
	BUYER(&f, 7000, "b2", "alice", "q2");
	AGENT(&f, 17001, "b2", "alice", "a2"); /* 10001: response breach */
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_FIRST_RESPONSES), 2);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_MS_SUM), 12001);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_BREACHES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), 4);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSE_MS_SUM), 6000 + 10000 + 6001 + 10001);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSE_BREACHES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_H + 5), 1);  /* 6000 in (5000, 6000] */
	CHECK_INT(get(&f, "alice", COUNTER_FRT_H + 6), 1);  /* 6001 in (6000, 8000] */
	CHECK_INT(get(&f, "alice", COUNTER_RESP_H + 7), 1); /* 10000 in (8000, 10000] */
	CHECK_INT(get(&f, "alice", COUNTER_RESP_H + 8), 1); /* 10001 in (10000, 15000] */
	/* b1 no breach → other; b2 breached → slow */
	CHECK_INT(reason(&f, "alice", "other"), 1);
	CHECK_INT(reason(&f, "alice", "slow"), 1);
	teardown(&f);
}

/* A turn is opened by the first unanswered buyer message; later buyer messages do
 * not restart it. buyer@0, alice@3s (3000), buyer@10s, buyer@15s, alice@22s: the
 * second response is 22-10 = 12000 ms, a breach. A bot message never answers. */
static void test_turn_starts_at_first_unanswered_buyer_message(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "q");
	AGENT(&f, 3 * S, "b1", "alice", "a");
	BUYER(&f, 10 * S, "b1", "alice", "q2");
	BOT(&f, 11 * S, "b1", "[自动回复] 稍等");
	BUYER(&f, 15 * S, "b1", "alice", "q3");
	AGENT(&f, 22 * S, "b1", "alice", "a2");
	AGENT(&f, 23 * S, "b1", "alice", "a3"); /* no open turn: not a response */
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), 2);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSE_MS_SUM), 15000);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSE_BREACHES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_FIRST_RESPONSES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_MS_SUM), 3000);
	CHECK_INT(get(&f, "alice", COUNTER_BUYER_MSGS), 3);
	CHECK_INT(get(&f, "alice", COUNTER_BOT_MSGS), 1);
	CHECK_INT(get(&f, "alice", COUNTER_AGENT_MSGS), 3);
	CHECK_INT(get(&f, "alice", COUNTER_UNANSWERED), 0);
	teardown(&f);
}

/* Bot-only answers: the inquiry never gets a response (no_reply, unanswered), bot
 * messages count to the inquiry's agent; a bot message outside any inquiry counts
 * to agent "-". */
static void test_bot_replies_are_not_responses(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BOT(&f, 0, "b0", "欢迎光临"); /* before any inquiry of b0 */
	BUYER(&f, 1 * S, "b1", "alice", "q");
	BOT(&f, 2 * S, "b1", "您好,客服马上来");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "-", COUNTER_BOT_MSGS), 1);
	CHECK_INT(get(&f, "alice", COUNTER_BOT_MSGS), 1);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), 0);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 1);
	CHECK_INT(get(&f, "alice", COUNTER_UNANSWERED), 1);
	CHECK_INT(reason(&f, "alice", "no_reply"), 1);
	teardown(&f);
}

/* Routed to alice, answered by bob (a transfer): inquiry counters to alice,
 * response counters to bob. */
static void test_transfer_routed_vs_answering_agent(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "q");
	AGENT(&f, 8 * S, "b1", "bob", "a");
	feed_order(&f, 60 * S, RECORD_ORDER, "s1", "b1", 0);
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_ORDERS), 1);
	CHECK_INT(get(&f, "alice", COUNTER_ORDERED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), 0);
	CHECK_INT(get(&f, "bob", COUNTER_FIRST_RESPONSES), 1);
	CHECK_INT(get(&f, "bob", COUNTER_FRT_BREACHES), 1);
	CHECK_INT(get(&f, "bob", COUNTER_AGENT_MSGS), 1);
	CHECK_INT(get(&f, "bob", COUNTER_INQUIRIES), 0);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 0);
	teardown(&f);
}

/* No agent on the opening message: the first non-bot agent to speak owns the
 * inquiry, including what happened before (buyer and bot messages, an order). */
static void test_first_agent_owns_inquiry_without_routing(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", NULL, "q");
	BOT(&f, 1 * S, "b1", "auto");
	feed_order(&f, 2 * S, RECORD_PAY, "s1", "b1", 5990);
	AGENT(&f, 3 * S, "b1", "carol", "a");
	AGENT(&f, 4 * S, "b1", "dave", "a2");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "carol", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "carol", COUNTER_BUYER_MSGS), 1);
	CHECK_INT(get(&f, "carol", COUNTER_BOT_MSGS), 1);
	CHECK_INT(get(&f, "carol", COUNTER_PAYMENTS), 1);
	CHECK_INT(get(&f, "carol", COUNTER_SALES_FEN), 5990);
	CHECK_INT(get(&f, "carol", COUNTER_PAID), 1);
	CHECK_INT(get(&f, "carol", COUNTER_ORDERED), 1);
	CHECK_INT(get(&f, "dave", COUNTER_INQUIRIES), 0);
	CHECK_INT(get(&f, "dave", COUNTER_AGENT_MSGS), 1);
	teardown(&f);
}

/* Nobody ever answers and no agent was routed: everything goes to agent "-". */
static void test_inquiry_without_any_agent_goes_to_dash(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", NULL, "q");
	BUYER(&f, 5 * S, "b1", NULL, "q again");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "-", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "-", COUNTER_BUYER_MSGS), 2);
	CHECK_INT(get(&f, "-", COUNTER_NO_REPLY), 1);
	CHECK_INT(get(&f, "-", COUNTER_UNANSWERED), 1);
	CHECK_INT(get(&f, "-", COUNTER_LOST), 1);
	teardown(&f);
}

/* Agent reply stamped 2 s before the buyer's question: response 0, clock_skew 1. */
static void test_negative_response_counts_zero_and_clock_skew(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 10 * S, "b1", "alice", "q");
	AGENT(&f, 8 * S, "b1", "alice", "a");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSE_MS_SUM), 0);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_MS_SUM), 0);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_H + 0), 1);
	CHECK_INT(get(&f, "alice", COUNTER_CLOCK_SKEW), 1);
	teardown(&f);
}

/* Order exactly order_window after the opening belongs to the inquiry; one ms
 * later it is a silent order (shop level). */
static void test_order_exactly_at_window_edge_is_attributed(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "q");
	AGENT(&f, 1 * S, "b1", "alice", "a");
	feed_order(&f, WINDOW, RECORD_ORDER, "s1", "b1", 0);
	BUYER(&f, 0, "b2", "alice", "q");
	AGENT(&f, 1 * S, "b2", "alice", "a");
	feed_order(&f, WINDOW + 1, RECORD_ORDER, "s1", "b2", 0);
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_ORDERS), 1);
	CHECK_INT(get(&f, "alice", COUNTER_ORDERED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 1);
	CHECK_INT(get(&f, "*", COUNTER_SILENT_ORDERS), 1);
	teardown(&f);
}

/* Orders before the inquiry opened, and orders of buyers who never chatted, are
 * silent; a silent pay adds its amount to silent_sales_fen. */
static void test_silent_orders_and_payments(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	feed_order(&f, 0, RECORD_ORDER, "s1", "b1", 0);
	feed_order(&f, 1, RECORD_PAY, "s1", "b1", 12345);
	BUYER(&f, 10 * S, "b1", "alice", "q");
	feed_order(&f, 9 * S, RECORD_PAY, "s1", "b1", 100); /* before the opening */
	feed_order(&f, 20 * S, RECORD_PAY, "s1", "nobody", 1);
	engine_finish(f.engine);
	CHECK_INT(get(&f, "*", COUNTER_SILENT_ORDERS), 1);
	CHECK_INT(get(&f, "*", COUNTER_SILENT_SALES_FEN), 12345 + 100 + 1);
	CHECK_INT(get(&f, "alice", COUNTER_PAYMENTS), 0);
	teardown(&f);
}

/* A payment with no order record still makes the inquiry ordered and paid; two
 * payments add up but count paid once. */
static void test_payment_without_order_implies_ordered(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "q");
	AGENT(&f, 2 * S, "b1", "alice", "a");
	feed_order(&f, 5 * MIN, RECORD_PAY, "s1", "b1", 5990);
	feed_order(&f, 6 * MIN, RECORD_PAY, "s1", "b1", 1000);
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_ORDERS), 0);
	CHECK_INT(get(&f, "alice", COUNTER_ORDERED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_PAYMENTS), 2);
	CHECK_INT(get(&f, "alice", COUNTER_PAID), 1);
	CHECK_INT(get(&f, "alice", COUNTER_SALES_FEN), 6990);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 0);
	teardown(&f);
}

/* Two inquiries of one buyer (a day apart): an order goes to the latest one opened
 * at or before it. Orders read after both (e.g. from a separate orders file) still
 * find the right one in batch mode. */
static void test_order_goes_to_latest_inquiry_opened_before_it(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	BUYER(&f, 0, "b1", "alice", "q");
	AGENT(&f, 1 * S, "b1", "alice", "a");
	BUYER(&f, 2 * WINDOW, "b1", "bob", "q");
	AGENT(&f, 2 * WINDOW + 1 * S, "b1", "bob", "a");
	feed_order(&f, 10 * MIN, RECORD_ORDER, "s1", "b1", 0);             /* alice's */
	feed_order(&f, 2 * WINDOW + 5 * MIN, RECORD_ORDER, "s1", "b1", 0); /* bob's */
	feed_order(&f, 2 * WINDOW + 6 * MIN, RECORD_ORDER, "s1", "b1", 0); /* bob's */
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_ORDERS), 1);
	CHECK_INT(get(&f, "alice", COUNTER_ORDERED), 1);
	CHECK_INT(get(&f, "bob", COUNTER_ORDERS), 2);
	CHECK_INT(get(&f, "bob", COUNTER_ORDERED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_LOST) + get(&f, "bob", COUNTER_LOST), 0);
	teardown(&f);
}

/* Lost reason: the first rule in file order that matched any message in its scope,
 * not the first message that matched. Agent text never matches buyer-scope rules;
 * a bot message counts for agent scope. An ordered inquiry is never lost. */
static void test_lost_reason_is_first_rule_in_file_order(void)
{
	static const char patterns[] = "# test rules\n"
	                               "out_of_stock 缺货 buyer 没货|缺货\n"
	                               "price 价格 buyer 太贵|便宜\n"
	                               "shipping 发货 agent 明天发货\n";
	struct fixture f;
	setup(&f, 0, 0, patterns);
	/* b1: price first, stock later → out_of_stock */
	BUYER(&f, 0, "b1", "alice", "太贵了");
	AGENT(&f, 1 * S, "b1", "alice", "亲,不贵的");
	BUYER(&f, 2 * S, "b1", "alice", "是不是没货了");
	/* b2: the agent says 缺货 (buyer rule: no match), the agent says 明天发货 →
	 * shipping; a bot saying it (b5) is not in `agent` scope (reference.md §4) → other */
	BUYER(&f, 0, "b2", "alice", "在吗");
	AGENT(&f, 1 * S, "b2", "alice", "缺货了亲");
	AGENT(&f, 2 * S, "b2", "alice", "明天发货哦");
	BUYER(&f, 0, "b5", "alice", "在吗");
	AGENT(&f, 1 * S, "b5", "alice", "在的");
	BOT(&f, 2 * S, "b5", "明天发货哦");
	/* b3: matched price but ordered → not lost */
	BUYER(&f, 0, "b3", "alice", "能便宜点吗");
	AGENT(&f, 1 * S, "b3", "alice", "好的");
	feed_order(&f, 5 * S, RECORD_ORDER, "s1", "b3", 0);
	/* b4: matched price but never answered → no_reply wins */
	BUYER(&f, 0, "b4", "alice", "太贵");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 4);
	CHECK_INT(reason(&f, "alice", "out_of_stock"), 1);
	CHECK_INT(reason(&f, "alice", "shipping"), 1);
	CHECK_INT(reason(&f, "alice", "other"), 1);
	CHECK_INT(reason(&f, "alice", "price"), 0);
	CHECK_INT(reason(&f, "alice", "no_reply"), 1);
	teardown(&f);
}

/* `inquiry` rules read the transcript when the inquiry closes and take their turn in
 * file order (reference.md §4). Rules: 0 late (a buyer's 催一下 right before another
 * buyer message), 1 wait (a time question, later a complaint), 2 price (buyer
 * message), 3 courier (not received, unless an agent then says delivered); agent
 * messages that are only 请稍等 are skipped.
 *   b1 question, answer, complaint → wait          b2 price first, then b1's chat → wait
 *   b3 the complaint before the question → other  b4 not received, "delivered" → other
 *   b5 not received, no reassurance → courier      b6 price and b5's chat → price
 *   b7 催一下, 请稍等 (skipped), 在吗 → late         b8 b1's chat, then ordered → not lost
 *   b9 the question, then the complaint in a new inquiry (idle) → other, no_reply
 *   b10 question and complaint in one message with a line break → other
 *   b11 question, 9,000 bytes, complaint: the transcript is full → other
 *   b12 question, 6,000 bytes, complaint → wait */
static void test_inquiry_rules_read_the_whole_chat(void)
{
	static const char patterns[] = "skip - agent ^请稍等$\n"
	                               "late 晚 inquiry ^B:催一下\\nB:\n"
	                               "wait 发货 inquiry ^B:.*什么时候发货[\\s\\S]*^B:.*太久\n"
	                               "price 价格 buyer 贵\n"
	                               "courier 快递 inquiry ^B:.*没收到(?![\\s\\S]*^A:.*已送达)\n";
	static char filler[3001];
	struct fixture f;

	memset(filler, 'x', sizeof(filler) - 1);
	setup(&f, 0, 0, patterns);
	BUYER(&f, 0, "b1", "alice", "什么时候发货");
	AGENT(&f, 1 * S, "b1", "alice", "三天后");
	BUYER(&f, 2 * S, "b1", "alice", "太久了吧");
	BUYER(&f, 0, "b2", "alice", "太贵了");
	AGENT(&f, 1 * S, "b2", "alice", "不贵");
	BUYER(&f, 2 * S, "b2", "alice", "那什么时候发货");
	BUYER(&f, 3 * S, "b2", "alice", "太久");
	BUYER(&f, 0, "b3", "alice", "太久了");
	AGENT(&f, 1 * S, "b3", "alice", "明天到");
	BUYER(&f, 2 * S, "b3", "alice", "什么时候发货");
	BUYER(&f, 0, "b4", "alice", "还没收到");
	AGENT(&f, 1 * S, "b4", "alice", "显示已送达，在门卫");
	BUYER(&f, 2 * S, "b4", "alice", "好的");
	BUYER(&f, 0, "b5", "alice", "还没收到");
	AGENT(&f, 1 * S, "b5", "alice", "帮您查一下");
	BUYER(&f, 0, "b6", "alice", "好贵");
	AGENT(&f, 1 * S, "b6", "alice", "不贵");
	BUYER(&f, 2 * S, "b6", "alice", "还没收到");
	BUYER(&f, 0, "b7", "alice", "催一下");
	AGENT(&f, 1 * S, "b7", "alice", "请稍等");
	BUYER(&f, 2 * S, "b7", "alice", "在吗");
	BUYER(&f, 0, "b8", "alice", "什么时候发货");
	AGENT(&f, 1 * S, "b8", "alice", "三天后");
	BUYER(&f, 2 * S, "b8", "alice", "太久了");
	feed_order(&f, 3 * S, RECORD_ORDER, "s1", "b8", 100);
	BUYER(&f, 0, "b9", "alice", "什么时候发货");
	AGENT(&f, 1 * S, "b9", "alice", "三天后");
	BUYER(&f, 1 * S + IDLE + 1, "b9", "alice", "太久了");
	BUYER(&f, 0, "b10", "alice", "什么时候发货\n太久了");
	AGENT(&f, 1 * S, "b10", "alice", "三天");
	BUYER(&f, 0, "b11", "alice", "什么时候发货");
	AGENT(&f, 1 * S, "b11", "alice", "三天后");
	for (int i = 0; i < 3; i++)
		BUYER(&f, (2 + i) * S, "b11", "alice", filler);
	BUYER(&f, 6 * S, "b11", "alice", "太久了");
	BUYER(&f, 0, "b12", "alice", "什么时候发货");
	AGENT(&f, 1 * S, "b12", "alice", "三天后");
	for (int i = 0; i < 2; i++)
		BUYER(&f, (2 + i) * S, "b12", "alice", filler);
	BUYER(&f, 6 * S, "b12", "alice", "太久了");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 12);
	CHECK_INT(reason(&f, "alice", "wait"), 3);     /* b1 b2 b12 */
	CHECK_INT(reason(&f, "alice", "courier"), 1);  /* b5 */
	CHECK_INT(reason(&f, "alice", "price"), 1);    /* b6 */
	CHECK_INT(reason(&f, "alice", "late"), 1);     /* b7 */
	CHECK_INT(reason(&f, "alice", "other"), 5);    /* b3 b4 b9 b10 b11 */
	CHECK_INT(reason(&f, "alice", "no_reply"), 1); /* b9's second inquiry */
	teardown(&f);
}

/* Batch mode reads a transcript when live mode would close the inquiry: once its
 * shop's newest record is more than session_idle past the inquiry's last message.
 * The same records through batch and live give the same reasons:
 *   b1 (s1) not received, the agent looks into it; s2's records 3 x IDLE later do not
 *      move s1's clock, so the agent's later "delivered" is read: other;
 *   b2 (s1) not received; then s1's own clock passes its last message + IDLE (b6),
 *      and only then comes the agent's "delivered" for b2 (out of order): live has
 *      closed b2 and batch has read its transcript: courier in both;
 *   b3 (s1) not received, "delivered" within the inquiry: other. */
static void feed_transcript_case(int track_deadlines)
{
	static const char patterns[] = "courier 快递 inquiry ^B:.*没收到(?![\\s\\S]*^A:.*已送达)\n";
	struct fixture f;

	setup(&f, 0, track_deadlines, patterns);
	feed(&f, 3 * IDLE, "s2", "b9", "bob", FROM_BUYER, "在吗");
	feed(&f, 3 * IDLE + S, "s2", "b9", "bob", FROM_AGENT, "在的");
	BUYER(&f, 0, "b1", "a1", "还没收到");
	AGENT(&f, 1 * S, "b1", "a1", "帮您查一下");
	AGENT(&f, 2 * S, "b1", "a1", "显示已送达");
	BUYER(&f, 10 * S, "b2", "a2", "还没收到");
	AGENT(&f, 11 * S, "b2", "a2", "帮您查一下");
	BUYER(&f, 20 * S, "b3", "a3", "还没收到");
	AGENT(&f, 21 * S, "b3", "a3", "显示已送达");
	BUYER(&f, 12 * S + IDLE, "b6", "a6", "在吗");
	AGENT(&f, 13 * S + IDLE, "b6", "a6", "在的");
	AGENT(&f, 12 * S, "b2", "a2", "显示已送达");
	if (track_deadlines)
		engine_advance(f.engine, T0 + 10 * WINDOW);
	else
		engine_finish(f.engine);
	CHECK_INT(reason(&f, "a1", "other"), 1);
	CHECK_INT(reason(&f, "a2", "courier"), 1);
	CHECK_INT(reason(&f, "a3", "other"), 1);
	CHECK_INT(reason(&f, "a6", "other"), 1);
	teardown(&f);
}

static void test_batch_reads_transcripts_when_live_would(void)
{
	feed_transcript_case(0);
	feed_transcript_case(1);
}

/* A buyer who keeps writing (every 5 minutes, answered each time) past the order
 * window: one conversation until session_idle of silence (reference.md §3), in live
 * mode as in batch; it is decided, lost, once it closes. */
static void chat_past_the_order_window(int track_deadlines)
{
	struct fixture f;
	int messages = 0;

	setup(&f, 0, track_deadlines, NULL);
	for (int64_t at = 0; at <= WINDOW + 3600 * S; at += 300 * S, messages++) {
		BUYER(&f, at, "b1", "alice", "在吗");
		AGENT(&f, at + S, "b1", "alice", "在的");
	}
	if (track_deadlines)
		engine_advance(f.engine, T0 + 10 * WINDOW);
	else
		engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_BUYER_MSGS), messages);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), messages);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 1);
	teardown(&f);
}

static void test_chat_past_the_order_window_is_one_conversation(void)
{
	chat_past_the_order_window(0);
	chat_past_the_order_window(1);
}

/* A patterns reload while inquiries are held: b1 matched price (rule 1 of the old
 * file); in the new file price is rule 0 and courier rule 1, so a later courier
 * message does not beat it: lost:price. b2 matched stock, which the new file no
 * longer has: it starts over and its courier message counts: lost:courier. */
static void test_rules_reload_keeps_matched_reasons(void)
{
	static const char old_patterns[] = "stock 缺货 buyer 没货\nprice 价格 buyer 贵\n";
	static const char new_patterns[] = "price 价格 buyer 贵\ncourier 快递 buyer 快递\n";
	struct fixture f;
	struct rules *fresh;
	char err[256];

	setup(&f, 0, 0, old_patterns);
	BUYER(&f, 0, "b1", "alice", "太贵了");
	AGENT(&f, 1 * S, "b1", "alice", "不贵");
	BUYER(&f, 0, "b2", "alice", "没货了吗");
	AGENT(&f, 1 * S, "b2", "alice", "有的");
	fresh = rules_load_buffer("new.conf", new_patterns, strlen(new_patterns), err, sizeof(err));
	CHECK_INT(engine_set_rules(f.engine, fresh), 0);
	rules_free(f.rules);
	f.rules = fresh;
	BUYER(&f, 2 * S, "b1", "alice", "发什么快递");
	BUYER(&f, 2 * S, "b2", "alice", "发什么快递");
	engine_finish(f.engine);
	CHECK_INT(reason(&f, "alice", "price"), 1);
	CHECK_INT(reason(&f, "alice", "courier"), 1);
	CHECK_INT(reason(&f, "alice", "stock"), 0);
	teardown(&f);
}

/* Inquiry counters belong to the minute the inquiry opened, response counters to
 * the minute of the answer. buyer@10:00:50, alice@10:01:10, closed at the end. */
static void test_counts_go_to_the_right_minute(void)
{
	struct fixture f;
	uint32_t shop, alice;
	int64_t open_minute = (T0 + 50 * S) / MIN, answer_minute = (T0 + 70 * S) / MIN;
	int seen = 0;

	setup(&f, 1, 0, NULL);
	BUYER(&f, 50 * S, "b1", "alice", "q");
	AGENT(&f, 70 * S, "b1", "alice", "a");
	engine_finish(f.engine);
	shop = names_find(f.names, "s1", 2);
	alice = names_find(f.names, "alice", 5);
	CHECK(open_minute + 1 == answer_minute);
	for (size_t i = 0; i < counter_table_count(f.table); i++) {
		struct counter_row *row = counter_table_at(f.table, i);
		CHECK(row->shop == shop && row->agent == alice);
		if (row->minute == open_minute) {
			CHECK_INT(row->value[COUNTER_INQUIRIES], 1);
			CHECK_INT(row->value[COUNTER_REPLIED], 1);
			CHECK_INT(row->value[COUNTER_BUYER_MSGS], 1);
			CHECK_INT(row->value[COUNTER_LOST], 1);
			CHECK_INT(row->value[COUNTER_RESPONSES], 0);
			seen++;
		} else if (row->minute == answer_minute) {
			CHECK_INT(row->value[COUNTER_RESPONSES], 1);
			CHECK_INT(row->value[COUNTER_FRT_MS_SUM], 20000);
			CHECK_INT(row->value[COUNTER_AGENT_MSGS], 1);
			CHECK_INT(row->value[COUNTER_INQUIRIES], 0);
			seen++;
		}
	}
	CHECK_INT(seen, 2);
	teardown(&f);
}

/* Live mode: engine_advance closes an idle inquiry and decides it after the order
 * window, emitting the same totals batch mode does, and lets it go. */
static void test_advance_closes_and_decides_by_event_time(void)
{
	struct fixture f;
	setup(&f, 0, 1, NULL);
	BUYER(&f, 0, "b1", "alice", "q");
	BUYER(&f, 30 * S, "b2", "alice", "q");
	AGENT(&f, 40 * S, "b2", "alice", "a");
	engine_advance(f.engine, T0 + IDLE); /* b1 idle exactly IDLE: still open */
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 0);
	engine_advance(f.engine, T0 + IDLE + 1);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 1);
	CHECK_INT(get(&f, "alice", COUNTER_UNANSWERED), 1);
	/* b2's `replied` went out with its first response, before it closes */
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 1);
	CHECK_INT(engine_held(f.engine), 2);
	engine_advance(f.engine, T0 + 40 * S + IDLE + 1);
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 1);
	engine_advance(f.engine, T0 + WINDOW);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 0);
	engine_advance(f.engine, T0 + WINDOW + 1);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 1);
	CHECK_INT(reason(&f, "alice", "no_reply"), 1);
	CHECK_INT(engine_held(f.engine), 1);
	engine_advance(f.engine, T0 + 30 * S + WINDOW + 1);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 2);
	CHECK_INT(engine_held(f.engine), 0);
	/* the buyer comes back: a fresh inquiry after the old one was let go */
	BUYER(&f, 2 * WINDOW, "b1", "alice", "again");
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 3);
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 3);
	teardown(&f);
}

/* A message that keeps an inquiry alive pushes its close deadline: advance must not
 * close it at the first, stale deadline. */
static void test_advance_respects_extended_idle_deadline(void)
{
	struct fixture f;
	setup(&f, 0, 1, NULL);
	BUYER(&f, 0, "b1", "alice", "q");
	AGENT(&f, 500 * S, "b1", "alice", "a");
	engine_advance(f.engine, T0 + IDLE + 1);
	/* still open: a message within session_idle of the answer continues it */
	BUYER(&f, 500 * S + IDLE, "b1", "alice", "q2");
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 1);
	engine_advance(f.engine, T0 + 500 * S + 2 * IDLE + 1);
	CHECK_INT(get(&f, "alice", COUNTER_UNANSWERED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 0);
	teardown(&f);
}

struct waits {
	int count;
	struct engine_wait last;
};

static void note_wait(void *ctx, const struct engine_wait *w)
{
	struct waits *ws = ctx;
	ws->count++;
	ws->last = *w;
}

/* A buyer waiting for a first answer is reported once the wall clock is past
 * turn + 6 s (not at exactly 6 s), once per turn; after an answer, a new turn is
 * measured against the 10 s response target. */
static void test_waiting_buyer_reported_once_per_turn(void)
{
	struct fixture f;
	struct waits ws = {0};

	setup(&f, 0, 1, NULL);
	BUYER(&f, 0, "b1", NULL, "在吗");
	engine_waiting(f.engine, T0 + 6000, note_wait, &ws);
	CHECK_INT(ws.count, 0);
	CHECK(engine_waiting_due(f.engine, T0 + 6001));
	engine_waiting(f.engine, T0 + 6001, note_wait, &ws);
	CHECK_INT(ws.count, 1);
	CHECK_INT(ws.last.first, 1);
	CHECK_INT(ws.last.target_ms, 6000);
	CHECK_INT(ws.last.since_ms, T0);
	CHECK_INT(ws.last.agent, NAME_NO_AGENT);
	CHECK(ws.last.buyer.len == 2 && memcmp(ws.last.buyer.ptr, "b1", 2) == 0);
	engine_waiting(f.engine, T0 + 60000, note_wait, &ws);
	CHECK_INT(ws.count, 1);
	AGENT(&f, 61 * S, "b1", "alice", "在的");
	BUYER(&f, 70 * S, "b1", NULL, "有货吗");
	engine_waiting(f.engine, T0 + 79 * S, note_wait, &ws);
	CHECK_INT(ws.count, 1);
	engine_waiting(f.engine, T0 + 80 * S + 1, note_wait, &ws);
	CHECK_INT(ws.count, 2);
	CHECK_INT(ws.last.first, 0);
	CHECK_INT(ws.last.target_ms, 10000);
	CHECK_INT(ws.last.agent, names_find(f.names, "alice", 5));
	teardown(&f);
}

/* A buyer's wait in three stages (warn_at 4 s, the 6 s target, escalate_after 60 s),
 * each once, in order, with the threshold it stands for; an answer ends them and the
 * next turn starts its own (the art target 10 s: warning at 4 s, escalation at 60 s). */
static void test_wait_stages_warning_breach_escalation(void)
{
	struct fixture f;
	struct waits ws = {0};

	next_warn_at = 4000;
	next_escalate_after = 60000;
	setup(&f, 0, 1, NULL);
	next_warn_at = next_escalate_after = 0;
	BUYER(&f, 0, "b1", NULL, "在吗");
	CHECK_INT(engine_next_wait(f.engine), T0 + 4000);
	engine_waiting(f.engine, T0 + 4000, note_wait, &ws);
	CHECK_INT(ws.count, 0);
	engine_waiting(f.engine, T0 + 4001, note_wait, &ws);
	CHECK_INT(ws.count, 1);
	CHECK_INT(ws.last.stage, ENGINE_WAIT_WARNING);
	CHECK_INT(ws.last.threshold_ms, 4000);
	CHECK_INT(ws.last.target_ms, 6000);
	engine_waiting(f.engine, T0 + 6001, note_wait, &ws);
	CHECK_INT(ws.count, 2);
	CHECK_INT(ws.last.stage, ENGINE_WAIT_BREACH);
	CHECK_INT(ws.last.threshold_ms, 6000);
	engine_waiting(f.engine, T0 + 59999, note_wait, &ws);
	CHECK_INT(ws.count, 2);
	engine_waiting(f.engine, T0 + 60001, note_wait, &ws);
	CHECK_INT(ws.count, 3);
	CHECK_INT(ws.last.stage, ENGINE_WAIT_ESCALATE);
	CHECK_INT(ws.last.threshold_ms, 60000);
	engine_waiting(f.engine, T0 + 3600000, note_wait, &ws);
	CHECK_INT(ws.count, 3); /* each stage once */
	AGENT(&f, 61 * S, "b1", "alice", "在的");
	BUYER(&f, 70 * S, "b1", NULL, "有货吗");
	AGENT(&f, 73 * S, "b1", "alice", "有的"); /* answered before any stage */
	BUYER(&f, 80 * S, "b1", NULL, "几号发");
	engine_waiting(f.engine, T0 + 80 * S + 60001, note_wait, &ws);
	CHECK_INT(ws.count, 6); /* the last turn's three, none of the answered one */
	CHECK_INT(ws.last.stage, ENGINE_WAIT_ESCALATE);
	CHECK_INT(ws.last.target_ms, 10000);
	teardown(&f);
}

/* A warn_at at or above the target, or an escalate_after at or below it, is off. */
static void test_wait_stages_out_of_order_are_off(void)
{
	struct fixture f;
	struct waits ws = {0};

	next_warn_at = 6000;
	next_escalate_after = 6000;
	setup(&f, 0, 1, NULL);
	next_warn_at = next_escalate_after = 0;
	BUYER(&f, 0, "b1", NULL, "在吗");
	engine_waiting(f.engine, T0 + 3600000, note_wait, &ws);
	CHECK_INT(ws.count, 1);
	CHECK_INT(ws.last.stage, ENGINE_WAIT_BREACH);
	CHECK_INT(engine_next_wait(f.engine), INT64_MAX);
	teardown(&f);
}

static void test_reserved_agent_names_are_rejected(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	CHECK_INT(BUYER(&f, 0, "b1", "*", "q"), -1);
	CHECK_INT(AGENT(&f, 0, "b1", "-", "a"), -1);
	CHECK_INT(BUYER(&f, 0, "b1", "-", "q"), 0); /* "-" = no agent */
	engine_finish(f.engine);
	CHECK_INT(get(&f, "-", COUNTER_INQUIRIES), 1);
	teardown(&f);
}

/* Pairs are per shop: the same buyer name in two shops is two buyers. */
static void test_same_buyer_in_two_shops_is_two_inquiries(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	feed(&f, 0, "s1", "b1", "alice", FROM_BUYER, "q");
	feed(&f, 1 * S, "s2", "b1", "alice", FROM_BUYER, "q");
	feed(&f, 2 * S, "s2", "b1", "alice", FROM_AGENT, "a");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1); /* s1 only */
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 1);
	teardown(&f);
}

#define POST_SALE_WINDOW (15 * 86400 * S)

/* Post-sale (reference.md §3): b1 inquires and orders (an inquiry, ordered); back two days later it
 * opens a post-sale conversation: post_sale, not inquiries; answered late, so it counts its
 * response, breach and replied like any conversation, but is never lost. A payment three days on
 * passes the post-sale conversation over and finds no pre-sale inquiry within order_window: silent.
 */
static void test_conversation_after_an_order_is_post_sale(void)
{
	struct fixture f;
	next_post_sale_window = POST_SALE_WINDOW;
	setup(&f, 0, 0, "courier 快递 buyer 快递\n");
	BUYER(&f, 0, "b1", "alice", "在吗");
	AGENT(&f, 2 * S, "b1", "alice", "在的");
	feed_order(&f, 5 * MIN, RECORD_ORDER, "s1", "b1", 0);
	BUYER(&f, 2 * WINDOW, "b1", "alice", "快递怎么还没到");
	AGENT(&f, 2 * WINDOW + 12 * S, "b1", "alice", "亲,马上查");
	feed_order(&f, 3 * WINDOW, RECORD_PAY, "s1", "b1", 5990);
	engine_finish(f.engine);
	next_post_sale_window = 0;
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_POST_SALE), 1);
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 2);
	CHECK_INT(get(&f, "alice", COUNTER_FIRST_RESPONSES), 2);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_BREACHES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSE_BREACHES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_BUYER_MSGS), 2);
	CHECK_INT(get(&f, "alice", COUNTER_ORDERED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_PAID), 0);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 0);
	CHECK_INT(get(&f, "*", COUNTER_SILENT_SALES_FEN), 5990);
	teardown(&f);
}

/* The window's edges: an order at the very ts of the message counts (at or before),
 * one exactly post_sale_window before counts, one a millisecond more does not. */
static void test_post_sale_window_edges(void)
{
	struct fixture f;
	next_post_sale_window = POST_SALE_WINDOW;
	setup(&f, 0, 0, NULL);
	feed_order(&f, 0, RECORD_ORDER, "s1", "b1", 0);
	BUYER(&f, 0, "b1", "alice", "q"); /* same ts, processed after: post-sale */
	feed_order(&f, 0, RECORD_PAY, "s1", "b2", 100);
	BUYER(&f, POST_SALE_WINDOW, "b2", "alice", "q"); /* exactly the window: post-sale */
	feed_order(&f, 0, RECORD_ORDER, "s1", "b3", 0);
	BUYER(&f, POST_SALE_WINDOW + 1, "b3", "alice", "q"); /* past it: an inquiry */
	BUYER(&f, 10 * S, "b4", "alice", "q");               /* its order comes later: */
	feed_order(&f, 5 * S, RECORD_ORDER, "s1", "b4", 0);  /* processed after, an inquiry */
	engine_finish(f.engine);
	next_post_sale_window = 0;
	CHECK_INT(get(&f, "alice", COUNTER_POST_SALE), 2);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 2);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 4);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 2);
	CHECK_INT(reason(&f, "alice", "no_reply"), 2);
	teardown(&f);
}

/* post_sale_window = 0 turns post-sale off: the same chat is an inquiry, and lost. */
static void test_post_sale_window_zero_is_off(void)
{
	struct fixture f;
	setup(&f, 0, 0, NULL);
	feed_order(&f, 0, RECORD_ORDER, "s1", "b1", 0);
	BUYER(&f, 1 * MIN, "b1", "alice", "q");
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_POST_SALE), 0);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 1);
	teardown(&f);
}

/* Live mode: the buyer is remembered for post_sale_window, then forgotten. */
static void test_live_post_sale_memory_ends_with_the_window(void)
{
	struct fixture f;
	next_post_sale_window = POST_SALE_WINDOW;
	setup(&f, 0, 1, NULL);
	feed_order(&f, 0, RECORD_ORDER, "s1", "b1", 0);
	CHECK_INT(engine_held(f.engine), 0);
	engine_advance(f.engine, T0 + 7 * WINDOW);
	BUYER(&f, 7 * WINDOW, "b1", "alice", "q"); /* within the window: post-sale */
	engine_advance(f.engine, T0 + 9 * WINDOW);
	BUYER(&f, POST_SALE_WINDOW + 1, "b1", "alice", "q"); /* past it: an inquiry */
	engine_advance(f.engine, T0 + 30 * WINDOW);
	next_post_sale_window = 0;
	CHECK_INT(get(&f, "alice", COUNTER_POST_SALE), 1);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 1);
	CHECK_INT(engine_held(f.engine), 0);
	teardown(&f);
}

/* Live mode: each shop has its own clock. s2's file is read after s1 has moved two
 * days on: s2's inquiry still takes its answer five minutes later, as batch says. */
static void test_shop_clocks_are_apart(void)
{
	struct fixture f;
	setup(&f, 0, 1, NULL);
	feed(&f, 2 * WINDOW, "s2", "x", "bob", FROM_BUYER, "q");
	BUYER(&f, 0, "b1", "alice", "q");
	AGENT(&f, 5 * MIN, "b1", "alice", "a");
	BUYER(&f, 6 * MIN, "b1", "alice", "q2");
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 1);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 0);
	/* s1's own time closes it */
	BUYER(&f, 20 * MIN, "b9", "alice", "q");
	CHECK_INT(get(&f, "alice", COUNTER_UNANSWERED), 1);
	/* the wall clock (quiet logs) moves every shop */
	engine_advance(f.engine, T0 + 3 * WINDOW);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 2);
	CHECK_INT(engine_held(f.engine), 1); /* s2's, opened at 2 days */
	teardown(&f);
}

/* Many inquiries through open/decide cycles reuse slots without mixing them up. */
static void test_slot_reuse_keeps_inquiries_apart(void)
{
	struct fixture f;
	char buyer[32];
	setup(&f, 0, 1, NULL);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 5000; i++) {
			snprintf(buyer, sizeof(buyer), "b%d", i);
			BUYER(&f, round * 2 * WINDOW + i, buyer, "alice", "q");
			if (i % 2 == 0)
				AGENT(&f, round * 2 * WINDOW + i + 1000, buyer, "alice", "a");
		}
		engine_advance(f.engine, T0 + round * 2 * WINDOW + WINDOW + 10 * S);
		CHECK_INT(engine_held(f.engine), 0);
	}
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 15000);
	CHECK_INT(get(&f, "alice", COUNTER_REPLIED), 7500);
	CHECK_INT(get(&f, "alice", COUNTER_NO_REPLY), 7500);
	CHECK_INT(get(&f, "alice", COUNTER_LOST), 15000);
	teardown(&f);
}

/* Service hours 09:00-18:00 (+08:00; T0 is Tuesday 10:00):
 *   b1 writes 08:59:50, answered 09:00:05 (15 s): began outside, not in hours;
 *   b2 writes 10:00:00, answered after exactly 180 s: in hours, within 3 min, slow;
 *   b3 writes 10:10:00, answered after 181 s: in hours, not within 3 min, slow;
 *   b4 writes 17:59:55, answered 18:00:30 (35 s): began inside, so in hours, fast.
 * responses 4, hours_responses 3, hours_responses_3m 2, slow_responses 2 (> 120 s). */
static void test_three_minute_rate_counts_turns_begun_in_service_hours(void)
{
	struct fixture f;
	char err[128];
	struct service_hours_set *hours = service_hours_set_new("09:00-18:00", err, sizeof(err));

	CHECK(hours != NULL);
	next_assessment = 1;
	next_service_hours = hours;
	setup(&f, 0, 0, NULL);
	BUYER(&f, -(60 * MIN + 10 * S), "b1", "alice", "在吗");
	AGENT(&f, -(60 * MIN) + 5 * S, "b1", "alice", "在的");
	BUYER(&f, 0, "b2", "alice", "在吗");
	AGENT(&f, 180 * S, "b2", "alice", "在的");
	BUYER(&f, 10 * MIN, "b3", "alice", "在吗");
	AGENT(&f, 10 * MIN + 181 * S, "b3", "alice", "在的");
	BUYER(&f, 8 * 60 * MIN - 5 * S, "b4", "alice", "在吗");
	AGENT(&f, 8 * 60 * MIN + 30 * S, "b4", "alice", "在的");
	engine_finish(f.engine);
	next_assessment = 0;
	next_service_hours = NULL;
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), 4);
	CHECK_INT(get(&f, "alice", COUNTER_HOURS_RESPONSES), 3);
	CHECK_INT(get(&f, "alice", COUNTER_HOURS_RESPONSES_3M), 2);
	CHECK_INT(get(&f, "alice", COUNTER_SLOW_RESPONSES), 2);
	teardown(&f);
	service_hours_set_free(hours);
}

/* Without assessment_counters the same slow answer counts nothing new: the counters
 * are the contract's, exactly. */
static void test_assessment_counters_are_off_by_default(void)
{
	struct fixture f;

	next_post_sale_window = 15 * WINDOW;
	next_returning_window = 365 * WINDOW; /* ignored while the counters are off */
	setup(&f, 0, 0, NULL);
	feed_order(&f, 0, RECORD_ORDER, "s1", "b1", 0);
	BUYER(&f, 20 * WINDOW, "b1", "alice", "在吗");
	AGENT(&f, 20 * WINDOW + 200 * S, "b1", "alice", "在的");
	engine_finish(f.engine);
	next_post_sale_window = next_returning_window = 0;
	CHECK_INT(get(&f, "alice", COUNTER_RESPONSES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 1);
	for (int id = COUNTER_HOURS_RESPONSES; id < COUNTER_WIDTH; id++)
		CHECK_INT(get(&f, "alice", (enum counter_id)id), 0);
	teardown(&f);
}

/* Live mode: a buyer who writes before opening time (08:59:50) gives no waiting
 * alert; one who writes at 10:00 does, at 6 s. */
static void test_waiting_alerts_only_in_service_hours(void)
{
	struct fixture f;
	struct waits ws = {0};
	char err[128];
	struct service_hours_set *hours = service_hours_set_new("09:00-18:00", err, sizeof(err));

	next_service_hours = hours;
	setup(&f, 0, 1, NULL);
	BUYER(&f, -(60 * MIN + 10 * S), "b1", NULL, "在吗");
	engine_waiting(f.engine, T0 - 60 * MIN + 10 * S, note_wait, &ws);
	CHECK_INT(ws.count, 0);
	BUYER(&f, 0, "b2", NULL, "在吗");
	engine_waiting(f.engine, T0 + 6001, note_wait, &ws);
	CHECK_INT(ws.count, 1);
	CHECK(ws.last.buyer.len == 2 && memcmp(ws.last.buyer.ptr, "b2", 2) == 0);
	next_service_hours = NULL;
	teardown(&f);
	service_hours_set_free(hours);
}

/* post_sale_window 15 d, returning_window 365 d, every buyer ordered at 0:
 *   b1 writes at 20 d: returning; orders an hour later: ordered, returning_ordered;
 *   b2 at 366 d: past the window, a new buyer's inquiry;
 *   b3 at 10 d and b4 at exactly 15 d: post-sale, not inquiries;
 *   b5 at 15 d + 1 ms and b6 at exactly 365 d: returning.
 * inquiries 4, post_sale 2, returning 3, returning_ordered 1 — in batch mode and in
 * live mode, where the engine must remember each order for the longer window. */
static void test_returning_buyers(void)
{
	for (int live = 0; live <= 1; live++) {
		struct fixture f;
		const char *buyers[] = {"b1", "b2", "b3", "b4", "b5", "b6"};
		const int64_t opens[] = {20 * WINDOW, 366 * WINDOW,    10 * WINDOW,
		                         15 * WINDOW, 15 * WINDOW + 1, 365 * WINDOW};
		int order[] = {2, 3, 4,
		               0, 5, 1}; /* by time: 10 d, 15 d, 15 d+1, 20 d, 365 d, 366 d */

		next_assessment = 1;
		next_post_sale_window = 15 * WINDOW;
		next_returning_window = 365 * WINDOW;
		setup(&f, 0, live, NULL);
		for (int i = 0; i < 6; i++)
			feed_order(&f, 0, RECORD_ORDER, "s1", buyers[i], 0);
		for (int k = 0; k < 6; k++) {
			int i = order[k];
			BUYER(&f, opens[i], buyers[i], "alice", "在吗");
			if (i == 0)
				feed_order(&f, opens[i] + 60 * MIN, RECORD_ORDER, "s1", "b1", 0);
		}
		engine_finish(f.engine);
		next_assessment = 0;
		next_post_sale_window = next_returning_window = 0;
		CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 4);
		CHECK_INT(get(&f, "alice", COUNTER_POST_SALE), 2);
		CHECK_INT(get(&f, "alice", COUNTER_RETURNING), 3);
		CHECK_INT(get(&f, "alice", COUNTER_ORDERED), 1);
		CHECK_INT(get(&f, "alice", COUNTER_RETURNING_ORDERED), 1);
		teardown(&f);
	}
}

/* Ceilings: max_names counts "*" and "-" too, so 4 leaves room for s1 and alice; bob
 * and shop s2 are then refused, and nothing of theirs is counted; known names go on.
 * max_buyers 2: b1 and b2 are held, b3 is refused while they are, and comes in once
 * b1 and b2 are decided and let go (live mode, a day later). */
static void test_ceilings_refuse_new_names_and_buyers(void)
{
	struct fixture f;

	next_max_names = 4;
	next_max_buyers = 2;
	setup(&f, 0, 1, NULL);
	next_max_names = next_max_buyers = 0;
	CHECK_INT(BUYER(&f, 0, "b1", "alice", "在吗"), 0);
	CHECK_INT(AGENT(&f, 2 * S, "b1", "bob", "在的"), -1);
	CHECK_INT(feed(&f, 3 * S, "s2", "b9", NULL, FROM_BUYER, "在吗"), -1);
	CHECK_INT(AGENT(&f, 4 * S, "b1", "alice", "在的"), 0);
	CHECK_INT(BUYER(&f, 5 * S, "b2", NULL, "在吗"), 0);
	CHECK_INT(BUYER(&f, 6 * S, "b3", NULL, "在吗"), -1);
	CHECK_INT(BUYER(&f, 7 * S, "b1", NULL, "还有吗"), 0);
	engine_advance(f.engine, T0 + 7 * S + WINDOW + IDLE);
	CHECK_INT(BUYER(&f, 8 * S + WINDOW + IDLE, "b3", "alice", "在吗"), 0);
	engine_finish(f.engine);
	CHECK_INT(get(&f, "alice", COUNTER_FIRST_RESPONSES), 1);
	CHECK_INT(get(&f, "alice", COUNTER_FRT_MS_SUM), 4000);
	CHECK(names_find(f.names, "bob", 3) == NAME_NONE);
	CHECK(names_find(f.names, "s2", 2) == NAME_NONE);
	CHECK_INT(get(&f, "alice", COUNTER_INQUIRIES), 2); /* b1 (one conversation), b3 */
	CHECK_INT(get(&f, "-", COUNTER_INQUIRIES), 1);
	teardown(&f);
}

int main(void)
{
	if (timefmt_set_timezone("Asia/Shanghai") == -1)
		return 1;
	RUN(test_first_response_counts_once);
	RUN(test_idle_gap_exactly_session_idle_continues);
	RUN(test_idle_gap_one_ms_more_opens_new_inquiry);
	RUN(test_agent_message_after_close_is_not_a_response);
	RUN(test_breach_is_strictly_longer_than_target);
	RUN(test_turn_starts_at_first_unanswered_buyer_message);
	RUN(test_bot_replies_are_not_responses);
	RUN(test_transfer_routed_vs_answering_agent);
	RUN(test_first_agent_owns_inquiry_without_routing);
	RUN(test_inquiry_without_any_agent_goes_to_dash);
	RUN(test_negative_response_counts_zero_and_clock_skew);
	RUN(test_order_exactly_at_window_edge_is_attributed);
	RUN(test_silent_orders_and_payments);
	RUN(test_payment_without_order_implies_ordered);
	RUN(test_order_goes_to_latest_inquiry_opened_before_it);
	RUN(test_lost_reason_is_first_rule_in_file_order);
	RUN(test_rules_reload_keeps_matched_reasons);
	RUN(test_inquiry_rules_read_the_whole_chat);
	RUN(test_batch_reads_transcripts_when_live_would);
	RUN(test_chat_past_the_order_window_is_one_conversation);
	RUN(test_counts_go_to_the_right_minute);
	RUN(test_advance_closes_and_decides_by_event_time);
	RUN(test_advance_respects_extended_idle_deadline);
	RUN(test_waiting_buyer_reported_once_per_turn);
	RUN(test_wait_stages_warning_breach_escalation);
	RUN(test_wait_stages_out_of_order_are_off);
	RUN(test_reserved_agent_names_are_rejected);
	RUN(test_same_buyer_in_two_shops_is_two_inquiries);
	RUN(test_conversation_after_an_order_is_post_sale);
	RUN(test_post_sale_window_edges);
	RUN(test_post_sale_window_zero_is_off);
	RUN(test_live_post_sale_memory_ends_with_the_window);
	RUN(test_shop_clocks_are_apart);
	RUN(test_slot_reuse_keeps_inquiries_apart);
	RUN(test_three_minute_rate_counts_turns_begun_in_service_hours);
	RUN(test_assessment_counters_are_off_by_default);
	RUN(test_waiting_alerts_only_in_service_hours);
	RUN(test_returning_buyers);
	RUN(test_ceilings_refuse_new_names_and_buyers);
	return check_done();
}
