/*
 * Tests for the JSON Lines parser (parse_json.c through parse.h): reference.md §1 field
 * rules, RFC 8259 strictness where jsmn alone is lax (one test per gap), string
 * escapes and UTF-8. Timestamps: 2026-11-24T10:00:00+08:00 is 1795485600 s
 * (`date -u -d 2026-11-24T10:00:00+08:00 +%s`).
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/limits.h"
#include "chatlogd/parse.h"
#include "check.h"

#define TS "\"ts\":\"2026-11-24T10:00:00.000+08:00\""
#define TS_MS INT64_C(1795485600000)
#define BUYER_MSG TS ",\"buyer\":\"b1\",\"from\":\"buyer\""

static struct parser *json;
static struct record rec;
static char err[128];

/* Parses a NUL-terminated line. */
static int parse(const char *line)
{
	err[0] = '\0';
	return parser_parse(json, line, strlen(line), &rec, err, sizeof(err));
}

/* Parses exactly len bytes (lines with NUL bytes inside). */
static int parse_bytes(const char *line, size_t len)
{
	err[0] = '\0';
	return parser_parse(json, line, len, &rec, err, sizeof(err));
}

static int view_eq(struct text_view v, const char *want)
{
	return v.len == strlen(want) && memcmp(v.ptr, want, v.len) == 0;
}

/* Expects the line to be rejected with exactly this reason. */
#define CHECK_REJECTS(line, reason)                                                                \
	do {                                                                                       \
		CHECK_INT(parse(line), -1);                                                        \
		CHECK_STR(err, reason);                                                            \
	} while (0)

/* Expects rejection for any JSON grammar reason ("bad JSON...", "bad JSON value", ...). */
#define CHECK_BAD_JSON(line)                                                                       \
	do {                                                                                       \
		CHECK_INT(parse(line), -1);                                                        \
		CHECK(strncmp(err, "bad JSON", 8) == 0);                                           \
	} while (0)

static void test_spec_example_buyer_message(void)
{
	CHECK_INT(
	    parse("{\"ts\":\"2026-11-24T10:00:00.000+08:00\",\"shop\":\"s1\",\"buyer\":\"b1\","
	          "\"agent\":\"alice\",\"from\":\"buyer\",\"text\":\"在吗,这款有现货吗\"}"),
	    0);
	CHECK_INT(rec.ts_ms, TS_MS);
	CHECK_INT(rec.kind, RECORD_MSG);
	CHECK_INT(rec.from, FROM_BUYER);
	CHECK(view_eq(rec.shop, "s1"));
	CHECK(view_eq(rec.buyer, "b1"));
	CHECK(view_eq(rec.agent, "alice"));
	CHECK(view_eq(rec.text, "在吗,这款有现货吗"));
	CHECK_INT(rec.order.len, 0);
	CHECK_INT(rec.amount_fen, 0);
}

static void test_spec_example_agent_message(void)
{
	CHECK_INT(
	    parse("{\"ts\":\"2026-11-24T10:00:04.500+08:00\",\"shop\":\"s1\",\"buyer\":\"b1\","
	          "\"agent\":\"alice\",\"from\":\"agent\",\"text\":\"亲,在的哦\"}"),
	    0);
	CHECK_INT(rec.ts_ms, TS_MS + 4500);
	CHECK_INT(rec.from, FROM_AGENT);
	CHECK(view_eq(rec.text, "亲,在的哦"));
}

static void test_spec_example_payment(void)
{
	CHECK_INT(parse("{\"ts\":\"2026-11-24T10:05:00+08:00\",\"kind\":\"pay\",\"shop\":\"s1\","
	                "\"buyer\":\"b1\",\"order\":\"O1\",\"amount\":\"59.90\"}"),
	          0);
	CHECK_INT(rec.ts_ms, TS_MS + 300000);
	CHECK_INT(rec.kind, RECORD_PAY);
	CHECK_INT(rec.from, FROM_NONE);
	CHECK(view_eq(rec.order, "O1"));
	CHECK_INT(rec.amount_fen, 5990);
}

static void test_strings_without_escapes_borrow_from_line(void)
{
	const char *line = "{" BUYER_MSG ",\"text\":\"hello\"}";
	CHECK_INT(parse(line), 0);
	CHECK(rec.text.ptr >= line && rec.text.ptr < line + strlen(line));
}

