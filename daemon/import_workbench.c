/*
 * Import workbench: cuts a copied Qianniu workbench chat into messages. A header is a
 * line ending in `YYYY-MM-DD HH:MM:SS` with a name before it, with or without a space
 * between (the copy sometimes glues them); the date has a fixed width, so a name that
 * ends in digits is still told apart from it. Lines until the next header are the
 * message's, classified by import_chat.
 */
#include <string.h>

#include "chatlogd/import_workbench.h"

#define STAMP_CHARS 19 /* YYYY-MM-DD HH:MM:SS */

static int is_stamp(const char *s)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	for (int i = 0; i < STAMP_CHARS; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return 0;
	}
	return 1;
}

/* Splits a header into name and stamp; -1 when line is not one. */
static int split_header(const char *line, size_t len, size_t *name_len)
{
	size_t n;
	if (len <= STAMP_CHARS || !is_stamp(line + len - STAMP_CHARS))
		return -1;
	n = len - STAMP_CHARS;
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	*name_len = n;
	/* Leading spaces are trimmed later; a name of spaces alone is none. */
	for (size_t i = 0; i < n; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return -1;
}

int import_workbench_is_header(const char *line, size_t len)
{
	size_t name_len;
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	return split_header(line, len, &name_len) == 0;
}

static void trim_name(const char **s, size_t *len)
{
	while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

static void parse_line(struct import_chat *chat, size_t number, const char *line, size_t len)
{
	static const char arrow[] = "-->";
	const char *name, *to;
	size_t name_len, to_len;
	int64_t ts_ms;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (split_header(line, len, &name_len) < 0) {
		import_chat_line(chat, number, line, len);
		return;
	}
	name = line;
	trim_name(&name, &name_len);
	if (import_parse_local_time(line + len - STAMP_CHARS, STAMP_CHARS, &ts_ms) < 0) {
		import_chat_bad_header(chat, number, "bad date or time in a message header");
		return;
	}
	if ((to = memmem(name, name_len, arrow, sizeof(arrow) - 1)) != NULL) {
		to += sizeof(arrow) - 1;
		to_len = (size_t)(name + name_len - to);
		trim_name(&to, &to_len);
		if (to_len == 0) {
			import_chat_bad_header(chat, number, "transfer header without a target");
			return;
		}
		import_chat_transfer_header(chat, number, to, to_len, ts_ms);
		return;
	}
	import_chat_message(chat, number, 1, name, name_len, ts_ms);
}

void import_workbench_parse(const struct import_input *input, const struct import_roles *roles,
                            struct import_batch *batch)
{
	struct import_chat *chat = import_chat_new(batch, roles);

	for (size_t i = 0; i < input->count; i++) {
		const struct import_line *line = &input->lines[i];
		if (line->bad_encoding) {
			import_batch_error(batch, i + 1, "not valid text in the file's encoding");
			import_batch_lines(batch, IMPORT_LINE_ERROR, 1);
			continue;
		}
		parse_line(chat, i + 1, line->text, line->len);
	}
	import_chat_finish(chat);
	import_chat_free(chat);
}
