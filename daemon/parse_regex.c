/*
 * parse_regex.c owns the line-regex format (reference.md §1, docs/input-formats.md): loading a
 * format file (one PCRE2 pattern whose named groups carry the fields, an optional ts_format, and
 * word maps for `from` and `kind`) and matching lines against it. The file syntax is documented in
 * docs/input-formats.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "chatlogd/limits.h"
#include "chatlogd/parse_internal.h"
#include "chatlogd/textfile.h"
#include "chatlogd/record.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"
#include "chatlogd/utf8.h"

/* A format file is a few lines; anything bigger is a mistake (e.g. a log given by error). */
#define FORMAT_FILE_MAX_BYTES (256 * 1024)

/* Groups sharing one field name (PCRE2_DUPNAMES, one per alternative). */
#define REGEX_GROUPS_PER_FIELD 16

/* Words in one `from.` or `kind.` map. */
#define REGEX_MAP_WORDS 64

/* Pieces of a pattern continued over several lines. */
#define REGEX_PATTERN_LINES 256

struct word_map_entry {
	char *word;
	size_t len;
	int value; /* enum record_from or enum record_kind */
};

struct word_map {
	struct word_map_entry entries[REGEX_MAP_WORDS];
	unsigned count;
};

struct regex_parser {
	pcre2_code *code;
	pcre2_match_data *match;
	pcre2_match_context *match_context;
	int jit;
	char *ts_format; /* NULL: RFC 3339 or epoch */
	uint32_t groups[FIELD_COUNT][REGEX_GROUPS_PER_FIELD];
	unsigned group_count[FIELD_COUNT];
	struct word_map from_map;
	struct word_map kind_map;
};

/* Where each line of a (possibly continued) pattern came from, for error columns. */
struct pattern_piece {
	size_t offset; /* in the joined pattern */
	unsigned line; /* in the file, 1-based */
	size_t column; /* of the piece's first byte, 1-based */
};

struct format_loader {
	const char *name;
	char *err;
	size_t errlen;
	char *pattern; /* joined pattern text */
	size_t pattern_len;
	struct pattern_piece pieces[REGEX_PATTERN_LINES];
	unsigned piece_count;
};

static void word_map_free(struct word_map *m)
{
	for (unsigned i = 0; i < m->count; i++)
		free(m->entries[i].word);
	m->count = 0;
}

void regex_parser_free(struct regex_parser *rp)
{
	if (rp == NULL)
		return;
	pcre2_match_data_free(rp->match);
	pcre2_match_context_free(rp->match_context);
	pcre2_code_free(rp->code);
	free(rp->ts_format);
	word_map_free(&rp->from_map);
	word_map_free(&rp->kind_map);
	free(rp);
}

int regex_parser_jit_enabled(const struct regex_parser *rp)
{
	return rp->jit;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trims blanks at both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_blank((*s)[*n - 1]))
		(*n)--;
}

static void load_error(struct format_loader *ld, unsigned line, size_t column, const char *what,
                       const char *detail, size_t detail_len)
{
	if (detail != NULL)
		snprintf(ld->err, ld->errlen, "%s:%u:%zu: %s \"%.*s\"", ld->name, line, column,
		         what, (int)detail_len, detail);
	else
		snprintf(ld->err, ld->errlen, "%s:%u:%zu: %s", ld->name, line, column, what);
}

static int append_pattern(struct format_loader *ld, const char *s, size_t n, unsigned line,
                          size_t column)
{
	if (ld->piece_count == REGEX_PATTERN_LINES) {
		load_error(ld, line, column, "pattern has too many lines", NULL, 0);
		return -1;
	}
	/* Continuation lines are joined with '\n' so (?x) comments end where they did. */
	ld->pattern = xreallocarray(ld->pattern, ld->pattern_len + n + 2, 1);
	if (ld->piece_count > 0)
		ld->pattern[ld->pattern_len++] = '\n';
	ld->pieces[ld->piece_count].offset = ld->pattern_len;
	ld->pieces[ld->piece_count].line = line;
	ld->pieces[ld->piece_count].column = column;
	ld->piece_count++;
	memcpy(ld->pattern + ld->pattern_len, s, n);
	ld->pattern_len += n;
	ld->pattern[ld->pattern_len] = '\0';
	return 0;
}

