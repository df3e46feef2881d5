/*
 * A batch cut into the script calls a Redis Cluster takes (docs/redis-connection.md,
 * *Redis Cluster*). A cluster runs a script only on keys of one hash slot, so the
 * operations on the keys of each hash tag (a shop's {SHOP}, or a key without one,
 * such as PREFIX:shops) go in a part of their own: its keys declared, so that a
 * slot being migrated redirects the part instead of splitting a hash between two
 * nodes, and the tag's own applied sequence PREFIX:{TAG}:instance:NAME:seq as
 * KEYS[1], so that each part is applied once whatever is re-sent. A closing part,
 * sent once every other part is acknowledged, sets the instance's sequence, which
 * the connect checks read (docs/exactly-once.md).
 */
#ifndef CHATLOGD_BATCH_PARTS_H
#define CHATLOGD_BATCH_PARTS_H

#include <stddef.h>

struct publish_batch;
struct publish_settings;

/* One EVALSHA: argv = numkeys keys (the tag's sequence key, then the operations'
 * keys), the sequence, the operations. A tag's part points into the batch's
 * arguments; the closing part, sent last, into the parts' own arena. */
struct batch_part {
	int argc, numkeys;
	const char **argv;
	size_t *argvlen;
};

struct batch_parts {
	struct batch_part *part; /* the tags' parts in tag order, then the closing part */
	int count;
	char *arena; /* the sequence keys and the sequence, owned */
	const char **argv_block;
	size_t *argvlen_block;
};

/* Splits batch b (built with s) into out. Tags' parts carry the batch's sequence
 * without strict_sequence's '=': sequences of a tag have gaps (batches that did not
 * touch it); the closing part keeps it. Returns 0, or -1 when the batch's operations
 * do not parse (out is then empty). b must not change while the tags' parts are in use. */
int batch_parts_split(const struct publish_settings *s, const struct publish_batch *b,
                      struct batch_parts *out);

void batch_parts_free(struct batch_parts *p);

/* The hash tag of a key as a Redis Cluster reads it: the bytes between the first '{'
 * and the first '}' after it when there are any, else the whole key. */
const char *batch_parts_tag(const char *key, size_t len, size_t *tag_len);

#endif
