/*
 * chatlogctl: the scoreboard for people. It reads only what chatlogd published to
 * Redis (reference.md §6, §7), never the daemon's memory: `top`, `agent NAME`, `alerts
 * [--follow]` and `report`, as text aligned by terminal display width or as one
 * JSON object (--json). Numbers and judgements come from scoreboard.c, the reads
 * from ctl_redis.c; this file owns the options and the layout. docs/chatlogctl.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chatlogd/clock.h"
#include "chatlogd/assess.h"
#include "chatlogd/config.h"
#include "chatlogd/counters.h"
#include "chatlogd/ctl_assess.h"
#include "chatlogd/ctl_json.h"
#include "chatlogd/ctl_redis.h"
#include "chatlogd/ctl_rows.h"
#include "chatlogd/ctl_serve.h"
#include "chatlogd/display.h"
#include "chatlogd/rules.h"
#include "chatlogd/scoreboard.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"
#include "chatlogd/windows.h"

#define EXIT_REDIS 1 /* Redis unreachable, refused us, or answered an error */
#define EXIT_USAGE 2 /* bad options, settings or patterns */

#define CTL_DEFAULT_CONFIG "/etc/chatlogd/chatlogd.conf"
#define CTL_DEFAULT_RULES "/etc/chatlogd/assess.conf"
/* assess --from/--to: longer than a year is a mistake, and 400 days is day_ttl. */
#define CTL_ASSESS_MAX_DAYS 400

/* A scoreboard is a handful of small reads: a Redis that does not answer within
 * this is down or stuck, and the person at the terminal should hear so. */
#define CTL_TIMEOUT_MS 5000
/* alerts --follow blocks this long per XREAD, so Ctrl-C ends it within a second. */
#define CTL_FOLLOW_BLOCK_MS 1000
#define CTL_RECENT_ALERTS 20
/* Lost reasons named next to the lost count in the tables. */
#define CTL_TOP_REASONS 3
/* Width of the longest histogram bar. */
#define CTL_BAR_WIDTH 40

enum ctl_command {
	COMMAND_TOP,
	COMMAND_AGENT,
	COMMAND_ALERTS,
	COMMAND_REPORT,
	COMMAND_ASSESS,
	COMMAND_SERVE
};

struct ctl_options {
	const char *config_path; /* NULL: CTL_DEFAULT_CONFIG if it exists */
	const char *redis, *password_file, *prefix, *shop, *patterns;
	const char *window; /* top: NULL means 1h */
	const char *day;    /* YYYY-MM-DD, or NULL */
	const char *agent;  /* agent NAME */
	/* assess */
	const char *month, *week, *from, *to, *report, *rules, *xlsx;
	int csv;
	/* serve */
	const char *listen, *token_file, *static_dir;
	int json, follow;
	enum ctl_command command;
};

/* What every command works with. */
struct ctl {
	struct ctl_redis *redis;
	struct rules *rules; /* lost-reason labels; NULL when none loaded */
	char day_key[9];     /* YYYYMMDD of --day or today in `timezone` */
	char day_label[11];  /* YYYY-MM-DD */
};

static volatile sig_atomic_t ctl_stop;

/* ---- usage ---- */

static void usage(FILE *out)
{
	fputs("usage: chatlogctl [--config FILE] [--redis URL] [--password-file FILE]\n"
	      "                  [--prefix P] [--shop SHOP] [--json] COMMAND ...\n"
	      "  top [--window 1m|5m|15m|1h|24h | --day YYYY-MM-DD]\n"
	      "                    scoreboard of each shop's agents (default window 1h)\n"
	      "  agent NAME [--day YYYY-MM-DD]\n"
	      "                    one agent: every window, the day, histograms, lost reasons\n"
	      "  alerts [--follow] active alerts and the latest of the alert log; --follow\n"
	      "                    prints new alerts as they come, until Ctrl-C\n"
	      "  report [--day YYYY-MM-DD] [--patterns FILE]\n"
	      "                    the day per shop: scoreboard, conversion and AOV quadrants,\n"
	      "                    lost reasons (default day: today in `timezone`)\n"
	      "  assess [--month YYYY-MM | --week YYYY-Www | --day YYYY-MM-DD |\n"
	      "          --from YYYY-MM-DD --to YYYY-MM-DD] [--rules FILE] [--report FILE]\n"
	      "         [--csv | --xlsx FILE]\n"
	      "                    the monthly assessment per agent and team: bands, bonus,\n"
	      "                    commission, tiers (default: last month; docs/assess.md)\n"
	      "  serve [--listen ADDR:PORT] [--token-file FILE] [--static-dir DIR]\n"
	      "                    the dashboard in the browser (default 127.0.0.1:9188; any\n"
	      "                    other address needs --token-file; docs/dashboard.md)\n"
	      "Settings come from --config FILE, else /etc/chatlogd/chatlogd.conf if present\n"
	      "(redis, redis_password_file, prefix, timezone, patterns); options override them.\n"
	      "Exit status: 0 done, 1 Redis unreachable or failing, 2 usage or settings error.\n",
	      out);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("chatlogctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(chatlogctl --help for usage)\n", stderr);
	exit(EXIT_USAGE);
}

/* ---- options and settings ---- */

static int valid_window(const char *w)
{
	for (size_t i = 0; i < WINDOW_COUNT; i++)
		if (strcmp(w, windows_name(i)) == 0)
			return 1;
	return 0;
}

/* YYYY-MM-DD of a real calendar day into YYYYMMDD. */
static int parse_day(const char *text, char key[9])
{
	int64_t day;

	if (assess_parse_day(text, &day) == -1)
		return -1;
	memcpy(key, text, 4); /* a valid day is exactly YYYY-MM-DD */
	memcpy(key + 4, text + 5, 2);
	memcpy(key + 6, text + 8, 2);
	key[8] = '\0';
	return 0;
}

