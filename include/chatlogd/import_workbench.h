/*
 * Import workbench: the Qianniu (千牛) workbench chat window copied as text, one
 * conversation per file. Finds the message headers `NAME YYYY-MM-DD HH:MM:SS` (the name
 * sometimes glued to the date) and transfer headers `A --> B YYYY-MM-DD HH:MM:SS`;
 * everything else is import_chat's.
 */
#ifndef CHATLOGD_IMPORT_WORKBENCH_H
#define CHATLOGD_IMPORT_WORKBENCH_H

#include "chatlogd/import_batch.h"
#include "chatlogd/import_chat.h"
#include "chatlogd/import_input.h"

/* 1 when line looks like a workbench message header (for telling the shapes apart). */
int import_workbench_is_header(const char *line, size_t len);

/* Adds the records of input to batch and accounts for every line of it. */
void import_workbench_parse(const struct import_input *input, const struct import_roles *roles,
                            struct import_batch *batch);

#endif
