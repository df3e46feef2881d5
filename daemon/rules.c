/*
 * rules.c owns the lost-reason patterns file (reference.md §4): reading it, compiling each
 * rule with PCRE2 (JIT when the system allows it) and finding the first rule that
 * matches a message, or an inquiry's transcript (scope `inquiry`), under bounded match
 * limits, with a memo of recent answers.
 * Which patterns, or which of their alternatives, need to run on a message at all is
 * the prefilter's part (prefilter.c). It knows nothing about inquiries: the engine
 * decides which messages to ask about and what a match means.
 *
 * File format, as this parser reads it:
 *   - UTF-8; a UTF-8 byte order mark at the very start is skipped (Windows editors
 *     write one) and not counted in columns.
 *   - One rule per line: REASON LABEL SCOPE PATTERN, fields separated by runs of
 *     ASCII spaces and tabs (a full-width space U+3000 is not a separator).
 *   - A line whose first non-blank character is '#' is a comment; blank lines are
 *     skipped. There are no trailing comments: '#' may be part of a pattern.
 *   - PATTERN is the rest of the line after the blanks that follow SCOPE, with a
 *     trailing '\r' and trailing spaces and tabs removed. A pattern that must begin
 *     or end with a space writes it as \x20 or [ ].
 *   - Errors are "FILE:LINE:COLUMN: message"; COLUMN is 1-based and counts
 *     characters (code points; a tab is one), as an editor's cursor does.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/hindex.h"
#include "chatlogd/limits.h"
#include "chatlogd/log.h"
#include "chatlogd/prefilter.h"
#include "chatlogd/rules.h"
#include "chatlogd/textfile.h"
#include "chatlogd/utf8.h"
#include "chatlogd/util.h"

/* Compile options fixed by reference.md §4. \C is refused: it can split a UTF-8 character
 * and nothing a chat rule needs depends on it. */
#define RULES_COMPILE_OPTIONS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_NEVER_BACKSLASH_C)

/* Which senders a scope covers, as a bit per enum record_from. */
#define FROM_BIT(from) (1u << (from))
#define FROM_COUNT (FROM_BOT + 1)
#define SCOPE_BUYER FROM_BIT(FROM_BUYER)
#define SCOPE_AGENT FROM_BIT(FROM_AGENT) /* human agents only (v2) */
#define SCOPE_BOT FROM_BIT(FROM_BOT)
#define SCOPE_ANY (FROM_BIT(FROM_NONE) | SCOPE_BUYER | SCOPE_AGENT | SCOPE_BOT)
/* `inquiry` rules read a transcript, not a message: a slot of their own after the
 * senders', which no message is ever asked about. */
#define SCOPE_SLOT_INQUIRY FROM_COUNT
#define SCOPE_INQUIRY FROM_BIT(SCOPE_SLOT_INQUIRY)
/* A transcript is one message per line: ^ and $ match at each message. */
#define INQUIRY_COMPILE_OPTIONS (RULES_COMPILE_OPTIONS | PCRE2_MULTILINE)

/* A compiled pattern. */
struct compiled {
	pcre2_code *code;
	int jit; /* 1 when code carries JIT code */
	/* For an alternative, compiled on first use: 0 not yet, 1 compiled, -1 it could
	 * not be (the whole pattern then answers for the rule). */
	int state;
};

struct rule {
	struct compiled whole;
	/* When the prefilter splits the pattern into its top-level alternatives, each of
	 * them compiled alone (with the start guard) the first time it may match, and
	 * the pattern they come from; NULL when the rule is kept whole. Most
	 * alternatives are never needed or answered by the prefilter alone, and JIT
	 * compiling all of them would double the time a load takes. */
	struct compiled *alternative;
	char *pattern;
	size_t pattern_len;
	unsigned reason;  /* index into rules.reason */
	uint32_t options; /* RULES_COMPILE_OPTIONS, or INQUIRY_COMPILE_OPTIONS */
};

/* A rule with more alternatives than this that may match runs its whole pattern
 * once instead of each of them. */
#define ALTERNATIVES_RUN_MAX 4

struct reason {
	char *name;
	char *label;
	unsigned line; /* where the reason first appeared, for the label mismatch error */
};

