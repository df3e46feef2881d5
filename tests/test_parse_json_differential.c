/*
 * Differential tests for the JSON Lines parser: every line goes through chatlogd's
 * parser, the same parser built without SSE2 and the jsmn-based parser it replaced
 * (tests/oracle/), which must agree on accept or reject, on every record field and
 * on the kind of error (builds of our parser: on the exact reason; see
 * oracle/json_differential.h). The lines are a corpus of tricky cases, exhaustive one-byte
 * edits of a few records, and a few hundred thousand generated records (seeded, so
 * every run sees the same lines) with random byte flips, insertions, deletions,
 * truncations and copied segments.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/limits.h"
#include "check.h"
#include "oracle/json_differential.h"

#define GENERATED_LINES 60000
#define MUTATED_LINES 340000
#define LINE_MAX_BYTES 8192
#define REPORT_MAX 10

static struct json_trio trio;
static long lines_compared;
static long disagreements;

/* ---- comparing ---- */

static void print_line(const char *line, size_t len)
{
	fputs("  line: \"", stderr);
	for (size_t i = 0; i < len && i < 400; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '"' || c == '\\')
			fprintf(stderr, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fputs(len > 400 ? "...\"\n" : "\"\n", stderr);
}

/* Runs one line through the three parsers from an exact-size copy. */
static void compare(const char *line, size_t len)
{
	char why[256];
	char *copy = malloc(len ? len : 1);

	if (copy == NULL) {
		perror("malloc");
		exit(1);
	}
	memcpy(copy, line, len);
	lines_compared++;
	if (json_trio_compare(&trio, copy, len, why, sizeof(why)) != 0) {
		if (disagreements++ < REPORT_MAX) {
			fprintf(stderr, "disagreement: %s\n", why);
			print_line(line, len);
		}
	}
	free(copy);
}

static void compare_string(const char *line)
{
	compare(line, strlen(line));
}

/* ---- a seeded generator (xorshift64*) ---- */

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

/* A number in [0, n). */
static size_t rng_below(size_t n)
{
	return (size_t)(rng_next() % n);
}

static int rng_chance(unsigned percent)
{
	return rng_below(100) < percent;
}

static const char *rng_pick(const char *const *list, size_t n)
{
	return list[rng_below(n)];
}

#define PICK(list) rng_pick(list, sizeof(list) / sizeof(list[0]))

/* A line under construction. */
struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
};

static void put(struct line *l, const char *s)
{
	size_t n = strlen(s);
	if (l->len + n <= sizeof(l->buf)) {
		memcpy(l->buf + l->len, s, n);
		l->len += n;
	}
}

static void put_byte(struct line *l, char c)
{
	if (l->len < sizeof(l->buf))
		l->buf[l->len++] = c;
}

/* JSON whitespace between tokens, now and then. */
static void put_space(struct line *l)
{
	static const char *const spaces[] = {" ", "\t", "  ", "\r\n", "\n", " \t "};
	if (rng_chance(4))
		put(l, PICK(spaces));
}

/* Pieces of string bodies, already escaped for JSON: ASCII, Chinese, other scripts,
 * emoji, every escape form, and the characters next to the UTF-8 edge cases. */
static const char *const text_pieces[] = {
    "a",
    "b1",
    "hello",
    "tb3745184503",
    "O20261124",
    "msg",
    "buyer",
    "agent",
    "bot",
    "order",
    "pay",
    " ",
    "0",
    "59.90",
    "在吗",
    "这款有现货吗",
    "亲，在的哦",
    "全棉时代官方旗舰店",
    "：",
    "，",
    "😀",
    "😊👍",
    "é",
    "ñü",
    "\xdf\xbf",
    "\xe0\xa0\x80",
    "\xed\x9f\xbf",
    "\xee\x80\x80",
    "\xef\xbf\xbf",
    "\xf0\x90\x80\x80",
    "\xf4\x8f\xbf\xbf",
    "\xc2\x80",
    "\\\"",
    "\\\\",
    "\\/",
    "\\b",
    "\\f",
    "\\n",
    "\\r",
    "\\t",
    "\\u0041",
    "\\u00e9",
    "\\u4e2d",
    "\\u0000",
    "\\u001f",
    "\\uFFFF",
    "\\ud83d\\ude00",
    "\\uD83D\\uDE00",
    "\\udbff\\udfff",
    "\\u0074s",
    "\x7f",
    "~",
    "2026-11-24T10:00:00+08:00",
};

