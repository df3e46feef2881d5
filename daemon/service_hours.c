/*
 * service_hours.c owns the service-hours schedules: their text form, a bitmap of the
 * minutes of the week, and the per-shop set. It knows nothing of turns or alerts
 * (engine.c asks it whether a moment is inside).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatlogd/service_hours.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"

#define MINUTES_PER_DAY 1440
#define SECONDS_PER_DAY 86400
#define MAX_RANGES 16 /* per rule: more is a typo, not a shift plan */

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

struct range {
	int start, end; /* minutes of the day; end may be below start (past midnight) */
};

/* What the last rule naming a day said about it. */
struct day_plan {
	struct range ranges[MAX_RANGES];
	int count;
};

/* A day name (exactly three letters), its index; or -1. */
static int day_index(const char *p, size_t len)
{
	for (int d = 0; d < 7; d++)
		if (len == 3 && strncasecmp(p, day_names[d], 3) == 0)
			return d;
	return -1;
}

/* A token "mon" or "fri-mon" into days[]; -1 when it is no day. */
static int parse_days(const char *p, size_t len, int days[7])
{
	int from = day_index(p, len < 3 ? len : 3), to = from;

	if (from < 0 || (len != 3 && (len != 7 || p[3] != '-' || (to = day_index(p + 4, 3)) < 0)))
		return -1;
	for (int d = from;; d = (d + 1) % 7) { /* fri-mon runs across the weekend */
		days[d] = 1;
		if (d == to)
			return 0;
	}
}

/* "HH:MM" (00:00 to 24:00) into minutes; -1 if it is not one. */
static int parse_clock(const char *s, int *minutes)
{
	int hours, mins;

	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' || s[3] < '0' ||
	    s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	hours = (s[0] - '0') * 10 + (s[1] - '0');
	mins = (s[3] - '0') * 10 + (s[4] - '0');
	if (hours > 24 || (hours == 24 && mins != 0))
		return -1;
	*minutes = hours * 60 + mins;
	return 0;
}

/* A token "HH:MM-HH:MM"; 24:00 cannot start one, and 00:00 ending one means midnight. */
static int parse_range(const char *p, size_t len, struct range *r)
{
	if (len != 11 || p[5] != '-' || parse_clock(p, &r->start) == -1 ||
	    parse_clock(p + 6, &r->end) == -1 || r->start == MINUTES_PER_DAY || r->start == r->end)
		return -1;
	if (r->end == 0)
		r->end = MINUTES_PER_DAY;
	return 0;
}

/* The rule being read: its days (none named yet: every day) and ranges. */
struct rule {
	int days[7];
	int named_days, off;
	struct day_plan plan;
};

static void rule_reset(struct rule *r)
{
	memset(r, 0, sizeof(*r));
}

/* Puts a finished rule into the plan of each day it names. */
static int rule_apply(const struct rule *r, struct day_plan plan[7], char *err, size_t errlen)
{
	if (r->plan.count == 0 && !r->off) {
		snprintf(err, errlen,
		         "days without a time range (expected e.g. mon-fri 09:00-18:00)");
		return -1;
	}
	for (int d = 0; d < 7; d++)
		if (r->days[d] || !r->named_days)
			plan[d] = r->plan;
	return 0;
}

/*
 * Tokens are separated by blanks, ',' and ';'. Day tokens gather into the days of a
 * rule; a day token after the rule's ranges starts the next rule. So
 * "mon-fri 09:00-18:00, sat,sun 10:00-16:00" and "...; sat,sun ..." read the same.
 */
static int parse_rules(const char *p, struct day_plan plan[7], char *err, size_t errlen)
{
	struct rule rule;

	rule_reset(&rule);
	for (;;) {
		size_t len;
		int days[7] = {0};
		struct range range;

		p += strspn(p, " \t,;");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t,;");
		if (parse_days(p, len, days) == 0) {
			if (rule.plan.count > 0 || rule.off) {
				if (rule_apply(&rule, plan, err, errlen) == -1)
					return -1;
				rule_reset(&rule);
			}
			rule.named_days = 1;
			for (int d = 0; d < 7; d++)
				rule.days[d] |= days[d];
		} else if (len == 3 && strncasecmp(p, "off", 3) == 0 && rule.plan.count == 0) {
			rule.off = 1;
		} else if (!rule.off && parse_range(p, len, &range) == 0) {
			if (rule.plan.count == MAX_RANGES) {
				snprintf(err, errlen, "more than %d ranges for the same days",
				         MAX_RANGES);
				return -1;
			}
			rule.plan.ranges[rule.plan.count++] = range;
		} else {
			snprintf(err, errlen,
			         "unexpected \"%.*s\" (expected days such as mon-fri or sat, time "
			         "ranges HH:MM-HH:MM such as 08:00-24:00, or off)",
			         (int)len, p);
			return -1;
		}
		p += len;
	}
	if (rule.plan.count == 0 && !rule.off && !rule.named_days) {
		snprintf(err, errlen, "no time range");
		return -1;
	}
	return rule_apply(&rule, plan, err, errlen);
}

