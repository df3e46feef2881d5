/*
 * chatlogctl assess: the monthly assessment read from the day hashes in Redis or
 * from a `chatlogd --once` report, laid out as a terminal table, JSON, CSV for
 * Excel or an XLSX workbook. Part of the chatlogctl program only. docs/assess.md.
 */
#ifndef CHATLOGD_CTL_ASSESS_H
#define CHATLOGD_CTL_ASSESS_H

#include <stdint.h>

struct ctl_redis;
struct assess_config;

enum ctl_assess_format { ASSESS_TABLE, ASSESS_JSON, ASSESS_CSV, ASSESS_XLSX };

struct ctl_assess_options {
	const struct assess_config *rules;
	const char *rules_path;
	int64_t first, last; /* days since 1970, both included */
	char label[32];      /* "2026-11", "2026-W47", "2026-11-24", "A .. B" */
	const char *shop;    /* only this shop, or NULL */
	const char *report;  /* a chatlogd --once report file instead of Redis, or NULL */
	enum ctl_assess_format format;
	const char *xlsx_path;
};

/* Runs the assessment (redis is NULL with a report) and writes it to stdout or the
 * workbook. 0, or -1 after saying why. */
int ctl_assess_run(struct ctl_redis *redis, const struct ctl_assess_options *o);

#endif
