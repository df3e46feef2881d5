/*
 * ctl_serve.c owns chatlogctl serve's HTTP side: who is admitted (webaccess.c's
 * rules), the routes, the static files and the chart library, the headers every
 * answer carries, the live alert streams (Server-Sent Events fed by subscriber.c),
 * and the event loop's life. What the API answers is ctl_api.c's.
 *
 * Redis is read with chatlogctl's blocking connection (ctl_redis.c) from inside the
 * loop: an answer is a few pipelined round trips to a Redis that answers in
 * microseconds, and one connection keeps the numbers exactly those of
 * `chatlogctl top`. A Redis that stops answering costs at most CTL_SERVE_TIMEOUT_MS
 * once, then requests get 503 at once until the next attempt CTL_SERVE_RETRY_MS
 * later. The alert subscription is asynchronous on the same loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "chatlogd/clock.h"
#include "chatlogd/ctl_api.h"
#include "chatlogd/ctl_redis.h"
#include "chatlogd/ctl_serve.h"
#include "chatlogd/http.h"
#include "chatlogd/limits.h"
#include "chatlogd/secret.h"
#include "chatlogd/sse.h"
#include "chatlogd/subscriber.h"
#include "chatlogd/webaccess.h"
#include "chatlogd/util.h"

/* A dashboard answer is a few small reads; a Redis slower than this is down. */
#define CTL_SERVE_TIMEOUT_MS 2000
/* After Redis failed, requests are answered 503 without trying for this long,
 * doubling while it keeps failing: a Redis that hangs holds the loop for at most
 * CTL_SERVE_TIMEOUT_MS per attempt, and attempts grow rare. */
#define CTL_SERVE_RETRY_MS 1000
#define CTL_SERVE_RETRY_MAX_MS 30000
/* A comment on every stream this often: shows a dead reader to the writer and keeps
 * proxies from closing an idle stream. */
#define CTL_SERVE_PING_SECONDS 15
/* EventSource reconnects after this long when a stream ends. */
#define CTL_SERVE_RETRY_TEXT "retry: 3000\n\n"

/* The chart library, from its Debian package (libjs-d3): never a copy of our own. */
static const char *const d3_candidates[] = {
    "/usr/share/javascript/d3/d3.min.js",
    "/usr/share/nodejs/d3/dist/d3.min.js",
};

static const struct static_file {
	const char *path, *file, *type;
} static_files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/agent.html", "agent.html", "text/html; charset=utf-8"},
    {"/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"},
    {"/dashboard.css", "dashboard.css", "text/css; charset=utf-8"},
};

/* One browser's live alert stream. */
struct stream {
	TAILQ_ENTRY(stream) entry;
	struct serve *serve;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
};
TAILQ_HEAD(stream_list, stream);

struct serve {
	struct event_base *base;
	struct http *http;
	struct ctl_api api;
	struct subscriber *alerts;
	struct stream_list streams;
	unsigned stream_count;
	struct event *ping_timer, *sigint_event, *sigterm_event;
	int64_t next_connect_ms; /* no connection attempt before this (monotonic ms) */
	int64_t retry_ms;        /* the wait after the last failure; 0 while Redis answers */
	int connected_once;      /* for the log: say when Redis is back */
	char token[WEBACCESS_TOKEN_MAX + 1];
	size_t token_len; /* 0: no token; only loopback Host headers are admitted */
	char static_dir[PATH_MAX];
	const char *d3_path; /* NULL: the package is not installed */
};

/* ---- answers ---- */

/* Every answer: no caching of counters, no sniffing, no framing by other sites, no
 * referrer (a token in the URL stays here), and a policy that lets the page run
 * only its own script: a name that slipped through as markup could not run. */
static void common_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy",
	                  "default-src 'none'; script-src 'self'; style-src 'self'; "
	                  "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
	                  "form-action 'none'; frame-ancestors 'none'");
}

static const char *status_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 500:
		return "Internal Server Error";
	default:
		return "Service Unavailable";
	}
}

