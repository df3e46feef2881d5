/*
 * Import input: reads an export file whole, picks its encoding and cuts it into
 * numbered UTF-8 lines. GBK is decoded line by line with glibc's iconv (GB18030, a
 * superset of GBK), so one undecodable byte costs one line, reported with its number,
 * instead of the file. Meaning is left to the parsers.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/import_input.h"
#include "chatlogd/log.h"
#include "chatlogd/record.h"
#include "chatlogd/util.h"
#include "chatlogd/utf8.h"

/* Decodes [s, s+len) from `from` to UTF-8 into a new string. Returns NULL when a byte
 * sequence is invalid or incomplete in that encoding. */
static char *convert(const char *from, const char *s, size_t len, size_t *outlen)
{
	iconv_t cd;
	size_t cap = len * 2 + 4, left_in = len, left_out;
	char *out, *in = (char *)s, *op;

	if ((cd = iconv_open("UTF-8", from)) == (iconv_t)-1)
		fatal("iconv_open %s", from);
	out = xreallocarray(NULL, cap, 1);
	op = out;
	left_out = cap - 1;
	while (left_in > 0) {
		if (iconv(cd, &in, &left_in, &op, &left_out) != (size_t)-1)
			break;
		if (errno != E2BIG) {
			free(out);
			iconv_close(cd);
			return NULL;
		}
		size_t used = (size_t)(op - out);
		cap *= 2;
		out = xreallocarray(out, cap, 1);
		op = out + used;
		left_out = cap - 1 - used;
	}
	iconv_close(cd);
	*op = '\0';
	*outlen = (size_t)(op - out);
	return out;
}

static void add_line(struct import_input *input, size_t *cap, const char *s, size_t len, int gbk)
{
	struct import_line *line;

	if (input->count == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		input->lines = xreallocarray(input->lines, *cap, sizeof(*input->lines));
	}
	line = &input->lines[input->count++];
	line->bad_encoding = 0;
	if (!gbk) {
		line->text = xstrndup(s, len);
		line->len = len;
		line->bad_encoding = !utf8_valid(s, len);
	} else if ((line->text = convert("GB18030", s, len, &line->len)) == NULL) {
		line->text = xstrndup("", 0);
		line->len = 0;
		line->bad_encoding = 1;
	}
	/* A NUL inside a line would cut every C string made from it: the line is bad. */
	if (!line->bad_encoding && memchr(line->text, '\0', line->len) != NULL) {
		line->text[0] = '\0';
		line->len = 0;
		line->bad_encoding = 1;
	}
}

/* Cuts [data, data+size) at LF, CRLF or a lone CR. A last line without a line end
 * still counts; a file ending in a line end has no empty line after it. */
static void split_lines(struct import_input *input, const char *data, size_t size, int gbk)
{
	size_t cap = 0, start = 0, i = 0;

	while (i < size) {
		if (data[i] == '\n' || data[i] == '\r') {
			add_line(input, &cap, data + start, i - start, gbk);
			if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
				i++;
			start = ++i;
		} else {
			i++;
		}
	}
	if (start < size)
		add_line(input, &cap, data + start, size - start, gbk);
}

struct import_input *import_input_from_buffer(const char *name, const char *data, size_t size,
                                              enum import_encoding encoding)
{
	struct import_input *input;
	char *utf16 = NULL;
	int gbk = 0;

	input = xcalloc(1, sizeof(*input));
	input->name = xstrdup(name);
	if (utf8_bom_length(data, size) > 0) {
		data += 3;
		size -= 3;
	} else if (size >= 2 &&
	           ((unsigned char)data[0] == 0xFF || (unsigned char)data[0] == 0xFE) &&
	           ((unsigned char)data[1] ^ (unsigned char)data[0]) == 0x01) {
		/* Excel's "Unicode text": UTF-16 with a BOM. Decoded whole, since its
		 * line ends are two bytes; an invalid file then keeps no line. */
		size_t len = 0;
		const char *from = (unsigned char)data[0] == 0xFF ? "UTF-16LE" : "UTF-16BE";
		utf16 = convert(from, data + 2, size - 2, &len);
		data = utf16 ? utf16 : "";
		size = utf16 ? len : 0;
	} else if (encoding == IMPORT_ENCODING_GBK ||
	           (encoding == IMPORT_ENCODING_AUTO && !utf8_valid(data, size))) {
		gbk = 1;
	}
	input->detected = gbk ? IMPORT_ENCODING_GBK : IMPORT_ENCODING_UTF8;
	split_lines(input, data, size, gbk);
	free(utf16);
	return input;
}

struct import_input *import_input_read(const char *path, enum import_encoding encoding, char *err,
                                       size_t errlen)
{
	struct import_input *input;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *data = NULL;
	size_t size = 0, cap = 0, n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - size < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			data = xreallocarray(data, cap, 1);
		}
		n = fread(data + size, 1, cap - size, f);
		size += n;
	} while (n > 0);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		free(data);
		if (f != stdin)
			fclose(f);
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	input = import_input_from_buffer(path, data, size, encoding);
	free(data);
	return input;
}

void import_input_free(struct import_input *input)
{
	if (input == NULL)
		return;
	for (size_t i = 0; i < input->count; i++)
		free(input->lines[i].text);
	free(input->lines);
	free(input->name);
	free(input);
}