/*
 * Memo of answers. Chat repeats itself: agents paste the same quick replies, robots
 * and greetings recur, buyers write 在吗 and 好的; the same text from the same kind
 * of sender always gets the same answer, so a recent text's answer is looked up
 * instead of scanned and matched again. An entry keeps the whole text (a hash alone
 * could collide) and what the set answered for it with the limit it was asked with:
 *   - skipped: a skip rule of the sender's scope matched, no answer whatever limit;
 *   - rule < below: the first rule that matches at all (rules before it did not),
 *     so for any limit the answer is rule, or none when the limit is at or before it;
 *   - no rule below `below`: none for every limit up to below; a larger limit asks
 *     again and updates the entry.
 * An answer during which a match hit a PCRE2 limit is not kept, so a hostile text
 * is matched, and counted in rules_limit_hits, every time as before.
 *
 * Sets of MEMO_WAYS entries, the way used longest ago replaced: a fixed table
 * allocated once, nothing per message. Most texts of a real log never come again,
 * and the table is large: a text is only kept the second time it is asked about
 * (`seen` notes the hashes of texts asked about once), and the entries' hashes sit
 * in a small array of their own, so that a text met once touches neither the entries
 * nor their cache lines.
 */
#define MEMO_WAYS 2
#define MEMO_SETS (LIMIT_RULES_MEMO_ENTRIES / MEMO_WAYS)
#define MEMO_SEEN 4096 /* hashes of texts asked about once */

struct memo_entry {
	uint16_t len;    /* of the text, in bytes */
	uint16_t below;  /* the limit of the answer */
	uint16_t rule;   /* first matching rule below `below`, or RULES_NONE */
	uint8_t from;    /* enum record_from */
	uint8_t skipped; /* 1 when a skip rule matched */
	char text[LIMIT_RULES_MEMO_TEXT_BYTES];
};

struct memo {
	uint64_t hash[LIMIT_RULES_MEMO_ENTRIES]; /* of each entry's text; 0 = empty */
	uint64_t seen[MEMO_SEEN];                /* by hash >> 32 modulo MEMO_SEEN */
	uint8_t recent[MEMO_SETS];               /* per set: the way used last */
	struct memo_entry entry[LIMIT_RULES_MEMO_ENTRIES];
};

struct rules {
	struct rule rule[LIMIT_RULES];
	unsigned count;
	struct reason reason[LIMIT_REASONS];
	unsigned reason_count;
	rule_mask scope[FROM_COUNT + 1]; /* rules whose scope covers each sender, then inquiry */
	rule_mask skip;                  /* `skip` rules: a message they match is no evidence */
	unsigned first_inquiry;          /* the first `inquiry` rule, RULES_NONE when none */
	struct prefilter *prefilter;
	/* One match context and one match data for the whole set: matching allocates
	 * nothing, and a rules set is used from one thread only. */
	pcre2_match_context *match_context;
	pcre2_match_data *match_data;
	/* Line breaks are \n alone, whatever libpcre2's build default: a transcript's
	 * `.` and `$` must not stop at \r, \f or U+2028 inside a message. */
	pcre2_compile_context *compile_context;
	uint64_t limit_hits;
	int jit_usable;    /* 0 once JIT failed (or this PCRE2 has none): stop trying */
	int all_jit;       /* 1 while every rule so far carries JIT code */
	struct memo *memo; /* NULL while off */
};

/* State of one load, for error messages. */
struct rules_loader {
	const char *name;
	char *err;
	size_t errlen;
	unsigned line;          /* 1-based number of the line being read */
	const char *line_start; /* where column 1 of that line is */
};

static const char *const builtin_reasons[] = {"no_reply", "slow", "other"};

/* ---- The rule set --------------------------------------------------------------- */

static struct rules *rules_create(void)
{
	struct rules *r;
	uint32_t jit_available = 0;

	r = xcalloc(1, sizeof(*r));
	r->prefilter = prefilter_new();
	if ((r->match_context = pcre2_match_context_create(NULL)) == NULL ||
	    (r->match_data = pcre2_match_data_create(1, NULL)) == NULL ||
	    (r->compile_context = pcre2_compile_context_create(NULL)) == NULL ||
	    pcre2_set_newline(r->compile_context, PCRE2_NEWLINE_LF) != 0) {
		rules_free(r);
		return NULL;
	}
	pcre2_set_match_limit(r->match_context, LIMIT_PCRE2_MATCH);
	pcre2_set_depth_limit(r->match_context, LIMIT_PCRE2_DEPTH);
	pcre2_set_heap_limit(r->match_context, LIMIT_PCRE2_HEAP_KIB);
	if (pcre2_config(PCRE2_CONFIG_JIT, &jit_available) < 0)
		jit_available = 0;
	r->jit_usable = jit_available == 1;
	r->all_jit = 1;
	r->first_inquiry = RULES_NONE;
	return r;
}

