/*
 * store.c hides whether batches go to one Redis server or to a Redis Cluster. On a
 * cluster it owns the batch in flight: its parts sent together, their replies
 * gathered, then the closing part. It knows neither sequences nor what a reply
 * means: the caller (sender.c, backfill.c) reads the script's answer.
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "chatlogd/batch_parts.h"
#include "chatlogd/log.h"
#include "chatlogd/publish.h"
#include "chatlogd/rediscluster.h"
#include "chatlogd/store.h"
#include "chatlogd/util.h"

struct store {
	struct redisconn *single;     /* one of the two */
	struct rediscluster *cluster; /* */
	int script;
	const struct publish_settings *publish;
	void *ctx; /* the state callback's, which reply callbacks get too (as redisconn's) */
};

/* A batch on its way through a cluster. */
struct cluster_apply {
	struct store *st;
	struct batch_parts parts;
	int outstanding;  /* parts sent, not answered */
	int lost;         /* a part got no reply: the batch may be half applied */
	redisReply error; /* the first error a part got; .str owned */
	redisconn_reply_fn fn;
	void *privdata;
};

struct store *store_new(struct event_base *base, const struct store_settings *s,
                        redisconn_state_fn state_fn, void *ctx, char *err, size_t errlen)
{
	struct store *st = xcalloc(1, sizeof(*st));

	st->publish = s->publish;
	st->ctx = ctx;
	if (s->redis.cluster) {
		st->cluster = rediscluster_new(base, &s->redis, state_fn, ctx, err, errlen);
		if (st->cluster == NULL)
			goto fail;
		st->script = rediscluster_script(st->cluster, publish_script);
	} else {
		st->single = redisconn_new(base, &s->redis, state_fn, ctx, err, errlen);
		if (st->single == NULL)
			goto fail;
		st->script = redisconn_script(st->single, publish_script);
	}
	return st;
fail:
	free(st);
	return NULL;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	redisconn_free(st->single);
	rediscluster_free(st->cluster);
	free(st);
}

int store_get(struct store *st, const char *key, redisconn_reply_fn fn, void *privdata)
{
	const char *argv[2] = {"GET", key};
	size_t argvlen[2] = {3, strlen(key)};

	if (st->cluster != NULL)
		return rediscluster_command(st->cluster, key, argvlen[1], 2, argv, argvlen, fn,
		                            privdata);
	return redisconn_command(st->single, 2, argv, argvlen, fn, privdata);
}

static void cluster_apply_free(struct cluster_apply *a)
{
	batch_parts_free(&a->parts);
	free(a->error.str);
	free(a);
}

static void on_closing_reply(void *ctx, struct redisReply *reply, void *privdata)
{
	struct cluster_apply *a = privdata;

	(void)ctx;
	a->fn(a->st->ctx, reply, a->privdata);
	cluster_apply_free(a);
}

/* Every part but the closing one answered: the closing part goes if all were
 * applied (now or before); else the batch is answered lost or with the error. */
static void on_part_reply(void *ctx, struct redisReply *reply, void *privdata)
{
	struct cluster_apply *a = privdata;
	const struct batch_part *closing = &a->parts.part[a->parts.count - 1];

	(void)ctx;
	if (reply == NULL) {
		a->lost = 1;
	} else if (reply->type == REDIS_REPLY_ERROR && a->error.str == NULL) {
		a->error.type = REDIS_REPLY_ERROR;
		a->error.str = xstrdup(reply->str);
		a->error.len = strlen(a->error.str);
	}
	if (--a->outstanding > 0)
		return;
	if (a->error.str != NULL) {
		a->fn(a->st->ctx, &a->error, a->privdata);
	} else if (a->lost || rediscluster_eval(a->st->cluster, a->st->script, closing->argc,
	                                        closing->argv, closing->argvlen, closing->numkeys,
	                                        on_closing_reply, a) == -1) {
		a->fn(a->st->ctx, NULL, a->privdata);
	} else {
		return; /* the closing part's reply finishes it */
	}
	cluster_apply_free(a);
}

static int cluster_apply(struct store *st, const struct publish_batch *b, redisconn_reply_fn fn,
                         void *privdata)
{
	struct cluster_apply *a = xcalloc(1, sizeof(*a));

	a->st = st;
	a->fn = fn;
	a->privdata = privdata;
	if (batch_parts_split(st->publish, b, &a->parts) == -1) {
		/* not a batch publish.c built: answered as Redis would answer a bad one */
		log_errx("batch seq=%llu does not parse into cluster parts",
		         (unsigned long long)b->seq);
		free(a);
		return -1;
	}
	if (a->parts.count == 1) { /* no operation (publish.c builds none such): closing only */
		const struct batch_part *p = &a->parts.part[0];
		if (rediscluster_eval(st->cluster, st->script, p->argc, p->argv, p->argvlen,
		                      p->numkeys, on_closing_reply, a) == 0)
			return 0;
		cluster_apply_free(a);
		return -1;
	}
	/* One more than the parts sent, held while sending, so that no reply finishes it
	 * midway; replies come from the loop, never inside rediscluster_eval, so the
	 * hold's release below cannot be the last. */
	a->outstanding = 1;
	for (int k = 0; k < a->parts.count - 1; k++) {
		const struct batch_part *p = &a->parts.part[k];
		if (rediscluster_eval(st->cluster, st->script, p->argc, p->argv, p->argvlen,
		                      p->numkeys, on_part_reply, a) == -1) {
			a->lost = 1;
			break;
		}
		a->outstanding++;
	}
	if (a->outstanding == 1 && a->lost) { /* nothing went: as if not connected */
		cluster_apply_free(a);
		return -1;
	}
	on_part_reply(NULL, &(redisReply){.type = REDIS_REPLY_STATUS}, a); /* the hold */
	return 0;
}

int store_apply(struct store *st, const struct publish_batch *b, redisconn_reply_fn fn,
                void *privdata)
{
	if (st->cluster != NULL)
		return cluster_apply(st, b, fn, privdata);
	return redisconn_eval(st->single, st->script, b->argc, (const char **)b->argv, b->argvlen,
	                      1, fn, privdata);
}

int store_connected(const struct store *st)
{
	return st->cluster != NULL ? rediscluster_connected(st->cluster)
	                           : redisconn_connected(st->single);
}

int store_wrong_mode(const struct store *st)
{
	return st->cluster != NULL ? rediscluster_wrong_mode(st->cluster)
	                           : redisconn_wrong_mode(st->single);
}

int store_is_cluster(const struct store *st)
{
	return st->cluster != NULL;
}

size_t store_in_flight(const struct store *st)
{
	return st->cluster != NULL ? rediscluster_in_flight(st->cluster)
	                           : redisconn_in_flight(st->single);
}

const char *store_endpoint(const struct store *st, char *buf, size_t len)
{
	return st->cluster != NULL ? rediscluster_endpoint(st->cluster, buf, len)
	                           : redisconn_endpoint(st->single, buf, len);
}

int store_cluster_stats(const struct store *st, struct rediscluster_stats *out)
{
	if (st->cluster == NULL)
		return -1;
	rediscluster_stats(st->cluster, out);
	return 0;
}
