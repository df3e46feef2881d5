/*
 * Tests for metrics.c's shop-level business series: one line per shop and counter,
 * the sum of its agents' rows and its own (silent orders), as Redis's agent "*";
 * sales in yuan and times in seconds written exactly,
 * lost inquiries by reason (only the reasons a shop has), and shop names with quotes,
 * backslashes and line breaks escaped as the text format requires; a render in slices
 * of any size gives the same text as one in one go, and leaves out rows added while it
 * runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "chatlogd/counters.h"
#include "chatlogd/metrics.h"
#include "chatlogd/names.h"
#include "check.h"

struct fixture {
	struct names *names;
	struct reasons reasons;
	struct counter_table *totals;
	char *text;
};

static uint32_t name(struct fixture *f, const char *s)
{
	return names_intern(f->names, s, strlen(s));
}

static void render(struct fixture *f)
{
	struct metrics_snapshot m;
	struct evbuffer *out = evbuffer_new();
	struct counter_table *shops = counter_table_new(0);
	size_t len;

	memset(&m, 0, sizeof(m));
	/* the rows as a cut brings them: folded into shops, as live.c does */
	CHECK_INT(metrics_fold(shops, NULL, f->totals), 0);
	m.shop_totals = shops;
	m.agent_totals = f->totals;
	m.names = f->names;
	m.reasons = &f->reasons;
	metrics_render(&m, out);
	len = evbuffer_get_length(out);
	f->text = calloc(1, len + 1);
	evbuffer_remove(out, f->text, len);
	evbuffer_free(out);
	counter_table_free(shops);
}

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->names = names_new();
	reasons_init(&f->reasons);
	f->totals = counter_table_new(0);
}

static void teardown(struct fixture *f)
{
	free(f->text);
	counter_table_free(f->totals);
	reasons_free(&f->reasons);
	names_free(f->names);
}

/* 1 when text holds line as a whole line. */
static int has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
			return 1;
	return 0;
}

static size_t count_prefix(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, len) == 0;
	return n;
}

static void test_shop_series_sum_the_shops_rows(void)
{
	struct fixture f;
	struct counter_row *row;
	uint32_t shop, other;

	setup(&f);
	shop = name(&f, "优衣库官方旗舰店");
	other = name(&f, "s2");
	counter_table_row(f.totals, shop, name(&f, "alice"), 0)->value[COUNTER_INQUIRIES] = 10;
	counter_table_row(f.totals, other, name(&f, "bob"), 0)->value[COUNTER_INQUIRIES] = 7;
	/* the shop's own row holds its silent orders */
	counter_table_row(f.totals, shop, NAME_WHOLE_SHOP, 0)->value[COUNTER_SILENT_SALES_FEN] =
	    9900;
	row = counter_table_row(f.totals, shop, name(&f, "carol"), 0);
	row->value[COUNTER_INQUIRIES] = 41;
	row->value[COUNTER_POST_SALE] = 4;
	row->value[COUNTER_REPLIED] = 52;
	row->value[COUNTER_FIRST_RESPONSES] = 48;
	row->value[COUNTER_FRT_MS_SUM] = 619201;
	row->value[COUNTER_ORDERED] = 19;
	row->value[COUNTER_PAID] = 17;
	row->value[COUNTER_SALES_FEN] = 589105;
	row->value[COUNTER_LOST] = 32;
	render(&f);
	CHECK(has_line(f.text, "# TYPE chatlogd_shop_inquiries_total counter"));
	CHECK(has_line(f.text, "chatlogd_shop_inquiries_total{shop=\"优衣库官方旗舰店\"} 51"));
	CHECK(has_line(f.text, "chatlogd_shop_post_sale_total{shop=\"优衣库官方旗舰店\"} 4"));
	CHECK(has_line(f.text, "chatlogd_shop_replied_total{shop=\"优衣库官方旗舰店\"} 52"));
	CHECK(has_line(
	    f.text,
	    "chatlogd_shop_first_response_seconds_total{shop=\"优衣库官方旗舰店\"} 619.201"));
	CHECK(has_line(f.text,
	               "chatlogd_shop_ordered_inquiries_total{shop=\"优衣库官方旗舰店\"} 19"));
	CHECK(has_line(f.text, "chatlogd_shop_paid_inquiries_total{shop=\"优衣库官方旗舰店\"} 17"));
	CHECK(
	    has_line(f.text, "chatlogd_shop_sales_yuan_total{shop=\"优衣库官方旗舰店\"} 5891.05"));
	CHECK(has_line(f.text,
	               "chatlogd_shop_silent_sales_yuan_total{shop=\"优衣库官方旗舰店\"} 99.00"));
	CHECK(has_line(f.text, "chatlogd_shop_lost_inquiries_total{shop=\"优衣库官方旗舰店\"} 32"));
	CHECK(has_line(f.text, "chatlogd_shop_responses_total{shop=\"优衣库官方旗舰店\"} 0"));
	CHECK(has_line(f.text, "chatlogd_shop_inquiries_total{shop=\"s2\"} 7"));
	CHECK_INT(count_prefix(f.text, "chatlogd_shop_inquiries_total{"), 2);
	teardown(&f);
}

