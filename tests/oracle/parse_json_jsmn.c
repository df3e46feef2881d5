/*
 * The test oracle for the JSON Lines parser: the jsmn-based implementation that
 * daemon/parse_json.c replaced, kept verbatim but for its entry points' names. jsmn
 * tokenizes; a walk over the tokens closes every gap jsmn leaves against RFC 8259.
 * The differential tests (tests/test_parse_json_differential.c,
 * tests/fuzz/fuzz_json_differential.c) run both parsers on the same lines and
 * require the same verdict, the same record and the same error reason.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "chatlogd/limits.h"
#include "chatlogd/parse_internal.h" /* parse_set_error */
#include "chatlogd/record.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/utf8.h"
#include "parse_json_jsmn.h"

/* Initial string scratch; it grows to the longest line that needed decoding. */
#define JSON_SCRATCH_INITIAL 4096

/* Longest raw key that can still name a field: "amount" written as six \u escapes. */
#define JSON_KEY_DECODE_MAX 64

/* What one pass over the raw line found, so later checks run only when needed. */
#define LINE_HAS_CONTROL 1u   /* a byte below 0x20 somewhere */
#define LINE_HAS_BACKSLASH 2u /* a '\\' somewhere: some string has escapes */

struct oracle_json_parser {
	jsmntok_t tokens[LIMIT_JSON_TOKENS];
	char *scratch; /* decoded strings of the current line */
	size_t scratch_size;
	size_t scratch_used;
};

static const char *const wrong_type_reason[FIELD_COUNT] = {
    [FIELD_TS] = "wrong type for ts",         [FIELD_KIND] = "wrong type for kind",
    [FIELD_SHOP] = "wrong type for shop",     [FIELD_BUYER] = "wrong type for buyer",
    [FIELD_AGENT] = "wrong type for agent",   [FIELD_FROM] = "wrong type for from",
    [FIELD_TEXT] = "wrong type for text",     [FIELD_ORDER] = "wrong type for order",
    [FIELD_AMOUNT] = "wrong type for amount",
};

struct oracle_json_parser *oracle_json_parser_new(char *err, size_t errlen)
{
	struct oracle_json_parser *jp;

	if ((jp = calloc(1, sizeof(*jp))) == NULL ||
	    (jp->scratch = malloc(JSON_SCRATCH_INITIAL)) == NULL) {
		free(jp);
		parse_set_error(err, errlen, "out of memory");
		return NULL;
	}
	jp->scratch_size = JSON_SCRATCH_INITIAL;
	return jp;
}

void oracle_json_parser_free(struct oracle_json_parser *jp)
{
	if (jp == NULL)
		return;
	free(jp->scratch);
	free(jp);
}

/*
 * Notes whether the line holds control bytes or backslashes at all, eight bytes at
 * a time; most lines hold neither, and then no string needs a second look. The
 * word tests are exact for "is there any such byte": a borrow can only produce a
 * false hit above a true one, and bytes >= 0x80 never count.
 */
static unsigned scan_line(const char *s, size_t len)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t highs = UINT64_C(0x8080808080808080);
	uint64_t control = 0, backslash = 0;
	unsigned flags = 0;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w, x;
		memcpy(&w, s + i, 8);
		control |= (w - ones * 0x20) & ~w & highs;
		x = w ^ (ones * '\\');
		backslash |= (x - ones) & ~x & highs;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20)
			control = 1;
		else if (c == '\\')
			backslash = 1;
	}
	if (control)
		flags |= LINE_HAS_CONTROL;
	if (backslash)
		flags |= LINE_HAS_BACKSLASH;
	return flags;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads "\uXXXX" at s (n bytes available). Returns the code unit, or -1. */
