/*
 * Durable state in state_dir (docs/exactly-once.md): the snapshot, replaced
 * atomically, and the journal of what happened since it, appended and fsync'd at
 * every cut. Both carry a generation number so a journal left over from an older
 * snapshot is recognised and ignored. Files only: what goes in them is the caller's.
 */
#ifndef CHATLOGD_STATE_H
#define CHATLOGD_STATE_H

#include <stddef.h>
#include <stdint.h>

/* Writes body as the snapshot of `generation`: temporary file, fsync, rename, fsync
 * of the directory. Returns 0, or -1 with a reason in err (the old snapshot stays). */
int state_snapshot_write(const char *dir, uint64_t generation, const void *body, size_t len,
                         char *err, size_t errlen);

/* Reads and verifies the snapshot. Returns 1 and a malloc'd *body, 0 when there is
 * none, -1 when it is unreadable or corrupt (reason in err). */
int state_snapshot_read(const char *dir, uint64_t *generation, void **body, size_t *len, char *err,
                        size_t errlen);

struct state_journal;

/* Starts an empty journal of `generation`, replacing any older one. NULL with err. */
struct state_journal *state_journal_create(const char *dir, uint64_t generation, char *err,
                                           size_t errlen);

/* The same in two steps, around the snapshot of `generation`: prepare writes the new
 * journal beside the running one (NULL with err, the running one untouched); commit
 * puts it in place (0, or -1 with err). Closing a prepared journal removes it. */
struct state_journal *state_journal_prepare(const char *dir, uint64_t generation, char *err,
                                            size_t errlen);
int state_journal_commit(struct state_journal *j, char *err, size_t errlen);

/* Queues one record (copied). Queued records are written out in large pieces as they
 * accumulate, but only state_journal_sync makes them durable. */
int state_journal_append(struct state_journal *j, const void *record, size_t len);

/* Sets the size of those pieces (default 8 MiB): queued records are written out once
 * this many bytes wait, so a memory budget smaller than 8 MiB is kept too. */
void state_journal_set_write_chunk(struct state_journal *j, size_t bytes);

/* Writes the queued records and fdatasyncs. Returns 0, or -1 with err: the records
 * stay queued, and a later sync retries them. */
int state_journal_sync(struct state_journal *j, char *err, size_t errlen);

/* Bytes in the journal file (synced), and bytes queued in memory. */
uint64_t state_journal_size(const struct state_journal *j);
size_t state_journal_queued(const struct state_journal *j);

void state_journal_close(struct state_journal *j);

/* Calls fn for every intact record of the journal of `generation`, in order, and
 * stops at the first torn or corrupt record (a crash while appending). A missing
 * journal, or one of another generation, has no records. fn returning -1 stops the
 * replay. Returns the number of records, or -1 (unreadable file, or fn failed). */
long state_journal_replay(const char *dir, uint64_t generation,
                          int (*fn)(void *ctx, const void *record, size_t len), void *ctx,
                          char *err, size_t errlen);

#endif
