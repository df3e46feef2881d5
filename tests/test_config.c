/*
 * Tests for config.c: defaults, every value type and unit, bounds, errors with their
 * exact FILE:LINE, INI details (sections, indentation, comments, repeats), the dump
 * and load round trip, config_set, and the shipped example systemd/chatlogd.conf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatlogd/config.h"
#include "chatlogd/limits.h"
#include "check.h"

#define EXAMPLE SOURCE_DIR "/systemd/chatlogd.conf"

/* Every key, for the tests that must see all of them. */
static const char *const all_keys[] = {
    "format",
    "patterns",
    "input",
    "rotated_names",
    "max_line_bytes",
    "timezone",
    "batch_threads",
    "frt_target_ms",
    "art_target_ms",
    "session_idle",
    "order_window",
    "post_sale_window",
    "max_clock_ahead",
    "merge_grace",
    "service_hours",
    "assessment_counters",
    "slow_response",
    "returning_window",
    "alert_window",
    "alert_min_samples",
    "alert_webhook",
    "alert_webhook_ca_file",
    "alert_robot",
    "alert_webhook_secret_file",
    "alert_robot_per_minute",
    "alert_mentions_file",
    "alert_language",
    "warn_at",
    "alert_escalate_webhook",
    "alert_escalate_robot",
    "alert_escalate_secret_file",
    "escalate_after",
    "redis",
    "redis_password_file",
    "prefix",
    "flush_interval_ms",
    "window_writes",
    "minute_ttl",
    "day_ttl",
    "max_pending_bytes",
    "max_names",
    "max_buyers",
    "state_dir",
    "instance",
    "checkpoint_interval",
    "state_mismatch",
    "wall_clock_lag",
    "http_listen",
    "metrics_per_agent",
    "log_level",
};

static int load(struct config *cfg, const char *text, char *err, size_t errlen)
{
	return config_load_buffer(cfg, "c.conf", text, strlen(text), err, errlen);
}

/* Loads text over defaults, expecting failure with exactly `want`. */
static void check_error(const char *text, const char *want)
{
	struct config cfg;
	char err[512] = "";

	config_defaults(&cfg);
	CHECK_INT(load(&cfg, text, err, sizeof(err)), -1);
	if (strcmp(err, want) != 0)
		fprintf(stderr, "  for: %s\n", text);
	CHECK_STR(err, want);
	config_free(&cfg);
}

/* Loads one `key = value` line over defaults; returns the field through cfg. */
static int load_one(struct config *cfg, const char *line)
{
	char err[512];

	config_defaults(cfg);
	if (load(cfg, line, err, sizeof(err)) == -1) {
		fprintf(stderr, "  unexpected error: %s\n", err);
		return -1;
	}
	return 0;
}

static int same_string(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int same_shops(const struct config *a, const struct config *b)
{
	if (a->shop_count != b->shop_count)
		return 0;
	for (size_t i = 0; i < a->shop_count; i++)
		if (!same_string(a->shops[i].shop, b->shops[i].shop) ||
		    !same_string(a->shops[i].service_hours, b->shops[i].service_hours))
			return 0;
	return 1;
}

/* 1 when every field of a and b is equal. */
static int config_equal(const struct config *a, const struct config *b)
{
	if (a->input_count != b->input_count)
		return 0;
	for (size_t i = 0; i < a->input_count; i++)
		if (!same_string(a->inputs[i], b->inputs[i]))
			return 0;
	return same_string(a->format, b->format) && same_string(a->patterns, b->patterns) &&
	       same_string(a->rotated_names, b->rotated_names) &&
	       a->max_line_bytes == b->max_line_bytes && same_string(a->timezone, b->timezone) &&
	       a->batch_threads == b->batch_threads && a->frt_target_ms == b->frt_target_ms &&
	       a->art_target_ms == b->art_target_ms && a->session_idle_ms == b->session_idle_ms &&
	       a->order_window_ms == b->order_window_ms &&
	       a->alert_window_ms == b->alert_window_ms &&
	       a->alert_min_samples == b->alert_min_samples &&
	       same_string(a->alert_webhook, b->alert_webhook) && same_string(a->redis, b->redis) &&
	       same_string(a->alert_robot, b->alert_robot) &&
	       same_string(a->alert_webhook_secret_file, b->alert_webhook_secret_file) &&
	       a->alert_robot_per_minute == b->alert_robot_per_minute &&
	       same_string(a->alert_mentions_file, b->alert_mentions_file) &&
	       same_string(a->alert_language, b->alert_language) &&
	       same_string(a->alert_escalate_webhook, b->alert_escalate_webhook) &&
	       same_string(a->alert_escalate_robot, b->alert_escalate_robot) &&
	       same_string(a->alert_escalate_secret_file, b->alert_escalate_secret_file) &&
	       a->escalate_after_ms == b->escalate_after_ms &&
	       same_string(a->redis_password_file, b->redis_password_file) &&
	       same_string(a->prefix, b->prefix) && a->flush_interval_ms == b->flush_interval_ms &&
	       a->minute_ttl_ms == b->minute_ttl_ms && a->day_ttl_ms == b->day_ttl_ms &&
	       a->max_pending_bytes == b->max_pending_bytes && a->max_names == b->max_names &&
	       a->max_buyers == b->max_buyers && same_string(a->state_dir, b->state_dir) &&
	       same_string(a->http_listen, b->http_listen) &&
	       same_string(a->metrics_per_agent, b->metrics_per_agent) &&
	       same_string(a->window_writes, b->window_writes) &&
	       same_string(a->log_level, b->log_level) &&
	       a->post_sale_window_ms == b->post_sale_window_ms &&
	       a->max_clock_ahead_ms == b->max_clock_ahead_ms &&
	       a->merge_grace_ms == b->merge_grace_ms && a->warn_at_ms == b->warn_at_ms &&
	       same_string(a->instance, b->instance) &&
	       a->checkpoint_interval_ms == b->checkpoint_interval_ms &&
	       same_string(a->state_mismatch, b->state_mismatch) &&
	       a->wall_clock_lag_ms == b->wall_clock_lag_ms &&
	       same_string(a->service_hours, b->service_hours) &&
	       same_string(a->assessment_counters, b->assessment_counters) &&
	       a->slow_response_ms == b->slow_response_ms &&
	       a->returning_window_ms == b->returning_window_ms && same_shops(a, b);
}

static char *dump_to_string(const struct config *cfg)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (f == NULL)
		return NULL;
	config_dump(cfg, f);
	fclose(f);
	return text;
}

