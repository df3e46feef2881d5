/*
 * The patterns file as the daemon loads it, at start-up and on SIGHUP alike: read
 * whole (at most LIMIT_SETTINGS_FILE_BYTES) and compiled, with its text kept for the
 * snapshot and the journal, so a restart compiles the very same rules.
 */
#ifndef CHATLOGD_RULES_FILE_H
#define CHATLOGD_RULES_FILE_H

#include <stddef.h>

struct rules;

/* Reads and compiles the patterns file at path; NULL or "" means none (no rules,
 * empty text). Returns the rules, and when text is not NULL the file's text in *text
 * (the caller frees it) and its length in *len. Returns NULL with the reason in err:
 * "PATH: reason" when the file cannot be read whole (missing, a directory, larger
 * than the limit), "PATH:LINE:COLUMN: message" for a bad rule. */
struct rules *rules_file_load(const char *path, char **text, size_t *len, char *err, size_t errlen);

#endif