struct rules *rules_empty(void)
{
	return rules_create();
}

/* Frees rule i's compiled patterns. */
static void rule_release(struct rules *r, unsigned i)
{
	struct rule *rule = &r->rule[i];
	unsigned first, end;

	pcre2_code_free(rule->whole.code);
	rule->whole.code = NULL;
	if (rule->alternative == NULL)
		return;
	prefilter_alternatives(r->prefilter, i, &first, &end);
	for (unsigned a = 0; a < end - first; a++)
		pcre2_code_free(rule->alternative[a].code);
	free(rule->alternative);
	free(rule->pattern);
	rule->alternative = NULL;
	rule->pattern = NULL;
}

void rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < r->count; i++)
		rule_release(r, i);
	for (unsigned i = 0; i < r->reason_count; i++) {
		free(r->reason[i].name);
		free(r->reason[i].label);
	}
	prefilter_free(r->prefilter);
	free(r->memo);
	pcre2_match_data_free(r->match_data);
	pcre2_match_context_free(r->match_context);
	pcre2_compile_context_free(r->compile_context);
	free(r);
}

unsigned rules_count(const struct rules *r)
{
	return r->count;
}

const char *rules_reason(const struct rules *r, unsigned i)
{
	return i < r->count ? r->reason[r->rule[i].reason].name : NULL;
}

const char *rules_label(const struct rules *r, unsigned i)
{
	return i < r->count ? r->reason[r->rule[i].reason].label : NULL;
}

uint64_t rules_limit_hits(const struct rules *r)
{
	return r->limit_hits;
}

int rules_jit_enabled(const struct rules *r)
{
	return r->jit_usable && r->all_jit;
}

/* Runs a compiled pattern on the subject: 1 on a match, 0 otherwise (a limit hit is
 * counted). */
static int compiled_matches(struct rules *r, const struct compiled *c, PCRE2_SPTR subject,
                            size_t len)
{
	int rc;

	if (c->jit)
		rc = pcre2_jit_match(c->code, subject, len, 0, 0, r->match_data, r->match_context);
	else
		rc = pcre2_match(c->code, subject, len, 0, PCRE2_NO_UTF_CHECK, r->match_data,
		                 r->match_context);
	if (rc >= 0)
		return 1;
	if (rc != PCRE2_ERROR_NOMATCH)
		r->limit_hits++;
	return 0;
}

/*
 * Alternative k of rule i, compiled the first time it is asked for as
 * "GUARD(?:ALTERNATIVE)" (prefilter_alternative_span), JIT-compiled when the set's
 * patterns are. NULL when it does not compile alone or memory runs out: the caller
 * runs the whole pattern instead. Without JIT code it runs on the interpreter, with
 * the same answers.
 */
static const struct compiled *alternative_compiled(struct rules *r, unsigned i, unsigned k)
{
	struct rule *rule = &r->rule[i];
	struct compiled *c = &rule->alternative[k];
	unsigned first, end;
	size_t guard_len, at, len, jit_size = 0;
	PCRE2_SIZE offset;
	char *text;
	int code;

	if (c->state != 0)
		return c->state == 1 ? c : NULL;
	c->state = -1;
	prefilter_alternatives(r->prefilter, i, &first, &end);
	prefilter_alternative_span(r->prefilter, first + k, &guard_len, &at, &len);
	text = xmalloc(guard_len + len + 4);
	memcpy(text, rule->pattern, guard_len);
	memcpy(text + guard_len, "(?:", 3);
	memcpy(text + guard_len + 3, rule->pattern + at, len);
	text[guard_len + 3 + len] = ')';
	c->code = pcre2_compile((PCRE2_SPTR)text, guard_len + len + 4, rule->options, &code,
	                        &offset, r->compile_context);
	free(text);
	if (c->code == NULL)
		return NULL;
	c->jit = r->jit_usable && pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE) == 0 &&
	         pcre2_pattern_info(c->code, PCRE2_INFO_JITSIZE, &jit_size) == 0 && jit_size > 0;
	c->state = 1;
	return c;
}

/*
 * Whether rule i matches the subject the prefilter scanned last: an alternative the
 * prefilter knows to match answers at once; otherwise the alternatives that may
 * match run alone, or, when there are many of them or the rule is kept whole, its
 * whole pattern. A rule matches exactly when one of its alternatives does, so
 * either way gives the same answer. PCRE2's match limit counts work per start
 * position, and at every position before the whole pattern's first match an
 * alternative alone does no more work than the whole alternation: the answers can
 * only part where the whole pattern gives up at a limit (no message of the bench
 * log, jd-dev or the case files makes the shipped rules do so).
 */
