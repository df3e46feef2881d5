/*
 * journal_record.c owns the byte layout of the journal's records and of the file
 * positions they and the snapshots carry: one function to encode each type, one to
 * decode any. What a record means, and when it is written, is live.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/journal_record.h"
#include "chatlogd/tail.h"
#include "chatlogd/wire.h"
#include "chatlogd/util.h"

void journal_record_put_source(struct wire_writer *w, uint32_t id, const char *path, uint32_t rank)
{
	wire_put_u8(w, JOURNAL_SOURCE);
	wire_put_u32(w, id);
	wire_put_bytes(w, path, strlen(path));
	wire_put_u32(w, rank);
}

void journal_record_put_line(struct wire_writer *w, uint32_t source, uint64_t line_no,
                             enum line_verdict verdict, const char *line, size_t len)
{
	wire_put_u8(w, JOURNAL_LINE);
	wire_put_u32(w, source);
	wire_put_u64(w, line_no);
	wire_put_u8(w, (uint8_t)verdict);
	wire_put_bytes(w, line, len);
}

void journal_record_put_release(struct wire_writer *w, uint64_t count)
{
	wire_put_u8(w, JOURNAL_RELEASE);
	wire_put_u64(w, count);
}

void journal_record_put_advance(struct wire_writer *w, int64_t time_ms)
{
	wire_put_u8(w, JOURNAL_ADVANCE);
	wire_put_i64(w, time_ms);
}

void journal_record_put_waiting(struct wire_writer *w, int64_t time_ms)
{
	wire_put_u8(w, JOURNAL_WAITING);
	wire_put_i64(w, time_ms);
}

void journal_record_put_cut(struct wire_writer *w, uint64_t first_seq,
                            const struct tail_position *positions, size_t count)
{
	wire_put_u8(w, JOURNAL_CUT);
	wire_put_u64(w, first_seq);
	journal_record_put_positions(w, positions, count);
}

void journal_record_put_rules(struct wire_writer *w, const char *name, const char *text, size_t len)
{
	wire_put_u8(w, JOURNAL_RULES);
	wire_put_bytes(w, name, strlen(name));
	wire_put_bytes(w, text, len);
}

int journal_record_decode(const void *data, size_t len, struct journal_record *out)
{
	struct wire_reader r;
	uint8_t verdict;

	memset(out, 0, sizeof(*out));
	wire_reader_init(&r, data, len);
	out->type = (enum journal_record_type)wire_get_u8(&r);
	switch (out->type) {
	case JOURNAL_SOURCE:
		out->source = wire_get_u32(&r);
		out->text = wire_get_bytes(&r, &out->text_len);
		out->rank = wire_get_u32(&r);
		break;
	case JOURNAL_LINE:
		out->source = wire_get_u32(&r);
		out->line_no = wire_get_u64(&r);
		verdict = wire_get_u8(&r);
		out->text = wire_get_bytes(&r, &out->text_len);
		if (verdict > VERDICT_AHEAD)
			return -1;
		out->verdict = (enum line_verdict)verdict;
		break;
	case JOURNAL_RELEASE:
		out->count = wire_get_u64(&r);
		break;
	case JOURNAL_ADVANCE:
	case JOURNAL_WAITING:
		out->time_ms = wire_get_i64(&r);
		break;
	case JOURNAL_RULES:
		out->name = wire_get_bytes(&r, &out->name_len);
		out->text = wire_get_bytes(&r, &out->text_len);
		break;
	case JOURNAL_CUT:
		out->first_seq = wire_get_u64(&r);
		if (r.failed ||
		    journal_record_get_positions(&r, &out->positions, &out->position_count) == -1)
			return -1;
		break;
	default:
		return -1;
	}
	return r.failed ? -1 : 0;
}

void journal_record_clear(struct journal_record *rec)
{
	tail_positions_free(rec->positions, rec->position_count);
	rec->positions = NULL;
	rec->position_count = 0;
}

int journal_record_is_cut(const void *data, size_t len)
{
	return len > 0 && *(const unsigned char *)data == JOURNAL_CUT;
}

void journal_record_put_positions(struct wire_writer *w, const struct tail_position *p,
                                  size_t count)
{
	wire_put_u32(w, (uint32_t)count);
	for (size_t i = 0; i < count; i++) {
		wire_put_bytes(w, p[i].path, strlen(p[i].path));
		wire_put_u64(w, p[i].dev);
		wire_put_u64(w, p[i].ino);
		wire_put_u64(w, p[i].offset);
		wire_put_u64(w, p[i].line_no);
		wire_put_u64(w, p[i].head_hash);
		wire_put_u32(w, p[i].head_len);
		wire_put_u64(w, p[i].before_hash);
		wire_put_u32(w, p[i].before_len);
		wire_put_u8(w, (uint8_t)(p[i].in_overlong != 0));
	}
}

int journal_record_get_positions(struct wire_reader *r, struct tail_position **out, size_t *count)
{
	uint32_t n = wire_get_u32(r);
	struct tail_position *p;

	if (r->failed || n > JOURNAL_MAX_SOURCES)
		return -1;
	p = xcalloc(n, sizeof(*p));
	for (uint32_t i = 0; i < n; i++) {
		size_t len;
		const char *path = wire_get_bytes(r, &len);
		if (r->failed) {
			tail_positions_free(p, i);
			return -1;
		}
		p[i].path = xstrndup(path, len);
		p[i].dev = wire_get_u64(r);
		p[i].ino = wire_get_u64(r);
		p[i].offset = wire_get_u64(r);
		p[i].line_no = wire_get_u64(r);
		p[i].head_hash = wire_get_u64(r);
		p[i].head_len = wire_get_u32(r);
		p[i].before_hash = wire_get_u64(r);
		p[i].before_len = wire_get_u32(r);
		p[i].in_overlong = wire_get_u8(r);
	}
	if (r->failed) {
		tail_positions_free(p, n);
		return -1;
	}
	*out = p;
	*count = n;
	return 0;
}
