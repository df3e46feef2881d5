/*
 * deadline.c owns the binary min-heaps of deadlines (deadline.h). What a deadline
 * means, and whether a popped one is stale, is the caller's.
 */
#include <stdlib.h>

#include "chatlogd/deadline.h"
#include "chatlogd/util.h"

void deadline_push(struct deadline_heap *h, int64_t at, uint32_t id, uint32_t generation)
{
	size_t i;

	if (h->count == h->capacity) {
		size_t capacity = h->capacity ? h->capacity * 2 : 16;
		h->items = xreallocarray(h->items, capacity, sizeof(*h->items));
		h->capacity = capacity;
	}
	i = h->count++;
	while (i > 0 && h->items[(i - 1) / 2].at > at) {
		h->items[i] = h->items[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->items[i] = (struct deadline){at, id, generation};
}

struct deadline deadline_pop(struct deadline_heap *h)
{
	struct deadline top = h->items[0];
	struct deadline last = h->items[--h->count];
	size_t i = 0;

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->count)
			break;
		if (child + 1 < h->count && h->items[child + 1].at < h->items[child].at)
			child++;
		if (h->items[child].at >= last.at)
			break;
		h->items[i] = h->items[child];
		i = child;
	}
	if (h->count > 0)
		h->items[i] = last;
	return top;
}

void deadline_free(struct deadline_heap *h)
{
	free(h->items);
	h->items = NULL;
	h->count = h->capacity = 0;
}
