/*
 * scoreboard.c owns the reading side of the counters for people: hash fields back
 * into counter rows, histogram percentiles, ranked lost reasons, the conversion ×
 * AOV quadrant, alert messages and JSON strings. It does no I/O but writing JSON
 * strings to a FILE; fetching from Redis and the layout are chatlogctl.c's.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/decimal.h"
#include "chatlogd/scoreboard.h"
#include "chatlogd/utf8.h"
#include "chatlogd/json_write.h"
#include "chatlogd/util.h"

/* A counter field is read as it always was, at most 18 digits: far past any real count,
 * and nine of them still sum inside int64_t. */
#define SCOREBOARD_COUNT_MAX 999999999999999999ULL

/* Nesting deeper than this in an alert message is not an alert message. */
#define SCOREBOARD_JSON_DEPTH 32

/* ---- counters hash fields ---- */

static int valid_reason_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > LIMIT_REASON_BYTES)
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
}

/* The counter id a field names, or -1; a lost reason is interned into reasons (and
 * -2 is returned when it cannot be). */
static int field_counter(const char *field, struct reasons *reasons)
{
	char name[64];
	unsigned i;

	if (strncmp(field, "lost:", 5) == 0) {
		if (!valid_reason_name(field + 5))
			return -2;
		i = reasons_intern(reasons, field + 5);
		return i == REASON_NONE ? -2 : (int)(COUNTER_LOST_REASON + i);
	}
	if (strncmp(field, "frt_h:", 6) == 0 || strncmp(field, "resp_h:", 7) == 0) {
		unsigned first = field[0] == 'f' ? COUNTER_FRT_H : COUNTER_RESP_H;
		for (i = 0; i < HISTOGRAM_BUCKETS; i++)
			if (strcmp(field, counters_field_name((enum counter_id)(first + i), NULL,
			                                      name, sizeof(name))) == 0)
				return (int)(first + i);
		return -1;
	}
	for (i = 0; i < COUNTER_WIDTH; i++)
		if (counters_is_plain(i) &&
		    strcmp(field,
		           counters_field_name((enum counter_id)i, NULL, name, sizeof(name))) == 0)
			return (int)i;
	return -1;
}

int scoreboard_field(int64_t *value, struct reasons *reasons, const char *field, const char *text)
{
	int id = field_counter(field, reasons);
	uint64_t count;

	if (id == -1)
		return 0;
	if (id == -2 || decimal_parse(text, strlen(text), SCOREBOARD_COUNT_MAX, &count) == -1)
		return -1;
	value[id] += (int64_t)count;
	return 1;
}

/* ---- percentiles and formats ---- */

void scoreboard_percentile(const int64_t *histogram, unsigned percent,
                           struct scoreboard_percentile *out)
{
	int64_t samples = 0, rank, cumulative = 0;
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < HISTOGRAM_BUCKETS; i++)
		samples += histogram[i] > 0 ? histogram[i] : 0;
	out->samples = samples;
	if (samples == 0 || percent == 0 || percent > 100)
		return;
	rank = (samples * (int64_t)percent + 99) / 100;
	for (i = 0; i < HISTOGRAM_BUCKETS; i++) {
		cumulative += histogram[i] > 0 ? histogram[i] : 0;
		if (cumulative >= rank)
			break;
	}
	out->present = 1;
	out->bucket = i;
	out->lower_ms = i == 0 ? 0 : counters_bucket_upper(i - 1);
	out->upper_ms = counters_bucket_upper(i);
}

const char *scoreboard_bucket_label(unsigned bucket, char *out, size_t size)
{
	if (bucket >= HISTOGRAM_BUCKETS - 1)
		snprintf(out, size, ">%" PRId64 "s",
		         counters_bucket_upper(HISTOGRAM_BUCKETS - 2) / 1000);
	else
		snprintf(out, size, "<=%" PRId64 "s", counters_bucket_upper(bucket) / 1000);
	return out;
}

const char *scoreboard_format_percentile(const struct scoreboard_percentile *p, char *out,
                                         size_t size)
{
	if (!p->present) {
		snprintf(out, size, "-");
		return out;
	}
	return scoreboard_bucket_label(p->bucket, out, size);
}

/* value / (10 × per_tenth) with one decimal, rounded half up, then unit (12549 ms,
 * 100 ms a tenth: "12.5s"); "-" when !has or value < 0. */
static const char *format_tenths(int has, int64_t value, int64_t per_tenth, const char *unit,
                                 char *out, size_t size)
{
	int64_t tenths = (value + per_tenth / 2) / per_tenth;

	if (has && value >= 0)
		snprintf(out, size, "%" PRId64 ".%" PRId64 "%s", tenths / 10, tenths % 10, unit);
	else
		snprintf(out, size, "-");
	return out;
}

