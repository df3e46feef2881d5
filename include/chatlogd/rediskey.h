/*
 * Names inside Redis key names (reference.md §6): a shop or agent name is written with
 * '%', '{', '}', ':', '*' and every byte below 0x20 percent-encoded, so no two
 * (shop, agent) pairs share a key and no name can leave its {SHOP} hash tag.
 */
#ifndef CHATLOGD_REDISKEY_H
#define CHATLOGD_REDISKEY_H

#include <stddef.h>

#include "limits.h"

/* The longest encoding of a name of LIMIT_NAME_BYTES bytes, NUL included. */
#define REDISKEY_NAME_MAX (3 * LIMIT_NAME_BYTES + 1)

/* Writes name (len bytes, may hold NUL) encoded into out, NUL-terminated, cut to
 * out_size (never mid-escape). Returns the length it needs, as snprintf does. */
size_t rediskey_escape(const char *name, size_t len, char *out, size_t out_size);

#endif
