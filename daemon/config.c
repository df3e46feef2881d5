/*
 * config.c owns the settings: one declarative table of every key (type, bounds,
 * default, field, help), reading an INI file through libinih, setting single keys
 * from the command line, and writing the effective settings back out. It checks
 * values only as far as their text goes; whether a timezone exists or Redis answers
 * is for the modules that use them.
 *
 * Reading rules, beyond libinih's (`key = value` or `key: value`, `;`/`#` comment
 * lines, ` ;` starts a trailing comment, a UTF-8 byte order mark is skipped):
 *   - sections are allowed and ignored: any key may stand in any section or none,
 *     except that a section `[shop NAME]` holds settings of that one shop (only
 *     service_hours, so far);
 *   - indentation is ignored (there are no continuation lines);
 *   - an unknown key is an error, so a typo cannot pass silently;
 *   - a key given twice keeps its last value, except `input`, which appends
 *     (an empty `input =` clears the list gathered so far);
 *   - durations take a unit, ms s m h d; a bare number is in the key's unit
 *     (milliseconds for CONFIG_DURATION_MS keys: those ending in _ms, merge_grace
 *     and warn_at; else seconds); whole numbers only;
 *   - sizes take k, m or g (binary: 1k = 1024; kb, kib, mb, mib, gb, gib too,
 *     any case); a bare number is bytes;
 *   - lines hold at most INI_MAX_LINE - 2 bytes (198 with Debian's libinih), and a
 *     value is refused when its `key = value` line would not fit.
 */
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatlogd/config.h"
#include "chatlogd/redisconn.h"
#include "chatlogd/http.h"
#include "chatlogd/limits.h"
#include "chatlogd/log.h"
#include "chatlogd/service_hours.h"
#include "chatlogd/tail.h"
#include "chatlogd/textfile.h"
#include "chatlogd/util.h"

/* Longest line libinih reads whole: its buffer holds the line, '\n' and NUL. Values
 * are limited so that config_dump's `key = value` lines fit too. */
#define CONFIG_LINE_MAX ((size_t)INI_MAX_LINE - 2)

#define MS_PER_SECOND INT64_C(1000)
#define MS_PER_DAY (INT64_C(86400) * MS_PER_SECOND)
#define KIB INT64_C(1024)
#define MIB (KIB * KIB)
#define GIB (MIB * KIB)

enum config_type {
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_DURATION_MS, /* bare number: milliseconds */
	CONFIG_DURATION_S,  /* bare number: seconds */
	CONFIG_BYTES,
	CONFIG_LIST, /* of strings; each setting appends */
};

/* Extra check of a string value; fills err with the reason on failure. */
typedef int (*config_check)(const char *value, char *err, size_t errlen);

struct config_option {
	const char *name;
	enum config_type type;
	int64_t min, max;          /* numbers, in the stored unit (ms, bytes) */
	const char *default_value; /* as written in a file; NULL: none (lists) */
	size_t offset;             /* of the field in struct config */
	config_check check;        /* strings and list items, or NULL */
	const char *help;
};

static int check_format(const char *value, char *err, size_t errlen);
static int check_not_empty(const char *value, char *err, size_t errlen);
static int check_webhook(const char *value, char *err, size_t errlen);
static int check_redis(const char *value, char *err, size_t errlen);
static int check_prefix(const char *value, char *err, size_t errlen);
static int check_listen(const char *value, char *err, size_t errlen);
static int check_log_level(const char *value, char *err, size_t errlen);
static int check_state_mismatch(const char *value, char *err, size_t errlen);
static int check_robot(const char *value, char *err, size_t errlen);
static int check_language(const char *value, char *err, size_t errlen);
static int check_rotated_names(const char *value, char *err, size_t errlen);
static int check_service_hours(const char *value, char *err, size_t errlen);
static int check_on_off(const char *value, char *err, size_t errlen);
static int check_window_writes(const char *value, char *err, size_t errlen);

#define FIELD(name) offsetof(struct config, name)

