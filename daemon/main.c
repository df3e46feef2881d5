/*
 * main.c: options, configuration, and wiring the modules together for the mode
 * asked for. Batch mode (--once) reads files to the end and prints the report.
 */
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatlogd/backfill.h"
#include "chatlogd/batch.h"
#include "chatlogd/hindex.h"
#include "chatlogd/config.h"
#include "chatlogd/display.h"
#include "chatlogd/engine.h"
#include "chatlogd/engine_config.h"
#include "chatlogd/ingest.h"
#include "chatlogd/live.h"
#include "chatlogd/log.h"
#include "chatlogd/parse.h"
#include "chatlogd/pipeline.h"
#include "chatlogd/report.h"
#include "chatlogd/rules.h"
#include "chatlogd/rules_file.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"

#define EXIT_USAGE 2

struct options {
	int once;
	int check_config;
	const char *output; /* json or table */
	int backfill;       /* --redis given with --once */
};

static void usage(FILE *out)
{
	fputs("usage: chatlogd [--config FILE] [--set KEY=VALUE]... [--check-config]\n"
	      "       chatlogd --once [--config FILE] [--patterns FILE] [--format F]\n"
	      "                [--set KEY=VALUE]... [--output json|table] [--threads N]\n"
	      "                [--redis URL] FILE...|-\n"
	      "\n"
	      "  --once          read FILEs (or - for stdin) to the end, print the report, exit\n"
	      "  --config FILE   settings file (INI); see chatlogd.conf\n"
	      "  --patterns FILE lost-reason patterns (same as --set patterns=FILE)\n"
	      "  --format F      json or regex:FILE (same as --set format=F)\n"
	      "  --set KEY=VALUE override one setting of the config file\n"
	      "  --output FMT    json (the report of docs/reference.md §5, default)\n"
	      "                  or table (a scoreboard)\n"
	      "  --threads N     with --once: 1 or 2 threads (same as --set batch_threads=N;\n"
	      "                  default 2 when 2 CPUs are available)\n"
	      "  --redis URL     with --once: also add the counters to Redis (exactly once:\n"
	      "                  running the same backfill again changes nothing)\n"
	      "  --check-config  validate the settings and patterns, print them, exit\n"
	      "  --version       print the version\n",
	      out);
}

