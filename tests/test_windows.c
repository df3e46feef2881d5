/* Rolling windows (reference.md §6 w:WINDOW): which minutes each window covers, the whole
 * shop, ageing out, and snapshots. Sums worked out by hand in the comments. */
#include <stdlib.h>
#include <time.h>

#include "chatlogd/names.h"
#include "chatlogd/windows.h"
#include "chatlogd/wire.h"
#include "check.h"

#define MIN 60000LL
#define T0 (29924760LL * MIN) /* a whole minute: 2026-11-24T02:00Z */

struct seen {
	int64_t sums[8][WINDOW_COUNT][COUNTER_WIDTH];
	uint32_t agent[8];
	unsigned changed[8];
	int count;
};

static int collect(void *ctx, uint32_t shop, uint32_t agent, unsigned changed,
                   const int64_t (*sums)[COUNTER_WIDTH])
{
	struct seen *s = ctx;
	(void)shop;
	s->agent[s->count] = agent;
	s->changed[s->count] = changed;
	memcpy(s->sums[s->count], sums, sizeof(s->sums[0]));
	s->count++;
	return 0;
}

/* alice answers 1 response at minutes -1440, -61, -59, -14, -4, 0 relative to as_of's
 * minute (value = 2^k to tell them apart): 1m = 32 (minute 0); 5m = 16+32;
 * 15m = 8+16+32; 1h = 4+8+16+32 (-59 in, -61 out); 24h = 2+4+8+16+32 (-1440 out). */
static void test_windows_cover_the_last_n_minutes(void)
{
	struct windows *w = windows_new();
	struct counter_table *cut = counter_table_new(1);
	struct seen s = {0};
	int64_t ago[] = {1440, 61, 59, 14, 4, 0};

	for (int k = 0; k < 6; k++)
		counter_table_add(cut, 2, 3, T0 - ago[k] * MIN, COUNTER_RESPONSES, 1LL << k);
	CHECK_INT(windows_add(w, cut, 0, T0), 0);
	CHECK_INT(windows_each(w, T0 + 59999, collect, &s), 0);
	CHECK_INT(s.count, 2); /* alice and the whole shop */
	CHECK_INT(s.agent[0], NAME_WHOLE_SHOP);
	CHECK_INT(s.agent[1], 3);
	CHECK_INT(s.sums[1][0][COUNTER_RESPONSES], 32);
	CHECK_INT(s.sums[1][1][COUNTER_RESPONSES], 16 + 32);
	CHECK_INT(s.sums[1][2][COUNTER_RESPONSES], 8 + 16 + 32);
	CHECK_INT(s.sums[1][3][COUNTER_RESPONSES], 4 + 8 + 16 + 32);
	CHECK_INT(s.sums[1][4][COUNTER_RESPONSES], 2 + 4 + 8 + 16 + 32);
	CHECK_INT(s.sums[0][4][COUNTER_RESPONSES], 2 + 4 + 8 + 16 + 32);
	/* One minute later everything slides by one: 1m (minute +1) is empty; 5m covers
	 * +1..-3, so -4 has left it (32 only); -59 is now 60 minutes old: out of 1h. */
	s.count = 0;
	CHECK_INT(windows_each(w, T0 + MIN, collect, &s), 0);
	CHECK_INT(s.sums[1][0][COUNTER_RESPONSES], 0);
	CHECK_INT(s.sums[1][1][COUNTER_RESPONSES], 32);
	CHECK_INT(s.sums[1][3][COUNTER_RESPONSES], 8 + 16 + 32);
	counter_table_free(cut);
	windows_free(w);
}

