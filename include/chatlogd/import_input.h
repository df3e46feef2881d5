/*
 * Import input: one export file read whole and cut into numbered UTF-8 lines, whatever
 * its encoding (UTF-8 with or without BOM, GBK/GB18030, UTF-16 with BOM) and line ends
 * (CRLF, LF, CR). It does not know what the lines mean; the import parsers do.
 */
#ifndef CHATLOGD_IMPORT_INPUT_H
#define CHATLOGD_IMPORT_INPUT_H

#include <stddef.h>

enum import_encoding {
	IMPORT_ENCODING_AUTO, /* BOM if any, else UTF-8 if the file is valid UTF-8, else GBK */
	IMPORT_ENCODING_UTF8,
	IMPORT_ENCODING_GBK
};

/* One input line: NUL-terminated UTF-8 without its line end. A line that could not be
 * decoded has bad_encoding set and an empty text: the parsers report it as an error. */
struct import_line {
	char *text;
	size_t len;
	int bad_encoding;
};

struct import_input {
	char *name; /* as given, for FILE:LINE messages */
	struct import_line *lines;
	size_t count;                  /* line i is lines[i], line number i + 1 */
	enum import_encoding detected; /* UTF-8 or GBK (UTF-16 is reported as UTF-8) */
};

/* Reads and decodes the file at path ("-" is stdin). NULL with the reason in err when
 * it cannot be read. The caller frees with import_input_free. */
struct import_input *import_input_read(const char *path, enum import_encoding encoding, char *err,
                                       size_t errlen);

/* The same from bytes in memory (copied); name is copied too. Never NULL. */
struct import_input *import_input_from_buffer(const char *name, const char *data, size_t size,
                                              enum import_encoding encoding);

void import_input_free(struct import_input *input);

#endif
