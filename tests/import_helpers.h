/*
 * Shared by the import parser tests: runs one parser over text in memory and gives
 * the batch back, finished, with Asia/Shanghai as the time zone.
 */
#ifndef CHATLOGD_TEST_IMPORT_HELPERS_H
#define CHATLOGD_TEST_IMPORT_HELPERS_H

#include <string.h>

#include "chatlogd/import_batch.h"
#include "chatlogd/import_input.h"
#include "chatlogd/timefmt.h"

static inline struct import_input *import_test_input(const char *text)
{
	timefmt_set_timezone("Asia/Shanghai");
	return import_input_from_buffer("test.txt", text, strlen(text), IMPORT_ENCODING_AUTO);
}

/* Record i's field, "" when absent, so CHECK_STR can compare. */
static inline const char *import_test_field(const char *s)
{
	return s ? s : "";
}

#endif