static void parse_options(int argc, char **argv, struct ctl_options *o)
{
	enum {
		OPT_CONFIG = 256,
		OPT_REDIS,
		OPT_PASSWORD_FILE,
		OPT_PREFIX,
		OPT_SHOP,
		OPT_PATTERNS,
		OPT_WINDOW,
		OPT_DAY,
		OPT_JSON,
		OPT_FOLLOW,
		OPT_HELP,
		OPT_MONTH,
		OPT_WEEK,
		OPT_FROM,
		OPT_TO,
		OPT_REPORT,
		OPT_RULES,
		OPT_CSV,
		OPT_XLSX,
		OPT_LISTEN,
		OPT_TOKEN_FILE,
		OPT_STATIC_DIR,
	};
	static const struct option options[] = {
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"redis", required_argument, NULL, OPT_REDIS},
	    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
	    {"prefix", required_argument, NULL, OPT_PREFIX},
	    {"shop", required_argument, NULL, OPT_SHOP},
	    {"patterns", required_argument, NULL, OPT_PATTERNS},
	    {"window", required_argument, NULL, OPT_WINDOW},
	    {"day", required_argument, NULL, OPT_DAY},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"follow", no_argument, NULL, OPT_FOLLOW},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"month", required_argument, NULL, OPT_MONTH},
	    {"week", required_argument, NULL, OPT_WEEK},
	    {"from", required_argument, NULL, OPT_FROM},
	    {"to", required_argument, NULL, OPT_TO},
	    {"report", required_argument, NULL, OPT_REPORT},
	    {"rules", required_argument, NULL, OPT_RULES},
	    {"csv", no_argument, NULL, OPT_CSV},
	    {"xlsx", required_argument, NULL, OPT_XLSX},
	    {"listen", required_argument, NULL, OPT_LISTEN},
	    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
	    {"static-dir", required_argument, NULL, OPT_STATIC_DIR},
	    {NULL, 0, NULL, 0},
	};
	const char *command;
	char key[9];
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			o->config_path = optarg;
			break;
		case OPT_REDIS:
			o->redis = optarg;
			break;
		case OPT_PASSWORD_FILE:
			o->password_file = optarg;
			break;
		case OPT_PREFIX:
			o->prefix = optarg;
			break;
		case OPT_SHOP:
			o->shop = optarg;
			break;
		case OPT_PATTERNS:
			o->patterns = optarg;
			break;
		case OPT_WINDOW:
			o->window = optarg;
			break;
		case OPT_DAY:
			o->day = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_FOLLOW:
			o->follow = 1;
			break;
		case OPT_MONTH:
			o->month = optarg;
			break;
		case OPT_WEEK:
			o->week = optarg;
			break;
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_TO:
			o->to = optarg;
			break;
		case OPT_REPORT:
			o->report = optarg;
			break;
		case OPT_RULES:
			o->rules = optarg;
			break;
		case OPT_CSV:
			o->csv = 1;
			break;
		case OPT_XLSX:
			o->xlsx = optarg;
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case OPT_STATIC_DIR:
			o->static_dir = optarg;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(EXIT_SUCCESS);
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("no command (top, agent, alerts, report, assess or serve)");
	command = argv[optind++];
	if (strcmp(command, "top") == 0)
		o->command = COMMAND_TOP;
	else if (strcmp(command, "agent") == 0)
		o->command = COMMAND_AGENT;
	else if (strcmp(command, "alerts") == 0)
		o->command = COMMAND_ALERTS;
	else if (strcmp(command, "report") == 0)
		o->command = COMMAND_REPORT;
	else if (strcmp(command, "assess") == 0)
		o->command = COMMAND_ASSESS;
	else if (strcmp(command, "serve") == 0)
		o->command = COMMAND_SERVE;
	else
		usage_error("unknown command \"%s\" (top, agent, alerts, report, assess or serve)",
		            command);
	if (o->command == COMMAND_AGENT) {
		if (optind >= argc || argv[optind][0] == '\0')
			usage_error("agent needs a NAME");
		o->agent = argv[optind++];
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);

	if (o->window != NULL && o->command != COMMAND_TOP)
		usage_error("--window is for top");
	if (o->window != NULL && o->day != NULL)
		usage_error("top takes --window or --day, not both");
	if (o->window != NULL && !valid_window(o->window))
		usage_error("--window must be one of 1m 5m 15m 1h 24h");
	if (o->day != NULL && o->command == COMMAND_ALERTS)
		usage_error("--day is for top, agent and report");
	if (o->day != NULL && parse_day(o->day, key) == -1)
		usage_error("--day must be a date YYYY-MM-DD");
	if (o->follow && o->command != COMMAND_ALERTS)
		usage_error("--follow is for alerts");
	if (o->shop != NULL && o->shop[0] == '\0')
		usage_error("--shop needs a shop name");
	if (o->command != COMMAND_ASSESS &&
	    (o->month || o->week || o->from || o->to || o->report || o->rules || o->csv || o->xlsx))
		usage_error(
		    "--month, --week, --from, --to, --report, --rules, --csv and --xlsx are "
		    "for assess");
	if (o->command == COMMAND_ASSESS && (o->month != NULL) + (o->week != NULL) +
	                                            (o->day != NULL) +
	                                            (o->from != NULL || o->to != NULL) >
	                                        1)
		usage_error("assess takes one period: --month, --week, --day or --from/--to");
	if ((o->from == NULL) != (o->to == NULL))
		usage_error("--from and --to go together");
	if (o->command != COMMAND_SERVE && (o->listen || o->token_file || o->static_dir))
		usage_error("--listen, --token-file and --static-dir are for serve");
	if (o->command == COMMAND_SERVE && (o->json || o->day || o->shop))
		usage_error("serve takes no --json, --day or --shop (the page chooses)");
	if (o->json + o->csv + (o->xlsx != NULL) > 1)
		usage_error("one output: --json, --csv or --xlsx FILE");
}

/* Settings: the defaults, the file, then the options. Exits 2 on a bad one. */
static void load_settings(const struct ctl_options *o, struct config *cfg)
{
	const char *path = o->config_path;
	char err[512];

	config_defaults(cfg);
	if (path == NULL && access(CTL_DEFAULT_CONFIG, F_OK) == 0) {
		path = CTL_DEFAULT_CONFIG;
		if (access(path, R_OK) == -1) {
			ctl_error("warning: cannot read %s (%s); using the defaults", path,
			          strerror(errno));
			path = NULL;
		}
	}
	if (path != NULL && config_load(cfg, path, err, sizeof(err)) == -1)
		usage_error("%s", err);
	if ((o->redis != NULL && config_set(cfg, "redis", o->redis, err, sizeof(err)) == -1) ||
	    (o->password_file != NULL &&
	     config_set(cfg, "redis_password_file", o->password_file, err, sizeof(err)) == -1) ||
	    (o->prefix != NULL && config_set(cfg, "prefix", o->prefix, err, sizeof(err)) == -1) ||
	    (o->patterns != NULL &&
	     config_set(cfg, "patterns", o->patterns, err, sizeof(err)) == -1))
		usage_error("%s", err);
	if (timefmt_set_timezone(cfg->timezone) == -1)
		usage_error("timezone %s: unknown to the system's tz database", cfg->timezone);
}

/* The lost-reason labels: --patterns (or the `patterns` setting) must load; the
 * shipped file is a nicety, and without it reasons show by name only. */
