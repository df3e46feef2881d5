/*
 * assess.c owns the monthly assessment's rules and arithmetic: it parses the rules
 * file, evaluates bands, commission, tiers and targets exactly on counter rows, and
 * folds per-day counters of accounts into rows per (shop, team, person). It reads no
 * counters itself and prints nothing: chatlogctl's ctl_assess.c does. docs/assess.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/assess.h"
#include "chatlogd/log.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"
#include "chatlogd/utf8.h"

/* A rules file is written by hand: anything larger is not one. */
#define ASSESS_FILE_MAX (1 << 20)

static const char *const metric_names[ASSESS_METRICS] = {
    "inquiries",       "post_sale",       "conversations",
    "reply_rate",      "frt_avg",         "art_avg",
    "conversion",      "pay_conversion",  "aov",
    "sales",           "answer_ratio",    "rate_3min",
    "slow_receptions", "returning_share", "new_buyer_conversion",
};

enum metric_unit { UNIT_RATIO, UNIT_MS, UNIT_FEN, UNIT_COUNT };

static enum metric_unit metric_unit(enum assess_metric m)
{
	switch (m) {
	case ASSESS_FRT_AVG:
	case ASSESS_ART_AVG:
		return UNIT_MS;
	case ASSESS_AOV:
	case ASSESS_SALES:
		return UNIT_FEN;
	case ASSESS_INQUIRIES:
	case ASSESS_POST_SALE:
	case ASSESS_CONVERSATIONS:
	case ASSESS_SLOW_RECEPTIONS:
		return UNIT_COUNT;
	default:
		return UNIT_RATIO;
	}
}

/* Grows *array (of *count elements of size) by one zeroed element; returns it. */
static void *grow(void *array_ptr, size_t *count, size_t size)
{
	void **array = array_ptr;
	char *grown = xreallocarray(*array, *count + 1, size);

	memset(grown + *count * size, 0, size);
	*array = grown;
	return grown + (*count)++ * size;
}

/* ---- metrics and conditions ---- */

int assess_metric_value(enum assess_metric m, const int64_t *v, int64_t *num, int64_t *den)
{
	*den = 1;
	switch (m) {
	case ASSESS_INQUIRIES:
		*num = v[COUNTER_INQUIRIES];
		break;
	case ASSESS_POST_SALE:
		*num = v[COUNTER_POST_SALE];
		break;
	case ASSESS_CONVERSATIONS:
		*num = v[COUNTER_INQUIRIES] + v[COUNTER_POST_SALE];
		break;
	case ASSESS_REPLY_RATE:
		*num = v[COUNTER_REPLIED];
		*den = v[COUNTER_INQUIRIES] + v[COUNTER_POST_SALE];
		break;
	case ASSESS_FRT_AVG:
		*num = v[COUNTER_FRT_MS_SUM];
		*den = v[COUNTER_FIRST_RESPONSES];
		break;
	case ASSESS_ART_AVG:
		*num = v[COUNTER_RESPONSE_MS_SUM];
		*den = v[COUNTER_RESPONSES];
		break;
	case ASSESS_CONVERSION:
		*num = v[COUNTER_ORDERED];
		*den = v[COUNTER_INQUIRIES];
		break;
	case ASSESS_PAY_CONVERSION:
		*num = v[COUNTER_PAID];
		*den = v[COUNTER_ORDERED];
		break;
	case ASSESS_AOV:
		*num = v[COUNTER_SALES_FEN];
		*den = v[COUNTER_PAID];
		break;
	case ASSESS_SALES:
		*num = v[COUNTER_SALES_FEN];
		break;
	case ASSESS_ANSWER_RATIO:
		*num = v[COUNTER_AGENT_MSGS];
		*den = v[COUNTER_BUYER_MSGS];
		break;
	case ASSESS_RATE_3MIN:
		*num = v[COUNTER_HOURS_RESPONSES_3M];
		*den = v[COUNTER_HOURS_RESPONSES];
		break;
	case ASSESS_SLOW_RECEPTIONS:
		*num = v[COUNTER_SLOW_RESPONSES];
		break;
	case ASSESS_RETURNING_SHARE:
		*num = v[COUNTER_RETURNING];
		*den = v[COUNTER_INQUIRIES];
		break;
	case ASSESS_NEW_BUYER_CONVERSION:
		*num = v[COUNTER_ORDERED] - v[COUNTER_RETURNING_ORDERED];
		*den = v[COUNTER_INQUIRIES] - v[COUNTER_RETURNING];
		break;
	default:
		*num = 0;
		*den = 0;
	}
	return *den > 0;
}