static void send_text(struct evhttp_request *req, int status, const char *type, const char *text)
{
	struct evbuffer *body = evbuffer_new();

	common_headers(req, type);
	if (body != NULL)
		evbuffer_add(body, text, strlen(text));
	evhttp_send_reply(req, status, status_reason(status), body);
	if (body != NULL)
		evbuffer_free(body);
}

static void send_error(struct evhttp_request *req, int status, const char *json)
{
	send_text(req, status, "application/json; charset=utf-8", json);
}

/* GET or HEAD, from an admitted Host, with the token when one is set (only where
 * needs_token: the static files hold no data). Answers the refusal itself. */
static int admit(struct serve *s, struct evhttp_request *req, int needs_token)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);

	if (!http_only_get(req))
		return 0;
	if (s->token_len == 0) {
		if (!webaccess_host_is_loopback(evhttp_find_header(in, "Host"))) {
			send_error(req, 403,
			           "{\"error\":\"this dashboard answers only on 127.0.0.1, "
			           "localhost and [::1]\"}");
			return 0;
		}
		return 1;
	}
	if (!needs_token)
		return 1;
	if (!webaccess_request_has_token(s->token, s->token_len,
	                                 evhttp_find_header(in, "Authorization"),
	                                 uri != NULL ? evhttp_uri_get_query(uri) : NULL)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		                  "Bearer realm=\"chatlogd\"");
		send_error(req, 401,
		           "{\"error\":\"a token is needed: ?token=TOKEN or Authorization: "
		           "Bearer TOKEN\"}");
		return 0;
	}
	return 1;
}

/* ---- static files ---- */

static void send_file(struct evhttp_request *req, const char *path, const char *type)
{
	struct evbuffer *body;
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		send_error(req, 404, "{\"error\":\"not installed\"}");
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || (body = evbuffer_new()) == NULL) {
		close(fd);
		send_error(req, 500, "{\"error\":\"cannot read the file\"}");
		return;
	}
	common_headers(req, type);
	/* evbuffer_add_file owns fd from here, on success and on failure alike */
	if (evbuffer_add_file(body, fd, 0, st.st_size) == -1) {
		evbuffer_free(body);
		send_error(req, 500, "{\"error\":\"cannot read the file\"}");
		return;
	}
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}

static void on_static(struct evhttp_request *req, void *ctx)
{
	struct serve *s = ctx;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	char file[PATH_MAX + 64];

	if (!admit(s, req, 0))
		return;
	for (size_t i = 0; path != NULL && i < sizeof(static_files) / sizeof(*static_files); i++)
		if (strcmp(path, static_files[i].path) == 0) {
			snprintf(file, sizeof(file), "%s/%s", s->static_dir, static_files[i].file);
			send_file(req, file, static_files[i].type);
			return;
		}
	send_error(req, 404, "{\"error\":\"not found\"}");
}

static void on_d3(struct evhttp_request *req, void *ctx)
{
	struct serve *s = ctx;

	if (!admit(s, req, 0))
		return;
	if (s->d3_path == NULL) {
		send_error(req, 404,
		           "{\"error\":\"the chart library is not installed (libjs-d3)\"}");
		return;
	}
	send_file(req, s->d3_path, "text/javascript; charset=utf-8");
}

/* ---- the API ---- */

static void redis_failed(struct serve *s)
{
	s->retry_ms = s->retry_ms == 0                            ? CTL_SERVE_RETRY_MS
	              : s->retry_ms >= CTL_SERVE_RETRY_MAX_MS / 2 ? CTL_SERVE_RETRY_MAX_MS
	                                                          : 2 * s->retry_ms;
	s->next_connect_ms = clock_monotonic_ms() + s->retry_ms;
}

/* Connected, or -1 (without trying while the wait after a failure runs). */
static int redis_ready(struct serve *s)
{
	int64_t now = clock_monotonic_ms();

	if (now < s->next_connect_ms)
		return -1;
	if (ctl_redis_ensure(s->api.redis, CTL_SERVE_TIMEOUT_MS) == -1) {
		redis_failed(s);
		return -1;
	}
	if (!s->connected_once)
		ctl_error("serve: connected to Redis");
	s->connected_once = 1;
	return 0;
}