static int rule_matches(struct rules *r, unsigned i, PCRE2_SPTR subject, size_t len)
{
	const struct rule *rule = &r->rule[i];
	unsigned first, end, may = 0;

	prefilter_alternatives(r->prefilter, i, &first, &end);
	for (unsigned a = first; a < end; a++) {
		enum prefilter_verdict v = prefilter_verdict(r->prefilter, a);

		if (v == PREFILTER_DOES)
			return 1;
		may += v == PREFILTER_MAY;
	}
	if (rule->alternative == NULL || may > ALTERNATIVES_RUN_MAX)
		return compiled_matches(r, &rule->whole, subject, len);
	for (unsigned a = first; a < end; a++) {
		const struct compiled *c;

		if (prefilter_verdict(r->prefilter, a) != PREFILTER_MAY)
			continue;
		if ((c = alternative_compiled(r, i, a - first)) == NULL)
			return compiled_matches(r, &rule->whole, subject, len);
		if (compiled_matches(r, c, subject, len))
			return 1;
	}
	return 0;
}

/* 1 when one of the candidate rules in `bits` (a rule_mask) matches. */
static int any_matches(struct rules *r, const uint64_t *bits_in, PCRE2_SPTR subject, size_t len)
{
	for (unsigned w = 0; w < RULE_MASK_WORDS; w++) {
		uint64_t bits = bits_in[w];
		while (bits != 0) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (rule_matches(r, i, subject, len))
				return 1;
		}
	}
	return 0;
}

/*
 * The work behind rules_first_match, for rules below `end` (end > 0): the candidates
 * are the rules whose scope covers the sender and whose prefilter keys occur in the
 * text; they run in file order until one matches. Before the first of them runs,
 * the `skip` rules of the sender's scope (wherever they stand in the file) get their
 * say: a message one of them matches is no evidence, and *skipped says so. JIT-compiled
 * rules go straight to pcre2_jit_match, which skips the argument checks pcre2_match
 * makes on every call. A match that stops at a limit (or fails for any reason other
 * than "no match") is counted and treated as no match, so one hostile line cannot
 * stall the engine.
 */
static unsigned first_match(struct rules *r, unsigned from, PCRE2_SPTR subject, size_t len,
                            unsigned end, int *skipped)
{
	rule_mask run, wanted, skip;
	uint64_t any_candidate = 0;

	*skipped = 0;
	for (unsigned w = 0; w < RULE_MASK_WORDS; w++) {
		wanted[w] = w * 64 < end ? r->scope[from][w] & ~r->skip[w] : 0;
		if (w * 64 < end && end - w * 64 < 64)
			wanted[w] &= (1ull << (end - w * 64)) - 1;
		wanted[w] |= r->scope[from][w] & r->skip[w];
	}
	prefilter_scan(r->prefilter, (const char *)subject, len, wanted, run);
	for (unsigned w = 0; w < RULE_MASK_WORDS; w++) {
		skip[w] = run[w] & wanted[w] & r->skip[w];
		any_candidate |= run[w] & wanted[w] & ~r->skip[w];
	}
	if (any_candidate == 0)
		return RULES_NONE;
	if (any_matches(r, skip, subject, len)) {
		*skipped = 1;
		return RULES_NONE;
	}
	for (unsigned w = 0; w < RULE_MASK_WORDS && w * 64 < end; w++) {
		uint64_t bits = run[w] & wanted[w] & ~r->skip[w];

		while (bits != 0) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);

			bits &= bits - 1;
			if (rule_matches(r, i, subject, len))
				return i;
		}
	}
	return RULES_NONE;
}

/* The way of set holding (from, text) under hash, or -1. */
static int memo_find(struct memo *memo, uint64_t hash, enum record_from from, const char *text,
                     size_t len, size_t set)
{
	for (unsigned way = 0; way < MEMO_WAYS; way++) {
		const struct memo_entry *m = &memo->entry[set * MEMO_WAYS + way];

		if (memo->hash[set * MEMO_WAYS + way] == hash && m->len == len && m->from == from &&
		    memcmp(m->text, text, len) == 0) {
			memo->recent[set] = (uint8_t)way;
			return (int)way;
		}
	}
	return -1;
}

