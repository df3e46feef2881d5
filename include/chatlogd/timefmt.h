/*
 * Time: parsing record timestamps to epoch milliseconds, and formatting the
 * minute/day keys and RFC 3339 strings the report and Redis schema use.
 * Local time means the process time zone, set once from the `timezone` setting.
 */
#ifndef CHATLOGD_TIMEFMT_H
#define CHATLOGD_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* RFC 3339: YYYY-MM-DD('T'|'t'|' ')HH:MM:SS[.frac]('Z'|'z'|±HH:MM). Fraction digits past
 * the third are dropped (truncated). The offset is required. Returns 0, or -1. */
int timefmt_parse_rfc3339(const char *s, size_t len, int64_t *ms);

/* Unix epoch seconds written as a JSON number without exponent, possibly fractional
 * ("1764000000", "1764000000.25"); digits past the millisecond are dropped.
 * Negative values are rejected. Returns 0, or -1. */
int timefmt_parse_epoch(const char *s, size_t len, int64_t *ms);

/* strptime-style parse of s (not NUL-terminated) with fmt. Without %z in fmt the time
 * is local time. Also accepts a trailing ".mmm" fraction when fmt ends in %S.
 * Returns 0, or -1 when s does not match fmt exactly. */
int timefmt_parse_strptime(const char *s, size_t len, const char *fmt, int64_t *ms);

/* Sets the process time zone (e.g. "Asia/Shanghai", "UTC"). Returns 0, or -1 when
 * the zone is unknown to the system's tz database. */
int timefmt_set_timezone(const char *zone);

/* Days since 1970-01-01 of a proleptic Gregorian date (negative before 1970). */
int64_t timefmt_days_from_civil(int64_t year, unsigned month, unsigned day);

/* All of [s, s+len) as "YYYY-MM-DD", a real calendar day, into days since 1970-01-01
 * (negative before). Returns 0, or -1. */
int timefmt_parse_date(const char *s, size_t len, int64_t *day);

/* "YYYYMMDDHHMM" of the UTC minute containing ms; out must hold 13 bytes. */
void timefmt_minute_key(int64_t ms, char out[13]);

/* Seconds since 1970-01-01T00:00 local time (the epoch second plus the zone's
 * offset at that moment): for the local day, weekday and time of day of ms. */
int64_t timefmt_local_seconds(int64_t ms);

/* "YYYYMMDD" of the local day containing ms; out must hold 9 bytes. */
void timefmt_day_key(int64_t ms, char out[9]);

/* RFC 3339 in local time with milliseconds and offset,
 * e.g. "2026-11-24T10:07:00.000+08:00"; out must hold 30 bytes. */
void timefmt_format_rfc3339(int64_t ms, char out[30]);

#endif
