/*
 * Tests for json_write.c: the one escaping rule set, the same through a stream and
 * into a buffer, and a full buffer cut only between whole characters and escapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/json_write.h"
#include "check.h"

struct text_case {
	const char *text;
	size_t len;
	const char *want;
};

static char *json_of(const char *text, size_t len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NULL;
	json_write_string(f, text, len);
	fclose(f);
	return buf;
}

/* The rules (json_write.h), through json_write_string and json_write_escape. */
static void test_escapes_and_repairs(void)
{
	static const struct text_case cases[] = {
	    {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
	    {"l1\nl2\tx\r\x01\x1b[31m", 14, "\"l1\\nl2\\tx\\r\\u0001\\u001b[31m\""},
	    {"售前小美", sizeof("售前小美") - 1, "\"售前小美\""},
	    {"a\xff"
	     "b",
	     3, "\"a\\ufffdb\""},
	    {"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},            /* an overlong '/' */
	    {"x\xe4\xb8", 3, "\"x\\ufffd\\ufffd\""},          /* a character cut short */
	    {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* a UTF-8 encoded surrogate */
	    {"a\0b", 3, "\"a\\u0000b\""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = json_of(cases[i].text, cases[i].len), buf[64], *p = buf + 1;
		CHECK_STR(s, cases[i].want);
		free(s);
		buf[0] = '"';
		json_write_escape(&p, buf + sizeof(buf) - 1, cases[i].text, cases[i].len);
		strcpy(p, "\"");
		CHECK_STR(buf, cases[i].want);
	}
}

static void test_delete_and_slash_pass_as_they_are(void)
{
	char *s = json_of("a/b\x7f", 4);

	CHECK_STR(s, "\"a/b\x7f\"");
	free(s);
}

/* A buffer too small takes whole pieces only: never half an escape or character. */
static void test_escape_cut_between_whole_pieces(void)
{
	char buf[8], *p;

	p = buf;
	json_write_escape(&p, buf + sizeof(buf), "ab\n", 3); /* "ab\\n" fits in 8 */
	CHECK_STR(buf, "ab\\n");
	p = buf;
	json_write_escape(&p, buf + sizeof(buf), "abcdef\n", 7); /* the escape does not fit */
	CHECK_STR(buf, "abcdef");
	CHECK_INT(p - buf, 6);
	p = buf;
	json_write_escape(&p, buf + sizeof(buf), "小王", 6); /* 3 + 3 fit, the NUL too */
	CHECK_STR(buf, "小王");
	p = buf;
	json_write_escape(&p, buf + 6, "小王", 6); /* only the first character fits */
	CHECK_STR(buf, "小");
	p = buf;
	json_write_escape(&p, buf + 1, "x", 1);
	CHECK_STR(buf, "");
}

int main(void)
{
	RUN(test_escapes_and_repairs);
	RUN(test_delete_and_slash_pass_as_they_are);
	RUN(test_escape_cut_between_whole_pieces);
	return check_done();
}
