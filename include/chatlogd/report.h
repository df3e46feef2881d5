/*
 * The batch report (reference.md §5) as JSON, and the same numbers as a human scoreboard.
 * Reads a folded counter table (one row per shop and agent); computes shop and
 * overall totals as exact sums of the agent rows.
 */
#ifndef CHATLOGD_REPORT_H
#define CHATLOGD_REPORT_H

#include <stdio.h>

#include "counters.h"
#include "reasons.h"
#include "ingest.h"
#include "names.h"

/* Writes the reference.md §5 JSON object. Returns 0, or -1 on a write error. */
int report_json(FILE *out, struct counter_table *folded, const struct names *names,
                const struct reasons *reasons, const struct ingest_stats *stats);

/* Writes a per-shop scoreboard of agents for people (aligned by display width). */
int report_table(FILE *out, struct counter_table *folded, const struct names *names,
                 const struct reasons *reasons, const struct ingest_stats *stats);

#endif
