/*
 * Service hours: the schedule syntax, its edges, and a randomized check of
 * service_hours_contains against localtime_r and the rules written out by hand.
 */
#include <stdlib.h>
#include <time.h>

#include "chatlogd/service_hours.h"
#include "chatlogd/timefmt.h"
#include "check.h"

static int64_t at(const char *rfc3339)
{
	int64_t ms = 0;
	if (timefmt_parse_rfc3339(rfc3339, strlen(rfc3339), &ms) == -1)
		fprintf(stderr, "bad time %s\n", rfc3339);
	return ms;
}

/* 1 when text parses and ts is inside; -1 when it does not parse. */
static int inside(const char *text, const char *ts)
{
	struct service_hours h;
	char err[256];
	if (service_hours_parse(&h, text, err, sizeof(err)) == -1)
		return -1;
	return service_hours_contains(&h, at(ts));
}

static void test_every_day_range_has_inclusive_start_exclusive_end(void)
{
	/* 2026-11-24 is a Tuesday */
	CHECK_INT(inside("08:00-24:00", "2026-11-24T07:59:59+08:00"), 0);
	CHECK_INT(inside("08:00-24:00", "2026-11-24T08:00:00+08:00"), 1);
	CHECK_INT(inside("08:00-24:00", "2026-11-24T23:59:59.999+08:00"), 1);
	CHECK_INT(inside("08:00-24:00", "2026-11-25T00:00:00+08:00"), 0);
	CHECK_INT(inside("08:00-00:00", "2026-11-24T23:59:00+08:00"), 1); /* 00:00 ends the day */
	/* the same instant written in UTC */
	CHECK_INT(inside("08:00-24:00", "2026-11-24T00:00:00Z"), 1);
	CHECK_INT(inside("08:00-24:00", "2026-11-23T23:59:59Z"), 0);
}

static void test_weekday_rules_and_days_no_rule_names(void)
{
	const char *plan = "mon-fri 09:00-18:00; sat 10:00-16:00";
	CHECK_INT(inside(plan, "2026-11-24T17:59:00+08:00"), 1); /* Tuesday */
	CHECK_INT(inside(plan, "2026-11-24T18:00:00+08:00"), 0);
	CHECK_INT(inside(plan, "2026-11-28T09:30:00+08:00"), 0); /* Saturday */
	CHECK_INT(inside(plan, "2026-11-28T10:00:00+08:00"), 1);
	CHECK_INT(inside(plan, "2026-11-29T12:00:00+08:00"), 0); /* Sunday: named by no rule */
	CHECK_INT(inside("sat,sun 10:00-12:00 14:00-16:00", "2026-11-29T13:00:00+08:00"), 0);
	CHECK_INT(inside("sat,sun 10:00-12:00, 14:00-16:00", "2026-11-29T15:00:00+08:00"), 1);
	CHECK_INT(inside("fri-mon 10:00-11:00", "2026-11-30T10:30:00+08:00"), 1); /* Monday */
	CHECK_INT(inside("fri-mon 10:00-11:00", "2026-11-24T10:30:00+08:00"), 0); /* Tuesday */
}

static void test_separators_read_the_same(void)
{
	const char *plans[] = {"mon-fri 09:00-18:00; sat,sun 10:00-12:00",
	                       "mon-fri 09:00-18:00, sat,sun 10:00-12:00",
	                       "mon-fri 09:00-18:00 sat sun 10:00-12:00;",
	                       " ; mon-fri 09:00-18:00;sat, sun 10:00-12:00 "};
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		CHECK_INT(inside(plans[i], "2026-11-24T17:00:00+08:00"), 1);
		CHECK_INT(inside(plans[i], "2026-11-29T11:00:00+08:00"), 1);
		CHECK_INT(inside(plans[i], "2026-11-29T17:00:00+08:00"), 0);
	}
}

static void test_later_rule_replaces_a_day(void)
{
	CHECK_INT(inside("08:00-24:00; sun off", "2026-11-29T12:00:00+08:00"), 0);
	CHECK_INT(inside("08:00-24:00; sun off", "2026-11-30T12:00:00+08:00"), 1);
	CHECK_INT(inside("08:00-24:00; sat 10:00-16:00", "2026-11-28T09:00:00+08:00"), 0);
	CHECK_INT(inside("08:00-24:00; sat 10:00-16:00", "2026-11-28T17:00:00+08:00"), 0);
}

static void test_range_past_midnight_runs_into_next_day(void)
{
	/* Friday 22:00 to Saturday 02:00, and Sunday's runs into Monday */
	CHECK_INT(inside("fri 22:00-02:00", "2026-11-27T21:59:00+08:00"), 0);
	CHECK_INT(inside("fri 22:00-02:00", "2026-11-27T22:00:00+08:00"), 1);
	CHECK_INT(inside("fri 22:00-02:00", "2026-11-28T01:59:00+08:00"), 1);
	CHECK_INT(inside("fri 22:00-02:00", "2026-11-28T02:00:00+08:00"), 0);
	CHECK_INT(inside("sun 23:00-01:00", "2026-11-30T00:30:00+08:00"), 1);
}