/* Takes a way of set for a new text: an empty one, else the one not used last. */
static unsigned memo_victim(struct memo *memo, size_t set)
{
	unsigned way = 0;

	while (way < MEMO_WAYS && memo->hash[set * MEMO_WAYS + way] != 0)
		way++;
	if (way == MEMO_WAYS)
		way = (memo->recent[set] + 1u) % MEMO_WAYS;
	memo->recent[set] = (uint8_t)way;
	return way;
}

/*
 * The hot path: called for every chat message the engine still asks about. The
 * memo (see struct memo) answers texts seen recently; the others go through
 * first_match, and are remembered the second time.
 */
unsigned rules_first_match(struct rules *r, enum record_from from, const char *text, size_t len,
                           unsigned limit)
{
	const PCRE2_SPTR subject = (PCRE2_SPTR)(text != NULL ? text : "");
	unsigned end = limit < r->count ? limit : r->count, answer;
	uint64_t any = 0, hash, limit_hits, *seen;
	struct memo *memo = r->memo;
	struct memo_entry *m = NULL;
	size_t set;
	int skipped, way;

	if ((unsigned)from >= FROM_COUNT || end == 0)
		return RULES_NONE;
	/* The rules that could answer, before reading the text: sometimes none (an agent
	 * message once the inquiry matched a rule that comes before every agent rule). */
	for (unsigned w = 0; w < RULE_MASK_WORDS && w * 64 < end; w++) {
		uint64_t wanted = r->scope[from][w] & ~r->skip[w];

		if (end - w * 64 < 64)
			wanted &= (1ull << (end - w * 64)) - 1;
		any |= wanted;
	}
	if (any == 0)
		return RULES_NONE;
	if (memo == NULL || len > LIMIT_RULES_MEMO_TEXT_BYTES)
		return first_match(r, from, subject, len, end, &skipped);
	hash = hindex_hash(subject, len, from) | 1; /* 0 marks an empty entry */
	set = (size_t)(hash % MEMO_SETS);
	if ((way = memo_find(memo, hash, from, (const char *)subject, len, set)) != -1) {
		m = &memo->entry[set * MEMO_WAYS + (unsigned)way];
		if (m->skipped || m->rule != RULES_NONE || end <= m->below)
			return m->skipped || m->rule >= end ? RULES_NONE : m->rule;
	}
	limit_hits = r->limit_hits;
	answer = first_match(r, from, subject, len, end, &skipped);
	if (r->limit_hits != limit_hits)
		return answer; /* not remembered, see struct memo */
	if (m == NULL) {
		seen = &memo->seen[(hash >> 32) % MEMO_SEEN];
		if (*seen != hash) { /* the first time: noted only */
			*seen = hash;
			return answer;
		}
		way = (int)memo_victim(memo, set);
		memo->hash[set * MEMO_WAYS + (unsigned)way] = hash;
		m = &memo->entry[set * MEMO_WAYS + (unsigned)way];
		m->len = (uint16_t)len;
		m->from = (uint8_t)from;
		if (len > 0)
			memcpy(m->text, subject, len);
	}
	m->below = (uint16_t)end;
	m->rule = (uint16_t)answer;
	m->skipped = (uint8_t)skipped;
	return answer;
}

unsigned rules_first_inquiry(const struct rules *r)
{
	return r->first_inquiry;
}

/* No memo: a transcript is asked about once, when its inquiry closes. */
unsigned rules_first_inquiry_match(struct rules *r, const char *text, size_t len, unsigned limit)
{
	unsigned end = limit < r->count ? limit : r->count;
	int skipped;

	if (r->first_inquiry >= end)
		return RULES_NONE;
	return first_match(r, SCOPE_SLOT_INQUIRY, (PCRE2_SPTR)(text != NULL ? text : ""), len, end,
	                   &skipped);
}

/* Each skip rule of the scope with its whole pattern, without the prefilter: the
 * shipped ones are anchored lists of tags and formulas with no word every match
 * needs, which a scan could not rule out, and an anchored pattern fails at the first
 * character that starts none of its alternatives. */
int rules_skips(struct rules *r, enum record_from from, const char *text, size_t len)
{
	const PCRE2_SPTR subject = (PCRE2_SPTR)(text != NULL ? text : "");

	if ((unsigned)from >= FROM_COUNT)
		return 0;
	for (unsigned w = 0; w < RULE_MASK_WORDS; w++) {
		uint64_t bits = r->scope[from][w] & r->skip[w];
		while (bits != 0) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (compiled_matches(r, &r->rule[i].whole, subject, len))
				return 1;
		}
	}
	return 0;
}

