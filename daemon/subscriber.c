/*
 * subscriber.c owns one pub/sub subscription to Redis on the libevent loop: the
 * connection (resolved without blocking, like redisconn.c), AUTH, SUBSCRIBE, the
 * messages, and reconnecting after a loss (to the next of a cluster's other nodes,
 * when it was given some). It sends no other command (a subscribed connection
 * cannot) and knows nothing of what the messages mean.
 *
 * Freeing follows redisconn.c: every entry from the loop counts itself in depth, and
 * subscriber_free inside one only marks the object for the outermost entry to free.
 * A hiredis context is detached (ac->data = NULL) before it is let go, so the
 * callbacks hiredis still runs while tearing it down find nothing and do nothing.
 * After a failed connect or a lost connection hiredis frees the context itself;
 * otherwise we do, and hiredis defers that when we are inside its callback.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "chatlogd/log.h"
#include "chatlogd/redisconn.h"
#include "chatlogd/resolve.h"
#include "chatlogd/subscriber.h"
#include "chatlogd/util.h"

enum subscriber_state {
	SUBSCRIBER_WAITING,    /* no connection; the step timer starts the next attempt */
	SUBSCRIBER_RESOLVING,  /* waiting for evdns; the step timer continues */
	SUBSCRIBER_HANDSHAKE,  /* context made; AUTH and SUBSCRIBE sent */
	SUBSCRIBER_SUBSCRIBED, /* Redis confirmed the subscription */
};

struct subscriber {
	struct event_base *base;
	subscriber_message_fn message_fn;
	subscriber_state_fn state_fn;
	void *ctx;

	struct redis_endpoint endpoint;      /* owned; the password stays for reconnects */
	struct subscriber_node *other_nodes; /* owned, addresses too; tried in turn */
	size_t other_node_count;
	char *channel;
	int64_t connect_timeout_ms, backoff_min_ms, backoff_max_ms;
	int64_t backoff_ms;       /* wait before the attempt after the next failure */
	unsigned failed_attempts; /* since the last subscription; picks the address */

	enum subscriber_state state;
	redisAsyncContext *ac;
	struct event *step_timer;    /* next attempt; continue after a lookup */
	struct event *connect_timer; /* attempt start to SUBSCRIBED */

	struct resolver *resolver;     /* NULL for numeric hosts and Unix sockets */
	struct resolve_lookup *lookup; /* the lookup in progress, if any */
	struct resolve_answer answer;

	int depth;          /* our callbacks on the stack right now */
	int free_requested; /* subscriber_free was called; free at depth 0 */
};

static struct timeval subscriber_timeval(int64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

static void subscriber_destroy(struct subscriber *s)
{
	if (s->step_timer != NULL)
		event_free(s->step_timer);
	if (s->connect_timer != NULL)
		event_free(s->connect_timer);
	resolver_free(s->resolver);
	redisconn_endpoint_free(&s->endpoint);
	for (size_t i = 0; i < s->other_node_count; i++)
		free((char *)s->other_nodes[i].address);
	free(s->other_nodes);
	free(s->channel);
	free(s);
}

static void subscriber_enter(struct subscriber *s)
{
	s->depth++;
}

static void subscriber_leave(struct subscriber *s)
{
	if (--s->depth == 0 && s->free_requested)
		subscriber_destroy(s);
}

/* Lets the connection go and, unless reason is NULL (being freed), tells the
 * caller and schedules the next attempt after the backoff. */
static void subscriber_drop(struct subscriber *s, const char *reason)
{
	redisAsyncContext *ac = s->ac;
	struct timeval tv;
	char why[256];

	/* reason may live in the context about to be freed. */
	snprintf(why, sizeof(why), "%s", reason != NULL ? reason : "freed");
	s->state = SUBSCRIBER_WAITING;
	evtimer_del(s->step_timer);
	evtimer_del(s->connect_timer);
	resolver_cancel(&s->lookup);
	s->answer.done = 0;
	s->ac = NULL;
	if (ac != NULL) {
		ac->data = NULL;
		redisAsyncFree(ac); /* deferred by hiredis when we are inside its callback */
	}
	if (reason == NULL || s->free_requested)
		return;
	s->failed_attempts++;
	if (s->state_fn != NULL)
		s->state_fn(s->ctx, 0, why);
	if (s->free_requested)
		return;
	tv = subscriber_timeval(s->backoff_ms);
	evtimer_add(s->step_timer, &tv);
	s->backoff_ms =
	    s->backoff_ms > s->backoff_max_ms / 2 ? s->backoff_max_ms : s->backoff_ms * 2;
}

/* hiredis frees the context itself right after these two callbacks return. */
static void subscriber_lost(const redisAsyncContext *ac, const char *what)
{
	struct subscriber *s = ac->data;
	char reason[256];

	if (s == NULL)
		return;
	subscriber_enter(s);
	snprintf(reason, sizeof(reason), "%s: %s", what,
	         ac->c.errstr[0] != '\0' ? ac->c.errstr : "closed");
	((redisAsyncContext *)ac)->data = NULL;
	s->ac = NULL;
	subscriber_drop(s, reason);
	subscriber_leave(s);
}

static void subscriber_on_connect(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		subscriber_lost(ac, "connect");
}

static void subscriber_on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)status;
	subscriber_lost(ac, "connection lost");
}