static void put_text(struct line *l, size_t pieces)
{
	for (size_t i = 0; i < pieces; i++)
		put(l, PICK(text_pieces));
}

static void put_string(struct line *l, size_t pieces)
{
	put_byte(l, '"');
	put_text(l, pieces);
	put_byte(l, '"');
}

/* A key as written: plain, escaped, or another name. */
static void put_key(struct line *l, const char *name)
{
	static const char *const escaped_names[][2] = {
	    {"ts", "\\u0074s"},         {"buyer", "\\u0062uyer"}, {"from", "fr\\u006fm"},
	    {"text", "t\\u0065xt"},     {"shop", "sh\\/op"},      {"kind", "\\u006B\\u0069nd"},
	    {"amount", "\\u0061mount"}, {"agent", "agen\\u0074"}, {"order", "\\u006frder"},
	};
	put_byte(l, '"');
	if (rng_chance(3)) {
		for (size_t i = 0; i < sizeof(escaped_names) / sizeof(escaped_names[0]); i++) {
			if (strcmp(escaped_names[i][0], name) == 0) {
				put(l, escaped_names[i][1]);
				put_byte(l, '"');
				return;
			}
		}
	}
	put(l, name);
	put_byte(l, '"');
}

static void put_number(struct line *l)
{
	static const char *const numbers[] = {
	    "0",
	    "-0",
	    "1",
	    "-1",
	    "10",
	    "0.5",
	    "-0.5",
	    "1e5",
	    "1E5",
	    "1e+5",
	    "1e-5",
	    "-1.5E-07",
	    "123456789012345678901234567890",
	    "1.000",
	    "59.9",
	    "59.90",
	    "1795485600",
	    "1795485600.25",
	    "1795485600.2599",
	    "253402300799",
	    "253402300800",
	    "0.01",
	    "99999999999999999",
	    "1.234",
	};
	put(l, PICK(numbers));
}

/* An arbitrary JSON value, nested up to depth levels. */
static void put_value(struct line *l, int depth)
{
	static const char *const literals[] = {"true", "false", "null"};
	size_t n;

	switch (rng_below(depth > 0 ? 6 : 4)) {
	case 0:
		put_string(l, rng_below(4));
		break;
	case 1:
		put_number(l);
		break;
	case 2:
		put(l, PICK(literals));
		break;
	case 3:
		put_string(l, 1);
		break;
	case 4:
		put_byte(l, '[');
		n = rng_below(4);
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				put_byte(l, ',');
			put_space(l);
			put_value(l, depth - 1);
			put_space(l);
		}
		put_byte(l, ']');
		break;
	default:
		put_byte(l, '{');
		n = rng_below(4);
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				put_byte(l, ',');
			put_space(l);
			put_string(l, 1);
			put_space(l);
			put_byte(l, ':');
			put_space(l);
			put_value(l, depth - 1);
		}
		put_byte(l, '}');
		break;
	}
}

