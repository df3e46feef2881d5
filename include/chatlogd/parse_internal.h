/*
 * Between parse.c (the dispatcher behind parse.h) and the two format parsers,
 * parse_json.c and parse_regex.c. Not for other modules: they use parse.h.
 */
#ifndef CHATLOGD_PARSE_INTERNAL_H
#define CHATLOGD_PARSE_INTERNAL_H

#include <stddef.h>

#include "parse.h"
#include "record.h"
#include "utf8.h" /* both parsers check their input with utf8_valid */

struct json_parser;
struct regex_parser;

/* A JSON Lines parser: token array and string scratch, allocated once. */
struct json_parser *json_parser_new(void);
int json_parser_parse(struct json_parser *jp, const char *line, size_t len, struct record *rec,
                      char *err, size_t errlen);
void json_parser_free(struct json_parser *jp);

/* A line-regex parser from a format file (docs/input-formats.md). */
struct regex_parser *regex_parser_load(const char *path, char *err, size_t errlen);
/* The same from memory; name stands for the file in error messages. */
struct regex_parser *regex_parser_load_buffer(const char *name, const char *data, size_t len,
                                              char *err, size_t errlen);
int regex_parser_parse(struct regex_parser *rp, const char *line, size_t len, struct record *rec,
                       char *err, size_t errlen);
/* 1 when the pattern runs JIT-compiled, 0 on the interpreter. */
int regex_parser_jit_enabled(const struct regex_parser *rp);
void regex_parser_free(struct regex_parser *rp);

/* A parser over a format file held in memory (tests and fuzzing). */
struct parser *parser_new_regex_buffer(const char *name, const char *data, size_t len, char *err,
                                       size_t errlen);

/* Copies a fixed reason into err, cut to errlen. */
void parse_set_error(char *err, size_t errlen, const char *reason);

#endif
