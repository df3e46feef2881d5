/*
 * Import chat: one conversation of a Qianniu export, from message headers and the
 * lines under them to records. Lines are classified as they come; roles, the shop,
 * transfers and recalls are settled in import_chat_finish, once the whole conversation
 * is known (the buyer may speak only after the agent, a recall comes after what it
 * takes back). The shape parsers (import_workbench, import_chatpage) find headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/import_chat.h"
#include "chatlogd/log.h"
#include "chatlogd/util.h"

enum event_type {
	EVENT_MESSAGE,  /* a header and the text under it */
	EVENT_TRANSFER, /* the conversation moves to an agent */
	EVENT_RECALL,   /* NAME 撤回了一条消息 after what it takes back */
	EVENT_BAD       /* an unusable header: it and its lines are errors */
};

struct event {
	enum event_type type;
	size_t line;
	size_t lines;      /* MESSAGE: header and text lines, counted at finish */
	size_t text_lines; /* MESSAGE: lines of text */
	size_t card_lines; /* MESSAGE: product card lines under it (counted already) */
	int recall_notice; /* MESSAGE: its only line is its own recall notice */
	int64_t ts_ms;
	int has_ts;
	char *name; /* MESSAGE sender, TRANSFER target, RECALL sender */
	char *text;
	size_t text_len;
	size_t record;  /* MESSAGE: index in the batch once added */
	int has_record; /* MESSAGE: a record was added and not recalled */
};

struct import_chat {
	struct import_batch *batch;
	const struct import_roles *roles;
	struct event *events;
	size_t count, cap;
	size_t current; /* the event whose lines are coming, or SIZE_MAX */
	char *page_buyer, *page_shop;
	/* Settled at finish. */
	const char *buyer, *shop;
};

static const char *const status_lines[] = {"已读", "未读", "发送中"};
/* Notices the client inserts; a line starting with one is not a message. */
static const char *const system_prefixes[] = {"当前用户来自"};
static const char recall_suffix[] = "撤回了一条消息";

struct import_chat *import_chat_new(struct import_batch *batch, const struct import_roles *roles)
{
	struct import_chat *chat = xcalloc(1, sizeof(*chat));
	chat->batch = batch;
	chat->roles = roles;
	chat->current = SIZE_MAX;
	return chat;
}

void import_chat_free(struct import_chat *chat)
{
	if (chat == NULL)
		return;
	for (size_t i = 0; i < chat->count; i++) {
		free(chat->events[i].name);
		free(chat->events[i].text);
	}
	free(chat->events);
	free(chat->page_buyer);
	free(chat->page_shop);
	free(chat);
}

void import_chat_set_buyer(struct import_chat *chat, const char *name, size_t len)
{
	free(chat->page_buyer);
	chat->page_buyer = xstrndup(name, len);
}

void import_chat_set_shop(struct import_chat *chat, const char *name, size_t len)
{
	free(chat->page_shop);
	chat->page_shop = xstrndup(name, len);
}