static void subscriber_on_auth(redisAsyncContext *ac, void *r, void *privdata)
{
	struct subscriber *s = ac->data;
	const redisReply *reply = r;
	char reason[256], text[160];

	(void)privdata;
	if (s == NULL || reply == NULL || reply->type != REDIS_REPLY_ERROR)
		return;
	subscriber_enter(s);
	log_escape(text, sizeof(text), reply->str, reply->len);
	snprintf(reason, sizeof(reason), "AUTH failed: %s", text);
	subscriber_drop(s, reason);
	subscriber_leave(s);
}

/* hiredis calls this for the confirmation of the SUBSCRIBE and for every message. */
static void subscriber_on_message(redisAsyncContext *ac, void *r, void *privdata)
{
	struct subscriber *s = ac->data;
	const redisReply *reply = r, *kind, *payload;

	(void)privdata;
	if (s == NULL || reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
		return;
	kind = reply->element[0];
	payload = reply->element[2];
	if (kind->type != REDIS_REPLY_STRING)
		return;
	subscriber_enter(s);
	if (strcmp(kind->str, "message") == 0 && payload->type == REDIS_REPLY_STRING) {
		s->message_fn(s->ctx, payload->str, payload->len);
	} else if (strcmp(kind->str, "subscribe") == 0 && s->state == SUBSCRIBER_HANDSHAKE) {
		s->state = SUBSCRIBER_SUBSCRIBED;
		evtimer_del(s->connect_timer);
		s->backoff_ms = s->backoff_min_ms;
		s->failed_attempts = 0;
		if (s->state_fn != NULL)
			s->state_fn(s->ctx, 1, "subscribed");
	}
	subscriber_leave(s);
}

static void subscriber_connect(struct subscriber *s, const char *address, int port)
{
	const char *auth[3] = {"AUTH", NULL, NULL};
	const char *subscribe[2] = {"SUBSCRIBE", s->channel};
	const struct redis_endpoint *ep = &s->endpoint;
	redisAsyncContext *ac;
	char reason[256];
	int ok = 1;

	if ((ac = redisconn_open(ep->unix_path, address, port, s->base, s, subscriber_on_connect,
	                         subscriber_on_disconnect, reason, sizeof(reason))) == NULL) {
		subscriber_drop(s, reason);
		return;
	}
	s->ac = ac;
	s->state = SUBSCRIBER_HANDSHAKE;
	/* A subscriber only reads: keepalive is what notices a peer that vanished. */
	if (ep->unix_path == NULL)
		redisEnableKeepAlive(&ac->c);
	if (ep->password != NULL) {
		auth[1] = ep->user != NULL ? ep->user : ep->password;
		auth[2] = ep->password;
		ok = redisAsyncCommandArgv(ac, subscriber_on_auth, NULL, ep->user != NULL ? 3 : 2,
		                           auth, NULL) == REDIS_OK;
	}
	/* Channels are the same in every database: no SELECT. */
	if (ok)
		ok = redisAsyncCommandArgv(ac, subscriber_on_message, NULL, 2, subscribe, NULL) ==
		     REDIS_OK;
	if (!ok)
		subscriber_drop(s, "connect: cannot queue the subscription");
}

static void subscriber_on_step(evutil_socket_t fd, short what, void *arg)
{
	struct subscriber *s = arg;
	struct timeval tv;
	char reason[256];

	(void)fd;
	(void)what;
	subscriber_enter(s);
	if (s->state == SUBSCRIBER_WAITING) {
		/* The URL's node, then each other node in turn, one per failed attempt. */
		size_t turn = s->failed_attempts % (1 + s->other_node_count);
		tv = subscriber_timeval(s->connect_timeout_ms);
		evtimer_add(s->connect_timer, &tv);
		if (turn > 0) {
			subscriber_connect(s, s->other_nodes[turn - 1].address,
			                   s->other_nodes[turn - 1].port);
		} else if (s->resolver == NULL) {
			subscriber_connect(s, s->endpoint.host, s->endpoint.port);
		} else {
			resolver_lookup(s->resolver, s->endpoint.host, &s->lookup, &s->answer,
			                s->step_timer);
			s->state = SUBSCRIBER_RESOLVING;
		}
	} else if (s->state == SUBSCRIBER_RESOLVING && s->answer.done) {
		const char *failure,
		    *address = resolve_take(&s->answer, s->failed_attempts, &failure);
		if (address == NULL) {
			snprintf(reason, sizeof(reason), "resolve %s: %s", s->endpoint.host,
			         failure);
			subscriber_drop(s, reason);
		} else {
			subscriber_connect(s, address, s->endpoint.port);
		}
	}
	subscriber_leave(s);
}

static void subscriber_on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct subscriber *s = arg;
	char reason[128];

	(void)fd;
	(void)what;
	if (s->state == SUBSCRIBER_SUBSCRIBED)
		return;
	subscriber_enter(s);
	snprintf(reason, sizeof(reason), "not subscribed within %lld ms",
	         (long long)s->connect_timeout_ms);
	subscriber_drop(s, reason);
	subscriber_leave(s);
}