/* Agents add up in the shop's "*" series, which also keeps shop-level counters. */
static void test_whole_shop_sums_agents_and_shop_counters(void)
{
	struct windows *w = windows_new();
	struct counter_table *cut = counter_table_new(1);
	struct seen s = {0};

	counter_table_add(cut, 2, 3, T0, COUNTER_INQUIRIES, 2);
	counter_table_add(cut, 2, 4, T0, COUNTER_INQUIRIES, 5);
	counter_table_add(cut, 2, NAME_WHOLE_SHOP, T0, COUNTER_SILENT_ORDERS, 1);
	windows_add(w, cut, 0, T0);
	windows_each(w, T0, collect, &s);
	CHECK_INT(s.count, 3);
	CHECK_INT(s.agent[0], NAME_WHOLE_SHOP);
	CHECK_INT(s.sums[0][0][COUNTER_INQUIRIES], 7);
	CHECK_INT(s.sums[0][0][COUNTER_SILENT_ORDERS], 1);
	CHECK_INT(s.sums[1][0][COUNTER_SILENT_ORDERS], 0);
	counter_table_free(cut);
	windows_free(w);
}

/* A day later the ring slot is reused: the old minute must not leak into sums. */
static void test_a_day_old_minute_ages_out(void)
{
	struct windows *w = windows_new();
	struct counter_table *cut = counter_table_new(1);
	struct seen s = {0};

	counter_table_add(cut, 2, 3, T0, COUNTER_ORDERS, 1);
	windows_add(w, cut, 0, T0);
	counter_table_clear(cut);
	counter_table_add(cut, 2, 3, T0 + 1440 * MIN, COUNTER_ORDERS, 10); /* same slot */
	windows_add(w, cut, T0, T0 + 1440 * MIN);
	windows_each(w, T0 + 1440 * MIN, collect, &s);
	CHECK_INT(s.sums[1][4][COUNTER_ORDERS], 10);
	/* and data older than the ring is ignored, not added to the newer minute: the
	 * cut changes no window */
	counter_table_clear(cut);
	counter_table_add(cut, 2, 3, T0 - MIN, COUNTER_ORDERS, 100);
	windows_add(w, cut, T0 + 1440 * MIN, T0 + 1440 * MIN);
	s.count = 0;
	windows_each(w, T0 + 1440 * MIN, collect, &s);
	CHECK_INT(s.changed[1], 0);
	windows_mark_all_changed(w);
	s.count = 0;
	windows_each(w, T0 + 1440 * MIN, collect, &s);
	CHECK_INT(s.changed[1], WINDOWS_ALL);
	CHECK_INT(s.sums[1][4][COUNTER_ORDERS], 10);
	/* two days later: zeros, but the series is still reported (its hash shows 0) */
	s.count = 0;
	windows_each(w, T0 + 3000 * MIN, collect, &s);
	CHECK_INT(s.count, 2);
	CHECK_INT(s.sums[1][4][COUNTER_ORDERS], 0);
	counter_table_free(cut);
	windows_free(w);
}

/* Which windows a cut changes, worked out by hand. alice (3) has one response at
 * minute T0-4 and bob (4) none yet; the windows end at minute T0 (so 1m = T0,
 * 5m = T0-4..T0, 15m = T0-14..T0, ...). */
