/*
 * prefilter.c owns the literal prefilter of the lost-reason rules: reading each
 * pattern for the literal words its matches must contain, a table of those words,
 * and the scan of a message that says which rules, and which alternatives of them,
 * PCRE2 still has to run. It reads patterns as text and runs none of them (rules.c
 * does). Nothing here may change an answer: it may let a rule run that cannot match,
 * never skip one that can, and it says "matches" only where that is certain.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/prefilter.h"
#include "chatlogd/util.h"
#include "chatlogd/utf8.h"

/* Literal analysis bounds (load time only): past them a rule simply always runs. */
#define LITERAL_CHARS 8        /* longest exact string tracked */
#define LITERAL_SET_MAX 512    /* most strings in one set */
#define LITERAL_PRODUCT_MAX 64 /* most strings a concatenation may multiply into */
#define LITERAL_DEPTH_MAX 16   /* deepest group nesting analysed */
#define CLAUSES_SEEN_MAX 16    /* requirements noted per alternative */
#define CLAUSES_MAX 4          /* of them kept: the most selective */
#define COMMON_MAX 256         /* common characters and pairs (char_commonness) */

/* Prefilter keys: one character, or two adjacent characters (code points < 2^21). */
#define KEY_CHAR (1ull << 62)
#define KEY_PAIR (1ull << 63)
#define KEY_NONE 0

/* Not a distinct key index: no rule has the key (prefilter_lookup). */
#define KEY_INDEX_NONE UINT32_MAX
#define CHAR_CLASS_SIZE 4096 /* entries of struct prefilter's char_class */

/* Flags of char_class: which parts of keys a character may be. */
#define CLASS_SINGLE 1u /* a single-character key */
#define CLASS_FIRST 2u  /* the first character of a pair key */
#define CLASS_SECOND 4u /* the second character of a pair key */

/* Key hits noted per message to check their literals, and characters of a message
 * decoded to check them against; past either, the scan falls back to keys alone
 * (see prefilter_scan). */
#define SCAN_HITS 128
#define SCAN_CHARS 1024

/* A literal some match of an alternative must contain, checked where its key was
 * seen; finding it satisfies one clause of the alternative. */
struct prefilter_literal {
	uint32_t ch[LITERAL_CHARS]; /* folded code points */
	uint8_t len;
	uint8_t back; /* the literal starts `back` characters before its key's last one */
	/* Set by prefilter_build: the literal is its key (nothing to compare), and it is
	 * the same string as the literal before it under the same key (same answer). */
	uint8_t is_key;
	uint8_t same_as_previous;
	uint32_t clause;
};

/* One (key, literal) pair found while loading, before the table is built. */
struct prefilter_key {
	uint64_t key;
	struct prefilter_literal literal;
};

/* A top-level alternative of a rule's pattern, or the whole pattern. */
struct alternative {
	uint32_t offset, len; /* in the rule's pattern */
	uint16_t rule;
	/* Clauses: sets of words, a word of each of which every match contains (first
	 * clause at clause_first). 0: nothing known, the alternative always may match. */
	uint8_t clauses;
	/* The alternative matches exactly where a word of its one clause occurs:
	 * nothing but words (alternatives, optional parts; no anchors, lookarounds,
	 * classes or atomic groups), each starting with a character the start guard
	 * admits. */
	uint8_t exact;
	uint32_t clause_first;
};

/*
 * PCRE2 tries every alternative of a pattern at every character, so ten large
 * alternations over one message cost microseconds, and most messages match none of
 * them. At load time each top-level alternative of a pattern is analysed for the
 * sets of literals its matches must contain: in (?:物流|快递).{0,6}(?:不|没)(?:更新|动)
 * one of 物流 快递, and one of 不更新 不动 没更新 没动; each set is a clause, and an
 * alternative can match only when a literal of each of its clauses occurs. From each
 * literal one key is kept (the character itself, or its least common pair of
 * adjacent characters). A scan looks up each character and each adjacent pair of the
 * message in a small hash table, compares the literals of the keys it finds with the
 * message, and marks their clauses; an alternative with all its clauses marked may
 * match, and only such alternatives go to PCRE2 (rules.c compiles each alternative
 * of a rule on its own as well as the whole pattern). Alternatives the analysis
 * could not read always may match. The analysis is conservative: it may let an
 * alternative run that cannot match, never skip one that can.
 *
 * An alternative that is nothing but its literals ("exact") matches exactly when
 * one of them occurs, so it needs no PCRE2 run at all. PCRE2's match limit cannot
 * make it answer otherwise: the limit counts work per start position (measured on
 * PCRE2 10.42, JIT and interpreter), and patterns of LITERAL_SET_MAX plain strings
 * built to backtrack took under 800 steps there, on any length of text, against a
 * limit of LIMIT_PCRE2_MATCH (200,000).
 *
 * Patterns may start with a guard (?=[CHARS]) that lists the characters a match can
 * start with (patterns/lost-reasons.conf, START GUARDS): a speed device for the
 * whole pattern that PCRE2 checks at each position. Each alternative keeps it when
 * compiled alone, and an exact alternative is only taken as one when the guard
 * admits the first character of each of its literals.
 */
