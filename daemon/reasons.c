/*
 * reasons.c owns the lost-reason registry: names to stable ids, and its section of
 * the state file. Which rule gives a reason is rules.c's job; counting is counters.c's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/reasons.h"
#include "chatlogd/wire.h"
#include "chatlogd/util.h"

void reasons_init(struct reasons *r)
{
	memset(r, 0, sizeof(*r));
	/* An empty registry gives ids in order: REASON_NO_REPLY, REASON_SLOW, REASON_OTHER. */
	reasons_intern(r, "no_reply");
	reasons_intern(r, "slow");
	reasons_intern(r, "other");
}

unsigned reasons_intern(struct reasons *r, const char *name)
{
	for (unsigned i = 0; i < r->count; i++)
		if (strcmp(r->names[i], name) == 0)
			return i;
	if (r->count == LIMIT_REASONS)
		return REASON_NONE;
	r->names[r->count] = xstrdup(name);
	return r->count++;
}

void reasons_free(struct reasons *r)
{
	for (unsigned i = 0; i < r->count; i++)
		free(r->names[i]);
	r->count = 0;
}

void reasons_save(const struct reasons *r, struct wire_writer *w)
{
	wire_put_u32(w, r->count);
	for (unsigned i = 0; i < r->count; i++)
		wire_put_bytes(w, r->names[i], strlen(r->names[i]));
}

int reasons_load(struct reasons *r, struct wire_reader *rd)
{
	uint32_t count = wire_get_u32(rd);

	for (uint32_t i = 0; i < count && !rd->failed; i++) {
		size_t len;
		const char *s = wire_get_bytes(rd, &len);
		char name[LIMIT_REASON_BYTES + 1];
		if (rd->failed || len > LIMIT_REASON_BYTES || memchr(s, '\0', len) != NULL)
			return -1;
		memcpy(name, s, len);
		name[len] = '\0';
		if (reasons_intern(r, name) != i)
			return -1;
	}
	return rd->failed ? -1 : 0;
}
