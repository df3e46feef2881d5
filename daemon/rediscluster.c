/*
 * rediscluster.c owns a Redis Cluster client on the libevent loop: the slot map
 * (from CLUSTER SLOTS), one redisconn per master that serves slots, routing each
 * command by its key's slot, and following MOVED and ASK. It does not use replicas,
 * does not retry a command that may have run, and leaves connecting, deadlines,
 * backoff and scripts to redisconn.
 *
 * Requests: every command keeps a copy of its arguments so a redirect can send it
 * again. It is either sent (pending in a node's redisconn, which answers
 * cluster_on_reply exactly once, NULL included, even when it is freed), or parked
 * on the node a redirect named until that node's connection is ready, or being
 * answered NULL from c->answering. The caller's fn runs exactly once, from one of
 * those three places, never inside rediscluster_command/eval.
 *
 * Freeing discipline, as redisconn's: every entry from the loop (reply, state,
 * timers) counts itself in c->depth; rediscluster_free inside one of them answers
 * everything now and the outermost entry releases the memory on the way out. A
 * node dropped from the map is retired: its redisconn freed at once (which answers
 * what was sent to it), its struct kept on c->retired until depth 0, because the
 * callback we are in may be that node's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "chatlogd/clock.h"
#include "chatlogd/decimal.h"
#include "chatlogd/limits.h"
#include "chatlogd/log.h"
#include "chatlogd/rediscluster.h"
#include "chatlogd/util.h"

/* The Redis Cluster key space: every key hashes to one of these. */
#define CLUSTER_SLOT_COUNT 16384

enum cluster_request_kind {
	CLUSTER_REQUEST_COMMAND,
	CLUSTER_REQUEST_EVAL,
};

struct cluster_request {
	TAILQ_ENTRY(cluster_request) entry; /* in a node's parked list, or c->answering */
	struct rediscluster *cluster;
	enum cluster_request_kind kind;
	redisconn_reply_fn fn;
	void *privdata;
	unsigned slot;
	int script, numkeys; /* CLUSTER_REQUEST_EVAL */
	int redirects;       /* MOVED and ASK followed so far */
	int asking;          /* send ASKING right before it: the target of an ASK */
	int64_t parked_until_ms;
	int argc; /* copies below, in this allocation */
	const char **argv;
	size_t *argvlen;
};
TAILQ_HEAD(cluster_request_list, cluster_request);

struct cluster_node {
	TAILQ_ENTRY(cluster_node) entry; /* in c->nodes, or c->retired once dropped */
	struct rediscluster *cluster;
	char *host;
	int port;
	struct redisconn *conn;             /* NULL once retired */
	int serves_slots;                   /* owns a slot in the current map */
	struct cluster_request_list parked; /* redirected here before conn was ready */
};
TAILQ_HEAD(cluster_node_list, cluster_node);

struct rediscluster {
	struct event_base *base;
	redisconn_state_fn state_fn;
	void *ctx;

	/* host and port name the seed; user and password serve every node. */
	struct redis_endpoint seed;
	struct redisconn_settings node_settings; /* the seed's timeouts, cluster = 1 */
	char **scripts;
	int script_count;

	struct cluster_node_list nodes;   /* masters of the map, the seed, redirect targets */
	struct cluster_node_list retired; /* freed at depth 0 */
	struct cluster_node *slots[CLUSTER_SLOT_COUNT];
	unsigned slots_covered; /* slots with a node */

	int connected;
	size_t in_flight;
	struct cluster_request_list answering; /* being answered NULL */
	struct rediscluster_stats stats;
	struct log_ratelimit hops_warn;

	struct event *refresh_timer;
	struct event *park_timer;   /* the earliest parked request's deadline */
	int refresh_in_flight;      /* a CLUSTER SLOTS is out */
	int refresh_again;          /* the cluster changed while it was out */
	int64_t refresh_at_ms;      /* when refresh_timer fires, while pending */
	int64_t last_refresh_ms;    /* when the last CLUSTER SLOTS was sent */
	int64_t refresh_backoff_ms; /* while not connected: the wait before the next */
	unsigned refresh_turn;      /* rotates the node asked */

	int depth;          /* our callbacks on the stack right now */
	int free_requested; /* rediscluster_free was called; free at depth 0 */
};

static void cluster_update_state(struct rediscluster *c);
static void cluster_schedule_refresh(struct rediscluster *c, int64_t delay_ms);

/* ---- slots ---- */

/* CRC16-XMODEM (polynomial 0x1021, initial 0), as the cluster spec gives it. Keys
 * are short and hashed once per command, so bit by bit is fast enough. */
