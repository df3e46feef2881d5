/*
 * timefmt.c owns time: RFC 3339 and epoch timestamps to milliseconds by plain
 * calendar arithmetic (no libc on that hot path), strptime-style parsing for
 * line-regex formats, and the UTC minute / local day keys and local RFC 3339 output.
 * The process time zone is the only local time it knows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chatlogd/timefmt.h"

#define MS_PER_SECOND 1000
#define SECONDS_PER_DAY 86400
#define SECONDS_PER_HOUR 3600

/* 9999-12-31T23:59:59Z: RFC 3339 years have four digits, so epoch input stops there too. */
#define EPOCH_SECONDS_MAX INT64_C(253402300799)

/* strptime input is copied to a NUL-terminated buffer; timestamps are short. */
#define STRPTIME_INPUT_MAX 128

/*
 * The local offset cache. TZ is process-wide state already, so the cache is too;
 * timefmt_set_timezone() bumps the generation to invalidate it. Thread-local so a
 * helper thread formatting times never races the main loop.
 */
static unsigned tz_generation = 1;

struct offset_cache {
	unsigned generation;
	int64_t hour; /* UTC hour number (seconds / 3600, floored) the offset holds for */
	long offset;  /* seconds east of UTC */
};

static _Thread_local struct offset_cache offset_cache;

/* The same for local_to_utc, keyed by the local hour (local seconds / 3600). */
static _Thread_local struct offset_cache local_hour_cache;

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && is_leap_year(y))
		return 29;
	return days[m - 1];
}

/* Howard Hinnant's days_from_civil: exact for the whole proleptic Gregorian calendar. */
int64_t timefmt_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of timefmt_days_from_civil. */
static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*month <= 2);
}

/* Reads exactly n decimal digits at s. Returns the value, or -1. */
static int read_digits(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int timefmt_parse_date(const char *s, size_t len, int64_t *day)
{
	int year, month, dd;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	year = read_digits(s, 4);
	month = read_digits(s + 5, 2);
	dd = read_digits(s + 8, 2);
	if (year < 0 || month < 1 || month > 12 || dd < 1 ||
	    (unsigned)dd > days_in_month(year, (unsigned)month))
		return -1;
	*day = timefmt_days_from_civil(year, (unsigned)month, (unsigned)dd);
	return 0;
}

/*
 * Reads a fraction of a second starting after the '.', at least one digit, and keeps
 * the first three (truncating). Returns the number of digits read, or 0 if none.
 */
static size_t read_fraction(const char *s, size_t len, int *ms)
{
	size_t i = 0;
	int v = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (i < 3)
			v = v * 10 + (s[i] - '0');
		i++;
	}
	for (size_t k = i; k < 3; k++)
		v *= 10;
	*ms = v;
	return i;
}

int timefmt_parse_rfc3339(const char *s, size_t len, int64_t *ms)
{
	int year, month, day, hour, minute, second, millis = 0;
	long offset = 0;
	size_t i;

	/* "YYYY-MM-DDTHH:MM:SSZ" is the shortest form. */
	if (len < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
		return -1;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return -1;
	year = read_digits(s, 4);
	month = read_digits(s + 5, 2);
	day = read_digits(s + 8, 2);
	hour = read_digits(s + 11, 2);
	minute = read_digits(s + 14, 2);
	second = read_digits(s + 17, 2);
	if (year < 0 || month < 1 || month > 12 || day < 1 ||
	    (unsigned)day > days_in_month(year, (unsigned)month) || hour < 0 || hour > 23 ||
	    minute < 0 || minute > 59 || second < 0 || second > 60)
		return -1;
	i = 19;
	if (s[i] == '.') {
		size_t digits = read_fraction(s + i + 1, len - i - 1, &millis);
		if (digits == 0)
			return -1;
		i += 1 + digits;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int oh, om;
		if (len - i < 6 || s[i + 3] != ':')
			return -1;
		oh = read_digits(s + i + 1, 2);
		om = read_digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		offset = (long)oh * SECONDS_PER_HOUR + om * 60;
		if (s[i] == '-')
			offset = -offset;
		i += 6;
	} else {
		return -1;
	}
	if (i != len)
		return -1;

	/* Second 60 (a leap second) is plain arithmetic: it lands on the next minute's :00. */
	int64_t days = timefmt_days_from_civil(year, (unsigned)month, (unsigned)day);
	int64_t seconds = days * SECONDS_PER_DAY + hour * SECONDS_PER_HOUR + minute * 60 + second;
	*ms = (seconds - offset) * MS_PER_SECOND + millis;
	return 0;
}

int timefmt_parse_epoch(const char *s, size_t len, int64_t *ms)
{
	int64_t seconds = 0;
	int millis = 0;
	size_t i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		seconds = seconds * 10 + (s[i] - '0');
		if (seconds > EPOCH_SECONDS_MAX)
			return -1;
		i++;
	}
	if (i == 0)
		return -1;
	if (i < len && s[i] == '.') {
		size_t digits = read_fraction(s + i + 1, len - i - 1, &millis);
		if (digits == 0)
			return -1;
		i += 1 + digits;
	}
	if (i != len)
		return -1;
	*ms = seconds * MS_PER_SECOND + millis;
	return 0;
}