/* a OP b for a = an / ad, b = bn / bd, both denominators positive: cross-multiplied
 * in 128 bits, so no rounding and no overflow decide a band. */
static int compare_fractions(int64_t an, int64_t ad, enum assess_op op, int64_t bn, int64_t bd)
{
	__int128 left = (__int128)an * bd, right = (__int128)bn * ad;

	switch (op) {
	case ASSESS_GE:
		return left >= right;
	case ASSESS_GT:
		return left > right;
	case ASSESS_LE:
		return left <= right;
	case ASSESS_LT:
		return left < right;
	}
	return 0;
}

int assess_condition_holds(const struct assess_condition *c, const int64_t *value,
                           const int64_t *average)
{
	for (unsigned i = 0; i < c->count; i++) {
		const struct assess_term *t = &c->terms[i];
		int64_t num, den, bnum, bden;
		if (!assess_metric_value(t->metric, value, &num, &den))
			return 0;
		if (t->against_average) {
			if (average == NULL ||
			    !assess_metric_value(t->metric, average, &bnum, &bden))
				return 0;
		} else {
			bnum = t->threshold;
			bden = t->scale;
		}
		if (!compare_fractions(num, den, t->op, bnum, bden))
			return 0;
	}
	return 1;
}

int assess_first_rule(const struct assess_team *team, enum assess_rule_kind kind,
                      const int64_t *value, const int64_t *average)
{
	for (unsigned i = 0; i < team->rule_count[kind]; i++)
		if (assess_condition_holds(&team->rules[kind][i].when, value, average))
			return (int)i;
	return -1;
}

int64_t assess_commission_fen(int64_t sales_fen, int64_t rate_e4)
{
	__int128 product = (__int128)sales_fen * rate_e4;

	return (int64_t)((product + 5000) / 10000);
}

int64_t assess_prorate(int64_t amount, int64_t part, int64_t whole)
{
	__int128 product = (__int128)amount * part * 2;
	__int128 q;

	if (whole <= 0)
		return amount;
	/* (2 × amount × part ± whole) / (2 × whole): half away from zero. */
	q = (product + (product < 0 ? -whole : whole)) / (2 * (__int128)whole);
	return (int64_t)q;
}

/* ---- the rules file ---- */

struct parser {
	const char *name;
	unsigned line;
	const char *line_start;
	char *err;
	size_t errlen;
};

