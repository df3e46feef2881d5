/*
 * Backfill: sends the by-minute deltas of a batch run (`--once --redis URL`) to Redis
 * with the live daemon's apply script, so a re-run, or a run resumed after a crash,
 * never counts twice (docs/exactly-once.md).
 */
#ifndef CHATLOGD_BACKFILL_H
#define CHATLOGD_BACKFILL_H

#include "config.h"
#include "counters.h"
#include "reasons.h"
#include "names.h"

/* Publishes `deltas` (a by-minute table) under instance name `instance`, batches
 * numbered from 1, waiting for every reply. Returns 0, or -1 (reason logged). */
int backfill_publish(const struct config *cfg, const char *instance, struct counter_table *deltas,
                     const struct names *names, const struct reasons *reasons);

#endif
