/*
 * rules.c owns the lost-reason patterns file (SPEC §4): reading it, compiling each
 * rule with PCRE2 (JIT when the system allows it) and finding the first rule that
 * matches a message under bounded match limits. It knows nothing about inquiries:
 * the engine decides which messages to ask about and what a match means.
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
#include "chatlogd/rules.h"

/* Compile options fixed by SPEC §4. \C is refused: it can split a UTF-8 character
 * and nothing a chat rule needs depends on it. */
#define RULES_COMPILE_OPTIONS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_NEVER_BACKSLASH_C)

/* Which senders a scope covers, as a bit per enum record_from. */
#define FROM_BIT(from) (1u << (from))
#define FROM_COUNT (FROM_BOT + 1)
#define SCOPE_BUYER FROM_BIT(FROM_BUYER)
#define SCOPE_AGENT FROM_BIT(FROM_AGENT) /* human agents only (v2) */
#define SCOPE_BOT FROM_BIT(FROM_BOT)
#define SCOPE_ANY (FROM_BIT(FROM_NONE) | SCOPE_BUYER | SCOPE_AGENT | SCOPE_BOT)

/* A set of rules as a bitmap, one bit per rule index. */
#define MASK_WORDS ((LIMIT_RULES + 63) / 64)
typedef uint64_t rule_mask[MASK_WORDS];

/* Literal analysis bounds (load time only): past them a rule simply always runs. */
#define LITERAL_CHARS 8        /* longest exact string tracked */
#define LITERAL_SET_MAX 512    /* most strings in one set */
#define LITERAL_PRODUCT_MAX 64 /* most strings a concatenation may multiply into */
#define LITERAL_DEPTH_MAX 16   /* deepest group nesting analysed */

/* Prefilter keys: one character, or two adjacent characters (code points < 2^21). */
#define KEY_CHAR (1ull << 62)
#define KEY_PAIR (1ull << 63)
#define KEY_NONE 0
#define CHAR_CLASS_SIZE 4096 /* entries of struct prefilter's char_class */

/* Flags of char_class: which parts of keys a character may be. */
#define CLASS_SINGLE 1u /* a single-character key */
#define CLASS_FIRST 2u  /* the first character of a pair key */
#define CLASS_SECOND 4u /* the second character of a pair key */

struct rule {
	pcre2_code *code;
	unsigned reason; /* index into rules.reason */
	int jit;         /* 1 when code carries JIT code */
};

struct reason {
	char *name;
	char *label;
	unsigned line; /* where the reason first appeared, for the label mismatch error */
};

/* Key hits noted per message to check their literals, and characters of a message
 * decoded to check them against; past either, the prefilter falls back to keys
 * alone (see prefilter_scan). */
#define SCAN_HITS 64
#define SCAN_CHARS 256

/* A literal some match of a rule must contain, checked where its key was seen. */
struct prefilter_literal {
	uint32_t ch[LITERAL_CHARS]; /* folded code points */
	uint8_t len;
	uint8_t back; /* the literal starts `back` characters before its key's last one */
	uint16_t rule;
};

/* One (key, literal) pair found while loading, before the table is built. */
struct prefilter_key {
	uint64_t key;
	struct prefilter_literal literal;
};

/*
 * Literal prefilter. PCRE2 tries every alternative of a pattern at every character,
 * so ten large alternations over one message cost microseconds, and most messages
 * match none of them. At load time each pattern is analysed for literals one of
 * which every match must contain; from each literal one key is kept (the character
 * itself, or its least common pair of adjacent characters). Matching first looks up
 * each character and each adjacent pair of the message in a small hash table and
 * runs only the rules whose keys appeared, plus the rules the analysis could not
 * read (those always run). The analysis is conservative: it may let a rule run that
 * cannot match, never skip one that can.
 *
 * Where a key occurs, the whole literal it came from is then compared with the
 * message: a key alone (现货 of 没现货) lets many rules run for nothing. And a rule
 * whose pattern is nothing but those literals ("exact": alternatives, optional
 * parts, no anchors, lookarounds, classes or atomic groups) matches exactly when one
 * of them occurs, so it needs no PCRE2 run at all. PCRE2's match limit cannot make
 * it answer otherwise: the limit counts work per start position (measured on PCRE2
 * 10.42, JIT and interpreter), and patterns of LITERAL_SET_MAX plain strings built
 * to backtrack took under 800 steps there, on any length of text, against a limit
 * of LIMIT_PCRE2_MATCH (200,000).
 */
