/*
 * ctl_cluster.c owns chatlogctl's blocking connections to a Redis Cluster: the slot
 * map, one hiredis context per node it has used, routing by key slot, redirects and
 * per-node pipelines. It only forwards what ctl_redis.c asks and knows nothing of
 * the keys' meaning; the daemon's event-driven client is rediscluster.c, of which
 * only the slot hash (rediscluster_slot) is shared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "chatlogd/ctl_cluster.h"
#include "chatlogd/ctl_redis.h"
#include "chatlogd/limits.h"
#include "chatlogd/rediscluster.h"
#include "chatlogd/redisconn.h"
#include "chatlogd/util.h"

#define CTL_CLUSTER_SLOTS 16384

/* A node met in a slot map or a redirect. Nodes are never forgotten within a run:
 * an old master stays as a way to ask for the map again. */
struct cluster_node {
	char *host;
	int port;
	redisContext *redis; /* NULL until used, and again after its connection failed */
	int serves_slots;    /* a master in the latest map */
};

struct ctl_cluster {
	struct redis_endpoint seed; /* owned; the password stays for nodes met later */
	struct timeval timeout;
	struct cluster_node *nodes;
	size_t node_count;
	int slot_node[CTL_CLUSTER_SLOTS]; /* index into nodes; -1: no master known */
	int has_map;
};

/* What a reply asks of the client. */
enum cluster_answer {
	ANSWER_FINAL,       /* a result, or an error that is the caller's */
	ANSWER_MOVED,       /* the slot has a new master: ask it, and ask for the map */
	ANSWER_ASK,         /* the key is being migrated: ASKING, then ask the target */
	ANSWER_RETRY_LATER, /* TRYAGAIN, CLUSTERDOWN: the cluster is changing */
};

static char *copy_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct ctl_cluster *ctl_cluster_new(const struct redis_endpoint *seed)
{
	struct ctl_cluster *c = xcalloc(1, sizeof(*c));

	c->seed.host = copy_or_null(seed->host);
	c->seed.port = seed->port;
	c->seed.user = copy_or_null(seed->user);
	c->seed.password = copy_or_null(seed->password);
	for (size_t i = 0; i < CTL_CLUSTER_SLOTS; i++)
		c->slot_node[i] = -1;
	return c;
}

static void node_close(struct ctl_cluster *c, int i)
{
	if (c->nodes[i].redis != NULL) {
		redisFree(c->nodes[i].redis);
		c->nodes[i].redis = NULL;
	}
}

void ctl_cluster_free(struct ctl_cluster *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->node_count; i++) {
		node_close(c, (int)i);
		free(c->nodes[i].host);
	}
	free(c->nodes);
	redisconn_endpoint_free(&c->seed);
	free(c);
}

/* The index of node host:port, added when new. */
static int node_get(struct ctl_cluster *c, const char *host, size_t host_len, int port)
{
	struct cluster_node *node;

	for (size_t i = 0; i < c->node_count; i++)
		if (c->nodes[i].port == port && strlen(c->nodes[i].host) == host_len &&
		    memcmp(c->nodes[i].host, host, host_len) == 0)
			return (int)i;
	c->nodes = xreallocarray(c->nodes, c->node_count + 1, sizeof(*c->nodes));
	node = &c->nodes[c->node_count];
	memset(node, 0, sizeof(*node));
	node->host = xstrndup(host, host_len);
	node->port = port;
	return (int)c->node_count++;
}

/* Connects node i unless it is connected: timeouts, then AUTH with the seed's
 * credentials (a cluster has only db 0: no SELECT). -1 with the reason in err. */
static int node_open(struct ctl_cluster *c, int i, char *err, size_t errlen)
{
	struct cluster_node *node = &c->nodes[i];
	const char *argv[3] = {"AUTH", NULL, NULL};
	redisReply *reply;

	if (node->redis != NULL)
		return 0;
	node->redis = redisConnectWithTimeout(node->host, node->port, c->timeout);
	if (node->redis == NULL || node->redis->err != 0) {
		snprintf(err, errlen, "node %s:%d: cannot connect: %s", node->host, node->port,
		         node->redis != NULL ? node->redis->errstr : "out of memory");
		goto fail;
	}
	if (redisSetTimeout(node->redis, c->timeout) != REDIS_OK) {
		snprintf(err, errlen, "node %s:%d: cannot set a timeout", node->host, node->port);
		goto fail;
	}
	if (c->seed.password == NULL)
		return 0;
	argv[1] = c->seed.user != NULL ? c->seed.user : c->seed.password;
	argv[2] = c->seed.password;
	reply = redisCommandArgv(node->redis, c->seed.user != NULL ? 3 : 2, argv, NULL);
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "node %s:%d refused AUTH: %s", node->host, node->port,
		         reply != NULL ? reply->str : node->redis->errstr);
		if (reply != NULL)
			freeReplyObject(reply);
		goto fail;
	}
	freeReplyObject(reply);
	return 0;
