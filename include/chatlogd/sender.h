/*
 * The cut in flight on its way to Redis, as one state machine (docs/exactly-once.md):
 * its batches sent in order, one EVAL at a time, re-sent after a reconnect, rejected
 * ones retried at the next tick; and, at every connect, the instance's applied
 * sequence checked against what this state made (a refusal, or Redis lost batches).
 * It knows batches and Redis (through store.h: one server or a cluster); not the engine, the files,
 * nor the journal's format: the caller builds the batches and says when the journal fails.
 */
#ifndef CHATLOGD_SENDER_H
#define CHATLOGD_SENDER_H

#include <stddef.h>
#include <stdint.h>

struct publish_batch;
struct store;
struct sender;

/*
 * Where the cut in flight is. Whether Redis is reachable is the store's to know, and
 * a failing journal is a guard the caller sets (sender_journal_failing): both only
 * hold sending back, in whatever state.
 */
enum sender_state {
	SENDER_SEQ_UNKNOWN,    /* no state recovered: Redis's applied sequence is needed */
	SENDER_ASKING_SEQ,     /* the same, its GET under way */
	SENDER_CHECKING_SEQ,   /* sequence known; a connect's GET under way, batches wait */
	SENDER_IDLE,           /* sequence known, no cut in flight */
	SENDER_WAITING,        /* a batch of the cut waits to be sent */
	SENDER_AWAITING_REPLY, /* a batch's EVAL under way */
	SENDER_REFUSED         /* state_dir does not fit Redis: nothing more is sent */
};

struct sender_settings {
	const char *seq_key;   /* the instance's applied-sequence key (publish_seq_key) */
	const char *instance;  /* for messages */
	const char *state_dir; /* for messages */
	int count_again;       /* state_mismatch = count_again: continue after Redis */
};

struct sender_hooks {
	/* The last batch of the cut was answered: applied now (1), or applied before, a
	 * re-send (0). The cut is gone from the sender when this is called. */
	void (*cut_done)(void *ctx, int applied);
	/* Entered SENDER_REFUSED; why names the mismatch (without the way out). */
	void (*refused)(void *ctx, const char *why);
	void *ctx;
};

/* What /metrics and /healthz report; times are CLOCK_MONOTONIC milliseconds. */
struct sender_stats {
	uint64_t batches_applied, batches_skipped, batches_rejected;
	uint64_t lost_batches, lost_first, lost_last; /* Redis lost them after applying */
	int64_t last_applied_ms;                      /* Redis last acknowledged a batch; 0 */
	size_t backlog_batches;                       /* of the cut, not yet acknowledged */
	const char *last_rejection;                   /* Redis's error for the last one; "" */
	uint64_t shops_refused;   /* shops left out of applied batches: another instance's */
	int64_t refused_at_ms;    /* the last time one was; 0 */
	const char *last_refused; /* what was said about it; "" */
};

/* A sender in SENDER_SEQ_UNKNOWN with next sequence 1. Strings of s are copied; hooks
 * are copied and called from the loop. */
struct sender *sender_new(const struct sender_settings *s, const struct sender_hooks *hooks);

/* Frees the cut; accepts NULL. Free the store first: its pending callbacks are
 * answered into the sender. */
void sender_free(struct sender *s);

/* Sends through st (borrowed) from now on. */
void sender_attach(struct sender *s, struct store *st);

/* Events from the caller: the connection came up or went down, a tick of the flush
 * timer (sends what waits: a rejected batch is retried here), the journal failing or
 * working again (sending is held back while it fails; _journal_failing sends nothing
 * itself). */
void sender_connected(struct sender *s);
void sender_disconnected(struct sender *s);
void sender_tick(struct sender *s);
void sender_journal_failing(struct sender *s, int failing);

/* A new cut: count batches (taken over, freed by the sender) numbered from
 * first_seq; the next cut is numbered after them. Cuts are made only with no cut in
 * flight; a cut also makes the sequence known (replay). Nothing is sent before the
 * next sender_tick: the caller makes the cut durable first. */
void sender_take_cut(struct sender *s, uint64_t first_seq, struct publish_batch *batches,
                     int count);

/* Restoring a snapshot: the next sequence and whether it was known. */
void sender_restore(struct sender *s, uint64_t next_seq, int seq_known);

/* Restoring a snapshot's cut in flight, rebuilt as it was numbered: count batches
 * (taken over), those below resend_from already acknowledged. Keeps the next sequence. */
void sender_restore_cut(struct sender *s, struct publish_batch *batches, int count,
                        uint64_t resend_from);

enum sender_state sender_state(const struct sender *s);
const char *sender_state_name(enum sender_state state);

/* The sequence of the next cut's first batch. */
uint64_t sender_next_seq(const struct sender *s);

/* The sequence agrees with Redis (restored, replayed, or asked): cuts may be made. */
int sender_seq_known(const struct sender *s);

/* A cut is in flight: some of its batches are not acknowledged. */
int sender_busy(const struct sender *s);

/* The memory the cut's batches hold (publish_batches_bytes); 0 with no cut. */
size_t sender_cut_bytes(const struct sender *s);

/* Of the cut in flight: the sequence of its first batch, and of the first batch not
 * acknowledged; 0 when none is in flight. */
uint64_t sender_cut_first_seq(const struct sender *s);
uint64_t sender_resend_seq(const struct sender *s);

void sender_stats(const struct sender *s, struct sender_stats *out);

#endif
