/*
 * Import chat page: the Qianniu chat-record page (聊天记录查询, web) copied as text, one
 * conversation per file. Reads the page's heading (店铺 / 买家), the date line that opens
 * each day, and each message's sender line and HH:MM:SS line; the text under them is
 * import_chat's.
 */
#ifndef CHATLOGD_IMPORT_CHATPAGE_H
#define CHATLOGD_IMPORT_CHATPAGE_H

#include "chatlogd/import_batch.h"
#include "chatlogd/import_chat.h"
#include "chatlogd/import_input.h"

/* Adds the records of input to batch and accounts for every line of it. */
void import_chatpage_parse(const struct import_input *input, const struct import_roles *roles,
                           struct import_batch *batch);

#endif