fail:
	node_close(c, i);
	return -1;
}

/* ---- the slot map ---- */

/* Replaces the map with a CLUSTER SLOTS answer of node asked. -1 (map unchanged)
 * when it is malformed or empty (a node not yet in a cluster knows no slots). */
static int apply_slots(struct ctl_cluster *c, int asked, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0)
		return -1;
	for (size_t i = 0; i < reply->elements; i++)
		if (!rediscluster_slots_entry_valid(reply->element[i]))
			return -1;
	for (size_t i = 0; i < CTL_CLUSTER_SLOTS; i++)
		c->slot_node[i] = -1;
	for (size_t i = 0; i < c->node_count; i++)
		c->nodes[i].serves_slots = 0;
	for (size_t i = 0; i < reply->elements; i++) {
		const redisReply *range = reply->element[i], *master = range->element[2];
		const char *host = master->element[0]->str;
		size_t host_len = master->element[0]->len;
		int node;
		if (host_len == 0) { /* the node does not know its address: it is the one asked */
			host = c->nodes[asked].host;
			host_len = strlen(host);
		} else if (host_len == 1 && host[0] == '?') {
			continue; /* an unknown endpoint: those slots stay without a master */
		}
		node = node_get(c, host, host_len, (int)master->element[1]->integer);
		c->nodes[node].serves_slots = 1;
		for (long long slot = range->element[0]->integer;
		     slot <= range->element[1]->integer; slot++)
			c->slot_node[slot] = node;
	}
	c->has_map = 1;
	return 0;
}

/* Asks node i for the slot map. -1 with the reason in err. */
static int ask_slots(struct ctl_cluster *c, int i, char *err, size_t errlen)
{
	const char *argv[2] = {"CLUSTER", "SLOTS"};
	redisReply *reply;
	int rc = -1;

	if (node_open(c, i, err, errlen) == -1)
		return -1;
	if ((reply = redisCommandArgv(c->nodes[i].redis, 2, argv, NULL)) == NULL) {
		snprintf(err, errlen, "node %s:%d: CLUSTER SLOTS: %s", c->nodes[i].host,
		         c->nodes[i].port, c->nodes[i].redis->errstr);
		node_close(c, i);
		return -1;
	}
	if (reply->type == REDIS_REPLY_ERROR && strstr(reply->str, "cluster support disabled"))
		snprintf(err, errlen,
		         "the server is not a Redis Cluster node: set redis_cluster = off");
	else if (reply->type == REDIS_REPLY_ERROR)
		snprintf(err, errlen, "node %s:%d: CLUSTER SLOTS: %s", c->nodes[i].host,
		         c->nodes[i].port, reply->str);
	else if ((rc = apply_slots(c, i, reply)) == -1)
		snprintf(err, errlen, "node %s:%d: CLUSTER SLOTS: no slot map in the answer",
		         c->nodes[i].host, c->nodes[i].port);
	freeReplyObject(reply);
	return rc;
}

/* Asks for the map a node already connected, else any node known (a dead one costs
 * a refused connection, or the timeout). -1 with the last reason in err. */
static int refresh_map(struct ctl_cluster *c, char *err, size_t errlen)
{
	char ignored[256];

	if (err == NULL) {
		err = ignored;
		errlen = sizeof(ignored);
	}
	snprintf(err, errlen, "no node of the cluster is known");
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->node_count; i++)
			if ((c->nodes[i].redis != NULL) == (pass == 0) &&
			    ask_slots(c, (int)i, err, errlen) == 0)
				return 0;
	/* No node answers: the next ctl_cluster_connect starts again from the seed. */
	c->has_map = 0;
	return -1;
}

/* "the server is a cluster node?" from INFO cluster on node i: -1 with the reason
 * in err when it is not. An error (INFO denied by an ACL) says nothing: CLUSTER
 * SLOTS tells then. */
static int check_cluster_mode(struct ctl_cluster *c, int i, char *err, size_t errlen)
{
	const char *argv[2] = {"INFO", "cluster"};
	redisReply *reply = redisCommandArgv(c->nodes[i].redis, 2, argv, NULL);
	int rc = 0;

	if (reply == NULL) {
		snprintf(err, errlen, "node %s:%d: INFO cluster: %s", c->nodes[i].host,
		         c->nodes[i].port, c->nodes[i].redis->errstr);
		node_close(c, i);
		return -1;
	}
	if (reply->type != REDIS_REPLY_ERROR && reply->str != NULL &&
	    strstr(reply->str, "cluster_enabled:1") == NULL) {
		snprintf(err, errlen,
		         "the server is not a Redis Cluster node: set redis_cluster = off");
		rc = -1;
	}
	freeReplyObject(reply);
	return rc;
}