/* Every key chatlogd reads, in the order config_dump writes them. */
static const struct config_option config_options[] = {
    {"format", CONFIG_STRING, 0, 0, "json", FIELD(format), check_format,
     "input format: json (JSON Lines) or regex:FILE (docs/input-formats.md)"},
    {"patterns", CONFIG_STRING, 0, 0, "", FIELD(patterns), NULL,
     "lost-reason patterns file; empty: the shipped one; none: no rules"},
    {"input", CONFIG_LIST, 0, 0, NULL, FIELD(inputs), check_not_empty,
     "file or glob to follow in live mode; repeat the key for more"},
    {"rotated_names", CONFIG_STRING, 0, 0, TAIL_ROTATED_NAMES_DEFAULT, FIELD(rotated_names),
     check_rotated_names,
     "globs of a file's rotated names (%f its name, %b without extension, %e the extension)"},
    {"max_line_bytes", CONFIG_BYTES, 256, LIMIT_LINE_BYTES_MAX, "65536", FIELD(max_line_bytes),
     NULL, "longer input lines are counted as errors and skipped"},
    {"timezone", CONFIG_STRING, 0, 0, "Asia/Shanghai", FIELD(timezone), check_not_empty,
     "zone of day keys and of timestamps without an offset"},
    {"batch_threads", CONFIG_INT, 0, 2, "0", FIELD(batch_threads), NULL,
     "--once: 1 reads and counts on one thread, 2 parses on a second; 0: 2 if 2 CPUs"},
    {"frt_target_ms", CONFIG_DURATION_MS, 1, MS_PER_DAY, "6000", FIELD(frt_target_ms), NULL,
     "first-response target; slower first responses are frt_breaches"},
    {"art_target_ms", CONFIG_DURATION_MS, 1, MS_PER_DAY, "10000", FIELD(art_target_ms), NULL,
     "response target; slower responses are response_breaches"},
    {"session_idle", CONFIG_DURATION_S, MS_PER_SECOND, 7 * MS_PER_DAY, "10m",
     FIELD(session_idle_ms), NULL, "an inquiry closes after this much silence"},
    {"order_window", CONFIG_DURATION_S, MS_PER_SECOND, 30 * MS_PER_DAY, "1d",
     FIELD(order_window_ms), NULL,
     "orders this long after an inquiry opened still count for it; then it is lost"},
    {"post_sale_window", CONFIG_DURATION_S, 0, 365 * MS_PER_DAY, "15d", FIELD(post_sale_window_ms),
     NULL,
     "a conversation opened this long after the buyer's order or payment is post-sale; 0: off"},
    {"max_clock_ahead", CONFIG_DURATION_S, 0, 365 * MS_PER_DAY, "5m", FIELD(max_clock_ahead_ms),
     NULL, "records stamped further ahead of the wall clock are bad lines; 0: off"},
    {"merge_grace", CONFIG_DURATION_MS, 0, 10 * 60 * MS_PER_SECOND, "2000", FIELD(merge_grace_ms),
     NULL, "live: an input read to its end holds others back at most this long"},
    {"service_hours", CONFIG_STRING, 0, 0, "", FIELD(service_hours), check_service_hours,
     "when buyers are served, e.g. 08:00-24:00 or mon-fri 09:00-18:00; sat 10:00-16:00; "
     "empty: always (a [shop NAME] section may set its own)"},
    {"assessment_counters", CONFIG_STRING, 0, 0, "off", FIELD(assessment_counters), check_on_off,
     "on: also count hours_responses(_3m), slow_responses and returning(_ordered) for "
     "chatlogctl assess; off: only the contract's counters"},
    {"slow_response", CONFIG_DURATION_S, MS_PER_SECOND, MS_PER_DAY, "120s", FIELD(slow_response_ms),
     NULL, "slower responses count in slow_responses (慢响应)"},
    {"returning_window", CONFIG_DURATION_S, 0, 3650 * MS_PER_DAY, "365d",
     FIELD(returning_window_ms), NULL,
     "an inquiry is a returning buyer's if the buyer's last order is older than "
     "post_sale_window and within this; 0: off"},
    {"alert_window", CONFIG_DURATION_S, 10 * MS_PER_SECOND, MS_PER_DAY, "5m",
     FIELD(alert_window_ms), NULL, "alerts average an agent's responses over this window"},
    {"alert_min_samples", CONFIG_INT, 1, 1000000, "3", FIELD(alert_min_samples), NULL,
     "fewer responses in the window raise no alert"},
    {"alert_webhook", CONFIG_STRING, 0, 0, "", FIELD(alert_webhook), check_webhook,
     "http(s) URL that alert messages are also sent to; empty: none"},
    {"alert_webhook_ca_file", CONFIG_STRING, 0, 0, "", FIELD(alert_webhook_ca_file), NULL,
     "https webhook: trust only the CAs in this PEM file; empty: the system store"},
    {"alert_robot", CONFIG_STRING, 0, 0, "auto", FIELD(alert_robot), check_robot,
     "auto (from the URL's host), generic, dingtalk, wecom or feishu"},
    {"alert_webhook_secret_file", CONFIG_STRING, 0, 0, "", FIELD(alert_webhook_secret_file), NULL,
     "file holding the robot's signing secret (DingTalk, Feishu); empty: unsigned"},
    {"alert_robot_per_minute", CONFIG_INT, 0, 100000, "0", FIELD(alert_robot_per_minute), NULL,
     "posts a minute to the robot, the rest in a digest; 0: 18 DingTalk/WeCom, 90 Feishu"},
    {"alert_mentions_file", CONFIG_STRING, 0, 0, "", FIELD(alert_mentions_file), NULL,
     "AGENT<TAB>mobile-or-user-id lines: whom raised and waiting alerts @mention"},
    {"alert_language", CONFIG_STRING, 0, 0, "zh", FIELD(alert_language), check_language,
     "language of the robots' text: zh or en"},
    {"warn_at", CONFIG_DURATION_MS, 0, MS_PER_DAY, "0", FIELD(warn_at_ms), NULL,
     "a warning alert when a buyer has waited this long, before the target; 0: none"},
    {"alert_escalate_webhook", CONFIG_STRING, 0, 0, "", FIELD(alert_escalate_webhook),
     check_webhook, "second robot for buyers waiting past escalate_after; empty: none"},
    {"alert_escalate_robot", CONFIG_STRING, 0, 0, "auto", FIELD(alert_escalate_robot), check_robot,
     "alert_robot for alert_escalate_webhook"},
    {"alert_escalate_secret_file", CONFIG_STRING, 0, 0, "", FIELD(alert_escalate_secret_file), NULL,
     "alert_webhook_secret_file for alert_escalate_webhook"},
    {"escalate_after", CONFIG_DURATION_S, 0, MS_PER_DAY, "60s", FIELD(escalate_after_ms), NULL,
     "a waiting alert whose wait is at least this also goes to alert_escalate_webhook"},
    {"redis", CONFIG_STRING, 0, 0, "redis://127.0.0.1:6379/0", FIELD(redis), check_redis,
     "redis://[user:pass@]host:port/db or unix:///path/to/socket"},
    {"redis_password_file", CONFIG_STRING, 0, 0, "", FIELD(redis_password_file), NULL,
     "file holding the Redis password; empty: none or in the URL"},
    {"redis_cluster", CONFIG_STRING, 0, 0, "off", FIELD(redis_cluster), check_on_off,
     "on: redis names one node of a Redis Cluster, and each shop's keys go to the node "
     "that holds them (docs/redis-connection.md)"},
    {"prefix", CONFIG_STRING, 0, 0, "cs", FIELD(prefix), check_prefix,
     "first part of every Redis key"},
    {"flush_interval_ms", CONFIG_DURATION_MS, 10, 60 * MS_PER_SECOND, "1000",
     FIELD(flush_interval_ms), NULL, "counters reach Redis within this time"},
    {"window_writes", CONFIG_STRING, 0, 0, "every_flush", FIELD(window_writes), check_window_writes,
     "every_flush: each flush rewrites every w: hash (its as_of at least), as the contract "
     "says; changed: only those whose sums changed (Redis work follows activity)"},
    {"minute_ttl", CONFIG_DURATION_S, 60 * MS_PER_SECOND, 3650 * MS_PER_DAY, "2d",
     FIELD(minute_ttl_ms), NULL, "per-minute keys expire after this"},
    {"day_ttl", CONFIG_DURATION_S, MS_PER_DAY, 3650 * MS_PER_DAY, "400d", FIELD(day_ttl_ms), NULL,
     "per-day keys expire after this"},
    {"max_names", CONFIG_INT, 0, 100000000, "1000000", FIELD(max_names), NULL,
     "live: distinct shop and agent names held; records with new ones past it are refused "
     "(counted as errors); 0: no limit"},
    {"max_buyers", CONFIG_INT, 0, 1000000000, "5000000", FIELD(max_buyers), NULL,
     "live: buyers remembered at once (open conversations, recent orders); a new buyer's "
     "message past it is refused (counted as an error); 0: no limit"},
    {"backfill_cut_rows", CONFIG_INT, 100, 10000000, "20000", FIELD(backfill_cut_rows), NULL,
     "--once --redis: the deltas are sent each time they reach this many (shop, agent, "
     "minute) rows; part of the backfill's instance name"},
    {"backfill_max_in_flight", CONFIG_INT, 1, 1024, "4", FIELD(backfill_max_in_flight), NULL,
     "--once --redis: batches sent and not yet acknowledged before reading waits"},
    {"max_pending_bytes", CONFIG_BYTES, MIB, 64 * GIB, "256M", FIELD(max_pending_bytes), NULL,
     "most memory counters not yet in Redis may hold"},
    {"state_dir", CONFIG_STRING, 0, 0, "/var/lib/chatlogd", FIELD(state_dir), check_not_empty,
     "where read offsets and unflushed counters survive a restart"},
    {"instance", CONFIG_STRING, 0, 0, "", FIELD(instance), NULL,
     "names this daemon's applied-batch sequence in Redis; empty: the host name"},
    {"checkpoint_interval", CONFIG_DURATION_S, 10 * MS_PER_SECOND, MS_PER_DAY, "5m",
     FIELD(checkpoint_interval_ms), NULL,
     "how often the whole state is snapshotted (the journal covers the time between)"},
    {"state_mismatch", CONFIG_STRING, 0, 0, "refuse", FIELD(state_mismatch), check_state_mismatch,
     "state_dir behind what Redis applied: refuse to start, or count_again (lines read again "
     "are counted twice)"},
    {"wall_clock_lag", CONFIG_DURATION_S, 0, 3600 * MS_PER_SECOND, "5s", FIELD(wall_clock_lag_ms),
     NULL, "when logs go quiet, event time follows the wall clock this far behind"},
    {"http_listen", CONFIG_STRING, 0, 0, "127.0.0.1:9187", FIELD(http_listen), check_listen,
     "HOST:PORT of the HTTP endpoint; empty: none"},
    {"metrics_per_agent", CONFIG_STRING, 0, 0, "off", FIELD(metrics_per_agent), check_on_off,
     "on: /metrics also has FRT/ART series per agent (grows with every agent seen)"},
    {"log_level", CONFIG_STRING, 0, 0, "info", FIELD(log_level), check_log_level,
     "err, warning, info or debug"},
};

