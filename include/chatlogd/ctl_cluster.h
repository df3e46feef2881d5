/*
 * chatlogctl's blocking Redis Cluster client (hiredis' blocking API): the slot map
 * from CLUSTER SLOTS, one connection per master with the seed's credentials and
 * timeout, each command sent to the master of its key's slot, MOVED (the map asked
 * again) and ASK (ASKING first) followed, and pipelines split per node with the
 * caller's order kept. It carries commands only: what they read is ctl_redis.c's.
 * Part of the chatlogctl program, not of the daemon (which uses rediscluster.c).
 */
#ifndef CHATLOGD_CTL_CLUSTER_H
#define CHATLOGD_CTL_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct ctl_cluster;
struct redisReply;
struct redis_endpoint;

/* A client for the cluster one of whose nodes seed names (copied, password
 * included: masters the map names later need it). The caller has checked that seed
 * is TCP and db 0. Nothing is connected yet. */
struct ctl_cluster *ctl_cluster_new(const struct redis_endpoint *seed);

/* Connects to the seed (or, when it is gone, to another node known before),
 * authenticates, checks that it is a cluster node, reads the slot map and connects
 * to every master in it; timeout_ms for every connection and reply from now on.
 * 0, or -1 with the reason in err ("the server is not a Redis Cluster node: set
 * redis_cluster = off" when it is one server). */
int ctl_cluster_connect(struct ctl_cluster *c, int64_t timeout_ms, char *err, size_t errlen);

/* 1 when a slot map is known (connections lost since come back at their next
 * command); 0 before the first ctl_cluster_connect that worked, and after no node
 * could be asked for the map. */
int ctl_cluster_connected(const struct ctl_cluster *c);

/* Runs argv on the master of key's slot, following redirects. The reply belongs to
 * the caller and may be an error reply from Redis; NULL with "node HOST:PORT:
 * reason" in err when the connection failed or the redirects did not end. */
struct redisReply *ctl_cluster_command(struct ctl_cluster *c, const char *key, int argc,
                                       const char **argv, char *err, size_t errlen);

/* Runs count commands of argc arguments each, argv[i] keyed by argv[i][1]: one
 * pipeline per master, all sent before any is read; what was redirected runs again
 * as ctl_cluster_command. replies[i] answers argv[i] and belongs to the caller. -1
 * with the reason in err (and every reply freed) as ctl_cluster_command. */
int ctl_cluster_pipeline(struct ctl_cluster *c, size_t count, int argc,
                         const char *const *const *argv, struct redisReply **replies, char *err,
                         size_t errlen);

/* How many masters serve slots in the map. */
size_t ctl_cluster_master_count(const struct ctl_cluster *c);

/* The host and port of master i (< ctl_cluster_master_count), valid until the next
 * command. */
void ctl_cluster_master(const struct ctl_cluster *c, size_t i, const char **host, int *port);

/* Disconnects and frees (wiping the password); accepts NULL. */
void ctl_cluster_free(struct ctl_cluster *c);

#endif
