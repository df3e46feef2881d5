/*
 * What the import fuzz targets share: any bytes, decoded as import_input does (UTF-8,
 * GBK or UTF-16 by BOM), parsed by one shape's parser, finished and written. Nothing
 * may crash, leak or read out of bounds, and every input line must be accounted for
 * exactly once.
 */
#ifndef CHATLOGD_FUZZ_IMPORT_H
#define CHATLOGD_FUZZ_IMPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "chatlogd/import_batch.h"
#include "chatlogd/import_chat.h"
#include "chatlogd/import_input.h"
#include "chatlogd/timefmt.h"

/* One shape's parser, with the roles the chat shapes take. */
typedef void (*fuzz_import_parse_fn)(const struct import_input *input,
                                     const struct import_roles *roles, struct import_batch *batch);

static inline int fuzz_import_run(const uint8_t *data, size_t size, fuzz_import_parse_fn parse)
{
	static const char *const agents[] = {"小美"};
	static const char *const bots[] = {"店:店小蜜"};
	static int zone_set;
	struct import_roles roles = {.agents = agents,
	                             .agent_count = 1,
	                             .bots = bots,
	                             .bot_count = 1,
	                             .transfer_idle_ms = 600000};
	struct import_batch *batch;
	struct import_input *input;
	FILE *sink;

	if (!zone_set) {
		timefmt_set_timezone("Asia/Shanghai");
		zone_set = 1;
	}
	input = import_input_from_buffer("fuzz", (const char *)data, size, IMPORT_ENCODING_AUTO);
	batch = import_batch_new();
	import_batch_begin_input(batch, "fuzz");
	parse(input, &roles, batch);
	if (import_batch_line_total(batch) != input->count)
		abort();
	import_batch_finish(batch);
	if ((sink = fopen("/dev/null", "w")) != NULL) {
		import_batch_write(batch, sink);
		fclose(sink);
	}
	import_batch_free(batch);
	import_input_free(input);
	return 0;
}

#endif