static void test_a_cut_notes_the_windows_it_changes(void)
{
	struct windows *w = windows_new();
	struct counter_table *cut = counter_table_new(1);
	struct seen s = {0};
	const unsigned m1 = 1, m5 = 2, m15 = 4, h1 = 8, h24 = 16;

	counter_table_add(cut, 2, 3, T0 - 4 * MIN, COUNTER_RESPONSES, 1);
	windows_add(w, cut, T0 - 4 * MIN, T0);
	windows_each(w, T0, collect, &s);
	CHECK_INT(s.count, 2); /* "*" and alice: new, so all their windows */
	CHECK_INT(s.changed[0], WINDOWS_ALL);
	CHECK_INT(s.changed[1], WINDOWS_ALL);

	/* the same minute, nothing new: nothing changed */
	counter_table_clear(cut);
	windows_add(w, cut, T0, T0 + 59999);
	s.count = 0;
	windows_each(w, T0 + 59999, collect, &s);
	CHECK_INT(s.changed[0], 0);
	CHECK_INT(s.changed[1], 0);

	/* bob answers at T0-20 (in 1h and 24h only), as of the same minute: bob is new;
	 * the shop's 1h and 24h change, alice's nothing */
	counter_table_add(cut, 2, 4, T0 - 20 * MIN, COUNTER_RESPONSES, 1);
	windows_add(w, cut, T0 + 59999, T0 + 59999);
	s.count = 0;
	windows_each(w, T0 + 59999, collect, &s);
	CHECK_INT(s.count, 3);
	CHECK_INT(s.changed[0], h1 | h24);
	CHECK_INT(s.changed[1], 0);
	CHECK_INT(s.changed[2], WINDOWS_ALL);

	/* one minute on, nothing new: alice's T0-4 leaves 5m (it is now 5 minutes old);
	 * 1m held nothing, 15m, 1h and 24h still hold it */
	counter_table_clear(cut);
	windows_add(w, cut, T0 + 59999, T0 + MIN);
	s.count = 0;
	windows_each(w, T0 + MIN, collect, &s);
	CHECK_INT(s.changed[1], m5);
	CHECK_INT(s.sums[1][1][COUNTER_RESPONSES], 0);
	CHECK_INT(s.sums[1][2][COUNTER_RESPONSES], 1);
	CHECK_INT(s.changed[0], m5); /* bob's T0-20 is in none it left */

	/* a jump of an hour: alice's T0-4 leaves 15m and 1h, bob's T0-20 leaves 1h */
	windows_add(w, cut, T0 + MIN, T0 + 60 * MIN);
	s.count = 0;
	windows_each(w, T0 + 60 * MIN, collect, &s);
	CHECK_INT(s.changed[1], m15 | h1);
	CHECK_INT(s.changed[2], h1);
	CHECK_INT(s.sums[0][3][COUNTER_RESPONSES], 0);
	CHECK_INT(s.sums[0][4][COUNTER_RESPONSES], 2);
	(void)m1;
	counter_table_free(cut);
	windows_free(w);
}

/* A day on, the minute a cut writes reuses the ring slot of a minute that leaves 24h
 * in the same cut: 24h is noted and sums the new minute only. */
static void test_a_reused_slot_still_notes_its_minute_leaving(void)
{
	struct windows *w = windows_new();
	struct counter_table *cut = counter_table_new(1);
	struct seen s = {0};

	counter_table_add(cut, 2, 3, T0, COUNTER_ORDERS, 1);
	windows_add(w, cut, T0, T0);
	counter_table_clear(cut);
	/* as of T0+1439 the 24h window still holds T0 (only 24h changed: 1m..1h lost
	 * it long ago); as of T0+1440 it does not, and the cut's minute T0+1440 lands in
	 * T0's slot */
	windows_add(w, cut, T0, T0 + 1439 * MIN);
	windows_each(w, T0 + 1439 * MIN, collect, &s);
	CHECK_INT(s.changed[1], 15); /* 1m 5m 15m 1h: T0 left them on the way */
	s.count = 0;
	counter_table_add(cut, 2, 3, T0 + 1440 * MIN, COUNTER_RESPONSES, 1);
	windows_add(w, cut, T0 + 1439 * MIN, T0 + 1440 * MIN);
	windows_each(w, T0 + 1440 * MIN, collect, &s);
	CHECK_INT(s.changed[1], WINDOWS_ALL); /* 1m..1h: the new minute; 24h: both */
	CHECK_INT(s.sums[1][4][COUNTER_ORDERS], 0);
	CHECK_INT(s.sums[1][4][COUNTER_RESPONSES], 1);
	counter_table_free(cut);
	windows_free(w);
}

/* alice answers at T0. As of T0+1440 that minute leaves 24h: her windows change (to
 * zeros). As of T0+1441 nothing changes and she has had nothing for a day: retired
 * (her and the shop's hashes to be deleted). At the next cut both are forgotten; a
 * row for her later brings her back as new. */
