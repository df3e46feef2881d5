/*
 * parse_json.c owns the JSON Lines format (reference.md §1): one JSON object per line,
 * validated strictly against RFC 8259 and mapped onto a struct record, with no
 * allocation per line. Two passes: index_line() reads all the bytes 64 at a time
 * (UTF-8, where the quotes are, whether there is any backslash or control byte);
 * scan_line() then walks the structure, going from quote to quote over strings and
 * taking the known fields as it meets them. Field meaning (defaults, required fields)
 * belongs to record.c. Why the parser is our own, and how it is checked against the
 * jsmn-based one it replaced: docs/input-formats.md, "JSON parser".
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/limits.h"
#include "chatlogd/parse_internal.h"
#include "chatlogd/record.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"

/*
 * SSE2 is part of x86-64, so the vector index is the normal build there. Without it,
 * or with CHATLOGD_NO_SIMD, UTF-8 is checked by utf8_valid() and strings are scanned
 * eight bytes at a time; the differential tests build and run that variant too
 * (tests/oracle/parse_json_scalar.c).
 */
#if defined(__SSE2__) && !defined(CHATLOGD_NO_SIMD)
#define JSON_SIMD 1
#include <emmintrin.h>
#else
#define JSON_SIMD 0
#endif

/*
 * On x86-64 with gcc or clang the line index also has an AVX2 version (32 bytes per
 * instruction instead of 16), compiled for that target alone and chosen at run time
 * when the CPU has it, so the build stays portable. CHATLOGD_NO_AVX2 leaves it out;
 * the differential tests build that variant too (tests/oracle/parse_json_sse2.c).
 */
#if JSON_SIMD && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) &&               \
    !defined(CHATLOGD_NO_AVX2)
#define JSON_AVX2 1
#include <immintrin.h>
#else
#define JSON_AVX2 0
#endif

/* Initial string scratch; it grows to the longest line that needed decoding. */
#define JSON_SCRATCH_INITIAL 4096

/* Longest raw key that can still name a field: "amount" written as six \u escapes. */
#define JSON_KEY_DECODE_MAX 64

/* Containers nested inside the top-level object. Each is a token of the old
 * parser's budget (LIMIT_JSON_TOKENS), so a deeper line is rejected anyway. */
#define JSON_NEST_MAX LIMIT_JSON_TOKENS

/* "YYYY-MM-DDTHH:MM:" and the longest zone, "+HH:MM", of an RFC 3339 timestamp. */
#define TS_HEAD_LEN 17
#define TS_ZONE_MAX 6

/* Lines up to 64 * SCAN_INDEX_WORDS bytes get an index of their quotes (index_line);
 * longer ones are scanned string by string. Records are a few hundred bytes. */
#define SCAN_INDEX_WORDS 32

/* Returned instead of a position when scanning stopped at an error. */
#define SCAN_FAIL SIZE_MAX

/* Where the scan stopped: a rejected line's reason (rejection_reason()). */
enum scan_error {
	SCAN_SYNTAX,       /* "bad JSON": a missing or stray separator, bracket or quote */
	SCAN_NOT_OBJECT,   /* the line does not start with '{' */
	SCAN_STRING,       /* raw control byte, bad escape or bad UTF-8 in a string */
	SCAN_PRIMITIVE,    /* a number or literal outside the RFC 8259 grammar */
	SCAN_EXPECT_VALUE, /* a byte that starts no value where a value belongs */
	SCAN_TRAILING,     /* something after the object */
	SCAN_TOKENS        /* more than LIMIT_JSON_TOKENS values, keys and containers */
};

/* The JSON type of a value, as far as the record fields care. */
enum value_type { VALUE_STRING, VALUE_NUMBER, VALUE_NULL, VALUE_BOOLEAN, VALUE_CONTAINER };

/*
 * The last RFC 3339 timestamp parsed in full, split where consecutive lines differ:
 * they share date, hour, minute and zone, and only seconds and fraction change.
 * timefmt_parse_rfc3339 adds seconds * 1000 + milliseconds to the value of the
 * minute, so a timestamp with the same head and zone needs no calendar work.
 */
struct ts_memo {
	char head[TS_HEAD_LEN]; /* "YYYY-MM-DDTHH:MM:" */
	char zone[TS_ZONE_MAX];
	size_t zone_len;   /* 0: nothing remembered yet */
	int64_t minute_ms; /* head and zone with seconds and fraction zero */
};

struct json_parser {
	char *scratch; /* decoded strings of the current line */
	size_t scratch_size;
	size_t scratch_used;
	struct ts_memo ts;
	int avx2; /* index lines with AVX2 (the CPU has it) */
};

/*
 * One line being parsed. Known top-level fields go into the record as they are met,
 * each occurrence replacing what an earlier one of the same key did (the last one
 * wins); a value its field cannot take is remembered as that field's reason until a
 * later occurrence replaces it. The reasons are reported only if the whole line is
 * valid JSON, the one that comes first in the line.
 */
struct scan {
	const unsigned char *s;
	size_t len;
	int indexed;        /* quotes[] says where every string ends (index_line) */
	size_t index_words; /* words of quotes[] that hold the line */
	uint64_t quotes[SCAN_INDEX_WORDS + 2]; /* bit i of word w: s[64 * w + i] is '"' */
	unsigned nested_tokens; /* tokens inside containers (skip_nested counts them) */
	enum scan_error error;
	size_t error_pos;
	struct json_parser *jp;
	struct record *rec;
	int has_ts;
	unsigned bad_fields; /* bit f: field f's last value is unacceptable */
	const char *bad_reason[FIELD_COUNT];
	size_t bad_at[FIELD_COUNT]; /* where that value starts in the line */
};

static const char *const wrong_type_reason[FIELD_COUNT] = {
    [FIELD_TS] = "wrong type for ts",         [FIELD_KIND] = "wrong type for kind",
    [FIELD_SHOP] = "wrong type for shop",     [FIELD_BUYER] = "wrong type for buyer",
    [FIELD_AGENT] = "wrong type for agent",   [FIELD_FROM] = "wrong type for from",
    [FIELD_TEXT] = "wrong type for text",     [FIELD_ORDER] = "wrong type for order",
    [FIELD_AMOUNT] = "wrong type for amount",
};

