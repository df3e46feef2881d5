/*
 * Tests of import input decoding (daemon/import_input.c): BOMs, GBK, UTF-16, line
 * ends, and a bad line costing only itself.
 */

#include "check.h"

#include "chatlogd/import_input.h"

static struct import_input *from(const char *data, size_t size, enum import_encoding encoding)
{
	return import_input_from_buffer("in.txt", data, size, encoding);
}

static void test_utf8_bom_and_crlf(void)
{
	const char text[] = "\xEF\xBB\xBF在吗\r\n好\r\n";
	struct import_input *in = from(text, sizeof(text) - 1, IMPORT_ENCODING_AUTO);
	CHECK_INT(in->count, 2);
	CHECK_STR(in->lines[0].text, "在吗");
	CHECK_STR(in->lines[1].text, "好");
	CHECK_INT(in->detected, IMPORT_ENCODING_UTF8);
	import_input_free(in);
}

static void test_lone_cr_and_last_line_without_end(void)
{
	const char text[] = "a\rb\n\nc";
	struct import_input *in = from(text, sizeof(text) - 1, IMPORT_ENCODING_AUTO);
	CHECK_INT(in->count, 4);
	CHECK_STR(in->lines[2].text, "");
	CHECK_STR(in->lines[3].text, "c");
	import_input_free(in);
}

static void test_gbk_detected_when_not_utf8(void)
{
	/* "在吗" in GBK. */
	const char text[] = "\xD4\xDA\xC2\xF0\r\n";
	struct import_input *in = from(text, sizeof(text) - 1, IMPORT_ENCODING_AUTO);
	CHECK_INT(in->detected, IMPORT_ENCODING_GBK);
	CHECK_STR(in->lines[0].text, "在吗");
	import_input_free(in);
}

static void test_bad_gbk_byte_costs_one_line(void)
{
	const char text[] = "\xD4\xDA\r\n\x81\r\n\xC2\xF0\r\n";
	struct import_input *in = from(text, sizeof(text) - 1, IMPORT_ENCODING_GBK);
	CHECK_INT(in->count, 3);
	CHECK_STR(in->lines[0].text, "在");
	CHECK_INT(in->lines[1].bad_encoding, 1);
	CHECK_STR(in->lines[2].text, "吗");
	import_input_free(in);
}

static void test_forced_utf8_reports_bad_lines(void)
{
	const char text[] = "ok\n\xD4\xDA\n";
	struct import_input *in = from(text, sizeof(text) - 1, IMPORT_ENCODING_UTF8);
	CHECK_INT(in->lines[0].bad_encoding, 0);
	CHECK_INT(in->lines[1].bad_encoding, 1);
	import_input_free(in);
}

static void test_utf16le_with_bom(void)
{
	/* BOM, "在\r\n吗" in UTF-16LE. */
	const char text[] = "\xFF\xFE\x28\x57\r\x00\n\x00\x17\x54";
	struct import_input *in = from(text, sizeof(text) - 1, IMPORT_ENCODING_AUTO);
	CHECK_INT(in->count, 2);
	CHECK_STR(in->lines[0].text, "在");
	CHECK_STR(in->lines[1].text, "吗");
	import_input_free(in);
}

static void test_nul_byte_makes_the_line_bad(void)
{
	const char text[] = "a\0b\nc\n";
	struct import_input *in = from(text, sizeof(text) - 1, IMPORT_ENCODING_AUTO);
	CHECK_INT(in->lines[0].bad_encoding, 1);
	CHECK_STR(in->lines[1].text, "c");
	import_input_free(in);
}

static void test_missing_file_is_an_error(void)
{
	char err[256];
	CHECK(import_input_read("/nonexistent/export.txt", IMPORT_ENCODING_AUTO, err,
	                        sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent/export.txt") != NULL);
}

int main(void)
{
	RUN(test_utf8_bom_and_crlf);
	RUN(test_lone_cr_and_last_line_without_end);
	RUN(test_gbk_detected_when_not_utf8);
	RUN(test_bad_gbk_byte_costs_one_line);
	RUN(test_forced_utf8_reports_bad_lines);
	RUN(test_utf16le_with_bom);
	RUN(test_nul_byte_makes_the_line_bad);
	RUN(test_missing_file_is_an_error);
	return check_done();
}
