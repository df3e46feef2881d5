/*
 * backfill.c owns `--once --redis`: the cuts of a batch run, each sent as numbered
 * batches through the store (one Redis server or a cluster) on a private event loop
 * while the run goes on, with at most backfill_max_in_flight batches unacknowledged
 * (one on a cluster: store.h); retried across reconnects.
 * Applied batches are skipped by the apply script's sequence check. Where the cuts
 * fall is the caller's (main.c), so that it depends only on the input.
 */
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "chatlogd/backfill.h"
#include "chatlogd/log.h"
#include "chatlogd/publish.h"
#include "chatlogd/rediscluster.h"
#include "chatlogd/store.h"
#include "chatlogd/util.h"

/* With batches waiting, a minute without any acknowledged is a give-up: Redis down
 * or refusing for that long. A long backfill that moves is never given up. */
#define BACKFILL_STALL_MS 60000

/* Rows per batch, as the live daemon sends them: one script never blocks Redis long. */
#define BACKFILL_ROWS_PER_BATCH 2000

/*
 * The batches built and not yet acknowledged are queue[acked..built): those before
 * `sent` went to Redis on the current connection and wait for their reply, in order;
 * the rest wait for room (max_in_flight) or for the connection. A lost connection
 * sends everything unacknowledged again (the script skips what was applied). An
 * acknowledged batch's arguments are freed at once; the queue is compacted when a
 * cut is added, so it holds one cut plus what is in flight.
 */
struct backfill {
	struct event_base *base;
	struct store *store;
	struct event *stall_timer;
	struct event *retry_timer; /* a cluster's lost batch: sent again shortly */
	struct publish_settings settings;
	const struct names *names;
	const struct reasons *reasons;
	size_t max_in_flight;
	struct publish_batch *queue;
	size_t acked, sent, built, capacity;
	uint64_t next_seq;
	size_t peak_in_flight;
	uint64_t cuts, applied, skipped; /* batches built: next_seq - 1 */
	int failed;
};

static void on_reply(void *ctx, struct redisReply *reply, void *privdata);

/* (Re)starts the minute a batch has to be acknowledged in. */
static void arm_stall_timer(struct backfill *b)
{
	struct timeval stall = {BACKFILL_STALL_MS / 1000, 0};

	evtimer_add(b->stall_timer, &stall);
}

static void send_more(struct backfill *b)
{
	while (!b->failed && b->sent < b->built && b->sent - b->acked < b->max_in_flight &&
	       store_connected(b->store)) {
		const struct publish_batch *p = &b->queue[b->sent];
		if (store_apply(b->store, p, on_reply, (void *)(uintptr_t)p->seq) == -1)
			return;
		b->sent++;
		if (b->sent - b->acked > b->peak_in_flight)
			b->peak_in_flight = b->sent - b->acked;
	}
}

static void on_reply(void *ctx, struct redisReply *reply, void *privdata)
{
	struct backfill *b = ctx;
	uint64_t seq = (uint64_t)(uintptr_t)privdata;

	/* from before a reconnect, or lost: sent again once reconnected, or on a cluster
	 * (where a redirect or a slot in migration loses a part with the connection up)
	 * a moment later */
	if (b->failed || b->acked == b->built || b->queue[b->acked].seq != seq)
		return;
	if (reply == NULL) {
		struct timeval soon = {0, 100000};
		if (store_is_cluster(b->store))
			evtimer_add(b->retry_timer, &soon);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[0]->integer == 2) {
		/* the batches sent after it are refused by the script (strict_sequence) */
		log_warnx("redis rejected backfill batch seq=%llu error=\"%s\"; nothing after it "
		          "was applied: clear the error and run the same backfill again",
		          (unsigned long long)seq,
		          reply->type == REDIS_REPLY_ERROR ? reply->str
		                                           : "unexpected reply or sequence gap");
		b->failed = 1;
		return;
	}
	if (reply->element[0]->integer == 1)
		b->applied++;
	else
		b->skipped++;
	publish_batches_release(&b->queue[b->acked], 1);
	b->acked++;
	arm_stall_timer(b);
	send_more(b);
}

static void on_state(void *ctx, int connected, const char *reason)
{
	struct backfill *b = ctx;

	b->sent = b->acked; /* replies on the old connection are lost */
	if (connected) {
		send_more(b);
	} else if (store_wrong_mode(b->store)) {
		log_warnx("redis: %s", reason ? reason : "");
		b->failed = 1; /* no retry can change it */
	} else {
		log_warnx("redis unavailable reason=\"%s\"; retrying", reason ? reason : "");
	}
}

static void on_retry(evutil_socket_t fd, short what, void *ctx)
{
	struct backfill *b = ctx;
	(void)fd;
	(void)what;

	b->sent = b->acked; /* the batch in flight was lost; the script skips what it applied */
	send_more(b);
}

static void on_stall(evutil_socket_t fd, short what, void *ctx)
{
	struct backfill *b = ctx;
	(void)fd;
	(void)what;

	log_warnx("backfill gave up: no batch acknowledged for %d s (seq=%llu waits)",
	          BACKFILL_STALL_MS / 1000, (unsigned long long)b->queue[b->acked].seq);
	b->failed = 1;
}