static void load_labels(struct ctl *ctl, const struct config *cfg, int explicit_patterns)
{
	static const char *const candidates[] = {
	    "/etc/chatlogd/lost-reasons.conf",
	    CHATLOGD_DATADIR "/lost-reasons.conf",
	    CHATLOGD_SOURCE_PATTERNS,
	};
	const char *path = NULL;
	char err[512];

	if (strcmp(cfg->patterns, "none") == 0)
		return;
	if (cfg->patterns[0] != '\0') {
		path = cfg->patterns;
	} else {
		for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
			if (access(candidates[i], R_OK) == 0) {
				path = candidates[i];
				break;
			}
	}
	if (path == NULL)
		return;
	if ((ctl->rules = rules_load(path, err, sizeof(err))) == NULL) {
		if (explicit_patterns)
			usage_error("%s", err);
		ctl_error("warning: %s; lost reasons show without labels", err);
	}
}

/* ---- lost reasons ---- */

static const char *reason_label(const struct ctl *ctl, const char *reason)
{
	return ctl_rows_reason_label(ctl->rules, reason);
}

/* The name of a ranked reason, from the registry the counters were read with. */
static const char *reason_name(const struct ctl *ctl, const struct scoreboard_reason *ranked)
{
	return ctl_redis_reasons(ctl->redis)->names[ranked->id];
}

/* "price 4, out_of_stock 2, no_reply 1": the most frequent reasons. */
static void top_reasons_text(const struct ctl *ctl, const int64_t *value, char *out, size_t size)
{
	struct scoreboard_reason ranked[CTL_TOP_REASONS];
	unsigned n =
	    scoreboard_rank_reasons(value, ctl_redis_reasons(ctl->redis), ranked, CTL_TOP_REASONS);
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s %" PRId64, i ? ", " : "",
		                         reason_name(ctl, &ranked[i]), ranked[i].count);
}

/* ---- text layout ---- */

static size_t name_width(const struct ctl_shop *shop, size_t least)
{
	size_t width = least, w;

	for (size_t i = 0; i < shop->agent_count; i++)
		if ((w = display_width(shop->agents[i].label, strlen(shop->agents[i].label))) >
		    width)
			width = w;
	return width;
}

static void table_header(FILE *out, size_t width)
{
	fputs("  ", out);
	display_pad(out, "agent", width);
	fprintf(out, " %9s %9s %7s %6s %6s %5s %7s %6s %6s %5s %7s %7s %7s %10s %5s  %s\n",
	        "inquiries", "post-sale", "FRT avg", "p50", "p90", "late", "ART avg", "p50", "p90",
	        "late", "reply", "conv", "paid/o", "AOV", "lost", "top lost reasons");
}

/* One scoreboard line; marker is '!' for an agent in alert. */
static void table_row(FILE *out, const struct ctl *ctl, const struct ctl_row *row, size_t width,
                      char marker)
{
	const int64_t *v = row->value;
	struct ctl_row_text t;
	char reasons[256];

	ctl_rows_text(v, &t);
	top_reasons_text(ctl, v, reasons, sizeof(reasons));
	fprintf(out, "%c ", marker);
	display_pad(out, row->label, width);
	fprintf(out,
	        " %9" PRId64 " %9" PRId64 " %7s %6s %6s %5" PRId64 " %7s %6s %6s %5" PRId64
	        " %7s %7s %7s %10s %5" PRId64,
	        v[COUNTER_INQUIRIES], v[COUNTER_POST_SALE], t.frt_avg, t.frt_p50, t.frt_p90,
	        v[COUNTER_FRT_BREACHES], t.art_avg, t.art_p50, t.art_p90,
	        v[COUNTER_RESPONSE_BREACHES], t.reply, t.conversion, t.pay_conversion, t.aov,
	        v[COUNTER_LOST]);
	if (reasons[0] != '\0')
		fprintf(out, "  %s", reasons);
	fputc('\n', out);
}

/* The agents and the shop row; markers only where alerts count (top). */
static void table_print(FILE *out, const struct ctl *ctl, const struct ctl_shop *shop, int markers)
{
	size_t width = name_width(shop, 6);

	table_header(out, width);
	for (size_t i = 0; i < shop->agent_count; i++)
		table_row(out, ctl, &shop->agents[i], width,
		          markers && shop->agents[i].alert != NULL ? '!' : ' ');
	table_row(out, ctl, &shop->total, width, ' ');
}

static const char ctl_legend[] =
    "p50/p90 \"<=5s\": at least half (90%) of the responses took at most 5 s (the upper bound\n"
    "of the histogram bucket that holds the percentile; \">300s\": more than 300 s).\n"
    "late: over the FRT / ART target. conv: ordered / inquiries. paid/o: paid / ordered.\n";

/* ---- JSON layout ---- */

static void json_row(struct ctl_json *j, const char *key, const struct ctl *ctl,
                     const struct ctl_row *row, int with_alert)
{
	ctl_rows_json(j, key, ctl_redis_reasons(ctl->redis), row, with_alert);
}

/* Ends the answer of top, agent and report: its "shops" array, the object that
 * holds it, and the line. */
static void json_end_shops(struct ctl_json *j)
{
	ctl_json_close(j, ']');
	ctl_json_close(j, '}');
	putchar('\n');
}

/* ---- top ---- */

static int command_top(struct ctl *ctl, const struct ctl_options *o)
{
	const char *window = o->window != NULL ? o->window : "1h";
	struct ctl_json j;
	char suffix[16], **shops;
	size_t count;
	int markers = 0, rc = 0;

	if (o->day != NULL)
		snprintf(suffix, sizeof(suffix), "d:%s", ctl->day_key);
	else
		snprintf(suffix, sizeof(suffix), "w:%s", window);
	if (ctl_redis_shops(ctl->redis, o->shop, &shops, &count) == -1)
		return -1;
	if (o->json) {
		ctl_json_init(&j, stdout);
		ctl_json_open(&j, NULL, '{');
		if (o->day != NULL)
			ctl_json_text(&j, "day", ctl->day_label);
		else
			ctl_json_text(&j, "window", window);
		ctl_json_open(&j, "shops", '[');
	} else if (count == 0) {
		printf("no shops in %s:shops yet\n", ctl_redis_prefix(ctl->redis));
	}
	for (size_t i = 0; i < count && rc == 0; i++) {
		struct ctl_shop shop;
		if ((rc = ctl_redis_shop(ctl->redis, shops[i], suffix, 1, &shop)) == -1) {
			ctl_shop_free(&shop);
			break;
		}
		if (o->json) {
			ctl_json_open(&j, NULL, '{');
			ctl_json_text(&j, "shop", shop.name);
			ctl_json_open(&j, "agents", '[');
			for (size_t k = 0; k < shop.agent_count; k++)
				json_row(&j, NULL, ctl, &shop.agents[k], 1);
			ctl_json_close(&j, ']');
			json_row(&j, "total", ctl, &shop.total, 0);
			ctl_json_close(&j, '}');
		} else {
			printf("%sshop %s  ", i ? "\n" : "", shop.label);
			if (o->day != NULL)
				printf("day %s\n", ctl->day_label);
			else if (shop.total.as_of[0] != '\0')
				printf("window %s  as of %s\n", window, shop.total.as_of);
			else
				printf("window %s\n", window);
			for (size_t k = 0; k < shop.agent_count; k++)
				markers |= shop.agents[k].alert != NULL;
			table_print(stdout, ctl, &shop, 1);
		}
		ctl_shop_free(&shop);
	}
	if (o->json) {
		json_end_shops(&j);
	} else if (rc == 0 && count > 0) {
		printf("\n%s%s", ctl_legend,
		       markers ? "! the agent is in alert now (chatlogctl alerts).\n" : "");
	}
	ctl_strings_free(shops, count);
	return rc;
}