static unsigned cluster_crc16(const unsigned char *s, size_t len)
{
	unsigned crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (unsigned)s[i] << 8;
		for (int bit = 0; bit < 8; bit++)
			crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
		crc &= 0xffff;
	}
	return crc;
}

unsigned rediscluster_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len), *close;

	if (open != NULL) {
		close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
		if (close != NULL && close > open + 1) {
			key = open + 1;
			len = (size_t)(close - open - 1);
		}
	}
	return cluster_crc16((const unsigned char *)key, len) % CLUSTER_SLOT_COUNT;
}

/* ---- depth ---- */

static void cluster_enter(struct rediscluster *c)
{
	c->depth++;
}

static void cluster_node_destroy(struct cluster_node *node)
{
	free(node->host);
	free(node);
}

static void cluster_destroy(struct rediscluster *c)
{
	struct cluster_node *node;
	int i;

	while ((node = TAILQ_FIRST(&c->retired)) != NULL) {
		TAILQ_REMOVE(&c->retired, node, entry);
		cluster_node_destroy(node);
	}
	/* Only a failed rediscluster_new leaves nodes here; free retires them all. */
	while ((node = TAILQ_FIRST(&c->nodes)) != NULL) {
		TAILQ_REMOVE(&c->nodes, node, entry);
		redisconn_free(node->conn);
		cluster_node_destroy(node);
	}
	if (c->refresh_timer != NULL)
		event_free(c->refresh_timer);
	if (c->park_timer != NULL)
		event_free(c->park_timer);
	for (i = 0; i < c->script_count; i++)
		free(c->scripts[i]);
	free(c->scripts);
	redisconn_endpoint_free(&c->seed);
	free(c);
}

/* Leaves one of our callbacks; the outermost one releases retired nodes and carries
 * out a rediscluster_free requested inside. */
static void cluster_leave(struct rediscluster *c)
{
	struct cluster_node *node;

	if (--c->depth > 0)
		return;
	while ((node = TAILQ_FIRST(&c->retired)) != NULL) {
		TAILQ_REMOVE(&c->retired, node, entry);
		cluster_node_destroy(node);
	}
	if (c->free_requested)
		cluster_destroy(c);
}

/* ---- requests ---- */

static struct cluster_request *cluster_request_new(struct rediscluster *c,
                                                   enum cluster_request_kind kind, unsigned slot,
                                                   int argc, const char **argv,
                                                   const size_t *argvlen)
{
	struct cluster_request *req;
	const char **copied_argv;
	size_t *copied_len;

	req = redisconn_args_block(sizeof(*req), argc, argv, argvlen, &copied_argv, &copied_len);
	req->cluster = c;
	req->kind = kind;
	req->slot = slot;
	req->argc = argc;
	req->argv = copied_argv;
	req->argvlen = copied_len;
	return req;
}

/* The caller's one answer: reply, or NULL. */
static void cluster_answer(struct rediscluster *c, struct cluster_request *req,
                           struct redisReply *reply)
{
	c->in_flight--;
	if (req->fn != NULL)
		req->fn(c->ctx, reply, req->privdata);
	free(req);
}

/* Answers NULL, in order, every request moved to c->answering. The list lives in c
 * so that a rediscluster_free inside one of these callbacks answers the rest before
 * it returns. */
static void cluster_answer_parked_null(struct rediscluster *c)
{
	struct cluster_request *req;

	while ((req = TAILQ_FIRST(&c->answering)) != NULL) {
		TAILQ_REMOVE(&c->answering, req, entry);
		cluster_answer(c, req, NULL);
	}
}

static void cluster_on_reply(void *ctx, struct redisReply *reply, void *privdata);

/* Hands req to node's connection (after ASKING when it follows an ASK). -1 when
 * the connection is not ready or refused it; the caller still owns req. */
static int cluster_send(struct cluster_node *node, struct cluster_request *req)
{
	static const char *asking[1] = {"ASKING"};
	static const size_t asking_len[1] = {6};

	if (node->conn == NULL || !redisconn_connected(node->conn))
		return -1;
	/* Pipelined right before the command on the same connection, so it is the
	 * command the server lets through. */
	if (req->asking && redisconn_command(node->conn, 1, asking, asking_len, NULL, NULL) == -1)
		return -1;
	req->asking = 0;
	if (req->kind == CLUSTER_REQUEST_EVAL)
		return redisconn_eval(node->conn, req->script, req->argc, req->argv, req->argvlen,
		                      req->numkeys, cluster_on_reply, req);
	return redisconn_command(node->conn, req->argc, req->argv, req->argvlen, cluster_on_reply,
	                         req);
}

