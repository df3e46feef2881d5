/*
 * batch_parts.c reads a batch's operations (publish.c's grammar, which the apply
 * script reads too) only to group them by hash tag; it writes no operation of its
 * own. Parts are deterministic: the same batch always gives the same parts, so a
 * re-sent part is the one Redis may have applied already.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/batch_parts.h"
#include "chatlogd/publish.h"
#include "chatlogd/util.h"

struct op {
	int start, end; /* its arguments: [start, end) of the batch's argv */
	const char *tag;
	size_t tag_len;
	int declares_key; /* P names a channel, which is no key */
};

const char *batch_parts_tag(const char *key, size_t len, size_t *tag_len)
{
	const char *open = memchr(key, '{', len), *close;

	if (open != NULL) {
		close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
		if (close != NULL && close > open + 1) {
			*tag_len = (size_t)(close - open - 1);
			return open + 1;
		}
	}
	*tag_len = len;
	return key;
}

static int count_at(const struct publish_batch *b, int i)
{
	char *end;
	long n;

	if (i >= b->argc)
		return -1;
	n = strtol(b->argv[i], &end, 10);
	return end == b->argv[i] || *end != '\0' || n < 0 || n > b->argc ? -1 : (int)n;
}

/* The end of the operation at argv[i], as the apply script steps over it; -1 when it
 * does not parse. */
static int op_end(const struct publish_batch *b, int i)
{
	int n;

	if (b->argvlen[i] != 1 || i + 1 >= b->argc)
		return -1;
	switch (b->argv[i][0]) {
	case 'I': /* KEY TTL N FIELD VALUE ... */
		n = count_at(b, i + 3);
		return n < 0 ? -1 : i + 4 + 2 * n;
	case 'W': /* KEY N FIELD VALUE ... */
		n = count_at(b, i + 2);
		return n < 0 ? -1 : i + 3 + 2 * n;
	case 'S': /* KEY N MEMBER ... */
		n = count_at(b, i + 2);
		return n < 0 ? -1 : i + 3 + n;
	case 'H': /* KEY FIELD VALUE */
	case 'O': /* KEY INSTANCE TTL */
		return i + 4;
	case 'D':
	case 'X':
	case 'P':
	case 'Q': /* KEY INSTANCE */
		return i + 3;
	case 'K':
		return i + 2;
	}
	return -1;
}

static int compare_ops(const void *pa, const void *pb)
{
	const struct op *a = pa, *b = pb;
	size_t n = a->tag_len < b->tag_len ? a->tag_len : b->tag_len;
	int c = memcmp(a->tag, b->tag, n);

	if (c != 0)
		return c;
	if (a->tag_len != b->tag_len)
		return a->tag_len < b->tag_len ? -1 : 1;
	return a->start < b->start ? -1 : 1; /* a tag's operations keep their order */
}

static int same_tag(const struct op *a, const struct op *b)
{
	return a->tag_len == b->tag_len && memcmp(a->tag, b->tag, a->tag_len) == 0;
}

/* Appends s to the arena (NUL-terminated) and returns its offset. */
static size_t arena_put(char *arena, size_t *used, const char *s, size_t len)
{
	size_t at = *used;

	memcpy(arena + at, s, len);
	arena[at + len] = '\0';
	*used += len + 1;
	return at;
}

int batch_parts_split(const struct publish_settings *s, const struct publish_batch *b,
                      struct batch_parts *out)
{
	const char *seq = b->argc > 1 ? b->argv[1] : "";
	size_t seq_len = b->argc > 1 ? b->argvlen[1] : 0, plain_len, prefix_len, instance_len;
	size_t arena_bytes, arena_used = 0, plain_at, closing_key_at, closing_seq_at, *key_at;
	struct op *ops;
	int nops = 0, groups = 0, slots = 0, next;

	memset(out, 0, sizeof(*out));
	if (b->argc < 2)
		return -1;
	ops = xreallocarray(NULL, (size_t)b->argc, sizeof(*ops));
	for (int i = 2; i < b->argc; i = next) {
		if ((next = op_end(b, i)) == -1 || next > b->argc) {
			free(ops);
			return -1;
		}
		ops[nops] =
		    (struct op){.start = i, .end = next, .declares_key = b->argv[i][0] != 'P'};
		ops[nops].tag =
		    batch_parts_tag(b->argv[i + 1], b->argvlen[i + 1], &ops[nops].tag_len);
		nops++;
	}
	qsort(ops, (size_t)nops, sizeof(*ops), compare_ops);

