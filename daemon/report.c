/*
 * report.c owns the batch report's shape (reference.md §5) and the human scoreboard. It
 * only reads counter rows; all metric meaning lives in engine.c and counters.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/report.h"
#include "chatlogd/display.h"
#include "chatlogd/json_write.h"
#include "chatlogd/util.h"

/* One shop: its agents' rows (sorted by name) and its whole-shop row. */
struct shop_view {
	uint32_t shop;
	struct counter_row **agents;
	size_t agent_count;
	const struct counter_row *whole; /* silent orders; may be NULL */
	int64_t totals[COUNTER_WIDTH];
};

struct report_view {
	struct shop_view *shops;
	size_t shop_count;
	struct counter_row **rows; /* storage for all shops' agent arrays */
	int64_t totals[COUNTER_WIDTH];
};

static const struct names *sort_names; /* qsort has no context argument in C11 */

static int compare_rows(const void *a, const void *b)
{
	const struct counter_row *x = *(const struct counter_row *const *)a;
	const struct counter_row *y = *(const struct counter_row *const *)b;
	int c = strcmp(names_get(sort_names, x->shop), names_get(sort_names, y->shop));
	if (c != 0)
		return c;
	return strcmp(names_get(sort_names, x->agent), names_get(sort_names, y->agent));
}

static void add_row(int64_t *sum, const int64_t *value)
{
	for (size_t i = 0; i < COUNTER_WIDTH; i++)
		sum[i] += value[i];
}

/* Groups rows by shop in name order and sums the totals. */
static void view_build(struct report_view *v, struct counter_table *t, const struct names *names)
{
	size_t n = counter_table_count(t);

	memset(v, 0, sizeof(*v));
	v->rows = xcalloc(n, sizeof(*v->rows));
	v->shops = xcalloc(n, sizeof(*v->shops));
	for (size_t i = 0; i < n; i++)
		v->rows[i] = counter_table_at(t, i);
	sort_names = names;
	qsort(v->rows, n, sizeof(*v->rows), compare_rows);
	for (size_t i = 0; i < n; i++) {
		struct counter_row *row = v->rows[i];
		struct shop_view *s;
		if (v->shop_count == 0 || v->shops[v->shop_count - 1].shop != row->shop) {
			s = &v->shops[v->shop_count++];
			s->shop = row->shop;
			s->agents = &v->rows[i];
		}
		s = &v->shops[v->shop_count - 1];
		if (row->agent == NAME_WHOLE_SHOP) {
			s->whole = row;
			continue;
		}
		/* Compacts the shop's agent rows in place, skipping its "*" row. */
		if (s->agent_count == 0)
			s->agents = &v->rows[i];
		s->agents[s->agent_count++] = row;
		add_row(s->totals, row->value);
	}
	for (size_t i = 0; i < v->shop_count; i++)
		add_row(v->totals, v->shops[i].totals);
}

static void view_free(struct report_view *v)
{
	free(v->rows);
	free(v->shops);
}

/* ---- JSON ---- */

/* Writes `"key": {"sub": N, ...}` for the non-zero counters in [first, first+count);
 * nothing when all are zero. */
static void json_group(FILE *out, const char *key, const int64_t *value, unsigned first,
                       unsigned count, const struct reasons *reasons, int *need_comma)
{
	int opened = 0;

	for (unsigned i = 0; i < count; i++) {
		if (value[first + i] == 0)
			continue;
		if (opened)
			fputs(", ", out);
		else
			fprintf(out, "%s\"%s\": {", *need_comma ? ", " : "", key);
		opened = 1;
		if (first == COUNTER_LOST_REASON)
			json_write_string(out, reasons->names[i], strlen(reasons->names[i]));
		else if (i == HISTOGRAM_BUCKETS - 1)
			fputs("\"inf\"", out);
		else
			fprintf(out, "\"%" PRId64 "\"", counters_bucket_upper(i));
		fprintf(out, ": %" PRId64, value[first + i]);
	}
	if (opened) {
		fputc('}', out);
		*need_comma = 1;
	}
}

static void json_counters(FILE *out, const int64_t *value, const struct reasons *reasons)
{
	struct derived_field fields[DERIVED_FIELDS];
	unsigned derived;
	int comma = 0;

	fputc('{', out);
	for (unsigned id = 0; id < COUNTER_WIDTH; id++) {
		char name[64];
		/* silent orders are the shop's own fields, beside its totals */
		if (value[id] == 0 || !counters_is_plain(id) || id == COUNTER_SILENT_ORDERS ||
		    id == COUNTER_SILENT_SALES_FEN)
			continue;
		fprintf(out, "%s\"%s\": %" PRId64, comma ? ", " : "",
		        counters_field_name(id, NULL, name, sizeof(name)), value[id]);
		comma = 1;
	}
	json_group(out, "lost_reasons", value, COUNTER_LOST_REASON, reasons->count, reasons,
	           &comma);
	json_group(out, "frt_h", value, COUNTER_FRT_H, HISTOGRAM_BUCKETS, reasons, &comma);
	json_group(out, "resp_h", value, COUNTER_RESP_H, HISTOGRAM_BUCKETS, reasons, &comma);

	derived = counters_derived_fields(value, fields);
	for (unsigned i = 0; i < derived; i++) {
		fprintf(out, "%s\"%s\": %s", comma ? ", " : "", fields[i].name, fields[i].text);
		comma = 1;
	}
	fputc('}', out);
}

