/*
 * parse.c owns the `format` setting: it picks the JSON Lines or the line-regex
 * parser and forwards each line to it. The formats themselves live in
 * parse_json.c and parse_regex.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatlogd/parse.h"
#include "chatlogd/parse_internal.h"
#include "chatlogd/util.h"

#define REGEX_PREFIX "regex:"

struct parser {
	struct json_parser *json; /* exactly one of json and regex is set */
	struct regex_parser *regex;
};

void parse_set_error(char *err, size_t errlen, const char *reason)
{
	if (err == NULL || errlen == 0)
		return;
	size_t n = strlen(reason);
	if (n >= errlen)
		n = errlen - 1;
	memcpy(err, reason, n);
	err[n] = '\0';
}

/*
 * `regex:NAME` with a bare NAME that is not a file in the working directory
 * falls back to the installed preset DATADIR/formats/NAME.re, so
 * `format = regex:tsv` works without knowing where presets are installed.
 */
static struct regex_parser *load_regex(const char *file, char *err, size_t errlen)
{
#ifdef CHATLOGD_DATADIR
	size_t len = strlen(file);
	if (strchr(file, '/') == NULL && access(file, F_OK) != 0) {
		char preset[4096];
		int has_suffix = len > 3 && strcmp(file + len - 3, ".re") == 0;
		int n = snprintf(preset, sizeof(preset), "%s/formats/%s%s", CHATLOGD_DATADIR, file,
		                 has_suffix ? "" : ".re");
		if (n > 0 && (size_t)n < sizeof(preset) && access(preset, F_OK) == 0)
			return regex_parser_load(preset, err, errlen);
	}
#endif
	return regex_parser_load(file, err, errlen);
}

struct parser *parser_new(const char *format, char *err, size_t errlen)
{
	struct parser *p = xcalloc(1, sizeof(*p));

	if (strcmp(format, "json") == 0) {
		p->json = json_parser_new();
	} else if (strncmp(format, REGEX_PREFIX, strlen(REGEX_PREFIX)) == 0 &&
	           format[strlen(REGEX_PREFIX)] != '\0') {
		p->regex = load_regex(format + strlen(REGEX_PREFIX), err, errlen);
	} else {
		snprintf(err, errlen, "unknown format \"%s\" (want json or regex:FILE)", format);
		free(p);
		return NULL;
	}
	if (p->json == NULL && p->regex == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

struct parser *parser_new_regex_buffer(const char *name, const char *data, size_t len, char *err,
                                       size_t errlen)
{
	struct parser *p = xcalloc(1, sizeof(*p));

	if ((p->regex = regex_parser_load_buffer(name, data, len, err, errlen)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

int parser_parse(struct parser *p, const char *line, size_t len, struct record *rec, char *err,
                 size_t errlen)
{
	if (p->json != NULL)
		return json_parser_parse(p->json, line, len, rec, err, errlen);
	return regex_parser_parse(p->regex, line, len, rec, err, errlen);
}

void parser_free(struct parser *p)
{
	if (p == NULL)
		return;
	json_parser_free(p->json);
	regex_parser_free(p->regex);
	free(p);
}
