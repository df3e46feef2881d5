/*
 * Live mode: follows the configured logs and publishes counters to Redis exactly
 * once (docs/exactly-once.md), until SIGTERM or SIGINT.
 */
#ifndef CHATLOGD_LIVE_H
#define CHATLOGD_LIVE_H

#include "config.h"

/* Runs the daemon. rules_path is the patterns file to use ("" or NULL: none).
 * Returns the process exit status: 0 after a clean shutdown, 1 on a fatal error. */
int live_run(const struct config *cfg, const char *rules_path);

#endif