#define OPTION_COUNT (sizeof(config_options) / sizeof(config_options[0]))

/* ---- value checks ---------------------------------------------------------------------- */

static int check_service_hours(const char *value, char *err, size_t errlen)
{
	struct service_hours hours;
	return service_hours_parse(&hours, value, err, errlen);
}

static int check_not_empty(const char *value, char *err, size_t errlen)
{
	if (value[0] != '\0')
		return 0;
	snprintf(err, errlen, "must not be empty");
	return -1;
}

static int check_format(const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "json") == 0 || (strncmp(value, "regex:", 6) == 0 && value[6] != '\0'))
		return 0;
	snprintf(err, errlen, "expected json or regex:FILE");
	return -1;
}

static int check_webhook(const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0' || strncmp(value, "http://", 7) == 0 ||
	    strncmp(value, "https://", 8) == 0)
		return 0;
	snprintf(err, errlen, "expected an http:// or https:// URL, or nothing");
	return -1;
}

static int check_redis(const char *value, char *err, size_t errlen)
{
	if ((strncmp(value, "redis://", 8) == 0 && value[8] != '\0') ||
	    (strncmp(value, "unix://", 7) == 0 && value[7] == '/'))
		return 0;
	snprintf(err, errlen, "expected redis://[user:pass@]host:port/db or unix:///path");
	return -1;
}

