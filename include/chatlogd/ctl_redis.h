/*
 * chatlogctl's side of Redis: one blocking hiredis connection (timeouts, AUTH,
 * SELECT), or a Redis Cluster's masters (ctl_cluster.h), and the reads of the
 * reference.md §6/§7 schema the scoreboard needs: shops, agents, counters hashes
 * into rows, active alerts and the alert stream. It never writes. Part of the chatlogctl program
 * only, not of the core library. Also the program's messages ("chatlogctl: ...") and allocations,
 * which exit when memory runs out: a command-line tool has nothing better to do then.
 */
#ifndef CHATLOGD_CTL_REDIS_H
#define CHATLOGD_CTL_REDIS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "reasons.h"
#include "windows.h"

struct config;
struct ctl_redis;

/* Writes "chatlogctl: MESSAGE\n" to stderr. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Never return NULL (they exit 1 when memory runs out); util.h has the rest. */
char *ctl_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* scoreboard_display_text: [s, s+len) made safe for a terminal. */
char *ctl_display(const char *s, size_t len);

/* Frees count strings and the array; accepts NULL. */
void ctl_strings_free(char **list, size_t count);

/* One counters hash read back: an agent's, or the whole shop's (name "*"). */
struct ctl_row {
	char *name;  /* as in Redis: for keys and JSON */
	char *label; /* for terminals: control characters and bad bytes replaced */
	int64_t value[COUNTER_WIDTH];
	int has_data;   /* some counter is not zero */
	char as_of[40]; /* window hashes: when the daemon wrote it; else "" */
	char *alert;    /* the agent's active alert, raw JSON as stored; NULL if none */
	size_t alert_len;
};

void ctl_row_free(struct ctl_row *row);

/* A shop's rows for one period: its agents (sorted by inquiries, most first, then
 * by name) and the whole shop. */
struct ctl_shop {
	char *name, *label;
	struct ctl_row *agents;
	size_t agent_count;
	struct ctl_row total; /* agent "*", labelled "(shop)" */
};

void ctl_shop_free(struct ctl_shop *shop);

/* An alert message: from a shop's active-alert hash (shop and agent set, id NULL)
 * or from the alert stream (id set, shop and agent NULL). */
struct ctl_alert {
	char *id, *shop, *agent;
	char *json; /* the message as stored */
	size_t json_len;
};

void ctl_alerts_free(struct ctl_alert *list, size_t count);

/* Reads the URL and the password file of cfg (copied; cfg may go); nothing is
 * connected yet. NULL with the reason in err for a bad URL or password file. */
struct ctl_redis *ctl_redis_new(const struct config *cfg, char *err, size_t errlen);

/* Connects (timeout_ms for the connection and for every reply), authenticates,
 * checks the server's kind against redis_cluster, selects the database and forgets
 * the password (a cluster client keeps its own copy for masters met later). With
 * redis_cluster = on: reads the slot map and connects to every master. -1 after
 * saying why. */
int ctl_redis_connect(struct ctl_redis *c, int64_t timeout_ms);

/* With redis_cluster = on and connected: how many masters serve slots, and the
 * host and port of master i (valid until the next command). 0 for one server. */
size_t ctl_redis_master_count(const struct ctl_redis *c);
void ctl_redis_master(const struct ctl_redis *c, size_t i, const char **host, int *port);

/* For a long-running command (serve): the password stays in memory after connecting,
 * for ctl_redis_ensure. */
void ctl_redis_keep_password(struct ctl_redis *c);

/* Connects again when there is no connection or the last command lost it (an error
 * on the socket, a timeout; on a cluster: when no node answered for the slot map,
 * as a lost master's connection comes back at its next command). 0 when
 * connected, -1 after saying why. */
int ctl_redis_ensure(struct ctl_redis *c, int64_t timeout_ms);

/* Disconnects and frees; accepts NULL. */
void ctl_redis_free(struct ctl_redis *c);

