/*
 * display.c owns how wide text prints on a terminal. It defers to wcwidth(), which
 * follows the C library's Unicode tables (emoji included), instead of keeping a table
 * of its own; it does not make text safe to print (scoreboard_display_text does).
 */
#include <locale.h>
#include <string.h>
#include <wchar.h>

#include "chatlogd/display.h"
#include "chatlogd/utf8.h"

int display_locale_init(void)
{
	return setlocale(LC_CTYPE, "C.UTF-8") != NULL ? 0 : -1;
}

size_t display_width(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t width = 0, i = 0;

	while (i < len) {
		int w;
		if (utf8_sequence_length(s + i, len - i) == 0) {
			i++;
			width++; /* a terminal shows a stray byte as one replacement mark */
			continue;
		}
		w = wcwidth((wchar_t)utf8_decode(s, len, &i));
		width += w < 0 ? 1 : (size_t)w;
	}
	return width;
}

void display_pad(FILE *out, const char *s, size_t width)
{
	size_t w = display_width(s, strlen(s));

	fputs(s, out);
	for (; w < width; w++)
		fputc(' ', out);
}
