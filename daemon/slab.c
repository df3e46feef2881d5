/*
 * slab.c owns the engine's fixed-size item storage (slab.h). It knows nothing about
 * what the items are.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/slab.h"
#include "chatlogd/util.h"

void slab_init(struct slab *s, size_t item_size)
{
	memset(s, 0, sizeof(*s));
	s->item_size = item_size;
	s->free_head = SLAB_NONE;
}

uint32_t slab_alloc(struct slab *s, size_t link_offset)
{
	uint32_t id;

	if (s->free_head != SLAB_NONE) {
		id = s->free_head;
		memcpy(&s->free_head, (char *)slab_at(s, id) + link_offset, sizeof(uint32_t));
		return id;
	}
	if (s->used == SLAB_NONE)
		return SLAB_NONE; /* every id is taken */
	if ((s->used >> SLAB_SHIFT) == s->chunk_count) {
		s->chunks = xreallocarray(s->chunks, s->chunk_count + 1, sizeof(*s->chunks));
		s->chunks[s->chunk_count++] = xreallocarray(NULL, SLAB_SIZE, s->item_size);
	}
	return s->used++;
}

void slab_release(struct slab *s, uint32_t id, size_t link_offset)
{
	memcpy((char *)slab_at(s, id) + link_offset, &s->free_head, sizeof(uint32_t));
	s->free_head = id;
}

void slab_clear(struct slab *s)
{
	s->used = 0;
	s->free_head = SLAB_NONE;
}

void slab_free(struct slab *s)
{
	for (size_t i = 0; i < s->chunk_count; i++)
		free(s->chunks[i]);
	free(s->chunks);
	s->chunks = NULL;
	s->chunk_count = 0;
	slab_clear(s);
}