struct json_parser *json_parser_new(void)
{
	struct json_parser *jp = xcalloc(1, sizeof(*jp));

	jp->scratch = xmalloc(JSON_SCRATCH_INITIAL);
	jp->scratch_size = JSON_SCRATCH_INITIAL;
#if JSON_AVX2
	jp->avx2 = __builtin_cpu_supports("avx2") != 0;
#endif
	return jp;
}

void json_parser_free(struct json_parser *jp)
{
	if (jp == NULL)
		return;
	free(jp->scratch);
	free(jp);
}

static size_t scan_fail(struct scan *sc, enum scan_error error, size_t pos)
{
	sc->error = error;
	sc->error_pos = pos;
	return SCAN_FAIL;
}

/* ---- Bytes, escapes and UTF-8 ---- */

/* JSON whitespace: space, tab, LF, CR (one bit each in a 64-bit set). */
#define JSON_SPACE_SET                                                                             \
	((UINT64_C(1) << ' ') | (UINT64_C(1) << '\t') | (UINT64_C(1) << '\n') |                    \
	 (UINT64_C(1) << '\r'))

static inline int is_space(unsigned c)
{
	return c <= ' ' && ((JSON_SPACE_SET >> c) & 1);
}

/* The bytes that end a number or literal. A ':' or '"' does not: "1:2" and "1\"x\"" are
 * one bad value, not a value and a stray separator (this decides the error reason). */
static inline int ends_primitive(unsigned c)
{
	return is_space(c) || c == ',' || c == ']' || c == '}';
}

static inline size_t skip_space(const unsigned char *s, size_t len, size_t p)
{
	while (p < len && is_space(s[p]))
		p++;
	return p;
}

static int hex_value(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)c - '0';
	if (c >= 'a' && c <= 'f')
		return (int)c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return (int)c - 'A' + 10;
	return -1;
}

/* The code unit of "\uXXXX" at p, or -1 when the six bytes are not one. */
static long u_escape_at(const unsigned char *s, size_t len, size_t p)
{
	long unit = 0;

	if (len - p < 6 || s[p] != '\\' || s[p + 1] != 'u')
		return -1;
	for (size_t i = 2; i < 6; i++) {
		int h = hex_value(s[p + i]);
		if (h < 0)
			return -1;
		unit = unit * 16 + h;
	}
	return unit;
}

/*
 * Checks the escape whose backslash is at p and returns the position after it, or
 * SCAN_FAIL. A \u escape of a high surrogate must be followed at once by one of a
 * low surrogate; a low surrogate alone is invalid.
 */
static size_t skip_escape(const unsigned char *s, size_t len, size_t p)
{
	long unit, low;

	if (len - p < 2)
		return SCAN_FAIL;
	switch (s[p + 1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return p + 2;
	case 'u':
		unit = u_escape_at(s, len, p);
		if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff))
			return SCAN_FAIL;
		if (unit < 0xd800 || unit > 0xdbff)
			return p + 6;
		low = u_escape_at(s, len, p + 6);
		if (low < 0xdc00 || low > 0xdfff)
			return SCAN_FAIL;
		return p + 12;
	default:
		return SCAN_FAIL;
	}
}

/*
 * Decodes a string body the scan has already validated into out and returns its
 * length, never more than n: every escape is at least as long as what it stands for.
 */
static size_t decode_string(const unsigned char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		const unsigned char *slash = memchr(s + i, '\\', n - i);
		size_t run = slash != NULL ? (size_t)(slash - (s + i)) : n - i;
		unsigned long cp;

		memcpy(out + o, s + i, run);
		o += run;
		i += run;
		if (i == n)
			break;
		switch (s[i + 1]) {
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'u':
			cp = (unsigned long)u_escape_at(s, n, i);
			if (cp >= 0xd800 && cp <= 0xdbff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     ((unsigned long)u_escape_at(s, n, i + 6) - 0xdc00);
				i += 6;
			}
			o += utf8_encode((uint32_t)cp, out + o);
			i += 6;
			continue;
		default: /* '"', '\\' and '/' stand for themselves */
			out[o++] = (char)s[i + 1];
			break;
		}
		i += 2;
	}
	return o;
}

/* ---- The line index ---- */

#if JSON_SIMD
/*
 * Lead bytes that need more than "followed by the right number of continuation
 * bytes": C0 C1 (always overlong), E0 (overlong below U+0800), ED (surrogates),
 * F0-F4 (four bytes, range limits) and F5-FF (never valid). Chinese text (E3-E9,
 * EF) and the scripts in C2-DF never have them.
 */
static inline __m128i utf8_rare_leads(__m128i v)
{
	__m128i r = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xe0)),
	                         _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xed)));
	r = _mm_or_si128(r, _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8((char)0xf0)), v));
	return _mm_or_si128(r, _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)0xfe)),
	                                      _mm_set1_epi8((char)0xc0)));
}

/* What the block functions found in 64 bytes: one bit per byte, and two flags. */
struct block_masks {
	uint64_t quote;
	uint64_t high;   /* >= 0x80 */
	uint64_t cont;   /* 0x80-0xbf */
	uint64_t lead3;  /* >= 0xe0 */
	unsigned escape; /* non-zero: a backslash or control byte somewhere in the block */
	unsigned rare;   /* non-zero: a rare lead byte (utf8_rare_leads) in the block */
};

/* Gathers one 16-bit mask per 16 bytes into a 64-bit one. */
#define MASK64(m0, m1, m2, m3)                                                                     \
	((uint64_t)(unsigned)(m0) | (uint64_t)(unsigned)(m1) << 16 |                               \
	 (uint64_t)(unsigned)(m2) << 32 | (uint64_t)(unsigned)(m3) << 48)

