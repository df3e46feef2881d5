/*
 * Tests for timefmt.c. Expected values were worked out independently with GNU date,
 * e.g. `date -u -d 2026-11-24T10:00:01+08:00 +%s` = 1795485601, and
 * `TZ=Australia/Lord_Howe date -d @1791041400` for the half-hour DST change.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chatlogd/timefmt.h"
#include "check.h"

/* 2026-11-24T02:00:01.250Z, the reference instant of most tests. */
#define REF_MS INT64_C(1795485601250)

static int rfc(const char *s, int64_t *ms)
{
	return timefmt_parse_rfc3339(s, strlen(s), ms);
}

static int epoch(const char *s, int64_t *ms)
{
	return timefmt_parse_epoch(s, strlen(s), ms);
}

static int local(const char *s, const char *fmt, int64_t *ms)
{
	return timefmt_parse_strptime(s, strlen(s), fmt, ms);
}

/* Parses s, expecting success; returns the milliseconds (or -999 on failure). */
static int64_t rfc_ms(const char *s)
{
	int64_t ms = -999;
	if (rfc(s, &ms) != 0)
		return -999;
	return ms;
}

static void test_rfc3339_offset_plus_eight(void)
{
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.250+08:00"), REF_MS);
}

static void test_rfc3339_z_upper_and_lower(void)
{
	CHECK_INT(rfc_ms("2026-11-24T02:00:01.250Z"), REF_MS);
	CHECK_INT(rfc_ms("2026-11-24T02:00:01.250z"), REF_MS);
}

static void test_rfc3339_lowercase_t_and_space_separator(void)
{
	CHECK_INT(rfc_ms("2026-11-24t10:00:01.250+08:00"), REF_MS);
	CHECK_INT(rfc_ms("2026-11-24 10:00:01.250+08:00"), REF_MS);
}

static void test_rfc3339_negative_and_half_hour_offsets(void)
{
	CHECK_INT(rfc_ms("2026-11-23T21:00:01.250-05:00"), REF_MS);
	CHECK_INT(rfc_ms("2026-11-24T07:30:01.250+05:30"), REF_MS);
	CHECK_INT(rfc_ms("2000-02-29T23:59:59-05:30"), INT64_C(951888599000));
	CHECK_INT(rfc_ms("2026-11-24T02:00:01.250-00:00"), REF_MS);
}

static void test_rfc3339_offset_extremes(void)
{
	CHECK_INT(rfc_ms("2026-03-01T00:00:00+23:59"), INT64_C(1772236860000));
	CHECK_INT(rfc_ms("2026-11-24T10:00:00+24:00"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:00+08:60"), -999);
}

static void test_rfc3339_offset_forms_rejected(void)
{
	CHECK_INT(rfc_ms("2026-11-24T10:00:00"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:00+0800"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:00+08"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:00+8:00"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:00 +08:00"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:00UTC"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:00+08:00Z"), -999);
}

static void test_rfc3339_no_fraction_is_whole_second(void)
{
	CHECK_INT(rfc_ms("2026-11-24T10:00:01+08:00"), REF_MS - 250);
}

static void test_rfc3339_fraction_one_to_nine_digits(void)
{
	int64_t base = REF_MS - 250;
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.2+08:00"), base + 200);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.25+08:00"), base + 250);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.250+08:00"), base + 250);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.2509+08:00"), base + 250);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.25099+08:00"), base + 250);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.250999+08:00"), base + 250);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.2509999+08:00"), base + 250);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.25099999+08:00"), base + 250);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.250999999+08:00"), base + 250);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.000000001+08:00"), base);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.00123456789012345678Z"), base + 8 * 3600000 + 1);
}

static void test_rfc3339_fraction_past_ms_truncated_not_rounded(void)
{
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.9999+08:00"), REF_MS - 250 + 999);
	CHECK_INT(rfc_ms("2026-11-24T23:59:59.9999999Z"), rfc_ms("2026-11-24T23:59:59Z") + 999);
}

static void test_rfc3339_empty_or_bad_fraction_rejected(void)
{
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.+08:00"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.Z"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01,250+08:00"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:01.2a0+08:00"), -999);
}

