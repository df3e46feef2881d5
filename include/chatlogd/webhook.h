/*
 * The alert webhook (alert_webhook): alert messages POSTed as JSON to a URL, in
 * order, one at a time, on the daemon's event loop, for group-chat robots (DingTalk,
 * WeCom, Feishu/Lark: signed, rate-limited with a digest of what the limit holds
 * back, the agent @mentioned) or any HTTP receiver; waiting buyers past
 * escalate_after also go to a second robot. http:// and https:// (certificate chain
 * and host name verified); a failed post is retried with capped exponential backoff;
 * a bounded queue drops its oldest post when full. Never blocks the loop (DNS through
 * evdns).
 */
#ifndef CHATLOGD_WEBHOOK_H
#define CHATLOGD_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "names.h"
#include "robot.h"

struct config;
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
	size_t queue_max;     /* posts waiting (the one being sent included), per robot */
};

/* The robots. All zero (or NULL): the kind the URL's host names, no secret, the
 * kind's rate limit, nobody @mentioned, Chinese, no escalation. Apart from
 * webhook_settings because callers fill that one positionally. */
struct webhook_robot_settings {
	enum robot_kind kind;          /* ROBOT_AUTO: robot_kind_for_host */
	const char *secret_file;       /* DingTalk and Feishu 加签; NULL or "": unsigned */
	int64_t per_minute;            /* posts a minute; 0: robot_default_limits */
	const char *mentions_file;     /* agent → mobile or user id; NULL or "": none */
	enum robot_language language;  /* of the text */
	const char *escalate_url;      /* the second robot; NULL or "": none */
	enum robot_kind escalate_kind; /* as kind, for escalate_url */
	const char *escalate_secret_file;
	int64_t escalate_after_ms;      /* waiting alerts with value_ms >= this escalate */
	int64_t rate_period_ms;         /* the rate limit's minute; 0: 60000 (tests shorten it) */
	int64_t (*wall_clock_ms)(void); /* signing timestamps; NULL: the real clock */
};

struct webhook_stats {
	uint64_t delivered;        /* posts the receiver accepted (2xx, no robot error) */
	uint64_t failed_attempts;  /* attempts that failed and will be retried */
	uint64_t dropped_overflow; /* oldest posts pushed out of a full queue */
	uint64_t dropped_rejected; /* refused for good: 4xx but 429, or a robot error code */
	uint64_t rate_limited;     /* failed attempts the robot answered with a rate-limit code */
	uint64_t digested;         /* alerts held back by the rate limit, counted in a digest */
	uint64_t digests;          /* digest posts queued */
	uint64_t escalated;        /* waiting alerts sent to the escalation robot too */
	size_t queued;             /* waiting or being sent */
};

/* The daemon's settings for the webhook, from cfg (strings borrowed from it):
 * alert_webhook and the alert_* keys, with the daemon's timeouts, backoff and queue
 * size. */
void webhook_settings_from_config(const struct config *cfg, struct webhook_settings *s,
                                  struct webhook_robot_settings *robots);

/* Checks the URLs, reads the secrets and the mention map, loads the CA store for
 * https, and sets up the resolver. NULL with a reason in err (a bad URL, an unreadable
 * CA, secret or mentions file). Logs the URLs without their query, never a secret. */
struct webhook *webhook_new_robots(struct event_base *base, const struct webhook_settings *s,
                                   const struct webhook_robot_settings *robots, char *err,
                                   size_t errlen);

/* webhook_new_robots with all robot settings zero (robots NULL). */
struct webhook *webhook_new(struct event_base *base, const struct webhook_settings *s, char *err,
                            size_t errlen);

/* webhook_new_robots from the daemon's settings (webhook_settings_from_config). */
struct webhook *webhook_new_from_config(struct event_base *base, const struct config *cfg,
                                        char *err, size_t errlen);

/* Frees everything; posts still queued and alerts held for a digest are lost (logged
 * with their count). If a DNS
 * lookup was under way, turns the loop without blocking until evdns has called it back
 * (events ready at that moment run too). */
void webhook_free(struct webhook *wh);

/* Queues a copy of body (len bytes of JSON) for the main robot, as it is (signed at
 * each attempt), and starts sending if idle. A full queue drops its oldest post that
 * is not on the wire. */
void webhook_post(struct webhook *wh, const char *body, size_t len);

/* The generic robot message for ev: {"msgtype":"text","text":{"content":"<one line
 * for people, in Chinese>"},"alert":<the reference.md §7 object, as alert_format writes it>},
 * from which tools read "alert". Returns its length (cut short if size is too small;
 * 16 KiB always suffices). */
size_t webhook_alert_body(const struct alert_event *ev, const struct names *names, char *out,
                          size_t size);

/* Posts ev to the main robot in its platform's shape (robot_body), or counts it in
 * the digest when the robot's minute is spent; a waiting alert with value_ms >=
 * escalate_after goes to the escalation robot as well. */
void webhook_post_alert(struct webhook *wh, const struct alert_event *ev,
                        const struct names *names);

/* At shutdown: queues a pending digest if the rate limit allows, then runs the event
 * loop until the queues are empty or max_ms have passed, retrying a post that waits
 * for its backoff at once (the rate limit still holds). Call it when nothing else
 * needs the loop any more: every other event still registered on it runs too. */
void webhook_drain(struct webhook *wh, int64_t max_ms); /* wh may be NULL */

/* The counters since start; all zero for wh NULL (no webhook configured). */
void webhook_stats(const struct webhook *wh, struct webhook_stats *out);

#endif