static void put_ts_value(struct line *l)
{
	static const char *const stamps[] = {
	    "\"2026-11-24T10:00:00.000+08:00\"",
	    "\"2026-11-24T10:00:00+08:00\"",
	    "\"2026-11-24t10:00:00Z\"",
	    "\"2026-11-24 10:00:00.5z\"",
	    "\"2026-11-24T10:00:59.9999-00:00\"",
	    "\"2026-11-24T23:59:60Z\"",
	    "\"2024-02-29T00:00:00+14:00\"",
	    "\"2026-02-29T10:00:00Z\"",
	    "\"2026-11-24T24:00:00Z\"",
	    "\"2026-11-24T10:00:00\"",
	    "\"2026-11-24T10:00:00.+08:00\"",
	    "\"1795485600\"",
	    "1795485600",
	    "1795485600.250",
	    "1.7954856e9",
	    "-1",
	    "\"\"",
	    "null",
	    "true",
	    "[1]",
	};
	char stamp[64];

	static const char *const separators[] = {"T", "T", "T", "t", " ", "_"};
	static const char *const zones[] = {"+08:00", "+08:00", "Z", "z",     "-00:00", "+08:30",
	                                    "-08:00", "+8:00",  "",  "+08:0", "+08:00x"};
	static const char *const fractions[] = {"", ".", ".5", ".25", ".250", ".2509", ".123456"};

	if (rng_chance(60)) {
		/* Mostly the same minute as the lines around it (the parser remembers
		 * the last minute), with other seconds, fractions and zones. */
		snprintf(stamp, sizeof(stamp), "\"2026-11-%02u%s%02u:%02u:%02u%s%s\"",
		         rng_chance(90) ? 24u : 29u + (unsigned)rng_below(3), PICK(separators),
		         rng_chance(90) ? 10u : (unsigned)rng_below(25), (unsigned)rng_below(3),
		         (unsigned)(rng_chance(90) ? rng_below(61) : rng_below(100)),
		         PICK(fractions), rng_chance(90) ? "+08:00" : PICK(zones));
		put(l, stamp);
	} else {
		put(l, PICK(stamps));
	}
}

static void put_field_value(struct line *l, const char *name)
{
	static const char *const kinds[] = {"\"msg\"", "\"order\"", "\"pay\"", "\"chat\"",
	                                    "null",    "\"\"",      "\"Pay\"", "3"};
	static const char *const froms[] = {"\"buyer\"", "\"agent\"", "\"bot\"", "\"customer\"",
	                                    "null",      "\"\"",      "true"};
	static const char *const amounts[] = {"\"59.90\"", "59.9", "\"0\"", "10",     "\"007.50\"",
	                                      "\"1.234\"", "-1",   "1e2",   "\".5\"", "null",
	                                      "\"\"",      "true", "[5]"};

	if (rng_chance(3)) {
		put_value(l, 2); /* any type: wrong types, null, containers */
		return;
	}
	if (strcmp(name, "ts") == 0)
		put_ts_value(l);
	else if (strcmp(name, "kind") == 0)
		put(l, PICK(kinds));
	else if (strcmp(name, "from") == 0)
		put(l, PICK(froms));
	else if (strcmp(name, "amount") == 0)
		put(l, PICK(amounts));
	else if (strcmp(name, "text") == 0)
		put_string(l, rng_below(rng_chance(20) ? 60 : 8));
	else
		put_string(l, 1 + rng_below(3));
}

/* Name pieces that keep a record valid: no \u0000, never empty. */
static const char *const name_pieces[] = {
    "b1", "tb3745184503", "alice", "小美", "旗舰店", "s\\\\1", "\\u0061", "😀", "jd_175ef5a3", "é"};

static void put_name(struct line *l)
{
	size_t n = 1 + rng_below(3);
	put_byte(l, '"');
	for (size_t i = 0; i < n; i++)
		put(l, PICK(name_pieces));
	put_byte(l, '"');
}

/* One member of a valid record; which ones a record has is decided by the caller. */
static void put_member(struct line *l, const char *name, const char *word)
{
	put_space(l);
	put_key(l, name);
	put_space(l);
	put_byte(l, ':');
	put_space(l);
	if (word != NULL)
		put(l, word);
	else if (strcmp(name, "ts") == 0)
		put_ts_value(l);
	else if (strcmp(name, "text") == 0)
		put_string(l, rng_below(rng_chance(30) ? 80 : 10));
	else if (strcmp(name, "meta") == 0)
		put_value(l, 1 + (int)rng_below(4));
	else
		put_name(l);
	put_space(l);
}

