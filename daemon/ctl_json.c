/*
 * ctl_json.c owns the layout of chatlogctl's JSON: commas, nesting, and which
 * texts are copied verbatim. What the members are is chatlogctl.c's business.
 */
#include <inttypes.h>
#include <string.h>

#include "chatlogd/counters.h"
#include "chatlogd/ctl_json.h"
#include "chatlogd/scoreboard.h"
#include "chatlogd/json_write.h"

void ctl_json_init(struct ctl_json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static void ctl_json_member(struct ctl_json *j, const char *key)
{
	if (j->started[j->depth])
		fputs(", ", j->out);
	j->started[j->depth] = 1;
	if (key != NULL) {
		json_write_string(j->out, key, strlen(key));
		fputs(": ", j->out);
	}
}

void ctl_json_open(struct ctl_json *j, const char *key, char brace)
{
	ctl_json_member(j, key);
	fputc(brace, j->out);
	if (j->depth + 1 < CTL_JSON_DEPTH)
		j->depth++;
	j->started[j->depth] = 0;
}

void ctl_json_close(struct ctl_json *j, char brace)
{
	if (j->depth > 0)
		j->depth--;
	fputc(brace, j->out);
}

void ctl_json_int(struct ctl_json *j, const char *key, int64_t value)
{
	ctl_json_member(j, key);
	fprintf(j->out, "%" PRId64, value);
}

void ctl_json_text(struct ctl_json *j, const char *key, const char *text)
{
	ctl_json_member(j, key);
	json_write_string(j->out, text, strlen(text));
}

void ctl_json_number(struct ctl_json *j, const char *key, const char *text)
{
	ctl_json_member(j, key);
	fputs(text, j->out);
}

void ctl_json_e4(struct ctl_json *j, const char *key, int64_t e4)
{
	char text[32];

	ctl_json_number(j, key, counters_format_e4(e4, text, sizeof(text)));
}

void ctl_json_alert(struct ctl_json *j, const char *key, const char *raw, size_t len)
{
	ctl_json_member(j, key);
	if (raw == NULL) {
		fputs("null", j->out);
		return;
	}
	if (!scoreboard_json_valid(raw, len)) {
		json_write_string(j->out, raw, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		fputc(raw[i] == '\n' || raw[i] == '\r' ? ' ' : raw[i], j->out);
}
