/*
 * Import chat page: cuts a copied chat-record page into messages. A message starts
 * with its sender's name on a line of its own and the time HH:MM:SS on the next (or
 * both on one line when the name is the buyer's or an agent's); the day comes from the
 * last date line. Page titles and the heading naming the shop and the buyer are layout.
 */
#include <stdio.h>
#include <string.h>

#include "chatlogd/import_chatpage.h"
#include "chatlogd/timefmt.h"

struct page {
	struct import_chat *chat;
	struct import_batch *batch;
	const struct import_roles *roles;
	int64_t day;       /* days since 1970 of the current date line; -1 before the first */
	int last_second;   /* second of the day of the last message, -1 after a date line */
	const char *buyer; /* the heading's buyer (borrowed from the input) */
	size_t buyer_len;
};

static const char *const titles[] = {"聊天记录", "聊天记录查询", "查看聊天记录"};
/* Heading keys: each names the buyer or the shop. */
static const char *const buyer_keys[] = {"买家", "买家昵称", "客户", "顾客"};
static const char *const shop_keys[] = {"店铺", "店铺名称", "店铺名"};

static int is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* HH:MM:SS alone; sets the second of the day. */
static int parse_clock(const char *s, size_t len, int *second)
{
	if (len != 8 || !is_digits(s, 2) || s[2] != ':' || !is_digits(s + 3, 2) || s[5] != ':' ||
	    !is_digits(s + 6, 2))
		return -1;
	int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0',
	    sec = (s[6] - '0') * 10 + s[7] - '0';
	if (h > 23 || m > 59 || sec > 59)
		return -1;
	*second = h * 3600 + m * 60 + sec;
	return 0;
}

/* A date line: YYYY-MM-DD or YYYY/MM/DD, optionally followed by the weekday (星期二, 周二). */
static int parse_date_line(const char *s, size_t len, int64_t *day)
{
	static const char *const weekdays[] = {"星期", "周"};
	int64_t ms;
	char stamp[32];

	if (len < 10 || !is_digits(s, 4) || (s[4] != '-' && s[4] != '/') || s[7] != s[4] ||
	    !is_digits(s + 5, 2) || !is_digits(s + 8, 2))
		return -1;
	if (len > 10) {
		const char *rest = s + 10;
		size_t n = len - 10, ok = 0;
		while (n > 0 && *rest == ' ') {
			rest++;
			n--;
		}
		for (size_t i = 0; i < 2; i++) {
			size_t w = strlen(weekdays[i]);
			/* The weekday word and one CJK numeral (3 bytes). */
			if (n == w + 3 && memcmp(rest, weekdays[i], w) == 0)
				ok = 1;
		}
		if (!ok)
			return -1;
	}
	snprintf(stamp, sizeof(stamp), "%.4s-%.2s-%.2s 00:00:00", s, s + 5, s + 8);
	/* Through the same checks as every time (no 02-30); the day itself is civil. */
	if (timefmt_parse_strptime(stamp, 19, "%Y-%m-%d %H:%M:%S", &ms) < 0)
		return -1;
	*day = timefmt_days_from_civil(
	    (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + s[3] - '0',
	    (unsigned)((s[5] - '0') * 10 + s[6] - '0'), (unsigned)((s[8] - '0') * 10 + s[9] - '0'));
	return 0;
}

static int key_in(const char *s, size_t n, const char *const *keys, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(keys[i]) == n && memcmp(s, keys[i], n) == 0)
			return 1;
	return 0;
}

/* Ends the token at s: the next space or U+3000. */
static size_t token_len(const char *s, size_t len)
{
	size_t n = 0;
	while (n < len && s[n] != ' ' && s[n] != '\t' &&
	       !(len - n >= 3 && memcmp(s + n, "\xE3\x80\x80", 3) == 0))
		n++;
	return n;
}

/* A heading line: one or more KEY：VALUE (or KEY:VALUE) with known keys, spaces between.
 * Applies them only when the whole line is such pairs. */
static int parse_heading(struct page *page, const char *s, size_t len, int apply)
{
	size_t i = 0, pairs = 0;
	while (i < len) {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
			continue;
		}
		if (len - i >= 3 && memcmp(s + i, "\xE3\x80\x80", 3) == 0) {
			i += 3;
			continue;
		}
		size_t n = token_len(s + i, len - i), key_len, sep;
		const char *colon = memmem(s + i, n, "：", 3), *ascii = memchr(s + i, ':', n);
		if (colon != NULL && (ascii == NULL || colon < ascii)) {
			key_len = (size_t)(colon - (s + i));
			sep = 3;
		} else if (ascii != NULL) {
			key_len = (size_t)(ascii - (s + i));
			sep = 1;
		} else {
			return -1;
		}
		const char *value = s + i + key_len + sep;
		size_t value_len = n - key_len - sep;
		int is_buyer = key_in(s + i, key_len, buyer_keys, 4);
		if ((!is_buyer && !key_in(s + i, key_len, shop_keys, 3)) || value_len == 0)
			return -1;
		if (apply && is_buyer) {
			import_chat_set_buyer(page->chat, value, value_len);
			page->buyer = value;
			page->buyer_len = value_len;
		} else if (apply) {
			import_chat_set_shop(page->chat, value, value_len);
		}
		pairs++;
		i += n;
	}
	return pairs > 0 ? 0 : -1;
}