/* ---- defaults ------------------------------------------------------------------------------ */

static void test_defaults_are_the_documented_ones(void)
{
	struct config cfg;

	config_defaults(&cfg);
	CHECK_STR(cfg.format, "json");
	CHECK_STR(cfg.patterns, "");
	CHECK_INT(cfg.input_count, 0);
	CHECK(cfg.inputs == NULL);
	CHECK_INT(cfg.max_line_bytes, 65536);
	CHECK_INT(cfg.max_line_bytes, LIMIT_LINE_BYTES_DEFAULT);
	CHECK_STR(cfg.timezone, "Asia/Shanghai");
	CHECK_INT(cfg.frt_target_ms, 6000);
	CHECK_INT(cfg.art_target_ms, 10000);
	CHECK_INT(cfg.session_idle_ms, 600 * 1000);
	CHECK_INT(cfg.order_window_ms, 86400 * 1000);
	CHECK_INT(cfg.alert_window_ms, 300 * 1000);
	CHECK_INT(cfg.alert_min_samples, 3);
	CHECK_STR(cfg.alert_webhook, "");
	CHECK_STR(cfg.alert_robot, "auto");
	CHECK_STR(cfg.alert_webhook_secret_file, "");
	CHECK_INT(cfg.alert_robot_per_minute, 0);
	CHECK_STR(cfg.alert_mentions_file, "");
	CHECK_STR(cfg.alert_language, "zh");
	CHECK_STR(cfg.alert_escalate_webhook, "");
	CHECK_STR(cfg.alert_escalate_robot, "auto");
	CHECK_STR(cfg.alert_escalate_secret_file, "");
	CHECK_INT(cfg.escalate_after_ms, 60 * 1000);
	CHECK_STR(cfg.redis, "redis://127.0.0.1:6379/0");
	CHECK_STR(cfg.redis_password_file, "");
	CHECK_STR(cfg.prefix, "cs");
	CHECK_INT(cfg.flush_interval_ms, 1000);
	CHECK_INT(cfg.minute_ttl_ms, 2LL * 86400 * 1000);
	CHECK_INT(cfg.day_ttl_ms, 400LL * 86400 * 1000);
	CHECK_INT(cfg.max_pending_bytes, 256LL * 1024 * 1024);
	CHECK_STR(cfg.state_dir, "/var/lib/chatlogd");
	CHECK_STR(cfg.http_listen, "127.0.0.1:9187");
	CHECK_STR(cfg.log_level, "info");
	CHECK_STR(cfg.service_hours, "");
	CHECK_STR(cfg.assessment_counters, "off");
	CHECK_INT(cfg.slow_response_ms, 120 * 1000);
	CHECK_INT(cfg.returning_window_ms, 365LL * 86400 * 1000);
	CHECK_INT(cfg.shop_count, 0);
	config_free(&cfg);
}

static void test_free_zeroes_and_accepts_a_zeroed_struct(void)
{
	struct config cfg, zero;

	memset(&zero, 0, sizeof(zero));
	config_defaults(&cfg);
	config_free(&cfg);
	CHECK(memcmp(&cfg, &zero, sizeof(cfg)) == 0);
	config_free(&cfg);
	CHECK(memcmp(&cfg, &zero, sizeof(cfg)) == 0);
}

/* ---- every type ---------------------------------------------------------------------------- */

static void test_every_key_loads_from_a_file(void)
{
	struct config cfg;
	char err[512];

	config_defaults(&cfg);
	CHECK_INT(load(&cfg,
	               "format = regex:/etc/chatlogd/formats/qianniu.re\n"
	               "patterns = /etc/chatlogd/lost-reasons.conf\n"
	               "input = /var/log/cs/*.log\n"
	               "max_line_bytes = 1024\n"
	               "timezone = UTC\n"
	               "frt_target_ms = 5000\n"
	               "art_target_ms = 15000\n"
	               "session_idle = 900\n"
	               "order_window = 2d\n"
	               "alert_window = 10m\n"
	               "alert_min_samples = 5\n"
	               "alert_webhook = https://oapi.dingtalk.com/robot/send?access_token=abc\n"
	               "redis = redis://user:pw@10.0.0.5:6380/2\n"
	               "redis_password_file = /etc/chatlogd/redis.pass\n"
	               "prefix = shop\n"
	               "flush_interval_ms = 250\n"
	               "minute_ttl = 36h\n"
	               "day_ttl = 90d\n"
	               "max_pending_bytes = 64M\n"
	               "state_dir = /srv/chatlogd\n"
	               "http_listen = [::1]:9000\n"
	               "log_level = debug\n",
	               err, sizeof(err)),
	          0);
	CHECK_STR(cfg.format, "regex:/etc/chatlogd/formats/qianniu.re");
	CHECK_STR(cfg.patterns, "/etc/chatlogd/lost-reasons.conf");
	CHECK_INT(cfg.input_count, 1);
	if (cfg.input_count == 1)
		CHECK_STR(cfg.inputs[0], "/var/log/cs/*.log");
	CHECK_INT(cfg.max_line_bytes, 1024);
	CHECK_STR(cfg.timezone, "UTC");
	CHECK_INT(cfg.frt_target_ms, 5000);
	CHECK_INT(cfg.art_target_ms, 15000);
	CHECK_INT(cfg.session_idle_ms, 900000);
	CHECK_INT(cfg.order_window_ms, 2LL * 86400000);
	CHECK_INT(cfg.alert_window_ms, 600000);
	CHECK_INT(cfg.alert_min_samples, 5);
	CHECK_STR(cfg.alert_webhook, "https://oapi.dingtalk.com/robot/send?access_token=abc");
	CHECK_STR(cfg.redis, "redis://user:pw@10.0.0.5:6380/2");
	CHECK_STR(cfg.redis_password_file, "/etc/chatlogd/redis.pass");
	CHECK_STR(cfg.prefix, "shop");
	CHECK_INT(cfg.flush_interval_ms, 250);
	CHECK_INT(cfg.minute_ttl_ms, 36LL * 3600000);
	CHECK_INT(cfg.day_ttl_ms, 90LL * 86400000);
	CHECK_INT(cfg.max_pending_bytes, 64LL * 1024 * 1024);
	CHECK_STR(cfg.state_dir, "/srv/chatlogd");
	CHECK_STR(cfg.http_listen, "[::1]:9000");
	CHECK_STR(cfg.log_level, "debug");
	config_free(&cfg);
}

