/*
 * webhook.c owns the alert webhook: per robot URL (the main one and the escalation
 * one) a queue of posts, one HTTP(S) request at a time through libevent's evhttp
 * client, TLS with OpenSSL (chain and host name verified), retries with capped
 * backoff, the robot's rate limit with a digest of what it holds back, signing at each
 * attempt, and which alerts go to which robot. What the platforms take (texts, bodies,
 * signatures, codes) is robot.c's. It does not decide which alerts exist or when they
 * are posted (live.c posts a cut's alerts once Redis has applied them), and keeps
 * nothing across restarts.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

#include "chatlogd/clock.h"
#include "chatlogd/config.h"
#include "chatlogd/limits.h"
#include "chatlogd/log.h"
#include "chatlogd/resolve.h"
#include "chatlogd/robot.h"
#include "chatlogd/webhook.h"
#include "chatlogd/util.h"

/* How much of an answer is read: robots answer {"errcode":0,"errmsg":"ok"}. */
#define ANSWER_BYTES 512
/* The robot message: three escaped names (LIMIT_NAME_BYTES, 6 bytes per control
 * byte at worst) in the text and again in the alert object; a digest names up to ten
 * agents. */
#define BODY_BYTES 65536
/* The text for people before it is escaped into a body. */
#define TEXT_BYTES 16384

struct post {
	char *body;
	size_t len;
	unsigned attempts; /* failed so far */
};

/* Where the post at the head of the queue is. */
enum attempt_state {
	ATTEMPT_IDLE,       /* nothing to send */
	ATTEMPT_RESOLVING,  /* evdns looks the host up; its answer wakes the step */
	ATTEMPT_REQUESTING, /* connecting, TLS, request and answer */
	ATTEMPT_ANSWERED,   /* the request is over: acted on at the next step */
	ATTEMPT_WAITING     /* backing off before the next attempt */
};

enum outcome { OUTCOME_DELIVERED, OUTCOME_RETRY, OUTCOME_RATE_LIMITED, OUTCOME_REJECTED };

/*
 * A robot's rate limit: the times of its last `limit` sends. A send is allowed when
 * fewer than `limit` happened in the last period, so no window of that length ever
 * holds more (a token bucket whose tokens come back exactly one period after they are
 * spent; one that refills continuously would let a full bucket plus a period's refill,
 * nearly twice the limit, through in one window).
 */
struct rate_window {
	int64_t period_ms;
	size_t limit; /* 0: no limit */
	int64_t *sent;
	size_t head, count;
};

struct webhook;
static size_t webhook_queued(const struct webhook *wh);

/* One robot URL: where it is, its queue and the attempt under way, its rate limit and
 * digest. The webhook owns one or two. */
struct sender {
	struct webhook *owner;
	const char *key; /* its setting, for error messages: alert_webhook or ... */
	struct event_base *base;
	char *host;        /* without IPv6 brackets: what is looked up and verified */
	char *host_header; /* as in the URL, with a port if it has one */
	char *target;      /* path?query: what is requested */
	char *shown;       /* scheme://host[:port]/path: all that logs show */
	int port, https, numeric_host;
	SSL_CTX *tls;              /* https only */
	struct resolver *resolver; /* NULL for a numeric host */
	int64_t timeout_ms, retry_min_ms, retry_max_ms;
	size_t queue_max;

	struct post *ring; /* queue_max slots; the head is the post being sent */
	size_t head, count;

	enum attempt_state state;
	struct resolve_lookup *lookup;
	struct resolve_answer resolved; /* attempts rotate through its addresses */
	char address[INET6_ADDRSTRLEN];
	struct evhttp_connection *conn;
	struct event *timer; /* the attempt's deadline; the backoff while waiting */
	struct event *step;  /* acts on a lookup or an answer outside their callbacks */
	int status;          /* the answer's HTTP status; 0: none */
	char reply[ANSWER_BYTES];
	char failure[256]; /* why there is no answer */

	enum robot_kind kind;
	char secret[ROBOT_SECRET_BYTES]; /* "" : no signing */
	struct rate_window minute, second;
	int64_t per_minute; /* minute.limit, for the digest's text */
	struct robot_digest *digest;
	struct event *digest_timer;

	struct log_ratelimit overflow_logs;
	struct webhook_stats stats;
};

struct webhook {
	struct event_base *base;
	struct sender *main, *escalation; /* escalation NULL: none */
	struct robot_mentions *mentions;  /* NULL: nobody is @mentioned */
	enum robot_language language;
	int64_t escalate_after_ms;
	int64_t (*wall_clock_ms)(void);
	int draining;
	uint64_t escalated;
};

static struct timeval timeval_ms(int64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

/* ---- the URL ---------------------------------------------------------------------------- */

static int is_numeric_host(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];
	return evutil_inet_pton(AF_INET, host, addr) == 1 ||
	       evutil_inet_pton(AF_INET6, host, addr) == 1;
}

