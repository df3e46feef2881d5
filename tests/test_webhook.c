/*
 * Tests for webhook.c against real HTTP and HTTPS receivers: evhttp servers on
 * 127.0.0.1 in the same event loop, answering from a script of statuses. The robot
 * message byte for byte (Chinese names, quotes, backslashes); retries after 5xx, 429
 * and robot rate limits; 4xx and robot errors dropped; a receiver down then up; a
 * silent receiver timing out; queue overflow; draining at shutdown; the token never
 * logged; TLS refused without the right CA or host name, accepted with it.
 * Waits are bounded and generous; nothing asserts on timing beyond them.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "chatlogd/names.h"
#include "chatlogd/scoreboard.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/webhook.h"
#include "check.h"

#define T0 1795485600000LL /* 2026-11-24T10:00:00+08:00 */
#define WAIT_MS 10000
#define MAX_REQUESTS 32

static char tmp_dir[64];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a receiver: an evhttp server answering from a script --------------------------------- */

struct receiver {
	struct evhttp *http;
	int port;
	int statuses[8];        /* answers to the first requests; then 200 */
	const char *answers[8]; /* their bodies; NULL: {"errcode":0,"errmsg":"ok"} */
	size_t requests;        /* seen */
	char *bodies[MAX_REQUESTS];
	size_t lengths[MAX_REQUESTS];
	int answered[MAX_REQUESTS]; /* the status each got */
	char *uris[MAX_REQUESTS];
	int64_t at_ms[MAX_REQUESTS]; /* when each came (monotonic) */
	char uri[256], content_type[128], host[128];
};

static void on_request(struct evhttp_request *req, void *arg)
{
	struct receiver *r = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer *out = evbuffer_new();
	size_t k = r->requests++;
	int status = k < 8 && r->statuses[k] ? r->statuses[k] : 200;
	const char *answer =
	    k < 8 && r->answers[k] ? r->answers[k] : "{\"errcode\":0,\"errmsg\":\"ok\"}";
	const char *type =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");

	if (k < MAX_REQUESTS) {
		r->lengths[k] = evbuffer_get_length(in);
		r->bodies[k] = calloc(1, r->lengths[k] + 1);
		evbuffer_copyout(in, r->bodies[k], r->lengths[k]);
		r->answered[k] = status;
		r->uris[k] = strdup(evhttp_request_get_uri(req));
		r->at_ms[k] = now_ms();
	}
	snprintf(r->uri, sizeof(r->uri), "%s", evhttp_request_get_uri(req));
	snprintf(r->content_type, sizeof(r->content_type), "%s", type ? type : "");
	snprintf(r->host, sizeof(r->host), "%s", host ? host : "");
	evbuffer_add(out, answer, strlen(answer));
	evhttp_send_reply(req, status, "Scripted", out);
	evbuffer_free(out);
}

static struct bufferevent *tls_server_bufferevent(struct event_base *base, void *arg)
{
	return bufferevent_openssl_socket_new(base, -1, SSL_new(arg), BUFFEREVENT_SSL_ACCEPTING,
	                                      BEV_OPT_CLOSE_ON_FREE);
}

/* Listens on 127.0.0.1:port (0: any free port); with tls, serves HTTPS. */
static int receiver_start(struct receiver *r, struct event_base *base, int port, SSL_CTX *tls)
{
	struct evhttp_bound_socket *bound;
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);

	if ((r->http = evhttp_new(base)) == NULL ||
	    (bound = evhttp_bind_socket_with_handle(r->http, "127.0.0.1", (ev_uint16_t)port)) ==
	        NULL ||
	    getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&addr, &len) == -1) {
		if (r->http)
			evhttp_free(r->http);
		r->http = NULL;
		return -1;
	}
	r->port = ntohs(addr.sin_port);
	if (tls != NULL)
		evhttp_set_bevcb(r->http, tls_server_bufferevent, tls);
	evhttp_set_gencb(r->http, on_request, r);
	return 0;
}

static void receiver_stop(struct receiver *r)
{
	if (r->http)
		evhttp_free(r->http);
	r->http = NULL;
}

static void receiver_free(struct receiver *r)
{
	receiver_stop(r);
	for (size_t i = 0; i < r->requests && i < MAX_REQUESTS; i++) {
		free(r->bodies[i]);
		free(r->uris[i]);
	}
}

/* A port nothing listens on (it was free a moment ago). */
static int closed_port(struct event_base *base)
{
	struct receiver r = {0};
	int port = receiver_start(&r, base, 0, NULL) == 0 ? r.port : -1;
	receiver_free(&r);
	return port;
}

/* ---- running the loop until something is true ----------------------------------------- */

struct until {
	struct event_base *base;
	struct webhook *wh;
	size_t queued_at_most;
	uint64_t failed_at_least;
	uint64_t delivered_at_least;
	int64_t deadline;
};

static int until_done(const struct until *u)
{
	struct webhook_stats s;
	webhook_stats(u->wh, &s);
	return s.queued <= u->queued_at_most && s.failed_attempts >= u->failed_at_least &&
	       s.delivered >= u->delivered_at_least;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct until *u = arg;
	(void)fd;
	(void)what;
	if (until_done(u) || now_ms() > u->deadline)
		event_base_loopexit(u->base, NULL);
}

/* Runs the loop until the queue holds at most `queued` posts and at least `failed`
 * attempts failed, or WAIT_MS pass. Returns 1 when it got there. */
static int run_until(struct event_base *base, struct webhook *wh, size_t queued, uint64_t failed)
{
	struct until u = {base, wh, queued, failed, 0, now_ms() + WAIT_MS};
	struct timeval tick = {0, 2000};
	struct event *ev = event_new(base, -1, EV_PERSIST, on_tick, &u);

	event_add(ev, &tick);
	event_base_dispatch(base);
	event_free(ev);
	return until_done(&u);
}

static struct webhook *make_webhook(struct event_base *base, const char *url, const char *ca_file,
                                    int64_t retry_min_ms, size_t queue_max)
{
	struct webhook_settings s = {url, ca_file, 3000, retry_min_ms, retry_min_ms * 4, queue_max};
	char err[256] = "";
	struct webhook *wh = webhook_new(base, &s, err, sizeof(err));
	if (wh == NULL)
		fprintf(stderr, "webhook_new: %s\n", err);
	return wh;
}