static int parse_error(struct parser *p, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int parse_error(struct parser *p, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "%s:%u:%ld: ", p->name, p->line,
	             (long)(at - p->line_start) + 1);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *word_end(const char *s, const char *end)
{
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	return s;
}

static int word_is(const char *s, const char *e, const char *word)
{
	return (size_t)(e - s) == strlen(word) && memcmp(s, word, (size_t)(e - s)) == 0;
}

/* A decimal "12", "-0.5", "+500.25" as digits / 10^decimals. */
static int parse_decimal(const char *s, const char *e, int64_t *digits, int64_t *scale)
{
	int negative = 0, seen = 0, point = 0;
	int64_t d = 0, sc = 1;

	if (s < e && (*s == '+' || *s == '-'))
		negative = *s++ == '-';
	for (; s < e; s++) {
		if (*s == '.' && !point) {
			point = 1;
			continue;
		}
		if (*s < '0' || *s > '9' || d > (INT64_MAX - 9) / 10 || sc > 1000000000)
			return -1;
		d = d * 10 + (*s - '0');
		seen = 1;
		if (point)
			sc *= 10;
	}
	if (!seen)
		return -1;
	*digits = negative ? -d : d;
	*scale = sc;
	return 0;
}

/* A decimal with at most max_decimals, as an integer in units of 10^-max_decimals. */
static int parse_fixed(const char *s, const char *e, int max_decimals, int64_t *out)
{
	int64_t digits, scale, unit = 1;

	for (int i = 0; i < max_decimals; i++)
		unit *= 10;
	if (parse_decimal(s, e, &digits, &scale) == -1 || scale > unit)
		return -1;
	*out = digits * (unit / scale);
	return 0;
}

/* YYYY-MM-DD into days since 1970, from 1970 on. */
static int parse_date(const char *s, const char *e, int64_t *day);

/* ---- periods ---- */

int assess_parse_day(const char *text, int64_t *day)
{
	return parse_date(text, text + strlen(text), day);
}

int assess_parse_month(const char *text, int64_t *first, int64_t *last)
{
	char day[11];

	if (strlen(text) != 7)
		return -1;
	snprintf(day, sizeof(day), "%s-01", text);
	if (assess_parse_day(day, first) == -1)
		return -1;
	int year = atoi(text), month = atoi(text + 5);
	*last = (month == 12 ? timefmt_days_from_civil(year + 1, 1, 1)
	                     : timefmt_days_from_civil(year, (unsigned)month + 1, 1)) -
	        1;
	return 0;
}

/* Monday = 0 .. Sunday = 6; 1970-01-01 was a Thursday. */
static int64_t weekday(int64_t day)
{
	return ((day % 7) + 7 + 3) % 7;
}

int assess_parse_week(const char *text, int64_t *first, int64_t *last)
{
	int64_t jan4, monday;
	int year, week;

	if (strlen(text) != 8 || text[4] != '-' || text[5] != 'W')
		return -1;
	for (int i = 0; i < 8; i++)
		if (i != 4 && i != 5 && (text[i] < '0' || text[i] > '9'))
			return -1;
	year = atoi(text);
	week = atoi(text + 6);
	if (year < 1971 || week < 1 || week > 53)
		return -1;
	jan4 = timefmt_days_from_civil(year, 1, 4); /* ISO 8601: week 1 holds 4 January */
	monday = jan4 - weekday(jan4) + 7 * (int64_t)(week - 1);
	/* Week 53 exists only when its Thursday is still in the year. */
	if (week == 53 && monday + 3 >= timefmt_days_from_civil(year + 1, 1, 1))
		return -1;
	*first = monday;
	*last = monday + 6;
	return 0;
}

void assess_day_text(int64_t day, char out[11])
{
	/* civil_from_days (H. Hinnant), days since 1970 into a proleptic Gregorian date. */
	int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);

	snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

static int parse_date(const char *s, const char *e, int64_t *day)
{
	return timefmt_parse_date(s, (size_t)(e - s), day) == -1 || *day < 0 ? -1 : 0;
}

/* THRESHOLD of a term in the metric's unit: "60%" or "0.6" (ratios), "6s" or
 * "6000ms" (times), yuan "128.50" (money), "5" (counts), or "average". */
static int parse_threshold(struct parser *p, struct assess_term *t, const char *s, const char *e)
{
	int64_t digits, scale;
	const char *num_end = e;
	enum metric_unit unit = metric_unit(t->metric);

	if (word_is(s, e, "average")) {
		t->against_average = 1;
		return 0;
	}
	if (unit == UNIT_RATIO && e > s && e[-1] == '%')
		num_end = e - 1;
	else if (unit == UNIT_MS && e - s > 2 && memcmp(e - 2, "ms", 2) == 0)
		num_end = e - 2;
	else if (unit == UNIT_MS && e > s && e[-1] == 's')
		num_end = e - 1;
	else if (unit == UNIT_MS)
		return parse_error(p, s, "a time needs its unit: \"6s\" or \"6000ms\"");
	if (parse_decimal(s, num_end, &digits, &scale) == -1 || digits < 0)
		return parse_error(p, s, "\"%.*s\" is not a non-negative number%s", (int)(e - s), s,
		                   unit == UNIT_RATIO ? " or percentage" : "");
	if (unit == UNIT_RATIO && num_end != e)
		scale *= 100;
	else if (unit == UNIT_MS && num_end == e - 1)
		digits *= 1000;
	else if (unit == UNIT_FEN)
		digits *= 100;
	t->threshold = digits;
	t->scale = scale;
	return 0;
}

/* TERM: METRIC OP THRESHOLD, spaces optional around OP. */
static int parse_term(struct parser *p, struct assess_term *t, const char **sp, const char *end)
{
	const char *s = skip_space(*sp, end), *name = s, *value;
	size_t i;

	while (s < end && ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
		s++;
	if (s == name)
		return parse_error(p, name, "a condition term is METRIC OP VALUE");
	for (i = 0; i < ASSESS_METRICS && !word_is(name, s, metric_names[i]); i++)
		;
	if (i == ASSESS_METRICS)
		return parse_error(p, name, "unknown metric \"%.*s\"", (int)(s - name), name);
	t->metric = (enum assess_metric)i;
	s = skip_space(s, end);
	if (end - s >= 2 && s[0] == '>' && s[1] == '=')
		t->op = ASSESS_GE, s += 2;
	else if (end - s >= 2 && s[0] == '<' && s[1] == '=')
		t->op = ASSESS_LE, s += 2;
	else if (s < end && s[0] == '>')
		t->op = ASSESS_GT, s++;
	else if (s < end && s[0] == '<')
		t->op = ASSESS_LT, s++;
	else
		return parse_error(p, s, "expected >=, >, <= or < after %s", metric_names[i]);
	value = skip_space(s, end);
	s = word_end(value, end);
	if (value == s)
		return parse_error(p, value, "a value after the operator");
	if (parse_threshold(p, t, value, s) == -1)
		return -1;
	*sp = s;
	return 0;
}

/* CONDITION: "otherwise", or TERM [and TERM]... up to end. */
static int parse_condition(struct parser *p, struct assess_condition *c, const char *s,
                           const char *end)
{
	const char *w;

	s = skip_space(s, end);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	c->text = xstrndup(s, (size_t)(end - s));
	if (word_is(s, end, "otherwise"))
		return 0;
	for (;;) {
		if (c->count == ASSESS_TERMS)
			return parse_error(p, s, "more than %d terms", ASSESS_TERMS);
		if (parse_term(p, &c->terms[c->count++], &s, end) == -1)
			return -1;
		s = skip_space(s, end);
		if (s == end)
			return 0;
		w = word_end(s, end);
		if (!word_is(s, w, "and"))
			return parse_error(p, s, "expected \"and\" or the end of the line");
		s = w;
	}
}

/* The value of a rule: "+500" yuan, "5%" a rate, a tier name. */
static int parse_rule_value(struct parser *p, enum assess_rule_kind kind, struct assess_rule *r,
                            const char *s, const char *e)
{
	if (kind == RULE_BAND) {
		if (parse_fixed(s, e, 2, &r->amount) == -1)
			return parse_error(p, s,
			                   "a bonus is yuan with at most 2 decimals (+500, -200)");
	} else if (kind == RULE_COMMISSION) {
		if (e - s < 2 || e[-1] != '%' || parse_fixed(s, e - 1, 2, &r->amount) == -1 ||
		    r->amount < 0 || r->amount > 10000)
			return parse_error(p, s,
			                   "a commission is a rate from 0%% to 100%% with at "
			                   "most 2 decimals (3%%, 4.5%%)");
	}
	r->name = xstrndup(s, (size_t)(e - s));
	return 0;
}

/* band = +500 if CONDITION | band = -200 otherwise; commission, tier alike; target =
 * CONDITION. */
static int parse_rule(struct parser *p, struct assess_team *team, enum assess_rule_kind kind,
                      const char *s, const char *end)
{
	struct assess_rule *r;
	const char *value, *value_end, *w;

	if (team->rule_count[kind] == ASSESS_RULES)
		return parse_error(p, s, "more than %d rules of this kind", ASSESS_RULES);
	r = &team->rules[kind][team->rule_count[kind]++];
	if (kind == RULE_TARGET) {
		r->name = xstrndup("", 0);
		return parse_condition(p, &r->when, s, end);
	}
	value = skip_space(s, end);
	value_end = word_end(value, end);
	if (value == value_end)
		return parse_error(p, value, "expected VALUE if CONDITION, or VALUE otherwise");
	if (parse_rule_value(p, kind, r, value, value_end) == -1)
		return -1;
	s = skip_space(value_end, end);
	w = word_end(s, end);
	if (word_is(s, w, "otherwise")) {
		if (skip_space(w, end) != end)
			return parse_error(p, skip_space(w, end),
			                   "nothing may follow \"otherwise\"");
		return parse_condition(p, &r->when, s, w);
	}
	if (!word_is(s, w, "if"))
		return parse_error(p, s, "expected \"if CONDITION\" or \"otherwise\"");
	return parse_condition(p, &r->when, w, end);
}

/* member = NAME [from YYYY-MM-DD] [until YYYY-MM-DD] */
static int parse_member(struct parser *p, struct assess_config *cfg, unsigned team, const char *s,
                        const char *end)
{
	struct assess_member *m;
	const char *name = skip_space(s, end), *name_end = word_end(name, end), *w, *v, *ve;

	if (name == name_end)
		return parse_error(p, name, "member needs a NAME");
	m = grow(&cfg->members, &cfg->member_count, sizeof(*m));
	m->person = xstrndup(name, (size_t)(name_end - name));
	m->team = team;
	m->from = INT64_MIN;
	m->until = INT64_MAX;
	for (s = skip_space(name_end, end); s < end; s = skip_space(ve, end)) {
		w = word_end(s, end);
		v = skip_space(w, end);
		ve = word_end(v, end);
		if (!word_is(s, w, "from") && !word_is(s, w, "until"))
			return parse_error(p, s,
			                   "expected \"from YYYY-MM-DD\" or \"until YYYY-MM-DD\"");
		if (parse_date(v, ve, word_is(s, w, "from") ? &m->from : &m->until) == -1)
			return parse_error(p, v, "a date is YYYY-MM-DD");
	}
	if (m->from > m->until)
		return parse_error(p, name, "from is after until");
	/* One team a day: a person in two teams on one day could be paid twice. */
	for (size_t i = 0; i + 1 < cfg->member_count; i++) {
		const struct assess_member *o = &cfg->members[i];
		if (strcmp(o->person, m->person) == 0 && o->from <= m->until && m->from <= o->until)
			return parse_error(p, name,
			                   "%s is already in team %s on some of these days",
			                   m->person, cfg->teams[o->team].name);
	}
	return 0;
}

/* [aliases]: PERSON = ACCOUNT [ACCOUNT]... */
static int parse_alias(struct parser *p, struct assess_config *cfg, const char *key,
                       const char *key_end, const char *s, const char *end)
{
	if (skip_space(s, end) == end)
		return parse_error(p, s, "an alias line is PERSON = ACCOUNT [ACCOUNT]...");
	for (s = skip_space(s, end); s < end; s = skip_space(s, end)) {
		const char *w = word_end(s, end);
		struct assess_alias *a;
		for (size_t i = 0; i < cfg->alias_count; i++)
			if (word_is(s, w, cfg->aliases[i].account))
				return parse_error(p, s, "account %.*s already belongs to %s",
				                   (int)(w - s), s, cfg->aliases[i].person);
		a = grow(&cfg->aliases, &cfg->alias_count, sizeof(*a));
		a->account = xstrndup(s, (size_t)(w - s));
		a->person = xstrndup(key, (size_t)(key_end - key));
		s = w;
	}
	return 0;
}

enum section { SECTION_NONE, SECTION_ASSESS, SECTION_TEAM, SECTION_ALIASES };

struct parse_state {
	enum section section;
	unsigned team;
};

static int parse_section(struct parser *p, struct assess_config *cfg, struct parse_state *st,
                         const char *s, const char *end)
{
	const char *close = end;

	while (close > s && close[-1] != ']')
		close--;
	if (close == s || skip_space(close, end) != end)
		return parse_error(p, s, "a section line is [assess], [aliases] or [team NAME]");
	close--;
	s = skip_space(s + 1, close);
	if (word_is(s, close, "assess")) {
		st->section = SECTION_ASSESS;
	} else if (word_is(s, close, "aliases")) {
		st->section = SECTION_ALIASES;
	} else if (close - s > 4 && memcmp(s, "team", 4) == 0 && (s[4] == ' ' || s[4] == '\t')) {
		const char *name = skip_space(s + 4, close), *name_end = close;
		struct assess_team *t;
		while (name_end > name && (name_end[-1] == ' ' || name_end[-1] == '\t'))
			name_end--;
		if (name == name_end || word_end(name, name_end) != name_end)
			return parse_error(p, name, "a team name is one word");
		for (size_t i = 0; i < cfg->team_count; i++)
			if (word_is(name, name_end, cfg->teams[i].name))
				return parse_error(p, name, "team %s is defined twice",
				                   cfg->teams[i].name);
		t = grow(&cfg->teams, &cfg->team_count, sizeof(*t));
		t->name = xstrndup(name, (size_t)(name_end - name));
		st->section = SECTION_TEAM;
		st->team = (unsigned)(cfg->team_count - 1);
	} else {
		return parse_error(p, s, "unknown section (assess, aliases or team NAME)");
	}
	return 0;
}

static int parse_setting(struct parser *p, struct assess_config *cfg, const char *key,
                         const char *key_end, const char *s, const char *end)
{
	const char *v = skip_space(s, end), *ve = word_end(v, end);

	if (skip_space(ve, end) != end)
		return parse_error(p, skip_space(ve, end), "one value only");
	if (word_is(key, key_end, "compare_with")) {
		if (word_is(v, ve, "shop"))
			cfg->compare_with = COMPARE_SHOP;
		else if (word_is(v, ve, "team"))
			cfg->compare_with = COMPARE_TEAM;
		else
			return parse_error(p, v, "compare_with is shop or team");
	} else if (word_is(key, key_end, "prorate")) {
		if (word_is(v, ve, "days"))
			cfg->prorate = 1;
		else if (word_is(v, ve, "none"))
			cfg->prorate = 0;
		else
			return parse_error(p, v, "prorate is days or none");
	} else {
		return parse_error(p, key, "unknown setting (compare_with, prorate)");
	}
	return 0;
}

static int parse_line(struct parser *p, struct assess_config *cfg, struct parse_state *st,
                      const char *s, const char *end)
{
	static const char *const rule_keys[RULE_KINDS] = {"band", "commission", "tier", "target"};
	const char *key, *key_end, *eq;

	s = skip_space(s, end);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (s == end || *s == '#')
		return 0;
	if (*s == '[')
		return parse_section(p, cfg, st, s, end);
	if ((eq = memchr(s, '=', (size_t)(end - s))) == NULL)
		return parse_error(p, s, "expected KEY = VALUE");
	key = s;
	key_end = eq;
	while (key_end > key && (key_end[-1] == ' ' || key_end[-1] == '\t'))
		key_end--;
	if (key == key_end)
		return parse_error(p, s, "a key before '='");
	switch (st->section) {
	case SECTION_NONE:
		return parse_error(p, s, "a line before any section");
	case SECTION_ASSESS:
		return parse_setting(p, cfg, key, key_end, eq + 1, end);
	case SECTION_ALIASES:
		return parse_alias(p, cfg, key, key_end, eq + 1, end);
	case SECTION_TEAM:
		if (word_is(key, key_end, "member"))
			return parse_member(p, cfg, st->team, eq + 1, end);
		for (int k = 0; k < RULE_KINDS; k++)
			if (word_is(key, key_end, rule_keys[k]))
				return parse_rule(p, &cfg->teams[st->team],
				                  (enum assess_rule_kind)k, eq + 1, end);
		return parse_error(p, key, "unknown key (band, commission, tier, target, member)");
	}
	return 0;
}

/* After the last line: members and aliases must not contradict each other. */
static int parse_check(struct parser *p, struct assess_config *cfg)
{
	for (size_t i = 0; i < cfg->member_count; i++) {
		const char *name = cfg->members[i].person;
		for (size_t k = 0; k < cfg->alias_count; k++)
			if (strcmp(cfg->aliases[k].account, name) == 0 &&
			    strcmp(cfg->aliases[k].person, name) != 0) {
				snprintf(p->err, p->errlen,
				         "%s: member %s is an account of %s: name the person",
				         p->name, name, cfg->aliases[k].person);
				return -1;
			}
	}
	return 0;
}

struct assess_config *assess_config_parse(const char *text, size_t len, const char *name, char *err,
                                          size_t errlen)
{
	struct assess_config *cfg = xcalloc(1, sizeof(*cfg));
	struct parser p = {.name = name, .err = err, .errlen = errlen};
	struct parse_state st = {.section = SECTION_NONE};
	const char *s = text, *end = text + len, *eol;

	cfg->compare_with = COMPARE_SHOP;
	cfg->prorate = 1;
	s += utf8_bom_length(text, len); /* a BOM from a Windows editor */
	for (; s < end; s = eol + 1) {
		if ((eol = memchr(s, '\n', (size_t)(end - s))) == NULL)
			eol = end;
		p.line++;
		p.line_start = s;
		if (memchr(s, '\0', (size_t)(eol - s)) != NULL) {
			parse_error(&p, s, "a NUL byte: not a text file");
			goto fail;
		}
		if (parse_line(&p, cfg, &st, s, eol) == -1)
			goto fail;
		if (eol == end)
			break;
	}
	if (cfg->team_count == 0) {
		snprintf(err, errlen, "%s: no [team NAME] section", name);
		goto fail;
	}
	if (parse_check(&p, cfg) == -1)
		goto fail;
	return cfg;
fail:
	assess_config_free(cfg);
	return NULL;
}

struct assess_config *assess_config_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct assess_config *cfg;
	char *text;
	size_t len;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text = xcalloc(ASSESS_FILE_MAX + 1, 1);
	len = fread(text, 1, ASSESS_FILE_MAX + 1, f);
	if (ferror(f) || len > ASSESS_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path,
		         ferror(f) ? strerror(errno) : "larger than 1 MiB: not a rules file");
		cfg = NULL;
	} else {
		cfg = assess_config_parse(text, len, path, err, errlen);
	}
	fclose(f);
	free(text);
	return cfg;
}

