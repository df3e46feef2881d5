/*
 * json_parsers adapter for jansson: builds a tree per line, copying (and unescaping)
 * every string and checking UTF-8, then looks the record fields up by name.
 */
#include <jansson.h>

#include "json_parsers.h"

static int jansson_setup(void **state)
{
	*state = NULL;
	return 0;
}

static int jansson_parse(void *state, const char *line, size_t len, struct tally *t)
{
	json_error_t error;
	json_t *root;
	size_t i;

	(void)state;
	if ((root = json_loadb(line, len, 0, &error)) == NULL)
		return -1;
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	for (i = 0; i < FIELD_TOTAL; i++) {
		json_t *v = json_object_get(root, field_names[i]);

		if (v == NULL)
			continue;
		t->fields++;
		if (json_is_string(v))
			t->bytes += json_string_length(v) + (json_string_value(v)[0] != '\0');
		else if (json_is_number(v))
			t->bytes += (uint64_t)json_number_value(v) & 1;
	}
	json_decref(root);
	return 0;
}

static void jansson_teardown(void *state)
{
	(void)state;
}

const struct bench_parser bench_parser_jansson = {
    "jansson",        "tree, strings copied, UTF-8 checked", jansson_setup, jansson_parse,
    jansson_teardown,
};