/*
 * Classifies the 64 bytes at s: where the quotes and the non-ASCII bytes are, and
 * whether there is any backslash or control byte (bytes below 0x20 are where 0x20
 * minus the byte, saturated, is not zero). The UTF-8 masks are only computed when
 * the block has non-ASCII bytes (utf8_block).
 */
static inline void index_block(const unsigned char *s, struct block_masks *m)
{
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);
	__m128i v[4], found = _mm_setzero_si128();

	for (int i = 0; i < 4; i++) {
		v[i] = _mm_loadu_si128((const void *)(s + 16 * i));
		found = _mm_or_si128(found, _mm_or_si128(_mm_cmpeq_epi8(v[i], backslash),
		                                         _mm_subs_epu8(space, v[i])));
	}
	m->escape =
	    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(found, _mm_setzero_si128())) ^ 0xffff;
	m->quote = MASK64(_mm_movemask_epi8(_mm_cmpeq_epi8(v[0], quote)),
	                  _mm_movemask_epi8(_mm_cmpeq_epi8(v[1], quote)),
	                  _mm_movemask_epi8(_mm_cmpeq_epi8(v[2], quote)),
	                  _mm_movemask_epi8(_mm_cmpeq_epi8(v[3], quote)));
	m->high = MASK64(_mm_movemask_epi8(v[0]), _mm_movemask_epi8(v[1]), _mm_movemask_epi8(v[2]),
	                 _mm_movemask_epi8(v[3]));
}

/* The UTF-8 masks of the 64 bytes at s, and whether they hold a rare lead byte. */
static inline void utf8_block(const unsigned char *s, struct block_masks *m)
{
	const __m128i cont_end = _mm_set1_epi8((char)0xc0), lead3_min = _mm_set1_epi8((char)0xe0);
	unsigned cont[4], lead3[4];
	__m128i found = _mm_setzero_si128();

	for (int i = 0; i < 4; i++) {
		const __m128i v = _mm_loadu_si128((const void *)(s + 16 * i));
		cont[i] = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, cont_end));
		lead3[i] =
		    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, lead3_min), v));
		found = _mm_or_si128(found, utf8_rare_leads(v));
	}
	m->rare = (unsigned)_mm_movemask_epi8(found);
	m->cont = MASK64(cont[0], cont[1], cont[2], cont[3]);
	m->lead3 = MASK64(lead3[0], lead3[1], lead3[2], lead3[3]);
}

#if JSON_AVX2
/* The same as index_block, utf8_rare_leads and utf8_block, 32 bytes at a time. */
#define JSON_AVX2_FN static inline __attribute__((always_inline, target("avx2")))

JSON_AVX2_FN uint64_t mask64_avx2(__m256i lo, __m256i hi)
{
	return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) |
	       (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

JSON_AVX2_FN void index_block_avx2(const unsigned char *s, struct block_masks *m)
{
	const __m256i quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\');
	const __m256i space = _mm256_set1_epi8(0x20);
	const __m256i lo = _mm256_loadu_si256((const void *)s);
	const __m256i hi = _mm256_loadu_si256((const void *)(s + 32));
	const __m256i found = _mm256_or_si256(
	    _mm256_or_si256(_mm256_cmpeq_epi8(lo, backslash), _mm256_subs_epu8(space, lo)),
	    _mm256_or_si256(_mm256_cmpeq_epi8(hi, backslash), _mm256_subs_epu8(space, hi)));

	m->escape =
	    ~(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(found, _mm256_setzero_si256()));
	m->quote = mask64_avx2(_mm256_cmpeq_epi8(lo, quote), _mm256_cmpeq_epi8(hi, quote));
	m->high = mask64_avx2(lo, hi);
}

JSON_AVX2_FN __m256i utf8_rare_leads_avx2(__m256i v)
{
	__m256i r = _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8((char)0xe0)),
	                            _mm256_cmpeq_epi8(v, _mm256_set1_epi8((char)0xed)));
	r = _mm256_or_si256(r,
	                    _mm256_cmpeq_epi8(_mm256_max_epu8(v, _mm256_set1_epi8((char)0xf0)), v));
	return _mm256_or_si256(r,
	                       _mm256_cmpeq_epi8(_mm256_and_si256(v, _mm256_set1_epi8((char)0xfe)),
	                                         _mm256_set1_epi8((char)0xc0)));
}

JSON_AVX2_FN void utf8_block_avx2(const unsigned char *s, struct block_masks *m)
{
	const __m256i cont_end = _mm256_set1_epi8((char)0xc0);
	const __m256i lead3_min = _mm256_set1_epi8((char)0xe0);
	const __m256i lo = _mm256_loadu_si256((const void *)s);
	const __m256i hi = _mm256_loadu_si256((const void *)(s + 32));

	/* signed: 0x80-0xbf are the bytes below 0xc0 that are not ASCII */
	m->cont = mask64_avx2(_mm256_cmpgt_epi8(cont_end, lo), _mm256_cmpgt_epi8(cont_end, hi));
	m->lead3 = mask64_avx2(_mm256_cmpeq_epi8(_mm256_max_epu8(lo, lead3_min), lo),
	                       _mm256_cmpeq_epi8(_mm256_max_epu8(hi, lead3_min), hi));
	m->rare = (unsigned)_mm256_movemask_epi8(
	    _mm256_or_si256(utf8_rare_leads_avx2(lo), utf8_rare_leads_avx2(hi)));
}
#endif

/*
 * The first pass, 64 bytes at a time: checks that the whole line is UTF-8 and notes
 * where its quotes are. The UTF-8 check is not utf8_valid() because it rides on the
 * vector loads this pass makes for the quotes anyway; utf8_valid() stays the rule it
 * must agree with (test_parse_json_differential) and the fallback below. UTF-8 is
 * checked with bit masks instead of decoding: each
 * lead byte asks for continuation bytes right after it (one for C2-DF, two for
 * E0-EF), and the line is valid when the bytes asked for are exactly its
 * continuation bytes. Lines with a rare lead byte (emoji, mostly) are decoded by
 * utf8_valid() instead. The last partial block is the line's last 64 bytes with the
 * bytes seen before shifted out; a line shorter than that is copied into spaces,
 * which are neither quotes nor continuation bytes.
 *
 * When the line has no backslash and no control byte at all, no string has an
 * escape or a bad byte, and the quote after an opening quote closes the string:
 * string_end() then needs no scan. Returns 0, or -1 when the line is not UTF-8.
 *
 * Written once for both block widths: each caller passes its block functions, which
 * are inlined into it (index_line_sse2, index_line_avx2).
 */
