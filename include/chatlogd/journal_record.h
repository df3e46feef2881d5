/*
 * The records of live mode's journal (docs/exactly-once.md, "A journal of what was
 * processed"): their types and their encoding with wire.h, and the encoding of file
 * positions that CUT records and snapshots share. It does not write files (state.c)
 * nor act on a record (live.c's replay).
 */
#ifndef CHATLOGD_JOURNAL_RECORD_H
#define CHATLOGD_JOURNAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct tail_position;
struct wire_reader;
struct wire_writer;

/* Input files a journal generation (and a positions list) may name. */
#define JOURNAL_MAX_SOURCES 65536

/* The first byte of a record. */
enum journal_record_type {
	JOURNAL_SOURCE = 'S',
	JOURNAL_LINE = 'L',
	JOURNAL_ADVANCE = 'A',
	JOURNAL_CUT = 'C',
	JOURNAL_RULES = 'R',
	JOURNAL_WAITING = 'W', /* a wall-clock check for buyers kept waiting */
	JOURNAL_RELEASE = 'M'  /* merge releases the wall clock or tail's knowledge allowed */
};

/* What a line was judged when it arrived, journaled with it: the wall clock that
 * judged "too far ahead" is gone by the time of a replay. */
enum line_verdict { VERDICT_OK, VERDICT_OVERLONG, VERDICT_AHEAD };

/* A decoded record. Strings are borrowed from the encoded record; positions are
 * owned (journal_record_clear). Only the fields of its type are set. */
struct journal_record {
	enum journal_record_type type;
	uint32_t source;           /* SOURCE: the id it declares; LINE: the line's source */
	uint32_t rank;             /* SOURCE: its place in the merge's tie order */
	uint64_t line_no;          /* LINE */
	enum line_verdict verdict; /* LINE */
	const char *text;          /* SOURCE: the path; LINE: the bytes; RULES: the patterns */
	size_t text_len;
	const char *name; /* RULES: the patterns file's name */
	size_t name_len;
	uint64_t count;                  /* RELEASE: records released */
	int64_t time_ms;                 /* ADVANCE, WAITING: the wall-clock time */
	uint64_t first_seq;              /* CUT: the sequence of the cut's first batch */
	struct tail_position *positions; /* CUT: every file's read position */
	size_t position_count;
};

/* Each appends one record to w (the caller appends w to the journal). Strings are
 * copied. An overlong line is journaled as a marker: the caller passes len 0. */
void journal_record_put_source(struct wire_writer *w, uint32_t id, const char *path, uint32_t rank);
void journal_record_put_line(struct wire_writer *w, uint32_t source, uint64_t line_no,
                             enum line_verdict verdict, const char *line, size_t len);
void journal_record_put_release(struct wire_writer *w, uint64_t count);
void journal_record_put_advance(struct wire_writer *w, int64_t time_ms);
void journal_record_put_waiting(struct wire_writer *w, int64_t time_ms);
void journal_record_put_cut(struct wire_writer *w, uint64_t first_seq,
                            const struct tail_position *positions, size_t count);
void journal_record_put_rules(struct wire_writer *w, const char *name, const char *text,
                              size_t len);

/* Decodes one record into out. Returns 0, or -1 for an unknown type or a record that
 * does not decode (out is then empty). */
int journal_record_decode(const void *data, size_t len, struct journal_record *out);

/* Frees what a decoded record owns; accepts a record that owns nothing. */
void journal_record_clear(struct journal_record *rec);

/* The record is a CUT (read without decoding it). */
int journal_record_is_cut(const void *data, size_t len);

/* File positions as CUT records and snapshots hold them. _get allocates *out (free
 * with tail_positions_free); it returns 0, or -1 when they do not decode. */
void journal_record_put_positions(struct wire_writer *w, const struct tail_position *p,
                                  size_t count);
int journal_record_get_positions(struct wire_reader *r, struct tail_position **out, size_t *count);

#endif