/* Seconds east of UTC in the process time zone at time t. */
static long local_offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/*
 * The offset for second t, from a one-hour cache: day keys are asked for millions
 * of times and localtime_r costs far more than the key. An hour is cached only when
 * its first and last seconds agree, so zones that change offset on a half hour
 * (Australia/Lord_Howe) are still right: that hour is looked up every time.
 */
static long offset_at(int64_t t)
{
	int64_t hour = floor_div(t, SECONDS_PER_HOUR);
	struct offset_cache *c = &offset_cache;

	if (c->generation == tz_generation && c->hour == hour)
		return c->offset;
	long first = local_offset_at(hour * SECONDS_PER_HOUR);
	long last = local_offset_at(hour * SECONDS_PER_HOUR + SECONDS_PER_HOUR - 1);
	if (first != last)
		return local_offset_at(t);
	c->generation = tz_generation;
	c->hour = hour;
	c->offset = first;
	return first;
}

/*
 * The UTC second of a local wall-clock time, without mktime(): glibc's mktime
 * re-runs tzset and stats the zone file on every call, which costs microseconds per
 * line. A local hour with the same offset a day before and after is cached whole.
 * Near a change: a time that happens twice (clocks going back) is the first of the
 * two, as GNU date reads it; a time that never happens (clocks going forward) is read
 * with the offset from before the change, as mktime does.
 */
static int64_t local_to_utc(int64_t local)
{
	int64_t hour = floor_div(local, SECONDS_PER_HOUR);
	struct offset_cache *c = &local_hour_cache;

	if (c->generation == tz_generation && c->hour == hour)
		return local - c->offset;

	long before = local_offset_at(local - SECONDS_PER_DAY);
	long after = local_offset_at(local + SECONDS_PER_DAY);
	int64_t start = hour * SECONDS_PER_HOUR;
	if (before == after && local_offset_at(start - before) == before &&
	    local_offset_at(start + SECONDS_PER_HOUR - 1 - before) == before) {
		c->generation = tz_generation;
		c->hour = hour;
		c->offset = before;
		return local - before;
	}
	int64_t with_before = local - before, with_after = local - after;
	int before_fits = local_offset_at(with_before) == before;
	int after_fits = local_offset_at(with_after) == after;
	if (before_fits && after_fits)
		return with_before < with_after ? with_before : with_after;
	if (after_fits)
		return with_after;
	return with_before;
}

static void put_digits(char *out, int64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Years outside 0000-9999 cannot be written in four digits; they wrap. */
static int64_t four_digit_year(int64_t y)
{
	return ((y % 10000) + 10000) % 10000;
}

/* YYYYMMDD of a day since 1970-01-01 into out (8 bytes, no NUL). */
static void put_date_key(char *out, int64_t days)
{
	int64_t year;
	unsigned month, day;

	civil_from_days(days, &year, &month, &day);
	put_digits(out, four_digit_year(year), 4);
	put_digits(out + 4, month, 2);
	put_digits(out + 6, day, 2);
}

void timefmt_minute_key(int64_t ms, char out[13])
{
	int64_t minutes = floor_div(ms, 60 * MS_PER_SECOND);
	int64_t days = floor_div(minutes, 1440);
	int64_t minute_of_day = minutes - days * 1440;

	put_date_key(out, days);
	put_digits(out + 8, minute_of_day / 60, 2);
	put_digits(out + 10, minute_of_day % 60, 2);
	out[12] = '\0';
}

int64_t timefmt_local_seconds(int64_t ms)
{
	int64_t t = floor_div(ms, MS_PER_SECOND);
	return t + offset_at(t);
}

void timefmt_day_key(int64_t ms, char out[9])
{
	int64_t days = floor_div(timefmt_local_seconds(ms), SECONDS_PER_DAY);

	put_date_key(out, days);
	out[8] = '\0';
}

void timefmt_format_rfc3339(int64_t ms, char out[30])
{
	int64_t t = floor_div(ms, MS_PER_SECOND);
	int64_t millis = ms - t * MS_PER_SECOND;
	/* Whole minutes only, so the printed offset and clock time always agree
	 * (historic LMT offsets carry seconds RFC 3339 cannot write). */
	long offset_minutes = offset_at(t) / 60;
	int64_t local = t + offset_minutes * 60;
	int64_t days = floor_div(local, SECONDS_PER_DAY);
	int64_t second_of_day = local - days * SECONDS_PER_DAY;
	int64_t year;
	unsigned month, day;

	civil_from_days(days, &year, &month, &day);
	put_digits(out, four_digit_year(year), 4);
	out[4] = '-';
	put_digits(out + 5, month, 2);
	out[7] = '-';
	put_digits(out + 8, day, 2);
	out[10] = 'T';
	put_digits(out + 11, second_of_day / 3600, 2);
	out[13] = ':';
	put_digits(out + 14, second_of_day / 60 % 60, 2);
	out[16] = ':';
	put_digits(out + 17, second_of_day % 60, 2);
	out[19] = '.';
	put_digits(out + 20, millis, 3);
	out[23] = offset_minutes < 0 ? '-' : '+';
	if (offset_minutes < 0)
		offset_minutes = -offset_minutes;
	put_digits(out + 24, offset_minutes / 60, 2);
	out[26] = ':';
	put_digits(out + 27, offset_minutes % 60, 2);
	out[29] = '\0';
}

/*
 * 1 when fmt fixes the UTC offset itself: %z, or %s (epoch seconds, which glibc's
 * strptime turns into local time with tm_gmtoff set). Then tm_gmtoff is used as is.
 */
static int format_has_offset(const char *fmt)
{
	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == 'z' || *p == 's')
			return 1;
		if (*p == '\0')
			break;
	}
	return 0;
}