static inline __attribute__((always_inline)) int
index_line_with(struct scan *sc, void (*index_fn)(const unsigned char *, struct block_masks *),
                void (*utf8_fn)(const unsigned char *, struct block_masks *))
{
	const unsigned char *s = sc->s;
	const size_t len = sc->len;
	unsigned char padded[64];
	uint64_t carry = 0, bad = 0;
	unsigned escapes = 0, rare = 0;

	for (size_t p = 0; p < len; p += 64) {
		const unsigned char *block = s + p;
		unsigned drop = 0; /* bytes at the start of the block seen before */
		struct block_masks m;
		uint64_t leads, wanted;

		if (len - p < 64) {
			if (len >= 64) {
				drop = (unsigned)(64 - (len - p));
				block = s + len - 64;
			} else {
				memset(padded, ' ', sizeof(padded));
				memcpy(padded, s, len);
				block = padded;
			}
		}
		index_fn(block, &m);
		escapes |= m.escape;
		m.quote >>= drop;
		m.high >>= drop;
		if (p / 64 < SCAN_INDEX_WORDS)
			sc->quotes[p / 64] = m.quote;
		if ((m.high | carry) == 0)
			continue;
		utf8_fn(block, &m);
		rare |= m.rare;
		m.cont >>= drop;
		m.lead3 >>= drop;
		leads = m.high & ~m.cont;
		wanted = carry | leads << 1 | m.lead3 << 2;
		bad |= wanted ^ m.cont;
		carry = leads >> 63 | m.lead3 >> 62;
	}
	if (rare != 0) {
		if (!utf8_valid((const char *)s, len))
			return -1;
	} else if ((bad | carry) != 0) {
		return -1;
	}
	sc->indexed = len <= 64 * SCAN_INDEX_WORDS && escapes == 0;
	if (sc->indexed) {
		/* No quotes past the end, for the word indexed_string_end reads ahead. */
		sc->index_words = (len + 63) / 64;
		sc->quotes[sc->index_words] = sc->quotes[sc->index_words + 1] = 0;
	}
	return 0;
}

static __attribute__((noinline)) int index_line_sse2(struct scan *sc)
{
	return index_line_with(sc, index_block, utf8_block);
}

#if JSON_AVX2
static __attribute__((noinline, target("avx2"))) int index_line_avx2(struct scan *sc)
{
	return index_line_with(sc, index_block_avx2, utf8_block_avx2);
}
#endif

static inline int index_line(struct scan *sc)
{
#if JSON_AVX2
	if (sc->jp->avx2)
		return index_line_avx2(sc);
#endif
	return index_line_sse2(sc);
}

/* The closing quote of a string starting at p, from the index: the next quote. */
static inline size_t indexed_string_end(const struct scan *sc, size_t p)
{
	size_t word = p / 64;
	unsigned shift = (unsigned)(p % 64);
	/* The quotes in the 64 bytes from p on: most strings end within them. */
	uint64_t ahead = sc->quotes[word] >> shift | (sc->quotes[word + 1] << 1) << (63 - shift);

	if (ahead != 0)
		return p + (unsigned)__builtin_ctzll(ahead);
	while (++word < sc->index_words) /* the next word's low bits were in `ahead` */
		if (sc->quotes[word] != 0)
			return word * 64 + (unsigned)__builtin_ctzll(sc->quotes[word]);
	return SCAN_FAIL;
}
#else
static int index_line(struct scan *sc)
{
	sc->indexed = 0;
	return utf8_valid((const char *)sc->s, sc->len) ? 0 : -1;
}
#endif

/* ---- Strings ---- */

/*
 * Scans a string body byte by byte from p (after the opening quote) to its closing
 * quote, whose position it returns, checking escapes and rejecting raw control
 * bytes (the line's UTF-8 was checked by index_line). Runs of plain text are skipped
 * eight bytes at a time. This is the whole scan without SSE2, and the last few
 * bytes of a line with it.
 */
static size_t scan_string_scalar(struct scan *sc, size_t p, int *escaped)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t highs = UINT64_C(0x8080808080808080);
	const unsigned char *s = sc->s;
	const size_t len = sc->len;

	while (p < len) {
		unsigned c = s[p];
		size_t next;

		if (c >= 0x20 && c != '"' && c != '\\') {
			p++;
			/* A word with no byte < 0x20, '"' or '\\' is all plain text. Each
			 * test is exact for "is there any such byte": a borrow only
			 * causes a false hit above a true one. */
			while (len - p >= 8) {
				uint64_t w, q, b;
				memcpy(&w, s + p, 8);
				q = w ^ (ones * '"');
				b = w ^ (ones * '\\');
				if ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
				     ((b - ones) & ~b)) &
				    highs)
					break;
				p += 8;
			}
			continue;
		}
		if (c == '"')
			return p;
		if (c != '\\')
			return scan_fail(sc, SCAN_STRING, p); /* raw control byte */
		if ((next = skip_escape(s, len, p)) == SCAN_FAIL)
			return scan_fail(sc, SCAN_STRING, p);
		*escaped = 1;
		p = next;
	}
	return scan_fail(sc, SCAN_SYNTAX, p); /* unterminated */
}

#if JSON_SIMD
/*
 * The same 16 bytes at a time, for lines the index cannot serve (a backslash or a
 * control byte somewhere, or very long): quotes, backslashes and control bytes stop
 * it; everything else, UTF-8 included, is already checked.
 */