/* ---- agent ---- */

/* The lost-reason breakdown of one row: reason, label, count, share of the lost. */
static void reasons_table(FILE *out, const struct ctl *ctl, const int64_t *value)
{
	struct scoreboard_reason ranked[LIMIT_REASONS];
	unsigned n =
	    scoreboard_rank_reasons(value, ctl_redis_reasons(ctl->redis), ranked, LIMIT_REASONS);
	size_t reason_width = 6, label_width = 5, w;
	int64_t lost = 0;
	char share[16];

	for (unsigned i = 0; i < n; i++) {
		const char *reason = reason_name(ctl, &ranked[i]);
		const char *label = reason_label(ctl, reason);
		lost += ranked[i].count;
		if ((w = strlen(reason)) > reason_width)
			reason_width = w;
		if (label != NULL && (w = display_width(label, strlen(label))) > label_width)
			label_width = w;
	}
	if (n == 0) {
		fputs("  (none)\n", out);
		return;
	}
	fputs("  ", out);
	display_pad(out, "reason", reason_width);
	fputs("  ", out);
	display_pad(out, "label", label_width);
	fprintf(out, " %6s %7s\n", "lost", "share");
	for (unsigned i = 0; i < n; i++) {
		const char *reason = reason_name(ctl, &ranked[i]);
		const char *label = reason_label(ctl, reason);
		fputs("  ", out);
		display_pad(out, reason, reason_width);
		fputs("  ", out);
		display_pad(out, label != NULL ? label : "-", label_width);
		fprintf(out, " %6" PRId64 " %7s\n", ranked[i].count,
		        scoreboard_format_percent(1, scoreboard_ratio_e4(ranked[i].count, lost),
		                                  share, sizeof(share)));
	}
}

static void json_reasons(struct ctl_json *j, const char *key, const struct ctl *ctl,
                         const int64_t *value)
{
	ctl_rows_json_reasons(j, key, ctl_redis_reasons(ctl->redis), ctl->rules, value);
}

/* Rows of the agent view: one metric per line, one column per period. */
enum agent_metric {
	METRIC_INQUIRIES,
	METRIC_FIRST_RESPONSES,
	METRIC_FRT_AVG,
	METRIC_FRT_P50,
	METRIC_FRT_P90,
	METRIC_FRT_LATE,
	METRIC_RESPONSES,
	METRIC_ART_AVG,
	METRIC_ART_P50,
	METRIC_ART_P90,
	METRIC_ART_LATE,
	METRIC_UNANSWERED,
	METRIC_REPLY_RATE,
	METRIC_CONVERSION,
	METRIC_PAY_CONVERSION,
	METRIC_AOV,
	METRIC_SALES,
	METRIC_LOST,
	METRIC_COUNT
};

/* Each row's name and, for the rows that show one counter as a number, which. */
static const struct {
	const char *name;
	int counter; /* a counter_id, or -1 where agent_cell works the cell out */
} agent_metrics[METRIC_COUNT] = {
    [METRIC_INQUIRIES] = {"inquiries", COUNTER_INQUIRIES},
    [METRIC_FIRST_RESPONSES] = {"first responses", COUNTER_FIRST_RESPONSES},
    [METRIC_FRT_AVG] = {"FRT avg", -1},
    [METRIC_FRT_P50] = {"FRT p50", -1},
    [METRIC_FRT_P90] = {"FRT p90", -1},
    [METRIC_FRT_LATE] = {"FRT late", COUNTER_FRT_BREACHES},
    [METRIC_RESPONSES] = {"responses", COUNTER_RESPONSES},
    [METRIC_ART_AVG] = {"ART avg", -1},
    [METRIC_ART_P50] = {"ART p50", -1},
    [METRIC_ART_P90] = {"ART p90", -1},
    [METRIC_ART_LATE] = {"ART late", COUNTER_RESPONSE_BREACHES},
    [METRIC_UNANSWERED] = {"unanswered", COUNTER_UNANSWERED},
    [METRIC_REPLY_RATE] = {"reply rate", -1},
    [METRIC_CONVERSION] = {"conversion", -1},
    [METRIC_PAY_CONVERSION] = {"paid/order", -1},
    [METRIC_AOV] = {"AOV", -1},
    [METRIC_SALES] = {"sales", -1},
    [METRIC_LOST] = {"lost", COUNTER_LOST},
};

static void agent_cell(enum agent_metric m, const int64_t *v, char *out, size_t size)
{
	struct scoreboard_percentile p;
	struct derived d;

	if (agent_metrics[m].counter >= 0) {
		snprintf(out, size, "%" PRId64, v[agent_metrics[m].counter]);
		return;
	}
	counters_derive(v, &d);
	switch (m) {
	case METRIC_FRT_AVG:
		scoreboard_format_seconds(d.has_frt_avg, d.frt_avg_ms, out, size);
		break;
	case METRIC_FRT_P50:
	case METRIC_FRT_P90:
		scoreboard_percentile(v + COUNTER_FRT_H, m == METRIC_FRT_P50 ? 50 : 90, &p);
		scoreboard_format_percentile(&p, out, size);
		break;
	case METRIC_ART_AVG:
		scoreboard_format_seconds(d.has_art_avg, d.art_avg_ms, out, size);
		break;
	case METRIC_ART_P50:
	case METRIC_ART_P90:
		scoreboard_percentile(v + COUNTER_RESP_H, m == METRIC_ART_P50 ? 50 : 90, &p);
		scoreboard_format_percentile(&p, out, size);
		break;
	case METRIC_REPLY_RATE:
		scoreboard_format_percent(d.has_reply_rate, d.reply_rate_e4, out, size);
		break;
	case METRIC_CONVERSION:
		scoreboard_format_percent(d.has_conversion, d.conversion_e4, out, size);
		break;
	case METRIC_PAY_CONVERSION:
		scoreboard_format_percent(d.has_pay_conversion, d.pay_conversion_e4, out, size);
		break;
	case METRIC_AOV:
		if (d.has_aov)
			counters_format_fen(d.aov_fen, out, size);
		else
			snprintf(out, size, "-");
		break;
	case METRIC_SALES:
		counters_format_fen(v[COUNTER_SALES_FEN], out, size);
		break;
	default: /* the counters shown as they are, above */
		break;
	}
}