static void on_api(struct evhttp_request *req, void *ctx)
{
	struct serve *s = ctx;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = evhttp_uri_get_query(uri);
	struct evkeyvalq params;
	struct evbuffer *body;
	char *json = NULL;
	size_t len = 0;
	FILE *out;
	int status;

	if (!admit(s, req, 1))
		return;
	TAILQ_INIT(&params);
	if (query != NULL && evhttp_parse_query_str(query, &params) == -1) {
		send_error(req, 400, "{\"error\":\"the query is not name=value&...\"}");
		return;
	}
	if (redis_ready(s) == -1) {
		evhttp_clear_headers(&params);
		send_error(req, 503,
		           "{\"error\":\"Redis is unreachable (see chatlogctl serve's log)\"}");
		return;
	}
	if ((out = open_memstream(&json, &len)) == NULL) {
		evhttp_clear_headers(&params);
		send_error(req, 500, "{\"error\":\"out of memory\"}");
		return;
	}
	status = ctl_api_answer(&s->api, evhttp_uri_get_path(uri), &params, clock_wall_ms(), out);
	evhttp_clear_headers(&params);
	if (status == 503) {
		redis_failed(s);
	} else if (status != 0 && s->retry_ms != 0) {
		ctl_error("serve: Redis answers again");
		s->retry_ms = 0;
	}
	if (fclose(out) != 0 || status == 0 || (body = evbuffer_new()) == NULL) {
		free(json);
		if (status == 0)
			send_error(req, 404, "{\"error\":\"not found\"}");
		else
			send_error(req, 500, "{\"error\":\"out of memory\"}");
		return;
	}
	common_headers(req, "application/json; charset=utf-8");
	evbuffer_add(body, json, len);
	free(json);
	evhttp_send_reply(req, status, status_reason(status), body);
	evbuffer_free(body);
}

static void on_health(struct evhttp_request *req, void *ctx)
{
	struct serve *s = ctx;
	int redis_up;
	char text[96];

	if (!admit(s, req, 0))
		return;
	redis_up = redis_ready(s) == 0 && s->retry_ms == 0;
	snprintf(text, sizeof(text), "{\"redis\":\"%s\",\"alerts\":\"%s\"}",
	         redis_up ? "up" : "down", s->api.alerts_live ? "live" : "down");
	send_text(req, redis_up ? 200 : 503, "application/json; charset=utf-8", text);
}

/* ---- live alert streams ---- */

/* The reader went away (or its connection timed out). evhttp has let go of the
 * request, which we are still answering: ending the reply frees it. */
static void stream_closed(struct evhttp_connection *conn, void *arg)
{
	struct stream *st = arg;
	struct serve *s = st->serve;

	(void)conn;
	TAILQ_REMOVE(&s->streams, st, entry);
	s->stream_count--;
	evhttp_send_reply_end(st->req);
	free(st);
}

/* Ends a stream we let go (shutdown, or a reader that does not read). */
static void stream_end(struct serve *s, struct stream *st)
{
	TAILQ_REMOVE(&s->streams, st, entry);
	s->stream_count--;
	evhttp_connection_set_closecb(st->conn, NULL, NULL);
	evhttp_send_reply_end(st->req);
	free(st);
}

static void stream_send(struct stream *st, const void *data, size_t len)
{
	struct evbuffer *chunk = evbuffer_new();

	if (chunk == NULL)
		return;
	evbuffer_add(chunk, data, len);
	evhttp_send_reply_chunk(st->req, chunk);
	evbuffer_free(chunk);
}

/* Sends event (drained) to every stream; a stream whose unsent output passed the
 * limit is ended instead. */
