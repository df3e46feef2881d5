/*
 * Interned names (shops, agents): each distinct byte string gets a small stable id,
 * so the engine and counter tables key on integers. Names are never forgotten, which
 * suits shops and agents (few, long-lived); buyers are not interned here.
 */
#ifndef CHATLOGD_NAMES_H
#define CHATLOGD_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct names;

/* Ids every table has: "-" (no agent) and "*" (the whole shop). */
#define NAME_NO_AGENT 0u
#define NAME_WHOLE_SHOP 1u

/* Not a name: unknown to names_find, or names_intern past the table's id limit. */
#define NAME_NONE UINT32_MAX

/* Creates a table holding "-" and "*" as ids 0 and 1. */
struct names *names_new(void);

void names_free(struct names *n);

/* Returns the id of s (copied on first sight), or NAME_NONE when the table is full. */
uint32_t names_intern(struct names *n, const char *s, size_t len);

/* Returns the id of s if known, else NAME_NONE. */
uint32_t names_find(const struct names *n, const char *s, size_t len);

/* The NUL-terminated name of id (borrowed, valid for the table's life). */
const char *names_get(const struct names *n, uint32_t id);
size_t names_length(const struct names *n, uint32_t id);

uint32_t names_count(const struct names *n);

struct wire_writer;
struct wire_reader;

/* Writes every name in id order. */
void names_save(const struct names *n, struct wire_writer *w);

/* Reads names written by names_save into a fresh table (from names_new), giving each
 * the id it had. Returns 0, or -1 on a malformed or inconsistent section. */
int names_load(struct names *n, struct wire_reader *r);

#endif
