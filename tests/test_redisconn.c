/*
 * Tests for redisconn: the URL table, then each behaviour against its own private
 * redis-server (tests/redis_server.h) on a real libevent loop: Unix and TCP,
 * SELECT, AUTH and ACL, wrong password, crash and restart, a frozen server,
 * NOSCRIPT, freeing from inside callbacks, in_flight. Waits are bounded and
 * generous; nothing asserts on timing beyond them.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "chatlogd/log.h"
#include "chatlogd/redisconn.h"
#include "check.h"
#include "redis_server.h"

/* Generous bound for anything that should take milliseconds. */
#define WAIT_MS 10000

struct probe {
	struct redisconn *conn;
	int ups, downs; /* state callbacks with connected = 1 / 0 */
	int connected;
	char reason[256];
	int free_on_up, free_on_down;
	int calls_seen_at_down; /* answers' calls when the last down arrived */
	struct answer *watch;   /* answers whose calls to sum at a down */
	int watch_count;
};

struct answer {
	struct probe *probe;
	int calls, nulls;
	int type;
	long long integer;
	char str[128];
	int free_conn;   /* redisconn_free inside this callback */
	int seen_others; /* other answers' calls right after that free */
	struct answer *others;
	int other_count;
};

static void on_state(void *ctx, int connected, const char *reason)
{
	struct probe *p = ctx;
	int i;

	p->connected = connected;
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
	if (connected) {
		p->ups++;
	} else {
		p->downs++;
		p->calls_seen_at_down = 0;
		for (i = 0; i < p->watch_count; i++)
			p->calls_seen_at_down += p->watch[i].calls;
	}
	if ((connected && p->free_on_up) || (!connected && p->free_on_down)) {
		redisconn_free(p->conn);
		p->conn = NULL;
	}
}

static void on_answer(void *ctx, struct redisReply *reply, void *privdata)
{
	struct probe *p = ctx;
	struct answer *a = privdata;
	int i;

	CHECK(a->probe == p);
	a->calls++;
	if (reply == NULL) {
		a->nulls++;
	} else {
		a->type = reply->type;
		a->integer = reply->integer;
		if (reply->str != NULL)
			snprintf(a->str, sizeof(a->str), "%s", reply->str);
	}
	if (a->free_conn) {
		redisconn_free(p->conn);
		p->conn = NULL;
		a->seen_others = 0;
		for (i = 0; i < a->other_count; i++)
			a->seen_others += a->others[i].calls;
	}
}

