/*
 * json_write.c owns how a string becomes JSON text. It escapes one character at a
 * time into a piece, so the buffer and the stream writers share the rules and a
 * buffer is never cut inside an escape or a character. It does not read JSON.
 */
#include <string.h>

#include "chatlogd/json_write.h"
#include "chatlogd/utf8.h"

/* The longest piece: a 6-byte \uXXXX escape (a UTF-8 character is at most 4). */
#define PIECE_MAX 6

/* Escapes the character at s[*i] into piece and advances *i; returns its length. */
static size_t escape_piece(const unsigned char *s, size_t len, size_t *i, char *piece)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = s[*i];
	size_t n;

	if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
		piece[0] = '\\';
		piece[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
		(*i)++;
		return 2;
	}
	if (c < 0x20) {
		memcpy(piece, "\\u00", 4);
		piece[4] = hex[c >> 4];
		piece[5] = hex[c & 15];
		(*i)++;
		return 6;
	}
	if ((n = utf8_sequence_length(s + *i, len - *i)) == 0) {
		memcpy(piece, "\\ufffd", 6);
		(*i)++;
		return 6;
	}
	memcpy(piece, s + *i, n);
	*i += n;
	return n;
}

void json_write_escape(char **p, char *end, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	char piece[PIECE_MAX];
	size_t i = 0, n;

	while (i < len) {
		n = escape_piece(s, len, &i, piece);
		if ((size_t)(end - *p) <= n)
			break;
		memcpy(*p, piece, n);
		*p += n;
	}
	**p = '\0';
}

void json_write_string(FILE *out, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	char piece[PIECE_MAX];
	size_t i = 0, n;

	fputc('"', out);
	while (i < len) {
		if ((n = escape_piece(s, len, &i, piece)) == 1)
			fputc(piece[0], out);
		else
			fwrite(piece, 1, n, out);
	}
	fputc('"', out);
}
