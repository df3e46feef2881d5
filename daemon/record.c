/*
 * record.c owns the field rules both parsers share (reference.md §1): field names, the
 * kind/from/amount vocabularies, defaults and required fields.
 * It does not read JSON or run patterns; the parsers hand it borrowed views.
 */
#include <stdio.h>
#include <string.h>

#include "chatlogd/limits.h"
#include "chatlogd/record.h"

/* The largest yuan amount kept: 10^16 yuan is 10^18 fen, far from INT64_MAX. */
#define AMOUNT_MAX_INTEGER_DIGITS 16

static inline int view_is(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len == n && memcmp(s, word, n) == 0;
}

enum record_field record_field_lookup(const char *name, size_t len)
{
	switch (len) {
	case 2:
		if (memcmp(name, "ts", 2) == 0)
			return FIELD_TS;
		break;
	case 4:
		if (memcmp(name, "kind", 4) == 0)
			return FIELD_KIND;
		if (memcmp(name, "shop", 4) == 0)
			return FIELD_SHOP;
		if (memcmp(name, "from", 4) == 0)
			return FIELD_FROM;
		if (memcmp(name, "text", 4) == 0)
			return FIELD_TEXT;
		break;
	case 5:
		if (memcmp(name, "buyer", 5) == 0)
			return FIELD_BUYER;
		if (memcmp(name, "agent", 5) == 0)
			return FIELD_AGENT;
		if (memcmp(name, "order", 5) == 0)
			return FIELD_ORDER;
		break;
	case 6:
		if (memcmp(name, "amount", 6) == 0)
			return FIELD_AMOUNT;
		break;
	}
	return FIELD_UNKNOWN;
}

void record_clear(struct record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = RECORD_MSG;
	rec->from = FROM_NONE;
}

int record_parse_kind(const char *s, size_t len, enum record_kind *kind)
{
	if (view_is(s, len, "msg"))
		*kind = RECORD_MSG;
	else if (view_is(s, len, "order"))
		*kind = RECORD_ORDER;
	else if (view_is(s, len, "pay"))
		*kind = RECORD_PAY;
	else
		return -1;
	return 0;
}

int record_parse_from(const char *s, size_t len, enum record_from *from)
{
	if (view_is(s, len, "buyer"))
		*from = FROM_BUYER;
	else if (view_is(s, len, "agent"))
		*from = FROM_AGENT;
	else if (view_is(s, len, "bot"))
		*from = FROM_BOT;
	else
		return -1;
	return 0;
}

/*
 * Accepts DIGITS [ '.' DIGIT [DIGIT] ]: the integer part may have leading zeros
 * (a string like "007.50" is unambiguous), but there is no sign, no exponent and
 * no bare "." at either end, so nothing is ever rounded.
 */
int record_parse_amount(const char *s, size_t len, int64_t *fen)
{
	int64_t yuan = 0, cents = 0;
	size_t i = 0, digits = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (++digits > AMOUNT_MAX_INTEGER_DIGITS)
			return -1;
		yuan = yuan * 10 + (s[i] - '0');
		i++;
	}
	if (digits == 0)
		return -1;
	if (i < len && s[i] == '.') {
		size_t decimals = 0;
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9' && decimals < 3) {
			cents = cents * 10 + (s[i] - '0');
			decimals++;
			i++;
		}
		if (decimals == 0 || decimals > 2)
			return -1;
		if (decimals == 1)
			cents *= 10;
	}
	if (i != len)
		return -1;
	*fen = yuan * 100 + cents;
	return 0;
}

/* Names become hash keys and parts of Redis keys: bounded, and no NUL inside. */
static const char *check_name(const struct text_view *v, const char *too_long, const char *nul)
{
	if (v->len > LIMIT_NAME_BYTES)
		return too_long;
	if (v->len > 0 && memchr(v->ptr, '\0', v->len) != NULL)
		return nul;
	return NULL;
}

int record_finish(struct record *rec, int has_ts, char *err, size_t errlen)
{
	const char *reason = NULL;

	if (rec->shop.len == 0) {
		rec->shop.ptr = "default";
		rec->shop.len = 7;
	}
	if (!has_ts)
		reason = "missing ts";
	else if (rec->buyer.len == 0)
		reason = "missing buyer";
	else if (rec->kind == RECORD_MSG && rec->from == FROM_NONE)
		reason = "missing from";
	else if (rec->kind == RECORD_MSG && rec->from == FROM_AGENT && rec->agent.len == 0)
		reason = "missing agent";
	if (reason == NULL)
		reason = check_name(&rec->shop, "shop too long", "NUL byte in shop");
	if (reason == NULL)
		reason = check_name(&rec->buyer, "buyer too long", "NUL byte in buyer");
	if (reason == NULL)
		reason = check_name(&rec->agent, "agent too long", "NUL byte in agent");
	if (reason != NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "%s", reason);
		return -1;
	}
	if (rec->kind != RECORD_MSG)
		rec->from = FROM_NONE;
	return 0;
}