static void test_ts_epoch_integer_and_fraction(void)
{
	CHECK_INT(parse("{\"ts\":1795485600,\"buyer\":\"b1\",\"from\":\"buyer\"}"), 0);
	CHECK_INT(rec.ts_ms, TS_MS);
	CHECK_INT(parse("{\"ts\":1795485600.25,\"buyer\":\"b1\",\"from\":\"buyer\"}"), 0);
	CHECK_INT(rec.ts_ms, TS_MS + 250);
	CHECK_INT(parse("{\"ts\":1795485600.2599,\"buyer\":\"b1\",\"from\":\"buyer\"}"), 0);
	CHECK_INT(rec.ts_ms, TS_MS + 259);
}

static void test_ts_epoch_exponent_rejected(void)
{
	CHECK_REJECTS("{\"ts\":1.7954856e9,\"buyer\":\"b1\",\"from\":\"buyer\"}", "bad timestamp");
	CHECK_REJECTS("{\"ts\":1795485600E0,\"buyer\":\"b1\",\"from\":\"buyer\"}", "bad timestamp");
}

static void test_ts_epoch_negative_rejected(void)
{
	CHECK_REJECTS("{\"ts\":-1,\"buyer\":\"b1\",\"from\":\"buyer\"}", "bad timestamp");
	CHECK_REJECTS("{\"ts\":-0,\"buyer\":\"b1\",\"from\":\"buyer\"}", "bad timestamp");
}

static void test_ts_string_must_be_rfc3339(void)
{
	CHECK_REJECTS("{\"ts\":\"1795485600\",\"buyer\":\"b1\",\"from\":\"buyer\"}",
	              "bad timestamp");
	CHECK_REJECTS("{\"ts\":\"2026-11-24 10:00:00\",\"buyer\":\"b1\",\"from\":\"buyer\"}",
	              "bad timestamp");
	CHECK_REJECTS("{\"ts\":\"2026-02-29T10:00:00Z\",\"buyer\":\"b1\",\"from\":\"buyer\"}",
	              "bad timestamp");
}

static void test_ts_wrong_types_rejected(void)
{
	CHECK_REJECTS("{\"ts\":true,\"buyer\":\"b1\",\"from\":\"buyer\"}", "wrong type for ts");
	CHECK_REJECTS("{\"ts\":false,\"buyer\":\"b1\",\"from\":\"buyer\"}", "wrong type for ts");
	CHECK_REJECTS("{\"ts\":[1795485600],\"buyer\":\"b1\",\"from\":\"buyer\"}",
	              "wrong type for ts");
	CHECK_REJECTS("{\"ts\":{\"s\":1},\"buyer\":\"b1\",\"from\":\"buyer\"}",
	              "wrong type for ts");
}

static void test_ts_null_empty_or_absent_is_missing(void)
{
	CHECK_REJECTS("{\"ts\":null,\"buyer\":\"b1\",\"from\":\"buyer\"}", "missing ts");
	CHECK_REJECTS("{\"ts\":\"\",\"buyer\":\"b1\",\"from\":\"buyer\"}", "missing ts");
	CHECK_REJECTS("{\"buyer\":\"b1\",\"from\":\"buyer\"}", "missing ts");
}

static void test_amount_string_and_number_forms(void)
{
	CHECK_INT(parse("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":\"59.90\"}"), 0);
	CHECK_INT(rec.amount_fen, 5990);
	CHECK_INT(parse("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":59.9}"), 0);
	CHECK_INT(rec.amount_fen, 5990);
	CHECK_INT(parse("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":\"0\"}"), 0);
	CHECK_INT(rec.amount_fen, 0);
	CHECK_INT(parse("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":10}"), 0);
	CHECK_INT(rec.amount_fen, 1000);
	CHECK_INT(parse("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":0.01}"), 0);
	CHECK_INT(rec.amount_fen, 1);
}

static void test_amount_null_empty_absent_is_zero(void)
{
	CHECK_INT(parse("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":null}"), 0);
	CHECK_INT(rec.amount_fen, 0);
	CHECK_INT(parse("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":\"\"}"), 0);
	CHECK_INT(rec.amount_fen, 0);
	CHECK_INT(parse("{" TS ",\"kind\":\"order\",\"buyer\":\"b1\"}"), 0);
	CHECK_INT(rec.amount_fen, 0);
}

static void test_amount_invalid_values_rejected(void)
{
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":\"1.234\"}",
	              "bad amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":1.234}", "bad amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":\"-1\"}", "bad amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":-1}", "bad amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":\"1e2\"}",
	              "bad amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":1e2}", "bad amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":\".5\"}", "bad amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":\"5.\"}", "bad amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":\" 5\"}", "bad amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":true}",
	              "wrong type for amount");
	CHECK_REJECTS("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":[5]}",
	              "wrong type for amount");
}

