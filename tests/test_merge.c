/* The live merge (reference.md §2 "One sequence of records"): batch order on ties and skew,
 * what holds a record back and what lets it go, the memory bound, late records, and
 * that a replay (release counts, snapshots) repeats the live run exactly. */
#include <stdlib.h>

#include "chatlogd/merge.h"
#include "chatlogd/wire.h"
#include "check.h"

struct released {
	int count;
	int64_t ts[64];
	char path[64][16];
	char text[64][16];
	uint64_t line_no[64];
	const char *text_ptr[64]; /* where the record's text pointed: a copy or not */
};

static void collect(void *ctx, const struct record *rec, const char *path, uint64_t line_no)
{
	struct released *r = ctx;
	int i = r->count++;

	r->ts[i] = rec->ts_ms;
	snprintf(r->path[i], sizeof(r->path[i]), "%s", path);
	snprintf(r->text[i], sizeof(r->text[i]), "%.*s", (int)rec->text.len,
	         rec->text.ptr ? rec->text.ptr : "");
	r->line_no[i] = line_no;
	r->text_ptr[i] = rec->text.ptr;
}

static struct merge *merge_for(struct released *r, size_t max_held_bytes)
{
	struct merge_settings settings = {.grace_ms = 2000, .max_held_bytes = max_held_bytes};
	memset(r, 0, sizeof(*r));
	return merge_new(&settings, collect, r);
}

static void push(struct merge *m, int input, int64_t ts, const char *text, uint64_t line_no)
{
	struct record rec;

	memset(&rec, 0, sizeof(rec));
	rec.ts_ms = ts;
	rec.kind = RECORD_MSG;
	rec.from = FROM_BUYER;
	rec.shop = (struct text_view){"s1", 2};
	rec.buyer = (struct text_view){"b1", 2};
	rec.text = (struct text_view){text, strlen(text)};
	merge_push(m, input, &rec, line_no);
}

/* The released texts joined with spaces, to compare whole sequences at once. */
static const char *order(const struct released *r)
{
	static char out[1024];
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < r->count; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "",
		                        r->text[i]);
	return out;
}

static int always_at_end(void *ctx, const char *path)
{
	(void)ctx;
	(void)path;
	return 1;
}

static int never_at_end(void *ctx, const char *path)
{
	(void)ctx;
	(void)path;
	return 0;
}

static void test_single_input_releases_at_once_without_a_copy(void)
{
	struct released r;
	struct merge *m = merge_for(&r, 0);
	int a = merge_input(m, "a.jsonl", 0);
	const char *text = "hello";
	struct merge_stats st;

	push(m, a, 1000, text, 1);
	push(m, a, 900, "skewed", 2); /* backward skew: still its place in its input */
	CHECK_INT(r.count, 2);
	CHECK(r.text_ptr[0] == text);
	CHECK_STR(r.path[0], "a.jsonl");
	CHECK_INT(r.line_no[1], 2);
	merge_stats(m, &st);
	CHECK_INT(st.held_records, 0);
	CHECK_INT(st.late, 0);
	merge_free(m);
}

/* Equal ts: the input given first (lower rank) goes first, and an input given
 * later must not overtake one that may still deliver the same ts. */
static void test_ties_go_to_the_input_given_first(void)
{
	struct released r;
	struct merge *m = merge_for(&r, 0);
	int a = merge_input(m, "a.jsonl", 1);
	int b = merge_input(m, "b.jsonl", 0);

	push(m, a, 10, "a10", 1);
	CHECK_INT(r.count, 0); /* b may deliver a 10, which comes first */
	push(m, b, 10, "b10", 1);
	CHECK_STR(order(&r), "b10"); /* a10 waits: b may deliver another 10 */
	push(m, b, 11, "b11", 2);
	CHECK_STR(order(&r), "b10 a10");
	push(m, a, 12, "a12", 2);
	CHECK_STR(order(&r), "b10 a10 b11");
	merge_free(m);
}

/* Same rank (one glob): the names' byte order decides, as glob(3) lists them. */
static void test_same_rank_ties_go_by_path(void)
{
	struct released r;
	struct merge *m = merge_for(&r, 0);
	int z = merge_input(m, "logs/z.jsonl", 0);
	int y = merge_input(m, "logs/y.jsonl", 0);

	push(m, z, 5, "z5", 1);
	push(m, y, 5, "y5", 1);
	push(m, z, 6, "z6", 2);
	push(m, y, 7, "y7", 2);
	CHECK_STR(order(&r), "y5 z5 z6");
	merge_free(m);
}

static void test_equal_ts_within_an_input_keep_their_order(void)
{
	struct released r;
	struct merge *m = merge_for(&r, 0);
	int a = merge_input(m, "a", 0);
	int b = merge_input(m, "b", 1);

	push(m, a, 10, "a1", 1);
	push(m, a, 10, "a2", 2);
	push(m, a, 10, "a3", 3);
	push(m, b, 11, "b11", 1);
	CHECK_STR(order(&r), "a1 a2 a3");
	merge_free(m);
}