/* A histogram as bars, longest CTL_BAR_WIDTH; every non-zero bucket shows a mark. */
static void histogram_bars(FILE *out, const char *title, const char *what, const char *day,
                           const int64_t *histogram)
{
	struct scoreboard_percentile p50, p90;
	char label[16], a[16], b[16];
	int64_t most = 0;

	scoreboard_percentile(histogram, 50, &p50);
	scoreboard_percentile(histogram, 90, &p90);
	fprintf(out, "%s, %s (%" PRId64 " %s", title, day, p50.samples, what);
	if (p50.present)
		fprintf(out, "; p50 %s, p90 %s", scoreboard_format_percentile(&p50, a, sizeof(a)),
		        scoreboard_format_percentile(&p90, b, sizeof(b)));
	fputs(")\n", out);
	for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
		if (histogram[i] > most)
			most = histogram[i];
	if (most == 0)
		return;
	for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
		int64_t bar = (histogram[i] * CTL_BAR_WIDTH + most - 1) / most;
		fprintf(out, "  %6s %6" PRId64 "%s",
		        scoreboard_bucket_label(i, label, sizeof(label)), histogram[i],
		        bar > 0 ? "  " : "");
		for (int64_t k = 0; k < bar; k++)
			fputc('#', out);
		fputc('\n', out);
	}
}

static void alert_summary(FILE *out, const char *raw, size_t len);

static void agent_text(const struct ctl *ctl, const struct ctl_row *periods, const char *shop_label,
                       const struct ctl_row *alert_row)
{
	char cell[32];

	printf("agent %s  shop %s\n", periods[0].label, shop_label);
	if (alert_row->alert != NULL) {
		fputs("! in alert: ", stdout);
		alert_summary(stdout, alert_row->alert, alert_row->alert_len);
	}
	printf("%-16s", "");
	for (size_t w = 0; w < WINDOW_COUNT; w++)
		printf(" %10s", windows_name(w));
	printf(" %11s\n", ctl->day_label);
	for (int m = 0; m < METRIC_COUNT; m++) {
		printf("%-16s", agent_metrics[m].name);
		for (size_t w = 0; w <= WINDOW_COUNT; w++) {
			agent_cell((enum agent_metric)m, periods[w].value, cell, sizeof(cell));
			printf(w < WINDOW_COUNT ? " %10s" : " %11s", cell);
		}
		putchar('\n');
	}
	for (size_t w = 0; w < WINDOW_COUNT; w++)
		if (periods[w].as_of[0] != '\0') {
			printf("windows as of %s\n", periods[w].as_of);
			break;
		}
	putchar('\n');
	histogram_bars(stdout, "FRT histogram", "first responses", ctl->day_label,
	               periods[WINDOW_COUNT].value + COUNTER_FRT_H);
	putchar('\n');
	histogram_bars(stdout, "ART histogram", "responses", ctl->day_label,
	               periods[WINDOW_COUNT].value + COUNTER_RESP_H);
	printf("\nlost reasons, %s (%" PRId64 " lost inquiries)\n", ctl->day_label,
	       periods[WINDOW_COUNT].value[COUNTER_LOST]);
	reasons_table(stdout, ctl, periods[WINDOW_COUNT].value);
}

/* Reads the agent's five windows and its day in one shop, and its active alert. */
static int agent_load(struct ctl *ctl, const char *shop, const char *agent, struct ctl_row *periods,
                      struct ctl_row *alert_row)
{
	struct ctl_periods p;

	ctl_periods_init(&p, ctl->day_key);
	return ctl_redis_agent(ctl->redis, shop, agent, p.list, CTL_PERIODS, periods, alert_row);
}

static int command_agent(struct ctl *ctl, const struct ctl_options *o)
{
	struct ctl_json j;
	struct ctl_row periods[WINDOW_COUNT + 1], alert_row;
	char **shops;
	size_t count, shown = 0;
	int rc = 0, found;

	if (ctl_redis_shops(ctl->redis, o->shop, &shops, &count) == -1)
		return -1;
	if (o->json) {
		ctl_json_init(&j, stdout);
		ctl_json_open(&j, NULL, '{');
		ctl_json_text(&j, "agent", o->agent);
		ctl_json_text(&j, "day", ctl->day_label);
		ctl_json_open(&j, "shops", '[');
	}
	for (size_t i = 0; i < count && rc == 0; i++) {
		char *shop_label;
		if ((found = ctl_redis_agent_in_shop(ctl->redis, shops[i], o->agent)) <= 0) {
			rc = found;
			continue;
		}
		if ((rc = agent_load(ctl, shops[i], o->agent, periods, &alert_row)) == 0) {
			shop_label = ctl_display(shops[i], strlen(shops[i]));
			if (o->json) {
				ctl_json_open(&j, NULL, '{');
				ctl_json_text(&j, "shop", shops[i]);
				ctl_json_alert(&j, "alert", alert_row.alert, alert_row.alert_len);
				ctl_json_open(&j, "windows", '{');
				for (size_t w = 0; w < WINDOW_COUNT; w++)
					json_row(&j, windows_name(w), ctl, &periods[w], 0);
				ctl_json_close(&j, '}');
				json_row(&j, "day", ctl, &periods[WINDOW_COUNT], 0);
				json_reasons(&j, "day_lost_reasons", ctl,
				             periods[WINDOW_COUNT].value);
				ctl_json_close(&j, '}');
			} else {
				if (shown > 0)
					putchar('\n');
				agent_text(ctl, periods, shop_label, &alert_row);
			}
			free(shop_label);
			shown++;
		}
		for (size_t w = 0; w <= WINDOW_COUNT; w++)
			ctl_row_free(&periods[w]);
		ctl_row_free(&alert_row);
	}
	if (o->json)
		json_end_shops(&j);
	ctl_strings_free(shops, count);
	if (rc == 0 && shown == 0) {
		char *name = ctl_display(o->agent, strlen(o->agent));
		ctl_error("agent %s is in no shop's agents set%s", name,
		          o->shop != NULL ? " (--shop)" : "");
		free(name);
		return -1;
	}
	return rc;
}