const char *scoreboard_format_seconds(int has, int64_t ms, char *out, size_t size)
{
	return format_tenths(has, ms, 100, "s", out, size);
}

const char *scoreboard_format_percent(int has, int64_t e4, char *out, size_t size)
{
	return format_tenths(has, e4, 10, "%", out, size);
}

int64_t scoreboard_ratio_e4(int64_t part, int64_t whole)
{
	return whole > 0 ? (part * 20000 / whole + 1) / 2 : 0;
}

/* ---- lost reasons ---- */

static const struct reasons *rank_names; /* qsort has no context argument in C11 */

static int compare_reasons(const void *a, const void *b)
{
	const struct scoreboard_reason *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(rank_names->names[x->id], rank_names->names[y->id]);
}

unsigned scoreboard_rank_reasons(const int64_t *value, const struct reasons *reasons,
                                 struct scoreboard_reason *out, unsigned max)
{
	struct scoreboard_reason all[LIMIT_REASONS];
	unsigned count = 0, i;

	for (i = 0; i < reasons->count && i < LIMIT_REASONS; i++)
		if (value[COUNTER_LOST_REASON + i] > 0) {
			all[count].id = i;
			all[count].count = value[COUNTER_LOST_REASON + i];
			count++;
		}
	rank_names = reasons;
	qsort(all, count, sizeof(all[0]), compare_reasons);
	if (count > max)
		count = max;
	memcpy(out, all, count * sizeof(all[0]));
	return count;
}

/* ---- quadrant ---- */

/* a/b >= c/d for non-negative counts with b, d > 0, exactly. */
static int fraction_at_least(int64_t a, int64_t b, int64_t c, int64_t d)
{
	return (__int128)a * d >= (__int128)c * b;
}

enum scoreboard_quadrant scoreboard_quadrant(const int64_t *agent, const int64_t *shop)
{
	int high_conversion, high_aov;

	if (agent[COUNTER_INQUIRIES] < SCOREBOARD_MIN_INQUIRIES)
		return QUADRANT_TOO_FEW;
	if (agent[COUNTER_PAID] == 0 || shop[COUNTER_PAID] == 0 || shop[COUNTER_INQUIRIES] == 0)
		return QUADRANT_NO_PAID;
	high_conversion = fraction_at_least(agent[COUNTER_ORDERED], agent[COUNTER_INQUIRIES],
	                                    shop[COUNTER_ORDERED], shop[COUNTER_INQUIRIES]);
	high_aov = fraction_at_least(agent[COUNTER_SALES_FEN], agent[COUNTER_PAID],
	                             shop[COUNTER_SALES_FEN], shop[COUNTER_PAID]);
	if (high_conversion)
		return high_aov ? QUADRANT_BEST : QUADRANT_RELATED_SELLING;
	return high_aov ? QUADRANT_SPEED : QUADRANT_REVIEW;
}

const char *scoreboard_quadrant_code(enum scoreboard_quadrant q)
{
	switch (q) {
	case QUADRANT_BEST:
		return "best";
	case QUADRANT_RELATED_SELLING:
		return "related_selling";
	case QUADRANT_SPEED:
		return "speed";
	case QUADRANT_REVIEW:
		return "review";
	case QUADRANT_NO_PAID:
		return "no_paid";
	case QUADRANT_TOO_FEW:
		break;
	}
	return "too_few";
}

const char *scoreboard_quadrant_label(enum scoreboard_quadrant q)
{
	switch (q) {
	case QUADRANT_BEST:
		return "high/high: best";
	case QUADRANT_RELATED_SELLING:
		return "high conv, low AOV: train on related selling (关联销售)";
	case QUADRANT_SPEED:
		return "low conv, high AOV: look at response speed";
	case QUADRANT_REVIEW:
		return "low/low: review";
	case QUADRANT_NO_PAID:
		return "no paid order (AOV unknown): review";
	case QUADRANT_TOO_FEW:
		break;
	}
	return "too few inquiries";
}

/* ---- JSON ---- */