struct prefilter {
	rule_mask always;    /* rules with an alternative without clauses */
	uint64_t *slot_key;  /* open addressing, KEY_NONE = empty */
	uint32_t *slot_mask; /* index into mask for each used slot */
	rule_mask *mask;     /* the rules of each distinct key */
	unsigned slot_bits;  /* table size is 1 << slot_bits */
	/* The literals of distinct key d: literal[literal_first[d] .. literal_first[d + 1]) */
	struct prefilter_literal *literal;
	uint32_t *literal_first;
	/* Quick "could a key hold this character here?" flags (CLASS_*), by code point
	 * modulo CHAR_CLASS_SIZE: most characters of a message skip the hash table.
	 * One load per character answers all three questions, and the scan carries a
	 * character's flags over to the pair it forms with the next one. */
	uint8_t char_class[CHAR_CLASS_SIZE];
	/* The rules and their alternatives: rule i has alternatives
	 * [alternative_first[i], alternative_first[i + 1]). */
	unsigned rule_count;
	uint32_t alternative_first[LIMIT_RULES + 1];
	uint32_t guard_len[LIMIT_RULES];
	struct alternative *alternative;
	size_t alternative_count, alternative_capacity;
	uint32_t *clause_alternative; /* the alternative of each clause */
	size_t clause_count, clause_capacity;
	/* The last scan: a clause or alternative is marked when its seen value is
	 * scan_id; found counts an alternative's marked clauses. */
	uint32_t scan_id;
	uint32_t *clause_seen;
	uint32_t *alternative_seen;
	uint8_t *alternative_found;
	int checked; /* 0: keys alone marked clauses (see prefilter_scan) */
	/* keys gathered during the load */
	struct prefilter_key *pending;
	size_t pending_count, pending_capacity;
	/* common_chars and common_pairs, decoded and sorted (see char_commonness) */
	uint64_t common_char[COMMON_MAX], common_pair[COMMON_MAX];
	size_t common_chars, common_pairs;
};

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
	int unsupported; /* syntax not modelled here: rule always runs */
	/* The pattern asks more of a match than its strings: an anchor, a word boundary,
	 * a lookaround, an atomic group or a possessive quantifier. Its strings are then
	 * still required, but finding one is no longer a match. */
	int constrained;
	/* The requirements of every part of the sequence at depth `clause_depth` (an
	 * alternative of the rule): a match needs one string of each of them. */
	struct info clause[CLAUSES_SEEN_MAX];
	unsigned clause_count;
	unsigned clause_depth;
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
static struct info info_exact(const uint32_t *ch, unsigned len)
{
	struct info info = {.shape = SHAPE_EXACT, .count = 1};

	info.item = xcalloc(1, sizeof(*info.item));
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
static int info_product(struct info *run, const struct info *part)
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
	item = xcalloc(count, sizeof(*item));
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
static struct info info_alternative(struct info a, struct info b)
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
	both.item = xreallocarray(NULL, both.count, sizeof(*both.item));
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
		return info_exact(NULL, 0);
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
		return info_exact(NULL, 0);
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
			return info_exact(NULL, 0);
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
			return info_exact(&cp, 1);
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
		return info_exact(&cp, 1);
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
		empty = info_exact(NULL, 0);
		return info_alternative(atom, empty);
	}
	if (min == 0)
		goto unknown;
	info_to_required(&atom); /* at least one copy */
	return atom;
