/*
 * Tests for subscriber.c against private redis-servers on a real libevent loop:
 * messages of the channel (and only of it) arrive as they were published, binary
 * and Chinese text included; a crashed server is subscribed to again once it is
 * back, or on the next node given (a cluster's) when it is not; AUTH from a
 * password file; a wrong password is reported and retried; and freeing from inside
 * a message callback.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "chatlogd/subscriber.h"
#include "check.h"
#include "redis_server.h"

#define WAIT_MS 10000

struct probe {
	struct subscriber *sub;
	int ups, downs, subscribed;
	char reason[256];
	int messages;
	char last[256];
	size_t last_len;
	int free_on_message;
};

static void on_message(void *ctx, const char *message, size_t len)
{
	struct probe *p = ctx;

	p->messages++;
	p->last_len = len < sizeof(p->last) ? len : sizeof(p->last);
	memcpy(p->last, message, p->last_len);
	if (p->free_on_message) {
		subscriber_free(p->sub);
		p->sub = NULL;
	}
}

static void on_state(void *ctx, int subscribed, const char *reason)
{
	struct probe *p = ctx;

	p->subscribed = subscribed;
	if (subscribed)
		p->ups++;
	else
		p->downs++;
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
}

static void loop_once(struct event_base *base)
{
	struct timeval tv = {0, 10000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

#define LOOP_UNTIL(base, cond, timeout_ms)                                                         \
	do {                                                                                       \
		int64_t loop_until_ = redis_server_now_ms() + (timeout_ms);                        \
		while (!(cond) && redis_server_now_ms() < loop_until_)                             \
			loop_once(base);                                                           \
	} while (0)

static struct subscriber *subscribe(struct event_base *base, const char *url,
                                    const char *password_file, struct probe *p)
{
	struct subscriber_settings s = {
	    .url = url,
	    .password_file = password_file,
	    .channel = "cs:alerts",
	    .connect_timeout_ms = 2000,
	    .backoff_min_ms = 20,
	    .backoff_max_ms = 200,
	};
	char err[256] = "";

	memset(p, 0, sizeof(*p));
	p->sub = subscriber_new(base, &s, on_message, on_state, p, err, sizeof(err));
	if (p->sub == NULL)
		fprintf(stderr, "subscriber_new: %s\n", err);
	return p->sub;
}

/* PUBLISH through the helper's blocking client; the number of receivers. */
static long long publish(const struct redis_server *srv, const char *channel, const char *message,
                         size_t len)
{
	redisReply *reply = redis_server_command(srv, 0, "PUBLISH %s %b", channel, message, len);
	long long n = reply != NULL && reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;

	if (reply != NULL)
		freeReplyObject(reply);
	return n;
}