void assess_config_free(struct assess_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->team_count; i++) {
		free(cfg->teams[i].name);
		for (int k = 0; k < RULE_KINDS; k++)
			for (unsigned r = 0; r < cfg->teams[i].rule_count[k]; r++) {
				free(cfg->teams[i].rules[k][r].name);
				free(cfg->teams[i].rules[k][r].when.text);
			}
	}
	free(cfg->teams);
	for (size_t i = 0; i < cfg->member_count; i++)
		free(cfg->members[i].person);
	free(cfg->members);
	for (size_t i = 0; i < cfg->alias_count; i++) {
		free(cfg->aliases[i].account);
		free(cfg->aliases[i].person);
	}
	free(cfg->aliases);
	free(cfg);
}

const char *assess_person(const struct assess_config *cfg, const char *account)
{
	for (size_t i = 0; i < cfg->alias_count; i++)
		if (strcmp(cfg->aliases[i].account, account) == 0)
			return cfg->aliases[i].person;
	return account;
}

int assess_team_on(const struct assess_config *cfg, const char *person, int64_t day)
{
	for (size_t i = 0; i < cfg->member_count; i++) {
		const struct assess_member *m = &cfg->members[i];
		if (strcmp(m->person, person) == 0 && m->from <= day && day <= m->until)
			return (int)m->team;
	}
	return -1;
}