static long read_u_escape(const char *s, size_t n)
{
	long v = 0;
	if (n < 6 || s[0] != '\\' || s[1] != 'u')
		return -1;
	for (int i = 2; i < 6; i++) {
		int h = hex_value(s[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * Decodes the body of a JSON string (between the quotes) into out, or only
 * validates it when out is NULL. The result is never longer than the input:
 * every escape is at least as long as what it stands for. Rejects raw control
 * bytes, unknown escapes and surrogate escapes that do not form a pair.
 * Returns the decoded length, or -1.
 */
static long json_unescape(const char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		const char *slash = memchr(s + i, '\\', n - i);
		size_t run = slash != NULL ? (size_t)(slash - (s + i)) : n - i;

		for (size_t k = 0; k < run; k++)
			if ((unsigned char)s[i + k] < 0x20)
				return -1;
		if (out != NULL)
			memcpy(out + o, s + i, run);
		o += run;
		i += run;
		if (i == n)
			break;
		if (i + 1 >= n)
			return -1;
		char c;
		switch (s[i + 1]) {
		case '"':
			c = '"';
			break;
		case '\\':
			c = '\\';
			break;
		case '/':
			c = '/';
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u': {
			long unit = read_u_escape(s + i, n - i);
			unsigned long cp;
			char utf8[4];
			size_t w;
			if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff))
				return -1;
			i += 6;
			cp = (unsigned long)unit;
			if (unit >= 0xd800 && unit <= 0xdbff) {
				long low = read_u_escape(s + i, n - i);
				if (low < 0xdc00 || low > 0xdfff)
					return -1;
				cp = 0x10000 + (((unsigned long)unit - 0xd800) << 10) +
				     ((unsigned long)low - 0xdc00);
				i += 6;
			}
			w = utf8_encode((uint32_t)cp, utf8);
			if (out != NULL)
				memcpy(out + o, utf8, w);
			o += w;
			continue;
		}
		default:
			return -1;
		}
		if (out != NULL)
			out[o] = c;
		o++;
		i += 2;
	}
	return (long)o;
}

/* Checks the body of any string token; most lines skip both scans. */
static int string_valid(const char *s, size_t n, unsigned flags)
{
	if ((flags & LINE_HAS_BACKSLASH) && memchr(s, '\\', n) != NULL)
		return json_unescape(s, n, NULL) >= 0;
	if (flags & LINE_HAS_CONTROL) {
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20)
				return 0;
	}
	return 1;
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return 0;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return 0;
	}
	if (i < n && s[i] == '.') {
		size_t start = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t start = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return 0;
	}
	return i == n;
}

/* jsmn's primitives are any run of printable bytes up to a delimiter. */
static int primitive_valid(const char *s, size_t n)
{
	switch (s[0]) {
	case 't':
		return n == 4 && memcmp(s, "true", 4) == 0;
	case 'f':
		return n == 5 && memcmp(s, "false", 5) == 0;
	case 'n':
		return n == 4 && memcmp(s, "null", 4) == 0;
	default:
		return number_valid(s, n);
	}
}

