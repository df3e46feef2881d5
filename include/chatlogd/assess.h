/*
 * The monthly assessment (月度考核): the rules file (teams with their bands,
 * commission, tiers and targets; members with dates; account aliases), the exact
 * evaluation of those rules on counter rows, and the folding of per-day,
 * per-account counters into rows per (shop, team, person). No I/O but reading the
 * rules file: chatlogctl reads the counters and lays out the rows. docs/assess.md.
 */
#ifndef CHATLOGD_ASSESS_H
#define CHATLOGD_ASSESS_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

/* Terms in one condition ("conversion >= 60% and aov >= average"): a rule a
 * manager reads at a glance has two or three. */
#define ASSESS_TERMS 8
/* Rules of one kind (bands, commission steps, tiers, targets) in one team. */
#define ASSESS_RULES 32
/* A day without a date: counters of a whole report file (chatlogd --once). */
#define ASSESS_UNDATED INT64_MIN

/* What a condition can look at; each is an exact fraction of counters. */
enum assess_metric {
	ASSESS_INQUIRIES,      /* inquiries */
	ASSESS_POST_SALE,      /* post_sale */
	ASSESS_CONVERSATIONS,  /* inquiries + post_sale */
	ASSESS_REPLY_RATE,     /* replied / (inquiries + post_sale) */
	ASSESS_FRT_AVG,        /* frt_ms_sum / first_responses, ms */
	ASSESS_ART_AVG,        /* response_ms_sum / responses, ms */
	ASSESS_CONVERSION,     /* ordered / inquiries */
	ASSESS_PAY_CONVERSION, /* paid / ordered */
	ASSESS_AOV,            /* sales_fen / paid, fen */
	ASSESS_SALES,          /* sales_fen */
	ASSESS_ANSWER_RATIO,   /* 答问比: agent_msgs / buyer_msgs */
	/* from the counters of assessment_counters = on */
	ASSESS_RATE_3MIN,            /* hours_responses_3m / hours_responses */
	ASSESS_SLOW_RECEPTIONS,      /* 慢响应: slow_responses */
	ASSESS_RETURNING_SHARE,      /* 回头客占比: returning / inquiries */
	ASSESS_NEW_BUYER_CONVERSION, /* (ordered - returning_ordered) / (inquiries - returning) */
	ASSESS_METRICS
};

enum assess_op { ASSESS_GE, ASSESS_GT, ASSESS_LE, ASSESS_LT };

/* METRIC OP THRESHOLD, the threshold an exact fraction in the metric's unit (a
 * ratio, ms, fen or a count), or the same metric of the comparison row ("average"). */
struct assess_term {
	enum assess_metric metric;
	enum assess_op op;
	int against_average;
	int64_t threshold, scale; /* threshold / scale; scale > 0 */
};

/* Terms joined by "and"; no terms is "otherwise", which always holds. */
struct assess_condition {
	struct assess_term terms[ASSESS_TERMS];
	unsigned count;
	char *text; /* as written in the rules file, for people */
};

/* band: amount is fen (signed); commission: a rate in 1/10000 (3 % = 300); tier:
 * name is the tier; target: only the condition counts. */
struct assess_rule {
	struct assess_condition when;
	int64_t amount;
	char *name;
};

enum assess_rule_kind { RULE_BAND, RULE_COMMISSION, RULE_TIER, RULE_TARGET, RULE_KINDS };

struct assess_team {
	char *name;
	struct assess_rule rules[RULE_KINDS][ASSESS_RULES];
	unsigned rule_count[RULE_KINDS];
};

/* Membership of a person in a team from `from` to `until` (days since 1970-01-01,
 * both included; INT64_MIN / INT64_MAX when open). */
struct assess_member {
	char *person;
	unsigned team;
	int64_t from, until;
};

struct assess_alias {
	char *account, *person;
};

enum assess_compare { COMPARE_SHOP, COMPARE_TEAM };

struct assess_config {
	struct assess_team *teams;
	size_t team_count;
	struct assess_member *members;
	size_t member_count;
	struct assess_alias *aliases;
	size_t alias_count;
	enum assess_compare compare_with; /* what "average" means */
	int prorate;                      /* bonus × days in the team / days of the period */
};

