/*
 * Tests for sender: the cut in flight driven through its states against a private
 * redis-server (tests/redis_server.h) on a real libevent loop and a real redisconn:
 * batches applied in order one at a time, a batch already applied skipped, an error
 * reply retried at the next tick, a connection lost mid-batch and the batch applied
 * once, and the applied-sequence checks at connect (a state behind Redis refused,
 * batches Redis lost counted). Batches are built by hand: each adds 1 to field n and
 * to a field naming its sequence, so every application shows in Redis.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "chatlogd/publish.h"
#include "chatlogd/store.h"
#include "chatlogd/sender.h"
#include "check.h"
#include "redis_server.h"

/* Generous bound for anything that should take milliseconds. */
#define WAIT_MS 10000
#define SEQ_KEY "t:instance:test:seq"
#define HASH_KEY "t:h"

struct harness {
	struct event_base *base;
	struct redis_server srv;
	struct store *store;
	struct sender *sender;
	int ups, downs;
	int cuts_done, last_cut_applied;
	int refusals;
	char why[1024];
};

static void on_state(void *ctx, int connected, const char *reason)
{
	struct harness *h = ctx;
	(void)reason;

	if (connected) {
		h->ups++;
		sender_connected(h->sender);
	} else {
		h->downs++;
		sender_disconnected(h->sender);
	}
}

static void on_cut_done(void *ctx, int applied)
{
	struct harness *h = ctx;

	h->cuts_done++;
	h->last_cut_applied = applied;
}

static void on_refused(void *ctx, const char *why)
{
	struct harness *h = ctx;

	h->refusals++;
	snprintf(h->why, sizeof(h->why), "%s", why);
}

