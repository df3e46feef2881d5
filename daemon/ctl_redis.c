/*
 * ctl_redis.c owns chatlogctl's blocking connection to Redis (one server, or a
 * Redis Cluster through ctl_cluster.c) and its reads of the published schema
 * (reference.md §6, §7): it turns keys into rows, shops and alert messages and says
 * on stderr what went wrong. It only reads, and it knows nothing of how the rows
 * are laid out (chatlogctl.c) or what the numbers mean (scoreboard.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "chatlogd/config.h"
#include "chatlogd/ctl_cluster.h"
#include "chatlogd/ctl_redis.h"
#include "chatlogd/rediskey.h"
#include "chatlogd/redisconn.h"
#include "chatlogd/scoreboard.h"
#include "chatlogd/util.h"

/* Entries taken from the stream per XREAD while following. */
#define CTL_FOLLOW_BATCH 100

struct ctl_redis {
	redisContext *redis;            /* one server; NULL with a cluster */
	struct ctl_cluster *cluster;    /* redis_cluster = on; NULL for one server */
	struct redis_endpoint endpoint; /* the password is wiped once connected */
	char where[320];                /* the endpoint for messages: never the password */
	char *prefix;
	struct reasons reasons;
	int field_warned;
	int keep_password; /* serve: reconnects need it */
};

/* ---- messages and memory ---- */

void ctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("chatlogctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void ctl_out_of_memory(void) __attribute__((noreturn));

static void ctl_out_of_memory(void)
{
	ctl_error("out of memory");
	exit(EXIT_FAILURE);
}

char *ctl_format(const char *fmt, ...)
{
	va_list ap;
	char *out;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);
	if (n < 0)
		ctl_out_of_memory();
	return out;
}

char *ctl_display(const char *s, size_t len)
{
	return scoreboard_display_text(s, len);
}

void ctl_strings_free(char **list, size_t count)
{
	for (size_t i = 0; list != NULL && i < count; i++)
		free(list[i]);
	free(list);
}

/* ---- connection ---- */

struct ctl_redis *ctl_redis_new(const struct config *cfg, char *err, size_t errlen)
{
	struct ctl_redis *c = xcalloc(1, sizeof(*c));
	const struct redis_endpoint *ep = &c->endpoint;

	if (redisconn_parse_url(cfg->redis, &c->endpoint, err, errlen) == -1 ||
	    redisconn_load_password(&c->endpoint, cfg->redis_password_file, err, errlen) == -1) {
		ctl_redis_free(c);
		return NULL;
	}
	reasons_init(&c->reasons);
	c->prefix = xstrdup(cfg->prefix);
	if (strcmp(cfg->redis_cluster, "on") == 0) {
		/* The daemon's words (rediscluster.c), for the same URL. */
		if (ep->unix_path != NULL) {
			snprintf(err, errlen,
			         "redis url: a Redis Cluster is reached over TCP: give "
			         "redis://host:port of any of its nodes");
			ctl_redis_free(c);
			return NULL;
		}
		if (ep->db != 0) {
			snprintf(err, errlen, "redis url: a Redis Cluster has only db 0: drop /%d",
			         ep->db);
			ctl_redis_free(c);
			return NULL;
		}
		c->cluster = ctl_cluster_new(ep);
	}
	if (c->cluster != NULL && strchr(ep->host, ':') != NULL)
		snprintf(c->where, sizeof(c->where), "cluster [%s]:%d", ep->host, ep->port);
	else if (c->cluster != NULL)
		snprintf(c->where, sizeof(c->where), "cluster %s:%d", ep->host, ep->port);
	else if (ep->unix_path != NULL)
		snprintf(c->where, sizeof(c->where), "unix:%s db %d", ep->unix_path, ep->db);
	else if (strchr(ep->host, ':') != NULL)
		snprintf(c->where, sizeof(c->where), "[%s]:%d db %d", ep->host, ep->port, ep->db);
	else
		snprintf(c->where, sizeof(c->where), "%s:%d db %d", ep->host, ep->port, ep->db);
	return c;
}

