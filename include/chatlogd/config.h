/*
 * Settings: one declarative table of every tunable (name, type, bounds, default),
 * read from an INI file with libinih and overridable from the command line.
 * A reload parses into a fresh struct config and swaps it in only when it is clean.
 */
#ifndef CHATLOGD_CONFIG_H
#define CHATLOGD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Settings a shop may have of its own: a `[shop NAME]` section. */
struct config_shop {
	char *shop;
	char *service_hours;
};

struct config {
	/* input */
	char *format;   /* "json" or "regex:FILE" */
	char *patterns; /* lost-reason patterns file; "" = the shipped one (main) */
	char **inputs;  /* files and glob patterns to follow (live mode) */
	size_t input_count;
	char *rotated_names; /* globs of rotated names, %f %b %e (tail.h) */
	int64_t max_line_bytes;
	char *timezone;        /* for day keys and timestamps without offset */
	int64_t batch_threads; /* --once: 1 or 2 threads; 0 = 2 when 2 CPUs are ours */

	/* metrics (reference.md §3) */
	int64_t frt_target_ms;
	int64_t art_target_ms;
	int64_t session_idle_ms;
	int64_t order_window_ms;
	int64_t post_sale_window_ms; /* 0: no conversation is post-sale */
	int64_t max_clock_ahead_ms;  /* 0: no limit */
	int64_t merge_grace_ms;      /* live merge (reference.md §2 "one sequence") */
	char *service_hours;         /* service_hours.h syntax; "" = always */
	char *assessment_counters;   /* "on" or "off" (the counters below) */
	int64_t slow_response_ms;    /* slower responses are slow_responses */
	int64_t returning_window_ms; /* returning buyers' earlier orders; 0: none counted */
	struct config_shop *shops;   /* [shop NAME] sections, in file order */
	size_t shop_count;

	/* alerts (reference.md §7) */
	int64_t alert_window_ms;
	int64_t alert_min_samples;
	char *alert_webhook;             /* "" = none */
	char *alert_webhook_ca_file;     /* "" = the system CA store */
	char *alert_robot;               /* auto, generic, dingtalk, wecom, feishu */
	char *alert_webhook_secret_file; /* "" = no signing */
	int64_t alert_robot_per_minute;  /* 0 = the platform's default */
	char *alert_mentions_file;       /* "" = nobody is @mentioned */
	char *alert_language;            /* zh or en */
	char *alert_escalate_webhook;    /* "" = no escalation */
	char *alert_escalate_robot;      /* as alert_robot */
	char *alert_escalate_secret_file;
	int64_t escalate_after_ms;
	int64_t warn_at_ms; /* a `warning` alert this long into a buyer's wait; 0: none */

	/* Redis (reference.md §6) */
	char *redis; /* redis://[user:pass@]host:port/db or unix:///path */
	char *redis_password_file;
	char *redis_cluster; /* "on" or "off" */
	char *prefix;
	int64_t flush_interval_ms;
	char *window_writes; /* "every_flush" (the contract) or "changed" */
	int64_t minute_ttl_ms;
	int64_t day_ttl_ms;
	int64_t max_pending_bytes;
	int64_t max_names;              /* live: distinct shop and agent names; 0: no limit */
	int64_t max_buyers;             /* live: buyers remembered at once; 0: no limit */
	int64_t backfill_cut_rows;      /* --once --redis: by-minute rows per cut */
	int64_t backfill_max_in_flight; /* --once --redis: batches awaiting Redis's reply */

	/* service */
	char *state_dir;
	char *instance; /* "" = the host name */
	int64_t checkpoint_interval_ms;
	int64_t wall_clock_lag_ms;
	char *state_mismatch;    /* "refuse" or "count_again" (docs/operations.md, Recovering) */
	char *http_listen;       /* "127.0.0.1:9187"; "" = off */
	char *metrics_per_agent; /* "on": /metrics has a series per agent too */
	char *log_level;         /* err, warning, info, debug */
};

/* Fills every field with its default (strings are heap copies). */
void config_defaults(struct config *cfg);

/* Reads an INI file over cfg. Keys may stand before any section or in any section,
 * except in a `[shop NAME]` section, which holds that shop's own service_hours;
 * `input` may repeat. Returns 0, or -1 with "FILE:LINE: message" in err (unknown key,
 * bad value, out of range). cfg is left partly updated on error: load into a copy. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Same from memory (len bytes, no NUL needed); name is the FILE of error messages. */
int config_load_buffer(struct config *cfg, const char *name, const char *data, size_t len,
                       char *err, size_t errlen);

/* Receives one error of a settings file: "FILE:LINE: message". */
typedef void (*config_error_fn)(void *ctx, const char *message);

/* Reads an INI file over cfg like config_load, but goes on past errors, for
 * --check-config: report gets every error, in line order (at most
 * LIMIT_CONFIG_ERRORS, then one line saying there are more; a file that cannot be
 * read is one error, "FILE: reason"). Returns how many it found (past the limit it
 * stops looking: then at least LIMIT_CONFIG_ERRORS + 1); cfg changes only when there
 * were none. Out of memory is fatal. */
int config_load_all(struct config *cfg, const char *path, config_error_fn report, void *ctx);

/* Same from memory. */
int config_load_buffer_all(struct config *cfg, const char *name, const char *data, size_t len,
                           config_error_fn report, void *ctx);

/* Sets one key from text, exactly as a line `key = value` would. Durations take a unit
 * suffix (ms, s, m, h, d); a bare number is in the key's own unit (milliseconds for
 * keys ending in _ms, otherwise seconds). Sizes take k, m or g (binary). Returns 0,
 * or -1 with "key: reason" in err. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen);

/* Settings that are valid alone but not together (redis_cluster = on with a
 * unix:// URL or a db other than 0). Returns 0, or -1 with the reason in err. */
int config_check_together(const struct config *cfg, char *err, size_t errlen);

/* Writes the effective settings as an INI file that config_load reads back identically.
 * Secrets are never printed (there are none in struct config: passwords live in files). */
void config_dump(const struct config *cfg, FILE *out);

/* Frees the strings cfg owns and zeroes it; accepts a zeroed struct. */
void config_free(struct config *cfg);

#endif
