/*
 * Tests for rediskey.c: names inside Redis key names (reference.md §6).
 */
#include <stdio.h>
#include <string.h>

#include "chatlogd/limits.h"
#include "chatlogd/rediskey.h"
#include "check.h"

static const char *escape(const char *name, size_t len)
{
	static char out[REDISKEY_NAME_MAX];
	rediskey_escape(name, len, out, sizeof(out));
	return out;
}

static void test_plain_and_chinese_names_are_unchanged(void)
{
	CHECK_STR(escape("alice", 5), "alice");
	CHECK_STR(escape("优衣库旗舰店", strlen("优衣库旗舰店")), "优衣库旗舰店");
	CHECK_STR(escape("a b-c_d.e", 9), "a b-c_d.e");
}

static void test_every_reserved_byte_is_encoded(void)
{
	CHECK_STR(escape("%{}:*", 5), "%25%7B%7D%3A%2A");
	CHECK_STR(escape("a\nb\tc\x1f\x7f", 7), "a%0Ab%09c%1F\x7f");
	CHECK_STR(escape("x\0y", 3), "x%00y");
}

/* The collision the first key schema allowed: shop "s", agent "x}:a:y" and shop "s}:a:x", agent
 * "y" both gave cs:{s}:a:x}:a:y:...; escaped they differ. */
static void test_names_that_collided_unescaped_differ(void)
{
	char k1[2 * REDISKEY_NAME_MAX + 16], k2[sizeof(k1)];
	char shop[REDISKEY_NAME_MAX];

	snprintf(shop, sizeof(shop), "%s", escape("s", 1));
	snprintf(k1, sizeof(k1), "cs:{%s}:a:%s", shop, escape("x}:a:y", 6));
	snprintf(shop, sizeof(shop), "%s", escape("s}:a:x", 6));
	snprintf(k2, sizeof(k2), "cs:{%s}:a:%s", shop, escape("y", 1));
	CHECK(strcmp(k1, k2) != 0);
	CHECK_STR(k1, "cs:{s}:a:x%7D%3Aa%3Ay");
	CHECK_STR(k2, "cs:{s%7D%3Aa%3Ax}:a:y");
}

static void test_longest_name_fits_and_short_buffers_cut_whole_escapes(void)
{
	char name[LIMIT_NAME_BYTES], out[REDISKEY_NAME_MAX], small[6];

	memset(name, ':', sizeof(name));
	CHECK_INT(rediskey_escape(name, sizeof(name), out, sizeof(out)), 3 * LIMIT_NAME_BYTES);
	CHECK_INT(strlen(out), 3 * LIMIT_NAME_BYTES);
	/* "ab%3A" needs 5 bytes + NUL; "ab%3A%3A" does not fit in 6: cut after a whole escape */
	CHECK_INT(rediskey_escape("ab::", 4, small, sizeof(small)), 8);
	CHECK_STR(small, "ab%3A");
	CHECK_INT(rediskey_escape("abcdefg", 7, small, sizeof(small)), 7);
	CHECK_STR(small, "abcde");
}

int main(void)
{
	RUN(test_plain_and_chinese_names_are_unchanged);
	RUN(test_every_reserved_byte_is_encoded);
	RUN(test_names_that_collided_unescaped_differ);
	RUN(test_longest_name_fits_and_short_buffers_cut_whole_escapes);
	return check_done();
}
