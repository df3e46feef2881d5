/*
 * sender.c owns the cut in flight between the moment it is cut and Redis's last
 * acknowledgement: its batches, the applied-sequence checks at every connect, and
 * the counters /metrics and /healthz read about them. Every change of state goes
 * through sender_step(). It does not build batches (publish.c), write the journal
 * (the caller), or post alerts (the caller's cut_done hook).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "chatlogd/clock.h"
#include "chatlogd/log.h"
#include "chatlogd/publish.h"
#include "chatlogd/sender.h"
#include "chatlogd/store.h"
#include "chatlogd/util.h"

enum sender_event_type {
	EVENT_CONNECTED,
	EVENT_DISCONNECTED,
	EVENT_TICK,
	EVENT_CUT,            /* sender_take_cut: the batches are in place */
	EVENT_SEQ_ANSWER,     /* the GET of the applied sequence: .applied */
	EVENT_SEQ_UNUSABLE,   /* no answer or not one we read: asked again at the next connect */
	EVENT_BATCH_DONE,     /* the script answered: .outcome (1 applied, 0 before), .previous */
	EVENT_BATCH_REJECTED, /* .error */
	EVENT_BATCH_LOST      /* connection lost or timed out: re-sent once it is back */
};

struct sender_event {
	enum sender_event_type type;
	uint64_t applied;
	int has_outcome; /* the script's {outcome, previous} pair was there */
	long long outcome, previous;
	const char *error;
	const struct redisReply *refused; /* claim keys and instances, in pairs; or NULL */
};

struct sender {
	enum sender_state state;
	char *seq_key, *instance, *state_dir; /* copies */
	int count_again;
	struct sender_hooks hooks;

	struct store *store;   /* borrowed; NULL until attached (replay) */
	uint64_t request_id;   /* the newest request's ticket; replies to others are stale */
	unsigned requests_out; /* requests not yet answered, stale ones included */
	int journal_failing;

	struct publish_batch *batches; /* the cut in flight */
	int batch_count, batch_next;
	size_t cut_bytes; /* what its batches hold */
	uint64_t next_seq;

	uint64_t batches_applied, batches_skipped, batches_rejected;
	uint64_t lost_batches, lost_first, lost_last;
	int64_t last_applied_ms;
	char last_rejection[256];
	/* shops Redis left out of applied batches: another instance publishes them */
	uint64_t shops_refused;
	int64_t refused_at_ms;
	struct log_ratelimit refused_log; /* once a minute */
	char last_refused[512];
	uint64_t applied_by_stale; /* a stale reply said this batch was applied then */
	uint64_t unclosed_seq;     /* count_again on a cluster skipped it: no loss when missing */
	struct log_ratelimit rejection_log; /* of last_rejection: once a minute */
	char refusal[768];                  /* why SENDER_REFUSED was entered */
};

static void sender_step(struct sender *s, const struct sender_event *ev);
static void shops_refused(struct sender *s, uint64_t seq, const struct redisReply *refused);

const char *sender_state_name(enum sender_state state)
{
	switch (state) {
	case SENDER_SEQ_UNKNOWN:
		return "seq_unknown";
	case SENDER_ASKING_SEQ:
		return "asking_seq";
	case SENDER_CHECKING_SEQ:
		return "checking_seq";
	case SENDER_IDLE:
		return "idle";
	case SENDER_WAITING:
		return "waiting";
	case SENDER_AWAITING_REPLY:
		return "awaiting_reply";
	case SENDER_REFUSED:
		return "refused";
	}
	return "?";
}

static int cut_in_flight(const struct sender *s)
{
	return s->batch_next < s->batch_count;
}

static void drop_cut(struct sender *s)
{
	publish_batches_free(s->batches, s->batch_count);
	s->batches = NULL;
	s->batch_count = s->batch_next = 0;
	s->cut_bytes = 0;
}

/* The state to rest in, with the sequence known and nothing under way. */
static enum sender_state resting(const struct sender *s)
{
	return cut_in_flight(s) ? SENDER_WAITING : SENDER_IDLE;
}

/* ---- what Redis answers, turned into events ---- */

