/*
 * redisconn.c owns one resilient asynchronous connection to Redis on the libevent
 * loop: parsing its URL, resolving the host without blocking, AUTH, SELECT and
 * SCRIPT LOAD before the connection counts as up, a deadline on every command,
 * reconnection with capped exponential backoff, and EVALSHA with an EVAL fallback.
 * It does not know what the commands mean and never retries one (except EVALSHA
 * answered NOSCRIPT, which did not run).
 *
 * Freeing discipline (hiredis 0.14 frees its context by itself after a failed
 * connect and after a lost connection, and defers redisAsyncFree only inside reply
 * callbacks): every entry from the loop into this file counts itself in
 * c->depth; redisconn_free inside any of our callbacks only marks the object and
 * the outermost entry frees it on the way out. The hiredis context is freed by us
 * only when hiredis will not free it itself, and before that we detach it
 * (ac->data = NULL, every pending request's conn = NULL) so the callbacks hiredis
 * still runs while tearing it down touch nothing but their own request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <event2/event.h>
#include <event2/util.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "chatlogd/decimal.h"
#include "chatlogd/clock.h"
#include "chatlogd/log.h"
#include "chatlogd/redisconn.h"
#include "chatlogd/secret.h"
#include "chatlogd/resolve.h"
#include "chatlogd/util.h"

/* A Redis password is a line of text; anything longer than this in the password
 * file is a wrong file, not a password. */
#define REDISCONN_PASSWORD_BYTES 4096

#define REDISCONN_DEFAULT_PORT 6379

enum redisconn_state {
	REDISCONN_WAITING,   /* no connection; the step timer starts the next attempt */
	REDISCONN_RESOLVING, /* waiting for evdns; the step timer continues */
	REDISCONN_HANDSHAKE, /* context made; AUTH, SELECT, SCRIPT LOAD, PING queued */
	REDISCONN_READY,     /* PING answered: commands accepted */
	REDISCONN_CLOSING,   /* hiredis is failing every pending command; on_disconnect follows */
};

enum request_kind {
	REQUEST_COMMAND, /* the caller's; counted in in_flight */
	REQUEST_EVAL,    /* the caller's; keeps its arguments for the EVAL fallback */
	REQUEST_AUTH,
	REQUEST_SELECT,
	REQUEST_INFO_CLUSTER,
	REQUEST_SCRIPT_LOAD,
	REQUEST_PING,
};

/* One command handed to hiredis. hiredis calls redisconn_on_reply exactly once per
 * request; while conn is set, that call is ours to act on; once conn is NULL the
 * request was already answered (with NULL) and that call only frees it. */
struct request {
	TAILQ_ENTRY(request) entry; /* in conn->pending while conn is set */
	struct redisconn *conn;
	enum request_kind kind;
	redisconn_reply_fn fn;
	void *privdata;
	int64_t deadline_ms;
	int script;  /* REQUEST_EVAL, REQUEST_SCRIPT_LOAD */
	int retried; /* REQUEST_EVAL: sent as EVAL already, no second try */
	int numkeys; /* REQUEST_EVAL */
	int argc;    /* REQUEST_EVAL: copies below, in this allocation */
	const char **argv;
	size_t *argvlen;
};
TAILQ_HEAD(request_list, request);

struct script {
	char *lua;
	size_t lua_len;
	char sha[41]; /* "" until a SCRIPT LOAD answered */
};

struct redisconn {
	struct event_base *base;
	redisconn_state_fn state_fn;
	void *ctx;

	/* Where and who, from the URL and the password file. */
	char *host;      /* NULL for a Unix socket */
	char *unix_path; /* NULL for TCP */
	int port;
	int db;
	char *user;     /* NULL: AUTH with the password alone */
	char *password; /* NULL: no AUTH */
	int cluster;    /* settings: 1 the server must be a cluster node, 0 must not */
	int wrong_mode; /* the server's mode did not match cluster at the last connect */
	int64_t connect_timeout_ms, command_timeout_ms, backoff_min_ms, backoff_max_ms;

	enum redisconn_state state;
	redisAsyncContext *ac;
	struct request_list pending;   /* handed to hiredis, unanswered, in send order */
	struct request_list answering; /* being answered NULL by redisconn_drop */
	size_t in_flight;              /* the caller's requests among them */
	int64_t backoff_ms;            /* wait before the attempt after the next failure */
	unsigned failed_attempts;      /* since the last success; picks the address */

	struct event *step_timer;     /* next attempt; continue after a lookup */
	struct event *connect_timer;  /* attempt start to READY */
	struct event *deadline_timer; /* the oldest pending request's deadline */

	struct resolver *resolver;     /* NULL for numeric hosts and Unix sockets */
	struct resolve_lookup *lookup; /* the lookup in progress, if any */
	struct resolve_answer answer;  /* attempts rotate through its addresses */

	struct script *scripts;
	int script_count;

	int depth;          /* our callbacks on the stack right now */
	int free_requested; /* redisconn_free was called; free at depth 0 */
};

static void redisconn_drop(struct redisconn *c, const char *reason);

