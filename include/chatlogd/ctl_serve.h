/*
 * chatlogctl serve: the read-only dashboard in the browser (docs/dashboard.md). An
 * evhttp server with the limits of http.c serving the page's static files, the
 * chart library from its Debian package, the JSON API of ctl_api.c, and the alerts of
 * PREFIX:alerts pushed as Server-Sent Events from a pub/sub subscription. Part of
 * the chatlogctl program only.
 */
#ifndef CHATLOGD_CTL_SERVE_H
#define CHATLOGD_CTL_SERVE_H

struct ctl_redis;
struct rules;

/* Where the dashboard listens when --listen is not given. */
#define CTL_SERVE_DEFAULT_LISTEN "127.0.0.1:9188"

struct ctl_serve_options {
	const char *listen;     /* HOST:PORT; port 0 picks a free one */
	const char *token_file; /* NULL: none, and then only a loopback listen is allowed */
	const char *static_dir; /* NULL: the installed files, or the source tree's */
	/* The alert subscription's connection: the settings ctl_redis was made from. */
	const char *redis_url, *password_file, *prefix;
	const char *timezone; /* of the day keys */
};

/* Serves until SIGINT or SIGTERM. redis (not connected yet) and labels are
 * borrowed. Returns the exit status: 0 after a signal, 1 when the loop failed, 2
 * for a usage error (a listen address that needs a token, an unusable token file,
 * no static files), said on stderr. */
int ctl_serve_run(struct ctl_redis *redis, const struct rules *labels,
                  const struct ctl_serve_options *o);

#endif
