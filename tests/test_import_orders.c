/*
 * Tests of the Taobao order report parser (daemon/import_orders.c): order and pay
 * records, closed and unpaid orders, CSV quoting, GBK, configurable columns, errors.
 */
#include "check.h"
#include "import_helpers.h"

#include <iconv.h>

#include "chatlogd/import_orders.h"

#define HEADER                                                                                     \
	"订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,订单付款时间,店铺名称\r\n"

static struct import_batch *parse_with(const char *text, size_t len,
                                       const struct import_order_options *options)
{
	timefmt_set_timezone("Asia/Shanghai");
	struct import_input *input =
	    import_input_from_buffer("orders.csv", text, len, IMPORT_ENCODING_AUTO);
	struct import_batch *batch = import_batch_new();
	import_batch_begin_input(batch, "orders.csv");
	import_orders_parse(input, options, batch);
	CHECK_INT(import_batch_line_total(batch), input->count);
	import_batch_finish(batch);
	import_input_free(input);
	return batch;
}

static struct import_batch *parse(const char *text)
{
	struct import_order_options options;
	import_orders_defaults(&options);
	return parse_with(text, strlen(text), &options);
}

static const struct import_record_fields *rec(struct import_batch *b, size_t i)
{
	static const struct import_record_fields none = {0};
	const struct import_record_fields *f = import_batch_record(b, i, NULL);
	return f ? f : &none;
}

static void test_paid_order_gives_order_and_pay(void)
{
	struct import_batch *b = parse(
	    HEADER
	    "=\"1001\",tb_b1,59.90,交易成功,2026-11-24 10:03:00,2026-11-24 10:05:00,青禾\r\n");
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_INT(rec(b, 0)->kind, IMPORT_KIND_ORDER);
	CHECK_STR(import_test_field(rec(b, 0)->order), "1001");
	CHECK_INT(rec(b, 0)->amount_fen, -1);
	CHECK_INT(rec(b, 1)->kind, IMPORT_KIND_PAY);
	CHECK_INT(rec(b, 1)->amount_fen, 5990);
	CHECK_INT(rec(b, 1)->ts_ms - rec(b, 0)->ts_ms, 120000);
	CHECK_STR(import_test_field(rec(b, 1)->shop), "青禾");
	import_batch_free(b);
}

static void test_closed_unpaid_order_is_an_order_only(void)
{
	struct import_batch *b =
	    parse(HEADER "1002,tb_b2,0.00,交易关闭,2026-11-24 10:03:00,,青禾\r\n");
	CHECK_INT(import_batch_record_count(b), 1);
	CHECK_INT(rec(b, 0)->kind, IMPORT_KIND_ORDER);
	CHECK_INT(import_batch_count_of(b, IMPORT_COUNT_CLOSED_UNPAID), 1);
	import_batch_free(b);
}

static void test_closed_after_payment_keeps_its_payment(void)
{
	struct import_batch *b =
	    parse(HEADER "1003,tb_b3,10,交易关闭,2026-11-24 10:03:00,2026-11-24 10:04:00,青禾\r\n");
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_INT(import_batch_count_of(b, IMPORT_COUNT_CLOSED_PAID), 1);
	import_batch_free(b);
}

static void test_closed_skip_leaves_closed_orders_out(void)
{
	struct import_order_options options;
	const char *text = HEADER "1002,tb_b2,0.00,交易关闭,2026-11-24 10:03:00,,青禾\r\n"
	                          "1004,tb_b4,5,等待买家付款,2026-11-24 10:03:00,,青禾\r\n";
	import_orders_defaults(&options);
	options.skip_closed = 1;
	struct import_batch *b = parse_with(text, strlen(text), &options);
	CHECK_INT(import_batch_record_count(b), 1);
	CHECK_STR(import_test_field(rec(b, 0)->order), "1004");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_SKIPPED), 1);
	CHECK_INT(import_batch_count_of(b, IMPORT_COUNT_UNPAID), 1);
	import_batch_free(b);
}

static void test_quoted_fields_with_commas_quotes_and_line_breaks(void)
{
	struct import_batch *b =
	    parse("订单编号,备注,买家会员名,买家实际支付金额,订单状态,订单创建时间,"
	          "订单付款时间,店铺名称\r\n"
	          "1005,\"要白色,\"\"M\"\"码\r\n尽快发\",tb_b5,\"1,2\",交易成功,"
	          "2026/11/24 9:03,2026/11/24 9:04,青禾\r\n");
	/* "1,2" is no amount: the row is an error that took both its lines. */
	CHECK_INT(import_batch_record_count(b), 0);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_ERROR), 2);
	import_batch_free(b);
	b = parse("订单编号,备注,买家会员名,买家实际支付金额,订单状态,订单创建时间,"
	          "订单付款时间,店铺名称\r\n"
	          "1005,\"要白色,\"\"M\"\"码\r\n尽快发\",tb_b5,12,交易成功,"
	          "2026/11/24 9:03,2026/11/24 9:04,青禾\r\n");
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_ORDER), 2);
	CHECK_INT(rec(b, 1)->amount_fen, 1200);
	CHECK_INT(rec(b, 1)->ts_ms - rec(b, 0)->ts_ms, 60000);
	import_batch_free(b);
}

