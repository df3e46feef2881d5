/*
 * wire.c owns the byte encoding of state files. It knows nothing of what is
 * encoded; modules write and read their own sections with it.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "chatlogd/wire.h"
#include "chatlogd/util.h"

void wire_put_data(struct wire_writer *w, const void *p, size_t len)
{
	if (w->failed || len == 0)
		return;
	if (w->len + len > w->capacity) {
		size_t capacity = w->capacity ? w->capacity : 4096;
		while (capacity < w->len + len)
			capacity *= 2;
		w->data = xreallocarray(w->data, capacity, 1);
		w->capacity = capacity;
	}
	memcpy(w->data + w->len, p, len);
	w->len += len;
}

void wire_put_u8(struct wire_writer *w, uint8_t v)
{
	wire_put_data(w, &v, 1);
}

void wire_put_u32(struct wire_writer *w, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	wire_put_data(w, b, sizeof(b));
}

void wire_put_u64(struct wire_writer *w, uint64_t v)
{
	wire_put_u32(w, (uint32_t)v);
	wire_put_u32(w, (uint32_t)(v >> 32));
}

void wire_put_i64(struct wire_writer *w, int64_t v)
{
	wire_put_u64(w, (uint64_t)v);
}

void wire_put_bytes(struct wire_writer *w, const void *p, size_t len)
{
	if (len > UINT32_MAX) {
		w->failed = 1;
		return;
	}
	wire_put_u32(w, (uint32_t)len);
	wire_put_data(w, p, len);
}

void wire_writer_free(struct wire_writer *w)
{
	free(w->data);
	memset(w, 0, sizeof(*w));
}

void wire_reader_init(struct wire_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
	r->failed = 0;
}

static const unsigned char *wire_take(struct wire_reader *r, size_t len)
{
	const unsigned char *p;
	if (r->failed || r->len - r->pos < len) {
		r->failed = 1;
		return NULL;
	}
	p = r->data + r->pos;
	r->pos += len;
	return p;
}

uint8_t wire_get_u8(struct wire_reader *r)
{
	const unsigned char *p = wire_take(r, 1);
	return p ? p[0] : 0;
}

uint32_t wire_get_u32(struct wire_reader *r)
{
	const unsigned char *p = wire_take(r, 4);
	if (p == NULL)
		return 0;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t wire_get_u64(struct wire_reader *r)
{
	uint64_t low = wire_get_u32(r);
	return low | (uint64_t)wire_get_u32(r) << 32;
}

int64_t wire_get_i64(struct wire_reader *r)
{
	return (int64_t)wire_get_u64(r);
}

const char *wire_get_bytes(struct wire_reader *r, size_t *len)
{
	const unsigned char *p;
	*len = wire_get_u32(r);
	if ((p = wire_take(r, *len)) == NULL)
		*len = 0;
	return (const char *)p;
}

/* zlib's CRC-32 is the IEEE 802.3 one (reflected 0xedb88320) that the state files
 * have always used, and runs at some 4 GB/s (docs/benchmarks.md); crc32_z takes a
 * size_t length. Given NULL it would restart at 0, so an empty run returns crc. */
uint32_t wire_crc32(uint32_t crc, const void *data, size_t len)
{
	return len > 0 ? (uint32_t)crc32_z(crc, data, len) : crc;
}
