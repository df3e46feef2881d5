/*
 * http.c owns the HTTP surface: a listener with bounded connections, headers and idle
 * time (the daemon's /metrics and /healthz, and chatlogctl serve's dashboard), and the
 * daemon's routing, methods, status codes and headers. What is served comes from the
 * handlers live.c passes in, or from the routes the caller adds (http_server).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/listener.h>

#include "chatlogd/decimal.h"
#include "chatlogd/http.h"
#include "chatlogd/limits.h"
#include "chatlogd/log.h"
#include "chatlogd/metrics.h"
#include "chatlogd/util.h"

/*
 * A /metrics reply being sent in slices (the long comment above scrape_slice). The
 * states say who holds the request: evhttp while SENDING; us alone once the client
 * went away with the reply unfinished (ORPHANED: evhttp let go of it, and
 * evhttp_send_reply_end frees it); nobody once evhttp freed it with its connection
 * (DROPPED: the server is going down).
 */
enum scrape_state {
	SCRAPE_SENDING,
	SCRAPE_ORPHANED,
	SCRAPE_DROPPED,
};

struct scrape {
	struct http *http;
	struct evhttp_request *req;
	struct metrics_render *render;
	struct evbuffer *slice;
	struct event *resume; /* the next slice, or the clean-up, on a later loop turn */
	enum scrape_state state;
	LIST_ENTRY(scrape) entry;
};

struct http {
	struct event_base *base;
	struct evhttp *server;
	LIST_HEAD(, scrape) scrapes; /* /metrics replies under way */
	struct evconnlistener *listener;
	struct http_handlers handlers;
	struct bufferevent *open[LIMIT_HTTP_CONNECTIONS]; /* each with our reference */
	unsigned connections;                             /* entries of open */
	int refusing; /* the listener is off: at the connection cap */
	struct event *sweep_timer;
	struct log_ratelimit accept_log;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *type,
                  struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, body);
}

int http_only_get(struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET ||
	    evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		return 1;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
	evhttp_send_error(req, 405, "Method Not Allowed");
	return 0;
}

static void scrape_free(struct scrape *sc)
{
	if (sc->state == SCRAPE_ORPHANED)
		evhttp_send_reply_end(sc->req); /* without a connection: frees the request */
	LIST_REMOVE(sc, entry);
	metrics_render_free(sc->render);
	if (sc->slice)
		evbuffer_free(sc->slice);
	if (sc->resume)
		event_free(sc->resume);
	free(sc);
}

/* The reply's connection is going: because the client left or timed out (evhttp has
 * let go of the unfinished request), or because the server is freed (evhttp frees the
 * request right after this). Only marks the scrape; it is freed on the next turn,
 * outside evhttp's callback, or by http_free. */
static void scrape_gone(struct evhttp_connection *evcon, void *ctx)
{
	struct scrape *sc = ctx;
	(void)evcon;

	sc->state =
	    evhttp_request_get_connection(sc->req) == NULL ? SCRAPE_ORPHANED : SCRAPE_DROPPED;
	event_active(sc->resume, EV_TIMEOUT, 1);
}

/* The client has taken the last slice: render the next one on the next turn. */
static void scrape_drained(struct evhttp_connection *evcon, void *ctx)
{
	struct scrape *sc = ctx;
	(void)evcon;

	event_active(sc->resume, EV_TIMEOUT, 1);
}

/*
 * A scrape at 10,000 shops is 10 MB, and far more with metrics_per_agent: rendered in
 * one go it held the loop 67 ms and more, with ingest and publishing waiting. So each
 * loop turn renders one slice of LIMIT_METRICS_SLICE_BYTES and hands it to evhttp as
 * a chunk (Transfer-Encoding: chunked; HTTP/1.0 clients get the body up to the close);
 * the next slice waits until evhttp has written that one out (scrape_drained), so a
 * slow client holds one slice in memory, not the whole body. If the client goes
 * away, evhttp calls scrape_gone from its connection's close callback; the scrape
 * is freed on the next turn. The closing callback is cleared before the reply ends,
 * as the connection may then serve further requests that are not ours.
 */
static void scrape_slice(struct scrape *sc)
{
	int more = metrics_render_next(sc->render, sc->slice, LIMIT_METRICS_SLICE_BYTES);

	if (evbuffer_get_length(sc->slice) > 0)
		evhttp_send_reply_chunk_with_cb(sc->req, sc->slice, more ? scrape_drained : NULL,
		                                sc);
	if (more)
		return;
	evhttp_connection_set_closecb(evhttp_request_get_connection(sc->req), NULL, NULL);
	evhttp_send_reply_end(sc->req);
	sc->state = SCRAPE_DROPPED; /* evhttp's again */
	scrape_free(sc);
}

static void scrape_resume(evutil_socket_t fd, short what, void *ctx)
{
	struct scrape *sc = ctx;
	(void)fd;
	(void)what;

	if (sc->state == SCRAPE_SENDING)
		scrape_slice(sc);
	else
		scrape_free(sc);
}