/* The prefix starts every key, before the {SHOP} hash tag: a brace in it would
 * become the hash tag instead, and blanks make keys awkward in every client. */
static int check_prefix(const char *value, char *err, size_t errlen)
{
	if (check_not_empty(value, err, errlen) == -1)
		return -1;
	if (strlen(value) > LIMIT_PREFIX_BYTES) {
		snprintf(err, errlen, "longer than %d bytes", LIMIT_PREFIX_BYTES);
		return -1;
	}
	if (strpbrk(value, "{} \t") == NULL)
		return 0;
	snprintf(err, errlen, "must not contain braces or blanks");
	return -1;
}

static int check_listen(const char *value, char *err, size_t errlen)
{
	char host[256];
	int port;

	if (value[0] == '\0' ||
	    (http_parse_listen(value, host, sizeof(host), &port) == 0 && port > 0))
		return 0;
	snprintf(err, errlen, "expected HOST:PORT (port 1-65535), or nothing");
	return -1;
}

/* value is one of choices[0..count); the message names the first `shown` (the rest are
 * accepted aliases): "expected a, b or c". */
static int check_one_of(const char *value, const char *const *choices, size_t count, size_t shown,
                        char *err, size_t errlen)
{
	size_t used;

	for (size_t i = 0; i < count; i++)
		if (strcmp(value, choices[i]) == 0)
			return 0;
	used = (size_t)snprintf(err, errlen, "expected %s", choices[0]);
	for (size_t i = 1; i < shown && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s%s",
		                         i + 1 == shown ? " or " : ", ", choices[i]);
	return -1;
}

#define CHECK_ONE_OF(value, choices, shown, err, errlen)                                           \
	check_one_of(value, choices, sizeof(choices) / sizeof(choices[0]), shown, err, errlen)

static int check_log_level(const char *value, char *err, size_t errlen)
{
	static const char *const levels[] = {"err", "warning", "info", "debug"};
	return CHECK_ONE_OF(value, levels, 4, err, errlen);
}

static int check_on_off(const char *value, char *err, size_t errlen)
{
	static const char *const choices[] = {"on", "off"};
	return CHECK_ONE_OF(value, choices, 2, err, errlen);
}

static int check_window_writes(const char *value, char *err, size_t errlen)
{
	static const char *const choices[] = {"every_flush", "changed"};
	return CHECK_ONE_OF(value, choices, 2, err, errlen);
}

static int check_state_mismatch(const char *value, char *err, size_t errlen)
{
	static const char *const choices[] = {"refuse", "count_again"};
	return CHECK_ONE_OF(value, choices, 2, err, errlen);
}

static int check_robot(const char *value, char *err, size_t errlen)
{
	/* lark: Feishu's name abroad, the same robot */
	static const char *const kinds[] = {"auto",  "generic", "dingtalk",
	                                    "wecom", "feishu",  "lark"};
	return CHECK_ONE_OF(value, kinds, 5, err, errlen);
}

static int check_language(const char *value, char *err, size_t errlen)
{
	static const char *const languages[] = {"zh", "en"};
	return CHECK_ONE_OF(value, languages, 2, err, errlen);
}

/* Blank-separated globs, each anchored to the followed name by %f or %b (tail.c). */
static int check_rotated_names(const char *value, char *err, size_t errlen)
{
	char pattern[NAME_MAX + 2];
	int count = 0;

	for (const char *p = value; *(p += strspn(p, " \t")) != '\0'; count++) {
		size_t len = strcspn(p, " \t");
		snprintf(pattern, sizeof(pattern), "%.*s", (int)len, p);
		if (tail_check_rotated_name(pattern, err, errlen) == -1)
			return -1;
		p += len;
	}
	if (count > 0)
		return 0;
	snprintf(err, errlen, "must name at least one pattern");
	return -1;
}

/* Every string must survive config_dump and config_load unchanged: no control
 * characters, and nothing a config file would read as a comment. */