static void test_messages_of_the_channel_arrive_as_published(void)
{
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct event_base *base = event_base_new();
	const char chinese[] = "{\"shop\":\"优衣库官方旗舰店\",\"agent\":\"售前小美\"}";
	const char binary[] = {'a', '\0', '\n', (char)0xff};
	struct redis_server srv;
	struct probe p;

	memset(&p, 0, sizeof(p));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	if (subscribe(base, srv.url, "", &p) == NULL) {
		CHECK(!"subscriber_new");
		goto end;
	}
	CHECK_INT(subscriber_subscribed(p.sub), 0); /* nothing happens before the loop runs */
	LOOP_UNTIL(base, p.subscribed, WAIT_MS);
	CHECK_INT(subscriber_subscribed(p.sub), 1);
	CHECK_INT(p.ups, 1);
	CHECK_INT(publish(&srv, "cs:other", "x", 1), 0);
	CHECK_INT(publish(&srv, "cs:alerts", chinese, strlen(chinese)), 1);
	LOOP_UNTIL(base, p.messages == 1, WAIT_MS);
	CHECK_INT(p.messages, 1);
	CHECK_INT(p.last_len, strlen(chinese));
	CHECK(memcmp(p.last, chinese, strlen(chinese)) == 0);
	CHECK_INT(publish(&srv, "cs:alerts", binary, sizeof(binary)), 1);
	LOOP_UNTIL(base, p.messages == 2, WAIT_MS);
	CHECK_INT(p.last_len, sizeof(binary));
	CHECK(memcmp(p.last, binary, sizeof(binary)) == 0);
	CHECK_INT(p.downs, 0);
end:
	subscriber_free(p.sub);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_subscribes_again_after_a_crash(void)
{
	struct redis_server_options opt = {0, NULL, NULL, NULL};
	struct event_base *base = event_base_new();
	struct redis_server srv;
	struct probe p;

	memset(&p, 0, sizeof(p));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	if (subscribe(base, srv.url, NULL, &p) == NULL) {
		CHECK(!"subscriber_new");
		goto end;
	}
	LOOP_UNTIL(base, p.subscribed, WAIT_MS);
	redis_server_kill(&srv);
	LOOP_UNTIL(base, !p.subscribed, WAIT_MS);
	CHECK_INT(p.subscribed, 0);
	CHECK(p.downs >= 1);
	CHECK(strstr(p.reason, "connection lost") != NULL);
	LOOP_UNTIL(base, p.downs >= 3, WAIT_MS); /* attempts go on while it is down */
	CHECK(p.downs >= 3);
	CHECK(strstr(p.reason, "connect") != NULL);
	if (redis_server_spawn(&srv) == -1) {
		CHECK(!"redis_server_spawn");
		goto end;
	}
	LOOP_UNTIL(base, p.subscribed, WAIT_MS);
	CHECK_INT(p.ups, 2);
	CHECK_INT(publish(&srv, "cs:alerts", "back", 4), 1);
	LOOP_UNTIL(base, p.messages == 1, WAIT_MS);
	CHECK_INT(p.messages, 1);
	CHECK(p.last_len == 4 && memcmp(p.last, "back", 4) == 0);
end:
	subscriber_free(p.sub);
	redis_server_stop(&srv);
	event_base_free(base);
}

/* A cluster's subscriber: PUBLISH reaches every node, so when its node dies it
 * subscribes on the next one it was given. */
static void test_moves_to_the_other_node_when_its_node_dies(void)
{
	struct redis_server_options opt = {0, NULL, NULL, NULL};
	struct event_base *base = event_base_new();
	struct redis_server first, second;
	struct subscriber_node other = {.address = "127.0.0.1"};
	struct subscriber_settings s = {
	    .channel = "cs:alerts",
	    .connect_timeout_ms = 2000,
	    .backoff_min_ms = 20,
	    .backoff_max_ms = 200,
	    .other_nodes = &other,
	    .other_node_count = 1,
	};
	struct probe p;
	char err[256] = "";

	memset(&p, 0, sizeof(p));
	memset(&first, 0, sizeof(first));
	memset(&second, 0, sizeof(second));
	if (redis_server_start(&first, &opt) == -1 || redis_server_start(&second, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	s.url = first.url;
	other.port = second.port;
	if ((p.sub = subscriber_new(base, &s, on_message, on_state, &p, err, sizeof(err))) ==
	    NULL) {
		CHECK(!"subscriber_new");
		goto end;
	}
	LOOP_UNTIL(base, p.subscribed, WAIT_MS);
	CHECK_INT(publish(&first, "cs:alerts", "one", 3), 1);
	CHECK_INT(publish(&second, "cs:alerts", "none", 4), 0);
	redis_server_kill(&first);
	LOOP_UNTIL(base, p.ups == 2, WAIT_MS);
	CHECK_INT(p.ups, 2);
	CHECK_INT(publish(&second, "cs:alerts", "two", 3), 1);
	LOOP_UNTIL(base, p.messages == 2, WAIT_MS);
	CHECK_INT(p.messages, 2);
	CHECK(p.last_len == 3 && memcmp(p.last, "two", 3) == 0);
end:
	subscriber_free(p.sub);
	redis_server_stop(&first);
	redis_server_stop(&second);
	event_base_free(base);
}

static void test_auth_from_a_password_file_and_a_wrong_one(void)
{
	static const char *const args[] = {"--requirepass", "s3cret", NULL};
	struct redis_server_options opt = {0, args, NULL, "s3cret"};
	struct event_base *base = event_base_new();
	struct redis_server srv;
	struct probe good, bad;
	char path[2][128];
	FILE *f;

	memset(&good, 0, sizeof(good));
	memset(&bad, 0, sizeof(bad));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/password%d", srv.dir, i);
		if ((f = fopen(path[i], "w")) == NULL) {
			CHECK(!"fopen");
			goto end;
		}
		fputs(i == 0 ? "s3cret\n" : "wrong\n", f);
		fclose(f);
		chmod(path[i], 0600);
	}
	if (subscribe(base, srv.url, path[0], &good) == NULL ||
	    subscribe(base, srv.url, path[1], &bad) == NULL) {
		CHECK(!"subscriber_new");
		goto end;
	}
	LOOP_UNTIL(base, good.subscribed && bad.downs >= 2, WAIT_MS);
	CHECK_INT(good.subscribed, 1);
	CHECK_INT(bad.subscribed, 0);
	CHECK(bad.downs >= 2); /* refused, and tried again */
	CHECK(strstr(bad.reason, "AUTH failed") != NULL);
	CHECK(strstr(bad.reason, "wrong") == NULL); /* never the password */
	CHECK_INT(publish(&srv, "cs:alerts", "m", 1), 1);
	LOOP_UNTIL(base, good.messages == 1, WAIT_MS);
	CHECK_INT(good.messages, 1);
	CHECK_INT(bad.messages, 0);
end:
	subscriber_free(good.sub);
	subscriber_free(bad.sub);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_free_inside_the_message_callback(void)
{
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct event_base *base = event_base_new();
	struct redis_server srv;
	struct probe p;

	memset(&p, 0, sizeof(p));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	if (subscribe(base, srv.url, "", &p) == NULL) {
		CHECK(!"subscriber_new");
		goto end;
	}
	LOOP_UNTIL(base, p.subscribed, WAIT_MS);
	p.free_on_message = 1;
	/* Two messages in one read: the second must not reach a freed subscriber. */
	CHECK_INT(publish(&srv, "cs:alerts", "one", 3), 1);
	CHECK_INT(publish(&srv, "cs:alerts", "two", 3), 1);
	LOOP_UNTIL(base, p.messages >= 1, WAIT_MS);
	for (int i = 0; i < 20; i++)
		loop_once(base);
	CHECK_INT(p.messages, 1);
	CHECK(p.sub == NULL);
end:
	subscriber_free(p.sub);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_bad_settings_are_refused(void)
{
	struct subscriber_settings s = {
	    .url = "redis://127.0.0.1:1",
	    .password_file = "",
	    .channel = "cs:alerts",
	    .connect_timeout_ms = 0,
	    .backoff_min_ms = 20,
	    .backoff_max_ms = 200,
	};
	struct event_base *base = event_base_new();
	char err[256];

	CHECK(subscriber_new(base, &s, on_message, on_state, NULL, err, sizeof(err)) == NULL);
	s.connect_timeout_ms = 1000;
	s.url = "http://nope";
	CHECK(subscriber_new(base, &s, on_message, on_state, NULL, err, sizeof(err)) == NULL);
	s.url = "redis://127.0.0.1:1";
	s.channel = "";
	CHECK(subscriber_new(base, &s, on_message, on_state, NULL, err, sizeof(err)) == NULL);
	event_base_free(base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_messages_of_the_channel_arrive_as_published);
	RUN(test_subscribes_again_after_a_crash);
	RUN(test_moves_to_the_other_node_when_its_node_dies);
	RUN(test_auth_from_a_password_file_and_a_wrong_one);
	RUN(test_free_inside_the_message_callback);
	RUN(test_bad_settings_are_refused);
	return check_done();
}