static void test_lost_by_reason_only_for_reasons_the_shop_has(void)
{
	struct fixture f;
	struct counter_row *row;
	unsigned price;

	setup(&f);
	price = reasons_intern(&f.reasons, "price");
	reasons_intern(&f.reasons, "courier");
	row = counter_table_row(f.totals, name(&f, "s1"), name(&f, "alice"), 0);
	row->value[COUNTER_LOST_REASON + price] = 9;
	row->value[COUNTER_LOST_REASON + REASON_SLOW] = 3;
	render(&f);
	CHECK(
	    has_line(f.text, "chatlogd_shop_lost_by_reason_total{shop=\"s1\",reason=\"price\"} 9"));
	CHECK(
	    has_line(f.text, "chatlogd_shop_lost_by_reason_total{shop=\"s1\",reason=\"slow\"} 3"));
	CHECK(strstr(f.text, "reason=\"courier\"") == NULL);
	CHECK(strstr(f.text, "reason=\"no_reply\"") == NULL);
	teardown(&f);
}

static void test_shop_names_are_escaped_in_labels(void)
{
	struct fixture f;

	setup(&f);
	counter_table_row(f.totals, name(&f, "a\"b\\c\nd"), name(&f, "x"), 0)
	    ->value[COUNTER_INQUIRIES] = 2;
	render(&f);
	CHECK(has_line(f.text, "chatlogd_shop_inquiries_total{shop=\"a\\\"b\\\\c\\nd\"} 2"));
	teardown(&f);
}

static void test_no_shops_no_shop_lines(void)
{
	struct fixture f;

	setup(&f);
	render(&f);
	CHECK(has_line(f.text, "# TYPE chatlogd_shop_sales_yuan_total counter"));
	CHECK_INT(count_prefix(f.text, "chatlogd_shop_"), 0);
	teardown(&f);
}

/* Many shops with two agents each and a reason, and two files: every part has rows. */
static void fill_many(struct fixture *f, unsigned shops)
{
	unsigned price = reasons_intern(&f->reasons, "price");

	for (unsigned i = 0; i < shops; i++) {
		char shop[32];
		snprintf(shop, sizeof(shop), "shop%05u", i);
		for (int a = 0; a < 2; a++) {
			struct counter_row *row = counter_table_row(
			    f->totals, name(f, shop), name(f, a ? "bob" : "alice"), 0);
			row->value[COUNTER_INQUIRIES] = i + a;
			row->value[COUNTER_FIRST_RESPONSES] = a;
			row->value[COUNTER_FRT_MS_SUM] = 1500 * a;
			row->value[COUNTER_FRT_H + 3] = a;
			row->value[COUNTER_LOST_REASON + price] = i % 3;
		}
	}
}

/* The text of out, without the heap gauge (it moves between renders). */
static char *drain(struct evbuffer *out)
{
	size_t len = evbuffer_get_length(out);
	char *text = calloc(1, len + 1), *heap;

	evbuffer_remove(out, text, len);
	if ((heap = strstr(text, "\nchatlogd_heap_in_use_bytes ")) != NULL)
		memmove(heap + 1, strchr(heap + 1, '\n') + 1, strlen(strchr(heap + 1, '\n')));
	return text;
}