unknown:
	info_free(&atom);
	return info_unknown();
}

/* A copy of info. */
static struct info info_copy(const struct info *info)
{
	struct info copy = *info;

	if (info->shape == SHAPE_UNKNOWN)
		return info_unknown();
	copy.item = xreallocarray(NULL, info->count, sizeof(*copy.item));
	memcpy(copy.item, info->item, info->count * sizeof(*copy.item));
	return copy;
}

/* Notes a requirement of a part of the alternative being read, when the sequence
 * is that alternative's own (not one nested in a group). */
static void clause_note(struct pattern_scan *scan, const struct info *info)
{
	struct info copy;

	if (scan->depth != scan->clause_depth || scan->clause_count == CLAUSES_SEEN_MAX)
		return;
	copy = info_copy(info);
	info_to_required(&copy);
	if (copy.shape == SHAPE_REQUIRED)
		scan->clause[scan->clause_count++] = copy;
}

/* A sequence of pieces up to '|', ')' or the end. Adjacent exact pieces multiply
 * into longer exact strings; the best requirement of the parts is kept, and at the
 * alternative's own depth every one is noted (clause_note). */
static struct info scan_sequence(struct pattern_scan *scan)
{
	struct info run = info_exact(NULL, 0), best = info_unknown();
	int exact = 1;

	while (!scan->unsupported && scan->p < scan->end && *scan->p != '|' && *scan->p != ')') {
		struct info part = scan_piece(scan);

		if (part.shape == SHAPE_EXACT && info_product(&run, &part) == 0) {
			info_free(&part);
			continue;
		}
		exact = 0;
		info_to_required(&run);
		clause_note(scan, &run);
		best = info_better(best, run);
		if (part.shape == SHAPE_EXACT) {
			run = part;
			continue;
		}
		clause_note(scan, &part);
		best = info_better(best, part);
		run = info_exact(NULL, 0);
	}
	if (scan->unsupported) {
		info_free(&run);
		info_free(&best);
		return info_unknown();
	}
	if (exact) {
		clause_note(scan, &run);
		info_free(&best);
		return run;
	}
	info_to_required(&run);
	clause_note(scan, &run);
	return info_better(best, run);
}

static struct info scan_alternation(struct pattern_scan *scan)
{
	struct info all = scan_sequence(scan);

	while (!scan->unsupported && scan->p < scan->end && *scan->p == '|') {
		scan->p++;
		all = info_alternative(all, scan_sequence(scan));
	}
	return all;
}

/* How common a character or an adjacent pair is in chat text, roughly: the most
 * frequent Chinese characters and ASCII score 2, the most frequent pairs 3 more.
 * Only steers which pair of a literal becomes its key, so that a rule runs on
 * 有货 rather than on every 什么时候 or 多少. */
static const char common_chars[] = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就"
                                   "那和要她出也得里后自以会家可下而过天去能对小多少然于心么之都好"
                                   "看起当没成只如事把还用样道想作种开从情面最但现前些所同日手又行"
                                   "意动方它头经长儿回位分爱老因很给名法间知两次使身者被已亲其进此"
                                   "话常与正感吗呢吧啊哦嗯哈请问什候怎款件买拍";
static const char common_pairs[] = "不了什么怎么时候多少可以这个一个没有有了好的知道我们你们现在"
                                   "因为所以但是就是还是已经一下这样那个那么怎样能不要是有没的话";

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Decodes a list of common characters (width 1) or pairs (width 2) into sorted
 * values (a pair as first << 21 | second) in out. Returns how many. */
static size_t common_decode(const char *list, size_t width, uint64_t *out, size_t max)
{
	const unsigned char *s = (const unsigned char *)list;
	size_t len = strlen(list), i = 0, n = 0;

	while (i < len && n < max) {
		uint64_t v = utf8_decode(s, len, &i);
		if (width == 2)
			v = v << 21 | utf8_decode(s, len, &i);
		out[n++] = v;
	}
	qsort(out, n, sizeof(*out), compare_u64);
	return n;
}