/* Batch takes the smallest head: A = 10 5 20, B = 7 30 gives 7 10 5 20 30. */
static void test_backward_skew_within_an_input_keeps_batch_order(void)
{
	struct released r;
	struct merge *m = merge_for(&r, 0);
	int a = merge_input(m, "a", 0);
	int b = merge_input(m, "b", 1);
	struct merge_stats st;

	push(m, a, 10, "a10", 1);
	push(m, a, 5, "a5", 2);
	push(m, a, 20, "a20", 3);
	CHECK_INT(r.count, 0);
	push(m, b, 7, "b7", 1);
	push(m, b, 30, "b30", 2);
	CHECK_STR(order(&r), "b7 a10 a5 a20");
	CHECK_INT(merge_earliest_held(m), 30);
	merge_stats(m, &st);
	CHECK_INT(st.late, 0);
	CHECK_INT(st.held_records, 1);
	merge_free(m);
}

/* A backlog at start: an input declared but not read yet holds every other one,
 * whatever the wall clock says, until tail has read it to its end. */
static void test_an_input_never_read_holds_the_others(void)
{
	struct released r;
	struct merge *m = merge_for(&r, 0);
	int a = merge_input(m, "a", 0);
	int b = merge_input(m, "b", 1);

	merge_touch(m, b, 0);
	for (int i = 1; i <= 5; i++)
		push(m, a, i * 1000, "a", (uint64_t)i);
	CHECK_INT(r.count, 0);
	CHECK_INT(merge_release_due(m, 1000000, never_at_end, NULL), 0);
	CHECK_INT(r.count, 0);
	push(m, b, 2500, "b", 1); /* b's backlog read: what comes before 2500 goes */
	CHECK_INT(r.count, 3);
	CHECK_INT(merge_release_due(m, 1000000, always_at_end, NULL), 3);
	CHECK_INT(r.count, 6);
	merge_free(m);
}

/* An input read to its end holds back records stamped within the grace period of
 * the wall clock until it has been quiet for the grace period. */
static void test_grace_by_the_wall_clock(void)
{
	struct released r;
	struct merge *m = merge_for(&r, 0);
	int a = merge_input(m, "a", 0);
	int b = merge_input(m, "b", 1);

	push(m, b, 50000, "b", 1);
	merge_touch(m, b, 100000);
	push(m, a, 100000, "a-new", 1);
	CHECK_INT(merge_release_due(m, 100500, always_at_end, NULL), 0); /* b quiet 0.5 s */
	CHECK_INT(merge_release_due(m, 101999, always_at_end, NULL), 0);
	CHECK_INT(merge_release_due(m, 102000, always_at_end, NULL), 1); /* quiet 2 s */
	CHECK_STR(order(&r), "b a-new");
	/* an old record goes at once once b is at its end, quiet or not */
	merge_touch(m, b, 200000);
	push(m, a, 150000, "a-old", 2);
	CHECK_INT(r.count, 2);
	CHECK_INT(merge_release_due(m, 200001, never_at_end, NULL), 0);
	CHECK_INT(merge_release_due(m, 200001, always_at_end, NULL), 1);
	CHECK_STR(order(&r), "b a-new a-old");
	merge_free(m);
}

/* Past max_held_bytes the earliest held go, counted as forced. */
static void test_memory_bound_releases_the_earliest(void)
{
	struct released r;
	struct merge *m = merge_for(&r, 600);
	int a = merge_input(m, "a", 0);
	int b = merge_input(m, "b", 1);
	struct merge_stats st;
	char text[101];

	(void)b;
	memset(text, 'x', 100);
	text[100] = '\0';
	push(m, a, 3, text, 1);
	push(m, a, 1, text, 2);
	push(m, a, 2, text, 3);
	merge_stats(m, &st);
	CHECK_INT(st.forced, 0);
	CHECK(st.held_bytes > 450 && st.held_bytes <= 600); /* ~170 bytes each */
	push(m, a, 4, text, 4);
	merge_stats(m, &st);
	CHECK(st.held_bytes <= 600);
	CHECK(st.forced >= 1);
	CHECK_INT(r.count, (int)st.forced);
	CHECK_INT(r.ts[0], 3); /* the input's head, in its order */
	merge_free(m);
}

/* Late: below what another input (or a quiet-time advance) already released. */
static void test_late_records_are_counted(void)
{
	struct released r;
	struct merge *m = merge_for(&r, 0);
	int a = merge_input(m, "a", 0);
	int b = merge_input(m, "b", 1);
	struct merge_stats st;

	push(m, a, 10, "a10", 1);
	push(m, b, 20, "b20", 1);
	push(m, a, 30, "a30", 2);
	push(m, b, 15, "b15", 2); /* b's own skew, below a's 10? no: not late */
	merge_stats(m, &st);
	CHECK_INT(st.late, 0);
	push(m, a, 5, "a5", 3); /* b released 20 already */
	merge_stats(m, &st);
	CHECK_INT(st.late, 1);
	CHECK_STR(order(&r), "a10 b20 b15"); /* a5 waits behind a30, in a's order */
	merge_note_advance(m, 1000);
	push(m, b, 999, "b999", 3);
	merge_stats(m, &st);
	CHECK_INT(st.late, 2);
	merge_free(m);
}

