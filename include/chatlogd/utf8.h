/*
 * UTF-8: validation, decoding and encoding, by RFC 3629 (no overlong forms, no
 * surrogates, nothing past U+10FFFF). Every module that checks or walks UTF-8 uses
 * these; display width is wcwidth()'s business, not this module's.
 */
#ifndef CHATLOGD_UTF8_H
#define CHATLOGD_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 when [s, s+len) is well-formed UTF-8 (NUL bytes are ASCII and allowed). */
int utf8_valid(const char *s, size_t len);

/* Length of the well-formed sequence at s (looking at most avail > 0 bytes), or 0
 * when s does not start one. */
size_t utf8_sequence_length(const unsigned char *s, size_t avail);

/* Writes cp (at most U+10FFFF) as UTF-8 to out; returns 1 to 4. A surrogate gets its
 * three bytes, which utf8_valid refuses. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* 3 when [s, s+len) starts with a UTF-8 byte order mark, else 0: the bytes to skip. */
size_t utf8_bom_length(const char *s, size_t len);

/* 1 for a continuation byte (10xxxxxx): counting the others counts characters. */
static inline int utf8_is_continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* Decodes the character at s[*i] of already valid UTF-8 and advances *i. Stops at
 * `len` even on a truncated sequence, which then reads as U+FFFD. Inline, in the
 * header: prefilter_scan calls it for every character of every message, and the call
 * cost as much as the decoding. */
static inline __attribute__((always_inline)) uint32_t utf8_decode(const unsigned char *s,
                                                                  size_t len, size_t *i)
{
	unsigned char c = s[*i];
	size_t need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	uint32_t cp;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (*i + need > len) {
		*i = len;
		return 0xfffd;
	}
	if (need == 2)
		cp = (uint32_t)(c & 0x1f) << 6 | (s[*i + 1] & 0x3fu);
	else if (need == 3)
		cp = (uint32_t)(c & 0x0f) << 12 | (s[*i + 1] & 0x3fu) << 6 | (s[*i + 2] & 0x3fu);
	else
		cp = (uint32_t)(c & 0x07) << 18 | (s[*i + 1] & 0x3fu) << 12 |
		     (s[*i + 2] & 0x3fu) << 6 | (s[*i + 3] & 0x3fu);
	*i += need;
	return cp;
}

#endif