static size_t scan_string(struct scan *sc, size_t p, int *escaped)
{
	const unsigned char *s = sc->s;
	const size_t len = sc->len;

	while (len - p >= 16) {
		const __m128i v = _mm_loadu_si128((const void *)(s + p));
		const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
		unsigned stops = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
		                              _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
		                 control));
		size_t next;

		if (stops == 0) {
			p += 16;
			continue;
		}
		p += (unsigned)__builtin_ctz(stops);
		if (s[p] == '"')
			return p;
		if (s[p] != '\\')
			return scan_fail(sc, SCAN_STRING, p); /* raw control byte */
		if ((next = skip_escape(s, len, p)) == SCAN_FAIL)
			return scan_fail(sc, SCAN_STRING, p);
		*escaped = 1;
		p = next;
	}
	return scan_string_scalar(sc, p, escaped);
}

/* The closing quote of the string whose body starts at p; *escaped is set when the
 * string has escapes. */
static inline size_t string_end(struct scan *sc, size_t p, int *escaped)
{
	if (sc->indexed) {
		size_t end = indexed_string_end(sc, p);
		return end != SCAN_FAIL ? end : scan_fail(sc, SCAN_SYNTAX, sc->len);
	}
	return scan_string(sc, p, escaped);
}
#else
static inline size_t string_end(struct scan *sc, size_t p, int *escaped)
{
	return scan_string_scalar(sc, p, escaped);
}
#endif

/* ---- Field values ---- */

/*
 * Reads "SS[.fraction]" at s + TS_HEAD_LEN as timefmt_parse_rfc3339 does (seconds
 * 00-60, at least one fraction digit, digits past the third dropped): stores
 * seconds * 1000 + milliseconds and returns where the zone starts, or 0.
 */
static size_t ts_seconds(const char *s, size_t len, int64_t *ms)
{
	size_t i = TS_HEAD_LEN + 2;
	int second, millis = 0, digits = 0;

	if (len < i || s[17] < '0' || s[17] > '9' || s[18] < '0' || s[18] > '9')
		return 0;
	second = (s[17] - '0') * 10 + (s[18] - '0');
	if (second > 60)
		return 0;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
			if (digits < 3)
				millis = millis * 10 + (s[i] - '0');
		if (digits == 0)
			return 0;
		for (; digits < 3; digits++)
			millis *= 10;
	}
	*ms = (int64_t)second * 1000 + millis;
	return i;
}

static int ts_memo_matches(const struct ts_memo *memo, const char *s, size_t len, size_t zone)
{
	uint64_t a, b;

	if (memo->zone_len != len - zone)
		return 0;
	/* The head is 17 bytes: two words and one byte, no call to memcmp. */
	memcpy(&a, s, 8);
	memcpy(&b, memo->head, 8);
	if (a != b)
		return 0;
	memcpy(&a, s + 8, 8);
	memcpy(&b, memo->head + 8, 8);
	if (a != b || s[16] != memo->head[16])
		return 0;
	if (memo->zone_len == TS_ZONE_MAX) { /* "+HH:MM": four bytes and two */
		uint32_t c, d;
		uint16_t e, f;
		memcpy(&c, s + zone, 4);
		memcpy(&d, memo->zone, 4);
		memcpy(&e, s + zone + 4, 2);
		memcpy(&f, memo->zone + 4, 2);
		return c == d && e == f;
	}
	return memo->zone_len == 1 && s[zone] == memo->zone[0];
}

/* An RFC 3339 timestamp, through the memo when its minute and zone are the last one's. */
static int parse_rfc3339(struct ts_memo *memo, const char *s, size_t len, int64_t *ms)
{
	int64_t within;
	size_t zone = ts_seconds(s, len, &within);

	if (zone != 0 && ts_memo_matches(memo, s, len, zone)) {
		*ms = memo->minute_ms + within;
		return 0;
	}
	if (timefmt_parse_rfc3339(s, len, ms) != 0)
		return -1;
	/* Valid, so the head, the seconds and a zone of 1 or 6 bytes are all there. */
	if (zone != 0 && len - zone <= TS_ZONE_MAX) {
		memcpy(memo->head, s, TS_HEAD_LEN);
		memcpy(memo->zone, s + zone, len - zone);
		memo->zone_len = len - zone;
		memo->minute_ms = *ms - within;
	}
	return 0;
}

/* Puts field f of the record back to "absent". */
static inline void clear_field(struct scan *sc, enum record_field f)
{
	struct record *rec = sc->rec;

	switch (f) {
	case FIELD_TS:
		sc->has_ts = 0;
		break;
	case FIELD_KIND:
		rec->kind = RECORD_MSG;
		break;
	case FIELD_FROM:
		rec->from = FROM_NONE;
		break;
	case FIELD_AMOUNT:
		rec->amount_fen = 0;
		break;
	case FIELD_SHOP:
		rec->shop.len = 0;
		break;
	case FIELD_BUYER:
		rec->buyer.len = 0;
		break;
	case FIELD_AGENT:
		rec->agent.len = 0;
		break;
	case FIELD_TEXT:
		rec->text.len = 0;
		break;
	case FIELD_ORDER:
		rec->order.len = 0;
		break;
	default:
		break;
	}
}

/* Sets field f from a present, non-empty value; returns the reason it is unacceptable. */
static inline const char *set_field(struct scan *sc, enum record_field f, const struct text_view *v,
                                    int is_number)
{
	struct record *rec = sc->rec;

	switch (f) {
	case FIELD_TS:
		if ((is_number ? timefmt_parse_epoch(v->ptr, v->len, &rec->ts_ms)
		               : parse_rfc3339(&sc->jp->ts, v->ptr, v->len, &rec->ts_ms)) != 0)
			return "bad timestamp";
		sc->has_ts = 1;
		return NULL;
	case FIELD_AMOUNT:
		return record_parse_amount(v->ptr, v->len, &rec->amount_fen) != 0 ? "bad amount"
		                                                                  : NULL;
	case FIELD_KIND:
		return record_parse_kind(v->ptr, v->len, &rec->kind) != 0 ? "bad kind" : NULL;
	case FIELD_FROM:
		return record_parse_from(v->ptr, v->len, &rec->from) != 0 ? "bad from" : NULL;
	case FIELD_SHOP:
		rec->shop = *v;
		return NULL;
	case FIELD_BUYER:
		rec->buyer = *v;
		return NULL;
	case FIELD_AGENT:
		rec->agent = *v;
		return NULL;
	case FIELD_TEXT:
		rec->text = *v;
		return NULL;
	case FIELD_ORDER:
		rec->order = *v;
		return NULL;
	default:
		return NULL;
	}
}