static void test_always_and_full_days(void)
{
	struct service_hours h;
	char err[256];
	CHECK_INT(service_hours_parse(&h, "", err, sizeof(err)), 0);
	CHECK_INT(h.always, 1);
	CHECK_INT(service_hours_parse(&h, "always", err, sizeof(err)), 0);
	CHECK_INT(h.always, 1);
	CHECK_INT(service_hours_parse(&h, "00:00-24:00", err, sizeof(err)), 0);
	CHECK_INT(h.always, 1);
	CHECK_INT(service_hours_parse(&h, "00:00-23:59", err, sizeof(err)), 0);
	CHECK_INT(h.always, 0);
	CHECK_INT(service_hours_contains(&h, at("2026-11-24T23:59:30+08:00")), 0);
}

static void test_bad_schedules_are_refused_with_a_reason(void)
{
	static const char *const bad[] = {"8:00-24:00",
	                                  "08:00",
	                                  "25:00-26:00",
	                                  "08:00-24:01",
	                                  "08:60-09:00",
	                                  "08:00-08:00",
	                                  "24:00-08:00",
	                                  "mon-xyz 08:00-09:00",
	                                  "mon",
	                                  "08:00-09:00 mon",
	                                  "off 08:00-09:00",
	                                  "08:00-09:00 junk",
	                                  "monday 08:00-09:00",
	                                  "mon-fr 08:00-09:00",
	                                  ";",
	                                  "always 08:00-09:00"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct service_hours h;
		char err[256] = "";
		int rc = service_hours_parse(&h, bad[i], err, sizeof(err));
		if (rc != -1)
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
		CHECK_INT(rc, -1);
		CHECK(err[0] != '\0');
	}
}

static void test_set_finds_a_shops_own_schedule(void)
{
	char err[256];
	struct service_hours_set *set = service_hours_set_new("08:00-24:00", err, sizeof(err));
	const struct service_hours *h;

	CHECK(set != NULL);
	CHECK_INT(service_hours_set_always(set), 0);
	CHECK_INT(service_hours_set_add(set, "优衣库", "09:00-18:00", err, sizeof(err)), 0);
	CHECK_INT(service_hours_set_add(set, "李宁", "bad", err, sizeof(err)), -1);
	h = service_hours_set_find(set, "优衣库", strlen("优衣库"));
	CHECK_INT(service_hours_contains(h, at("2026-11-24T08:30:00+08:00")), 0);
	h = service_hours_set_find(set, "李宁", strlen("李宁"));
	CHECK_INT(service_hours_contains(h, at("2026-11-24T08:30:00+08:00")), 1);
	service_hours_set_free(set);

	set = service_hours_set_new("", err, sizeof(err));
	CHECK_INT(service_hours_set_always(set), 1);
	CHECK_INT(service_hours_set_add(set, "s1", "always", err, sizeof(err)), 0);
	CHECK_INT(service_hours_set_always(set), 1);
	CHECK_INT(service_hours_set_add(set, "s2", "sun off", err, sizeof(err)), 0);
	CHECK_INT(service_hours_set_always(set), 0);
	service_hours_set_free(set);
}

/* The schedule below, written out by hand over localtime_r's weekday and clock:
 * weekdays 09:00-18:00 except Friday 09:00-12:00 and 22:00-02:00 (into Saturday),
 * Saturday 10:00-16:00, no Sunday. */
static int by_hand(time_t t)
{
	struct tm tm;
	int minute;
	localtime_r(&t, &tm);
	minute = tm.tm_hour * 60 + tm.tm_min;
	switch (tm.tm_wday) {
	case 1:
	case 2:
	case 3:
	case 4:
		return minute >= 9 * 60 && minute < 18 * 60;
	case 5:
		return (minute >= 9 * 60 && minute < 12 * 60) || minute >= 22 * 60;
	case 6:
		return minute < 2 * 60 || (minute >= 10 * 60 && minute < 16 * 60);
	default:
		return 0;
	}
}

static void test_random_instants_agree_with_localtime(void)
{
	const char *plan = "mon-fri 09:00-18:00; fri 09:00-12:00 22:00-02:00; sat 10:00-16:00";
	const char *zones[] = {"Asia/Shanghai", "UTC", "America/New_York"};
	unsigned seed = (unsigned)check_seed("random instants", (unsigned long long)time(NULL));
	struct service_hours h;
	char err[256];
	int wrong = 0;

	srand(seed);
	CHECK_INT(service_hours_parse(&h, plan, err, sizeof(err)), 0);
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		CHECK_INT(timefmt_set_timezone(zones[z]), 0);
		for (int i = 0; i < 200000; i++) {
			/* 2020 to 2036, with milliseconds */
			int64_t ms = INT64_C(1577836800000) + (((int64_t)rand() << 20) ^ rand()) %
			                                          (INT64_C(16) * 365 * 86400000);
			if (service_hours_contains(&h, ms) != by_hand((time_t)(ms / 1000)))
				wrong++;
		}
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(timefmt_set_timezone("Asia/Shanghai"), 0);
}

int main(void)
{
	if (timefmt_set_timezone("Asia/Shanghai") == -1)
		return 1;
	RUN(test_every_day_range_has_inclusive_start_exclusive_end);
	RUN(test_weekday_rules_and_days_no_rule_names);
	RUN(test_separators_read_the_same);
	RUN(test_later_rule_replaces_a_day);
	RUN(test_range_past_midnight_runs_into_next_day);
	RUN(test_always_and_full_days);
	RUN(test_bad_schedules_are_refused_with_a_reason);
	RUN(test_set_finds_a_shops_own_schedule);
	RUN(test_random_instants_agree_with_localtime);
	return check_done();
}
