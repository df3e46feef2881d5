/*
 * Where batches go: one Redis server (redisconn) or a Redis Cluster (rediscluster),
 * behind one interface, so that the live sender and the backfill apply a batch
 * without knowing which (docs/redis-connection.md). On one server a batch is one
 * EVALSHA of the apply script, atomic. On a cluster it is a GET of the instance's
 * applied sequence (a batch applied before is answered as such and not sent: its
 * parts' sequences may be missing, after a move from one server), then its parts
 * (batch_parts.h), sent at once to their nodes, then the closing part once all of
 * them are acknowledged: each part is atomic and applied once, the batch as a whole
 * is not atomic, and it is done when its closing part is.
 */
#ifndef CHATLOGD_STORE_H
#define CHATLOGD_STORE_H

#include <stddef.h>

#include "redisconn.h"

struct event_base;
struct publish_batch;
struct publish_settings;
struct rediscluster_stats;
struct store;

struct store_settings {
	struct redisconn_settings redis; /* .cluster picks the kind */
	/* prefix and instance name the parts' sequence keys; borrowed, must outlive the
	 * store */
	const struct publish_settings *publish;
};

/* Connects (from the loop) to one server or a cluster, as s->redis.cluster says.
 * state_fn as redisconn's: connected means batches can be applied. NULL with a
 * reason in err for a bad URL or settings. */
struct store *store_new(struct event_base *base, const struct store_settings *s,
                        redisconn_state_fn state_fn, void *ctx, char *err, size_t errlen);

/* Disconnects and frees; accepts NULL. Every pending callback gets NULL first, as
 * with redisconn_free. */
void store_free(struct store *st);

/* GET key: fn exactly once, with the reply or NULL. 0, or -1 when not connected. */
int store_get(struct store *st, const char *key, redisconn_reply_fn fn, void *privdata);

/*
 * Applies batch b: fn gets exactly once the apply script's reply ({1, previous},
 * {0, applied}, {2, applied}: publish.h), an error reply, or NULL when it may or may
 * not have been applied (lost, timed out, redirected too often): re-send it. On a
 * cluster the reply is the closing part's, and an error is the first a part got.
 * b must stay unchanged until fn is called. Returns 0, or -1 when not connected (fn
 * is then not called). On a cluster, apply one batch at a time: a tag's parts must
 * reach it in sequence order, and a later batch's part applied before an earlier
 * one's would make Redis skip the earlier one as a re-send.
 */
int store_apply(struct store *st, const struct publish_batch *b, redisconn_reply_fn fn,
                void *privdata);

int store_connected(const struct store *st);

/* The server's kind did not match the setting at the last connect (a cluster node
 * given as one server, or the other way round): waiting will not help. */
int store_wrong_mode(const struct store *st);

/* A Redis Cluster (redis_cluster = on). */
int store_is_cluster(const struct store *st);

/* On a cluster, what its client followed (rediscluster.h) into out, and 0; -1 on one
 * server. */
int store_cluster_stats(const struct store *st, struct rediscluster_stats *out);

/* Commands sent and not yet answered. */
size_t store_in_flight(const struct store *st);

/* A log-safe description of the endpoint (never the password). */
const char *store_endpoint(const struct store *st, char *buf, size_t len);

#endif
