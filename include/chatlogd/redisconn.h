/*
 * One resilient asynchronous connection to Redis on the libevent loop (hiredis 0.14
 * async API): URL parsing, non-blocking name resolution, AUTH and SELECT before it
 * counts as connected, a deadline on every command (0.14 has none), reconnection
 * with capped exponential backoff, and Lua scripts by EVALSHA with a fallback on
 * NOSCRIPT. It knows nothing about what the commands mean.
 */
#ifndef CHATLOGD_REDISCONN_H
#define CHATLOGD_REDISCONN_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct redisAsyncContext;
struct redisReply;
struct redisconn;

struct redisconn_settings {
	const char *url;           /* redis://[user:pass@]host:port/db, unix:///path[?db=N] */
	const char *password_file; /* "" or a file whose first line is the password */
	int64_t connect_timeout_ms;
	int64_t command_timeout_ms; /* a reply later than this drops the connection */
	int64_t backoff_min_ms, backoff_max_ms;
	/* 0: the server must not be a Redis Cluster node; 1: it must be one (INFO
	 * cluster, asked at every connect; the wrong kind fails the attempt). */
	int cluster;
};

/* Where and who, as a URL and a password file give them. Strings are owned; free
 * them with redisconn_endpoint_free. */
struct redis_endpoint {
	char *host;      /* NULL for a Unix socket */
	char *unix_path; /* NULL for TCP */
	int port;        /* TCP: from the URL, else 6379 */
	int db;
	char *user;     /* NULL: AUTH with the password alone */
	char *password; /* NULL: no AUTH */
};

/* Parses redis://[user[:password]@]host[:port][/db] or unix:///path[?db=N] into out
 * (user and password %-decoded). Returns 0, or -1 with a reason in err and out
 * empty. Error texts never quote the URL: it may hold a password. */
int redisconn_parse_url(const char *url, struct redis_endpoint *out, char *err, size_t errlen);

/* Reads the password from the first line of password_file ("" or NULL: none) into ep,
 * then checks the result: -1 with a reason in err when the URL held a password too,
 * when the file is unreadable or empty, or when a user name has no password. */
int redisconn_load_password(struct redis_endpoint *ep, const char *password_file, char *err,
                            size_t errlen);

/* Frees the strings (wiping the password) and zeroes ep; accepts NULL. */
void redisconn_endpoint_free(struct redis_endpoint *ep);

/* Starts a non-blocking connection to unix_path, or else to address:port (address
 * already resolved), attached to base with data as ac->data and the two callbacks.
 * Returns the hiredis context, or NULL with "connect: why" in reason. redisconn and
 * subscriber both connect this way and differ only in what they queue on it. */
struct redisAsyncContext *
redisconn_open(const char *unix_path, const char *address, int port, struct event_base *base,
               void *data, void (*on_connect)(const struct redisAsyncContext *, int),
               void (*on_disconnect)(const struct redisAsyncContext *, int), char *reason,
               size_t reasonlen);

/* Called when the connection becomes usable (connected = 1: AUTH, SELECT and script
 * loading done) or is lost or an attempt failed (0, once per failed attempt, after
 * the pending callbacks got NULL). reason is a short text for logs, valid during
 * the call, never holding the password. Never called by redisconn_free. */
typedef void (*redisconn_state_fn)(void *ctx, int connected, const char *reason);

/* Called exactly once per command: with its reply, or with reply == NULL when the
 * connection was lost or the deadline passed before a reply came (the command may
 * or may not have run). The reply is freed by redisconn after the call. */
typedef void (*redisconn_reply_fn)(void *ctx, struct redisReply *reply, void *privdata);

/* Creates the connection object; the first attempt starts from the loop (no
 * callback runs inside redisconn_new). Settings are copied; the password is read
 * from the file now and kept in memory only. NULL with a reason in err for a bad
 * URL or settings, or an unreadable password file. The caller must ignore SIGPIPE
 * (hiredis 0.14 writes with write(2)). */
struct redisconn *redisconn_new(struct event_base *base, const struct redisconn_settings *s,
                                redisconn_state_fn state_fn, void *ctx, char *err, size_t errlen);

/* As redisconn_new, but to an endpoint already parsed (a cluster node named by
 * CLUSTER SLOTS, with the seed's credentials): endpoint is copied, s->url and
 * s->password_file are not read. */
struct redisconn *redisconn_new_endpoint(struct event_base *base,
                                         const struct redis_endpoint *endpoint,
                                         const struct redisconn_settings *s,
                                         redisconn_state_fn state_fn, void *ctx, char *err,
                                         size_t errlen);

/* Registers a Lua script (copied) before or after connecting; returns its id. It
 * is SCRIPT LOADed on every (re)connect. */
int redisconn_script(struct redisconn *c, const char *lua);

/* Sends a command (binary-safe arguments). Returns 0, or -1 when not connected
 * (fn is then not called). */
int redisconn_command(struct redisconn *c, int argc, const char **argv, const size_t *argvlen,
                      redisconn_reply_fn fn, void *privdata);

/* EVALSHA of script id with argv = numkeys keys and args (copied); on a NOSCRIPT
 * error it is retried once as EVAL (which also reloads the script), transparently:
 * fn sees only the final reply. Returns 0, or -1 when not connected. */
int redisconn_eval(struct redisconn *c, int script, int argc, const char **argv,
                   const size_t *argvlen, int numkeys, redisconn_reply_fn fn, void *privdata);

int redisconn_connected(const struct redisconn *c);

/* Allocates head zeroed bytes (a request of the caller's) followed by a copy of argc
 * arguments, and points *argv_out and *argvlen_out at the copy; one free() releases
 * all. A request that may be sent again (EVAL after NOSCRIPT, a cluster's redirect)
 * keeps its arguments this way. */
void *redisconn_args_block(size_t head, int argc, const char **argv, const size_t *argvlen,
                           const char ***argv_out, size_t **argvlen_out);

/* Whether the server's mode did not match the setting at the last connect (a
 * cluster node with cluster = 0, a single server with cluster = 1): no retry can
 * change it, so a one-shot run gives up at once. */
int redisconn_wrong_mode(const struct redisconn *c);

/* Commands sent and not yet answered. */
size_t redisconn_in_flight(const struct redisconn *c);

/* Writes a log-safe description of the endpoint into buf ("tcp host=h port=p db=n
 * auth=acl user=u"; never the password) and returns buf. */
const char *redisconn_endpoint(const struct redisconn *c, char *buf, size_t len);

/* Disconnects and frees; accepts NULL. Every pending callback gets NULL (in send
 * order) before this returns, and none is called afterwards. Safe inside a reply
 * callback and inside the state callback: the memory is then released when that
 * callback returns. */
void redisconn_free(struct redisconn *c);

#endif
