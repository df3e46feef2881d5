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
	struct redisconn *single;     /* one of the two is set: one server, */
	struct rediscluster *cluster; /* or a cluster */
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
	uint64_t seq;     /* the batch's */
	int strict;       /* strict_sequence: only right after the applied one */
	redisReply error; /* the error of a part (the first in byte order); .str owned */
	char **refused;   /* claim keys and owners the parts left out, in pairs; owned */
	size_t refused_count;
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
	for (size_t i = 0; i < a->refused_count; i++)
		free(a->refused[i]);
	free(a->refused);
	free(a);
}

/* A part's {1, applied, {KEY, OWNER, ...}}: the shops it left out, kept for the
 * batch's answer. */
static void keep_refused(struct cluster_apply *a, const redisReply *reply)
{
	const redisReply *list;

	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    reply->element[2]->type != REDIS_REPLY_ARRAY)
		return;
	list = reply->element[2];
	a->refused =
	    xreallocarray(a->refused, a->refused_count + list->elements, sizeof(*a->refused));
	for (size_t i = 0; i < list->elements; i++)
		if (list->element[i]->type == REDIS_REPLY_STRING)
			a->refused[a->refused_count++] =
			    xstrndup(list->element[i]->str, list->element[i]->len);
}

/* Answers the batch as the apply script would have, without sending it. */
static void answer_outcome(struct cluster_apply *a, long long outcome, long long applied)
{
	redisReply first = {.type = REDIS_REPLY_INTEGER, .integer = outcome};
	redisReply second = {.type = REDIS_REPLY_INTEGER, .integer = applied};
	redisReply *element[2] = {&first, &second};
	redisReply reply = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = element};

	a->fn(a->st->ctx, &reply, a->privdata);
}

/* Keeps the error of the batch: of several, the first in byte order, whichever came
 * first, so that a refusal repeated at every tick reads the same (sender.c says it
 * once a minute). */
static void keep_error(struct cluster_apply *a, const redisReply *reply)
{
	if (a->error.str != NULL && strcmp(reply->str, a->error.str) >= 0)
		return;
	free(a->error.str);
	a->error.type = REDIS_REPLY_ERROR;
	a->error.str = xstrdup(reply->str);
	a->error.len = strlen(a->error.str);
}

/* The closing part's reply is the batch's, with the shops the parts left out added as
 * on one server: {1, applied, {KEY, OWNER, ...}}. */
static void on_closing_reply(void *ctx, struct redisReply *reply, void *privdata)
{
	struct cluster_apply *a = privdata;
	redisReply *pair[2], *items, list = {.type = REDIS_REPLY_ARRAY}, answer;

	(void)ctx;
	if (a->refused_count == 0 || reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 2) {
		a->fn(a->st->ctx, reply, a->privdata);
		cluster_apply_free(a);
		return;
	}
	items = xreallocarray(NULL, a->refused_count, sizeof(*items));
	list.element = xreallocarray(NULL, a->refused_count, sizeof(*list.element));
	for (size_t i = 0; i < a->refused_count; i++) {
		items[i] = (redisReply){
		    .type = REDIS_REPLY_STRING, .str = a->refused[i], .len = strlen(a->refused[i])};
		list.element[i] = &items[i];
	}
	list.elements = a->refused_count;
	pair[0] = reply->element[0];
	pair[1] = reply->element[1];
	answer = (redisReply){.type = REDIS_REPLY_ARRAY, .elements = 3};
	answer.element = (redisReply *[3]){pair[0], pair[1], &list};
	a->fn(a->st->ctx, &answer, a->privdata);
	free(list.element);
	free(items);
	cluster_apply_free(a);
}

/* Every part but the closing one answered: the closing part goes if all were
 * applied (now or before); else the batch is answered lost or with the error. */
static void on_part_reply(void *ctx, struct redisReply *reply, void *privdata)
{
	struct cluster_apply *a = privdata;
	const struct batch_part *closing = &a->parts.part[a->parts.count - 1];

	(void)ctx;
	if (reply == NULL)
		a->lost = 1;
	else if (reply->type == REDIS_REPLY_ERROR)
		keep_error(a, reply);
	else
		keep_refused(a, reply);
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

/* Sends every part but the closing one, together. Called from a reply callback. */
static void send_parts(struct cluster_apply *a)
{
	struct store *st = a->st;

	/* One more than the parts sent, held while sending, so that no reply finishes it
	 * midway; the hold's release below finishes it only when nothing went. */
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
	on_part_reply(NULL, &(redisReply){.type = REDIS_REPLY_STATUS}, a); /* the hold */
}

/*
 * The instance's applied sequence, asked before any part goes. A batch Redis applied
 * before is answered {0, applied} with nothing sent: its parts' own sequences may be
 * missing (a state moved from one server to a cluster with its keys), and a part
 * re-sent then would count twice. A strict batch that does not follow the applied one
 * is answered {2, applied}, before its parts would be applied and then stranded.
 */
static void on_applied_reply(void *ctx, struct redisReply *reply, void *privdata)
{
	struct cluster_apply *a = privdata;
	unsigned long long applied = 0;

	(void)ctx;
	if (reply == NULL || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL &&
	                      reply->type != REDIS_REPLY_ERROR)) {
		a->fn(a->st->ctx, NULL, a->privdata);
	} else if (reply->type == REDIS_REPLY_ERROR) {
		a->fn(a->st->ctx, reply, a->privdata);
	} else {
		if (reply->type == REDIS_REPLY_STRING)
			applied = strtoull(reply->str, NULL, 10);
		if (a->seq <= applied) {
			answer_outcome(a, 0, (long long)applied);
		} else if (a->strict && a->seq != applied + 1) {
			answer_outcome(a, 2, (long long)applied);
		} else if (a->parts.count == 1) { /* no operation: publish.c builds none such */
			const struct batch_part *p = &a->parts.part[0];
			if (rediscluster_eval(a->st->cluster, a->st->script, p->argc, p->argv,
			                      p->argvlen, p->numkeys, on_closing_reply, a) == 0)
				return;
			a->fn(a->st->ctx, NULL, a->privdata);
		} else {
			send_parts(a);
			return;
		}
	}
	cluster_apply_free(a);
}

static int cluster_apply(struct store *st, const struct publish_batch *b, redisconn_reply_fn fn,
                         void *privdata)
{
	struct cluster_apply *a = xcalloc(1, sizeof(*a));
	const char *get[2] = {"GET", b->argv[0]};
	size_t getlen[2] = {3, b->argvlen[0]};

	a->st = st;
	a->fn = fn;
	a->privdata = privdata;
	a->seq = b->seq;
	a->strict = b->argvlen[1] > 0 && b->argv[1][0] == '=';
	if (batch_parts_split(st->publish, b, &a->parts) == -1) {
		/* not a batch publish.c built */
		log_errx("batch seq=%llu does not parse into cluster parts",
		         (unsigned long long)b->seq);
		free(a);
		return -1;
	}
	if (rediscluster_command(st->cluster, b->argv[0], b->argvlen[0], 2, get, getlen,
	                         on_applied_reply, a) == -1) {
		cluster_apply_free(a);
		return -1;
	}
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
