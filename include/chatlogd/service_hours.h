/*
 * Service hours (服务时间): the minutes of the week a shop answers buyers, in the
 * `timezone`, with weekday rules, and the set of them a daemon uses (a default and
 * per-shop schedules). Turns that begin outside them give no waiting alerts and do
 * not count toward the 3-minute response rate (docs/metrics.md).
 */
#ifndef CHATLOGD_SERVICE_HOURS_H
#define CHATLOGD_SERVICE_HOURS_H

#include <stddef.h>
#include <stdint.h>

#define SERVICE_HOURS_MINUTES (7 * 1440)

/* One weekly schedule: a bit per minute of the week, Monday 00:00 first. */
struct service_hours {
	uint64_t minute_bits[(SERVICE_HOURS_MINUTES + 63) / 64];
	int always; /* every minute: the check is skipped */
};

/*
 * Parses a schedule:
 *   "" or "always"                      every minute of every day
 *   "08:00-24:00"                       every day
 *   "mon-fri 08:00-24:00, sat,sun 09:00-18:00 19:00-22:00, sun off"
 * Words are separated by blanks, ',' or ';'. Days (mon tue wed thu fri sat sun, or
 * a span like mon-fri or fri-mon) name the days of a rule; time ranges HH:MM-HH:MM
 * follow (24:00 may end one; an end before the start runs past midnight into the
 * next day), or `off`. Days after a rule's ranges begin the next rule; ranges with
 * no days before them are for every day. A later rule naming a day replaces what
 * earlier ones said about it; a day no rule names has no service hours. Returns 0,
 * or -1 with the reason in err.
 */
int service_hours_parse(struct service_hours *out, const char *text, char *err, size_t errlen);

/* 1 when ts_ms falls inside the schedule (local time of the process time zone). */
int service_hours_contains(const struct service_hours *h, int64_t ts_ms);

/* The default schedule and the shops that have their own. */
struct service_hours_set;

/* A set whose default is `default_text` (parsed as above). NULL with err on a bad
 * schedule. */
struct service_hours_set *service_hours_set_new(const char *default_text, char *err, size_t errlen);
void service_hours_set_free(struct service_hours_set *set);

/* Gives shop (name copied) its own schedule. Returns 0, or -1 with err. */
int service_hours_set_add(struct service_hours_set *set, const char *shop, const char *text,
                          char *err, size_t errlen);

/* The schedule of a shop (its own, else the default); borrowed from the set. */
const struct service_hours *service_hours_set_find(const struct service_hours_set *set,
                                                   const char *shop, size_t len);

/* 1 when every shop is served at every minute (nothing to check). */
int service_hours_set_always(const struct service_hours_set *set);

#endif