/* Runs the loop until at most `most` batches are unacknowledged, or the run failed. */
static int wait_for_acks(struct backfill *b, size_t most)
{
	if (b->built - b->acked <= most || b->failed)
		return b->failed ? -1 : 0;
	arm_stall_timer(b);
	send_more(b);
	while (!b->failed && b->built - b->acked > most)
		if (event_base_loop(b->base, EVLOOP_ONCE) == -1)
			b->failed = 1;
	evtimer_del(b->stall_timer);
	return b->failed ? -1 : 0;
}

struct backfill *backfill_new(const struct config *cfg, const char *instance,
                              const struct names *names, const struct reasons *reasons)
{
	struct store_settings ss = {
	    .redis = {.url = cfg->redis,
	              .password_file = cfg->redis_password_file,
	              .cluster = strcmp(cfg->redis_cluster, "on") == 0,
	              .connect_timeout_ms = 5000,
	              .command_timeout_ms = 30000,
	              .backoff_min_ms = 100,
	              .backoff_max_ms = 2000},
	};
	struct backfill *b = xcalloc(1, sizeof(*b));
	char err[512];

	signal(SIGPIPE, SIG_IGN);
	b->settings.instance = xstrdup(instance);
	/* --once --redis writes no windows */
	b->settings.prefix = cfg->prefix;
	b->settings.minute_ttl_s = cfg->minute_ttl_ms / 1000;
	b->settings.day_ttl_s = cfg->day_ttl_ms / 1000;
	b->settings.max_rows_per_batch = BACKFILL_ROWS_PER_BATCH;
	b->settings.strict_sequence = 1; /* batches are pipelined: no gaps */
	b->names = names;
	b->reasons = reasons;
	/* a cluster takes one batch at a time (store.h); its parts go out together */
	b->max_in_flight = ss.redis.cluster ? 1 : (size_t)cfg->backfill_max_in_flight;
	b->next_seq = 1;
	ss.publish = &b->settings;
	if ((b->base = event_base_new()) == NULL ||
	    (b->stall_timer = evtimer_new(b->base, on_stall, b)) == NULL ||
	    (b->retry_timer = evtimer_new(b->base, on_retry, b)) == NULL ||
	    (b->store = store_new(b->base, &ss, on_state, b, err, sizeof(err))) == NULL) {
		log_warnx("backfill: %s", b->base && b->retry_timer ? err : "out of memory");
		backfill_free(b);
		return NULL;
	}
	return b;
}

/* Moves the unacknowledged batches to the front and makes room for `more`. */
static void queue_room(struct backfill *b, size_t more)
{
	size_t waiting = b->built - b->acked;

	if (b->acked > 0) /* the queue is NULL until the first cut */
		memmove(b->queue, b->queue + b->acked, waiting * sizeof(*b->queue));
	b->sent -= b->acked;
	b->built = waiting;
	b->acked = 0;
	if (waiting + more > b->capacity) {
		b->queue = xreallocarray(b->queue, waiting + more, sizeof(*b->queue));
		b->capacity = waiting + more;
	}
}

int backfill_send(struct backfill *b, struct counter_table *cut)
{
	struct publish_batch *batches;
	int count;

	if (b->failed)
		return -1;
	if (counter_table_count(cut) == 0)
		return 0;
	if ((count = publish_build(&b->settings, cut, b->names, b->reasons, b->next_seq,
	                           &batches)) < 0) {
		log_warnx("backfill: cannot build batches: a table is past its id limit");
		b->failed = 1;
		return -1;
	}
	queue_room(b, (size_t)count);
	memcpy(b->queue + b->built, batches, (size_t)count * sizeof(*batches));
	free(batches); /* the array only: the queue holds the batches now */
	b->built += (size_t)count;
	b->next_seq += (uint64_t)count;
	b->cuts++;
	counter_table_clear(cut);
	/* back-pressure: the run goes on once the batches of this cut are in flight */
	return wait_for_acks(b, b->max_in_flight);
}

int backfill_finish(struct backfill *b)
{
	struct rediscluster_stats cluster;
	char redirects[160] = "";

	if (wait_for_acks(b, 0) == -1)
		return -1;
	if (store_cluster_stats(b->store, &cluster) == 0)
		snprintf(redirects, sizeof(redirects),
		         " cluster moved=%llu asked=%llu retried=%llu",
		         (unsigned long long)cluster.moved, (unsigned long long)cluster.asked,
		         (unsigned long long)cluster.retry_later);
	log_info("backfill instance=%s cuts=%llu batches=%llu applied=%llu already_applied=%llu "
	         "peak_in_flight=%zu%s",
	         b->settings.instance, (unsigned long long)b->cuts,
	         (unsigned long long)(b->next_seq - 1), (unsigned long long)b->applied,
	         (unsigned long long)b->skipped, b->peak_in_flight, redirects);
	return 0;
}

void backfill_free(struct backfill *b)
{
	if (b == NULL)
		return;
	store_free(b->store);
	if (b->stall_timer)
		event_free(b->stall_timer);
	if (b->retry_timer)
		event_free(b->retry_timer);
	if (b->base)
		event_base_free(b->base);
	if (b->queue != NULL) {
		publish_batches_release(b->queue + b->acked, b->built - b->acked);
		free(b->queue);
	}
	free((char *)b->settings.instance);
	free(b);
}