static struct webhook *local_webhook(struct event_base *base, int port, int64_t retry_min_ms,
                                     size_t queue_max)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/robot/send?access_token=t0ken", port);
	return make_webhook(base, url, NULL, retry_min_ms, queue_max);
}

static struct webhook_stats stats_of(struct webhook *wh)
{
	struct webhook_stats s;
	webhook_stats(wh, &s);
	return s;
}

static void post_text(struct webhook *wh, const char *text)
{
	webhook_post(wh, text, strlen(text));
}

/* The bodies the receiver got, in order, joined by '|', for one comparison. */
static void seen(const struct receiver *r, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->requests && i < MAX_REQUESTS; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s:%d", i ? "|" : "",
		                         r->bodies[i], r->answered[i]);
}

/* ---- stderr, to see what is logged ----------------------------------------------------- */

static int saved_stderr = -1;

static void capture_begin(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* The captured text (the caller frees). */
static char *capture_end(const char *path)
{
	FILE *f;
	char *text = calloc(1, 65536);

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	if (text != NULL && (f = fopen(path, "r")) != NULL) {
		size_t n = fread(text, 1, 65535, f);
		text[n] = '\0';
		fclose(f);
	}
	return text;
}

/* ---- the message ------------------------------------------------------------------------- */

static const char raised_body[] =
    "{\"msgtype\":\"text\",\"text\":{\"content\":\"【chatlogd】告警：店铺 s1 客服 售前\\\"小\\\\美 "
    "近 300 秒平均响应 12.5 秒 > 目标 10 秒（7 个样本）\"},\"alert\":{\"type\":\"raised\","
    "\"shop\":\"s1\",\"agent\":\"售前\\\"小\\\\美\",\"metric\":\"art\",\"value_ms\":12500,"
    "\"target_ms\":10000,\"samples\":7,\"window_s\":300,"
    "\"ts\":\"2026-11-24T10:07:00.000+08:00\"}}";

static const char cleared_body[] =
    "{\"msgtype\":\"text\",\"text\":{\"content\":\"【chatlogd】恢复：店铺 s1 客服 售前\\\"小\\\\美 "
    "近 300 秒平均首响 5.4 秒 < 目标 6 秒（4 个样本）\"},\"alert\":{\"type\":\"cleared\","
    "\"shop\":\"s1\",\"agent\":\"售前\\\"小\\\\美\",\"metric\":\"frt\",\"value_ms\":5400,"
    "\"target_ms\":6000,\"samples\":4,\"window_s\":300,"
    "\"ts\":\"2026-11-24T10:12:30.000+08:00\"}}";

static const char emptied_prefix[] =
    "{\"msgtype\":\"text\",\"text\":{\"content\":\"【chatlogd】告警失效：店铺 s1 客服 "
    "售前\\\"小\\\\美 "
    "近 300 秒已无首响样本，无法判断是否恢复\"},\"alert\":{\"type\":\"expired\",";

static void make_events(struct names *names, struct alert_event *raised,
                        struct alert_event *cleared)
{
	const char agent[] = "售前\"小\\美";
	struct alert_event r = {ALERT_RAISED,
	                        names_intern(names, "s1", 2),
	                        names_intern(names, agent, strlen(agent)),
	                        0,
	                        12500,
	                        10000,
	                        7,
	                        300,
	                        T0 + 7 * 60000,
	                        ""};
	*raised = r;
	*cleared = r;
	cleared->type = ALERT_CLEARED;
	cleared->frt = 1;
	cleared->value_ms = 5400;
	cleared->target_ms = 6000;
	cleared->samples = 4;
	cleared->ts_ms = T0 + 12 * 60000 + 30000;
}

static void test_body_is_the_robot_text_with_the_spec_alert(void)
{
	struct names *names = names_new();
	struct alert_event raised, cleared;
	char out[16384];
	size_t len;

	make_events(names, &raised, &cleared);
	len = webhook_alert_body(&raised, names, out, sizeof(out));
	CHECK_STR(out, raised_body);
	CHECK_INT(len, strlen(raised_body));
	CHECK(scoreboard_json_valid(out, len));
	len = webhook_alert_body(&cleared, names, out, sizeof(out));
	CHECK_STR(out, cleared_body);
	CHECK(scoreboard_json_valid(out, len));
	/* ended because every sample left the window: no average to show */
	cleared.value_ms = 0;
	cleared.samples = 0;
	cleared.frt = ALERT_FRT | ALERT_EXPIRED;
	webhook_alert_body(&cleared, names, out, sizeof(out));
	CHECK(strncmp(out, emptied_prefix, strlen(emptied_prefix)) == 0);
	names_free(names);
}

static void test_waiting_body_names_the_buyer(void)
{
	struct names *names = names_new();
	struct alert_event ev = {ALERT_WAITING,
	                         names_intern(names, "s1", 2),
	                         names_intern(names, "bob", 3),
	                         1,
	                         7480,
	                         6000,
	                         1,
	                         300,
	                         T0,
	                         "买家\n1"};
	char out[16384];
	size_t len = webhook_alert_body(&ev, names, out, sizeof(out));

	CHECK_STR(out,
	          "{\"msgtype\":\"text\",\"text\":{\"content\":\"【chatlogd】买家等待：店铺 s1 "
	          "客服 bob 的买家 买家\\n1 已等待 7.48 秒 > 首响目标 6 秒\"},\"alert\":{\"type\":"
	          "\"waiting\",\"shop\":\"s1\",\"agent\":\"bob\",\"buyer\":\"买家\\n1\","
	          "\"metric\":\"frt\",\"value_ms\":7480,\"target_ms\":6000,\"samples\":1,"
	          "\"window_s\":300,\"ts\":\"2026-11-24T10:00:00.000+08:00\"}}");
	CHECK(scoreboard_json_valid(out, len));
	names_free(names);
}

/* What the receiver gets is exactly webhook_alert_body, in order, as JSON. */
static void test_receiver_gets_the_bodies_in_order(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	struct names *names = names_new();
	struct alert_event raised, cleared;
	struct webhook *wh;

	make_events(names, &raised, &cleared);
	CHECK_INT(receiver_start(&r, base, 0, NULL), 0);
	wh = local_webhook(base, r.port, 20, 100);
	CHECK(wh != NULL);
	webhook_post_alert(wh, &raised, names);
	webhook_post_alert(wh, &cleared, names);
	CHECK(run_until(base, wh, 0, 0));
	CHECK_INT(r.requests, 2);
	CHECK_STR(r.bodies[0], raised_body);
	CHECK_STR(r.bodies[1], cleared_body);
	CHECK_STR(r.uri, "/robot/send?access_token=t0ken");
	CHECK_STR(r.content_type, "application/json; charset=utf-8");
	{
		char host[64];
		snprintf(host, sizeof(host), "127.0.0.1:%d", r.port);
		CHECK_STR(r.host, host);
	}
	CHECK_INT(stats_of(wh).delivered, 2);
	CHECK_INT(stats_of(wh).failed_attempts, 0);
	webhook_free(wh);
	receiver_free(&r);
	names_free(names);
	event_base_free(base);
}

/* ---- retries and drops ------------------------------------------------------------------- */

/* Posts bodies (NULL-terminated) to a receiver answering from r's script, runs until
 * every post is delivered or dropped, and writes what the receiver saw to got (see
 * seen()). Returns the webhook's counters. */
static struct webhook_stats scripted(struct receiver *r, const char *const *bodies, char *got,
                                     size_t size)
{
	struct event_base *base = event_base_new();
	struct webhook *wh = NULL;
	struct webhook_stats s = {0};

	CHECK_INT(receiver_start(r, base, 0, NULL), 0);
	if (r->http != NULL && (wh = local_webhook(base, r->port, 20, 100)) != NULL) {
		for (; *bodies != NULL; bodies++)
			post_text(wh, *bodies);
		CHECK(run_until(base, wh, 0, 0));
		s = stats_of(wh);
	}
	webhook_free(wh);
	seen(r, got, size);
	receiver_free(r);
	event_base_free(base);
	return s;
}

static void test_5xx_twice_then_200_delivers_once_in_order(void)
{
	static const char *const bodies[] = {"{\"n\":1}", "{\"n\":2}", NULL};
	struct receiver r = {.statuses = {500, 503}};
	char got[512];
	struct webhook_stats s = scripted(&r, bodies, got, sizeof(got));

	CHECK_STR(got, "{\"n\":1}:500|{\"n\":1}:503|{\"n\":1}:200|{\"n\":2}:200");
	CHECK_INT(s.delivered, 2);
	CHECK_INT(s.failed_attempts, 2);
	CHECK_INT(s.dropped_rejected, 0);
}

static void test_429_and_robot_rate_limit_are_retried(void)
{
	static const char *const bodies[] = {"{\"n\":1}", NULL};
	struct receiver r = {
	    .statuses = {429, 200},
	    .answers = {"{}", "{\"errcode\":130101,\"errmsg\":\"send too fast\"}"}};
	char got[512];
	struct webhook_stats s = scripted(&r, bodies, got, sizeof(got));

	CHECK_STR(got, "{\"n\":1}:429|{\"n\":1}:200|{\"n\":1}:200");
	CHECK_INT(s.delivered, 1);
	CHECK_INT(s.failed_attempts, 2);
}

static void test_4xx_and_robot_errors_are_dropped_and_counted(void)
{
	static const char *const bodies[] = {"{\"n\":1}", "{\"n\":2}", "{\"n\":3}", NULL};
	struct receiver r = {
	    .statuses = {400, 200},
	    .answers = {"bad", "{\"errcode\":310000,\"errmsg\":\"keywords not in content\"}"}};
	struct webhook_stats s;
	char got[512], path[128], *log;

	snprintf(path, sizeof(path), "%s/dropped.log", tmp_dir);
	capture_begin(path);
	s = scripted(&r, bodies, got, sizeof(got));
	log = capture_end(path);
	CHECK_STR(got, "{\"n\":1}:400|{\"n\":2}:200|{\"n\":3}:200");
	CHECK_INT(s.delivered, 1);
	CHECK_INT(s.dropped_rejected, 2);
	CHECK_INT(s.failed_attempts, 0);
	CHECK(log != NULL && strstr(log, "reason=\"HTTP 400\"") != NULL);
	CHECK(log != NULL && strstr(log, "errcode=310000 (keywords not in content)") != NULL);
	free(log);
}

static void test_receiver_down_then_up_delivers(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	int port = closed_port(base);
	struct webhook *wh = local_webhook(base, port, 20, 100);

	post_text(wh, "{\"n\":1}");
	CHECK(run_until(base, wh, 1, 2));
	CHECK_INT(stats_of(wh).delivered, 0);
	CHECK_INT(receiver_start(&r, base, port, NULL), 0);
	CHECK(run_until(base, wh, 0, 0));
	CHECK_INT(r.requests, 1);
	CHECK_STR(r.bodies[0], "{\"n\":1}");
	CHECK_INT(stats_of(wh).delivered, 1);
	CHECK(stats_of(wh).failed_attempts >= 2);
	webhook_free(wh);
	receiver_free(&r);
	event_base_free(base);
}

/* A receiver that accepts connections (the kernel's backlog) but never answers. */
static void test_silent_receiver_times_out_and_is_retried(void)
{
	struct event_base *base = event_base_new();
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	struct webhook_settings s = {NULL, NULL, 150, 20, 40, 100};
	struct webhook *wh;
	char url[128], err[256];
	int64_t started;

	CHECK_INT(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	CHECK_INT(listen(fd, 16), 0);
	getsockname(fd, (struct sockaddr *)&addr, &len);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(addr.sin_port));
	s.url = url;
	wh = webhook_new(base, &s, err, sizeof(err));
	CHECK(wh != NULL);
	started = now_ms();
	post_text(wh, "{\"n\":1}");
	CHECK(run_until(base, wh, 1, 2));
	/* two attempts of 150 ms and a wait of 20 ms */
	CHECK(now_ms() - started >= 300);
	CHECK_INT(stats_of(wh).delivered, 0);
	CHECK_INT(stats_of(wh).queued, 1);
	webhook_free(wh); /* with the post still queued and an attempt under way */
	close(fd);
	event_base_free(base);
}

static void test_full_queue_drops_the_oldest_not_on_the_wire(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	int port = closed_port(base);
	struct webhook *wh = local_webhook(base, port, 20, 3);
	char got[512];

	post_text(wh, "A"); /* on the wire at once */
	post_text(wh, "B");
	post_text(wh, "C");
	post_text(wh, "D"); /* pushes B out */
	post_text(wh, "E"); /* pushes C out */
	CHECK_INT(stats_of(wh).dropped_overflow, 2);
	CHECK_INT(stats_of(wh).queued, 3);
	CHECK_INT(receiver_start(&r, base, port, NULL), 0);
	CHECK(run_until(base, wh, 0, 0));
	seen(&r, got, sizeof(got));
	CHECK_STR(got, "A:200|D:200|E:200");
	CHECK_INT(stats_of(wh).delivered, 3);
	webhook_free(wh);
	receiver_free(&r);
	event_base_free(base);
}

/* A post waiting for its retry is not on the wire: it is the one dropped. */
static void test_full_queue_drops_a_waiting_head(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	int port = closed_port(base);
	struct webhook *wh = local_webhook(base, port, 60000, 2);
	char got[512];

	post_text(wh, "A");
	CHECK(run_until(base, wh, 1, 1)); /* A waits a minute */
	post_text(wh, "B");
	CHECK_INT(receiver_start(&r, base, port, NULL), 0);
	post_text(wh, "C"); /* pushes A out; B goes at once */
	CHECK_INT(stats_of(wh).dropped_overflow, 1);
	CHECK(run_until(base, wh, 0, 0));
	seen(&r, got, sizeof(got));
	CHECK_STR(got, "B:200|C:200");
	webhook_free(wh);
	receiver_free(&r);
	event_base_free(base);
}

/* ---- robots: a local stand-in per platform ------------------------------------------------ */

#define SECRET "SECtest0123456789abcdef"

/* Runs the loop until the queues are empty and at least `delivered` posts went
 * through (a digest waits on a timer with nothing queued), or WAIT_MS pass. */
static int run_until_delivered(struct event_base *base, struct webhook *wh, uint64_t delivered)
{
	struct until u = {base, wh, 0, 0, delivered, now_ms() + WAIT_MS};
	struct timeval tick = {0, 2000};
	struct event *ev = event_new(base, -1, EV_PERSIST, on_tick, &u);

	event_add(ev, &tick);
	event_base_dispatch(base);
	event_free(ev);
	return until_done(&u);
}

static int64_t fixed_clock(void)
{
	return T0 + 123; /* 2026-11-24T10:00:00.123+08:00 */
}

static const char *test_file(const char *name, const char *text)
{
	static char paths[4][128];
	static int next;
	char *path = paths[next++ % 4];
	FILE *f;

	snprintf(path, 128, "%s/%s", tmp_dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, 0600);
	return path;
}

/* A robot of `kind` at the receiver's port, with the secret, the mention map (alice
 * and bob) and the robot settings given. */
static struct webhook *local_robot(struct event_base *base, int port,
                                   struct webhook_robot_settings *robots)
{
	char url[128], err[256] = "";
	struct webhook_settings s = {url, NULL, 3000, 20, 80, 100};
	struct webhook *wh;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/robot/send?access_token=t0ken", port);
	robots->mentions_file =
	    test_file("mentions.tsv", "# agent\tid\nalice\t13800138000\nbob\tou_bob42\n");
	wh = webhook_new_robots(base, &s, robots, err, sizeof(err));
	if (wh == NULL)
		fprintf(stderr, "webhook_new_robots: %s\n", err);
	return wh;
}

static struct alert_event robot_event(struct names *names, enum alert_type type, const char *agent,
                                      int64_t value_ms)
{
	struct alert_event ev = {.type = type,
	                         .shop = names_intern(names, "s1", 2),
	                         .agent = names_intern(names, agent, strlen(agent)),
	                         .frt = ALERT_FRT,
	                         .value_ms = value_ms,
	                         .target_ms = 6000,
	                         .samples = type == ALERT_WAITING ? 1 : 3,
	                         .window_s = 300,
	                         .ts_ms = T0};
	if (type == ALERT_WAITING)
		snprintf(ev.buyer, sizeof(ev.buyer), "tb_buyer");
	return ev;
}

/* base64(HMAC-SHA256(key, message)) with OpenSSL's one-shot HMAC(), apart from
 * robot.c's EVP_Q_mac. */
static void reference_sign(const char *key, const char *message, char out[64])
{
	unsigned char mac[32];
	unsigned len = 0;

	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)message, strlen(message),
	     mac, &len);
	EVP_EncodeBlock((unsigned char *)out, mac, 32);
}

