/*
 * One Redis pub/sub subscription on the libevent loop (hiredis 0.14 async API): the
 * URL and password of redisconn.h, AUTH, SUBSCRIBE to one channel, every message
 * handed over as it comes, and a new connection with capped exponential backoff
 * whenever the old one is lost. What the messages mean is the caller's. Messages
 * published while the subscription is down are not seen (pub/sub keeps none).
 */
#ifndef CHATLOGD_SUBSCRIBER_H
#define CHATLOGD_SUBSCRIBER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct subscriber;

/* A node to subscribe on instead of the URL's: a numeric address and a TCP port. */
struct subscriber_node {
	const char *address;
	int port;
};

struct subscriber_settings {
	const char *url;           /* as redisconn_parse_url takes it */
	const char *password_file; /* "" or NULL: none */
	const char *channel;
	int64_t connect_timeout_ms; /* from an attempt's start to the subscription */
	int64_t backoff_min_ms, backoff_max_ms;
	/* Redis Cluster: PUBLISH reaches subscribers on every node, so after a failed
	 * attempt or a lost subscription the next attempt goes to the next of these
	 * (the URL's node, then each in turn; same credentials). NULL: the URL only. */
	const struct subscriber_node *other_nodes;
	size_t other_node_count;
};

/* A message of the channel; valid during the call. */
typedef void (*subscriber_message_fn)(void *ctx, const char *message, size_t len);

/* subscribed = 1 when the subscription holds, 0 when it was lost or an attempt
 * failed (once per attempt); reason is for logs, never holds the password. */
typedef void (*subscriber_state_fn)(void *ctx, int subscribed, const char *reason);

/* Starts subscribing from the loop (no callback runs inside this call). Settings
 * (other_nodes too) are copied and the password read now; other nodes whose
 * address is not numeric are left out. NULL with a reason in err for a bad URL,
 * settings or password file. The caller must ignore SIGPIPE. */
struct subscriber *subscriber_new(struct event_base *base, const struct subscriber_settings *s,
                                  subscriber_message_fn message_fn, subscriber_state_fn state_fn,
                                  void *ctx, char *err, size_t errlen);

/* 1 while subscribed. */
int subscriber_subscribed(const struct subscriber *s);

/* Unsubscribes and frees; accepts NULL. No callback is called afterwards. Safe
 * inside the subscriber's own callbacks: the memory then goes when they return. */
void subscriber_free(struct subscriber *s);

#endif
