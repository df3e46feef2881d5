/*
 * Tests for journal_record: every record type encodes and decodes to the same
 * fields, the first byte names the type, and what does not decode is refused (an
 * unknown type, a verdict out of range, a record cut short, too many positions).
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/journal_record.h"
#include "chatlogd/tail.h"
#include "chatlogd/wire.h"
#include "check.h"

static void test_source_line_rules_round_trip(void)
{
	struct wire_writer w = {0};
	struct journal_record rec;

	journal_record_put_source(&w, 7, "/var/log/cs/a.jsonl", 3);
	CHECK_INT(journal_record_decode(w.data, w.len, &rec), 0);
	CHECK_INT(rec.type, JOURNAL_SOURCE);
	CHECK_INT(rec.source, 7);
	CHECK_INT(rec.rank, 3);
	CHECK(rec.text_len == 19 && memcmp(rec.text, "/var/log/cs/a.jsonl", 19) == 0);
	CHECK(!journal_record_is_cut(w.data, w.len));

	w.len = 0;
	journal_record_put_line(&w, 2, 1832, VERDICT_AHEAD, "{\"ts\":1}", 8);
	CHECK_INT(journal_record_decode(w.data, w.len, &rec), 0);
	CHECK_INT(rec.type, JOURNAL_LINE);
	CHECK_INT(rec.source, 2);
	CHECK_INT(rec.line_no, 1832);
	CHECK_INT(rec.verdict, VERDICT_AHEAD);
	CHECK(rec.text_len == 8 && memcmp(rec.text, "{\"ts\":1}", 8) == 0);

	w.len = 0;
	journal_record_put_rules(&w, "p.conf", "x", 1);
	CHECK_INT(journal_record_decode(w.data, w.len, &rec), 0);
	CHECK_INT(rec.type, JOURNAL_RULES);
	CHECK(rec.name_len == 6 && memcmp(rec.name, "p.conf", 6) == 0);
	CHECK(rec.text_len == 1 && rec.text[0] == 'x');
	CHECK(!w.failed);
	wire_writer_free(&w);
}

static void test_clock_records_round_trip(void)
{
	struct wire_writer w = {0};
	struct journal_record rec;

	journal_record_put_release(&w, 42);
	CHECK_INT(journal_record_decode(w.data, w.len, &rec), 0);
	CHECK_INT(rec.type, JOURNAL_RELEASE);
	CHECK_INT(rec.count, 42);
	w.len = 0;
	journal_record_put_advance(&w, -5);
	CHECK_INT(journal_record_decode(w.data, w.len, &rec), 0);
	CHECK_INT(rec.type, JOURNAL_ADVANCE);
	CHECK_INT(rec.time_ms, -5);
	w.len = 0;
	journal_record_put_waiting(&w, 1700000000000LL);
	CHECK_INT(journal_record_decode(w.data, w.len, &rec), 0);
	CHECK_INT(rec.type, JOURNAL_WAITING);
	CHECK_INT(rec.time_ms, 1700000000000LL);
	wire_writer_free(&w);
}

static void test_cut_round_trips_with_its_positions(void)
{
	struct tail_position p[2] = {
	    {.path = "a.log",
	     .dev = 1,
	     .ino = 2,
	     .offset = 300,
	     .line_no = 10,
	     .head_hash = 9,
	     .head_len = 64,
	     .before_hash = 8,
	     .before_len = 32,
	     .in_overlong = 0},
	    {.path = "b.log", .dev = 1, .ino = 3, .offset = 5, .line_no = 1, .in_overlong = 1}};
	struct wire_writer w = {0};
	struct journal_record rec;

	journal_record_put_cut(&w, 17, p, 2);
	CHECK(journal_record_is_cut(w.data, w.len));
	CHECK_INT(journal_record_decode(w.data, w.len, &rec), 0);
	CHECK_INT(rec.type, JOURNAL_CUT);
	CHECK_INT(rec.first_seq, 17);
	CHECK_INT(rec.position_count, 2);
	if (rec.position_count == 2) {
		CHECK_STR(rec.positions[0].path, "a.log");
		CHECK_INT(rec.positions[0].offset, 300);
		CHECK_INT(rec.positions[0].head_len, 64);
		CHECK_INT(rec.positions[0].before_hash, 8);
		CHECK_STR(rec.positions[1].path, "b.log");
		CHECK_INT(rec.positions[1].ino, 3);
		CHECK_INT(rec.positions[1].in_overlong, 1);
	}
	journal_record_clear(&rec);
	CHECK(rec.positions == NULL);
	/* cut short anywhere: refused, nothing owned */
	for (size_t len = 0; len < w.len; len++) {
		int status = journal_record_decode(w.data, len, &rec);
		CHECK_INT(status, -1);
		CHECK(rec.positions == NULL);
	}
	wire_writer_free(&w);
}

static void test_what_does_not_decode_is_refused(void)
{
	struct wire_writer w = {0};
	struct journal_record rec;
	unsigned char unknown[] = {'Z', 0, 0, 0, 0};

	CHECK_INT(journal_record_decode(unknown, sizeof(unknown), &rec), -1);
	CHECK_INT(journal_record_decode(unknown, 0, &rec), -1);
	journal_record_put_line(&w, 0, 1, (enum line_verdict)(VERDICT_AHEAD + 1), "x", 1);
	CHECK_INT(journal_record_decode(w.data, w.len, &rec), -1);
	w.len = 0;
	journal_record_put_advance(&w, 1);
	CHECK_INT(journal_record_decode(w.data, w.len - 1, &rec), -1);
	w.len = 0;
	wire_put_u8(&w, JOURNAL_CUT);
	wire_put_u64(&w, 1);
	wire_put_u32(&w, JOURNAL_MAX_SOURCES + 1);
	CHECK_INT(journal_record_decode(w.data, w.len, &rec), -1);
	wire_writer_free(&w);
}

int main(void)
{
	RUN(test_source_line_rules_round_trip);
	RUN(test_clock_records_round_trip);
	RUN(test_cut_round_trips_with_its_positions);
	RUN(test_what_does_not_decode_is_refused);
	return check_done();
}