/* The key prefix; the lost reasons met so far (rows' value[] index into them). */
const char *ctl_redis_prefix(const struct ctl_redis *c);
const struct reasons *ctl_redis_reasons(const struct ctl_redis *c);

/* The shops in PREFIX:shops sorted by name, or only `only` (an error when it is
 * not among them). -1 after saying why. */
int ctl_redis_shops(struct ctl_redis *c, const char *only, char ***shops, size_t *count);

/* One shop's agents and whole-shop row for a key suffix ("w:1h", "d:20261124"). Agents
 * whose hash is empty are left out, unless with_alerts and the agent has an active
 * alert (its row then has no counters). -1 after saying why; free shop either way. */
int ctl_redis_shop(struct ctl_redis *c, const char *shop_name, const char *suffix, int with_alerts,
                   struct ctl_shop *shop);

/* 1 when agent is in the shop's agents set ("*", the whole shop, always is), 0
 * when not, -1 after saying why. */
int ctl_redis_agent_in_shop(struct ctl_redis *c, const char *shop, const char *agent);

/* The names in a shop's agents set, sorted by bytes. -1 after saying why. */
int ctl_redis_agents(struct ctl_redis *c, const char *shop, char ***agents, size_t *count);

/* One agent's ("*": the shop's) hashes for count suffixes into rows[count], in one
 * round trip. -1 after saying why; free the rows either way. */
int ctl_redis_rows(struct ctl_redis *c, const char *shop, const char *agent,
                   const char *const *suffixes, size_t count, struct ctl_row *rows);

/* The whole-shop rows (agent "*") of count shops for one key suffix into rows[count],
 * in one round trip. -1 after saying why; free the rows either way. */
int ctl_redis_totals(struct ctl_redis *c, char *const *shops, size_t count, const char *suffix,
                     struct ctl_row *rows);

/* An agent's periods as the CLI and the dashboard read them: the windows' hashes
 * ("w:1m" .. "w:24h", windows.h's order), then the day's ("d:YYYYMMDD"). */
#define CTL_PERIODS (WINDOW_COUNT + 1)
struct ctl_periods {
	char suffix[CTL_PERIODS][16];
	const char *list[CTL_PERIODS];
};
void ctl_periods_init(struct ctl_periods *p, const char *day_key);

/* One agent's hashes for count suffixes into rows[count], and its active alert into
 * alert_row. -1 after saying why; free the rows either way. */
int ctl_redis_agent(struct ctl_redis *c, const char *shop, const char *agent,
                    const char *const *suffixes, size_t count, struct ctl_row *rows,
                    struct ctl_row *alert_row);

/* The active alerts of one shop (PREFIX:{SHOP}:alerts), by agent name. */
int ctl_redis_active_alerts(struct ctl_redis *c, const char *shop, struct ctl_alert **alerts,
                            size_t *count);

/* The active alerts of count shops, in one round trip: by shop in the order given,
 * then by agent name. -1 after saying why. */
int ctl_redis_active_alerts_of(struct ctl_redis *c, char *const *shops, size_t shop_count,
                               struct ctl_alert **alerts, size_t *count);

/* The latest max entries of PREFIX:alerts:log, oldest first; last_id gets the id of
 * the newest (or "0-0" for an empty stream), where a follow starts. */
int ctl_redis_recent_alerts(struct ctl_redis *c, size_t max, struct ctl_alert **alerts,
                            size_t *count, char *last_id, size_t id_size);

/* Called for each new stream entry; nonzero stops the follow. */
typedef int (*ctl_alert_fn)(void *ctx, const struct ctl_alert *alert);

/* Blocks on PREFIX:alerts:log after last_id (advanced as entries come) and calls fn
 * for each new entry, until *stop is set (checked at least every block_ms) or fn
 * returns nonzero. Returns 0, or -1 after saying why. */
int ctl_redis_follow_alerts(struct ctl_redis *c, char *last_id, size_t id_size, int64_t block_ms,
                            volatile sig_atomic_t *stop, ctl_alert_fn fn, void *ctx);

#endif