void ctl_redis_free(struct ctl_redis *c)
{
	if (c == NULL)
		return;
	if (c->redis != NULL)
		redisFree(c->redis);
	ctl_cluster_free(c->cluster);
	redisconn_endpoint_free(&c->endpoint);
	reasons_free(&c->reasons);
	free(c->prefix);
	free(c);
}

const char *ctl_redis_prefix(const struct ctl_redis *c)
{
	return c->prefix;
}

const struct reasons *ctl_redis_reasons(const struct ctl_redis *c)
{
	return &c->reasons;
}

/* Sends one command to the server, or to the master of key's slot in a cluster;
 * NULL with the reason in why when the connection failed. */
static redisReply *ctl_redis_send(struct ctl_redis *c, const char *key, int argc, const char **argv,
                                  char *why, size_t whylen)
{
	redisReply *reply;

	if (c->cluster != NULL)
		return ctl_cluster_command(c->cluster, key, argc, argv, why, whylen);
	if ((reply = redisCommandArgv(c->redis, argc, argv, NULL)) == NULL)
		snprintf(why, whylen, "%s",
		         c->redis->errstr[0] ? c->redis->errstr : "connection lost");
	return reply;
}

/* Runs one command whose key is argv[1]; NULL (after saying why) when the
 * connection failed or Redis answered an error. The caller frees the reply. */
static redisReply *ctl_redis_command(struct ctl_redis *c, int argc, const char **argv)
{
	char why[512];
	redisReply *reply = ctl_redis_send(c, argv[1], argc, argv, why, sizeof(why));

	if (reply == NULL) {
		ctl_error("redis %s: %s %s: %s", c->where, argv[0], argv[1], why);
		return NULL;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		ctl_error("redis %s: %s %s: %s", c->where, argv[0], argc > 1 ? argv[1] : "",
		          reply->str);
		freeReplyObject(reply);
		return NULL;
	}
	return reply;
}

/* -1 (after saying so) when the one server is a Redis Cluster node: it would answer
 * MOVED for most keys. An error (INFO denied by an ACL) says nothing either way. */
static int refuse_cluster_node(struct ctl_redis *c)
{
	const char *argv[2] = {"INFO", "cluster"};
	redisReply *reply = redisCommandArgv(c->redis, 2, argv, NULL);
	int is_cluster;

	if (reply == NULL) {
		ctl_error("redis %s: INFO cluster: %s", c->where, c->redis->errstr);
		return -1;
	}
	is_cluster = reply->type != REDIS_REPLY_ERROR && reply->str != NULL &&
	             strstr(reply->str, "cluster_enabled:1") != NULL;
	freeReplyObject(reply);
	if (is_cluster)
		ctl_error("redis %s: the server is a Redis Cluster node: set redis_cluster = on",
		          c->where);
	return is_cluster ? -1 : 0;
}

/* Connects to the one server: timeouts, AUTH, the mode check, SELECT. */
static int connect_one_server(struct ctl_redis *c, struct timeval tv)
{
	const struct redis_endpoint *ep = &c->endpoint;
	const char *argv[3];
	redisReply *reply;
	char db[16];

	if (ep->unix_path != NULL)
		c->redis = redisConnectUnixWithTimeout(ep->unix_path, tv);
	else
		c->redis = redisConnectWithTimeout(ep->host, ep->port, tv);
	if (c->redis == NULL || c->redis->err != 0) {
		ctl_error("cannot connect to Redis at %s: %s", c->where,
		          c->redis != NULL ? c->redis->errstr : "out of memory");
		return -1;
	}
	if (redisSetTimeout(c->redis, tv) != REDIS_OK) {
		ctl_error("cannot set a timeout on the Redis connection");
		return -1;
	}
	if (ep->password != NULL) {
		argv[0] = "AUTH";
		argv[1] = ep->user != NULL ? ep->user : ep->password;
		argv[2] = ep->password;
		reply = redisCommandArgv(c->redis, ep->user != NULL ? 3 : 2, argv, NULL);
		if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
			ctl_error("Redis at %s refused AUTH: %s", c->where,
			          reply != NULL ? reply->str : c->redis->errstr);
			if (reply != NULL)
				freeReplyObject(reply);
			return -1;
		}
		freeReplyObject(reply);
	}
	/* Before SELECT, which a cluster node refuses in words that name no setting. */
	if (refuse_cluster_node(c) == -1)
		return -1;
	if (ep->db != 0) {
		snprintf(db, sizeof(db), "%d", ep->db);
		argv[0] = "SELECT";
		argv[1] = db;
		if ((reply = ctl_redis_command(c, 2, argv)) == NULL)
			return -1;
		freeReplyObject(reply);
	}
	return 0;
}