void rules_memo(struct rules *r, int on)
{
	if (!on) {
		free(r->memo);
		r->memo = NULL;
		return;
	}
	/* Untouched pages of the table cost no memory. */
	if (r->memo == NULL && r->count > 0)
		r->memo = xcalloc(1, sizeof(*r->memo));
}

int rules_is_skip(const struct rules *r, unsigned i)
{
	return i < r->count && (r->skip[i / 64] >> (i % 64) & 1);
}

/* ---- Loading ---------------------------------------------------------------------- */

/* 1-based character column of byte position `at` on the current line. */
static unsigned loader_column(const struct rules_loader *ld, const char *at)
{
	unsigned column = 1;

	for (const char *p = ld->line_start; p < at; p++)
		if (!utf8_is_continuation((unsigned char)*p))
			column++;
	return column;
}

/* Formats "FILE:LINE:COLUMN: message" into the caller's buffer; `at` is the byte on
 * the current line the message is about. */
static void loader_error(struct rules_loader *ld, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void loader_error(struct rules_loader *ld, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ld->errlen == 0)
		return;
	n = snprintf(ld->err, ld->errlen, "%s:%u:%u: ", ld->name, ld->line, loader_column(ld, at));
	if (n < 0 || (size_t)n >= ld->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Splits off the next blank-separated field of [*pos, end). Returns its length (0 at
 * the end of the line) and leaves *pos at the field's first byte. */
static size_t next_field(const char **pos, const char *end)
{
	const char *p = *pos;
	size_t len = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*pos = p;
	while (p + len < end && p[len] != ' ' && p[len] != '\t')
		len++;
	return len;
}

static int is_builtin_reason(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(builtin_reasons) / sizeof(builtin_reasons[0]); i++)
		if (strlen(builtin_reasons[i]) == len && memcmp(builtin_reasons[i], name, len) == 0)
			return 1;
	return 0;
}

/* Checks REASON and finds or adds its entry. Returns its index, or -1 with err set. */
static int loader_reason(struct rules_loader *ld, struct rules *r, const char *name,
                         size_t name_len, const char *label, size_t label_len)
{
	char quoted[2 * LIMIT_REASON_BYTES];
	struct reason *reason;

	for (size_t i = 0; i < name_len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
			loader_error(ld, name + i, "reason \"%s\": only a-z, 0-9 and _ are allowed",
			             log_escape(quoted, sizeof(quoted), name, name_len));
			return -1;
		}
	}
	if (name_len > LIMIT_REASON_BYTES) {
		loader_error(ld, name + LIMIT_REASON_BYTES, "reason longer than %d characters",
		             LIMIT_REASON_BYTES);
		return -1;
	}
	if (is_builtin_reason(name, name_len)) {
		loader_error(ld, name, "reason \"%.*s\" is built in and cannot be redefined",
		             (int)name_len, name);
		return -1;
	}
	for (unsigned i = 0; i < r->reason_count; i++) {
		reason = &r->reason[i];
		if (strlen(reason->name) != name_len || memcmp(reason->name, name, name_len) != 0)
			continue;
		if (strlen(reason->label) != label_len ||
		    memcmp(reason->label, label, label_len) != 0) {
			loader_error(ld, label, "reason %s is labelled \"%s\" on line %u",
			             reason->name, reason->label, reason->line);
			return -1;
		}
		return (int)i;
	}
	if (r->reason_count == LIMIT_REASONS) {
		loader_error(ld, name, "more than %d distinct reasons", LIMIT_REASONS);
		return -1;
	}
	reason = &r->reason[r->reason_count];
	reason->name = xstrndup(name, name_len);
	reason->label = xstrndup(label, label_len);
	reason->line = ld->line;
	return (int)r->reason_count++;
}

static int parse_scope(const char *s, size_t len, unsigned *from_mask)
{
	if (len == 5 && memcmp(s, "buyer", 5) == 0)
		*from_mask = SCOPE_BUYER;
	else if (len == 5 && memcmp(s, "agent", 5) == 0)
		*from_mask = SCOPE_AGENT;
	else if (len == 3 && memcmp(s, "bot", 3) == 0)
		*from_mask = SCOPE_BOT;
	else if (len == 3 && memcmp(s, "any", 3) == 0)
		*from_mask = SCOPE_ANY;
	else if (len == 7 && memcmp(s, "inquiry", 7) == 0)
		*from_mask = SCOPE_INQUIRY;
	else
		return -1;
	return 0;
}

