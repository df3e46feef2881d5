/*
 * Import batch: the records one chatlogd-import run produces, their stable ids, the
 * tally of what every input line was, and the JSON Lines written from them. The id is
 * what makes imports idempotent (docs/import.md): the same message, order or payment
 * gets the same id from any export that shows it, and a record whose id is already in
 * the target file is not written again.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chatlogd/import_batch.h"
#include "chatlogd/log.h"
#include "chatlogd/scoreboard.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"
#include "chatlogd/json_write.h"

#define DIGEST_BYTES 16

struct stored_record {
	struct import_record_fields fields; /* strings owned */
	size_t input;                       /* which import_batch_begin_input */
	size_t seq;                         /* order of addition: ties keep it */
	unsigned char digest[DIGEST_BYTES]; /* of the fields that identify it */
	char id[IMPORT_ID_CHARS + 1];
	int dropped;
	int seen;
};

/* Ids already written, as a hash set of their hex strings (open addressing). */
struct id_set {
	char (*slots)[IMPORT_ID_CHARS + 1];
	size_t cap, used;
};

struct import_batch {
	struct stored_record *records;
	size_t count, cap;
	size_t inputs;
	const char *input_name;
	size_t lines[IMPORT_LINE_KINDS];
	size_t counts[IMPORT_COUNTS];
	struct id_set seen;
	int64_t newest_seen_ms; /* of the records already in the target file */
	int has_newest_seen;
};

static const char *const line_kind_names[IMPORT_LINE_KINDS] = {
    [IMPORT_LINE_MESSAGE] = "message",   [IMPORT_LINE_RECALLED] = "recalled",
    [IMPORT_LINE_STATUS] = "status",     [IMPORT_LINE_SYSTEM] = "system",
    [IMPORT_LINE_TRANSFER] = "transfer", [IMPORT_LINE_CARD] = "card",
    [IMPORT_LINE_LAYOUT] = "layout",     [IMPORT_LINE_BLANK] = "blank",
    [IMPORT_LINE_ORDER] = "order_row",   [IMPORT_LINE_SKIPPED] = "skipped",
    [IMPORT_LINE_ERROR] = "error",
};

static const char *const count_names[IMPORT_COUNTS] = {
    [IMPORT_COUNT_BUYER_MSGS] = "buyer_msgs",
    [IMPORT_COUNT_AGENT_MSGS] = "agent_msgs",
    [IMPORT_COUNT_BOT_MSGS] = "bot_msgs",
    [IMPORT_COUNT_RECALLED_MSGS] = "recalled_msgs",
    [IMPORT_COUNT_ORDERS] = "orders",
    [IMPORT_COUNT_PAYMENTS] = "payments",
    [IMPORT_COUNT_UNPAID] = "unpaid_orders",
    [IMPORT_COUNT_CLOSED_UNPAID] = "closed_unpaid",
    [IMPORT_COUNT_CLOSED_PAID] = "closed_after_payment",
    [IMPORT_COUNT_CLOSED_SKIPPED] = "closed_skipped",
    [IMPORT_COUNT_DUPLICATES] = "already_imported",
    [IMPORT_COUNT_WRITTEN] = "written",
};

