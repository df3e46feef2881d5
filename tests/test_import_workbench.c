/*
 * Tests of the Qianniu workbench copy parser (daemon/import_workbench.c) and the
 * conversation rules it shares with the chat page (daemon/import_chat.c): headers with
 * and without a space, multi-line text, read status, recalls, transfers, cards, roles.
 */
#include "check.h"
#include "import_helpers.h"

#include "chatlogd/import_chat.h"
#include "chatlogd/import_workbench.h"

static const struct import_roles default_roles = {.transfer_idle_ms = 600000};

/* Parses text with roles; the caller frees the batch. */
static struct import_batch *parse(const char *text, const struct import_roles *roles)
{
	struct import_input *input = import_test_input(text);
	struct import_batch *batch = import_batch_new();
	import_batch_begin_input(batch, "test.txt");
	import_workbench_parse(input, roles, batch);
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

static void test_glued_name_and_date_is_a_header(void)
{
	struct import_batch *b = parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n"
	                               "店:小美2026-11-24 10:00:04\r\n在的\r\n",
	                               &default_roles);
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_STR(rec(b, 1)->agent, "店:小美");
	CHECK_INT(rec(b, 1)->from, IMPORT_FROM_AGENT);
	CHECK_STR(rec(b, 1)->shop, "店");
	CHECK_STR(rec(b, 0)->buyer, "tb_b1");
	CHECK_INT(rec(b, 1)->ts_ms - rec(b, 0)->ts_ms, 4000);
	import_batch_free(b);
}

static void test_name_ending_in_digits_glued_to_date(void)
{
	struct import_batch *b = parse("店:小美 2026-11-24 10:00:00\r\n你好\r\n"
	                               "小鱼儿20212026-11-24 10:00:01\r\n在\r\n",
	                               &default_roles);
	CHECK_STR(import_test_field(rec(b, 1)->buyer), "小鱼儿2021");
	CHECK_INT(rec(b, 1)->from, IMPORT_FROM_BUYER);
	import_batch_free(b);
}

static void test_multi_line_text_joined_with_newlines(void)
{
	struct import_batch *b =
	    parse("tb_b1 2026-11-24 10:00:00\r\n第一行\r\n第二行  \r\n第三行\r\n店:小美 2026-11-24 "
	          "10:00:09\r\n好的\r\n",
	          &default_roles);
	CHECK_STR(rec(b, 0)->text, "第一行\n第二行\n第三行");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_MESSAGE), 6);
	import_batch_free(b);
}

static void test_read_status_lines_are_not_text(void)
{
	struct import_batch *b =
	    parse("店:小美 2026-11-24 10:00:00\r\n在的\r\n已读\r\ntb_b1 2026-11-24 10:00:09\r\n好"
	          "\r\n未读\r\n发送中\r\n",
	          &default_roles);
	CHECK_STR(rec(b, 0)->text, "在的");
	CHECK_STR(rec(b, 1)->text, "好");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_STATUS), 3);
	import_batch_free(b);
}

static void test_recall_after_text_takes_back_the_senders_last_message(void)
{
	struct import_batch *b = parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n"
	                               "店:小美 2026-11-24 10:00:04\r\n发中通\r\n"
	                               "tb_b1 2026-11-24 10:00:05\r\n好\r\n"
	                               "店:小美 撤回了一条消息\r\n"
	                               "店:小美 2026-11-24 10:00:08\r\n发韵达\r\n",
	                               &default_roles);
	CHECK_INT(import_batch_record_count(b), 3);
	CHECK_STR(rec(b, 2)->text, "发韵达");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_RECALLED), 3);
	CHECK_INT(import_batch_count_of(b, IMPORT_COUNT_RECALLED_MSGS), 1);
	CHECK_INT(import_batch_count_of(b, IMPORT_COUNT_AGENT_MSGS), 1);
	import_batch_free(b);
}