/* Turns JIT off for the set: every pattern compiled so far, the one of the rule
 * being loaded included, runs on the interpreter (alternatives are compiled only
 * after the load, see alternative_compiled). */
static void jit_off(struct rules *r)
{
	r->jit_usable = 0;
	r->all_jit = 0;
	for (unsigned i = 0; i <= r->count && i < LIMIT_RULES; i++)
		r->rule[i].whole.jit = 0;
}

/*
 * Compiles pattern into c. Returns 0, or -1 with PCRE2's error code and offset. The
 * first JIT failure (no JIT in this PCRE2 build, or no executable memory under
 * MemoryDenyWriteExecute=yes) turns JIT off for the rest of the set: the interpreter
 * gives the same answers, only slower, and one warning per process says so.
 */
static int compile_pattern(struct rules_loader *ld, struct rules *r, struct compiled *c,
                           const char *pattern, size_t len, int *code, PCRE2_SIZE *offset)
{
	/* What denies JIT denies it to every set the process loads (the start-up
	 * check, the daemon's own load, each reload): one warning is enough. */
	static int jit_failure_logged;
	PCRE2_UCHAR message[256];
	size_t jit_size = 0;
	int rc;

	c->jit = 0;
	c->code = pcre2_compile((PCRE2_SPTR)pattern, len, r->rule[r->count].options, code, offset,
	                        r->compile_context);
	if (c->code == NULL)
		return -1;
	if (r->jit_usable && (rc = pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE)) != 0) {
		if (!jit_failure_logged) {
			pcre2_get_error_message(rc, message, sizeof(message));
			log_warnx("rules: JIT unavailable, using the interpreter: "
			          "file=%s reason=\"%s\"",
			          ld->name, (const char *)message);
			jit_failure_logged = 1;
		}
		jit_off(r);
	}
	/* (*NO_JIT) in a pattern compiles without JIT code even when JIT works. */
	if (r->jit_usable && pcre2_pattern_info(c->code, PCRE2_INFO_JITSIZE, &jit_size) == 0 &&
	    jit_size > 0)
		c->jit = 1;
	else
		r->all_jit = 0;
	return 0;
}

/* Compiles PATTERN as rule r->count's whole pattern. Returns 0, or -1 with err set. */
static int loader_compile(struct rules_loader *ld, struct rules *r, struct rule *rule,
                          const char *pattern, size_t len)
{
	PCRE2_UCHAR message[256];
	PCRE2_SIZE offset;
	int code, rc;

	if (compile_pattern(ld, r, &rule->whole, pattern, len, &code, &offset) == -1) {
		pcre2_get_error_message(code, message, sizeof(message));
		loader_error(ld, pattern + (offset <= len ? offset : len), "bad pattern: %s",
		             (const char *)message);
		return -1;
	}
	/* A pattern that matches empty text matches every message: almost always a
	 * stray '|' at an end of an alternation, which would swallow every inquiry. */
	rc = pcre2_match(rule->whole.code, (PCRE2_SPTR) "", 0, 0, 0, r->match_data,
	                 r->match_context);
	if (rc >= 0) {
		loader_error(ld, pattern,
		             "pattern matches empty text, so it would match every message "
		             "(a stray '|'?)");
		return -1;
	}
	return 0;
}

/* Keeps what the `count` alternatives of rule r->count need to be compiled later
 * (alternative_compiled). */
static void loader_keep_alternatives(struct rule *rule, const char *pattern, size_t pattern_len,
                                     unsigned count)
{
	rule->alternative = xcalloc(count, sizeof(*rule->alternative));
	rule->pattern = xmalloc(pattern_len);
	memcpy(rule->pattern, pattern, pattern_len);
	rule->pattern_len = pattern_len;
}

/*
 * Reads one line (without its '\n'): skips blanks and comments, otherwise checks
 * every field and appends the compiled rule. Returns 0, or -1 with err set.
 */
