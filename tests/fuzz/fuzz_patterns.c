/*
 * libFuzzer target for rules.c. Two checks per input:
 *   1. The whole input as a patterns file: loading never crashes or leaks, and
 *      whatever loaded is matched against a few fixed messages from every sender.
 *      Also a fixed transcript against its `inquiry` rules, and the skip rules.
 *   2. The first line as one pattern, the rest as a message (mapped onto an alphabet
 *      so it is valid UTF-8): the literal prefilter must give the same answer as the
 *      same pattern behind \Q\E, which the prefilter cannot read and always runs;
 *      likewise for the pattern as an `inquiry` rule, the message as a transcript.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/log.h"
#include "chatlogd/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const messages[] = {
    "在吗，这款有现货吗", "太贵了，能便宜点吗", "亲，暂时没货了哦", "abc SF ems 48小时", "",
};

/* Text characters: ASCII that patterns like to name, letters with Unicode case
 * partners (ſ, K), and Chinese from the shipped file. */
static const char *const alphabet[] = {
    "a",  "b",  "c",  "s",  "f",  "k",        "K",
    "S",  "x",  " ",  ".",  "1",  "\xc5\xbf", "\xe2\x84\xaa",
    "缺", "货", "没", "了", "有", "不",       "到",
    "发", "贵", "便", "宜", "，", "？",       "\n",
};

static const char transcript[] = "B:在吗，这款有现货吗\nA:亲，暂时没货了哦\nB:太贵了\n";

static void check_whole_file(const uint8_t *data, size_t size)
{
	char err[256];
	struct rules *r = rules_load_buffer("fuzz", (const char *)data, size, err, sizeof(err));

	if (r == NULL)
		return;
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		for (int from = FROM_NONE; from <= FROM_BOT; from++)
			(void)rules_first_match(r, (enum record_from)from, messages[i],
			                        strlen(messages[i]), RULES_NONE);
	(void)rules_first_inquiry_match(r, transcript, strlen(transcript), RULES_NONE);
	(void)rules_skips(r, FROM_BUYER, messages[0], strlen(messages[0]));
	(void)rules_label(r, 0);
	(void)rules_reason(r, rules_count(r));
	rules_free(r);
}

static void check_prefilter_scope(const uint8_t *data, size_t size, int inquiry)
{
	const uint8_t *newline = memchr(data, '\n', size);
	size_t pattern_len = newline != NULL ? (size_t)(newline - data) : size;
	char *fast_text, *plain_text, text[512], err[256];
	struct rules *fast = NULL, *plain = NULL;
	size_t text_len = 0;

	/* Blanks around a pattern are field separators, not pattern, in a rules line. */
	if (pattern_len == 0 || data[0] == ' ' || data[0] == '\t' ||
	    memchr(data, '\r', pattern_len) != NULL)
		return;
	fast_text = malloc(pattern_len + 32);
	plain_text = malloc(pattern_len + 32);
	if (fast_text == NULL || plain_text == NULL)
		goto end;
	/* "r r any " and "r r inquiry " are both padded to 12 bytes */
	memcpy(fast_text, inquiry ? "r r inquiry " : "r r any     ", 12);
	memcpy(fast_text + 12, data, pattern_len);
	memcpy(plain_text, inquiry ? "r r inquiry \\Q\\E" : "r r any     \\Q\\E", 16);
	memcpy(plain_text + 16, data, pattern_len);
	fast = rules_load_buffer("fast", fast_text, pattern_len + 12, err, sizeof(err));
	plain = rules_load_buffer("plain", plain_text, pattern_len + 16, err, sizeof(err));
	if (fast == NULL || plain == NULL || rules_count(fast) != 1 || rules_count(plain) != 1)
		goto end;
	for (size_t i = pattern_len + 1; i < size && text_len + 4 < sizeof(text); i++) {
		const char *c = alphabet[data[i] % (sizeof(alphabet) / sizeof(alphabet[0]))];
		memcpy(text + text_len, c, strlen(c));
		text_len += strlen(c);
	}
	if (inquiry) {
		unsigned a = rules_first_inquiry_match(fast, text, text_len, RULES_NONE);
		unsigned b = rules_first_inquiry_match(plain, text, text_len, RULES_NONE);
		if (a != b && rules_limit_hits(fast) == 0 && rules_limit_hits(plain) == 0) {
			fprintf(stderr, "prefilter %u, plain %u for inquiry pattern \"%.*s\"\n", a,
			        b, (int)pattern_len, (const char *)data);
			abort();
		}
		goto end;
	}
	for (int from = FROM_NONE; from <= FROM_BOT; from++) {
		unsigned a =
		    rules_first_match(fast, (enum record_from)from, text, text_len, RULES_NONE);
		unsigned b =
		    rules_first_match(plain, (enum record_from)from, text, text_len, RULES_NONE);
		/* A limit hit on one side only is not a disagreement about the pattern. */
		if (a != b && rules_limit_hits(fast) == 0 && rules_limit_hits(plain) == 0) {
			fprintf(stderr,
			        "prefilter %u, plain %u for pattern \"%.*s\" text \"%.*s\"\n", a, b,
			        (int)pattern_len, (const char *)data, (int)text_len, text);
			abort();
		}
	}
end:
	rules_free(fast);
	rules_free(plain);
	free(fast_text);
	free(plain_text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_LEVEL_ERR);
	check_whole_file(data, size);
	check_prefilter_scope(data, size, 0);
	check_prefilter_scope(data, size, 1);
	return 0;
}
