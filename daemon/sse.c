/*
 * sse.c owns the text/event-stream framing: event names, data lines, comments, and
 * alert messages from Redis made safe to frame. Who gets the events is the
 * caller's (ctl_serve.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "chatlogd/scoreboard.h"
#include "chatlogd/sse.h"
#include "chatlogd/json_write.h"
#include "chatlogd/util.h"

void sse_event(struct evbuffer *out, const char *name, const char *data, size_t len)
{
	size_t start = 0, i;

	if (name != NULL)
		evbuffer_add_printf(out, "event: %s\n", name);
	for (i = 0; i <= len; i++) {
		if (i < len && data[i] != '\r' && data[i] != '\n')
			continue;
		evbuffer_add(out, "data: ", 6);
		evbuffer_add(out, data + start, i - start);
		evbuffer_add(out, "\n", 1);
		if (i + 1 < len && data[i] == '\r' && data[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	evbuffer_add(out, "\n", 1);
}

void sse_comment(struct evbuffer *out, const char *text)
{
	/* A comment is one line: only its first line is written. */
	evbuffer_add_printf(out, ": %.*s\n\n", (int)strcspn(text, "\r\n"), text);
}

void sse_alert(struct evbuffer *out, const char *message, size_t len)
{
	char *json = NULL;
	size_t json_len = 0;
	FILE *f;

	if (scoreboard_json_valid(message, len)) {
		json = xmalloc(len);
		for (size_t i = 0; i < len; i++)
			json[i] = message[i] == '\r' || message[i] == '\n' ? ' ' : message[i];
		json_len = len;
	} else {
		if ((f = open_memstream(&json, &json_len)) == NULL)
			return;
		json_write_string(f, message, len);
		if (fclose(f) != 0) {
			free(json);
			return;
		}
	}
	sse_event(out, "alert", json, json_len);
	free(json);
}