int ctl_cluster_connect(struct ctl_cluster *c, int64_t timeout_ms, char *err, size_t errlen)
{
	char ignored[256];
	int first = -1;

	c->timeout.tv_sec = (time_t)(timeout_ms / 1000);
	c->timeout.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	c->has_map = 0;
	for (size_t i = 0; i < c->node_count; i++)
		node_close(c, (int)i);
	/* The seed first; when it is gone, any node a map named before (serve). */
	node_get(c, c->seed.host, strlen(c->seed.host), c->seed.port);
	for (size_t i = 0; i < c->node_count && first == -1; i++)
		if (node_open(c, (int)i, i == 0 ? err : ignored,
		              i == 0 ? errlen : sizeof(ignored)) == 0)
			first = (int)i;
	if (first == -1 || check_cluster_mode(c, first, err, errlen) == -1 ||
	    ask_slots(c, first, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < c->node_count; i++)
		if (c->nodes[i].serves_slots && node_open(c, (int)i, err, errlen) == -1)
			return -1;
	return 0;
}

int ctl_cluster_connected(const struct ctl_cluster *c)
{
	return c->has_map;
}

size_t ctl_cluster_master_count(const struct ctl_cluster *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->node_count; i++)
		n += c->nodes[i].serves_slots != 0;
	return n;
}

void ctl_cluster_master(const struct ctl_cluster *c, size_t which, const char **host, int *port)
{
	for (size_t i = 0; i < c->node_count; i++)
		if (c->nodes[i].serves_slots && which-- == 0) {
			*host = c->nodes[i].host;
			*port = c->nodes[i].port;
			return;
		}
	*host = NULL;
	*port = 0;
}

/* ---- commands ---- */

/* What reply asks for; for MOVED and ASK, *target is the node named (added when
 * new; an empty host is the node that answered, 'from'). */
static enum cluster_answer classify(struct ctl_cluster *c, int from, const redisReply *reply,
                                    int *target)
{
	const char *address, *colon;
	enum cluster_answer kind;
	char *end;
	long port;

	if (reply->type != REDIS_REPLY_ERROR)
		return ANSWER_FINAL;
	if (strncmp(reply->str, "TRYAGAIN", 8) == 0 || strncmp(reply->str, "CLUSTERDOWN", 11) == 0)
		return ANSWER_RETRY_LATER;
	if (strncmp(reply->str, "MOVED ", 6) == 0)
		kind = ANSWER_MOVED;
	else if (strncmp(reply->str, "ASK ", 4) == 0)
		kind = ANSWER_ASK;
	else
		return ANSWER_FINAL;
	/* "MOVED 3999 127.0.0.1:6381": the address after the slot, split at the last ':'
	 * (IPv6). Anything else is shown to the caller as it is. */
	if ((address = strchr(reply->str, ' ')) == NULL ||
	    (address = strchr(address + 1, ' ')) == NULL || (colon = strrchr(address, ':')) == NULL)
		return ANSWER_FINAL;
	address++;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535)
		return ANSWER_FINAL;
	if (colon == address)
		*target = node_get(c, c->nodes[from].host, strlen(c->nodes[from].host), (int)port);
	else
		*target = node_get(c, address, (size_t)(colon - address), (int)port);
	return kind;
}

/* Sends argv to node i (after ASKING when asking) and reads its reply; NULL when
 * the connection failed (the caller closes it). */
static redisReply *node_run(struct ctl_cluster *c, int i, int asking, int argc, const char **argv)
{
	redisContext *redis = c->nodes[i].redis;
	void *reply;

	if (!asking)
		return redisCommandArgv(redis, argc, argv, NULL);
	/* Pipelined: ASKING holds for the next command on this connection only. */
	if (redisAppendCommand(redis, "ASKING") != REDIS_OK ||
	    redisAppendCommandArgv(redis, argc, argv, NULL) != REDIS_OK) {
		ctl_error("out of memory");
		exit(EXIT_FAILURE);
	}
	if (redisGetReply(redis, &reply) != REDIS_OK)
		return NULL;
	freeReplyObject(reply);
	if (redisGetReply(redis, &reply) != REDIS_OK)
		return NULL;
	return reply;
}

static void pause_for_cluster(void)
{
	struct timespec gap = {0, LIMIT_CLUSTER_REFRESH_GAP_MS * 1000000L};

	nanosleep(&gap, NULL);
}

