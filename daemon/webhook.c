/*
 * webhook.c owns the alert webhook: the queue of posts, one HTTP(S) request at a time
 * through libevent's evhttp client, TLS with OpenSSL (chain and host name verified),
 * retries with capped backoff, and the robot message shape. It does not decide which
 * alerts are posted or when (live.c posts a cut's alerts once Redis has applied them),
 * and keeps nothing across restarts.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

#include "chatlogd/log.h"
#include "chatlogd/resolve.h"
#include "chatlogd/webhook.h"

/* How much of an answer is read: robots answer {"errcode":0,"errmsg":"ok"}. */
#define ANSWER_BYTES 512
/* The robot message: three escaped names (LIMIT_NAME_BYTES, 6 bytes per control
 * byte at worst) in the text and again in the alert object. */
#define BODY_BYTES 16384

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

enum outcome { OUTCOME_DELIVERED, OUTCOME_RETRY, OUTCOME_REJECTED };

struct webhook {
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

	int draining;
	struct log_ratelimit overflow_logs;
	struct webhook_stats stats;
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
	char *s = n < 0 ? NULL : malloc((size_t)n + 1);
	if (s != NULL)
		snprintf(s, (size_t)n + 1, fmt, a, b, c);
	return s;
}

/* Splits the URL into what is connected to, requested and shown. Errors never quote
 * the URL: its query string is a robot's token. */