static void test_duration_units_for_a_seconds_key(void)
{
	static const struct {
		const char *line;
		int64_t ms;
	} cases[] = {
	    {"session_idle = 600", 600000},   {"session_idle = 600s", 600000},
	    {"session_idle = 10m", 600000},   {"session_idle = 1h", 3600000},
	    {"session_idle = 1d", 86400000},  {"session_idle = 1500ms", 1500},
	    {"session_idle = 600 s", 600000}, {"session_idle=\t2m", 120000},
	    {"session_idle = 007", 7000},
	};
	struct config cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load_one(&cfg, cases[i].line) == 0)
			CHECK_INT(cfg.session_idle_ms, cases[i].ms);
		config_free(&cfg);
	}
}

static void test_duration_units_for_a_milliseconds_key(void)
{
	static const struct {
		const char *line;
		int64_t ms;
	} cases[] = {
	    {"frt_target_ms = 6000", 6000},   {"frt_target_ms = 6s", 6000},
	    {"frt_target_ms = 6000ms", 6000}, {"frt_target_ms = 1m", 60000},
	    {"frt_target_ms = 1", 1},
	};
	struct config cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load_one(&cfg, cases[i].line) == 0)
			CHECK_INT(cfg.frt_target_ms, cases[i].ms);
		config_free(&cfg);
	}
}

static void test_size_suffixes_are_binary_and_any_case(void)
{
	static const struct {
		const char *line;
		int64_t bytes;
	} cases[] = {
	    {"max_pending_bytes = 268435456", 268435456LL},
	    {"max_pending_bytes = 256M", 268435456LL},
	    {"max_pending_bytes = 256m", 268435456LL},
	    {"max_pending_bytes = 256 MiB", 268435456LL},
	    {"max_pending_bytes = 256MB", 268435456LL},
	    {"max_pending_bytes = 1G", 1073741824LL},
	    {"max_pending_bytes = 2gib", 2147483648LL},
	    {"max_pending_bytes = 4096k", 4194304LL},
	    {"max_pending_bytes = 4096KiB", 4194304LL},
	    {"max_pending_bytes = 1048576b", 1048576LL},
	    {"max_line_bytes = 64K", 65536},
	};
	struct config cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load_one(&cfg, cases[i].line) == 0) {
			if (strncmp(cases[i].line, "max_line", 8) == 0)
				CHECK_INT(cfg.max_line_bytes, cases[i].bytes);
			else
				CHECK_INT(cfg.max_pending_bytes, cases[i].bytes);
		}
		config_free(&cfg);
	}
}

static void test_bounds_are_inclusive(void)
{
	struct config cfg;
	char line[128];

	if (load_one(&cfg, "max_line_bytes = 256") == 0)
		CHECK_INT(cfg.max_line_bytes, 256);
	config_free(&cfg);
	snprintf(line, sizeof(line), "max_line_bytes = %d", LIMIT_LINE_BYTES_MAX);
	if (load_one(&cfg, line) == 0)
		CHECK_INT(cfg.max_line_bytes, LIMIT_LINE_BYTES_MAX);
	config_free(&cfg);
	if (load_one(&cfg, "alert_min_samples = 1") == 0)
		CHECK_INT(cfg.alert_min_samples, 1);
	config_free(&cfg);
	if (load_one(&cfg, "session_idle = 7d") == 0)
		CHECK_INT(cfg.session_idle_ms, 7LL * 86400000);
	config_free(&cfg);
	if (load_one(&cfg, "flush_interval_ms = 10") == 0)
		CHECK_INT(cfg.flush_interval_ms, 10);
	config_free(&cfg);
}

static void test_out_of_range_values_name_the_range(void)
{
	check_error("max_line_bytes = 255\n", "c.conf:1: max_line_bytes: 255 is out of range "
	                                      "(256 to 16M)");
	check_error("max_line_bytes = 16777217\n",
	            "c.conf:1: max_line_bytes: 16777217 is out of range (256 to 16M)");
	check_error("session_idle = 0\n", "c.conf:1: session_idle: 0 is out of range (1s to 7d)");
	check_error("session_idle = 999ms\n",
	            "c.conf:1: session_idle: 999ms is out of range (1s to 7d)");
	check_error("session_idle = 8d\n", "c.conf:1: session_idle: 8d is out of range (1s to 7d)");
	check_error("frt_target_ms = 0\n",
	            "c.conf:1: frt_target_ms: 0 is out of range (1 to 86400000)");
	check_error("alert_min_samples = 0\n",
	            "c.conf:1: alert_min_samples: 0 is out of range (1 to 1000000)");
	check_error("max_pending_bytes = 512k\n",
	            "c.conf:1: max_pending_bytes: 512k is out of range (1M to 64G)");
	check_error("day_ttl = 23h\n", "c.conf:1: day_ttl: 23h is out of range (1d to 3650d)");
}

