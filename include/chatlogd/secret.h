/*
 * Secrets kept in files (the Redis password, a robot's signing secret): the first line
 * of a regular file, read without leaving copies behind, with a warning when other
 * users may read the file.
 */
#ifndef CHATLOGD_SECRET_H
#define CHATLOGD_SECRET_H

#include <stddef.h>

/* Reads the first line of path (without its line ending) into out, NUL-terminated.
 * `what` names the secret in messages ("password", "secret"), `who` the reader in the
 * log ("redis", "webhook"). Returns its length, or -1 with "PATH: reason" in err (no
 * such file, not a regular file, unreadable, longer than out_size - 1 bytes, or an
 * empty first line). */
int secret_read_file(const char *path, const char *what, const char *who, char *out,
                     size_t out_size, char *err, size_t errlen);

#endif