/* Maps an offset in the joined pattern back to a file line and column. */
static void pattern_position(const struct format_loader *ld, size_t offset, unsigned *line,
                             size_t *column)
{
	unsigned k = 0;
	while (k + 1 < ld->piece_count && ld->pieces[k + 1].offset <= offset)
		k++;
	*line = ld->pieces[k].line;
	*column = ld->pieces[k].column + (offset - ld->pieces[k].offset);
}

static int add_word(struct format_loader *ld, struct word_map *m, const char *word, size_t n,
                    int value, unsigned line, size_t column)
{
	for (unsigned i = 0; i < m->count; i++) {
		if (m->entries[i].len == n && memcmp(m->entries[i].word, word, n) == 0) {
			load_error(ld, line, column, "word mapped twice:", word, n);
			return -1;
		}
	}
	if (m->count == REGEX_MAP_WORDS) {
		load_error(ld, line, column, "too many mapped words", NULL, 0);
		return -1;
	}
	m->entries[m->count].word = xstrndup(word, n);
	m->entries[m->count].len = n;
	m->entries[m->count].value = value;
	m->count++;
	return 0;
}

/* Looks a captured word up in the map; the caller then tries the spec's own words. */
static int map_word(const struct word_map *m, const char *s, size_t n, int *value)
{
	for (unsigned i = 0; i < m->count; i++) {
		if (m->entries[i].len == n && memcmp(m->entries[i].word, s, n) == 0) {
			*value = m->entries[i].value;
			return 0;
		}
	}
	return -1;
}

/*
 * Reads one `key = value` line. `pattern` keeps its value for compiling after the
 * whole file is read; the others are stored in rp at once.
 */
static int load_line(struct format_loader *ld, struct regex_parser *rp, const char *s, size_t n,
                     unsigned line)
{
	const char *line_start = s;
	const char *eq = memchr(s, '=', n);
	const char *key = s, *value;
	size_t key_len, value_len;

	if (eq == NULL) {
		load_error(ld, line, 1, "expected key = value", NULL, 0);
		return -1;
	}
	key_len = (size_t)(eq - s);
	trim(&key, &key_len);
	value = eq + 1;
	value_len = n - (size_t)(value - s);
	trim(&value, &value_len);
	size_t key_column = (size_t)(key - line_start) + 1;
	size_t value_column = (size_t)(value - line_start) + 1;

	if (key_len == 7 && memcmp(key, "pattern", 7) == 0) {
		if (ld->piece_count > 0) {
			load_error(ld, line, key_column, "pattern given twice", NULL, 0);
			return -1;
		}
		if (value_len == 0) {
			load_error(ld, line, value_column, "empty pattern", NULL, 0);
			return -1;
		}
		return append_pattern(ld, value, value_len, line, value_column);
	}
	if (key_len == 9 && memcmp(key, "ts_format", 9) == 0) {
		if (rp->ts_format != NULL) {
			load_error(ld, line, key_column, "ts_format given twice", NULL, 0);
			return -1;
		}
		if (value_len == 0 || memchr(value, '%', value_len) == NULL) {
			load_error(ld, line, value_column, "ts_format needs strptime conversions",
			           NULL, 0);
			return -1;
		}
		rp->ts_format = xstrndup(value, value_len);
		return 0;
	}
	if (key_len > 5 && memcmp(key, "from.", 5) == 0) {
		enum record_from from;
		if (record_parse_from(value, value_len, &from) != 0) {
			load_error(ld, line, value_column, "want buyer, agent or bot, not", value,
			           value_len);
			return -1;
		}
		return add_word(ld, &rp->from_map, key + 5, key_len - 5, (int)from, line,
		                key_column + 5);
	}
	if (key_len > 5 && memcmp(key, "kind.", 5) == 0) {
		enum record_kind kind;
		if (record_parse_kind(value, value_len, &kind) != 0) {
			load_error(ld, line, value_column, "want msg, order or pay, not", value,
			           value_len);
			return -1;
		}
		return add_word(ld, &rp->kind_map, key + 5, key_len - 5, (int)kind, line,
		                key_column + 5);
	}
	load_error(ld, line, key_column, "unknown key", key, key_len);
	return -1;
}

/* Column of a group's name in the pattern text, for "unknown group name" errors. */
static size_t group_name_offset(const char *pattern, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = pattern; (p = strstr(p, name)) != NULL; p++) {
		if (p > pattern && (p[-1] == '<' || p[-1] == '\'') && (p[n] == '>' || p[n] == '\''))
			return (size_t)(p - pattern);
	}
	return 0;
}