static struct event *push_event(struct import_chat *chat, enum event_type type, size_t line)
{
	struct event *e;
	if (chat->count == chat->cap) {
		chat->cap = chat->cap ? chat->cap * 2 : 32;
		chat->events = xreallocarray(chat->events, chat->cap, sizeof(*e));
	}
	e = &chat->events[chat->count++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->line = line;
	return e;
}

void import_chat_message(struct import_chat *chat, size_t line, size_t header_lines,
                         const char *name, size_t name_len, int64_t ts_ms)
{
	struct event *e = push_event(chat, EVENT_MESSAGE, line);
	e->lines = header_lines;
	e->name = xstrndup(name, name_len);
	e->ts_ms = ts_ms;
	e->has_ts = 1;
	chat->current = chat->count - 1;
}

void import_chat_transfer_header(struct import_chat *chat, size_t line, const char *to,
                                 size_t to_len, int64_t ts_ms)
{
	struct event *e = push_event(chat, EVENT_TRANSFER, line);
	e->name = xstrndup(to, to_len);
	e->ts_ms = ts_ms;
	e->has_ts = 1;
	chat->current = chat->count - 1;
	import_batch_lines(chat->batch, IMPORT_LINE_TRANSFER, 1);
}

void import_chat_bad_header(struct import_chat *chat, size_t line, const char *reason)
{
	push_event(chat, EVENT_BAD, line);
	chat->current = chat->count - 1;
	import_batch_error(chat->batch, line, "%s; the lines under it are skipped too", reason);
	import_batch_lines(chat->batch, IMPORT_LINE_ERROR, 1);
}

static int starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

static int is_space_at(const char *s, size_t len, size_t *width)
{
	if (len >= 1 && (s[0] == ' ' || s[0] == '\t')) {
		*width = 1;
		return 1;
	}
	if (len >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0) { /* U+3000 ideographic space */
		*width = 3;
		return 1;
	}
	return 0;
}

/* [*s, *s+*len) without leading and trailing spaces (ASCII and U+3000). */
static void trim(const char **s, size_t *len)
{
	size_t w;
	while (*len > 0 && is_space_at(*s, *len, &w)) {
		*s += w;
		*len -= w;
	}
	for (;;) {
		if (*len >= 1 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
			(*len)--;
		else if (*len >= 3 && memcmp(*s + *len - 3, "\xE3\x80\x80", 3) == 0)
			*len -= 3;
		else
			break;
	}
}

/* A product card line: a bare URL, or a price starting with ¥ (U+00A5) or ￥ (U+FFE5). */
static int is_card_line(const char *s, size_t len)
{
	if (starts_with(s, len, "http://") || starts_with(s, len, "https://"))
		return memchr(s, ' ', len) == NULL;
	return starts_with(s, len, "\xC2\xA5") || starts_with(s, len, "\xEF\xBF\xA5");
}

/* "由 X 转交给 Y": sets the target Y. */
static int parse_transfer_line(const char *s, size_t len, const char **to, size_t *to_len)
{
	static const char word[] = "转交给";
	const char *p;
	size_t rest, w;

	if (!starts_with(s, len, "由") || (p = memmem(s, len, word, sizeof(word) - 1)) == NULL)
		return -1;
	p += sizeof(word) - 1;
	rest = (size_t)(s + len - p);
	while (rest > 0 && is_space_at(p, rest, &w)) {
		p += w;
		rest -= w;
	}
	*to = p;
	*to_len = 0;
	/* The name ends at a space or a comma: a reason may follow. */
	while (*to_len < rest && !is_space_at(p + *to_len, rest - *to_len, &w) &&
	       p[*to_len] != ',' && !starts_with(p + *to_len, rest - *to_len, "，"))
		(*to_len)++;
	return *to_len > 0 ? 0 : -1;
}

static int parse_recall_line(const char *s, size_t len, size_t *name_len)
{
	size_t n = sizeof(recall_suffix) - 1;
	if (len <= n || memcmp(s + len - n, recall_suffix, n) != 0)
		return -1;
	*name_len = len - n;
	trim(&s, name_len);
	return *name_len > 0 ? 0 : -1;
}

static void append_text(struct event *e, const char *s, size_t len)
{
	size_t need = e->text_len + len + 2;
	e->text = xreallocarray(e->text, need, 1);
	if (e->text_len > 0)
		e->text[e->text_len++] = '\n';
	memcpy(e->text + e->text_len, s, len);
	e->text_len += len;
	e->text[e->text_len] = '\0';
}

void import_chat_line(struct import_chat *chat, size_t line, const char *text, size_t len)
{
	struct event *current = chat->current != SIZE_MAX ? &chat->events[chat->current] : NULL;
	const char *to;
	size_t to_len, name_len;

	trim(&text, &len);
	if (len == 0) {
		import_batch_lines(chat->batch, IMPORT_LINE_BLANK, 1);
		return;
	}
	if (current != NULL && current->type == EVENT_BAD) {
		import_batch_lines(chat->batch, IMPORT_LINE_ERROR, 1);
		return;
	}
	if (current != NULL && current->type == EVENT_TRANSFER) {
		import_batch_lines(chat->batch, IMPORT_LINE_TRANSFER, 1);
		return;
	}
	for (size_t i = 0; i < sizeof(status_lines) / sizeof(status_lines[0]); i++)
		if (len == strlen(status_lines[i]) && memcmp(text, status_lines[i], len) == 0) {
			import_batch_lines(chat->batch, IMPORT_LINE_STATUS, 1);
			return;
		}
	for (size_t i = 0; i < sizeof(system_prefixes) / sizeof(system_prefixes[0]); i++)
		if (starts_with(text, len, system_prefixes[i])) {
			import_batch_lines(chat->batch, IMPORT_LINE_SYSTEM, 1);
			return;
		}
	if (parse_transfer_line(text, len, &to, &to_len) == 0) {
		struct event *e = push_event(chat, EVENT_TRANSFER, line);
		e->name = xstrndup(to, to_len);
		import_batch_lines(chat->batch, IMPORT_LINE_TRANSFER, 1);
		return;
	}
	if (parse_recall_line(text, len, &name_len) == 0) {
		const char *name = text;
		trim(&name, &name_len);
		if (current != NULL && current->type == EVENT_MESSAGE && current->text_lines == 0 &&
		    current->card_lines == 0 && !current->recall_notice &&
		    strlen(current->name) == name_len &&
		    memcmp(current->name, name, name_len) == 0) {
			/* The notice stands where the message was: the header is all that is
			 * left of it. */
			current->recall_notice = 1;
			current->lines++;
			return;
		}
		push_event(chat, EVENT_RECALL, line)->name = xstrndup(name, name_len);
		import_batch_lines(chat->batch, IMPORT_LINE_RECALLED, 1);
		return;
	}
	if (is_card_line(text, len)) {
		if (current != NULL)
			current->card_lines++;
		import_batch_lines(chat->batch, IMPORT_LINE_CARD, 1);
		return;
	}
	if (current == NULL || current->recall_notice) {
		import_batch_error(chat->batch, line, "text outside any message");
		import_batch_lines(chat->batch, IMPORT_LINE_ERROR, 1);
		return;
	}
	append_text(current, text, len);
	current->lines++;
	current->text_lines++;
}

static int listed(const char *name, const char *const *list, size_t count, const char *shop)
{
	for (size_t i = 0; i < count; i++) {
		size_t n;
		if (strcmp(name, list[i]) == 0)
			return 1;
		/* "小美" in the list also names "SHOP:小美". */
		if (shop != NULL && (n = strlen(shop)) < strlen(name) &&
		    memcmp(name, shop, n) == 0 && name[n] == ':' &&
		    strcmp(name + n + 1, list[i]) == 0)
			return 1;
	}
	return 0;
}

static enum import_from role_of(const struct import_chat *chat, const char *name)
{
	const struct import_roles *roles = chat->roles;
	if (listed(name, roles->bots, roles->bot_count, chat->shop))
		return IMPORT_FROM_BOT;
	if (strchr(name, ':') != NULL ||
	    listed(name, roles->agents, roles->agent_count, chat->shop))
		return IMPORT_FROM_AGENT;
	if (chat->buyer != NULL && strcmp(name, chat->buyer) == 0)
		return IMPORT_FROM_BUYER;
	return IMPORT_FROM_NONE;
}

/* An agent's name as written to the record: always SHOP:SUB, so an agent listed by
 * sub-account alone is not a second row beside the same agent with its shop. */
static char *agent_name(const struct import_chat *chat, const char *name)
{
	char *full;
	if (strchr(name, ':') != NULL || chat->shop == NULL)
		return xstrdup(name);
	if (asprintf(&full, "%s:%s", chat->shop, name) < 0)
		fatal("asprintf");
	return full;
}

static void settle_roles(struct import_chat *chat)
{
	const struct import_roles *roles = chat->roles;

	chat->shop = roles->shop ? roles->shop : chat->page_shop;
	for (size_t i = 0; chat->shop == NULL && i < chat->count; i++) {
		struct event *e = &chat->events[i];
		const char *colon;
		if ((e->type == EVENT_MESSAGE || e->type == EVENT_TRANSFER) &&
		    (colon = strchr(e->name, ':')) != NULL && colon > e->name) {
			free(chat->page_shop);
			chat->page_shop = xstrndup(e->name, (size_t)(colon - e->name));
			chat->shop = chat->page_shop;
		}
	}
	chat->buyer = roles->buyer ? roles->buyer : chat->page_buyer;
	for (size_t i = 0; chat->buyer == NULL && i < chat->count; i++) {
		struct event *e = &chat->events[i];
		if (e->type == EVENT_MESSAGE && role_of(chat, e->name) == IMPORT_FROM_NONE)
			chat->buyer = e->name;
	}
}

/* Adds the record of a message event, or says why it cannot be one. assigned is the
 * agent a transfer gave the conversation to, NULL if none. */
static void emit_message(struct import_chat *chat, struct event *e, const char *assigned)
{
	enum import_from from = role_of(chat, e->name);
	char *agent = NULL;

	if (e->recall_notice) {
		import_batch_lines(chat->batch, IMPORT_LINE_RECALLED, e->lines);
		import_batch_count(chat->batch, IMPORT_COUNT_RECALLED_MSGS, 1);
		return;
	}
	if (from == IMPORT_FROM_NONE || chat->shop == NULL) {
		if (from == IMPORT_FROM_NONE)
			import_batch_error(
			    chat->batch, e->line,
			    "\"%s\" is neither the buyer \"%s\" nor an agent (SHOP:SUB "
			    "or --agent); %zu lines skipped",
			    e->name, chat->buyer ? chat->buyer : "", e->lines);
		else
			import_batch_error(chat->batch, e->line,
			                   "no shop: no agent is named SHOP:SUB and --shop is not "
			                   "set; %zu lines skipped",
			                   e->lines);
		import_batch_lines(chat->batch, IMPORT_LINE_ERROR, e->lines);
		return;
	}
	if (e->text_lines == 0 && e->card_lines > 0) {
		/* A card alone (the page the buyer came from): no words, no message. */
		import_batch_lines(chat->batch, IMPORT_LINE_CARD, e->lines);
		return;
	}
	if (from == IMPORT_FROM_BUYER)
		agent = assigned ? xstrdup(assigned) : NULL;
	else
		agent = agent_name(chat, e->name);
	struct import_record_fields f = {
	    .kind = IMPORT_KIND_MSG,
	    .from = from,
	    .ts_ms = e->ts_ms,
	    .shop = chat->shop,
	    .buyer = chat->buyer,
	    .agent = agent,
	    .text = e->text,
	    .amount_fen = -1,
	    .line = e->line,
	};
	e->record = import_batch_add(chat->batch, &f);
	e->has_record = 1;
	import_batch_lines(chat->batch, IMPORT_LINE_MESSAGE, e->lines);
	free(agent);
}

/* Takes back the latest message of name: it stays out of the records and its lines
 * count as recalled. A recall of a message the export does not show is the notice
 * alone. */
static void recall(struct import_chat *chat, size_t upto, const char *name)
{
	char *wanted = strchr(name, ':') ? xstrdup(name) : agent_name(chat, name);

	for (size_t i = upto; i-- > 0;) {
		struct event *e = &chat->events[i];
		if (e->type != EVENT_MESSAGE || !e->has_record)
			continue;
		char *sender =
		    role_of(chat, e->name) == IMPORT_FROM_AGENT ? agent_name(chat, e->name) : NULL;
		int same = strcmp(e->name, name) == 0 || (sender && strcmp(sender, wanted) == 0);
		free(sender);
		if (same) {
			import_batch_drop(chat->batch, e->record);
			import_batch_move_lines(chat->batch, IMPORT_LINE_MESSAGE,
			                        IMPORT_LINE_RECALLED, e->lines);
			e->has_record = 0;
			break;
		}
	}
	free(wanted);
}

void import_chat_finish(struct import_chat *chat)
{
	char *assigned = NULL;
	int64_t last_ts = 0;
	int has_last = 0;

	settle_roles(chat);
	for (size_t i = 0; i < chat->count; i++) {
		struct event *e = &chat->events[i];
		switch (e->type) {
		case EVENT_MESSAGE:
			if (assigned != NULL && has_last &&
			    e->ts_ms - last_ts > chat->roles->transfer_idle_ms) {
				free(assigned);
				assigned = NULL;
			}
			emit_message(chat, e, assigned);
			last_ts = e->ts_ms;
			has_last = 1;
			break;
		case EVENT_TRANSFER:
			free(assigned);
			assigned = agent_name(chat, e->name);
			if (e->has_ts) {
				last_ts = e->ts_ms;
				has_last = 1;
			}
			break;
		case EVENT_RECALL:
			recall(chat, i, e->name);
			break;
		case EVENT_BAD:
			break;
		}
	}
	free(assigned);
}