int ctl_redis_connect(struct ctl_redis *c, int64_t timeout_ms)
{
	struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
	char err[512];
	int rc;

	if (c->cluster != NULL) {
		if ((rc = ctl_cluster_connect(c->cluster, timeout_ms, err, sizeof(err))) == -1)
			ctl_error("redis %s: %s", c->where, err);
	} else {
		rc = connect_one_server(c, tv);
	}
	/* A cluster client keeps its own copy: masters met later need it. */
	if (c->endpoint.password != NULL && !c->keep_password) {
		explicit_bzero(c->endpoint.password, strlen(c->endpoint.password));
		free(c->endpoint.password);
		c->endpoint.password = NULL;
	}
	return rc;
}

void ctl_redis_keep_password(struct ctl_redis *c)
{
	c->keep_password = 1;
}

int ctl_redis_ensure(struct ctl_redis *c, int64_t timeout_ms)
{
	/* A cluster's lost node connections come back at their next command. */
	if (c->cluster != NULL)
		return ctl_cluster_connected(c->cluster) ? 0 : ctl_redis_connect(c, timeout_ms);
	if (c->redis != NULL && c->redis->err == 0)
		return 0;
	if (c->redis != NULL) {
		redisFree(c->redis);
		c->redis = NULL;
	}
	return ctl_redis_connect(c, timeout_ms);
}

size_t ctl_redis_master_count(const struct ctl_redis *c)
{
	return c->cluster != NULL ? ctl_cluster_master_count(c->cluster) : 0;
}

void ctl_redis_master(const struct ctl_redis *c, size_t i, const char **host, int *port)
{
	ctl_cluster_master(c->cluster, i, host, port);
}

/* ---- sets and hashes ---- */

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SMEMBERS key, sorted by bytes. -1 after saying why. */
static int ctl_redis_members(struct ctl_redis *c, const char *key, char ***out, size_t *count)
{
	const char *argv[2] = {"SMEMBERS", key};
	redisReply *reply = ctl_redis_command(c, 2, argv);
	char **list;
	size_t n = 0;

	if (reply == NULL)
		return -1;
	list = xcalloc(reply->elements, sizeof(*list));
	for (size_t i = 0; i < reply->elements; i++)
		if (reply->element[i]->type == REDIS_REPLY_STRING)
			list[n++] = xstrndup(reply->element[i]->str, reply->element[i]->len);
	freeReplyObject(reply);
	qsort(list, n, sizeof(*list), compare_strings);
	*out = list;
	*count = n;
	return 0;
}

/* HGETALL of every key, pipelined on the one server; -1 after saying why when the
 * connection failed (every reply then freed). */
static int hgetall_one_server(struct ctl_redis *c, char *const *keys, size_t count,
                              redisReply **replies)
{
	const char *argv[2] = {"HGETALL", NULL};
	void *reply;
	size_t i;

	for (i = 0; i < count; i++) {
		argv[1] = keys[i];
		if (redisAppendCommandArgv(c->redis, 2, argv, NULL) != REDIS_OK)
			ctl_out_of_memory();
	}
	for (i = 0; i < count; i++) {
		if (redisGetReply(c->redis, &reply) != REDIS_OK) {
			ctl_error("redis %s: HGETALL %s: %s", c->where, keys[i], c->redis->errstr);
			while (i-- > 0)
				freeReplyObject(replies[i]);
			return -1;
		}
		replies[i] = reply;
	}
	return 0;
}