static void test_sliced_render_equals_whole_render(void)
{
	static const size_t budgets[] = {1, 100, 4096, 128 * 1024};
	struct tail_file_stats files[2] = {{.path = "/var/log/a.log", .lines = 3, .bytes = 300},
	                                   {.path = "/var/log/b\"c.log", .lines = 1, .bytes = 9}};
	struct fixture f;
	struct metrics_snapshot m;
	struct counter_table *shops = counter_table_new(0);
	struct evbuffer *out = evbuffer_new();
	char *whole;

	setup(&f);
	fill_many(&f, 2000);
	CHECK_INT(metrics_fold(shops, NULL, f.totals), 0);
	memset(&m, 0, sizeof(m));
	m.files = files;
	m.file_count = 2;
	m.shop_totals = shops;
	m.agent_totals = f.totals;
	m.names = f.names;
	m.reasons = &f.reasons;
	metrics_render(&m, out);
	whole = drain(out);
	CHECK(strlen(whole) > 1000000);
	CHECK_INT(count_prefix(whole, "chatlogd_agent_first_response_seconds_count{"), 4000);
	CHECK_INT(count_prefix(whole, "chatlogd_agent_frt_average_seconds{"), 2000);
	for (size_t b = 0; b < sizeof(budgets) / sizeof(*budgets); b++) {
		struct metrics_render *r = metrics_render_new(&m);
		size_t slices = 0, longest = 0;
		char *sliced;
		int more;
		files[0].path = "changed after the render began"; /* copied */
		do {
			struct evbuffer *slice = evbuffer_new();
			more = metrics_render_next(r, slice, budgets[b]);
			if (evbuffer_get_length(slice) > longest)
				longest = evbuffer_get_length(slice);
			evbuffer_add_buffer(out, slice);
			evbuffer_free(slice);
			slices++;
		} while (more);
		metrics_render_free(r);
		files[0].path = "/var/log/a.log";
		sliced = drain(out);
		CHECK_STR(sliced, whole);
		/* a slice stops at the first row past its budget (a histogram is ~1.2 KB), or
		 * after the daemon's own series (~7 KB) */
		CHECK(longest < budgets[b] + 8192);
		CHECK(budgets[b] > 4096 || slices > strlen(whole) / (budgets[b] + 8192));
		free(sliced);
	}
	free(whole);
	evbuffer_free(out);
	counter_table_free(shops);
	teardown(&f);
}

static void test_rows_added_during_a_render_are_left_out(void)
{
	struct fixture f;
	struct metrics_snapshot m;
	struct metrics_render *r;
	struct evbuffer *out = evbuffer_new();
	char *text;

	setup(&f);
	fill_many(&f, 100);
	memset(&m, 0, sizeof(m));
	m.shop_totals = f.totals;
	m.names = f.names;
	m.reasons = &f.reasons;
	r = metrics_render_new(&m);
	CHECK_INT(metrics_render_next(r, out, 2000), 1);
	counter_table_row(f.totals, name(&f, "newcomer"), name(&f, "x"), 0)
	    ->value[COUNTER_INQUIRIES] = 1;
	while (metrics_render_next(r, out, 2000))
		;
	metrics_render_free(r);
	text = drain(out);
	CHECK(strstr(text, "newcomer") == NULL);
	CHECK_INT(count_prefix(text, "chatlogd_shop_inquiries_total{"), 200);
	CHECK_INT(count_prefix(text, "chatlogd_shop_sales_yuan_total{"), 200);
	free(text);
	evbuffer_free(out);
	teardown(&f);
}

int main(void)
{
	RUN(test_shop_series_sum_the_shops_rows);
	RUN(test_lost_by_reason_only_for_reasons_the_shop_has);
	RUN(test_shop_names_are_escaped_in_labels);
	RUN(test_no_shops_no_shop_lines);
	RUN(test_sliced_render_equals_whole_render);
	RUN(test_rows_added_during_a_render_are_left_out);
	return check_done();
}
