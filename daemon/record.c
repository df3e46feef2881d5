/*
 * record.c owns the field rules both parsers share (SPEC §2): field names, the
 * kind/from/amount vocabularies, defaults and required fields, and UTF-8 checking.
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

/*
 * Checks each sequence by decoding it: a code point below its length's minimum is
 * an overlong (C0 80), D800-DFFF a surrogate (ED A0 80), past 10FFFF out of range
 * (F4 90 80 80). Three-byte sequences (CJK) are tested first; runs of ASCII are
 * skipped eight bytes at a time.
 */
int utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			while (i + 8 <= len) {
				uint64_t word;
				memcpy(&word, s + i, 8);
				if (word & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			while (i < len && s[i] < 0x80)
				i++;
			continue;
		}
		if ((c & 0xf0) == 0xe0) {
			if (len - i < 3 || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80)
				return 0;
			unsigned cp = ((c & 0x0f) << 12) | ((s[i + 1] & 0x3fu) << 6);
			if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
				return 0;
			i += 3;
		} else if ((c & 0xe0) == 0xc0) {
			if (c < 0xc2 || len - i < 2 || (s[i + 1] & 0xc0) != 0x80)
				return 0;
			i += 2;
		} else if ((c & 0xf8) == 0xf0) {
			if (len - i < 4 || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80 ||
			    (s[i + 3] & 0xc0) != 0x80)
				return 0;
			unsigned cp = ((c & 0x07) << 18) | ((s[i + 1] & 0x3fu) << 12);
			if (cp < 0x10000 || cp > 0x10ffff)
				return 0;
			i += 4;
		} else {
			return 0;
		}
	}
	return 1;
}