static void cluster_arm_park_timer(struct rediscluster *c)
{
	struct cluster_node *node;
	struct cluster_request *head;
	int64_t earliest = INT64_MAX;
	struct timeval tv;
	int64_t wait;

	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		head = TAILQ_FIRST(&node->parked);
		if (head != NULL && head->parked_until_ms < earliest)
			earliest = head->parked_until_ms;
	}
	if (earliest == INT64_MAX) {
		evtimer_del(c->park_timer);
		return;
	}
	wait = earliest - clock_monotonic_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(c->park_timer, &tv);
}

/* Sends a redirected request on to node, or parks it there until node's connection
 * is ready (a node just learnt of connects from the loop), for as long as a connect
 * may take or a command may wait, whichever is shorter. */
static void cluster_forward(struct rediscluster *c, struct cluster_node *node,
                            struct cluster_request *req)
{
	int64_t wait = c->node_settings.connect_timeout_ms < c->node_settings.command_timeout_ms
	                   ? c->node_settings.connect_timeout_ms
	                   : c->node_settings.command_timeout_ms;

	if (node->conn != NULL && redisconn_connected(node->conn)) {
		if (cluster_send(node, req) == -1)
			cluster_answer(c, req, NULL);
		return;
	}
	req->parked_until_ms = clock_monotonic_ms() + wait;
	TAILQ_INSERT_TAIL(&node->parked, req, entry);
	cluster_arm_park_timer(c);
}

/* node's connection is ready: sends what waited for it, in order. */
static void cluster_send_parked(struct rediscluster *c, struct cluster_node *node)
{
	struct cluster_request *req;

	while (!c->free_requested && (req = TAILQ_FIRST(&node->parked)) != NULL) {
		TAILQ_REMOVE(&node->parked, req, entry);
		if (cluster_send(node, req) == -1)
			cluster_answer(c, req, NULL);
	}
	cluster_arm_park_timer(c);
}

static void cluster_on_park_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rediscluster *c = arg;
	struct cluster_node *node;
	struct cluster_request *req;
	int64_t now = clock_monotonic_ms();

	(void)fd;
	(void)what;
	cluster_enter(c);
	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		while ((req = TAILQ_FIRST(&node->parked)) != NULL && req->parked_until_ms <= now) {
			TAILQ_REMOVE(&node->parked, req, entry);
			TAILQ_INSERT_TAIL(&c->answering, req, entry);
		}
	}
	cluster_answer_parked_null(c);
	if (!c->free_requested)
		cluster_arm_park_timer(c);
	cluster_leave(c);
}

/* ---- nodes ---- */

static struct cluster_node *cluster_node_find(struct rediscluster *c, const char *host,
                                              size_t host_len, int port)
{
	struct cluster_node *node;

	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		if (node->port == port && strlen(node->host) == host_len &&
		    memcmp(node->host, host, host_len) == 0)
			return node;
	}
	return NULL;
}

static void cluster_node_on_state(void *ctx, int connected, const char *reason);

/* A node and its connection (with the seed's credentials and every script), which
 * starts from the loop. NULL when redisconn refuses it (logged). */
static struct cluster_node *cluster_node_add(struct rediscluster *c, const char *host,
                                             size_t host_len, int port)
{
	struct redis_endpoint endpoint = c->seed;
	struct cluster_node *node;
	char err[256];
	int i;

	node = xcalloc(1, sizeof(*node));
	node->cluster = c;
	node->host = xstrndup(host, host_len);
	node->port = port;
	TAILQ_INIT(&node->parked);
	endpoint.host = node->host;
	endpoint.port = port;
	endpoint.db = 0;
	if ((node->conn = redisconn_new_endpoint(c->base, &endpoint, &c->node_settings,
	                                         cluster_node_on_state, node, err, sizeof(err))) ==
	    NULL) {
		log_warnx("redis cluster: cannot connect to node host=%s port=%d: %s", node->host,
		          port, err);
		cluster_node_destroy(node);
		return NULL;
	}
	for (i = 0; i < c->script_count; i++)
		redisconn_script(node->conn, c->scripts[i]);
	TAILQ_INSERT_TAIL(&c->nodes, node, entry);
	log_debug("redis cluster: node added host=%s port=%d", node->host, port);
	return node;
}