/* HGETALL of every key, pipelined per master of a cluster; as hgetall_one_server. */
static int hgetall_cluster(struct ctl_redis *c, char *const *keys, size_t count,
                           redisReply **replies)
{
	const char **argv = xcalloc(2 * count + 1, sizeof(*argv));
	const char *const **commands = xcalloc(count + 1, sizeof(*commands));
	char why[512];
	int rc;

	for (size_t i = 0; i < count; i++) {
		argv[2 * i] = "HGETALL";
		argv[2 * i + 1] = keys[i];
		commands[i] = &argv[2 * i];
	}
	if ((rc = ctl_cluster_pipeline(c->cluster, count, 2, commands, replies, why,
	                               sizeof(why))) == -1)
		ctl_error("redis %s: HGETALL: %s", c->where, why);
	free(commands);
	free(argv);
	return rc;
}

/* HGETALL of every key in one round trip (one per master in a cluster);
 * replies[i] belongs to the caller. -1 after saying why (every reply then freed). */
static int ctl_redis_hgetall(struct ctl_redis *c, char *const *keys, size_t count,
                             redisReply **replies)
{
	int rc = c->cluster != NULL ? hgetall_cluster(c, keys, count, replies)
	                            : hgetall_one_server(c, keys, count, replies);
	size_t i;

	if (rc == -1)
		return -1;
	for (i = 0; i < count && replies[i]->type != REDIS_REPLY_ERROR; i++)
		;
	if (i == count)
		return 0;
	ctl_error("redis %s: HGETALL %s: %s", c->where, keys[i], replies[i]->str);
	for (i = 0; i < count; i++)
		freeReplyObject(replies[i]);
	return -1;
}

int ctl_redis_shops(struct ctl_redis *c, const char *only, char ***shops, size_t *count)
{
	char *key = ctl_format("%s:shops", c->prefix);
	int rc = ctl_redis_members(c, key, shops, count);
	size_t i;

	if (rc == 0 && only != NULL) {
		for (i = 0; i < *count && strcmp((*shops)[i], only) != 0; i++)
			;
		if (i == *count) {
			char *shown = ctl_display(only, strlen(only));
			ctl_error("shop %s is not in %s", shown, key);
			free(shown);
			rc = -1;
		} else {
			char *keep = (*shops)[i];
			(*shops)[i] = (*shops)[0];
			(*shops)[0] = keep;
			for (size_t k = 1; k < *count; k++)
				free((*shops)[k]);
			*count = 1;
		}
	}
	if (rc == -1) {
		ctl_strings_free(*shops, *count);
		*shops = NULL;
		*count = 0;
	}
	free(key);
	return rc;
}

/* ---- rows ---- */

static void row_init(struct ctl_row *row, const char *name, size_t len, const char *label)
{
	memset(row, 0, sizeof(*row));
	row->name = xstrndup(name, len);
	row->label = label != NULL ? xstrdup(label) : ctl_display(name, len);
}

void ctl_row_free(struct ctl_row *row)
{
	free(row->name);
	free(row->label);
	free(row->alert);
	row->name = row->label = row->alert = NULL;
}

/* Adds a counters hash (an HGETALL reply) to row. A field that cannot be read is
 * skipped with one warning per run: the rest of the scoreboard is still right. */
static void row_take(struct ctl_redis *c, struct ctl_row *row, const redisReply *reply,
                     const char *key)
{
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *field = reply->element[i], *text = reply->element[i + 1];
		if (field->type != REDIS_REPLY_STRING || text->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(field->str, "as_of") == 0) {
			snprintf(row->as_of, sizeof(row->as_of), "%s", text->str);
			continue;
		}
		if (scoreboard_field(row->value, &c->reasons, field->str, text->str) == -1 &&
		    !c->field_warned) {
			char *shown_key = ctl_display(key, strlen(key));
			char *shown_field = ctl_display(field->str, field->len);
			ctl_error("warning: %s: field %s skipped (not a count, or more than %d "
			          "lost reasons)",
			          shown_key, shown_field, LIMIT_REASONS);
			free(shown_key);
			free(shown_field);
			c->field_warned = 1;
		}
	}
	for (size_t i = 0; i < COUNTER_WIDTH; i++)
		if (row->value[i] != 0)
			row->has_data = 1;
}

static void row_set_alert(struct ctl_row *row, const char *json, size_t len)
{
	free(row->alert);
	row->alert = xstrndup(json, len);
	row->alert_len = len;
}