/* Grows to at most the line's length, and the line is in memory already. */
static void ensure_scratch(struct json_parser *jp, size_t len)
{
	size_t size = jp->scratch_size;

	if (len <= size)
		return;
	while (size < len)
		size *= 2;
	jp->scratch = xreallocarray(jp->scratch, size, 1);
	jp->scratch_size = size;
}

/*
 * Takes one occurrence of a known top-level field: line bytes [start, end), a string
 * body or a number or literal. Strings are borrowed from the line unless they have
 * escapes; those are decoded into scratch (all decoded strings of a line fit in the
 * line's length: an escape is never shorter than what it stands for).
 */
static inline void take_field(struct scan *sc, enum record_field f, enum value_type type,
                              int escaped, size_t start, size_t end)
{
	struct json_parser *jp = sc->jp;
	struct text_view v = {(const char *)sc->s + start, end - start};
	const char *reason = NULL;

	clear_field(sc, f);
	if (sc->bad_fields != 0)
		sc->bad_fields &= ~(1u << f);
	switch (type) {
	case VALUE_NULL:
		return; /* null is absent */
	case VALUE_STRING:
		if (escaped) {
			ensure_scratch(jp, sc->len);
			v.ptr = jp->scratch + jp->scratch_used;
			v.len = decode_string(sc->s + start, end - start,
			                      jp->scratch + jp->scratch_used);
			jp->scratch_used += v.len;
		}
		if (v.len == 0)
			return; /* "" is absent */
		reason = set_field(sc, f, &v, 0);
		break;
	case VALUE_NUMBER:
		if (f == FIELD_TS || f == FIELD_AMOUNT)
			reason = set_field(sc, f, &v, 1);
		else
			reason = wrong_type_reason[f];
		break;
	default:
		reason = wrong_type_reason[f];
		break;
	}
	if (reason != NULL) {
		sc->bad_fields |= 1u << f;
		sc->bad_reason[f] = reason;
		sc->bad_at[f] = start;
	}
}

/* Where each string-only field keeps its view in struct record; 0 for the others. */
_Static_assert(offsetof(struct record, shop) != 0, "0 marks fields that are not views");
static const unsigned char view_offset[FIELD_COUNT] = {
    [FIELD_SHOP] = offsetof(struct record, shop),   [FIELD_BUYER] = offsetof(struct record, buyer),
    [FIELD_AGENT] = offsetof(struct record, agent), [FIELD_TEXT] = offsetof(struct record, text),
    [FIELD_ORDER] = offsetof(struct record, order),
};

/*
 * Takes a string value for field f: the usual case, a string field whose value has
 * no escapes, is one store of a view into the line ("" is stored as absent); the
 * rest goes through take_field.
 */
static inline void take_string(struct scan *sc, enum record_field f, int escaped, size_t start,
                               size_t end)
{
	if (!escaped && view_offset[f] != 0) {
		struct text_view *view = (struct text_view *)((char *)sc->rec + view_offset[f]);
		view->ptr = (const char *)sc->s + start;
		view->len = end - start;
		if (sc->bad_fields != 0) /* only after a bad earlier value of a repeated key */
			sc->bad_fields &= ~(1u << f);
		return;
	}
	take_field(sc, f, VALUE_STRING, escaped, start, end);
}

/* ---- Values ---- */

/* RFC 8259 number at p: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; returns its end. */
static size_t skip_number(const unsigned char *s, size_t len, size_t p)
{
	size_t digits;

	if (p < len && s[p] == '-')
		p++;
	if (p >= len)
		return SCAN_FAIL;
	if (s[p] == '0') {
		p++;
	} else if (s[p] >= '1' && s[p] <= '9') {
		while (p < len && s[p] >= '0' && s[p] <= '9')
			p++;
	} else {
		return SCAN_FAIL;
	}
	if (p < len && s[p] == '.') {
		for (digits = ++p; p < len && s[p] >= '0' && s[p] <= '9';)
			p++;
		if (p == digits)
			return SCAN_FAIL;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < len && (s[p] == '+' || s[p] == '-'))
			p++;
		for (digits = p; p < len && s[p] >= '0' && s[p] <= '9';)
			p++;
		if (p == digits)
			return SCAN_FAIL;
	}
	return p;
}

static int literal_at(const unsigned char *s, size_t len, size_t p, const char *word, size_t n)
{
	return len - p >= n && memcmp(s + p, word, n) == 0;
}

/*
 * Scans the string, number or literal at p and returns the position after it. When
 * field names a known top-level field, the value goes to it.
 */
static size_t scan_scalar(struct scan *sc, size_t p, int field)
{
	const unsigned char *s = sc->s;
	const size_t len = sc->len;
	enum value_type type;
	size_t end;
	int escaped = 0;

	if (p >= len)
		return scan_fail(sc, SCAN_EXPECT_VALUE, p);
	switch (s[p]) {
	case '"':
		if ((end = string_end(sc, p + 1, &escaped)) == SCAN_FAIL)
			return SCAN_FAIL;
		if (field >= 0)
			take_string(sc, (enum record_field)field, escaped, p + 1, end);
		return end + 1;
	case 't':
		type = VALUE_BOOLEAN;
		end = literal_at(s, len, p, "true", 4) ? p + 4 : SCAN_FAIL;
		break;
	case 'f':
		type = VALUE_BOOLEAN;
		end = literal_at(s, len, p, "false", 5) ? p + 5 : SCAN_FAIL;
		break;
	case 'n':
		type = VALUE_NULL;
		end = literal_at(s, len, p, "null", 4) ? p + 4 : SCAN_FAIL;
		break;
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		type = VALUE_NUMBER;
		end = skip_number(s, len, p);
		break;
	default:
		return scan_fail(sc, SCAN_EXPECT_VALUE, p);
	}
	if (end == SCAN_FAIL || (end < len && !ends_primitive(s[end])))
		return scan_fail(sc, SCAN_PRIMITIVE, p);
	if (field >= 0)
		take_field(sc, (enum record_field)field, type, 0, p, end);
	return end;
}

