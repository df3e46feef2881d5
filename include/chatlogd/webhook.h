/*
 * The alert webhook (alert_webhook): alert messages POSTed as JSON to a URL, in
 * order, one at a time, on the daemon's event loop, for group-chat robots (DingTalk,
 * WeCom) or any HTTP receiver. http:// and https:// (certificate chain and host name
 * verified); a failed post is retried with capped exponential backoff; a bounded
 * queue drops its oldest post when full. Never blocks the loop (DNS through evdns).
 */
#ifndef CHATLOGD_WEBHOOK_H
#define CHATLOGD_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "names.h"

struct event_base;
struct webhook;

struct webhook_settings {
	const char *url;      /* http:// or https://; the query string (a robot's token)
	                         is never logged */
	const char *ca_file;  /* https: trust only the CAs in this PEM file; NULL or "":
	                         the system store */
	int64_t timeout_ms;   /* one attempt: DNS, connect, TLS, request and answer */
	int64_t retry_min_ms; /* wait after the first failed attempt; doubles each time */
	int64_t retry_max_ms; /* ... up to this */
	size_t queue_max;     /* posts waiting (the one being sent included) */
};

struct webhook_stats {
	uint64_t delivered;        /* posts the receiver accepted (2xx, no robot error) */
	uint64_t failed_attempts;  /* attempts that failed and will be retried */
	uint64_t dropped_overflow; /* oldest posts pushed out of a full queue */
	uint64_t dropped_rejected; /* refused for good: 4xx but 429, or a robot error code */
	size_t queued;             /* waiting or being sent */
};

/* Checks the URL, loads the CA store for https, and sets up the resolver. NULL with a
 * reason in err (a bad URL, an unreadable CA file). Logs the URL without its query. */
struct webhook *webhook_new(struct event_base *base, const struct webhook_settings *s, char *err,
                            size_t errlen);

/* Frees everything; posts still queued are lost (logged with their count). If a DNS
 * lookup was under way, turns the loop without blocking until evdns has called it back
 * (events ready at that moment run too). */
void webhook_free(struct webhook *wh);

/* Queues a copy of body (len bytes of JSON) and starts sending if idle. A full queue
 * drops its oldest post that is not on the wire. Returns 0, or -1 out of memory. */
int webhook_post(struct webhook *wh, const char *body, size_t len);

/* The robot message for ev: {"msgtype":"text","text":{"content":"<one line for
 * people>"},"alert":<the SPEC §7 object, as alert_format writes it>}, which DingTalk
 * and WeCom text robots take, and from which tools read "alert". Returns its length
 * (cut short if size is too small; 16 KiB always suffices). */
size_t webhook_alert_body(const struct alert_event *ev, const struct names *names, char *out,
                          size_t size);

/* webhook_post of webhook_alert_body. */
int webhook_post_alert(struct webhook *wh, const struct alert_event *ev, const struct names *names);

/* At shutdown: runs the event loop until the queue is empty or max_ms have passed,
 * retrying a post that waits for its backoff at once. Call it when nothing else needs
 * the loop any more: every other event still registered on it runs too. */
void webhook_drain(struct webhook *wh, int64_t max_ms); /* wh may be NULL */

/* The counters since start; all zero for wh NULL (no webhook configured). */
void webhook_stats(const struct webhook *wh, struct webhook_stats *out);

#endif
