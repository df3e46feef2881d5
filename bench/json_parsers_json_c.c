/*
 * json_parsers adapter for json-c: one reusable tokener in strict mode with UTF-8
 * checking (as SPEC §2 requires), a tree per line, fields looked up by name.
 */
#include <json-c/json.h>

#include "json_parsers.h"

static int json_c_setup(void **state)
{
	struct json_tokener *tok;

	if ((tok = json_tokener_new()) == NULL)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*state = tok;
	return 0;
}

static int json_c_parse(void *state, const char *line, size_t len, struct tally *t)
{
	struct json_tokener *tok = state;
	struct json_object *root, *v;
	size_t i;

	json_tokener_reset(tok);
	root = json_tokener_parse_ex(tok, line, (int)len);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return -1;
	}
	for (i = 0; i < FIELD_TOTAL; i++) {
		if (!json_object_object_get_ex(root, field_names[i], &v) || v == NULL)
			continue;
		t->fields++;
		if (json_object_is_type(v, json_type_string))
			t->bytes += (uint64_t)json_object_get_string_len(v) +
			            (json_object_get_string(v)[0] != '\0');
		else if (json_object_is_type(v, json_type_double) ||
		         json_object_is_type(v, json_type_int))
			t->bytes += (uint64_t)json_object_get_double(v) & 1;
	}
	json_object_put(root);
	return 0;
}

static void json_c_teardown(void *state)
{
	json_tokener_free(state);
}

const struct bench_parser bench_parser_json_c = {
    "json-c", "tree, strict, UTF-8 checked", json_c_setup, json_c_parse, json_c_teardown,
};
