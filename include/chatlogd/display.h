/*
 * Terminal columns of UTF-8 text, for the tables chatlogd --output table and
 * chatlogctl print. Widths come from libc's wcwidth(), which needs a UTF-8 LC_CTYPE:
 * programs that print tables call display_locale_init() first.
 */
#ifndef CHATLOGD_DISPLAY_H
#define CHATLOGD_DISPLAY_H

#include <stddef.h>
#include <stdio.h>

/* Sets LC_CTYPE (only) to C.UTF-8, whatever the environment says, so widths do not
 * depend on the user's locale. Returns 0, or -1 when the C library lacks it; widths
 * then count each non-ASCII character as 1. */
int display_locale_init(void);

/* Terminal columns of [s, s+len): wide (CJK, most emoji) 2, combining marks and
 * zero-width characters 0; an invalid byte or an unprintable character 1. */
size_t display_width(const char *s, size_t len);

/* Writes s and then spaces up to `width` columns (none when s is wider). */
void display_pad(FILE *out, const char *s, size_t width);

#endif