static void usage_error(const char *fmt, const char *arg)
{
	fputs("chatlogd: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	usage(stderr);
	exit(EXIT_USAGE);
}

/* A settings error ends the run with exit 2 (systemd does not restart on it). The
 * daemon says it through log.c like its other lines, so the journal files it as an
 * error (<3>); --once and --check-config are run by people, who get it plain. */
static void config_error(const struct options *opt, const char *message)
{
	if (opt->once || opt->check_config)
		fprintf(stderr, "chatlogd: %s\n", message);
	else
		log_errx("%s", message);
	exit(EXIT_USAGE);
}

/* An unset `patterns` means the shipped file: installed, or in the source tree. */
static const char *default_patterns(void)
{
	static const char *const candidates[] = {
	    "/etc/chatlogd/lost-reasons.conf",
	    CHATLOGD_DATADIR "/lost-reasons.conf",
	    CHATLOGD_SOURCE_PATTERNS,
	};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (access(candidates[i], R_OK) == 0)
			return candidates[i];
	return NULL;
}

/* The patterns file in effect, or NULL for none. */
static const char *rules_path(const struct config *cfg)
{
	const char *path = cfg->patterns[0] ? cfg->patterns : default_patterns();
	return path == NULL || strcmp(path, "none") == 0 ? NULL : path;
}

static struct rules *load_rules(const struct config *cfg, const struct options *opt)
{
	const char *path = rules_path(cfg);
	char err[512];
	struct rules *rules;

	/* rules_file_load, as live mode's start and SIGHUP read it */
	if ((rules = rules_file_load(path, NULL, NULL, err, sizeof(err))) == NULL)
		config_error(opt, err);
	return rules;
}

/* A backfill's instance name: the same input files (path, size, mtime) give the same
 * name, so running it again finds its batches applied and changes nothing. */
static void backfill_instance(const struct config *cfg, char **files, int file_count, char *out,
                              size_t size)
{
	uint64_t hash = 0;
	char host[128] = "chatlogd";

	for (int i = 0; i < file_count; i++) {
		struct stat st;
		int64_t identity[2] = {0, 0};
		if (stat(files[i], &st) == 0) {
			identity[0] = (int64_t)st.st_size;
			identity[1] = (int64_t)st.st_mtime;
		}
		hash = hindex_hash(files[i], strlen(files[i]), hash);
		hash = hindex_hash(identity, sizeof(identity), hash);
	}
	/* where the cuts fall decides the batches */
	hash = hindex_hash(&cfg->backfill_cut_rows, sizeof(cfg->backfill_cut_rows), hash);
	if (cfg->instance[0] == '\0')
		gethostname(host, sizeof(host) - 1);
	snprintf(out, size, "%s:backfill:%016llx", cfg->instance[0] ? cfg->instance : host,
	         (unsigned long long)hash);
}

/* Adds a by-minute table into one row per (shop, agent) of `folded`, for the report. */
static void fold_into(struct counter_table *folded, struct counter_table *by_minute)
{
	for (size_t i = 0; i < counter_table_count(by_minute); i++) {
		const struct counter_row *row = counter_table_at(by_minute, i);
		struct counter_row *sum = counter_table_row(folded, row->shop, row->agent, 0);
		if (sum == NULL)
			fatalx("report: more rows than a table holds");
		for (int id = 0; id < COUNTER_WIDTH; id++)
			sum->value[id] += row->value[id];
	}
}

/* --once --redis: the engine emits by minute into by_minute; each time it holds
 * backfill_cut_rows rows (a point that depends only on the input, so a re-run makes
 * the same batches), they are added to the report and sent. */
struct backfill_run {
	struct backfill *backfill; /* NULL: Redis failed; the report goes on */
	struct counter_table *by_minute, *report;
	size_t cut_rows;
};

static void backfill_cut(struct backfill_run *run)
{
	fold_into(run->report, run->by_minute);
	if (run->backfill != NULL && backfill_send(run->backfill, run->by_minute) == -1) {
		backfill_free(run->backfill);
		run->backfill = NULL;
	}
	counter_table_clear(run->by_minute);
}

/* After each line read, and each outcome decided at the end of input. */
static void backfill_after_line(void *ctx)
{
	struct backfill_run *run = ctx;

	if (counter_table_count(run->by_minute) >= run->cut_rows)
		backfill_cut(run);
}

/* batch_threads in effect: 0 means 2 when this process may run on 2 CPUs or more
 * (taskset, cgroup cpusets), else 1. */
static int batch_threads(const struct config *cfg)
{
	cpu_set_t cpus;

	if (cfg->batch_threads != 0)
		return (int)cfg->batch_threads;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == -1)
		return 1;
	return CPU_COUNT(&cpus) >= 2 ? 2 : 1;
}