/* ---- alerts ---- */

/* "raised art 12.5s (target 10.0s, 7 samples in 300s) at TS" for one message. */
static void alert_summary(FILE *out, const char *raw, size_t len)
{
	struct scoreboard_alert a;
	char value[16], target[16];

	if (scoreboard_alert_parse(raw, len, &a) == -1) {
		char *shown = ctl_display(raw, len);
		fprintf(out, "(not an alert message) %s\n", shown);
		free(shown);
		return;
	}
	fprintf(out, "%s %s %s (target %s, %" PRId64 " samples in %" PRId64 "s) at %s\n", a.type,
	        a.metric, scoreboard_format_seconds(a.value_ms >= 0, a.value_ms, value, 16),
	        scoreboard_format_seconds(a.target_ms >= 0, a.target_ms, target, 16), a.samples,
	        a.window_s, a.ts);
}

/* One line of an alert table, its columns padded to widths. */
struct alert_line {
	char *time, *type, *metric, *shop, *agent, *detail; /* display-safe */
};

static void alert_line_make(struct alert_line *line, const char *raw, size_t len, const char *shop,
                            const char *agent)
{
	struct scoreboard_alert a;
	char value[16], target[16], *detail;

	if (scoreboard_alert_parse(raw, len, &a) == -1) {
		line->time = ctl_display("?", 1);
		line->type = ctl_display("?", 1);
		line->metric = ctl_display("?", 1);
		line->shop =
		    ctl_display(shop != NULL ? shop : "?", shop != NULL ? strlen(shop) : 1);
		line->agent =
		    ctl_display(agent != NULL ? agent : "?", agent != NULL ? strlen(agent) : 1);
		detail =
		    ctl_format("(not an alert message) %.*s", (int)(len > 200 ? 200 : len), raw);
		line->detail = ctl_display(detail, strlen(detail));
		free(detail);
		return;
	}
	line->time = ctl_display(a.ts, strlen(a.ts));
	line->type = ctl_display(a.type, strlen(a.type));
	line->metric = ctl_display(a.metric, strlen(a.metric));
	line->shop =
	    ctl_display(shop != NULL ? shop : a.shop, strlen(shop != NULL ? shop : a.shop));
	line->agent =
	    ctl_display(agent != NULL ? agent : a.agent, strlen(agent != NULL ? agent : a.agent));
	detail = ctl_format("%s, target %s, %" PRId64 " samples in %" PRId64 "s",
	                    scoreboard_format_seconds(a.value_ms >= 0, a.value_ms, value, 16),
	                    scoreboard_format_seconds(a.target_ms >= 0, a.target_ms, target, 16),
	                    a.samples, a.window_s);
	line->detail = ctl_display(detail, strlen(detail));
	free(detail);
}

static void alert_line_free(struct alert_line *line)
{
	free(line->time);
	free(line->type);
	free(line->metric);
	free(line->shop);
	free(line->agent);
	free(line->detail);
}

/* The padded columns of an alert table's line (or of its header). */
static void alert_columns_print(FILE *out, const char *const column[5], const size_t width[5])
{
	fputs("  ", out);
	for (int c = 0; c < 5; c++) {
		display_pad(out, column[c], width[c]);
		fputs("  ", out);
	}
}

static void alert_lines_print(FILE *out, const struct alert_line *lines, size_t count, int header)
{
	static const char *const titles[5] = {"time", "type", "metric", "shop", "agent"};
	size_t width[5] = {4, 4, 6, 4, 5}, w;

	for (size_t i = 0; i < count; i++) {
		const char *cols[5] = {lines[i].time, lines[i].type, lines[i].metric, lines[i].shop,
		                       lines[i].agent};
		for (int c = 0; c < 5; c++)
			if ((w = display_width(cols[c], strlen(cols[c]))) > width[c])
				width[c] = w;
	}
	if (header && count > 0) {
		alert_columns_print(out, titles, width);
		fputs("value\n", out);
	}
	for (size_t i = 0; i < count; i++) {
		const char *cols[5] = {lines[i].time, lines[i].type, lines[i].metric, lines[i].shop,
		                       lines[i].agent};
		alert_columns_print(out, cols, width);
		fprintf(out, "%s\n", lines[i].detail);
	}
	if (count == 0)
		fputs("  (none)\n", out);
}

static void on_stop(int sig)
{
	(void)sig;
	ctl_stop = 1;
}

/* Prints one alert of the stream as it arrives; 1 when stdout is gone. */
static int print_new_alert(void *ctx, const struct ctl_alert *alert)
{
	const int *json = ctx;

	if (*json) {
		struct ctl_json j;
		ctl_json_init(&j, stdout);
		ctl_json_open(&j, NULL, '{');
		ctl_json_text(&j, "id", alert->id);
		ctl_json_alert(&j, "alert", alert->json, alert->json_len);
		ctl_json_close(&j, '}');
		putchar('\n');
	} else {
		struct alert_line line;
		alert_line_make(&line, alert->json, alert->json_len, NULL, NULL);
		alert_lines_print(stdout, &line, 1, 0);
		alert_line_free(&line);
	}
	return fflush(stdout) == EOF || ferror(stdout);
}

/* Prints new alerts after last_id until SIGINT or SIGTERM. */
static int alerts_follow(struct ctl *ctl, char *last_id, size_t id_size, int json)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: a blocked read returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!json)
		printf("following %s:alerts:log (Ctrl-C to stop)\n", ctl_redis_prefix(ctl->redis));
	if (fflush(stdout) == EOF)
		return 0;
	return ctl_redis_follow_alerts(ctl->redis, last_id, id_size, CTL_FOLLOW_BLOCK_MS, &ctl_stop,
	                               print_new_alert, &json);
}

static void alerts_text(const char *title, const struct ctl_alert *alerts, size_t count)
{
	struct alert_line *lines = xcalloc(count, sizeof(*lines));

	puts(title);
	for (size_t i = 0; i < count; i++)
		alert_line_make(&lines[i], alerts[i].json, alerts[i].json_len, alerts[i].shop,
		                alerts[i].agent);
	alert_lines_print(stdout, lines, count, 1);
	for (size_t i = 0; i < count; i++)
		alert_line_free(&lines[i]);
	free(lines);
}