static int check_writable(const char *value, char *err, size_t errlen)
{
	for (const char *p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "control character in value");
			return -1;
		}
		if (*p == ';' && (p == value || p[-1] == ' ')) {
			snprintf(err, errlen,
			         "';' at the start or after a blank would begin a "
			         "comment in a config file");
			return -1;
		}
	}
	return 0;
}

/* ---- numbers ------------------------------------------------------------------------------ */

struct unit {
	const char *suffix;
	int64_t factor;
};

static const struct unit duration_units[] = {
    {"ms", 1},         {"s", MS_PER_SECOND}, {"m", 60 * MS_PER_SECOND}, {"h", 3600 * MS_PER_SECOND},
    {"d", MS_PER_DAY},
};

static const struct unit byte_units[] = {
    {"b", 1},    {"k", KIB},   {"kb", KIB}, {"kib", KIB}, {"m", MIB},
    {"mb", MIB}, {"mib", MIB}, {"g", GIB},  {"gb", GIB},  {"gib", GIB},
};

/*
 * Parses "DIGITS[blanks][UNIT]" into a non-negative count of the smallest unit.
 * `bare` is the factor of a number without a unit. Units match case-insensitively
 * for sizes, exactly for durations (m is minutes; M would read as months).
 */
static int parse_number(const struct config_option *opt, const char *value, int64_t *out, char *err,
                        size_t errlen)
{
	const struct unit *units = NULL;
	size_t unit_count = 0;
	int64_t number = 0, factor = 1;
	const char *p = value;

	if (opt->type == CONFIG_DURATION_MS || opt->type == CONFIG_DURATION_S) {
		units = duration_units;
		unit_count = sizeof(duration_units) / sizeof(duration_units[0]);
		factor = opt->type == CONFIG_DURATION_MS ? 1 : MS_PER_SECOND;
	} else if (opt->type == CONFIG_BYTES) {
		units = byte_units;
		unit_count = sizeof(byte_units) / sizeof(byte_units[0]);
	}
	if (*p == '\0') {
		snprintf(err, errlen, "missing value");
		return -1;
	}
	if (*p == '-') {
		snprintf(err, errlen, "must not be negative");
		return -1;
	}
	if (*p < '0' || *p > '9') {
		snprintf(err, errlen, "expected a whole number, not \"%s\"", value);
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (number > (INT64_MAX - (*p - '0')) / 10) {
			snprintf(err, errlen, "%s is too large", value);
			return -1;
		}
		number = number * 10 + (*p - '0');
	}
	if (*p == '.' || *p == ',') {
		snprintf(err, errlen, "expected a whole number (use a smaller unit for fractions)");
		return -1;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0') {
		size_t i;
		for (i = 0; i < unit_count; i++)
			if (opt->type == CONFIG_BYTES ? strcasecmp(p, units[i].suffix) == 0
			                              : strcmp(p, units[i].suffix) == 0)
				break;
		if (i == unit_count) {
			if (opt->type == CONFIG_INT)
				snprintf(err, errlen, "expected a whole number, not \"%s\"", value);
			else
				snprintf(err, errlen, "unknown unit \"%s\" (use %s)", p,
				         opt->type == CONFIG_BYTES ? "k, m or g"
				                                   : "ms, s, m, h or d");
			return -1;
		}
		factor = units[i].factor;
	}
	if (number > INT64_MAX / factor) {
		snprintf(err, errlen, "%s is too large", value);
		return -1;
	}
	*out = number * factor;
	return 0;
}

/* Writes a number of the option's stored unit the way a person would: durations of
 * seconds keys and sizes in the largest unit that is exact, _ms keys bare. */
static void format_number(const struct config_option *opt, int64_t value, char *out, size_t size)
{
	const struct unit *units = NULL;
	size_t count = 0;

	if (opt->type == CONFIG_DURATION_S) {
		units = duration_units;
		count = sizeof(duration_units) / sizeof(duration_units[0]);
	} else if (opt->type == CONFIG_BYTES) {
		static const struct unit sizes[] = {{"", 1}, {"K", KIB}, {"M", MIB}, {"G", GIB}};
		units = sizes;
		count = sizeof(sizes) / sizeof(sizes[0]);
	}
	for (size_t i = count; i-- > 0;)
		if (value != 0 && value % units[i].factor == 0) {
			snprintf(out, size, "%" PRId64 "%s", value / units[i].factor,
			         units[i].suffix);
			return;
		}
	if (opt->type == CONFIG_DURATION_S)
		snprintf(out, size, "%" PRId64 "ms", value);
	else
		snprintf(out, size, "%" PRId64, value);
}

/* ---- setting values ------------------------------------------------------------------------- */

static const struct config_option *find_option(const char *name)
{
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (strcmp(config_options[i].name, name) == 0)
			return &config_options[i];
	return NULL;
}

/* Edit distance of two short names, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t best = diagonal + (a[i - 1] != b[j - 1]);
			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

static void unknown_key(const char *name, char *err, size_t errlen)
{
	const char *best = NULL;
	size_t best_distance = 3; /* suggest only close misspellings */
	char quoted[128];

	for (size_t i = 0; i < OPTION_COUNT; i++) {
		size_t d = edit_distance(name, config_options[i].name);
		if (d < best_distance) {
			best_distance = d;
			best = config_options[i].name;
		}
	}
	log_escape(quoted, sizeof(quoted), name, strlen(name));
	if (best != NULL)
		snprintf(err, errlen, "%s: unknown key (did you mean %s?)", quoted, best);
	else
		snprintf(err, errlen, "%s: unknown key", quoted);
}

