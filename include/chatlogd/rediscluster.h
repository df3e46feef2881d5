/*
 * A Redis Cluster client on the libevent loop, built from redisconn connections:
 * one per master that serves slots (replicas are not used). It learns the slot map
 * from CLUSTER SLOTS, sends each command to the master of its key's slot, follows
 * MOVED and ASK redirects, and refreshes the map when the cluster changes. Like
 * redisconn it knows nothing about what the commands mean and never retries one that
 * may have run.
 */
#ifndef CHATLOGD_REDISCLUSTER_H
#define CHATLOGD_REDISCLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "chatlogd/redisconn.h"

struct event_base;
struct redisReply;
struct rediscluster;

/* What the cluster did since rediscluster_new, for metrics and tests. */
struct rediscluster_stats {
	uint64_t moved;         /* MOVED replies followed */
	uint64_t asked;         /* ASK replies followed (ASKING sent) */
	uint64_t retry_later;   /* TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN: answered NULL */
	uint64_t too_many_hops; /* commands answered NULL after LIMIT_CLUSTER_REDIRECTS */
	uint64_t refreshes;     /* CLUSTER SLOTS answers applied */
};

/* Creates the client; nothing connects before the loop runs (no callback runs
 * inside rediscluster_new). seed is copied: its URL (redis://[user:pass@]host:port,
 * db 0 only) names any node of the cluster to ask for the slot map, its credentials
 * and password file serve every node, its timeouts and backoff apply to every node
 * connection and to the map's refreshes; seed->cluster is ignored (every node must
 * be a cluster node). state_fn hears connected = 1 when a map covering all 16384
 * slots is known and the connection to every master serving them is ready, and 0
 * with a reason when that stops or while a needed node's attempts fail (once per
 * failed attempt, as redisconn). NULL with a reason in err for a bad URL (unix://,
 * a db other than 0), bad settings or an unreadable password file. The caller must
 * ignore SIGPIPE. */
struct rediscluster *rediscluster_new(struct event_base *base,
                                      const struct redisconn_settings *seed,
                                      redisconn_state_fn state_fn, void *ctx, char *err,
                                      size_t errlen);

/* Registers a Lua script (copied) before or after connecting; returns its id. It
 * is SCRIPT LOADed on every node at every (re)connect of that node. */
int rediscluster_script(struct rediscluster *c, const char *lua);

/* EVALSHA of script id (EVAL after NOSCRIPT, as redisconn_eval) with argv = numkeys
 * keys then args (copied), sent to the master of argv[0]'s slot (KEYS[1]; every key
 * should share its slot, e.g. by a {hash tag}). fn is called exactly once, never
 * inside this call: with the reply after any redirects, or NULL when the command
 * was lost, timed out, could not be routed, or met TRYAGAIN, CLUSTERDOWN, LOADING
 * or MASTERDOWN (may or may not have run). Returns 0, or -1 (fn not called) when
 * numkeys < 1 or the slot's master has no ready connection. */
int rediscluster_eval(struct rediscluster *c, int script, int argc, const char **argv,
                      const size_t *argvlen, int numkeys, redisconn_reply_fn fn, void *privdata);

/* A plain command (binary-safe arguments, copied) sent to the master of key's slot;
 * fn and the return value as rediscluster_eval. */
int rediscluster_command(struct rediscluster *c, const char *key, size_t keylen, int argc,
                         const char **argv, const size_t *argvlen, redisconn_reply_fn fn,
                         void *privdata);

/* 1 between state_fn(ctx, 1, ...) and the next state_fn(ctx, 0, ...). */
int rediscluster_connected(const struct rediscluster *c);

/* Whether a node's mode did not match at its last connect (it is not a cluster
 * node): no retry can change it, so a one-shot run gives up at once. */
int rediscluster_wrong_mode(const struct rediscluster *c);

/* Commands accepted and not yet answered (sent, or waiting for a redirect's node). */
size_t rediscluster_in_flight(const struct rediscluster *c);

/* Copies the counters into out. */
void rediscluster_stats(const struct rediscluster *c, struct rediscluster_stats *out);

/* Writes a log-safe description into buf ("cluster seed=host:port auth=acl user=u
 * masters=3"; never the password) and returns buf. */
const char *rediscluster_endpoint(const struct rediscluster *c, char *buf, size_t len);

/* Disconnects every node and frees; accepts NULL. Every pending fn gets NULL (in
 * send order per node) before this returns, and none is called afterwards; the
 * state callback is not called. Safe inside a reply callback and inside the state
 * callback: the memory is then released when that callback returns. */
void rediscluster_free(struct rediscluster *c);

/* Whether one entry of a CLUSTER SLOTS answer is one this client can use: a slot
 * range within 0-16383 and a master with an address and a port. */
int rediscluster_slots_entry_valid(const struct redisReply *range);

/* The cluster slot of a key: CRC16-XMODEM of the key, or of its hash tag (the bytes
 * between the first '{' and the first '}' after it, when there is at least one), mod
 * 16384. */
unsigned rediscluster_slot(const char *key, size_t len);

#endif
