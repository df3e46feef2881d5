/*
 * Engine snapshots: saving at any point and restoring into fresh tables must give an
 * engine that emits exactly what the original emits from there on (the basis of
 * exactly-once across restarts, docs/exactly-once.md). Checked on a seeded random
 * stream at many cut points, in live mode with deadline-driven closes.
 */
#include <stdlib.h>

#include "chatlogd/engine.h"
#include "chatlogd/rules.h"
#include "chatlogd/wire.h"
#include "check.h"

#define T0 1795485600000LL
#define RECORDS 6000

struct world {
	struct names *names;
	struct reasons reasons;
	struct counter_table *sink;
	struct engine *engine;
};

static const struct engine_settings settings = {
    .session_idle_ms = 600000,
    .order_window_ms = 3600000,
    .frt_target_ms = 6000,
    .art_target_ms = 10000,
    .post_sale_window_ms = 15 * 86400000LL,
    .track_deadlines = 1,
};
/* With `inquiry` rules, so that open inquiries carry their transcripts through the
 * snapshot: a buyer's 在吗, later the buyer's 谢谢 (chat);
 * an agent's or a bot's 好的, later the buyer's 好的 (thanks); an agent's bare 谢谢 is skipped. */
static const char patterns[] = "chat 对话 inquiry ^B:在吗$[\\s\\S]*^B:谢谢$\n"
                               "thanks 谢 inquiry ^[AR]:好的[\\s\\S]*^B:好的\n"
                               "price 价格 buyer 贵\n"
                               "stock 缺货 any 没货\n"
                               "skip - agent ^谢谢$\n";

struct stream_record {
	struct record rec;
	char shop[8], buyer[16], agent[16], text[32];
};

static struct stream_record stream[RECORDS];

static uint64_t prng_state = 42;
static uint32_t prng(uint32_t n)
{
	prng_state = prng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(prng_state >> 33) % n;
}

/* Bursty traffic over ~3 hours: many buyers coming back, agents answering late or
 * never, bots, orders and payments (some silent), occasional clock skew. The seed
 * is check_seed's. */
static void make_stream(void)
{
	static const char *texts[] = {"在吗", "太贵了", "没货了吗", "好的", "谢谢", ""};
	int64_t t = T0;
	for (int i = 0; i < RECORDS; i++) {
		struct stream_record *s = &stream[i];
		record_clear(&s->rec);
		int skewed = prng(50) == 0;
		t += prng(4000);
		s->rec.ts_ms = t;
		snprintf(s->shop, sizeof(s->shop), "s%u", prng(2));
		snprintf(s->buyer, sizeof(s->buyer), "b%u", prng(60));
		snprintf(s->agent, sizeof(s->agent), "a%u", prng(4));
		snprintf(s->text, sizeof(s->text), "%s", texts[prng(6)]);
		s->rec.shop = (struct text_view){s->shop, strlen(s->shop)};
		s->rec.buyer = (struct text_view){s->buyer, strlen(s->buyer)};
		uint32_t kind = prng(20);
		if (kind < 2) {
			s->rec.kind = kind == 0 ? RECORD_ORDER : RECORD_PAY;
			s->rec.amount_fen = prng(100000);
			continue;
		}
		s->rec.kind = RECORD_MSG;
		s->rec.from = kind < 12 ? FROM_BUYER : kind < 18 ? FROM_AGENT : FROM_BOT;
		if (s->rec.from == FROM_AGENT || prng(3) != 0)
			s->rec.agent = (struct text_view){s->agent, strlen(s->agent)};
		s->rec.text = (struct text_view){s->text, strlen(s->text)};
		/* Clock skew, whatever the seed: an agent's answer to the buyer message just
		 * before, stamped a second before it. */
		if (skewed && i > 0 && s[-1].rec.kind == RECORD_MSG &&
		    s[-1].rec.from == FROM_BUYER) {
			memcpy(s->shop, s[-1].shop, sizeof(s->shop));
			memcpy(s->buyer, s[-1].buyer, sizeof(s->buyer));
			s->rec.shop = (struct text_view){s->shop, strlen(s->shop)};
			s->rec.buyer = (struct text_view){s->buyer, strlen(s->buyer)};
			s->rec.from = FROM_AGENT;
			s->rec.agent = (struct text_view){s->agent, strlen(s->agent)};
			s->rec.ts_ms = s[-1].rec.ts_ms - 1000;
		}
	}
}

static void world_init(struct world *w, struct rules *rules)
{
	w->names = names_new();
	reasons_init(&w->reasons);
	w->sink = counter_table_new(1);
	w->engine = engine_new(&settings, w->names, &w->reasons, w->sink);
	engine_set_rules(w->engine, rules);
}