static void on_metrics(struct evhttp_request *req, void *ctx)
{
	struct http *h = ctx;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct scrape *sc;

	if (!http_only_get(req))
		return;
	/* Raw: one scrape answers 503 when memory is short; the daemon goes on. */
	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		evhttp_send_error(req, 503, "Service Unavailable");
		return;
	}
	sc->http = h;
	sc->req = req;
	sc->state = SCRAPE_DROPPED; /* until the reply starts: scrape_free leaves req alone */
	LIST_INSERT_HEAD(&h->scrapes, sc, entry);
	if ((sc->render = h->handlers.metrics(h->handlers.ctx)) == NULL ||
	    (sc->slice = evbuffer_new()) == NULL ||
	    (sc->resume = event_new(h->base, -1, 0, scrape_resume, sc)) == NULL) {
		scrape_free(sc);
		evhttp_send_error(req, 503, "Service Unavailable");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	/* Chunked needs HTTP/1.1. Before it, evhttp would answer a keep-alive request
	 * with "Content-Length: 0" and then send the body anyway: end it by the close. */
	if (req->major < 1 || (req->major == 1 && req->minor < 1))
		evhttp_remove_header(evhttp_request_get_input_headers(req), "Connection");
	evhttp_send_reply_start(req, 200, "OK");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* no body, and evhttp calls no callback for one: nothing to render */
		evhttp_send_reply_end(req);
		scrape_free(sc);
		return;
	}
	sc->state = SCRAPE_SENDING;
	evhttp_connection_set_closecb(evcon, scrape_gone, sc);
	scrape_slice(sc);
}

static void on_health(struct evhttp_request *req, void *ctx)
{
	struct http *h = ctx;
	struct evbuffer *body = evbuffer_new();
	int healthy;

	if (!http_only_get(req) || body == NULL) {
		if (body)
			evbuffer_free(body);
		return;
	}
	healthy = h->handlers.health(h->handlers.ctx, body);
	reply(req, healthy ? 200 : 503, healthy ? "OK" : "Service Unavailable", "application/json",
	      body);
	evbuffer_free(body);
}

static void on_other(struct evhttp_request *req, void *ctx)
{
	(void)ctx;
	evhttp_send_error(req, 404, "Not Found");
}

/*
 * Connections are counted so that a crowd of clients (slow ones, or a flood) can
 * never take the file descriptors the inputs and Redis need, nor spin the loop on
 * accept() failing with EMFILE. libevent 2.1's evhttp has no connection limit and no
 * hook when it lets a connection go, so we hold a reference on each connection's
 * bufferevent: evhttp's bufferevent_free() then clears its callbacks but cannot
 * destroy it, and a sweep every second drops our reference on the ones with no
 * callbacks left (which closes their socket) and counts them out. At the cap the
 * listener stops accepting (clients wait in the kernel's backlog) until one is let
 * go; evhttp's own timeout lets idle ones go, its limits bound headers and bodies.
 */
static void count_out(struct http *h, unsigned i)
{
	bufferevent_decref(h->open[i]);
	h->open[i] = h->open[--h->connections];
	if (h->refusing && h->connections < LIMIT_HTTP_CONNECTIONS) {
		h->refusing = 0;
		evconnlistener_enable(h->listener);
	}
}

static void sweep(evutil_socket_t fd, short what, void *ctx)
{
	struct http *h = ctx;
	(void)fd;
	(void)what;

	for (unsigned i = 0; i < h->connections;) {
		bufferevent_data_cb readcb = NULL, writecb = NULL;
		bufferevent_event_cb eventcb = NULL;
		bufferevent_getcb(h->open[i], &readcb, &writecb, &eventcb, NULL);
		if (readcb == NULL && writecb == NULL && eventcb == NULL)
			count_out(h, i); /* evhttp let it go */
		else
			i++;
	}
}

static struct bufferevent *connection_new(struct event_base *base, void *ctx)
{
	struct http *h = ctx;
	struct bufferevent *bev;

	sweep(-1, 0, h);
	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return NULL; /* evhttp makes its own; it goes uncounted */
	/* evhttp checks the header limit only on complete lines: without a high-water
	 * mark one endless header line is buffered whole. With it, reading stops there
	 * and the idle timeout lets the connection go. */
	bufferevent_setwatermark(bev, EV_READ, 0, 2 * LIMIT_HTTP_HEADER_BYTES);
	if (h->connections == LIMIT_HTTP_CONNECTIONS)
		return bev; /* accepted in the same turn as the one that hit the cap */
	bufferevent_incref(bev);
	h->open[h->connections++] = bev;
	if (h->connections >= LIMIT_HTTP_CONNECTIONS && !h->refusing) {
		h->refusing = 1;
		evconnlistener_disable(h->listener);
	}
	return bev;
}