/* A record meant to be valid (a bad timestamp now and then): the required fields
 * for its kind and some optional and unknown ones, in random order. */
static void generate_valid_record(struct line *l)
{
	static const char *const senders[] = {"\"buyer\"", "\"agent\"", "\"bot\""};
	static const char *const amounts[] = {"\"59.90\"", "59.9", "\"0\"", "10", "0.01"};
	const char *names[12], *words[12];
	size_t n = 0;
	int order = rng_chance(20);

	names[n] = "ts", words[n++] = NULL;
	names[n] = "buyer", words[n++] = NULL;
	if (order) {
		names[n] = "kind", words[n++] = rng_chance(50) ? "\"order\"" : "\"pay\"";
		names[n] = "order", words[n++] = NULL;
		if (rng_chance(80))
			names[n] = "amount", words[n++] = PICK(amounts);
	} else {
		const char *from = PICK(senders);
		names[n] = "from", words[n++] = from;
		if (from[1] == 'a' || rng_chance(50))
			names[n] = "agent", words[n++] = NULL;
		if (rng_chance(10))
			names[n] = "kind", words[n++] = "\"msg\"";
		names[n] = "text", words[n++] = NULL;
	}
	if (rng_chance(80))
		names[n] = "shop", words[n++] = NULL;
	if (rng_chance(70))
		names[n] = "msg_id", words[n++] = NULL;
	if (rng_chance(10))
		names[n] = "meta", words[n++] = NULL;
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_below(i);
		const char *t = names[i - 1];
		names[i - 1] = names[j], names[j] = t;
		t = words[i - 1];
		words[i - 1] = words[j], words[j] = t;
	}
	l->len = 0;
	put_space(l);
	put_byte(l, '{');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			put_byte(l, ',');
		put_member(l, names[i], words[i]);
	}
	put_byte(l, '}');
	put_space(l);
}

/* A record line: the spec's fields in random order, some unknown fields, now and
 * then a repeated field, whitespace, or a long text. */
static void generate_record(struct line *l)
{
	static const char *const fields[] = {"ts",   "kind", "shop",  "buyer", "agent",
	                                     "from", "text", "order", "amount"};
	static const char *const unknown[] = {"msg_id", "platform", "meta", "n", "tags", "备注"};
	size_t members = 2 + rng_below(10), written = 0;

	if (rng_chance(70)) {
		generate_valid_record(l);
		return;
	}
	l->len = 0;
	put_space(l);
	put_byte(l, '{');
	for (size_t i = 0; i < members; i++) {
		const char *name = rng_chance(75) ? PICK(fields) : PICK(unknown);
		if (written++ > 0)
			put_byte(l, ',');
		put_space(l);
		put_key(l, name);
		put_space(l);
		put_byte(l, ':');
		put_space(l);
		if (strcmp(name, "meta") == 0 || strcmp(name, "tags") == 0)
			put_value(l, 1 + (int)rng_below(4));
		else
			put_field_value(l, name);
		put_space(l);
	}
	put_byte(l, '}');
	put_space(l);
}

/* Bytes that matter to a JSON or UTF-8 parser, for flips and insertions. */
static const unsigned char interesting[] = {
    '"',  '\\', '{',  '}',  '[',  ']',  ',',  ':',  ' ',  '\t', '\n', '\r', '\0', 0x01, 0x1f, 0x7f,
    0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 'u',  'e',  'E',
    '.',  '-',  '+',  '0',  '1',  '9',  't',  'f',  'n',  'x',  'a',  'D',  '/',  'b'};

static unsigned char random_byte(void)
{
	return rng_chance(70) ? interesting[rng_below(sizeof(interesting))]
	                      : (unsigned char)rng_below(256);
}