static void append_input(struct config *cfg, const char *value)
{
	if (value[0] == '\0') { /* `input =` starts the list over */
		for (size_t i = 0; i < cfg->input_count; i++)
			free(cfg->inputs[i]);
		free(cfg->inputs);
		cfg->inputs = NULL;
		cfg->input_count = 0;
		return;
	}
	cfg->inputs = xreallocarray(cfg->inputs, cfg->input_count + 1, sizeof(*cfg->inputs));
	cfg->inputs[cfg->input_count++] = xstrdup(value);
}

/* Sets opt from value (already stripped of surrounding blanks). err gets the bare
 * reason; callers add "key: " and, from a file, "FILE:LINE: ". */
static int option_set(struct config *cfg, const struct config_option *opt, const char *value,
                      char *err, size_t errlen)
{
	char *field = (char *)cfg + opt->offset;
	char low[32], high[32];
	int64_t number;

	if (check_writable(value, err, errlen) == -1)
		return -1; /* also keeps the values quoted in messages below printable */
	switch (opt->type) {
	case CONFIG_STRING:
	case CONFIG_LIST:
		if (strlen(opt->name) + strlen(" = ") + strlen(value) > CONFIG_LINE_MAX) {
			snprintf(err, errlen, "value longer than a config line allows (%zu bytes)",
			         CONFIG_LINE_MAX - strlen(opt->name) - strlen(" = "));
			return -1;
		}
		if (opt->type == CONFIG_LIST && value[0] == '\0') {
			append_input(cfg, value);
			return 0;
		}
		if (opt->check != NULL && opt->check(value, err, errlen) == -1)
			return -1;
		if (opt->type == CONFIG_LIST) {
			append_input(cfg, value);
			return 0;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case CONFIG_INT:
	case CONFIG_DURATION_MS:
	case CONFIG_DURATION_S:
	case CONFIG_BYTES:
		if (parse_number(opt, value, &number, err, errlen) == -1)
			return -1;
		if (number < opt->min || number > opt->max) {
			format_number(opt, opt->min, low, sizeof(low));
			format_number(opt, opt->max, high, sizeof(high));
			snprintf(err, errlen, "%s is out of range (%s to %s)", value, low, high);
			return -1;
		}
		*(int64_t *)field = number;
		return 0;
	}
	return -1;
}

int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	const struct config_option *opt = find_option(key);
	char reason[256], *stripped;
	size_t len;
	int rc;

	if (opt == NULL) {
		unknown_key(key, err, errlen);
		return -1;
	}
	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	stripped = xstrndup(value, len);
	if ((rc = option_set(cfg, opt, stripped, reason, sizeof(reason))) == -1)
		snprintf(err, errlen, "%s: %s", key, reason);
	free(stripped);
	return rc;
}

void config_defaults(struct config *cfg)
{
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct config_option *opt = &config_options[i];
		if (opt->default_value == NULL)
			continue;
		/* Defaults pass the same checks as any value; a failure is a bug in the
		 * table (tests/test_config.c loads them). */
		if (option_set(cfg, opt, opt->default_value, err, sizeof(err)) == -1) {
			fprintf(stderr, "chatlogd: default of %s: %s\n", opt->name, err);
			abort();
		}
	}
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (config_options[i].type == CONFIG_STRING)
			free(*(char **)((char *)cfg + config_options[i].offset));
	for (size_t i = 0; i < cfg->input_count; i++)
		free(cfg->inputs[i]);
	free(cfg->inputs);
	for (size_t i = 0; i < cfg->shop_count; i++) {
		free(cfg->shops[i].shop);
		free(cfg->shops[i].service_hours);
	}
	free(cfg->shops);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- files ------------------------------------------------------------------------------------
 */

/* Every error of a file, for config_load_buffer_all: the messages, and which lines
 * have one (those lines read as blank in the next pass). */
struct config_errors {
	struct config_error_entry {
		int line;
		char *message; /* "FILE:LINE: reason" */
	} * items;
	size_t count;
	unsigned char *blank; /* per line number: its error is known */
	size_t lines;
};

/* One load in progress: libinih pulls lines through config_reader (which knows the
 * line number, since libinih's handler is not told it) and hands keys to
 * config_handler. Without `all`, only the first error is kept and reading stops
 * there; with it, every error goes into `all` and reading goes on. */
struct config_parse {
	struct config *cfg;
	const char *name;
	const char *data, *end, *pos;
	int line;
	int failed;     /* an error is in err */
	int error_line; /* its line */
	char *err;
	size_t errlen;
	struct config_errors *all;
};

static void parse_error(struct config_parse *parse, const char *reason)
{
	struct config_errors *all = parse->all;
	struct config_error_entry *items;

	snprintf(parse->err, parse->errlen, "%s:%d: %s", parse->name, parse->line, reason);
	if (all == NULL) {
		parse->failed = 1;
		parse->error_line = parse->line;
		return;
	}
	if ((size_t)parse->line >= all->lines || all->blank[parse->line])
		return;
	all->blank[parse->line] = 1;
	items = xreallocarray(all->items, all->count + 1, sizeof(*items));
	all->items = items;
	items[all->count].line = parse->line;
	items[all->count].message = xstrdup(parse->err);
	all->count++;
}

