/*
 * Ids for (shop, agent) name-id pairs, handed out 0, 1, 2... in the order the pairs
 * are added: the index of the caller's own array of per-agent state (alerts'
 * samples, windows' series). Owns the keys and their hash index; the state is the
 * caller's.
 */
#ifndef CHATLOGD_AGENT_INDEX_H
#define CHATLOGD_AGENT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "hindex.h"

#define AGENT_INDEX_NONE HINDEX_NONE

struct agent_key {
	uint32_t shop, agent;
};

/* Zero-initialized, it is empty. */
struct agent_index {
	struct agent_key *keys; /* keys[id] */
	size_t count, capacity;
	struct hindex index;
};

/* The id of (shop, agent), or AGENT_INDEX_NONE. */
uint32_t agent_index_find(const struct agent_index *x, uint32_t shop, uint32_t agent);

/* Adds (shop, agent), which must be absent, as id x->count. Returns the id, or
 * AGENT_INDEX_NONE when the index is full (2^31 slots). */
uint32_t agent_index_add(struct agent_index *x, uint32_t shop, uint32_t agent);

/* Forgets every pair, keeping the memory: ids start again at 0. */
void agent_index_clear(struct agent_index *x);

/* Frees the memory and empties x. */
void agent_index_free(struct agent_index *x);

#endif
