/*
 * Import orders: reads the order report CSV (RFC 4180: quoted fields may hold commas,
 * doubled quotes and line breaks) and turns each row into an `order` record at its
 * creation time and, when it was paid, a `pay` record at its payment time. Closed and
 * unpaid orders are decided here (docs/import.md): an order counts as placed whatever
 * became of it; only a payment time makes a payment.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/import_orders.h"
#include "chatlogd/log.h"
#include "chatlogd/record.h"
#include "chatlogd/util.h"

enum column {
	COLUMN_ORDER,
	COLUMN_BUYER,
	COLUMN_AMOUNT,
	COLUMN_STATUS,
	COLUMN_CREATED,
	COLUMN_PAID,
	COLUMN_SHOP,
	COLUMNS
};

/* One CSV record: its fields packed NUL-separated in text. */
struct row {
	char *text;
	size_t len, cap;
	size_t *starts;
	size_t fields, fields_cap;
	size_t first_line, lines;
	int unterminated;
};

void import_orders_defaults(struct import_order_options *options)
{
	*options = (struct import_order_options){
	    .columns =
	        {
	            .order = "订单编号",
	            .buyer = "买家会员名",
	            .amount = "买家实际支付金额",
	            .status = "订单状态",
	            .created = "订单创建时间",
	            .paid = "订单付款时间",
	            .shop = "店铺名称",
	        },
	    .closed_status = "交易关闭",
	};
}

static void row_put(struct row *row, char c)
{
	if (row->len + 1 >= row->cap) {
		row->cap = row->cap ? row->cap * 2 : 1024;
		row->text = xreallocarray(row->text, row->cap, 1);
	}
	row->text[row->len++] = c;
}

static void row_start_field(struct row *row)
{
	if (row->fields == row->fields_cap) {
		row->fields_cap = row->fields_cap ? row->fields_cap * 2 : 64;
		row->starts = xreallocarray(row->starts, row->fields_cap, sizeof(*row->starts));
	}
	row->starts[row->fields++] = row->len;
}

/* Reads the record starting at line *next, across lines while a quote is open. */
static void read_row(const struct import_input *input, size_t *next, struct row *row)
{
	int quoted = 0, field_start = 1;

	row->len = 0;
	row->fields = 0;
	row->first_line = *next + 1;
	row->lines = 0;
	row->unterminated = 0;
	row_start_field(row);
	while (*next < input->count) {
		const struct import_line *line = &input->lines[(*next)++];
		row->lines++;
		for (size_t i = 0; i < line->len; i++) {
			char c = line->text[i];
			if (quoted) {
				if (c != '"')
					row_put(row, c);
				else if (i + 1 < line->len && line->text[i + 1] == '"')
					row_put(row, line->text[++i]);
				else
					quoted = 0;
			} else if (c == ',') {
				row_put(row, '\0');
				row_start_field(row);
				field_start = 1;
				continue;
			} else if (c == '"' && field_start) {
				quoted = 1;
			} else {
				row_put(row, c);
			}
			field_start = 0;
		}
		if (!quoted)
			break;
		row_put(row, '\n');
	}
	row->unterminated = quoted;
	row_put(row, '\0');
}

/* Field i of row, trimmed, with a spreadsheet's ="..." wrapper (kept so Excel does not
 * round a long order number) taken off. Modifies the row. */
static char *cell(struct row *row, size_t i)
{
	char *s = row->text + row->starts[i];
	size_t len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	while (*s == ' ' || *s == '\t') {
		s++;
		len--;
	}
	if (len >= 3 && s[0] == '=' && s[1] == '"' && s[len - 1] == '"') {
		s[len - 1] = '\0';
		s += 2;
	}
	return s;
}

int import_orders_is_header(const struct import_order_options *options, const char *line,
                            size_t len)
{
	const char *name = options->columns.order;
	return name != NULL && memmem(line, len, name, strlen(name)) != NULL &&
	       memchr(line, ',', len) != NULL;
}

/* Amount in yuan as the report writes it, a leading ¥ or ￥ allowed. */
static int parse_amount(const char *s, int64_t *fen)
{
	if (strncmp(s, "\xC2\xA5", 2) == 0)
		s += 2;
	else if (strncmp(s, "\xEF\xBF\xA5", 3) == 0)
		s += 3;
	if (*s == '\0') {
		*fen = 0;
		return 0;
	}
	return record_parse_amount(s, strlen(s), fen);
}

static void add(struct import_batch *batch, enum import_kind kind, int64_t ts_ms, const char *shop,
                const char *buyer, const char *order, int64_t fen, size_t line)
{
	struct import_record_fields f = {
	    .kind = kind,
	    .ts_ms = ts_ms,
	    .shop = shop,
	    .buyer = buyer,
	    .order = order,
	    .amount_fen = fen,
	    .line = line,
	};
	import_batch_add(batch, &f);
}

/* Reports a row that gives no record; returns -1 for the caller to return. */
static int row_error(struct import_batch *batch, const struct row *row, const char *reason,
                     const char *value)
{
	import_batch_error(batch, row->first_line, "%s%s%s%s", reason, value ? " \"" : "",
	                   value ? value : "", value ? "\"" : "");
	import_batch_lines(batch, IMPORT_LINE_ERROR, row->lines);
	return -1;
}