/* One random edit of the line. */
static void mutate(struct line *l)
{
	size_t at = l->len > 0 ? rng_below(l->len) : 0, n;

	switch (rng_below(6)) {
	case 0: /* flip */
		if (l->len > 0)
			l->buf[at] = (char)random_byte();
		break;
	case 1: /* insert */
		if (l->len < sizeof(l->buf)) {
			memmove(l->buf + at + 1, l->buf + at, l->len - at);
			l->buf[at] = (char)random_byte();
			l->len++;
		}
		break;
	case 2: /* delete a few bytes */
		n = 1 + rng_below(4);
		if (at + n <= l->len) {
			memmove(l->buf + at, l->buf + at + n, l->len - at - n);
			l->len -= n;
		}
		break;
	case 3: /* truncate */
		l->len = at;
		break;
	case 4: /* copy a segment over another place */
		n = 1 + rng_below(12);
		if (l->len > n) {
			size_t from = rng_below(l->len - n), to = rng_below(l->len - n);
			memmove(l->buf + to, l->buf + from, n);
		}
		break;
	default: /* swap two neighbours */
		if (at + 1 < l->len) {
			char c = l->buf[at];
			l->buf[at] = l->buf[at + 1];
			l->buf[at + 1] = c;
		}
		break;
	}
}

/* ---- the tests ---- */

/* Cases where the two parsers' rules are easy to get wrong: each gap jsmn leaves,
 * jsmn's own quirks, and the UTF-8 edges. */
static void test_corpus_of_tricky_lines_agrees(void)
{
	static const char *const corpus[] = {
	    "{\"ts\":\"2026-11-24T10:00:00.000+08:00\",\"buyer\":\"b1\",\"from\":\"buyer\"}",
	    "",
	    " ",
	    "{",
	    "}",
	    "{}",
	    "[]",
	    "[{}]",
	    "\"ts\"",
	    "1",
	    "true",
	    "null",
	    "{}}",
	    "{}]",
	    "{},",
	    "{} ",
	    "{}x",
	    "{}{}",
	    "{} 1",
	    "{} 1x",
	    "{}\"s\"",
	    "{}:}",
	    "{}:]",
	    "{}\"a\":}",
	    "{,}",
	    "{\"a\"}",
	    "{\"a\":}",
	    "{\"a\":]",
	    "{\"a\":,\"b\":1}",
	    "{\"a\"::1}",
	    "{\"a\":1:2}",
	    "{\"a\":1\"x\"}",
	    "{\"a\":1 2}",
	    "{\"a\":1 \"b\":2}",
	    "{\"a\" 1}",
	    "{\"a\":[1,]}",
	    "{\"a\":[1,],\"b\":2}",
	    "{\"a\":[,1]}",
	    "{\"a\":[1,,2]}",
	    "{\"a\":[\"k\":1]}",
	    "{\"a\":{,}}",
	    "{\"a\":{\"b\"}}",
	    "{\"a\":{\"b\":}}",
	    "{\"a\":[}",
	    "{\"a\":{]}",
	    "{\"a\":[[1]}",
	    "{1:2}",
	    "{{}:1}",
	    "{\"a\":tru}",
	    "{\"a\":truex}",
	    "{\"a\":nul}",
	    "{\"a\":-}",
	    "{\"a\":01}",
	    "{\"a\":1.}",
	    "{\"a\":.5}",
	    "{\"a\":1e}",
	    "{\"a\":1e+}",
	    "{\"a\":-a}",
	    "{\"a\":1}\x00",
	    "{\"a\":1,\x00\"b\":1}",
	    "{\"a\":\"\\x\"}",
	    "{\"a\":\"\\u12\"}",
	    "{\"a\":\"\\u12G4\"}",
	    "{\"a\":\"\\\"}",
	    "{\"a\":\"\\ud83d\"}",
	    "{\"a\":\"\\ude00\"}",
	    "{\"a\":\"\\ud83d\\u0041\"}",
	    "{\"a\":\"a\tb\"}",
	    "{\"a\":\"\x7f\"}",
	    "{\"a\":\"\xc0\x80\"}",
	    "{\"a\":\"\xed\xa0\x80\"}",
	    "{\"a\":\"\xf4\x90\x80\x80\"}",
	    "{\"a\":\"\xe4\xb8\"}",
	    "{\"a\":1}\xe4",
	    "\xc2\xa0{}",
	    "\f{}",
	    "{}\v",
	    "{\"a\":1\xe4}",
	    "{\"a\":\"x\" \xe4}",
	    "{\"ts\":1795485600,\"buyer\":\"b\\u0000\",\"from\":\"buyer\"}",
	    "{\"ts\":true,\"buyer\":\"b1\",\"from\":\"buyer\",\"ts\":\"2026-11-24T10:00:00Z\"}",
	    "{\"ts\":\"2026-11-24T10:00:00Z\",\"buyer\":\"b1\",\"from\":\"buyer\",\"ts\":\"x\"}",
	    "{\"kind\":\"x\",\"ts\":\"x\",\"amount\":true,\"shop\":1}",
	    "{\"\\u0074s\":\"2026-11-24T10:00:00Z\",\"\\u0062uyer\":\"b9\",\"fr\\u006fm\":\"bot\"}",
	    "{\"ts\":\"2026-11-24T10:00:00Z\",\"buyer\":\"b\",\"from\":\"agent\",\"agent\":\"\"}",
	};

	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++)
		compare_string(corpus[i]);
	compare("{\"a\":1}\0", 8);
	compare("{\"a\":\"\0\"}", 9);
	compare("\0{}", 3);
	CHECK_INT(disagreements, 0);
}