/* The value of ?name= or &name= in uri, URL-decoded. */
static void query_value(const char *uri, const char *name, char *out, size_t size)
{
	char key[32];
	const char *p;
	size_t n = 0;

	snprintf(key, sizeof(key), "&%s=", name);
	out[0] = '\0';
	if ((p = strstr(uri, key)) == NULL)
		return;
	for (p += strlen(key); *p && *p != '&' && n + 1 < size; p++) {
		unsigned c;
		if (*p == '%' && sscanf(p + 1, "%2x", &c) == 1) {
			out[n++] = (char)c;
			p += 2;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

/* DingTalk: the request line carries timestamp and sign; the stand-in recomputes the
 * HMAC from the timestamp it got, and the fixed clock pins the URI byte for byte. The
 * raised alert @mentions alice by mobile, in "at" and in the text. */
static void test_dingtalk_robot_is_signed_and_mentions_the_agent(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	struct names *names = names_new();
	struct webhook_robot_settings robots = {.kind = ROBOT_DINGTALK};
	struct alert_event raised = robot_event(names, ALERT_RAISED, "alice", 9000);
	char timestamp[64], sign[128], to_sign[256], want[64];
	struct webhook *wh;

	robots.secret_file = test_file("ding.secret", SECRET "\n");
	robots.wall_clock_ms = fixed_clock;
	CHECK_INT(receiver_start(&r, base, 0, NULL), 0);
	wh = local_robot(base, r.port, &robots);
	CHECK(wh != NULL);
	webhook_post_alert(wh, &raised, names);
	CHECK(run_until(base, wh, 0, 0));
	CHECK_INT(r.requests, 1);
	query_value(r.uris[0], "timestamp", timestamp, sizeof(timestamp));
	query_value(r.uris[0], "sign", sign, sizeof(sign));
	snprintf(to_sign, sizeof(to_sign), "%s\n%s", timestamp, SECRET);
	reference_sign(SECRET, to_sign, want);
	CHECK_STR(timestamp, "1795485600123");
	CHECK_STR(sign, want);
	CHECK_STR(r.uris[0], "/robot/send?access_token=t0ken&timestamp=1795485600123&sign="
	                     "WLxNxhIBp5e9rZxG6%2BekqYzEWzJ7Bdxk3dWnxxsTBOc%3D");
	CHECK_STR(
	    r.bodies[0],
	    "{\"msgtype\":\"text\",\"text\":{\"content\":\"【chatlogd】告警：店铺 s1 客服 alice "
	    "近 300 秒平均首响 9 秒 > 目标 6 秒（3 个样本） @13800138000\"},\"at\":{\"atMobiles\":"
	    "[\"13800138000\"],\"isAtAll\":false}}");
	webhook_free(wh);
	receiver_free(&r);
	names_free(names);
	event_base_free(base);
}

/* DingTalk with the real clock: the timestamp is now, and the sign still verifies. */
static void test_dingtalk_signature_verifies_at_the_real_time(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	struct names *names = names_new();
	struct webhook_robot_settings robots = {.kind = ROBOT_DINGTALK};
	struct alert_event ev = robot_event(names, ALERT_WAITING, "carol", 7000);
	char timestamp[64], sign[128], to_sign[256], want[64];
	struct webhook *wh;
	struct timespec real;

	robots.secret_file = test_file("ding.secret", SECRET "\n");
	CHECK_INT(receiver_start(&r, base, 0, NULL), 0);
	wh = local_robot(base, r.port, &robots);
	webhook_post_alert(wh, &ev, names);
	CHECK(run_until(base, wh, 0, 0));
	clock_gettime(CLOCK_REALTIME, &real);
	query_value(r.uris[0], "timestamp", timestamp, sizeof(timestamp));
	query_value(r.uris[0], "sign", sign, sizeof(sign));
	snprintf(to_sign, sizeof(to_sign), "%s\n%s", timestamp, SECRET);
	reference_sign(SECRET, to_sign, want);
	CHECK_STR(sign, want);
	CHECK(llabs(atoll(timestamp) - ((int64_t)real.tv_sec * 1000 + real.tv_nsec / 1000000)) <
	      10000);
	/* carol is not in the map: nobody is @mentioned */
	CHECK(strstr(r.bodies[0], "\"at\":{\"isAtAll\":false}") != NULL);
	webhook_free(wh);
	receiver_free(&r);
	names_free(names);
	event_base_free(base);
}

/* Feishu: timestamp (seconds) and sign lead the JSON body; the key is the string to
 * sign and the message is empty. bob is @mentioned by open_id. */
static void test_feishu_robot_signs_the_body_and_mentions_by_open_id(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	struct names *names = names_new();
	struct webhook_robot_settings robots = {.kind = ROBOT_FEISHU, .language = ROBOT_EN};
	struct alert_event ev = robot_event(names, ALERT_WAITING, "bob", 7480);
	char key[256], want[64], sign[64] = "";
	struct webhook *wh;
	const char *p;

	robots.secret_file = test_file("feishu.secret", SECRET "\n");
	robots.wall_clock_ms = fixed_clock;
	CHECK_INT(receiver_start(&r, base, 0, NULL), 0);
	wh = local_robot(base, r.port, &robots);
	webhook_post_alert(wh, &ev, names);
	CHECK(run_until(base, wh, 0, 0));
	CHECK_INT(r.requests, 1);
	snprintf(key, sizeof(key), "%s\n%s", "1795485600", SECRET);
	reference_sign(key, "", want);
	if ((p = strstr(r.bodies[0], "\"sign\":\"")) != NULL)
		sscanf(p + strlen("\"sign\":\""), "%63[^\"]", sign);
	CHECK_STR(sign, want);
	CHECK_STR(
	    r.bodies[0],
	    "{\"timestamp\":\"1795485600\",\"sign\":\"HoA74TzMc6A+R07yQXFop9clrg36TskTT3quaPWT"
	    "7TA=\",\"msg_type\":\"text\",\"content\":{\"text\":\"【chatlogd】waiting: shop s1, "
	    "agent bob: buyer tb_buyer has waited 7.48 s > first response target 6 s <at "
	    "user_id=\\\"ou_bob42\\\">bob</at>\"}}");
	CHECK_STR(r.uris[0], "/robot/send?access_token=t0ken"); /* the URL is not signed */
	CHECK(scoreboard_json_valid(r.bodies[0], r.lengths[0]));
	webhook_free(wh);
	receiver_free(&r);
	names_free(names);
	event_base_free(base);
}

/* WeCom: no signing; the mobile goes in mentioned_mobile_list. A cleared alert
 * mentions nobody. */
static void test_wecom_robot_mentions_by_mobile(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	struct names *names = names_new();
	struct webhook_robot_settings robots = {.kind = ROBOT_WECOM};
	struct alert_event raised = robot_event(names, ALERT_RAISED, "alice", 9000);
	struct alert_event cleared = robot_event(names, ALERT_CLEARED, "alice", 5000);
	struct webhook *wh;

	CHECK_INT(receiver_start(&r, base, 0, NULL), 0);
	wh = local_robot(base, r.port, &robots);
	webhook_post_alert(wh, &raised, names);
	webhook_post_alert(wh, &cleared, names);
	CHECK(run_until(base, wh, 0, 0));
	CHECK_INT(r.requests, 2);
	CHECK_STR(r.uris[0], "/robot/send?access_token=t0ken");
	CHECK_STR(r.bodies[0],
	          "{\"msgtype\":\"text\",\"text\":{\"content\":\"【chatlogd】告警：店铺 s1 "
	          "客服 alice 近 300 秒平均首响 9 秒 > 目标 6 秒（3 个样本）\","
	          "\"mentioned_mobile_list\":[\"13800138000\"]}}");
	CHECK_STR(r.bodies[1],
	          "{\"msgtype\":\"text\",\"text\":{\"content\":\"【chatlogd】恢复：店铺 s1 "
	          "客服 alice 近 300 秒平均首响 5 秒 < 目标 6 秒（3 个样本）\"}}");
	webhook_free(wh);
	receiver_free(&r);
	names_free(names);
	event_base_free(base);
}

/* 3 posts per 400 ms: of 8 alerts at once, 3 go, the other 5 are counted and go as
 * one digest when the first send leaves the window, never sooner. */
static void test_rate_limit_folds_the_rest_into_one_digest(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	struct names *names = names_new();
	struct webhook_robot_settings robots = {
	    .kind = ROBOT_DINGTALK, .per_minute = 3, .rate_period_ms = 400};
	struct webhook *wh;
	struct webhook_stats s;

	CHECK_INT(receiver_start(&r, base, 0, NULL), 0);
	wh = local_robot(base, r.port, &robots);
	for (int i = 0; i < 5; i++) {
		struct alert_event ev = robot_event(names, ALERT_WAITING, "alice", 7000 + i);
		webhook_post_alert(wh, &ev, names);
	}
	{
		struct alert_event raised = robot_event(names, ALERT_RAISED, "bob", 9000);
		struct alert_event expired = robot_event(names, ALERT_CLEARED, "bob", 0);
		struct alert_event waiting = robot_event(names, ALERT_WAITING, "bob", 8000);
		expired.frt = ALERT_EXPIRED;
		expired.samples = 0;
		webhook_post_alert(wh, &raised, names);
		webhook_post_alert(wh, &waiting, names);
		webhook_post_alert(wh, &expired, names);
	}
	s = stats_of(wh);
	CHECK_INT(s.digested, 5);
	CHECK_INT(s.digests, 0);
	CHECK(run_until_delivered(base, wh, 4));
	s = stats_of(wh);
	CHECK_INT(s.delivered, 4);
	CHECK_INT(s.digests, 1);
	CHECK_INT(r.requests, 4);
	if (r.requests == 4) {
		CHECK(strstr(r.bodies[0], "已等待 7 秒") != NULL);
		CHECK(strstr(r.bodies[2], "已等待 7.002 秒") != NULL);
		CHECK_STR(
		    r.bodies[3],
		    "{\"msgtype\":\"text\",\"text\":{\"content\":"
		    "\"【chatlogd】限流汇总：机器人每分钟最多"
		    "发 3 条，另有 5 条提醒未单独发送：\\n店铺 s1 客服 alice：买家等待 "
		    "2\\n店铺 s1 "
		    "客服 bob：告警 1，买家等待 1，告警失效 1\"},\"at\":{\"isAtAll\":false}}");
		/* the window: the digest came a whole period after the first post */
		CHECK(r.at_ms[3] - r.at_ms[0] >= 350);
	}
	webhook_free(wh);
	receiver_free(&r);
	names_free(names);
	event_base_free(base);
}

/* A platform's rate-limit answer is retried, after the whole period; another error
 * code is dropped and counted. Feishu's codes, in 200 and in 400 answers. */
static void test_feishu_rate_limit_code_retried_other_codes_dropped(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {.statuses = {200, 400, 200},
	                     .answers = {"{\"code\":9499,\"msg\":\"too many request\"}",
	                                 "{\"code\":11232,\"msg\":\"frequency limited\"}",
	                                 "{\"code\":0,\"msg\":\"success\"}"}};
	struct webhook_robot_settings robots = {
	    .kind = ROBOT_FEISHU, .per_minute = 100, .rate_period_ms = 60};
	struct webhook *wh;
	struct webhook_stats s;
	char got[512];

	CHECK_INT(receiver_start(&r, base, 0, NULL), 0);
	wh = local_robot(base, r.port, &robots);
	post_text(wh, "{\"n\":1}");
	CHECK(run_until(base, wh, 0, 0));
	s = stats_of(wh);
	CHECK_INT(s.delivered, 1);
	CHECK_INT(s.rate_limited, 2);
	CHECK_INT(s.failed_attempts, 2);
	seen(&r, got, sizeof(got));
	CHECK_STR(got, "{\"n\":1}:200|{\"n\":1}:400|{\"n\":1}:200");
	/* the retries waited the period (60 ms), not the 20 ms backoff */
	CHECK(r.requests == 3 && r.at_ms[1] - r.at_ms[0] >= 55 && r.at_ms[2] - r.at_ms[1] >= 55);
	webhook_free(wh);
	receiver_free(&r);
	event_base_free(base);

	base = event_base_new();
	memset(&r, 0, sizeof(r));
	r.answers[0] = "{\"code\":19021,\"msg\":\"sign match fail\"}";
	CHECK_INT(receiver_start(&r, base, 0, NULL), 0);
	wh = local_robot(base, r.port, &robots);
	post_text(wh, "{\"n\":1}");
	post_text(wh, "{\"n\":2}");
	CHECK(run_until(base, wh, 0, 0));
	s = stats_of(wh);
	CHECK_INT(s.dropped_rejected, 1);
	CHECK_INT(s.delivered, 1);
	CHECK_INT(s.failed_attempts, 0);
	webhook_free(wh);
	receiver_free(&r);
	event_base_free(base);
}

/* Waiting alerts of escalate_after or more also go to the second robot, marked as an
 * escalation; the rest only to the first. */
static void test_waiting_past_escalate_after_goes_to_the_second_robot(void)
{
	struct event_base *base = event_base_new();
	struct receiver main_robot = {0}, second = {0};
	struct names *names = names_new();
	struct webhook_robot_settings robots = {
	    .kind = ROBOT_DINGTALK, .escalate_kind = ROBOT_WECOM, .escalate_after_ms = 60000};
	struct alert_event short_wait = robot_event(names, ALERT_WAITING, "alice", 7480);
	struct alert_event long_wait = robot_event(names, ALERT_WAITING, "alice", 60000);
	struct alert_event raised = robot_event(names, ALERT_RAISED, "alice", 90000);
	char url[128];
	struct webhook *wh;

	CHECK_INT(receiver_start(&main_robot, base, 0, NULL), 0);
	CHECK_INT(receiver_start(&second, base, 0, NULL), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cgi-bin/webhook/send?key=K2", second.port);
	robots.escalate_url = url;
	wh = local_robot(base, main_robot.port, &robots);
	CHECK(wh != NULL);
	webhook_post_alert(wh, &short_wait, names);
	webhook_post_alert(wh, &long_wait, names);
	webhook_post_alert(wh, &raised, names);
	CHECK(run_until_delivered(base, wh, 4));
	CHECK_INT(main_robot.requests, 3);
	CHECK_INT(second.requests, 1);
	CHECK_INT(stats_of(wh).escalated, 1);
	CHECK_STR(second.requests ? second.uris[0] : "", "/cgi-bin/webhook/send?key=K2");
	CHECK_STR(
	    second.requests ? second.bodies[0] : "",
	    "{\"msgtype\":\"text\",\"text\":{\"content\":\"【chatlogd】升级·买家久等：店铺 s1 客服 "
	    "alice 的买家 tb_buyer 已等待 60 秒 > 首响目标 6 秒\",\"mentioned_mobile_list\":["
	    "\"13800138000\"]}}");
	webhook_free(wh);
	receiver_free(&main_robot);
	receiver_free(&second);
	names_free(names);
	event_base_free(base);
}

/* A bad mention map or an unreadable secret stops webhook_new with the reason; the
 * secret never appears in errors or logs. */
static void test_robot_files_are_checked_at_start(void)
{
	struct event_base *base = event_base_new();
	struct webhook_settings s = {"http://127.0.0.1:1/x", NULL, 1000, 100, 1000, 10};
	struct webhook_robot_settings robots = {.kind = ROBOT_DINGTALK};
	char err[256] = "", want[256], path[128], *log;
	struct webhook *wh;

	robots.mentions_file = test_file("bad.tsv", "alice 138\n");
	CHECK(webhook_new_robots(base, &s, &robots, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s:1: expected AGENT<TAB>ID", robots.mentions_file);
	CHECK_STR(err, want);
	robots.mentions_file = NULL;
	robots.secret_file = "/nonexistent/secret";
	CHECK(webhook_new_robots(base, &s, &robots, err, sizeof(err)) == NULL);
	CHECK_STR(err, "/nonexistent/secret: cannot open secret file: No such file or directory");
	robots.secret_file = test_file("s", SECRET "\n");
	snprintf(path, sizeof(path), "%s/secret.log", tmp_dir);
	capture_begin(path);
	wh = webhook_new_robots(base, &s, &robots, err, sizeof(err));
	post_text(wh, "{}");
	CHECK(run_until(base, wh, 1, 1));
	webhook_free(wh);
	log = capture_end(path);
	CHECK(log != NULL && strstr(log, "robot=dingtalk signed=yes per_minute=18") != NULL);
	CHECK(log != NULL && strstr(log, SECRET) == NULL);
	free(log);
	event_base_free(base);
}

/* ---- shutdown ------------------------------------------------------------------------- */

static void test_drain_delivers_what_is_queued(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	struct webhook *wh;
	int64_t started;

	CHECK_INT(receiver_start(&r, base, 0, NULL), 0);
	wh = local_webhook(base, r.port, 20, 100);
	post_text(wh, "A");
	post_text(wh, "B");
	post_text(wh, "C");
	started = now_ms();
	webhook_drain(wh, 2000);
	CHECK(now_ms() - started < 1500);
	CHECK_INT(r.requests, 3);
	CHECK_INT(stats_of(wh).queued, 0);
	webhook_drain(wh, 2000); /* nothing queued: returns at once */
	webhook_free(wh);
	receiver_free(&r);
	event_base_free(base);
}

static void test_drain_gives_up_after_its_time(void)
{
	struct event_base *base = event_base_new();
	struct webhook *wh = local_webhook(base, closed_port(base), 20, 100);
	int64_t started, took;

	post_text(wh, "A");
	started = now_ms();
	webhook_drain(wh, 300);
	took = now_ms() - started;
	CHECK(took >= 290 && took < 2000);
	CHECK_INT(stats_of(wh).queued, 1);
	CHECK(stats_of(wh).failed_attempts >= 2);
	webhook_free(wh);
	event_base_free(base);
}

static void test_drain_retries_a_waiting_post_at_once(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	int port = closed_port(base);
	struct webhook *wh = local_webhook(base, port, 60000, 100);
	int64_t started;

	post_text(wh, "A");
	CHECK(run_until(base, wh, 1, 1)); /* A waits a minute */
	CHECK_INT(receiver_start(&r, base, port, NULL), 0);
	started = now_ms();
	webhook_drain(wh, 2000);
	CHECK(now_ms() - started < 1500);
	CHECK_INT(r.requests, 1);
	CHECK_INT(stats_of(wh).delivered, 1);
	webhook_free(wh);
	receiver_free(&r);
	event_base_free(base);
}

/* ---- the URL ------------------------------------------------------------------------------ */

static void test_logs_show_the_url_without_its_query(void)
{
	struct event_base *base = event_base_new();
	int port = closed_port(base);
	struct webhook *wh;
	char url[160], want[160], path[128], *log;

	snprintf(path, sizeof(path), "%s/url.log", tmp_dir);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/robot/send?access_token=SECRET42", port);
	snprintf(want, sizeof(want), "url=http://127.0.0.1:%d/robot/send ", port);
	capture_begin(path);
	wh = make_webhook(base, url, NULL, 20, 100);
	post_text(wh, "A");
	CHECK(run_until(base, wh, 1, 1));
	webhook_free(wh);
	log = capture_end(path);
	CHECK(log != NULL && strstr(log, want) != NULL);
	CHECK(log != NULL && strstr(log, "alerts are also posted to http://127.0.0.1") != NULL);
	CHECK(log != NULL && strstr(log, "SECRET42") == NULL);
	free(log);
	event_base_free(base);
}

/* A name evdns has to ask a nameserver about: whether the answer is "no such name"
 * or none within the timeout (the lookup is then cancelled), the attempt fails and
 * the webhook frees cleanly right after. */
/* timeout_ms 0: freed at once, while the lookup is under way (it is cancelled). */
static void unresolvable_host(int64_t timeout_ms)
{
	struct event_base *base = event_base_new();
	struct webhook_settings s = {"http://chatlogd-webhook-test.invalid/x",
	                             NULL,
	                             timeout_ms > 0 ? timeout_ms : 2000,
	                             20,
	                             40,
	                             10};
	char err[256] = "";
	struct webhook *wh = webhook_new(base, &s, err, sizeof(err));

	CHECK(wh != NULL);
	if (wh == NULL)
		return;
	post_text(wh, "A");
	if (timeout_ms > 0) {
		CHECK(run_until(base, wh, 1, 1));
		CHECK_INT(stats_of(wh).delivered, 0);
	}
	webhook_free(wh);
	event_base_free(base);
}

static void test_unresolvable_host_fails_the_attempt(void)
{
	unresolvable_host(2000);
	unresolvable_host(0);
}

static void check_bad_url(const char *url, const char *want)
{
	struct event_base *base = event_base_new();
	struct webhook_settings s = {url, NULL, 1000, 100, 1000, 10};
	char err[256] = "";

	CHECK(webhook_new(base, &s, err, sizeof(err)) == NULL);
	CHECK_STR(err, want);
	event_base_free(base);
}

static void test_bad_urls_are_refused_without_quoting_them(void)
{
	check_bad_url("ftp://example.com/x?token=SECRET",
	              "alert_webhook: expected an http:// or https:// URL");
	check_bad_url("https:///robot/send?token=SECRET", "alert_webhook: the URL has no host");
	check_bad_url("http://example.com:0/", "alert_webhook: port 0");
	check_bad_url("http://exa mple.com/?token=SECRET", "alert_webhook: not a valid URL");
}

static void test_ipv6_literal_url(void)
{
	struct event_base *base = event_base_new();
	struct webhook *wh = make_webhook(base, "http://[::1]:1/x", NULL, 1000, 10);
	CHECK(wh != NULL);
	webhook_free(wh);
	event_base_free(base);
}

/* ---- HTTPS -------------------------------------------------------------------------------- */

/* A self-signed certificate for "localhost" (a CA of its own), written to path. */
static SSL_CTX *tls_server(const char *cert_path)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509_NAME *name = X509_get_subject_name(cert);
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	FILE *f;

	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	X509_set_pubkey(cert, key);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
	                           -1, 0);
	X509_set_issuer_name(cert, name);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost");
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(cert, key, EVP_sha256());
	if ((f = fopen(cert_path, "w")) != NULL) {
		PEM_write_X509(f, cert);
		fclose(f);
	}
	SSL_CTX_use_certificate(ctx, cert);
	SSL_CTX_use_PrivateKey(ctx, key);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ctx;
}

/* Posts one body over https and reports what happened: runs until it is delivered,
 * or until an attempt failed when that is what the case expects. */
static void https_case(struct event_base *base, const char *host, int port, const char *ca_file,
                       int expect_delivered, struct webhook_stats *out, char *log_out,
                       size_t log_size)
{
	char url[160], path[128], *log;
	struct webhook *wh;

	snprintf(url, sizeof(url), "https://%s:%d/hook?key=K", host, port);
	snprintf(path, sizeof(path), "%s/https.log", tmp_dir);
	capture_begin(path);
	wh = make_webhook(base, url, ca_file, 50, 10);
	if (wh != NULL) {
		post_text(wh, "{\"tls\":1}");
		run_until(base, wh, expect_delivered ? 0 : 1, expect_delivered ? 0 : 1);
		*out = stats_of(wh);
		webhook_free(wh);
	}
	log = capture_end(path);
	snprintf(log_out, log_size, "%s", log ? log : "");
	free(log);
}

/* No request reaches the receiver, the attempt fails and the log says why. */
static void check_https_refused(struct event_base *base, const struct receiver *r, const char *host,
                                const char *ca_file, const char *reason)
{
	struct webhook_stats s = {0};
	char log[4096];

	https_case(base, host, r->port, ca_file, 0, &s, log, sizeof(log));
	CHECK_INT(s.delivered, 0);
	CHECK(s.failed_attempts >= 1);
	CHECK_INT(r->requests, 0);
	CHECK(strstr(log, reason) != NULL);
}

static void test_https_is_verified(void)
{
	struct event_base *base = event_base_new();
	struct receiver r = {0};
	struct webhook_stats s;
	char cert_path[128], log[4096];
	SSL_CTX *server;

	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tmp_dir);
	server = tls_server(cert_path);
	CHECK_INT(receiver_start(&r, base, 0, server), 0);

	/* the system store does not know this CA */
	check_https_refused(base, &r, "localhost", NULL,
	                    "certificate refused: self-signed certificate");
	/* the right CA, but the certificate does not name 127.0.0.1 */
	check_https_refused(base, &r, "127.0.0.1", cert_path,
	                    "certificate refused: IP address mismatch");

	/* the right CA and name: delivered */
	memset(&s, 0, sizeof(s));
	https_case(base, "localhost", r.port, cert_path, 1, &s, log, sizeof(log));
	CHECK_INT(s.delivered, 1);
	CHECK_INT(s.failed_attempts, 0);
	CHECK_INT(r.requests, 1);
	CHECK_STR(r.requests ? r.bodies[0] : "", "{\"tls\":1}");
	CHECK_STR(r.uri, "/hook?key=K");

	receiver_free(&r);
	SSL_CTX_free(server);
	event_base_free(base);
}

static void test_unreadable_ca_file_is_refused(void)
{
	struct event_base *base = event_base_new();
	struct webhook_settings s = {
	    "https://localhost/", "/nonexistent/ca.pem", 1000, 100, 1000, 10};
	char err[256] = "";

	CHECK(webhook_new(base, &s, err, sizeof(err)) == NULL);
	CHECK(strncmp(err, "alert_webhook_ca_file: cannot load /nonexistent/ca.pem: ", 56) == 0);
	event_base_free(base);
}

int main(void)
{
	char cleanup[128];

	timefmt_set_timezone("Asia/Shanghai");
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_webhook_XXXXXX");
	if (mkdtemp(tmp_dir) == NULL)
		return 1;
	RUN(test_body_is_the_robot_text_with_the_spec_alert);
	RUN(test_waiting_body_names_the_buyer);
	RUN(test_receiver_gets_the_bodies_in_order);
	RUN(test_5xx_twice_then_200_delivers_once_in_order);
	RUN(test_429_and_robot_rate_limit_are_retried);
	RUN(test_4xx_and_robot_errors_are_dropped_and_counted);
	RUN(test_receiver_down_then_up_delivers);
	RUN(test_silent_receiver_times_out_and_is_retried);
	RUN(test_full_queue_drops_the_oldest_not_on_the_wire);
	RUN(test_full_queue_drops_a_waiting_head);
	RUN(test_dingtalk_robot_is_signed_and_mentions_the_agent);
	RUN(test_dingtalk_signature_verifies_at_the_real_time);
	RUN(test_feishu_robot_signs_the_body_and_mentions_by_open_id);
	RUN(test_wecom_robot_mentions_by_mobile);
	RUN(test_rate_limit_folds_the_rest_into_one_digest);
	RUN(test_feishu_rate_limit_code_retried_other_codes_dropped);
	RUN(test_waiting_past_escalate_after_goes_to_the_second_robot);
	RUN(test_robot_files_are_checked_at_start);
	RUN(test_drain_delivers_what_is_queued);
	RUN(test_drain_gives_up_after_its_time);
	RUN(test_drain_retries_a_waiting_post_at_once);
	RUN(test_logs_show_the_url_without_its_query);
	RUN(test_bad_urls_are_refused_without_quoting_them);
	RUN(test_ipv6_literal_url);
	RUN(test_unresolvable_host_fails_the_attempt);
	RUN(test_https_is_verified);
	RUN(test_unreadable_ca_file_is_refused);
	snprintf(cleanup, sizeof(cleanup), "rm -rf %s", tmp_dir);
	if (system(cleanup) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp_dir);
	return check_done();
}
