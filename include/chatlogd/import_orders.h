/*
 * Import orders: the Taobao seller center's order report (订单报表), a CSV with one row
 * per order, to `order` and `pay` records. Column names are configurable; decoding is
 * import_input's.
 */
#ifndef CHATLOGD_IMPORT_ORDERS_H
#define CHATLOGD_IMPORT_ORDERS_H

#include "chatlogd/import_batch.h"
#include "chatlogd/import_input.h"

/* The report's column names (borrowed). NULL shop: every row is roles' --shop. */
struct import_order_columns {
	const char *order;   /* 订单编号 */
	const char *buyer;   /* 买家会员名 */
	const char *amount;  /* 买家实际支付金额 */
	const char *status;  /* 订单状态 (optional in the file) */
	const char *created; /* 订单创建时间 */
	const char *paid;    /* 订单付款时间 */
	const char *shop;    /* 店铺名称 (optional in the file) */
};

/* What to do with the rows and the words that mark them. */
struct import_order_options {
	struct import_order_columns columns;
	const char *closed_status; /* 交易关闭 */
	int skip_closed;           /* 1: closed orders give no record at all */
	const char *shop;          /* for a report without a shop column; NULL: none */
};

/* The default column names and status word of the Taobao report. */
void import_orders_defaults(struct import_order_options *options);

/* 1 when line, a CSV header, has the order-number column of options. */
int import_orders_is_header(const struct import_order_options *options, const char *line,
                            size_t len);

/* Adds the records of input to batch and accounts for every line of it. */
void import_orders_parse(const struct import_input *input,
                         const struct import_order_options *options, struct import_batch *batch);

#endif
