/*
 * Tests for rediscluster: the slot function against the cluster spec's values and
 * against CLUSTER KEYSLOT, then the client on a real libevent loop against a private
 * Redis Cluster of 3 masters and 3 replicas (tests/integration/private_cluster.sh,
 * started by a supervising shell that stops it when this process ends, however it
 * ends): keys spread over every master, scripts with hash-tagged keys, MOVED after a
 * reshard, ASK during a manual migration, a manual failover, a killed master and the
 * automatic failover, the cluster setting of redisconn both ways, and freeing from
 * inside callbacks. The cluster tests run in order on the one cluster: the failovers
 * come last because they change it. Skipped (77) without redis-server.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "chatlogd/log.h"
#include "chatlogd/publish.h"
#include "chatlogd/rediscluster.h"
#include "chatlogd/redisconn.h"
#include "chatlogd/sender.h"
#include "chatlogd/store.h"
#include "check.h"
#include "redis_server.h"

/* Generous bound for anything that should take milliseconds. */
#define WAIT_MS 10000
/* An automatic failover: node timeout (1 s), the failure report spreading, the
 * replica's election; a few seconds, bounded generously for a loaded machine. */
#define FAILOVER_WAIT_MS 30000
#define MAX_NODES 16

/* The cluster every test below main's first section shares. */
static struct {
	pid_t supervisor;  /* the shell that started it and stops it at EOF on its stdin */
	int supervisor_in; /* our end of that stdin */
	char dir[64];
	int ports[MAX_NODES];
	int count;
} cluster;

static unsigned long long rng_state;

static unsigned long long rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---- the cluster ---- */

/* Starts the cluster under a shell that waits for EOF on its stdin and then stops
 * it: closing our end, or this process dying, ends the cluster. */