/* Where fmt's first %S (or %s, epoch seconds) conversion ends, or NULL. */
static const char *format_seconds_end(const char *fmt)
{
	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == 'S' || *p == 's')
			return p + 1;
		if (*p == '\0')
			break;
	}
	return NULL;
}

/*
 * Cuts a ".digits" fraction out of input where fmt's seconds field ends, keeping its
 * milliseconds. strptime has no fractional seconds, so the input is parsed up to the
 * seconds field first; only lines holding a '.' pay for that.
 */
static void cut_fraction(char *input, const char *fmt, int *millis)
{
	const char *seconds_end = format_seconds_end(fmt);
	char prefix[STRPTIME_INPUT_MAX];
	struct tm tm;
	size_t prefix_len, digits;
	char *dot;

	if (seconds_end == NULL || strchr(input, '.') == NULL)
		return;
	prefix_len = (size_t)(seconds_end - fmt);
	if (prefix_len >= sizeof(prefix))
		return;
	memcpy(prefix, fmt, prefix_len);
	prefix[prefix_len] = '\0';
	memset(&tm, 0, sizeof(tm));
	dot = strptime(input, prefix, &tm);
	if (dot == NULL || *dot != '.')
		return;
	digits = read_fraction(dot + 1, strlen(dot + 1), millis);
	if (digits > 0)
		memmove(dot, dot + 1 + digits, strlen(dot + 1 + digits) + 1);
}

int timefmt_parse_strptime(const char *s, size_t len, const char *fmt, int64_t *ms)
{
	char input[STRPTIME_INPUT_MAX];
	struct tm tm;
	const char *end;
	int millis = 0;

	if (len >= sizeof(input) || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(input, s, len);
	input[len] = '\0';
	cut_fraction(input, fmt, &millis);
	memset(&tm, 0, sizeof(tm));
	end = strptime(input, fmt, &tm);
	if (end == NULL || *end != '\0')
		return -1;

	/* strptime takes any day 1-31 with any month; mktime would roll 02-30 into March. */
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    (unsigned)tm.tm_mday >
	        days_in_month((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1))
		return -1;
	int64_t days = timefmt_days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
	                                       (unsigned)tm.tm_mday);
	int64_t wall =
	    days * SECONDS_PER_DAY + tm.tm_hour * SECONDS_PER_HOUR + tm.tm_min * 60 + tm.tm_sec;
	int64_t seconds = format_has_offset(fmt) ? wall - tm.tm_gmtoff : local_to_utc(wall);
	if (seconds < 0)
		return -1;
	*ms = seconds * MS_PER_SECOND + millis;
	return 0;
}

/* 1 when path names a TZif file (the tz database's compiled zone format). */
static int is_zone_file(const char *path)
{
	struct stat st;
	char magic[4];
	FILE *f;
	int ok;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	ok = fread(magic, 1, sizeof(magic), f) == sizeof(magic) && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

/*
 * glibc silently treats an unknown TZ as UTC, so the zone is looked up in the tz
 * database first. "UTC" and "GMT" are accepted even without tzdata installed, and
 * "" restores the system default (/etc/localtime).
 */
int timefmt_set_timezone(const char *zone)
{
	char path[4096];
	const char *name = zone;
	const char *dir = getenv("TZDIR");

	if (zone == NULL)
		return -1;
	if (zone[0] == '\0') {
		unsetenv("TZ");
		tzset();
		tz_generation++;
		return 0;
	}
	if (name[0] == ':')
		name++;
	if (strcmp(name, "UTC") != 0 && strcmp(name, "GMT") != 0) {
		if (name[0] == '\0' || strstr(name, "..") != NULL)
			return -1;
		if (name[0] == '/') {
			if (!is_zone_file(name))
				return -1;
		} else {
			int n = snprintf(
			    path, sizeof(path), "%s/%s",
			    dir != NULL && dir[0] != '\0' ? dir : "/usr/share/zoneinfo", name);
			if (n < 0 || (size_t)n >= sizeof(path) || !is_zone_file(path))
				return -1;
		}
	}
	if (setenv("TZ", zone, 1) != 0)
		return -1;
	tzset();
	tz_generation++;
	return 0;
}