char *scoreboard_display_text(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	char *out;
	size_t i = 0, o = 0, n;

	out = xmalloc(len + 1);
	while (i < len) {
		n = utf8_sequence_length(s + i, len - i);
		/* C1 controls are U+0080..U+009F: 0xc2 0x80..0x9f in UTF-8. */
		if (n == 0 || s[i] < 0x20 || s[i] == 0x7f ||
		    (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			out[o++] = '?';
			i += n == 0 ? 1 : n;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

/* A strict reader over one JSON text (RFC 8259), for alert messages. */
struct json_reader {
	const unsigned char *s;
	size_t len, pos;
	int depth;
};

static void json_space(struct json_reader *r)
{
	while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
	                           r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
		r->pos++;
}

static int hex4(const unsigned char *s, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Appends code point cp as UTF-8 to out if it fits whole (keeping room for the NUL);
 * a string that does not fit is cut at a character boundary. */
static void put_code_point(char *out, size_t size, size_t *used, uint32_t cp)
{
	char buf[4];
	size_t n = utf8_encode(cp, buf);

	if (out == NULL || *used == SIZE_MAX)
		return;
	if (*used + n >= size) {
		*used = SIZE_MAX; /* full: keep what fits, drop the rest */
		return;
	}
	memcpy(out + *used, buf, n);
	*used += n;
	out[*used] = '\0';
}

/* Reads a string at r->pos (which is at its '"'), decoding it into out (size bytes,
 * NUL-terminated; NULL to only check it). */
static int json_string_value(struct json_reader *r, char *out, size_t size)
{
	size_t used = 0, n;
	uint32_t cp, low;

	if (out != NULL && size > 0)
		out[0] = '\0';
	r->pos++;
	while (r->pos < r->len) {
		unsigned char c = r->s[r->pos];
		if (c == '"') {
			r->pos++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			if ((n = utf8_sequence_length(r->s + r->pos, r->len - r->pos)) == 0)
				return -1;
			/* Decode only to copy it; validity is settled above. */
			cp = utf8_decode(r->s, r->len, &r->pos);
			put_code_point(out, size, &used, cp);
			continue;
		}
		if (r->pos + 1 >= r->len)
			return -1;
		c = r->s[r->pos + 1];
		r->pos += 2;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			cp = c;
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (r->pos + 4 > r->len || hex4(r->s + r->pos, &cp) == -1)
				return -1;
			r->pos += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (r->pos + 6 > r->len || r->s[r->pos] != '\\' ||
				    r->s[r->pos + 1] != 'u' ||
				    hex4(r->s + r->pos + 2, &low) == -1 || low < 0xdc00 ||
				    low > 0xdfff)
					return -1;
				r->pos += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
			}
			break;
		default:
			return -1;
		}
		put_code_point(out, size, &used, cp);
	}
	return -1;
}

/* Skips the digits at r->pos; returns how many there were. */
static size_t json_digits(struct json_reader *r)
{
	size_t start = r->pos;

	while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9')
		r->pos++;
	return r->pos - start;
}

/* Reads a number; *integer gets its value when it is a plain integer that fits,
 * else *is_integer = 0. */
static int json_number(struct json_reader *r, int64_t *integer, int *is_integer)
{
	size_t start = r->pos, digits;
	int negative = 0;
	int64_t value = 0;

	*is_integer = 1;
	if (r->pos < r->len && r->s[r->pos] == '-') {
		negative = 1;
		r->pos++;
	}
	digits = r->pos;
	while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') {
		if (value > (INT64_MAX - 9) / 10)
			*is_integer = 0;
		else
			value = value * 10 + (r->s[r->pos] - '0');
		r->pos++;
	}
	if (r->pos == digits || (r->s[digits] == '0' && r->pos - digits > 1))
		return -1;
	if (r->pos < r->len && r->s[r->pos] == '.') {
		*is_integer = 0;
		r->pos++;
		if (json_digits(r) == 0)
			return -1;
	}
	if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
		*is_integer = 0;
		r->pos++;
		if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-'))
			r->pos++;
		if (json_digits(r) == 0)
			return -1;
	}
	*integer = negative ? -value : value;
	return r->pos > start ? 0 : -1;
}

static int json_literal(struct json_reader *r, const char *word)
{
	size_t n = strlen(word);

	if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n) != 0)
		return -1;
	r->pos += n;
	return 0;
}

static int json_value(struct json_reader *r);

/* Reads a member's key at r->pos into key (NULL: only checks it), and the ':' after. */
static int json_member_key(struct json_reader *r, char *key, size_t size)
{
	if (r->pos >= r->len || r->s[r->pos] != '"' || json_string_value(r, key, size) == -1)
		return -1;
	json_space(r);
	if (r->pos >= r->len || r->s[r->pos] != ':')
		return -1;
	r->pos++;
	return 0;
}

/* After a member or element: 1 at a ',' (more follow, space skipped), 0 at close
 * (read), -1 at anything else. */