static struct cluster_node *cluster_node_get(struct rediscluster *c, const char *host,
                                             size_t host_len, int port)
{
	struct cluster_node *node = cluster_node_find(c, host, host_len, port);

	return node != NULL ? node : cluster_node_add(c, host, host_len, port);
}

/* Drops node: its connection is freed now (what was sent to it is answered NULL),
 * what waited for it is answered NULL, its struct is released at depth 0. Callers
 * hold a depth. */
static void cluster_node_retire(struct rediscluster *c, struct cluster_node *node)
{
	struct redisconn *conn = node->conn;
	unsigned slot;

	TAILQ_REMOVE(&c->nodes, node, entry);
	TAILQ_INSERT_TAIL(&c->retired, node, entry);
	node->conn = NULL;
	if (node->serves_slots) {
		for (slot = 0; slot < CLUSTER_SLOT_COUNT; slot++) {
			if (c->slots[slot] == node) {
				c->slots[slot] = NULL;
				c->slots_covered--;
			}
		}
		node->serves_slots = 0;
	}
	TAILQ_CONCAT(&c->answering, &node->parked, entry);
	log_debug("redis cluster: node dropped host=%s port=%d", node->host, node->port);
	redisconn_free(conn);
	cluster_answer_parked_null(c);
}

/* A node's connection came up or an attempt failed. The cluster is told of a
 * failure when that node is needed: it serves slots, or no full map is known yet. */
static void cluster_node_on_state(void *ctx, int connected, const char *reason)
{
	struct cluster_node *node = ctx;
	struct rediscluster *c = node->cluster;
	char why[512];

	cluster_enter(c);
	if (connected) {
		log_debug("redis cluster: node connected host=%s port=%d", node->host, node->port);
		cluster_send_parked(c, node);
		if (!c->free_requested)
			cluster_update_state(c);
		/* Still not connected: the map may be what is missing (the seed's first
		 * connect, or a node that had no answer before). */
		if (!c->free_requested && (!c->connected || c->refresh_again))
			cluster_schedule_refresh(c, 0);
	} else {
		snprintf(why, sizeof(why), "node %s:%d: %s", node->host, node->port,
		         reason != NULL ? reason : "down");
		cluster_schedule_refresh(c, 0); /* a failover may be what took it */
		if (node->serves_slots || c->slots_covered < CLUSTER_SLOT_COUNT) {
			c->connected = 0;
			if (c->state_fn != NULL)
				c->state_fn(c->ctx, 0, why);
		}
	}
	cluster_leave(c);
}

/* ---- state ---- */

/* 1 when every slot has a node and every such node's connection is ready; else 0
 * and why in reason. */
static int cluster_ready(const struct rediscluster *c, char *reason, size_t reasonlen)
{
	const struct cluster_node *node;

	if (c->slots_covered < CLUSTER_SLOT_COUNT) {
		snprintf(reason, reasonlen, "slot map: %u of %d slots have a master",
		         c->slots_covered, CLUSTER_SLOT_COUNT);
		return 0;
	}
	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		if (node->serves_slots && !redisconn_connected(node->conn)) {
			snprintf(reason, reasonlen, "waiting for the connection to node %s:%d",
			         node->host, node->port);
			return 0;
		}
	}
	return 1;
}

/* Tells the caller when the cluster became usable or stopped being so. */
static void cluster_update_state(struct rediscluster *c)
{
	char reason[256];
	int up = cluster_ready(c, reason, sizeof(reason));

	if (up == c->connected || c->free_requested)
		return;
	c->connected = up;
	if (up) {
		c->refresh_backoff_ms = c->node_settings.backoff_min_ms;
		log_debug("redis cluster: connected");
		if (c->state_fn != NULL)
			c->state_fn(c->ctx, 1, "connected");
	} else {
		log_debug("redis cluster: not connected reason=\"%s\"", reason);
		cluster_schedule_refresh(c, c->refresh_backoff_ms);
		if (c->state_fn != NULL)
			c->state_fn(c->ctx, 0, reason);
	}
}

/* ---- the slot map ---- */

/* "host:port" at [s, s+len) (split at the last ':', for IPv6); an empty host means
 * the node that answered. -1 when malformed. */
static int cluster_parse_address(const char *s, size_t len, const char **host, size_t *host_len,
                                 int *port)
{
	const char *colon = NULL;
	uint64_t value;
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	if (colon == NULL ||
	    decimal_parse(colon + 1, (size_t)(s + len - colon - 1), 65535, &value) == -1 ||
	    value == 0)
		return -1;
	*host = s;
	*host_len = (size_t)(colon - s);
	*port = (int)value;
	return 0;
}