static int common_has(const uint64_t *sorted, size_t n, uint64_t v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid] == v)
			return 1;
		if (sorted[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static unsigned char_commonness(const struct prefilter *pf, uint32_t cp)
{
	return cp < 0x80 || common_has(pf->common_char, pf->common_chars, cp) ? 2 : 0;
}

static unsigned pair_commonness(const struct prefilter *pf, uint32_t first, uint32_t second)
{
	unsigned score = char_commonness(pf, first) + char_commonness(pf, second);

	return common_has(pf->common_pair, pf->common_pairs, (uint64_t)first << 21 | second)
	           ? score + 3
	           : score;
}

/* The key kept for one required string: its only character, or its least common
 * pair of adjacent characters (the last one on a tie: phrases end in their subject,
 * as in 什么时候有货). *back is how many characters the string starts before the
 * key's last character. */
static uint64_t literal_key(const struct prefilter *pf, const struct literal *lit, unsigned *back)
{
	unsigned best = 0, best_score = UINT_MAX;

	*back = 0;
	if (lit->len == 1)
		return KEY_CHAR | lit->ch[0];
	for (unsigned i = 0; i + 1 < lit->len; i++) {
		unsigned score = pair_commonness(pf, lit->ch[i], lit->ch[i + 1]);
		if (score <= best_score) {
			best_score = score;
			best = i;
		}
	}
	*back = best + 1;
	return KEY_PAIR | (uint64_t)lit->ch[best] << 21 | lit->ch[best + 1];
}

/* ---- Reading a rule -------------------------------------------------------------- */

/* Grows *array of *capacity elements of size `size` to hold `need`. */
static void grow(void **array, size_t *capacity, size_t need, size_t size)
{
	size_t capacity_new = *capacity ? *capacity : 64;

	if (need <= *capacity)
		return;
	while (capacity_new < need)
		capacity_new *= 2;
	*array = xreallocarray(*array, capacity_new, size);
	*capacity = capacity_new;
}

static void prefilter_add_key(struct prefilter *pf, const struct literal *lit, uint32_t clause)
{
	struct prefilter_key *k;
	unsigned back;

	grow((void **)&pf->pending, &pf->pending_capacity, pf->pending_count + 1,
	     sizeof(*pf->pending));
	k = &pf->pending[pf->pending_count++];
	k->key = literal_key(pf, lit, &back);
	memcpy(k->literal.ch, lit->ch, sizeof(k->literal.ch));
	k->literal.len = (uint8_t)lit->len;
	k->literal.back = (uint8_t)back;
	k->literal.clause = clause;
}

/* The characters a start guard admits, folded; plain only when the guard is a
 * class of plain characters (no escapes, ranges, negation or POSIX names). */
struct guard {
	uint32_t ch[256];
	unsigned count;
	int plain;
};

/* Reads a start guard "(?=[CHARS])" at the start of [p, end). Returns its length,
 * or 0 when the pattern does not start with one. */
static size_t scan_guard(const unsigned char *p, const unsigned char *end, struct guard *guard)
{
	struct pattern_scan scan = {.p = p + 4, .end = end};
	const unsigned char *q;

	guard->count = 0;
	guard->plain = 0;
	if (end - p < 6 || memcmp(p, "(?=[", 4) != 0 || scan_class(&scan) == -1 || scan.p == end ||
	    *scan.p != ')')
		return 0;
	guard->plain = p[4] != '^' && p[4] != ']';
	for (q = p + 4; q < scan.p - 1 && guard->plain;) {
		size_t i = 0;
		uint32_t cp;

		if (*q == '\\' || *q == '[' || *q == '-' || guard->count == 256) {
			guard->plain = 0;
			break;
		}
		cp = utf8_decode(q, (size_t)(scan.p - 1 - q), &i);
		q += i;
		/* A character with caseless partners could admit more than it says: left
		 * out, the guard only admits less here, which is safe. */
		if (literal_char_safe(cp))
			guard->ch[guard->count++] = fold_char(cp);
	}
	return (size_t)(scan.p + 1 - p);
}

/* 1 when the guard admits the first character of every string of info. */
static int guard_admits(const struct guard *guard, size_t guard_len, const struct info *info)
{
	if (guard_len == 0)
		return 1;
	if (!guard->plain)
		return 0;
	for (unsigned i = 0; i < info->count; i++) {
		unsigned k = 0;

		while (k < guard->count && guard->ch[k] != info->item[i].ch[0])
			k++;
		if (info->item[i].len == 0 || k == guard->count)
			return 0;
	}
	return 1;
}

/* 1 when [p, end) is one group "(?:...)" and nothing after it. */
static int is_one_group(const unsigned char *p, const unsigned char *end)
{
	struct pattern_scan scan = {.p = p, .end = end};
	struct info info;

	if (end - p < 4 || memcmp(p, "(?:", 3) != 0)
		return 0;
	info = scan_atom(&scan);
	info_free(&info);
	return !scan.unsupported && scan.p == end;
}

/* Orders clauses most selective first: strings of two characters or more (a pair
 * key), then fewer strings. */
static int clause_compare(const void *a_in, const void *b_in)
{
	const struct info *a = a_in, *b = b_in;
	unsigned a_min = UINT_MAX, b_min = UINT_MAX;

	for (unsigned i = 0; i < a->count; i++)
		a_min = a->item[i].len < a_min ? a->item[i].len : a_min;
	for (unsigned i = 0; i < b->count; i++)
		b_min = b->item[i].len < b_min ? b->item[i].len : b_min;
	a_min = a_min > 2 ? 2 : a_min;
	b_min = b_min > 2 ? 2 : b_min;
	if (a_min != b_min)
		return a_min > b_min ? -1 : 1;
	return a->count < b->count ? -1 : a->count > b->count;
}

/* Appends an alternative of the rule being read, with its clauses. */
static void add_alternative(struct prefilter *pf, size_t offset, size_t len, struct info *clause,
                            unsigned clause_count, int exact)
{
	struct alternative *alt;

	grow((void **)&pf->alternative, &pf->alternative_capacity, pf->alternative_count + 1,
	     sizeof(*pf->alternative));
	grow((void **)&pf->clause_alternative, &pf->clause_capacity,
	     pf->clause_count + clause_count, sizeof(*pf->clause_alternative));
	alt = &pf->alternative[pf->alternative_count];
	alt->offset = (uint32_t)offset;
	alt->len = (uint32_t)len;
	alt->rule = (uint16_t)pf->rule_count;
	alt->clauses = (uint8_t)clause_count;
	alt->exact = (uint8_t)exact;
	alt->clause_first = (uint32_t)pf->clause_count;
	for (unsigned c = 0; c < clause_count; c++) {
		for (unsigned i = 0; i < clause[c].count; i++)
			prefilter_add_key(pf, &clause[c].item[i], (uint32_t)pf->clause_count);
		pf->clause_alternative[pf->clause_count++] = (uint32_t)pf->alternative_count;
	}
	if (clause_count == 0)
		pf->always[pf->rule_count / 64] |= 1ull << (pf->rule_count % 64);
	pf->alternative_count++;
}

/*
 * Reads the alternatives of [body, body_end) of pattern into scan's clauses, one at
 * a time, and adds them. Returns the number added, or 0 when some syntax is not
 * followed here (nothing is added then).
 */
static int add_alternatives(struct prefilter *pf, const unsigned char *pattern,
                            const unsigned char *body, const unsigned char *body_end,
                            const struct guard *guard, size_t guard_len)
{
	struct pattern_scan scan = {.p = body, .end = body_end};
	size_t first = pf->alternative_count, clauses = pf->clause_count;
	size_t pending = pf->pending_count;
	int count = 0;

	for (;;) {
		const unsigned char *start = scan.p;
		struct info info;
		int exact;

		scan.constrained = 0;
		scan.clause_count = 0;
		info = scan_sequence(&scan);
		exact = !scan.unsupported && info.shape == SHAPE_EXACT && !scan.constrained &&
		        guard_admits(guard, guard_len, &info);
		info_free(&info);
		if (!scan.unsupported && (scan.p == body_end || *scan.p == '|')) {
			qsort(scan.clause, scan.clause_count, sizeof(scan.clause[0]),
			      clause_compare);
			/* An exact alternative has one clause: its strings. */
			add_alternative(
			    pf, (size_t)(start - pattern), (size_t)(scan.p - start), scan.clause,
			    scan.clause_count < CLAUSES_MAX ? scan.clause_count : CLAUSES_MAX,
			    exact && scan.clause_count == 1);
			count++;
		} else
			scan.unsupported = 1; /* a stray ')' */
		for (unsigned c = 0; c < scan.clause_count; c++)
			info_free(&scan.clause[c]);
		if (scan.unsupported || scan.p == body_end)
			break;
		scan.p++; /* past '|' */
	}
	if (!scan.unsupported)
		return count;
	pf->alternative_count = first; /* undone: the rule is kept whole */
	pf->clause_count = clauses;
	pf->pending_count = pending;
	return 0;
}

int prefilter_add_rule(struct prefilter *pf, const char *pattern_in, size_t len)
{
	const unsigned char *pattern = (const unsigned char *)pattern_in, *end = pattern + len;
	const unsigned char *body = pattern, *body_end = end;
	unsigned rule = pf->rule_count;
	rule_mask always;
	struct guard guard;
	size_t guard_len = scan_guard(pattern, end, &guard);
	int count;

	if (rule >= LIMIT_RULES)
		return -1;
	memcpy(always, pf->always, sizeof(always));
	/* A guard belongs to the whole pattern only when one group follows it. */
	if (guard_len > 0 && !is_one_group(pattern + guard_len, end))
		guard_len = 0;
	body += guard_len;
	if (is_one_group(body, end)) {
		body += 3;
		body_end--;
	}
	pf->alternative_first[rule] = (uint32_t)pf->alternative_count;
	count = add_alternatives(pf, pattern, body, body_end, &guard, guard_len);
	if (count == 0) { /* not followed here: one alternative, the whole, always run */
		memcpy(pf->always, always, sizeof(always));
		guard_len = 0;
		add_alternative(pf, 0, len, NULL, 0, 0);
		count = 1;
	}
	pf->guard_len[rule] = (uint32_t)guard_len;
	pf->rule_count++;
	pf->alternative_first[pf->rule_count] = (uint32_t)pf->alternative_count;
	return count;
}

void prefilter_alternatives(const struct prefilter *pf, unsigned rule, unsigned *first,
                            unsigned *end)
{
	*first = pf->alternative_first[rule];
	*end = pf->alternative_first[rule + 1];
}

void prefilter_alternative_span(const struct prefilter *pf, unsigned alt, size_t *guard_len,
                                size_t *offset, size_t *len)
{
	*guard_len = pf->guard_len[pf->alternative[alt].rule];
	*offset = pf->alternative[alt].offset;
	*len = pf->alternative[alt].len;
}

/* ---- The table ------------------------------------------------------------------- */

struct prefilter *prefilter_new(void)
{
	struct prefilter *pf = xcalloc(1, sizeof(*pf));

	pf->common_chars = common_decode(common_chars, 1, pf->common_char, COMMON_MAX);
	pf->common_pairs = common_decode(common_pairs, 2, pf->common_pair, COMMON_MAX);
	return pf;
}

void prefilter_free(struct prefilter *pf)
{
	if (pf == NULL)
		return;
	free(pf->literal);
	free(pf->literal_first);
	free(pf->slot_key);
	free(pf->slot_mask);
	free(pf->mask);
	free(pf->pending);
	free(pf->alternative);
	free(pf->clause_alternative);
	free(pf->clause_seen);
	free(pf->alternative_seen);
	free(pf->alternative_found);
	free(pf);
}

static size_t prefilter_slot(const struct prefilter *pf, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - pf->slot_bits));
}

