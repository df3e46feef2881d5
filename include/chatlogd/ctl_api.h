/*
 * The dashboard's JSON API (chatlogctl serve, docs/dashboard.md): each answer read
 * from Redis through ctl_redis.c, with the rows, cells and lost reasons of
 * ctl_rows.c, so the page shows what `chatlogctl top` prints. One answer per call,
 * written whole into a stream; bounded by limits.h. No HTTP here: ctl_serve.c
 * routes, admits and sends.
 */
#ifndef CHATLOGD_CTL_API_H
#define CHATLOGD_CTL_API_H

#include <stdint.h>
#include <stdio.h>

struct ctl_redis;
struct evkeyvalq;
struct rules;

struct ctl_api {
	struct ctl_redis *redis;    /* connected (ctl_redis_ensure) by the caller */
	const struct rules *labels; /* lost-reason labels; NULL: reasons by name */
	const char *timezone;       /* of day keys, for the page's clock labels */
	int alerts_live;            /* the alert subscription holds (shown in /api/alerts) */
};

/* Answers GET path ("/api/overview", "/api/shop", "/api/trend", "/api/agent",
 * "/api/alerts") with the query's parameters as of now_ms (for "today" and the
 * minutes that exist yet): writes one JSON object into out and returns the HTTP
 * status: 200; 400 or 404 with {"error": "..."}; 503 when Redis failed (the reason
 * went to stderr); 0 when path is no API path (nothing written). */
int ctl_api_answer(const struct ctl_api *api, const char *path, const struct evkeyvalq *query,
                   int64_t now_ms, FILE *out);

#endif
