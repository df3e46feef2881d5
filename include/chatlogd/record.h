/*
 * One input record (reference.md §1) as the parsers hand it to the engine, plus the field
 * checks both parsers share. Strings are borrowed views, valid until the next parse.
 */
#ifndef CHATLOGD_RECORD_H
#define CHATLOGD_RECORD_H

#include <stddef.h>
#include <stdint.h>

enum record_kind { RECORD_MSG, RECORD_ORDER, RECORD_PAY };
enum record_from { FROM_NONE, FROM_BUYER, FROM_AGENT, FROM_BOT };

/* A borrowed byte range; len == 0 means the field is absent (reference.md: "" == null == absent).
 */
struct text_view {
	const char *ptr;
	size_t len;
};

struct record {
	int64_t ts_ms; /* Unix epoch milliseconds */
	enum record_kind kind;
	enum record_from from; /* FROM_NONE on order/pay records */
	struct text_view shop; /* "default" when absent */
	struct text_view buyer;
	struct text_view agent;
	struct text_view text;
	struct text_view order;
	int64_t amount_fen; /* 0 when absent */
};

/* Field identifiers shared by the JSON and regex parsers. */
enum record_field {
	FIELD_TS,
	FIELD_KIND,
	FIELD_SHOP,
	FIELD_BUYER,
	FIELD_AGENT,
	FIELD_FROM,
	FIELD_TEXT,
	FIELD_ORDER,
	FIELD_AMOUNT,
	FIELD_COUNT,
	FIELD_UNKNOWN = -1
};

/* Maps a field name to its identifier; FIELD_UNKNOWN for names the spec does not define. */
enum record_field record_field_lookup(const char *name, size_t len);

/* Resets rec to "every field absent". */
void record_clear(struct record *rec);

/* Parses "msg" / "order" / "pay". Returns 0, or -1 for any other value. */
int record_parse_kind(const char *s, size_t len, enum record_kind *kind);

/* Parses "buyer" / "agent" / "bot". Returns 0, or -1 for any other value. */
int record_parse_from(const char *s, size_t len, enum record_from *from);

/* Parses a decimal yuan amount: digits, optionally '.' and 1-2 digits; non-negative,
 * no sign, no exponent. Stores exact fen. Returns 0, or -1 when malformed or too large. */
int record_parse_amount(const char *s, size_t len, int64_t *fen);

/* Applies defaults and checks required fields after a parser set the fields it saw
 * (has_ts tells whether a timestamp was set). Returns 0, or -1 with a reason in err. */
int record_finish(struct record *rec, int has_ts, char *err, size_t errlen);

#endif
