/*
 * The literal prefilter of the lost-reason rules: from the literal words a pattern
 * requires, which rules, and which of their top-level alternatives, can match a
 * message at all, and which surely do. It reads patterns as text and never runs one:
 * rules.c compiles them and runs PCRE2 where this module cannot decide.
 */
#ifndef CHATLOGD_PREFILTER_H
#define CHATLOGD_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"

/* A set of rules as a bitmap, one bit per rule index. */
#define RULE_MASK_WORDS ((LIMIT_RULES + 63) / 64)
typedef uint64_t rule_mask[RULE_MASK_WORDS];

struct prefilter;

/* What the last scan says of one alternative of a rule. */
enum prefilter_verdict {
	PREFILTER_CANNOT, /* a word every match of it contains is not in the text */
	PREFILTER_MAY,    /* PCRE2 must tell */
	PREFILTER_DOES,   /* it matches: it is nothing but words, and one is in the text */
};

/* An empty prefilter; add every rule, then build it. */
struct prefilter *prefilter_new(void);

void prefilter_free(struct prefilter *pf);

/* Reads the pattern of the next rule (rule 0 first, in file order) and returns the
 * number of alternatives it keeps of it: the top-level alternatives of the pattern,
 * or 1 when it keeps the pattern whole. -1 past LIMIT_RULES rules. */
int prefilter_add_rule(struct prefilter *pf, const char *pattern, size_t len);

/* Builds the lookup table once every rule is added. */
void prefilter_build(struct prefilter *pf);

/* The alternatives of rule, as indices [*first, *end) for prefilter_verdict. */
void prefilter_alternatives(const struct prefilter *pf, unsigned rule, unsigned *first,
                            unsigned *end);

/* Where alternative alt is in its rule's pattern: *guard_len bytes of start guard
 * at the pattern's start ((?=[...]), which every alternative keeps), and the
 * alternative at [*offset, *offset + *len). "GUARD(?:ALTERNATIVE)" matches exactly
 * where the rule's whole pattern matches through this alternative. */
void prefilter_alternative_span(const struct prefilter *pf, unsigned alt, size_t *guard_len,
                                size_t *offset, size_t *len);

/* Reads text (valid UTF-8) for the rules in wanted and sets in may those of them
 * with an alternative that may match it; the others cannot. Until the next scan,
 * prefilter_verdict tells about each alternative of the wanted rules. A prefilter
 * keeps its last scan: one thread at a time. */
void prefilter_scan(struct prefilter *pf, const char *text, size_t len, const rule_mask wanted,
                    rule_mask may);

/* The verdict of the last scan on alternative alt of a wanted rule. */
enum prefilter_verdict prefilter_verdict(const struct prefilter *pf, unsigned alt);

#endif