static void test_recall_notice_under_its_header_is_no_message(void)
{
	struct import_batch *b = parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n"
	                               "tb_b1 2026-11-24 10:00:02\r\ntb_b1 撤回了一条消息\r\n",
	                               &(struct import_roles){.shop = "店"});
	CHECK_INT(import_batch_record_count(b), 1);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_RECALLED), 2);
	import_batch_free(b);
}

static void test_recall_of_a_message_not_in_the_export_is_the_notice_alone(void)
{
	struct import_batch *b =
	    parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n店:阿杰 撤回了一条消息\r\n",
	          &(struct import_roles){.shop = "店"});
	CHECK_INT(import_batch_record_count(b), 1);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_RECALLED), 1);
	import_batch_free(b);
}

static void test_transfer_line_credits_the_next_agent(void)
{
	struct import_batch *b = parse("当前用户来自 手机淘宝\r\n由 服务助手 转交给 店:阿杰\r\n"
	                               "tb_b1 2026-11-24 10:00:00\r\n在吗\r\n"
	                               "店:阿杰 2026-11-24 10:00:03\r\n在\r\n",
	                               &default_roles);
	CHECK_STR(import_test_field(rec(b, 0)->agent), "店:阿杰");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_TRANSFER), 1);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_SYSTEM), 1);
	import_batch_free(b);
}

static void test_transfer_header_and_its_note(void)
{
	struct import_batch *b = parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n"
	                               "店:小美 --> 店:阿杰 2026-11-24 10:01:00\r\n转售后\r\n"
	                               "tb_b1 2026-11-24 10:05:00\r\n改地址\r\n",
	                               &default_roles);
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_STR(import_test_field(rec(b, 0)->agent), "");
	CHECK_STR(import_test_field(rec(b, 1)->agent), "店:阿杰");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_TRANSFER), 2);
	import_batch_free(b);
}

static void test_transfer_expires_after_transfer_idle(void)
{
	struct import_batch *b =
	    parse("由 服务助手 转交给 店:阿杰\r\ntb_b1 2026-11-24 10:00:00\r\n在吗"
	          "\r\ntb_b1 2026-11-24 10:10:01\r\n还在吗\r\n",
	          &default_roles);
	CHECK_STR(import_test_field(rec(b, 0)->agent), "店:阿杰");
	CHECK_STR(import_test_field(rec(b, 1)->agent), "");
	import_batch_free(b);
}

static void test_product_card_alone_is_no_message(void)
{
	struct import_batch *b = parse("tb_b1 2026-11-24 10:00:00\r\n"
	                               "https://item.taobao.com/item.htm?id=1\r\n¥59.90\r\n"
	                               "tb_b1 2026-11-24 10:00:05\r\n这个有货吗\r\n￥59.90\r\n"
	                               "店:小美 2026-11-24 10:00:06\r\n有\r\n",
	                               &default_roles);
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_STR(rec(b, 0)->text, "这个有货吗");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_CARD), 4);
	import_batch_free(b);
}

static void test_listed_agent_gets_the_shop_prefix(void)
{
	const char *agents[] = {"小美"};
	struct import_roles roles = {.shop = "店", .agents = agents, .agent_count = 1};
	struct import_batch *b = parse(
	    "tb_b1 2026-11-24 10:00:00\r\n在吗\r\n小美 2026-11-24 10:00:03\r\n在\r\n", &roles);
	CHECK_STR(import_test_field(rec(b, 1)->agent), "店:小美");
	CHECK_INT(rec(b, 1)->from, IMPORT_FROM_AGENT);
	import_batch_free(b);
}

static void test_bot_sender(void)
{
	const char *bots[] = {"店:店小蜜"};
	struct import_roles roles = {.bots = bots, .bot_count = 1};
	struct import_batch *b =
	    parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n店:店小蜜 2026-11-24 10:00:01\r\n您好\r\n",
	          &roles);
	CHECK_INT(rec(b, 1)->from, IMPORT_FROM_BOT);
	CHECK_STR(import_test_field(rec(b, 1)->agent), "店:店小蜜");
	import_batch_free(b);
}