static int command_alerts(struct ctl *ctl, const struct ctl_options *o)
{
	struct ctl_alert *active = NULL, *recent = NULL;
	size_t shop_count, active_count = 0, recent_count = 0;
	char **shops, last_id[64], *title;
	struct ctl_json j;
	int rc = -1;

	if (ctl_redis_shops(ctl->redis, o->shop, &shops, &shop_count) == -1)
		return -1;
	for (size_t i = 0; i < shop_count; i++) {
		struct ctl_alert *more;
		size_t n;
		if (ctl_redis_active_alerts(ctl->redis, shops[i], &more, &n) == -1)
			goto done;
		if (n > 0) {
			active = xreallocarray(active, active_count + n, sizeof(*active));
			memcpy(active + active_count, more, n * sizeof(*more));
			active_count += n;
		}
		free(more); /* its strings moved into active */
	}
	if (ctl_redis_recent_alerts(ctl->redis, CTL_RECENT_ALERTS, &recent, &recent_count, last_id,
	                            sizeof(last_id)) == -1)
		goto done;
	if (o->json) {
		ctl_json_init(&j, stdout);
		ctl_json_open(&j, NULL, '{');
		ctl_rows_json_alerts(&j, "active", active, active_count);
		ctl_rows_json_alerts(&j, "recent", recent, recent_count);
		ctl_json_close(&j, '}');
		putchar('\n');
	} else {
		alerts_text("active alerts", active, active_count);
		title = ctl_format("\nlatest alerts (%s:alerts:log, oldest first)",
		                   ctl_redis_prefix(ctl->redis));
		alerts_text(title, recent, recent_count);
		free(title);
	}
	rc = o->follow ? alerts_follow(ctl, last_id, sizeof(last_id), o->json) : 0;
done:
	ctl_alerts_free(active, active_count);
	ctl_alerts_free(recent, recent_count);
	ctl_strings_free(shops, shop_count);
	return rc;
}

/* ---- report ---- */

static void quadrant_text(const struct ctl_shop *shop)
{
	char conv[16], aov[32], shop_conv[16], shop_aov[32];
	size_t width = name_width(shop, 6);
	struct derived d;

	counters_derive(shop->total.value, &d);
	printf("\nquadrants: conversion and AOV against the shop (conversion %s, AOV %s);\n"
	       "fewer than %d inquiries: not placed\n",
	       scoreboard_format_percent(d.has_conversion, d.conversion_e4, shop_conv,
	                                 sizeof(shop_conv)),
	       d.has_aov ? counters_format_fen(d.aov_fen, shop_aov, sizeof(shop_aov)) : "-",
	       SCOREBOARD_MIN_INQUIRIES);
	fputs("  ", stdout);
	display_pad(stdout, "agent", width);
	printf(" %9s %7s %10s  %s\n", "inquiries", "conv", "AOV", "quadrant");
	for (size_t i = 0; i < shop->agent_count; i++) {
		const struct ctl_row *row = &shop->agents[i];
		enum scoreboard_quadrant q = scoreboard_quadrant(row->value, shop->total.value);
		counters_derive(row->value, &d);
		fputs("  ", stdout);
		display_pad(stdout, row->label, width);
		printf(" %9" PRId64 " %7s %10s  %s\n", row->value[COUNTER_INQUIRIES],
		       scoreboard_format_percent(d.has_conversion, d.conversion_e4, conv,
		                                 sizeof(conv)),
		       d.has_aov ? counters_format_fen(d.aov_fen, aov, sizeof(aov)) : "-",
		       scoreboard_quadrant_label(q));
	}
}

static int command_report(struct ctl *ctl, const struct ctl_options *o)
{
	struct ctl_json j;
	char suffix[16], **shops, fen[32];
	size_t count;
	int rc = 0;

	snprintf(suffix, sizeof(suffix), "d:%s", ctl->day_key);
	if (ctl_redis_shops(ctl->redis, o->shop, &shops, &count) == -1)
		return -1;
	if (o->json) {
		ctl_json_init(&j, stdout);
		ctl_json_open(&j, NULL, '{');
		ctl_json_text(&j, "day", ctl->day_label);
		ctl_json_int(&j, "min_inquiries", SCOREBOARD_MIN_INQUIRIES);
		ctl_json_open(&j, "shops", '[');
	} else if (count == 0) {
		printf("no shops in %s:shops yet\n", ctl_redis_prefix(ctl->redis));
	}
	for (size_t i = 0; i < count; i++) {
		struct ctl_shop shop;
		if ((rc = ctl_redis_shop(ctl->redis, shops[i], suffix, 0, &shop)) == -1) {
			ctl_shop_free(&shop);
			break;
		}
		if (o->json) {
			ctl_json_open(&j, NULL, '{');
			ctl_json_text(&j, "shop", shop.name);
			ctl_json_open(&j, "agents", '[');
			for (size_t k = 0; k < shop.agent_count; k++) {
				const struct ctl_row *row = &shop.agents[k];
				enum scoreboard_quadrant q =
				    scoreboard_quadrant(row->value, shop.total.value);
				ctl_json_open(&j, NULL, '{');
				ctl_rows_json_members(&j, ctl_redis_reasons(ctl->redis), row);
				ctl_json_text(&j, "quadrant", scoreboard_quadrant_code(q));
				ctl_json_text(&j, "quadrant_label", scoreboard_quadrant_label(q));
				ctl_json_close(&j, '}');
			}
			ctl_json_close(&j, ']');
			json_row(&j, "total", ctl, &shop.total, 0);
			json_reasons(&j, "lost_reasons", ctl, shop.total.value);
			ctl_json_close(&j, '}');
		} else {
			printf("%sreport %s  shop %s  (silent orders %" PRId64 ", %s yuan)\n",
			       i ? "\n" : "", ctl->day_label, shop.label,
			       shop.total.value[COUNTER_SILENT_ORDERS],
			       counters_format_fen(shop.total.value[COUNTER_SILENT_SALES_FEN], fen,
			                           sizeof(fen)));
			table_print(stdout, ctl, &shop, 0);
			quadrant_text(&shop);
			printf("\nlost reasons, %s (%" PRId64 " lost inquiries)\n", ctl->day_label,
			       shop.total.value[COUNTER_LOST]);
			reasons_table(stdout, ctl, shop.total.value);
		}
		ctl_shop_free(&shop);
	}
	if (o->json) {
		json_end_shops(&j);
	} else if (rc == 0 && count > 0) {
		printf("\n%s", ctl_legend);
	}
	ctl_strings_free(shops, count);
	return rc;
}

/* ---- assess ---- */

