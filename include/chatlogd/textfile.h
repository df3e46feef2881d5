/*
 * Small text files read whole: the settings file, the patterns file, a format file.
 * One reader, so every caller refuses the same things the same way (a directory, a
 * file past its limit) instead of silently reading nothing or a prefix.
 */
#ifndef CHATLOGD_TEXTFILE_H
#define CHATLOGD_TEXTFILE_H

#include <stddef.h>

/* Reads all of path into a new NUL-terminated buffer (the caller frees it) and its
 * length into *len. Returns NULL with "PATH: reason" in err when it cannot be opened
 * or read (a directory reads as "Is a directory") or holds more than limit bytes
 * ("PATH: larger than LIMIT bytes"): a prefix is never returned. */
char *textfile_read(const char *path, size_t limit, size_t *len, char *err, size_t errlen);

#endif