static void broadcast(struct serve *s, struct evbuffer *event)
{
	size_t len = evbuffer_get_length(event);
	const unsigned char *data = evbuffer_pullup(event, -1);
	struct stream *st, *next;

	for (st = TAILQ_FIRST(&s->streams); st != NULL; st = next) {
		struct bufferevent *bev = evhttp_connection_get_bufferevent(st->conn);
		next = TAILQ_NEXT(st, entry);
		if (evbuffer_get_length(bufferevent_get_output(bev)) > LIMIT_DASHBOARD_STREAM_BYTES)
			stream_end(s, st);
		else if (data != NULL)
			stream_send(st, data, len);
	}
	evbuffer_drain(event, len);
}

static void status_event(struct evbuffer *out, int live)
{
	const char *data = live ? "{\"live\":true}" : "{\"live\":false}";

	sse_event(out, "status", data, strlen(data));
}

static void on_events(struct evhttp_request *req, void *ctx)
{
	struct serve *s = ctx;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *first;
	struct stream *st;

	if (!admit(s, req, 1))
		return;
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		send_text(req, 200, "text/event-stream; charset=utf-8", "");
		return;
	}
	if (s->stream_count >= LIMIT_DASHBOARD_STREAMS) {
		send_error(req, 503, "{\"error\":\"too many live streams open\"}");
		return;
	}
	if ((first = evbuffer_new()) == NULL) {
		send_error(req, 500, "{\"error\":\"out of memory\"}");
		return;
	}
	st = xcalloc(1, sizeof(*st));
	common_headers(req, "text/event-stream; charset=utf-8");
	evhttp_add_header(h, "X-Accel-Buffering", "no"); /* nginx: pass events on at once */
	evhttp_send_reply_start(req, 200, "OK");
	st->serve = s;
	st->req = req;
	st->conn = evhttp_request_get_connection(req);
	/* Streams are quiet for long stretches: only the write side may time out. */
	evhttp_connection_set_timeout(st->conn, 3 * CTL_SERVE_PING_SECONDS);
	evhttp_connection_set_closecb(st->conn, stream_closed, st);
	TAILQ_INSERT_TAIL(&s->streams, st, entry);
	s->stream_count++;
	evbuffer_add(first, CTL_SERVE_RETRY_TEXT, strlen(CTL_SERVE_RETRY_TEXT));
	status_event(first, s->api.alerts_live);
	stream_send(st, evbuffer_pullup(first, -1), evbuffer_get_length(first));
	evbuffer_free(first);
}

static void on_alert(void *ctx, const char *message, size_t len)
{
	struct serve *s = ctx;
	struct evbuffer *event = evbuffer_new();

	if (event == NULL)
		return;
	sse_alert(event, message, len);
	broadcast(s, event);
	evbuffer_free(event);
}

static void on_alerts_state(void *ctx, int subscribed, const char *reason)
{
	struct serve *s = ctx;
	struct evbuffer *event;

	if (subscribed == s->api.alerts_live)
		return; /* failed attempts while down: said once */
	s->api.alerts_live = subscribed;
	if (subscribed)
		ctl_error("serve: live alerts on (subscribed)");
	else
		ctl_error("serve: live alerts off: %s; retrying", reason);
	if ((event = evbuffer_new()) == NULL)
		return;
	status_event(event, subscribed);
	broadcast(s, event);
	evbuffer_free(event);
}

static void on_ping(evutil_socket_t fd, short what, void *ctx)
{
	struct serve *s = ctx;
	struct evbuffer *event = evbuffer_new();

	(void)fd;
	(void)what;
	if (event == NULL)
		return;
	sse_comment(event, "ping");
	broadcast(s, event);
	evbuffer_free(event);
}

static void on_signal(evutil_socket_t fd, short what, void *ctx)
{
	struct serve *s = ctx;

	(void)fd;
	(void)what;
	event_base_loopexit(s->base, NULL);
}

/* ---- start and stop ---- */

static int file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, R_OK) == 0;
}

/* --static-dir, else the installed files, else the source tree's; the source tree
 * first when this program runs from its build directory (a developer's edits show). */