static int compare_rows(const void *a, const void *b)
{
	const struct ctl_row *x = a, *y = b;

	if (x->value[COUNTER_INQUIRIES] != y->value[COUNTER_INQUIRIES])
		return x->value[COUNTER_INQUIRIES] > y->value[COUNTER_INQUIRIES] ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A name as it is spelled inside key names (reference.md §6), in a static buffer per
 * slot: two names of one key are escaped into two slots. */
static const char *key_name(const char *name, int slot)
{
	static char buf[2][REDISKEY_NAME_MAX];

	rediskey_escape(name, strlen(name), buf[slot], sizeof(buf[slot]));
	return buf[slot];
}

/* PREFIX:{SHOP}:WHAT, e.g. the shop's agents set or alerts hash. */
static char *shop_key(const struct ctl_redis *c, const char *shop, const char *what)
{
	return ctl_format("%s:{%s}:%s", c->prefix, key_name(shop, 0), what);
}

/* AGENT "*" is the whole shop, the one '*' a key name spells unescaped. */
static char *counters_key(const struct ctl_redis *c, const char *shop, const char *agent,
                          const char *suffix)
{
	return ctl_format("%s:{%s}:a:%s:%s", c->prefix, key_name(shop, 0),
	                  strcmp(agent, "*") == 0 ? "*" : key_name(agent, 1), suffix);
}

void ctl_shop_free(struct ctl_shop *shop)
{
	for (size_t i = 0; i < shop->agent_count; i++)
		ctl_row_free(&shop->agents[i]);
	free(shop->agents);
	ctl_row_free(&shop->total);
	free(shop->name);
	free(shop->label);
	memset(shop, 0, sizeof(*shop));
}

/* Marks the rows of agents in the shop's active-alert hash; an alerted agent
 * without counters in this period still gets a row. */
static int shop_take_alerts(struct ctl_redis *c, struct ctl_shop *shop, size_t *capacity)
{
	struct ctl_alert *alerts;
	size_t count;

	if (ctl_redis_active_alerts(c, shop->name, &alerts, &count) == -1)
		return -1;
	for (size_t i = 0; i < count; i++) {
		struct ctl_row *row = NULL;
		for (size_t j = 0; j < shop->agent_count && row == NULL; j++)
			if (strcmp(shop->agents[j].name, alerts[i].agent) == 0)
				row = &shop->agents[j];
		if (row == NULL) {
			if (shop->agent_count == *capacity) {
				*capacity = *capacity * 2 + 1;
				shop->agents =
				    xreallocarray(shop->agents, *capacity, sizeof(*shop->agents));
			}
			row = &shop->agents[shop->agent_count++];
			row_init(row, alerts[i].agent, strlen(alerts[i].agent), NULL);
		}
		row_set_alert(row, alerts[i].json, alerts[i].json_len);
	}
	ctl_alerts_free(alerts, count);
	return 0;
}

int ctl_redis_shop(struct ctl_redis *c, const char *shop_name, const char *suffix, int with_alerts,
                   struct ctl_shop *shop)
{
	char *agents_key = shop_key(c, shop_name, "agents");
	char **agents = NULL, **keys;
	redisReply **replies;
	size_t count = 0, n, capacity, i;
	int rc = -1;

	memset(shop, 0, sizeof(*shop));
	shop->name = xstrdup(shop_name);
	shop->label = ctl_display(shop_name, strlen(shop_name));
	row_init(&shop->total, "*", 1, "(shop)");
	rc = ctl_redis_members(c, agents_key, &agents, &count);
	free(agents_key);
	if (rc == -1)
		return -1;
	rc = -1;
	/* One key per agent ("*" in the set would be the shop itself), then the shop. */
	keys = xcalloc(count + 1, sizeof(*keys));
	replies = xcalloc(count + 1, sizeof(*replies));
	for (i = 0, n = 0; i < count; i++)
		if (strcmp(agents[i], "*") != 0)
			keys[n++] = counters_key(c, shop_name, agents[i], suffix);
	keys[n] = counters_key(c, shop_name, "*", suffix);
	if (ctl_redis_hgetall(c, keys, n + 1, replies) == -1)
		goto done;
	capacity = n;
	shop->agents = xcalloc(capacity, sizeof(*shop->agents));
	for (i = 0; i < count; i++) {
		struct ctl_row *row;
		if (strcmp(agents[i], "*") == 0)
			continue;
		row = &shop->agents[shop->agent_count];
		row_init(row, agents[i], strlen(agents[i]), NULL);
		row_take(c, row, replies[shop->agent_count], keys[shop->agent_count]);
		shop->agent_count++;
	}
	row_take(c, &shop->total, replies[n], keys[n]);
	for (i = 0; i <= n; i++)
		freeReplyObject(replies[i]);
	if (with_alerts && shop_take_alerts(c, shop, &capacity) == -1)
		goto done;
	for (i = 0, n = 0; i < shop->agent_count; i++) {
		if (shop->agents[i].has_data || shop->agents[i].alert != NULL)
			shop->agents[n++] = shop->agents[i];
		else
			ctl_row_free(&shop->agents[i]);
	}
	shop->agent_count = n;
	qsort(shop->agents, shop->agent_count, sizeof(*shop->agents), compare_rows);
	rc = 0;
done:
	for (i = 0; i <= count && keys[i] != NULL; i++)
		free(keys[i]);
	free(keys);
	free(replies);
	ctl_strings_free(agents, count);
	return rc;
}

int ctl_redis_agent_in_shop(struct ctl_redis *c, const char *shop, const char *agent)
{
	char *key;
	const char *argv[3] = {"SISMEMBER", NULL, agent};
	redisReply *reply;
	int found;

	if (strcmp(agent, "*") == 0)
		return 1;
	key = shop_key(c, shop, "agents");
	argv[1] = key;
	reply = ctl_redis_command(c, 3, argv);
	free(key);
	if (reply == NULL)
		return -1;
	found = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return found;
}

int ctl_redis_agents(struct ctl_redis *c, const char *shop, char ***agents, size_t *count)
{
	char *key = shop_key(c, shop, "agents");
	int rc = ctl_redis_members(c, key, agents, count);

	free(key);
	return rc;
}

/* Reads the hashes keys[0..count) into rows (initialised by the caller) in one
 * pipeline; frees keys. Returns 0 or -1 as ctl_redis_hgetall. */
static int read_rows(struct ctl_redis *c, char **keys, size_t count, struct ctl_row *rows)
{
	redisReply **replies = xcalloc(count, sizeof(*replies));
	int rc = ctl_redis_hgetall(c, keys, count, replies);

	for (size_t i = 0; i < count; i++) {
		if (rc == 0) {
			row_take(c, &rows[i], replies[i], keys[i]);
			freeReplyObject(replies[i]);
		}
		free(keys[i]);
	}
	free(keys);
	free(replies);
	return rc;
}

int ctl_redis_rows(struct ctl_redis *c, const char *shop, const char *agent,
                   const char *const *suffixes, size_t count, struct ctl_row *rows)
{
	char **keys = xcalloc(count, sizeof(*keys));

	for (size_t i = 0; i < count; i++) {
		keys[i] = counters_key(c, shop, agent, suffixes[i]);
		row_init(&rows[i], agent, strlen(agent), NULL);
	}
	return read_rows(c, keys, count, rows);
}

int ctl_redis_totals(struct ctl_redis *c, char *const *shops, size_t count, const char *suffix,
                     struct ctl_row *rows)
{
	char **keys = xcalloc(count, sizeof(*keys));

	for (size_t i = 0; i < count; i++) {
		keys[i] = counters_key(c, shops[i], "*", suffix);
		row_init(&rows[i], "*", 1, "(shop)");
	}
	return read_rows(c, keys, count, rows);
}

int ctl_redis_agent(struct ctl_redis *c, const char *shop, const char *agent,
                    const char *const *suffixes, size_t count, struct ctl_row *rows,
                    struct ctl_row *alert_row)
{
	const char *argv[3];
	redisReply *reply;
	char *alerts_key;

	row_init(alert_row, agent, strlen(agent), NULL);
	if (ctl_redis_rows(c, shop, agent, suffixes, count, rows) == -1)
		return -1;
	alerts_key = shop_key(c, shop, "alerts");
	argv[0] = "HGET";
	argv[1] = alerts_key;
	argv[2] = agent;
	reply = ctl_redis_command(c, 3, argv);
	free(alerts_key);
	if (reply == NULL)
		return -1;
	if (reply->type == REDIS_REPLY_STRING)
		row_set_alert(alert_row, reply->str, reply->len);
	freeReplyObject(reply);
	return 0;
}

/* ---- alerts ---- */

void ctl_alerts_free(struct ctl_alert *list, size_t count)
{
	for (size_t i = 0; list != NULL && i < count; i++) {
		free(list[i].id);
		free(list[i].shop);
		free(list[i].agent);
		free(list[i].json);
	}
	free(list);
}

static int compare_alerts(const void *a, const void *b)
{
	return strcmp(((const struct ctl_alert *)a)->agent, ((const struct ctl_alert *)b)->agent);
}

/* Appends a shop's active-alert hash (an HGETALL reply) to list, sorted by agent. */
static void alerts_take(const char *shop, const redisReply *reply, struct ctl_alert *list,
                        size_t *n)
{
	size_t first = *n;

	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *agent = reply->element[i], *json = reply->element[i + 1];
		if (agent->type != REDIS_REPLY_STRING || json->type != REDIS_REPLY_STRING)
			continue;
		list[*n].shop = xstrdup(shop);
		list[*n].agent = xstrndup(agent->str, agent->len);
		list[*n].json = xstrndup(json->str, json->len);
		list[*n].json_len = json->len;
		(*n)++;
	}
	qsort(list + first, *n - first, sizeof(*list), compare_alerts);
}