static int json_next_member(struct json_reader *r, char close)
{
	json_space(r);
	if (r->pos < r->len && r->s[r->pos] == ',') {
		r->pos++;
		json_space(r);
		return 1;
	}
	if (r->pos < r->len && r->s[r->pos] == close) {
		r->pos++;
		return 0;
	}
	return -1;
}

/* An object or array at r->pos; members' values are checked and dropped. */
static int json_container(struct json_reader *r)
{
	int object = r->s[r->pos] == '{';
	char close = object ? '}' : ']';
	int more;

	if (++r->depth > SCOREBOARD_JSON_DEPTH)
		return -1;
	r->pos++;
	json_space(r);
	if (r->pos < r->len && r->s[r->pos] == close) {
		r->pos++;
		r->depth--;
		return 0;
	}
	do {
		if ((object && json_member_key(r, NULL, 0) == -1) || json_value(r) == -1)
			return -1;
	} while ((more = json_next_member(r, close)) == 1);
	r->depth--;
	return more;
}

/* Any value at r->pos (after optional space), checked and dropped. */
static int json_value(struct json_reader *r)
{
	int64_t ignored;
	int is_integer;

	json_space(r);
	if (r->pos >= r->len)
		return -1;
	switch (r->s[r->pos]) {
	case '{':
	case '[':
		return json_container(r);
	case '"':
		return json_string_value(r, NULL, 0);
	case 't':
		return json_literal(r, "true");
	case 'f':
		return json_literal(r, "false");
	case 'n':
		return json_literal(r, "null");
	default:
		return json_number(r, &ignored, &is_integer);
	}
}

int scoreboard_json_valid(const char *s, size_t len)
{
	struct json_reader r = {(const unsigned char *)s, len, 0, 0};

	if (json_value(&r) == -1)
		return 0;
	json_space(&r);
	return r.pos == r.len;
}

/* The text field of an alert a key names, or NULL. */
static char *alert_text_field(struct scoreboard_alert *a, const char *key, size_t *size)
{
	struct {
		const char *key;
		char *field;
		size_t size;
	} fields[] = {
	    {"type", a->type, sizeof(a->type)},    {"shop", a->shop, sizeof(a->shop)},
	    {"agent", a->agent, sizeof(a->agent)}, {"metric", a->metric, sizeof(a->metric)},
	    {"ts", a->ts, sizeof(a->ts)},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(key, fields[i].key) == 0) {
			*size = fields[i].size;
			return fields[i].field;
		}
	return NULL;
}

static int64_t *alert_number_field(struct scoreboard_alert *a, const char *key)
{
	if (strcmp(key, "value_ms") == 0)
		return &a->value_ms;
	if (strcmp(key, "target_ms") == 0)
		return &a->target_ms;
	if (strcmp(key, "samples") == 0)
		return &a->samples;
	if (strcmp(key, "window_s") == 0)
		return &a->window_s;
	return NULL;
}

/* One member of the alert object: a known field is kept, anything else checked. */
static int alert_member(struct json_reader *r, struct scoreboard_alert *a)
{
	char key[32], *text;
	int64_t *number, value;
	size_t size;
	int is_integer;

	if (json_member_key(r, key, sizeof(key)) == -1)
		return -1;
	json_space(r);
	if (r->pos >= r->len)
		return -1;
	if (r->s[r->pos] == '"' && (text = alert_text_field(a, key, &size)) != NULL)
		return json_string_value(r, text, size);
	if ((r->s[r->pos] == '-' || (r->s[r->pos] >= '0' && r->s[r->pos] <= '9')) &&
	    (number = alert_number_field(a, key)) != NULL) {
		if (json_number(r, &value, &is_integer) == -1)
			return -1;
		if (is_integer)
			*number = value;
		return 0;
	}
	return json_value(r);
}

int scoreboard_alert_parse(const char *json, size_t len, struct scoreboard_alert *out)
{
	struct json_reader r = {(const unsigned char *)json, len, 0, 1};
	int more;

	memset(out, 0, sizeof(*out));
	out->value_ms = out->target_ms = out->samples = out->window_s = -1;
	json_space(&r);
	if (r.pos >= r.len || r.s[r.pos] != '{')
		return -1;
	r.pos++;
	json_space(&r);
	if (r.pos < r.len && r.s[r.pos] == '}') {
		r.pos++;
	} else {
		do {
			if (alert_member(&r, out) == -1)
				return -1;
		} while ((more = json_next_member(&r, '}')) == 1);
		if (more == -1)
			return -1;
	}
	json_space(&r);
	return r.pos == r.len ? 0 : -1;
}