static void test_amount_number_grammar_errors_are_bad_json(void)
{
	/* ".5" and "5." are not JSON numbers at all. */
	CHECK_BAD_JSON("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":.5}");
	CHECK_BAD_JSON("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":5.}");
}

static void test_string_fields_reject_other_types(void)
{
	CHECK_REJECTS("{" BUYER_MSG ",\"shop\":1}", "wrong type for shop");
	CHECK_REJECTS("{" TS ",\"buyer\":7,\"from\":\"buyer\"}", "wrong type for buyer");
	CHECK_REJECTS("{" BUYER_MSG ",\"agent\":[\"a\"]}", "wrong type for agent");
	CHECK_REJECTS("{" TS ",\"buyer\":\"b1\",\"from\":true}", "wrong type for from");
	CHECK_REJECTS("{" BUYER_MSG ",\"text\":{\"t\":\"x\"}}", "wrong type for text");
	CHECK_REJECTS("{" BUYER_MSG ",\"order\":12345}", "wrong type for order");
	CHECK_REJECTS("{" BUYER_MSG ",\"kind\":false}", "wrong type for kind");
}

static void test_null_and_empty_string_mean_absent(void)
{
	CHECK_INT(parse("{" BUYER_MSG ",\"shop\":null,\"agent\":\"\",\"text\":null,\"kind\":null}"),
	          0);
	CHECK(view_eq(rec.shop, "default"));
	CHECK_INT(rec.agent.len, 0);
	CHECK_INT(rec.text.len, 0);
	CHECK_INT(rec.kind, RECORD_MSG);
	CHECK_INT(parse("{" BUYER_MSG ",\"shop\":\"\"}"), 0);
	CHECK(view_eq(rec.shop, "default"));
	CHECK_REJECTS("{" TS ",\"buyer\":\"b1\",\"from\":\"agent\",\"agent\":\"\"}",
	              "missing agent");
	CHECK_REJECTS("{" TS ",\"buyer\":null,\"from\":\"buyer\"}", "missing buyer");
	CHECK_REJECTS("{" TS ",\"buyer\":\"b1\",\"from\":null}", "missing from");
}

static void test_required_fields_per_kind(void)
{
	CHECK_REJECTS("{" TS ",\"from\":\"buyer\"}", "missing buyer");
	CHECK_REJECTS("{" TS ",\"buyer\":\"b1\"}", "missing from");
	CHECK_REJECTS("{" TS ",\"buyer\":\"b1\",\"from\":\"agent\"}", "missing agent");
	CHECK_INT(parse("{" TS ",\"buyer\":\"b1\",\"from\":\"bot\"}"), 0);
	CHECK_INT(rec.from, FROM_BOT);
	CHECK_INT(parse("{" TS ",\"kind\":\"order\",\"buyer\":\"b1\",\"order\":\"O1\"}"), 0);
	CHECK_INT(rec.kind, RECORD_ORDER);
	CHECK_REJECTS("{" TS ",\"kind\":\"order\",\"order\":\"O1\"}", "missing buyer");
	CHECK_REJECTS("{" TS ",\"kind\":\"msg\",\"buyer\":\"b1\"}", "missing from");
}

static void test_bad_kind_and_from_words(void)
{
	CHECK_REJECTS("{" BUYER_MSG ",\"kind\":\"chat\"}", "bad kind");
	CHECK_REJECTS("{" BUYER_MSG ",\"kind\":\"Pay\"}", "bad kind");
	CHECK_REJECTS("{" TS ",\"buyer\":\"b1\",\"from\":\"customer\"}", "bad from");
	CHECK_REJECTS("{" TS ",\"buyer\":\"b1\",\"from\":\"Buyer\"}", "bad from");
}

static void test_unknown_fields_of_any_type_ignored(void)
{
	CHECK_INT(
	    parse("{\"id\":17,\"meta\":{\"ts\":\"garbage\",\"buyer\":1,\"deep\":[[{\"x\":null}]]},"
	          "\"tags\":[\"a\",1,true,false,null,-2.5e-3,{}],\"flag\":true," BUYER_MSG
	          ",\"n\":null}"),
	    0);
	CHECK_INT(rec.ts_ms, TS_MS);
	CHECK(view_eq(rec.buyer, "b1"));
}

