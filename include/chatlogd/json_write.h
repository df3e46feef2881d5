/*
 * Writing JSON strings: the one escaping rule set of every JSON chatlogd writes
 * (reports, alerts, webhook bodies, chatlogctl, the dashboard's events). '"' and
 * '\' are escaped, \n \r \t by their short forms, other control characters as
 * \u00XX, and bytes that are not valid UTF-8 become \ufffd, so the output is always
 * valid JSON in valid UTF-8; valid UTF-8 (and DEL) passes as it is.
 */
#ifndef CHATLOGD_JSON_WRITE_H
#define CHATLOGD_JSON_WRITE_H

#include <stddef.h>
#include <stdio.h>

/* Appends [s, s+len) escaped (the inside of a JSON string, no quotes) at *p, whole
 * characters and escapes only, leaving room for the NUL at end - 1; advances *p and
 * NUL-terminates. What does not fit is dropped. Needs *p < end. */
void json_write_escape(char **p, char *end, const char *s, size_t len);

/* Writes [s, s+len) to out as a quoted JSON string. */
void json_write_string(FILE *out, const char *s, size_t len);

#endif