/* Parses rules text (name is the file name for messages). NULL with
 * "NAME:LINE:COLUMN: what is wrong" in err. */
struct assess_config *assess_config_parse(const char *text, size_t len, const char *name, char *err,
                                          size_t errlen);
/* Reads and parses a rules file. */
struct assess_config *assess_config_load(const char *path, char *err, size_t errlen);
void assess_config_free(struct assess_config *cfg);

/* The person an account belongs to (the account itself when it has no alias). */
const char *assess_person(const struct assess_config *cfg, const char *account);
/* The team of person on day (days since 1970), or -1 when in none. */
int assess_team_on(const struct assess_config *cfg, const char *person, int64_t day);

/* The metric of a counter row as num / den; 0 when absent (den 0), else 1. */
int assess_metric_value(enum assess_metric m, const int64_t *value, int64_t *num, int64_t *den);
/* 1 when every term holds on value, exactly (no rounding); average is the
 * comparison row (may be NULL: terms against it then fail). An absent metric never
 * holds. */
int assess_condition_holds(const struct assess_condition *c, const int64_t *value,
                           const int64_t *average);
/* The first rule of kind whose condition holds, or -1. */
int assess_first_rule(const struct assess_team *team, enum assess_rule_kind kind,
                      const int64_t *value, const int64_t *average);

/* fen × rate / 10000, rounded half up (rate in 1/10000). */
int64_t assess_commission_fen(int64_t sales_fen, int64_t rate_e4);
/* amount × part / whole rounded half away from zero (whole > 0). */
int64_t assess_prorate(int64_t amount, int64_t part, int64_t whole);

/* Periods as days since 1970 (first and last included). -1 when text is not a real
 * YYYY-MM-DD, YYYY-MM or ISO week YYYY-Www. */
int assess_parse_day(const char *text, int64_t *day);
int assess_parse_month(const char *text, int64_t *first, int64_t *last);
int assess_parse_week(const char *text, int64_t *first, int64_t *last);
/* A day as YYYY-MM-DD. */
void assess_day_text(int64_t day, char out[11]);

enum assess_row_kind { ROW_PERSON, ROW_TEAM, ROW_SHOP };

/* One row of the assessment: a person's days in one team of one shop, a team's
 * sum, or the shop's own counters (agent "*", the average "average" means by
 * default). team is -1 for days in no team (no rules apply). */
struct assess_row {
	enum assess_row_kind kind;
	char *shop, *person; /* person NULL on team and shop rows */
	int team;
	char *accounts; /* the accounts folded in, space-separated, sorted */
	int64_t value[COUNTER_WIDTH];
	int64_t days; /* person rows: days of the period in this team */
	/* Results (person rows in a team with conversations; -1 / 0 otherwise). */
	int band, commission, tier;
	int64_t bonus_full_fen, bonus_fen, commission_rate_e4, commission_fen;
	unsigned targets_met, targets_total;
	uint32_t targets_missed; /* bit i: target i missed */
};

struct assess;

/* An assessment of the days first .. last (days since 1970, included). */
struct assess *assess_new(const struct assess_config *cfg, int64_t first, int64_t last);
void assess_free(struct assess *a);

/* Adds an account's counters of one day (ASSESS_UNDATED: of the whole period,
 * placed in the team the person is in on the last day). */
void assess_add(struct assess *a, const char *shop, const char *account, int64_t day,
                const int64_t *value);
/* Adds the shop's own counters (agent "*"). */
void assess_add_shop(struct assess *a, const char *shop, const int64_t *value);
/* Sums the teams, evaluates the rules and orders the rows: by shop, then team (in
 * file order, no team last), persons by name, each team's sum after its persons,
 * the shop row last. */
void assess_finish(struct assess *a);

size_t assess_row_count(const struct assess *a);
const struct assess_row *assess_row_at(const struct assess *a, size_t i);
/* The row "average" compared a person row with (its shop's, or its team's). */
const struct assess_row *assess_average_of(const struct assess *a, const struct assess_row *row);
int64_t assess_period_days(const struct assess *a);

#endif