/* Keeps the other nodes with a numeric address: they are connected to without a
 * lookup. A Unix socket has no other nodes. */
static void subscriber_copy_nodes(struct subscriber *s, const struct subscriber_settings *set)
{
	struct in6_addr addr6;
	struct in_addr addr4;

	if (s->endpoint.unix_path != NULL || set->other_node_count == 0)
		return;
	s->other_nodes = xcalloc(set->other_node_count, sizeof(*s->other_nodes));
	for (size_t i = 0; i < set->other_node_count; i++) {
		const struct subscriber_node *node = &set->other_nodes[i];
		if (inet_pton(AF_INET, node->address, &addr4) != 1 &&
		    inet_pton(AF_INET6, node->address, &addr6) != 1)
			continue;
		s->other_nodes[s->other_node_count].address = xstrdup(node->address);
		s->other_nodes[s->other_node_count++].port = node->port;
	}
}

struct subscriber *subscriber_new(struct event_base *base, const struct subscriber_settings *set,
                                  subscriber_message_fn message_fn, subscriber_state_fn state_fn,
                                  void *ctx, char *err, size_t errlen)
{
	struct subscriber *s;
	struct in6_addr addr6;
	struct in_addr addr4;
	struct timeval now = {0, 0};
	struct sigaction sa;

	if (set->connect_timeout_ms <= 0 || set->backoff_min_ms <= 0 ||
	    set->backoff_max_ms < set->backoff_min_ms || set->channel == NULL ||
	    set->channel[0] == '\0') {
		snprintf(err, errlen,
		         "subscriber: a channel, a positive timeout and "
		         "backoff_min_ms <= backoff_max_ms are needed");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->channel = xstrdup(set->channel);
	s->base = base;
	s->message_fn = message_fn;
	s->state_fn = state_fn;
	s->ctx = ctx;
	s->connect_timeout_ms = set->connect_timeout_ms;
	s->backoff_min_ms = s->backoff_ms = set->backoff_min_ms;
	s->backoff_max_ms = set->backoff_max_ms;
	s->state = SUBSCRIBER_WAITING;
	s->step_timer = evtimer_new(base, subscriber_on_step, s);
	s->connect_timer = evtimer_new(base, subscriber_on_connect_timeout, s);
	if (s->step_timer == NULL || s->connect_timer == NULL) {
		snprintf(err, errlen, "subscriber: cannot create timers");
		goto fail;
	}
	if (redisconn_parse_url(set->url, &s->endpoint, err, errlen) == -1 ||
	    redisconn_load_password(&s->endpoint, set->password_file, err, errlen) == -1)
		goto fail;
	/* hiredis' blocking getaddrinfo would stall the loop on a slow DNS server. */
	if (s->endpoint.host != NULL && inet_pton(AF_INET, s->endpoint.host, &addr4) != 1 &&
	    inet_pton(AF_INET6, s->endpoint.host, &addr6) != 1 &&
	    (s->resolver = resolver_new(base)) == NULL) {
		snprintf(err, errlen, "subscriber: cannot set up the DNS resolver");
		goto fail;
	}
	subscriber_copy_nodes(s, set);
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		log_warnx("subscriber: SIGPIPE is not ignored; a write to a dropped connection "
		          "would kill the process");
	evtimer_add(s->step_timer, &now);
	return s;
fail:
	subscriber_destroy(s);
	return NULL;
}

int subscriber_subscribed(const struct subscriber *s)
{
	return s->state == SUBSCRIBER_SUBSCRIBED;
}

void subscriber_free(struct subscriber *s)
{
	if (s == NULL || s->free_requested)
		return;
	s->free_requested = 1;
	subscriber_enter(s);
	subscriber_drop(s, NULL);
	subscriber_leave(s);
}
