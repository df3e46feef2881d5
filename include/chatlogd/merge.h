/*
 * The watermark merge of live mode (reference.md §2 "One sequence of records"): the records
 * of every live input become one sequence ordered as batch mode orders them, the
 * smallest ts first among the inputs' next records, ties to the input given first.
 * A record is held back while another input may still deliver an earlier one.
 * It reads no files and no clock: the caller says what it knows (docs/tailing.md).
 */
#ifndef CHATLOGD_MERGE_H
#define CHATLOGD_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct merge;
struct wire_writer;
struct wire_reader;

struct merge_settings {
	/* An input read to its end holds nothing back once it has been quiet this long,
	 * nor records stamped this long before the wall clock (merge_grace). */
	int64_t grace_ms;
	/* Held records past this many bytes are released earliest first, counted as
	 * forced (0: LIMIT_MERGE_HELD_BYTES). */
	size_t max_held_bytes;
};

/* Gets every record in merged order. rec's strings and path are borrowed for the
 * call. The callback must not call back into the merge. */
typedef void (*merge_release_fn)(void *ctx, const struct record *rec, const char *path,
                                 uint64_t line_no);

/* settings are copied. */
struct merge *merge_new(const struct merge_settings *settings, merge_release_fn fn, void *ctx);
void merge_free(struct merge *m);

/* Declares the input followed under path, with its place in the tie order (lower
 * first; equal ranks go by path). Declaring a known path again keeps its records
 * and takes the new rank. Returns the input's id (stable for the merge's life and
 * across merge_save/merge_load). path is copied. */
int merge_input(struct merge *m, const char *path, uint32_t rank);

/* The next record of an input, in the input's order. Released at once (not copied)
 * when no other input can still deliver an earlier one; otherwise copied and held.
 * Releases what it unblocks, and past max_held_bytes the earliest held. Counts it
 * late when another input already released a later ts. Depends on nothing but
 * the records pushed and the releases asked for, so a replay repeats it. */
void merge_push(struct merge *m, int input, const struct record *rec, uint64_t line_no);

/* Live only, not reproducible: input delivered a record at wall time wall_ms (or
 * started being followed then). */
void merge_touch(struct merge *m, int input, int64_t wall_ms);

/* Tells whether the input followed under path has been read to its current end. */
typedef int (*merge_at_end_fn)(void *ctx, const char *path);

/* Releases what only the wall clock allows: an input read to its end does not hold
 * back records stamped grace before wall_ms, nor any once it has been quiet for
 * grace. Returns how many records it released; a replay repeats them with
 * merge_release_count (journal the count). */
uint64_t merge_release_due(struct merge *m, int64_t wall_ms, merge_at_end_fn at_end, void *ctx);

/* Releases the next n records in merged order, then what the records allow. */
void merge_release_count(struct merge *m, uint64_t n);

/* The event clock moved to t without a record (quiet logs): records below it
 * arriving later are late. */
void merge_note_advance(struct merge *m, int64_t t);

/* Smallest ts held; INT64_MAX when nothing is held. */
int64_t merge_earliest_held(const struct merge *m);

struct merge_stats {
	uint64_t late;   /* records that arrived below the watermark */
	uint64_t forced; /* records released because max_held_bytes was reached */
	size_t held_records, held_bytes, inputs;
};
void merge_stats(const struct merge *m, struct merge_stats *out);

/* Writes inputs, held records (copies) and counters; merge_load restores them into a
 * fresh merge (nothing declared yet). merge_load returns 0, or -1 on a malformed
 * section. */
void merge_save(const struct merge *m, struct wire_writer *w);
int merge_load(struct merge *m, struct wire_reader *r);

#endif
