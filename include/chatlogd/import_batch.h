/*
 * Import batch: what one run of chatlogd-import produces. The parsers add records
 * (reference.md §1: messages, orders, payments) and account for every input line; the batch
 * gives each record its stable id, sorts them by time, leaves out those already
 * imported, and writes JSON Lines. It does not read any export shape itself.
 */
#ifndef CHATLOGD_IMPORT_BATCH_H
#define CHATLOGD_IMPORT_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What an input line turned out to be. Every line gets exactly one kind, so the
 * summary's line counts add up to the lines read: nothing is dropped unseen. */
enum import_line_kind {
	IMPORT_LINE_MESSAGE,  /* header, sender, time or text line of an imported message */
	IMPORT_LINE_RECALLED, /* a recalled message's lines and the recall notice */
	IMPORT_LINE_STATUS,   /* 已读 未读 发送中 */
	IMPORT_LINE_SYSTEM,   /* 当前用户来自 … and other notices of the client */
	IMPORT_LINE_TRANSFER, /* 由 X 转交给 Y, A --> B headers and their notes */
	IMPORT_LINE_CARD,     /* product cards: URL and ¥ price lines */
	IMPORT_LINE_LAYOUT,   /* page titles, shop/buyer lines, date headers, CSV header */
	IMPORT_LINE_BLANK,
	IMPORT_LINE_ORDER,   /* a line of an order report row */
	IMPORT_LINE_SKIPPED, /* rows left out on purpose (--closed skip) */
	IMPORT_LINE_ERROR,   /* reported with FILE:LINE */
	IMPORT_LINE_KINDS
};

/* Record-level counts for the summary. */
enum import_count {
	IMPORT_COUNT_BUYER_MSGS,
	IMPORT_COUNT_AGENT_MSGS,
	IMPORT_COUNT_BOT_MSGS,
	IMPORT_COUNT_RECALLED_MSGS,
	IMPORT_COUNT_ORDERS,
	IMPORT_COUNT_PAYMENTS,
	IMPORT_COUNT_UNPAID,         /* orders without a payment time */
	IMPORT_COUNT_CLOSED_UNPAID,  /* 交易关闭 before payment: order only */
	IMPORT_COUNT_CLOSED_PAID,    /* 交易关闭 after payment (refunded): order and pay */
	IMPORT_COUNT_CLOSED_SKIPPED, /* --closed skip */
	IMPORT_COUNT_DUPLICATES,     /* records already imported, not written again */
	IMPORT_COUNT_WRITTEN,
	IMPORT_COUNT_OLDER, /* written, but older than the newest record the file had */
	IMPORT_COUNTS
};

enum import_kind { IMPORT_KIND_MSG, IMPORT_KIND_ORDER, IMPORT_KIND_PAY };
enum import_from { IMPORT_FROM_NONE, IMPORT_FROM_BUYER, IMPORT_FROM_AGENT, IMPORT_FROM_BOT };

/* Characters of a record id: 128 bits of SHA-256 in hex. */
#define IMPORT_ID_CHARS 32

/* A record as a parser hands it over. Strings are borrowed for the call (copied). */
struct import_record_fields {
	enum import_kind kind;
	enum import_from from;
	int64_t ts_ms;
	const char *shop, *buyer, *agent, *text, *order;
	int64_t amount_fen; /* -1: absent */
	size_t line;        /* first input line, for messages about it */
};

struct import_batch;

/* A new, empty batch. Never NULL (allocation failure is fatal). */
struct import_batch *import_batch_new(void);
void import_batch_free(struct import_batch *batch);

/* The input the next records and line kinds belong to (borrowed; must outlive the
 * batch). Ids count repeats within one input: see import_batch_finish. */
void import_batch_begin_input(struct import_batch *batch, const char *name);

/* Adds a record; returns its index, valid until import_batch_finish. */
size_t import_batch_add(struct import_batch *batch, const struct import_record_fields *fields);

/* Takes a record back out (a recalled message). Its lines are the caller's to
 * re-count. */
void import_batch_drop(struct import_batch *batch, size_t index);

/* Accounts for `lines` input lines of one kind. */
void import_batch_lines(struct import_batch *batch, enum import_line_kind kind, size_t lines);

/* Moves lines counted as one kind to another (a message found recalled later). */
void import_batch_move_lines(struct import_batch *batch, enum import_line_kind from,
                             enum import_line_kind to, size_t lines);

/* Adds to a record-level count. */
void import_batch_count(struct import_batch *batch, enum import_count count, size_t n);

/* Reports an error on a line of the current input as "NAME:LINE: message" on stderr
 * and counts it (the line kind is the caller's to add). */
void import_batch_error(struct import_batch *batch, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Gives every record its id, then sorts them by time (ties keep input order). */
void import_batch_finish(struct import_batch *batch);

/* Marks as already imported every record whose id occurs as "msg_id":"ID" in the
 * file at path (a file that does not exist has none), and notes the newest "ts" there. Returns 0,
 * or -1 with the reason in err when it exists but cannot be read. */
int import_batch_load_seen(struct import_batch *batch, const char *path, char *err, size_t errlen);

/* Writes the records not yet seen as JSON Lines, each id at most once, and counts
 * them. Returns 0, or -1 on a write error. */
int import_batch_write(struct import_batch *batch, FILE *out);

/* The summary: line kinds and counts, one "key=value" per line to out. */
void import_batch_summary(const struct import_batch *batch, FILE *out);

size_t import_batch_line_total(const struct import_batch *batch);
size_t import_batch_lines_of(const struct import_batch *batch, enum import_line_kind kind);
size_t import_batch_count_of(const struct import_batch *batch, enum import_count count);

/* Record i after import_batch_finish, in time order; NULL past the end. Fields point
 * into the batch. id is the record's msg_id. */
const struct import_record_fields *import_batch_record(const struct import_batch *batch, size_t i,
                                                       const char **id);
size_t import_batch_record_count(const struct import_batch *batch);

/* Local wall-clock time (the process time zone) as epoch ms: "YYYY-MM-DD HH:MM[:SS]"
 * or with '/' between date parts, one- or two-digit month, day and hour (spreadsheets
 * rewrite dates so). Returns 0, or -1. */
int import_parse_local_time(const char *s, size_t len, int64_t *ms);

/* The local date of a day number (days since 1970-01-01) as "YYYY-MM-DD"; out holds
 * 11 bytes. */
void import_format_date(int64_t days, char out[11]);

#endif
