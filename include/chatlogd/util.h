/*
 * Allocation that cannot fail: each x* wrapper calls fatal() when memory runs out,
 * so out-of-memory is handled in this one place and callers stay simple (Redis's
 * zmalloc, OpenBSD's xmalloc). Not for sizes an input chooses without a limit.
 */
#ifndef CHATLOGD_UTIL_H
#define CHATLOGD_UTIL_H

#include <stddef.h>

/* malloc(size), at least one byte. */
void *xmalloc(size_t size);

/* calloc(count, size), zeroed; at least one byte. */
void *xcalloc(size_t count, size_t size);

/* Resizes p to count elements of size, fatal when count * size overflows (as
 * OpenBSD's reallocarray). p may be NULL. */
void *xreallocarray(void *p, size_t count, size_t size);

/* A NUL-terminated copy of s. */
char *xstrdup(const char *s);

/* A NUL-terminated copy of [s, s+len); s need not be terminated and may hold NULs. */
char *xstrndup(const char *s, size_t len);

#endif
