/*
 * Whole unsigned decimal numbers as settings, URLs, query strings and options give
 * them: digits only (no sign, blank or "0x"), at least one, held to a maximum without
 * overflow. One reader, so "", "+5" and " 5" are refused alike everywhere. Numbers
 * inside a grammar of their own (timestamps in timefmt.c, amounts in record.c, sizes
 * with units in config.c, JSON) are read by that grammar's code.
 */
#ifndef CHATLOGD_DECIMAL_H
#define CHATLOGD_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* All of [s, s+len) as a number in 0..max into *out. Returns 0, or -1 (*out unset). */
int decimal_parse(const char *s, size_t len, uint64_t max, uint64_t *out);

#endif