/* Where skip_nested is inside a container. */
enum nest_state { NEST_OPEN, NEST_KEY, NEST_VALUE, NEST_NEXT, NEST_CLOSE };

/*
 * Skips the object or array at p (any depth up to JSON_NEST_MAX), validating all of
 * it, and returns the position after it. Unknown fields take this path; records
 * rarely have any nesting, so a plain state machine is fast enough.
 */
static size_t skip_nested(struct scan *sc, size_t p)
{
	const unsigned char *s = sc->s;
	const size_t len = sc->len;
	unsigned char is_object[JSON_NEST_MAX];
	unsigned depth = 0;
	enum nest_state state = NEST_OPEN;
	int escaped = 0;

	for (;;) {
		switch (state) {
		case NEST_OPEN: /* at '{' or '[' */
			if (depth == JSON_NEST_MAX)
				return scan_fail(sc, SCAN_TOKENS, p);
			is_object[depth++] = s[p] == '{';
			sc->nested_tokens++;
			p = skip_space(s, len, p + 1);
			if (p < len && s[p] == (is_object[depth - 1] ? '}' : ']'))
				state = NEST_CLOSE;
			else
				state = is_object[depth - 1] ? NEST_KEY : NEST_VALUE;
			break;
		case NEST_KEY:
			if (p >= len || s[p] != '"')
				return scan_fail(sc, SCAN_SYNTAX, p);
			if ((p = string_end(sc, p + 1, &escaped)) == SCAN_FAIL)
				return SCAN_FAIL;
			sc->nested_tokens++;
			p = skip_space(s, len, p + 1);
			if (p >= len || s[p] != ':')
				return scan_fail(sc, SCAN_SYNTAX, p);
			p = skip_space(s, len, p + 1);
			state = NEST_VALUE;
			break;
		case NEST_VALUE:
			if (p < len && (s[p] == '{' || s[p] == '[')) {
				state = NEST_OPEN;
				break;
			}
			if ((p = scan_scalar(sc, p, FIELD_UNKNOWN)) == SCAN_FAIL)
				return SCAN_FAIL;
			sc->nested_tokens++;
			state = NEST_NEXT;
			break;
		case NEST_NEXT:
			p = skip_space(s, len, p);
			if (p < len && s[p] == ',') {
				p = skip_space(s, len, p + 1);
				state = is_object[depth - 1] ? NEST_KEY : NEST_VALUE;
			} else if (p < len && s[p] == (is_object[depth - 1] ? '}' : ']')) {
				state = NEST_CLOSE;
			} else {
				return scan_fail(sc, SCAN_SYNTAX, p);
			}
			break;
		case NEST_CLOSE: /* at the innermost container's closing bracket */
			p++;
			if (--depth == 0)
				return p;
			state = NEST_NEXT;
			break;
		}
	}
}

/* ---- Keys and the top-level object ---- */

/* Whether the key at q (after its opening quote) is `name` and its closing quote. */
static inline int key_is(const unsigned char *s, size_t len, size_t q, const char *name, size_t n)
{
	return len - q > n && memcmp(s + q, name, n) == 0 && s[q + n] == '"';
}

/*
 * Recognizes the spec's field names written plainly, in place and without scanning:
 * returns the field and sets *end to the closing quote, or returns FIELD_UNKNOWN for
 * any other key, which then takes the full string scan.
 */
static inline int known_key(const unsigned char *s, size_t len, size_t q, size_t *end)
{
	int field = FIELD_UNKNOWN;
	size_t n = 0;

	if (q >= len)
		return FIELD_UNKNOWN;
	switch (s[q]) {
	case 't':
		if (key_is(s, len, q, "ts", 2))
			field = FIELD_TS, n = 2;
		else if (key_is(s, len, q, "text", 4))
			field = FIELD_TEXT, n = 4;
		break;
	case 's':
		if (key_is(s, len, q, "shop", 4))
			field = FIELD_SHOP, n = 4;
		break;
	case 'b':
		if (key_is(s, len, q, "buyer", 5))
			field = FIELD_BUYER, n = 5;
		break;
	case 'a':
		if (key_is(s, len, q, "agent", 5))
			field = FIELD_AGENT, n = 5;
		else if (key_is(s, len, q, "amount", 6))
			field = FIELD_AMOUNT, n = 6;
		break;
	case 'f':
		if (key_is(s, len, q, "from", 4))
			field = FIELD_FROM, n = 4;
		break;
	case 'k':
		if (key_is(s, len, q, "kind", 4))
			field = FIELD_KIND, n = 4;
		break;
	case 'o':
		if (key_is(s, len, q, "order", 5))
			field = FIELD_ORDER, n = 5;
		break;
	}
	*end = q + n;
	return field;
}

/*
 * The field any other top-level key names: decoded first when it has escapes
 * ("\u0074s" is ts); a raw key too long to decode into a field name is no field.
 */
static int key_field(const unsigned char *key, size_t n, int escaped)
{
	char decoded[JSON_KEY_DECODE_MAX];

	if (!escaped)
		return record_field_lookup((const char *)key, n);
	if (n > sizeof(decoded))
		return FIELD_UNKNOWN;
	return record_field_lookup(decoded, decode_string(key, n, decoded));
}