/* ---- folding and evaluating ---- */

struct assess {
	const struct assess_config *cfg;
	int64_t first, last;
	struct assess_row *rows;
	size_t row_count;
};

struct assess *assess_new(const struct assess_config *cfg, int64_t first, int64_t last)
{
	struct assess *a = xcalloc(1, sizeof(*a));

	a->cfg = cfg;
	a->first = first;
	a->last = last;
	return a;
}

void assess_free(struct assess *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->row_count; i++) {
		free(a->rows[i].shop);
		free(a->rows[i].person);
		free(a->rows[i].accounts);
	}
	free(a->rows);
	free(a);
}

int64_t assess_period_days(const struct assess *a)
{
	return a->last - a->first + 1;
}

static int same(const char *x, const char *y)
{
	return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

static struct assess_row *find_row(struct assess *a, enum assess_row_kind kind, const char *shop,
                                   int team, const char *person)
{
	struct assess_row *row;

	for (size_t i = 0; i < a->row_count; i++) {
		row = &a->rows[i];
		if (row->kind == kind && row->team == team && strcmp(row->shop, shop) == 0 &&
		    same(row->person, person))
			return row;
	}
	row = grow(&a->rows, &a->row_count, sizeof(*row));
	row->kind = kind;
	row->shop = xstrdup(shop);
	row->person = person != NULL ? xstrdup(person) : NULL;
	row->team = team;
	row->accounts = xstrndup("", 0);
	row->band = row->commission = row->tier = -1;
	return row;
}

/* Adds account to the row's sorted, space-separated list, once. */
static void row_note_account(struct assess_row *row, const char *account)
{
	size_t n = 0, len = strlen(row->accounts), alen = strlen(account), total = 0;
	const char *s = row->accounts;
	char **list, *out;

	for (const char *w = s; *w != '\0'; n++) {
		size_t l = strcspn(w, " ");
		if (l == alen && memcmp(w, account, alen) == 0)
			return;
		w += l + (w[l] == ' ');
	}
	list = xcalloc(n + 1, sizeof(*list));
	n = 0;
	for (const char *w = s; *w != '\0'; n++) {
		size_t l = strcspn(w, " ");
		list[n] = xstrndup(w, l);
		w += l + (w[l] == ' ');
	}
	list[n++] = xstrndup(account, alen);
	for (size_t i = 1; i < n; i++) /* insertion sort: a person has a few accounts */
		for (size_t k = i; k > 0 && strcmp(list[k - 1], list[k]) > 0; k--) {
			char *t = list[k];
			list[k] = list[k - 1];
			list[k - 1] = t;
		}
	out = xcalloc(len + alen + 2, 1);
	for (size_t i = 0; i < n; i++) {
		total += (size_t)sprintf(out + total, "%s%s", i ? " " : "", list[i]);
		free(list[i]);
	}
	free(list);
	free(row->accounts);
	row->accounts = out;
}

static void add_values(int64_t *into, const int64_t *value)
{
	for (size_t i = 0; i < COUNTER_WIDTH; i++)
		into[i] += value[i];
}

void assess_add(struct assess *a, const char *shop, const char *account, int64_t day,
                const int64_t *value)
{
	const char *person = assess_person(a->cfg, account);
	int team = assess_team_on(a->cfg, person, day == ASSESS_UNDATED ? a->last : day);
	struct assess_row *row;
	int any = 0;

	for (size_t i = 0; i < COUNTER_WIDTH && !any; i++)
		any = value[i] != 0;
	if (!any)
		return;
	row = find_row(a, ROW_PERSON, shop, team, person);
	add_values(row->value, value);
	row_note_account(row, account);
}

void assess_add_shop(struct assess *a, const char *shop, const int64_t *value)
{
	add_values(find_row(a, ROW_SHOP, shop, -1, NULL)->value, value);
}

/* Days of the period the person spent in team (-1: in none). */
static int64_t days_in_team(const struct assess *a, const char *person, int team)
{
	int64_t days = 0;

	for (int64_t d = a->first; d <= a->last; d++)
		if (assess_team_on(a->cfg, person, d) == team)
			days++;
	return days;
}

const struct assess_row *assess_average_of(const struct assess *a, const struct assess_row *row)
{
	enum assess_row_kind kind = a->cfg->compare_with == COMPARE_TEAM ? ROW_TEAM : ROW_SHOP;
	int team = kind == ROW_TEAM ? row->team : -1;

	for (size_t i = 0; i < a->row_count; i++)
		if (a->rows[i].kind == kind && a->rows[i].team == team &&
		    strcmp(a->rows[i].shop, row->shop) == 0)
			return &a->rows[i];
	return NULL;
}

static void evaluate(struct assess *a, struct assess_row *row)
{
	const struct assess_team *team = &a->cfg->teams[row->team];
	const struct assess_row *avg_row = assess_average_of(a, row);
	const int64_t *avg = avg_row != NULL ? avg_row->value : NULL;
	int r;

	/* Without a conversation there is nothing to assess: no band, no fine. */
	if (row->value[COUNTER_INQUIRIES] + row->value[COUNTER_POST_SALE] == 0)
		return;
	if ((r = row->band = assess_first_rule(team, RULE_BAND, row->value, avg)) >= 0) {
		row->bonus_full_fen = team->rules[RULE_BAND][r].amount;
		row->bonus_fen = a->cfg->prorate ? assess_prorate(row->bonus_full_fen, row->days,
		                                                  assess_period_days(a))
		                                 : row->bonus_full_fen;
	}
	if ((r = row->commission = assess_first_rule(team, RULE_COMMISSION, row->value, avg)) >=
	    0) {
		row->commission_rate_e4 = team->rules[RULE_COMMISSION][r].amount;
		row->commission_fen =
		    assess_commission_fen(row->value[COUNTER_SALES_FEN], row->commission_rate_e4);
	}
	row->tier = assess_first_rule(team, RULE_TIER, row->value, avg);
	row->targets_total = team->rule_count[RULE_TARGET];
	for (unsigned i = 0; i < team->rule_count[RULE_TARGET]; i++) {
		if (assess_condition_holds(&team->rules[RULE_TARGET][i].when, row->value, avg))
			row->targets_met++;
		else
			row->targets_missed |= 1u << i;
	}
}

static int compare_rows(const void *x, const void *y)
{
	const struct assess_row *a = x, *b = y;
	int c = strcmp(a->shop, b->shop);
	/* Teams in file order, then no team (-1), then the shop row. */
	int64_t ta = a->kind == ROW_SHOP ? INT64_MAX : a->team < 0 ? INT64_MAX - 1 : a->team;
	int64_t tb = b->kind == ROW_SHOP ? INT64_MAX : b->team < 0 ? INT64_MAX - 1 : b->team;

	if (c != 0)
		return c;
	if (ta != tb)
		return ta < tb ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->person != NULL ? a->person : "", b->person != NULL ? b->person : "");
}