static void set_minutes(struct service_hours *h, int from, int to)
{
	for (int m = from; m < to; m++) {
		int bit = m % SERVICE_HOURS_MINUTES;
		h->minute_bits[bit / 64] |= UINT64_C(1) << (bit % 64);
	}
}

int service_hours_parse(struct service_hours *out, const char *text, char *err, size_t errlen)
{
	struct day_plan plan[7];
	const char *p = text + strspn(text, " \t");
	int all = 1;

	memset(out, 0, sizeof(*out));
	if (*p == '\0' || strcasecmp(p, "always") == 0) {
		out->always = 1;
		return 0;
	}
	/* a day no rule names has no service: "mon-fri 09:00-18:00" is a weekday shop */
	for (int d = 0; d < 7; d++)
		plan[d].count = 0;
	if (parse_rules(p, plan, err, errlen) == -1)
		return -1;
	for (int d = 0; d < 7; d++)
		for (int i = 0; i < plan[d].count; i++) {
			const struct range *r = &plan[d].ranges[i];
			int base = d * MINUTES_PER_DAY;
			if (r->end > r->start)
				set_minutes(out, base + r->start, base + r->end);
			else /* past midnight: the rest of the day and the next morning */
				set_minutes(out, base + r->start, base + MINUTES_PER_DAY + r->end);
		}
	for (int w = 0; w < SERVICE_HOURS_MINUTES / 64; w++)
		all &= out->minute_bits[w] == UINT64_MAX;
	for (int m = SERVICE_HOURS_MINUTES / 64 * 64; m < SERVICE_HOURS_MINUTES; m++)
		all &= (int)(out->minute_bits[m / 64] >> (m % 64)) & 1;
	out->always = all;
	return 0;
}

int service_hours_contains(const struct service_hours *h, int64_t ts_ms)
{
	int64_t local, days, minute_of_week;

	if (h->always)
		return 1;
	local = timefmt_local_seconds(ts_ms);
	days = local / SECONDS_PER_DAY - (local % SECONDS_PER_DAY < 0);
	/* 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday */
	minute_of_week =
	    ((days + 3) % 7 + 7) % 7 * MINUTES_PER_DAY + (local - days * SECONDS_PER_DAY) / 60;
	return (int)(h->minute_bits[minute_of_week / 64] >> (minute_of_week % 64)) & 1;
}

/* ---- the set ---- */

struct shop_hours {
	char *shop;
	size_t len;
	struct service_hours hours;
};

struct service_hours_set {
	struct service_hours fallback;
	struct shop_hours *shops;
	size_t count;
};

struct service_hours_set *service_hours_set_new(const char *default_text, char *err, size_t errlen)
{
	struct service_hours_set *set = xcalloc(1, sizeof(*set));

	if (service_hours_parse(&set->fallback, default_text, err, errlen) == -1) {
		free(set);
		return NULL;
	}
	return set;
}

void service_hours_set_free(struct service_hours_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->count; i++)
		free(set->shops[i].shop);
	free(set->shops);
	free(set);
}

int service_hours_set_add(struct service_hours_set *set, const char *shop, const char *text,
                          char *err, size_t errlen)
{
	struct shop_hours *entry;

	set->shops = xreallocarray(set->shops, set->count + 1, sizeof(*set->shops));
	entry = &set->shops[set->count];
	if (service_hours_parse(&entry->hours, text, err, errlen) == -1)
		return -1;
	entry->shop = xstrdup(shop);
	entry->len = strlen(shop);
	set->count++;
	return 0;
}

const struct service_hours *service_hours_set_find(const struct service_hours_set *set,
                                                   const char *shop, size_t len)
{
	/* the last entry of a shop wins, as a key given twice keeps its last value */
	for (size_t i = set->count; i-- > 0;)
		if (set->shops[i].len == len && memcmp(set->shops[i].shop, shop, len) == 0)
			return &set->shops[i].hours;
	return &set->fallback;
}

int service_hours_set_always(const struct service_hours_set *set)
{
	if (!set->fallback.always)
		return 0;
	for (size_t i = 0; i < set->count; i++)
		if (!set->shops[i].hours.always)
			return 0;
	return 1;
}
