/*
 * rules_file.c owns turning a patterns file into rules the way every mode does it:
 * one reader and one limit, so a reload refuses what start-up refuses. Compiling is
 * rules.c's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "chatlogd/limits.h"
#include "chatlogd/rules.h"
#include "chatlogd/rules_file.h"
#include "chatlogd/textfile.h"
#include "chatlogd/util.h"

struct rules *rules_file_load(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct rules *rules;
	char *data;
	size_t n = 0;

	if (path == NULL || path[0] == '\0')
		data = xcalloc(1, 1);
	else if ((data = textfile_read(path, LIMIT_SETTINGS_FILE_BYTES, &n, err, errlen)) == NULL)
		return NULL;
	/* An empty file is no rules, as no file is. */
	rules = n > 0 ? rules_load_buffer(path, data, n, err, errlen) : rules_empty();
	if (rules == NULL && n == 0)
		snprintf(err, errlen, "out of memory");
	if (rules != NULL && text != NULL) {
		*text = data;
		*len = n;
	} else {
		free(data);
	}
	return rules;
}