static size_t skip_space(const char *s, size_t p, size_t len)
{
	while (p < len && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r'))
		p++;
	return p;
}

/* Maps a top-level key token to a field, decoding it first if it has escapes. */
static enum record_field key_field(const char *s, size_t n, unsigned flags)
{
	char decoded[JSON_KEY_DECODE_MAX];
	long m;

	if (!(flags & LINE_HAS_BACKSLASH) || memchr(s, '\\', n) == NULL)
		return record_field_lookup(s, n);
	if (n > sizeof(decoded))
		return FIELD_UNKNOWN;
	if ((m = json_unescape(s, n, decoded)) < 0)
		return FIELD_UNKNOWN;
	return record_field_lookup(decoded, (size_t)m);
}

/*
 * The grammar check jsmn leaves undone. jsmn (even in strict mode) accepts
 * missing or doubled commas and colons, trailing commas, any printable run as a
 * number or literal ("01", "1.", "-", "tru"), raw control bytes in strings, a
 * NUL byte that ends the input early and anything after the first value. This walk
 * re-reads the line in document order, using the tokens only to step over strings
 * and primitives, and accepts exactly: ws object ws. On the way it notes which
 * token holds the value of each known top-level field (the last one, for repeated
 * keys). Returns 0, or -1 with a reason.
 */
static int json_walk(const char *s, size_t len, const jsmntok_t *tok, int count, unsigned flags,
                     int field_token[FIELD_COUNT], const char **reason)
{
	int stack[LIMIT_JSON_TOKENS]; /* token index of each open container */
	int depth = 0, i = 0;
	int after_value = 0; /* 0: a container was just opened; 1: a member/element ended */
	char closer = '}';   /* of the innermost open container */
	size_t p = skip_space(s, 0, len);

	*reason = "bad JSON";
	if (p >= len || s[p] != '{' || count < 1 || tok[0].type != JSMN_OBJECT ||
	    tok[0].start != (int)p) {
		*reason = "bad JSON: not an object";
		return -1;
	}
	stack[depth++] = i++;
	p++;
	while (depth > 0) {
		int field = FIELD_UNKNOWN;

		p = skip_space(s, p, len);
		if (p >= len)
			return -1;
		if (s[p] == closer) {
			if (tok[stack[depth - 1]].end != (int)p + 1)
				return -1;
			depth--;
			if (depth > 0)
				closer = tok[stack[depth - 1]].type == JSMN_OBJECT ? '}' : ']';
			p++;
			after_value = 1;
			continue;
		}
		if (after_value) {
			if (s[p] != ',')
				return -1;
			p = skip_space(s, p + 1, len);
			if (p >= len)
				return -1;
		}
		if (i >= count)
			return -1;
		if (closer == '}') {
			const jsmntok_t *key = &tok[i];
			size_t key_len = (size_t)(key->end - key->start);
			if (s[p] != '"' || key->type != JSMN_STRING || key->start != (int)p + 1)
				return -1;
			if (flags != 0 && !string_valid(s + key->start, key_len, flags)) {
				*reason = "bad JSON string";
				return -1;
			}
			if (depth == 1)
				field = key_field(s + key->start, key_len, flags);
			i++;
			p = skip_space(s, (size_t)key->end + 1, len);
			if (p >= len || s[p] != ':')
				return -1;
			p = skip_space(s, p + 1, len);
			if (p >= len || i >= count)
				return -1;
		}
		const jsmntok_t *value = &tok[i];
		if (field != FIELD_UNKNOWN)
			field_token[field] = i;
		after_value = 1;
		switch (s[p]) {
		case '{':
		case '[':
			if (value->type != (s[p] == '{' ? JSMN_OBJECT : JSMN_ARRAY) ||
			    value->start != (int)p)
				return -1;
			closer = s[p] == '{' ? '}' : ']';
			stack[depth++] = i++;
			p++;
			after_value = 0;
			break;
		case '"':
			if (value->type != JSMN_STRING || value->start != (int)p + 1)
				return -1;
			if (flags != 0 &&
			    !string_valid(s + value->start, (size_t)(value->end - value->start),
			                  flags)) {
				*reason = "bad JSON string";
				return -1;
			}
			p = (size_t)value->end + 1;
			i++;
			break;
		default:
			if (value->type != JSMN_PRIMITIVE || value->start != (int)p ||
			    !primitive_valid(s + p, (size_t)(value->end - value->start))) {
				*reason = "bad JSON value";
				return -1;
			}
			p = (size_t)value->end;
			i++;
			break;
		}
	}
	if (skip_space(s, p, len) != len || i != count) {
		*reason = "bad JSON: data after the object";
		return -1;
	}
	return 0;
}

/* The string value of a token, decoded into scratch only when it has escapes. */
static int token_string(struct oracle_json_parser *jp, const char *line, const jsmntok_t *t,
                        unsigned flags, struct text_view *v)
{
	const char *raw = line + t->start;
	size_t n = (size_t)(t->end - t->start);
	long m;

	if (!(flags & LINE_HAS_BACKSLASH) || memchr(raw, '\\', n) == NULL) {
		v->ptr = raw;
		v->len = n;
		return 0;
	}
	/* Decoded strings are never longer than their raw text, and all of them fit
	 * in the line's length, which oracle_json_parse made sure scratch can hold. */
	if ((m = json_unescape(raw, n, jp->scratch + jp->scratch_used)) < 0)
		return -1;
	v->ptr = jp->scratch + jp->scratch_used;
	v->len = (size_t)m;
	jp->scratch_used += (size_t)m;
	return 0;
}

static int ensure_scratch(struct oracle_json_parser *jp, size_t len)
{
	char *bigger;
	size_t size = jp->scratch_size;

	if (len <= size)
		return 0;
	while (size < len)
		size *= 2;
	if ((bigger = realloc(jp->scratch, size)) == NULL)
		return -1;
	jp->scratch = bigger;
	jp->scratch_size = size;
	return 0;
}

/* Stores one known field's value; *reason is set when it is not acceptable. */
static int set_field(struct record *rec, enum record_field field, const struct text_view *v,
                     int is_number, int *has_ts, const char **reason)
{
	struct text_view *dest;

	switch (field) {
	case FIELD_TS:
		if ((is_number ? timefmt_parse_epoch(v->ptr, v->len, &rec->ts_ms)
		               : timefmt_parse_rfc3339(v->ptr, v->len, &rec->ts_ms)) != 0) {
			*reason = "bad timestamp";
			return -1;
		}
		*has_ts = 1;
		return 0;
	case FIELD_AMOUNT:
		if (record_parse_amount(v->ptr, v->len, &rec->amount_fen) != 0) {
			*reason = "bad amount";
			return -1;
		}
		return 0;
	case FIELD_KIND:
		if (record_parse_kind(v->ptr, v->len, &rec->kind) != 0) {
			*reason = "bad kind";
			return -1;
		}
		return 0;
	case FIELD_FROM:
		if (record_parse_from(v->ptr, v->len, &rec->from) != 0) {
			*reason = "bad from";
			return -1;
		}
		return 0;
	case FIELD_SHOP:
		dest = &rec->shop;
		break;
	case FIELD_BUYER:
		dest = &rec->buyer;
		break;
	case FIELD_AGENT:
		dest = &rec->agent;
		break;
	case FIELD_TEXT:
		dest = &rec->text;
		break;
	case FIELD_ORDER:
		dest = &rec->order;
		break;
	default:
		return 0;
	}
	*dest = *v;
	return 0;
}

int oracle_json_parse(struct oracle_json_parser *jp, const char *line, size_t len,
                      struct record *rec, char *err, size_t errlen)
{
	int field_token[FIELD_COUNT];
	const char *reason = NULL;
	jsmn_parser tokenizer;
	unsigned flags;
	int count, has_ts = 0;

	record_clear(rec);
	jp->scratch_used = 0;
	if (len > INT_MAX / 2) {
		parse_set_error(err, errlen, "line too long");
		return -1;
	}
	if (!utf8_valid(line, len)) {
		parse_set_error(err, errlen, "invalid UTF-8");
		return -1;
	}
	flags = scan_line(line, len);
	jsmn_init(&tokenizer);
	count = jsmn_parse(&tokenizer, line, len, jp->tokens, LIMIT_JSON_TOKENS);
	if (count < 0) {
		parse_set_error(err, errlen,
		                count == JSMN_ERROR_NOMEM ? "too many JSON tokens" : "bad JSON");
		return -1;
	}
	for (int f = 0; f < FIELD_COUNT; f++)
		field_token[f] = -1;
	if (json_walk(line, len, jp->tokens, count, flags, field_token, &reason) != 0)
		goto fail;
	if ((flags & LINE_HAS_BACKSLASH) && ensure_scratch(jp, len) != 0) {
		reason = "out of memory";
		goto fail;
	}

	for (int f = 0; f < FIELD_COUNT; f++) {
		const jsmntok_t *t;
		struct text_view v;
		int is_number = 0;

		if (field_token[f] < 0)
			continue;
		t = &jp->tokens[field_token[f]];
		if (t->type == JSMN_STRING) {
			if (token_string(jp, line, t, flags, &v) != 0) {
				reason = "bad JSON string";
				goto fail;
			}
			if (v.len == 0)
				continue; /* "" is absent */
		} else if (t->type == JSMN_PRIMITIVE && line[t->start] == 'n') {
			continue; /* null is absent */
		} else if (t->type == JSMN_PRIMITIVE && line[t->start] != 't' &&
		           line[t->start] != 'f' && (f == FIELD_TS || f == FIELD_AMOUNT)) {
			is_number = 1;
			v.ptr = line + t->start;
			v.len = (size_t)(t->end - t->start);
		} else {
			reason = wrong_type_reason[f];
			goto fail;
		}
		if (set_field(rec, (enum record_field)f, &v, is_number, &has_ts, &reason) != 0)
			goto fail;
	}
	return record_finish(rec, has_ts, err, errlen);

fail:
	parse_set_error(err, errlen, reason);
	return -1;
}