static void world_free(struct world *w)
{
	engine_free(w->engine);
	counter_table_free(w->sink);
	reasons_free(&w->reasons);
	names_free(w->names);
}

/* Feeds stream[from, to): each record moves its own shop's clock; now and then every
 * shop is moved to the newest event time, as quiet logs move them to the wall clock. */
static void feed_range(struct world *w, int from, int to)
{
	char err[64];
	for (int i = from; i < to; i++) {
		engine_feed(w->engine, &stream[i].rec, err, sizeof(err));
		if (i % 97 == 0)
			engine_advance(w->engine, engine_event_time(w->engine));
	}
}

/* Every row of a must equal the row of b with the same key, and the counts match. */
static int tables_equal(struct counter_table *a, struct counter_table *b)
{
	if (counter_table_count(a) != counter_table_count(b))
		return 0;
	for (size_t i = 0; i < counter_table_count(a); i++) {
		struct counter_row *x = counter_table_at(a, i);
		struct counter_row *y = counter_table_row(b, x->shop, x->agent, x->minute * 60000);
		if (memcmp(x->value, y->value, sizeof(x->value)) != 0)
			return 0;
	}
	return counter_table_count(a) == counter_table_count(b);
}

static void test_restored_engine_emits_what_the_original_would(void)
{
	char err[256];
	struct rules *rules = rules_load_buffer("t", patterns, strlen(patterns), err, sizeof(err));
	int mismatches = 0, cuts = 0;

	make_stream();
	for (int cut = 0; cut <= RECORDS; cut += 250) {
		struct world original, restored;
		struct wire_writer w = {0};
		struct wire_reader r;

		world_init(&original, rules);
		feed_range(&original, 0, cut);
		names_save(original.names, &w);
		reasons_save(&original.reasons, &w);
		engine_save(original.engine, &w);
		counter_table_save(original.sink, &w);

		world_init(&restored, rules);
		wire_reader_init(&r, w.data, w.len);
		CHECK_INT(names_load(restored.names, &r), 0);
		CHECK_INT(reasons_load(&restored.reasons, &r), 0);
		CHECK_INT(engine_load(restored.engine, &r), 0);
		CHECK_INT(counter_table_load(restored.sink, &r, COUNTERS_SCHEMA), 0);
		CHECK_INT(r.pos, w.len);
		CHECK_INT(engine_held(restored.engine), engine_held(original.engine));

		feed_range(&original, cut, RECORDS);
		feed_range(&restored, cut, RECORDS);
		engine_advance(original.engine, T0 + 100LL * 3600000);
		engine_advance(restored.engine, T0 + 100LL * 3600000);
		if (!tables_equal(original.sink, restored.sink) ||
		    !tables_equal(restored.sink, original.sink))
			mismatches++;
		CHECK_INT(engine_held(restored.engine), 0);
		cuts++;
		wire_writer_free(&w);
		world_free(&original);
		world_free(&restored);
	}
	CHECK_INT(mismatches, 0);
	CHECK_INT(cuts, RECORDS / 250 + 1);
	rules_free(rules);
}

/* A world with these settings (world_init takes the file's). */
static void world_init_with(struct world *w, const struct engine_settings *with,
                            struct rules *rules)
{
	w->names = names_new();
	reasons_init(&w->reasons);
	w->sink = counter_table_new(1);
	w->engine = engine_new(with, w->names, &w->reasons, w->sink);
	engine_set_rules(w->engine, rules);
}

/* Batch mode (no deadlines: it reads a transcript when live mode would close its
 * inquiry, by the shop's newest record) counts the whole stream as live mode does,
 * `inquiry` rules included. The stream's chats go on for hours, past the order window:
 * live mode decides such an inquiry when it closes, as batch does. */
static void test_batch_counts_what_live_counts(void)
{
	char err[256];
	struct rules *rules = rules_load_buffer("t", patterns, strlen(patterns), err, sizeof(err));
	struct engine_settings live_settings = settings, batch_settings = settings;
	struct world live, batch;
	int64_t chat = 0;

	make_stream();
	batch_settings.track_deadlines = 0;
	world_init_with(&live, &live_settings, rules);
	world_init_with(&batch, &batch_settings, rules);
	for (int i = 0; i < RECORDS; i++) {
		engine_feed(live.engine, &stream[i].rec, err, sizeof(err));
		engine_feed(batch.engine, &stream[i].rec, err, sizeof(err));
	}
	engine_advance(live.engine, T0 + 100LL * 3600000);
	engine_finish(batch.engine);
	CHECK(tables_equal(live.sink, batch.sink));
	CHECK(tables_equal(batch.sink, live.sink));
	for (size_t i = 0; i < counter_table_count(batch.sink); i++)
		chat += counter_table_at(batch.sink, i)
		            ->value[COUNTER_LOST_REASON + reasons_intern(&batch.reasons, "chat")];
	CHECK(chat > 0);
	world_free(&live);
	world_free(&batch);
	rules_free(rules);
}

