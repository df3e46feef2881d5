/*
 * Tests for display.c: terminal widths by wcwidth(), and the scoreboard of
 * chatlogd --output table lining up around wide names (CJK and emoji).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/counters.h"
#include "chatlogd/display.h"
#include "chatlogd/names.h"
#include "chatlogd/report.h"
#include "check.h"

static size_t width(const char *s)
{
	return display_width(s, strlen(s));
}

static void test_width_ascii_cjk_and_combining(void)
{
	CHECK_INT(width(""), 0);
	CHECK_INT(width("alice"), 5);
	CHECK_INT(width("小王"), 4);
	CHECK_INT(width("ｆｕｌｌ"), 8);  /* full-width Latin */
	CHECK_INT(width("e\xcc\x81"), 1); /* e + COMBINING ACUTE ACCENT */
	CHECK_INT(width("a\xe2\x80\x8b"
	                "b"),
	          2); /* ZERO WIDTH SPACE */
}

/* The emoji the old hand-made table counted as 1 column. */
static void test_width_emoji_two_columns(void)
{
	CHECK_INT(width("😀"), 2);             /* U+1F600 */
	CHECK_INT(width("🛒"), 2);          /* U+1F6D2 SHOPPING TROLLEY */
	CHECK_INT(width("🚀"), 2);             /* U+1F680 */
	CHECK_INT(width("⭐"), 2);             /* U+2B50 */
	CHECK_INT(width("✅"), 2);             /* U+2705 */
	CHECK_INT(width("⭐\xef\xb8\x8f"), 2); /* with VARIATION SELECTOR-16 */
	CHECK_INT(width("小王🛒"), 6);
}

static void test_width_invalid_bytes_one_column_each(void)
{
	CHECK_INT(width("a\xff"
	                "b"),
	          3);
	CHECK_INT(width("\xe5\x9c"), 2); /* a cut sequence: two stray bytes */
}

static void test_pad_fills_to_width_and_never_cuts(void)
{
	char buf[64] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (f == NULL) {
		CHECK(0);
		return;
	}
	display_pad(f, "🛒", 4);
	fputc('|', f);
	display_pad(f, "toolong", 3);
	fputc('|', f);
	fclose(f);
	CHECK_STR(buf, "🛒  |toolong|");
}

/* Display columns of line up to the end of the first number after `name`. */
static size_t column_after_number(const char *line, const char *name)
{
	const char *p = strstr(line, name);

	if (p == NULL)
		return 0;
	p += strlen(name);
	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9')
		p++;
	return display_width(line, (size_t)(p - line));
}

/*
 * Agent names with emoji and CJK: every row's inquiries column ends in the same
 * terminal column as the header's "inquiries". The old table counted 🛒, 🚀 and ✅
 * as one column each and shifted those rows left.
 */
static void test_table_columns_line_up_with_emoji_names(void)
{
	static const char *const agents[] = {"bob", "小王🛒", "🚀launch", "✅客服"};
	struct counter_table *t = counter_table_new(0);
	struct names *names = names_new();
	struct reasons reasons;
	struct ingest_stats stats = {0};
	char *text = NULL, *line, *save = NULL;
	size_t size = 0, header_column = 0, rows = 0;
	uint32_t shop;
	FILE *f;

	CHECK(t != NULL && names != NULL);
	reasons_init(&reasons);
	shop = names_intern(names, "s1", 2);
	for (size_t i = 0; i < sizeof(agents) / sizeof(agents[0]); i++) {
		uint32_t id = names_intern(names, agents[i], strlen(agents[i]));
		struct counter_row *row = counter_table_row(t, shop, id, 0);
		row->value[COUNTER_INQUIRIES] = (int64_t)(i * 37 + 1);
	}
	if ((f = open_memstream(&text, &size)) == NULL) {
		CHECK(0);
		goto end;
	}
	CHECK_INT(report_table(f, t, names, &reasons, &stats), 0);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		const char *inquiries = strstr(line, " inquiries");
		if (inquiries != NULL) {
			header_column = display_width(line, (size_t)(inquiries - line)) + 10;
			continue;
		}
		for (size_t i = 0; i < sizeof(agents) / sizeof(agents[0]); i++)
			if (strncmp(line, "  ", 2) == 0 && strstr(line, agents[i]) != NULL) {
				CHECK_INT(column_after_number(line, agents[i]), header_column);
				rows++;
			}
	}
	CHECK(header_column > 0);
	CHECK_INT(rows, 4);
end:
	free(text);
	reasons_free(&reasons);
	names_free(names);
	counter_table_free(t);
}

int main(void)
{
	CHECK_INT(display_locale_init(), 0);
	RUN(test_width_ascii_cjk_and_combining);
	RUN(test_width_emoji_two_columns);
	RUN(test_width_invalid_bytes_one_column_each);
	RUN(test_pad_fills_to_width_and_never_cuts);
	RUN(test_table_columns_line_up_with_emoji_names);
	return check_done();
}