static void test_a_day_idle_series_is_retired_then_forgotten(void)
{
	struct windows *w = windows_new(), *back = windows_new();
	struct counter_table *cut = counter_table_new(1);
	struct wire_writer out = {0};
	struct wire_reader in;
	struct seen s = {0};

	counter_table_add(cut, 2, 3, T0, COUNTER_RESPONSES, 1);
	windows_add(w, cut, T0, T0);
	counter_table_clear(cut);
	windows_add(w, cut, T0, T0 + 1439 * MIN); /* T0 left 1m .. 1h on the way */
	windows_add(w, cut, T0 + 1439 * MIN, T0 + 1440 * MIN);
	windows_each(w, T0 + 1440 * MIN, collect, &s);
	CHECK_INT(s.count, 2);
	CHECK_INT(s.changed[1], 16); /* 24h only: T0 left it now */
	CHECK_INT(s.sums[1][4][COUNTER_RESPONSES], 0);

	windows_add(w, cut, T0 + 1440 * MIN, T0 + 1441 * MIN);
	s.count = 0;
	windows_each(w, T0 + 1441 * MIN, collect, &s);
	CHECK_INT(s.count, 2);
	CHECK_INT(s.changed[0], WINDOWS_RETIRED);
	CHECK_INT(s.changed[1], WINDOWS_RETIRED);
	CHECK_INT(windows_count(w), 2);

	/* a snapshot now keeps who is retired: the cut can be rebuilt the same */
	windows_save(w, &out);
	windows_save_retired(w, &out);
	wire_reader_init(&in, out.data, out.len);
	CHECK_INT(windows_load(back, &in, COUNTERS_SCHEMA), 0);
	CHECK_INT(windows_load_retired(back, &in), 0);
	CHECK_INT(in.pos, out.len);
	s.count = 0;
	windows_each(back, T0 + 1441 * MIN, collect, &s);
	CHECK_INT(s.changed[0], WINDOWS_RETIRED);
	CHECK_INT(s.changed[1], WINDOWS_RETIRED);

	windows_add(w, cut, T0 + 1441 * MIN, T0 + 1442 * MIN);
	s.count = 0;
	windows_each(w, T0 + 1442 * MIN, collect, &s);
	CHECK_INT(s.count, 0);
	CHECK_INT(windows_count(w), 0);

	counter_table_add(cut, 2, 3, T0 + 1443 * MIN, COUNTER_RESPONSES, 1);
	windows_add(w, cut, T0 + 1442 * MIN, T0 + 1443 * MIN);
	s.count = 0;
	windows_each(w, T0 + 1443 * MIN, collect, &s);
	CHECK_INT(s.count, 2);
	CHECK_INT(s.changed[1], WINDOWS_ALL);
	CHECK_INT(s.sums[1][0][COUNTER_RESPONSES], 1);
	wire_writer_free(&out);
	counter_table_free(cut);
	windows_free(w);
	windows_free(back);
}

static void test_snapshot_round_trip(void)
{
	struct windows *w = windows_new(), *back = windows_new();
	struct counter_table *cut = counter_table_new(1);
	struct wire_writer out = {0};
	struct wire_reader in;
	struct seen a = {0}, b = {0};

	for (int k = 0; k < 100; k++)
		counter_table_add(cut, 2, (uint32_t)(3 + k % 3), T0 - k * 7 * MIN,
		                  (enum counter_id)(k % COUNTER_WIDTH), k + 1);
	windows_add(w, cut, 0, T0);
	windows_save(w, &out);
	wire_reader_init(&in, out.data, out.len);
	CHECK_INT(windows_load(back, &in, COUNTERS_SCHEMA), 0);
	CHECK_INT(in.pos, out.len);
	windows_each(w, T0, collect, &a);
	windows_each(back, T0, collect, &b);
	CHECK_INT(a.count, b.count);
	CHECK(memcmp(a.sums, b.sums, sizeof(a.sums)) == 0);
	wire_writer_free(&out);
	counter_table_free(cut);
	windows_free(w);
	windows_free(back);
}