static int parse_url(struct webhook *wh, const char *url, char *err, size_t errlen)
{
	struct evhttp_uri *uri = evhttp_uri_parse(url);
	const char *scheme, *host, *path, *query;
	char port_text[16] = "";
	size_t host_len;
	int port, ok = 0;

	if (uri == NULL) {
		snprintf(err, errlen, "alert_webhook: not a valid URL");
		return -1;
	}
	scheme = evhttp_uri_get_scheme(uri);
	host = evhttp_uri_get_host(uri);
	port = evhttp_uri_get_port(uri);
	path = evhttp_uri_get_path(uri);
	query = evhttp_uri_get_query(uri);
	if (scheme == NULL || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		snprintf(err, errlen, "alert_webhook: expected an http:// or https:// URL");
	else if (host == NULL || host[0] == '\0')
		snprintf(err, errlen, "alert_webhook: the URL has no host");
	else if (port == 0)
		snprintf(err, errlen, "alert_webhook: port 0");
	else
		ok = 1;
	if (!ok) {
		evhttp_uri_free(uri);
		return -1;
	}
	wh->https = strcmp(scheme, "https") == 0;
	wh->port = port > 0 ? port : wh->https ? 443 : 80;
	if (port > 0)
		snprintf(port_text, sizeof(port_text), ":%d", port);
	host_len = strlen(host);
	if (host[0] == '[' && host_len > 2) /* [::1] */
		wh->host = strndup(host + 1, host_len - 2);
	else
		wh->host = strdup(host);
	wh->host_header = format_text("%s%s%s", host, port_text, "");
	wh->target = format_text("%s%s%s", path && path[0] ? path : "/", query ? "?" : "",
	                         query ? query : "");
	wh->shown = format_text("%s://%s%s", scheme, wh->host_header ? wh->host_header : "",
	                        path && path[0] ? path : "/");
	evhttp_uri_free(uri);
	if (wh->host == NULL || wh->host_header == NULL || wh->target == NULL ||
	    wh->shown == NULL) {
		snprintf(err, errlen, "alert_webhook: out of memory");
		return -1;
	}
	wh->numeric_host = is_numeric_host(wh->host);
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

static struct post *queue_at(struct webhook *wh, size_t k)
{
	return &wh->ring[(wh->head + k) % wh->queue_max];
}

/* Removes the k-th post from the head, keeping the order of the others. */
static void queue_remove(struct webhook *wh, size_t k)
{
	free(queue_at(wh, k)->body);
	if (k == 0) {
		wh->head = (wh->head + 1) % wh->queue_max;
	} else {
		for (size_t j = k; j + 1 < wh->count; j++)
			*queue_at(wh, j) = *queue_at(wh, j + 1);
	}
	wh->count--;
	wh->stats.queued = wh->count;
}

static int on_the_wire(const struct webhook *wh)
{
	return wh->state != ATTEMPT_IDLE && wh->state != ATTEMPT_WAITING;
}

/* ---- one attempt ------------------------------------------------------------------------ */

/* Ends the attempt under way, if any: the lookup is abandoned (evdns still calls it
 * back later), the connection and its request freed. */
static void attempt_stop(struct webhook *wh)
{
	resolver_cancel(&wh->lookup);
	if (wh->conn != NULL) {
		evhttp_connection_free(wh->conn);
		wh->conn = NULL;
	}
	if (wh->timer != NULL)
		event_del(wh->timer);
	if (wh->step != NULL)
		event_del(wh->step);
	wh->state = ATTEMPT_IDLE;
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
	struct webhook *wh = arg;

	snprintf(wh->failure, sizeof(wh->failure), "%s",
	         (unsigned)error < sizeof(reasons) / sizeof(reasons[0]) && reasons[error]
	             ? reasons[error]
	             : "request failed");
}

static void on_response(struct evhttp_request *req, void *arg)
{
	struct webhook *wh = arg;

	if (req != NULL && evhttp_request_get_response_code(req) != 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		ev_ssize_t n = evbuffer_copyout(in, wh->reply, sizeof(wh->reply) - 1);
		wh->reply[n > 0 ? n : 0] = '\0';
		wh->status = evhttp_request_get_response_code(req);
	} else if (wh->failure[0] == '\0') {
		snprintf(wh->failure, sizeof(wh->failure), "no connection (refused or reset)");
	}
	wh->state = ATTEMPT_ANSWERED;
	event_active(wh->step, EV_TIMEOUT, 1);
}

/* The attempt ends without an answer, for `why`: acted on at the next step. */
static void attempt_fail(struct webhook *wh, const char *why)
{
	snprintf(wh->failure, sizeof(wh->failure), "%s", why);
	wh->state = ATTEMPT_ANSWERED;
	event_active(wh->step, EV_TIMEOUT, 1);
}

/* A TLS connection that verifies the peer as wh->host (SNI and certificate name), or
 * wh->host's address when the URL names an address. NULL out of memory. */
static struct bufferevent *tls_bufferevent(struct webhook *wh)
{
	SSL *ssl = SSL_new(wh->tls);
	struct bufferevent *bev;
	int named;

	if (ssl == NULL)
		return NULL;
	if (wh->numeric_host)
		named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), wh->host) == 1;
	else
		named = SSL_set_tlsext_host_name(ssl, wh->host) == 1 &&
		        SSL_set1_host(ssl, wh->host) == 1;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (!named) {
		SSL_free(ssl);
		return NULL;
	}
	/* On failure libevent has freed ssl already (BEV_OPT_CLOSE_ON_FREE). */
	bev = bufferevent_openssl_socket_new(wh->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev != NULL)
		/* Many servers close without a TLS close_notify; the answer is complete. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* Connects to wh->address and sends the head post. */
static void request(struct webhook *wh)
{
	const struct post *p = queue_at(wh, 0);
	/* Longer than the attempt's own deadline, which ends it first with one message. */
	struct timeval timeout = timeval_ms(wh->timeout_ms + 1000);
	struct bufferevent *bev = NULL;
	struct evhttp_request *req;
	struct evkeyvalq *headers;

	wh->state = ATTEMPT_REQUESTING;
	if ((wh->https && (bev = tls_bufferevent(wh)) == NULL) ||
	    (wh->conn = evhttp_connection_base_bufferevent_new(wh->base, NULL, bev, wh->address,
	                                                       (unsigned short)wh->port)) == NULL ||
	    (req = evhttp_request_new(on_response, wh)) == NULL) {
		if (bev != NULL && wh->conn == NULL)
			bufferevent_free(bev);
		attempt_fail(wh, "out of memory");
		return;
	}
	evhttp_connection_set_timeout_tv(wh->conn, &timeout);
	evhttp_connection_set_max_body_size(wh->conn, 64 * 1024);
	evhttp_request_set_error_cb(req, on_request_error);
	headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Host", wh->host_header);
	evhttp_add_header(headers, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(headers, "User-Agent", "chatlogd/" CHATLOGD_VERSION);
	evhttp_add_header(headers, "Connection", "close");
	if (evbuffer_add(evhttp_request_get_output_buffer(req), p->body, p->len) == -1) {
		evhttp_request_free(req);
		attempt_fail(wh, "out of memory");
		return;
	}
	/* On failure evhttp has freed req. */
	if (evhttp_make_request(wh->conn, req, EVHTTP_REQ_POST, wh->target) == -1) {
		attempt_fail(wh, "cannot start the request");
	}
}

static void attempt_start(struct webhook *wh)
{
	struct timeval deadline = timeval_ms(wh->timeout_ms);

	wh->status = 0;
	wh->reply[0] = '\0';
	wh->failure[0] = '\0';
	evtimer_add(wh->timer, &deadline);
	if (wh->numeric_host) {
		snprintf(wh->address, sizeof(wh->address), "%s", wh->host);
		request(wh);
	} else if (resolver_lookup(wh->resolver, wh->host, &wh->lookup, &wh->resolved, wh->step) ==
	           0) {
		wh->state = ATTEMPT_RESOLVING;
	} else {
		attempt_fail(wh, "out of memory");
	}
}

static void kick(struct webhook *wh)
{
	if (wh->state == ATTEMPT_IDLE && wh->count > 0)
		attempt_start(wh);
}

/* ---- outcomes --------------------------------------------------------------------------- */

/* The robot's verdict in a 2xx answer: {"errcode":N,"errmsg":"..."}. 0 when there is
 * none (a plain receiver) or it says ok. */
static long robot_errcode(const char *answer, char *errmsg, size_t errmsg_size)
{
	const char *p = strstr(answer, "\"errcode\"");
	const char *msg = strstr(answer, "\"errmsg\"");
	long code;

	errmsg[0] = '\0';
	if (p == NULL)
		return 0;
	p += strlen("\"errcode\"");
	p += strspn(p, " \t\r\n");
	if (*p++ != ':')
		return 0;
	code = strtol(p, NULL, 10);
	if (msg != NULL && (msg = strchr(msg + strlen("\"errmsg\""), '"')) != NULL) {
		const char *end = strchr(msg + 1, '"');
		log_escape(errmsg, errmsg_size, msg + 1,
		           end ? (size_t)(end - msg - 1) : strlen(msg + 1));
	}
	return code;
}

/* Rate limits robots report in a 200 answer: DingTalk 130101 ("send too fast", 20
 * messages a minute per robot), WeCom 45009 ("api freq out of limit"). */
static int robot_rate_limited(long code)
{
	return code == 130101 || code == 45009;
}

static enum outcome classify(struct webhook *wh, char *why, size_t why_size)
{
	char errmsg[200];
	long code;

	if (wh->status == 0) {
		snprintf(why, why_size, "%s", wh->failure);
		return OUTCOME_RETRY;
	}
	if (wh->status >= 200 && wh->status < 300) {
		code = robot_errcode(wh->reply, errmsg, sizeof(errmsg));
		if (code == 0)
			return OUTCOME_DELIVERED;
		snprintf(why, why_size, "HTTP %d errcode=%ld (%s)", wh->status, code, errmsg);
		return robot_rate_limited(code) ? OUTCOME_RETRY : OUTCOME_REJECTED;
	}
	snprintf(why, why_size, "HTTP %d", wh->status);
	/* A 4xx other than 429 will never succeed. DingTalk is reported to redirect (302)
	 * while it throttles a robot, so 3xx are retried like 5xx. */
	if (wh->status >= 400 && wh->status < 500 && wh->status != 429)
		return OUTCOME_REJECTED;
	return OUTCOME_RETRY;
}

/* Why a TLS connection gave no answer, from the certificate check or OpenSSL. */
static void describe_tls_failure(struct webhook *wh)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(wh->conn);
	SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
	unsigned long error;
	long verify;

	if (ssl == NULL)
		return;
	verify = SSL_get_verify_result(ssl);
	if (verify != X509_V_OK) {
		snprintf(wh->failure, sizeof(wh->failure), "certificate refused: %s",
		         X509_verify_cert_error_string(verify));
	} else if ((error = bufferevent_get_openssl_error(bev)) != 0) {
		const char *reason = ERR_reason_error_string(error);
		snprintf(wh->failure, sizeof(wh->failure), "tls: %s", reason ? reason : "error");
	}
}

/* Acts on the end of an attempt: the head post is delivered, dropped, or waits. */
static void attempt_done(struct webhook *wh, enum outcome outcome, const char *why)
{
	struct post *p = queue_at(wh, 0);

	attempt_stop(wh);
	if (outcome == OUTCOME_RETRY) {
		int64_t wait = wh->retry_min_ms;
		struct timeval tv;
		for (unsigned i = 0; i < p->attempts && wait < wh->retry_max_ms; i++)
			wait *= 2;
		if (wait > wh->retry_max_ms)
			wait = wh->retry_max_ms;
		p->attempts++;
		wh->stats.failed_attempts++;
		log_warnx(
		    "webhook: post failed url=%s reason=\"%s\" attempt=%u retry_in_ms=%" PRId64,
		    wh->shown, why, p->attempts, wait);
		tv = timeval_ms(wait);
		wh->state = ATTEMPT_WAITING;
		evtimer_add(wh->timer, &tv);
		return;
	}
	if (outcome == OUTCOME_DELIVERED) {
		wh->stats.delivered++;
		if (p->attempts > 0)
			log_info("webhook: delivered url=%s after attempts=%u", wh->shown,
			         p->attempts + 1);
	} else {
		wh->stats.dropped_rejected++;
		log_warnx("webhook: post refused for good, dropped url=%s reason=\"%s\"", wh->shown,
		          why);
	}
	queue_remove(wh, 0);
	if (wh->draining && wh->count == 0)
		event_base_loopexit(wh->base, NULL);
	kick(wh);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *wh = arg;
	char why[512];
	(void)fd;
	(void)what;

	if (wh->state == ATTEMPT_RESOLVING && wh->resolved.done) {
		const struct resolve_answer *a = &wh->resolved;
		const char *failure = resolve_failure(a);
		wh->resolved.done = 0;
		if (failure != NULL) {
			snprintf(why, sizeof(why), "cannot resolve %s: %s", wh->host, failure);
			attempt_done(wh, OUTCOME_RETRY, why);
			return;
		}
		snprintf(wh->address, sizeof(wh->address), "%s",
		         a->addresses[queue_at(wh, 0)->attempts % (unsigned)a->count]);
		request(wh);
	} else if (wh->state == ATTEMPT_ANSWERED) {
		if (wh->status == 0 && wh->https && wh->conn != NULL)
			describe_tls_failure(wh);
		attempt_done(wh, classify(wh, why, sizeof(why)), why);
	}
}

/* The attempt's deadline, or the end of a backoff. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *wh = arg;
	char why[64];
	(void)fd;
	(void)what;

	if (wh->state == ATTEMPT_WAITING) {
		wh->state = ATTEMPT_IDLE;
		kick(wh);
	} else if (wh->state != ATTEMPT_IDLE && wh->state != ATTEMPT_ANSWERED) {
		snprintf(why, sizeof(why), "no answer within %" PRId64 " ms", wh->timeout_ms);
		attempt_done(wh, OUTCOME_RETRY, why);
	}
}

/* ---- the interface ---------------------------------------------------------------------- */

struct webhook *webhook_new(struct event_base *base, const struct webhook_settings *s, char *err,
                            size_t errlen)
{
	struct webhook *wh = calloc(1, sizeof(*wh));

	if (wh == NULL) {
		snprintf(err, errlen, "alert_webhook: out of memory");
		return NULL;
	}
	wh->base = base;
	wh->timeout_ms = s->timeout_ms;
	wh->retry_min_ms = s->retry_min_ms > 0 ? s->retry_min_ms : 1;
	wh->retry_max_ms = s->retry_max_ms > wh->retry_min_ms ? s->retry_max_ms : wh->retry_min_ms;
	/* One slot for the post on the wire, at least one for the newest. */
	wh->queue_max = s->queue_max > 2 ? s->queue_max : 2;
	wh->overflow_logs.per_second = 1;
	if (parse_url(wh, s->url, err, errlen) == -1)
		goto fail;
	if (wh->https && (wh->tls = tls_context(s->ca_file, err, errlen)) == NULL)
		goto fail;
	if ((wh->ring = calloc(wh->queue_max, sizeof(*wh->ring))) == NULL ||
	    (wh->timer = evtimer_new(base, on_timer, wh)) == NULL ||
	    (wh->step = event_new(base, -1, 0, on_step, wh)) == NULL) {
		snprintf(err, errlen, "alert_webhook: out of memory");
		goto fail;
	}
	if (!wh->numeric_host) {
		if ((wh->resolver = resolver_new(base)) == NULL) {
			snprintf(err, errlen, "alert_webhook: cannot set up the DNS resolver");
			goto fail;
		}
	}
	log_info("webhook: alerts are also posted to %s", wh->shown);
	return wh;
fail:
	webhook_free(wh);
	return NULL;
}

void webhook_free(struct webhook *wh)
{
	if (wh == NULL)
		return;
	if (wh->count > 0)
		log_warnx("webhook: stopping with %zu alert posts not delivered url=%s", wh->count,
		          wh->shown);
	attempt_stop(wh);
	/* A cancelled lookup is called back at the loop's next turn: let it, so that the
	 * resolver is freed here rather than left to an event_base_free that never runs
	 * the callback. Nothing else is waiting that long. */
	for (int turns = 0; resolver_busy(wh->resolver) && turns < 10; turns++)
		event_base_loop(wh->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	while (wh->count > 0)
		queue_remove(wh, 0);
	free(wh->ring);
	if (wh->timer != NULL)
		event_free(wh->timer);
	if (wh->step != NULL)
		event_free(wh->step);
	resolver_free(wh->resolver);
	SSL_CTX_free(wh->tls);
	free(wh->host);
	free(wh->host_header);
	free(wh->target);
	free(wh->shown);
	free(wh);
}

int webhook_post(struct webhook *wh, const char *body, size_t len)
{
	struct post p = {malloc(len ? len : 1), len, 0};

	if (p.body == NULL)
		return -1;
	memcpy(p.body, body, len);
	if (wh->count == wh->queue_max) {
		/* The oldest that is not being sent: a post on the wire may arrive. */
		size_t victim = on_the_wire(wh) ? 1 : 0;
		if (victim == 0 && wh->state == ATTEMPT_WAITING)
			attempt_stop(wh);
		queue_remove(wh, victim);
		wh->stats.dropped_overflow++;
		if (log_ratelimit_allow(&wh->overflow_logs, "webhook queue overflows"))
			log_warnx("webhook: queue full (%zu posts), dropped the oldest url=%s",
			          wh->queue_max, wh->shown);
	}
	*queue_at(wh, wh->count) = p;
	wh->count++;
	wh->stats.queued = wh->count;
	kick(wh);
	return 0;
}

/* Seconds for people: 12500 -> "12.5", 10000 -> "10". */
static void seconds_text(int64_t ms, char out[32])
{
	int64_t tenths = ((ms > 0 ? ms : 0) + 50) / 100;
	if (tenths % 10 == 0)
		snprintf(out, 32, "%" PRId64, tenths / 10);
	else
		snprintf(out, 32, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
}

size_t webhook_alert_body(const struct alert_event *ev, const struct names *names, char *out,
                          size_t size)
{
	static const char *const types[] = {"raised", "cleared", "waiting"};
	char text[2048], value[32], target[32], measure[128], *p = out, *end = out + size;
	const char *shop = names_get(names, ev->shop), *agent = names_get(names, ev->agent);

	seconds_text(ev->value_ms, value);
	seconds_text(ev->target_ms, target);
	if (ev->samples == 0) /* cleared as every sample left the window: no average */
		snprintf(measure, sizeof(measure), "无样本");
	else
		snprintf(measure, sizeof(measure), "%s s %s 目标 %s s", value,
		         ev->type == ALERT_RAISED ? ">" : "≤", target);
	if (ev->type == ALERT_WAITING)
		snprintf(text, sizeof(text),
		         "【chatlogd】%s / %s: 买家 %s 已等待 %s s > %s目标 %s s %s", shop, agent,
		         ev->buyer, value, ev->frt ? "首响" : "响应", target, types[ev->type]);
	else
		snprintf(text, sizeof(text),
		         "【chatlogd】%s / %s: %s %s (%" PRId64 " samples, %" PRId64 " s) %s", shop,
		         agent, ev->frt ? "平均首响" : "平均响应", measure, ev->samples,
		         ev->window_s, types[ev->type]);
	if (size < 64) {
		if (size > 0)
			out[0] = '\0';
		return 0;
	}
	alert_put(&p, end, "{\"msgtype\":\"text\",\"text\":{\"content\":\"");
	alert_json_escape(&p, end - 16, text);
	alert_put(&p, end, "\"},\"alert\":");
	p += alert_format(ev, names, p, (size_t)(end - p - 2));
	alert_put(&p, end, "}");
	return (size_t)(p - out);
}

int webhook_post_alert(struct webhook *wh, const struct alert_event *ev, const struct names *names)
{
	char body[BODY_BYTES];
	size_t len = webhook_alert_body(ev, names, body, sizeof(body));
	return webhook_post(wh, body, len);
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *wh = arg;
	(void)fd;
	(void)what;
	event_base_loopexit(wh->base, NULL);
}

void webhook_drain(struct webhook *wh, int64_t max_ms)
{
	struct timeval tv = timeval_ms(max_ms);
	struct event *deadline;

	if (wh == NULL || wh->count == 0)
		return;
	if ((deadline = evtimer_new(wh->base, on_drain_deadline, wh)) == NULL ||
	    evtimer_add(deadline, &tv) == -1) {
		if (deadline != NULL)
			event_free(deadline);
		return;
	}
	wh->draining = 1;
	if (wh->state == ATTEMPT_WAITING)
		event_active(wh->timer, EV_TIMEOUT, 1);
	event_base_dispatch(wh->base);
	wh->draining = 0;
	event_free(deadline);
}

void webhook_stats(const struct webhook *wh, struct webhook_stats *out)
{
	static const struct webhook_stats none;
	*out = wh != NULL ? wh->stats : none;
}
