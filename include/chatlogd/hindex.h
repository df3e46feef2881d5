/*
 * An open-addressing index from hashes to 32-bit ids. The caller keeps the keys
 * (in its own arrays) and tells whether an id's key equals the probe; the index
 * only stores id and hash. Lookups are inline so the equality test inlines too.
 */
#ifndef CHATLOGD_HINDEX_H
#define CHATLOGD_HINDEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HINDEX_NONE UINT32_MAX

struct hindex_slot {
	uint32_t id_plus_one; /* 0 = empty */
	uint32_t hash_low;
};

struct hindex {
	struct hindex_slot *slots;
	size_t mask; /* capacity - 1; a power of two, at most 2^32 so hash_low holds the home */
	size_t count;
};

/* A fast 64-bit hash of bytes (not for hostile-collision resistance: keys are
 * bounded names, and the table degrades to linear probing, never fails). */
uint64_t hindex_hash(const void *data, size_t len, uint64_t seed);

/* A hash of a key made of two integers (ids, a minute) in one multiply, inline: for
 * hot lookups where hindex_hash's call and three multiplies show. In-memory tables
 * only (its values may change). The product collapses to 0 only when an operand
 * equals its constant: ids near 2^31, or a minute no int64 millisecond time reaches;
 * a table would then still work, by linear probing. */
static inline uint64_t hindex_hash_ints(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)(a ^ 0x9e3779b97f4a7c15ull) * (b ^ 0xa0761d6478bd642full);
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Returns the id whose key `eq` accepts, or HINDEX_NONE. */
static inline uint32_t hindex_find(const struct hindex *h, uint64_t hash,
                                   int (*eq)(const void *ctx, uint32_t id), const void *ctx)
{
	if (h->slots == NULL)
		return HINDEX_NONE;
	for (size_t i = (size_t)hash & h->mask;; i = (i + 1) & h->mask) {
		const struct hindex_slot *s = &h->slots[i];
		if (s->id_plus_one == 0)
			return HINDEX_NONE;
		if (s->hash_low == (uint32_t)hash && eq(ctx, s->id_plus_one - 1))
			return s->id_plus_one - 1;
	}
}

/* Adds id under hash (the caller checked it is absent). Returns 0, or -1 when the
 * index already has 2^31 slots (out of memory is fatal, util.h). The low 32 bits of the hash stored
 * per slot are enough to find any entry's home slot again, so growing and removing never ask the
 * owner. */
int hindex_insert(struct hindex *h, uint64_t hash, uint32_t id);

/* Removes id (stored under hash) keeping probe chains intact. */
void hindex_remove(struct hindex *h, uint64_t hash, uint32_t id);

void hindex_free(struct hindex *h);

#endif
