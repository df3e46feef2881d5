/*
 * chatlogd's JSON Lines parser built without its AVX2 index
 * (tests/oracle/parse_json_sse2.c), for tests that compare it with the normal build.
 * Same contract as json_parser_parse() in parse_internal.h.
 */
#ifndef CHATLOGD_TEST_ORACLE_PARSE_JSON_SSE2_H
#define CHATLOGD_TEST_ORACLE_PARSE_JSON_SSE2_H

#include <stddef.h>

#include "chatlogd/record.h"

struct json_parser;

struct json_parser *sse2_json_parser_new(void);
int sse2_json_parser_parse(struct json_parser *jp, const char *line, size_t len, struct record *rec,
                           char *err, size_t errlen);
void sse2_json_parser_free(struct json_parser *jp);

#endif