/*
 * Each request carries a ticket: the sender and the request's number. Only the reply
 * to the newest request is acted on. A Redis Cluster may say it is disconnected while
 * parts of a batch are still out (a MOVED to a node not connected yet), so a reply can
 * come after the sender moved on; taken for the newer request's, it would mark a
 * batch done that was never applied.
 */
struct ticket {
	struct sender *s;
	uint64_t id;
	uint64_t seq; /* the batch's; 0 for the GET of the applied sequence */
};

static struct ticket *ticket_new(struct sender *s, uint64_t seq)
{
	struct ticket *t = xmalloc(sizeof(*t));

	t->s = s;
	t->id = ++s->request_id;
	t->seq = seq;
	s->requests_out++;
	return t;
}

/* Frees the ticket; 1 when it answers the newest request, 0 for an older one. */
static int ticket_redeem(struct ticket *t)
{
	int current = t->id == t->s->request_id;

	t->s->requests_out--;
	free(t);
	return current;
}

/* The request did not go: no reply will come. Its number stays used, so a reply to
 * the one before it is still taken as stale. */
static void ticket_cancel(struct ticket *t)
{
	t->s->requests_out--;
	free(t);
}

/* A stale reply that says the batch still in flight was applied now: the re-send will
 * hear "applied before", and the cut is the one that was applied (its alerts go to
 * the webhook); the shops it left out are said. */
static void stale_batch_reply(struct sender *s, uint64_t seq, const struct redisReply *reply)
{
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[0]->integer != 1 ||
	    !cut_in_flight(s) || s->batches[s->batch_next].seq != seq)
		return;
	s->applied_by_stale = seq;
	if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_ARRAY)
		shops_refused(s, seq, reply->element[2]);
}

static void on_batch_reply(void *ctx, struct redisReply *reply, void *privdata)
{
	struct ticket *t = privdata;
	struct sender *s = t->s;
	uint64_t seq = t->seq;
	struct sender_event ev = {.type = EVENT_BATCH_DONE};
	(void)ctx;

	if (!ticket_redeem(t)) {
		stale_batch_reply(s, seq, reply);
		return;
	}
	if (reply == NULL) {
		ev.type = EVENT_BATCH_LOST;
	} else if (reply->type == REDIS_REPLY_ERROR) {
		ev.type = EVENT_BATCH_REJECTED;
		ev.error = reply->str;
	} else if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2) {
		ev.has_outcome = 1;
		ev.outcome = reply->element[0]->integer;
		ev.previous = reply->element[1]->integer;
		/* {1, previous, {claim key, instance, ...}}: shops another instance publishes,
		 * whose part of the batch Redis left out */
		if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_ARRAY)
			ev.refused = reply->element[2];
	}
	sender_step(s, &ev);
}

static void on_applied_seq(void *ctx, struct redisReply *reply, void *privdata)
{
	struct ticket *t = privdata;
	struct sender *s = t->s;
	struct sender_event ev = {.type = EVENT_SEQ_UNUSABLE};
	(void)ctx;

	if (!ticket_redeem(t))
		return;
	if (reply != NULL &&
	    (reply->type == REDIS_REPLY_NIL || reply->type == REDIS_REPLY_STRING)) {
		ev.type = EVENT_SEQ_ANSWER;
		ev.applied = reply->type == REDIS_REPLY_STRING ? strtoull(reply->str, NULL, 10) : 0;
	}
	sender_step(s, &ev);
}

/* ---- actions ---- */

/* Sends the GET of the applied sequence; 0, or -1 when it could not go. */
static int ask_applied_seq(struct sender *s)
{
	struct ticket *t = ticket_new(s, 0);

	if (store_get(s->store, s->seq_key, on_applied_seq, t) == 0)
		return 0;
	ticket_cancel(t);
	return -1;
}

/* Sends the next batch when nothing holds it back: AWAITING_REPLY, else WAITING. */
static enum sender_state send_next_batch(struct sender *s)
{
	const struct publish_batch *b;
	struct ticket *t;