/* Whether element i of a CLUSTER SLOTS answer is [start, end, [host, port, ...],
 * ...] with 0 <= start <= end < 16384. */
int rediscluster_slots_entry_valid(const struct redisReply *range)
{
	const redisReply *master;

	if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
	    range->element[0]->type != REDIS_REPLY_INTEGER ||
	    range->element[1]->type != REDIS_REPLY_INTEGER)
		return 0;
	if (range->element[0]->integer < 0 ||
	    range->element[1]->integer < range->element[0]->integer ||
	    range->element[1]->integer >= CLUSTER_SLOT_COUNT)
		return 0;
	master = range->element[2];
	return master->type == REDIS_REPLY_ARRAY && master->elements >= 2 &&
	       master->element[0]->type == REDIS_REPLY_STRING &&
	       master->element[1]->type == REDIS_REPLY_INTEGER && master->element[1]->integer > 0 &&
	       master->element[1]->integer <= 65535;
}

/* Replaces the map with a CLUSTER SLOTS answer (from node asked) and, when it covers
 * every slot, retires the nodes that no longer serve slots (a partial map, as from a
 * node not yet joined, keeps them: one of them may be the way back). -1 (map
 * unchanged) when it is malformed. */
static int cluster_apply_slots(struct rediscluster *c, struct cluster_node *asked,
                               const redisReply *reply)
{
	struct cluster_node *node;
	const redisReply *master;
	const char *host;
	size_t i, host_len;
	long long slot;

	if (reply->type != REDIS_REPLY_ARRAY)
		return -1;
	for (i = 0; i < reply->elements; i++)
		if (!rediscluster_slots_entry_valid(reply->element[i]))
			return -1;
	memset(c->slots, 0, sizeof(c->slots));
	c->slots_covered = 0;
	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		node->serves_slots = 0;
	}
	for (i = 0; i < reply->elements; i++) {
		master = reply->element[i]->element[2];
		host = master->element[0]->str;
		host_len = master->element[0]->len;
		if (host_len == 0) { /* the node does not know its address: it is the one asked */
			host = asked->host;
			host_len = strlen(asked->host);
		} else if (host_len == 1 && host[0] == '?') {
			continue; /* an unknown endpoint: those slots stay without a master */
		}
		if ((node = cluster_node_get(c, host, host_len,
		                             (int)master->element[1]->integer)) == NULL)
			continue;
		node->serves_slots = 1;
		for (slot = reply->element[i]->element[0]->integer;
		     slot <= reply->element[i]->element[1]->integer; slot++) {
			if (c->slots[slot] == NULL)
				c->slots_covered++;
			c->slots[slot] = node;
		}
	}
	/* Retiring answers requests, whose callbacks may free us: one at a time. */
	while (c->slots_covered == CLUSTER_SLOT_COUNT) {
		TAILQ_FOREACH(node, &c->nodes, entry)
		{
			if (!node->serves_slots)
				break;
		}
		if (node == NULL || c->free_requested)
			break;
		cluster_node_retire(c, node);
	}
	return 0;
}

static void cluster_refresh_later(struct rediscluster *c)
{
	int64_t delay = c->refresh_backoff_ms;

	c->refresh_backoff_ms = c->refresh_backoff_ms > c->node_settings.backoff_max_ms / 2
	                            ? c->node_settings.backoff_max_ms
	                            : c->refresh_backoff_ms * 2;
	cluster_schedule_refresh(c, delay);
}

static void cluster_on_slots(void *ctx, struct redisReply *reply, void *privdata)
{
	struct cluster_node *node = ctx;
	struct rediscluster *c = node->cluster;
	int was_connected = c->connected;
	char text[160];

	(void)privdata;
	cluster_enter(c);
	c->refresh_in_flight = 0;
	if (c->free_requested || reply == NULL) {
		/* freed, or that node went away: its state callback schedules the next */
	} else if (reply->type == REDIS_REPLY_ERROR) {
		log_escape(text, sizeof(text), reply->str, reply->len);
		log_warnx("redis cluster: CLUSTER SLOTS failed host=%s port=%d error=\"%s\"",
		          node->host, node->port, text);
	} else if (cluster_apply_slots(c, node, reply) == -1) {
		log_warnx("redis cluster: CLUSTER SLOTS answer not understood host=%s port=%d",
		          node->host, node->port);
	} else {
		c->stats.refreshes++;
		log_debug("redis cluster: slot map from host=%s port=%d covered=%u", node->host,
		          node->port, c->slots_covered);
		cluster_update_state(c);
		if (!c->free_requested && !was_connected && !c->connected &&
		    c->slots_covered < CLUSTER_SLOT_COUNT && c->state_fn != NULL) {
			/* Said at each refresh while it lasts, as a failed attempt would be. */
			snprintf(text, sizeof(text),
			         "node %s:%d: its slot map covers %u of %d slots", node->host,
			         node->port, c->slots_covered, CLUSTER_SLOT_COUNT);
			c->state_fn(c->ctx, 0, text);
		}
	}
	if (!c->free_requested) {
		if (c->refresh_again)
			cluster_schedule_refresh(c, 0);
		else if (!c->connected)
			cluster_refresh_later(c);
	}
	cluster_leave(c);
}