/* Replay: the counts merge_release_due returned, given to merge_release_count at
 * the same points, give the same sequence. */
static void test_release_count_repeats_release_due(void)
{
	struct released live, replay;
	struct merge *m = merge_for(&live, 0);
	struct merge *again = merge_for(&replay, 0);
	int64_t ts[] = {5000, 1000, 7000, 3000, 9000, 2000, 9500};
	uint64_t counts[7];

	for (int k = 0; k < 2; k++) {
		struct merge *x = k ? again : m;
		merge_input(x, "a", 0);
		merge_input(x, "b", 1);
		merge_input(x, "c", 2);
	}
	for (int i = 0; i < 7; i++) {
		push(m, i % 2, ts[i], i % 2 ? "odd" : "even", (uint64_t)i);
		counts[i] = merge_release_due(m, ts[i] + 2500, always_at_end, NULL);
	}
	for (int i = 0; i < 7; i++) {
		push(again, i % 2, ts[i], i % 2 ? "odd" : "even", (uint64_t)i);
		merge_release_count(again, counts[i]);
	}
	CHECK(live.count > 0);
	CHECK_INT(replay.count, live.count);
	CHECK(memcmp(live.ts, replay.ts, sizeof(live.ts)) == 0);
	CHECK_STR(order(&replay), order(&live));
	merge_free(m);
	merge_free(again);
}

/* A snapshot carries inputs, held records and counters: the loaded merge goes on
 * exactly as the saved one. */
static void test_save_load_round_trip(void)
{
	struct released r, loaded_r;
	struct merge *m = merge_for(&r, 0);
	struct merge *loaded = merge_for(&loaded_r, 0);
	struct wire_writer w = {0};
	struct wire_reader rd;
	struct merge_stats st;
	int a = merge_input(m, "a", 3), b = merge_input(m, "b", 1);

	push(m, a, 10, "a10", 1);
	push(m, b, 20, "b20", 1);
	push(m, a, 5, "a5", 2); /* a's own skew: not late */
	push(m, a, 30, "a30", 3);
	push(m, a, 40, "a40", 4);
	push(m, b, 3, "b3-late", 2); /* a released 10 already */
	merge_note_advance(m, 7);
	merge_save(m, &w);
	CHECK(!w.failed);
	wire_reader_init(&rd, w.data, w.len);
	CHECK_INT(merge_load(loaded, &rd), 0);
	CHECK_INT(rd.pos, rd.len);
	merge_stats(loaded, &st);
	CHECK_INT(st.held_records, 2);
	CHECK_INT(st.late, 1);
	CHECK_INT(st.inputs, 2);
	CHECK_INT(merge_earliest_held(loaded), 30);
	CHECK_INT(merge_input(loaded, "b", 1), 1);
	loaded_r.count = 0;
	r.count = 0;
	push(m, b, 35, "b35", 3);
	push(loaded, 1, 35, "b35", 3);
	push(m, b, 50, "b50", 4);
	push(loaded, 1, 50, "b50", 4);
	CHECK_STR(order(&loaded_r), "a30 b35 a40");
	CHECK_STR(order(&loaded_r), order(&r));
	CHECK_INT(loaded_r.line_no[0], 3);
	CHECK_STR(loaded_r.path[0], "a");
	push(loaded, 1, 6, "b6", 5); /* below the advance and a's released 40 */
	merge_stats(loaded, &st);
	CHECK_INT(st.late, 2);
	wire_writer_free(&w);
	/* garbage is refused */
	wire_reader_init(&rd, "\x05\x00\x00\x00zz", 6);
	merge_free(loaded);
	loaded = merge_for(&loaded_r, 0);
	CHECK_INT(merge_load(loaded, &rd), -1);
	merge_free(loaded);
	merge_free(m);
}

int main(void)
{
	RUN(test_single_input_releases_at_once_without_a_copy);
	RUN(test_ties_go_to_the_input_given_first);
	RUN(test_same_rank_ties_go_by_path);
	RUN(test_equal_ts_within_an_input_keep_their_order);
	RUN(test_backward_skew_within_an_input_keeps_batch_order);
	RUN(test_an_input_never_read_holds_the_others);
	RUN(test_grace_by_the_wall_clock);
	RUN(test_memory_bound_releases_the_earliest);
	RUN(test_late_records_are_counted);
	RUN(test_release_count_repeats_release_due);
	RUN(test_save_load_round_trip);
	return check_done();
}