	if (s->journal_failing || s->store == NULL || !store_connected(s->store))
		return SENDER_WAITING;
	/* An older request still out (a batch sent before a reconnect) may yet be
	 * applied: the batch goes again once it is answered, at a tick. */
	if (s->requests_out > 0)
		return SENDER_WAITING;
	b = &s->batches[s->batch_next];
	t = ticket_new(s, b->seq);
	if (store_apply(s->store, b, on_batch_reply, t) == 0)
		return SENDER_AWAITING_REPLY;
	ticket_cancel(t);
	return SENDER_WAITING;
}

/* The rest state, or the next batch on its way when there is one and it can go. */
static enum sender_state send_if_due(struct sender *s)
{
	return cut_in_flight(s) ? send_next_batch(s) : SENDER_IDLE;
}

/* At a connect: asks Redis what it applied (checked before anything is sent). */
static enum sender_state check_at_connect(struct sender *s, int known)
{
	if (ask_applied_seq(s) == 0)
		return known ? SENDER_CHECKING_SEQ : SENDER_ASKING_SEQ;
	return known ? send_if_due(s) : SENDER_SEQ_UNKNOWN;
}

/*
 * Redis acknowledged batches first..last and no longer has them: it restarted
 * without persistence, lost its last second of writes (appendfsync everysec), was
 * flushed, or failed over to a replica that lagged. Their counts are missing in
 * Redis and nobody can send them again (no applied batch is kept), so it is said
 * loudly and counted; /healthz stays degraded until a restart: the numbers in Redis
 * are short until they are rebuilt (docs/operations.md, Recovering).
 */
static void redis_lost(struct sender *s, uint64_t first, uint64_t last)
{
	if (first == s->unclosed_seq && first != 0)
		first++; /* skipped by count_again on a cluster, not lost */
	if (first > last)
		return;
	log_errx("redis lost batches seq=%llu..%llu of instance=%s after applying them "
	         "(restart without persistence, FLUSHDB, or a failover to a lagging replica): "
	         "their counts are missing in Redis; rebuild them from the logs "
	         "(docs/operations.md, Recovering)",
	         (unsigned long long)first, (unsigned long long)last, s->instance);
	/* Only what lies outside the span counted so far is counted: the same range seen
	 * at a connect and again in the reply to the cut in flight counts once. */
	if (s->lost_batches == 0) {
		s->lost_first = first;
		s->lost_last = last;
		s->lost_batches = last - first + 1;
		return;
	}
	if (first < s->lost_first) {
		uint64_t below = last < s->lost_first ? last : s->lost_first - 1;
		s->lost_batches += below - first + 1;
		s->lost_first = first;
	}
	if (last > s->lost_last) {
		uint64_t above = first > s->lost_last ? first : s->lost_last + 1;
		s->lost_batches += last - above + 1;
		s->lost_last = last;
	}
}

/* count_again: the first sequence after what Redis applied. On a cluster, batch A + 1
 * may have been applied to some shops and not closed; a different batch numbered A + 1
 * would be taken for a re-send there and dropped, so it is skipped (batches go one at a
 * time, so no part is past A + 1). */
static uint64_t continue_after(struct sender *s, uint64_t applied)
{
	if (s->store == NULL || !store_is_cluster(s->store))
		return applied + 1;
	s->unclosed_seq = applied + 1; /* never closed: Redis did not lose it */
	return applied + 2;
}

/*
 * Redis's applied sequence for this instance, asked at every connect, checked
 * against the state recovered from state_dir (known: restored or replayed):
 *   - no state (a first start, or state_dir lost) but Redis has batches: the lines
 *     would be read again and counted twice: refuse (or, with count_again, continue
 *     after them);
 *   - Redis has applied batches this state never made (an old copy of state_dir, a
 *     lost journal): the same;
 *   - Redis has fewer than this state knows were acknowledged: Redis lost them.
 * Returns the next state.
 */
static enum sender_state check_applied_seq(struct sender *s, int known, uint64_t applied)
{
	uint64_t newest = s->next_seq - 1; /* the newest batch this state made */
	uint64_t acknowledged = cut_in_flight(s) ? s->batches[s->batch_next].seq - 1 : newest;
	char *why = s->refusal;
	size_t whylen = sizeof(s->refusal);