/* A sender whose name and time share a line: only a name known to be a participant,
 * so a message text that ends in a time is not mistaken for a header. */
static int known_sender(const struct page *page, const char *name, size_t len)
{
	if (memchr(name, ':', len) != NULL)
		return 1;
	if (page->buyer != NULL && len == page->buyer_len && memcmp(name, page->buyer, len) == 0)
		return 1;
	for (size_t i = 0; i < page->roles->agent_count; i++)
		if (strlen(page->roles->agents[i]) == len &&
		    memcmp(page->roles->agents[i], name, len) == 0)
			return 1;
	return 0;
}

static void start_message(struct page *page, size_t number, size_t header_lines, const char *name,
                          size_t name_len, int second)
{
	const char *reason = NULL;
	int64_t ts_ms = 0;

	if (page->day < 0) {
		reason = "message before the first date line";
	} else {
		char stamp[32], date[11];
		/* Times run forward; one earlier than the message before it under the same
		 * date line is past midnight on a page that leaves out the next date line. */
		if (page->last_second >= 0 && second < page->last_second)
			page->day++;
		page->last_second = second;
		import_format_date(page->day, date);
		snprintf(stamp, sizeof(stamp), "%s %02d:%02d:%02d", date, second / 3600,
		         second / 60 % 60, second % 60);
		if (import_parse_local_time(stamp, strlen(stamp), &ts_ms) < 0)
			reason = "time out of range";
	}
	if (reason != NULL) {
		import_chat_bad_header(page->chat, number, reason);
		import_batch_lines(page->batch, IMPORT_LINE_ERROR, header_lines - 1);
		return;
	}
	import_chat_message(page->chat, number, header_lines, name, name_len, ts_ms);
}

static void trim_right(const char *s, size_t *len)
{
	while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		(*len)--;
}

void import_chatpage_parse(const struct import_input *input, const struct import_roles *roles,
                           struct import_batch *batch)
{
	struct page page = {.batch = batch, .roles = roles, .day = -1, .last_second = -1};
	int second;

	page.chat = import_chat_new(batch, roles);
	for (size_t i = 0; i < input->count; i++) {
		const struct import_line *line = &input->lines[i];
		const char *s = line->text;
		size_t len = line->len, n = i + 1;

		if (line->bad_encoding) {
			import_batch_error(batch, n, "not valid text in the file's encoding");
			import_batch_lines(batch, IMPORT_LINE_ERROR, 1);
			continue;
		}
		trim_right(s, &len);
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		int is_title = 0;
		for (size_t t = 0; t < sizeof(titles) / sizeof(titles[0]); t++)
			is_title |= strlen(titles[t]) == len && memcmp(s, titles[t], len) == 0;
		if (len > 0 &&
		    (is_title || (page.day < 0 && parse_heading(&page, s, len, 0) == 0))) {
			if (!is_title)
				parse_heading(&page, s, len, 1);
			import_batch_lines(batch, IMPORT_LINE_LAYOUT, 1);
			continue;
		}
		int64_t day;
		if (parse_date_line(s, len, &day) == 0) {
			page.day = day;
			page.last_second = -1;
			import_batch_lines(batch, IMPORT_LINE_LAYOUT, 1);
			continue;
		}
		if (len > 0 && parse_clock(s, len, &second) < 0 && i + 1 < input->count &&
		    !input->lines[i + 1].bad_encoding) {
			const char *next = input->lines[i + 1].text;
			size_t next_len = input->lines[i + 1].len;
			trim_right(next, &next_len);
			while (next_len > 0 && (*next == ' ' || *next == '\t')) {
				next++;
				next_len--;
			}
			if (parse_clock(next, next_len, &second) == 0) {
				start_message(&page, n, 2, s, len, second);
				i++;
				continue;
			}
		}
		if (len > 9 && parse_clock(s + len - 8, 8, &second) == 0 && s[len - 9] == ' ') {
			size_t name_len = len - 9;
			trim_right(s, &name_len);
			if (name_len > 0 && known_sender(&page, s, name_len)) {
				start_message(&page, n, 1, s, name_len, second);
				continue;
			}
		}
		import_chat_line(page.chat, n, s, len);
	}
	import_chat_finish(page.chat);
	import_chat_free(page.chat);
}