static int loader_line(struct rules_loader *ld, struct rules *r, const char *line, size_t len)
{
	const char *end = line + len, *pos = line;
	const char *reason, *label, *scope, *pattern;
	size_t reason_len, label_len, scope_len;
	char quoted[128];
	struct rule *rule;
	unsigned from_mask;
	int reason_index, alternatives, is_skip;

	ld->line_start = line;
	for (const char *p = line; p < end;) {
		size_t n = utf8_sequence_length((const unsigned char *)p, (size_t)(end - p));
		if (n == 0) {
			loader_error(ld, p, "invalid UTF-8");
			return -1;
		}
		if (*p == '\0') {
			loader_error(ld, p, "NUL character");
			return -1;
		}
		p += n;
	}
	while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	reason_len = next_field(&pos, end);
	if (reason_len == 0 || *pos == '#')
		return 0;
	reason = pos;
	pos += reason_len;
	label_len = next_field(&pos, end);
	label = pos;
	pos += label_len;
	scope_len = next_field(&pos, end);
	scope = pos;
	pos += scope_len;
	next_field(&pos, end);
	pattern = pos;
	if (label_len == 0 || scope_len == 0 || pattern == end) {
		loader_error(ld, end, "missing %s (a rule is REASON LABEL SCOPE PATTERN)",
		             label_len == 0   ? "LABEL"
		             : scope_len == 0 ? "SCOPE"
		                              : "PATTERN");
		return -1;
	}
	if (parse_scope(scope, scope_len, &from_mask) == -1) {
		loader_error(ld, scope,
		             "scope \"%s\": expected buyer, agent, bot, any or inquiry%s",
		             log_escape(quoted, sizeof(quoted), scope, scope_len),
		             memmem(line, (size_t)(scope - line), "\xe3\x80\x80", 3) != NULL
		                 ? " (a full-width space does not separate fields)"
		                 : "");
		return -1;
	}
	if (r->count == LIMIT_RULES) {
		loader_error(ld, reason, "more than %d rules", LIMIT_RULES);
		return -1;
	}
	is_skip = reason_len == 4 && memcmp(reason, "skip", 4) == 0;
	if (is_skip && from_mask == SCOPE_INQUIRY) {
		loader_error(ld, scope,
		             "a skip rule leaves out messages: its scope cannot be inquiry");
		return -1;
	}
	if ((reason_index = loader_reason(ld, r, reason, reason_len, label, label_len)) == -1)
		return -1;
	rule = &r->rule[r->count];
	rule->reason = (unsigned)reason_index;
	rule->options =
	    from_mask == SCOPE_INQUIRY ? INQUIRY_COMPILE_OPTIONS : RULES_COMPILE_OPTIONS;
	if (loader_compile(ld, r, rule, pattern, (size_t)(end - pattern)) == -1) {
		pcre2_code_free(rule->whole.code);
		rule->whole.code = NULL;
		return -1;
	}
	/* Below LIMIT_RULES (checked above) the prefilter takes every rule. */
	alternatives = prefilter_add_rule(r->prefilter, pattern, (size_t)(end - pattern));
	if (alternatives > 1)
		loader_keep_alternatives(rule, pattern, (size_t)(end - pattern),
		                         (unsigned)alternatives);
	for (unsigned from = 0; from <= SCOPE_SLOT_INQUIRY; from++)
		if (from_mask & FROM_BIT(from))
			r->scope[from][r->count / 64] |= 1ull << (r->count % 64);
	if (is_skip)
		r->skip[r->count / 64] |= 1ull << (r->count % 64);
	if (from_mask == SCOPE_INQUIRY && r->first_inquiry == RULES_NONE)
		r->first_inquiry = r->count;
	r->count++;
	return 0;
}

struct rules *rules_load_buffer(const char *name, const char *data, size_t len, char *err,
                                size_t errlen)
{
	struct rules_loader ld = {.name = name, .err = err, .errlen = errlen};
	const char *pos = data, *end = data + len;
	struct rules *r;

	if (errlen > 0)
		err[0] = '\0';
	if ((r = rules_create()) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	pos += utf8_bom_length(data, len);
	while (pos < end) {
		const char *newline = memchr(pos, '\n', (size_t)(end - pos));
		const char *line_end = newline != NULL ? newline : end;

		ld.line++;
		if (loader_line(&ld, r, pos, (size_t)(line_end - pos)) == -1)
			goto fail;
		pos = newline != NULL ? newline + 1 : end;
	}
	prefilter_build(r->prefilter);
	rules_memo(r, 1);
	return r;
fail:
	rules_free(r);
	return NULL;
}

/* Reads a whole file of at most LIMIT_SETTINGS_FILE_BYTES. Returns a heap buffer or
 * NULL with "FILE: reason" in err. */
struct rules *rules_load(const char *path, char *err, size_t errlen)
{
	struct rules *r;
	size_t len;
	char *data;

	if ((data = textfile_read(path, LIMIT_SETTINGS_FILE_BYTES, &len, err, errlen)) == NULL)
		return NULL;
	r = rules_load_buffer(path, data, len, err, errlen);
	free(data);
	return r;
}