static struct timeval redisconn_timeval(int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* ---- URL and password file ---- */

static int redisconn_hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Copies [s, s+len) with %XX decoded into a new string; NULL if malformed.
 * User names and passwords may carry any byte this way. */
static char *redisconn_percent_decode(const char *s, size_t len)
{
	char *out, *o;
	size_t i;
	int hi, lo;

	out = xmalloc(len + 1);
	for (i = 0, o = out; i < len; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= len) {
			free(out);
			return NULL;
		}
		if ((hi = redisconn_hex_value(s[i + 1])) < 0 ||
		    (lo = redisconn_hex_value(s[i + 2])) < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

/* All of [s, s+len) as a number in [min, max]; -1 if it is not. */
static long redisconn_parse_number(const char *s, size_t len, long min, long max)
{
	uint64_t value;

	if (decimal_parse(s, len, (uint64_t)max, &value) == -1 || value < (uint64_t)min)
		return -1;
	return (long)value;
}

/* unix:///absolute/path[?db=N] */
static int redisconn_parse_unix_url(struct redis_endpoint *ep, const char *rest, char *err,
                                    size_t errlen)
{
	const char *query = strchr(rest, '?');
	size_t path_len = query != NULL ? (size_t)(query - rest) : strlen(rest);
	long db = 0;

	if (path_len == 0 || rest[0] != '/') {
		snprintf(err, errlen, "redis url: unix:// needs an absolute socket path");
		return -1;
	}
	if (path_len >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		snprintf(err, errlen, "redis url: socket path longer than %zu bytes",
		         sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
		return -1;
	}
	if (query != NULL) {
		if (strncmp(query, "?db=", 4) != 0 ||
		    (db = redisconn_parse_number(query + 4, strlen(query + 4), 0, INT_MAX)) < 0) {
			snprintf(err, errlen, "redis url: the only query is ?db=N (N >= 0)");
			return -1;
		}
	}
	ep->unix_path = xstrndup(rest, path_len);
	ep->db = (int)db;
	return 0;
}

/* [user[:password]@] or [:password@]; either part may be %-encoded. */
static int redisconn_parse_userinfo(struct redis_endpoint *ep, const char *s, size_t len, char *err,
                                    size_t errlen)
{
	const char *colon = memchr(s, ':', len);
	size_t user_len = colon != NULL ? (size_t)(colon - s) : len;

	if (user_len > 0 && (ep->user = redisconn_percent_decode(s, user_len)) == NULL) {
		snprintf(err, errlen, "redis url: bad %%-escape in the user name");
		return -1;
	}
	if (colon == NULL)
		return 0;
	if (colon + 1 == s + len) {
		snprintf(err, errlen, "redis url: empty password after ':'");
		return -1;
	}
	if ((ep->password = redisconn_percent_decode(colon + 1, (size_t)(s + len - colon - 1))) ==
	    NULL) {
		snprintf(err, errlen, "redis url: bad %%-escape in the password");
		return -1;
	}
	return 0;
}

/* redis://[user[:password]@]host[:port][/db]; host may be [IPv6]. Error texts
 * never quote the URL: it may hold a password.
 * Not evhttp_uri_parse (libevent 2.1), which would save only the split of the
 * authority: it refuses without a reason (no "port must be 1-65535", no "an IPv6
 * address needs [brackets]"), takes port 0 and an empty port, refuses a raw '@' in
 * a password (we split at the last '@'), and leaves user:password undecoded in one
 * string; the port, db, userinfo and unix:// checks below would all stay. */
static int redisconn_parse_tcp_url(struct redis_endpoint *ep, const char *rest, char *err,
                                   size_t errlen)
{
	size_t authority_len = strcspn(rest, "/?#");
	const char *path = rest + authority_len;
	const char *host, *port = NULL, *at, *end = rest + authority_len;
	size_t host_len;
	long value;

	if (*path == '?' || *path == '#') {
		snprintf(err, errlen, "redis url: redis:// takes no query or fragment");
		return -1;
	}
	for (at = end; at > rest && at[-1] != '@'; at--)
		;
	if (at > rest && redisconn_parse_userinfo(ep, rest, (size_t)(at - 1 - rest), err, errlen))
		return -1;
	host = at;
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));
		if (close == NULL) {
			snprintf(err, errlen, "redis url: '[' without ']' around an IPv6 address");
			return -1;
		}
		host_len = (size_t)(close - host - 1);
		host++;
		if (close + 1 < end) {
			if (close[1] != ':') {
				snprintf(err, errlen, "redis url: junk after ']'");
				return -1;
			}
			port = close + 2;
		}
	} else {
		const char *colon = memchr(host, ':', (size_t)(end - host));
		if (colon != NULL && memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL) {
			snprintf(err, errlen, "redis url: an IPv6 address needs [brackets]");
			return -1;
		}
		host_len = colon != NULL ? (size_t)(colon - host) : (size_t)(end - host);
		if (colon != NULL)
			port = colon + 1;
	}
	if (host_len == 0) {
		snprintf(err, errlen, "redis url: missing host");
		return -1;
	}
	ep->port = REDISCONN_DEFAULT_PORT;
	if (port != NULL) {
		if ((value = redisconn_parse_number(port, (size_t)(end - port), 1, 65535)) < 0) {
			snprintf(err, errlen, "redis url: port must be 1-65535");
			return -1;
		}
		ep->port = (int)value;
	}
	ep->db = 0;
	if (*path == '/' && path[1] != '\0') {
		if ((value = redisconn_parse_number(path + 1, strlen(path + 1), 0, INT_MAX)) < 0) {
			snprintf(err, errlen, "redis url: the path must be /DB with DB >= 0");
			return -1;
		}
		ep->db = (int)value;
	}
	ep->host = xstrndup(host, host_len);
	return 0;
}

static int redisconn_parse_any_url(struct redis_endpoint *ep, const char *url, char *err,
                                   size_t errlen)
{
	if (url == NULL || url[0] == '\0') {
		snprintf(err, errlen, "redis url: empty");
		return -1;
	}
	if (strncmp(url, "redis://", 8) == 0)
		return redisconn_parse_tcp_url(ep, url + 8, err, errlen);
	if (strncmp(url, "unix://", 7) == 0)
		return redisconn_parse_unix_url(ep, url + 7, err, errlen);
	if (strncmp(url, "rediss://", 9) == 0)
		snprintf(err, errlen, "redis url: TLS (rediss://) is not supported");
	else
		snprintf(err, errlen, "redis url: must start with redis:// or unix://");
	return -1;
}

int redisconn_parse_url(const char *url, struct redis_endpoint *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (redisconn_parse_any_url(out, url, err, errlen) == -1) {
		redisconn_endpoint_free(out);
		return -1;
	}
	return 0;
}

void redisconn_endpoint_free(struct redis_endpoint *ep)
{
	if (ep == NULL)
		return;
	free(ep->host);
	free(ep->unix_path);
	free(ep->user);
	if (ep->password != NULL) {
		explicit_bzero(ep->password, strlen(ep->password));
		free(ep->password);
	}
	memset(ep, 0, sizeof(*ep));
}

/* The password: the first line of path (secret.c). */
static int redisconn_read_password(struct redis_endpoint *ep, const char *path, char *err,
                                   size_t errlen)
{
	char buf[REDISCONN_PASSWORD_BYTES];
	int len = secret_read_file(path, "password", "redis", buf, sizeof(buf), err, errlen);

	if (len == -1)
		return -1;
	ep->password = xstrndup(buf, (size_t)len);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int redisconn_load_password(struct redis_endpoint *ep, const char *password_file, char *err,
                            size_t errlen)
{
	if (password_file != NULL && password_file[0] != '\0') {
		if (ep->password != NULL) {
			snprintf(err, errlen,
			         "redis: password given both in the url and in "
			         "password_file");
			return -1;
		}
		if (redisconn_read_password(ep, password_file, err, errlen) == -1)
			return -1;
	}
	if (ep->user != NULL && ep->password == NULL) {
		snprintf(err, errlen,
		         "redis url: user name without a password (give it in the "
		         "url or in password_file)");
		return -1;
	}
	return 0;
}

/* ---- requests ---- */

static int redisconn_is_callers(const struct request *req)
{
	return req->kind == REQUEST_COMMAND || req->kind == REQUEST_EVAL;
}

/* Arms the deadline timer for the oldest pending request. Deadlines grow in send
 * order, so the head is always the first to expire; the timer re-arms itself for
 * the new head when it fires early. */
static void redisconn_arm_deadline(struct redisconn *c)
{
	struct request *head = TAILQ_FIRST(&c->pending);
	struct timeval tv;

	if (head == NULL || evtimer_pending(c->deadline_timer, NULL))
		return;
	tv = redisconn_timeval(head->deadline_ms - clock_monotonic_ms());
	evtimer_add(c->deadline_timer, &tv);
}

static void redisconn_on_reply(redisAsyncContext *ac, void *r, void *privdata);

/* "*N\r\n" or "$N\r\n" at p; returns the end. */
static char *resp_put_count(char *p, char kind, size_t n)
{
	char digits[24];
	int k = 0;

	do {
		digits[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	*p++ = kind;
	while (k > 0)
		*p++ = digits[--k];
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* The command in RESP, made in one pass: hiredis' redisFormatCommandArgv grows an
 * sds per argument, which showed up as a sixth of the daemon's time at each cut
 * (a cut's batch has some 100,000 arguments). */
static char *resp_format(int argc, const char **argv, const size_t *argvlen, size_t *len)
{
	size_t total = 24;
	char *out, *p;

	for (int i = 0; i < argc; i++)
		total += 24 + argvlen[i] + 2;
	out = xmalloc(total);
	p = resp_put_count(out, '*', (size_t)argc);
	for (int i = 0; i < argc; i++) {
		p = resp_put_count(p, '$', argvlen[i]);
		if (argvlen[i] > 0)
			memcpy(p, argv[i], argvlen[i]);
		p += argvlen[i];
		*p++ = '\r';
		*p++ = '\n';
	}
	*len = (size_t)(p - out);
	return out;
}

/* Hands req to hiredis (which copies the command into its output buffer) and
 * tracks it. On failure nothing is tracked and the caller still owns req. */
static int redisconn_send(struct redisconn *c, struct request *req, int argc, const char **argv,
                          const size_t *argvlen)
{
	size_t len;
	char *cmd;
	int rc;

	if (c->ac == NULL)
		return -1;
	cmd = resp_format(argc, argv, argvlen, &len);
	rc = redisAsyncFormattedCommand(c->ac, redisconn_on_reply, req, cmd, len);
	free(cmd);
	if (rc != REDIS_OK)
		return -1;
	req->conn = c;
	req->deadline_ms = clock_monotonic_ms() + c->command_timeout_ms;
	TAILQ_INSERT_TAIL(&c->pending, req, entry);
	if (redisconn_is_callers(req))
		c->in_flight++;
	redisconn_arm_deadline(c);
	return 0;
}

/* Sends an internal command (handshake or SCRIPT LOAD); -1 if it could not. */
static int redisconn_send_internal(struct redisconn *c, enum request_kind kind, int script,
                                   int argc, const char **argv)
{
	size_t argvlen[4];
	struct request *req;
	int i;

	for (i = 0; i < argc; i++)
		argvlen[i] = kind == REQUEST_SCRIPT_LOAD && i == 2 ? c->scripts[script].lua_len
		                                                   : strlen(argv[i]);
	req = xcalloc(1, sizeof(*req));
	req->kind = kind;
	req->script = script;
	if (redisconn_send(c, req, argc, argv, argvlen) == -1) {
		free(req);
		return -1;
	}
	return 0;
}

static int redisconn_send_script_load(struct redisconn *c, int script)
{
	const char *argv[3] = {"SCRIPT", "LOAD", c->scripts[script].lua};

	return redisconn_send_internal(c, REQUEST_SCRIPT_LOAD, script, 3, argv);
}

/* Sends an eval request as EVALSHA, or as EVAL when the SHA is unknown or this is
 * the retry after NOSCRIPT (EVAL also puts the script back in the server's cache). */
static int redisconn_send_eval(struct redisconn *c, struct request *req)
{
	const struct script *script = &c->scripts[req->script];
	int argc = req->argc + 3, i, rc;
	char numkeys[16];
	const char **argv;
	size_t *argvlen;

	if (script->sha[0] == '\0')
		req->retried = 1;
	argv = xreallocarray(NULL, (size_t)argc, sizeof(*argv) + sizeof(*argvlen));
	argvlen = (size_t *)(argv + argc);
	snprintf(numkeys, sizeof(numkeys), "%d", req->numkeys);
	argv[0] = req->retried ? "EVAL" : "EVALSHA";
	argvlen[0] = strlen(argv[0]);
	argv[1] = req->retried ? script->lua : script->sha;
	argvlen[1] = req->retried ? script->lua_len : strlen(script->sha);
	argv[2] = numkeys;
	argvlen[2] = strlen(numkeys);
	for (i = 0; i < req->argc; i++) {
		argv[i + 3] = req->argv[i];
		argvlen[i + 3] = req->argvlen[i];
	}
	rc = redisconn_send(c, req, argc, argv, argvlen);
	free(argv);
	return rc;
}

/* ---- connection life cycle ---- */

static void redisconn_enter(struct redisconn *c)
{
	c->depth++;
}

static void redisconn_destroy(struct redisconn *c);

/* Leaves one of our callbacks; the outermost one carries out a redisconn_free
 * that was requested inside. */
static void redisconn_leave(struct redisconn *c)
{
	if (--c->depth == 0 && c->free_requested)
		redisconn_destroy(c);
}

/* Stops wanting the answer of the lookup in progress (resolve.c lets it finish). */
static void redisconn_cancel_lookup(struct redisconn *c)
{
	resolver_cancel(&c->lookup);
	c->answer.done = 0;
}

/* Tears the connection down: every pending request is answered NULL now, in send
 * order, the hiredis context is freed (or left to hiredis when c->ac was already
 * cleared because hiredis frees it itself), the state callback hears 0 with the
 * reason, and the next attempt is scheduled after the backoff. reason NULL: we
 * are being freed, nobody is told and nothing is scheduled. */
static void redisconn_drop(struct redisconn *c, const char *reason)
{
	redisAsyncContext *ac = c->ac;
	struct request *req;
	struct timeval tv;
	char why[256];

	/* reason may live in the context about to be freed. */
	snprintf(why, sizeof(why), "%s", reason != NULL ? reason : "freed");
	c->state = REDISCONN_WAITING;
	evtimer_del(c->step_timer);
	evtimer_del(c->connect_timer);
	evtimer_del(c->deadline_timer);
	redisconn_cancel_lookup(c);
	c->ac = NULL;
	if (ac != NULL)
		ac->data = NULL;
	TAILQ_CONCAT(&c->answering, &c->pending, entry);
	c->in_flight = 0;
	/* Detached requests stay allocated until hiredis calls back for them: inside
	 * redisAsyncFree below, or after we return when hiredis is tearing the context
	 * down itself; never during this loop, as the caller cannot reach ac. The list
	 * lives in c so that a redisconn_free inside one of these callbacks answers
	 * the rest before it returns. */
	while ((req = TAILQ_FIRST(&c->answering)) != NULL) {
		TAILQ_REMOVE(&c->answering, req, entry);
		req->conn = NULL;
		if (req->fn != NULL)
			req->fn(c->ctx, NULL, req->privdata);
	}
	if (ac != NULL)
		redisAsyncFree(ac); /* deferred by hiredis when we are inside its callback */
	if (reason == NULL || c->free_requested)
		return;
	log_debug("redis: disconnected reason=\"%s\" retry_in_ms=%lld", why,
	          (long long)c->backoff_ms);
	c->failed_attempts++;
	if (c->state_fn != NULL)
		c->state_fn(c->ctx, 0, why);
	if (c->free_requested)
		return;
	tv = redisconn_timeval(c->backoff_ms);
	evtimer_add(c->step_timer, &tv);
	c->backoff_ms =
	    c->backoff_ms > c->backoff_max_ms / 2 ? c->backoff_max_ms : c->backoff_ms * 2;
}

static void redisconn_ready(struct redisconn *c)
{
	c->state = REDISCONN_READY;
	evtimer_del(c->connect_timer);
	c->backoff_ms = c->backoff_min_ms;
	c->failed_attempts = 0;
	log_debug("redis: connected db=%d", c->db);
	if (c->state_fn != NULL)
		c->state_fn(c->ctx, 1, "connected");
}

/* hiredis' context pointer is const in its connect and disconnect callbacks but
 * the context is ours to detach: it is about to be freed by hiredis. */
static void redisconn_forget_context(const redisAsyncContext *ac)
{
	((redisAsyncContext *)ac)->data = NULL;
}

/* A failed connect: hiredis frees the context itself right after this returns,
 * first calling the pending (handshake) callbacks with NULL. */
static void redisconn_on_connect(const redisAsyncContext *ac, int status)
{
	struct redisconn *c = ac->data;
	char reason[256];

	if (c == NULL)
		return;
	if (status == REDIS_OK) {
		log_debug("redis: socket connected, handshake under way");
		return;
	}
	redisconn_enter(c);
	/* ac->err is not set yet here in 0.14; the context's own errstr is. */
	snprintf(reason, sizeof(reason), "connect: %s",
	         ac->c.errstr[0] != '\0' ? ac->c.errstr : "failed");
	redisconn_forget_context(ac);
	c->ac = NULL;
	redisconn_drop(c, reason);
	redisconn_leave(c);
}

/* A lost connection: hiredis has already called every pending callback with NULL
 * and frees the context right after this returns. Not called for contexts we
 * detached (data is NULL) nor for failed connects. */
static void redisconn_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redisconn *c = ac->data;
	char reason[256];

	if (c == NULL)
		return;
	redisconn_enter(c);
	snprintf(reason, sizeof(reason), "connection lost: %s",
	         status != REDIS_OK && ac->c.errstr[0] != '\0' ? ac->c.errstr : "closed");
	redisconn_forget_context(ac);
	c->ac = NULL;
	redisconn_drop(c, reason);
	redisconn_leave(c);
}

/* Starts the hiredis context for one attempt and queues the handshake: AUTH,
 * SELECT, SCRIPT LOAD of every script, then PING, whose answer makes it READY
 * (PING also proves the server answers: a stopped one still accepts sockets). */
struct redisAsyncContext *
redisconn_open(const char *unix_path, const char *address, int port, struct event_base *base,
               void *data, void (*on_connect)(const struct redisAsyncContext *, int),
               void (*on_disconnect)(const struct redisAsyncContext *, int), char *reason,
               size_t reasonlen)
{
	redisAsyncContext *ac;

	if (unix_path != NULL)
		ac = redisAsyncConnectUnix(unix_path);
	else
		ac = redisAsyncConnect(address, port);
	if (ac == NULL) {
		snprintf(reason, reasonlen, "connect: out of memory");
		return NULL;
	}
	if (ac->err != 0) {
		snprintf(reason, reasonlen, "connect: %s", ac->errstr);
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = data;
	if (redisLibeventAttach(ac, base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK) {
		ac->data = NULL;
		redisAsyncFree(ac);
		snprintf(reason, reasonlen, "connect: cannot attach to the event loop");
		return NULL;
	}
	return ac;
}

static void redisconn_connect(struct redisconn *c, const char *address)
{
	const char *auth[3] = {"AUTH", NULL, NULL};
	const char *select[2] = {"SELECT", NULL};
	const char *ping[1] = {"PING"};
	const char *info[2] = {"INFO", "cluster"};
	redisAsyncContext *ac;
	char reason[256], db[16];
	int i, ok = 1;

	if ((ac = redisconn_open(c->unix_path, address, c->port, c->base, c, redisconn_on_connect,
	                         redisconn_on_disconnect, reason, sizeof(reason))) == NULL) {
		redisconn_drop(c, reason);
		return;
	}
	c->ac = ac;
	c->state = REDISCONN_HANDSHAKE;
	c->wrong_mode = 0; /* asked again at every connect: an address may change servers */
	log_debug("redis: connecting address=%s port=%d",
	          c->unix_path != NULL ? c->unix_path : address, c->port);
	if (c->password != NULL) {
		if (c->user != NULL) {
			auth[1] = c->user;
			auth[2] = c->password;
		} else {
			auth[1] = c->password;
		}
		ok =
		    redisconn_send_internal(c, REQUEST_AUTH, 0, c->user != NULL ? 3 : 2, auth) == 0;
	}
	if (ok && c->db != 0) {
		snprintf(db, sizeof(db), "%d", c->db);
		select[1] = db;
		ok = redisconn_send_internal(c, REQUEST_SELECT, 0, 2, select) == 0;
	}
	if (ok)
		ok = redisconn_send_internal(c, REQUEST_INFO_CLUSTER, 0, 2, info) == 0;
	for (i = 0; ok && i < c->script_count; i++)
		ok = redisconn_send_script_load(c, i) == 0;
	if (ok)
		ok = redisconn_send_internal(c, REQUEST_PING, 0, 1, ping) == 0;
	if (!ok)
		redisconn_drop(c, "connect: cannot queue the handshake");
}

/* The answer comes through the step timer (resolve.c wakes it), so no caller code
 * ever runs inside evdns. */
static void redisconn_resolve(struct redisconn *c)
{
	resolver_lookup(c->resolver, c->host, &c->lookup, &c->answer, c->step_timer);
	c->state = REDISCONN_RESOLVING;
}

static void redisconn_on_step(evutil_socket_t fd, short what, void *arg)
{
	struct redisconn *c = arg;
	struct timeval tv;
	char reason[256];

	(void)fd;
	(void)what;
	redisconn_enter(c);
	if (c->state == REDISCONN_WAITING) {
		tv = redisconn_timeval(c->connect_timeout_ms);
		evtimer_add(c->connect_timer, &tv);
		if (c->resolver != NULL)
			redisconn_resolve(c);
		else
			redisconn_connect(c, c->host);
	} else if (c->state == REDISCONN_RESOLVING && c->answer.done) {
		const char *failure,
		    *address = resolve_take(&c->answer, c->failed_attempts, &failure);
		if (address == NULL) {
			snprintf(reason, sizeof(reason), "resolve %s: %s", c->host, failure);
			redisconn_drop(c, reason);
		} else {
			redisconn_connect(c, address);
		}
	}
	redisconn_leave(c);
}

static void redisconn_on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct redisconn *c = arg;
	char reason[128];

	(void)fd;
	(void)what;
	if (c->state == REDISCONN_READY)
		return;
	redisconn_enter(c);
	snprintf(reason, sizeof(reason), "not connected within connect_timeout_ms=%lld",
	         (long long)c->connect_timeout_ms);
	redisconn_drop(c, reason);
	redisconn_leave(c);
}

static void redisconn_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct redisconn *c = arg;
	struct request *head = TAILQ_FIRST(&c->pending);
	char reason[128];

	(void)fd;
	(void)what;
	if (head == NULL)
		return;
	if (head->deadline_ms > clock_monotonic_ms()) {
		redisconn_arm_deadline(c);
		return;
	}
	redisconn_enter(c);
	snprintf(reason, sizeof(reason), "no reply within command_timeout_ms=%lld",
	         (long long)c->command_timeout_ms);
	redisconn_drop(c, reason);
	redisconn_leave(c);
}

/* Acts on the reply to a handshake step or a late SCRIPT LOAD. An error during the
 * handshake fails the attempt, with the server's words as the reason. */
static void redisconn_internal_reply(struct redisconn *c, struct request *req,
                                     const redisReply *reply)
{
	static const char *const step[] = {[REQUEST_AUTH] = "AUTH",
	                                   [REQUEST_SELECT] = "SELECT",
	                                   [REQUEST_INFO_CLUSTER] = "INFO cluster",
	                                   [REQUEST_SCRIPT_LOAD] = "SCRIPT LOAD",
	                                   [REQUEST_PING] = "PING"};
	struct script *script;
	char reason[256], text[160];

	if (reply == NULL)
		return; /* the connection is going; on_disconnect or the dropper reports it */
	if (req->kind == REQUEST_INFO_CLUSTER) {
		/* A cluster node takes the keys of its own slots only and answers the rest
		 * MOVED, and a single server would take every key a cluster client meant to
		 * spread: refuse the wrong kind by name rather than publish part of the
		 * counters. An error (INFO denied by an ACL) says nothing either way. */
		int is_cluster;
		if (reply->type == REDIS_REPLY_ERROR || reply->str == NULL)
			return;
		is_cluster = strstr(reply->str, "cluster_enabled:1") != NULL;
		if (is_cluster && !c->cluster) {
			c->wrong_mode = 1;
			redisconn_drop(c, "the server is a Redis Cluster node: set redis_cluster = "
			                  "on to publish to a Redis Cluster");
		} else if (!is_cluster && c->cluster) {
			c->wrong_mode = 1;
			redisconn_drop(c, "the server is not a Redis Cluster node: set "
			                  "redis_cluster = off");
		}
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		log_escape(text, sizeof(text), reply->str, reply->len);
		if (c->state != REDISCONN_HANDSHAKE) {
			log_warnx("redis: SCRIPT LOAD failed script=%d error=\"%s\"", req->script,
			          text);
			return;
		}
		snprintf(reason, sizeof(reason), "%s failed: %s", step[req->kind], text);
		redisconn_drop(c, reason);
		return;
	}
	if (req->kind == REQUEST_SCRIPT_LOAD) {
		script = &c->scripts[req->script];
		if (reply->type == REDIS_REPLY_STRING && reply->len == sizeof(script->sha) - 1)
			memcpy(script->sha, reply->str, sizeof(script->sha));
	} else if (req->kind == REQUEST_PING && c->state == REDISCONN_HANDSHAKE) {
		redisconn_ready(c);
	}
}

/* The one hiredis reply callback, for every request. */
static void redisconn_on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct request *req = privdata;
	struct redisconn *c = req->conn;
	redisReply *reply = r;

	(void)ac;
	if (c == NULL) {
		free(req); /* answered NULL when it was detached */
		return;
	}
	redisconn_enter(c);
	TAILQ_REMOVE(&c->pending, req, entry);
	req->conn = NULL;
	if (redisconn_is_callers(req))
		c->in_flight--;
	if (reply == NULL) /* hiredis is failing every pending request */
		c->state = REDISCONN_CLOSING;
	if (req->kind == REQUEST_EVAL && reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOSCRIPT", 8) == 0 && !req->retried &&
	    c->state == REDISCONN_READY) {
		req->retried = 1;
		log_debug("redis: NOSCRIPT, retrying as EVAL script=%d", req->script);
		if (redisconn_send_eval(c, req) == 0)
			goto out;
	}
	if (redisconn_is_callers(req)) {
		if (req->fn != NULL)
			req->fn(c->ctx, reply, req->privdata);
	} else {
		redisconn_internal_reply(c, req, reply);
	}
	free(req);
out:
	redisconn_leave(c);
}

static void redisconn_destroy(struct redisconn *c)
{
	int i;

	if (c->step_timer != NULL)
		event_free(c->step_timer);
	if (c->connect_timer != NULL)
		event_free(c->connect_timer);
	if (c->deadline_timer != NULL)
		event_free(c->deadline_timer);
	resolver_free(c->resolver);
	for (i = 0; i < c->script_count; i++)
		free(c->scripts[i].lua);
	free(c->scripts);
	free(c->host);
	free(c->unix_path);
	free(c->user);
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c);
}

/* ---- public interface ---- */

/* The object with its timers and settings but no endpoint yet; NULL with a reason
 * in err for bad settings. */
static struct redisconn *redisconn_create(struct event_base *base,
                                          const struct redisconn_settings *s,
                                          redisconn_state_fn state_fn, void *ctx, char *err,
                                          size_t errlen)
{
	struct redisconn *c;

	if (s->connect_timeout_ms <= 0 || s->command_timeout_ms <= 0 || s->backoff_min_ms <= 0 ||
	    s->backoff_max_ms < s->backoff_min_ms) {
		snprintf(err, errlen,
		         "redis: timeouts must be positive and "
		         "backoff_min_ms <= backoff_max_ms");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->state_fn = state_fn;
	c->ctx = ctx;
	c->cluster = s->cluster != 0;
	c->connect_timeout_ms = s->connect_timeout_ms;
	c->command_timeout_ms = s->command_timeout_ms;
	c->backoff_min_ms = c->backoff_ms = s->backoff_min_ms;
	c->backoff_max_ms = s->backoff_max_ms;
	c->state = REDISCONN_WAITING;
	TAILQ_INIT(&c->pending);
	TAILQ_INIT(&c->answering);
	c->step_timer = evtimer_new(base, redisconn_on_step, c);
	c->connect_timer = evtimer_new(base, redisconn_on_connect_timeout, c);
	c->deadline_timer = evtimer_new(base, redisconn_on_deadline, c);
	if (c->step_timer == NULL || c->connect_timer == NULL || c->deadline_timer == NULL) {
		snprintf(err, errlen, "redis: cannot create timers");
		redisconn_destroy(c);
		return NULL;
	}
	return c;
}

/* Takes over the endpoint's strings (ep is left empty), sets up the resolver and
 * schedules the first attempt. -1 with a reason in err; c is then the caller's to
 * destroy. */
static int redisconn_start(struct redisconn *c, struct redis_endpoint *ep, char *err, size_t errlen)
{
	struct sigaction sa;
	struct in6_addr addr6;
	struct in_addr addr4;
	struct timeval now = {0, 0};

	c->host = ep->host;
	c->unix_path = ep->unix_path;
	c->port = ep->port;
	c->db = ep->db;
	c->user = ep->user;
	c->password = ep->password;
	memset(ep, 0, sizeof(*ep));
	/* hiredis' blocking getaddrinfo would stall the loop on a slow DNS server. */
	if (c->host != NULL && inet_pton(AF_INET, c->host, &addr4) != 1 &&
	    inet_pton(AF_INET6, c->host, &addr6) != 1) {
		if ((c->resolver = resolver_new(c->base)) == NULL) {
			snprintf(err, errlen, "redis: cannot set up the DNS resolver");
			return -1;
		}
	}
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		log_warnx("redis: SIGPIPE is not ignored; a write to a dropped connection "
		          "would kill the process");
	/* The first attempt starts from the loop, so no callback runs before the
	 * caller holds the pointer. */
	evtimer_add(c->step_timer, &now);
	return 0;
}

struct redisconn *redisconn_new(struct event_base *base, const struct redisconn_settings *s,
                                redisconn_state_fn state_fn, void *ctx, char *err, size_t errlen)
{
	struct redisconn *c;
	struct redis_endpoint endpoint;

	if ((c = redisconn_create(base, s, state_fn, ctx, err, errlen)) == NULL)
		return NULL;
	if (redisconn_parse_url(s->url, &endpoint, err, errlen) == -1)
		goto fail;
	if (redisconn_load_password(&endpoint, s->password_file, err, errlen) == -1) {
		redisconn_endpoint_free(&endpoint);
		goto fail;
	}
	if (redisconn_start(c, &endpoint, err, errlen) == -1)
		goto fail;
	return c;
fail:
	redisconn_destroy(c);
	return NULL;
}

struct redisconn *redisconn_new_endpoint(struct event_base *base,
                                         const struct redis_endpoint *endpoint,
                                         const struct redisconn_settings *s,
                                         redisconn_state_fn state_fn, void *ctx, char *err,
                                         size_t errlen)
{
	struct redisconn *c;
	struct redis_endpoint copy = {
	    .host = endpoint->host != NULL ? xstrdup(endpoint->host) : NULL,
	    .unix_path = endpoint->unix_path != NULL ? xstrdup(endpoint->unix_path) : NULL,
	    .port = endpoint->port,
	    .db = endpoint->db,
	    .user = endpoint->user != NULL ? xstrdup(endpoint->user) : NULL,
	    .password = endpoint->password != NULL ? xstrdup(endpoint->password) : NULL,
	};

	if ((c = redisconn_create(base, s, state_fn, ctx, err, errlen)) == NULL) {
		redisconn_endpoint_free(&copy);
		return NULL;
	}
	if (redisconn_start(c, &copy, err, errlen) == -1) {
		redisconn_endpoint_free(&copy);
		redisconn_destroy(c);
		return NULL;
	}
	return c;
}

int redisconn_script(struct redisconn *c, const char *lua)
{
	struct script *scripts;
	int id = c->script_count;

	scripts = xreallocarray(c->scripts, (size_t)id + 1, sizeof(*scripts));
	c->scripts = scripts;
	memset(&scripts[id], 0, sizeof(scripts[id]));
	scripts[id].lua_len = strlen(lua);
	scripts[id].lua = xstrndup(lua, scripts[id].lua_len);
	c->script_count++;
	/* Up or handshaking (its SCRIPT LOADs are queued already): load it now, after
	 * the PING; until that answers, evals of it go out as EVAL. */
	if ((c->state == REDISCONN_READY || c->state == REDISCONN_HANDSHAKE) &&
	    redisconn_send_script_load(c, id) == -1)
		log_warnx("redis: cannot queue SCRIPT LOAD script=%d", id);
	return id;
}

int redisconn_command(struct redisconn *c, int argc, const char **argv, const size_t *argvlen,
                      redisconn_reply_fn fn, void *privdata)
{
	struct request *req;

	if (!redisconn_connected(c) || argc <= 0)
		return -1;
	req = xcalloc(1, sizeof(*req));
	req->kind = REQUEST_COMMAND;
	req->fn = fn;
	req->privdata = privdata;
	if (redisconn_send(c, req, argc, argv, argvlen) == -1) {
		free(req);
		return -1;
	}
	return 0;
}

void *redisconn_args_block(size_t head, int argc, const char **argv, const size_t *argvlen,
                           const char ***argv_out, size_t **argvlen_out)
{
	size_t bytes = 0;
	char *block, *data;

	for (int i = 0; i < argc; i++)
		bytes += argvlen[i];
	block = xcalloc(1, head + (size_t)argc * (sizeof(**argv_out) + sizeof(size_t)) + bytes);
	*argv_out = (const char **)(void *)(block + head);
	*argvlen_out = (size_t *)(void *)(*argv_out + argc);
	data = (char *)(*argvlen_out + argc);
	for (int i = 0; i < argc; i++) {
		if (argvlen[i] > 0)
			memcpy(data, argv[i], argvlen[i]);
		(*argv_out)[i] = data;
		(*argvlen_out)[i] = argvlen[i];
		data += argvlen[i];
	}
	return block;
}

int redisconn_eval(struct redisconn *c, int script, int argc, const char **argv,
                   const size_t *argvlen, int numkeys, redisconn_reply_fn fn, void *privdata)
{
	struct request *req;
	const char **copied_argv;
	size_t *copied_len;

	if (!redisconn_connected(c) || script < 0 || script >= c->script_count || argc < 0 ||
	    numkeys < 0 || numkeys > argc)
		return -1;
	/* The request keeps its own copy of the arguments for the EVAL retry. */
	req = redisconn_args_block(sizeof(*req), argc, argv, argvlen, &copied_argv, &copied_len);
	req->argv = copied_argv;
	req->argvlen = copied_len;
	req->kind = REQUEST_EVAL;
	req->fn = fn;
	req->privdata = privdata;
	req->script = script;
	req->numkeys = numkeys;
	req->argc = argc;
	if (redisconn_send_eval(c, req) == -1) {
		free(req);
		return -1;
	}
	return 0;
}

int redisconn_connected(const struct redisconn *c)
{
	return c->state == REDISCONN_READY && !c->free_requested && c->ac != NULL;
}

int redisconn_wrong_mode(const struct redisconn *c)
{
	return c->wrong_mode;
}

size_t redisconn_in_flight(const struct redisconn *c)
{
	return c->in_flight;
}

const char *redisconn_endpoint(const struct redisconn *c, char *buf, size_t len)
{
	if (c->unix_path != NULL)
		snprintf(buf, len, "unix path=%s db=%d auth=%s", c->unix_path, c->db,
		         c->password == NULL ? "none"
		         : c->user != NULL   ? "acl"
		                             : "password");
	else
		snprintf(buf, len, "tcp host=%s port=%d db=%d auth=%s%s%s", c->host, c->port, c->db,
		         c->password == NULL ? "none"
		         : c->user != NULL   ? "acl"
		                             : "password",
		         c->user != NULL ? " user=" : "", c->user != NULL ? c->user : "");
	return buf;
}

/* Answers everything pending now, so the caller may release what its privdata
 * points to as soon as this returns; only the memory is released later when we
 * are inside one of our own callbacks. */
void redisconn_free(struct redisconn *c)
{
	if (c == NULL || c->free_requested)
		return;
	c->free_requested = 1;
	redisconn_enter(c);
	redisconn_drop(c, NULL);
	redisconn_leave(c);
}