/* A line config_reader refuses ends the read, or reads as blank when every error is
 * wanted. */
static char *line_refused(struct config_parse *parse, char *out)
{
	if (parse->all == NULL)
		return NULL;
	out[0] = '\0';
	return out;
}

/*
 * An fgets-like reader over the buffer for libinih. It drops each line's leading
 * blanks, so libinih never sees an indented line as the continuation of the key
 * above (a silent surprise), and refuses lines libinih would cut at `size` and NUL
 * bytes it would stop at, rather than let either change the meaning of a line.
 */
static char *config_reader(char *out, int size, void *stream)
{
	struct config_parse *parse = stream;
	const char *p = parse->pos, *newline;
	size_t len;

	if (parse->failed || p >= parse->end || size < 2)
		return NULL;
	parse->line++;
	newline = memchr(p, '\n', (size_t)(parse->end - p));
	parse->pos = newline != NULL ? newline + 1 : parse->end;
	while (p < parse->pos && (*p == ' ' || *p == '\t'))
		p++;
	len = (size_t)(parse->pos - p);
	/* Collecting every error: a line whose error is known reads as blank. */
	if (parse->all != NULL && parse->all->blank[parse->line])
		len = 0;
	if (memchr(p, '\0', len) != NULL) {
		parse_error(parse, "NUL byte");
		return line_refused(parse, out);
	}
	if (len > (size_t)size - 1) {
		char reason[64];
		snprintf(reason, sizeof(reason), "line longer than %d bytes", size - 2);
		parse_error(parse, reason);
		return line_refused(parse, out);
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return out;
}

/* The shop a `[shop NAME]` section is about, or NULL for any other section (which
 * only groups keys for the reader). */
static const char *section_shop(const char *section)
{
	if (strncmp(section, "shop", 4) != 0 || (section[4] != ' ' && section[4] != '\t'))
		return NULL;
	section += 4;
	while (*section == ' ' || *section == '\t')
		section++;
	return *section != '\0' ? section : NULL;
}

/* A key of a `[shop NAME]` section: service_hours is the one a shop may have. */
static int config_set_shop(struct config *cfg, const char *shop, const char *key, const char *value,
                           char *err, size_t errlen)
{
	struct config_shop *entry = NULL;

	if (strcmp(key, "service_hours") != 0) {
		snprintf(err, errlen,
		         "%s cannot be set for one shop (a [shop NAME] section takes "
		         "service_hours)",
		         key);
		return -1;
	}
	while (*value == ' ' || *value == '\t')
		value++;
	if (check_service_hours(value, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < cfg->shop_count; i++)
		if (strcmp(cfg->shops[i].shop, shop) == 0)
			entry = &cfg->shops[i];
	if (entry == NULL) {
		cfg->shops = xreallocarray(cfg->shops, cfg->shop_count + 1, sizeof(*cfg->shops));
		entry = &cfg->shops[cfg->shop_count++];
		entry->shop = xstrdup(shop);
		entry->service_hours = NULL;
	}
	free(entry->service_hours);
	entry->service_hours = xstrdup(value);
	return 0;
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_parse *parse = user;
	const char *shop = section_shop(section);
	char reason[512];
	int rc;

	if (parse->failed)
		return 1;
	if (name[0] == '\0') {
		parse_error(parse, "missing key before '='");
		return 0;
	}
	rc = shop != NULL ? config_set_shop(parse->cfg, shop, name, value, reason, sizeof(reason))
	                  : config_set(parse->cfg, name, value, reason, sizeof(reason));
	if (rc == -1) {
		parse_error(parse, reason);
		/* collecting: libinih's own error line is then always a syntax error */
		return parse->all != NULL;
	}
	return 1;
}

int config_load_buffer(struct config *cfg, const char *name, const char *data, size_t len,
                       char *err, size_t errlen)
{
	struct config_parse parse = {.cfg = cfg,
	                             .name = name,
	                             .data = data,
	                             .end = data + len,
	                             .pos = data,
	                             .err = err,
	                             .errlen = errlen};
	int rc = ini_parse_stream(config_reader, &parse, config_handler, &parse);

	/* libinih reports the first line it could not read or whose handler failed;
	 * a syntax error before our first error is the one to show. */
	if (rc > 0 && (!parse.failed || rc < parse.error_line)) {
		parse.line = rc;
		parse_error(&parse, "expected key = value, [section] or a comment");
	} else if (rc < 0 && !parse.failed) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	return parse.failed ? -1 : 0;
}

static int by_line(const void *a, const void *b)
{
	const struct config_error_entry *x = a, *y = b;
	return (x->line > y->line) - (x->line < y->line);
}

/*
 * Every error of a file, for --check-config. libinih goes on past an error but
 * returns only the first line it could not parse, so this parses in passes: each
 * pass gathers every bad value (the handler's errors, config_reader's refusals) and
 * learns one more syntax error from libinih's answer, and the next pass reads the
 * lines with a known error as blank, until a pass finds no new syntax error.
 * libinih stays the only judge of the syntax; a pass costs one parse of a file of at
 * most LIMIT_SETTINGS_FILE_BYTES, and there are at most LIMIT_CONFIG_ERRORS + 1.
 */
int config_load_buffer_all(struct config *cfg, const char *name, const char *data, size_t len,
                           config_error_fn report, void *ctx)
{
	struct config_errors all = {.lines = 2};
	char err[512];
	size_t before;
	int rc = 0;

	for (size_t i = 0; i < len; i++)
		all.lines += data[i] == '\n';
	all.blank = xcalloc(all.lines, 1);
	while (all.count <= LIMIT_CONFIG_ERRORS) {
		struct config scratch;
		struct config_parse parse = {.cfg = &scratch,
		                             .name = name,
		                             .data = data,
		                             .end = data + len,
		                             .pos = data,
		                             .err = err,
		                             .errlen = sizeof(err),
		                             .all = &all};

		config_defaults(&scratch);
		rc = ini_parse_stream(config_reader, &parse, config_handler, &parse);
		config_free(&scratch);
		if (rc <= 0)
			break;
		before = all.count;
		parse.line = rc;
		parse_error(&parse, "expected key = value, [section] or a comment");
		if (all.count == before)
			break; /* libinih named a line already known: it cannot teach more */
	}
	if (rc < 0)
		fatalx("out of memory");
	if (all.count > 1)
		qsort(all.items, all.count, sizeof(*all.items), by_line);
	for (size_t i = 0; i < all.count && i < LIMIT_CONFIG_ERRORS; i++)
		report(ctx, all.items[i].message);
	if (all.count > LIMIT_CONFIG_ERRORS) {
		snprintf(err, sizeof(err), "%s: more than %d errors; the first %d are above", name,
		         LIMIT_CONFIG_ERRORS, LIMIT_CONFIG_ERRORS);
		report(ctx, err);
	}
	/* Clean: now for real, into cfg. */
	if (all.count == 0 && config_load_buffer(cfg, name, data, len, err, sizeof(err)) == -1) {
		report(ctx, err);
		all.count = 1;
	}
	for (size_t i = 0; i < all.count; i++)
		free(all.items[i].message);
	free(all.items);
	free(all.blank);
	return (int)all.count;
}

int config_load_all(struct config *cfg, const char *path, config_error_fn report, void *ctx)
{
	char err[512], *data;
	size_t len;
	int count;

	if ((data = textfile_read(path, LIMIT_SETTINGS_FILE_BYTES, &len, err, sizeof(err))) ==
	    NULL) {
		report(ctx, err);
		return 1;
	}
	count = config_load_buffer_all(cfg, path, data, len, report, ctx);
	free(data);
	return count;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char *data;
	size_t len;
	int rc;

	if ((data = textfile_read(path, LIMIT_SETTINGS_FILE_BYTES, &len, err, errlen)) == NULL)
		return -1;
	rc = config_load_buffer(cfg, path, data, len, err, errlen);
	free(data);
	return rc;
}

void config_dump(const struct config *cfg, FILE *out)
{
	fputs("# chatlogd settings in effect; config_load reads this back unchanged\n", out);
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct config_option *opt = &config_options[i];
		const char *field = (const char *)cfg + opt->offset;
		const char *text;
		char number[32];

		fprintf(out, "\n# %s\n", opt->help);
		switch (opt->type) {
		case CONFIG_LIST:
			if (cfg->input_count == 0)
				fprintf(out, "#%s =\n", opt->name);
			for (size_t j = 0; j < cfg->input_count; j++)
				fprintf(out, "%s = %s\n", opt->name, cfg->inputs[j]);
			continue;
		case CONFIG_STRING:
			text = *(char *const *)field;
			break;
		default:
			format_number(opt, *(const int64_t *)field, number, sizeof(number));
			text = number;
			break;
		}
		if (text == NULL || text[0] == '\0')
			fprintf(out, "%s =\n", opt->name);
		else
			fprintf(out, "%s = %s\n", opt->name, text);
	}
	for (size_t i = 0; i < cfg->shop_count; i++)
		fprintf(out, "\n[shop %s]\nservice_hours = %s\n", cfg->shops[i].shop,
		        cfg->shops[i].service_hours);
}

int config_check_together(const struct config *cfg, char *err, size_t errlen)
{
	struct redis_endpoint ep;
	char why[256];
	int rc = 0;

	if (strcmp(cfg->redis_cluster, "on") != 0)
		return 0;
	if (redisconn_parse_url(cfg->redis, &ep, why, sizeof(why)) == -1)
		return 0; /* check_redis and the connection say what is wrong with it */
	if (ep.unix_path != NULL) {
		snprintf(err, errlen,
		         "redis_cluster = on needs redis://host:port: a cluster's "
		         "nodes are reached over TCP, not %s",
		         "unix://");
		rc = -1;
	} else if (ep.db != 0) {
		snprintf(err, errlen,
		         "redis_cluster = on needs db 0 in redis (a cluster has no other), not %d",
		         ep.db);
		rc = -1;
	}
	redisconn_endpoint_free(&ep);
	return rc;
}