/* Orders literals by string and where the key falls in it (not by clause). */
static int literal_compare(const void *a_in, const void *b_in)
{
	const struct prefilter_literal *a = a_in, *b = b_in;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->back != b->back)
		return a->back < b->back ? -1 : 1;
	for (unsigned i = 0; i < a->len; i++)
		if (a->ch[i] != b->ch[i])
			return a->ch[i] < b->ch[i] ? -1 : 1;
	return 0;
}

void prefilter_build(struct prefilter *pf)
{
	size_t slots, distinct = 0;
	uint32_t *key_of; /* distinct key of each pending literal */

	pf->clause_seen = xcalloc(pf->clause_count + 1, sizeof(*pf->clause_seen));
	pf->alternative_seen = xcalloc(pf->alternative_count + 1, sizeof(*pf->alternative_seen));
	pf->alternative_found = xcalloc(pf->alternative_count + 1, sizeof(*pf->alternative_found));
	if (pf->pending_count == 0)
		return; /* every rule always runs: prefilter_scan sees no table */
	pf->slot_bits = 4;
	while (((size_t)1 << pf->slot_bits) < 2 * pf->pending_count)
		pf->slot_bits++;
	slots = (size_t)1 << pf->slot_bits;
	pf->slot_key = xcalloc(slots, sizeof(*pf->slot_key));
	pf->slot_mask = xcalloc(slots, sizeof(*pf->slot_mask));
	pf->mask = xcalloc(pf->pending_count + 1, sizeof(*pf->mask));
	pf->literal = xcalloc(pf->pending_count, sizeof(*pf->literal));
	pf->literal_first = xcalloc(pf->pending_count + 2, sizeof(*pf->literal_first));
	key_of = xcalloc(pf->pending_count, sizeof(*key_of));
	for (size_t i = 0; i < pf->pending_count; i++) {
		uint64_t key = pf->pending[i].key;
		unsigned rule =
		    pf->alternative[pf->clause_alternative[pf->pending[i].literal.clause]].rule;
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
	/* Within a key, equal strings next to each other: a scan compares each once. */
	for (size_t d = 0; d < distinct; d++) {
		struct prefilter_literal *first = &pf->literal[pf->literal_first[d]];
		size_t count = pf->literal_first[d + 1] - pf->literal_first[d];

		qsort(first, count, sizeof(*first), literal_compare);
		for (size_t l = 0; l < count; l++) {
			first[l].is_key =
			    first[l].len == 1 || (first[l].len == 2 && first[l].back == 1);
			first[l].same_as_previous =
			    l > 0 && literal_compare(&first[l - 1], &first[l]) == 0;
		}
	}
	free(key_of);
	free(pf->pending);
	pf->pending = NULL;
	pf->pending_count = pf->pending_capacity = 0;
}

/* The distinct key index of key, or KEY_INDEX_NONE when no rule has that key. */
static uint32_t prefilter_lookup(const struct prefilter *pf, uint64_t key)
{
	size_t slot = prefilter_slot(pf, key), slots = (size_t)1 << pf->slot_bits;

	for (; pf->slot_key[slot] != KEY_NONE; slot = (slot + 1) & (slots - 1))
		if (pf->slot_key[slot] == key)
			return pf->slot_mask[slot];
	return KEY_INDEX_NONE;
}

/* ---- The scan -------------------------------------------------------------------- */

/* The key hits of one message, to check their literals once it is read: where key
 * (a distinct key index) was seen, as the index of its last character. */
struct key_hits {
	struct {
		uint32_t key;
		uint32_t at;
	} hit[SCAN_HITS];
	size_t count;
};

/* Whether key belongs to a rule the caller asks about (most keys found do not). */
static inline int key_wanted(const struct prefilter *pf, uint32_t key, const rule_mask wanted)
{
	uint64_t useful = 0;

	if (key == KEY_INDEX_NONE)
		return 0;
	for (unsigned w = 0; w < RULE_MASK_WORDS; w++)
		useful |= pf->mask[key][w] & wanted[w];
	return useful != 0;
}

/* Marks clause as found in this scan; an alternative with every clause found may
 * match, and so its rule. */
static void mark_clause(struct prefilter *pf, uint32_t clause, rule_mask may)
{
	uint32_t alt = pf->clause_alternative[clause];
	const struct alternative *a = &pf->alternative[alt];

	if (pf->clause_seen[clause] == pf->scan_id)
		return;
	pf->clause_seen[clause] = pf->scan_id;
	if (pf->alternative_seen[alt] != pf->scan_id) {
		pf->alternative_seen[alt] = pf->scan_id;
		pf->alternative_found[alt] = 0;
	}
	if (++pf->alternative_found[alt] == a->clauses)
		may[a->rule / 64] |= 1ull << (a->rule % 64);
}

/* Marks the clauses of every literal of key, unchecked. */
static void mark_key(struct prefilter *pf, uint32_t key, rule_mask may)
{
	for (uint32_t l = pf->literal_first[key]; l < pf->literal_first[key + 1]; l++)
		mark_clause(pf, pf->literal[l].clause, may);
}

static void note_key(struct prefilter *pf, struct key_hits *kh, uint32_t key, size_t at,
                     rule_mask may)
{
	if (pf->checked && kh->count == SCAN_HITS) {
		pf->checked = 0;
		for (size_t h = 0; h < kh->count; h++)
			mark_key(pf, kh->hit[h].key, may);
	}
	if (!pf->checked) {
		mark_key(pf, key, may);
		return;
	}
	kh->hit[kh->count].key = key;
	kh->hit[kh->count].at = (uint32_t)at;
	kh->count++;
}

static inline int chars_equal(const uint32_t *a, const uint32_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Marks the clauses of the key hits' literals that occur (case-folded) in the
 * message, whose n characters are cp. */
static void check_literals(struct prefilter *pf, const struct key_hits *kh, const uint32_t *cp,
                           size_t n, rule_mask may)
{
	for (size_t h = 0; h < kh->count; h++) {
		const size_t at = kh->hit[h].at;

		int found = 0;

		for (uint32_t l = pf->literal_first[kh->hit[h].key];
		     l < pf->literal_first[kh->hit[h].key + 1]; l++) {
			const struct prefilter_literal *lit = &pf->literal[l];

			if (!lit->same_as_previous)
				found = lit->is_key ||
				        (at >= lit->back && at - lit->back + lit->len <= n &&
				         chars_equal(cp + at - lit->back, lit->ch, lit->len));
			if (found)
				mark_clause(pf, lit->clause, may);
		}
	}
}

/* Starts a scan: nothing is marked. */
static void scan_begin(struct prefilter *pf)
{
	if (++pf->scan_id == 0) { /* wrapped: forget every mark */
		memset(pf->clause_seen, 0, pf->clause_count * sizeof(*pf->clause_seen));
		memset(pf->alternative_seen, 0,
		       pf->alternative_count * sizeof(*pf->alternative_seen));
		pf->scan_id = 1;
	}
	pf->checked = 1;
}

/*
 * The characters of the message are decoded once, into cp (up to SCAN_CHARS), and
 * looked up by character and by adjacent pair; the literals of the keys found (only
 * keys of the wanted rules) are compared with cp at the end. A message with more
 * than SCAN_HITS key hits or SCAN_CHARS characters is taken on its keys alone, as if
 * every literal of a key found occurred: more alternatives may then run, and none
 * is taken as matching without PCRE2.
 */
void prefilter_scan(struct prefilter *pf, const char *text_in, size_t len, const rule_mask wanted,
                    rule_mask may)
{
	const unsigned char *text = (const unsigned char *)text_in;
	uint32_t previous = 0, cp[SCAN_CHARS];
	unsigned previous_class = 0; /* none: the first character starts no pair */
	struct key_hits kh;
	size_t i = 0, n = 0; /* bytes, characters read */

	memcpy(may, pf->always, sizeof(rule_mask));
	scan_begin(pf);
	if (pf->slot_key == NULL)
		return;
	kh.count = 0;
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
		if (n < SCAN_CHARS)
			cp[n] = c;

		cls = pf->char_class[c % CHAR_CLASS_SIZE];
		if ((cls & CLASS_SECOND) && (previous_class & CLASS_FIRST)) {
			key = prefilter_lookup(pf, KEY_PAIR | (uint64_t)previous << 21 | c);
			if (key_wanted(pf, key, wanted))
				note_key(pf, &kh, key, n, may);
		}
		if (cls & CLASS_SINGLE) {
			key = prefilter_lookup(pf, KEY_CHAR | c);
			if (key_wanted(pf, key, wanted))
				note_key(pf, &kh, key, n, may);
		}
		previous = c;
		previous_class = cls;
	}
	if (!pf->checked)
		return;
	if (n <= SCAN_CHARS) {
		check_literals(pf, &kh, cp, n, may);
		return;
	}
	pf->checked = 0; /* too long to check: its keys alone */
	for (size_t h = 0; h < kh.count; h++)
		mark_key(pf, kh.hit[h].key, may);
}

enum prefilter_verdict prefilter_verdict(const struct prefilter *pf, unsigned alt)
{
	const struct alternative *a = &pf->alternative[alt];

	if (a->clauses == 0)
		return PREFILTER_MAY;
	if (pf->alternative_seen[alt] != pf->scan_id || pf->alternative_found[alt] < a->clauses)
		return PREFILTER_CANNOT;
	return a->exact && pf->checked ? PREFILTER_DOES : PREFILTER_MAY;
}