/* A node whose connection is ready, taking turns so that one node's stale view
 * does not stick; NULL if none is. */
static struct cluster_node *cluster_pick_node(struct rediscluster *c)
{
	struct cluster_node *node, *first = NULL;
	unsigned count = 0, skip;

	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		count++;
	}
	if (count == 0)
		return NULL;
	skip = c->refresh_turn++ % count;
	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		if (!redisconn_connected(node->conn))
			continue;
		if (first == NULL)
			first = node;
		if (skip == 0)
			return node;
		skip--;
	}
	return first;
}

/* Asks a reachable node for the map, else (re)creates the seed's node and tries
 * again after the backoff. */
static void cluster_refresh(struct rediscluster *c)
{
	static const char *argv[2] = {"CLUSTER", "SLOTS"};
	static const size_t argvlen[2] = {7, 5};
	struct cluster_node *node = cluster_pick_node(c);

	if (node == NULL) {
		if (cluster_node_find(c, c->seed.host, strlen(c->seed.host), c->seed.port) == NULL)
			cluster_node_add(c, c->seed.host, strlen(c->seed.host), c->seed.port);
		cluster_refresh_later(c);
		return;
	}
	if (redisconn_command(node->conn, 2, argv, argvlen, cluster_on_slots, NULL) == -1) {
		cluster_refresh_later(c);
		return;
	}
	log_debug("redis cluster: asking for the slot map host=%s port=%d", node->host, node->port);
	c->refresh_in_flight = 1;
	c->refresh_again = 0;
	c->last_refresh_ms = clock_monotonic_ms();
}

static void cluster_on_refresh_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rediscluster *c = arg;

	(void)fd;
	(void)what;
	cluster_enter(c);
	if (c->refresh_in_flight)
		c->refresh_again = 1;
	else
		cluster_refresh(c);
	cluster_leave(c);
}

/* Asks for the map in delay_ms (at least LIMIT_CLUSTER_REFRESH_GAP_MS after the
 * last one), unless one is due sooner; with one out, asks again when it answers. */
static void cluster_schedule_refresh(struct rediscluster *c, int64_t delay_ms)
{
	int64_t now = clock_monotonic_ms(), at = now + delay_ms;
	struct timeval tv;

	if (c->free_requested)
		return;
	if (c->refresh_in_flight) {
		c->refresh_again = 1;
		return;
	}
	if (at < c->last_refresh_ms + LIMIT_CLUSTER_REFRESH_GAP_MS)
		at = c->last_refresh_ms + LIMIT_CLUSTER_REFRESH_GAP_MS;
	if (evtimer_pending(c->refresh_timer, NULL) && c->refresh_at_ms <= at)
		return;
	c->refresh_at_ms = at;
	tv.tv_sec = (time_t)((at - now) / 1000);
	tv.tv_usec = (suseconds_t)((at - now) % 1000) * 1000;
	evtimer_add(c->refresh_timer, &tv);
}

/* ---- replies ---- */

static int cluster_error_is(const redisReply *reply, const char *prefix)
{
	size_t len = strlen(prefix);

	return reply->len >= len && memcmp(reply->str, prefix, len) == 0;
}

/* MOVED slot host:port or ASK slot host:port: follows it, or answers NULL when it
 * cannot (too many hops, a malformed or unreachable target). MOVED also changes
 * that slot's master now and refreshes the whole map soon. */
static void cluster_redirect(struct rediscluster *c, struct cluster_node *from,
                             struct cluster_request *req, redisReply *reply, int moved)
{
	const char *p = reply->str + (moved ? 6 : 4), *end = reply->str + reply->len, *space;
	const char *host;
	size_t host_len;
	uint64_t slot;
	struct cluster_node *target;
	int port;

