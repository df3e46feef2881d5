/*
 * libFuzzer target for the import workbench parser (fuzz_import.h says what is checked).
 */
#include "chatlogd/import_workbench.h"
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import_run(data, size, import_workbench_parse);
}
