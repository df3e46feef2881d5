/*
 * Import chat: what the two Qianniu chat shapes (workbench copy, chat-record page)
 * share once their lines are cut into messages: who is the buyer, agent or bot, which
 * shop, which lines are not messages (read status, system notices, transfers, recalls,
 * product cards), and the records that result. The shape parsers only find message
 * headers; one import_chat is one conversation (one buyer).
 */
#ifndef CHATLOGD_IMPORT_CHAT_H
#define CHATLOGD_IMPORT_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "chatlogd/import_batch.h"

/* Who is who (docs/import.md). Strings and arrays are borrowed for the chat's life. */
struct import_roles {
	const char *shop;          /* the shop of every record; NULL: from the names */
	const char *buyer;         /* NULL: the name that is neither agent nor bot */
	const char *const *agents; /* names of agents without the SHOP:SUB form */
	size_t agent_count;
	const char *const *bots; /* senders that are bots (auto-reply accounts) */
	size_t bot_count;
	/* A transfer sends the buyer's next messages to its target until the chat has
	 * been silent this long (chatlogd's session_idle) or another transfer comes. */
	int64_t transfer_idle_ms;
};

struct import_chat;

/* A conversation whose records go to batch (borrowed, like roles). */
struct import_chat *import_chat_new(struct import_batch *batch, const struct import_roles *roles);
void import_chat_free(struct import_chat *chat);

/* The buyer or shop as the export names them (a page's heading); ignored when the
 * roles set them. Copied. */
void import_chat_set_buyer(struct import_chat *chat, const char *name, size_t len);
void import_chat_set_shop(struct import_chat *chat, const char *name, size_t len);

/* A message starts at `line`: its header takes header_lines lines (name and time). */
void import_chat_message(struct import_chat *chat, size_t line, size_t header_lines,
                         const char *name, size_t name_len, int64_t ts_ms);

/* A header `FROM --> TO TIME`: the conversation moves to TO; lines under it are its note. */
void import_chat_transfer_header(struct import_chat *chat, size_t line, const char *to,
                                 size_t to_len, int64_t ts_ms);

/* A header-shaped line that cannot be used (say, a date that does not exist): reported
 * with reason, and the lines under it are errors too instead of joining the message
 * before. */
void import_chat_bad_header(struct import_chat *chat, size_t line, const char *reason);

/* Any other line: blank, read status, system notice, transfer, recall, card line, or
 * the next line of the current message's text (an error outside any message). */
void import_chat_line(struct import_chat *chat, size_t line, const char *text, size_t len);

/* Decides the roles and adds the records to the batch; every line passed in is then
 * counted once in the batch. */
void import_chat_finish(struct import_chat *chat);

#endif