static void test_nested_known_names_do_not_set_fields(void)
{
	CHECK_INT(parse("{" BUYER_MSG ",\"x\":{\"buyer\":\"other\",\"text\":\"nested\"}}"), 0);
	CHECK(view_eq(rec.buyer, "b1"));
	CHECK_INT(rec.text.len, 0);
}

static void test_duplicate_keys_last_one_wins(void)
{
	CHECK_INT(parse("{" BUYER_MSG ",\"buyer\":\"b2\"}"), 0);
	CHECK(view_eq(rec.buyer, "b2"));
	/* An earlier bad value is overridden, not checked. */
	CHECK_INT(parse("{\"ts\":true,\"buyer\":\"b1\",\"from\":\"buyer\"," TS "}"), 0);
	CHECK_INT(rec.ts_ms, TS_MS);
	/* A later bad or empty value wins too. */
	CHECK_REJECTS("{" BUYER_MSG ",\"ts\":\"yesterday\"}", "bad timestamp");
	CHECK_REJECTS("{" BUYER_MSG ",\"buyer\":null}", "missing buyer");
}

static void test_key_with_escapes_names_field(void)
{
	CHECK_INT(parse("{" TS ",\"\\u0062uyer\":\"b9\",\"fr\\u006fm\":\"buyer\"}"), 0);
	CHECK(view_eq(rec.buyer, "b9"));
}

static void test_escapes_simple(void)
{
	CHECK_INT(parse("{" BUYER_MSG ",\"text\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t.\"}"), 0);
	CHECK(view_eq(rec.text, "q\"b\\s/b\bf\fn\nr\rt\t."));
}

static void test_escapes_unicode_bmp(void)
{
	CHECK_INT(parse("{" BUYER_MSG ",\"text\":\"\\u00e9\\u4e2d\\u0041\\u007F\"}"), 0);
	CHECK(view_eq(rec.text, "\xc3\xa9\xe4\xb8\xad"
	                        "A\x7f"));
	CHECK_INT(parse("{" BUYER_MSG ",\"text\":\"\\uFFFF\\u0800\\u07ff\"}"), 0);
	CHECK(view_eq(rec.text, "\xef\xbf\xbf\xe0\xa0\x80\xdf\xbf"));
}

static void test_escapes_surrogate_pair_to_four_bytes(void)
{
	CHECK_INT(parse("{" BUYER_MSG ",\"text\":\"\\ud83d\\ude00\"}"), 0);
	CHECK(view_eq(rec.text, "\xf0\x9f\x98\x80"));
	CHECK_INT(parse("{" BUYER_MSG ",\"text\":\"a\\uD83D\\uDE00b\\udbff\\udfff\"}"), 0);
	CHECK(view_eq(rec.text, "a\xf0\x9f\x98\x80"
	                        "b\xf4\x8f\xbf\xbf"));
}

static void test_escapes_mixed_with_raw_utf8(void)
{
	CHECK_INT(parse("{" BUYER_MSG ",\"shop\":\"旗舰\\u5e97\",\"text\":\"在吗\\n有货吗\"}"), 0);
	CHECK(view_eq(rec.shop, "旗舰店"));
	CHECK(view_eq(rec.text, "在吗\n有货吗"));
}

static void test_escaped_nul_allowed_in_text_not_in_names(void)
{
	CHECK_INT(parse("{" BUYER_MSG ",\"text\":\"a\\u0000b\"}"), 0);
	CHECK_INT(rec.text.len, 3);
	CHECK(memcmp(rec.text.ptr, "a\0b", 3) == 0);
	CHECK_REJECTS("{" TS ",\"buyer\":\"b\\u0000\",\"from\":\"buyer\"}", "NUL byte in buyer");
}

static void test_lone_surrogates_rejected(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\ud83d\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\ud83dx\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\ud83d\\u0041\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\ud83d\\ud83d\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\ude00\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\ude00\\ud83d\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\ud83d\\n\"}");
}

static void test_lone_surrogate_in_unknown_field_or_key_rejected(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG ",\"note\":[\"\\udc00\"]}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"\\ud800\":1}");
}

static void test_bad_escapes_rejected(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\x41\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\'\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\u12\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\u12G4\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\U0041\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\\"}");
}

