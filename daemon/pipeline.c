/*
 * pipeline.c owns batch mode's hand-off between two threads. The reader thread owns
 * the files, the line framer and the parser; the engine thread (the caller) owns the
 * engine, the rules, the names, the counts and stderr. Between them go blocks of
 * parsed lines, each holding copies of the bytes its records point into, through a
 * queue; blocks come back on a free list, so no more than BLOCKS are ever in use.
 * The reader logs nothing: a bad line or a file that cannot be read is an item in
 * the block like a record, so the engine thread logs everything in input order.
 *
 * Lost-reason rules are matched by the engine as in one-thread mode, not by the
 * reader: it skips messages of ordered inquiries and rules below the best match,
 * and with the matching on the engine's side the two threads are about even
 * (docs/benchmarks.md), while on the reader's side the reader alone is the
 * bottleneck.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/batch.h"
#include "chatlogd/pipeline.h"
#include "chatlogd/util.h"

/* 1024 parsed lines per hand-off (128 KiB of items and ~180 KiB of bytes on the
 * generated logs): a thousand lock round trips per million lines, and small enough
 * to be still in cache when the other core reads it. Four blocks: one filling, one
 * being fed, two queued to absorb jitter. */
#define BLOCK_ITEMS 1024
#define BLOCK_BYTES_PER_ITEM 256
#define BLOCKS 4

/* Room the reader keeps in a block for one line's strings beyond the line's own
 * length: a parser's default shop name, or a bad line's reason. */
#define LINE_SLACK 128

enum item_kind { ITEM_RECORD, ITEM_BAD_LINE, ITEM_FILE_ERROR };

struct item {
	uint64_t line_no;
	const char *source; /* file name (borrowed from the caller's list) */
	enum item_kind kind;
	union {
		struct record rec;  /* its strings in the block's bytes */
		const char *reason; /* a bad line's, in the block's bytes */
		struct {
			enum batch_file_error what;
			int errnum;
		} file;
	} u;
};

struct block {
	struct block *next;
	struct item *items;
	size_t count;
	uint64_t lines; /* lines framed while this block was filling, blank ones too */
	char *bytes;
	size_t used, capacity;
};

struct pipeline {
	pthread_mutex_t lock;
	pthread_cond_t filled; /* a block was queued, or the reader finished */
	pthread_cond_t freed;  /* a block came back */
	struct block *queue_head, *queue_tail;
	struct block *free_blocks;
	int finished;

	/* the reader's alone; the engine thread reads rc after joining it */
	struct block *current;
	struct parser *parser;
	char **files;
	int file_count;
	size_t max_line_bytes;
	int64_t max_ts_ms;
	const char *source;
	int rc;

	struct block blocks[BLOCKS];
};

/* ---- the queue ---- */

static void queue_filled(struct pipeline *p, struct block *b)
{
	pthread_mutex_lock(&p->lock);
	b->next = NULL;
	if (p->queue_tail != NULL)
		p->queue_tail->next = b;
	else
		p->queue_head = b;
	p->queue_tail = b;
	pthread_cond_signal(&p->filled);
	pthread_mutex_unlock(&p->lock);
}

/* The next filled block in input order; NULL once the reader finished and every
 * block it filled was taken. */
static struct block *take_filled(struct pipeline *p)
{
	struct block *b;

	pthread_mutex_lock(&p->lock);
	while (p->queue_head == NULL && !p->finished)
		pthread_cond_wait(&p->filled, &p->lock);
	if ((b = p->queue_head) != NULL && (p->queue_head = b->next) == NULL)
		p->queue_tail = NULL;
	pthread_mutex_unlock(&p->lock);
	return b;
}

