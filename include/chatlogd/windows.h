/*
 * Rolling windows (SPEC §6 `w:WINDOW`): the deltas of the last 24 hours per (shop,
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

struct windows;
struct wire_writer;
struct wire_reader;

/* Window i's name ("1m" ... "24h") and length in minutes. */
const char *windows_name(unsigned i);
int64_t windows_minutes(unsigned i);

struct windows *windows_new(void);
void windows_free(struct windows *w);

/* Adds a cut's deltas (a by-minute table of agent and "*" rows); agent rows also
 * count for their shop's "*". Returns 0, or -1 when out of memory. */
int windows_add(struct windows *w, struct counter_table *cut);

/* Called for each (shop, agent) ever added, in a fixed order (by shop id, agent id),
 * with the sums of every window (zeros once its data has aged out). */
typedef int (*windows_fn)(void *ctx, uint32_t shop, uint32_t agent,
                          const int64_t (*sums)[COUNTER_WIDTH]);
int windows_each(struct windows *w, int64_t as_of_ms, windows_fn fn, void *ctx);

/* Forgets minutes older than 24 h before as_of. */
void windows_expire(struct windows *w, int64_t as_of_ms);

void windows_save(const struct windows *w, struct wire_writer *out);
int windows_load(struct windows *w, struct wire_reader *in);

#endif
