/*
 * The HTTP endpoint on libevent's evhttp, with the connection, header and idle limits
 * of limits.h: the daemon's GET /metrics and GET /healthz, bound to http_listen
 * (127.0.0.1 by default), and the same listener for other programs' routes
 * (chatlogctl serve). Serves what its callbacks write; holds no state but the
 * /metrics replies being sent.
 */
#ifndef CHATLOGD_HTTP_H
#define CHATLOGD_HTTP_H

#include <stddef.h>

struct event_base;
struct evbuffer;
struct evhttp;
struct evhttp_request;
struct http;
struct metrics_render;

struct http_handlers {
	/* A render of /metrics (metrics.h), sent in slices and freed by http.c; NULL
	 * answers 503. */
	struct metrics_render *(*metrics)(void *ctx);
	/* Writes a one-line JSON status; returns 1 when healthy (200), 0 otherwise (503). */
	int (*health)(void *ctx, struct evbuffer *out);
	void *ctx;
};

/* Splits "HOST:PORT" ("[::1]:PORT" for IPv6) into host, without brackets, and a port of
 * 0-65535. Returns 0, or -1 when it is not one or the host is empty or does not fit.
 * The http_listen setting is checked with it, so start-up accepts what can be bound. */
int http_parse_listen(const char *listen, char *host, size_t host_size, int *port);

/* Listens on "HOST:PORT" ("[::1]:PORT" for IPv6; port 0 picks a free one when any_port)
 * with the limits and no routes but a 404 for every path. NULL with a reason in err. */
struct http *http_listen(struct event_base *base, const char *listen, int any_port, char *err,
                         size_t errlen);

/* The evhttp behind h, to add routes to (evhttp_set_cb). */
struct evhttp *http_server(struct http *h);

/* The port listened on (the one picked for port 0), or -1. */
int http_port(const struct http *h);

/* 1 for GET and HEAD; otherwise answers 405 with an Allow header and returns 0. */
int http_only_get(struct evhttp_request *req);

/* The daemon's endpoint: http_listen plus /metrics and /healthz. NULL with a reason
 * in err. */
struct http *http_start(struct event_base *base, const char *listen,
                        const struct http_handlers *handlers, char *err, size_t errlen);
void http_free(struct http *h);

#endif