void assess_finish(struct assess *a)
{
	size_t persons = a->row_count;

	for (size_t i = 0; i < persons; i++) {
		struct assess_row *row;
		if (a->rows[i].kind != ROW_PERSON)
			continue;
		a->rows[i].days = days_in_team(a, a->rows[i].person, a->rows[i].team);
		row = find_row(a, ROW_TEAM, a->rows[i].shop, a->rows[i].team, NULL);
		add_values(row->value, a->rows[i].value); /* a->rows may have moved */
	}
	/* Every shop has its own row, even when its `*` counters were not read. */
	for (size_t i = 0; i < persons; i++)
		find_row(a, ROW_SHOP, a->rows[i].shop, -1, NULL);
	for (size_t i = 0; i < a->row_count; i++)
		if (a->rows[i].kind == ROW_PERSON && a->rows[i].team >= 0)
			evaluate(a, &a->rows[i]);
	for (size_t i = 0; i < a->row_count; i++) {
		struct assess_row *sum;
		if (a->rows[i].kind != ROW_PERSON)
			continue;
		sum = find_row(a, ROW_TEAM, a->rows[i].shop, a->rows[i].team, NULL);
		sum->bonus_fen += a->rows[i].bonus_fen;
		sum->commission_fen += a->rows[i].commission_fen;
	}
	qsort(a->rows, a->row_count, sizeof(*a->rows), compare_rows);
}

size_t assess_row_count(const struct assess *a)
{
	return a->row_count;
}

const struct assess_row *assess_row_at(const struct assess *a, size_t i)
{
	return &a->rows[i];
}
