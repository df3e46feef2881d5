/*
 * chatlogctl's JSON writer: one object on one line, with the commas placed for the
 * caller, strings escaped by json_write_string, and alert messages from Redis
 * embedded as they are stored when they are valid JSON. Part of the chatlogctl
 * program only. Nesting deeper than CTL_JSON_DEPTH is a programming error.
 */
#ifndef CHATLOGD_CTL_JSON_H
#define CHATLOGD_CTL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CTL_JSON_DEPTH 16

struct ctl_json {
	FILE *out;
	int depth;
	int started[CTL_JSON_DEPTH]; /* a member was written at this depth */
};

/* key is NULL inside arrays and for the outermost value. */
void ctl_json_init(struct ctl_json *j, FILE *out);
void ctl_json_open(struct ctl_json *j, const char *key, char brace); /* '{' or '[' */
void ctl_json_close(struct ctl_json *j, char brace);                 /* '}' or ']' */
void ctl_json_int(struct ctl_json *j, const char *key, int64_t value);
void ctl_json_text(struct ctl_json *j, const char *key, const char *text);
/* A number already spelled as JSON ("0.6667", "128.00"). */
void ctl_json_number(struct ctl_json *j, const char *key, const char *text);
/* A ratio counted in ten-thousandths (counters_format_e4) as a number, "0.6667". */
void ctl_json_e4(struct ctl_json *j, const char *key, int64_t e4);
/* An alert message from Redis: verbatim when it is valid JSON (with line breaks,
 * which can only stand between its tokens, made spaces), else as a string; null
 * when raw is NULL. */
void ctl_json_alert(struct ctl_json *j, const char *key, const char *raw, size_t len);

#endif
