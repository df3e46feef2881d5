/*
 * Tests for utf8.c: what is well-formed UTF-8 (validation and sequence lengths
 * agree), decoding, encoding and the byte order mark.
 */
#include <string.h>

#include "chatlogd/utf8.h"
#include "check.h"

/* utf8_valid, checked against utf8_sequence_length walking the same bytes. */
static int valid(const char *s, size_t len)
{
	int whole = utf8_valid(s, len);
	size_t i = 0, n = 1;

	while (i < len && (n = utf8_sequence_length((const unsigned char *)s + i, len - i)) > 0)
		i += n;
	CHECK_INT(whole, i == len);
	return whole;
}

static void test_utf8_ascii_chinese_and_emoji_valid(void)
{
	CHECK(valid("", 0));
	CHECK(valid("hello, world: a longer ASCII run", 32));
	CHECK(valid("在吗,这款有现货吗", strlen("在吗,这款有现货吗")));
	CHECK(valid("\xf0\x9f\x98\x80", 4));
	CHECK(valid("\xc3\xa9", 2));
	CHECK(valid("a\0b", 3));
}

static void test_utf8_boundaries_valid(void)
{
	CHECK(valid("\xc2\x80", 2));         /* U+0080 */
	CHECK(valid("\xdf\xbf", 2));         /* U+07FF */
	CHECK(valid("\xe0\xa0\x80", 3));     /* U+0800 */
	CHECK(valid("\xed\x9f\xbf", 3));     /* U+D7FF */
	CHECK(valid("\xee\x80\x80", 3));     /* U+E000 */
	CHECK(valid("\xef\xbf\xbf", 3));     /* U+FFFF */
	CHECK(valid("\xf0\x90\x80\x80", 4)); /* U+10000 */
	CHECK(valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
}

static void test_utf8_overlongs_rejected(void)
{
	CHECK(!valid("\xc0\x80", 2));
	CHECK(!valid("\xc1\xbf", 2));
	CHECK(!valid("\xe0\x80\x80", 3));
	CHECK(!valid("\xe0\x9f\xbf", 3));
	CHECK(!valid("\xf0\x80\x80\x80", 4));
	CHECK(!valid("\xf0\x8f\xbf\xbf", 4));
}

static void test_utf8_surrogates_rejected(void)
{
	CHECK(!valid("\xed\xa0\x80", 3)); /* U+D800 */
	CHECK(!valid("\xed\xbf\xbf", 3)); /* U+DFFF */
	CHECK(!valid("\xed\xa0\xbd\xed\xb8\x80", 6));
}

static void test_utf8_past_10ffff_rejected(void)
{
	CHECK(!valid("\xf4\x90\x80\x80", 4));
	CHECK(!valid("\xf5\x80\x80\x80", 4));
	CHECK(!valid("\xf8\x88\x80\x80\x80", 5));
	CHECK(!valid("\xff", 1));
	CHECK(!valid("\xfe", 1));
}

static void test_utf8_truncated_and_stray_bytes_rejected(void)
{
	CHECK(!valid("\xe4\xb8", 2));
	CHECK(!valid("abcdefghij\xe4\xb8", 12));
	CHECK(!valid("\xc3", 1));
	CHECK(!valid("\xf0\x9f\x98", 3));
	CHECK(!valid("\x80", 1));
	CHECK(!valid("a\xbf", 2));
	CHECK(!valid("\xe4\x41\x80", 3));
	CHECK(!valid("\xf0\x9f\x41\x80", 4));
	/* A sequence cut by the length, though the bytes continue in memory. */
	CHECK(!valid("\xe4\xb8\xad", 2));
}

static void test_sequence_length_of_each_width(void)
{
	CHECK_INT(utf8_sequence_length((const unsigned char *)"a", 1), 1);
	CHECK_INT(utf8_sequence_length((const unsigned char *)"\xc3\xa9", 2), 2);
	CHECK_INT(utf8_sequence_length((const unsigned char *)"\xe5\x9c\xa8x", 4), 3);
	CHECK_INT(utf8_sequence_length((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	CHECK_INT(utf8_sequence_length((const unsigned char *)"\xf0\x9f\x98\x80", 3), 0);
	CHECK_INT(utf8_sequence_length((const unsigned char *)"\x80", 1), 0);
}

/* Every scalar value encodes to bytes that are valid and decode back to it. */
static void test_encode_decode_round_trip_every_scalar_value(void)
{
	int bad = 0;

	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		char buf[4];
		size_t n, i = 0;
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = utf8_encode(cp, buf);
		bad += n != (cp < 0x80      ? 1
		             : cp < 0x800   ? 2
		             : cp < 0x10000 ? 3
		                            : 4) ||
		       utf8_sequence_length((const unsigned char *)buf, n) != n ||
		       utf8_decode((const unsigned char *)buf, n, &i) != cp || i != n;
	}
	CHECK_INT(bad, 0);
}

static void test_decode_truncated_reads_replacement_character(void)
{
	size_t i = 0;

	CHECK_INT(utf8_decode((const unsigned char *)"\xe5\x9c", 2, &i), 0xfffd);
	CHECK_INT(i, 2);
}

static void test_bom_length(void)
{
	CHECK_INT(utf8_bom_length("\xef\xbb\xbfkey", 6), 3);
	CHECK_INT(utf8_bom_length("\xef\xbb", 2), 0);
	CHECK_INT(utf8_bom_length("key", 3), 0);
	CHECK(utf8_is_continuation(0x80) && utf8_is_continuation(0xbf));
	CHECK(!utf8_is_continuation('a') && !utf8_is_continuation(0xc3));
}

int main(void)
{
	RUN(test_utf8_ascii_chinese_and_emoji_valid);
	RUN(test_utf8_boundaries_valid);
	RUN(test_utf8_overlongs_rejected);
	RUN(test_utf8_surrogates_rejected);
	RUN(test_utf8_past_10ffff_rejected);
	RUN(test_utf8_truncated_and_stray_bytes_rejected);
	RUN(test_sequence_length_of_each_width);
	RUN(test_encode_decode_round_trip_every_scalar_value);
	RUN(test_decode_truncated_reads_replacement_character);
	RUN(test_bom_length);
	return check_done();
}