/* The rules: --rules, else /etc/chatlogd/assess.conf, else the shipped example. */
static struct assess_config *assess_rules(const struct ctl_options *o, const char **path)
{
	static const char *const candidates[] = {
	    CTL_DEFAULT_RULES,
	    CHATLOGD_DATADIR "/assess.conf",
	    CHATLOGD_SOURCE_RULES,
	};
	struct assess_config *rules;
	char err[512];

	*path = o->rules;
	for (size_t i = 0; *path == NULL && i < sizeof(candidates) / sizeof(*candidates); i++)
		if (access(candidates[i], R_OK) == 0)
			*path = candidates[i];
	if (*path == NULL)
		usage_error("no assessment rules: --rules FILE, or %s (docs/assess.md)",
		            CTL_DEFAULT_RULES);
	if ((rules = assess_config_load(*path, err, sizeof(err))) == NULL)
		usage_error("%s", err);
	return rules;
}

/* The period of the options; the default is last month, what a manager runs on the
 * 1st. Exits 2 on a bad one. */
static void assess_period(const struct ctl_options *o, struct ctl_assess_options *a)
{
	char today[11];
	int64_t day;

	if (o->month != NULL) {
		if (assess_parse_month(o->month, &a->first, &a->last) == -1)
			usage_error("--month must be a month YYYY-MM");
		snprintf(a->label, sizeof(a->label), "%s", o->month);
	} else if (o->week != NULL) {
		if (assess_parse_week(o->week, &a->first, &a->last) == -1)
			usage_error("--week must be an ISO week YYYY-Www (2026-W47)");
		snprintf(a->label, sizeof(a->label), "%s", o->week);
	} else if (o->day != NULL) {
		assess_parse_day(o->day, &a->first);
		a->last = a->first;
		snprintf(a->label, sizeof(a->label), "%s", o->day);
	} else if (o->from != NULL) {
		if (assess_parse_day(o->from, &a->first) == -1 ||
		    assess_parse_day(o->to, &a->last) == -1)
			usage_error("--from and --to must be dates YYYY-MM-DD");
		if (a->first > a->last || a->last - a->first >= CTL_ASSESS_MAX_DAYS)
			usage_error("--from must not be after --to, and at most %d days apart",
			            CTL_ASSESS_MAX_DAYS);
		snprintf(a->label, sizeof(a->label), "%s..%s", o->from, o->to);
	} else {
		char key[9];
		timefmt_day_key(clock_wall_ms(), key);
		snprintf(today, sizeof(today), "%.4s-%.2s-01", key, key + 4);
		assess_parse_day(today, &day);
		assess_day_text(day - 1, today); /* a day of last month */
		today[7] = '\0';
		assess_parse_month(today, &a->first, &a->last);
		snprintf(a->label, sizeof(a->label), "%s", today);
	}
}

static int command_assess(struct ctl *ctl, const struct ctl_options *o)
{
	struct ctl_assess_options a = {
	    .shop = o->shop,
	    .report = o->report,
	    .format = o->json   ? ASSESS_JSON
	              : o->csv  ? ASSESS_CSV
	              : o->xlsx ? ASSESS_XLSX
	                        : ASSESS_TABLE,
	    .xlsx_path = o->xlsx,
	};
	struct assess_config *rules;
	int rc;

	assess_period(o, &a);
	rules = assess_rules(o, &a.rules_path);
	a.rules = rules;
	if (o->report == NULL && ctl_redis_connect(ctl->redis, CTL_TIMEOUT_MS) == -1) {
		assess_config_free(rules);
		return -1;
	}
	rc = ctl_assess_run(o->report != NULL ? NULL : ctl->redis, &a);
	assess_config_free(rules);
	return rc;
}

/* ---- main ---- */

/* --day, or today in the configured time zone. */
static void set_day(struct ctl *ctl, const struct ctl_options *o)
{
	if (o->day != NULL) {
		parse_day(o->day, ctl->day_key);
	} else {
		timefmt_day_key(clock_wall_ms(), ctl->day_key);
	}
	snprintf(ctl->day_label, sizeof(ctl->day_label), "%.4s-%.2s-%.2s", ctl->day_key,
	         ctl->day_key + 4, ctl->day_key + 6);
}

int main(int argc, char **argv)
{
	struct ctl_options o;
	struct config cfg;
	struct ctl ctl;
	char err[512];
	int rc = -1;

	signal(SIGPIPE, SIG_IGN); /* a dropped connection is an error, not a kill */
	display_locale_init();    /* tables line up by wcwidth() */
	parse_options(argc, argv, &o);
	load_settings(&o, &cfg);
	memset(&ctl, 0, sizeof(ctl));
	set_day(&ctl, &o);
	if (o.command == COMMAND_AGENT || o.command == COMMAND_REPORT || o.command == COMMAND_SERVE)
		load_labels(&ctl, &cfg, o.patterns != NULL);
	if ((ctl.redis = ctl_redis_new(&cfg, err, sizeof(err))) == NULL)
		usage_error("%s", err);
	if (o.command == COMMAND_SERVE) {
		struct ctl_serve_options serve = {
		    .listen = o.listen != NULL ? o.listen : CTL_SERVE_DEFAULT_LISTEN,
		    .token_file = o.token_file,
		    .static_dir = o.static_dir,
		    .redis_url = cfg.redis,
		    .password_file = cfg.redis_password_file,
		    .prefix = cfg.prefix,
		    .timezone = cfg.timezone,
		};
		int status = ctl_serve_run(ctl.redis, ctl.rules, &serve);
		config_free(&cfg);
		ctl_redis_free(ctl.redis);
		rules_free(ctl.rules);
		return status;
	}
	config_free(&cfg);
	if (o.command == COMMAND_ASSESS) {
		rc = command_assess(&ctl, &o);
	} else if (ctl_redis_connect(ctl.redis, CTL_TIMEOUT_MS) == 0) {
		switch (o.command) {
		case COMMAND_TOP:
			rc = command_top(&ctl, &o);
			break;
		case COMMAND_AGENT:
			rc = command_agent(&ctl, &o);
			break;
		case COMMAND_ALERTS:
			rc = command_alerts(&ctl, &o);
			break;
		case COMMAND_REPORT:
			rc = command_report(&ctl, &o);
			break;
		case COMMAND_ASSESS:
		case COMMAND_SERVE:
			break;
		}
	}
	ctl_redis_free(ctl.redis);
	rules_free(ctl.rules);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno != EPIPE)
			ctl_error("writing the output: %s", strerror(errno));
		return EXIT_REDIS;
	}
	return rc == 0 ? EXIT_SUCCESS : EXIT_REDIS;
}