int ctl_redis_active_alerts(struct ctl_redis *c, const char *shop, struct ctl_alert **alerts,
                            size_t *count)
{
	char *key = shop_key(c, shop, "alerts");
	const char *argv[2] = {"HGETALL", key};
	redisReply *reply = ctl_redis_command(c, 2, argv);
	struct ctl_alert *list;
	size_t n = 0;

	free(key);
	*alerts = NULL;
	*count = 0;
	if (reply == NULL)
		return -1;
	list = xcalloc(reply->elements / 2, sizeof(*list));
	alerts_take(shop, reply, list, &n);
	freeReplyObject(reply);
	*alerts = list;
	*count = n;
	return 0;
}

int ctl_redis_active_alerts_of(struct ctl_redis *c, char *const *shops, size_t shop_count,
                               struct ctl_alert **alerts, size_t *count)
{
	char **keys = xcalloc(shop_count, sizeof(*keys));
	redisReply **replies = xcalloc(shop_count, sizeof(*replies));
	struct ctl_alert *list = NULL;
	size_t total = 0, n = 0;
	int rc;

	*alerts = NULL;
	*count = 0;
	for (size_t i = 0; i < shop_count; i++)
		keys[i] = shop_key(c, shops[i], "alerts");
	rc = ctl_redis_hgetall(c, keys, shop_count, replies);
	if (rc == 0) {
		for (size_t i = 0; i < shop_count; i++)
			total += replies[i]->elements / 2;
		list = xcalloc(total, sizeof(*list));
		for (size_t i = 0; i < shop_count; i++) {
			alerts_take(shops[i], replies[i], list, &n);
			freeReplyObject(replies[i]);
		}
		*alerts = list;
		*count = n;
	}
	for (size_t i = 0; i < shop_count; i++)
		free(keys[i]);
	free(keys);
	free(replies);
	return rc;
}