static void loop_once(struct event_base *base)
{
	struct timeval tv = {0, 10000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

#define LOOP_UNTIL(base, cond, timeout_ms)                                                         \
	do {                                                                                       \
		int64_t loop_until_ = redis_server_now_ms() + (timeout_ms);                        \
		while (!(cond) && redis_server_now_ms() < loop_until_)                             \
			loop_once(base);                                                           \
	} while (0)

static void loop_for(struct event_base *base, int ms)
{
	int64_t until = redis_server_now_ms() + ms;

	while (redis_server_now_ms() < until)
		loop_once(base);
}

static struct redisconn_settings settings_for(const char *url)
{
	return (struct redisconn_settings){.url = url,
	                                   .password_file = "",
	                                   .connect_timeout_ms = 2000,
	                                   .command_timeout_ms = 2000,
	                                   .backoff_min_ms = 20,
	                                   .backoff_max_ms = 200};
}

static struct redisconn *connect_probe(struct event_base *base, const struct redisconn_settings *s,
                                       struct probe *p)
{
	char err[256] = "";

	memset(p, 0, sizeof(*p));
	p->conn = redisconn_new(base, s, on_state, p, err, sizeof(err));
	if (p->conn == NULL)
		fprintf(stderr, "redisconn_new: %s\n", err);
	return p->conn;
}

/* Starts a private server with opt and a connection to it with settings_for its URL
 * (command_timeout_ms instead of the default when not 0). Returns 0, or -1 after a
 * failed CHECK; p is zeroed first, so the caller's cleanup is safe either way. */
static int start_server_and_connect(struct redis_server *srv,
                                    const struct redis_server_options *opt, struct event_base *base,
                                    int command_timeout_ms, struct probe *p)
{
	struct redisconn_settings s;

	memset(p, 0, sizeof(*p));
	if (redis_server_start(srv, opt) == -1) {
		CHECK(!"redis_server_start");
		return -1;
	}
	s = settings_for(srv->url);
	if (command_timeout_ms != 0)
		s.command_timeout_ms = command_timeout_ms;
	if (connect_probe(base, &s, p) == NULL) {
		CHECK(!"redisconn_new");
		return -1;
	}
	return 0;
}

/* Sends a command of plain C strings; returns redisconn_command's result. */
static int send_command(struct probe *p, struct answer *a, int argc, const char **argv)
{
	size_t argvlen[8];
	int i;

	for (i = 0; i < argc; i++)
		argvlen[i] = strlen(argv[i]);
	a->probe = p;
	return redisconn_command(p->conn, argc, argv, argvlen, on_answer, a);
}

static int send_eval(struct probe *p, struct answer *a, int script, int argc, const char **argv,
                     int numkeys)
{
	size_t argvlen[8];
	int i;

	for (i = 0; i < argc; i++)
		argvlen[i] = strlen(argv[i]);
	a->probe = p;
	return redisconn_eval(p->conn, script, argc, argv, argvlen, numkeys, on_answer, a);
}

/* A blocking GET for assertions: the value, "(nil)" or "(error)". */
static const char *server_get(const struct redis_server *srv, int db, const char *key, char *out,
                              size_t outlen)
{
	redisReply *reply = redis_server_command(srv, db, "GET %s", key);

	if (reply == NULL)
		snprintf(out, outlen, "(error)");
	else if (reply->type == REDIS_REPLY_NIL)
		snprintf(out, outlen, "(nil)");
	else
		snprintf(out, outlen, "%s", reply->type == REDIS_REPLY_STRING ? reply->str : "?");
	if (reply != NULL)
		freeReplyObject(reply);
	return out;
}

/* The server's count of clients blocked in BLPOP and the like. */
static long long server_blocked_clients(const struct redis_server *srv)
{
	redisReply *reply = redis_server_command(srv, 0, "INFO clients");
	long long n = -1;
	const char *at;

	if (reply != NULL && reply->type == REDIS_REPLY_STRING &&
	    (at = strstr(reply->str, "blocked_clients:")) != NULL)
		n = atoll(at + strlen("blocked_clients:"));
	if (reply != NULL)
		freeReplyObject(reply);
	return n;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	return chmod(path, mode);
}

/* ---- URL table ---- */

struct url_case {
	const char *url;
	const char *want; /* endpoint description, or NULL for an error */
	const char *err;  /* a substring of the error */
};

static void test_url_table_good_and_bad_urls(void)
{
	static const struct url_case cases[] = {
	    {"redis://127.0.0.1", "tcp host=127.0.0.1 port=6379 db=0 auth=none", NULL},
	    {"redis://127.0.0.1:6380/3", "tcp host=127.0.0.1 port=6380 db=3 auth=none", NULL},
	    {"redis://localhost:7000/", "tcp host=localhost port=7000 db=0 auth=none", NULL},
	    {"redis://:s3cret@10.0.0.1:6379/1", "tcp host=10.0.0.1 port=6379 db=1 auth=password",
	     NULL},
	    {"redis://alice:s3cret@[::1]:6390/2", "tcp host=::1 port=6390 db=2 auth=acl user=alice",
	     NULL},
	    {"redis://al%40ice:s3%3Acret@[::1]", "tcp host=::1 port=6379 db=0 auth=acl user=al@ice",
	     NULL},
	    {"redis://u:p@ss@127.0.0.1", "tcp host=127.0.0.1 port=6379 db=0 auth=acl user=u", NULL},
	    {"unix:///run/redis/redis.sock", "unix path=/run/redis/redis.sock db=0 auth=none",
	     NULL},
	    {"unix:///tmp/r.sock?db=5", "unix path=/tmp/r.sock db=5 auth=none", NULL},
	    {"", NULL, "empty"},
	    {"http://127.0.0.1", NULL, "must start with"},
	    {"rediss://127.0.0.1", NULL, "TLS"},
	    {"redis://", NULL, "missing host"},
	    {"redis://:6379", NULL, "missing host"},
	    {"redis://:s3cret@", NULL, "missing host"},
	    {"redis://127.0.0.1:0", NULL, "port"},
	    {"redis://127.0.0.1:65536", NULL, "port"},
	    {"redis://127.0.0.1:12ab", NULL, "port"},
	    {"redis://127.0.0.1:", NULL, "port"},
	    {"redis://127.0.0.1/abc", NULL, "/DB"},
	    {"redis://127.0.0.1/-1", NULL, "/DB"},
	    {"redis://127.0.0.1/1/2", NULL, "/DB"},
	    {"redis://127.0.0.1?db=1", NULL, "query"},
	    {"redis://::1:6379", NULL, "brackets"},
	    {"redis://[::1", NULL, "']'"},
	    {"redis://[::1]x", NULL, "after ']'"},
	    {"redis://user:@127.0.0.1", NULL, "empty password"},
	    {"redis://alice@127.0.0.1", NULL, "without a password"},
	    {"redis://:s3cret%zz@127.0.0.1", NULL, "%-escape"},
	    {"redis://:s3cret%2@127.0.0.1", NULL, "%-escape"},
	    {"redis://:s3cret%00@127.0.0.1", NULL, "%-escape"},
	    {"unix://relative.sock", NULL, "absolute"},
	    {"unix://", NULL, "absolute"},
	    {"unix:///tmp/x.sock?db=x", NULL, "?db=N"},
	    {"unix:///tmp/x.sock?password=s3cret", NULL, "?db=N"},
	    {"unix:///tmp/"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
	     NULL, "longer than"},
	};
	struct event_base *base = event_base_new();
	struct redisconn_settings s;
	struct redisconn *c;
	char err[256], desc[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = settings_for(cases[i].url);
		err[0] = '\0';
		c = redisconn_new(base, &s, on_state, NULL, err, sizeof(err));
		if (cases[i].want != NULL) {
			CHECK(c != NULL);
			if (c == NULL) {
				fprintf(stderr, "  url %s: %s\n", cases[i].url, err);
				continue;
			}
			CHECK_STR(redisconn_endpoint(c, desc, sizeof(desc)), cases[i].want);
			CHECK(strstr(desc, "s3") == NULL);
			CHECK_INT(redisconn_connected(c), 0);
			CHECK_INT(redisconn_in_flight(c), 0);
			redisconn_free(c);
		} else {
			CHECK(c == NULL);
			redisconn_free(c);
			if (strstr(err, cases[i].err) == NULL)
				fprintf(stderr, "  url \"%s\": error \"%s\", want \"%s\"\n",
				        cases[i].url, err, cases[i].err);
			CHECK(strstr(err, cases[i].err) != NULL);
			CHECK(strstr(err, "s3cret") == NULL); /* errors never quote the password */
		}
	}
	event_base_free(base);
}

/* The parser on its own (chatlogctl uses it without a connection): fields decoded,
 * the password kept verbatim, an error leaves the endpoint empty. */
static void test_parse_url_fills_endpoint_and_empties_it_on_error(void)
{
	char dir[] = "/tmp/chatlogd-pw-XXXXXX", path[128], err[256];
	struct redis_endpoint ep;

	CHECK_INT(
	    redisconn_parse_url("redis://al%40ice:s3%3Acret@[::1]:6390/2", &ep, err, sizeof(err)),
	    0);
	CHECK_STR(ep.host, "::1");
	CHECK(ep.unix_path == NULL);
	CHECK_INT(ep.port, 6390);
	CHECK_INT(ep.db, 2);
	CHECK_STR(ep.user, "al@ice");
	CHECK_STR(ep.password, "s3:cret");
	CHECK_INT(redisconn_load_password(&ep, "", err, sizeof(err)), 0);
	redisconn_endpoint_free(&ep);
	CHECK(ep.host == NULL && ep.user == NULL && ep.password == NULL);

	CHECK_INT(redisconn_parse_url("unix:///tmp/r.sock?db=5", &ep, err, sizeof(err)), 0);
	CHECK(ep.host == NULL);
	CHECK_STR(ep.unix_path, "/tmp/r.sock");
	CHECK_INT(ep.db, 5);
	CHECK(ep.user == NULL && ep.password == NULL);
	redisconn_endpoint_free(&ep);

	CHECK_INT(redisconn_parse_url("redis://127.0.0.1", &ep, err, sizeof(err)), 0);
	CHECK_INT(ep.port, 6379);
	CHECK_INT(ep.db, 0);
	redisconn_endpoint_free(&ep);

	/* The user and password parsed before the bad port are freed, not leaked. */
	CHECK_INT(redisconn_parse_url("redis://alice:s3cret@127.0.0.1:0", &ep, err, sizeof(err)),
	          -1);
	CHECK(strstr(err, "port") != NULL);
	CHECK(strstr(err, "s3cret") == NULL);
	CHECK(ep.host == NULL && ep.user == NULL && ep.password == NULL);
	redisconn_endpoint_free(&ep);
	redisconn_endpoint_free(NULL);

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/pw", dir);
	CHECK_INT(write_file(path, "s3cret\r\nignored\n", 0600), 0);
	CHECK_INT(redisconn_parse_url("redis://alice@127.0.0.1", &ep, err, sizeof(err)), 0);
	CHECK_INT(redisconn_load_password(&ep, "", err, sizeof(err)), -1);
	CHECK(strstr(err, "without a password") != NULL);
	CHECK_INT(redisconn_load_password(&ep, path, err, sizeof(err)), 0);
	CHECK_STR(ep.password, "s3cret");
	CHECK_INT(redisconn_load_password(&ep, path, err, sizeof(err)), -1);
	CHECK(strstr(err, "both") != NULL);
	redisconn_endpoint_free(&ep);
	unlink(path);
	rmdir(dir);
}

static void test_settings_and_password_file_errors(void)
{
	struct event_base *base = event_base_new();
	char dir[] = "/tmp/chatlogd-pw-XXXXXX", path[128], empty[128], err[256];
	struct redisconn_settings s;
	struct redisconn *c;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/pw", dir);
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	CHECK_INT(write_file(path, "s3cret\n", 0600), 0);
	CHECK_INT(write_file(empty, "\nsecond line\n", 0600), 0);

	s = settings_for("redis://127.0.0.1");
	s.command_timeout_ms = 0;
	CHECK((c = redisconn_new(base, &s, on_state, NULL, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "positive") != NULL);

	s = settings_for("redis://127.0.0.1");
	s.backoff_min_ms = 500;
	s.backoff_max_ms = 100;
	CHECK((c = redisconn_new(base, &s, on_state, NULL, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "backoff") != NULL);

	s = settings_for("redis://127.0.0.1");
	s.password_file = "/nonexistent/chatlogd/pw";
	CHECK((c = redisconn_new(base, &s, on_state, NULL, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "cannot open") != NULL);

	s = settings_for("redis://:other@127.0.0.1");
	s.password_file = path;
	CHECK((c = redisconn_new(base, &s, on_state, NULL, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "both") != NULL);

	s = settings_for("redis://127.0.0.1");
	s.password_file = empty;
	CHECK((c = redisconn_new(base, &s, on_state, NULL, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "empty") != NULL);

	s = settings_for("redis://127.0.0.1");
	s.password_file = dir;
	CHECK((c = redisconn_new(base, &s, on_state, NULL, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "regular") != NULL);

	/* A user in the URL with the password from the file is an ACL login. */
	s = settings_for("redis://alice@127.0.0.1");
	s.password_file = path;
	c = redisconn_new(base, &s, on_state, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c != NULL) {
		char desc[128];
		CHECK_STR(redisconn_endpoint(c, desc, sizeof(desc)),
		          "tcp host=127.0.0.1 port=6379 db=0 auth=acl user=alice");
	}
	redisconn_free(c);

	unlink(path);
	unlink(empty);
	rmdir(dir);
	event_base_free(base);
}

/* ---- against a real server ---- */

static void test_connect_over_unix_socket_set_and_get(void)
{
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	const char *set[] = {"SET", "greeting", "hello"};
	const char *get[] = {"GET", "greeting"};
	struct answer a[2];
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct probe p;
	char buf[64];

	memset(a, 0, sizeof(a));
	if (start_server_and_connect(&srv, &opt, base, 0, &p) == -1)
		goto end;
	CHECK_INT(p.ups + p.downs, 0); /* nothing runs inside redisconn_new */
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	CHECK_INT(p.connected, 1);
	CHECK_STR(p.reason, "connected");
	CHECK_INT(redisconn_connected(p.conn), 1);
	CHECK_INT(send_command(&p, &a[0], 3, set), 0);
	CHECK_INT(send_command(&p, &a[1], 2, get), 0);
	LOOP_UNTIL(base, a[1].calls == 1, WAIT_MS);
	CHECK_INT(a[0].calls, 1);
	CHECK_INT(a[0].type, REDIS_REPLY_STATUS);
	CHECK_STR(a[0].str, "OK");
	CHECK_INT(a[1].calls, 1);
	CHECK_INT(a[1].type, REDIS_REPLY_STRING);
	CHECK_STR(a[1].str, "hello");
	CHECK_STR(server_get(&srv, 0, "greeting", buf, sizeof(buf)), "hello");
	CHECK_INT(p.ups, 1);
	CHECK_INT(p.downs, 0);
end:
	redisconn_free(p.conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_connect_over_tcp_by_address_and_by_localhost(void)
{
	struct redis_server_options opt = {0, NULL, NULL, NULL};
	const char *ping[] = {"PING"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct redisconn_settings s;
	struct answer a[2];
	struct probe p[2];
	char url[128];

	memset(a, 0, sizeof(a));
	memset(p, 0, sizeof(p));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	s = settings_for(srv.url);
	connect_probe(base, &s, &p[0]);
	/* A name goes through evdns (here answered from /etc/hosts), never through
	 * hiredis' blocking getaddrinfo. */
	snprintf(url, sizeof(url), "redis://localhost:%d", srv.port);
	s = settings_for(url);
	connect_probe(base, &s, &p[1]);
	if (p[0].conn == NULL || p[1].conn == NULL) {
		CHECK(!"redisconn_new");
		goto end;
	}
	LOOP_UNTIL(base, p[0].connected && p[1].connected, WAIT_MS);
	CHECK_INT(p[0].connected, 1);
	CHECK_INT(p[1].connected, 1);
	CHECK_INT(send_command(&p[0], &a[0], 1, ping), 0);
	CHECK_INT(send_command(&p[1], &a[1], 1, ping), 0);
	LOOP_UNTIL(base, a[0].calls == 1 && a[1].calls == 1, WAIT_MS);
	CHECK_STR(a[0].str, "PONG");
	CHECK_STR(a[1].str, "PONG");
end:
	redisconn_free(p[0].conn);
	redisconn_free(p[1].conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_select_db_in_url_takes_effect(void)
{
	struct redis_server_options tcp = {0, NULL, NULL, NULL}, unix_opt = {1, NULL, NULL, NULL};
	const char *set[] = {"SET", "where", "db3"};
	struct redis_server srv[2];
	struct event_base *base = event_base_new();
	struct redisconn_settings s;
	struct answer a[2];
	struct probe p[3];
	char url[3][256], buf[64];

	memset(a, 0, sizeof(a));
	memset(p, 0, sizeof(p));
	memset(srv, 0, sizeof(srv));
	if (redis_server_start(&srv[0], &tcp) == -1 ||
	    redis_server_start(&srv[1], &unix_opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	snprintf(url[0], sizeof(url[0]), "%s/3", srv[0].url);
	snprintf(url[1], sizeof(url[1]), "%s?db=3", srv[1].url);
	snprintf(url[2], sizeof(url[2]), "%s/99", srv[0].url); /* the server has 16 */
	s = settings_for(url[0]);
	connect_probe(base, &s, &p[0]);
	s = settings_for(url[1]);
	connect_probe(base, &s, &p[1]);
	s = settings_for(url[2]);
	connect_probe(base, &s, &p[2]);
	if (p[0].conn == NULL || p[1].conn == NULL || p[2].conn == NULL) {
		CHECK(!"redisconn_new");
		goto end;
	}
	LOOP_UNTIL(base, p[0].connected && p[1].connected && p[2].downs >= 1, WAIT_MS);
	/* A db the server lacks fails the handshake: never connected. */
	CHECK_INT(p[2].ups, 0);
	CHECK(strstr(p[2].reason, "SELECT failed: ERR DB index is out of range") != NULL);
	CHECK_INT(send_command(&p[0], &a[0], 3, set), 0);
	CHECK_INT(send_command(&p[1], &a[1], 3, set), 0);
	LOOP_UNTIL(base, a[0].calls == 1 && a[1].calls == 1, WAIT_MS);
	CHECK_STR(a[0].str, "OK");
	CHECK_STR(a[1].str, "OK");
	CHECK_STR(server_get(&srv[0], 3, "where", buf, sizeof(buf)), "db3");
	CHECK_STR(server_get(&srv[0], 0, "where", buf, sizeof(buf)), "(nil)");
	CHECK_STR(server_get(&srv[1], 3, "where", buf, sizeof(buf)), "db3");
	CHECK_STR(server_get(&srv[1], 0, "where", buf, sizeof(buf)), "(nil)");
end:
	redisconn_free(p[0].conn);
	redisconn_free(p[1].conn);
	redisconn_free(p[2].conn);
	redis_server_stop(&srv[0]);
	redis_server_stop(&srv[1]);
	event_base_free(base);
}

static void test_auth_requirepass_from_password_file_and_from_url(void)
{
	static const char *const args[] = {"--requirepass", "s3cret pass", NULL};
	struct redis_server_options opt = {0, args, NULL, "s3cret pass"};
	const char *incr[] = {"INCR", "n"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct redisconn_settings s;
	struct answer a[2];
	struct probe p[2];
	char path[128], url[256], buf[32];

	memset(a, 0, sizeof(a));
	memset(p, 0, sizeof(p));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	snprintf(path, sizeof(path), "%s/password", srv.dir);
	CHECK_INT(write_file(path, "s3cret pass\r\n", 0600), 0);
	s = settings_for(srv.url);
	s.password_file = path;
	connect_probe(base, &s, &p[0]);
	snprintf(url, sizeof(url), "redis://:s3cret%%20pass@127.0.0.1:%d", srv.port);
	s = settings_for(url);
	connect_probe(base, &s, &p[1]);
	if (p[0].conn == NULL || p[1].conn == NULL) {
		CHECK(!"redisconn_new");
		goto end;
	}
	LOOP_UNTIL(base, p[0].connected && p[1].connected, WAIT_MS);
	CHECK_INT(p[0].connected, 1);
	CHECK_INT(p[1].connected, 1);
	CHECK_INT(send_command(&p[0], &a[0], 2, incr), 0);
	LOOP_UNTIL(base, a[0].calls == 1, WAIT_MS);
	CHECK_INT(send_command(&p[1], &a[1], 2, incr), 0);
	LOOP_UNTIL(base, a[1].calls == 1, WAIT_MS);
	CHECK_INT(a[0].integer, 1);
	CHECK_INT(a[1].integer, 2);
	CHECK_STR(server_get(&srv, 0, "n", buf, sizeof(buf)), "2");
end:
	redisconn_free(p[0].conn);
	redisconn_free(p[1].conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_auth_acl_user_and_password(void)
{
	static const char *const args[] = {"--user",    "default", "off", "--user", "alice", "on",
	                                   ">pw-alice", "~*",      "&*",  "+@all",  NULL};
	struct redis_server_options opt = {0, args, "alice", "pw-alice"};
	const char *whoami[] = {"ACL", "WHOAMI"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct redisconn_settings s;
	struct answer a[2];
	struct probe p[3];
	char url[3][256], path[128];

	memset(a, 0, sizeof(a));
	memset(p, 0, sizeof(p));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	snprintf(path, sizeof(path), "%s/pw", srv.dir);
	CHECK_INT(write_file(path, "pw-alice\n", 0600), 0);
	snprintf(url[0], sizeof(url[0]), "redis://alice:pw-alice@127.0.0.1:%d", srv.port);
	snprintf(url[1], sizeof(url[1]), "redis://alice@127.0.0.1:%d", srv.port);
	snprintf(url[2], sizeof(url[2]), "redis://127.0.0.1:%d", srv.port);
	s = settings_for(url[0]);
	connect_probe(base, &s, &p[0]);
	s = settings_for(url[1]);
	s.password_file = path;
	connect_probe(base, &s, &p[1]);
	s = settings_for(url[2]);
	connect_probe(base, &s, &p[2]);
	if (p[0].conn == NULL || p[1].conn == NULL || p[2].conn == NULL) {
		CHECK(!"redisconn_new");
		goto end;
	}
	LOOP_UNTIL(base, p[0].connected && p[1].connected && p[2].downs >= 1, WAIT_MS);
	CHECK_INT(p[0].connected, 1);
	CHECK_INT(p[1].connected, 1);
	CHECK_INT(send_command(&p[0], &a[0], 2, whoami), 0);
	CHECK_INT(send_command(&p[1], &a[1], 2, whoami), 0);
	LOOP_UNTIL(base, a[0].calls == 1 && a[1].calls == 1, WAIT_MS);
	CHECK_STR(a[0].str, "alice");
	CHECK_STR(a[1].str, "alice");
	/* Without credentials the default user is off: the handshake's PING fails. */
	CHECK_INT(p[2].ups, 0);
	CHECK(strstr(p[2].reason, "PING failed: NOAUTH") != NULL);
end:
	redisconn_free(p[0].conn);
	redisconn_free(p[1].conn);
	redisconn_free(p[2].conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_wrong_password_not_connected_reason_and_backoff(void)
{
	static const char *const args[] = {"--requirepass", "s3cret", NULL};
	struct redis_server_options opt = {1, args, NULL, "s3cret"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct redisconn_settings s;
	struct probe p;
	char url[256];
	const char *ping[] = {"PING"};
	struct answer a;

	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	snprintf(url, sizeof(url), "%s/pw", srv.dir);
	CHECK_INT(write_file(url, "bad-pass-123\n", 0600), 0);
	s = settings_for(srv.url);
	s.password_file = url;
	s.backoff_min_ms = 50;
	s.backoff_max_ms = 200;
	if (connect_probe(base, &s, &p) == NULL) {
		CHECK(!"redisconn_new");
		goto end;
	}
	LOOP_UNTIL(base, p.downs >= 3, WAIT_MS);
	CHECK(p.downs >= 3); /* it keeps retrying */
	CHECK_INT(p.ups, 0);
	CHECK_INT(redisconn_connected(p.conn), 0);
	CHECK_INT(send_command(&p, &a, 1, ping), -1);
	CHECK_INT(a.calls, 0);
	CHECK(strstr(p.reason, "AUTH failed: WRONGPASS") != NULL);
	CHECK(strstr(p.reason, "bad-pass") == NULL);
	/* Backoff 50, 100, 200, 200...: about a dozen attempts in two seconds, where
	 * retrying without backoff would make hundreds. */
	loop_for(base, 2000);
	CHECK(p.downs >= 5);
	CHECK(p.downs <= 40);
	CHECK_INT(p.ups, 0);
end:
	redisconn_free(p.conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_server_killed_pending_get_null_once_then_reconnects(void)
{
	struct redis_server_options opt = {0, NULL, NULL, NULL};
	const char *blpop[] = {"BLPOP", "never", "0"};
	const char *incr[] = {"INCR", "n"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct answer a[4], after;
	struct probe p;
	int i, calls;

	memset(a, 0, sizeof(a));
	memset(&after, 0, sizeof(after));
	/* A 60 s command timeout: BLPOP waits, and only the crash may end it. */
	if (start_server_and_connect(&srv, &opt, base, 60000, &p) == -1)
		goto end;
	p.watch = a;
	p.watch_count = 4;
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	CHECK_INT(send_command(&p, &a[0], 3, blpop), 0);
	for (i = 1; i < 4; i++)
		CHECK_INT(send_command(&p, &a[i], 2, incr), 0);
	CHECK_INT(redisconn_in_flight(p.conn), 4);
	LOOP_UNTIL(base, server_blocked_clients(&srv) == 1, WAIT_MS);
	CHECK_INT(server_blocked_clients(&srv), 1);
	redis_server_kill(&srv);
	LOOP_UNTIL(base, p.downs >= 1, WAIT_MS);
	CHECK_INT(p.downs, 1);
	CHECK_INT(p.connected, 0);
	CHECK_INT(p.calls_seen_at_down, 4); /* every pending callback ran before the news */
	CHECK(strstr(p.reason, "connection lost") != NULL);
	CHECK_INT(redisconn_in_flight(p.conn), 0);
	CHECK_INT(send_command(&p, &after, 2, incr), -1);
	loop_for(base, 200);
	for (i = 0, calls = 0; i < 4; i++) {
		CHECK_INT(a[i].calls, 1);
		CHECK_INT(a[i].nulls, 1);
		calls += a[i].calls;
	}
	CHECK_INT(calls, 4);
	if (redis_server_restart(&srv) == -1) {
		CHECK(!"redis_server_restart");
		goto end;
	}
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	CHECK_INT(p.ups, 2);
	CHECK_INT(send_command(&p, &after, 2, incr), 0);
	LOOP_UNTIL(base, after.calls == 1, WAIT_MS);
	CHECK_INT(after.type, REDIS_REPLY_INTEGER);
	CHECK_INT(after.integer, 1); /* a fresh server */
	for (i = 0; i < 4; i++)
		CHECK_INT(a[i].calls, 1);
end:
	redisconn_free(p.conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_redis_down_at_start_connects_when_it_comes_up(void)
{
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	const char *ping[] = {"PING"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct redisconn_settings s;
	struct answer a;
	struct probe p;

	memset(&a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	redis_server_kill(&srv);
	s = settings_for(srv.url);
	if (connect_probe(base, &s, &p) == NULL) {
		CHECK(!"redisconn_new");
		goto end;
	}
	LOOP_UNTIL(base, p.downs >= 2, WAIT_MS);
	CHECK(p.downs >= 2);
	CHECK_INT(p.ups, 0);
	CHECK(strstr(p.reason, "connect") != NULL);
	CHECK_INT(send_command(&p, &a, 1, ping), -1);
	if (redis_server_restart(&srv) == -1) {
		CHECK(!"redis_server_restart");
		goto end;
	}
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	CHECK_INT(p.ups, 1);
	CHECK_INT(send_command(&p, &a, 1, ping), 0);
	LOOP_UNTIL(base, a.calls == 1, WAIT_MS);
	CHECK_STR(a.str, "PONG");
end:
	redisconn_free(p.conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_server_stopped_deadline_fires_then_reconnects_after_sigcont(void)
{
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	const char *incr[] = {"INCR", "n"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct redisconn_settings s;
	struct answer a[3];
	struct probe p;
	int downs;

	memset(a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	s = settings_for(srv.url);
	s.command_timeout_ms = 300;
	s.connect_timeout_ms = 300;
	s.backoff_min_ms = 20;
	s.backoff_max_ms = 100;
	if (connect_probe(base, &s, &p) == NULL) {
		CHECK(!"redisconn_new");
		goto end;
	}
	p.watch = a;
	p.watch_count = 2;
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	CHECK_INT(redis_server_pause(&srv), 0);
	CHECK_INT(send_command(&p, &a[0], 2, incr), 0);
	CHECK_INT(send_command(&p, &a[1], 2, incr), 0);
	LOOP_UNTIL(base, p.downs >= 1, WAIT_MS);
	CHECK_INT(p.downs, 1);
	CHECK_INT(p.calls_seen_at_down, 2);
	CHECK_INT(a[0].calls, 1);
	CHECK_INT(a[0].nulls, 1);
	CHECK_INT(a[1].calls, 1);
	CHECK_INT(a[1].nulls, 1);
	CHECK(strstr(p.reason, "command_timeout_ms=300") != NULL);
	CHECK_INT(redisconn_in_flight(p.conn), 0);
	/* While frozen the socket still connects (the kernel's backlog) but the
	 * handshake is never answered: the connect timeout fails each attempt. */
	LOOP_UNTIL(base, strstr(p.reason, "connect_timeout_ms=300") != NULL, WAIT_MS);
	CHECK(strstr(p.reason, "connect_timeout_ms=300") != NULL);
	CHECK_INT(p.ups, 1);
	downs = p.downs;
	CHECK(downs >= 2);
	CHECK_INT(redis_server_resume(&srv), 0);
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	CHECK_INT(p.ups, 2);
	CHECK_INT(send_command(&p, &a[2], 2, incr), 0);
	LOOP_UNTIL(base, a[2].calls == 1, WAIT_MS);
	CHECK_INT(a[2].type, REDIS_REPLY_INTEGER);
	/* The frozen INCRs may or may not have run after SIGCONT: 1 to 3. */
	CHECK(a[2].integer >= 1 && a[2].integer <= 3);
	CHECK_INT(a[0].calls, 1);
	CHECK_INT(a[1].calls, 1);
end:
	redis_server_stop(&srv); /* SIGKILL works on a stopped process too */
	redisconn_free(p.conn);
	event_base_free(base);
}

static void test_script_flush_then_eval_still_works_via_noscript_fallback(void)
{
	struct redis_server_options opt = {0, NULL, NULL, NULL};
	const char *args[] = {"counter", "5"};
	const char *flush[] = {"SCRIPT", "FLUSH"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct answer a[8];
	struct probe p;
	redisReply *reply;
	int incrby, echo, broken;

	memset(a, 0, sizeof(a));
	if (start_server_and_connect(&srv, &opt, base, 0, &p) == -1)
		goto end;
	incrby = redisconn_script(p.conn, "return redis.call('INCRBY', KEYS[1], ARGV[1])");
	CHECK_INT(incrby, 0);
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	/* SCRIPT LOAD ran before connected = 1 (sha1 of the script's text). */
	reply = redis_server_command(&srv, 0, "SCRIPT EXISTS %s",
	                             "8cd00688c05c46bde4a2e60658ef20a2e5c0b248");
	CHECK(reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
	      reply->element[0]->integer == 1);
	if (reply != NULL)
		freeReplyObject(reply);

	CHECK_INT(send_eval(&p, &a[0], incrby, 2, args, 1), 0);
	LOOP_UNTIL(base, a[0].calls == 1, WAIT_MS);
	CHECK_INT(a[0].type, REDIS_REPLY_INTEGER);
	CHECK_INT(a[0].integer, 5);

	/* Flush, then two evals in a row: both see only their final reply. */
	CHECK_INT(send_command(&p, &a[1], 2, flush), 0);
	CHECK_INT(send_eval(&p, &a[2], incrby, 2, args, 1), 0);
	CHECK_INT(send_eval(&p, &a[3], incrby, 2, args, 1), 0);
	CHECK_INT(redisconn_in_flight(p.conn), 3);
	LOOP_UNTIL(base, a[3].calls == 1, WAIT_MS);
	CHECK_STR(a[1].str, "OK");
	CHECK_INT(a[2].calls, 1);
	CHECK_INT(a[2].type, REDIS_REPLY_INTEGER);
	CHECK_INT(a[2].integer, 10);
	CHECK_INT(a[3].calls, 1);
	CHECK_INT(a[3].type, REDIS_REPLY_INTEGER);
	CHECK_INT(a[3].integer, 15);
	CHECK_INT(redisconn_in_flight(p.conn), 0);

	/* A script registered while connected is loaded at once and usable. */
	echo = redisconn_script(p.conn, "return ARGV[1]");
	CHECK_INT(echo, 1);
	CHECK_INT(send_eval(&p, &a[4], echo, 1, args + 1, 0), 0);
	LOOP_UNTIL(base, a[4].calls == 1, WAIT_MS);
	CHECK_INT(a[4].type, REDIS_REPLY_STRING);
	CHECK_STR(a[4].str, "5");

	/* A script error is the caller's reply, not a reconnect. */
	broken = redisconn_script(p.conn, "return redis.call('NOSUCHCOMMAND')");
	CHECK_INT(send_eval(&p, &a[5], broken, 0, NULL, 0), 0);
	LOOP_UNTIL(base, a[5].calls == 1, WAIT_MS);
	CHECK_INT(a[5].type, REDIS_REPLY_ERROR);
	CHECK_INT(p.downs, 0);
	CHECK_INT(send_eval(&p, &a[6], 7, 0, NULL, 0), -1); /* no such script */

	/* After a restart (empty script cache) the handshake loads them again. */
	if (redis_server_restart(&srv) == -1) {
		CHECK(!"redis_server_restart");
		goto end;
	}
	LOOP_UNTIL(base, p.ups == 2, WAIT_MS);
	CHECK_INT(send_eval(&p, &a[7], incrby, 2, args, 1), 0);
	LOOP_UNTIL(base, a[7].calls == 1, WAIT_MS);
	CHECK_INT(a[7].type, REDIS_REPLY_INTEGER);
	CHECK_INT(a[7].integer, 5);
end:
	redisconn_free(p.conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_free_inside_reply_callback_answers_the_rest_null_once(void)
{
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	const char *ping[] = {"PING"};
	const char *blpop[] = {"BLPOP", "never", "0"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct answer a[4];
	struct probe p;
	int i;

	memset(a, 0, sizeof(a));
	if (start_server_and_connect(&srv, &opt, base, 0, &p) == -1)
		goto end;
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	a[0].free_conn = 1;
	a[0].others = a + 1;
	a[0].other_count = 3;
	CHECK_INT(send_command(&p, &a[0], 1, ping), 0);
	CHECK_INT(send_command(&p, &a[1], 1, ping), 0);
	CHECK_INT(send_command(&p, &a[2], 3, blpop), 0);
	CHECK_INT(send_command(&p, &a[3], 1, ping), 0);
	LOOP_UNTIL(base, p.conn == NULL, WAIT_MS);
	CHECK(p.conn == NULL);
	CHECK_STR(a[0].str, "PONG");
	CHECK_INT(a[0].seen_others, 3); /* answered before redisconn_free returned */
	loop_for(base, 200);
	CHECK_INT(a[0].calls, 1);
	for (i = 1; i < 4; i++) {
		CHECK_INT(a[i].calls, 1);
		CHECK_INT(a[i].nulls, 1);
	}
	CHECK_INT(p.downs, 0); /* freeing is not a state change to report */
end:
	redisconn_free(p.conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_free_inside_null_callback_of_a_lost_connection(void)
{
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	const char *blpop[] = {"BLPOP", "never", "0"};
	const char *ping[] = {"PING"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct answer a[3];
	struct probe p;
	int i;

	memset(a, 0, sizeof(a));
	if (start_server_and_connect(&srv, &opt, base, 60000, &p) == -1)
		goto end;
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	a[0].free_conn = 1;
	a[0].others = a + 1;
	a[0].other_count = 2;
	CHECK_INT(send_command(&p, &a[0], 3, blpop), 0);
	CHECK_INT(send_command(&p, &a[1], 1, ping), 0);
	CHECK_INT(send_command(&p, &a[2], 1, ping), 0);
	LOOP_UNTIL(base, server_blocked_clients(&srv) == 1, WAIT_MS);
	redis_server_kill(&srv);
	LOOP_UNTIL(base, p.conn == NULL, WAIT_MS);
	CHECK(p.conn == NULL);
	CHECK_INT(a[0].seen_others, 2);
	loop_for(base, 200);
	for (i = 0; i < 3; i++) {
		CHECK_INT(a[i].calls, 1);
		CHECK_INT(a[i].nulls, 1);
	}
	CHECK_INT(p.downs, 0); /* freed before hiredis reported the loss */
end:
	redisconn_free(p.conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_free_inside_state_callback_up_and_down(void)
{
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	const char *blpop[] = {"BLPOP", "never", "0"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct redisconn_settings s;
	struct answer a;
	struct probe p[4];
	char missing[256], refused[128];

	memset(&a, 0, sizeof(a));
	memset(p, 0, sizeof(p));
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis_server_start");
		goto end;
	}
	/* Freed in connected = 1. */
	s = settings_for(srv.url);
	connect_probe(base, &s, &p[0]);
	p[0].free_on_up = 1;
	/* Freed in connected = 0 after a failed connect (no such socket). */
	snprintf(missing, sizeof(missing), "unix://%s/missing.sock", srv.dir);
	s = settings_for(missing);
	connect_probe(base, &s, &p[1]);
	p[1].free_on_down = 1;
	/* Freed in connected = 0 after a refused TCP connect (reported by hiredis'
	 * connect callback, after which hiredis frees its context itself). */
	snprintf(refused, sizeof(refused), "redis://127.0.0.1:%d", redis_server_free_port());
	s = settings_for(refused);
	connect_probe(base, &s, &p[3]);
	p[3].free_on_down = 1;
	/* Freed in connected = 0 after losing a connection with a command pending. */
	s = settings_for(srv.url);
	s.command_timeout_ms = 60000;
	connect_probe(base, &s, &p[2]);
	p[2].free_on_down = 1;
	if (p[0].conn == NULL || p[1].conn == NULL || p[2].conn == NULL || p[3].conn == NULL) {
		CHECK(!"redisconn_new");
		goto end;
	}
	LOOP_UNTIL(base,
	           p[0].conn == NULL && p[1].conn == NULL && p[3].conn == NULL && p[2].connected,
	           WAIT_MS);
	CHECK(p[0].conn == NULL);
	CHECK_INT(p[0].ups, 1);
	CHECK(p[1].conn == NULL);
	CHECK_INT(p[1].downs, 1);
	CHECK(strstr(p[1].reason, "connect: No such file") != NULL);
	CHECK(p[3].conn == NULL);
	CHECK_INT(p[3].downs, 1);
	CHECK(strstr(p[3].reason, "connect: Connection refused") != NULL);
	CHECK_INT(send_command(&p[2], &a, 3, blpop), 0);
	LOOP_UNTIL(base, server_blocked_clients(&srv) == 1, WAIT_MS);
	redis_server_kill(&srv);
	LOOP_UNTIL(base, p[2].conn == NULL, WAIT_MS);
	CHECK(p[2].conn == NULL);
	CHECK_INT(a.calls, 1);
	CHECK_INT(a.nulls, 1);
	loop_for(base, 200);
	CHECK_INT(p[0].ups + p[0].downs, 1);
	CHECK_INT(p[1].ups + p[1].downs, 1);
	CHECK_INT(p[2].ups + p[2].downs, 2);
	CHECK_INT(p[3].ups + p[3].downs, 1);
	CHECK_INT(a.calls, 1);
end:
	redisconn_free(p[0].conn);
	redisconn_free(p[1].conn);
	redisconn_free(p[2].conn);
	redisconn_free(p[3].conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_free_from_top_level_answers_pending_null(void)
{
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	const char *blpop[] = {"BLPOP", "never", "0"};
	const char *ping[] = {"PING"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct answer a[2];
	struct probe p;

	memset(a, 0, sizeof(a));
	if (start_server_and_connect(&srv, &opt, base, 60000, &p) == -1)
		goto end;
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	CHECK_INT(send_command(&p, &a[0], 3, blpop), 0);
	CHECK_INT(send_command(&p, &a[1], 1, ping), 0);
	LOOP_UNTIL(base, server_blocked_clients(&srv) == 1, WAIT_MS);
	redisconn_free(p.conn);
	p.conn = NULL;
	CHECK_INT(a[0].calls, 1);
	CHECK_INT(a[0].nulls, 1);
	CHECK_INT(a[1].calls, 1);
	CHECK_INT(a[1].nulls, 1);
	loop_for(base, 200);
	CHECK_INT(a[0].calls + a[1].calls, 2);
	CHECK_INT(p.downs, 0);
	CHECK_INT(server_blocked_clients(&srv), 0); /* the socket was closed */
end:
	redisconn_free(p.conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_in_flight_counts_sent_and_unanswered(void)
{
	struct redis_server_options opt = {0, NULL, NULL, NULL};
	const char *blpop[] = {"BLPOP", "queue", "0"};
	const char *ping[] = {"PING"};
	struct redis_server srv;
	struct event_base *base = event_base_new();
	struct answer a[3];
	struct probe p;
	redisReply *reply;

	memset(a, 0, sizeof(a));
	if (start_server_and_connect(&srv, &opt, base, 60000, &p) == -1)
		goto end;
	CHECK_INT(redisconn_in_flight(p.conn), 0);
	LOOP_UNTIL(base, p.connected, WAIT_MS);
	CHECK_INT(redisconn_in_flight(p.conn), 0); /* the handshake is not counted */
	CHECK_INT(send_command(&p, &a[0], 3, blpop), 0);
	CHECK_INT(redisconn_in_flight(p.conn), 1);
	CHECK_INT(send_command(&p, &a[1], 1, ping), 0);
	CHECK_INT(send_command(&p, &a[2], 1, ping), 0);
	CHECK_INT(redisconn_in_flight(p.conn), 3);
	LOOP_UNTIL(base, server_blocked_clients(&srv) == 1, WAIT_MS);
	CHECK_INT(redisconn_in_flight(p.conn), 3);
	reply = redis_server_command(&srv, 0, "RPUSH queue item");
	CHECK(reply != NULL && reply->type == REDIS_REPLY_INTEGER);
	if (reply != NULL)
		freeReplyObject(reply);
	LOOP_UNTIL(base, redisconn_in_flight(p.conn) == 0, WAIT_MS);
	CHECK_INT(redisconn_in_flight(p.conn), 0);
	CHECK_INT(a[0].calls, 1);
	CHECK_INT(a[0].type, REDIS_REPLY_ARRAY);
	CHECK_INT(a[1].calls, 1);
	CHECK_INT(a[2].calls, 1);
end:
	redisconn_free(p.conn);
	redis_server_stop(&srv);
	event_base_free(base);
}

static void test_unresolvable_host_reports_down_and_frees_with_lookup_in_flight(void)
{
	struct event_base *base = event_base_new();
	struct redisconn_settings s = settings_for("redis://chatlogd-test.invalid:6379");
	struct probe p[2];

	s.connect_timeout_ms = 300;
	connect_probe(base, &s, &p[0]);
	if (p[0].conn == NULL) {
		CHECK(!"redisconn_new");
		goto end;
	}
	/* Either the DNS server says no or the connect timeout ends the attempt. */
	LOOP_UNTIL(base, p[0].downs >= 1, WAIT_MS);
	CHECK(p[0].downs >= 1);
	CHECK_INT(p[0].ups, 0);
	CHECK(strstr(p[0].reason, "resolve chatlogd-test.invalid") != NULL ||
	      strstr(p[0].reason, "connect_timeout_ms") != NULL);
	/* Freed right after starting, while the lookup may still be out: the
	 * cancelled lookup must come back harmlessly (ASan watches). */
	s.connect_timeout_ms = 2000;
	connect_probe(base, &s, &p[1]);
	event_base_loop(base, EVLOOP_NONBLOCK); /* runs the attempt, not the answer */
	redisconn_free(p[1].conn);
	p[1].conn = NULL;
	loop_for(base, 300);
	CHECK_INT(p[1].ups, 0);
end:
	redisconn_free(p[0].conn);
	event_base_free(base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (getenv("CHATLOGD_TEST_DEBUG") != NULL)
		log_set_level(LOG_LEVEL_DEBUG);
	RUN(test_url_table_good_and_bad_urls);
	RUN(test_parse_url_fills_endpoint_and_empties_it_on_error);
	RUN(test_settings_and_password_file_errors);
	RUN(test_connect_over_unix_socket_set_and_get);
	RUN(test_connect_over_tcp_by_address_and_by_localhost);
	RUN(test_select_db_in_url_takes_effect);
	RUN(test_auth_requirepass_from_password_file_and_from_url);
	RUN(test_auth_acl_user_and_password);
	RUN(test_wrong_password_not_connected_reason_and_backoff);
	RUN(test_server_killed_pending_get_null_once_then_reconnects);
	RUN(test_redis_down_at_start_connects_when_it_comes_up);
	RUN(test_server_stopped_deadline_fires_then_reconnects_after_sigcont);
	RUN(test_script_flush_then_eval_still_works_via_noscript_fallback);
	RUN(test_free_inside_reply_callback_answers_the_rest_null_once);
	RUN(test_free_inside_null_callback_of_a_lost_connection);
	RUN(test_free_inside_state_callback_up_and_down);
	RUN(test_free_from_top_level_answers_pending_null);
	RUN(test_in_flight_counts_sent_and_unanswered);
	RUN(test_unresolvable_host_reports_down_and_frees_with_lookup_in_flight);
	return check_done();
}