static void loop_once(struct event_base *base)
{
	struct timeval tv = {0, 10000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

#define LOOP_UNTIL(h, cond)                                                                        \
	do {                                                                                       \
		int64_t loop_until_ = redis_server_now_ms() + WAIT_MS;                             \
		while (!(cond) && redis_server_now_ms() < loop_until_)                             \
			loop_once((h)->base);                                                      \
	} while (0)

static void loop_for(struct harness *h, int ms)
{
	int64_t until = redis_server_now_ms() + ms;

	while (redis_server_now_ms() < until)
		loop_once(h->base);
}

/* A server, a sender (restored to next_seq and seq_known when next_seq is not 0) and
 * a connection to the server whose state callback drives the sender. The connection
 * is made from the loop: nothing has happened yet when this returns. */
static int harness_start(struct harness *h, int count_again, int64_t command_timeout_ms,
                         uint64_t next_seq, int seq_known)
{
	struct redis_server_options opt = {.unix_socket = 1};
	static const struct publish_settings ps = {.prefix = "t", .instance = "test"};
	struct store_settings st = {.redis = {.connect_timeout_ms = 2000,
	                                      .command_timeout_ms = command_timeout_ms,
	                                      .backoff_min_ms = 20,
	                                      .backoff_max_ms = 200},
	                            .publish = &ps};
	struct sender_settings ss = {.seq_key = SEQ_KEY,
	                             .instance = "test",
	                             .state_dir = "/nonexistent/state",
	                             .count_again = count_again};
	struct sender_hooks hooks = {.cut_done = on_cut_done, .refused = on_refused, .ctx = h};
	char err[256] = "";

	memset(h, 0, sizeof(*h));
	if ((h->base = event_base_new()) == NULL || redis_server_start(&h->srv, &opt) == -1) {
		CHECK(!"event base and redis-server");
		return -1;
	}
	if ((h->sender = sender_new(&ss, &hooks)) == NULL) {
		CHECK(!"sender_new");
		return -1;
	}
	if (next_seq != 0)
		sender_restore(h->sender, next_seq, seq_known);
	st.redis.url = h->srv.url;
	st.redis.password_file = "";
	if ((h->store = store_new(h->base, &st, on_state, h, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_new: %s\n", err);
		CHECK(!"store_new");
		return -1;
	}
	sender_attach(h->sender, h->store);
	return 0;
}

static void harness_stop(struct harness *h)
{
	store_free(h->store); /* first: its pending replies go to the sender */
	sender_free(h->sender);
	redis_server_stop(&h->srv);
	if (h->base != NULL)
		event_base_free(h->base);
}

/* Batches first_seq.. of count, each adding 1 to HASH_KEY's n and bSEQ, laid out as
 * publish_build lays them out (all arguments in one block at argv[0]). */
static struct publish_batch *make_batches(uint64_t first_seq, int count)
{
	struct publish_batch *b = calloc((size_t)count, sizeof(*b));

	for (int i = 0; b != NULL && i < count; i++) {
		char seq[32], field[40];
		const char *args[10];
		size_t total = 0;
		char *block, *at;

		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)(first_seq + (uint64_t)i));
		snprintf(field, sizeof(field), "b%s", seq);
		args[0] = SEQ_KEY;
		args[1] = seq;
		args[2] = "I";
		args[3] = HASH_KEY;
		args[4] = "0"; /* no TTL */
		args[5] = "2";
		args[6] = "n";
		args[7] = "1";
		args[8] = field;
		args[9] = "1";
		for (int k = 0; k < 10; k++)
			total += strlen(args[k]) + 1;
		b[i].seq = first_seq + (uint64_t)i;
		b[i].argc = 10;
		b[i].argv = calloc(10, sizeof(*b[i].argv));
		b[i].argvlen = calloc(10, sizeof(*b[i].argvlen));
		if ((block = malloc(total)) == NULL || b[i].argv == NULL || b[i].argvlen == NULL)
			abort();
		at = block;
		for (int k = 0; k < 10; k++) {
			b[i].argvlen[k] = strlen(args[k]);
			memcpy(at, args[k], b[i].argvlen[k] + 1);
			b[i].argv[k] = at;
			at += b[i].argvlen[k] + 1;
		}
	}
	return b;
}

/* A blocking command's integer, or a string reply read as one; -1 for nil, -2 else. */
static long long redis_number(const struct redis_server *srv, const char *fmt, const char *arg)
{
	redisReply *reply = redis_server_command(srv, 0, fmt, arg);
	long long n = -2;

	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		n = reply->integer;
	else if (reply != NULL && reply->type == REDIS_REPLY_STRING)
		n = strtoll(reply->str, NULL, 10);
	else if (reply != NULL && reply->type == REDIS_REPLY_NIL)
		n = -1;
	if (reply != NULL)
		freeReplyObject(reply);
	return n;
}

static long long hash_field(const struct redis_server *srv, const char *field)
{
	return redis_number(srv, "HGET " HASH_KEY " %s", field);
}

static void run_command(const struct redis_server *srv, const char *command)
{
	redisReply *reply = redis_server_command(srv, 0, command);

	CHECK(reply != NULL && reply->type != REDIS_REPLY_ERROR);
	if (reply != NULL)
		freeReplyObject(reply);
}

static void test_batches_are_applied_in_order_one_cut_at_a_time(void)
{
	struct harness h;
	struct sender_stats st;

	if (harness_start(&h, 0, 2000, 0, 0) == -1)
		goto end;
	CHECK_INT(sender_state(h.sender), SENDER_SEQ_UNKNOWN);
	CHECK(!sender_seq_known(h.sender));
	/* a fresh state asks Redis first; an empty Redis: sequences start at 1 */
	LOOP_UNTIL(&h, sender_state(h.sender) == SENDER_IDLE);
	CHECK_INT(sender_state(h.sender), SENDER_IDLE);
	CHECK(sender_seq_known(h.sender));
	CHECK_INT(sender_next_seq(h.sender), 1);

	sender_take_cut(h.sender, 1, make_batches(1, 3), 3);
	CHECK_INT(sender_next_seq(h.sender), 4);
	CHECK(sender_busy(h.sender));
	CHECK_INT(sender_cut_first_seq(h.sender), 1);
	CHECK_INT(sender_resend_seq(h.sender), 1);
	/* nothing goes before the tick: the caller makes the cut durable first */
	loop_for(&h, 200);
	CHECK_INT(sender_state(h.sender), SENDER_WAITING);
	CHECK_INT(redis_number(&h.srv, "GET %s", SEQ_KEY), -1);

	sender_tick(h.sender);
	CHECK_INT(sender_state(h.sender), SENDER_AWAITING_REPLY);
	LOOP_UNTIL(&h, h.cuts_done == 1);
	CHECK_INT(h.cuts_done, 1);
	CHECK_INT(h.last_cut_applied, 1);
	CHECK_INT(sender_state(h.sender), SENDER_IDLE);
	CHECK(!sender_busy(h.sender));
	CHECK_INT(sender_resend_seq(h.sender), 0);
	/* out of order, a later batch would have moved the sequence past an earlier one,
	 * which would then have been skipped */
	sender_stats(h.sender, &st);
	CHECK_INT(st.batches_applied, 3);
	CHECK_INT(st.batches_skipped, 0);
	CHECK_INT(st.backlog_batches, 0);
	CHECK(st.last_applied_ms > 0);
	CHECK_INT(redis_number(&h.srv, "GET %s", SEQ_KEY), 3);
	CHECK_INT(hash_field(&h.srv, "n"), 3);
	CHECK_INT(hash_field(&h.srv, "b1"), 1);
	CHECK_INT(hash_field(&h.srv, "b3"), 1);

	/* the next cut continues the sequence */
	sender_take_cut(h.sender, sender_next_seq(h.sender), make_batches(4, 1), 1);
	sender_tick(h.sender);
	LOOP_UNTIL(&h, h.cuts_done == 2);
	CHECK_INT(h.cuts_done, 2);
	CHECK_INT(redis_number(&h.srv, "GET %s", SEQ_KEY), 4);
	CHECK_INT(hash_field(&h.srv, "n"), 4);
end:
	harness_stop(&h);
}

/* A restart replays a cut whose first batch Redis had applied: it is skipped. */
static void test_batch_already_applied_is_skipped(void)
{
	struct harness h;
	struct sender_stats st;

	if (harness_start(&h, 0, 2000, 0, 0) == -1)
		goto end;
	run_command(&h.srv, "SET " SEQ_KEY " 1");
	run_command(&h.srv, "HSET " HASH_KEY " n 1 b1 1");
	/* replay: the journal's cut makes the sequence known */
	sender_take_cut(h.sender, 1, make_batches(1, 2), 2);
	CHECK_INT(sender_state(h.sender), SENDER_WAITING);
	CHECK(sender_seq_known(h.sender));
	LOOP_UNTIL(&h, h.cuts_done == 1);
	CHECK_INT(h.cuts_done, 1);
	CHECK_INT(h.last_cut_applied, 1);
	CHECK_INT(h.refusals, 0);
	sender_stats(h.sender, &st);
	CHECK_INT(st.batches_skipped, 1);
	CHECK_INT(st.batches_applied, 1);
	CHECK_INT(st.lost_batches, 0);
	CHECK_INT(hash_field(&h.srv, "n"), 2);
	CHECK_INT(hash_field(&h.srv, "b1"), 1);
	CHECK_INT(hash_field(&h.srv, "b2"), 1);

	/* a whole cut applied before: done, but not applied now (no alert posted again) */
	sender_take_cut(h.sender, 1, make_batches(1, 2), 2);
	sender_tick(h.sender);
	LOOP_UNTIL(&h, h.cuts_done == 2);
	CHECK_INT(h.cuts_done, 2);
	CHECK_INT(h.last_cut_applied, 0);
	sender_stats(h.sender, &st);
	CHECK_INT(st.batches_skipped, 3);
	CHECK_INT(hash_field(&h.srv, "n"), 2);
end:
	harness_stop(&h);
}

static void test_error_reply_is_retried_at_the_next_tick(void)
{
	struct harness h;
	struct sender_stats st;

	if (harness_start(&h, 0, 2000, 0, 0) == -1)
		goto end;
	LOOP_UNTIL(&h, sender_state(h.sender) == SENDER_IDLE);
	run_command(&h.srv, "SET " HASH_KEY " not-a-hash");
	sender_take_cut(h.sender, 1, make_batches(1, 1), 1);
	sender_tick(h.sender);
	LOOP_UNTIL(&h, sender_state(h.sender) == SENDER_WAITING);
	sender_stats(h.sender, &st);
	CHECK_INT(st.batches_rejected, 1);
	CHECK(strstr(st.last_rejection, "not a hash") != NULL);
	/* no retry without a tick */
	loop_for(&h, 200);
	sender_stats(h.sender, &st);
	CHECK_INT(st.batches_rejected, 1);
	CHECK_INT(sender_state(h.sender), SENDER_WAITING);
	sender_tick(h.sender);
	LOOP_UNTIL(&h, sender_state(h.sender) == SENDER_WAITING);
	sender_stats(h.sender, &st);
	CHECK_INT(st.batches_rejected, 2);
	CHECK_INT(h.cuts_done, 0);

	run_command(&h.srv, "DEL " HASH_KEY);
	sender_tick(h.sender);
	LOOP_UNTIL(&h, h.cuts_done == 1);
	CHECK_INT(h.cuts_done, 1);
	sender_stats(h.sender, &st);
	CHECK_INT(st.batches_applied, 1);
	CHECK_STR(st.last_rejection, "");
	CHECK_INT(hash_field(&h.srv, "n"), 1);
end:
	harness_stop(&h);
}

/* A frozen Redis: the reply never comes, the connection is dropped at the deadline,
 * and the batch goes again once Redis is back. Whether Redis ran the first one or
 * not, it is applied once. */
static void test_connection_lost_mid_batch_is_resent_and_applied_once(void)
{
	struct harness h;
	struct sender_stats st;

	if (harness_start(&h, 0, 500, 0, 0) == -1)
		goto end;
	LOOP_UNTIL(&h, sender_state(h.sender) == SENDER_IDLE);
	sender_take_cut(h.sender, 1, make_batches(1, 2), 2);
	CHECK(redis_server_pause(&h.srv) == 0);
	sender_tick(h.sender);
	CHECK_INT(sender_state(h.sender), SENDER_AWAITING_REPLY);
	LOOP_UNTIL(&h, h.downs >= 1);
	CHECK(h.downs >= 1);
	CHECK_INT(sender_state(h.sender), SENDER_WAITING);
	CHECK_INT(sender_resend_seq(h.sender), 1);
	CHECK(redis_server_resume(&h.srv) == 0);
	LOOP_UNTIL(&h, h.cuts_done == 1);
	CHECK_INT(h.cuts_done, 1);
	CHECK(h.ups >= 2);
	sender_stats(h.sender, &st);
	CHECK_INT(st.batches_applied + st.batches_skipped, 2);
	CHECK_INT(st.lost_batches, 0);
	CHECK_INT(redis_number(&h.srv, "GET %s", SEQ_KEY), 2);
	CHECK_INT(hash_field(&h.srv, "n"), 2);
	CHECK_INT(hash_field(&h.srv, "b1"), 1);
	CHECK_INT(hash_field(&h.srv, "b2"), 1);
end:
	if (h.srv.pid > 0)
		redis_server_resume(&h.srv);
	harness_stop(&h);
}

/* An old copy of state_dir: its newest batch is 2, Redis applied 5. */
static void test_state_behind_redis_is_refused_and_nothing_sent(void)
{
	struct harness h;

	if (harness_start(&h, 0, 2000, 3, 1) == -1)
		goto end;
	run_command(&h.srv, "SET " SEQ_KEY " 5");
	sender_restore_cut(h.sender, make_batches(1, 2), 2, 2);
	CHECK_INT(sender_state(h.sender), SENDER_WAITING);
	CHECK_INT(sender_resend_seq(h.sender), 2);
	CHECK_INT(sender_cut_first_seq(h.sender), 1);
	LOOP_UNTIL(&h, h.refusals == 1);
	CHECK_INT(h.refusals, 1);
	CHECK_INT(sender_state(h.sender), SENDER_REFUSED);
	CHECK(strstr(h.why, "up to seq=5") != NULL && strstr(h.why, "ends at seq=2") != NULL);
	sender_tick(h.sender);
	loop_for(&h, 200);
	CHECK_INT(h.refusals, 1);
	CHECK_INT(redis_number(&h.srv, "EXISTS %s", HASH_KEY), 0);
	CHECK_INT(redis_number(&h.srv, "GET %s", SEQ_KEY), 5);
end:
	harness_stop(&h);
}

/* No state at all (state_dir wiped) while Redis holds the instance's batches. */
static void test_no_state_with_batches_in_redis_is_refused(void)
{
	struct harness h;

	if (harness_start(&h, 0, 2000, 0, 0) == -1)
		goto end;
	run_command(&h.srv, "SET " SEQ_KEY " 3");
	LOOP_UNTIL(&h, h.refusals == 1);
	CHECK_INT(h.refusals, 1);
	CHECK_INT(sender_state(h.sender), SENDER_REFUSED);
	CHECK(!sender_seq_known(h.sender));
	CHECK(strstr(h.why, "holds no state") != NULL);
end:
	harness_stop(&h);
}

static void test_no_state_with_count_again_continues_after_redis(void)
{
	struct harness h;

	if (harness_start(&h, 1, 2000, 0, 0) == -1)
		goto end;
	run_command(&h.srv, "SET " SEQ_KEY " 3");
	LOOP_UNTIL(&h, sender_state(h.sender) == SENDER_IDLE);
	CHECK_INT(sender_state(h.sender), SENDER_IDLE);
	CHECK_INT(h.refusals, 0);
	CHECK_INT(sender_next_seq(h.sender), 4);
end:
	harness_stop(&h);
}

/* FLUSHALL between two cuts: the next batch's reply shows the sequence went back.
 * Then a restart without persistence: the check at connect finds it gone. */
static void test_batches_redis_lost_are_detected(void)
{
	struct harness h;
	struct sender_stats st;

	if (harness_start(&h, 0, 2000, 0, 0) == -1)
		goto end;
	LOOP_UNTIL(&h, sender_state(h.sender) == SENDER_IDLE);
	sender_take_cut(h.sender, 1, make_batches(1, 1), 1);
	sender_tick(h.sender);
	LOOP_UNTIL(&h, h.cuts_done == 1);
	run_command(&h.srv, "FLUSHALL");
	sender_take_cut(h.sender, sender_next_seq(h.sender), make_batches(2, 1), 1);
	sender_tick(h.sender);
	LOOP_UNTIL(&h, h.cuts_done == 2);
	CHECK_INT(h.cuts_done, 2);
	sender_stats(h.sender, &st);
	CHECK_INT(st.lost_batches, 1);
	CHECK_INT(st.lost_first, 1);
	CHECK_INT(st.lost_last, 1);
	CHECK_INT(hash_field(&h.srv, "n"), 1);
	CHECK_INT(h.refusals, 0);

	CHECK(redis_server_restart(&h.srv) == 0);
	LOOP_UNTIL(&h, h.ups >= 2 && sender_state(h.sender) == SENDER_IDLE);
	CHECK(h.ups >= 2);
	sender_stats(h.sender, &st);
	/* batches 1 and 2 are missing: batch 1 was counted already */
	CHECK_INT(st.lost_batches, 2);
	CHECK_INT(st.lost_first, 1);
	CHECK_INT(st.lost_last, 2);
	CHECK_INT(h.refusals, 0);
	CHECK_INT(sender_state(h.sender), SENDER_IDLE);
end:
	harness_stop(&h);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_batches_are_applied_in_order_one_cut_at_a_time);
	RUN(test_batch_already_applied_is_skipped);
	RUN(test_error_reply_is_retried_at_the_next_tick);
	RUN(test_connection_lost_mid_batch_is_resent_and_applied_once);
	RUN(test_state_behind_redis_is_refused_and_nothing_sent);
	RUN(test_no_state_with_batches_in_redis_is_refused);
	RUN(test_no_state_with_count_again_continues_after_redis);
	RUN(test_batches_redis_lost_are_detected);
	return check_done();
}