static void test_number_errors(void)
{
	check_error("session_idle = -5\n", "c.conf:1: session_idle: must not be negative");
	check_error("session_idle = 99999999999999999999\n",
	            "c.conf:1: session_idle: 99999999999999999999 is too large");
	check_error("session_idle = 9223372036854775807d\n",
	            "c.conf:1: session_idle: 9223372036854775807d is too large");
	check_error("session_idle = ten\n",
	            "c.conf:1: session_idle: expected a whole number, not \"ten\"");
	check_error("session_idle =\n", "c.conf:1: session_idle: missing value");
	check_error("session_idle = 1.5m\n", "c.conf:1: session_idle: expected a whole number "
	                                     "(use a smaller unit for fractions)");
	check_error("session_idle = 10x\n",
	            "c.conf:1: session_idle: unknown unit \"x\" (use ms, s, m, h or d)");
	check_error("session_idle = 10M\n",
	            "c.conf:1: session_idle: unknown unit \"M\" (use ms, s, m, h or d)");
	check_error("session_idle = 10 m s\n",
	            "c.conf:1: session_idle: unknown unit \"m s\" (use ms, s, m, h or d)");
	check_error("max_pending_bytes = 1T\n",
	            "c.conf:1: max_pending_bytes: unknown unit \"T\" (use k, m or g)");
	check_error("alert_min_samples = 3s\n",
	            "c.conf:1: alert_min_samples: expected a whole number, not \"3s\"");
	check_error("alert_min_samples = +3\n",
	            "c.conf:1: alert_min_samples: expected a whole number, not \"+3\"");
}

static void test_string_checks(void)
{
	check_error("format = xml\n", "c.conf:1: format: expected json or regex:FILE");
	check_error("format = regex:\n", "c.conf:1: format: expected json or regex:FILE");
	check_error("log_level = verbose\n",
	            "c.conf:1: log_level: expected err, warning, info or debug");
	check_error("redis = 127.0.0.1:6379\n",
	            "c.conf:1: redis: expected redis://[user:pass@]host:port/db or unix:///path");
	check_error("redis = unix://relative\n",
	            "c.conf:1: redis: expected redis://[user:pass@]host:port/db or unix:///path");
	check_error("prefix = {cs}\n", "c.conf:1: prefix: must not contain braces or blanks");
	check_error("prefix = c s\n", "c.conf:1: prefix: must not contain braces or blanks");
	check_error("prefix =\n", "c.conf:1: prefix: must not be empty");
	check_error("timezone =\n", "c.conf:1: timezone: must not be empty");
	check_error("state_dir =\n", "c.conf:1: state_dir: must not be empty");
	check_error("http_listen = 9187\n",
	            "c.conf:1: http_listen: expected HOST:PORT (port 1-65535), or nothing");
	check_error("http_listen = localhost:0\n",
	            "c.conf:1: http_listen: expected HOST:PORT (port 1-65535), or nothing");
	check_error("http_listen = localhost:65536\n",
	            "c.conf:1: http_listen: expected HOST:PORT (port 1-65535), or nothing");
	check_error("http_listen = localhost:+80\n",
	            "c.conf:1: http_listen: expected HOST:PORT (port 1-65535), or nothing");
	check_error("alert_webhook = ftp://x\n",
	            "c.conf:1: alert_webhook: expected an http:// or https:// URL, or nothing");
	check_error("alert_robot = slack\n",
	            "c.conf:1: alert_robot: expected auto, generic, dingtalk, wecom or feishu");
	check_error("alert_language = fr\n", "c.conf:1: alert_language: expected zh or en");
	check_error("state_mismatch = maybe\n",
	            "c.conf:1: state_mismatch: expected refuse or count_again");
	check_error("alert_escalate_webhook = x\n", "c.conf:1: alert_escalate_webhook: expected an "
	                                            "http:// or https:// URL, or nothing");
	{
		struct config cfg;
		if (load_one(&cfg,
		             "http_listen =\nalert_webhook =\nredis = unix:///run/redis.sock\n"
		             "format = json\n") == 0) {
			CHECK_STR(cfg.http_listen, "");
			CHECK_STR(cfg.alert_webhook, "");
			CHECK_STR(cfg.redis, "unix:///run/redis.sock");
		}
		config_free(&cfg);
	}
}

/* ---- file syntax and its errors ------------------------------------------------------------- */

static void test_errors_carry_file_and_line(void)
{
	check_error("# settings\n"
	            "\n"
	            "[redis]\n"
	            "prefix = cs\n"
	            "flush_interval_ms = 5\n",
	            "c.conf:5: flush_interval_ms: 5 is out of range (10 to 60000)");
	check_error("prefix = cs\r\n"
	            "; comment\r\n"
	            "session_idel = 10m\r\n",
	            "c.conf:3: session_idel: unknown key (did you mean session_idle?)");
	check_error("colour = blue\n", "c.conf:1: colour: unknown key");
	check_error("col\x1bour = blue\n", "c.conf:1: col\\x1bour: unknown key");
	check_error("session_idle = 1\x1b\n", "c.conf:1: session_idle: control character in value");
	check_error("Redis = redis://x\n", "c.conf:1: Redis: unknown key (did you mean redis?)");
	check_error("prefix = cs\njust some words\n",
	            "c.conf:2: expected key = value, [section] or a comment");
	check_error("[unterminated\nprefix = cs\n",
	            "c.conf:1: expected key = value, [section] or a comment");
	check_error("prefix = cs\n= value\n", "c.conf:2: missing key before '='");
	/* libinih keeps ";x" right after '=' as the value; written back as "= ;x" it
	 * would read as a comment, so it is refused. */
	check_error("input =;x\n", "c.conf:1: input: ';' at the start or after a blank would "
	                           "begin a comment in a config file");
}

static void test_first_error_in_the_file_wins(void)
{
	/* A syntax error on line 2 comes before a bad value on line 3 ... */
	check_error("prefix = cs\nno equals sign\nsession_idle = -1\n",
	            "c.conf:2: expected key = value, [section] or a comment");
	/* ... and a bad value on line 1 before a syntax error on line 2. */
	check_error("session_idle = -1\nno equals sign\n",
	            "c.conf:1: session_idle: must not be negative");
}

static void test_nul_byte_and_long_line_are_refused(void)
{
	static const char text[] = "prefix = cs\nstate_dir = /a\0b\n";
	struct config cfg;
	char err[256] = "", line[400];

	config_defaults(&cfg);
	CHECK_INT(config_load_buffer(&cfg, "c.conf", text, sizeof(text) - 1, err, sizeof(err)), -1);
	CHECK_STR(err, "c.conf:2: NUL byte");
	config_free(&cfg);

	memset(line, 'x', sizeof(line));
	memcpy(line, "\nstate_dir = /", 14);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	config_defaults(&cfg);
	CHECK_INT(load(&cfg, line, err, sizeof(err)), -1);
	CHECK(strncmp(err, "c.conf:2: line longer than ", 27) == 0);
	config_free(&cfg);
}