	if (!known && applied > 0) {
		snprintf(why, whylen,
		         "state_dir %s holds no state of instance=%s, but Redis has applied %llu "
		         "of its batches",
		         s->state_dir, s->instance, (unsigned long long)applied);
		if (!s->count_again)
			goto refuse;
		log_warnx("%s: continuing after them (state_mismatch = count_again); lines read "
		          "again are counted again",
		          why);
		s->next_seq = continue_after(s, applied);
	} else if (known && applied > newest) {
		snprintf(why, whylen,
		         "Redis has applied batches up to seq=%llu of instance=%s, but the state "
		         "in %s ends at seq=%llu: it is older than Redis (an old copy, a lost or "
		         "damaged journal)",
		         (unsigned long long)applied, s->instance, s->state_dir,
		         (unsigned long long)newest);
		if (!s->count_again)
			goto refuse;
		log_warnx("%s: continuing after them (state_mismatch = count_again)", why);
		s->next_seq = continue_after(s, applied);
		if (cut_in_flight(s)) /* its batches are below Redis's: they would be skipped */
			log_warnx("the cut in flight is dropped: Redis is past it");
	} else if (known && applied < acknowledged) {
		redis_lost(s, applied + 1, acknowledged);
	}
	return send_if_due(s);
refuse:
	return SENDER_REFUSED; /* the hook hears why once the state is set */
}

/*
 * Redis applied the batch but left out the shops another instance publishes (the
 * claim keys and their owners, in pairs): their counts from this daemon are dropped,
 * the owner's stand. A misconfiguration to fix, said once a minute, counted, and shown
 * by /healthz for a minute after the last one.
 */
static void shops_refused(struct sender *s, uint64_t seq, const struct redisReply *refused)
{
	int64_t now = clock_monotonic_ms();
	size_t pairs = refused->elements / 2;

	if (pairs == 0)
		return;
	for (size_t i = 0; i < 2; i++)
		if (refused->element[i]->type != REDIS_REPLY_STRING)
			return;
	s->shops_refused += pairs;
	s->refused_at_ms = now;
	snprintf(s->last_refused, sizeof(s->last_refused),
	         "instance %s publishes %s%s: this daemon's counts of it are dropped (one daemon "
	         "per shop, docs/operations.md, Many shops)",
	         refused->element[1]->str, refused->element[0]->str,
	         pairs > 1 ? " and other shops" : "");
	if (log_ratelimit_allow(&s->refused_log, "redis shops left out"))
		log_errx("redis left %zu shop(s) out of batch seq=%llu: %s", pairs,
		         (unsigned long long)seq, s->last_refused);
}

/* The script answered the batch in flight: the next one goes, or the cut is done
 * (*cut_applied then says whether its last batch was applied now: 1, or before: 0). */
static enum sender_state batch_done(struct sender *s, const struct sender_event *ev,
                                    int *cut_applied)
{
	uint64_t seq = s->batches[s->batch_next].seq;
	int applied = ev->has_outcome &&
	              (ev->outcome == 1 || (ev->outcome == 0 && s->applied_by_stale == seq));

	s->last_rejection[0] = '\0';
	s->last_applied_ms = clock_monotonic_ms();
	if (ev->has_outcome) {
		if (applied)
			s->batches_applied++;
		else
			s->batches_skipped++;
		if (ev->outcome == 0 && s->applied_by_stale == seq)
			log_debug("batch seq=%llu was applied by an earlier send",
			          (unsigned long long)seq);
		if (ev->refused != NULL)
			shops_refused(s, seq, ev->refused);
		if (ev->outcome == 0)
			log_debug("batch seq=%llu was already applied", (unsigned long long)seq);
		else if (ev->previous >= 0 && (uint64_t)ev->previous + 1 < seq)
			redis_lost(s, (uint64_t)ev->previous + 1, seq - 1);
	}
	s->batch_next++;
	if (cut_in_flight(s))
		return send_next_batch(s);
	drop_cut(s);
	*cut_applied = applied;
	return SENDER_IDLE;
}

