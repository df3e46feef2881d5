/*
 * Line parsers: turn one input line into a struct record (reference.md §1). Two formats
 * share this interface: JSON Lines (default) and line-regex (`regex:FILE`, §2.2).
 * A parser owns scratch memory the record's strings may point into.
 */
#ifndef CHATLOGD_PARSE_H
#define CHATLOGD_PARSE_H

#include <stddef.h>

#include "record.h"

struct parser;

/* Makes a parser for a `format` setting: "json" or "regex:FILE". Returns NULL with
 * a reason in err ("FILE:LINE:COLUMN: message" for pattern errors). */
struct parser *parser_new(const char *format, char *err, size_t errlen);

/* Parses one line (no trailing newline; a trailing '\r' is the caller's to strip).
 * Returns 0 and fills rec, or -1 with a short reason in err ("bad JSON",
 * "missing buyer", "bad timestamp", "invalid UTF-8", ...). rec's strings borrow from
 * line and from the parser, valid until the next call. */
int parser_parse(struct parser *p, const char *line, size_t len, struct record *rec, char *err,
                 size_t errlen);

/* Frees the parser; accepts NULL. */
void parser_free(struct parser *p);

#endif
