/*
 * Tests for http.c's /metrics in slices, over a real socket: the body a client gets
 * (chunked over HTTP/1.1, up to the close over HTTP/1.0) is metrics_render's text;
 * the loop keeps turning while a large scrape is sent; a client that goes away in the
 * middle, or the server freed in the middle, leaves nothing behind (run under
 * valgrind or CHATLOGD_SANITIZE for the use-after-free half of the claim).
 * The client runs in a thread with blocking sockets; the server in the main thread.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "chatlogd/counters.h"
#include "chatlogd/http.h"
#include "chatlogd/limits.h"
#include "chatlogd/metrics.h"
#include "chatlogd/names.h"
#include "check.h"

/* What the client thread does. */
enum client_plan {
	CLIENT_READ_ALL, /* GET over HTTP/1.1, read to the close */
	CLIENT_READ_ALL_HTTP10,
	CLIENT_READ_ALL_HTTP10_KEEP_ALIVE, /* the body must still end with the close */
	CLIENT_HEAD,
	CLIENT_LEAVE_EARLY,  /* read 64 KiB, then reset the connection */
	CLIENT_SERVER_FREED, /* read 64 KiB, wait for the server to go, then close */
};

struct server {
	struct event_base *base;
	struct http *http;
	struct names *names;
	struct reasons reasons;
	struct counter_table *agents, *shops;
	struct metrics_snapshot m;
	struct event *tick;
	int port;
	enum client_plan plan;
	pthread_t client;
	atomic_int client_done;
	atomic_int client_waiting; /* CLIENT_SERVER_FREED: read its part, waits */
	atomic_int server_freed;
	char *response; /* all the client read */
	size_t response_len;
	int64_t last_tick_us, longest_gap_us;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct metrics_render *render(void *ctx)
{
	struct server *s = ctx;

	return metrics_render_new(&s->m);
}

static int health(void *ctx, struct evbuffer *out)
{
	(void)ctx;
	evbuffer_add_printf(out, "{}\n");
	return 1;
}

static int free_port(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
		port = ntohs(addr.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void *client_run(void *ctx)
{
	struct server *s = ctx;
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_port = htons((uint16_t)s->port),
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	const char *request = s->plan == CLIENT_HEAD
	                          ? "HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
	                      : s->plan == CLIENT_READ_ALL_HTTP10 ? "GET /metrics HTTP/1.0\r\n\r\n"
	                      : s->plan == CLIENT_READ_ALL_HTTP10_KEEP_ALIVE
	                          ? "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
	                          : "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	size_t limit =
	    s->plan == CLIENT_LEAVE_EARLY || s->plan == CLIENT_SERVER_FREED ? 65536 : SIZE_MAX;
	size_t cap = 1 << 20;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval give_up = {10, 0}; /* a reply that never ends fails, not hangs */
	ssize_t got;

	s->response = malloc(cap);
	s->response_len = 0;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &give_up, sizeof(give_up)) != 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    write(fd, request, strlen(request)) != (ssize_t)strlen(request))
		goto done;
	while (s->response_len < limit &&
	       (got = read(fd, s->response + s->response_len, cap - s->response_len - 1)) > 0) {
		s->response_len += (size_t)got;
		if (cap - s->response_len < 65536)
			s->response = realloc(s->response, cap *= 2);
	}
	if (s->plan == CLIENT_LEAVE_EARLY) {
		struct linger reset = {.l_onoff = 1, .l_linger = 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	}
	if (s->plan == CLIENT_SERVER_FREED) {
		atomic_store(&s->client_waiting, 1);
		while (!atomic_load(&s->server_freed))
			usleep(1000);
	}
done:
	s->response[s->response_len] = '\0';
	if (fd >= 0)
		close(fd);
	atomic_store(&s->client_done, 1);
	return NULL;
}

/* Every millisecond: notes the longest gap between turns, frees the server when the
 * plan says so, and stops the loop once the client is done. */
static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct server *s = ctx;
	int64_t now = now_us();
	(void)fd;
	(void)what;

	if (s->last_tick_us != 0 && now - s->last_tick_us > s->longest_gap_us)
		s->longest_gap_us = now - s->last_tick_us;
	s->last_tick_us = now;
	if (atomic_load(&s->client_waiting) && s->http != NULL) {
		http_free(s->http);
		s->http = NULL;
		atomic_store(&s->server_freed, 1);
	}
	if (atomic_load(&s->client_done))
		event_base_loopbreak(s->base);
}

/* shops with one agent each; per_agent: with the per-agent series */
static void server_start(struct server *s, unsigned shops, int per_agent)
{
	char listen[64], err[256];
	struct http_handlers handlers = {.metrics = render, .health = health, .ctx = s};

	memset(s, 0, sizeof(*s));
	s->base = event_base_new();
	s->names = names_new();
	reasons_init(&s->reasons);
	s->agents = counter_table_new(0);
	s->shops = counter_table_new(0);
	for (unsigned i = 0; i < shops; i++) {
		char shop[32];
		snprintf(shop, sizeof(shop), "shop%05u", i);
		for (int a = 0; a < 1; a++) {
			char agent[16];
			struct counter_row *row;
			snprintf(agent, sizeof(agent), "agent%d", a);
			row =
			    counter_table_row(s->agents, names_intern(s->names, shop, strlen(shop)),
			                      names_intern(s->names, agent, strlen(agent)), 0);
			row->value[COUNTER_INQUIRIES] = i;
			row->value[COUNTER_RESPONSES] = a + 1;
			row->value[COUNTER_RESPONSE_MS_SUM] = 2500 * (a + 1);
		}
	}
	metrics_fold(s->shops, NULL, s->agents);
	s->m.shop_totals = s->shops;
	s->m.agent_totals = per_agent ? s->agents : NULL;
	s->m.names = s->names;
	s->m.reasons = &s->reasons;
	s->port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
	s->http = http_start(s->base, listen, &handlers, err, sizeof(err));
	CHECK(s->http != NULL);
	s->tick = event_new(s->base, -1, EV_PERSIST, on_tick, s);
	event_add(s->tick, &(struct timeval){0, 1000});
}

/* Runs the loop while the client thread carries out plan. */
static void serve(struct server *s, enum client_plan plan)
{
	s->plan = plan;
	atomic_store(&s->client_done, 0);
	s->longest_gap_us = 0;
	s->last_tick_us = 0;
	free(s->response);
	s->response = NULL;
	pthread_create(&s->client, NULL, client_run, s);
	event_base_dispatch(s->base);
	pthread_join(s->client, NULL);
	/* a few more turns: whatever the client's leaving left is cleaned up */
	for (int i = 0; i < 20; i++)
		event_base_loop(s->base, EVLOOP_ONCE);
}

static void server_stop(struct server *s)
{
	http_free(s->http);
	event_free(s->tick);
	event_base_free(s->base);
	counter_table_free(s->shops);
	counter_table_free(s->agents);
	reasons_free(&s->reasons);
	names_free(s->names);
	free(s->response);
}

/* The body of a response: chunks joined, or all after the headers. */
static char *body_of(const char *response, int chunked)
{
	const char *p = strstr(response, "\r\n\r\n");
	char *body = calloc(1, strlen(response) + 1);
	size_t len = 0;

	if (p == NULL)
		return body;
	p += 4;
	if (!chunked)
		return strcpy(body, p);
	for (;;) {
		char *end;
		unsigned long size = strtoul(p, &end, 16);
		if (size == 0 || strncmp(end, "\r\n", 2) != 0)
			break;
		memcpy(body + len, end + 2, size);
		len += size;
		p = end + 2 + size + 2;
	}
	return body;
}

/* The text without the heap gauge, which moves between renders. */
static void without_heap(char *text)
{
	char *heap = strstr(text, "\nchatlogd_heap_in_use_bytes ");

	if (heap != NULL)
		memmove(heap + 1, strchr(heap + 1, '\n') + 1, strlen(strchr(heap + 1, '\n')));
}

static char *expected_text(struct server *s)
{
	struct evbuffer *out = evbuffer_new();
	size_t len;
	char *text;

	metrics_render(&s->m, out);
	len = evbuffer_get_length(out);
	text = calloc(1, len + 1);
	evbuffer_remove(out, text, len);
	evbuffer_free(out);
	without_heap(text);
	return text;
}

/* 1 when the response's body, the heap gauge aside, is want. */
static int body_is(const char *response, int chunked, const char *want)
{
	char *body = body_of(response, chunked);
	int same;

	without_heap(body);
	same = strcmp(body, want) == 0;
	free(body);
	return same;
}

static void test_scrape_in_slices_gives_the_whole_text(void)
{
	struct server s;
	char *want;

	server_start(&s, 3000, 1);
	want = expected_text(&s);
	CHECK(strlen(want) > 4 * LIMIT_METRICS_SLICE_BYTES);
	serve(&s, CLIENT_READ_ALL);
	CHECK(strncmp(s.response, "HTTP/1.1 200", 12) == 0);
	CHECK(strstr(s.response, "Transfer-Encoding: chunked") != NULL);
	CHECK(strstr(s.response, "Content-Type: text/plain; version=0.0.4") != NULL);
	CHECK(body_is(s.response, 1, want));
	serve(&s, CLIENT_READ_ALL_HTTP10);
	CHECK(strncmp(s.response, "HTTP/1.0 200", 12) == 0 ||
	      strncmp(s.response, "HTTP/1.1 200", 12) == 0);
	CHECK(body_is(s.response, 0, want));
	serve(&s, CLIENT_READ_ALL_HTTP10_KEEP_ALIVE);
	CHECK(strstr(s.response, "Content-Length: 0") == NULL);
	CHECK(body_is(s.response, 0, want));
	free(want);
	server_stop(&s);
}

static void test_loop_turns_while_a_large_scrape_is_sent(void)
{
	struct server s;
	int64_t start;
	double whole_ms, gap_ms;

	server_start(&s, 30000, 0);
	start = now_us();
	free(expected_text(&s));
	whole_ms = (double)(now_us() - start) / 1000;
	serve(&s, CLIENT_READ_ALL);
	gap_ms = (double)s.longest_gap_us / 1000;
	CHECK(s.response_len > 20 * 1000 * 1000);
	/* the loop turned every millisecond or so, where one go would have held it for the
	 * whole render (a slice is a fraction of it: under valgrind too) */
	fprintf(stderr, "render in one go %.1f ms, longest gap between turns %.1f ms\n", whole_ms,
	        gap_ms);
	CHECK(gap_ms < whole_ms / 4);
	server_stop(&s);
}

static void test_head_has_no_body(void)
{
	struct server s;

	server_start(&s, 10, 1);
	serve(&s, CLIENT_HEAD);
	CHECK(strncmp(s.response, "HTTP/1.1 200", 12) == 0);
	CHECK(strstr(s.response, "# HELP") == NULL);
	server_stop(&s);
}

static void test_client_leaving_mid_scrape_frees_the_reply(void)
{
	struct server s;
	char *want;

	server_start(&s, 3000, 1);
	serve(&s, CLIENT_LEAVE_EARLY);
	CHECK(s.response_len >= 65536);
	/* the server carries on: the next scrape is whole */
	want = expected_text(&s);
	serve(&s, CLIENT_READ_ALL);
	CHECK(body_is(s.response, 1, want));
	free(want);
	server_stop(&s);
}

static void test_server_freed_mid_scrape(void)
{
	struct server s;

	server_start(&s, 3000, 1);
	serve(&s, CLIENT_SERVER_FREED);
	CHECK(s.http == NULL);
	CHECK(s.response_len >= 65536);
	server_stop(&s);
}

int main(void)
{
	RUN(test_scrape_in_slices_gives_the_whole_text);
	RUN(test_loop_turns_while_a_large_scrape_is_sent);
	RUN(test_head_has_no_body);
	RUN(test_client_leaving_mid_scrape_frees_the_reply);
	RUN(test_server_freed_mid_scrape);
	return check_done();
}
