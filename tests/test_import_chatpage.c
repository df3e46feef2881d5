/*
 * Tests of the Qianniu chat-record page parser (daemon/import_chatpage.c): the heading
 * naming shop and buyer, date lines, sender and time lines, midnight.
 */
#include "check.h"
#include "import_helpers.h"

#include "chatlogd/import_chat.h"
#include "chatlogd/import_chatpage.h"

static const struct import_roles roles = {.transfer_idle_ms = 600000};

static struct import_batch *parse(const char *text)
{
	struct import_input *input = import_test_input(text);
	struct import_batch *batch = import_batch_new();
	import_batch_begin_input(batch, "page.txt");
	import_chatpage_parse(input, &roles, batch);
	CHECK_INT(import_batch_line_total(batch), input->count);
	import_batch_finish(batch);
	import_input_free(input);
	return batch;
}

static const struct import_record_fields *rec(struct import_batch *b, size_t i)
{
	static const struct import_record_fields none = {0};
	const struct import_record_fields *f = import_batch_record(b, i, NULL);
	return f ? f : &none;
}

static void ts_is(int64_t ms, const char *want)
{
	char ts[30];
	timefmt_format_rfc3339(ms, ts);
	CHECK_STR(ts, want);
}

static void test_heading_names_shop_and_buyer(void)
{
	struct import_batch *b = parse("聊天记录\r\n店铺：青禾　买家：小鱼\r\n2026-11-24\r\n"
	                               "小鱼\r\n10:00:00\r\n在吗\r\n");
	CHECK_INT(import_batch_record_count(b), 1);
	CHECK_STR(import_test_field(rec(b, 0)->shop), "青禾");
	CHECK_STR(import_test_field(rec(b, 0)->buyer), "小鱼");
	CHECK_INT(rec(b, 0)->from, IMPORT_FROM_BUYER);
	ts_is(rec(b, 0)->ts_ms, "2026-11-24T10:00:00.000+08:00");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_LAYOUT), 3);
	import_batch_free(b);
}

static void test_sender_and_time_on_two_lines_with_multi_line_text(void)
{
	struct import_batch *b =
	    parse("买家:小鱼 店铺:青禾\n2026-11-24 星期二\n青禾:小美\n10:00:04\n"
	          "在的亲\n有货\n小鱼\n10:00:30\n好\n");
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_STR(import_test_field(rec(b, 0)->text), "在的亲\n有货");
	CHECK_STR(import_test_field(rec(b, 0)->agent), "青禾:小美");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_MESSAGE), 7);
	import_batch_free(b);
}

static void test_sender_and_time_on_one_line_for_known_names(void)
{
	struct import_batch *b = parse("买家：小鱼\n2026-11-24\n小鱼 10:00:00\n在吗\n青禾:小美 "
	                               "10:00:05\n在\n明天 10:00:00\n");
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_STR(import_test_field(rec(b, 1)->text), "在\n明天 10:00:00");
	import_batch_free(b);
}

static void test_a_new_date_line_crosses_midnight(void)
{
	struct import_batch *b = parse("买家：小鱼\n2026-11-24\n小鱼\n23:59:50\n在吗\n2026-11-25\n"
	                               "青禾:小美\n00:00:02\n在\n");
	ts_is(rec(b, 1)->ts_ms, "2026-11-25T00:00:02.000+08:00");
	CHECK_INT(rec(b, 1)->ts_ms - rec(b, 0)->ts_ms, 12000);
	import_batch_free(b);
}

static void test_time_going_back_under_one_date_is_the_next_day(void)
{
	struct import_batch *b =
	    parse("买家：小鱼\n2026-11-24\n小鱼\n23:59:50\n在吗\n青禾:小美\n00:00:02\n在\n");
	ts_is(rec(b, 1)->ts_ms, "2026-11-25T00:00:02.000+08:00");
	import_batch_free(b);
}

static void test_message_before_any_date_line_is_an_error(void)
{
	struct import_batch *b = parse("买家：小鱼\n小鱼\n10:00:00\n在吗\n2026-11-24\n小鱼\n10:00:"
	                               "05\n在吗在吗\n青禾:小美\n10:00:06\n在\n");
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_ERROR), 3);
	import_batch_free(b);
}

static void test_heading_words_after_the_first_date_are_text(void)
{
	struct import_batch *b =
	    parse("买家：小鱼 店铺：青禾\n2026-11-24\n小鱼\n10:00:00\n买家：我要退货\n");
	CHECK_STR(import_test_field(rec(b, 0)->text), "买家：我要退货");
	import_batch_free(b);
}

static void test_card_recall_and_status_as_in_the_workbench(void)
{
	struct import_batch *b =
	    parse("买家：小鱼\n2026-11-24\n小鱼\n10:00:00\nhttps://item.taobao.com/item.htm?id=1\n"
	          "¥59.00\n小鱼\n10:00:03\n这个有吗\n青禾:小美\n10:00:05\n有\n已读\n"
	          "青禾:小美 撤回了一条消息\n");
	CHECK_INT(import_batch_record_count(b), 1);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_CARD), 4);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_RECALLED), 4);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_STATUS), 1);
	import_batch_free(b);
}

int main(void)
{
	RUN(test_heading_names_shop_and_buyer);
	RUN(test_sender_and_time_on_two_lines_with_multi_line_text);
	RUN(test_sender_and_time_on_one_line_for_known_names);
	RUN(test_a_new_date_line_crosses_midnight);
	RUN(test_time_going_back_under_one_date_is_the_next_day);
	RUN(test_message_before_any_date_line_is_an_error);
	RUN(test_heading_words_after_the_first_date_are_text);
	RUN(test_card_recall_and_status_as_in_the_workbench);
	return check_done();
}
