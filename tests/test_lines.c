/* Line framing: partial lines, CRLF left to the caller, overlong lines, no newline at EOF. */
#include <stdlib.h>

#include "chatlogd/lines.h"
#include "check.h"

struct seen {
	char text[16][64];
	uint64_t line_no[16];
	int overlong[16];
	int count;
};

static void collect(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong)
{
	struct seen *s = ctx;
	if (s->count == 16)
		return;
	snprintf(s->text[s->count], sizeof(s->text[0]), "%.*s", (int)len, line);
	s->line_no[s->count] = line_no;
	s->overlong[s->count] = overlong;
	s->count++;
}

static void test_partial_line_waits_for_newline(void)
{
	struct lines lr;
	struct seen s = {0};
	lines_init(&lr, 100);
	lines_feed(&lr, "ab", 2, collect, &s);
	CHECK_INT(s.count, 0);
	CHECK_INT(lines_pending(&lr), 2);
	lines_feed(&lr, "c\nde", 4, collect, &s);
	CHECK_INT(s.count, 1);
	CHECK_STR(s.text[0], "abc");
	CHECK_INT(s.line_no[0], 1);
	lines_feed(&lr, "\n\n", 2, collect, &s);
	CHECK_INT(s.count, 3);
	CHECK_STR(s.text[1], "de");
	CHECK_STR(s.text[2], "");
	CHECK_INT(s.line_no[2], 3);
	lines_free(&lr);
}

static void test_crlf_is_passed_through(void)
{
	struct lines lr;
	struct seen s = {0};
	lines_init(&lr, 100);
	lines_feed(&lr, "x\r\n", 3, collect, &s);
	CHECK_STR(s.text[0], "x\r");
	lines_free(&lr);
}

static void test_last_line_without_newline_counts_at_finish(void)
{
	struct lines lr;
	struct seen s = {0};
	lines_init(&lr, 100);
	lines_feed(&lr, "a\nb", 3, collect, &s);
	lines_finish(&lr, collect, &s);
	CHECK_INT(s.count, 2);
	CHECK_STR(s.text[1], "b");
	CHECK_INT(s.line_no[1], 2);
	lines_free(&lr);
}

/* A line of exactly max bytes is fine; max+1 is overlong, reported once with its
 * line number, and the good lines around it survive. */
static void test_overlong_line_is_reported_once_and_skipped(void)
{
	struct lines lr;
	struct seen s = {0};
	lines_init(&lr, 4);
	lines_feed(&lr, "1234\n12345\nok\n", 14, collect, &s);
	CHECK_INT(s.count, 3);
	CHECK_STR(s.text[0], "1234");
	CHECK_INT(s.overlong[0], 0);
	CHECK_INT(s.overlong[1], 1);
	CHECK_INT(s.line_no[1], 2);
	CHECK_STR(s.text[2], "ok");
	CHECK_INT(s.line_no[2], 3);
	lines_free(&lr);
}

/* An overlong line arriving in pieces is dropped as it grows (memory stays
 * bounded) and reported once; numbering continues after it. */
static void test_overlong_line_in_pieces_is_bounded(void)
{
	struct lines lr;
	struct seen s = {0};
	char chunk[1000];
	memset(chunk, 'x', sizeof(chunk));
	lines_init(&lr, 10);
	lines_feed(&lr, "a\n", 2, collect, &s);
	for (int i = 0; i < 5000; i++)
		lines_feed(&lr, chunk, sizeof(chunk), collect, &s);
	CHECK(lines_pending(&lr) <= 10);
	lines_feed(&lr, "tail\nb\n", 7, collect, &s);
	CHECK_INT(s.count, 3);
	CHECK_INT(s.overlong[1], 1);
	CHECK_INT(s.line_no[1], 2);
	CHECK_STR(s.text[2], "b");
	CHECK_INT(s.line_no[2], 3);
	lines_free(&lr);
}

static void test_overlong_last_line_at_finish(void)
{
	struct lines lr;
	struct seen s = {0};
	lines_init(&lr, 3);
	lines_feed(&lr, "abcdef", 6, collect, &s);
	lines_finish(&lr, collect, &s);
	CHECK_INT(s.count, 1);
	CHECK_INT(s.overlong[0], 1);
	CHECK_INT(s.line_no[0], 1);
	CHECK_INT(lr.line_no, 1);
	lines_free(&lr);
}

struct tally {
	uint64_t count;
	uint64_t sum;
	int in_order;
};

static void add_number(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong)
{
	struct tally *t = ctx;
	char buf[32];
	snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
	if (overlong || strtoull(buf, NULL, 10) != line_no - 1)
		t->in_order = 0;
	t->count++;
	t->sum += strtoull(buf, NULL, 10);
}

/* 3 MiB of numbered lines fed in odd-sized pieces come out whole and in order. */
static void test_lines_across_buffer_refills(void)
{
	struct lines lr;
	struct tally t = {0, 0, 1};
	char *data = malloc(3 * 1024 * 1024);
	size_t len = 0;
	uint64_t n = 0;

	while (len < 3 * 1024 * 1024 - 32)
		len += (size_t)sprintf(data + len, "%llu\n", (unsigned long long)n++);
	lines_init(&lr, 64);
	for (size_t off = 0; off < len; off += 7777)
		lines_feed(&lr, data + off, len - off < 7777 ? len - off : 7777, add_number, &t);
	lines_finish(&lr, add_number, &t);
	CHECK_INT(t.count, n);
	CHECK_INT(t.sum, n * (n - 1) / 2);
	CHECK(t.in_order);
	lines_free(&lr);
	free(data);
}

int main(void)
{
	RUN(test_partial_line_waits_for_newline);
	RUN(test_crlf_is_passed_through);
	RUN(test_last_line_without_newline_counts_at_finish);
	RUN(test_overlong_line_is_reported_once_and_skipped);
	RUN(test_overlong_line_in_pieces_is_bounded);
	RUN(test_overlong_last_line_at_finish);
	RUN(test_lines_across_buffer_refills);
	return check_done();
}