/* A batch Redis refuses is tried again at every tick and may be refused for hours (a
 * foreign key): the same error is logged once a minute (log_ratelimit counts the
 * rest); a new one at once. */
static enum sender_state batch_rejected(struct sender *s, const char *error)
{
	s->batches_rejected++;
	if (strncmp(s->last_rejection, error, sizeof(s->last_rejection) - 1) != 0) {
		log_ratelimit_flush(&s->rejection_log, "redis batch rejections");
		s->rejection_log = (struct log_ratelimit){.per_second = 1, .window_ms = 60000};
	}
	snprintf(s->last_rejection, sizeof(s->last_rejection), "%s", error);
	if (log_ratelimit_allow(&s->rejection_log, "redis batch rejections"))
		log_warnx("redis rejected batch seq=%llu error=\"%s\"",
		          (unsigned long long)s->batches[s->batch_next].seq, error);
	return SENDER_WAITING; /* retried at the next tick */
}

/* ---- the state machine ---- */

/*
 * The one place the state changes. Cuts go out one at a time and their batches in
 * order, each after the previous one's reply. At every connect the applied sequence
 * is asked first and the batches wait for its answer, so nothing is sent to a Redis
 * the state does not fit. Events a state has no use for leave it as it is: replies
 * for a connection that went away come as EVENT_*_LOST/UNUSABLE before
 * EVENT_DISCONNECTED, so a disconnect itself only confirms.
 */
static void sender_step(struct sender *s, const struct sender_event *ev)
{
	enum sender_state next = s->state;
	int cut_applied = -1; /* the cut is done: its last batch applied now (1) or before (0) */

	switch (s->state) {
	case SENDER_REFUSED:
		return; /* the caller is stopping; nothing more goes to Redis */
	case SENDER_SEQ_UNKNOWN:
		if (ev->type == EVENT_CONNECTED)
			next = check_at_connect(s, 0);
		else if (ev->type == EVENT_CUT) /* replay: cuts are made once it is known */
			next = resting(s);
		break;
	case SENDER_ASKING_SEQ:
		if (ev->type == EVENT_SEQ_ANSWER)
			next = check_applied_seq(s, 0, ev->applied);
		else if (ev->type == EVENT_SEQ_UNUSABLE || ev->type == EVENT_DISCONNECTED)
			next = SENDER_SEQ_UNKNOWN;
		break;
	case SENDER_CHECKING_SEQ:
		if (ev->type == EVENT_SEQ_ANSWER)
			next = check_applied_seq(s, 1, ev->applied);
		else if (ev->type == EVENT_SEQ_UNUSABLE)
			next = send_if_due(s); /* the check waits for the next connect */
		else if (ev->type == EVENT_DISCONNECTED)
			next = resting(s);
		break;
	case SENDER_IDLE:
	case SENDER_WAITING:
		if (ev->type == EVENT_CONNECTED)
			next = check_at_connect(s, 1);
		else if (ev->type == EVENT_TICK)
			next = send_if_due(s);
		else if (ev->type == EVENT_CUT)
			next = resting(s); /* sent at the next tick, once the cut is durable */
		break;
	case SENDER_AWAITING_REPLY:
		if (ev->type == EVENT_BATCH_DONE)
			next = batch_done(s, ev, &cut_applied);
		else if (ev->type == EVENT_BATCH_REJECTED)
			next = batch_rejected(s, ev->error);
		else if (ev->type == EVENT_BATCH_LOST || ev->type == EVENT_DISCONNECTED)
			next = SENDER_WAITING;
		break;
	}
	if (next == s->state)
		return;
	log_debug("sender: %s -> %s", sender_state_name(s->state), sender_state_name(next));
	s->state = next;
	/* The hooks run last, with the state set: they may look at the sender. */
	if (next == SENDER_REFUSED && s->hooks.refused != NULL)
		s->hooks.refused(s->hooks.ctx, s->refusal);
	if (cut_applied != -1 && s->hooks.cut_done != NULL)
		s->hooks.cut_done(s->hooks.ctx, cut_applied);
}

