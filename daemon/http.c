/*
 * http.c owns the HTTP surface: routing, methods, status codes and headers. What is
 * served comes from the handlers live.c passes in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "chatlogd/http.h"

struct http {
	struct evhttp *server;
	struct http_handlers handlers;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *type,
                  struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, body);
}

static int only_get(struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET ||
	    evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		return 1;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
	evhttp_send_error(req, 405, "Method Not Allowed");
	return 0;
}

static void on_metrics(struct evhttp_request *req, void *ctx)
{
	struct http *h = ctx;
	struct evbuffer *body = evbuffer_new();

	if (!only_get(req) || body == NULL) {
		if (body)
			evbuffer_free(body);
		return;
	}
	h->handlers.metrics(h->handlers.ctx, body);
	reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
	evbuffer_free(body);
}

static void on_health(struct evhttp_request *req, void *ctx)
{
	struct http *h = ctx;
	struct evbuffer *body = evbuffer_new();
	int healthy;

	if (!only_get(req) || body == NULL) {
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

struct http *http_start(struct event_base *base, const char *listen,
                        const struct http_handlers *handlers, char *err, size_t errlen)
{
	struct http *h = calloc(1, sizeof(*h));
	char host[256];
	const char *colon = strrchr(listen, ':');
	long port;

	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->handlers = *handlers;
	if (colon == NULL || (size_t)(colon - listen) >= sizeof(host) ||
	    (port = strtol(colon + 1, NULL, 10)) <= 0 || port > 65535) {
		snprintf(err, errlen, "http_listen: expected HOST:PORT, not \"%s\"", listen);
		free(h);
		return NULL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	/* [::1]:9187 */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if ((h->server = evhttp_new(base)) == NULL ||
	    evhttp_bind_socket(h->server, host, (ev_uint16_t)port) == -1) {
		snprintf(err, errlen, "http_listen: cannot listen on %s", listen);
		http_free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->server, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                                          EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_max_body_size(h->server, 0);
	evhttp_set_timeout(h->server, 10);
	evhttp_set_cb(h->server, "/metrics", on_metrics, h);
	evhttp_set_cb(h->server, "/healthz", on_health, h);
	evhttp_set_gencb(h->server, on_other, h);
	return h;
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->server)
		evhttp_free(h->server);
	free(h);
}