static int find_static_dir(struct serve *s, const char *given)
{
	const char *order[2] = {CHATLOGD_DATADIR "/dashboard", CHATLOGD_SOURCE_DASHBOARD};
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (given != NULL) {
		if (!file_exists(given, "index.html")) {
			ctl_error("--static-dir %s: no index.html there", given);
			return -1;
		}
		snprintf(s->static_dir, sizeof(s->static_dir), "%s", given);
		return 0;
	}
	if (n > 0) {
		exe[n] = '\0';
		if (strncmp(exe, CHATLOGD_BUILD_DIR "/", strlen(CHATLOGD_BUILD_DIR) + 1) == 0) {
			order[0] = CHATLOGD_SOURCE_DASHBOARD;
			order[1] = CHATLOGD_DATADIR "/dashboard";
		}
	}
	for (size_t i = 0; i < 2; i++)
		if (file_exists(order[i], "index.html")) {
			snprintf(s->static_dir, sizeof(s->static_dir), "%s", order[i]);
			return 0;
		}
	ctl_error("no dashboard files in %s or %s: give --static-dir DIR", order[0], order[1]);
	return -1;
}

static int load_token(struct serve *s, const struct ctl_serve_options *o)
{
	char err[512];
	int len;

	if (o->token_file == NULL) {
		if (!webaccess_listen_is_loopback(o->listen)) {
			ctl_error("--listen %s is not a loopback address: give --token-file FILE "
			          "(a random token of %d characters or more, e.g. from `openssl "
			          "rand -hex 24`)",
			          o->listen, WEBACCESS_TOKEN_MIN);
			return -1;
		}
		return 0;
	}
	len = secret_read_file(o->token_file, "token", "serve", s->token, sizeof(s->token), err,
	                       sizeof(err));
	if (len == -1) {
		ctl_error("%s", err);
		return -1;
	}
	if (len < WEBACCESS_TOKEN_MIN) {
		explicit_bzero(s->token, sizeof(s->token));
		ctl_error("%s: the token is shorter than %d characters", o->token_file,
		          WEBACCESS_TOKEN_MIN);
		return -1;
	}
	s->token_len = (size_t)len;
	return 0;
}

static int add_routes(struct serve *s)
{
	static const char *const api_paths[] = {"/api/overview", "/api/shop", "/api/trend",
	                                        "/api/agent", "/api/alerts"};
	struct evhttp *server = http_server(s->http);
	int rc = 0;

	for (size_t i = 0; i < sizeof(static_files) / sizeof(*static_files); i++)
		rc |= evhttp_set_cb(server, static_files[i].path, on_static, s);
	for (size_t i = 0; i < sizeof(api_paths) / sizeof(*api_paths); i++)
		rc |= evhttp_set_cb(server, api_paths[i], on_api, s);
	rc |= evhttp_set_cb(server, "/api/events", on_events, s);
	rc |= evhttp_set_cb(server, "/lib/d3.min.js", on_d3, s);
	rc |= evhttp_set_cb(server, "/healthz", on_health, s);
	return rc == 0 ? 0 : -1;
}

/* The URL to print: the listen address with the port actually bound. */
static void print_url(const struct serve *s, const struct ctl_serve_options *o)
{
	const char *colon = strrchr(o->listen, ':');

	printf("chatlogctl serve: http://%.*s:%d/%s\n", (int)(colon - o->listen), o->listen,
	       http_port(s->http),
	       s->token_len > 0 ? "?token=TOKEN (the token in --token-file)" : "");
	printf("dashboard files %s, charts %s; Ctrl-C stops\n", s->static_dir,
	       s->d3_path != NULL ? s->d3_path : "unavailable (install libjs-d3)");
	fflush(stdout);
}

