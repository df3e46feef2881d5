/*
 * libFuzzer target for the JSON Lines parser: any byte string is one line. It must
 * never crash or read out of bounds, and an accepted line must yield a record
 * whose invariants hold (valid UTF-8 strings, bounded names, a known kind).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/limits.h"
#include "chatlogd/parse.h"
#include "chatlogd/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_view(struct text_view v)
{
	if (v.len > 0 && (v.ptr == NULL || !utf8_valid(v.ptr, v.len)))
		abort();
}

static void check_name(struct text_view v)
{
	check_view(v);
	if (v.len > LIMIT_NAME_BYTES || (v.len > 0 && memchr(v.ptr, '\0', v.len) != NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parser *parser;
	struct record rec;
	char err[128];
	char *line;

	if (parser == NULL && (parser = parser_new("json", err, sizeof(err))) == NULL)
		abort();
	/* An exact-size copy, so reading one byte past the line is caught by ASan. */
	if ((line = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	if (parser_parse(parser, line, size, &rec, err, sizeof(err)) == 0) {
		check_name(rec.shop);
		check_name(rec.buyer);
		check_name(rec.agent);
		check_view(rec.text);
		check_view(rec.order);
		if (rec.buyer.len == 0 || rec.amount_fen < 0 || rec.kind > RECORD_PAY)
			abort();
		if (rec.kind == RECORD_MSG && rec.from == FROM_NONE)
			abort();
		if (rec.from == FROM_AGENT && rec.agent.len == 0)
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	free(line);
	return 0;
}