/* ---- public interface ---- */

struct sender *sender_new(const struct sender_settings *settings, const struct sender_hooks *hooks)
{
	struct sender *s = xcalloc(1, sizeof(*s));

	s->state = SENDER_SEQ_UNKNOWN;
	s->seq_key = xstrdup(settings->seq_key);
	s->instance = xstrdup(settings->instance);
	s->state_dir = xstrdup(settings->state_dir);
	s->count_again = settings->count_again;
	if (hooks != NULL)
		s->hooks = *hooks;
	s->next_seq = 1;
	s->refused_log = (struct log_ratelimit){.per_second = 1, .window_ms = 60000};
	s->rejection_log = s->refused_log;
	return s;
}

void sender_free(struct sender *s)
{
	if (s == NULL)
		return;
	drop_cut(s);
	free(s->seq_key);
	free(s->instance);
	free(s->state_dir);
	free(s);
}

void sender_attach(struct sender *s, struct store *st)
{
	s->store = st;
}

void sender_connected(struct sender *s)
{
	sender_step(s, &(struct sender_event){.type = EVENT_CONNECTED});
}

void sender_disconnected(struct sender *s)
{
	sender_step(s, &(struct sender_event){.type = EVENT_DISCONNECTED});
}

void sender_tick(struct sender *s)
{
	sender_step(s, &(struct sender_event){.type = EVENT_TICK});
}

void sender_journal_failing(struct sender *s, int failing)
{
	s->journal_failing = failing != 0;
}

void sender_take_cut(struct sender *s, uint64_t first_seq, struct publish_batch *batches, int count)
{
	drop_cut(s);
	s->batches = batches;
	s->batch_count = count;
	s->cut_bytes = publish_batches_bytes(batches, count);
	s->next_seq = first_seq + (uint64_t)count;
	sender_step(s, &(struct sender_event){.type = EVENT_CUT});
}

void sender_restore(struct sender *s, uint64_t next_seq, int seq_known)
{
	s->next_seq = next_seq;
	s->state = seq_known ? resting(s) : SENDER_SEQ_UNKNOWN;
}

void sender_restore_cut(struct sender *s, struct publish_batch *batches, int count,
                        uint64_t resend_from)
{
	drop_cut(s);
	s->batches = batches;
	s->batch_count = count;
	s->cut_bytes = publish_batches_bytes(batches, count);
	while (s->batch_next < s->batch_count && s->batches[s->batch_next].seq < resend_from)
		s->batch_next++;
	if (s->state == SENDER_IDLE)
		s->state = resting(s);
}

enum sender_state sender_state(const struct sender *s)
{
	return s->state;
}

uint64_t sender_next_seq(const struct sender *s)
{
	return s->next_seq;
}

int sender_seq_known(const struct sender *s)
{
	return s->state != SENDER_SEQ_UNKNOWN && s->state != SENDER_ASKING_SEQ &&
	       s->state != SENDER_REFUSED;
}

int sender_busy(const struct sender *s)
{
	return cut_in_flight(s);
}

uint64_t sender_cut_first_seq(const struct sender *s)
{
	return cut_in_flight(s) ? s->batches[0].seq : 0;
}

uint64_t sender_resend_seq(const struct sender *s)
{
	return cut_in_flight(s) ? s->batches[s->batch_next].seq : 0;
}

size_t sender_cut_bytes(const struct sender *s)
{
	return s->cut_bytes;
}

void sender_stats(const struct sender *s, struct sender_stats *out)
{
	out->batches_applied = s->batches_applied;
	out->batches_skipped = s->batches_skipped;
	out->batches_rejected = s->batches_rejected;
	out->lost_batches = s->lost_batches;
	out->lost_first = s->lost_first;
	out->lost_last = s->lost_last;
	out->last_applied_ms = s->last_applied_ms;
	out->backlog_batches = (size_t)(s->batch_count - s->batch_next);
	out->last_rejection = s->last_rejection;
	out->shops_refused = s->shops_refused;
	out->refused_at_ms = s->refused_at_ms;
	out->last_refused = s->last_refused;
}
