/*
 * Tests for webaccess.c: which listen addresses count as loopback, the token check
 * (equal bytes only, header or query parameter), and the Host check of a
 * loopback-only dashboard.
 */
#include <string.h>

#include "chatlogd/webaccess.h"
#include "check.h"

static const char token[] = "0123456789abcdef0123";

static int has(const char *authorization, const char *query)
{
	return webaccess_request_has_token(token, strlen(token), authorization, query);
}

static void test_loopback_listen_addresses(void)
{
	CHECK_INT(webaccess_listen_is_loopback("127.0.0.1:9188"), 1);
	CHECK_INT(webaccess_listen_is_loopback("127.1.2.3:0"), 1);
	CHECK_INT(webaccess_listen_is_loopback("localhost:9188"), 1);
	CHECK_INT(webaccess_listen_is_loopback("LOCALHOST:9188"), 1);
	CHECK_INT(webaccess_listen_is_loopback("[::1]:9188"), 1);
}

static void test_other_listen_addresses_need_a_token(void)
{
	CHECK_INT(webaccess_listen_is_loopback("0.0.0.0:9188"), 0);
	CHECK_INT(webaccess_listen_is_loopback("[::]:9188"), 0);
	CHECK_INT(webaccess_listen_is_loopback("192.168.1.5:9188"), 0);
	CHECK_INT(webaccess_listen_is_loopback("128.0.0.1:9188"), 0);
	CHECK_INT(webaccess_listen_is_loopback("dashboard.example:9188"), 0);
	CHECK_INT(webaccess_listen_is_loopback("localhost.example.com:9188"), 0);
	CHECK_INT(webaccess_listen_is_loopback(":9188"), 0);
	CHECK_INT(webaccess_listen_is_loopback("127.0.0.1"), 0); /* no port: not an address */
	CHECK_INT(webaccess_listen_is_loopback("[::1"), 0);
}

static void test_token_equal_only_for_the_same_bytes(void)
{
	CHECK_INT(webaccess_token_equal("abc", 3, "abc", 3), 1);
	CHECK_INT(webaccess_token_equal("abc", 3, "abd", 3), 0);
	CHECK_INT(webaccess_token_equal("abc", 3, "abcd", 4), 0);
	CHECK_INT(webaccess_token_equal("abc", 3, "ab", 2), 0);
	CHECK_INT(webaccess_token_equal("abc", 3, "", 0), 0);
	CHECK_INT(webaccess_token_equal("a\0c", 3, "a\0d", 3), 0); /* bytes past a NUL count */
}

static void test_token_in_the_authorization_header(void)
{
	CHECK_INT(has("Bearer 0123456789abcdef0123", NULL), 1);
	CHECK_INT(has("bearer 0123456789abcdef0123", NULL), 1);
	CHECK_INT(has("Bearer  0123456789abcdef0123", NULL), 1);
	CHECK_INT(has("Bearer 0123456789abcdef012", NULL), 0);   /* a prefix */
	CHECK_INT(has("Bearer 0123456789abcdef01234", NULL), 0); /* one more */
	CHECK_INT(has("Basic 0123456789abcdef0123", NULL), 0);
	CHECK_INT(has("0123456789abcdef0123", NULL), 0);
	CHECK_INT(has(NULL, NULL), 0);
	CHECK_INT(has("", ""), 0);
}

static void test_token_in_the_query(void)
{
	CHECK_INT(has(NULL, "token=0123456789abcdef0123"), 1);
	CHECK_INT(has(NULL, "shop=%E5%BA%97&token=0123456789abcdef0123&day=2026-12-03"), 1);
	CHECK_INT(has(NULL, "token=%30123456789abcdef0123"), 1); /* percent-encoded '0' */
	CHECK_INT(has(NULL, "token=0123456789abcdef012"), 0);
	CHECK_INT(has(NULL, "Token=0123456789abcdef0123"), 0);
	CHECK_INT(has(NULL, "xtoken=0123456789abcdef0123"), 0);
	CHECK_INT(has(NULL, "token="), 0);
	CHECK_INT(has(NULL, "token"), 0);
	/* a wrong header does not hide a right parameter, and the other way round */
	CHECK_INT(has("Bearer nope", "token=0123456789abcdef0123"), 1);
	CHECK_INT(has("Bearer 0123456789abcdef0123", "token=nope"), 1);
	CHECK_INT(has(NULL, "token=nope&token=0123456789abcdef0123"), 1);
}

static void test_host_header_of_a_loopback_dashboard(void)
{
	CHECK_INT(webaccess_host_is_loopback("127.0.0.1:9188"), 1);
	CHECK_INT(webaccess_host_is_loopback("127.0.0.1"), 1);
	CHECK_INT(webaccess_host_is_loopback("localhost:9188"), 1);
	CHECK_INT(webaccess_host_is_loopback("[::1]:9188"), 1);
	CHECK_INT(webaccess_host_is_loopback("[::1]"), 1);
	CHECK_INT(webaccess_host_is_loopback("evil.example:9188"), 0);
	CHECK_INT(webaccess_host_is_loopback("127.0.0.1.evil.example:9188"), 0);
	CHECK_INT(webaccess_host_is_loopback("localhost.evil.example"), 0);
	CHECK_INT(webaccess_host_is_loopback("[::1]x"), 0);
	CHECK_INT(webaccess_host_is_loopback(""), 0);
	CHECK_INT(webaccess_host_is_loopback(NULL), 0);
}

int main(void)
{
	RUN(test_loopback_listen_addresses);
	RUN(test_other_listen_addresses_need_a_token);
	RUN(test_token_equal_only_for_the_same_bytes);
	RUN(test_token_in_the_authorization_header);
	RUN(test_token_in_the_query);
	RUN(test_host_header_of_a_loopback_dashboard);
	return check_done();
}
