/*
 * Tests for decimal.c: digits only, at least one, and the maximum held exactly,
 * up to UINT64_MAX, without overflow.
 */
#include <stdint.h>
#include <string.h>

#include "chatlogd/decimal.h"
#include "check.h"

static int parses(const char *s, uint64_t max, uint64_t *out)
{
	return decimal_parse(s, strlen(s), max, out) == 0;
}

static void test_digits_parse_up_to_max_inclusive(void)
{
	uint64_t v = 0;

	CHECK(parses("0", 10, &v) && v == 0);
	CHECK(parses("007", 10, &v) && v == 7);
	CHECK(parses("65535", 65535, &v) && v == 65535);
	CHECK(!parses("65536", 65535, &v));
	CHECK(parses("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX);
	CHECK(!parses("18446744073709551616", UINT64_MAX, &v));
	CHECK(!parses("7", 5, &v)); /* one digit past a one-digit max */
}

static void test_sign_blank_empty_and_junk_are_refused(void)
{
	static const char *const bad[] = {"", "+5", "-5", " 5", "5 ", "0x10", "1e3", "1.0"};
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!parses(bad[i], UINT64_MAX, &v));
	CHECK(v == 42); /* untouched on failure */
}

static void test_length_bounds_the_text(void)
{
	uint64_t v = 0;

	CHECK(decimal_parse("123abc", 3, 1000, &v) == 0 && v == 123);
}

int main(void)
{
	RUN(test_digits_parse_up_to_max_inclusive);
	RUN(test_sign_blank_empty_and_junk_are_refused);
	RUN(test_length_bounds_the_text);
	return check_done();
}
