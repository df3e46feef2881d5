/*
 * utf8.c owns the one definition of well-formed UTF-8 in chatlogd. It checks and
 * converts bytes; what a character means or how wide it prints is for its callers.
 * (parse_json.c keeps a SIMD pre-check of its own and falls back on utf8_valid.)
 */
#include <string.h>

#include "chatlogd/utf8.h"

/*
 * The ranges of the second byte do the work: E0 needs A0..BF (else overlong), ED
 * 80..9F (else a surrogate), F0 90..BF (overlong), F4 80..8F (past U+10FFFF); C0,
 * C1 and F5..FF never start a sequence. Three-byte sequences (CJK) are tried first.
 */
static inline size_t sequence_length(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (avail < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (!utf8_is_continuation(s[i]))
			return 0;
	return need;
}

size_t utf8_sequence_length(const unsigned char *s, size_t avail)
{
	return sequence_length(s, avail);
}

/* Every message line passes through here, so runs of ASCII are skipped eight bytes
 * at a time. */
int utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			while (i + 8 <= len) {
				uint64_t word;
				memcpy(&word, s + i, 8);
				if (word & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			while (i < len && s[i] < 0x80)
				i++;
			continue;
		}
		if ((n = sequence_length(s + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t utf8_bom_length(const char *s, size_t len)
{
	return len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}