redisReply *ctl_cluster_command(struct ctl_cluster *c, const char *key, int argc, const char **argv,
                                char *err, size_t errlen)
{
	unsigned slot = rediscluster_slot(key, strlen(key));
	int node = c->slot_node[slot], asking = 0, retried_after_loss = 0, target = -1;

	for (int hops = 0;; hops++) {
		redisReply *reply = NULL;
		enum cluster_answer kind;

		if (node < 0 &&
		    (refresh_map(c, err, errlen) == -1 || (node = c->slot_node[slot]) < 0)) {
			if (c->has_map)
				snprintf(err, errlen, "no master serves slot %u", slot);
			return NULL;
		}
		if (node_open(c, node, err, errlen) == 0 &&
		    (reply = node_run(c, node, asking, argc, argv)) == NULL)
			snprintf(err, errlen, "node %s:%d: %s", c->nodes[node].host,
			         c->nodes[node].port,
			         c->nodes[node].redis->errstr[0] ? c->nodes[node].redis->errstr
			                                         : "connection lost");
		if (reply == NULL) {
			/* Reads may run twice: once more, if a new map names another master
			 * (a failover). */
			node_close(c, node);
			if (retried_after_loss || refresh_map(c, NULL, 0) == -1 ||
			    c->slot_node[slot] == node || c->slot_node[slot] < 0)
				return NULL;
			retried_after_loss = 1;
			node = c->slot_node[slot];
			asking = 0;
			continue;
		}
		if ((kind = classify(c, node, reply, &target)) == ANSWER_FINAL)
			return reply;
		if (hops == LIMIT_CLUSTER_REDIRECTS) {
			snprintf(err, errlen, "node %s:%d: %s (after %d redirects)",
			         c->nodes[node].host, c->nodes[node].port, reply->str, hops);
			freeReplyObject(reply);
			return NULL;
		}
		freeReplyObject(reply);
		asking = kind == ANSWER_ASK;
		if (kind == ANSWER_ASK) {
			node = target;
			continue;
		}
		if (kind == ANSWER_RETRY_LATER)
			pause_for_cluster();
		/* A reshard moves many slots: ask for the whole map, but trust MOVED for this
		 * slot over a node that may not have heard yet. */
		refresh_map(c, NULL, 0);
		if (kind == ANSWER_MOVED)
			c->slot_node[slot] = target;
		node = c->slot_node[slot];
	}
}

/* Opens, once each, the nodes that commands are routed to; a command whose node
 * cannot be reached gets -1 and runs alone later (which says why). */
static void pipeline_route(struct ctl_cluster *c, size_t count, const char *const *const *argv,
                           int *node_of)
{
	char *tried = xcalloc(c->node_count + 1, 1), ignored[256];

	for (size_t i = 0; i < count; i++) {
		int node = c->slot_node[rediscluster_slot(argv[i][1], strlen(argv[i][1]))];
		if (node >= 0 && !tried[node]) {
			tried[node] = 1;
			node_open(c, node, ignored, sizeof(ignored));
		}
		node_of[i] = node >= 0 && c->nodes[node].redis != NULL ? node : -1;
	}
	free(tried);
}

int ctl_cluster_pipeline(struct ctl_cluster *c, size_t count, int argc,
                         const char *const *const *argv, redisReply **replies, char *err,
                         size_t errlen)
{
	int *node_of = xcalloc(count + 1, sizeof(*node_of)), redirected = 0, target;
	size_t i;

	pipeline_route(c, count, argv, node_of);
	for (i = 0; i < count; i++) {
		replies[i] = NULL;
		if (node_of[i] >= 0 &&
		    redisAppendCommandArgv(c->nodes[node_of[i]].redis, argc, (const char **)argv[i],
		                           NULL) != REDIS_OK) {
			ctl_error("out of memory");
			exit(EXIT_FAILURE);
		}
	}
	/* Each node answers in the order it was sent, which is the caller's order
	 * restricted to that node: reading in the caller's order drains them all. */
	for (i = 0; i < count; i++) {
		int node = node_of[i];
		void *reply;
		if (node < 0 || c->nodes[node].redis == NULL)
			continue; /* its connection failed: runs again below */
		if (redisGetReply(c->nodes[node].redis, &reply) != REDIS_OK) {
			node_close(c, node);
			continue;
		}
		if (classify(c, node, reply, &target) != ANSWER_FINAL) {
			freeReplyObject(reply);
			redirected = 1;
			continue;
		}
		replies[i] = reply;
	}
	free(node_of);
	if (redirected)
		refresh_map(c, NULL, 0);
	for (i = 0; i < count; i++)
		if (replies[i] == NULL &&
		    (replies[i] = ctl_cluster_command(c, argv[i][1], argc, (const char **)argv[i],
		                                      err, errlen)) == NULL)
			break;
	if (i == count)
		return 0;
	for (i = 0; i < count; i++)
		if (replies[i] != NULL)
			freeReplyObject(replies[i]);
	return -1;
}