	/* Sizes: per part its sequence key and the sequence; per op its key and args. */
	prefix_len = strlen(s->prefix);
	instance_len = strlen(s->instance);
	plain_len = seq_len > 0 && seq[0] == '=' ? seq_len - 1 : seq_len;
	arena_bytes = plain_len + 1 + b->argvlen[0] + 1 + seq_len + 1;
	for (int k = 0; k < nops; k++) {
		if (k == 0 || !same_tag(&ops[k], &ops[k - 1])) {
			groups++;
			arena_bytes += prefix_len + ops[k].tag_len + instance_len + 20;
		}
		slots += ops[k].declares_key + (ops[k].end - ops[k].start);
	}
	slots += 2 * groups + 2;
	out->part = xreallocarray(NULL, (size_t)groups + 1, sizeof(*out->part));
	out->argv_block = xreallocarray(NULL, (size_t)slots, sizeof(*out->argv_block));
	out->argvlen_block = xreallocarray(NULL, (size_t)slots, sizeof(*out->argvlen_block));
	out->arena = xmalloc(arena_bytes);
	key_at = xreallocarray(NULL, (size_t)groups + 1, sizeof(*key_at));

	/* The arena first (it may not move once pointed into): the sequence, the keys. */
	plain_at = arena_put(out->arena, &arena_used, seq + (seq_len - plain_len), plain_len);
	closing_key_at = arena_put(out->arena, &arena_used, b->argv[0], b->argvlen[0]);
	closing_seq_at = arena_put(out->arena, &arena_used, seq, seq_len);
	for (int k = 0, g = 0; k < nops; k++) {
		if (k > 0 && same_tag(&ops[k], &ops[k - 1]))
			continue;
		key_at[g++] = arena_used;
		memcpy(out->arena + arena_used, s->prefix, prefix_len);
		arena_used += prefix_len;
		out->arena[arena_used++] = ':';
		out->arena[arena_used++] = '{';
		memcpy(out->arena + arena_used, ops[k].tag, ops[k].tag_len);
		arena_used += ops[k].tag_len;
		memcpy(out->arena + arena_used, "}:instance:", 11);
		arena_used += 11;
		memcpy(out->arena + arena_used, s->instance, instance_len);
		arena_used += instance_len;
		memcpy(out->arena + arena_used, ":seq", 5);
		arena_used += 5;
	}

	int used = 0;
	for (int k = 0, g = 0; k < nops; g++) {
		struct batch_part *p = &out->part[g];
		const char **argv = out->argv_block + used;
		size_t *argvlen = out->argvlen_block + used;
		int first = k, n = 0;

		argv[n] = out->arena + key_at[g];
		argvlen[n++] = strlen(argv[0]);
		for (k = first; k < nops && same_tag(&ops[k], &ops[first]); k++)
			if (ops[k].declares_key) {
				argv[n] = b->argv[ops[k].start + 1];
				argvlen[n++] = b->argvlen[ops[k].start + 1];
			}
		p->numkeys = n;
		argv[n] = out->arena + plain_at;
		argvlen[n++] = plain_len;
		for (int j = first; j < k; j++)
			for (int a = ops[j].start; a < ops[j].end; a++) {
				argv[n] = b->argv[a];
				argvlen[n++] = b->argvlen[a];
			}
		p->argc = n;
		p->argv = argv;
		p->argvlen = argvlen;
		used += n;
	}
	/* The closing part: no operation, the instance's sequence as the batch has it; in
	 * the arena, since it goes out after the others are answered. */
	out->part[groups] = (struct batch_part){.argc = 2,
	                                        .numkeys = 1,
	                                        .argv = out->argv_block + used,
	                                        .argvlen = out->argvlen_block + used};
	out->argv_block[used] = out->arena + closing_key_at;
	out->argvlen_block[used] = b->argvlen[0];
	out->argv_block[used + 1] = out->arena + closing_seq_at;
	out->argvlen_block[used + 1] = seq_len;
	out->count = groups + 1;
	free(key_at);
	free(ops);
	return 0;
}

void batch_parts_free(struct batch_parts *p)
{
	if (p == NULL)
		return;
	free(p->part);
	free(p->arena);
	free(p->argv_block);
	free(p->argvlen_block);
	memset(p, 0, sizeof(*p));
}
