/*
 * An inquiry's transcript, what a lost-reason rule of scope `inquiry` reads
 * (reference.md §4): the inquiry's messages that no skip rule left out, in the order
 * they were counted, one per line, "B:" (buyer), "A:" (agent) or "R:" (bot) first,
 * line breaks inside a message turned into spaces. It holds at most
 * LIMIT_TRANSCRIPT_BYTES: the first message that does not fit ends it.
 */
#ifndef CHATLOGD_TRANSCRIPT_H
#define CHATLOGD_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct transcript {
	uint32_t len, cap;
	uint8_t full; /* a message did not fit: nothing more is added */
	char text[];
};

/* Appends a message to *t (allocating it on first use). Senders other than buyer,
 * agent and bot add nothing. */
void transcript_append(struct transcript **t, enum record_from from, const char *text, size_t len);

/* Sets *t to the saved text (state snapshots); len must not exceed the limit. */
void transcript_restore(struct transcript **t, const char *text, size_t len, int full);

void transcript_free(struct transcript **t);

#endif