static char *format_text(const char *fmt, const char *a, const char *b, const char *c)
{
	int n = snprintf(NULL, 0, fmt, a, b, c);
	char *s;

	if (n < 0)
		return xstrdup(""); /* an encoding error, which %s of bytes never gives */
	s = xmalloc((size_t)n + 1);
	snprintf(s, (size_t)n + 1, fmt, a, b, c);
	return s;
}

/* Splits the URL into what is connected to, requested and shown. Errors never quote
 * the URL: its query string is a robot's token. */
static int parse_url(struct sender *sender, const char *url, char *err, size_t errlen)
{
	struct evhttp_uri *uri = evhttp_uri_parse(url);
	const char *scheme, *host, *path, *query;
	char port_text[16] = "";
	size_t host_len;
	int port, ok = 0;

	if (uri == NULL) {
		snprintf(err, errlen, "%s: not a valid URL", sender->key);
		return -1;
	}
	scheme = evhttp_uri_get_scheme(uri);
	host = evhttp_uri_get_host(uri);
	port = evhttp_uri_get_port(uri);
	path = evhttp_uri_get_path(uri);
	query = evhttp_uri_get_query(uri);
	if (scheme == NULL || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		snprintf(err, errlen, "%s: expected an http:// or https:// URL", sender->key);
	else if (host == NULL || host[0] == '\0')
		snprintf(err, errlen, "%s: the URL has no host", sender->key);
	else if (port == 0)
		snprintf(err, errlen, "%s: port 0", sender->key);
	else
		ok = 1;
	if (!ok) {
		evhttp_uri_free(uri);
		return -1;
	}
	sender->https = strcmp(scheme, "https") == 0;
	sender->port = port > 0 ? port : sender->https ? 443 : 80;
	if (port > 0)
		snprintf(port_text, sizeof(port_text), ":%d", port);
	host_len = strlen(host);
	if (host[0] == '[' && host_len > 2) /* [::1] */
		sender->host = xstrndup(host + 1, host_len - 2);
	else
		sender->host = xstrdup(host);
	sender->host_header = format_text("%s%s%s", host, port_text, "");
	sender->target = format_text("%s%s%s", path && path[0] ? path : "/", query ? "?" : "",
	                             query ? query : "");
	sender->shown =
	    format_text("%s://%s%s", scheme, sender->host_header, path && path[0] ? path : "/");
	evhttp_uri_free(uri);
	sender->numeric_host = is_numeric_host(sender->host);
	return 0;
}

/* The client context: TLS 1.2 or later, the peer's chain verified against ca_file or
 * the system store (/etc/ssl/certs on Debian). */
static SSL_CTX *tls_context(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int loaded;

	if (ctx == NULL) {
		snprintf(err, errlen, "alert_webhook: cannot set up TLS");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL && ca_file[0] != '\0')
		loaded = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		loaded = SSL_CTX_set_default_verify_paths(ctx);
	if (loaded != 1) {
		unsigned long e = ERR_get_error();
		snprintf(err, errlen, "alert_webhook_ca_file: cannot load %s: %s",
		         ca_file && ca_file[0] ? ca_file : "the system CA store",
		         e ? ERR_reason_error_string(e) : "no certificates");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- the queue -------------------------------------------------------------------------- */

static struct post *queue_at(struct sender *sender, size_t k)
{
	return &sender->ring[(sender->head + k) % sender->queue_max];
}

/* Removes the k-th post from the head, keeping the order of the others. */
static void queue_remove(struct sender *sender, size_t k)
{
	free(queue_at(sender, k)->body);
	if (k == 0) {
		sender->head = (sender->head + 1) % sender->queue_max;
	} else {
		for (size_t j = k; j + 1 < sender->count; j++)
			*queue_at(sender, j) = *queue_at(sender, j + 1);
	}
	sender->count--;
	sender->stats.queued = sender->count;
}

static int on_the_wire(const struct sender *sender)
{
	return sender->state != ATTEMPT_IDLE && sender->state != ATTEMPT_WAITING;
}

/* ---- one attempt ------------------------------------------------------------------------ */

/* Ends the attempt under way, if any: the lookup is abandoned (evdns still calls it
 * back later), the connection and its request freed. */
static void attempt_stop(struct sender *sender)
{
	resolver_cancel(&sender->lookup);
	if (sender->conn != NULL) {
		evhttp_connection_free(sender->conn);
		sender->conn = NULL;
	}
	if (sender->timer != NULL)
		event_del(sender->timer);
	if (sender->step != NULL)
		event_del(sender->step);
	sender->state = ATTEMPT_IDLE;
}

/* evhttp's callbacks only record what happened; the step acts on it. */
static void on_request_error(enum evhttp_request_error error, void *arg)
{
	static const char *const reasons[] = {[EVREQ_HTTP_TIMEOUT] = "timed out",
	                                      [EVREQ_HTTP_EOF] =
	                                          "connection closed before an answer",
	                                      [EVREQ_HTTP_INVALID_HEADER] = "invalid answer header",
	                                      [EVREQ_HTTP_BUFFER_ERROR] = "connection failed",
	                                      [EVREQ_HTTP_REQUEST_CANCEL] = "cancelled",
	                                      [EVREQ_HTTP_DATA_TOO_LONG] = "answer too long"};
	struct sender *sender = arg;

	snprintf(sender->failure, sizeof(sender->failure), "%s",
	         (unsigned)error < sizeof(reasons) / sizeof(reasons[0]) && reasons[error]
	             ? reasons[error]
	             : "request failed");
}

static void on_response(struct evhttp_request *req, void *arg)
{
	struct sender *sender = arg;

	if (req != NULL && evhttp_request_get_response_code(req) != 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		ev_ssize_t n = evbuffer_copyout(in, sender->reply, sizeof(sender->reply) - 1);
		sender->reply[n > 0 ? n : 0] = '\0';
		sender->status = evhttp_request_get_response_code(req);
	} else if (sender->failure[0] == '\0') {
		snprintf(sender->failure, sizeof(sender->failure),
		         "no connection (refused or reset)");
	}
	sender->state = ATTEMPT_ANSWERED;
	event_active(sender->step, EV_TIMEOUT, 1);
}

/* The attempt ends without an answer, for `why`: acted on at the next step. */
static void attempt_fail(struct sender *sender, const char *why)
{
	snprintf(sender->failure, sizeof(sender->failure), "%s", why);
	sender->state = ATTEMPT_ANSWERED;
	event_active(sender->step, EV_TIMEOUT, 1);
}

/* A TLS connection that verifies the peer as sender->host (SNI and certificate name), or
 * sender->host's address when the URL names an address. NULL out of memory. */
static struct bufferevent *tls_bufferevent(struct sender *sender)
{
	SSL *ssl = SSL_new(sender->tls);
	struct bufferevent *bev;
	int named;

	if (ssl == NULL)
		return NULL;
	if (sender->numeric_host)
		named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), sender->host) == 1;
	else
		named = SSL_set_tlsext_host_name(ssl, sender->host) == 1 &&
		        SSL_set1_host(ssl, sender->host) == 1;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (!named) {
		SSL_free(ssl);
		return NULL;
	}
	/* On failure libevent has freed ssl already (BEV_OPT_CLOSE_ON_FREE). */
	bev = bufferevent_openssl_socket_new(sender->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev != NULL)
		/* Many servers close without a TLS close_notify; the answer is complete. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* Connects to sender->address and sends the head post. */
static void request(struct sender *sender)
{
	const struct post *p = queue_at(sender, 0);
	/* Longer than the attempt's own deadline, which ends it first with one message. */
	struct timeval timeout = timeval_ms(sender->timeout_ms + 1000);
	struct bufferevent *bev = NULL;
	struct evhttp_request *req;
	struct evkeyvalq *headers;
	/* Signed now, at each attempt: the platforms refuse a timestamp an hour old. */
	int64_t now = sender->owner->wall_clock_ms();
	size_t len = p->len;
	char *target = robot_signed_target(sender->kind, sender->target, sender->secret, now);
	char *body = robot_signed_body(sender->kind, p->body, &len, sender->secret, now);

	sender->state = ATTEMPT_REQUESTING;
	if (target == NULL || body == NULL) {
		free(target);
		free(body);
		attempt_fail(sender, "cannot sign the post");
		return;
	}
	if ((sender->https && (bev = tls_bufferevent(sender)) == NULL) ||
	    (sender->conn = evhttp_connection_base_bufferevent_new(
	         sender->base, NULL, bev, sender->address, (unsigned short)sender->port)) == NULL ||
	    (req = evhttp_request_new(on_response, sender)) == NULL) {
		if (bev != NULL && sender->conn == NULL)
			bufferevent_free(bev);
		attempt_fail(sender, "out of memory");
		goto done;
	}
	evhttp_connection_set_timeout_tv(sender->conn, &timeout);
	evhttp_connection_set_max_body_size(sender->conn, 64 * 1024);
	evhttp_request_set_error_cb(req, on_request_error);
	headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Host", sender->host_header);
	evhttp_add_header(headers, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(headers, "User-Agent", "chatlogd/" CHATLOGD_VERSION);
	evhttp_add_header(headers, "Connection", "close");
	if (evbuffer_add(evhttp_request_get_output_buffer(req), body, len) == -1) {
		evhttp_request_free(req);
		attempt_fail(sender, "out of memory");
		goto done;
	}
	/* On failure evhttp has freed req. */
	if (evhttp_make_request(sender->conn, req, EVHTTP_REQ_POST, target) == -1)
		attempt_fail(sender, "cannot start the request");
done:
	free(target);
	free(body);
}

static void attempt_start(struct sender *sender)
{
	struct timeval deadline = timeval_ms(sender->timeout_ms);

	sender->status = 0;
	sender->reply[0] = '\0';
	sender->failure[0] = '\0';
	evtimer_add(sender->timer, &deadline);
	if (sender->numeric_host) {
		snprintf(sender->address, sizeof(sender->address), "%s", sender->host);
		request(sender);
	} else {
		resolver_lookup(sender->resolver, sender->host, &sender->lookup, &sender->resolved,
		                sender->step);
		sender->state = ATTEMPT_RESOLVING;
	}
}

/* ---- the rate limit --------------------------------------------------------------------- */

static void rate_init(struct rate_window *rw, int64_t period_ms, int64_t limit)
{
	rw->period_ms = period_ms;
	rw->limit = limit > 0 ? (size_t)limit : 0;
	if (rw->limit > 0)
		rw->sent = xcalloc(rw->limit, sizeof(*rw->sent));
}

/* Forgets sends at or before now - period: they are out of every window ending now. */
static void rate_forget(struct rate_window *rw, int64_t now)
{
	while (rw->count > 0 && rw->sent[rw->head] <= now - rw->period_ms) {
		rw->head = (rw->head + 1) % rw->limit;
		rw->count--;
	}
}

/* How long until a send is allowed: 0 now. */
static int64_t rate_wait_ms(struct rate_window *rw, int64_t now)
{
	if (rw->limit == 0)
		return 0;
	rate_forget(rw, now);
	return rw->count < rw->limit ? 0 : rw->sent[rw->head] + rw->period_ms - now;
}

static void rate_note(struct rate_window *rw, int64_t now)
{
	if (rw->limit == 0)
		return;
	rate_forget(rw, now);
	if (rw->count == rw->limit) { /* cannot happen: sends wait for room */
		rw->head = (rw->head + 1) % rw->limit;
		rw->count--;
	}
	rw->sent[(rw->head + rw->count) % rw->limit] = now;
	rw->count++;
}

/* Posts queued that still need a send of their own: all but the one on the wire (a
 * post waiting for its retry will be sent again). */
static size_t unsent(const struct sender *sender)
{
	return sender->count - (on_the_wire(sender) ? 1 : 0);
}

/* Whether one more post fits in this minute's budget, counting what is queued: the
 * sends of the last minute plus the posts still to send stay under the limit. */
static int budget_has_room(struct sender *sender, int64_t now)
{
	if (sender->minute.limit == 0)
		return 1;
	rate_forget(&sender->minute, now);
	return sender->minute.count + unsent(sender) < sender->minute.limit;
}

/* Starts the head post's attempt if idle and the rate limit allows it now; otherwise
 * waits (ATTEMPT_WAITING) until it does. Every attempt counts as a send. */
static void kick(struct sender *sender)
{
	int64_t now, wait, wait_second;

	if (sender->state != ATTEMPT_IDLE || sender->count == 0)
		return;
	now = clock_monotonic_ms();
	wait = rate_wait_ms(&sender->minute, now);
	wait_second = rate_wait_ms(&sender->second, now);
	if (wait_second > wait)
		wait = wait_second;
	if (wait > 0) {
		struct timeval tv = timeval_ms(wait);
		sender->state = ATTEMPT_WAITING;
		evtimer_add(sender->timer, &tv);
		return;
	}
	rate_note(&sender->minute, now);
	rate_note(&sender->second, now);
	attempt_start(sender);
}

/* ---- outcomes --------------------------------------------------------------------------- */

static enum outcome classify(struct sender *sender, char *why, size_t why_size)
{
	char errmsg[200];
	long code;

	if (sender->status == 0) {
		snprintf(why, why_size, "%s", sender->failure);
		return OUTCOME_RETRY;
	}
	if (sender->status >= 200 && sender->status < 300) {
		code = robot_answer_code(sender->kind, sender->reply, errmsg, sizeof(errmsg));
		if (code == 0)
			return OUTCOME_DELIVERED;
		snprintf(why, why_size, "HTTP %d errcode=%ld (%s)", sender->status, code, errmsg);
		return robot_code_rate_limited(sender->kind, code) ? OUTCOME_RATE_LIMITED
		                                                   : OUTCOME_REJECTED;
	}
	/* Feishu answers some refusals with a 4xx and its code in the body. */
	code = robot_answer_code(sender->kind, sender->reply, errmsg, sizeof(errmsg));
	if (code != 0 && robot_code_rate_limited(sender->kind, code)) {
		snprintf(why, why_size, "HTTP %d errcode=%ld (%s)", sender->status, code, errmsg);
		return OUTCOME_RATE_LIMITED;
	}
	snprintf(why, why_size, "HTTP %d", sender->status);
	/* A 4xx other than 429 will never succeed. DingTalk is reported to redirect (302)
	 * while it throttles a robot, so 3xx are retried like 5xx. */
	if (sender->status >= 400 && sender->status < 500 && sender->status != 429)
		return OUTCOME_REJECTED;
	return OUTCOME_RETRY;
}

/* Why a TLS connection gave no answer, from the certificate check or OpenSSL. */
static void describe_tls_failure(struct sender *sender)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(sender->conn);
	SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
	unsigned long error;
	long verify;

	if (ssl == NULL)
		return;
	verify = SSL_get_verify_result(ssl);
	if (verify != X509_V_OK) {
		snprintf(sender->failure, sizeof(sender->failure), "certificate refused: %s",
		         X509_verify_cert_error_string(verify));
	} else if ((error = bufferevent_get_openssl_error(bev)) != 0) {
		const char *reason = ERR_reason_error_string(error);
		snprintf(sender->failure, sizeof(sender->failure), "tls: %s",
		         reason ? reason : "error");
	}
}

/* Acts on the end of an attempt: the head post is delivered, dropped, or waits. */
static void attempt_done(struct sender *sender, enum outcome outcome, const char *why)
{
	struct post *p = queue_at(sender, 0);

	attempt_stop(sender);
	if (outcome == OUTCOME_RETRY || outcome == OUTCOME_RATE_LIMITED) {
		int64_t wait = sender->retry_min_ms;
		struct timeval tv;
		for (unsigned i = 0; i < p->attempts && wait < sender->retry_max_ms; i++)
			wait *= 2;
		if (wait > sender->retry_max_ms)
			wait = sender->retry_max_ms;
		/* The platform counts in its own window: trying again within it fails again
		 * (and DingTalk may block the robot longer). */
		if (outcome == OUTCOME_RATE_LIMITED && sender->minute.limit > 0 &&
		    wait < sender->minute.period_ms)
			wait = sender->minute.period_ms;
		p->attempts++;
		sender->stats.failed_attempts++;
		if (outcome == OUTCOME_RATE_LIMITED)
			sender->stats.rate_limited++;
		log_warnx(
		    "webhook: post failed url=%s reason=\"%s\" attempt=%u retry_in_ms=%" PRId64,
		    sender->shown, why, p->attempts, wait);
		tv = timeval_ms(wait);
		sender->state = ATTEMPT_WAITING;
		evtimer_add(sender->timer, &tv);
		return;
	}
	if (outcome == OUTCOME_DELIVERED) {
		sender->stats.delivered++;
		if (p->attempts > 0)
			log_info("webhook: delivered url=%s after attempts=%u", sender->shown,
			         p->attempts + 1);
	} else {
		sender->stats.dropped_rejected++;
		log_warnx("webhook: post refused for good, dropped url=%s reason=\"%s\"",
		          sender->shown, why);
	}
	queue_remove(sender, 0);
	kick(sender);
	if (sender->owner->draining && webhook_queued(sender->owner) == 0)
		event_base_loopexit(sender->base, NULL);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	struct sender *sender = arg;
	char why[512];
	(void)fd;
	(void)what;

	if (sender->state == ATTEMPT_RESOLVING && sender->resolved.done) {
		const char *failure,
		    *address =
		        resolve_take(&sender->resolved, queue_at(sender, 0)->attempts, &failure);
		if (address == NULL) {
			snprintf(why, sizeof(why), "cannot resolve %s: %s", sender->host, failure);
			attempt_done(sender, OUTCOME_RETRY, why);
			return;
		}
		snprintf(sender->address, sizeof(sender->address), "%s", address);
		request(sender);
	} else if (sender->state == ATTEMPT_ANSWERED) {
		if (sender->status == 0 && sender->https && sender->conn != NULL)
			describe_tls_failure(sender);
		attempt_done(sender, classify(sender, why, sizeof(why)), why);
	}
}

/* The attempt's deadline, or the end of a backoff. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sender *sender = arg;
	char why[64];
	(void)fd;
	(void)what;

	if (sender->state == ATTEMPT_WAITING) {
		sender->state = ATTEMPT_IDLE;
		kick(sender);
	} else if (sender->state != ATTEMPT_IDLE && sender->state != ATTEMPT_ANSWERED) {
		snprintf(why, sizeof(why), "no answer within %" PRId64 " ms", sender->timeout_ms);
		attempt_done(sender, OUTCOME_RETRY, why);
	}
}

/* ---- a sender ------------------------------------------------------------------------- */

static void sender_free(struct sender *sender)
{
	if (sender == NULL)
		return;
	if (sender->count > 0)
		log_warnx("webhook: stopping with %zu alert posts not delivered url=%s",
		          sender->count, sender->shown);
	if (sender->digest != NULL && robot_digest_count(sender->digest) > 0)
		log_warnx("webhook: stopping with %" PRIu64
		          " alerts held for a digest not sent url=%s",
		          robot_digest_count(sender->digest), sender->shown);
	attempt_stop(sender);
	/* A cancelled lookup is called back at the loop's next turn: let it, so that the
	 * resolver is freed here rather than left to an event_base_free that never runs
	 * the callback. Nothing else is waiting that long. */
	for (int turns = 0; resolver_busy(sender->resolver) && turns < 10; turns++)
		event_base_loop(sender->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	while (sender->count > 0)
		queue_remove(sender, 0);
	free(sender->ring);
	if (sender->timer != NULL)
		event_free(sender->timer);
	if (sender->step != NULL)
		event_free(sender->step);
	if (sender->digest_timer != NULL)
		event_free(sender->digest_timer);
	robot_digest_free(sender->digest);
	free(sender->minute.sent);
	free(sender->second.sent);
	resolver_free(sender->resolver);
	SSL_CTX_free(sender->tls);
	free(sender->host);
	free(sender->host_header);
	free(sender->target);
	free(sender->shown);
	explicit_bzero(sender->secret, sizeof(sender->secret));
	free(sender);
}

/* Queues a copy of body and starts sending if idle; a full queue drops its oldest
 * post that is not on the wire. */
static void sender_post(struct sender *sender, const char *body, size_t len)
{
	struct post p = {xmalloc(len), len, 0};

	memcpy(p.body, body, len);
	if (sender->count == sender->queue_max) {
		/* The oldest that is not being sent: a post on the wire may arrive. */
		size_t victim = on_the_wire(sender) ? 1 : 0;
		if (victim == 0 && sender->state == ATTEMPT_WAITING)
			attempt_stop(sender);
		queue_remove(sender, victim);
		sender->stats.dropped_overflow++;
		if (log_ratelimit_allow(&sender->overflow_logs, "webhook queue overflows"))
			log_warnx("webhook: queue full (%zu posts), dropped the oldest url=%s",
			          sender->queue_max, sender->shown);
	}
	*queue_at(sender, sender->count) = p;
	sender->count++;
	sender->stats.queued = sender->count;
	kick(sender);
}

/* Arms the digest's timer for when the minute's budget has room again: when the
 * oldest send of the window leaves it (or a whole period, if the budget is held by
 * posts not sent yet). */
static void digest_schedule(struct sender *sender, int64_t now)
{
	int64_t wait = sender->minute.period_ms;
	struct timeval tv;

	if (evtimer_pending(sender->digest_timer, NULL))
		return;
	if (budget_has_room(sender, now))
		wait = 0;
	else if (sender->minute.count > 0)
		wait = sender->minute.sent[sender->minute.head] + sender->minute.period_ms - now;
	tv = timeval_ms(wait > 0 ? wait : 0);
	evtimer_add(sender->digest_timer, &tv);
}

/* Queues the digest as one post, if the budget has room; clears it. */
static void digest_send(struct sender *sender)
{
	char *text = xmalloc(TEXT_BYTES), *body = xmalloc(BODY_BYTES);
	size_t len;

	robot_digest_text(sender->digest, sender->owner->language, sender->per_minute, text,
	                  TEXT_BYTES);
	len = robot_body(sender->kind, text, NULL, NULL, body, BODY_BYTES);
	log_info("webhook: %" PRIu64 " alerts held back by the rate limit go as one digest url=%s",
	         robot_digest_count(sender->digest), sender->shown);
	robot_digest_clear(sender->digest);
	sender->stats.digests++;
	sender_post(sender, body, len);
	free(text);
	free(body);
}

static void on_digest_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sender *sender = arg;
	int64_t now = clock_monotonic_ms();
	(void)fd;
	(void)what;

	if (robot_digest_count(sender->digest) == 0)
		return;
	if (budget_has_room(sender, now))
		digest_send(sender);
	else
		digest_schedule(sender, now);
}

/* The body of ev for this sender's platform, in the webhook's language; raised and
 * waiting alerts @mention the agent when the map has them. Returns its length. */
static size_t alert_body(const struct sender *sender, const struct alert_event *ev,
                         const struct names *names, int escalated, char *out, size_t size)
{
	char *text = xmalloc(TEXT_BYTES), alert[ALERT_MESSAGE_MAX];
	struct robot_mention mention = {names_get(names, ev->agent), NULL, 0};
	size_t len;

	robot_alert_text(ev, names, sender->owner->language, escalated, text, TEXT_BYTES);
	if (ev->type == ALERT_RAISED || ev->type == ALERT_WAITING || ev->type == ALERT_WARNING)
		mention.id =
		    robot_mentions_find(sender->owner->mentions, mention.agent, &mention.mobile);
	if (sender->kind == ROBOT_GENERIC)
		alert_format(ev, names, alert, sizeof(alert));
	len = robot_body(sender->kind, text, &mention, sender->kind == ROBOT_GENERIC ? alert : NULL,
	                 out, size);
	free(text);
	return len;
}

/* Posts ev, or counts it in the digest when the minute's budget is spent (or a digest
 * is already waiting: alerts then keep their order behind it). */
static void sender_post_alert(struct sender *sender, const struct alert_event *ev,
                              const struct names *names, int escalated)
{
	int64_t now = clock_monotonic_ms();
	char *body;
	size_t len;

	if (robot_digest_count(sender->digest) > 0 || !budget_has_room(sender, now)) {
		robot_digest_add(sender->digest, ev, names);
		sender->stats.digested++;
		digest_schedule(sender, now);
		return;
	}
	body = xmalloc(BODY_BYTES);
	len = alert_body(sender, ev, names, escalated, body, BODY_BYTES);
	sender_post(sender, body, len);
	free(body);
}

/* One robot URL with its kind (ROBOT_AUTO: from the host), secret and limits. */
static struct sender *sender_new(struct webhook *wh, const char *key, const char *url,
                                 enum robot_kind kind, const char *secret_file,
                                 const struct webhook_settings *s,
                                 const struct webhook_robot_settings *r, char *err, size_t errlen)
{
	struct sender *sender = xcalloc(1, sizeof(*sender));
	int64_t per_minute, per_second,
	    period_ms = r->rate_period_ms > 0 ? r->rate_period_ms : 60000;

	sender->owner = wh;
	sender->key = key;
	sender->base = wh->base;
	sender->timeout_ms = s->timeout_ms;
	sender->retry_min_ms = s->retry_min_ms > 0 ? s->retry_min_ms : 1;
	sender->retry_max_ms =
	    s->retry_max_ms > sender->retry_min_ms ? s->retry_max_ms : sender->retry_min_ms;
	/* One slot for the post on the wire, at least one for the newest. */
	sender->queue_max = s->queue_max > 2 ? s->queue_max : 2;
	sender->overflow_logs.per_second = 1;
	if (parse_url(sender, url, err, errlen) == -1)
		goto fail;
	sender->kind = kind == ROBOT_AUTO ? robot_kind_for_host(sender->host) : kind;
	if (secret_file != NULL && secret_file[0] != '\0' &&
	    robot_read_secret(secret_file, sender->secret, err, errlen) == -1)
		goto fail;
	if (sender->secret[0] != '\0' && sender->kind != ROBOT_DINGTALK &&
	    sender->kind != ROBOT_FEISHU)
		log_warnx("webhook: a secret is set but %s robots are not signed url=%s",
		          robot_kind_name(sender->kind), sender->shown);
	robot_default_limits(sender->kind, &per_minute, &per_second);
	if (r->per_minute > 0)
		per_minute = r->per_minute;
	sender->per_minute = per_minute;
	if (sender->https && (sender->tls = tls_context(s->ca_file, err, errlen)) == NULL)
		goto fail;
	rate_init(&sender->minute, period_ms, per_minute);
	rate_init(&sender->second, period_ms / 60 > 0 ? period_ms / 60 : 1, per_second);
	sender->digest = robot_digest_new();
	sender->ring = xcalloc(sender->queue_max, sizeof(*sender->ring));
	if ((sender->timer = evtimer_new(wh->base, on_timer, sender)) == NULL ||
	    (sender->digest_timer = evtimer_new(wh->base, on_digest_timer, sender)) == NULL ||
	    (sender->step = event_new(wh->base, -1, 0, on_step, sender)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", key);
		goto fail;
	}
	if (!sender->numeric_host) {
		if ((sender->resolver = resolver_new(wh->base)) == NULL) {
			snprintf(err, errlen, "%s: cannot set up the DNS resolver", key);
			goto fail;
		}
	}
	return sender;
fail:
	sender_free(sender);
	return NULL;
}

static void sender_announce(const struct sender *sender, const char *what)
{
	log_info("webhook: %s %s robot=%s signed=%s per_minute=%" PRId64, what, sender->shown,
	         robot_kind_name(sender->kind), sender->secret[0] ? "yes" : "no",
	         sender->per_minute);
}

/* ---- the interface ---------------------------------------------------------------------- */

static size_t webhook_queued(const struct webhook *wh)
{
	return wh->main->count + (wh->escalation != NULL ? wh->escalation->count : 0);
}

struct webhook *webhook_new(struct event_base *base, const struct webhook_settings *s, char *err,
                            size_t errlen)
{
	return webhook_new_robots(base, s, NULL, err, errlen);
}

struct webhook *webhook_new_from_config(struct event_base *base, const struct config *cfg,
                                        char *err, size_t errlen)
{
	struct webhook_settings s;
	struct webhook_robot_settings robots;

	webhook_settings_from_config(cfg, &s, &robots);
	return webhook_new_robots(base, &s, &robots, err, errlen);
}

struct webhook *webhook_new_robots(struct event_base *base, const struct webhook_settings *s,
                                   const struct webhook_robot_settings *robots, char *err,
                                   size_t errlen)
{
	static const struct webhook_robot_settings none;
	const struct webhook_robot_settings *r = robots != NULL ? robots : &none;
	struct webhook *wh = xcalloc(1, sizeof(*wh));

	wh->base = base;
	wh->language = r->language;
	wh->escalate_after_ms = r->escalate_after_ms;
	wh->wall_clock_ms = r->wall_clock_ms != NULL ? r->wall_clock_ms : clock_wall_ms;
	if (r->mentions_file != NULL && r->mentions_file[0] != '\0' &&
	    (wh->mentions = robot_mentions_load(r->mentions_file, err, errlen)) == NULL)
		goto fail;
	if ((wh->main = sender_new(wh, "alert_webhook", s->url, r->kind, r->secret_file, s, r, err,
	                           errlen)) == NULL)
		goto fail;
	if (r->escalate_url != NULL && r->escalate_url[0] != '\0' &&
	    (wh->escalation =
	         sender_new(wh, "alert_escalate_webhook", r->escalate_url, r->escalate_kind,
	                    r->escalate_secret_file, s, r, err, errlen)) == NULL)
		goto fail;
	sender_announce(wh->main, "alerts are also posted to");
	if (wh->escalation != NULL)
		sender_announce(wh->escalation, "buyers waiting past escalate_after are posted to");
	return wh;
fail:
	webhook_free(wh);
	return NULL;
}

void webhook_free(struct webhook *wh)
{
	if (wh == NULL)
		return;
	sender_free(wh->main);
	sender_free(wh->escalation);
	robot_mentions_free(wh->mentions);
	free(wh);
}

void webhook_post(struct webhook *wh, const char *body, size_t len)
{
	sender_post(wh->main, body, len);
}

size_t webhook_alert_body(const struct alert_event *ev, const struct names *names, char *out,
                          size_t size)
{
	char *text = xmalloc(TEXT_BYTES), alert[ALERT_MESSAGE_MAX];
	size_t len;

	robot_alert_text(ev, names, ROBOT_ZH, 0, text, TEXT_BYTES);
	alert_format(ev, names, alert, sizeof(alert));
	len = robot_body(ROBOT_GENERIC, text, NULL, alert, out, size);
	free(text);
	return len;
}

void webhook_post_alert(struct webhook *wh, const struct alert_event *ev, const struct names *names)
{
	sender_post_alert(wh->main, ev, names, 0);
	if (wh->escalation != NULL && ev->type == ALERT_WAITING &&
	    ev->value_ms >= wh->escalate_after_ms) {
		wh->escalated++;
		sender_post_alert(wh->escalation, ev, names, 1);
	}
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *wh = arg;
	(void)fd;
	(void)what;
	event_base_loopexit(wh->base, NULL);
}

/* At a stop, a digest goes out now if the budget allows it, and a post waiting for its
 * retry is tried at once (one waiting for the rate limit waits on). */
static void sender_hurry(struct sender *sender)
{
	if (sender == NULL)
		return;
	if (robot_digest_count(sender->digest) > 0 &&
	    budget_has_room(sender, clock_monotonic_ms())) {
		event_del(sender->digest_timer);
		digest_send(sender);
	}
	if (sender->state == ATTEMPT_WAITING)
		event_active(sender->timer, EV_TIMEOUT, 1);
}

void webhook_drain(struct webhook *wh, int64_t max_ms)
{
	struct timeval tv = timeval_ms(max_ms);
	struct event *deadline;

	if (wh == NULL)
		return;
	sender_hurry(wh->main);
	sender_hurry(wh->escalation);
	if (webhook_queued(wh) == 0)
		return;
	if ((deadline = evtimer_new(wh->base, on_drain_deadline, wh)) == NULL ||
	    evtimer_add(deadline, &tv) == -1) {
		if (deadline != NULL)
			event_free(deadline);
		return;
	}
	wh->draining = 1;
	event_base_dispatch(wh->base);
	wh->draining = 0;
	event_free(deadline);
}

static void stats_add(struct webhook_stats *sum, const struct sender *sender)
{
	if (sender == NULL)
		return;
	sum->delivered += sender->stats.delivered;
	sum->failed_attempts += sender->stats.failed_attempts;
	sum->dropped_overflow += sender->stats.dropped_overflow;
	sum->dropped_rejected += sender->stats.dropped_rejected;
	sum->rate_limited += sender->stats.rate_limited;
	sum->digested += sender->stats.digested;
	sum->digests += sender->stats.digests;
	sum->queued += sender->stats.queued;
}

void webhook_stats(const struct webhook *wh, struct webhook_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (wh == NULL)
		return;
	stats_add(out, wh->main);
	stats_add(out, wh->escalation);
	out->escalated = wh->escalated;
}

void webhook_settings_from_config(const struct config *cfg, struct webhook_settings *s,
                                  struct webhook_robot_settings *robots)
{
	*s = (struct webhook_settings){
	    .url = cfg->alert_webhook,
	    .ca_file = cfg->alert_webhook_ca_file,
	    .timeout_ms = 5000,
	    .retry_min_ms = 1000,
	    .retry_max_ms = 60000,
	    .queue_max = LIMIT_WEBHOOK_QUEUE,
	};
	*robots = (struct webhook_robot_settings){
	    .secret_file = cfg->alert_webhook_secret_file,
	    .per_minute = cfg->alert_robot_per_minute,
	    .mentions_file = cfg->alert_mentions_file,
	    .escalate_url = cfg->alert_escalate_webhook,
	    .escalate_secret_file = cfg->alert_escalate_secret_file,
	    .escalate_after_ms = cfg->escalate_after_ms,
	};
	/* config.c has checked the names: a failure leaves the defaults (auto, zh). */
	(void)robot_kind_parse(cfg->alert_robot, &robots->kind);
	(void)robot_kind_parse(cfg->alert_escalate_robot, &robots->escalate_kind);
	(void)robot_language_parse(cfg->alert_language, &robots->language);
}
