/*
 * transcript.c builds the text an `inquiry` rule reads (transcript.h). The buffer
 * starts at the first message's size and grows by half, up to LIMIT_TRANSCRIPT_BYTES:
 * batch mode holds every inquiry to the end of its input, most of them short.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/limits.h"
#include "chatlogd/transcript.h"
#include "chatlogd/util.h"

/* Makes room for len more bytes. */
static void transcript_reserve(struct transcript **t, size_t len)
{
	size_t used = *t ? (*t)->len : 0, cap = *t ? (*t)->cap : 0;
	struct transcript *grown;

	if (*t != NULL && used + len <= cap)
		return;
	cap = used + len > cap + cap / 2 ? used + len : cap + cap / 2;
	if (cap > LIMIT_TRANSCRIPT_BYTES)
		cap = LIMIT_TRANSCRIPT_BYTES;
	grown = xreallocarray(*t, 1, sizeof(**t) + cap);
	if (*t == NULL) {
		grown->len = 0;
		grown->full = 0;
	}
	grown->cap = (uint32_t)cap;
	*t = grown;
}

void transcript_append(struct transcript **t, enum record_from from, const char *text, size_t len)
{
	char prefix = from == FROM_BUYER   ? 'B'
	              : from == FROM_AGENT ? 'A'
	              : from == FROM_BOT   ? 'R'
	                                   : 0;
	size_t used = *t ? (*t)->len : 0;
	char *out;

	if (prefix == 0 || (*t != NULL && (*t)->full))
		return;
	if (used + 2 + len + 1 > LIMIT_TRANSCRIPT_BYTES) {
		transcript_reserve(t, 0);
		(*t)->full = 1;
		return;
	}
	transcript_reserve(t, 2 + len + 1);
	out = (*t)->text + used;
	*out++ = prefix;
	*out++ = ':';
	for (size_t i = 0; i < len; i++)
		*out++ = text[i] == '\n' || text[i] == '\r' ? ' ' : text[i];
	*out = '\n';
	(*t)->len = (uint32_t)(used + 2 + len + 1);
}

void transcript_restore(struct transcript **t, const char *text, size_t len, int full)
{
	transcript_free(t);
	transcript_reserve(t, len);
	memcpy((*t)->text, text, len);
	(*t)->len = (uint32_t)len;
	(*t)->full = full != 0;
}

void transcript_free(struct transcript **t)
{
	free(*t);
	*t = NULL;
}