static void test_rfc3339_leap_days(void)
{
	CHECK_INT(rfc_ms("2024-02-29T00:00:00Z"), INT64_C(1709164800000));
	CHECK_INT(rfc_ms("2000-02-29T00:00:00Z"), INT64_C(951782400000));
	CHECK_INT(rfc_ms("2026-02-29T00:00:00Z"), -999);
	CHECK_INT(rfc_ms("1900-02-29T00:00:00Z"), -999);
	CHECK_INT(rfc_ms("2100-02-29T00:00:00Z"), -999);
	CHECK_INT(rfc_ms("2024-02-30T00:00:00Z"), -999);
}

static void test_rfc3339_out_of_range_fields_rejected(void)
{
	CHECK_INT(rfc_ms("2026-13-01T00:00:00Z"), -999);
	CHECK_INT(rfc_ms("2026-00-01T00:00:00Z"), -999);
	CHECK_INT(rfc_ms("2026-01-00T00:00:00Z"), -999);
	CHECK_INT(rfc_ms("2026-01-32T00:00:00Z"), -999);
	CHECK_INT(rfc_ms("2026-04-31T00:00:00Z"), -999);
	CHECK_INT(rfc_ms("2026-11-24T24:00:00Z"), -999);
	CHECK_INT(rfc_ms("2026-11-24T23:60:00Z"), -999);
	CHECK_INT(rfc_ms("2026-11-24T23:59:61Z"), -999);
	CHECK_INT(rfc_ms("2026-12-31T23:59:59Z"), INT64_C(1798761599000));
}

static void test_rfc3339_leap_second_is_next_second(void)
{
	CHECK_INT(rfc_ms("2016-12-31T23:59:60Z"), INT64_C(1483228800000));
	CHECK_INT(rfc_ms("2016-12-31T23:59:60.500Z"), INT64_C(1483228800500));
}

static void test_rfc3339_before_1970_and_far_years(void)
{
	CHECK_INT(rfc_ms("1970-01-01T00:00:00Z"), 0);
	CHECK_INT(rfc_ms("1969-12-31T23:59:59Z"), -1000);
	CHECK_INT(rfc_ms("0001-01-01T00:00:00Z"), INT64_C(-62135596800000));
	CHECK_INT(rfc_ms("9999-12-31T23:59:59Z"), INT64_C(253402300799000));
}

