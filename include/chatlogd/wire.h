/*
 * A little-endian binary encoding for state files: a growable writer and a
 * bounds-checked reader. A reader past its end, or fed garbage, sets `failed` and
 * returns zeros; callers check once at the end instead of after every field.
 */
#ifndef CHATLOGD_WIRE_H
#define CHATLOGD_WIRE_H

#include <stddef.h>
#include <stdint.h>

struct wire_writer {
	unsigned char *data;
	size_t len, capacity;
	int failed; /* a byte string longer than its u32 length can say */
};

struct wire_reader {
	const unsigned char *data;
	size_t len, pos;
	int failed;
};

void wire_put_u8(struct wire_writer *w, uint8_t v);
void wire_put_u32(struct wire_writer *w, uint32_t v);
void wire_put_u64(struct wire_writer *w, uint64_t v);
void wire_put_i64(struct wire_writer *w, int64_t v);
/* Raw bytes, no length. */
void wire_put_data(struct wire_writer *w, const void *p, size_t len);
/* A length-prefixed byte string. */
void wire_put_bytes(struct wire_writer *w, const void *p, size_t len);
void wire_writer_free(struct wire_writer *w);

void wire_reader_init(struct wire_reader *r, const void *data, size_t len);
uint8_t wire_get_u8(struct wire_reader *r);
uint32_t wire_get_u32(struct wire_reader *r);
uint64_t wire_get_u64(struct wire_reader *r);
int64_t wire_get_i64(struct wire_reader *r);
/* Borrows a length-prefixed byte string from the reader's buffer; *len set. */
const char *wire_get_bytes(struct wire_reader *r, size_t *len);

/* CRC-32 (IEEE, zlib's crc32) of data, continuing from crc (start with 0). */
uint32_t wire_crc32(uint32_t crc, const void *data, size_t len);

#endif