/* One data row: its records, or the reason it has none. */
static int parse_row(struct import_batch *batch, const struct import_order_options *options,
                     struct row *row, const long *index, size_t header_fields)
{
	const char *value[COLUMNS] = {0};
	int64_t created, paid = 0, fen = 0;
	int closed;

	if (row->unterminated)
		return row_error(batch, row, "quoted field not closed before the end of the file",
		                 NULL);
	if (row->fields != header_fields)
		return row_error(batch, row, "number of fields differs from the header's", NULL);
	for (int c = 0; c < COLUMNS; c++)
		value[c] = index[c] >= 0 ? cell(row, (size_t)index[c]) : "";
	const char *shop = value[COLUMN_SHOP][0] ? value[COLUMN_SHOP] : options->shop;
	if (value[COLUMN_ORDER][0] == '\0')
		return row_error(batch, row, "no order number", NULL);
	if (value[COLUMN_BUYER][0] == '\0')
		return row_error(batch, row, "no buyer", NULL);
	if (shop == NULL)
		return row_error(batch, row, "no shop: the report has no shop column; pass --shop",
		                 NULL);
	if (import_parse_local_time(value[COLUMN_CREATED], strlen(value[COLUMN_CREATED]),
	                            &created) < 0)
		return row_error(batch, row, "bad creation time", value[COLUMN_CREATED]);
	int is_paid = value[COLUMN_PAID][0] != '\0';
	if (is_paid &&
	    import_parse_local_time(value[COLUMN_PAID], strlen(value[COLUMN_PAID]), &paid) < 0)
		return row_error(batch, row, "bad payment time", value[COLUMN_PAID]);
	if (parse_amount(value[COLUMN_AMOUNT], &fen) < 0)
		return row_error(batch, row, "bad amount", value[COLUMN_AMOUNT]);
	closed =
	    options->closed_status && strcmp(value[COLUMN_STATUS], options->closed_status) == 0;
	if (closed && options->skip_closed) {
		import_batch_lines(batch, IMPORT_LINE_SKIPPED, row->lines);
		import_batch_count(batch, IMPORT_COUNT_CLOSED_SKIPPED, 1);
		return 0;
	}
	import_batch_lines(batch, IMPORT_LINE_ORDER, row->lines);
	add(batch, IMPORT_KIND_ORDER, created, shop, value[COLUMN_BUYER], value[COLUMN_ORDER], -1,
	    row->first_line);
	if (is_paid)
		add(batch, IMPORT_KIND_PAY, paid, shop, value[COLUMN_BUYER], value[COLUMN_ORDER],
		    fen, row->first_line);
	if (closed)
		import_batch_count(
		    batch, is_paid ? IMPORT_COUNT_CLOSED_PAID : IMPORT_COUNT_CLOSED_UNPAID, 1);
	else if (!is_paid)
		import_batch_count(batch, IMPORT_COUNT_UNPAID, 1);
	return 0;
}

/* Finds the configured columns in the header row; -1 when a required one is missing. */
static int map_columns(struct import_batch *batch, const struct import_order_options *options,
                       struct row *header, long *index)
{
	const char *names[COLUMNS] = {
	    [COLUMN_ORDER] = options->columns.order,     [COLUMN_BUYER] = options->columns.buyer,
	    [COLUMN_AMOUNT] = options->columns.amount,   [COLUMN_STATUS] = options->columns.status,
	    [COLUMN_CREATED] = options->columns.created, [COLUMN_PAID] = options->columns.paid,
	    [COLUMN_SHOP] = options->columns.shop,
	};
	for (int c = 0; c < COLUMNS; c++) {
		index[c] = -1;
		for (size_t f = 0; names[c] != NULL && f < header->fields; f++)
			if (strcmp(cell(header, f), names[c]) == 0) {
				index[c] = (long)f;
				break;
			}
		int required = c != COLUMN_STATUS && c != COLUMN_SHOP;
		if (index[c] < 0 && required) {
			import_batch_error(
			    batch, header->first_line,
			    "no column \"%s\" in the header; the whole file is skipped "
			    "(--column sets the names)",
			    names[c] ? names[c] : "");
			return -1;
		}
	}
	return 0;
}

void import_orders_parse(const struct import_input *input,
                         const struct import_order_options *options, struct import_batch *batch)
{
	struct row row = {0};
	long index[COLUMNS];
	size_t next = 0, header_fields = 0;
	int have_header = 0, broken = 0;

	while (next < input->count) {
		const struct import_line *line = &input->lines[next];
		if (line->bad_encoding) {
			import_batch_error(batch, next + 1,
			                   "not valid text in the file's encoding");
			import_batch_lines(batch, IMPORT_LINE_ERROR, 1);
			next++;
			continue;
		}
		if (line->len == 0 || strspn(line->text, " \t") == line->len) {
			import_batch_lines(batch, IMPORT_LINE_BLANK, 1);
			next++;
			continue;
		}
		if (broken) {
			import_batch_lines(batch, IMPORT_LINE_ERROR, 1);
			next++;
			continue;
		}
		read_row(input, &next, &row);
		if (!have_header) {
			have_header = 1;
			header_fields = row.fields;
			if (map_columns(batch, options, &row, index) < 0) {
				broken = 1;
				import_batch_lines(batch, IMPORT_LINE_ERROR, row.lines);
			} else {
				import_batch_lines(batch, IMPORT_LINE_LAYOUT, row.lines);
			}
			continue;
		}
		parse_row(batch, options, &row, index, header_fields);
	}
	free(row.text);
	free(row.starts);
}