/* Batch mode: every file in order through one engine, then the report. */
static int run_once(const struct config *cfg, const struct options *opt, char **files,
                    int file_count)
{
	struct engine_settings settings;
	struct service_hours_set *hours;
	struct names *names = names_new();
	struct reasons reasons;
	struct counter_table *totals = counter_table_new(0);
	struct backfill_run run = {.cut_rows = (size_t)cfg->backfill_cut_rows};
	struct rules *rules = load_rules(cfg, opt);
	struct parser *parser;
	struct engine *engine;
	struct ingest in;
	char err[512];
	int rc = 0, table;

	if ((parser = parser_new(cfg->format, err, sizeof(err))) == NULL)
		config_error(opt, err);
	if ((hours = engine_config_settings(cfg, 0, &settings, err, sizeof(err))) == NULL)
		config_error(opt, err);
	for (int i = 0; i < file_count; i++)
		if (strcmp(files[i], "-") != 0 && access(files[i], R_OK) == -1)
			usage_error("cannot read %s", files[i]);
	if (opt->backfill)
		run.by_minute = counter_table_new(1);
	reasons_init(&reasons);
	engine = engine_new(&settings, names, &reasons, opt->backfill ? run.by_minute : totals);
	if (engine_set_rules(engine, rules) == -1)
		config_error(opt, "too many distinct lost reasons");

	ingest_init(&in, parser, engine);
	in.max_ts_ms = ingest_max_ts(cfg->max_clock_ahead_ms);
	/* The first bad lines of the run, then a count at the end: the same stderr on
	 * one thread or two, on a fast machine or a slow one. */
	in.error_log.whole_run = 1;
	if (opt->backfill) {
		char instance[256];
		backfill_instance(cfg, files, file_count, instance, sizeof(instance));
		run.backfill = backfill_new(cfg, instance, names, &reasons);
		run.report = totals;
		/* A backfill stays on one thread: it is not what anyone waits for. */
		rc = batch_read_files_each(&in, files, file_count, (size_t)cfg->max_line_bytes,
		                           backfill_after_line, &run) == -1;
	} else if (batch_threads(cfg) == 2) {
		rc = pipeline_run(&in, files, file_count, (size_t)cfg->max_line_bytes) == -1;
	} else {
		rc = batch_read_files(&in, files, file_count, (size_t)cfg->max_line_bytes) == -1;
	}
	log_ratelimit_flush(&in.error_log, "bad lines");
	if (opt->backfill)
		engine_finish_each(engine, backfill_after_line, &run);
	else
		engine_finish(engine);
	if (opt->backfill) {
		backfill_cut(&run);
		if (run.backfill == NULL || backfill_finish(run.backfill) == -1)
			rc = 1;
		backfill_free(run.backfill);
		counter_table_free(run.by_minute);
	}

	/* A report that did not reach stdout (a full disk, a closed pipe) fails the run. */
	table = strcmp(opt->output, "table") == 0;
	if (table)
		display_locale_init(); /* the table lines up by wcwidth() */
	if ((table ? report_table(stdout, totals, names, &reasons, &in.stats)
	           : report_json(stdout, totals, names, &reasons, &in.stats)) == -1 ||
	    fflush(stdout) != 0) {
		log_warnx("cannot write the %s report to standard output",
		          table ? "table" : "JSON");
		rc = 1;
	}

	engine_free(engine);
	service_hours_set_free(hours);
	parser_free(parser);
	rules_free(rules);
	counter_table_free(totals);
	reasons_free(&reasons);
	names_free(names);
	return rc;
}

/* Where settings come from: the config file, then --set overrides in order. Kept for
 * the daemon's SIGHUP, which reads them again the same way. */
struct settings_source {
	const char *config_path;
	char **overrides; /* "KEY=VALUE" */
	int override_count;
};

