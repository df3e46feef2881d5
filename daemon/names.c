/*
 * names.c owns name interning: an arena of NUL-terminated copies plus an index.
 * It hands out ids and names; it knows nothing of what the names mean.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/hindex.h"
#include "chatlogd/names.h"
#include "chatlogd/wire.h"
#include "chatlogd/util.h"

#define ARENA_CHUNK 65536

struct name_entry {
	const char *ptr;
	uint32_t len;
};

struct names {
	struct name_entry *entries;
	uint32_t count, capacity;
	struct hindex index;
	char **chunks; /* arena chunks holding the copies */
	size_t chunk_count;
	size_t chunk_used, chunk_size;
};

struct name_probe {
	const struct names *names;
	const char *s;
	size_t len;
};

static int name_equals(const void *ctx, uint32_t id)
{
	const struct name_probe *p = ctx;
	const struct name_entry *e = &p->names->entries[id];
	return e->len == p->len && memcmp(e->ptr, p->s, p->len) == 0;
}

static char *arena_copy(struct names *n, const char *s, size_t len)
{
	char *dst;

	if (n->chunk_count == 0 || n->chunk_used + len + 1 > n->chunk_size) {
		size_t size = len + 1 > ARENA_CHUNK ? len + 1 : ARENA_CHUNK;
		n->chunks = xreallocarray(n->chunks, n->chunk_count + 1, sizeof(*n->chunks));
		n->chunks[n->chunk_count] = xmalloc(size);
		n->chunk_count++;
		n->chunk_used = 0;
		n->chunk_size = size;
	}
	dst = n->chunks[n->chunk_count - 1] + n->chunk_used;
	memcpy(dst, s, len);
	dst[len] = '\0';
	n->chunk_used += len + 1;
	return dst;
}

struct names *names_new(void)
{
	struct names *n = xcalloc(1, sizeof(*n));

	names_intern(n, "-", 1); /* NAME_NO_AGENT: a fresh table gives ids in order */
	names_intern(n, "*", 1); /* NAME_WHOLE_SHOP */
	return n;
}

void names_free(struct names *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->chunk_count; i++)
		free(n->chunks[i]);
	free(n->chunks);
	free(n->entries);
	hindex_free(&n->index);
	free(n);
}

uint32_t names_find(const struct names *n, const char *s, size_t len)
{
	struct name_probe probe = {n, s, len};
	return hindex_find(&n->index, hindex_hash(s, len, 0), name_equals, &probe);
}

uint32_t names_intern(struct names *n, const char *s, size_t len)
{
	uint64_t hash = hindex_hash(s, len, 0);
	struct name_probe probe = {n, s, len};
	uint32_t id = hindex_find(&n->index, hash, name_equals, &probe);
	struct name_entry *e;

	if (id != HINDEX_NONE)
		return id;
	if (n->count == n->capacity) {
		uint32_t capacity = n->capacity ? n->capacity * 2 : 64;
		n->entries = xreallocarray(n->entries, capacity, sizeof(*n->entries));
		n->capacity = capacity;
	}
	e = &n->entries[n->count];
	e->ptr = arena_copy(n, s, len);
	e->len = (uint32_t)len;
	if (hindex_insert(&n->index, hash, n->count) == -1)
		return NAME_NONE;
	return n->count++;
}

const char *names_get(const struct names *n, uint32_t id)
{
	return n->entries[id].ptr;
}

size_t names_length(const struct names *n, uint32_t id)
{
	return n->entries[id].len;
}

uint32_t names_count(const struct names *n)
{
	return n->count;
}

void names_save(const struct names *n, struct wire_writer *w)
{
	wire_put_u32(w, n->count);
	for (uint32_t id = 0; id < n->count; id++)
		wire_put_bytes(w, n->entries[id].ptr, n->entries[id].len);
}

int names_load(struct names *n, struct wire_reader *r)
{
	uint32_t count = wire_get_u32(r);

	for (uint32_t id = 0; id < count && !r->failed; id++) {
		size_t len;
		const char *s = wire_get_bytes(r, &len);
		if (r->failed || names_intern(n, s, len) != id)
			return -1;
	}
	return r->failed ? -1 : 0;
}