static int cluster_start(void)
{
	static const char script[] =
	    ". \"$1/tests/integration/private_cluster.sh\"\n"
	    "if private_cluster_start \"$2\" 3 1 >&2; then echo \"ready $CLUSTER_PORTS\"; "
	    "else echo failed; fi\n"
	    "cat >/dev/null\n"
	    "private_cluster_stop\n";
	int to_shell[2], from_shell[2], n = 0;
	char line[512], *p, *end;
	FILE *in;
	int64_t start = redis_server_now_ms();

	snprintf(cluster.dir, sizeof(cluster.dir), "/tmp/test_rediscluster.XXXXXX");
	if (mkdtemp(cluster.dir) == NULL || pipe(to_shell) == -1 || pipe(from_shell) == -1)
		return -1;
	if ((cluster.supervisor = fork()) == -1)
		return -1;
	if (cluster.supervisor == 0) {
		dup2(to_shell[0], 0);
		dup2(from_shell[1], 1);
		close(to_shell[0]);
		close(to_shell[1]);
		close(from_shell[0]);
		close(from_shell[1]);
		execl("/bin/sh", "sh", "-c", script, "sh", SOURCE_DIR, cluster.dir, (char *)NULL);
		_exit(127);
	}
	close(to_shell[0]);
	close(from_shell[1]);
	cluster.supervisor_in = to_shell[1];
	if ((in = fdopen(from_shell[0], "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), in) == NULL || strncmp(line, "ready ", 6) != 0) {
		fclose(in);
		return -1;
	}
	fclose(in);
	for (p = line + 6; n < MAX_NODES; p = end) {
		long port = strtol(p, &end, 10);
		if (end == p)
			break;
		cluster.ports[n++] = (int)port;
	}
	cluster.count = n;
	fprintf(stderr, "     cluster of %d nodes up in %lld ms (dir %s)\n", n,
	        (long long)(redis_server_now_ms() - start), cluster.dir);
	return n == 6 ? 0 : -1;
}

static void cluster_stop(void)
{
	char cmd[128];

	if (cluster.supervisor > 0) {
		close(cluster.supervisor_in);
		waitpid(cluster.supervisor, NULL, 0);
	}
	if (cluster.dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cluster.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", cluster.dir);
	}
}

/* Runs a private_cluster.sh command line on the cluster; its first output line in
 * out. Returns the exit status. */
static int cluster_sh(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cluster_sh(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[1024], line[256] = "";
	va_list ap;
	FILE *f;
	int n, status;

	n = snprintf(cmd, sizeof(cmd),
	             ". '%s/tests/integration/private_cluster.sh'; . '%s/cluster.env'; ",
	             SOURCE_DIR, cluster.dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) != NULL)
		line[strcspn(line, "\n")] = '\0';
	while (fgetc(f) != EOF)
		;
	status = pclose(f);
	if (out != NULL)
		snprintf(out, outlen, "%s", line);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The replica of the master on port (a port), or -1. */
static int replica_of(int port)
{
	char out[64];

	if (cluster_sh(out, sizeof(out), "private_cluster_replica_of %d", port) != 0)
		return -1;
	return atoi(out);
}

/* A blocking client to one node (5 s timeouts). */
static redisContext *node_connect(int port)
{
	struct timeval tv = {5, 0};
	redisContext *rc = redisConnectWithTimeout("127.0.0.1", port, tv);

	if (rc != NULL && rc->err == 0 && redisSetTimeout(rc, tv) == REDIS_OK)
		return rc;
	if (rc != NULL)
		redisFree(rc);
	return NULL;
}

static redisReply *node_command(int port, const char *fmt, ...)
{
	redisContext *rc = node_connect(port);
	redisReply *reply;
	va_list ap;

	if (rc == NULL)
		return NULL;
	va_start(ap, fmt);
	reply = redisvCommand(rc, fmt, ap);
	va_end(ap);
	redisFree(rc);
	return reply;
}

/* The port of the master serving slot, as node `ask` sees it; -1 if unknown. */
static int slot_owner(int ask, unsigned slot)
{
	redisReply *r = node_command(ask, "CLUSTER SLOTS");
	int port = -1;

	for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		redisReply *range = r->element[i];
		if ((unsigned)range->element[0]->integer <= slot &&
		    slot <= (unsigned)range->element[1]->integer)
			port = (int)range->element[2]->element[1]->integer;
	}
	if (r != NULL)
		freeReplyObject(r);
	return port;
}

static int node_id(int port, char *out, size_t outlen)
{
	redisReply *r = node_command(port, "CLUSTER MYID");
	int ok = r != NULL && r->type == REDIS_REPLY_STRING;

	if (ok)
		snprintf(out, outlen, "%s", r->str);
	if (r != NULL)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* A live node's port, to ask things of. */
static int any_live_port(void)
{
	for (int i = 0; i < cluster.count; i++) {
		redisReply *r = node_command(cluster.ports[i], "PING");
		int live = r != NULL && r->type == REDIS_REPLY_STATUS;
		if (r != NULL)
			freeReplyObject(r);
		if (live)
			return cluster.ports[i];
	}
	return -1;
}

/* A key whose slot is slot, "prefix<n>" for the smallest such n. */
static void key_for_slot(unsigned slot, const char *prefix, char *out, size_t outlen)
{
	for (unsigned n = 0;; n++) {
		snprintf(out, outlen, "%s%u", prefix, n);
		if (rediscluster_slot(out, strlen(out)) == slot)
			return;
	}
}

/* ---- the client on a loop ---- */

struct probe {
	struct event_base *base;
	struct rediscluster *cluster;
	int ups, downs, connected;
	char reason[256];
	int free_on_up;
};

struct answer {
	struct probe *probe;
	int calls, nulls;
	int type;
	long long integer;
	char str[128];
	int free_cluster; /* rediscluster_free inside this callback */
};

static void on_state(void *ctx, int connected, const char *reason)
{
	struct probe *p = ctx;

	p->connected = connected;
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
	if (connected)
		p->ups++;
	else
		p->downs++;
	if (connected && p->free_on_up) {
		rediscluster_free(p->cluster);
		p->cluster = NULL;
	}
}

static void on_answer(void *ctx, struct redisReply *reply, void *privdata)
{
	struct probe *p = ctx;
	struct answer *a = privdata;

	CHECK(a->probe == p);
	a->calls++;
	if (reply == NULL) {
		a->nulls++;
	} else {
		a->type = reply->type;
		a->integer = reply->integer;
		if (reply->str != NULL)
			snprintf(a->str, sizeof(a->str), "%.*s", (int)reply->len, reply->str);
	}
	if (a->free_cluster) {
		rediscluster_free(p->cluster);
		p->cluster = NULL;
	}
}

static void loop_once(struct event_base *base)
{
	struct timeval tv = {0, 10000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

#define LOOP_UNTIL_MS(p, cond, ms)                                                                 \
	do {                                                                                       \
		int64_t loop_until_ = redis_server_now_ms() + (ms);                                \
		while (!(cond) && redis_server_now_ms() < loop_until_)                             \
			loop_once((p)->base);                                                      \
	} while (0)
#define LOOP_UNTIL(p, cond) LOOP_UNTIL_MS(p, cond, WAIT_MS)

static struct redisconn_settings settings_for(const char *url)
{
	return (struct redisconn_settings){.url = url,
	                                   .password_file = "",
	                                   .connect_timeout_ms = 2000,
	                                   .command_timeout_ms = 3000,
	                                   .backoff_min_ms = 50,
	                                   .backoff_max_ms = 500};
}

/* A client seeded with node seed_port, connected (checked) when this returns 0. */
static int probe_start(struct probe *p, int seed_port)
{
	char url[64], err[256] = "";
	struct redisconn_settings s;

	memset(p, 0, sizeof(*p));
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", seed_port);
	s = settings_for(url);
	if ((p->base = event_base_new()) == NULL)
		return -1;
	if ((p->cluster = rediscluster_new(p->base, &s, on_state, p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "rediscluster_new: %s\n", err);
		return -1;
	}
	LOOP_UNTIL(p, p->connected);
	CHECK(p->connected);
	CHECK(rediscluster_connected(p->cluster));
	return p->connected ? 0 : -1;
}

static void probe_stop(struct probe *p)
{
	rediscluster_free(p->cluster);
	p->cluster = NULL;
	if (p->base != NULL)
		event_base_free(p->base);
	p->base = NULL;
}

static void loop_for(struct probe *p, int ms)
{
	int64_t until = redis_server_now_ms() + ms;

	while (redis_server_now_ms() < until)
		loop_once(p->base);
}

/* Sends a command on key through the cluster client; -1 if it refused. */
static int send_command(struct probe *p, struct answer *a, const char *key, int argc, ...)
{
	const char *argv[8];
	size_t argvlen[8];
	va_list ap;

	memset(a, 0, sizeof(*a));
	a->probe = p;
	va_start(ap, argc);
	for (int i = 0; i < argc && i < 8; i++) {
		argv[i] = va_arg(ap, const char *);
		argvlen[i] = strlen(argv[i]);
	}
	va_end(ap);
	return rediscluster_command(p->cluster, key, strlen(key), argc, argv, argvlen, on_answer,
	                            a);
}

/* GET key through the client, retried while the client refuses or answers NULL
 * (a map settling), until within WAIT_MS; the value in a. */
static int get_until_answered(struct probe *p, struct answer *a, const char *key)
{
	int64_t until = redis_server_now_ms() + WAIT_MS;

	while (redis_server_now_ms() < until) {
		if (send_command(p, a, key, 2, "GET", key) == 0) {
			LOOP_UNTIL(p, a->calls == 1);
			if (a->calls == 1 && a->nulls == 0)
				return 0;
		} else {
			loop_once(p->base);
		}
	}
	return -1;
}

/* ---- tests without a server ---- */

static void test_slot_known_values_from_the_cluster_spec(void)
{
	CHECK_INT(rediscluster_slot("123456789", 9), 12739);
	CHECK_INT(rediscluster_slot("foo", 3), 12182);
	CHECK_INT(rediscluster_slot("", 0), 0);
	CHECK_INT(rediscluster_slot("{user1000}.following", 20),
	          rediscluster_slot("{user1000}.followers", 20));
	CHECK_INT(rediscluster_slot("{user1000}.following", 20), 3443);
	/* An empty tag: the whole key. */
	CHECK_INT(rediscluster_slot("foo{}{bar}", 10), 8363);
	CHECK(rediscluster_slot("foo{}{bar}", 10) != rediscluster_slot("bar", 3));
	/* The tag ends at the first '}' after the first '{'. */
	CHECK_INT(rediscluster_slot("foo{{bar}}zap", 13), 4015);
	CHECK_INT(rediscluster_slot("foo{bar}{zap}", 13), 5061);
	/* No '}' after the '{': the whole key. */
	CHECK_INT(rediscluster_slot("foo}{bar", 8), 7624);
	CHECK_INT(rediscluster_slot("{", 1), rediscluster_slot("{", 1));
	CHECK(rediscluster_slot("a{b", 3) != rediscluster_slot("b", 1));
	/* Binary keys: the length counts, not a NUL. */
	CHECK(rediscluster_slot("a\0b", 3) != rediscluster_slot("a", 1));
}

static void test_new_refuses_a_db_a_unix_socket_and_bad_settings(void)
{
	struct event_base *base = event_base_new();
	struct redisconn_settings s = settings_for("redis://127.0.0.1:7000/2");
	char err[256] = "";

	CHECK(rediscluster_new(base, &s, on_state, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "only db 0") != NULL);
	s.url = "unix:///tmp/redis.sock";
	CHECK(rediscluster_new(base, &s, on_state, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "over TCP") != NULL);
	s.url = "redis://127.0.0.1:7000";
	s.backoff_min_ms = 0;
	CHECK(rediscluster_new(base, &s, on_state, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "backoff") != NULL);
	s = settings_for("redis://:sekrit@127.0.0.1:7000/0");
	s.password_file = "/nonexistent/password";
	CHECK(rediscluster_new(base, &s, on_state, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "sekrit") == NULL);
	event_base_free(base);
}

/* ---- the redisconn setting ---- */

/* A redisconn with the given cluster setting to url: connected (1) or refused (0,
 * with the reason). */
static int redisconn_outcome(const char *url, int cluster_setting, char *reason, size_t len,
                             int *wrong_mode)
{
	struct probe p;
	struct redisconn_settings s = settings_for(url);
	struct redisconn *conn;
	char err[256];

	memset(&p, 0, sizeof(p));
	s.cluster = cluster_setting;
	p.base = event_base_new();
	if ((conn = redisconn_new(p.base, &s, on_state, &p, err, sizeof(err))) == NULL) {
		event_base_free(p.base);
		return -1;
	}
	LOOP_UNTIL(&p, p.ups > 0 || p.downs > 0);
	snprintf(reason, len, "%s", p.reason);
	*wrong_mode = redisconn_wrong_mode(conn);
	redisconn_free(conn);
	event_base_free(p.base);
	return p.ups > 0;
}

static void test_redisconn_cluster_setting_refuses_the_wrong_kind_of_server(void)
{
	struct redis_server single;
	struct redis_server_options opt = {.unix_socket = 0};
	char url[64], reason[256];
	int wrong_mode = -1;

	if (redis_server_start(&single, &opt) == -1) {
		CHECK(!"redis-server");
		return;
	}
	/* A single server: fine with cluster = 0, refused with cluster = 1. */
	CHECK_INT(redisconn_outcome(single.url, 0, reason, sizeof(reason), &wrong_mode), 1);
	CHECK_INT(wrong_mode, 0);
	CHECK_INT(redisconn_outcome(single.url, 1, reason, sizeof(reason), &wrong_mode), 0);
	CHECK_STR(reason, "the server is not a Redis Cluster node: set redis_cluster = off");
	CHECK_INT(wrong_mode, 1);
	/* A cluster node: refused with cluster = 0, fine with cluster = 1. */
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", cluster.ports[0]);
	CHECK_INT(redisconn_outcome(url, 0, reason, sizeof(reason), &wrong_mode), 0);
	CHECK_STR(reason, "the server is a Redis Cluster node: set redis_cluster = on to publish "
	                  "to a Redis Cluster");
	CHECK_INT(wrong_mode, 1);
	CHECK_INT(redisconn_outcome(url, 1, reason, sizeof(reason), &wrong_mode), 1);
	CHECK_INT(wrong_mode, 0);
	redis_server_stop(&single);
}

static void test_cluster_seeded_with_a_single_server_is_refused_by_name(void)
{
	struct redis_server single;
	struct redis_server_options opt = {.unix_socket = 0};
	struct redisconn_settings s;
	struct probe p;
	char err[256];

	if (redis_server_start(&single, &opt) == -1) {
		CHECK(!"redis-server");
		return;
	}
	memset(&p, 0, sizeof(p));
	s = settings_for(single.url);
	p.base = event_base_new();
	p.cluster = rediscluster_new(p.base, &s, on_state, &p, err, sizeof(err));
	CHECK(p.cluster != NULL);
	if (p.cluster != NULL) {
		LOOP_UNTIL(&p, p.downs > 0);
		CHECK_INT(p.ups, 0);
		CHECK(strstr(p.reason, "not a Redis Cluster node: set redis_cluster = off") !=
		      NULL);
		CHECK_INT(rediscluster_wrong_mode(p.cluster), 1);
		CHECK_INT(rediscluster_connected(p.cluster), 0);
	}
	probe_stop(&p);
	redis_server_stop(&single);
}

static void test_a_node_with_no_slots_is_not_connected_and_says_why(void)
{
	struct redis_server lone;
	char bus[16];
	const char *args[] = {
	    "--cluster-enabled", "yes", "--cluster-port", bus, "--cluster-config-file",
	    "lone-nodes.conf",   NULL};
	struct redis_server_options opt = {.unix_socket = 0, .extra_args = args};
	struct redisconn_settings s;
	struct probe p;
	char err[256];

	snprintf(bus, sizeof(bus), "%d", redis_server_free_port());
	if (redis_server_start(&lone, &opt) == -1) {
		CHECK(!"redis-server --cluster-enabled yes");
		return;
	}
	memset(&p, 0, sizeof(p));
	s = settings_for(lone.url);
	p.base = event_base_new();
	p.cluster = rediscluster_new(p.base, &s, on_state, &p, err, sizeof(err));
	CHECK(p.cluster != NULL);
	if (p.cluster != NULL) {
		LOOP_UNTIL(&p, p.downs >= 2);
		CHECK_INT(p.ups, 0);
		CHECK(strstr(p.reason, "its slot map covers 0 of 16384 slots") != NULL);
		CHECK_INT(rediscluster_wrong_mode(p.cluster), 0);
		CHECK_INT(rediscluster_connected(p.cluster), 0);
	}
	probe_stop(&p);
	redis_server_stop(&lone);
}

/* ---- against the cluster ---- */

static void test_slot_agrees_with_cluster_keyslot(void)
{
	static const char alphabet[] = "ab{}x";
	redisContext *rc = node_connect(cluster.ports[0]);
	char key[16];
	int agree = 0, tries = 500;

	if (rc == NULL) {
		CHECK(!"connect");
		return;
	}
	for (int i = 0; i < tries; i++) {
		size_t len = 1 + rng_next() % 10;
		for (size_t k = 0; k < len; k++)
			key[k] = alphabet[rng_next() % 5];
		redisReply *r = redisCommand(rc, "CLUSTER KEYSLOT %b", key, len);
		if (r != NULL && r->type == REDIS_REPLY_INTEGER &&
		    r->integer == (long long)rediscluster_slot(key, len))
			agree++;
		else
			fprintf(stderr, "slot disagrees for \"%.*s\"\n", (int)len, key);
		if (r != NULL)
			freeReplyObject(r);
	}
	CHECK_INT(agree, tries);
	redisFree(rc);
}

static void test_seeded_by_a_replica_spreads_keys_over_all_masters(void)
{
	enum { KEYS = 300 };
	struct probe p;
	struct answer *a = calloc(KEYS, sizeof(*a));
	char(*keys)[32] = calloc(KEYS, sizeof(*keys)),
	(*values)[32] = calloc(KEYS, sizeof(*values));
	char endpoint[256];
	int replica = -1, masters[3], ok = 0, refused = 0, m = 0;
	unsigned long long tag = rng_next() % 1000000;

	memset(&p, 0, sizeof(p));
	replica = replica_of(slot_owner(cluster.ports[0], 0));
	CHECK(replica > 0);
	if (a == NULL || keys == NULL || values == NULL || replica <= 0 ||
	    probe_start(&p, replica) == -1)
		goto end;
	rediscluster_endpoint(p.cluster, endpoint, sizeof(endpoint));
	CHECK(strstr(endpoint, "masters=3") != NULL);
	for (int i = 0; i < KEYS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "spread:%llu:%d", tag, i);
		snprintf(values[i], sizeof(values[i]), "v%llu", rng_next() % 1000000);
		if (send_command(&p, &a[i], keys[i], 3, "SET", keys[i], values[i]) == -1)
			refused++;
	}
	CHECK_INT(refused, 0);
	CHECK(rediscluster_in_flight(p.cluster) > 0);
	LOOP_UNTIL(&p, rediscluster_in_flight(p.cluster) == 0);
	for (int i = 0; i < KEYS; i++)
		ok += a[i].calls == 1 && a[i].type == REDIS_REPLY_STATUS &&
		      strcmp(a[i].str, "OK") == 0;
	CHECK_INT(ok, KEYS);
	for (int i = 0; i < KEYS; i++)
		send_command(&p, &a[i], keys[i], 2, "GET", keys[i]);
	LOOP_UNTIL(&p, rediscluster_in_flight(p.cluster) == 0);
	ok = 0;
	for (int i = 0; i < KEYS; i++)
		ok += a[i].calls == 1 && a[i].type == REDIS_REPLY_STRING &&
		      strcmp(a[i].str, values[i]) == 0;
	CHECK_INT(ok, KEYS);
	/* Every master holds some of them, and no redirect was needed. */
	for (int i = 0; i < cluster.count && m < 3; i++) {
		redisReply *r = node_command(cluster.ports[i], "ROLE");
		if (r != NULL && r->type == REDIS_REPLY_ARRAY &&
		    strcmp(r->element[0]->str, "master") == 0)
			masters[m++] = cluster.ports[i];
		if (r != NULL)
			freeReplyObject(r);
	}
	CHECK_INT(m, 3);
	for (int i = 0; i < m; i++) {
		redisReply *r = node_command(masters[i], "DBSIZE");
		CHECK(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer > 0);
		if (r != NULL)
			freeReplyObject(r);
	}
	struct rediscluster_stats stats;
	rediscluster_stats(p.cluster, &stats);
	CHECK_INT(stats.moved, 0);
	CHECK_INT(stats.asked, 0);
	/* An error reply is the caller's, as is. */
	send_command(&p, &a[0], keys[0], 2, "HGETALL", keys[0]);
	LOOP_UNTIL(&p, a[0].calls == 1);
	CHECK_INT(a[0].type, REDIS_REPLY_ERROR);
	CHECK(strncmp(a[0].str, "WRONGTYPE", 9) == 0);
end:
	probe_stop(&p);
	free(a);
	free(keys);
	free(values);
}

static void test_eval_with_hash_tagged_keys_on_every_master(void)
{
	enum { USERS = 60 };
	static const char lua[] = "redis.call('SET', KEYS[1], ARGV[1]) "
	                          "return redis.call('INCRBY', KEYS[2], ARGV[2])";
	struct probe p;
	struct answer a[USERS];
	char keys[USERS][2][32], add[USERS][8];
	int script, ok = 0;

	if (probe_start(&p, cluster.ports[1]) == -1)
		goto end;
	script = rediscluster_script(p.cluster, lua);
	for (int i = 0; i < USERS; i++) {
		const char *argv[4];
		size_t argvlen[4];
		snprintf(keys[i][0], sizeof(keys[i][0]), "{user%d}.name", i);
		snprintf(keys[i][1], sizeof(keys[i][1]), "{user%d}.count", i);
		snprintf(add[i], sizeof(add[i]), "%d", i + 1);
		argv[0] = keys[i][0];
		argv[1] = keys[i][1];
		argv[2] = "someone";
		argv[3] = add[i];
		for (int k = 0; k < 4; k++)
			argvlen[k] = strlen(argv[k]);
		memset(&a[i], 0, sizeof(a[i]));
		a[i].probe = &p;
		CHECK_INT(
		    rediscluster_eval(p.cluster, script, 4, argv, argvlen, 2, on_answer, &a[i]), 0);
	}
	LOOP_UNTIL(&p, rediscluster_in_flight(p.cluster) == 0);
	for (int i = 0; i < USERS; i++)
		ok += a[i].calls == 1 && a[i].type == REDIS_REPLY_INTEGER && a[i].integer == i + 1;
	CHECK_INT(ok, USERS);
	/* numkeys 0 cannot be routed. */
	CHECK_INT(rediscluster_eval(p.cluster, script, 0, NULL, NULL, 0, on_answer, &a[0]), -1);
end:
	probe_stop(&p);
}

static void test_moved_after_a_reshard_then_straight_to_the_new_owner(void)
{
	struct probe p;
	struct answer a;
	struct rediscluster_stats before, after;
	char key[32];
	int from, to, live = any_live_port();

	if (probe_start(&p, cluster.ports[0]) == -1)
		goto end;
	/* redis-cli reshards the lowest slots of the source first: slot 0's master
	 * gives up slot 0. */
	from = slot_owner(live, 0);
	to = slot_owner(live, 16383);
	CHECK(from > 0 && to > 0 && from != to);
	key_for_slot(0, "moved", key, sizeof(key));
	CHECK_INT(send_command(&p, &a, key, 3, "SET", key, "before"), 0);
	LOOP_UNTIL(&p, a.calls == 1);
	CHECK_STR(a.str, "OK");
	CHECK_INT(cluster_sh(NULL, 0, "private_cluster_reshard %d %d 1", from, to), 0);
	CHECK_INT(slot_owner(live, 0), to);
	rediscluster_stats(p.cluster, &before);
	/* The client still believes `from` serves slot 0: MOVED, followed. */
	CHECK_INT(send_command(&p, &a, key, 2, "GET", key), 0);
	LOOP_UNTIL(&p, a.calls == 1);
	CHECK_INT(a.nulls, 0);
	CHECK_STR(a.str, "before");
	rediscluster_stats(p.cluster, &after);
	CHECK_INT(after.moved, before.moved + 1);
	/* The refresh the MOVED asked for comes; later commands go straight there. */
	LOOP_UNTIL(&p, (rediscluster_stats(p.cluster, &after), after.refreshes > before.refreshes));
	CHECK(after.refreshes > before.refreshes);
	CHECK_INT(send_command(&p, &a, key, 3, "SET", key, "after"), 0);
	LOOP_UNTIL(&p, a.calls == 1);
	CHECK_STR(a.str, "OK");
	rediscluster_stats(p.cluster, &after);
	CHECK_INT(after.moved, before.moved + 1);
	CHECK_INT(p.downs, 0); /* an existing master took the slot: never not connected */
end:
	probe_stop(&p);
}

static void test_ask_during_a_manual_migration(void)
{
	struct probe p;
	struct answer a, b;
	struct rediscluster_stats before, after;
	char key[32], other[48], stay[48], from_id[64], to_id[64];
	unsigned slot = 6000;
	int from, to = -1, live = any_live_port();
	redisReply *r;

	if (probe_start(&p, cluster.ports[2]) == -1)
		goto end;
	from = slot_owner(live, slot);
	to = slot_owner(live, slot < 8192 ? 15000 : 1000);
	CHECK(from > 0 && to > 0 && from != to);
	if (from <= 0 || to <= 0 || node_id(from, from_id, sizeof(from_id)) == -1 ||
	    node_id(to, to_id, sizeof(to_id)) == -1)
		goto end;
	key_for_slot(slot, "ask", key, sizeof(key));
	snprintf(other, sizeof(other), "{%s}.other", key);
	snprintf(stay, sizeof(stay), "{%s}.stay", key);
	CHECK_INT(send_command(&p, &a, key, 3, "SET", key, "migrating"), 0);
	CHECK_INT(send_command(&p, &b, stay, 3, "SET", stay, "not moved yet"), 0);
	LOOP_UNTIL(&p, a.calls == 1 && b.calls == 1);
	CHECK_STR(a.str, "OK");
	CHECK_STR(b.str, "OK");
	/* Half-way through moving the slot: the key is on `to` already, the slot is
	 * still `from`'s, which answers ASK for what it no longer holds. */
	r = node_command(to, "CLUSTER SETSLOT %u IMPORTING %s", slot, from_id);
	CHECK(r != NULL && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	r = node_command(from, "CLUSTER SETSLOT %u MIGRATING %s", slot, to_id);
	CHECK(r != NULL && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	r = node_command(from, "MIGRATE 127.0.0.1 %d %s 0 5000", to, key);
	CHECK(r != NULL && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	rediscluster_stats(p.cluster, &before);
	CHECK_INT(send_command(&p, &a, key, 2, "GET", key), 0);
	CHECK_INT(send_command(&p, &b, other, 3, "SET", other, "new"), 0);
	LOOP_UNTIL(&p, a.calls == 1 && b.calls == 1);
	CHECK_STR(a.str, "migrating");
	CHECK_STR(b.str, "OK");
	rediscluster_stats(p.cluster, &after);
	CHECK_INT(after.asked, before.asked + 2);
	CHECK_INT(after.moved, before.moved); /* an ASK changes no map */
	/* Keys of the slot on both nodes at once: TRYAGAIN, answered NULL. */
	CHECK_INT(send_command(&p, &a, key, 3, "MGET", key, stay), 0);
	LOOP_UNTIL(&p, a.calls == 1);
	CHECK_INT(a.nulls, 1);
	rediscluster_stats(p.cluster, &after);
	CHECK_INT(after.retry_later, before.retry_later + 1);
	/* The new key went to `to`, under ASKING: the key and it are there. */
	r = node_command(to, "CLUSTER COUNTKEYSINSLOT %u", slot);
	CHECK(r != NULL && r->integer == 2);
	freeReplyObject(r);
	r = node_command(from, "MIGRATE 127.0.0.1 %d %s 0 5000", to, stay);
	CHECK(r != NULL && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	/* Finish the move everywhere; the client follows with a MOVED. */
	for (int i = 0; i < cluster.count; i++) {
		r = node_command(cluster.ports[i], "CLUSTER SETSLOT %u NODE %s", slot, to_id);
		if (r != NULL)
			freeReplyObject(r);
	}
	CHECK_INT(cluster_sh(NULL, 0, "private_cluster_wait_ok"), 0);
	CHECK_INT(get_until_answered(&p, &a, other), 0);
	CHECK_STR(a.str, "new");
end:
	probe_stop(&p);
}

static void test_manual_failover_commands_work_after_the_state_comes_back(void)
{
	struct probe p;
	struct answer a;
	struct rediscluster_stats before, after;
	char key[32];
	int master, replica, live = any_live_port();
	unsigned slot = 12000;

	if (probe_start(&p, cluster.ports[0]) == -1)
		goto end;
	master = slot_owner(live, slot);
	replica = replica_of(master);
	CHECK(master > 0 && replica > 0);
	key_for_slot(slot, "failover", key, sizeof(key));
	CHECK_INT(send_command(&p, &a, key, 3, "SET", key, "kept"), 0);
	LOOP_UNTIL(&p, a.calls == 1);
	CHECK_STR(a.str, "OK");
	CHECK_INT(cluster_sh(NULL, 0, "private_cluster_wait_replicas_linked"), 0);
	/* No refresh may be due when the loop stops for the failover: the client must
	 * still hold the old map and meet the MOVED. */
	loop_for(&p, 300);
	rediscluster_stats(p.cluster, &before);
	CHECK_INT(cluster_sh(NULL, 0, "private_cluster_failover %d", replica), 0);
	CHECK_INT(slot_owner(live, slot), replica);
	/* The old master answers MOVED to the new one, which the client connects to:
	 * not connected until that connection is ready, then connected again. */
	CHECK_INT(get_until_answered(&p, &a, key), 0);
	CHECK_STR(a.str, "kept");
	rediscluster_stats(p.cluster, &after);
	CHECK(after.moved > before.moved);
	LOOP_UNTIL(&p, p.connected && p.ups >= 2);
	CHECK(p.ups >= 2);
	CHECK(p.downs >= 1);
	CHECK_INT(send_command(&p, &a, key, 3, "SET", key, "written after"), 0);
	LOOP_UNTIL(&p, a.calls == 1);
	CHECK_STR(a.str, "OK");
	{
		char endpoint[256];
		CHECK(strstr(rediscluster_endpoint(p.cluster, endpoint, sizeof(endpoint)),
		             "masters=3") != NULL);
	}
end:
	probe_stop(&p);
}

/* ---- the sender through store.c on the cluster ---- */

struct sender_probe {
	struct event_base *base;
	struct store *store;
	struct sender *sender;
	int cuts_done;
};

static void sender_probe_state(void *ctx, int connected, const char *reason)
{
	struct sender_probe *sp = ctx;

	(void)reason;
	if (connected)
		sender_connected(sp->sender);
	else
		sender_disconnected(sp->sender);
}

static void sender_probe_cut_done(void *ctx, int applied)
{
	struct sender_probe *sp = ctx;

	(void)applied;
	sp->cuts_done++;
}

static void sender_probe_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct sender_probe *sp = ctx;

	(void)fd;
	(void)what;
	sender_tick(sp->sender);
}

/* A batch of one I operation: +1 to field f of key, as publish.c writes it. */
static struct publish_batch one_increment(const char *seq_key, unsigned long long seq,
                                          const char *key)
{
	char seqtext[24];
	const char *args[8] = {seq_key, seqtext, "I", key, "0", "1", "f", "1"};
	struct publish_batch b = {seq, 8, NULL, NULL};
	size_t total = 0;
	char *p;

	snprintf(seqtext, sizeof(seqtext), "%llu", seq);
	for (int i = 0; i < 8; i++)
		total += strlen(args[i]) + 1;
	p = malloc(total);
	b.argv = malloc(8 * sizeof(*b.argv));
	b.argvlen = malloc(8 * sizeof(*b.argvlen));
	for (int i = 0; i < 8; i++) {
		b.argvlen[i] = strlen(args[i]);
		memcpy(p, args[i], b.argvlen[i] + 1);
		b.argv[i] = p;
		p += b.argvlen[i] + 1;
	}
	return b;
}

static long long cluster_hget(int live, const char *key)
{
	redisReply *r =
	    node_command(slot_owner(live, rediscluster_slot(key, strlen(key))), "HGET %s f", key);
	long long v = r != NULL && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;

	if (r != NULL)
		freeReplyObject(r);
	return v;
}

/*
 * A cut of two batches sent while a manual failover moves the first one's shop: its
 * part meets MOVED to a node not connected yet, the cluster says it is disconnected
 * with that part still out, and the sender sends the batch again once it is back. A
 * reply to the first send must not be taken for the second's (it was: batch 1 was
 * marked done twice over, and batch 2, whose master was paused, was never sent again:
 * lost). Both shops must end with their one increment, and the instance's sequence
 * at 2.
 */
static void test_sender_takes_no_stale_reply_across_a_failover(void)
{
	static const struct publish_settings ps = {.prefix = "cs", .instance = "stale"};
	const char *seq_key = "cs:instance:stale:seq";
	struct sender_probe sp = {0};
	struct store_settings ss = {.redis = {.cluster = 1,
	                                      .connect_timeout_ms = 2000,
	                                      .command_timeout_ms = 1000,
	                                      .backoff_min_ms = 100,
	                                      .backoff_max_ms = 1000},
	                            .publish = &ps};
	struct sender_settings sset = {seq_key, "stale", "/nonexistent", 0};
	struct sender_hooks hooks = {.cut_done = sender_probe_cut_done, .ctx = &sp};
	struct timeval tick = {0, 200000};
	struct publish_batch *batches;
	struct event *ticker;
	char url[64], err[256], x[64], y[64];
	int live = any_live_port(), seq_master, x_master = -1, y_master = -1;
	int64_t deadline;

	seq_master = slot_owner(live, rediscluster_slot(seq_key, strlen(seq_key)));
	for (int i = 0; x_master == -1 || x_master == seq_master; i++) {
		snprintf(x, sizeof(x), "cs:{x%d}:a:*:d:1", i);
		x_master = slot_owner(live, rediscluster_slot(x, strlen(x)));
	}
	for (int i = 0; y_master == -1 || y_master == seq_master || y_master == x_master; i++) {
		snprintf(y, sizeof(y), "cs:{y%d}:a:*:d:1", i);
		y_master = slot_owner(live, rediscluster_slot(y, strlen(y)));
	}
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", live);
	ss.redis.url = url;
	sp.base = event_base_new();
	sp.sender = sender_new(&sset, &hooks);
	sp.store = store_new(sp.base, &ss, sender_probe_state, &sp, err, sizeof(err));
	CHECK(sp.store != NULL);
	if (sp.store == NULL)
		goto end;
	sender_attach(sp.sender, sp.store);
	ticker = event_new(sp.base, -1, EV_PERSIST, sender_probe_tick, &sp);
	evtimer_add(ticker, &tick);
	deadline = redis_server_now_ms() + WAIT_MS;
	while (!sender_seq_known(sp.sender) && redis_server_now_ms() < deadline)
		event_base_loop(sp.base, EVLOOP_ONCE);
	CHECK(sender_seq_known(sp.sender));
	/* no map refresh may be due when the loop stops for the failover: the first send
	 * must meet the MOVED */
	deadline = redis_server_now_ms() + 1500;
	while (redis_server_now_ms() < deadline)
		event_base_loop(sp.base, EVLOOP_ONCE);
	CHECK_INT(cluster_sh(NULL, 0, "private_cluster_wait_replicas_linked"), 0);
	CHECK_INT(cluster_sh(NULL, 0, "private_cluster_failover %d", replica_of(x_master)), 0);
	/* longer than command_timeout_ms: a send to y's master that is lost stays lost
	 * unless the sender sends it again */
	freeReplyObject(node_command(y_master, "CLIENT PAUSE 2500 WRITE"));
	batches = malloc(2 * sizeof(*batches));
	batches[0] = one_increment(seq_key, 1, x);
	batches[1] = one_increment(seq_key, 2, y);
	sender_take_cut(sp.sender, 1, batches, 2);
	deadline = redis_server_now_ms() + 2500 + WAIT_MS;
	while ((sp.cuts_done == 0 || store_in_flight(sp.store) > 0) &&
	       redis_server_now_ms() < deadline)
		event_base_loop(sp.base, EVLOOP_ONCE);
	CHECK_INT(sp.cuts_done, 1);
	CHECK_INT(store_in_flight(sp.store), 0);
	CHECK_INT(cluster_hget(live, x), 1);
	CHECK_INT(cluster_hget(live, y), 1);
	{
		redisReply *r =
		    node_command(slot_owner(live, rediscluster_slot(seq_key, strlen(seq_key))),
		                 "GET %s", seq_key);
		CHECK(r != NULL && r->type == REDIS_REPLY_STRING && strcmp(r->str, "2") == 0);
		if (r != NULL)
			freeReplyObject(r);
	}
	event_free(ticker);
end:
	store_free(sp.store);
	sender_free(sp.sender);
	event_base_free(sp.base);
}

static void test_killed_master_fails_over_and_commands_work_again(void)
{
	enum { KEYS = 100 };
	struct probe p;
	struct answer a[KEYS];
	char keys[KEYS][32], pid_text[32];
	int master = -1, replica = -1, ok = 0, live = any_live_port();
	unsigned slot = 3000;
	pid_t pid;
	int64_t start;

	if (probe_start(&p, cluster.ports[1]) == -1)
		goto end;
	master = slot_owner(live, slot);
	replica = replica_of(master);
	CHECK(master > 0 && replica > 0);
	CHECK_INT(cluster_sh(pid_text, sizeof(pid_text), "private_cluster_pid_of %d", master), 0);
	pid = (pid_t)atoi(pid_text);
	CHECK(pid > 0);
	if (pid <= 0 || replica <= 0)
		goto end;
	start = redis_server_now_ms();
	kill(pid, SIGKILL);
	LOOP_UNTIL(&p, p.downs >= 1);
	CHECK(p.downs >= 1);
	CHECK_INT(rediscluster_connected(p.cluster), 0);
	LOOP_UNTIL_MS(&p, p.connected, FAILOVER_WAIT_MS);
	CHECK(p.connected);
	fprintf(stderr, "     connected again %lld ms after the kill (%d downs)\n",
	        (long long)(redis_server_now_ms() - start), p.downs);
	CHECK_INT(slot_owner(replica, slot), replica);
	for (int i = 0; i < KEYS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "after-kill:%d", i);
		CHECK_INT(send_command(&p, &a[i], keys[i], 3, "SET", keys[i], keys[i]), 0);
	}
	LOOP_UNTIL(&p, rediscluster_in_flight(p.cluster) == 0);
	for (int i = 0; i < KEYS; i++)
		ok += a[i].calls == 1 && strcmp(a[i].str, "OK") == 0;
	CHECK_INT(ok, KEYS);
end:
	probe_stop(&p);
}

static void test_free_inside_a_reply_answers_the_rest_null_once(void)
{
	enum { KEYS = 50 };
	struct probe p;
	struct answer a[KEYS];
	char keys[KEYS][32];
	int nulls = 0, calls = 0;

	if (probe_start(&p, cluster.ports[0]) == -1)
		goto end;
	for (int i = 0; i < KEYS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "free:%d", i);
		CHECK_INT(send_command(&p, &a[i], keys[i], 2, "GET", keys[i]), 0);
	}
	for (int i = 0; i < KEYS; i++)
		a[i].free_cluster = 1; /* whichever answers first frees */
	LOOP_UNTIL(&p, p.cluster == NULL);
	for (int i = 0; i < KEYS; i++) {
		calls += a[i].calls;
		nulls += a[i].nulls;
		CHECK(a[i].calls == 1);
	}
	CHECK_INT(calls, KEYS);
	CHECK_INT(nulls, KEYS - 1);
	for (int i = 0; i < 20; i++)
		loop_once(p.base); /* nothing more may arrive (ASan sees a use after free) */
	CHECK_INT(calls, KEYS);
end:
	probe_stop(&p);
}

static void test_free_inside_the_state_callback_and_from_the_top(void)
{
	struct probe p;
	struct answer a;
	char url[64], err[256];
	struct redisconn_settings s;

	memset(&p, 0, sizeof(p));
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", any_live_port());
	s = settings_for(url);
	p.base = event_base_new();
	p.free_on_up = 1;
	p.cluster = rediscluster_new(p.base, &s, on_state, &p, err, sizeof(err));
	CHECK(p.cluster != NULL);
	LOOP_UNTIL(&p, p.ups == 1);
	CHECK(p.cluster == NULL);
	for (int i = 0; i < 20; i++)
		loop_once(p.base);
	CHECK_INT(p.ups, 1);
	event_base_free(p.base);

	/* From the top with a command in flight: answered NULL before free returns. */
	if (probe_start(&p, any_live_port()) == -1)
		goto end;
	CHECK_INT(send_command(&p, &a, "top", 2, "GET", "top"), 0);
	rediscluster_free(p.cluster);
	p.cluster = NULL;
	CHECK_INT(a.calls, 1);
	CHECK_INT(a.nulls, 1);
end:
	probe_stop(&p);
}

static void test_endpoint_never_shows_the_password(void)
{
	struct probe p;
	struct redisconn_settings s;
	char url[96], err[256], endpoint[256];

	memset(&p, 0, sizeof(p));
	snprintf(url, sizeof(url), "redis://robot:sekrit-pw@127.0.0.1:%d", any_live_port());
	s = settings_for(url);
	p.base = event_base_new();
	p.cluster = rediscluster_new(p.base, &s, on_state, &p, err, sizeof(err));
	CHECK(p.cluster != NULL);
	if (p.cluster == NULL)
		goto end;
	rediscluster_endpoint(p.cluster, endpoint, sizeof(endpoint));
	CHECK(strstr(endpoint, "sekrit") == NULL);
	CHECK(strstr(endpoint, "auth=acl user=robot") != NULL);
	/* No such ACL user: refused with the server's words, not the password. */
	LOOP_UNTIL(&p, p.downs > 0);
	CHECK(strstr(p.reason, "AUTH failed") != NULL);
	CHECK(strstr(p.reason, "sekrit") == NULL);
end:
	probe_stop(&p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_set_level(getenv("TEST_DEBUG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERR);
	RUN(test_slot_known_values_from_the_cluster_spec);
	RUN(test_new_refuses_a_db_a_unix_socket_and_bad_settings);
	if (system("command -v redis-server >/dev/null 2>&1 && "
	           "command -v redis-cli >/dev/null 2>&1") != 0 ||
	    access(REDIS_SERVER_BINARY, X_OK) != 0) {
		printf("SKIP: redis-server or redis-cli not installed: the cluster tests need "
		       "them\n");
		check_done();
		return 77;
	}
	rng_state = check_seed("random keys", 0x5eed5107c1u) | 1;
	if (cluster_start() == -1) {
		CHECK(!"private cluster started (see the lines above)");
		cluster_stop();
		return check_done();
	}
	RUN(test_slot_agrees_with_cluster_keyslot);
	RUN(test_redisconn_cluster_setting_refuses_the_wrong_kind_of_server);
	RUN(test_cluster_seeded_with_a_single_server_is_refused_by_name);
	RUN(test_a_node_with_no_slots_is_not_connected_and_says_why);
	RUN(test_endpoint_never_shows_the_password);
	RUN(test_seeded_by_a_replica_spreads_keys_over_all_masters);
	RUN(test_eval_with_hash_tagged_keys_on_every_master);
	RUN(test_free_inside_a_reply_answers_the_rest_null_once);
	RUN(test_free_inside_the_state_callback_and_from_the_top);
	RUN(test_moved_after_a_reshard_then_straight_to_the_new_owner);
	RUN(test_ask_during_a_manual_migration);
	RUN(test_sender_takes_no_stale_reply_across_a_failover);
	RUN(test_manual_failover_commands_work_after_the_state_comes_back);
	RUN(test_killed_master_fails_over_and_commands_work_again);
	cluster_stop();
	return check_done();
}