/* Every one-byte substitution, insertion and deletion, and every truncation, of a
 * few records: each position of the line meets each interesting byte. */
static void test_every_one_byte_edit_of_records_agrees(void)
{
	static const char *const records[] = {
	    "{\"ts\":\"2026-11-24T10:00:04.500+08:00\",\"shop\":\"s1\",\"buyer\":\"b1\","
	    "\"agent\":\"alice\",\"from\":\"agent\",\"text\":\"亲,在的哦\"}",
	    "{\"ts\":1795485600.25,\"kind\":\"pay\",\"buyer\":\"买家😀\",\"order\":\"O1\","
	    "\"amount\":59.9,\"x\":[1,{\"y\":null},true]}",
	    " {\"text\":\"a\\u00e9\\ud83d\\ude00\\n\",\"ts\" : \"2026-11-24 10:00:00Z\" ,"
	    "\"from\":\"bot\",\"buyer\":\"b\"} ",
	};
	char line[512];

	for (size_t r = 0; r < sizeof(records) / sizeof(records[0]); r++) {
		const char *rec = records[r];
		size_t len = strlen(rec);

		for (size_t at = 0; at <= len; at++) {
			compare(rec, at); /* truncation */
			for (size_t b = 0; b < sizeof(interesting); b++) {
				memcpy(line, rec, len);
				if (at < len) {
					line[at] = (char)interesting[b];
					compare(line, len);
				}
				memcpy(line, rec, at);
				line[at] = (char)interesting[b];
				memcpy(line + at + 1, rec + at, len - at);
				compare(line, len + 1);
			}
			if (at < len) {
				memcpy(line, rec, at);
				memcpy(line + at, rec + at + 1, len - at - 1);
				compare(line, len - 1);
			}
		}
	}
	CHECK_INT(disagreements, 0);
}

