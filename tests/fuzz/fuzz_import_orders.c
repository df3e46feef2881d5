/*
 * libFuzzer target for the import orders parser (fuzz_import.h says what is checked),
 * with the default column names and rules.
 */
#include "chatlogd/import_orders.h"
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_orders(const struct import_input *input, const struct import_roles *roles,
                         struct import_batch *batch)
{
	struct import_order_options options;
	(void)roles;

	import_orders_defaults(&options);
	import_orders_parse(input, &options, batch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import_run(data, size, parse_orders);
}