/* Records which capture groups carry which field; any other group name is an error. */
static int map_groups(struct format_loader *ld, struct regex_parser *rp)
{
	uint32_t count, entry_size;
	PCRE2_SPTR table;

	pcre2_pattern_info(rp->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(rp->code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
	pcre2_pattern_info(rp->code, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *entry = table + (size_t)i * entry_size;
		uint32_t group = ((uint32_t)entry[0] << 8) | entry[1];
		const char *name = (const char *)entry + 2;
		enum record_field field = record_field_lookup(name, strlen(name));
		unsigned line;
		size_t column;

		if (field == FIELD_UNKNOWN) {
			pattern_position(ld, group_name_offset(ld->pattern, name), &line, &column);
			load_error(ld, line, column, "unknown group name", name, strlen(name));
			return -1;
		}
		if (rp->group_count[field] == REGEX_GROUPS_PER_FIELD) {
			pattern_position(ld, group_name_offset(ld->pattern, name), &line, &column);
			load_error(ld, line, column, "too many groups named", name, strlen(name));
			return -1;
		}
		/* The name table lists duplicates in group number order. */
		rp->groups[field][rp->group_count[field]++] = group;
	}
	return 0;
}

static int compile_pattern(struct format_loader *ld, struct regex_parser *rp)
{
	int code;
	PCRE2_SIZE offset;
	unsigned line;
	size_t column;

	rp->code = pcre2_compile((PCRE2_SPTR)ld->pattern, ld->pattern_len,
	                         PCRE2_UTF | PCRE2_UCP | PCRE2_DUPNAMES, &code, &offset, NULL);
	if (rp->code == NULL) {
		char message[256];
		pcre2_get_error_message(code, (PCRE2_UCHAR *)message, sizeof(message));
		pattern_position(ld, offset, &line, &column);
		load_error(ld, line, column, message, NULL, 0);
		return -1;
	}
	if (map_groups(ld, rp) != 0)
		return -1;
	/* JIT is several times faster; where it is missing or refuses, interpret. */
	rp->jit = pcre2_jit_compile(rp->code, PCRE2_JIT_COMPLETE) == 0;
	if ((rp->match = pcre2_match_data_create_from_pattern(rp->code, NULL)) == NULL ||
	    (rp->match_context = pcre2_match_context_create(NULL)) == NULL) {
		load_error(ld, ld->pieces[0].line, 1, "out of memory", NULL, 0);
		return -1;
	}
	pcre2_set_match_limit(rp->match_context, LIMIT_PCRE2_MATCH);
	pcre2_set_depth_limit(rp->match_context, LIMIT_PCRE2_DEPTH);
	pcre2_set_heap_limit(rp->match_context, LIMIT_PCRE2_HEAP_KIB);
	return 0;
}

/*
 * Lines are `key = value`, `#` comments and blank lines. An indented line after
 * the pattern (comments and blank lines may come between) continues it, joined
 * with a newline, so a long pattern can be laid out with (?x).
 */
struct regex_parser *regex_parser_load_buffer(const char *name, const char *data, size_t len,
                                              char *err, size_t errlen)
{
	struct format_loader ld = {.name = name, .err = err, .errlen = errlen};
	struct regex_parser *rp = xcalloc(1, sizeof(*rp));
	unsigned line = 0;
	int in_pattern = 0;
	size_t pos = 0;

	if (!utf8_valid(data, len) || memchr(data, '\0', len) != NULL) {
		load_error(&ld, 1, 1, "format file is not UTF-8 text", NULL, 0);
		goto fail;
	}
	/* A UTF-8 byte order mark some editors write is not part of the first key. */
	pos = utf8_bom_length(data, len);
	while (pos < len) {
		const char *s = data + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;
		const char *body = s;
		size_t body_len = n;

		pos += n + (nl != NULL);
		line++;
		trim(&body, &body_len);
		if (body_len == 0)
			continue;
		if (s[0] == '#')
			continue;
		if (is_blank(s[0]) && in_pattern) {
			if (append_pattern(&ld, body, body_len, line, (size_t)(body - s) + 1) != 0)
				goto fail;
			continue;
		}
		if (is_blank(s[0])) {
			load_error(&ld, line, 1, "indented line does not continue a pattern", NULL,
			           0);
			goto fail;
		}
		unsigned pieces_before = ld.piece_count;
		if (load_line(&ld, rp, s, n, line) != 0)
			goto fail;
		in_pattern = ld.piece_count > pieces_before;
	}
	if (ld.piece_count == 0) {
		load_error(&ld, line > 0 ? line : 1, 1, "no pattern", NULL, 0);
		goto fail;
	}
	if (compile_pattern(&ld, rp) != 0)
		goto fail;
	free(ld.pattern);
	return rp;

fail:
	free(ld.pattern);
	regex_parser_free(rp);
	return NULL;
}

struct regex_parser *regex_parser_load(const char *path, char *err, size_t errlen)
{
	struct regex_parser *rp;
	size_t len;
	char *data;

	if ((data = textfile_read(path, FORMAT_FILE_MAX_BYTES, &len, err, errlen)) == NULL)
		return NULL;
	rp = regex_parser_load_buffer(path, data, len, err, errlen);
	free(data);
	return rp;
}

/* The first group of a field that took part in the match; len 0 when none did. */
static struct text_view field_capture(const struct regex_parser *rp, const char *line,
                                      const PCRE2_SIZE *ovector, enum record_field field)
{
	struct text_view v = {NULL, 0};
	for (unsigned i = 0; i < rp->group_count[field]; i++) {
		uint32_t g = rp->groups[field][i];
		PCRE2_SIZE start = ovector[2 * g], end = ovector[2 * g + 1];
		if (start != PCRE2_UNSET && end >= start) {
			v.ptr = line + start;
			v.len = end - start;
			break;
		}
	}
	return v;
}

static int parse_ts(const struct regex_parser *rp, const struct text_view *v, int64_t *ms)
{
	if (rp->ts_format != NULL)
		return timefmt_parse_strptime(v->ptr, v->len, rp->ts_format, ms);
	if (timefmt_parse_rfc3339(v->ptr, v->len, ms) == 0)
		return 0;
	return timefmt_parse_epoch(v->ptr, v->len, ms);
}

int regex_parser_parse(struct regex_parser *rp, const char *line, size_t len, struct record *rec,
                       char *err, size_t errlen)
{
	const PCRE2_SIZE *ovector;
	struct text_view v;
	int rc, value, has_ts = 0;

	record_clear(rec);
	if (!utf8_valid(line, len)) {
		parse_set_error(err, errlen, "invalid UTF-8");
		return -1;
	}
	/* The line was just checked, so PCRE2 need not check it again. */
	rc = pcre2_match(rp->code, (PCRE2_SPTR)line, len, 0, PCRE2_NO_UTF_CHECK, rp->match,
	                 rp->match_context);
	if (rc < 0) {
		parse_set_error(err, errlen,
		                rc == PCRE2_ERROR_NOMATCH ? "no match" : "no match (match limit)");
		return -1;
	}
	ovector = pcre2_get_ovector_pointer(rp->match);

	v = field_capture(rp, line, ovector, FIELD_TS);
	if (v.len > 0) {
		if (parse_ts(rp, &v, &rec->ts_ms) != 0) {
			parse_set_error(err, errlen, "bad timestamp");
			return -1;
		}
		has_ts = 1;
	}
	v = field_capture(rp, line, ovector, FIELD_KIND);
	if (v.len > 0) {
		if (map_word(&rp->kind_map, v.ptr, v.len, &value) == 0)
			rec->kind = (enum record_kind)value;
		else if (record_parse_kind(v.ptr, v.len, &rec->kind) != 0) {
			parse_set_error(err, errlen, "bad kind");
			return -1;
		}
	}
	v = field_capture(rp, line, ovector, FIELD_FROM);
	if (v.len > 0) {
		if (map_word(&rp->from_map, v.ptr, v.len, &value) == 0)
			rec->from = (enum record_from)value;
		else if (record_parse_from(v.ptr, v.len, &rec->from) != 0) {
			parse_set_error(err, errlen, "bad from");
			return -1;
		}
	}
	v = field_capture(rp, line, ovector, FIELD_AMOUNT);
	if (v.len > 0 && record_parse_amount(v.ptr, v.len, &rec->amount_fen) != 0) {
		parse_set_error(err, errlen, "bad amount");
		return -1;
	}
	rec->shop = field_capture(rp, line, ovector, FIELD_SHOP);
	rec->buyer = field_capture(rp, line, ovector, FIELD_BUYER);
	rec->agent = field_capture(rp, line, ovector, FIELD_AGENT);
	rec->text = field_capture(rp, line, ovector, FIELD_TEXT);
	rec->order = field_capture(rp, line, ovector, FIELD_ORDER);
	return record_finish(rec, has_ts, err, errlen);
}
