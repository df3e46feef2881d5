/*
 * Tests for sse.c: events framed line by line whatever their text holds, comments on
 * one line, and alert messages from Redis always sent as one line of valid JSON.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "chatlogd/scoreboard.h"
#include "chatlogd/sse.h"
#include "check.h"

/* The buffer's text, NUL-terminated; the buffer is emptied. */
static char *take(struct evbuffer *b)
{
	size_t len = evbuffer_get_length(b);
	char *text = calloc(1, len + 1);

	evbuffer_remove(b, text, len);
	return text;
}

static void expect_event(const char *name, const char *data, size_t len, const char *want)
{
	struct evbuffer *b = evbuffer_new();
	char *got;

	sse_event(b, name, data, len);
	got = take(b);
	CHECK_STR(got, want);
	free(got);
	evbuffer_free(b);
}

static void test_one_line_event(void)
{
	expect_event("alert", "{\"a\":1}", 7, "event: alert\ndata: {\"a\":1}\n\n");
	expect_event(NULL, "x", 1, "data: x\n\n");
	expect_event(NULL, "", 0, "data: \n\n");
}

static void test_line_breaks_become_data_lines_never_a_new_event(void)
{
	/* "\n\nevent: forged" inside the data must not end the event or start another. */
	expect_event("alert", "a\n\nevent: forged\ndata: x", 24,
	             "event: alert\ndata: a\ndata: \ndata: event: forged\ndata: data: x\n\n");
	expect_event(NULL, "a\r\nb\rc\n", 7, "data: a\ndata: b\ndata: c\ndata: \n\n");
}

static void test_comment_is_one_line(void)
{
	struct evbuffer *b = evbuffer_new();
	char *got;

	sse_comment(b, "ping\n\ndata: forged");
	got = take(b);
	CHECK_STR(got, ": ping\n\n");
	free(got);
	evbuffer_free(b);
}

static char *alert_event(const char *message, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	char *got;

	sse_alert(b, message, len);
	got = take(b);
	evbuffer_free(b);
	return got;
}

static void test_valid_alert_json_passes_on_one_line(void)
{
	const char msg[] =
	    "{\"type\":\"raised\",\n \"shop\":\"优衣库\",\r\n\"agent\":\"</script>\"}";
	char *got = alert_event(msg, strlen(msg));

	CHECK_STR(got, "event: alert\ndata: {\"type\":\"raised\",  \"shop\":\"优衣库\",  "
	               "\"agent\":\"</script>\"}\n\n");
	free(got);
}

static void test_invalid_alert_becomes_a_json_string(void)
{
	char *got = alert_event("not json\n<b>\"x\"</b>", 19);
	const char bad_utf8[] = {'{', '"', 'a', '"', ':', '"', (char)0xff, '"', '}'};

	CHECK_STR(got, "event: alert\ndata: \"not json\\n<b>\\\"x\\\"</b>\"\n\n");
	free(got);
	got = alert_event(bad_utf8, sizeof(bad_utf8));
	CHECK_STR(got, "event: alert\ndata: \"{\\\"a\\\":\\\"\\ufffd\\\"}\"\n\n");
	free(got);
	got = alert_event("", 0);
	CHECK_STR(got, "event: alert\ndata: \"\"\n\n");
	free(got);
}

static void test_every_alert_data_is_valid_json(void)
{
	static const char *const messages[] = {
	    "{}", "[1,2]", "\"x\"", "{\"a\":", "\x01\x02", "{\"a\":\"\\u0000\"}", "null", "\r\n",
	};
	for (size_t i = 0; i < sizeof(messages) / sizeof(*messages); i++) {
		char *got = alert_event(messages[i], strlen(messages[i]));
		size_t prefix = strlen("event: alert\ndata: ");
		size_t len = strlen(got);
		CHECK(len > prefix + 2 && strcmp(got + len - 2, "\n\n") == 0);
		CHECK(memchr(got + prefix, '\n', len - prefix - 2) == NULL);
		CHECK(scoreboard_json_valid(got + prefix, len - prefix - 2));
		free(got);
	}
}

int main(void)
{
	RUN(test_one_line_event);
	RUN(test_line_breaks_become_data_lines_never_a_new_event);
	RUN(test_comment_is_one_line);
	RUN(test_valid_alert_json_passes_on_one_line);
	RUN(test_invalid_alert_becomes_a_json_string);
	RUN(test_every_alert_data_is_valid_json);
	return check_done();
}
