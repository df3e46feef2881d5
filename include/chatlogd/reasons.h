/*
 * The lost-reason registry: reason names keep their id for the life of the
 * process, so rows stay comparable across pattern reloads. Counters index their
 * lost-reason columns by these ids (COUNTER_LOST_REASON + id); the registry knows
 * nothing about counting.
 */
#ifndef CHATLOGD_REASONS_H
#define CHATLOGD_REASONS_H

#include <stdint.h>

#include "limits.h"

/* Built-in lost reasons: their ids in the registry. */
#define REASON_NO_REPLY 0u
#define REASON_SLOW 1u
#define REASON_OTHER 2u

/* No reason: the registry is full, or nothing was chosen. */
#define REASON_NONE UINT32_MAX

struct reasons {
	char *names[LIMIT_REASONS];
	unsigned count;
};

/* Fills in the built-ins (no_reply, slow, other). */
void reasons_init(struct reasons *r);
/* Returns the id of name (copied on first sight); REASON_NONE when the registry is full. */
unsigned reasons_intern(struct reasons *r, const char *name);
void reasons_free(struct reasons *r);

struct wire_writer;
struct wire_reader;

/* State file section: the registry in id order. */
void reasons_save(const struct reasons *r, struct wire_writer *w);
/* Into a registry fresh from reasons_init; ids come back as they were. 0 or -1. */
int reasons_load(struct reasons *r, struct wire_reader *rd);

#endif