static void test_sections_are_ignored_and_keys_may_stand_anywhere(void)
{
	struct config cfg;

	if (load_one(&cfg, "prefix = top\n"
	                   "[redis]\n"
	                   "redis = redis://r:1/0\n"
	                   "[metrics]\n"
	                   "log_level = warning\n"
	                   "[anything at all]\n"
	                   "state_dir = /s\n") == 0) {
		CHECK_STR(cfg.prefix, "top");
		CHECK_STR(cfg.redis, "redis://r:1/0");
		CHECK_STR(cfg.log_level, "warning");
		CHECK_STR(cfg.state_dir, "/s");
	}
	config_free(&cfg);
}

/* A [shop NAME] section holds that shop's service_hours; the name may be Chinese and
 * hold blanks; a second section of the same shop replaces its hours; any other key
 * there is refused with the line; the dump writes the sections back. */
static void test_shop_sections_hold_service_hours(void)
{
	struct config cfg, again;
	char err[512];
	char *text;

	config_defaults(&cfg);
	CHECK_INT(load(&cfg,
	               "service_hours = 08:00-24:00\n"
	               "[shop 优衣库 旗舰店]\n"
	               "service_hours = mon-fri 09:00-18:00\n"
	               "[shop s2]\n"
	               "service_hours = always\n"
	               "[shop 优衣库 旗舰店]\n"
	               "service_hours = 10:00-20:00\n"
	               "[redis]\n"
	               "prefix = x\n",
	               err, sizeof(err)),
	          0);
	CHECK_STR(cfg.service_hours, "08:00-24:00");
	CHECK_STR(cfg.prefix, "x");
	CHECK_INT(cfg.shop_count, 2);
	if (cfg.shop_count == 2) {
		CHECK_STR(cfg.shops[0].shop, "优衣库 旗舰店");
		CHECK_STR(cfg.shops[0].service_hours, "10:00-20:00");
		CHECK_STR(cfg.shops[1].shop, "s2");
		CHECK_STR(cfg.shops[1].service_hours, "always");
	}
	text = dump_to_string(&cfg);
	config_defaults(&again);
	CHECK(text != NULL && load(&again, text, err, sizeof(err)) == 0);
	CHECK(config_equal(&cfg, &again));
	free(text);
	config_free(&again);
	config_free(&cfg);

	check_error("[shop s1]\nprefix = x\n",
	            "c.conf:2: prefix cannot be set for one shop (a [shop NAME] section takes "
	            "service_hours)");
	check_error("\n[shop s1]\nservice_hours = 9:00-18:00\n",
	            "c.conf:3: unexpected \"9:00-18:00\" (expected days such as mon-fri or sat, "
	            "time ranges HH:MM-HH:MM such as 08:00-24:00, or off)");
	check_error("service_hours = mon\n",
	            "c.conf:1: service_hours: days without a time range (expected e.g. mon-fri "
	            "09:00-18:00)");
}

static void test_indented_lines_are_keys_not_continuations(void)
{
	struct config cfg;

	/* libinih alone would read the second line as more of `prefix`. */
	if (load_one(&cfg, "[redis]\n"
	                   "  prefix = shop\n"
	                   "  state_dir = /s\n"
	                   "\t  log_level = err\n") == 0) {
		CHECK_STR(cfg.prefix, "shop");
		CHECK_STR(cfg.state_dir, "/s");
		CHECK_STR(cfg.log_level, "err");
	}
	config_free(&cfg);
}

static void test_comments_colons_bom_and_crlf(void)
{
	struct config cfg;

	if (load_one(&cfg, "\xef\xbb\xbf# hash comment\r\n"
	                   "; semicolon comment\r\n"
	                   "prefix: colon  \r\n"
	                   "state_dir = /a;b ; trailing comment\r\n"
	                   "timezone =   Europe/Berlin   \r\n"
	                   "log_level = debug") == 0) {
		CHECK_STR(cfg.prefix, "colon");
		CHECK_STR(cfg.state_dir, "/a;b");
		CHECK_STR(cfg.timezone, "Europe/Berlin");
		CHECK_STR(cfg.log_level, "debug");
	}
	config_free(&cfg);
}

static void test_repeated_key_keeps_the_last_value(void)
{
	struct config cfg;

	if (load_one(&cfg, "prefix = a\nprefix = b\nsession_idle = 1m\nsession_idle = 2m\n") == 0) {
		CHECK_STR(cfg.prefix, "b");
		CHECK_INT(cfg.session_idle_ms, 120000);
	}
	config_free(&cfg);
}

static void test_repeated_input_appends_and_empty_input_clears(void)
{
	struct config cfg;

	if (load_one(&cfg, "input = /var/log/cs/a.log\n"
	                   "[more]\n"
	                   "input = /var/log/cs/b*.log\n"
	                   "input = /var/log/cs/c.log\n") == 0) {
		CHECK_INT(cfg.input_count, 3);
		if (cfg.input_count == 3) {
			CHECK_STR(cfg.inputs[0], "/var/log/cs/a.log");
			CHECK_STR(cfg.inputs[1], "/var/log/cs/b*.log");
			CHECK_STR(cfg.inputs[2], "/var/log/cs/c.log");
		}
	}
	config_free(&cfg);
	if (load_one(&cfg, "input = /a\ninput = /b\ninput =\ninput = /c\n") == 0) {
		CHECK_INT(cfg.input_count, 1);
		if (cfg.input_count == 1)
			CHECK_STR(cfg.inputs[0], "/c");
	}
	config_free(&cfg);
}