/* jsmn gap: raw control bytes inside strings pass its tokenizer. */
static void test_raw_control_bytes_in_strings_rejected(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"a\tb\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"a\nb\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\x01\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"te\x1fxt\":\"a\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"x\":{\"y\":[\"\x7f ok but \x1b not\"]}}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"\\n then raw\r\"}");
}

static void test_del_byte_in_string_is_fine(void)
{
	CHECK_INT(parse("{" BUYER_MSG ",\"text\":\"a\x7f\"}"), 0);
	CHECK(view_eq(rec.text, "a\x7f"));
}

/* jsmn gap: its primitives are any printable run; numbers need their grammar. */
static void test_number_grammar_enforced(void)
{
	static const char *const bad[] = {
	    "01",   "-01", "1.", "-",     "1e",   "1e+", "1E-",      ".5",        "+1",    "0x1",
	    "1.e5", "--1", "1-", "1e5.0", "1ee5", "NaN", "Infinity", "-Infinity", "1_000", "0.5.1"};
	char line[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "{" BUYER_MSG ",\"n\":%s}", bad[i]);
		CHECK_BAD_JSON(line);
		if (strncmp(err, "bad JSON", 8) != 0)
			fprintf(stderr, "  accepted number %s\n", bad[i]);
	}
}

static void test_valid_numbers_in_unknown_fields_accepted(void)
{
	static const char *const good[] = {
	    "0",    "-0",  "1",    "-1",   "10",       "0.5", "-0.5",
	    "1e5",  "1E5", "1e+5", "1e-5", "-1.5E-07", "0e0", "123456789012345678901234567890",
	    "1.000"};
	char line[256];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "{" BUYER_MSG ",\"n\":%s,\"a\":[%s]}", good[i],
		         good[i]);
		CHECK_INT(parse(line), 0);
	}
}

static void test_literal_grammar_enforced(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG ",\"b\":tru}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"b\":truex}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"b\":True}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"b\":nul}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"b\":nulll}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"b\":fals}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"b\":f}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"b\":undefined}");
}

/* jsmn gap: a quote does not end a primitive, so 1"x" is one token to jsmn. */
static void test_primitive_glued_to_string_rejected(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG ",\"n\":1\"x\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"n\":true\"x\"}");
}

/* jsmn gap: commas between members are not required. */
static void test_missing_comma_rejected(void)
{
	CHECK_BAD_JSON("{" TS " \"buyer\":\"b1\",\"from\":\"buyer\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"n\":1 \"m\":2}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":[1 2]}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":[\"x\" \"y\"]}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":{} \"b\":1}");
}

/* jsmn gap: colons between key and value are not required either. */
static void test_missing_or_extra_colon_rejected(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\" \"x\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"n\" 1}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\"::\"x\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"x\":\"y\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":[\"k\":1]}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"lonely\"}");
}

/* jsmn gap: doubled, leading and trailing commas. */
static void test_stray_commas_rejected(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG ",}");
	CHECK_BAD_JSON("{," BUYER_MSG "}");
	CHECK_BAD_JSON("{" BUYER_MSG ",,\"n\":1}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":[1,]}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":[,1]}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":[1,,2]}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"o\":{,}}");
	CHECK_BAD_JSON("{,}");
}

/* jsmn gap: it tokenizes past the first value and stops quietly at a NUL. */
static void test_data_after_object_rejected(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG "}x");
	CHECK_BAD_JSON("{" BUYER_MSG "}{\"n\":1}");
	CHECK_BAD_JSON("{" BUYER_MSG "},");
	CHECK_BAD_JSON("{" BUYER_MSG "}}");
	CHECK_BAD_JSON("{" BUYER_MSG "}]");
	CHECK_BAD_JSON("{" BUYER_MSG "} 1");
	CHECK_BAD_JSON("{" BUYER_MSG "}\"s\"");
}

static void test_nul_byte_outside_string_rejected(void)
{
	static const char after[] = "{" BUYER_MSG "}\0";
	static const char inside[] = "{" BUYER_MSG ",\0\"n\":1}";
	static const char in_string[] = "{" BUYER_MSG ",\"text\":\"a\0b\"}";
	CHECK_INT(parse_bytes(after, sizeof(after) - 1), -1);
	CHECK(strncmp(err, "bad JSON", 8) == 0);
	CHECK_INT(parse_bytes(inside, sizeof(inside) - 1), -1);
	CHECK(strncmp(err, "bad JSON", 8) == 0);
	CHECK_INT(parse_bytes(in_string, sizeof(in_string) - 1), -1);
	CHECK(strncmp(err, "bad JSON", 8) == 0);
}