int report_json(FILE *out, struct counter_table *folded, const struct names *names,
                const struct reasons *reasons, const struct ingest_stats *stats)
{
	struct report_view v;

	view_build(&v, folded, names);
	fprintf(out,
	        "{\"input\": {\"lines\": %" PRIu64 ", \"records\": %" PRIu64
	        ", \"errors\": %" PRIu64 "},\n \"totals\": ",
	        stats->lines, stats->records, stats->errors);
	json_counters(out, v.totals, reasons);
	fputs(",\n \"shops\": {", out);
	for (size_t i = 0; i < v.shop_count; i++) {
		const struct shop_view *s = &v.shops[i];
		fputs(i ? ",\n  " : "\n  ", out);
		json_write_string(out, names_get(names, s->shop), names_length(names, s->shop));
		fputs(": {\"totals\": ", out);
		json_counters(out, s->totals, reasons);
		fprintf(out, ",\n   \"silent_orders\": %" PRId64 ", \"silent_sales_fen\": %" PRId64,
		        s->whole ? s->whole->value[COUNTER_SILENT_ORDERS] : 0,
		        s->whole ? s->whole->value[COUNTER_SILENT_SALES_FEN] : 0);
		fputs(",\n   \"agents\": {", out);
		for (size_t j = 0; j < s->agent_count; j++) {
			fputs(j ? ",\n    " : "\n    ", out);
			json_write_string(out, names_get(names, s->agents[j]->agent),
			                  names_length(names, s->agents[j]->agent));
			fputs(": ", out);
			json_counters(out, s->agents[j]->value, reasons);
		}
		fputs("}}", out);
	}
	fputs("}}\n", out);
	view_free(&v);
	return ferror(out) ? -1 : 0;
}

/* ---- scoreboard ---- */

static void format_ms(char *out, size_t size, int has, int64_t ms)
{
	int64_t tenths = (ms + 50) / 100; /* rounded half up, like the report */
	if (has)
		snprintf(out, size, "%" PRId64 ".%01" PRId64 "s", tenths / 10, tenths % 10);
	else
		snprintf(out, size, "-");
}

static void format_percent(char *out, size_t size, int has, int64_t e4)
{
	int64_t permille = (e4 + 5) / 10;
	if (has)
		snprintf(out, size, "%" PRId64 ".%01" PRId64 "%%", permille / 10, permille % 10);
	else
		snprintf(out, size, "-");
}

static const char *top_reason(const int64_t *value, const struct reasons *reasons)
{
	unsigned best = REASON_NONE;
	for (unsigned i = 0; i < reasons->count; i++)
		if (value[COUNTER_LOST_REASON + i] > 0 &&
		    (best == REASON_NONE ||
		     value[COUNTER_LOST_REASON + i] > value[COUNTER_LOST_REASON + best]))
			best = i;
	return best == REASON_NONE ? "-" : reasons->names[best];
}

static void table_row(FILE *out, const char *name, size_t name_width, const int64_t *v,
                      const struct reasons *reasons)
{
	struct derived d;
	char frt[32], art[32], reply[32], conv[32], pay[32], aov[32];

	counters_derive(v, &d);
	format_ms(frt, sizeof(frt), d.has_frt_avg, d.frt_avg_ms);
	format_ms(art, sizeof(art), d.has_art_avg, d.art_avg_ms);
	format_percent(reply, sizeof(reply), d.has_reply_rate, d.reply_rate_e4);
	format_percent(conv, sizeof(conv), d.has_conversion, d.conversion_e4);
	format_percent(pay, sizeof(pay), d.has_pay_conversion, d.pay_conversion_e4);
	if (d.has_aov)
		counters_format_fen(d.aov_fen, aov, sizeof(aov));
	else
		snprintf(aov, sizeof(aov), "-");
	fputs("  ", out);
	display_pad(out, name, name_width);
	fprintf(out,
	        " %9" PRId64 " %9" PRId64 " %7s %6" PRId64 " %7s %6" PRId64
	        " %7s %7s %7s %9s %6" PRId64 "  %s\n",
	        v[COUNTER_INQUIRIES], v[COUNTER_POST_SALE], frt, v[COUNTER_FRT_BREACHES], art,
	        v[COUNTER_RESPONSE_BREACHES], reply, conv, pay, aov, v[COUNTER_LOST],
	        top_reason(v, reasons));
}

int report_table(FILE *out, struct counter_table *folded, const struct names *names,
                 const struct reasons *reasons, const struct ingest_stats *stats)
{
	struct report_view v;

	view_build(&v, folded, names);
	fprintf(out, "lines %" PRIu64 "  records %" PRIu64 "  errors %" PRIu64 "\n", stats->lines,
	        stats->records, stats->errors);
	for (size_t i = 0; i < v.shop_count; i++) {
		const struct shop_view *s = &v.shops[i];
		size_t width = 8;
		for (size_t j = 0; j < s->agent_count; j++) {
			const char *name = names_get(names, s->agents[j]->agent);
			size_t w = display_width(name, strlen(name));
			if (w > width)
				width = w;
		}
		fputs("\nshop ", out);
		fputs(names_get(names, s->shop), out);
		fprintf(out, "  (silent orders %" PRId64 ")\n",
		        s->whole ? s->whole->value[COUNTER_SILENT_ORDERS] : 0);
		fputs("  ", out);
		display_pad(out, "agent", width);
		fputs(" inquiries post-sale FRT avg   late ART avg   late   reply    conv  paid/o  "
		      "     AOV   "
		      "lost  top lost reason\n",
		      out);
		for (size_t j = 0; j < s->agent_count; j++)
			table_row(out, names_get(names, s->agents[j]->agent), width,
			          s->agents[j]->value, reasons);
		table_row(out, "(shop)", width, s->totals, reasons);
	}
	view_free(&v);
	return ferror(out) ? -1 : 0;
}