static void test_load_reads_a_file_and_reports_a_missing_one(void)
{
	char path[] = "/tmp/test_config_XXXXXX", err[512] = "";
	struct config cfg;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("prefix = fromfile\nsession_idle = x\n", f);
	fclose(f);
	config_defaults(&cfg);
	CHECK_INT(config_load(&cfg, path, err, sizeof(err)), -1);
	CHECK_STR(cfg.prefix, "fromfile");
	{
		char want[512];
		snprintf(want, sizeof(want),
		         "%s:2: session_idle: expected a whole number, not \"x\"", path);
		CHECK_STR(err, want);
	}
	config_free(&cfg);
	unlink(path);

	config_defaults(&cfg);
	CHECK_INT(config_load(&cfg, "/nonexistent/chatlogd.conf", err, sizeof(err)), -1);
	CHECK_STR(err, "/nonexistent/chatlogd.conf: No such file or directory");
	config_free(&cfg);
}

/* ---- every error of a file (--check-config) ----------------------------------------------------
 */

struct collected {
	int count;
	char text[16384]; /* the messages, one per line */
};

static void collect(void *ctx, const char *message)
{
	struct collected *c = ctx;
	size_t used = strlen(c->text);

	c->count++;
	snprintf(c->text + used, sizeof(c->text) - used, "%s\n", message);
}

static int load_all(struct config *cfg, const char *text, size_t len, struct collected *c)
{
	memset(c, 0, sizeof(*c));
	return config_load_buffer_all(cfg, "c.conf", text, len, collect, c);
}

/* Bad values, unknown keys and syntax errors, in any order: every one, by line,
 * where config_load_buffer stops at the first. */
static void test_load_all_lists_every_error_in_line_order(void)
{
	static const char text[] = "session_idle = soon\n"
	                           "frt_target_ms = 8000\n"
	                           "bogus_key = 1\n"
	                           "this line is no setting\n"
	                           "[shop a\n"
	                           "input = /var/log/cs/*.jsonl\n"
	                           "flush_interval_ms = -5\n"
	                           "  # fine\n"
	                           "max_pending_bytes = 1K\n"
	                           "also junk\n";
	struct config cfg;
	struct collected c;
	char err[256];

	config_defaults(&cfg);
	CHECK_INT(load_all(&cfg, text, strlen(text), &c), 7);
	CHECK_INT(c.count, 7);
	CHECK_STR(c.text, "c.conf:1: session_idle: expected a whole number, not \"soon\"\n"
	                  "c.conf:3: bogus_key: unknown key\n"
	                  "c.conf:4: expected key = value, [section] or a comment\n"
	                  "c.conf:5: expected key = value, [section] or a comment\n"
	                  "c.conf:7: flush_interval_ms: must not be negative\n"
	                  "c.conf:9: max_pending_bytes: 1K is out of range (1M to 64G)\n"
	                  "c.conf:10: expected key = value, [section] or a comment\n");
	/* cfg is left as it was: the good lines of a bad file are not half applied */
	CHECK_INT(cfg.frt_target_ms, 6000);
	CHECK_INT(cfg.input_count, 0);
	/* the single-error reader still stops at the first */
	CHECK_INT(load(&cfg, text, err, sizeof(err)), -1);
	CHECK_STR(err, "c.conf:1: session_idle: expected a whole number, not \"soon\"");
	config_free(&cfg);
}

/* The lines config_reader refuses (a NUL byte, longer than libinih reads) are errors
 * of their own, and reading goes on after them. */
static void test_load_all_goes_on_after_nul_and_long_lines(void)
{
	char text[1024];
	size_t len = 0;
	struct config cfg;
	struct collected c;

	len += (size_t)snprintf(text + len, sizeof(text) - len, "prefix = a\n");
	memcpy(text + len, "prefix = b\0c\n", 13);
	len += 13;
	len += (size_t)snprintf(text + len, sizeof(text) - len, "prefix = %0300d\n", 7);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "day_ttl = never\n");
	config_defaults(&cfg);
	CHECK_INT(load_all(&cfg, text, len, &c), 3);
	CHECK_STR(c.text, "c.conf:2: NUL byte\n"
	                  "c.conf:3: line longer than 198 bytes\n"
	                  "c.conf:4: day_ttl: expected a whole number, not \"never\"\n");
	config_free(&cfg);
}

/* A clean file loads into cfg exactly as config_load_buffer loads it. */
static void test_load_all_of_a_clean_file_loads_it(void)
{
	static const char text[] = "frt_target_ms = 8000\ninput = /a/*.jsonl\ninput = /b/*.jsonl\n"
	                           "[shop s1]\nservice_hours = mon-fri 09:00-18:00\n";
	struct config cfg;
	struct collected c;

	config_defaults(&cfg);
	CHECK_INT(load_all(&cfg, text, strlen(text), &c), 0);
	CHECK_STR(c.text, "");
	CHECK_INT(cfg.frt_target_ms, 8000);
	CHECK_INT(cfg.input_count, 2);
	CHECK_INT(cfg.shop_count, 1);
	config_free(&cfg);
}

/* A file that is no settings file at all: the first LIMIT_CONFIG_ERRORS errors, then
 * one line saying there are more. Bad values are all found in one pass (a log line
 * `{"ts": 1}` reads as key `{"ts"`); syntax errors one per pass, which stop there. */
static void test_load_all_stops_listing_past_the_limit(void)
{
	char *text = malloc(64 * 1024), want[128];
	size_t len = 0;
	struct config cfg;
	struct collected c;

	for (int i = 0; i < 3 * LIMIT_CONFIG_ERRORS; i++)
		len += (size_t)snprintf(text + len, 64 * 1024 - len, "{\"ts\": %d}\n", i);
	config_defaults(&cfg);
	CHECK_INT(load_all(&cfg, text, len, &c), 3 * LIMIT_CONFIG_ERRORS);
	CHECK_INT(c.count, LIMIT_CONFIG_ERRORS + 1);
	len = 0;
	for (int i = 0; i < 3 * LIMIT_CONFIG_ERRORS; i++)
		len += (size_t)snprintf(text + len, 64 * 1024 - len, "junk %d\n", i);
	CHECK_INT(load_all(&cfg, text, len, &c), LIMIT_CONFIG_ERRORS + 1);
	CHECK_INT(c.count, LIMIT_CONFIG_ERRORS + 1);
	snprintf(want, sizeof(want), "c.conf: more than %d errors; the first %d are above\n",
	         LIMIT_CONFIG_ERRORS, LIMIT_CONFIG_ERRORS);
	CHECK(strlen(c.text) > strlen(want) &&
	      strcmp(c.text + strlen(c.text) - strlen(want), want) == 0);
	snprintf(want, sizeof(want), "c.conf:%d: expected", LIMIT_CONFIG_ERRORS);
	CHECK(strstr(c.text, want) != NULL);
	config_free(&cfg);
	free(text);
}