/* The stream is not trivial: it must exercise what the snapshot has to carry. */
static void test_stream_exercises_pending_and_held_state(void)
{
	char err[256];
	struct rules *rules = rules_load_buffer("t", patterns, strlen(patterns), err, sizeof(err));
	struct world w;
	int64_t totals[COUNTER_WIDTH] = {0};

	make_stream();
	world_init(&w, rules);
	feed_range(&w, 0, RECORDS / 2);
	CHECK(engine_held(w.engine) > 20);
	feed_range(&w, RECORDS / 2, RECORDS);
	engine_advance(w.engine, T0 + 100LL * 3600000);
	for (size_t i = 0; i < counter_table_count(w.sink); i++)
		for (int id = 0; id < COUNTER_WIDTH; id++)
			totals[id] += counter_table_at(w.sink, i)->value[id];
	CHECK(totals[COUNTER_INQUIRIES] > 100);
	CHECK(totals[COUNTER_POST_SALE] > 10);
	CHECK(totals[COUNTER_ORDERED] > 10);
	CHECK(totals[COUNTER_SILENT_ORDERS] > 10);
	CHECK(totals[COUNTER_CLOCK_SKEW] > 0);
	CHECK(totals[COUNTER_LOST_REASON + reasons_intern(&w.reasons, "price")] > 0);
	/* the `inquiry` rules decide inquiries (at least 2 in each of 200 seeds) */
	CHECK(totals[COUNTER_LOST_REASON + reasons_intern(&w.reasons, "chat")] +
	          totals[COUNTER_LOST_REASON + reasons_intern(&w.reasons, "thanks")] >
	      1);
	CHECK(totals[COUNTER_UNANSWERED] > 0);
	world_free(&w);
	rules_free(rules);
}

/* One inquiry of a hand-written engine section as every version since 1 has it:
 * opened at T0, last message a minute later, answered, still open. */
static void put_open_inquiry(struct wire_writer *out, uint32_t agent)
{
	wire_put_i64(out, T0);         /* open */
	wire_put_i64(out, T0 + 60000); /* last message */
	wire_put_i64(out, T0);         /* turn */
	wire_put_i64(out, 0);          /* pending sales */
	wire_put_u32(out, agent);
	wire_put_u32(out, 5); /* generation */
	for (int i = 0; i < 4; i++)
		wire_put_u32(out, 0); /* pending counts */
	wire_put_u32(out, RULES_NONE);
	wire_put_u32(out, 1 | 2 | 8); /* allocated, open, responded */
}

/* An engine section written before v2 (version 1: one event clock, `replied` counted
 * at the close) loads: its open inquiry that had a response counts `replied` when it
 * closes, once, and every shop stands at the saved event time. */
static void test_version_1_section_still_loads(void)
{
	struct world w;
	struct wire_writer out = {0};
	struct wire_reader in;
	int64_t replied = 0, no_reply = 0;
	uint32_t shop, agent;

	world_init(&w, NULL);
	shop = names_intern(w.names, "s1", 2);
	agent = names_intern(w.names, "alice", 5);
	wire_put_u32(&out, 1);          /* section version */
	wire_put_i64(&out, T0 + 60000); /* event time */
	wire_put_u32(&out, 5);          /* generation */
	wire_put_u32(&out, 1);          /* pairs */
	wire_put_u32(&out, shop);
	wire_put_bytes(&out, "b1", 2);
	wire_put_u32(&out, 1); /* inquiries of the pair */
	put_open_inquiry(&out, agent);
	wire_reader_init(&in, out.data, out.len);
	CHECK_INT(engine_load(w.engine, &in), 0);
	CHECK_INT(engine_held(w.engine), 1);
	engine_advance(w.engine, T0 + 60000 + 600001);
	for (size_t i = 0; i < counter_table_count(w.sink); i++) {
		replied += counter_table_at(w.sink, i)->value[COUNTER_REPLIED];
		no_reply += counter_table_at(w.sink, i)->value[COUNTER_NO_REPLY];
	}
	CHECK_INT(replied, 1);
	CHECK_INT(no_reply, 0);
	wire_writer_free(&out);
	world_free(&w);
}

/* A version-3 section with one open inquiry and its transcript (text, tagged `tag`):
 * it loads when the transcript could have been written, and is refused when its
 * bytes are not UTF-8 (PCRE2 would then read past a character), when the tag is
 * unknown or when it is longer than a transcript can be. */