static void test_third_person_is_an_error_with_its_lines(void)
{
	struct import_batch *b =
	    parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n路人 2026-11-24 "
	          "10:00:01\r\n一\r\n二\r\n店:小美 2026-11-24 10:00:02\r\n在\r\n",
	          &default_roles);
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_ERROR), 3);
	import_batch_free(b);
}

static void test_no_shop_is_an_error(void)
{
	struct import_batch *b = parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n", &default_roles);
	CHECK_INT(import_batch_record_count(b), 0);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_ERROR), 2);
	import_batch_free(b);
}

static void test_impossible_date_header_takes_its_lines_along(void)
{
	struct import_batch *b = parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n"
	                               "tb_b1 2026-02-30 10:00:00\r\n日期不存在\r\n",
	                               &(struct import_roles){.shop = "店"});
	CHECK_INT(import_batch_record_count(b), 1);
	CHECK_STR(rec(b, 0)->text, "在吗");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_ERROR), 2);
	import_batch_free(b);
}

static void test_text_before_any_header_is_an_error(void)
{
	struct import_batch *b = parse("你好\r\ntb_b1 2026-11-24 10:00:00\r\n在吗\r\n",
	                               &(struct import_roles){.shop = "店"});
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_ERROR), 1);
	CHECK_INT(import_batch_record_count(b), 1);
	import_batch_free(b);
}

static void test_crossing_midnight_keeps_each_date(void)
{
	struct import_batch *b = parse("tb_b1 2026-11-24 23:59:58\r\n在吗\r\n"
	                               "店:小美 2026-11-25 00:00:03\r\n在\r\n",
	                               &default_roles);
	CHECK_INT(rec(b, 1)->ts_ms - rec(b, 0)->ts_ms, 5000);
	char ts[30];
	timefmt_format_rfc3339(rec(b, 1)->ts_ms, ts);
	CHECK_STR(ts, "2026-11-25T00:00:03.000+08:00");
	import_batch_free(b);
}

static void test_same_words_twice_in_one_second_get_two_ids(void)
{
	struct import_batch *b = parse("tb_b1 2026-11-24 10:00:00\r\n在吗\r\n"
	                               "tb_b1 2026-11-24 10:00:00\r\n在吗\r\n",
	                               &(struct import_roles){.shop = "店"});
	const char *id0 = NULL, *id1 = NULL;
	import_batch_record(b, 0, &id0);
	import_batch_record(b, 1, &id1);
	CHECK(id0 != NULL && id1 != NULL && strcmp(id0, id1) != 0);
	import_batch_free(b);
}

int main(void)
{
	RUN(test_glued_name_and_date_is_a_header);
	RUN(test_name_ending_in_digits_glued_to_date);
	RUN(test_multi_line_text_joined_with_newlines);
	RUN(test_read_status_lines_are_not_text);
	RUN(test_recall_after_text_takes_back_the_senders_last_message);
	RUN(test_recall_notice_under_its_header_is_no_message);
	RUN(test_recall_of_a_message_not_in_the_export_is_the_notice_alone);
	RUN(test_transfer_line_credits_the_next_agent);
	RUN(test_transfer_header_and_its_note);
	RUN(test_transfer_expires_after_transfer_idle);
	RUN(test_product_card_alone_is_no_message);
	RUN(test_listed_agent_gets_the_shop_prefix);
	RUN(test_bot_sender);
	RUN(test_third_person_is_an_error_with_its_lines);
	RUN(test_no_shop_is_an_error);
	RUN(test_impossible_date_header_takes_its_lines_along);
	RUN(test_text_before_any_header_is_an_error);
	RUN(test_crossing_midnight_keeps_each_date);
	RUN(test_same_words_twice_in_one_second_get_two_ids);
	return check_done();
}
