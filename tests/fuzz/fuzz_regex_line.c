/*
 * libFuzzer target for the line-regex format. An input starting with "#!" is a
 * format file: it is loaded (errors are fine) and, when it loads, a few fixed lines
 * are matched with it. Any other input is one line for a Qianniu-like format.
 * Nothing may crash, read out of bounds or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/parse.h"
#include "chatlogd/parse_internal.h"
#include "chatlogd/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char line_format[] =
    "pattern = (?x) ^\n"
    "  (?<ts> \\d{4}-\\d\\d-\\d\\d [ ] \\d\\d:\\d\\d:\\d\\d (?: \\.\\d+ )? ) [ ]\n"
    "  \\[ (?<shop> [^\\]]* ) \\] [ ]\n"
    "  (?: (?<from> 买家 ) [ ] (?<buyer> [^\\s：]+ ) (?: [ ] -> [ ] 客服 [ ] (?<agent> [^\\s：]+ ) "
    ")?\n"
    "      (?: :[ ] | ： ) (?<text> .* )\n"
    "    | (?<from> \\S+ ) [ ] (?<agent> \\S+ ) [ ] -> [ ] 买家 [ ] (?<buyer> [^\\s：]+ )\n"
    "      (?: :[ ] | ： ) (?<text> .* )\n"
    "    | (?<kind> \\S+ ) [ ] 买家 [ ] (?<buyer> \\S+ ) [ ] 订单 [ ] (?<order> \\S+ )\n"
    "      (?: [ ] 金额 [ ] (?<amount> \\S+ ) )?\n"
    "  ) $\n"
    "ts_format = %Y-%m-%d %H:%M:%S\n"
    "from.买家 = buyer\nfrom.客服 = agent\nfrom.机器人 = bot\n"
    "kind.下单 = order\nkind.付款 = pay\n";

static const char *const sample_lines[] = {
    "2026-11-24 10:00:00 [s1] 买家 b1 -> 客服 a1: 在吗",
    "2026-11-24T10:00:00+08:00 b1 buyer hello",
    "1795485600.5|b1|agent|a1|text",
    "",
};

static void parse_one(struct parser *p, const char *line, size_t len)
{
	struct record rec;
	char err[128];
	if (parser_parse(p, line, len, &rec, err, sizeof(err)) == 0) {
		if (rec.buyer.len == 0 || !utf8_valid(rec.text.ptr, rec.text.len))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parser *fixed;
	char err[256];
	char *copy;

	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (size >= 2 && memcmp(copy, "#!", 2) == 0) {
		struct parser *p = parser_new_regex_buffer("fuzz.re", copy, size, err, sizeof(err));
		if (p != NULL) {
			for (size_t i = 0; i < sizeof(sample_lines) / sizeof(sample_lines[0]); i++)
				parse_one(p, sample_lines[i], strlen(sample_lines[i]));
			parser_free(p);
		}
	} else {
		if (fixed == NULL &&
		    (fixed = parser_new_regex_buffer("fixed.re", line_format, strlen(line_format),
		                                     err, sizeof(err))) == NULL)
			abort();
		parse_one(fixed, copy, size);
	}
	free(copy);
	return 0;
}