static void serve_close(struct serve *s)
{
	struct stream *st;

	while ((st = TAILQ_FIRST(&s->streams)) != NULL)
		stream_end(s, st);
	subscriber_free(s->alerts);
	http_free(s->http);
	if (s->ping_timer != NULL)
		event_free(s->ping_timer);
	if (s->sigint_event != NULL)
		event_free(s->sigint_event);
	if (s->sigterm_event != NULL)
		event_free(s->sigterm_event);
	if (s->base != NULL)
		event_base_free(s->base);
	explicit_bzero(s->token, sizeof(s->token));
}

/* The masters of a Redis Cluster (none for one server), for the subscriber to move
 * to when its node goes: PUBLISH reaches every node. Addresses are borrowed from
 * redis until its next command; free the array. */
static struct subscriber_node *cluster_nodes(const struct ctl_redis *redis, size_t *count)
{
	struct subscriber_node *nodes;

	*count = ctl_redis_master_count(redis);
	nodes = xcalloc(*count + 1, sizeof(*nodes));
	for (size_t i = 0; i < *count; i++)
		ctl_redis_master(redis, i, &nodes[i].address, &nodes[i].port);
	return nodes;
}

int ctl_serve_run(struct ctl_redis *redis, const struct rules *labels,
                  const struct ctl_serve_options *o)
{
	struct serve s = {.api = {.redis = redis, .labels = labels, .timezone = o->timezone}};
	char channel[LIMIT_PREFIX_BYTES + 16], err[512];
	struct subscriber_settings sub = {
	    .url = o->redis_url,
	    .password_file = o->password_file,
	    .channel = channel,
	    .connect_timeout_ms = CTL_SERVE_TIMEOUT_MS,
	    .backoff_min_ms = 200,
	    .backoff_max_ms = 5000,
	};
	struct timeval ping = {CTL_SERVE_PING_SECONDS, 0};
	struct subscriber_node *others;
	int rc = 2;

	TAILQ_INIT(&s.streams);
	if (load_token(&s, o) == -1 || find_static_dir(&s, o->static_dir) == -1)
		goto done;
	for (size_t i = 0; i < sizeof(d3_candidates) / sizeof(*d3_candidates); i++)
		if (access(d3_candidates[i], R_OK) == 0) {
			s.d3_path = d3_candidates[i];
			break;
		}
	if (s.d3_path == NULL)
		ctl_error("warning: no chart library (install libjs-d3); charts are left out");
	snprintf(channel, sizeof(channel), "%s:alerts", o->prefix);
	if ((s.base = event_base_new()) == NULL) {
		ctl_error("cannot make the event loop");
		rc = 1;
		goto done;
	}
	if ((s.http = http_listen(s.base, o->listen, 1, err, sizeof(err))) == NULL) {
		ctl_error("--listen: %s", err);
		goto done;
	}
	rc = 1;
	s.ping_timer = event_new(s.base, -1, EV_PERSIST, on_ping, &s);
	s.sigint_event = evsignal_new(s.base, SIGINT, on_signal, &s);
	s.sigterm_event = evsignal_new(s.base, SIGTERM, on_signal, &s);
	if (add_routes(&s) == -1 || s.ping_timer == NULL || s.sigint_event == NULL ||
	    s.sigterm_event == NULL || event_add(s.ping_timer, &ping) == -1 ||
	    event_add(s.sigint_event, NULL) == -1 || event_add(s.sigterm_event, NULL) == -1) {
		ctl_error("cannot set up the server");
		goto done;
	}
	ctl_redis_keep_password(redis);
	if (redis_ready(&s) == -1)
		ctl_error("serve: Redis is not reachable yet; pages say so until it is");
	/* A cluster's masters, as the map of the first connection names them. */
	others = cluster_nodes(redis, &sub.other_node_count);
	sub.other_nodes = others;
	s.alerts = subscriber_new(s.base, &sub, on_alert, on_alerts_state, &s, err, sizeof(err));
	free(others);
	if (s.alerts == NULL) {
		ctl_error("%s", err);
		rc = 2;
		goto done;
	}
	print_url(&s, o);
	rc = event_base_dispatch(s.base) == -1 ? 1 : 0;
done:
	serve_close(&s);
	return rc;
}
