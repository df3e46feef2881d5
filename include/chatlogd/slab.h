/*
 * Slabs: fixed-size items in chunks that never move, named by small integer ids
 * ((chunk << SLAB_SHIFT) | slot), with a free list threaded through the items. The
 * engine keeps inquiries and (shop, buyer) pairs in them: no allocation per record.
 */
#ifndef CHATLOGD_SLAB_H
#define CHATLOGD_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SLAB_SHIFT 12
#define SLAB_SIZE (1u << SLAB_SHIFT)
#define SLAB_NONE UINT32_MAX

struct slab {
	void **chunks;
	size_t chunk_count;
	size_t item_size;
	uint32_t used;      /* ids handed out so far */
	uint32_t free_head; /* recycled ids, SLAB_NONE when none */
};

/* An empty slab of items of item_size bytes (at least 4: the free-list link). */
void slab_init(struct slab *s, size_t item_size);

/* The item of id; inline: it is on every record's path. */
static inline void *slab_at(const struct slab *s, uint32_t id)
{
	return (char *)s->chunks[id >> SLAB_SHIFT] + (size_t)(id & (SLAB_SIZE - 1)) * s->item_size;
}

/* A free id (its item's contents undefined), or SLAB_NONE when every id is taken.
 * The free list threads through the uint32_t field at link_offset of free items. */
uint32_t slab_alloc(struct slab *s, size_t link_offset);

/* Gives id back; its item's link_offset field becomes the free-list link. */
void slab_release(struct slab *s, uint32_t id, size_t link_offset);

/* Forgets every item at once, keeping the chunks for reuse. */
void slab_clear(struct slab *s);

/* Frees the chunks. */
void slab_free(struct slab *s);

#endif