static int load_settings(const struct settings_source *src, struct config *cfg, char *err,
                         size_t errlen)
{
	config_defaults(cfg);
	if (src->config_path != NULL && config_load(cfg, src->config_path, err, errlen) == -1)
		return -1;
	for (int i = 0; i < src->override_count; i++) {
		char key[128];
		const char *eq = strchr(src->overrides[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - src->overrides[i]),
		         src->overrides[i]);
		if (config_set(cfg, key, eq + 1, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static void print_error(void *ctx, const char *message)
{
	int *errors = ctx;

	(*errors)++;
	fprintf(stderr, "chatlogd: %s\n", message);
}

/*
 * --check-config: every error, not only the first. The config file's errors all
 * (config_load_all), then each bad --set; once the settings are clean, the format,
 * the timezone and the patterns file they name (each stops at its first error).
 * Prints the settings in effect and returns 0 when all is well, else 2.
 */
static int check_config(const struct settings_source *src)
{
	struct config cfg;
	struct parser *parser;
	struct rules *rules;
	const char *path;
	char err[512];
	int errors = 0;

	config_defaults(&cfg);
	if (src->config_path != NULL)
		config_load_all(&cfg, src->config_path, print_error, &errors);
	for (int i = 0; i < src->override_count; i++) {
		char key[128];
		const char *eq = strchr(src->overrides[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - src->overrides[i]),
		         src->overrides[i]);
		if (config_set(&cfg, key, eq + 1, err, sizeof(err)) == -1)
			print_error(&errors, err);
	}
	if (errors > 0)
		goto end;
	if (config_check_together(&cfg, err, sizeof(err)) == -1)
		print_error(&errors, err);
	if ((parser = parser_new(cfg.format, err, sizeof(err))) == NULL)
		print_error(&errors, err);
	parser_free(parser);
	if (timefmt_set_timezone(cfg.timezone) == -1)
		print_error(&errors, "unknown timezone (see /usr/share/zoneinfo)");
	path = rules_path(&cfg);
	if ((rules = rules_file_load(path, NULL, NULL, err, sizeof(err))) == NULL)
		print_error(&errors, err);
	rules_free(rules);
	if (errors == 0)
		config_dump(&cfg, stdout);
end:
	config_free(&cfg);
	return errors > 0 ? EXIT_USAGE : 0;
}

static void free_overrides(struct settings_source *src)
{
	for (int i = 0; i < src->override_count; i++)
		free(src->overrides[i]);
	free(src->overrides);
}

static int reload_settings(void *ctx, struct config *fresh, char *patterns, size_t size, char *err,
                           size_t errlen)
{
	const char *path;

	if (load_settings(ctx, fresh, err, errlen) == -1)
		return -1;
	path = rules_path(fresh);
	snprintf(patterns, size, "%s", path ? path : "");
	return 0;
}

static char *key_value(const char *key, const char *value)
{
	char *kv = xmalloc(strlen(key) + strlen(value) + 2);
	sprintf(kv, "%s=%s", key, value);
	return kv;
}

int main(int argc, char **argv)
{
	enum {
		OPT_ONCE = 256,
		OPT_CONFIG,
		OPT_PATTERNS,
		OPT_FORMAT,
		OPT_REDIS,
		OPT_THREADS,
		OPT_SET,
		OPT_OUTPUT,
		OPT_CHECK,
		OPT_VERSION,
		OPT_HELP
	};
	static const struct option long_options[] = {
	    {"once", no_argument, NULL, OPT_ONCE},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"patterns", required_argument, NULL, OPT_PATTERNS},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"set", required_argument, NULL, OPT_SET},
	    {"output", required_argument, NULL, OPT_OUTPUT},
	    {"redis", required_argument, NULL, OPT_REDIS},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"check-config", no_argument, NULL, OPT_CHECK},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct options opt = {.output = "json"};
	/* Overrides apply after the config file, whatever their order on the line. */
	struct settings_source src = {NULL, xcalloc((size_t)argc, sizeof(char *)), 0};
	struct config cfg;
	char err[512];
	int c, rc;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_ONCE:
			opt.once = 1;
			break;
		case OPT_CONFIG:
			src.config_path = optarg;
			break;
		case OPT_PATTERNS:
		case OPT_FORMAT:
		case OPT_REDIS:
		case OPT_THREADS:
			/* shorthands for --set KEY=VALUE */
			src.overrides[src.override_count++] =
			    key_value(c == OPT_PATTERNS  ? "patterns"
			              : c == OPT_FORMAT  ? "format"
			              : c == OPT_THREADS ? "batch_threads"
			                                 : "redis",
			              optarg);
			opt.backfill |= c == OPT_REDIS;
			break;
		case OPT_SET:
			if (strchr(optarg, '=') == NULL)
				usage_error("--set takes KEY=VALUE, not %s", optarg);
			src.overrides[src.override_count++] = xstrdup(optarg);
			break;
		case OPT_OUTPUT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
				usage_error("--output takes json or table, not %s", optarg);
			opt.output = optarg;
			break;
		case OPT_CHECK:
			opt.check_config = 1;
			break;
		case OPT_VERSION:
			printf("chatlogd %s\n", CHATLOGD_VERSION);
			free_overrides(&src);
			return 0;
		case OPT_HELP:
			usage(stdout);
			free_overrides(&src);
			return 0;
		default:
			usage(stderr);
			free_overrides(&src);
			return EXIT_USAGE;
		}
	}

	if (opt.check_config) {
		rc = check_config(&src);
		free_overrides(&src);
		return rc;
	}
	if (load_settings(&src, &cfg, err, sizeof(err)) == -1 ||
	    config_check_together(&cfg, err, sizeof(err)) == -1)
		config_error(&opt, err);
	log_set_level(log_level_parse(cfg.log_level));
	if (timefmt_set_timezone(cfg.timezone) == -1)
		config_error(&opt, "unknown timezone (see /usr/share/zoneinfo)");

	if (!opt.once) {
		if (optind < argc)
			usage_error("files to follow are set with `input` in the config, not %s",
			            argv[optind]);
		if (cfg.input_count == 0)
			config_error(
			    &opt, "nothing to follow: set `input = /path/*.jsonl` in the config");
		rules_free(load_rules(&cfg, &opt)); /* a bad patterns file stops us here, exit 2 */
		rc = live_run(&cfg, rules_path(&cfg), reload_settings, &src);
		config_free(&cfg);
		free_overrides(&src);
		return rc;
	}
	if (optind >= argc)
		usage_error("%s", "--once needs at least one FILE (or - for stdin)");
	rc = run_once(&cfg, &opt, argv + optind, argc - optind);
	config_free(&cfg);
	free_overrides(&src);
	return rc;
}
