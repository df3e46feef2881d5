/*
 * libFuzzer target comparing chatlogd's JSON Lines parser with the jsmn-based
 * parser it replaced (tests/oracle/) and with itself built without SSE2: any byte
 * string is one line, and they must agree on accept or reject, on every record
 * field and on the kind of error (the builds of our parser: on the exact reason).
 * A disagreement aborts with both outcomes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../oracle/json_differential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_trio trio;
	static int ready;
	char why[256];
	char *line;

	if (!ready) {
		if (json_trio_init(&trio) != 0)
			abort();
		ready = 1;
	}
	/* An exact-size copy, so reading one byte past the line is caught by ASan. */
	if ((line = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	if (json_trio_compare(&trio, line, size, why, sizeof(why)) != 0) {
		fprintf(stderr, "fuzz_json_differential: %s\n", why);
		abort();
	}
	free(line);
	return 0;
}
