/*
 * backfill.c owns `--once --redis`: one pass of batches through redisconn on a
 * private event loop, each sent after the previous reply, retried across
 * reconnects. Applied batches are skipped by the apply script's sequence check.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "chatlogd/backfill.h"
#include "chatlogd/log.h"
#include "chatlogd/publish.h"
#include "chatlogd/redisconn.h"

#define BACKFILL_GIVE_UP_MS 60000

struct backfill {
	struct event_base *base;
	struct redisconn *redis;
	int script;
	struct publish_batch *batches;
	int count, next, awaiting, failed, applied, skipped;
};

static void send_next(struct backfill *b);

static void on_reply(void *ctx, struct redisReply *reply, void *privdata)
{
	struct backfill *b = ctx;
	(void)privdata;

	b->awaiting = 0;
	if (reply == NULL)
		return; /* lost: sent again when the connection is back */
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
		log_warnx("redis rejected backfill batch seq=%llu error=\"%s\"",
		          (unsigned long long)b->batches[b->next].seq,
		          reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
		b->failed = 1;
		event_base_loopexit(b->base, NULL);
		return;
	}
	if (reply->element[0]->integer == 1)
		b->applied++;
	else
		b->skipped++;
	if (++b->next == b->count)
		event_base_loopexit(b->base, NULL);
	else
		send_next(b);
}

static void send_next(struct backfill *b)
{
	const struct publish_batch *p = &b->batches[b->next];
	if (b->awaiting || !redisconn_connected(b->redis))
		return;
	if (redisconn_eval(b->redis, b->script, p->argc, (const char **)p->argv, p->argvlen, 1,
	                   on_reply, NULL) == 0)
		b->awaiting = 1;
}

static void on_state(void *ctx, int connected, const char *reason)
{
	struct backfill *b = ctx;
	if (connected)
		send_next(b);
	else
		log_warnx("redis unavailable reason=\"%s\"; retrying", reason ? reason : "");
}

static void on_give_up(evutil_socket_t fd, short what, void *ctx)
{
	struct backfill *b = ctx;
	(void)fd;
	(void)what;
	log_warnx("backfill gave up after %d s without finishing", BACKFILL_GIVE_UP_MS / 1000);
	b->failed = 1;
	event_base_loopexit(b->base, NULL);
}

int backfill_publish(const struct config *cfg, const char *instance, struct counter_table *deltas,
                     const struct names *names, const struct reasons *reasons)
{
	/* --once --redis writes no windows */
	struct publish_settings ps = {
	    cfg->prefix, instance, cfg->minute_ttl_ms / 1000, cfg->day_ttl_ms / 1000, 2000, 0};
	struct redisconn_settings rs = {cfg->redis, cfg->redis_password_file, 5000, 30000, 100,
	                                2000};
	struct backfill b = {0};
	struct timeval give_up = {BACKFILL_GIVE_UP_MS / 1000, 0};
	struct event *timer = NULL;
	char err[512];

	signal(SIGPIPE, SIG_IGN);
	if ((b.count = publish_build(&ps, deltas, names, reasons, 1, &b.batches)) < 0) {
		log_warnx("out of memory building backfill batches");
		return -1;
	}
	if (b.count == 0)
		return 0;
	if ((b.base = event_base_new()) == NULL ||
	    (b.redis = redisconn_new(b.base, &rs, on_state, &b, err, sizeof(err))) == NULL ||
	    (timer = evtimer_new(b.base, on_give_up, &b)) == NULL || evtimer_add(timer, &give_up)) {
		log_warnx("backfill: %s", b.base ? err : "cannot create an event loop");
		b.failed = 1;
	} else {
		b.script = redisconn_script(b.redis, publish_script);
		event_base_dispatch(b.base);
	}
	if (!b.failed)
		log_info("backfill instance=%s batches=%d applied=%d already_applied=%d", instance,
		         b.count, b.applied, b.skipped);
	redisconn_free(b.redis);
	if (timer)
		event_free(timer);
	if (b.base)
		event_base_free(b.base);
	publish_batches_free(b.batches, b.count);
	return b.failed ? -1 : 0;
}