static void test_top_level_must_be_one_object(void)
{
	CHECK_BAD_JSON("[{" BUYER_MSG "}]");
	CHECK_BAD_JSON("\"ts\"");
	CHECK_BAD_JSON("1795485600");
	CHECK_BAD_JSON("true");
	CHECK_BAD_JSON("null");
	CHECK_BAD_JSON("");
	CHECK_BAD_JSON("   ");
	CHECK_BAD_JSON("{");
	CHECK_BAD_JSON("}");
}

static void test_unclosed_and_mismatched_brackets_rejected(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG);
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":[1}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":{\"b\":1]}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"a\":[[1]}");
	CHECK_BAD_JSON("{" BUYER_MSG ",\"text\":\"unterminated}");
}

static void test_keys_must_be_strings(void)
{
	CHECK_BAD_JSON("{" BUYER_MSG ",1:2}");
	CHECK_BAD_JSON("{" BUYER_MSG ",text:\"x\"}");
	CHECK_BAD_JSON("{" BUYER_MSG ",{}:1}");
	CHECK_BAD_JSON("{" BUYER_MSG ",'text':'x'}");
}

static void test_whitespace_around_and_between_tokens_accepted(void)
{
	CHECK_INT(
	    parse(" \t{ \"ts\" : \"2026-11-24T10:00:00+08:00\" ,\n\"buyer\"\t:\"b1\" , \"from\":"
	          "\"buyer\" , \"a\" : [ 1 , { } , [ ] ] }\r\n \t"),
	    0);
	CHECK_INT(rec.ts_ms, TS_MS);
	CHECK(view_eq(rec.buyer, "b1"));
}

static void test_non_json_whitespace_rejected(void)
{
	CHECK_BAD_JSON("\f{" BUYER_MSG "}");
	CHECK_BAD_JSON("{" BUYER_MSG "}\v");
	CHECK_BAD_JSON("\xc2\xa0{" BUYER_MSG "}");
}

static void test_invalid_utf8_rejected(void)
{
	CHECK_REJECTS("{" BUYER_MSG ",\"text\":\"\xc0\x80\"}", "invalid UTF-8");
	CHECK_REJECTS("{" BUYER_MSG ",\"text\":\"\xed\xa0\x80\"}", "invalid UTF-8");
	CHECK_REJECTS("{" BUYER_MSG ",\"text\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8");
	CHECK_REJECTS("{" BUYER_MSG ",\"text\":\"\xe4\xb8\"}", "invalid UTF-8");
	CHECK_REJECTS("{" BUYER_MSG ",\"text\":\"\xf0\x9f\x98\"}", "invalid UTF-8");
	CHECK_REJECTS("{" BUYER_MSG ",\"text\":\"\x80\"}", "invalid UTF-8");
	CHECK_REJECTS("{" BUYER_MSG ",\"text\":\"\xff\"}", "invalid UTF-8");
	CHECK_REJECTS("{" BUYER_MSG ",\"\xe4\xb8\":1}", "invalid UTF-8");
	CHECK_REJECTS("{" BUYER_MSG "}\xe4", "invalid UTF-8");
}

static void test_valid_utf8_everywhere_accepted(void)
{
	CHECK_INT(parse("{" TS ",\"buyer\":\"买家😀\",\"from\":\"buyer\",\"备注\":\"é ü ñ\"}"), 0);
	CHECK(view_eq(rec.buyer, "买家😀"));
}

