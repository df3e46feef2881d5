/*
 * textfile.c owns reading a small file whole under a size limit. It knows nothing of
 * what the text means.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/textfile.h"
#include "chatlogd/util.h"

char *textfile_read(const char *path, size_t limit, size_t *len, char *err, size_t errlen)
{
	FILE *f;
	char *data;
	size_t n;

	*len = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	data = xmalloc(limit + 2);
	/* One byte past the limit tells "exactly the limit" from "more". A directory
	 * opens on Linux; its first read fails with EISDIR. */
	n = fread(data, 1, limit + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (n > limit) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, limit);
		goto fail;
	}
	fclose(f);
	data[n] = '\0';
	*len = n;
	return data;
fail:
	fclose(f);
	free(data);
	return NULL;
}
