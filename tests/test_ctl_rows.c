/*
 * Tests for ctl_rows.c (with ctl_json.c): the scoreboard cells the dashboard shows as
 * `top` prints them, and the JSON of rows, lost reasons and alerts: always valid
 * JSON, whatever bytes the names from the logs hold, with the dashboard's "text".
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/counters.h"
#include "chatlogd/ctl_json.h"
#include "chatlogd/ctl_redis.h"
#include "chatlogd/ctl_rows.h"
#include "chatlogd/scoreboard.h"
#include "check.h"

/* A stream's text, NUL-terminated, owned by the caller. */
struct out {
	char *text;
	size_t len;
	FILE *f;
};

static struct ctl_json *begin(struct out *o, struct ctl_json *j)
{
	memset(o, 0, sizeof(*o));
	o->f = open_memstream(&o->text, &o->len);
	ctl_json_init(j, o->f);
	return j;
}

static char *end(struct out *o)
{
	fclose(o->f);
	return o->text;
}

/* The row of docs/chatlogctl.md's worked example: alice, 10 inquiries. */
static void alice(struct ctl_row *row, struct reasons *reasons, char *name)
{
	static const int64_t frt[HISTOGRAM_BUCKETS] = {1, 0, 2, 0, 2, 0, 3, 1};
	memset(row, 0, sizeof(*row));
	row->name = name;
	row->value[COUNTER_INQUIRIES] = 10;
	row->value[COUNTER_POST_SALE] = 2;
	row->value[COUNTER_REPLIED] = 11;
	row->value[COUNTER_FIRST_RESPONSES] = 9;
	row->value[COUNTER_FRT_MS_SUM] = 44950; /* 4994.4 ms: 5.0s */
	row->value[COUNTER_RESPONSES] = 8;
	row->value[COUNTER_RESPONSE_MS_SUM] = 100000;
	row->value[COUNTER_ORDERED] = 3;
	row->value[COUNTER_PAID] = 3;
	row->value[COUNTER_SALES_FEN] = 38400;
	row->value[COUNTER_LOST] = 7;
	memcpy(row->value + COUNTER_FRT_H, frt, sizeof(frt));
	row->value[COUNTER_LOST_REASON + reasons_intern(reasons, "price")] = 4;
	row->value[COUNTER_LOST_REASON + REASON_NO_REPLY] = 1;
	row->value[COUNTER_LOST_REASON + reasons_intern(reasons, "out_of_stock")] = 2;
}

static void test_cells_as_top_prints_them(void)
{
	struct reasons reasons;
	struct ctl_row row;
	struct ctl_row_text t;

	reasons_init(&reasons);
	alice(&row, &reasons, "alice");
	ctl_rows_text(row.value, &t);
	CHECK_STR(t.frt_avg, "5.0s");
	CHECK_STR(t.frt_p50, "<=5s");
	CHECK_STR(t.frt_p90, "<=10s");
	CHECK_STR(t.art_avg, "12.5s");
	CHECK_STR(t.art_p50, "-");
	CHECK_STR(t.reply, "91.7%"); /* 11 / (10 + 2) */
	CHECK_STR(t.conversion, "30.0%");
	CHECK_STR(t.pay_conversion, "100.0%");
	CHECK_STR(t.aov, "128.00");
	CHECK_STR(t.sales, "384.00");
	memset(row.value, 0, sizeof(row.value));
	ctl_rows_text(row.value, &t);
	CHECK_STR(t.frt_avg, "-");
	CHECK_STR(t.reply, "-");
	CHECK_STR(t.aov, "-");
	CHECK_STR(t.sales, "0.00");
	reasons_free(&reasons);
}

static void test_row_json_with_text_and_a_hostile_name(void)
{
	char name[] = "</script><b>\"x\"\\\n\x01\xff";
	struct reasons reasons;
	struct ctl_row row;
	struct ctl_json j;
	struct out o;
	char *text;

	reasons_init(&reasons);
	alice(&row, &reasons, name);
	begin(&o, &j);
	ctl_json_open(&j, NULL, '{');
	ctl_rows_json_members(&j, &reasons, &row);
	ctl_rows_json_text(&j, "text", row.value);
	ctl_json_close(&j, '}');
	text = end(&o);
	CHECK(scoreboard_json_valid(text, strlen(text)));
	CHECK(strstr(text, "\"agent\": \"</script><b>\\\"x\\\"\\\\\\n\\u0001\\ufffd\"") != NULL);
	CHECK(strchr(text, '\n') == NULL);
	CHECK(strstr(text, "\"frt_avg_ms\": 4994") != NULL);
	CHECK(strstr(text, "\"reply_rate\": 0.9167") != NULL);
	CHECK(strstr(text,
	             "\"lost_reasons\": {\"price\": 4, \"out_of_stock\": 2, \"no_reply\": 1}") !=
	      NULL);
	CHECK(strstr(text, "\"text\": {\"frt_avg\": \"5.0s\", \"frt_p50\": \"<=5s\"") != NULL);
	CHECK(strstr(text, "\"aov\": \"128.00\", \"sales\": \"384.00\"}") != NULL);
	free(text);
	reasons_free(&reasons);
}

static void test_reasons_with_labels_and_shares(void)
{
	struct reasons reasons;
	struct ctl_row row;
	struct ctl_json j;
	struct out o;
	char *text;

	reasons_init(&reasons);
	alice(&row, &reasons, "alice");
	begin(&o, &j);
	ctl_json_open(&j, NULL, '{');
	ctl_rows_json_reasons(&j, "lost_reasons", &reasons, NULL, row.value);
	ctl_json_close(&j, '}');
	text = end(&o);
	CHECK_STR(text,
	          "{\"lost_reasons\": [{\"reason\": \"price\", \"count\": 4, \"share\": 0.5714}, "
	          "{\"reason\": \"out_of_stock\", \"count\": 2, \"share\": 0.2857}, "
	          "{\"reason\": \"no_reply\", \"label\": \"未回复\", \"count\": 1, "
	          "\"share\": 0.1429}]}");
	free(text);
	CHECK_STR(ctl_rows_reason_label(NULL, "slow"), "响应慢");
	CHECK(ctl_rows_reason_label(NULL, "price") == NULL);
	reasons_free(&reasons);
}

static void test_alerts_json_keeps_valid_messages_and_quotes_the_rest(void)
{
	char good[] = "{\"type\":\"raised\",\n\"agent\":\"a\"}", bad[] = "<b>not json";
	struct ctl_alert alerts[2] = {
	    {.shop = "s1", .agent = "a", .json = good, .json_len = sizeof(good) - 1},
	    {.id = "1-0", .json = bad, .json_len = sizeof(bad) - 1},
	};
	struct ctl_json j;
	struct out o;
	char *text;

	begin(&o, &j);
	ctl_json_open(&j, NULL, '{');
	ctl_rows_json_alerts(&j, "recent", alerts, 2);
	ctl_json_close(&j, '}');
	text = end(&o);
	CHECK_STR(text, "{\"recent\": [{\"shop\": \"s1\", \"agent\": \"a\", \"alert\": "
	                "{\"type\":\"raised\", \"agent\":\"a\"}}, {\"id\": \"1-0\", \"alert\": "
	                "\"<b>not json\"}]}");
	CHECK(scoreboard_json_valid(text, strlen(text)));
	free(text);
}

int main(void)
{
	RUN(test_cells_as_top_prints_them);
	RUN(test_row_json_with_text_and_a_hostile_name);
	RUN(test_reasons_with_labels_and_shares);
	RUN(test_alerts_json_keeps_valid_messages_and_quotes_the_rest);
	return check_done();
}
