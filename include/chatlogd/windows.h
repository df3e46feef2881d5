/*
 * Rolling windows (reference.md §6 `w:WINDOW`): the deltas of the last 24 hours per (shop,
 * agent, minute), kept sparse, summed over 1m 5m 15m 1h 24h of event time on demand.
 * A window of N minutes ending at as_of covers the minutes minute(as_of)-N+1 ..
 * minute(as_of). The whole shop ("*") is kept like an agent.
 */
#ifndef CHATLOGD_WINDOWS_H
#define CHATLOGD_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

#define WINDOW_COUNT 5
#define WINDOWS_ALL ((1u << WINDOW_COUNT) - 1) /* a bit per window */
#define WINDOWS_RETIRED (1u << WINDOW_COUNT)   /* windows_fn: delete its hashes */

struct windows;
struct wire_writer;
struct wire_reader;

/* Window i's name ("1m" ... "24h") and length in minutes. */
const char *windows_name(unsigned i);
int64_t windows_minutes(unsigned i);

struct windows *windows_new(void);
void windows_free(struct windows *w);

/* How many (shop, agent) series it holds. */
size_t windows_count(const struct windows *w);

/* Adds a cut's deltas (a by-minute table of agent and "*" rows) made as of
 * as_of_ms, the previous cut having been made as of prev_as_of_ms; agent rows also
 * count for their shop's "*". Notes which windows of each (shop, agent) the cut
 * changes: those its rows fall in, those a minute slid out of as the window's end
 * moved from prev_as_of_ms to as_of_ms, and all of a new (shop, agent)'s. A
 * (shop, agent) without data for a day whose windows the cut does not change is
 * retired: this cut deletes its hashes, and the next windows_add forgets it. The
 * notes last until the next windows_add. Returns 0, or -1 when the series index is
 * full (2^31 slots; out of memory is fatal, util.h). */
int windows_add(struct windows *w, struct counter_table *cut, int64_t prev_as_of_ms,
                int64_t as_of_ms);

/* Notes every window as changed (a cut restored from a snapshot rewrites them all:
 * its previous cut's notes are not kept). */
void windows_mark_all_changed(struct windows *w);

/* Called for each (shop, agent) held, in a fixed order (by shop id, agent id), with
 * the bit mask of the windows the last cut changed (WINDOWS_ALL after
 * windows_mark_all_changed; WINDOWS_RETIRED alone when its hashes are to be
 * deleted) and the sums of every window (zeros once its data has aged out); sums[i]
 * holds only when window i changed. */
typedef int (*windows_fn)(void *ctx, uint32_t shop, uint32_t agent, unsigned changed,
                          const int64_t (*sums)[COUNTER_WIDTH]);
int windows_each(struct windows *w, int64_t as_of_ms, windows_fn fn, void *ctx);

void windows_save(const struct windows *w, struct wire_writer *out);
/* schema: the counter ids' (counters.h, COUNTERS_SCHEMA). */
int windows_load(struct windows *w, struct wire_reader *in, unsigned schema);

/* Which windows the last cut changed, per (shop, agent), for a snapshot that may
 * have to rebuild that cut (window_writes = changed writes only those; load after
 * windows_load). */
void windows_save_changed(const struct windows *w, struct wire_writer *out);
int windows_load_changed(struct windows *w, struct wire_reader *in);

/* Which (shop, agent) the last cut retired, for a snapshot that may have to rebuild
 * that cut (load after windows_load). */
void windows_save_retired(const struct windows *w, struct wire_writer *out);
int windows_load_retired(struct windows *w, struct wire_reader *in);

#endif