static void test_too_many_tokens_rejected(void)
{
	char line[4096];
	size_t n = (size_t)snprintf(line, sizeof(line), "{" BUYER_MSG ",\"a\":[");
	for (int i = 0; i < LIMIT_JSON_TOKENS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s1", i ? "," : "");
	snprintf(line + n, sizeof(line) - n, "]}");
	CHECK_REJECTS(line, "too many JSON tokens");
}

static void test_deep_nesting_within_token_limit_accepted(void)
{
	char line[1024];
	size_t n = (size_t)snprintf(line, sizeof(line), "{" BUYER_MSG ",\"a\":");
	for (int i = 0; i < 200; i++)
		line[n++] = '[';
	for (int i = 0; i < 200; i++)
		line[n++] = ']';
	line[n++] = '}';
	line[n] = '\0';
	CHECK_INT(parse(line), 0);
}

static void test_long_escaped_text_beyond_initial_scratch(void)
{
	size_t reps = 20000;
	size_t cap = reps * 8 + 256;
	char *line = malloc(cap);
	size_t n = (size_t)snprintf(line, cap, "{" BUYER_MSG ",\"text\":\"");
	for (size_t i = 0; i < reps; i++) {
		memcpy(line + n, "\\u4e2d\\n", 8);
		n += 8;
	}
	n += (size_t)snprintf(line + n, cap - n, "\"}");
	CHECK_INT(parse_bytes(line, n), 0);
	CHECK_INT(rec.text.len, reps * 4);
	CHECK(memcmp(rec.text.ptr, "\xe4\xb8\xad\n\xe4\xb8\xad\n", 8) == 0);
	CHECK(memcmp(rec.text.ptr + rec.text.len - 4, "\xe4\xb8\xad\n", 4) == 0);
	free(line);
}

static void test_several_escaped_fields_do_not_overlap(void)
{
	CHECK_INT(parse("{" TS
	                ",\"buyer\":\"b\\u0031\",\"from\":\"buy\\u0065r\",\"agent\":\"\\u0061\","
	                "\"shop\":\"s\\/1\",\"text\":\"t\\\\\",\"order\":\"O\\u0031\"}"),
	          0);
	CHECK(view_eq(rec.buyer, "b1"));
	CHECK_INT(rec.from, FROM_BUYER);
	CHECK(view_eq(rec.agent, "a"));
	CHECK(view_eq(rec.shop, "s/1"));
	CHECK(view_eq(rec.text, "t\\"));
	CHECK(view_eq(rec.order, "O1"));
}

static void test_name_length_limit(void)
{
	char line[1024];
	char name[LIMIT_NAME_BYTES + 2];
	memset(name, 'x', sizeof(name));
	name[LIMIT_NAME_BYTES] = '\0';
	snprintf(line, sizeof(line), "{" BUYER_MSG ",\"agent\":\"%s\"}", name);
	CHECK_INT(parse(line), 0);
	name[LIMIT_NAME_BYTES] = 'x';
	name[LIMIT_NAME_BYTES + 1] = '\0';
	snprintf(line, sizeof(line), "{" BUYER_MSG ",\"agent\":\"%s\"}", name);
	CHECK_REJECTS(line, "agent too long");
}

static void test_record_reset_between_lines(void)
{
	CHECK_INT(parse("{" TS ",\"kind\":\"pay\",\"buyer\":\"b1\",\"amount\":5,\"text\":\"t\"}"),
	          0);
	CHECK_INT(parse("{" BUYER_MSG "}"), 0);
	CHECK_INT(rec.kind, RECORD_MSG);
	CHECK_INT(rec.amount_fen, 0);
	CHECK_INT(rec.text.len, 0);
}

static void test_error_message_cut_to_errlen(void)
{
	char small[4];
	const char *line = "{" TS ",\"from\":\"buyer\"}";
	CHECK_INT(parser_parse(json, line, strlen(line), &rec, small, sizeof(small)), -1);
	CHECK_STR(small, "mis");
}

static void test_parser_new_rejects_unknown_format(void)
{
	char e[128];
	CHECK(parser_new("xml", e, sizeof(e)) == NULL);
	CHECK(strstr(e, "xml") != NULL);
	CHECK(parser_new("regex:", e, sizeof(e)) == NULL);
	CHECK(parser_new("JSON", e, sizeof(e)) == NULL);
	parser_free(NULL);
}

/* A rejected line names the first thing wrong in it, reading left to right; the
 * jsmn-based parser before this one named some of these plain "bad JSON". */
static void test_rejection_names_the_first_error_in_document_order(void)
{
	CHECK_REJECTS("1", "bad JSON: not an object at column 1");
	CHECK_REJECTS("}", "bad JSON: not an object at column 1");
	CHECK_REJECTS("{" BUYER_MSG "}}", "bad JSON: data after the object at column 67");
	CHECK_REJECTS("{" BUYER_MSG "} 1", "bad JSON: data after the object at column 68");
	CHECK_REJECTS("{\"ts\":}", "bad JSON: expected a value at column 7");
	CHECK_REJECTS("{\"ts\":01}", "bad JSON value at column 7");
	CHECK_REJECTS("{\"a\":\"\\q\",\"b\":01}", "bad JSON string at column 7");
	CHECK_REJECTS("{\"a\":01,\"b\":\"\\q\"}", "bad JSON value at column 6");
	CHECK_REJECTS("{\"a\":1 \"b\":2}", "bad JSON at column 8");
}

/* A line of valid JSON with several unacceptable fields names the first in the line. */
static void test_bad_fields_reported_in_document_order(void)
{
	CHECK_REJECTS("{\"shop\":1," BUYER_MSG ",\"kind\":false}", "wrong type for shop");
	CHECK_REJECTS("{\"kind\":false," BUYER_MSG ",\"shop\":1}", "wrong type for kind");
	CHECK_REJECTS("{\"from\":true,\"ts\":true,\"buyer\":\"b1\"}", "wrong type for from");
	/* A later value of the same key replaces the bad one, and its place. */
	CHECK_REJECTS("{\"shop\":1,\"kind\":false," BUYER_MSG ",\"shop\":2}",
	              "wrong type for kind");
	/* Broken JSON is reported as such, even after a bad field. */
	CHECK_REJECTS("{\"shop\":1," BUYER_MSG ",}", "bad JSON at column 76");
}

int main(void)
{
	char e[128];
	if ((json = parser_new("json", e, sizeof(e))) == NULL) {
		fprintf(stderr, "parser_new: %s\n", e);
		return 1;
	}
	RUN(test_spec_example_buyer_message);
	RUN(test_spec_example_agent_message);
	RUN(test_spec_example_payment);
	RUN(test_strings_without_escapes_borrow_from_line);
	RUN(test_ts_epoch_integer_and_fraction);
	RUN(test_ts_epoch_exponent_rejected);
	RUN(test_ts_epoch_negative_rejected);
	RUN(test_ts_string_must_be_rfc3339);
	RUN(test_ts_wrong_types_rejected);
	RUN(test_ts_null_empty_or_absent_is_missing);
	RUN(test_amount_string_and_number_forms);
	RUN(test_amount_null_empty_absent_is_zero);
	RUN(test_amount_invalid_values_rejected);
	RUN(test_amount_number_grammar_errors_are_bad_json);
	RUN(test_string_fields_reject_other_types);
	RUN(test_null_and_empty_string_mean_absent);
	RUN(test_required_fields_per_kind);
	RUN(test_bad_kind_and_from_words);
	RUN(test_unknown_fields_of_any_type_ignored);
	RUN(test_nested_known_names_do_not_set_fields);
	RUN(test_duplicate_keys_last_one_wins);
	RUN(test_key_with_escapes_names_field);
	RUN(test_escapes_simple);
	RUN(test_escapes_unicode_bmp);
	RUN(test_escapes_surrogate_pair_to_four_bytes);
	RUN(test_escapes_mixed_with_raw_utf8);
	RUN(test_escaped_nul_allowed_in_text_not_in_names);
	RUN(test_lone_surrogates_rejected);
	RUN(test_lone_surrogate_in_unknown_field_or_key_rejected);
	RUN(test_bad_escapes_rejected);
	RUN(test_raw_control_bytes_in_strings_rejected);
	RUN(test_del_byte_in_string_is_fine);
	RUN(test_number_grammar_enforced);
	RUN(test_valid_numbers_in_unknown_fields_accepted);
	RUN(test_literal_grammar_enforced);
	RUN(test_primitive_glued_to_string_rejected);
	RUN(test_missing_comma_rejected);
	RUN(test_missing_or_extra_colon_rejected);
	RUN(test_stray_commas_rejected);
	RUN(test_data_after_object_rejected);
	RUN(test_nul_byte_outside_string_rejected);
	RUN(test_top_level_must_be_one_object);
	RUN(test_unclosed_and_mismatched_brackets_rejected);
	RUN(test_keys_must_be_strings);
	RUN(test_whitespace_around_and_between_tokens_accepted);
	RUN(test_non_json_whitespace_rejected);
	RUN(test_invalid_utf8_rejected);
	RUN(test_valid_utf8_everywhere_accepted);
	RUN(test_too_many_tokens_rejected);
	RUN(test_deep_nesting_within_token_limit_accepted);
	RUN(test_long_escaped_text_beyond_initial_scratch);
	RUN(test_several_escaped_fields_do_not_overlap);
	RUN(test_name_length_limit);
	RUN(test_record_reset_between_lines);
	RUN(test_error_message_cut_to_errlen);
	RUN(test_parser_new_rejects_unknown_format);
	RUN(test_rejection_names_the_first_error_in_document_order);
	RUN(test_bad_fields_reported_in_document_order);
	parser_free(json);
	return check_done();
}
