/*
 * The two clocks the daemon reads, in milliseconds: the monotonic one for timers,
 * rate limits and ages (it never jumps), the wall clock for what a person or Redis
 * sees as a time. One place, so every module rounds them the same way.
 */
#ifndef CHATLOGD_CLOCK_H
#define CHATLOGD_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms: only differences between two readings mean anything. */
int64_t clock_monotonic_ms(void);

/* CLOCK_REALTIME in ms since the Unix epoch. */
int64_t clock_wall_ms(void);

#endif