static void test_load_all_reports_an_unreadable_file_as_one_error(void)
{
	struct config cfg;
	struct collected c = {0};

	config_defaults(&cfg);
	CHECK_INT(config_load_all(&cfg, "/nonexistent/chatlogd.conf", collect, &c), 1);
	CHECK_STR(c.text, "/nonexistent/chatlogd.conf: No such file or directory\n");
	config_free(&cfg);
}

static void check_round_trip(const struct config *cfg);

/* ---- config_set -------------------------------------------------------------------------------
 */

static void test_config_set_reads_values_like_a_file_line(void)
{
	struct config cfg;
	char err[256] = "";

	config_defaults(&cfg);
	CHECK_INT(config_set(&cfg, "session_idle", "  15m\t", err, sizeof(err)), 0);
	CHECK_INT(cfg.session_idle_ms, 900000);
	CHECK_INT(config_set(&cfg, "frt_target_ms", "8000", err, sizeof(err)), 0);
	CHECK_INT(cfg.frt_target_ms, 8000);
	CHECK_INT(config_set(&cfg, "patterns", " /tmp/p.conf ", err, sizeof(err)), 0);
	CHECK_STR(cfg.patterns, "/tmp/p.conf");
	CHECK_INT(config_set(&cfg, "input", "/a", err, sizeof(err)), 0);
	CHECK_INT(config_set(&cfg, "input", "/b", err, sizeof(err)), 0);
	CHECK_INT(cfg.input_count, 2);
	CHECK_INT(config_set(&cfg, "max_pending_bytes", "1G", err, sizeof(err)), 0);
	CHECK_INT(cfg.max_pending_bytes, 1073741824LL);
	config_free(&cfg);
}

static void test_config_set_errors_leave_the_field_unchanged(void)
{
	struct config cfg;
	char err[256] = "";

	config_defaults(&cfg);
	CHECK_INT(config_set(&cfg, "session_idle", "-1", err, sizeof(err)), -1);
	CHECK_STR(err, "session_idle: must not be negative");
	CHECK_INT(cfg.session_idle_ms, 600000);
	CHECK_INT(config_set(&cfg, "log_level", "loud", err, sizeof(err)), -1);
	CHECK_STR(err, "log_level: expected err, warning, info or debug");
	CHECK_STR(cfg.log_level, "info");
	CHECK_INT(config_set(&cfg, "prefx", "x", err, sizeof(err)), -1);
	CHECK_STR(err, "prefx: unknown key (did you mean prefix?)");
	CHECK_INT(config_set(&cfg, "state_dir", "/a\nb", err, sizeof(err)), -1);
	CHECK_STR(err, "state_dir: control character in value");
	CHECK_INT(config_set(&cfg, "state_dir", "/a ;b", err, sizeof(err)), -1);
	CHECK_STR(err, "state_dir: ';' at the start or after a blank would begin a comment in a "
	               "config file");
	CHECK_INT(config_set(&cfg, "state_dir", ";b", err, sizeof(err)), -1);
	CHECK_STR(cfg.state_dir, "/var/lib/chatlogd");
	{
		/* A value that config_dump could not write on one readable line. */
		char long_value[300];
		memset(long_value, 'a', sizeof(long_value) - 1);
		long_value[0] = '/';
		long_value[sizeof(long_value) - 1] = '\0';
		CHECK_INT(config_set(&cfg, "state_dir", long_value, err, sizeof(err)), -1);
		CHECK_STR(err, "state_dir: value longer than a config line allows (186 bytes)");
		long_value[186] = '\0';
		CHECK_INT(config_set(&cfg, "state_dir", long_value, err, sizeof(err)), 0);
		check_round_trip(&cfg);
	}
	CHECK_INT(config_set(&cfg, "input", "/x\ty", err, sizeof(err)), -1);
	CHECK_INT(cfg.input_count, 0);
	config_free(&cfg);
}

/* ---- dump and round trip --------------------------------------------------------------------- */