static void resume_accepting(evutil_socket_t fd, short what, void *ctx)
{
	struct http *h = ctx;
	(void)fd;
	(void)what;

	if (!h->refusing)
		evconnlistener_enable(h->listener);
}

/* accept() failed (EMFILE, ENFILE, ENOMEM ...): pause a second instead of spinning,
 * and say so at most once a second. */
static void accept_failed(struct evconnlistener *listener, void *ctx)
{
	struct http *h = ctx;
	(void)listener;

	if (log_ratelimit_allow(&h->accept_log, "http accept errors"))
		log_warn("http: cannot accept a connection; pausing the listener for 1 s");
	if (!h->refusing) {
		struct timeval second = {1, 0};
		evconnlistener_disable(h->listener);
		event_base_once(evconnlistener_get_base(h->listener), -1, EV_TIMEOUT,
		                resume_accepting, h, &second);
	}
}

int http_parse_listen(const char *listen, char *host, size_t host_size, int *port)
{
	const char *colon = strrchr(listen, ':');
	size_t host_len;
	uint64_t value;

	if (colon == NULL || colon == listen ||
	    decimal_parse(colon + 1, strlen(colon + 1), 65535, &value) == -1)
		return -1;
	host_len = (size_t)(colon - listen);
	if (listen[0] == '[' && colon[-1] == ']') { /* [::1]:9187 */
		listen++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= host_size)
		return -1;
	memcpy(host, listen, host_len);
	host[host_len] = '\0';
	*port = (int)value;
	return 0;
}

struct http *http_listen(struct event_base *base, const char *listen, int any_port, char *err,
                         size_t errlen)
{
	struct http *h = xcalloc(1, sizeof(*h));
	char host[256];
	struct evhttp_bound_socket *bound;
	int port;

	h->base = base;
	LIST_INIT(&h->scrapes);
	h->accept_log.per_second = 1;
	if (http_parse_listen(listen, host, sizeof(host), &port) == -1 ||
	    (port == 0 && !any_port)) {
		snprintf(err, errlen, "expected HOST:PORT, not \"%s\"", listen);
		free(h);
		return NULL;
	}
	if ((h->server = evhttp_new(base)) == NULL ||
	    (bound = evhttp_bind_socket_with_handle(h->server, host, (ev_uint16_t)port)) == NULL) {
		snprintf(err, errlen, "cannot listen on %s", listen);
		http_free(h);
		return NULL;
	}
	h->listener = evhttp_bound_socket_get_listener(bound);
	if ((h->sweep_timer = event_new(base, -1, EV_PERSIST, sweep, h)) == NULL ||
	    event_add(h->sweep_timer, &(struct timeval){1, 0}) == -1) {
		snprintf(err, errlen, "out of memory");
		http_free(h);
		return NULL;
	}
	evconnlistener_set_error_cb(h->listener, accept_failed);
	evhttp_set_bevcb(h->server, connection_new, h);
	evhttp_set_allowed_methods(h->server, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                                          EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_max_headers_size(h->server, LIMIT_HTTP_HEADER_BYTES);
	evhttp_set_max_body_size(h->server, 0);
	evhttp_set_timeout(h->server, LIMIT_HTTP_IDLE_SECONDS);
	evhttp_set_gencb(h->server, on_other, h);
	return h;
}

struct evhttp *http_server(struct http *h)
{
	return h->server;
}

int http_port(const struct http *h)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	evutil_socket_t fd = evconnlistener_get_fd(h->listener);

	if (getsockname(fd, (struct sockaddr *)&addr, &len) == -1)
		return -1;
	if (addr.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&addr)->sin_port);
	if (addr.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	return -1;
}

struct http *http_start(struct event_base *base, const char *listen,
                        const struct http_handlers *handlers, char *err, size_t errlen)
{
	char reason[256];
	struct http *h = http_listen(base, listen, 0, reason, sizeof(reason));

	if (h == NULL) {
		snprintf(err, errlen, "http_listen: %s", reason);
		return NULL;
	}
	h->handlers = *handlers;
	evhttp_set_cb(h->server, "/metrics", on_metrics, h);
	evhttp_set_cb(h->server, "/healthz", on_health, h);
	return h;
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->sweep_timer)
		event_free(h->sweep_timer);
	/* replies under way: evhttp frees their requests with their connections */
	for (struct scrape *sc = LIST_FIRST(&h->scrapes); sc != NULL; sc = LIST_NEXT(sc, entry))
		if (sc->state == SCRAPE_SENDING) {
			evhttp_connection_set_closecb(evhttp_request_get_connection(sc->req), NULL,
			                              NULL);
			sc->state = SCRAPE_DROPPED;
		}
	if (h->server)
		evhttp_free(h->server); /* frees its connections: only our references remain */
	while (!LIST_EMPTY(&h->scrapes))
		scrape_free(LIST_FIRST(&h->scrapes));
	for (unsigned i = 0; i < h->connections; i++)
		bufferevent_decref(h->open[i]);
	free(h);
}
