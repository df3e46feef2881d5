/*
 * libFuzzer target for config.c. The input is read as a config file over the
 * defaults; whatever loads must survive config_dump and config_load unchanged (the
 * second dump equals the first). The input is also split at its first '=' into
 * key and value for config_set. config_load_buffer_all (--check-config) must end,
 * find an error exactly when config_load_buffer does, and list its first one first.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dump(const struct config *cfg, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (f == NULL)
		abort();
	config_dump(cfg, f);
	fclose(f);
	return text;
}

static void check_round_trip(const uint8_t *data, size_t size)
{
	struct config cfg, back;
	char err[512], *first, *second;
	size_t first_len, second_len;

	config_defaults(&cfg);
	if (config_load_buffer(&cfg, "fuzz", (const char *)data, size, err, sizeof(err)) == -1) {
		config_free(&cfg);
		return;
	}
	first = dump(&cfg, &first_len);
	config_defaults(&back);
	if (config_load_buffer(&back, "dump", first, first_len, err, sizeof(err)) == -1) {
		fprintf(stderr, "dump does not load: %s\n%s\n", err, first);
		abort();
	}
	second = dump(&back, &second_len);
	if (first_len != second_len || memcmp(first, second, first_len) != 0) {
		fprintf(stderr, "round trip changed the settings:\n%s\n---\n%s\n", first, second);
		abort();
	}
	free(first);
	free(second);
	config_free(&cfg);
	config_free(&back);
}

struct first_error {
	int count;
	char message[512];
};

static void keep_first(void *ctx, const char *message)
{
	struct first_error *first = ctx;

	if (first->count++ == 0)
		snprintf(first->message, sizeof(first->message), "%s", message);
}

static void check_all_errors(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct first_error first = {0, ""};
	char err[512];
	int one, all;

	config_defaults(&cfg);
	one = config_load_buffer(&cfg, "fuzz", (const char *)data, size, err, sizeof(err));
	config_free(&cfg);
	config_defaults(&cfg);
	all = config_load_buffer_all(&cfg, "fuzz", (const char *)data, size, keep_first, &first);
	config_free(&cfg);
	if ((one == -1) != (all > 0) || (one == -1 && strcmp(err, first.message) != 0)) {
		fprintf(stderr, "config_load_buffer: %d %s\nconfig_load_buffer_all: %d %s\n", one,
		        err, all, first.message);
		abort();
	}
}

static void check_set(const uint8_t *data, size_t size)
{
	const uint8_t *eq = memchr(data, '=', size);
	char *key, *value, err[512];
	struct config cfg;

	if (eq == NULL)
		return;
	key = strndup((const char *)data, (size_t)(eq - data));
	value = strndup((const char *)eq + 1, size - (size_t)(eq - data) - 1);
	if (key != NULL && value != NULL) {
		config_defaults(&cfg);
		if (config_set(&cfg, key, value, err, sizeof(err)) == 0) {
			size_t len;
			free(dump(&cfg, &len));
		}
		config_free(&cfg);
	}
	free(key);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_round_trip(data, size);
	check_all_errors(data, size);
	check_set(data, size);
	return 0;
}