/* A state written while minutes were kept in a ring of a day may hold a minute a day
 * older than the newest (never overwritten): it loads, and counts in no window. */
static void test_a_state_with_a_stale_minute_loads(void)
{
	struct windows *w = windows_new();
	struct wire_writer out = {0};
	struct wire_reader in;
	struct seen s = {0};
	int64_t newest = T0 / MIN;

	wire_put_u64(&out, 1);
	wire_put_u32(&out, 2);
	wire_put_u32(&out, NAME_WHOLE_SHOP);
	wire_put_i64(&out, newest);
	wire_put_u32(&out, 2);
	wire_put_i64(&out, newest - 1440 - 5); /* stale */
	wire_put_u32(&out, 1);
	wire_put_u32(&out, COUNTER_RESPONSES);
	wire_put_i64(&out, 100);
	wire_put_i64(&out, newest); /* in every window */
	wire_put_u32(&out, 1);
	wire_put_u32(&out, COUNTER_RESPONSES);
	wire_put_i64(&out, 7);
	wire_reader_init(&in, out.data, out.len);
	CHECK_INT(windows_load(w, &in, COUNTERS_SCHEMA), 0);
	CHECK_INT(windows_each(w, T0, collect, &s), 0);
	CHECK_INT(s.count, 1);
	CHECK_INT(s.sums[0][4][COUNTER_RESPONSES], 7);
	wire_writer_free(&out);
	windows_free(w);
}

/* Random cuts of rows of two agents (minutes up to 3 days back, in any order, some
 * cuts an hour apart), checked after every cut against sums over every row kept
 * (rows a day older than the series' newest minute when added are dropped, as
 * documented), and every window whose sums changed must be noted as changed. */
static void test_random_cuts_match_brute_force(void)
{
	enum { ROWS = 4000, CUTS = 200 };
	static struct {
		uint32_t agent;
		int64_t minute, value;
	} kept[ROWS * 2];
	static int64_t before[3][WINDOW_COUNT][COUNTER_WIDTH];
	unsigned seed = (unsigned)check_seed("random cuts", (unsigned long long)time(NULL));
	struct windows *w = windows_new();
	int64_t now = T0 / MIN, prev_ms = 0, newest[3] = {INT64_MIN, INT64_MIN, INT64_MIN};
	size_t kept_count = 0;
	int wrong_sums = 0, missed_changes = 0;

	srand(seed);
	for (int c = 0; c < CUTS; c++) {
		struct counter_table *cut = counter_table_new(1);
		struct seen s = {0};
		now += rand() % 4 == 0 ? 60 : rand() % 3;
		for (int r = 0, n = rand() % (ROWS / CUTS); r < n; r++) {
			uint32_t agent = 1 + (uint32_t)(rand() % 2);
			int64_t minute =
			    now - (rand() % 8 == 0 ? rand() % (3 * 1440) : rand() % 90);
			int64_t value = 1 + rand() % 5;
			counter_table_add(cut, 2, agent, minute * MIN, COUNTER_RESPONSES, value);
		}
		/* the brute force: the cut's rows in the table's order, for the agent and "*" */
		for (size_t i = 0; i < counter_table_count(cut); i++) {
			const struct counter_row *row = counter_table_at(cut, i);
			uint32_t series[2] = {row->agent, 0};
			for (int k = 0; k < 2; k++) {
				if (newest[series[k]] != INT64_MIN &&
				    row->minute <= newest[series[k]] - 1440)
					continue;
				if (row->minute > newest[series[k]])
					newest[series[k]] = row->minute;
				kept[kept_count].agent = series[k];
				kept[kept_count].minute = row->minute;
				kept[kept_count++].value = row->value[COUNTER_RESPONSES];
			}
		}
		CHECK_INT(windows_add(w, cut, prev_ms, now * MIN), 0);
		CHECK_INT(windows_each(w, now * MIN, collect, &s), 0);
		for (int i = 0; i < s.count; i++) {
			uint32_t series = s.agent[i] == NAME_WHOLE_SHOP ? 0 : s.agent[i];
			for (unsigned win = 0; win < WINDOW_COUNT; win++) {
				int64_t want = 0, got = s.sums[i][win][COUNTER_RESPONSES];
				for (size_t k = 0; k < kept_count; k++)
					if (kept[k].agent == series && now - kept[k].minute >= 0 &&
					    now - kept[k].minute < windows_minutes(win))
						want += kept[k].value;
				if ((s.changed[i] & (1u << win)) && got != want)
					wrong_sums++;
				if (!(s.changed[i] & (1u << win)) &&
				    !(s.changed[i] & WINDOWS_RETIRED) &&
				    before[series][win][COUNTER_RESPONSES] != want)
					missed_changes++;
				if (s.changed[i] & (1u << win))
					before[series][win][COUNTER_RESPONSES] = got;
			}
		}
		prev_ms = now * MIN;
		counter_table_free(cut);
	}
	CHECK_INT(wrong_sums, 0);
	CHECK_INT(missed_changes, 0);
	windows_free(w);
}

