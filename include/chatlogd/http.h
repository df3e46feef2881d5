/*
 * The HTTP endpoint on libevent's evhttp: GET /metrics and GET /healthz, bound to
 * http_listen (127.0.0.1 by default). Serves what its callbacks write; holds no state.
 */
#ifndef CHATLOGD_HTTP_H
#define CHATLOGD_HTTP_H

#include <stddef.h>

struct event_base;
struct evbuffer;
struct http;

struct http_handlers {
	void (*metrics)(void *ctx, struct evbuffer *out);
	/* Writes a one-line JSON status; returns 1 when healthy (200), 0 otherwise (503). */
	int (*health)(void *ctx, struct evbuffer *out);
	void *ctx;
};

/* Listens on "HOST:PORT". NULL with a reason in err. */
struct http *http_start(struct event_base *base, const char *listen,
                        const struct http_handlers *handlers, char *err, size_t errlen);
void http_free(struct http *h);

#endif