struct prefilter {
	rule_mask always;    /* rules without keys */
	uint64_t *slot_key;  /* open addressing, KEY_NONE = empty */
	uint32_t *slot_mask; /* index into mask for each used slot */
	rule_mask *mask;     /* the rules of each distinct key */
	unsigned slot_bits;  /* table size is 1 << slot_bits */
	rule_mask exact;     /* rules that match exactly when one of their literals occurs */
	/* The literals of distinct key d: literal[literal_first[d] .. literal_first[d + 1]) */
	struct prefilter_literal *literal;
	uint32_t *literal_first;
	/* Quick "could a key hold this character here?" flags (CLASS_*), by code point
	 * modulo CHAR_CLASS_SIZE: most characters of a message skip the hash table.
	 * One load per character answers all three questions, and the scan carries a
	 * character's flags over to the pair it forms with the next one. */
	uint8_t char_class[CHAR_CLASS_SIZE];
	/* keys gathered during the load */
	struct prefilter_key *pending;
	size_t pending_count, pending_capacity;
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
 * is matched, and counted in rules_limit_hits, every time as before. Sets of
 * MEMO_WAYS entries, the way used longest ago replaced: a fixed table allocated
 * once, nothing per message.
 */
#define MEMO_WAYS 2
#define MEMO_SETS (LIMIT_RULES_MEMO_ENTRIES / MEMO_WAYS)

struct memo_entry {
	uint64_t hash;   /* of the text, seeded with the sender */
	uint16_t len;    /* of the text, in bytes */
	uint16_t below;  /* the limit of the answer; 0 = empty entry */
	uint16_t rule;   /* first matching rule below `below`, or RULES_NONE */
	uint8_t from;    /* enum record_from */
	uint8_t skipped; /* 1 when a skip rule matched */
	char text[LIMIT_RULES_MEMO_TEXT_BYTES];
};

struct rules {
	struct rule rule[LIMIT_RULES];
	unsigned count;
	struct reason reason[LIMIT_REASONS];
	unsigned reason_count;
	rule_mask scope[FROM_COUNT]; /* rules whose scope covers each sender */
	rule_mask skip;              /* `skip` rules: a message they match is no evidence */
	struct prefilter prefilter;
	/* One match context and one match data for the whole set: matching allocates
	 * nothing, and a rules set is used from one thread only. */
	pcre2_match_context *match_context;
	pcre2_match_data *match_data;
	uint64_t limit_hits;
	int jit_usable;          /* 0 once JIT failed (or this PCRE2 has none): stop trying */
	int all_jit;             /* 1 while every rule so far carries JIT code */
	struct memo_entry *memo; /* LIMIT_RULES_MEMO_ENTRIES, NULL while off */
	uint8_t *memo_recent;    /* per set of MEMO_WAYS: the way used last */
};

/* State of one load, for error messages. */
struct rules_loader {
	const char *name;
	char *err;
	size_t errlen;
	unsigned line;          /* 1-based number of the line being read */
	const char *line_start; /* where column 1 of that line is */
	pcre2_compile_context *compile_context;
};

static const char *const builtin_reasons[] = {"no_reply", "slow", "other"};

/*
 * Returns the length of the well-formed UTF-8 sequence at s (at most `avail` bytes),
 * or 0 when it is not one: overlong forms, surrogates and code points past U+10FFFF
 * are refused, as PCRE2 would refuse them later with a less helpful offset.
 */
static size_t utf8_sequence_length(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else
		return 0;
	if (avail < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

/* Decodes the character at s[*i] of already valid UTF-8 and advances *i. Stops at
 * `len` even on a truncated sequence, which then reads as U+FFFD. Always inlined:
 * prefilter_scan calls it for every character of every message, and the call cost
 * as much as the decoding. */
static inline __attribute__((always_inline)) uint32_t utf8_decode(const unsigned char *s,
                                                                  size_t len, size_t *i)
{
	unsigned char c = s[*i];
	size_t need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	uint32_t cp;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (*i + need > len) {
		*i = len;
		return 0xfffd;
	}
	if (need == 2)
		cp = (uint32_t)(c & 0x1f) << 6 | (s[*i + 1] & 0x3fu);
	else if (need == 3)
		cp = (uint32_t)(c & 0x0f) << 12 | (s[*i + 1] & 0x3fu) << 6 | (s[*i + 2] & 0x3fu);
	else
		cp = (uint32_t)(c & 0x07) << 18 | (s[*i + 1] & 0x3fu) << 12 |
		     (s[*i + 2] & 0x3fu) << 6 | (s[*i + 3] & 0x3fu);
	*i += need;
	return cp;
}

/*
 * Case-folds a character the way PCRE2_CASELESS|PCRE2_UCP compares the characters
 * the prefilter keeps: ASCII letters, plus the two non-ASCII characters that are
 * caseless partners of ASCII letters (U+017F long s, U+212A Kelvin sign).
 */
static uint32_t fold_char(uint32_t cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + ('a' - 'A');
	if (cp == 0x17f)
		return 's';
	if (cp == 0x212a)
		return 'k';
	return cp;
}

/* 1 when the prefilter may key on cp: after fold_char, no other character matches
 * it caselessly. That holds for ASCII and for CJK text and punctuation (which have
 * no case); tests/test_rules.c checks these ranges against PCRE2 itself. */
static int literal_char_safe(uint32_t cp)
{
	return cp < 0x80 || cp == 0x17f || cp == 0x212a || (cp >= 0x2000 && cp <= 0x206f) ||
	       (cp >= 0x3000 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	       (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0xff01 && cp <= 0xff20) || (cp >= 0x20000 && cp <= 0x3ffff);
}

/* ---- Literal analysis of a pattern ------------------------------------------ */

struct literal {
	uint32_t ch[LITERAL_CHARS];
	unsigned len;
};

enum shape {
	SHAPE_EXACT,    /* matches exactly one of the strings (case-folded) */
	SHAPE_REQUIRED, /* every match contains one of the strings, none empty */
	SHAPE_UNKNOWN,  /* may consume anything: nothing known */
};

struct info {
	enum shape shape;
	unsigned count;
	struct literal *item;
};

struct pattern_scan {
	const unsigned char *p, *end;
	unsigned depth;
	int unsupported; /* syntax not modelled here, or out of memory: rule always runs */
	/* The pattern asks more of a match than its strings: an anchor, a word boundary,
	 * a lookaround, an atomic group or a possessive quantifier. Its strings are then
	 * still required, but finding one is no longer a match. */
	int constrained;
};

static struct info info_unknown(void)
{
	struct info info = {.shape = SHAPE_UNKNOWN};
	return info;
}

static void info_free(struct info *info)
{
	free(info->item);
	*info = info_unknown();
}

/* An exact set of one string of len characters (len 0: the empty string). */
static struct info info_exact(struct pattern_scan *scan, const uint32_t *ch, unsigned len)
{
	struct info info = {.shape = SHAPE_EXACT, .count = 1};

	if ((info.item = calloc(1, sizeof(*info.item))) == NULL) {
		scan->unsupported = 1;
		return info_unknown();
	}
	if (len > 0)
		memcpy(info.item[0].ch, ch, len * sizeof(*ch));
	info.item[0].len = len;
	return info;
}

/* Turns an exact set into what it requires of any match. */
static void info_to_required(struct info *info)
{
	if (info->shape != SHAPE_EXACT)
		return;
	for (unsigned i = 0; i < info->count; i++)
		if (info->item[i].len == 0) {
			info_free(info);
			return;
		}
	info->shape = info->count > 0 ? SHAPE_REQUIRED : SHAPE_UNKNOWN;
}

/* Of two requirements (each REQUIRED or UNKNOWN) keeps the more selective one:
 * strings of two characters or more (a pair key), then fewer strings. */
static struct info info_better(struct info a, struct info b)
{
	unsigned a_min = UINT_MAX, b_min = UINT_MAX;

	if (a.shape == SHAPE_UNKNOWN) {
		info_free(&a);
		return b;
	}
	if (b.shape == SHAPE_UNKNOWN) {
		info_free(&b);
		return a;
	}
	for (unsigned i = 0; i < a.count; i++)
		a_min = a.item[i].len < a_min ? a.item[i].len : a_min;
	for (unsigned i = 0; i < b.count; i++)
		b_min = b.item[i].len < b_min ? b.item[i].len : b_min;
	a_min = a_min > 2 ? 2 : a_min;
	b_min = b_min > 2 ? 2 : b_min;
	if (b_min > a_min || (b_min == a_min && b.count < a.count)) {
		info_free(&a);
		return b;
	}
	info_free(&b);
	return a;
}

/* run = run followed by part (both exact). Returns -1, leaving both untouched, when
 * the product would be too large to stay exact. */
static int info_product(struct pattern_scan *scan, struct info *run, const struct info *part)
{
	unsigned count = run->count * part->count, n = 0;
	struct literal *item;

	if (run->count > LITERAL_PRODUCT_MAX || part->count > LITERAL_PRODUCT_MAX ||
	    count > LITERAL_PRODUCT_MAX)
		return -1;
	for (unsigned i = 0; i < run->count; i++)
		for (unsigned j = 0; j < part->count; j++)
			if (run->item[i].len + part->item[j].len > LITERAL_CHARS)
				return -1;
	if ((item = calloc(count > 0 ? count : 1, sizeof(*item))) == NULL) {
		scan->unsupported = 1;
		return -1;
	}
	for (unsigned i = 0; i < run->count; i++)
		for (unsigned j = 0; j < part->count; j++, n++) {
			const struct literal *a = &run->item[i], *b = &part->item[j];
			memcpy(item[n].ch, a->ch, a->len * sizeof(a->ch[0]));
			memcpy(item[n].ch + a->len, b->ch, b->len * sizeof(b->ch[0]));
			item[n].len = a->len + b->len;
		}
	free(run->item);
	run->item = item;
	run->count = count;
	return 0;
}

/* What `a|b` is, from what a and b are. Consumes both. */
static struct info info_alternative(struct pattern_scan *scan, struct info a, struct info b)
{
	struct info both;

	if (a.shape != SHAPE_EXACT || b.shape != SHAPE_EXACT) {
		info_to_required(&a);
		info_to_required(&b);
		if (a.shape == SHAPE_UNKNOWN || b.shape == SHAPE_UNKNOWN)
			goto unknown;
	}
	if (a.count + b.count > LITERAL_SET_MAX)
		goto unknown;
	both.shape = a.shape;
	both.count = a.count + b.count;
	if ((both.item = malloc(both.count * sizeof(*both.item))) == NULL) {
		scan->unsupported = 1;
		goto unknown;
	}
	memcpy(both.item, a.item, a.count * sizeof(*a.item));
	memcpy(both.item + a.count, b.item, b.count * sizeof(*b.item));
	info_free(&a);
	info_free(&b);
	return both;
unknown:
	info_free(&a);
	info_free(&b);
	return info_unknown();
}

static struct info scan_alternation(struct pattern_scan *scan);

/* Skips a character class; scan->p is just past its '['. Returns 0, or -1 for a
 * form not followed here (the caller gives up on the pattern). */
static int scan_class(struct pattern_scan *scan)
{
	const unsigned char *p = scan->p, *end = scan->end;

	if (p < end && *p == '^')
		p++;
	if (p < end && *p == ']') /* a leading ']' is a member */
		p++;
	while (p < end) {
		if (*p == ']') {
			scan->p = p + 1;
			return 0;
		}
		if (*p == '\\') {
			if (p + 1 >= end || p[1] == 'Q' || p[1] == 'E' || p[1] >= 0x80)
				return -1;
			p += 2;
			if (p < end && *p == '{' && strchr("pPxoN", p[-1]) != NULL) {
				while (p < end && *p != '}')
					p++;
				if (p == end)
					return -1;
				p++;
			}
			continue;
		}
		if (*p == '[' && p + 1 < end && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			/* A POSIX class [:name:] if its terminator comes before any ']'. */
			unsigned char terminator = p[1];
			const unsigned char *q = p + 2;
			while (q + 1 < end && *q != ']' && !(*q == terminator && q[1] == ']'))
				q += *q == '\\' ? 2 : 1;
			if (q + 1 < end && *q == terminator && q[1] == ']') {
				p = q + 2;
				continue;
			}
		}
		p++;
	}
	return -1;
}

/* Reads a quantifier after an atom. Returns 1 when there is none, 0 with min and
 * max (UINT_MAX: unbounded), -1 for a form not followed here. */
static int scan_quantifier(struct pattern_scan *scan, unsigned *min, unsigned *max)
{
	const unsigned char *p = scan->p, *end = scan->end;

	if (p == end)
		return 1;
	if (*p == '?' || *p == '*' || *p == '+') {
		*min = *p == '+' ? 1 : 0;
		*max = *p == '?' ? 1 : UINT_MAX;
		p++;
	} else if (*p == '{') {
		unsigned digits = 0, value = 0;
		for (p++; p < end && *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
			value = value * 10 + (unsigned)(*p - '0');
		if (digits == 0 || p == end)
			return -1;
		*min = *max = value;
		if (*p == ',') {
			*max = UINT_MAX;
			for (p++, digits = 0, value = 0;
			     p < end && *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
				value = value * 10 + (unsigned)(*p - '0');
			if (digits > 0)
				*max = value;
		}
		if (p == end || *p != '}')
			return -1;
		p++;
	} else
		return 1;
	if (p < end && (*p == '?' || *p == '+')) { /* lazy, possessive: same strings */
		if (*p == '+')
			scan->constrained = 1; /* "a?+a" never matches "a" */
		p++;
	}
	scan->p = p;
	return 0;
}

/* A group after its '(': returns what it matches (lookarounds match nothing). */
static struct info scan_group(struct pattern_scan *scan)
{
	const unsigned char *p = scan->p, *end = scan->end;
	int lookaround = 0;
	struct info inner;

	if (p < end && *p == '*')
		goto unsupported; /* (*VERB) */
	if (p < end && *p == '?') {
		if (p + 1 < end && (p[1] == ':' || p[1] == '>' || p[1] == '|')) {
			if (p[1] == '>')
				scan->constrained = 1; /* "(?>a|ab)c" never matches "abc" */
			p += 2;
		} else if (p + 1 < end && (p[1] == '=' || p[1] == '!')) {
			p += 2;
			lookaround = 1;
		} else if (p + 2 < end && p[1] == '<' && (p[2] == '=' || p[2] == '!')) {
			p += 3;
			lookaround = 1;
		} else
			goto unsupported; /* options, names, recursion, conditions ... */
	}
	if (++scan->depth > LITERAL_DEPTH_MAX)
		goto unsupported;
	scan->p = p;
	inner = scan_alternation(scan);
	scan->depth--;
	if (scan->unsupported || scan->p == end || *scan->p != ')') {
		info_free(&inner);
		goto unsupported;
	}
	scan->p++;
	if (lookaround) {
		scan->constrained = 1;
		info_free(&inner);
		return info_exact(scan, NULL, 0);
	}
	return inner;
unsupported:
	scan->unsupported = 1;
	return info_unknown();
}

/* One atom: a character, escape, class, '.', anchor or group. */
static struct info scan_atom(struct pattern_scan *scan)
{
	const unsigned char *p = scan->p, *end = scan->end;
	uint32_t cp;
	size_t i = 0;

	switch (*p) {
	case '(':
		scan->p++;
		return scan_group(scan);
	case '[':
		scan->p++;
		if (scan_class(scan) == -1)
			break;
		return info_unknown();
	case '.':
		scan->p++;
		return info_unknown();
	case '^':
	case '$':
		scan->p++;
		scan->constrained = 1;
		return info_exact(scan, NULL, 0);
	case '\\':
		if (p + 1 == end)
			break;
		scan->p += 2;
		if (strchr("dDwWsShHvVRX", p[1]) != NULL)
			return info_unknown();
		if (p[1] == 'N' && (p + 2 == end || p[2] != '{'))
			return info_unknown();
		if (strchr("bBAzZG", p[1]) != NULL) {
			scan->constrained = 1;
			return info_exact(scan, NULL, 0);
		}
		if (p[1] == 'p' || p[1] == 'P') {
			if (p + 2 < end && p[2] == '{') {
				const unsigned char *close =
				    memchr(p + 2, '}', (size_t)(end - p - 2));
				if (close == NULL)
					break;
				scan->p = close + 1;
			} else if (p + 2 < end)
				scan->p++;
			return info_unknown();
		}
		if (p[1] < 0x80 && p[1] > 0x20 && strchr("0123456789", p[1]) == NULL &&
		    !((p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'z')) {
			cp = p[1]; /* escaped punctuation is itself */
			return info_exact(scan, &cp, 1);
		}
		break;
	case '?':
	case '*':
	case '+':
	case '{':
		break;
	default:
		cp = utf8_decode(p, (size_t)(end - p), &i);
		scan->p += i;
		if (!literal_char_safe(cp))
			return info_unknown();
		cp = fold_char(cp);
		return info_exact(scan, &cp, 1);
	}
	scan->unsupported = 1;
	return info_unknown();
}

/* An atom and its quantifier. */
static struct info scan_piece(struct pattern_scan *scan)
{
	struct info atom = scan_atom(scan), empty;
	unsigned min = 1, max = 1;
	int rc;

	if (scan->unsupported)
		goto unknown;
	if ((rc = scan_quantifier(scan, &min, &max)) == -1) {
		scan->unsupported = 1;
		goto unknown;
	}
	if (rc == 1 || (min == 1 && max == 1))
		return atom;
	if (min == 0 && max == 1 && atom.shape == SHAPE_EXACT) {
		empty = info_exact(scan, NULL, 0);
		return info_alternative(scan, atom, empty);
	}
	if (min == 0)
		goto unknown;
	info_to_required(&atom); /* at least one copy */
	return atom;
unknown:
	info_free(&atom);
	return info_unknown();
}

/* A sequence of pieces up to '|', ')' or the end. Adjacent exact pieces multiply
 * into longer exact strings; the best requirement of the parts is kept. */
static struct info scan_sequence(struct pattern_scan *scan)
{
	struct info run = info_exact(scan, NULL, 0), best = info_unknown();
	int exact = 1;

	while (!scan->unsupported && scan->p < scan->end && *scan->p != '|' && *scan->p != ')') {
		struct info part = scan_piece(scan);

		if (part.shape == SHAPE_EXACT && info_product(scan, &run, &part) == 0) {
			info_free(&part);
			continue;
		}
		exact = 0;
		info_to_required(&run);
		best = info_better(best, run);
		if (part.shape == SHAPE_EXACT) {
			run = part;
			continue;
		}
		best = info_better(best, part);
		run = info_exact(scan, NULL, 0);
	}
	if (scan->unsupported) {
		info_free(&run);
		info_free(&best);
		return info_unknown();
	}
	if (exact) {
		info_free(&best);
		return run;
	}
	info_to_required(&run);
	return info_better(best, run);
}

static struct info scan_alternation(struct pattern_scan *scan)
{
	struct info all = scan_sequence(scan);

	while (!scan->unsupported && scan->p < scan->end && *scan->p == '|') {
		scan->p++;
		all = info_alternative(scan, all, scan_sequence(scan));
	}
	return all;
}

/* How common a character or an adjacent pair is in chat text, roughly: the most
 * frequent Chinese characters and ASCII score 2, the most frequent pairs 3 more.
 * Only steers which pair of a literal becomes its key, so that a rule runs on
 * 有货 rather than on every 什么时候 or 多少. */
static unsigned char_commonness(uint32_t cp)
{
	static const char common[] =
	    "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就"
	    "那和要她出也得里后自以会家可下而过天去能对小多少然于心么之都好"
	    "看起当没成只如事把还用样道想作种开从情面最但现前些所同日手又行"
	    "意动方它头经长儿回位分爱老因很给名法间知两次使身者被已亲其进此"
	    "话常与正感吗呢吧啊哦嗯哈请问什候怎款件买拍";
	const unsigned char *s = (const unsigned char *)common;
	size_t len = sizeof(common) - 1, i = 0;

	if (cp < 0x80)
		return 2;
	while (i < len)
		if (utf8_decode(s, len, &i) == cp)
			return 2;
	return 0;
}

static unsigned pair_commonness(uint32_t first, uint32_t second)
{
	static const char common[] = "不了什么怎么时候多少可以这个一个没有有了好的知道我们你们现在"
	                             "因为所以但是就是还是已经一下这样那个那么怎样能不要是有没的话";
	const unsigned char *s = (const unsigned char *)common;
	size_t len = sizeof(common) - 1, i = 0;
	unsigned score = char_commonness(first) + char_commonness(second);

	while (i < len) {
		uint32_t a = utf8_decode(s, len, &i), b = utf8_decode(s, len, &i);
		if (a == first && b == second)
			return score + 3;
	}
	return score;
}

/* The key kept for one required string: its only character, or its least common
 * pair of adjacent characters (the last one on a tie: phrases end in their subject,
 * as in 什么时候有货). *back is how many characters the string starts before the
 * key's last character. */
static uint64_t literal_key(const struct literal *lit, unsigned *back)
{
	unsigned best = 0, best_score = UINT_MAX;

	*back = 0;
	if (lit->len == 1)
		return KEY_CHAR | lit->ch[0];
	for (unsigned i = 0; i + 1 < lit->len; i++) {
		unsigned score = pair_commonness(lit->ch[i], lit->ch[i + 1]);
		if (score <= best_score) {
			best_score = score;
			best = i;
		}
	}
	*back = best + 1;
	return KEY_PAIR | (uint64_t)lit->ch[best] << 21 | lit->ch[best + 1];
}

static int prefilter_add_key(struct prefilter *pf, const struct literal *lit, unsigned rule)
{
	struct prefilter_key *k;
	unsigned back;

	if (pf->pending_count == pf->pending_capacity) {
		size_t capacity = pf->pending_capacity ? 2 * pf->pending_capacity : 256;
		struct prefilter_key *grown = realloc(pf->pending, capacity * sizeof(*grown));
		if (grown == NULL)
			return -1;
		pf->pending = grown;
		pf->pending_capacity = capacity;
	}
	k = &pf->pending[pf->pending_count++];
	k->key = literal_key(lit, &back);
	memcpy(k->literal.ch, lit->ch, sizeof(k->literal.ch));
	k->literal.len = (uint8_t)lit->len;
	k->literal.back = (uint8_t)back;
	k->literal.rule = (uint16_t)rule;
	return 0;
}

/* Analyses rule `index`'s pattern and records its keys, or marks it always-run. */
static int prefilter_add_rule(struct prefilter *pf, unsigned index, const char *pattern, size_t len)
{
	struct pattern_scan scan = {(const unsigned char *)pattern,
	                            (const unsigned char *)pattern + len, 0, 0, 0};
	struct info info = scan_alternation(&scan);
	int exact, rc = 0;

	if (scan.p != scan.end)
		scan.unsupported = 1; /* a stray ')' */
	exact = info.shape == SHAPE_EXACT && !scan.constrained;
	info_to_required(&info); /* fails on an empty string: a rule matching everything */
	if (scan.unsupported || info.shape != SHAPE_REQUIRED) {
		pf->always[index / 64] |= 1ull << (index % 64);
		info_free(&info);
		return 0;
	}
	if (exact)
		pf->exact[index / 64] |= 1ull << (index % 64);
	for (unsigned i = 0; i < info.count && rc == 0; i++)
		rc = prefilter_add_key(pf, &info.item[i], index);
	info_free(&info);
	return rc;
}

static size_t prefilter_slot(const struct prefilter *pf, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - pf->slot_bits));
}

/* Builds the hash table from the pending keys. Returns 0, or -1 out of memory. */
static int prefilter_build(struct prefilter *pf)
{
	size_t slots, distinct = 0;
	uint32_t *key_of = NULL; /* distinct key of each pending literal */

	if (pf->pending_count == 0)
		return 0; /* every rule always runs: prefilter_scan sees no table */
	pf->slot_bits = 4;
	while (((size_t)1 << pf->slot_bits) < 2 * pf->pending_count)
		pf->slot_bits++;
	slots = (size_t)1 << pf->slot_bits;
	if ((pf->slot_key = calloc(slots, sizeof(*pf->slot_key))) == NULL ||
	    (pf->slot_mask = calloc(slots, sizeof(*pf->slot_mask))) == NULL ||
	    (pf->mask = calloc(pf->pending_count + 1, sizeof(*pf->mask))) == NULL ||
	    (pf->literal = calloc(pf->pending_count, sizeof(*pf->literal))) == NULL ||
	    (pf->literal_first = calloc(pf->pending_count + 2, sizeof(*pf->literal_first))) ==
	        NULL ||
	    (key_of = calloc(pf->pending_count, sizeof(*key_of))) == NULL)
		goto fail;
	for (size_t i = 0; i < pf->pending_count; i++) {
		uint64_t key = pf->pending[i].key;
		unsigned rule = pf->pending[i].literal.rule;
		uint32_t first = (uint32_t)(key >> 21) & 0x1fffff, last = (uint32_t)key & 0x1fffff;
		size_t slot = prefilter_slot(pf, key);

		while (pf->slot_key[slot] != KEY_NONE && pf->slot_key[slot] != key)
			slot = (slot + 1) & (slots - 1);
		if (pf->slot_key[slot] == KEY_NONE) {
			pf->slot_key[slot] = key;
			pf->slot_mask[slot] = (uint32_t)distinct++;
		}
		pf->mask[pf->slot_mask[slot]][rule / 64] |= 1ull << (rule % 64);
		key_of[i] = pf->slot_mask[slot];
		pf->literal_first[key_of[i] + 2]++;
		if (key & KEY_PAIR) {
			pf->char_class[first % CHAR_CLASS_SIZE] |= CLASS_FIRST;
			pf->char_class[last % CHAR_CLASS_SIZE] |= CLASS_SECOND;
		} else
			pf->char_class[last % CHAR_CLASS_SIZE] |= CLASS_SINGLE;
	}
	/* Literals grouped by key (a counting sort: literal_first[d + 2] counted key d) */
	for (size_t d = 2; d < distinct + 2; d++)
		pf->literal_first[d] += pf->literal_first[d - 1];
	for (size_t i = 0; i < pf->pending_count; i++)
		pf->literal[pf->literal_first[key_of[i] + 1]++] = pf->pending[i].literal;
	free(key_of);
	free(pf->pending);
	pf->pending = NULL;
	pf->pending_count = pf->pending_capacity = 0;
	return 0;
fail:
	free(key_of);
	return -1;
}

/* The distinct key index of key, or UINT32_MAX when no rule has that key. */
static uint32_t prefilter_lookup(const struct prefilter *pf, uint64_t key)
{
	size_t slot = prefilter_slot(pf, key), slots = (size_t)1 << pf->slot_bits;

	for (; pf->slot_key[slot] != KEY_NONE; slot = (slot + 1) & (slots - 1))
		if (pf->slot_key[slot] == key)
			return pf->slot_mask[slot];
	return UINT32_MAX;
}

/* The key hits of one message, to check their literals once it is read: where key
 * (a distinct key index) was seen, as the index of its last character. */
struct key_hits {
	struct {
		uint32_t key;
		uint32_t at;
	} hit[SCAN_HITS];
	size_t count;
	int checked; /* 0 once there were too many: keys alone then decide */
};

static void mask_or(rule_mask into, const rule_mask from)
{
	for (unsigned w = 0; w < MASK_WORDS; w++)
		into[w] |= from[w];
}

/* Whether key belongs to a rule the caller asks about (most keys found do not). */
static inline int key_wanted(const struct prefilter *pf, uint32_t key, const rule_mask wanted)
{
	uint64_t useful = 0;

	if (key == UINT32_MAX)
		return 0;
	for (unsigned w = 0; w < MASK_WORDS; w++)
		useful |= pf->mask[key][w] & wanted[w];
	return useful != 0;
}

static void note_key(const struct prefilter *pf, struct key_hits *kh, uint32_t key, size_t at,
                     rule_mask hit)
{
	if (kh->checked && kh->count == SCAN_HITS) {
		kh->checked = 0;
		for (size_t h = 0; h < kh->count; h++)
			mask_or(hit, pf->mask[kh->hit[h].key]);
	}
	if (!kh->checked) {
		mask_or(hit, pf->mask[key]);
		return;
	}
	kh->hit[kh->count].key = key;
	kh->hit[kh->count].at = (uint32_t)at;
	kh->count++;
}

/*
 * Sets in hit the rules of the key hits' literals that occur (case-folded) in text,
 * comparing them with its characters decoded once. Returns -1, setting nothing, when
 * the text has more than SCAN_CHARS characters.
 */
static int check_literals(const struct prefilter *pf, const struct key_hits *kh,
                          const unsigned char *text, size_t len, rule_mask hit)
{
	uint32_t cp[SCAN_CHARS];
	size_t n = 0, i = 0;

	while (i < len) {
		if (n == SCAN_CHARS)
			return -1;
		cp[n++] = fold_char(utf8_decode(text, len, &i));
	}
	for (size_t h = 0; h < kh->count; h++) {
		const size_t at = kh->hit[h].at;

		for (uint32_t l = pf->literal_first[kh->hit[h].key];
		     l < pf->literal_first[kh->hit[h].key + 1]; l++) {
			const struct prefilter_literal *lit = &pf->literal[l];
			const unsigned rule = lit->rule;

			if ((hit[rule / 64] >> (rule % 64) & 1) || at < lit->back ||
			    at - lit->back + lit->len > n ||
			    memcmp(cp + at - lit->back, lit->ch, lit->len * sizeof(*cp)) != 0)
				continue;
			hit[rule / 64] |= 1ull << (rule % 64);
		}
	}
	return 0;
}

/*
 * Sets in hit the rules worth running on text: those without keys, and those one of
 * whose literals (case-folded) occurs in it (only keys of the wanted rules are
 * looked at: the others' bits may stay unset). Returns 1 when that was checked literal
 * by literal; 0 when the message had more than SCAN_HITS key hits or SCAN_CHARS
 * characters, and a key alone was then taken as enough (as the prefilter did before
 * it checked literals): exact rules then still need PCRE2.
 */
static int prefilter_scan(const struct prefilter *pf, const unsigned char *text, size_t len,
                          const rule_mask wanted, rule_mask hit)
{
	uint32_t previous = 0;
	unsigned previous_class = 0; /* none: the first character starts no pair */
	struct key_hits kh;
	size_t i = 0, n = 0; /* bytes, characters read */

	memcpy(hit, pf->always, sizeof(rule_mask));
	if (pf->slot_key == NULL)
		return 1;
	kh.count = 0;
	kh.checked = 1;
	for (; i < len; n++) {
		uint32_t c, key;
		unsigned cls;

		/* Chinese text is nearly all three-byte characters: decoded here without
		 * utf8_decode's length and bounds tests, which cost as much. Of them only
		 * U+212A has a caseless partner (fold_char). */
		if ((text[i] & 0xf0) == 0xe0 && len - i >= 3) {
			c = (uint32_t)(text[i] & 0x0f) << 12 | (text[i + 1] & 0x3fu) << 6 |
			    (text[i + 2] & 0x3fu);
			i += 3;
			if (c == 0x212a)
				c = fold_char(c);
		} else {
			c = fold_char(utf8_decode(text, len, &i));
		}

		cls = pf->char_class[c % CHAR_CLASS_SIZE];
		if ((cls & CLASS_SECOND) && (previous_class & CLASS_FIRST)) {
			key = prefilter_lookup(pf, KEY_PAIR | (uint64_t)previous << 21 | c);
			if (key_wanted(pf, key, wanted))
				note_key(pf, &kh, key, n, hit);
		}
		if (cls & CLASS_SINGLE) {
			key = prefilter_lookup(pf, KEY_CHAR | c);
			if (key_wanted(pf, key, wanted))
				note_key(pf, &kh, key, n, hit);
		}
		previous = c;
		previous_class = cls;
	}
	if (!kh.checked)
		return 0;
	if (kh.count == 0 || check_literals(pf, &kh, text, len, hit) == 0)
		return 1;
	for (size_t h = 0; h < kh.count; h++) /* too long to check: its keys alone */
		mask_or(hit, pf->mask[kh.hit[h].key]);
	return 0;
}

static void prefilter_release(struct prefilter *pf)
{
	free(pf->literal);
	free(pf->literal_first);
	free(pf->slot_key);
	free(pf->slot_mask);
	free(pf->mask);
	free(pf->pending);
}

/* ---- The rule set --------------------------------------------------------------- */

static struct rules *rules_create(void)
{
	struct rules *r;
	uint32_t jit_available = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->match_context = pcre2_match_context_create(NULL)) == NULL ||
	    (r->match_data = pcre2_match_data_create(1, NULL)) == NULL) {
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
	return r;
}

struct rules *rules_empty(void)
{
	return rules_create();
}

void rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < r->count; i++)
		pcre2_code_free(r->rule[i].code);
	for (unsigned i = 0; i < r->reason_count; i++) {
		free(r->reason[i].name);
		free(r->reason[i].label);
	}
	prefilter_release(&r->prefilter);
	free(r->memo);
	free(r->memo_recent);
	pcre2_match_data_free(r->match_data);
	pcre2_match_context_free(r->match_context);
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

/* Runs rule i on the subject: 1 on a match, 0 otherwise (a limit hit is counted). */
static int rule_matches(struct rules *r, unsigned i, PCRE2_SPTR subject, size_t len)
{
	const struct rule *rule = &r->rule[i];
	int rc;

	if (rule->jit)
		rc = pcre2_jit_match(rule->code, subject, len, 0, 0, r->match_data,
		                     r->match_context);
	else
		rc = pcre2_match(rule->code, subject, len, 0, PCRE2_NO_UTF_CHECK, r->match_data,
		                 r->match_context);
	if (rc >= 0)
		return 1;
	if (rc != PCRE2_ERROR_NOMATCH)
		r->limit_hits++;
	return 0;
}

/* 1 when one of the candidate rules in `bits` (a rule_mask) matches. */
static int any_matches(struct rules *r, const uint64_t *bits_in, int checked, PCRE2_SPTR subject,
                       size_t len)
{
	for (unsigned w = 0; w < MASK_WORDS; w++) {
		uint64_t bits = bits_in[w];
		while (bits != 0) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			if ((checked && (r->prefilter.exact[w] >> (i % 64) & 1)) ||
			    rule_matches(r, i, subject, len))
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
static unsigned first_match(struct rules *r, enum record_from from, PCRE2_SPTR subject, size_t len,
                            unsigned end, int *skipped)
{
	rule_mask run, wanted, skip;
	uint64_t any_candidate = 0;
	int checked;

	*skipped = 0;
	for (unsigned w = 0; w < MASK_WORDS; w++) {
		wanted[w] = w * 64 < end ? r->scope[from][w] & ~r->skip[w] : 0;
		if (w * 64 < end && end - w * 64 < 64)
			wanted[w] &= (1ull << (end - w * 64)) - 1;
		wanted[w] |= r->scope[from][w] & r->skip[w];
	}
	checked = prefilter_scan(&r->prefilter, subject, len, wanted, run);
	for (unsigned w = 0; w < MASK_WORDS; w++) {
		skip[w] = run[w] & wanted[w] & r->skip[w];
		any_candidate |= run[w] & wanted[w] & ~r->skip[w];
	}
	if (any_candidate == 0)
		return RULES_NONE;
	if (any_matches(r, skip, checked, subject, len)) {
		*skipped = 1;
		return RULES_NONE;
	}
	for (unsigned w = 0; w < MASK_WORDS && w * 64 < end; w++) {
		uint64_t bits = run[w] & wanted[w] & ~r->skip[w];

		while (bits != 0) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);

			bits &= bits - 1;
			/* One of its literals occurs, and for an exact rule that is a match. */
			if ((checked && (r->prefilter.exact[w] >> (i % 64) & 1)) ||
			    rule_matches(r, i, subject, len))
				return i;
		}
	}
	return RULES_NONE;
}

/* The memo entry holding (from, text), or NULL; *set is the set it belongs in. */
static struct memo_entry *memo_find(struct rules *r, uint64_t hash, enum record_from from,
                                    const char *text, size_t len, size_t *set)
{
	*set = (size_t)(hash % MEMO_SETS);
	for (unsigned way = 0; way < MEMO_WAYS; way++) {
		struct memo_entry *m = &r->memo[*set * MEMO_WAYS + way];

		if (m->hash == hash && m->below != 0 && m->len == len && m->from == from &&
		    memcmp(m->text, text, len) == 0) {
			r->memo_recent[*set] = (uint8_t)way;
			return m;
		}
	}
	return NULL;
}

/* The entry to fill for a text not in the memo: an empty way, else the one not
 * used last. */
static struct memo_entry *memo_victim(struct rules *r, size_t set)
{
	struct memo_entry *ways = &r->memo[set * MEMO_WAYS];
	unsigned way = 0;

	while (way < MEMO_WAYS && ways[way].below != 0)
		way++;
	if (way == MEMO_WAYS)
		way = (r->memo_recent[set] + 1u) % MEMO_WAYS;
	r->memo_recent[set] = (uint8_t)way;
	return &ways[way];
}

/*
 * The hot path: called for every chat message the engine still asks about. The
 * memo (see struct memo_entry) answers texts seen recently; the others go through
 * first_match and are remembered.
 */
unsigned rules_first_match(struct rules *r, enum record_from from, const char *text, size_t len,
                           unsigned limit)
{
	const PCRE2_SPTR subject = (PCRE2_SPTR)(text != NULL ? text : "");
	unsigned end = limit < r->count ? limit : r->count, answer;
	uint64_t any = 0, hash, limit_hits;
	struct memo_entry *m;
	size_t set;
	int skipped;

	if ((unsigned)from >= FROM_COUNT || end == 0)
		return RULES_NONE;
	/* The rules that could answer, before reading the text: sometimes none (an agent
	 * message once the inquiry matched a rule that comes before every agent rule). */
	for (unsigned w = 0; w < MASK_WORDS && w * 64 < end; w++) {
		uint64_t wanted = r->scope[from][w] & ~r->skip[w];

		if (end - w * 64 < 64)
			wanted &= (1ull << (end - w * 64)) - 1;
		any |= wanted;
	}
	if (any == 0)
		return RULES_NONE;
	if (r->memo == NULL || len > LIMIT_RULES_MEMO_TEXT_BYTES)
		return first_match(r, from, subject, len, end, &skipped);
	hash = hindex_hash(subject, len, from);
	if ((m = memo_find(r, hash, from, (const char *)subject, len, &set)) != NULL &&
	    (m->skipped || m->rule != RULES_NONE || end <= m->below))
		return m->skipped || m->rule >= end ? RULES_NONE : m->rule;
	limit_hits = r->limit_hits;
	answer = first_match(r, from, subject, len, end, &skipped);
	if (r->limit_hits != limit_hits)
		return answer; /* not remembered, see struct memo_entry */
	if (m == NULL) {
		m = memo_victim(r, set);
		m->hash = hash;
		m->len = (uint16_t)len;
		m->from = (uint8_t)from;
		if (len > 0)
			memcpy(m->text, text, len);
	}
	m->below = (uint16_t)end;
	m->rule = (uint16_t)answer;
	m->skipped = (uint8_t)skipped;
	return answer;
}

void rules_memo(struct rules *r, int on)
{
	if (!on) {
		free(r->memo);
		free(r->memo_recent);
		r->memo = NULL;
		r->memo_recent = NULL;
		return;
	}
	if (r->memo != NULL || r->count == 0)
		return;
	/* Untouched pages of the table cost no memory. Without memory for it the set
	 * only runs slower: the memo stays off. */
	r->memo = calloc(LIMIT_RULES_MEMO_ENTRIES, sizeof(*r->memo));
	r->memo_recent = calloc(MEMO_SETS, sizeof(*r->memo_recent));
	if (r->memo == NULL || r->memo_recent == NULL)
		rules_memo(r, 0);
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
		if (((unsigned char)*p & 0xc0) != 0x80)
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
	if ((reason->name = strndup(name, name_len)) == NULL ||
	    (reason->label = strndup(label, label_len)) == NULL) {
		free(reason->name);
		reason->name = NULL;
		loader_error(ld, name, "out of memory");
		return -1;
	}
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
	else
		return -1;
	return 0;
}

/*
 * Compiles PATTERN into rule. The first JIT failure (no JIT in this PCRE2 build, or
 * no executable memory under MemoryDenyWriteExecute=yes) turns JIT off for the rest
 * of the set: the interpreter gives the same answers, only slower, and one warning
 * per process says so.
 */
static int loader_compile(struct rules_loader *ld, struct rules *r, struct rule *rule,
                          const char *pattern, size_t len)
{
	/* What denies JIT denies it to every set the process loads (the start-up
	 * check, the daemon's own load, each reload): one warning is enough. */
	static int jit_failure_logged;
	PCRE2_UCHAR message[256];
	PCRE2_SIZE offset;
	size_t jit_size = 0;
	int code, rc;

	rule->code = pcre2_compile((PCRE2_SPTR)pattern, len, RULES_COMPILE_OPTIONS, &code, &offset,
	                           ld->compile_context);
	if (rule->code == NULL) {
		pcre2_get_error_message(code, message, sizeof(message));
		loader_error(ld, pattern + (offset <= len ? offset : len), "bad pattern: %s",
		             (const char *)message);
		return -1;
	}
	/* A pattern that matches empty text matches every message: almost always a
	 * stray '|' at an end of an alternation, which would swallow every inquiry. */
	rc = pcre2_match(rule->code, (PCRE2_SPTR) "", 0, 0, 0, r->match_data, r->match_context);
	if (rc >= 0) {
		loader_error(ld, pattern,
		             "pattern matches empty text, so it would match every message "
		             "(a stray '|'?)");
		return -1;
	}
	if (r->jit_usable) {
		rc = pcre2_jit_compile(rule->code, PCRE2_JIT_COMPLETE);
		if (rc != 0) {
			if (!jit_failure_logged) {
				pcre2_get_error_message(rc, message, sizeof(message));
				log_warnx("rules: JIT unavailable, using the interpreter: "
				          "file=%s reason=\"%s\"",
				          ld->name, (const char *)message);
				jit_failure_logged = 1;
			}
			r->jit_usable = 0;
			for (unsigned i = 0; i < r->count; i++)
				r->rule[i].jit = 0;
		}
	}
	/* (*NO_JIT) in a pattern compiles without JIT code even when JIT works. */
	if (r->jit_usable && pcre2_pattern_info(rule->code, PCRE2_INFO_JITSIZE, &jit_size) == 0 &&
	    jit_size > 0)
		rule->jit = 1;
	else
		r->all_jit = 0;
	return 0;
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
	int reason_index;

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
		loader_error(ld, scope, "scope \"%s\": expected buyer, agent, bot or any%s",
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
	if ((reason_index = loader_reason(ld, r, reason, reason_len, label, label_len)) == -1)
		return -1;
	rule = &r->rule[r->count];
	rule->reason = (unsigned)reason_index;
	if (loader_compile(ld, r, rule, pattern, (size_t)(end - pattern)) == -1) {
		pcre2_code_free(rule->code);
		rule->code = NULL;
		return -1;
	}
	if (prefilter_add_rule(&r->prefilter, r->count, pattern, (size_t)(end - pattern)) == -1) {
		pcre2_code_free(rule->code);
		rule->code = NULL;
		loader_error(ld, pattern, "out of memory");
		return -1;
	}
	for (unsigned from = 0; from < FROM_COUNT; from++)
		if (from_mask & FROM_BIT(from))
			r->scope[from][r->count / 64] |= 1ull << (r->count % 64);
	if (reason_len == 4 && memcmp(reason, "skip", 4) == 0)
		r->skip[r->count / 64] |= 1ull << (r->count % 64);
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
	if ((r = rules_create()) == NULL ||
	    (ld.compile_context = pcre2_compile_context_create(NULL)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos += 3;
	while (pos < end) {
		const char *newline = memchr(pos, '\n', (size_t)(end - pos));
		const char *line_end = newline != NULL ? newline : end;

		ld.line++;
		if (loader_line(&ld, r, pos, (size_t)(line_end - pos)) == -1)
			goto fail;
		pos = newline != NULL ? newline + 1 : end;
	}
	if (prefilter_build(&r->prefilter) == -1) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	pcre2_compile_context_free(ld.compile_context);
	rules_memo(r, 1);
	return r;
fail:
	pcre2_compile_context_free(ld.compile_context);
	rules_free(r);
	return NULL;
}

/* Reads a whole file of at most LIMIT_SETTINGS_FILE_BYTES. Returns a heap buffer or
 * NULL with "FILE: reason" in err. */
static char *read_small_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f;
	char *data;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((data = malloc(LIMIT_SETTINGS_FILE_BYTES + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(f);
		return NULL;
	}
	n = fread(data, 1, LIMIT_SETTINGS_FILE_BYTES + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (n > LIMIT_SETTINGS_FILE_BYTES) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, LIMIT_SETTINGS_FILE_BYTES);
		goto fail;
	}
	fclose(f);
	*len = n;
	return data;
fail:
	fclose(f);
	free(data);
	return NULL;
}

struct rules *rules_load(const char *path, char *err, size_t errlen)
{
	struct rules *r;
	size_t len;
	char *data;

	if ((data = read_small_file(path, &len, err, errlen)) == NULL)
		return NULL;
	r = rules_load_buffer(path, data, len, err, errlen);
	free(data);
	return r;
}
