/*
 * agent_index.c owns the (shop, agent) -> id index (agent_index.h): one way to key
 * per-agent state, where alert.c and windows.c each had their own key, hash,
 * equality and lookup.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/agent_index.h"
#include "chatlogd/util.h"

static uint64_t key_hash(uint32_t shop, uint32_t agent)
{
	return hindex_hash_ints(shop, agent);
}

static int key_equals(const void *ctx, uint32_t id)
{
	const void *const *probe = ctx;
	const struct agent_index *x = probe[0];
	const struct agent_key *key = probe[1];

	return x->keys[id].shop == key->shop && x->keys[id].agent == key->agent;
}

uint32_t agent_index_find(const struct agent_index *x, uint32_t shop, uint32_t agent)
{
	struct agent_key key = {shop, agent};
	const void *probe[2] = {x, &key};

	return hindex_find(&x->index, key_hash(shop, agent), key_equals, probe);
}

uint32_t agent_index_add(struct agent_index *x, uint32_t shop, uint32_t agent)
{
	if (x->count == x->capacity) {
		size_t capacity = x->capacity ? x->capacity * 2 : 16;
		x->keys = xreallocarray(x->keys, capacity, sizeof(*x->keys));
		x->capacity = capacity;
	}
	if (hindex_insert(&x->index, key_hash(shop, agent), (uint32_t)x->count) == -1)
		return AGENT_INDEX_NONE;
	x->keys[x->count] = (struct agent_key){shop, agent};
	return (uint32_t)x->count++;
}

void agent_index_clear(struct agent_index *x)
{
	hindex_free(&x->index);
	memset(&x->index, 0, sizeof(x->index));
	x->count = 0;
}

void agent_index_free(struct agent_index *x)
{
	hindex_free(&x->index);
	free(x->keys);
	memset(x, 0, sizeof(*x));
}
