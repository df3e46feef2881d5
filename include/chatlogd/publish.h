/*
 * Publishing counter deltas to Redis (reference.md §6): turns a cut table of deltas into
 * batches for the apply script, which checks and advances the instance's applied
 * sequence and applies the batch in one atomic, idempotent step
 * (docs/exactly-once.md). Builds commands; does not talk to Redis itself.
 */
#ifndef CHATLOGD_PUBLISH_H
#define CHATLOGD_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "reasons.h"
#include "names.h"
#include "alert.h"
#include "windows.h"

struct publish_settings {
	const char *prefix;   /* "cs" */
	const char *instance; /* names this daemon's applied-sequence key */
	int64_t minute_ttl_s;
	int64_t day_ttl_s;
	size_t max_rows_per_batch; /* bounds the time one script blocks Redis */
	/* 0: every window hash of a cut gets a row (its sums, or the new as_of), as the
	 * contract's "rewritten at each flush" says; 1: only the windows whose sums the
	 * cut changed (window_writes = changed; their as_of is that of the change). */
	int windows_changed_only;
	/* 1: a batch is applied only right after the one before it (applied + 1), or
	 * answered {2, applied}. A backfill sends several at once: one Redis refuses must
	 * not let the later ones leave a gap that a re-run would step over. */
	int strict_sequence;
	/* 1 (a live daemon): each batch's counters claim their shops for this instance,
	 * PREFIX:{SHOP}:instance = instance for claim_ttl_s, and Redis leaves out of the
	 * batch the writes to a shop another instance holds (windows and alerts check the
	 * claim without taking it): two daemons on one shop would overwrite each other's
	 * windows and alerts. --once --redis writes only counters, which add up. */
	int claim_shops;
	int64_t claim_ttl_s;
};

/* The apply script: KEYS[1] = the sequence key; ARGV[1] = the batch's sequence, then
 * operations (see publish.c). Returns {1, previous} when applied ({1, previous, {KEY,
 * OWNER, ...}} when it left out shops other instances hold), {0, applied} when
 * the batch was applied before (a re-send), {2, applied} for a strict_sequence batch
 * whose predecessor is not applied, or an error before writing anything when
 * a key has the wrong type. */
extern const char publish_script[];

/* One EVALSHA's arguments: argv[0] is the sequence key, argv[1] the sequence. */
struct publish_batch {
	uint64_t seq;
	int argc;
	char **argv;
	size_t *argvlen;
};

/* Builds the batches for one cut (a by-minute table of deltas): per (shop, agent,
 * minute) the minute and day hashes, and for each shop the same under agent "*"
 * (the sum of its agents plus shop-level counters), TTLs, and the agents and shops
 * sets. Rows are sorted first, so the same deltas always give the same batches,
 * whatever order they were emitted in. Batches are numbered from first_seq.
 * Returns the number of batches in *out (0 for an empty cut), or -1 when a table is
 * past its id limit. */
int publish_build(const struct publish_settings *s, struct counter_table *cut,
                  const struct names *names, const struct reasons *reasons, uint64_t first_seq,
                  struct publish_batch **out);

/* What a live cut carries besides the deltas. */
struct publish_extra {
	struct windows *windows; /* the w:WINDOW hashes as of as_of_ms; may be NULL */
	int64_t as_of_ms;
	const struct alert_event *alerts; /* PUBLISH, XADD and the active-alert hash */
	size_t alert_count;
};

/* publish_build plus the extras: batches of the increments, then of the alerts,
 * then of the windows (so counters and alerts are applied first). Each window is
 * one row whether it changed or not, so which windows changed does not move the
 * batch boundaries. */
int publish_build_cut(const struct publish_settings *s, struct counter_table *cut,
                      const struct names *names, const struct reasons *reasons, uint64_t first_seq,
                      const struct publish_extra *extra, struct publish_batch **out);

void publish_batches_free(struct publish_batch *batches, int count);

/* Frees the arguments of count batches, leaving them empty (argc 0) in their array,
 * which the caller still owns: a sender lets go of each batch once acknowledged. */
void publish_batches_release(struct publish_batch *batches, size_t count);

/* The memory the batches hold: their arguments and the arrays pointing at them. */
size_t publish_batches_bytes(const struct publish_batch *batches, int count);

/* The key of the instance's applied sequence: PREFIX:instance:NAME:seq. */
void publish_seq_key(const struct publish_settings *s, char *out, size_t out_size);

#endif