static char *copy_string(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct import_batch *import_batch_new(void)
{
	struct import_batch *batch = xcalloc(1, sizeof(*batch));
	batch->input_name = "-";
	return batch;
}

static void free_fields(struct import_record_fields *f)
{
	free((char *)f->shop);
	free((char *)f->buyer);
	free((char *)f->agent);
	free((char *)f->text);
	free((char *)f->order);
}

void import_batch_free(struct import_batch *batch)
{
	if (batch == NULL)
		return;
	for (size_t i = 0; i < batch->count; i++)
		free_fields(&batch->records[i].fields);
	free(batch->records);
	free(batch->seen.slots);
	free(batch);
}

void import_batch_begin_input(struct import_batch *batch, const char *name)
{
	batch->inputs++;
	batch->input_name = name;
}

size_t import_batch_add(struct import_batch *batch, const struct import_record_fields *fields)
{
	struct stored_record *r;

	if (batch->count == batch->cap) {
		batch->cap = batch->cap ? batch->cap * 2 : 64;
		batch->records = xreallocarray(batch->records, batch->cap, sizeof(*batch->records));
	}
	r = &batch->records[batch->count];
	memset(r, 0, sizeof(*r));
	r->fields = *fields;
	r->fields.shop = copy_string(fields->shop);
	r->fields.buyer = copy_string(fields->buyer);
	r->fields.agent = copy_string(fields->agent);
	r->fields.text = copy_string(fields->text);
	r->fields.order = copy_string(fields->order);
	r->input = batch->inputs;
	r->seq = batch->count;
	if (fields->kind == IMPORT_KIND_MSG)
		batch->counts[fields->from == IMPORT_FROM_BUYER   ? IMPORT_COUNT_BUYER_MSGS
		              : fields->from == IMPORT_FROM_AGENT ? IMPORT_COUNT_AGENT_MSGS
		                                                  : IMPORT_COUNT_BOT_MSGS]++;
	else
		batch->counts[fields->kind == IMPORT_KIND_ORDER ? IMPORT_COUNT_ORDERS
		                                                : IMPORT_COUNT_PAYMENTS]++;
	return batch->count++;
}

void import_batch_drop(struct import_batch *batch, size_t index)
{
	struct stored_record *r = &batch->records[index];
	if (r->dropped)
		return;
	r->dropped = 1;
	batch->counts[r->fields.from == IMPORT_FROM_BUYER   ? IMPORT_COUNT_BUYER_MSGS
	              : r->fields.from == IMPORT_FROM_AGENT ? IMPORT_COUNT_AGENT_MSGS
	                                                    : IMPORT_COUNT_BOT_MSGS]--;
	batch->counts[IMPORT_COUNT_RECALLED_MSGS]++;
}

void import_batch_lines(struct import_batch *batch, enum import_line_kind kind, size_t lines)
{
	batch->lines[kind] += lines;
}

void import_batch_move_lines(struct import_batch *batch, enum import_line_kind from,
                             enum import_line_kind to, size_t lines)
{
	batch->lines[from] -= lines;
	batch->lines[to] += lines;
}

void import_batch_count(struct import_batch *batch, enum import_count count, size_t n)
{
	batch->counts[count] += n;
}

void import_batch_error(struct import_batch *batch, size_t line, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s:%zu: %s\n", batch->input_name, line, message);
}

/* Appends one field and a NUL separator to the digest, so "ab"+"c" and "a"+"bc"
 * differ. An absent field is the empty string. */
static void digest_field(EVP_MD_CTX *md, const char *s)
{
	if (s != NULL)
		EVP_DigestUpdate(md, s, strlen(s));
	EVP_DigestUpdate(md, "", 1);
}

/*
 * What identifies a record, whichever export it came from:
 * - a message: shop, buyer, time, who sent it (the buyer, or the agent or bot by
 *   name) and its text. Not the agent a buyer message is addressed to: one export
 *   may know of a transfer that another does not show.
 * - an order or a payment: shop, kind and order number; its times and amount may be
 *   corrected between two reports of the same order, and it must not count twice.
 */
static void digest_record(struct stored_record *r)
{
	const struct import_record_fields *f = &r->fields;
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int full_len = 0;
	char ts[24];
	EVP_MD_CTX *md;

	if ((md = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		fatalx("EVP_sha256");
	if (f->kind == IMPORT_KIND_MSG) {
		snprintf(ts, sizeof(ts), "%lld", (long long)f->ts_ms);
		digest_field(md, "msg");
		digest_field(md, f->shop);
		digest_field(md, f->buyer);
		digest_field(md, ts);
		digest_field(md, f->from == IMPORT_FROM_BUYER   ? "buyer"
		                 : f->from == IMPORT_FROM_AGENT ? "agent"
		                                                : "bot");
		digest_field(md, f->from == IMPORT_FROM_BUYER ? f->buyer : f->agent);
		digest_field(md, f->text);
	} else {
		digest_field(md, f->kind == IMPORT_KIND_ORDER ? "order" : "pay");
		digest_field(md, f->shop);
		digest_field(md, f->order);
	}
	EVP_DigestFinal_ex(md, full, &full_len);
	EVP_MD_CTX_free(md);
	memcpy(r->digest, full, DIGEST_BYTES);
}

static void hex_id(const unsigned char *bytes, char out[IMPORT_ID_CHARS + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < DIGEST_BYTES; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[IMPORT_ID_CHARS] = '\0';
}

static int by_input_digest_seq(const void *a, const void *b)
{
	const struct stored_record *x = *(const struct stored_record *const *)a;
	const struct stored_record *y = *(const struct stored_record *const *)b;
	int c;
	if (x->input != y->input)
		return x->input < y->input ? -1 : 1;
	if ((c = memcmp(x->digest, y->digest, DIGEST_BYTES)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_time_seq(const void *a, const void *b)
{
	const struct stored_record *x = a, *y = b;
	if (x->fields.ts_ms != y->fields.ts_ms)
		return x->fields.ts_ms < y->fields.ts_ms ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * A buyer can send the same words twice in one second ("在吗" "在吗"), and both must
 * count. So the n-th repeat of identical fields within one input gets n mixed into
 * its id. Two exports that both show the pair give both the same two ids, so an
 * overlap still imports them once each. Dropped (recalled) records take no part.
 */
void import_batch_finish(struct import_batch *batch)
{
	struct stored_record **order;
	size_t kept = 0;

	for (size_t i = 0; i < batch->count; i++)
		if (!batch->records[i].dropped)
			batch->records[kept++] = batch->records[i];
		else
			free_fields(&batch->records[i].fields);
	batch->count = kept;
	if (batch->count == 0)
		return;
	order = xcalloc(batch->count, sizeof(*order));
	for (size_t i = 0; i < batch->count; i++) {
		digest_record(&batch->records[i]);
		order[i] = &batch->records[i];
	}
	qsort(order, batch->count, sizeof(*order), by_input_digest_seq);
	for (size_t i = 0, repeat = 0; i < batch->count; i++) {
		struct stored_record *r = order[i];
		if (i > 0 && r->input == order[i - 1]->input &&
		    memcmp(r->digest, order[i - 1]->digest, DIGEST_BYTES) == 0)
			repeat++;
		else
			repeat = 0;
		if (repeat > 0) {
			unsigned char full[EVP_MAX_MD_SIZE], seed[DIGEST_BYTES + 24];
			unsigned int full_len = 0;
			int n = snprintf((char *)seed + DIGEST_BYTES, 24, "#%zu", repeat);
			memcpy(seed, r->digest, DIGEST_BYTES);
			if (!EVP_Digest(seed, DIGEST_BYTES + (size_t)n, full, &full_len,
			                EVP_sha256(), NULL))
				fatalx("EVP_Digest");
			hex_id(full, r->id);
		} else {
			hex_id(r->digest, r->id);
		}
	}
	free(order);
	qsort(batch->records, batch->count, sizeof(*batch->records), by_time_seq);
}

static size_t id_hash(const char *id)
{
	size_t h = 1469598103934665603ULL;
	for (int i = 0; i < IMPORT_ID_CHARS; i++)
		h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
	return h;
}

static int id_set_contains(const struct id_set *set, const char *id)
{
	if (set->cap == 0)
		return 0;
	for (size_t i = id_hash(id) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
		if (set->slots[i][0] == '\0')
			return 0;
		if (memcmp(set->slots[i], id, IMPORT_ID_CHARS) == 0)
			return 1;
	}
}

static void id_set_add(struct id_set *set, const char *id)
{
	if (id_set_contains(set, id))
		return;
	if (2 * (set->used + 1) > set->cap) {
		struct id_set bigger = {.cap = set->cap ? set->cap * 2 : 1024};
		bigger.slots = xcalloc(bigger.cap, sizeof(*bigger.slots));
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i][0] != '\0')
				id_set_add(&bigger, set->slots[i]);
		free(set->slots);
		*set = bigger;
	}
	size_t i = id_hash(id) & (set->cap - 1);
	while (set->slots[i][0] != '\0')
		i = (i + 1) & (set->cap - 1);
	memcpy(set->slots[i], id, IMPORT_ID_CHARS);
	set->slots[i][IMPORT_ID_CHARS] = '\0';
	set->used++;
}

static int is_hex_id(const char *s)
{
	for (int i = 0; i < IMPORT_ID_CHARS; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[IMPORT_ID_CHARS] == '"';
}

int import_batch_load_seen(struct import_batch *batch, const char *path, char *err, size_t errlen)
{
	static const char key[] = "\"msg_id\":\"";
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		const char *p = line, *ts = strstr(line, "\"ts\":\"");
		const char *ts_end = ts ? strchr(ts + 6, '"') : NULL;
		int64_t ms;
		if (ts_end != NULL &&
		    timefmt_parse_rfc3339(ts + 6, (size_t)(ts_end - ts - 6), &ms) == 0 &&
		    (!batch->has_newest_seen || ms > batch->newest_seen_ms)) {
			batch->newest_seen_ms = ms;
			batch->has_newest_seen = 1;
		}
		while ((p = strstr(p, key)) != NULL) {
			p += sizeof(key) - 1;
			if (line + len - p > IMPORT_ID_CHARS && is_hex_id(p))
				id_set_add(&batch->seen, p);
		}
	}
	free(line);
	int failed = ferror(f);
	fclose(f);
	if (failed) {
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	return 0;
}

static void write_field(FILE *out, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	fprintf(out, ",\"%s\":", name);
	json_write_string(out, value, strlen(value));
}

static void write_record(FILE *out, const struct stored_record *r)
{
	const struct import_record_fields *f = &r->fields;
	char ts[30];

	timefmt_format_rfc3339(f->ts_ms, ts);
	fprintf(out, "{\"ts\":\"%s\"", ts);
	if (f->kind != IMPORT_KIND_MSG)
		fprintf(out, ",\"kind\":\"%s\"", f->kind == IMPORT_KIND_ORDER ? "order" : "pay");
	write_field(out, "shop", f->shop);
	write_field(out, "buyer", f->buyer);
	write_field(out, "agent", f->agent);
	if (f->kind == IMPORT_KIND_MSG)
		fprintf(out, ",\"from\":\"%s\"",
		        f->from == IMPORT_FROM_BUYER   ? "buyer"
		        : f->from == IMPORT_FROM_AGENT ? "agent"
		                                       : "bot");
	write_field(out, "text", f->text);
	write_field(out, "order", f->order);
	if (f->amount_fen >= 0)
		fprintf(out, ",\"amount\":\"%lld.%02lld\"", (long long)(f->amount_fen / 100),
		        (long long)(f->amount_fen % 100));
	fprintf(out, ",\"msg_id\":\"%s\"}\n", r->id);
}

int import_batch_write(struct import_batch *batch, FILE *out)
{
	for (size_t i = 0; i < batch->count; i++) {
		struct stored_record *r = &batch->records[i];
		if (id_set_contains(&batch->seen, r->id)) {
			r->seen = 1;
			batch->counts[IMPORT_COUNT_DUPLICATES]++;
			continue;
		}
		id_set_add(&batch->seen, r->id);
		write_record(out, r);
		batch->counts[IMPORT_COUNT_WRITTEN]++;
		if (batch->has_newest_seen && r->fields.ts_ms < batch->newest_seen_ms)
			batch->counts[IMPORT_COUNT_OLDER]++;
	}
	return ferror(out) ? -1 : 0;
}

void import_batch_summary(const struct import_batch *batch, FILE *out)
{
	fprintf(out, "lines=%zu", import_batch_line_total(batch));
	for (int k = 0; k < IMPORT_LINE_KINDS; k++)
		if (batch->lines[k] > 0)
			fprintf(out, " %s=%zu", line_kind_names[k], batch->lines[k]);
	fprintf(out, "\nrecords:");
	for (int c = 0; c < IMPORT_COUNTS; c++)
		if (c != IMPORT_COUNT_OLDER && (batch->counts[c] > 0 || c == IMPORT_COUNT_WRITTEN))
			fprintf(out, " %s=%zu", count_names[c], batch->counts[c]);
	fprintf(out, "\n");
}

size_t import_batch_line_total(const struct import_batch *batch)
{
	size_t total = 0;
	for (int k = 0; k < IMPORT_LINE_KINDS; k++)
		total += batch->lines[k];
	return total;
}

size_t import_batch_lines_of(const struct import_batch *batch, enum import_line_kind kind)
{
	return batch->lines[kind];
}

size_t import_batch_count_of(const struct import_batch *batch, enum import_count count)
{
	return batch->counts[count];
}

const struct import_record_fields *import_batch_record(const struct import_batch *batch, size_t i,
                                                       const char **id)
{
	if (i >= batch->count)
		return NULL;
	if (id != NULL)
		*id = batch->records[i].id;
	return &batch->records[i].fields;
}

size_t import_batch_record_count(const struct import_batch *batch)
{
	return batch->count;
}

/* Reads 1 to `max` digits. */
static int read_number(const char **p, const char *end, int max, int *value)
{
	int n = 0, digits = 0;
	while (*p < end && **p >= '0' && **p <= '9' && digits < max) {
		n = n * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	*value = n;
	return digits > 0 ? 0 : -1;
}

int import_parse_local_time(const char *s, size_t len, int64_t *ms)
{
	const char *p = s, *end = s + len;
	int year, month, day, hour, minute, second = 0;
	char canonical[64];
	char sep;

	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 4 || read_number(&p, end, 4, &year) < 0 || p >= end)
		return -1;
	sep = *p++;
	if ((sep != '-' && sep != '/') || read_number(&p, end, 2, &month) < 0 || p >= end ||
	    *p++ != sep || read_number(&p, end, 2, &day) < 0 || p >= end || *p != ' ')
		return -1;
	while (p < end && *p == ' ')
		p++;
	if (read_number(&p, end, 2, &hour) < 0 || p >= end || *p++ != ':' ||
	    read_number(&p, end, 2, &minute) < 0)
		return -1;
	if (p < end && (*p++ != ':' || read_number(&p, end, 2, &second) < 0))
		return -1;
	if (p != end || hour > 23 || minute > 59 || second > 59)
		return -1;
	snprintf(canonical, sizeof(canonical), "%04d-%02d-%02d %02d:%02d:%02d", year, month, day,
	         hour, minute, second);
	return timefmt_parse_strptime(canonical, strlen(canonical), "%Y-%m-%d %H:%M:%S", ms);
}

void import_format_date(int64_t days, char out[11])
{
	time_t t = (time_t)(days * 86400);
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		memcpy(out, "0000-00-00", 11);
		return;
	}
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
	         (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}
