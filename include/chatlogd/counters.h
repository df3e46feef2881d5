/*
 * Counters of reference.md §3: the row schema (fixed counters, histogram buckets, lost
 * reasons), tables of rows keyed by (shop, agent, minute), and the derived values.
 * A table either keeps minutes apart (live deltas) or folds them (batch totals).
 */
#ifndef CHATLOGD_COUNTERS_H
#define CHATLOGD_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"

enum counter_id {
	COUNTER_INQUIRIES,
	COUNTER_POST_SALE, /* conversations opened after an order or payment */
	COUNTER_REPLIED,
	COUNTER_NO_REPLY,
	COUNTER_FIRST_RESPONSES,
	COUNTER_FRT_MS_SUM,
	COUNTER_FRT_BREACHES,
	COUNTER_RESPONSES,
	COUNTER_RESPONSE_MS_SUM,
	COUNTER_RESPONSE_BREACHES,
	COUNTER_UNANSWERED,
	COUNTER_BUYER_MSGS,
	COUNTER_AGENT_MSGS,
	COUNTER_BOT_MSGS,
	COUNTER_ORDERS,
	COUNTER_PAYMENTS,
	COUNTER_SALES_FEN,
	COUNTER_ORDERED,
	COUNTER_PAID,
	COUNTER_LOST,
	COUNTER_CLOCK_SKEW,
	COUNTER_SILENT_ORDERS,    /* shop level only (agent "*") */
	COUNTER_SILENT_SALES_FEN, /* shop level only (agent "*") */
	COUNTER_FRT_H,            /* first of HISTOGRAM_BUCKETS */
	COUNTER_RESP_H = COUNTER_FRT_H + 15,
	COUNTER_LOST_REASON = COUNTER_RESP_H + 15, /* first of COUNTER_REASONS */
	/* For the monthly assessment; after the reasons, so that ids saved by earlier
	 * versions keep their meaning. */
	COUNTER_HOURS_RESPONSES =
	    COUNTER_LOST_REASON + LIMIT_REASONS, /* turn began in service hours */
	COUNTER_HOURS_RESPONSES_3M,              /* ... and was answered within 180 s */
	COUNTER_SLOW_RESPONSES,    /* responses slower than slow_response (慢响应) */
	COUNTER_RETURNING,         /* inquiries of returning buyers (回头客) */
	COUNTER_RETURNING_ORDERED, /* ... of which ordered */
	COUNTER_WIDTH
};

/* 1 for the counters named by a word ("inquiries"), not a histogram bucket or a reason. */
static inline int counters_is_plain(unsigned id)
{
	return id < COUNTER_FRT_H || (id >= COUNTER_HOURS_RESPONSES && id < COUNTER_WIDTH);
}

/* The Taobao 3-minute response rate's bound. */
#define COUNTERS_FAST_RESPONSE_MS 180000

#define HISTOGRAM_BUCKETS 15

/* Upper bound (ms) of histogram bucket i; INT64_MAX for the last ("inf"). */
int64_t counters_bucket_upper(unsigned i);

/* Index of the bucket a time in ms falls in (<= upper, > previous upper). */
unsigned counters_bucket(int64_t ms);

/* The field name of a counter as the report and Redis spell it: "inquiries",
 * "frt_h:1000", "resp_h:inf", "lost:price" (reasons named from reason_names).
 * Writes into out (64 bytes is enough) and returns it. */
const char *counters_field_name(enum counter_id id, const char *const *reason_names, char *out,
                                size_t out_size);

struct wire_writer;
struct wire_reader;

/* One row: counters of one (shop, agent[, minute]). */
struct counter_row {
	uint32_t shop;
	uint32_t agent;
	int64_t minute; /* epoch minute (ms / 60000), or 0 in folded tables */
	int64_t value[COUNTER_WIDTH];
};

struct counter_table;

/* A table of rows; by_minute = 0 folds every minute into one row per (shop, agent). */
struct counter_table *counter_table_new(int by_minute);
void counter_table_free(struct counter_table *t);

/* The row for (shop, agent, minute of ts_ms), created zeroed if absent.
 * NULL only past the table's id limit (about 2^30 rows). The pointer is valid until the next call.
 */
struct counter_row *counter_table_row(struct counter_table *t, uint32_t shop, uint32_t agent,
                                      int64_t ts_ms);

/* Adds delta to one counter. Returns 0, or -1 past the table's id limit. */
static inline int counter_table_add(struct counter_table *t, uint32_t shop, uint32_t agent,
                                    int64_t ts_ms, enum counter_id id, int64_t delta)
{
	struct counter_row *row = counter_table_row(t, shop, agent, ts_ms);
	if (row == NULL)
		return -1;
	row->value[id] += delta;
	return 0;
}

/* Rows in insertion order: valid while the table is not changed. */
size_t counter_table_count(const struct counter_table *t);
struct counter_row *counter_table_at(struct counter_table *t, size_t i);

/* Empties the table, keeping its memory for reuse. */
void counter_table_clear(struct counter_table *t);

/* Writes the rows' non-zero counters (ids of COUNTERS_SCHEMA). Minutes are stored as
 * they are. */
void counter_table_save(struct counter_table *t, struct wire_writer *w);
/* Adds saved rows into t (which may already hold rows). Returns 0 or -1. */
int counter_table_load(struct counter_table *t, struct wire_reader *r, unsigned schema);

/* Counter ids as saved: schema 1 had no post_sale (state written before contract v2),
 * schema 2 is this one. State files say which they hold. */
#define COUNTERS_SCHEMA 2u

/* The id a counter saved under `schema` has now. */
uint32_t counters_id_from_schema(uint32_t id, unsigned schema);

/* Derived values (reference.md §3): absent when the denominator is 0. */
struct derived {
	int has_frt_avg, has_art_avg, has_reply_rate, has_conversion, has_pay_conversion, has_aov;
	int64_t frt_avg_ms, art_avg_ms;       /* rounded half up */
	int64_t reply_rate_e4, conversion_e4; /* ratio × 10000, rounded half up */
	int64_t pay_conversion_e4;
	int64_t aov_fen; /* sales_fen / paid, rounded half up to whole fen */
};

void counters_derive(const int64_t *value, struct derived *d);

/* The derived values that are present, named and written as the report and the
 * Redis window hashes spell them ("frt_avg_ms" "4500", "reply_rate" "0.6667",
 * "aov" "128.00"), in the reference.md order. Fills out and returns how many (at most 6). */
struct derived_field {
	const char *name;
	char text[32];
};
#define DERIVED_FIELDS 6
unsigned counters_derived_fields(const int64_t *value, struct derived_field out[DERIVED_FIELDS]);

/* Writes a ratio×10000 as "0.6667" and fen as "59.90"; returns out. */
const char *counters_format_e4(int64_t e4, char *out, size_t out_size);
const char *counters_format_fen(int64_t fen, char *out, size_t out_size);

#endif