static void give_back(struct pipeline *p, struct block *b)
{
	pthread_mutex_lock(&p->lock);
	b->next = p->free_blocks;
	p->free_blocks = b;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

static struct block *take_free(struct pipeline *p)
{
	struct block *b;

	pthread_mutex_lock(&p->lock);
	while (p->free_blocks == NULL)
		pthread_cond_wait(&p->freed, &p->lock);
	b = p->free_blocks;
	p->free_blocks = b->next;
	pthread_mutex_unlock(&p->lock);
	b->count = 0;
	b->lines = 0;
	b->used = 0;
	return b;
}

static void finish(struct pipeline *p)
{
	pthread_mutex_lock(&p->lock);
	p->finished = 1;
	pthread_cond_signal(&p->filled);
	pthread_mutex_unlock(&p->lock);
}

/* ---- the reader ---- */

/* The current block, handed over first for a fresh one when it has no free item or
 * less than `room` bytes free. */
static struct block *block_with_room(struct pipeline *p, size_t room)
{
	struct block *b = p->current;

	if (b->count == BLOCK_ITEMS || b->capacity - b->used < room) {
		queue_filled(p, b);
		b = p->current = take_free(p);
	}
	return b;
}

static void add_bad_line(struct pipeline *p, uint64_t line_no, const char *reason)
{
	size_t len = strlen(reason) + 1;
	struct block *b = block_with_room(p, len);
	struct item *it = &b->items[b->count++];

	it->kind = ITEM_BAD_LINE;
	it->line_no = line_no;
	it->source = p->source;
	it->u.reason = memcpy(b->bytes + b->used, reason, len);
	b->used += len;
}

static void copy_view(struct block *b, struct text_view *v)
{
	if (v->len == 0)
		return;
	v->ptr = memcpy(b->bytes + b->used, v->ptr, v->len);
	b->used += v->len;
}

static void reader_line(void *ctx, const char *line, size_t len, uint64_t line_no, int overlong)
{
	struct pipeline *p = ctx;
	struct block *b;
	struct item *it;
	struct record *rec;
	char err[LINE_SLACK];

	p->current->lines++;
	/* Parsed straight into the next item (copying a record the parser has just
	 * written stalls on store forwarding), with room behind it for the strings,
	 * which are never longer than the line but for a default shop name. */
	b = block_with_room(p, len + LINE_SLACK);
	it = &b->items[b->count];
	rec = &it->u.rec;
	switch (ingest_parse(p->parser, line, len, overlong, p->max_ts_ms, rec, err, sizeof(err))) {
	case INGEST_BLANK:
		return;
	case INGEST_BAD:
		add_bad_line(p, line_no, err);
		return;
	case INGEST_RECORD:
		break;
	}
	if (rec->shop.len + rec->buyer.len + rec->agent.len + rec->text.len + rec->order.len >
	    len + LINE_SLACK) { /* cannot happen with the shipped parsers */
		add_bad_line(p, line_no, "record longer than its line");
		return;
	}
	b->count++;
	it->kind = ITEM_RECORD;
	it->line_no = line_no;
	it->source = p->source;
	copy_view(b, &rec->shop);
	copy_view(b, &rec->buyer);
	copy_view(b, &rec->agent);
	copy_view(b, &rec->text);
	copy_view(b, &rec->order);
}

static void reader_file_error(void *ctx, enum batch_file_error what, const char *path, int errnum)
{
	struct pipeline *p = ctx;
	struct block *b = block_with_room(p, 0);
	struct item *it = &b->items[b->count++];

	it->kind = ITEM_FILE_ERROR;
	it->source = path;
	it->u.file.what = what;
	it->u.file.errnum = errnum;
}

/* ---- several files: batch_merge's sequence into blocks ---- */

static void merged_line(void *ctx)
{
	struct pipeline *p = ctx;
	p->current->lines++;
}

static void merged_record(void *ctx, const char *path, uint64_t line_no, const struct record *rec)
{
	struct pipeline *p = ctx;
	size_t len =
	    rec->shop.len + rec->buyer.len + rec->agent.len + rec->text.len + rec->order.len;
	struct block *b = block_with_room(p, len);
	struct item *it = &b->items[b->count++];

	it->kind = ITEM_RECORD;
	it->line_no = line_no;
	it->source = path;
	it->u.rec = *rec;
	copy_view(b, &it->u.rec.shop);
	copy_view(b, &it->u.rec.buyer);
	copy_view(b, &it->u.rec.agent);
	copy_view(b, &it->u.rec.text);
	copy_view(b, &it->u.rec.order);
}

static void merged_bad_line(void *ctx, const char *path, uint64_t line_no, const char *reason)
{
	struct pipeline *p = ctx;
	p->source = path;
	add_bad_line(p, line_no, reason);
}

static void *reader_main(void *arg)
{
	static const struct batch_sink into_blocks = {
	    .line = merged_line,
	    .record = merged_record,
	    .bad_line = merged_bad_line,
	    .file_error = reader_file_error,
	};
	struct pipeline *p = arg;

	p->current = take_free(p);
	if (p->file_count == 1) {
		p->source = p->files[0];
		p->rc = batch_read_lines(p->files[0], p->max_line_bytes, reader_line,
		                         reader_file_error, p);
	} else {
		p->rc = batch_merge(p->files, p->file_count, p->max_line_bytes, p->parser,
		                    p->max_ts_ms, &into_blocks, p);
	}
	queue_filled(p, p->current);
	p->current = NULL;
	finish(p);
	return NULL;
}

/* ---- the engine thread ---- */

static void feed_block(struct ingest *in, const struct block *b)
{
	in->stats.lines += b->lines;
	for (size_t i = 0; i < b->count; i++) {
		const struct item *it = &b->items[i];

		in->source = it->source;
		switch (it->kind) {
		case ITEM_RECORD:
			ingest_record(in, &it->u.rec, it->line_no);
			break;
		case ITEM_BAD_LINE:
			ingest_error(in, it->line_no, it->u.reason);
			break;
		case ITEM_FILE_ERROR:
			batch_log_file_error(it->u.file.what, it->source, it->u.file.errnum);
			break;
		}
	}
}

static void pipeline_free(struct pipeline *p)
{
	for (int i = 0; i < BLOCKS; i++) {
		free(p->blocks[i].items);
		free(p->blocks[i].bytes);
	}
	free(p);
}

static struct pipeline *pipeline_new(size_t max_line_bytes)
{
	struct pipeline *p = xcalloc(1, sizeof(*p));

	for (int i = 0; i < BLOCKS; i++) {
		struct block *b = &p->blocks[i];
		/* Any line up to the limit fits an empty block. */
		b->capacity = BLOCK_ITEMS * BLOCK_BYTES_PER_ITEM + max_line_bytes + LINE_SLACK;
		b->items = xcalloc(BLOCK_ITEMS, sizeof(*b->items));
		b->bytes = xmalloc(b->capacity);
		b->next = p->free_blocks;
		p->free_blocks = b;
	}
	return p;
}

int pipeline_run(struct ingest *in, char **files, int file_count, size_t max_line_bytes)
{
	struct pipeline *p = pipeline_new(max_line_bytes);
	pthread_t reader;
	struct block *b;
	int rc;

	p->parser = in->parser;
	p->files = files;
	p->file_count = file_count;
	p->max_line_bytes = max_line_bytes;
	p->max_ts_ms = in->max_ts_ms;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->filled, NULL);
	pthread_cond_init(&p->freed, NULL);
	if (pthread_create(&reader, NULL, reader_main, p) != 0) {
		rc = batch_read_files(in, files, file_count, max_line_bytes);
	} else {
		while ((b = take_filled(p)) != NULL) {
			feed_block(in, b);
			give_back(p, b);
		}
		pthread_join(reader, NULL);
		rc = p->rc;
	}
	pthread_cond_destroy(&p->freed);
	pthread_cond_destroy(&p->filled);
	pthread_mutex_destroy(&p->lock);
	pipeline_free(p);
	return rc;
}
