/*
 * libFuzzer target for the import orders parser: any bytes, decoded as import_input
 * does (UTF-8, GBK or UTF-16 by BOM), parsed, finished and written. Nothing may crash,
 * leak or read out of bounds, and every input line must be accounted for exactly once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "chatlogd/import_batch.h"
#include "chatlogd/import_chat.h"
#include "chatlogd/import_input.h"
#include "chatlogd/import_orders.h"
#include "chatlogd/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const agents[] = {"小美"};
	static const char *const bots[] = {"店:店小蜜"};
	static int zone_set;
	struct import_roles roles = {.agents = agents,
	                             .agent_count = 1,
	                             .bots = bots,
	                             .bot_count = 1,
	                             .transfer_idle_ms = 600000};
	struct import_order_options options;
	struct import_batch *batch;
	struct import_input *input;
	FILE *sink;

	(void)roles;
	(void)options;
	if (!zone_set) {
		timefmt_set_timezone("Asia/Shanghai");
		zone_set = 1;
	}
	import_orders_defaults(&options);
	input = import_input_from_buffer("fuzz", (const char *)data, size, IMPORT_ENCODING_AUTO);
	batch = import_batch_new();
	import_batch_begin_input(batch, "fuzz");
	import_orders_parse(input, &options, batch);
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