/* Checks what follows the top-level object's closing brace at p - 1. */
static int scan_end(struct scan *sc, size_t p, unsigned tokens)
{
	size_t after = skip_space(sc->s, sc->len, p);

	if (after != sc->len) {
		scan_fail(sc, SCAN_TRAILING, after);
		return -1;
	}
	if (tokens + sc->nested_tokens > LIMIT_JSON_TOKENS) {
		scan_fail(sc, SCAN_TOKENS, p);
		return -1;
	}
	return 0;
}

/*
 * The single pass: checks that the line is exactly one JSON object (RFC 8259, any
 * nesting inside) whose strings are valid UTF-8, and takes the known top-level
 * fields on the way. Returns 0, or -1 with sc->error set. Separators are looked
 * for first and whitespace skipped only when they are not there: most records have
 * no whitespace at all.
 */
static int scan_line(struct scan *sc)
{
	const unsigned char *s = sc->s;
	const size_t len = sc->len;
	size_t p = skip_space(s, len, 0);
	unsigned tokens = 1; /* the object; containers inside count themselves */

	if (p >= len || s[p] != '{') {
		scan_fail(sc, SCAN_NOT_OBJECT, p);
		return -1;
	}
	p = skip_space(s, len, p + 1);
	if (p < len && s[p] == '}')
		return scan_end(sc, p + 1, tokens);
	for (;;) {
		size_t key_end, end;
		int escaped = 0, field;

		/* A key: the spec's names are matched in place. */
		if (p >= len || s[p] != '"') {
			scan_fail(sc, SCAN_SYNTAX, p);
			return -1;
		}
		if ((field = known_key(s, len, p + 1, &key_end)) == FIELD_UNKNOWN) {
			if ((key_end = string_end(sc, p + 1, &escaped)) == SCAN_FAIL)
				return -1;
			field = key_field(s + p + 1, key_end - (p + 1), escaped);
		}
		p = key_end + 1;
		if (p >= len || s[p] != ':') {
			p = skip_space(s, len, p);
			if (p >= len || s[p] != ':') {
				scan_fail(sc, SCAN_SYNTAX, p);
				return -1;
			}
		}
		p++;

		/* Its value: a string (the usual case, kept inline), or anything else. */
		tokens += 2;
		if (p < len && s[p] == '"') {
			escaped = 0;
			if ((end = string_end(sc, p + 1, &escaped)) == SCAN_FAIL)
				return -1;
			if (field >= 0)
				take_string(sc, (enum record_field)field, escaped, p + 1, end);
			p = end + 1;
		} else {
			p = skip_space(s, len, p);
			if (p < len && (s[p] == '{' || s[p] == '[')) {
				tokens--; /* skip_nested counts the container */
				if (field >= 0)
					take_field(sc, (enum record_field)field, VALUE_CONTAINER, 0,
					           p, p);
				p = skip_nested(sc, p);
			} else {
				p = scan_scalar(sc, p, field);
			}
			if (p == SCAN_FAIL)
				return -1;
		}

		/* Then ',' and the next key, or the end of the object. */
		if (p < len && is_space(s[p]))
			p = skip_space(s, len, p);
		if (p < len && s[p] == ',') {
			p++;
			if (p < len && is_space(s[p]))
				p = skip_space(s, len, p);
			continue;
		}
		if (p < len && s[p] == '}')
			return scan_end(sc, p + 1, tokens);
		scan_fail(sc, SCAN_SYNTAX, p);
		return -1;
	}
}

/* ---- Reasons for rejected lines ----
 *
 * A rejected line gets the first error the scan met, in document order, with its
 * column (bytes from 1) unless it is the token count, which is the whole line's.
 * Invalid UTF-8 is the exception: index_line() checks the whole line before the
 * scan, so it is reported wherever it is, without a column.
 */
static const char *rejection_reason(enum scan_error error)
{
	switch (error) {
	case SCAN_NOT_OBJECT:
		return "bad JSON: not an object";
	case SCAN_STRING:
		return "bad JSON string";
	case SCAN_PRIMITIVE:
		return "bad JSON value";
	case SCAN_EXPECT_VALUE:
		return "bad JSON: expected a value";
	case SCAN_TRAILING:
		return "bad JSON: data after the object";
	case SCAN_TOKENS:
		return "too many JSON tokens";
	case SCAN_SYNTAX:
		break;
	}
	return "bad JSON";
}

/* The reason of the unacceptable field value that comes first in the line. */
static const char *first_bad_field(const struct scan *sc)
{
	int first = -1;

	for (int f = 0; f < FIELD_COUNT; f++)
		if ((sc->bad_fields & (1u << f)) &&
		    (first < 0 || sc->bad_at[f] < sc->bad_at[first]))
			first = f;
	return sc->bad_reason[first];
}

/* ---- The entry point ---- */

int json_parser_parse(struct json_parser *jp, const char *line, size_t len, struct record *rec,
                      char *err, size_t errlen)
{
	struct scan sc;

	record_clear(rec);
	jp->scratch_used = 0;
	if (len > INT_MAX / 2) {
		parse_set_error(err, errlen, "line too long");
		return -1;
	}
	sc.s = (const unsigned char *)line;
	sc.len = len;
	sc.nested_tokens = 0;
	sc.jp = jp;
	sc.rec = rec;
	sc.has_ts = 0;
	sc.bad_fields = 0;
	if (index_line(&sc) != 0) {
		parse_set_error(err, errlen, "invalid UTF-8");
		return -1;
	}
	if (scan_line(&sc) != 0) {
		/* the column in bytes, as compilers count; the token count is the line's */
		if (sc.error == SCAN_TOKENS)
			parse_set_error(err, errlen, rejection_reason(sc.error));
		else if (errlen > 0)
			snprintf(err, errlen, "%s at column %zu", rejection_reason(sc.error),
			         sc.error_pos + 1);
		return -1;
	}
	if (sc.bad_fields != 0) {
		parse_set_error(err, errlen, first_bad_field(&sc));
		return -1;
	}
	return record_finish(rec, sc.has_ts, err, errlen);
}