static void test_gbk_report(void)
{
	/* "订单编号,买家会员名,..." and one row, in GBK. */
	const char *utf8 =
	    HEADER "1006,小鱼,8.8,交易成功,2026-11-24 10:03:00,2026-11-24 10:03:09,青禾\r\n";
	char gbk[512];
	size_t in_left = strlen(utf8), out_left = sizeof(gbk);
	char *in = (char *)utf8, *out = gbk;
	iconv_t cd = iconv_open("GBK", "UTF-8");
	iconv(cd, &in, &in_left, &out, &out_left);
	iconv_close(cd);
	struct import_order_options options;
	import_orders_defaults(&options);
	struct import_batch *b = parse_with(gbk, sizeof(gbk) - out_left, &options);
	CHECK_INT(import_batch_record_count(b), 2);
	CHECK_STR(import_test_field(rec(b, 0)->buyer), "小鱼");
	CHECK_STR(import_test_field(rec(b, 0)->shop), "青禾");
	import_batch_free(b);
}

static void test_configured_column_names_and_shop_option(void)
{
	struct import_order_options options;
	const char *text = "订单号,会员名,实付,下单时间,付款时间\n7,tb_b7,3.5,2026-11-24 10:00,\n";
	import_orders_defaults(&options);
	options.columns.order = "订单号";
	options.columns.buyer = "会员名";
	options.columns.amount = "实付";
	options.columns.created = "下单时间";
	options.columns.paid = "付款时间";
	options.shop = "青禾";
	struct import_batch *b = parse_with(text, strlen(text), &options);
	CHECK_INT(import_batch_record_count(b), 1);
	CHECK_STR(import_test_field(rec(b, 0)->shop), "青禾");
	import_batch_free(b);
}

static void test_missing_column_makes_every_line_an_error(void)
{
	struct import_batch *b = parse("订单编号,买家会员名\r\n1,tb_b1\r\n2,tb_b2\r\n");
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_ERROR), 3);
	CHECK_INT(import_batch_record_count(b), 0);
	import_batch_free(b);
}

static void test_bad_rows_are_errors(void)
{
	struct import_batch *b = parse(HEADER "1,tb_b1,5,交易成功,昨天,,青禾\r\n"
	                                      "2,tb_b1,5,交易成功\r\n"
	                                      ",tb_b1,5,交易成功,2026-11-24 10:00:00,,青禾\r\n"
	                                      "3,tb_b1,5,交易成功,2026-11-24 10:00:00,2026-13-01 "
	                                      "00:00:00,青禾\r\n"
	                                      "4,tb_b1,-5,交易成功,2026-11-24 10:00:00,,青禾\r\n"
	                                      "合计,,,,,,\r\n"
	                                      "5,\"tb_b1,5\r\n");
	CHECK_INT(import_batch_record_count(b), 0);
	CHECK_INT(import_batch_lines_of(b, IMPORT_LINE_ERROR), 7);
	import_batch_free(b);
}

static void test_same_order_in_two_reports_has_one_id(void)
{
	struct import_batch *a =
	    parse(HEADER "1001,tb_b1,59.90,等待买家付款,2026-11-24 10:03:00,,青禾\r\n");
	struct import_batch *b = parse(
	    HEADER "1001,tb_b1,59.90,交易成功,2026-11-24 10:03:00,2026-11-24 10:05:00,青禾\r\n");
	const char *id_a = NULL, *id_b = NULL;
	import_batch_record(a, 0, &id_a);
	import_batch_record(b, 0, &id_b);
	CHECK(id_a != NULL && id_b != NULL && strcmp(id_a, id_b) == 0);
	import_batch_free(a);
	import_batch_free(b);
}

int main(void)
{
	RUN(test_paid_order_gives_order_and_pay);
	RUN(test_closed_unpaid_order_is_an_order_only);
	RUN(test_closed_after_payment_keeps_its_payment);
	RUN(test_closed_skip_leaves_closed_orders_out);
	RUN(test_quoted_fields_with_commas_quotes_and_line_breaks);
	RUN(test_gbk_report);
	RUN(test_configured_column_names_and_shop_option);
	RUN(test_missing_column_makes_every_line_an_error);
	RUN(test_bad_rows_are_errors);
	RUN(test_same_order_in_two_reports_has_one_id);
	return check_done();
}
