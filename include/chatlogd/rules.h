/*
 * Lost-reason rules (reference.md §4): loading a patterns file into compiled PCRE2 rules and
 * finding the first rule that matches a message. Knows nothing about inquiries.
 */
#ifndef CHATLOGD_RULES_H
#define CHATLOGD_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct rules;

#define RULES_NONE 0xffffu

/* Loads and compiles a patterns file. Returns NULL with "FILE:LINE:COLUMN: message"
 * in err on the first bad rule (unknown scope, bad reason name, built-in reason,
 * PCRE2 compile error at its column, too many rules ...). */
struct rules *rules_load(const char *path, char *err, size_t errlen);

/* Same from memory; name is used in error messages. */
struct rules *rules_load_buffer(const char *name, const char *data, size_t len, char *err,
                                size_t errlen);

/* An empty rule set (no patterns configured). */
struct rules *rules_empty(void);

void rules_free(struct rules *r);

/* Number of rules, in file order. */
unsigned rules_count(const struct rules *r);

/* The REASON and LABEL of rule i. */
const char *rules_reason(const struct rules *r, unsigned i);
const char *rules_label(const struct rules *r, unsigned i);

/* Returns the index of the first rule below `limit` whose scope covers a message
 * from `from` (buyer: FROM_BUYER; agent: FROM_AGENT; bot: FROM_BOT; any: all; inquiry: none) and
 * whose pattern matches text; RULES_NONE when none does, or when a `skip` rule of
 * that scope (anywhere in the file) matches the text. Never returns a skip rule.
 * text must be valid UTF-8. A match that hits the match/depth/heap limit counts as
 * no match. */
unsigned rules_first_match(struct rules *r, enum record_from from, const char *text, size_t len,
                           unsigned limit);

/* The first rule of scope `inquiry`, RULES_NONE when the set has none. Such a rule is
 * never asked about a message: it reads an inquiry's transcript (transcript.h). */
unsigned rules_first_inquiry(const struct rules *r);

/* Returns the index of the first `inquiry` rule below `limit` whose pattern matches the
 * transcript text (valid UTF-8, one message per line), or RULES_NONE. */
unsigned rules_first_inquiry_match(struct rules *r, const char *text, size_t len, unsigned limit);

/* 1 when a `skip` rule whose scope covers `from` matches text: the message is no
 * evidence, and stays out of the transcript. */
int rules_skips(struct rules *r, enum record_from from, const char *text, size_t len);

/* Turns the memo of recent answers (on after a load) off or on again. Answers are
 * the same either way; tests and benchmarks compare them. */
void rules_memo(struct rules *r, int on);

/* 1 when rule i is a `skip` rule (reference.md §4: text that is no evidence, never a
 * reason). */
int rules_is_skip(const struct rules *r, unsigned i);

/* Matches that gave up at a limit since load (for logs and /metrics). */
uint64_t rules_limit_hits(const struct rules *r);

/* 1 when patterns run JIT-compiled, 0 when on the interpreter (JIT unavailable). */
int rules_jit_enabled(const struct rules *r);

#endif