static void test_generated_records_agree(void)
{
	struct line l;
	long accepted_before = 0;

	for (int i = 0; i < GENERATED_LINES; i++) {
		struct record rec;
		char err[128];

		generate_record(&l);
		compare(l.buf, l.len);
		if (parser_parse(trio.parser, l.buf, l.len, &rec, err, sizeof(err)) == 0)
			accepted_before++;
	}
	/* The generator must produce enough valid records to test the accepting side. */
	CHECK(accepted_before > GENERATED_LINES / 3);
	CHECK_INT(disagreements, 0);
}

static void test_mutated_records_agree(void)
{
	struct line l;

	for (int i = 0; i < MUTATED_LINES; i++) {
		int edits = 1 + (int)rng_below(3);
		generate_record(&l);
		for (int e = 0; e < edits; e++)
			mutate(&l);
		compare(l.buf, l.len);
	}
	CHECK_INT(disagreements, 0);
}

/* Records of every length up to a few 64-byte blocks and around 2048 bytes, with
 * multi-byte characters, escapes and quotes landing on every block boundary: the
 * parser reads 16 and 64 bytes at a time and indexes quotes only up to a length. */
static void test_lengths_and_block_boundaries_agree(void)
{
	static const char *const fillers[] = {"a", "中", "😀", "\\n", "é", "\\\"", "\\u4e2d"};
	static const size_t around[] = {0, 16, 48, 64, 128, 192, 1000, 2000, 2048, 4096};
	static struct line l;

	for (size_t a = 0; a < sizeof(around) / sizeof(around[0]); a++) {
		for (size_t extra = 0; extra < 80; extra++) {
			for (size_t f = 0; f < sizeof(fillers) / sizeof(fillers[0]); f++) {
				size_t target = around[a] + extra;
				l.len = 0;
				put(&l, "{\"ts\":\"2026-11-24T10:00:00Z\",\"buyer\":\"b\",\"from\":"
				        "\"bot\",\"text\":\"");
				while (l.len + 2 < target && l.len + 8 < sizeof(l.buf))
					put(&l, l.len % 3 ? "x" : fillers[f]);
				put(&l, "\"}");
				compare(l.buf, l.len);
				if (l.len > 3) {
					l.buf[l.len - 3] =
					    (char)0xe4; /* a cut character near the end */
					compare(l.buf, l.len);
				}
			}
		}
	}
	CHECK_INT(disagreements, 0);
}

/* Around the token limit and the nesting it implies, valid and broken. */
static void test_token_limit_and_nesting_agree(void)
{
	static struct line l;

	for (int n = LIMIT_JSON_TOKENS - 8; n <= LIMIT_JSON_TOKENS + 2; n++) {
		for (int variant = 0; variant < 4; variant++) {
			l.len = 0;
			put(&l, "{\"ts\":1795485600,\"buyer\":\"b\",\"from\":\"buyer\",\"a\":");
			for (int i = 0; i < n; i++)
				put(&l, variant < 2 ? "[" : (i ? ",1" : "[1"));
			if (variant < 2)
				for (int i = 0; i < n; i++)
					put(&l, "]");
			else
				put(&l, "]");
			put(&l, "}");
			if (variant % 2 == 1 && l.len > 20)
				l.buf[l.len - 1 - (size_t)n % 7] = ','; /* broken near the end */
			compare(l.buf, l.len);
		}
	}
	CHECK_INT(disagreements, 0);
}

int main(void)
{
	if (json_trio_init(&trio) != 0)
		return 1;
	rng_state = check_seed("generated and mutated records", rng_state);
	if (rng_state == 0)
		rng_state = 1; /* xorshift stays at 0 */
	RUN(test_corpus_of_tricky_lines_agrees);
	RUN(test_every_one_byte_edit_of_records_agrees);
	RUN(test_generated_records_agree);
	RUN(test_mutated_records_agree);
	RUN(test_lengths_and_block_boundaries_agree);
	RUN(test_token_limit_and_nesting_agree);
	fprintf(stderr, "%ld lines compared, %ld disagreements\n", lines_compared, disagreements);
	json_trio_free(&trio);
	return check_done();
}
