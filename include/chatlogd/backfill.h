/*
 * Backfill: sends the by-minute deltas of a batch run (`--once --redis URL`) to Redis
 * with the live daemon's apply script, so a re-run, or a run resumed after a crash,
 * never counts twice (docs/exactly-once.md). The run hands over its deltas in cuts
 * as it goes, and waits while backfill_max_in_flight batches are unacknowledged, so
 * memory does not grow with the input (docs/operations.md, "Backfill").
 */
#ifndef CHATLOGD_BACKFILL_H
#define CHATLOGD_BACKFILL_H

#include "config.h"
#include "counters.h"
#include "reasons.h"
#include "names.h"

struct backfill;

/* Connects to cfg->redis (in the background) to publish under instance name
 * `instance` (copied), batches numbered from 1. names and reasons are borrowed and
 * must outlive it. NULL with the reason logged. */
struct backfill *backfill_new(const struct config *cfg, const char *instance,
                              const struct names *names, const struct reasons *reasons);

/* Turns `cut` (a by-minute table of deltas) into the next batches, empties it, and
 * returns once at most backfill_max_in_flight batches wait for Redis. The same cuts
 * always give the same batches, so where the caller cuts must depend only on the
 * input. Returns 0, or -1 once the run has failed (reason logged): rejected by Redis,
 * no batch acknowledged for a minute, or a table past its id limit. */
int backfill_send(struct backfill *b, struct counter_table *cut);

/* Waits until Redis has acknowledged every batch, then logs the run's figures.
 * Returns 0, or -1 as backfill_send. */
int backfill_finish(struct backfill *b);

void backfill_free(struct backfill *b);

#endif