/* The windows a cut changed come back from a snapshot as they were (a cut rebuilt
 * with window_writes = changed must write the same ones), and a count that does not
 * match the series, or a bit past the windows, is refused. */
static void test_changed_masks_round_trip(void)
{
	struct windows *w = windows_new(), *back = windows_new();
	struct counter_table *cut = counter_table_new(1);
	struct wire_writer out = {0}, bad = {0};
	struct wire_reader in;
	struct seen a = {0}, b = {0};

	counter_table_add(cut, 2, 3, T0 - 30 * MIN, COUNTER_RESPONSES, 1); /* 1h and 24h */
	windows_add(w, cut, 0, T0);
	counter_table_clear(cut);
	counter_table_add(cut, 2, 4, T0, COUNTER_RESPONSES, 1); /* another agent: all */
	/* agent 3's minute left no window in those 10 minutes (it was already out of 15m,
	 * still in 1h): its mask is 0; agent 4's and the shop's are all */
	windows_add(w, cut, T0, T0 + 10 * MIN);
	windows_save(w, &out);
	windows_save_changed(w, &out);
	wire_reader_init(&in, out.data, out.len);
	CHECK_INT(windows_load(back, &in, COUNTERS_SCHEMA), 0);
	CHECK_INT(windows_load_changed(back, &in), 0);
	CHECK_INT(in.pos, out.len);
	windows_each(w, T0 + 10 * MIN, collect, &a);
	windows_each(back, T0 + 10 * MIN, collect, &b);
	CHECK_INT(a.count, 3);
	CHECK_INT(b.count, 3);
	CHECK_INT(a.changed[1], 0); /* agent 3 (after the shop, "*") */
	CHECK_INT(a.changed[2], WINDOWS_ALL);
	for (int i = 0; i < a.count && i < b.count; i++)
		CHECK_INT(a.changed[i], b.changed[i]);
	wire_put_u64(&bad, windows_count(w) + 1);
	wire_reader_init(&in, bad.data, bad.len);
	CHECK_INT(windows_load_changed(back, &in), -1);
	wire_writer_free(&out);
	wire_writer_free(&bad);
	counter_table_free(cut);
	windows_free(w);
	windows_free(back);
}

int main(void)
{
	RUN(test_windows_cover_the_last_n_minutes);
	RUN(test_whole_shop_sums_agents_and_shop_counters);
	RUN(test_a_day_old_minute_ages_out);
	RUN(test_a_cut_notes_the_windows_it_changes);
	RUN(test_a_reused_slot_still_notes_its_minute_leaving);
	RUN(test_a_day_idle_series_is_retired_then_forgotten);
	RUN(test_snapshot_round_trip);
	RUN(test_a_state_with_a_stale_minute_loads);
	RUN(test_random_cuts_match_brute_force);
	RUN(test_changed_masks_round_trip);
	return check_done();
}