static void check_round_trip(const struct config *cfg)
{
	char *text = dump_to_string(cfg), err[512] = "";
	struct config back;

	CHECK(text != NULL);
	if (text == NULL)
		return;
	config_defaults(&back);
	CHECK_INT(load(&back, text, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK(config_equal(cfg, &back));
	if (!config_equal(cfg, &back))
		fprintf(stderr, "  dump was:\n%s\n", text);
	config_free(&back);
	free(text);
}

static void test_dump_round_trips_the_defaults(void)
{
	struct config cfg;

	config_defaults(&cfg);
	check_round_trip(&cfg);
	config_free(&cfg);
}

static void test_dump_round_trips_changed_values(void)
{
	static const char *const sets[][2] = {
	    {"format", "regex:/etc/chatlogd/formats/plain.re"},
	    {"patterns", "none"},
	    {"input", "/var/log/cs/a.log"},
	    {"input", "/var/log/客服/*.log"},
	    {"max_line_bytes", "1000"},
	    {"timezone", "UTC"},
	    {"batch_threads", "1"},
	    {"frt_target_ms", "6001"},
	    {"art_target_ms", "1m"},
	    {"session_idle", "1500ms"},
	    {"order_window", "25h"},
	    {"alert_window", "61s"},
	    {"alert_min_samples", "7"},
	    {"alert_webhook", "https://example.com/hook?a=b;c=d"},
	    {"alert_webhook_ca_file", "/etc/chatlogd/robot-ca.pem"},
	    {"alert_robot", "feishu"},
	    {"alert_webhook_secret_file", "/etc/chatlogd/robot.secret"},
	    {"alert_robot_per_minute", "10"},
	    {"alert_mentions_file", "/etc/chatlogd/mentions.tsv"},
	    {"alert_language", "en"},
	    {"alert_escalate_webhook", "https://oapi.dingtalk.com/robot/send?access_token=x"},
	    {"alert_escalate_robot", "dingtalk"},
	    {"alert_escalate_secret_file", "/etc/chatlogd/escalate.secret"},
	    {"escalate_after", "2m"},
	    {"redis", "redis://u:p@h:1/2"},
	    {"redis_password_file", "/etc/chatlogd/pass"},
	    {"prefix", "cs:prod"},
	    {"flush_interval_ms", "60000"},
	    {"minute_ttl", "3650d"},
	    {"day_ttl", "1d"},
	    {"max_pending_bytes", "1048577"},
	    {"state_dir", "/srv/a=b"},
	    {"http_listen", ""},
	    {"log_level", "err"},
	    {"service_hours", "mon-fri 09:00-18:00, sat 10:00-16:00"},
	    {"assessment_counters", "on"},
	    {"slow_response", "90s"},
	    {"returning_window", "180d"},
	};
	struct config cfg;
	char err[256];

	config_defaults(&cfg);
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		int rc = config_set(&cfg, sets[i][0], sets[i][1], err, sizeof(err));
		if (rc != 0)
			fprintf(stderr, "  %s\n", err);
		CHECK_INT(rc, 0);
	}
	check_round_trip(&cfg);
	config_free(&cfg);
}

static void test_dump_lists_every_key(void)
{
	struct config cfg;
	char *text;

	config_defaults(&cfg);
	text = dump_to_string(&cfg);
	CHECK(text != NULL);
	for (size_t i = 0; text != NULL && i < sizeof(all_keys) / sizeof(all_keys[0]); i++) {
		char needle[64];
		snprintf(needle, sizeof(needle), "\n%s =", all_keys[i]);
		if (strstr(text, needle) == NULL) {
			snprintf(needle, sizeof(needle), "\n#%s =", all_keys[i]);
			CHECK(strstr(text, needle) != NULL);
		}
	}
	CHECK(text != NULL && strstr(text, "\nsession_idle = 10m\n") != NULL);
	CHECK(text != NULL && strstr(text, "\nmax_pending_bytes = 256M\n") != NULL);
	CHECK(text != NULL && strstr(text, "\nfrt_target_ms = 6000\n") != NULL);
	CHECK(text != NULL && strstr(text, "\npatterns =\n") != NULL);
	free(text);
	config_free(&cfg);
}

/* ---- the shipped example ----------------------------------------------------------------------
 */

/* systemd/chatlogd.conf shows every key commented out with its default: as shipped it
 * changes nothing, and with the `#key = value` lines uncommented it still changes
 * nothing (so the defaults it shows are the real ones). */
static void test_example_config_shows_every_key_with_its_default(void)
{
	FILE *f = fopen(EXAMPLE, "r");
	char line[512], err[512] = "", *active = NULL;
	size_t active_size = 0, found = 0;
	FILE *out = open_memstream(&active, &active_size);
	struct config defaults, as_shipped, uncommented;
	int seen[sizeof(all_keys) / sizeof(all_keys[0])] = {0};

	CHECK(f != NULL && out != NULL);
	if (f == NULL || out == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t key_len = strcspn(line + 1, " =");
		if (line[0] != '#')
			continue;
		for (size_t i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++)
			if (strlen(all_keys[i]) == key_len &&
			    strncmp(line + 1, all_keys[i], key_len) == 0 &&
			    strstr(line, " =") == line + 1 + key_len) {
				if (!seen[i]++)
					found++;
				if (strcmp(all_keys[i], "input") != 0)
					fputs(line + 1, out);
			}
	}
	fclose(f);
	fclose(out);
	CHECK_INT(found, sizeof(all_keys) / sizeof(all_keys[0]));
	for (size_t i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++)
		if (!seen[i])
			fprintf(stderr, "  %s missing from %s\n", all_keys[i], EXAMPLE);

	config_defaults(&defaults);
	config_defaults(&as_shipped);
	config_defaults(&uncommented);
	CHECK_INT(config_load(&as_shipped, EXAMPLE, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK(config_equal(&defaults, &as_shipped));
	CHECK_INT(config_load_buffer(&uncommented, "uncommented", active, strlen(active), err,
	                             sizeof(err)),
	          0);
	CHECK_STR(err, "");
	CHECK(config_equal(&defaults, &uncommented));
	config_free(&defaults);
	config_free(&as_shipped);
	config_free(&uncommented);
	free(active);
}

int main(void)
{
	RUN(test_defaults_are_the_documented_ones);
	RUN(test_free_zeroes_and_accepts_a_zeroed_struct);
	RUN(test_every_key_loads_from_a_file);
	RUN(test_duration_units_for_a_seconds_key);
	RUN(test_duration_units_for_a_milliseconds_key);
	RUN(test_size_suffixes_are_binary_and_any_case);
	RUN(test_bounds_are_inclusive);
	RUN(test_out_of_range_values_name_the_range);
	RUN(test_number_errors);
	RUN(test_string_checks);
	RUN(test_errors_carry_file_and_line);
	RUN(test_first_error_in_the_file_wins);
	RUN(test_nul_byte_and_long_line_are_refused);
	RUN(test_sections_are_ignored_and_keys_may_stand_anywhere);
	RUN(test_shop_sections_hold_service_hours);
	RUN(test_indented_lines_are_keys_not_continuations);
	RUN(test_comments_colons_bom_and_crlf);
	RUN(test_repeated_key_keeps_the_last_value);
	RUN(test_repeated_input_appends_and_empty_input_clears);
	RUN(test_load_reads_a_file_and_reports_a_missing_one);
	RUN(test_load_all_lists_every_error_in_line_order);
	RUN(test_load_all_goes_on_after_nul_and_long_lines);
	RUN(test_load_all_of_a_clean_file_loads_it);
	RUN(test_load_all_stops_listing_past_the_limit);
	RUN(test_load_all_reports_an_unreadable_file_as_one_error);
	RUN(test_config_set_reads_values_like_a_file_line);
	RUN(test_config_set_errors_leave_the_field_unchanged);
	RUN(test_dump_round_trips_the_defaults);
	RUN(test_dump_round_trips_changed_values);
	RUN(test_dump_lists_every_key);
	RUN(test_example_config_shows_every_key_with_its_default);
	return check_done();
}