static void test_rfc3339_malformed_rejected(void)
{
	CHECK_INT(rfc_ms(""), -999);
	CHECK_INT(rfc_ms("2026-11-24"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00Z"), -999);
	CHECK_INT(rfc_ms("2026/11/24T10:00:00Z"), -999);
	CHECK_INT(rfc_ms("2026-11-24_10:00:00Z"), -999);
	CHECK_INT(rfc_ms("2O26-11-24T10:00:00Z"), -999);
	CHECK_INT(rfc_ms("26-11-24T10:00:00Z"), -999);
	CHECK_INT(rfc_ms(" 2026-11-24T10:00:00Z"), -999);
	CHECK_INT(rfc_ms("2026-11-24T10:00:00Z "), -999);
	CHECK_INT(rfc_ms("+2026-11-24T10:00:00Z"), -999);
	CHECK_INT(rfc_ms("2026-1-24T10:00:00Z"), -999);
	CHECK_INT(rfc_ms("1795485601"), -999);
}

static void test_rfc3339_length_bounds_respected(void)
{
	int64_t ms = -999;
	/* The view ends before the offset: no reading past len. */
	CHECK_INT(timefmt_parse_rfc3339("2026-11-24T10:00:01+08:00", 19, &ms), -1);
	CHECK_INT(timefmt_parse_rfc3339("2026-11-24T10:00:01+08:00", 24, &ms), -1);
	CHECK_INT(timefmt_parse_rfc3339("2026-11-24T10:00:01.25+08:00", 20, &ms), -1);
	CHECK_INT(timefmt_parse_rfc3339("2026-11-24T02:00:01Zjunk", 20, &ms), 0);
	CHECK_INT(ms, REF_MS - 250);
}

static void test_epoch_integer_seconds(void)
{
	int64_t ms = -1;
	CHECK_INT(epoch("1795485601", &ms), 0);
	CHECK_INT(ms, REF_MS - 250);
	CHECK_INT(epoch("0", &ms), 0);
	CHECK_INT(ms, 0);
}

static void test_epoch_fraction_truncated_to_ms(void)
{
	int64_t ms = -1;
	CHECK_INT(epoch("1795485601.25", &ms), 0);
	CHECK_INT(ms, REF_MS);
	CHECK_INT(epoch("1795485601.2509", &ms), 0);
	CHECK_INT(ms, REF_MS);
	CHECK_INT(epoch("1795485601.9999999", &ms), 0);
	CHECK_INT(ms, REF_MS - 250 + 999);
	CHECK_INT(epoch("0.001", &ms), 0);
	CHECK_INT(ms, 1);
}

static void test_epoch_exponent_sign_and_junk_rejected(void)
{
	int64_t ms = 7;
	CHECK_INT(epoch("1.795485601e9", &ms), -1);
	CHECK_INT(epoch("1795485601E0", &ms), -1);
	CHECK_INT(epoch("-1", &ms), -1);
	CHECK_INT(epoch("+1", &ms), -1);
	CHECK_INT(epoch("1.", &ms), -1);
	CHECK_INT(epoch(".5", &ms), -1);
	CHECK_INT(epoch("", &ms), -1);
	CHECK_INT(epoch("12a", &ms), -1);
	CHECK_INT(epoch(" 1", &ms), -1);
	CHECK_INT(ms, 7);
}

static void test_epoch_past_year_9999_rejected(void)
{
	int64_t ms = 0;
	CHECK_INT(epoch("253402300799", &ms), 0);
	CHECK_INT(ms, INT64_C(253402300799000));
	CHECK_INT(epoch("253402300800", &ms), -1);
	CHECK_INT(epoch("99999999999999999999999", &ms), -1);
}

static void test_days_from_civil_known_dates(void)
{
	CHECK_INT(timefmt_days_from_civil(1970, 1, 1), 0);
	CHECK_INT(timefmt_days_from_civil(1969, 12, 31), -1);
	CHECK_INT(timefmt_days_from_civil(2000, 3, 1), 11017);
	CHECK_INT(timefmt_days_from_civil(2026, 11, 24), 20781);
	CHECK_INT(timefmt_days_from_civil(1, 1, 1), -719162);
}

static void test_minute_key_utc(void)
{
	char key[13];
	timefmt_minute_key(REF_MS, key);
	CHECK_STR(key, "202611240200");
	timefmt_minute_key(rfc_ms("2026-12-31T23:59:59.999Z"), key);
	CHECK_STR(key, "202612312359");
	timefmt_minute_key(0, key);
	CHECK_STR(key, "197001010000");
}

static void test_minute_key_before_1970_floors(void)
{
	char key[13];
	timefmt_minute_key(-1, key);
	CHECK_STR(key, "196912312359");
}

static void test_day_key_shanghai_midnight(void)
{
	char key[9];
	CHECK_INT(timefmt_set_timezone("Asia/Shanghai"), 0);
	timefmt_day_key(REF_MS, key);
	CHECK_STR(key, "20261124");
	timefmt_day_key(INT64_C(1795449600000), key); /* 2026-11-24 00:00 +08:00 */
	CHECK_STR(key, "20261124");
	timefmt_day_key(INT64_C(1795449599999), key);
	CHECK_STR(key, "20261123");
}

static void test_day_key_follows_timezone_change(void)
{
	char key[9];
	CHECK_INT(timefmt_set_timezone("Asia/Shanghai"), 0);
	timefmt_day_key(INT64_C(1795449600000), key);
	CHECK_STR(key, "20261124");
	CHECK_INT(timefmt_set_timezone("UTC"), 0);
	timefmt_day_key(INT64_C(1795449600000), key); /* 16:00Z, same cached hour */
	CHECK_STR(key, "20261123");
}

static void test_day_key_new_york_across_dst(void)
{
	char key[9];
	CHECK_INT(timefmt_set_timezone("America/New_York"), 0);
	timefmt_day_key(INT64_C(1772945999000), key); /* 2026-03-07 23:59:59 EST */
	CHECK_STR(key, "20260307");
	timefmt_day_key(INT64_C(1772946000000), key);
	CHECK_STR(key, "20260308");
	timefmt_day_key(INT64_C(1793595599999), key); /* 2026-11-01 23:59:59.999 EST */
	CHECK_STR(key, "20261101");
	timefmt_day_key(INT64_C(1793595600000), key);
	CHECK_STR(key, "20261102");
}

static void test_format_rfc3339_shanghai_utc_new_york(void)
{
	char out[30];
	CHECK_INT(timefmt_set_timezone("Asia/Shanghai"), 0);
	timefmt_format_rfc3339(REF_MS, out);
	CHECK_STR(out, "2026-11-24T10:00:01.250+08:00");
	CHECK_INT(timefmt_set_timezone("UTC"), 0);
	timefmt_format_rfc3339(REF_MS, out);
	CHECK_STR(out, "2026-11-24T02:00:01.250+00:00");
	CHECK_INT(timefmt_set_timezone("America/New_York"), 0);
	timefmt_format_rfc3339(REF_MS, out);
	CHECK_STR(out, "2026-11-23T21:00:01.250-05:00");
	CHECK_INT(timefmt_set_timezone("Asia/Kolkata"), 0);
	timefmt_format_rfc3339(REF_MS - 250, out);
	CHECK_STR(out, "2026-11-24T07:30:01.000+05:30");
}

static void test_format_rfc3339_half_hour_dst_change_mid_hour(void)
{
	char out[30];
	CHECK_INT(timefmt_set_timezone("Australia/Lord_Howe"), 0);
	timefmt_format_rfc3339(INT64_C(1791039600000), out); /* 15:00Z, same UTC hour */
	CHECK_STR(out, "2026-10-04T01:30:00.000+10:30");
	timefmt_format_rfc3339(INT64_C(1791041399999), out);
	CHECK_STR(out, "2026-10-04T01:59:59.999+10:30");
	timefmt_format_rfc3339(INT64_C(1791041400000), out);
	CHECK_STR(out, "2026-10-04T02:30:00.000+11:00");
	timefmt_format_rfc3339(INT64_C(1791043199000), out);
	CHECK_STR(out, "2026-10-04T02:59:59.000+11:00");
}

static void test_format_rfc3339_round_trips_through_parser(void)
{
	char out[30];
	int64_t ms = 0;
	CHECK_INT(timefmt_set_timezone("America/New_York"), 0);
	timefmt_format_rfc3339(INT64_C(1772946000123), out);
	CHECK_INT(rfc(out, &ms), 0);
	CHECK_INT(ms, INT64_C(1772946000123));
}

static void test_set_timezone_unknown_rejected(void)
{
	CHECK_INT(timefmt_set_timezone("Mars/Olympus_Mons"), -1);
	CHECK_INT(timefmt_set_timezone("Asia"), -1);
	CHECK_INT(timefmt_set_timezone("../../etc/passwd"), -1);
	CHECK_INT(timefmt_set_timezone("/etc/passwd"), -1);
	CHECK_INT(timefmt_set_timezone(NULL), -1);
}

static void test_set_timezone_known_forms_accepted(void)
{
	CHECK_INT(timefmt_set_timezone("UTC"), 0);
	CHECK_INT(timefmt_set_timezone("Etc/UTC"), 0);
	CHECK_INT(timefmt_set_timezone(":Asia/Shanghai"), 0);
	CHECK_INT(timefmt_set_timezone("/usr/share/zoneinfo/Asia/Shanghai"), 0);
	CHECK_INT(timefmt_set_timezone(""), 0);
}

static void test_strptime_local_time_shanghai(void)
{
	int64_t ms = 0;
	CHECK_INT(timefmt_set_timezone("Asia/Shanghai"), 0);
	CHECK_INT(local("2026-11-24 10:00:01", "%Y-%m-%d %H:%M:%S", &ms), 0);
	CHECK_INT(ms, REF_MS - 250);
	CHECK_INT(local("24/11/2026 10:00:01", "%d/%m/%Y %H:%M:%S", &ms), 0);
	CHECK_INT(ms, REF_MS - 250);
}

static void test_strptime_fraction_after_seconds(void)
{
	int64_t ms = 0;
	CHECK_INT(timefmt_set_timezone("Asia/Shanghai"), 0);
	CHECK_INT(local("2026-11-24 10:00:01.250", "%Y-%m-%d %H:%M:%S", &ms), 0);
	CHECK_INT(ms, REF_MS);
	CHECK_INT(local("2026-11-24 10:00:01.25099", "%Y-%m-%d %H:%M:%S", &ms), 0);
	CHECK_INT(ms, REF_MS);
	CHECK_INT(local("2026-11-24 10:00:01.", "%Y-%m-%d %H:%M:%S", &ms), -1);
}

static void test_strptime_fraction_before_more_fields(void)
{
	int64_t ms = 0;
	CHECK_INT(local("10:00:01.250 2026-11-24 +0800", "%H:%M:%S %Y-%m-%d %z", &ms), 0);
	CHECK_INT(ms, REF_MS);
}

static void test_strptime_zone_in_format_ignores_local_zone(void)
{
	int64_t ms = 0;
	CHECK_INT(timefmt_set_timezone("America/New_York"), 0);
	CHECK_INT(local("2026-11-24 10:00:01 +0800", "%Y-%m-%d %H:%M:%S %z", &ms), 0);
	CHECK_INT(ms, REF_MS - 250);
	CHECK_INT(local("2026-11-24 02:00:01.250 +0000", "%Y-%m-%d %H:%M:%S %z", &ms), 0);
	CHECK_INT(ms, REF_MS);
}

static void test_strptime_epoch_seconds_with_fraction(void)
{
	int64_t ms = 0;
	/* 1793512800 is 01:00 EST on 1 November, the second 01:00 of that night. */
	CHECK_INT(timefmt_set_timezone("America/New_York"), 0);
	CHECK_INT(local("1793512800.750", "%s", &ms), 0);
	CHECK_INT(ms, INT64_C(1793512800750));
	CHECK_INT(local("@1795485601.25", "@%s", &ms), 0);
	CHECK_INT(ms, REF_MS);
}

static void test_strptime_fraction_with_dotted_date(void)
{
	int64_t ms = 0;
	CHECK_INT(timefmt_set_timezone("Asia/Shanghai"), 0);
	CHECK_INT(local("24.11.2026 10:00:01.25", "%d.%m.%Y %H:%M:%S", &ms), 0);
	CHECK_INT(ms, REF_MS);
	CHECK_INT(local("24.11.2026 10:00:01", "%d.%m.%Y %H:%M:%S", &ms), 0);
	CHECK_INT(ms, REF_MS - 250);
}

static void test_strptime_local_time_after_spring_forward(void)
{
	int64_t ms = 0;
	CHECK_INT(timefmt_set_timezone("America/New_York"), 0);
	CHECK_INT(local("2026-03-08 03:30:00", "%Y-%m-%d %H:%M:%S", &ms), 0);
	CHECK_INT(ms, INT64_C(1772955000000));
	CHECK_INT(local("2026-03-08 01:59:59", "%Y-%m-%d %H:%M:%S", &ms), 0);
	CHECK_INT(ms, INT64_C(1772953199000));
	/* 02:30 does not exist that day: read with the offset from before (EST). */
	CHECK_INT(local("2026-03-08 02:30:00", "%Y-%m-%d %H:%M:%S", &ms), 0);
	CHECK_INT(ms, INT64_C(1772955000000));
	/* 01:30 on 1 November happens twice: the first (EDT) is taken, as GNU date does. */
	CHECK_INT(local("2026-11-01 01:30:00", "%Y-%m-%d %H:%M:%S", &ms), 0);
	CHECK_INT(ms, INT64_C(1793511000000));
}

/*
 * timefmt avoids mktime (it stats the zone file per call); it must still agree with
 * it, including the hours that do not exist around DST changes, and take the first
 * of a time that happens twice.
 */
static void test_strptime_local_time_agrees_with_mktime_around_dst(void)
{
	static const struct {
		const char *zone;
		int year, month, day; /* the day before a change */
	} days[] = {
	    {"America/New_York", 2026, 3, 7},    {"America/New_York", 2026, 10, 31},
	    {"Europe/London", 2026, 3, 28},      {"Europe/London", 2026, 10, 24},
	    {"Australia/Lord_Howe", 2026, 4, 4}, {"Australia/Lord_Howe", 2026, 10, 3},
	    {"Asia/Shanghai", 2026, 11, 23},     {"America/Sao_Paulo", 2018, 11, 3},
	};
	int mismatches = 0;

	for (size_t z = 0; z < sizeof(days) / sizeof(days[0]); z++) {
		CHECK_INT(timefmt_set_timezone(days[z].zone), 0);
		for (int minute = 0; minute < 3 * 24 * 60; minute += 15) {
			/* Noon is never skipped: let mktime roll the date over month ends. */
			struct tm tm = {.tm_year = days[z].year - 1900,
			                .tm_mon = days[z].month - 1,
			                .tm_mday = days[z].day + minute / 1440,
			                .tm_hour = 12,
			                .tm_isdst = -1};
			char text[64];
			int64_t ms = 0;
			mktime(&tm);
			tm.tm_hour = minute / 60 % 24;
			tm.tm_min = minute % 60;
			tm.tm_isdst = -1;
			snprintf(text, sizeof(text), "%04d-%02d-%02d %02d:%02d:00",
			         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			         tm.tm_min);
			/* A time that happens twice is read as the first; mktime's pick
			 * depends on its history, so ask it for both and take the earlier. */
			struct tm as_standard = tm, as_summer = tm;
			as_standard.tm_isdst = 0;
			as_summer.tm_isdst = 1;
			time_t want = mktime(&tm);
			time_t first = mktime(&as_standard), second = mktime(&as_summer);
			if (first != second && as_standard.tm_hour == as_summer.tm_hour &&
			    as_standard.tm_min == as_summer.tm_min &&
			    as_standard.tm_isdst != as_summer.tm_isdst &&
			    as_standard.tm_isdst >= 0 && as_standard.tm_hour == tm.tm_hour &&
			    as_standard.tm_min == tm.tm_min)
				want = first < second ? first : second;
			if (local(text, "%Y-%m-%d %H:%M:%S", &ms) != 0 ||
			    ms != (int64_t)want * 1000) {
				if (mismatches++ < 5)
					fprintf(stderr, "  %s %s: got %lld, mktime %lld\n",
					        days[z].zone, text, (long long)ms,
					        (long long)want * 1000);
			}
		}
	}
	CHECK_INT(mismatches, 0);
}

static void test_strptime_mismatch_and_trailing_junk_rejected(void)
{
	int64_t ms = 5;
	CHECK_INT(local("2026-11-24", "%Y-%m-%d %H:%M:%S", &ms), -1);
	CHECK_INT(local("2026-11-24 10:00:01x", "%Y-%m-%d %H:%M:%S", &ms), -1);
	CHECK_INT(local("2026-11-24 10:00:01.25x", "%Y-%m-%d %H:%M:%S", &ms), -1);
	CHECK_INT(local("yesterday", "%Y-%m-%d", &ms), -1);
	CHECK_INT(local("2026-11-24 10:00:01", "%Y-%m-%d %H:%M", &ms), -1);
	CHECK_INT(ms, 5);
}

static void test_strptime_impossible_dates_rejected_not_rolled_over(void)
{
	int64_t ms = 5;
	CHECK_INT(local("2026-02-30 10:00:00", "%Y-%m-%d %H:%M:%S", &ms), -1);
	CHECK_INT(local("2026-02-29 10:00:00", "%Y-%m-%d %H:%M:%S", &ms), -1);
	CHECK_INT(local("2026-04-31 10:00:00 +0800", "%Y-%m-%d %H:%M:%S %z", &ms), -1);
	CHECK_INT(local("10:00:00", "%H:%M:%S", &ms), -1);
	CHECK_INT(ms, 5);
	CHECK_INT(local("2024-02-29 10:00:00 +0000", "%Y-%m-%d %H:%M:%S %z", &ms), 0);
	CHECK_INT(ms, INT64_C(1709200800000));
}

static void test_strptime_not_nul_terminated_input(void)
{
	int64_t ms = 0;
	const char *line = "2026-11-24 10:00:01|rest of the line";
	CHECK_INT(timefmt_set_timezone("Asia/Shanghai"), 0);
	CHECK_INT(timefmt_parse_strptime(line, 19, "%Y-%m-%d %H:%M:%S", &ms), 0);
	CHECK_INT(ms, REF_MS - 250);
}

static void test_parse_date_real_days_only(void)
{
	static const char *const bad[] = {"2026-02-29", "2026-13-01", "2026-00-10",  "2026-04-31",
	                                  "2026-1-01",  "2026/01/01", "2026-01-01x", ""};
	int64_t day = 0;

	CHECK(timefmt_parse_date("1970-01-01", 10, &day) == 0 && day == 0);
	CHECK(timefmt_parse_date("2024-02-29", 10, &day) == 0 &&
	      day == timefmt_days_from_civil(2024, 2, 29));
	CHECK(timefmt_parse_date("1969-12-31", 10, &day) == 0 && day == -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(timefmt_parse_date(bad[i], strlen(bad[i]), &day) == -1);
}

int main(void)
{
	RUN(test_parse_date_real_days_only);
	RUN(test_rfc3339_offset_plus_eight);
	RUN(test_rfc3339_z_upper_and_lower);
	RUN(test_rfc3339_lowercase_t_and_space_separator);
	RUN(test_rfc3339_negative_and_half_hour_offsets);
	RUN(test_rfc3339_offset_extremes);
	RUN(test_rfc3339_offset_forms_rejected);
	RUN(test_rfc3339_no_fraction_is_whole_second);
	RUN(test_rfc3339_fraction_one_to_nine_digits);
	RUN(test_rfc3339_fraction_past_ms_truncated_not_rounded);
	RUN(test_rfc3339_empty_or_bad_fraction_rejected);
	RUN(test_rfc3339_leap_days);
	RUN(test_rfc3339_out_of_range_fields_rejected);
	RUN(test_rfc3339_leap_second_is_next_second);
	RUN(test_rfc3339_before_1970_and_far_years);
	RUN(test_rfc3339_malformed_rejected);
	RUN(test_rfc3339_length_bounds_respected);
	RUN(test_epoch_integer_seconds);
	RUN(test_epoch_fraction_truncated_to_ms);
	RUN(test_epoch_exponent_sign_and_junk_rejected);
	RUN(test_epoch_past_year_9999_rejected);
	RUN(test_days_from_civil_known_dates);
	RUN(test_minute_key_utc);
	RUN(test_minute_key_before_1970_floors);
	RUN(test_day_key_shanghai_midnight);
	RUN(test_day_key_follows_timezone_change);
	RUN(test_day_key_new_york_across_dst);
	RUN(test_format_rfc3339_shanghai_utc_new_york);
	RUN(test_format_rfc3339_half_hour_dst_change_mid_hour);
	RUN(test_format_rfc3339_round_trips_through_parser);
	RUN(test_set_timezone_unknown_rejected);
	RUN(test_set_timezone_known_forms_accepted);
	RUN(test_strptime_local_time_shanghai);
	RUN(test_strptime_fraction_after_seconds);
	RUN(test_strptime_fraction_before_more_fields);
	RUN(test_strptime_zone_in_format_ignores_local_zone);
	RUN(test_strptime_epoch_seconds_with_fraction);
	RUN(test_strptime_fraction_with_dotted_date);
	RUN(test_strptime_local_time_after_spring_forward);
	RUN(test_strptime_local_time_agrees_with_mktime_around_dst);
	RUN(test_strptime_mismatch_and_trailing_junk_rejected);
	RUN(test_strptime_impossible_dates_rejected_not_rolled_over);
	RUN(test_strptime_not_nul_terminated_input);
	return check_done();
}
