/*
 * util.c owns the allocation policy: running out of memory is fatal, here and
 * nowhere else. Zero sizes are rounded up to one byte so a NULL return always means
 * failure, whatever the libc.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/log.h"
#include "chatlogd/util.h"

void *xmalloc(size_t size)
{
	void *p;

	if ((p = malloc(size ? size : 1)) == NULL)
		fatal("malloc %zu bytes", size);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p;

	if (count == 0 || size == 0)
		count = size = 1;
	if ((p = calloc(count, size)) == NULL)
		fatal("calloc %zu x %zu bytes", count, size);
	return p;
}

void *xreallocarray(void *p, size_t count, size_t size)
{
	void *grown;

	if (count == 0 || size == 0)
		count = size = 1;
	if ((grown = reallocarray(p, count, size)) == NULL)
		fatal("reallocarray %zu x %zu bytes", count, size);
	return grown;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}
