/*
 * hindex.c owns the open-addressing hash index used by name interning, the
 * engine's buyer table and the counter tables. It stores ids, never keys.
 */
#include <stdlib.h>

#include "chatlogd/hindex.h"
#include "chatlogd/util.h"

static inline uint64_t hash_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t load32(const unsigned char *p)
{
	uint32_t w;
	memcpy(&w, p, 4);
	return w;
}

/*
 * The last 1-7 bytes of a key, at p, as a little-endian word with zeros above them:
 * the value memcpy(&w, p, len) into a zeroed w gives, read with whole loads instead.
 * The compilers turn that memcpy into a byte loop through the stack, and the 8-byte
 * reload after it stalls on store forwarding (a third of the hash's time on names).
 * Keys of 8 bytes or more read the 8 bytes ending at the key's end and shift out
 * those already hashed. The value must not change: tail.c keeps these hashes in the
 * state file as file fingerprints.
 */
static inline uint64_t tail_word(const unsigned char *p, size_t len, size_t key_len)
{
	if (key_len >= 8)
		return load64(p + len - 8) >> (64 - 8 * len);
	if (len >= 4)
		return load32(p) | (load32(p + len - 4) >> (8 * (8 - len))) << 32;
	/* 1-3 bytes: first, middle, last (some of them the same byte) */
	return (uint64_t)p[0] | (uint64_t)p[len / 2] << (8 * (len / 2)) |
	       (uint64_t)p[len - 1] << (8 * (len - 1));
}

uint64_t hindex_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	const size_t key_len = len;
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ull ^ len;

	while (len >= 8) {
		h = hash_mix(h ^ load64(p), 0xa0761d6478bd642full);
		p += 8;
		len -= 8;
	}
	if (len > 0)
		h = hash_mix(h ^ tail_word(p, len, key_len) ^ ((uint64_t)len << 56),
		             0xe7037ed1a0b428dbull);
	return hash_mix(h, 0x8ebc6af09c88c6e3ull);
}

static void slot_put(struct hindex *h, uint64_t hash, uint32_t id)
{
	size_t i = (size_t)hash & h->mask;
	while (h->slots[i].id_plus_one != 0)
		i = (i + 1) & h->mask;
	h->slots[i].id_plus_one = id + 1;
	h->slots[i].hash_low = (uint32_t)hash;
}

static void hindex_grow(struct hindex *h)
{
	size_t old_capacity = h->slots ? h->mask + 1 : 0;
	size_t capacity = old_capacity ? old_capacity * 2 : 64;
	struct hindex_slot *old = h->slots;

	h->slots = xcalloc(capacity, sizeof(*h->slots));
	h->mask = capacity - 1;
	for (size_t i = 0; i < old_capacity; i++) {
		if (old[i].id_plus_one != 0)
			slot_put(h, old[i].hash_low, old[i].id_plus_one - 1);
	}
	free(old);
}

int hindex_insert(struct hindex *h, uint64_t hash, uint32_t id)
{
	/* Keep the load under 1/2 so probe chains stay short. */
	if (h->slots == NULL || (h->count + 1) * 2 > h->mask + 1) {
		if (h->slots != NULL && h->mask + 1 > UINT32_MAX / 2)
			return -1;
		hindex_grow(h);
	}
	slot_put(h, hash, id);
	h->count++;
	return 0;
}

void hindex_remove(struct hindex *h, uint64_t hash, uint32_t id)
{
	size_t i = (size_t)hash & h->mask;

	if (h->slots == NULL)
		return;
	while (h->slots[i].id_plus_one != id + 1) {
		if (h->slots[i].id_plus_one == 0)
			return;
		i = (i + 1) & h->mask;
	}
	/* Backward-shift deletion: move later members of the chain into the hole
	 * when their home slot does not lie between the hole and them. */
	for (size_t j = i;;) {
		j = (j + 1) & h->mask;
		if (h->slots[j].id_plus_one == 0)
			break;
		size_t home = (size_t)h->slots[j].hash_low & h->mask;
		if (((j - home) & h->mask) >= ((j - i) & h->mask)) {
			h->slots[i] = h->slots[j];
			i = j;
		}
	}
	h->slots[i].id_plus_one = 0;
	h->count--;
}

void hindex_free(struct hindex *h)
{
	free(h->slots);
	h->slots = NULL;
	h->mask = 0;
	h->count = 0;
}