static int load_transcript(const char *text, size_t len, uint32_t tag)
{
	struct world w;
	struct wire_writer out = {0};
	struct wire_reader in;
	uint32_t shop, agent;
	int rc;

	world_init(&w, NULL);
	shop = names_intern(w.names, "s1", 2);
	agent = names_intern(w.names, "alice", 5);
	wire_put_u32(&out, 3);          /* section version */
	wire_put_i64(&out, T0 + 60000); /* event time */
	wire_put_u32(&out, 5);          /* generation */
	wire_put_u32(&out, 1);          /* shop clocks */
	wire_put_u32(&out, shop);
	wire_put_i64(&out, T0 + 60000);
	wire_put_u32(&out, 1); /* pairs */
	wire_put_u32(&out, shop);
	wire_put_bytes(&out, "b1", 2);
	wire_put_i64(&out, INT64_MIN); /* no last order */
	wire_put_u32(&out, 1);         /* inquiries of the pair */
	put_open_inquiry(&out, agent);
	wire_put_u32(&out, tag);
	wire_put_bytes(&out, text, len);
	wire_reader_init(&in, out.data, out.len);
	rc = engine_load(w.engine, &in);
	wire_writer_free(&out);
	world_free(&w);
	return rc;
}

static void test_restored_transcripts_are_checked(void)
{
	static char big[8194];

	memset(big, 'x', sizeof(big));
	CHECK_INT(load_transcript("B:在吗\n", strlen("B:在吗\n"), 1), 0);
	CHECK_INT(load_transcript("B:在吗\n", strlen("B:在吗\n"), 2), 0);
	CHECK_INT(load_transcript(big, 8192, 2), 0);
	CHECK_INT(load_transcript("B:\xe5\x9c\n", 5, 1), -1);
	CHECK_INT(load_transcript("B:在吗\n", strlen("B:在吗\n"), 3), -1);
	CHECK_INT(load_transcript(big, 8193, 2), -1);
}

/* The section is version 2, which a chatlogd from before the `inquiry` scope reads,
 * unless an open inquiry carries a transcript (version 3). */
static uint32_t section_version(const char *rules_text)
{
	char err[256];
	struct rules *rules =
	    rules_load_buffer("t", rules_text, strlen(rules_text), err, sizeof(err));
	struct world w;
	struct wire_writer out = {0};
	struct wire_reader in;
	uint32_t version;

	make_stream();
	world_init(&w, rules);
	feed_range(&w, 0, RECORDS / 2);
	engine_save(w.engine, &out);
	wire_reader_init(&in, out.data, out.len);
	version = wire_get_u32(&in);
	wire_writer_free(&out);
	world_free(&w);
	rules_free(rules);
	return version;
}

static void test_section_version_3_only_with_transcripts(void)
{
	CHECK_INT(section_version("price 价格 buyer 贵\nstock 缺货 any 没货\n"), 2);
	CHECK_INT(section_version(patterns), 3);
}

/* Every strict prefix of an engine section is rejected; the whole section loads
 * (the control, so rejections are for truncation, not for missing names). */
static void test_truncated_sections_are_rejected(void)
{
	struct world w;
	struct wire_writer names_out = {0}, engine_out = {0};
	char err[256];
	struct rules *rules = rules_load_buffer("t", patterns, strlen(patterns), err, sizeof(err));
	int rejected = 0, tries = 0;

	make_stream();
	world_init(&w, rules);
	feed_range(&w, 0, 1000);
	names_save(w.names, &names_out);
	engine_save(w.engine, &engine_out);
	world_free(&w);
	/* prefixes of every length class, then the whole section */
	for (size_t cut = 0;; cut += engine_out.len / 97 + 1) {
		struct world fresh;
		struct wire_reader r;
		int whole = cut >= engine_out.len;
		world_init(&fresh, rules);
		wire_reader_init(&r, names_out.data, names_out.len);
		CHECK_INT(names_load(fresh.names, &r), 0);
		wire_reader_init(&r, engine_out.data, whole ? engine_out.len : cut);
		if (whole) {
			CHECK_INT(engine_load(fresh.engine, &r), 0);
		} else {
			rejected += engine_load(fresh.engine, &r) == -1;
			tries++;
		}
		world_free(&fresh);
		if (whole)
			break;
	}
	CHECK(tries > 50);
	CHECK_INT(rejected, tries);
	wire_writer_free(&names_out);
	wire_writer_free(&engine_out);
	rules_free(rules);
}

int main(void)
{
	prng_state = check_seed("record stream", prng_state);
	RUN(test_restored_engine_emits_what_the_original_would);
	RUN(test_stream_exercises_pending_and_held_state);
	RUN(test_batch_counts_what_live_counts);
	RUN(test_truncated_sections_are_rejected);
	RUN(test_version_1_section_still_loads);
	RUN(test_restored_transcripts_are_checked);
	RUN(test_section_version_3_only_with_transcripts);
	return check_done();
}