/* The id of a stream entry [id, [field, value, ...]], or NULL if it is not one. */
static const redisReply *stream_entry_id(const redisReply *entry)
{
	if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
	    entry->element[0]->type != REDIS_REPLY_STRING ||
	    entry->element[1]->type != REDIS_REPLY_ARRAY)
		return NULL;
	return entry->element[0];
}

/* The message of a stream entry: its `alert` field (as chatlogd writes it), else
 * its first value; NULL when there is none. */
static const redisReply *stream_message(const redisReply *entry)
{
	const redisReply *fields;

	if (stream_entry_id(entry) == NULL)
		return NULL;
	fields = entry->element[1];
	for (size_t i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(fields->element[i]->str, "alert") == 0 &&
		    fields->element[i + 1]->type == REDIS_REPLY_STRING)
			return fields->element[i + 1];
	if (fields->elements >= 2 && fields->element[1]->type == REDIS_REPLY_STRING)
		return fields->element[1];
	return NULL;
}

/* Fills alert from a stream entry; 0, or -1 when the entry has no message. */
static int stream_alert(const redisReply *entry, struct ctl_alert *alert)
{
	const redisReply *id = stream_entry_id(entry), *message = stream_message(entry);

	memset(alert, 0, sizeof(*alert));
	if (id == NULL || message == NULL)
		return -1;
	alert->id = xstrndup(id->str, id->len);
	alert->json = xstrndup(message->str, message->len);
	alert->json_len = message->len;
	return 0;
}