	if ((space = memchr(p, ' ', (size_t)(end - p))) == NULL ||
	    decimal_parse(p, (size_t)(space - p), CLUSTER_SLOT_COUNT - 1, &slot) == -1 ||
	    cluster_parse_address(space + 1, (size_t)(end - space - 1), &host, &host_len, &port) ==
	        -1) {
		cluster_answer(c, req, reply); /* not a redirect we can read: as is */
		return;
	}
	if (host_len == 0) {
		host = from->host;
		host_len = strlen(from->host);
	}
	if (moved) {
		c->stats.moved++;
		cluster_schedule_refresh(c, 0);
	} else {
		c->stats.asked++;
	}
	if (++req->redirects > LIMIT_CLUSTER_REDIRECTS) {
		c->stats.too_many_hops++;
		if (log_ratelimit_allow(&c->hops_warn, "redis cluster redirect loops"))
			log_warnx("redis cluster: more than %d redirects slot=%u; answered as lost",
			          LIMIT_CLUSTER_REDIRECTS, req->slot);
		cluster_answer(c, req, NULL);
		return;
	}
	if ((target = cluster_node_get(c, host, host_len, port)) == NULL) {
		cluster_answer(c, req, NULL);
		return;
	}
	if (moved) {
		if (c->slots[slot] == NULL)
			c->slots_covered++;
		c->slots[slot] = target;
		target->serves_slots = 1;
	} else {
		req->asking = 1;
	}
	cluster_forward(c, target, req);
	if (moved && !c->free_requested)
		cluster_update_state(c); /* a new master's connection may not be ready yet */
}

static void cluster_on_reply(void *ctx, struct redisReply *reply, void *privdata)
{
	struct cluster_node *node = ctx;
	struct cluster_request *req = privdata;
	struct rediscluster *c = req->cluster;

	cluster_enter(c);
	if (reply == NULL || reply->type != REDIS_REPLY_ERROR || c->free_requested) {
		cluster_answer(c, req, c->free_requested ? NULL : reply);
	} else if (cluster_error_is(reply, "MOVED ")) {
		cluster_redirect(c, node, req, reply, 1);
	} else if (cluster_error_is(reply, "ASK ")) {
		cluster_redirect(c, node, req, reply, 0);
	} else if (cluster_error_is(reply, "TRYAGAIN") || cluster_error_is(reply, "CLUSTERDOWN") ||
	           cluster_error_is(reply, "LOADING") || cluster_error_is(reply, "MASTERDOWN")) {
		/* Did not run; the caller's writes are idempotent and it sends them again
		 * once the map (refreshed now) settles. */
		c->stats.retry_later++;
		cluster_schedule_refresh(c, 0);
		cluster_answer(c, req, NULL);
	} else {
		cluster_answer(c, req, reply);
	}
	cluster_leave(c);
}

/* ---- public interface ---- */

struct rediscluster *rediscluster_new(struct event_base *base,
                                      const struct redisconn_settings *seed,
                                      redisconn_state_fn state_fn, void *ctx, char *err,
                                      size_t errlen)
{
	struct rediscluster *c;

	if (seed->connect_timeout_ms <= 0 || seed->command_timeout_ms <= 0 ||
	    seed->backoff_min_ms <= 0 || seed->backoff_max_ms < seed->backoff_min_ms) {
		snprintf(err, errlen,
		         "redis: timeouts must be positive and backoff_min_ms <= backoff_max_ms");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->state_fn = state_fn;
	c->ctx = ctx;
	TAILQ_INIT(&c->nodes);
	TAILQ_INIT(&c->retired);
	TAILQ_INIT(&c->answering);
	c->node_settings = *seed;
	c->node_settings.url = NULL;
	c->node_settings.password_file = NULL;
	c->node_settings.cluster = 1;
	c->refresh_backoff_ms = seed->backoff_min_ms;
	c->last_refresh_ms = INT64_MIN / 2;
	c->hops_warn = (struct log_ratelimit){.per_second = 1};
	if (redisconn_parse_url(seed->url, &c->seed, err, errlen) == -1)
		goto fail;
	if (c->seed.unix_path != NULL) {
		snprintf(err, errlen,
		         "redis url: a Redis Cluster is reached over TCP: give redis://host:port "
		         "of any of its nodes");
		goto fail;
	}
	if (c->seed.db != 0) {
		snprintf(err, errlen, "redis url: a Redis Cluster has only db 0: drop /%d",
		         c->seed.db);
		goto fail;
	}
	if (redisconn_load_password(&c->seed, seed->password_file, err, errlen) == -1)
		goto fail;
	c->refresh_timer = evtimer_new(base, cluster_on_refresh_timer, c);
	c->park_timer = evtimer_new(base, cluster_on_park_timer, c);
	if (c->refresh_timer == NULL || c->park_timer == NULL) {
		snprintf(err, errlen, "redis: cannot create timers");
		goto fail;
	}
	/* Its connection's first state callback asks for the map (or reports why not). */
	if (cluster_node_add(c, c->seed.host, strlen(c->seed.host), c->seed.port) == NULL) {
		snprintf(err, errlen, "redis: cannot set up the connection to the seed node");
		goto fail;
	}
	return c;
fail:
	cluster_destroy(c);
	return NULL;
}

int rediscluster_script(struct rediscluster *c, const char *lua)
{
	struct cluster_node *node;
	int id = c->script_count;

	c->scripts = xreallocarray(c->scripts, (size_t)id + 1, sizeof(*c->scripts));
	c->scripts[id] = xstrdup(lua);
	c->script_count++;
	/* Every node registered the same scripts in the same order: the ids agree. */
	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		redisconn_script(node->conn, lua);
	}
	return id;
}

