/*
 * libFuzzer target for scoreboard.c's handling of text from Redis. The input is an
 * alert message and a name at once. Properties: whatever the bytes, the JSON string
 * written for them is valid JSON by our strict reader; a parsed alert's text fields
 * are themselves valid to write; the display text never holds a control character;
 * an input that is a valid JSON object always parses as an alert message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/json_write.h"
#include "chatlogd/scoreboard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json_string(const char *s, size_t len)
{
	char *text = NULL;
	size_t text_len = 0;
	FILE *f = open_memstream(&text, &text_len);

	if (f == NULL)
		abort();
	json_write_string(f, s, len);
	fclose(f);
	if (!scoreboard_json_valid(text, text_len))
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct scoreboard_alert alert;
	char *shown;
	int parsed, valid;

	check_json_string(s, size);
	parsed = scoreboard_alert_parse(s, size, &alert) == 0;
	valid = scoreboard_json_valid(s, size);
	if (parsed && !valid)
		abort();
	if (valid) {
		size_t i = 0;
		while (i < size && strchr(" \t\r\n", s[i]) != NULL)
			i++;
		if ((i < size && s[i] == '{') != parsed)
			abort();
	}
	if (parsed) {
		check_json_string(alert.agent, strlen(alert.agent));
		check_json_string(alert.shop, strlen(alert.shop));
		check_json_string(alert.ts, strlen(alert.ts));
	}
	if ((shown = scoreboard_display_text(s, size)) == NULL)
		abort();
	for (const unsigned char *p = (const unsigned char *)shown; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	free(shown);
	return 0;
}
