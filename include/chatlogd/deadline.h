/*
 * Deadline heaps: a binary min-heap of (time, id, generation). The engine keeps one
 * per kind of deadline (close, decide, forget, wait). Entries may go stale (the item
 * changed since it was pushed): the owner checks the generation when it pops.
 */
#ifndef CHATLOGD_DEADLINE_H
#define CHATLOGD_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

struct deadline {
	int64_t at;
	uint32_t id;
	uint32_t generation;
};

struct deadline_heap {
	struct deadline *items;
	size_t count, capacity;
};

/* Adds an entry (running out of memory is fatal, util.h). */
void deadline_push(struct deadline_heap *h, int64_t at, uint32_t id, uint32_t generation);

/* 1 when the earliest entry is due before now. */
static inline int deadline_due(const struct deadline_heap *h, int64_t now)
{
	return h->count > 0 && h->items[0].at < now;
}

/* Removes and returns the earliest entry; the heap must not be empty. */
struct deadline deadline_pop(struct deadline_heap *h);

/* Frees the entries; the heap is then empty and usable. */
void deadline_free(struct deadline_heap *h);

#endif