/* Sends a new request to its slot's master, which must be ready; -1 otherwise. */
static int cluster_submit(struct rediscluster *c, struct cluster_request *req,
                          redisconn_reply_fn fn, void *privdata)
{
	struct cluster_node *node = c->slots[req->slot];

	req->fn = fn;
	req->privdata = privdata;
	if (c->free_requested || node == NULL || cluster_send(node, req) == -1) {
		free(req);
		return -1;
	}
	c->in_flight++;
	return 0;
}

int rediscluster_eval(struct rediscluster *c, int script, int argc, const char **argv,
                      const size_t *argvlen, int numkeys, redisconn_reply_fn fn, void *privdata)
{
	struct cluster_request *req;

	if (script < 0 || script >= c->script_count || numkeys < 1 || numkeys > argc)
		return -1;
	req = cluster_request_new(c, CLUSTER_REQUEST_EVAL, rediscluster_slot(argv[0], argvlen[0]),
	                          argc, argv, argvlen);
	req->script = script;
	req->numkeys = numkeys;
	return cluster_submit(c, req, fn, privdata);
}

int rediscluster_command(struct rediscluster *c, const char *key, size_t keylen, int argc,
                         const char **argv, const size_t *argvlen, redisconn_reply_fn fn,
                         void *privdata)
{
	if (argc <= 0)
		return -1;
	return cluster_submit(c,
	                      cluster_request_new(c, CLUSTER_REQUEST_COMMAND,
	                                          rediscluster_slot(key, keylen), argc, argv,
	                                          argvlen),
	                      fn, privdata);
}

int rediscluster_connected(const struct rediscluster *c)
{
	return c->connected && !c->free_requested;
}

int rediscluster_wrong_mode(const struct rediscluster *c)
{
	const struct cluster_node *node;

	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		if (redisconn_wrong_mode(node->conn))
			return 1;
	}
	return 0;
}

size_t rediscluster_in_flight(const struct rediscluster *c)
{
	return c->in_flight;
}

void rediscluster_stats(const struct rediscluster *c, struct rediscluster_stats *out)
{
	*out = c->stats;
}

const char *rediscluster_endpoint(const struct rediscluster *c, char *buf, size_t len)
{
	const struct cluster_node *node;
	int masters = 0;

	TAILQ_FOREACH(node, &c->nodes, entry)
	{
		masters += node->serves_slots;
	}
	snprintf(buf, len, "cluster seed=%s:%d auth=%s%s%s masters=%d", c->seed.host, c->seed.port,
	         c->seed.password == NULL ? "none"
	         : c->seed.user != NULL   ? "acl"
	                                  : "password",
	         c->seed.user != NULL ? " user=" : "", c->seed.user != NULL ? c->seed.user : "",
	         masters);
	return buf;
}

/* Answers everything now, so the caller may release what its privdata points to
 * as soon as this returns; the memory goes later when we are inside a callback. */
void rediscluster_free(struct rediscluster *c)
{
	struct cluster_node *node;

	if (c == NULL || c->free_requested)
		return;
	c->free_requested = 1;
	cluster_enter(c);
	evtimer_del(c->refresh_timer);
	evtimer_del(c->park_timer);
	while ((node = TAILQ_FIRST(&c->nodes)) != NULL)
		cluster_node_retire(c, node);
	cluster_answer_parked_null(c);
	cluster_leave(c);
}
