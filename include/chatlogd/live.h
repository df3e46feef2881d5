/*
 * Live mode: follows the configured logs and publishes counters to Redis exactly
 * once (docs/exactly-once.md), until SIGTERM or SIGINT.
 */
#ifndef CHATLOGD_LIVE_H
#define CHATLOGD_LIVE_H

#include "config.h"

/* Re-reads the settings the way they were read at start (config file, then the
 * command-line overrides) into `fresh`, and the patterns file they name into
 * rules_path ("" for none). Returns 0, or -1 with the reason in err. */
typedef int (*live_reload_fn)(void *ctx, struct config *fresh, char *rules_path,
                              size_t rules_path_size, char *err, size_t errlen);

/* Runs the daemon. rules_path is the patterns file to use ("" or NULL: none); on
 * SIGHUP `reload` is asked for fresh settings. Returns the process exit status: 0
 * after a clean shutdown, 1 on a fatal error. */
int live_run(const struct config *cfg, const char *rules_path, live_reload_fn reload,
             void *reload_ctx);

#endif