int ctl_redis_recent_alerts(struct ctl_redis *c, size_t max, struct ctl_alert **alerts,
                            size_t *count, char *last_id, size_t id_size)
{
	char *stream = ctl_format("%s:alerts:log", c->prefix), max_text[24];
	const char *argv[6] = {"XREVRANGE", stream, "+", "-", "COUNT", max_text};
	struct ctl_alert *list;
	redisReply *reply;
	size_t n = 0;

	snprintf(max_text, sizeof(max_text), "%zu", max);
	snprintf(last_id, id_size, "0-0");
	*alerts = NULL;
	*count = 0;
	reply = ctl_redis_command(c, 6, argv);
	free(stream);
	if (reply == NULL)
		return -1;
	if (reply->elements > 0 && stream_entry_id(reply->element[0]) != NULL)
		snprintf(last_id, id_size, "%s", stream_entry_id(reply->element[0])->str);
	list = xcalloc(reply->elements, sizeof(*list));
	/* XREVRANGE gives the newest first; a log reads oldest first. */
	for (size_t i = reply->elements; i-- > 0;)
		if (stream_alert(reply->element[i], &list[n]) == 0)
			n++;
	freeReplyObject(reply);
	*alerts = list;
	*count = n;
	return 0;
}

int ctl_redis_follow_alerts(struct ctl_redis *c, char *last_id, size_t id_size, int64_t block_ms,
                            volatile sig_atomic_t *stop, ctl_alert_fn fn, void *ctx)
{
	char *stream = ctl_format("%s:alerts:log", c->prefix), block[24], batch[24];
	const char *argv[8] = {"XREAD", "COUNT", batch, "BLOCK", block, "STREAMS", stream, last_id};
	char why[512];
	int rc = 0, done = 0;

	snprintf(block, sizeof(block), "%lld", (long long)block_ms);
	snprintf(batch, sizeof(batch), "%d", CTL_FOLLOW_BATCH);
	while (!*stop && !done) {
		redisReply *reply = ctl_redis_send(c, stream, 8, argv, why, sizeof(why)), *entries;
		if (reply == NULL && *stop)
			break; /* the signal interrupted the blocked read */
		if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
			ctl_error("redis %s: XREAD %s: %s", c->where, stream,
			          reply != NULL ? reply->str : why);
			if (reply != NULL)
				freeReplyObject(reply);
			rc = -1;
			break;
		}
		if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0 ||
		    reply->element[0]->type != REDIS_REPLY_ARRAY ||
		    reply->element[0]->elements != 2) {
			freeReplyObject(reply); /* BLOCK ran out: nothing new */
			continue;
		}
		entries = reply->element[0]->element[1];
		for (size_t i = 0; i < entries->elements && !done; i++) {
			const redisReply *id = stream_entry_id(entries->element[i]);
			struct ctl_alert alert;
			if (id == NULL)
				continue;
			/* Past every entry read, with a message or not, so none comes twice. */
			snprintf(last_id, id_size, "%s", id->str);
			if (stream_alert(entries->element[i], &alert) == 0) {
				done = fn(ctx, &alert) != 0;
				free(alert.id);
				free(alert.json);
			}
		}
		freeReplyObject(reply);
	}
	free(stream);
	return rc;
}

void ctl_periods_init(struct ctl_periods *p, const char *day_key)
{
	for (unsigned w = 0; w < CTL_PERIODS; w++) {
		if (w < WINDOW_COUNT)
			snprintf(p->suffix[w], sizeof(p->suffix[w]), "w:%s", windows_name(w));
		else
			snprintf(p->suffix[w], sizeof(p->suffix[w]), "d:%s", day_key);
		p->list[w] = p->suffix[w];
	}
}
