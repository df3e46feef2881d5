/*
 * The jsmn-based JSON Lines parser that daemon/parse_json.c replaced, kept as a test
 * oracle (tests/oracle/parse_json_jsmn.c). Same contract as json_parser_parse().
 */
#ifndef CHATLOGD_TEST_ORACLE_PARSE_JSON_JSMN_H
#define CHATLOGD_TEST_ORACLE_PARSE_JSON_JSMN_H

#include <stddef.h>

#include "chatlogd/record.h"

struct oracle_json_parser;

/* Makes the oracle parser (token array and scratch, allocated once); NULL with a
 * reason in err. */
struct oracle_json_parser *oracle_json_parser_new(char *err, size_t errlen);

/* Parses one line exactly as chatlogd's JSON parser did before the rewrite. Returns 0
 * and fills rec, or -1 with a reason in err. rec borrows from line and the parser. */
int oracle_json_parse(struct oracle_json_parser *jp, const char *line, size_t len,
                      struct record *rec, char *err, size_t errlen);

/* Frees the parser; accepts NULL. */
void oracle_json_parser_free(struct oracle_json_parser *jp);

#endif
