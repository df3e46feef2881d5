/*
 * The shipped patterns/lost-reasons.conf against invented chat messages
 * (tests/data/lost-reasons-cases.tsv, its header says the format, and the larger
 * development set of paraphrases tests/data/lost-reasons-paraphrases.tsv, same format):
 *   - every case gets the reason it expects from the whole file (`none` for no rule,
 *     `skip` for a message a skip rule leaves out);
 *   - a case about one rule line fires that line alone when it expects the line's
 *     reason, and is a near miss the line alone must not match otherwise;
 *   - every rule line has at least one case that fires it and one near miss (over
 *     both files), and every case names a line that exists;
 *   - the paraphrase set has at least 40 messages for each reason and 200 that must
 *     fire none;
 *   - the literal prefilter answers as plain matching does on every case message;
 *   - whole invented chats through the engine end with the reason the rubric
 *     (docs/lost-reasons.md) gives them;
 *   - the optional whole-inquiry lines (patterns/whole-inquiry.conf), pasted where the
 *     shipped file says, give invented chats the reasons they are written for.
 * The messages are written for this test: no text of a real chat corpus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/engine.h"
#include "chatlogd/rules.h"
#include "check.h"

#define SHIPPED SOURCE_DIR "/patterns/lost-reasons.conf"
#define CASES SOURCE_DIR "/tests/data/lost-reasons-cases.tsv"
#define PARAPHRASES SOURCE_DIR "/tests/data/lost-reasons-paraphrases.tsv"
#define WHOLE_INQUIRY SOURCE_DIR "/patterns/whole-inquiry.conf"

static const char *const case_files[] = {CASES, PARAPHRASES};
#define CASE_FILES (sizeof(case_files) / sizeof(case_files[0]))

#define MAX_LINES 64
#define MAX_CASES 1200

/* One rule line of the shipped file. */
struct rule_line {
	unsigned lineno;    /* in the file */
	char reason[40];    /* REASON field (skip for skip rules) */
	char scope[8];      /* SCOPE field */
	unsigned ordinal;   /* 1-based among the lines of the same reason and scope */
	char *text;         /* the whole line, with its newline */
	struct rules *self; /* this line alone (see load_single) */
	int fired, missed;  /* cases that fire it / near misses of it */
};

struct shipped {
	char *data;
	struct rule_line line[MAX_LINES];
	unsigned count;
	char *skips; /* every skip line, concatenated */
};

static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (data = calloc(1, (size_t)size + 1)) != NULL &&
	    fread(data, 1, (size_t)size, f) != (size_t)size) {
		free(data);
		data = NULL;
	}
	fclose(f);
	return data;
}

static struct rules *load_text(const char *text)
{
	char err[512] = "";
	struct rules *r = rules_load_buffer("t.conf", text, strlen(text), err, sizeof(err));

	if (r == NULL)
		fprintf(stderr, "  load: %s\n", err);
	return r;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies the next whitespace-separated field of *p into out. */
static void next_field(const char **p, char *out, size_t outlen)
{
	size_t n = 0;

	while (is_blank(**p))
		(*p)++;
	while (**p != '\0' && **p != '\n' && !is_blank(**p)) {
		if (n + 1 < outlen)
			out[n++] = **p;
		(*p)++;
	}
	out[n] = '\0';
}

/*
 * A rules set of one line: a reason line after every skip line (so a message its
 * scope's skip rules leave out stays out, as in the whole file), which then matches
 * exactly when the line does; a skip line before a rule matching anything, which then
 * matches nothing exactly when the skip line takes the message.
 */
static struct rules *load_single(const struct shipped *s, const struct rule_line *l)
{
	static const char probe[] = "probe probe any [\\s\\S]\n";
	size_t len = strlen(s->skips) + strlen(l->text) + sizeof(probe) + 2;
	char *buf = malloc(len);
	struct rules *r;

	if (buf == NULL)
		abort();
	if (strcmp(l->reason, "skip") == 0)
		snprintf(buf, len, "%s%s", l->text, probe);
	else
		snprintf(buf, len, "%s%s", s->skips, l->text);
	r = load_text(buf);
	free(buf);
	return r;
}

static int shipped_read(struct shipped *s)
{
	char *p;
	size_t skips_len = 0;

	memset(s, 0, sizeof(*s));
	if ((s->data = read_whole(SHIPPED)) == NULL || (s->skips = calloc(1, 1)) == NULL)
		return -1;
	p = s->data;
	for (unsigned lineno = 1; *p != '\0'; lineno++) {
		char *end = strchr(p, '\n'), *q = p;
		size_t len = end != NULL ? (size_t)(end - p) + 1 : strlen(p);
		char label[64];
		const char *f = p;
		struct rule_line *l;

		while (is_blank(*q))
			q++;
		if (*q == '#' || *q == '\n' || *q == '\r' || *q == '\0') {
			p += len;
			continue;
		}
		if (s->count == MAX_LINES)
			return -1;
		l = &s->line[s->count++];
		l->lineno = lineno;
		next_field(&f, l->reason, sizeof(l->reason));
		next_field(&f, label, sizeof(label));
		next_field(&f, l->scope, sizeof(l->scope));
		if ((l->text = malloc(len + 2)) == NULL)
			return -1;
		memcpy(l->text, p, len);
		l->text[len] = '\0';
		if (l->text[len - 1] != '\n')
			strcat(l->text, "\n");
		for (unsigned i = 0; i + 1 < s->count; i++)
			if (strcmp(s->line[i].reason, l->reason) == 0 &&
			    strcmp(s->line[i].scope, l->scope) == 0)
				l->ordinal++;
		l->ordinal++;
		if (strcmp(l->reason, "skip") == 0) {
			char *grown = realloc(s->skips, skips_len + strlen(l->text) + 1);
			if (grown == NULL)
				return -1;
			s->skips = grown;
			strcpy(s->skips + skips_len, l->text);
			skips_len += strlen(l->text);
		}
		p += len;
	}
	for (unsigned i = 0; i < s->count; i++)
		if ((s->line[i].self = load_single(s, &s->line[i])) == NULL)
			return -1;
	return 0;
}

static void shipped_free(struct shipped *s)
{
	for (unsigned i = 0; i < s->count; i++) {
		rules_free(s->line[i].self);
		free(s->line[i].text);
	}
	free(s->skips);
	free(s->data);
}

/* The line a case names: "REASON/SCOPE" or "REASON/SCOPE#N". NULL when none. */
static struct rule_line *find_line(struct shipped *s, const char *ref)
{
	char reason[40], scope[8];
	const char *slash = strchr(ref, '/'), *hash;
	unsigned ordinal = 1;

	if (slash == NULL || (size_t)(slash - ref) >= sizeof(reason))
		return NULL;
	memcpy(reason, ref, (size_t)(slash - ref));
	reason[slash - ref] = '\0';
	hash = strchr(slash, '#');
	if (hash != NULL)
		ordinal = (unsigned)atoi(hash + 1);
	snprintf(scope, sizeof(scope), "%.*s",
	         (int)(hash != NULL ? hash - slash - 1 : (long)strlen(slash + 1)), slash + 1);
	for (unsigned i = 0; i < s->count; i++)
		if (strcmp(s->line[i].reason, reason) == 0 &&
		    strcmp(s->line[i].scope, scope) == 0 && s->line[i].ordinal == ordinal)
			return &s->line[i];
	return NULL;
}

struct lost_case {
	unsigned lineno;
	char *expect, *from, *rule, *message;
};

static enum record_from parse_from(const char *from)
{
	if (strcmp(from, "buyer") == 0)
		return FROM_BUYER;
	if (strcmp(from, "agent") == 0)
		return FROM_AGENT;
	if (strcmp(from, "bot") == 0)
		return FROM_BOT;
	return FROM_NONE;
}

/* Splits the cases file in place. Returns the number of cases, -1 on a bad line. */
static int cases_read(char *data, struct lost_case *c, int max)
{
	int n = 0;
	unsigned lineno = 0;
	char *p = data;

	while (*p != '\0') {
		char *end = strchr(p, '\n'), *field[5];
		int fields = 0;

		lineno++;
		if (end != NULL)
			*end = '\0';
		if (*p != '#' && *p != '\0') {
			char *q = p;
			field[fields++] = q;
			while ((q = strchr(q, '\t')) != NULL && fields < 5) {
				*q++ = '\0';
				field[fields++] = q;
			}
			if (fields < 4 || n == max || parse_from(field[1]) == FROM_NONE) {
				fprintf(stderr,
				        "  cases line %u: want expect, from, rule, message\n",
				        lineno);
				return -1;
			}
			c[n].lineno = lineno;
			c[n].expect = field[0];
			c[n].from = field[1];
			c[n].rule = field[2];
			c[n].message = field[3];
			n++;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return n;
}

static const char *reason_of(struct rules *r, enum record_from from, const char *text)
{
	unsigned i = rules_first_match(r, from, text, strlen(text), RULES_NONE);
	return i == RULES_NONE ? "none" : rules_reason(r, i);
}

/* The reasons a paraphrase set must cover, each with at least 40 messages. */
static const char *const reasons_covered[] = {"out_of_stock", "shipping_time", "courier",
                                              "price",        "product_doubt", "personal"};

/* Checks the cases of one file against the whole file and the lines they name, and
 * notes in s which lines they fire and which they are near misses of. */
static void check_case_file(struct shipped *s, struct rules *full, const char *path)
{
	static struct lost_case cases[MAX_CASES];
	char *data = read_whole(path);
	int n, per_reason[sizeof(reasons_covered) / sizeof(reasons_covered[0])] = {0}, nones = 0;

	CHECK(data != NULL);
	if (data == NULL)
		return;
	n = cases_read(data, cases, MAX_CASES);
	CHECK(n > 100);
	for (int i = 0; i < n; i++) {
		const struct lost_case *c = &cases[i];
		enum record_from from = parse_from(c->from);
		int skip = strcmp(c->expect, "skip") == 0;
		const char *got = reason_of(full, from, c->message);
		struct rule_line *l;
		int fires, matched;

		if (strcmp(got, skip ? "none" : c->expect) != 0) {
			fprintf(stderr, "  %s line %u: %s \"%s\": got %s, want %s\n", path,
			        c->lineno, c->from, c->message, got, c->expect);
			CHECK_STR(got, skip ? "none" : c->expect);
		}
		for (size_t k = 0; k < sizeof(reasons_covered) / sizeof(reasons_covered[0]); k++)
			per_reason[k] += strcmp(c->expect, reasons_covered[k]) == 0;
		nones += strcmp(c->expect, "none") == 0;
		if (strcmp(c->rule, "-") == 0)
			continue;
		if ((l = find_line(s, c->rule)) == NULL) {
			fprintf(stderr, "  %s line %u: no rule line %s in %s\n", path, c->lineno,
			        c->rule, SHIPPED);
			CHECK(l != NULL);
			continue;
		}
		fires = strcmp(c->expect, l->reason) == 0;
		if (strcmp(l->reason, "skip") == 0)
			matched = rules_first_match(l->self, from, c->message, strlen(c->message),
			                            RULES_NONE) == RULES_NONE;
		else
			matched = rules_first_match(l->self, from, c->message, strlen(c->message),
			                            RULES_NONE) != RULES_NONE;
		if (matched != fires) {
			fprintf(stderr, "  %s line %u: %s \"%s\": line %u (%s) %s\n", path,
			        c->lineno, c->from, c->message, l->lineno, c->rule,
			        fires ? "does not match it" : "matches this near miss");
			CHECK_INT(matched, fires);
		}
		if (fires)
			l->fired++;
		else
			l->missed++;
	}
	if (strcmp(path, PARAPHRASES) == 0) {
		for (size_t k = 0; k < sizeof(reasons_covered) / sizeof(reasons_covered[0]); k++) {
			if (per_reason[k] < 40)
				fprintf(stderr, "  %s: %d messages for %s, want 40\n", path,
				        per_reason[k], reasons_covered[k]);
			CHECK(per_reason[k] >= 40);
		}
		CHECK(nones >= 200);
	}
	free(data);
}

static void test_cases_against_the_shipped_file(void)
{
	struct shipped s;
	struct rules *full = NULL;

	CHECK(shipped_read(&s) == 0);
	if ((full = load_text(s.data)) == NULL) {
		CHECK(full != NULL);
		goto end;
	}
	for (size_t f = 0; f < CASE_FILES; f++)
		check_case_file(&s, full, case_files[f]);
	for (unsigned i = 0; i < s.count; i++) {
		const struct rule_line *l = &s.line[i];
		if (l->fired == 0 || l->missed == 0)
			fprintf(stderr,
			        "  %s line %u (%s/%s#%u): %d cases fire it, %d near misses\n",
			        SHIPPED, l->lineno, l->reason, l->scope, l->ordinal, l->fired,
			        l->missed);
		CHECK(l->fired > 0);
		CHECK(l->missed > 0);
	}
	CHECK_INT(rules_limit_hits(full), 0);
end:
	rules_free(full);
	shipped_free(&s);
}

/* The file with \Q\E before every pattern: the prefilter cannot read \Q, so there
 * every rule always runs (as in tests/test_rules.c). */
static char *without_prefilter(const char *text)
{
	char *out = malloc(2 * strlen(text) + 1), *o = out;
	const char *line = text;

	if (out == NULL)
		abort();
	while (*line != '\0') {
		const char *end = strchr(line, '\n'), *p = line;
		size_t len = end != NULL ? (size_t)(end - line) + 1 : strlen(line);

		while (is_blank(*p))
			p++;
		if (*p != '#' && *p != '\n' && *p != '\r' && *p != '\0') {
			for (int field = 0; field < 3; field++) {
				while (*p != '\0' && *p != '\n' && !is_blank(*p))
					p++;
				while (is_blank(*p))
					p++;
			}
		} else
			p = line + len;
		memcpy(o, line, (size_t)(p - line));
		o += p - line;
		if (p < line + len) {
			memcpy(o, "\\Q\\E", 4);
			o += 4;
			memcpy(o, p, len - (size_t)(p - line));
			o += len - (size_t)(p - line);
		}
		line += len;
	}
	*o = '\0';
	return out;
}

/* The file with the start guard of each pattern stripped: a pattern written as
 * (?=[CHARS])(?:ALTERNATIVES) becomes ALTERNATIVES (tools/lost-reasons-guard.py). */
static char *without_guards(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	const char *line = text;

	if (out == NULL)
		abort();
	while (*line != '\0') {
		const char *end = strchr(line, '\n'), *p = line, *close, *last;
		size_t len = end != NULL ? (size_t)(end - line) + 1 : strlen(line);

		while (is_blank(*p))
			p++;
		if (*p != '#' && *p != '\n' && *p != '\r' && *p != '\0')
			for (int field = 0; field < 3; field++) {
				while (*p != '\0' && *p != '\n' && !is_blank(*p))
					p++;
				while (is_blank(*p))
					p++;
			}
		last = line + len;
		while (last > p && (last[-1] == '\n' || last[-1] == '\r' || last[-1] == ' '))
			last--;
		close = strstr(p, "])(?:");
		if (strncmp(p, "(?=[", 4) == 0 && close != NULL && close < last &&
		    last[-1] == ')') {
			memcpy(o, line, (size_t)(p - line));
			o += p - line;
			memcpy(o, close + 5, (size_t)(last - 1 - (close + 5)));
			o += last - 1 - (close + 5);
			memcpy(o, last, (size_t)(line + len - last));
			o += line + len - last;
		} else {
			memcpy(o, line, len);
			o += len;
		}
		line += len;
	}
	*o = '\0';
	return out;
}

/* Each case message, and each with a character cut from either end or a greeting
 * put before it, for every sender and a few limits: the same first rule from the
 * shipped file and from the file `transform` makes of it. */
static void same_answers_on(const char *path, char *(*transform)(const char *), const char *what)
{
	static struct lost_case cases[MAX_CASES];
	char *text = read_whole(SHIPPED), *data = read_whole(path), *plain_text;
	struct rules *fast, *plain;
	int n, disagreements = 0;

	CHECK(text != NULL && data != NULL);
	if (text == NULL || data == NULL) {
		free(text);
		free(data);
		return;
	}
	plain_text = transform(text);
	fast = load_text(text);
	plain = load_text(plain_text);
	n = cases_read(data, cases, MAX_CASES);
	CHECK(fast != NULL && plain != NULL && n > 0);
	for (int i = 0; fast != NULL && plain != NULL && i < n; i++) {
		const char *m = cases[i].message;
		size_t len = strlen(m), first = 1;
		char variant[4][1024];

		while (first < len && ((unsigned char)m[first] & 0xc0) == 0x80)
			first++;
		snprintf(variant[0], sizeof(variant[0]), "%s", m);
		snprintf(variant[1], sizeof(variant[1]), "%s", m + (first < len ? first : 0));
		snprintf(variant[2], sizeof(variant[2]), "%.*s", (int)(len - (len > 0)), m);
		snprintf(variant[3], sizeof(variant[3]), "你好，%s。谢谢", m);
		for (int v = 0; v < 4; v++)
			for (int from = FROM_NONE; from <= FROM_BOT; from++)
				for (unsigned limit = 0; limit <= rules_count(fast) + 1;
				     limit += 3) {
					unsigned lim =
					    limit > rules_count(fast) ? RULES_NONE : limit;
					size_t vlen = strlen(variant[v]);
					unsigned a = rules_first_match(fast, (enum record_from)from,
					                               variant[v], vlen, lim);
					unsigned b = rules_first_match(
					    plain, (enum record_from)from, variant[v], vlen, lim);
					if (a != b && disagreements++ < 5)
						fprintf(stderr, "  shipped %u, %s %u: \"%s\"\n", a,
						        what, b, variant[v]);
				}
	}
	CHECK_INT(disagreements, 0);
	rules_free(fast);
	rules_free(plain);
	free(plain_text);
	free(text);
	free(data);
}

static void test_prefilter_agrees_on_the_cases(void)
{
	for (size_t f = 0; f < CASE_FILES; f++)
		same_answers_on(case_files[f], without_prefilter, "without prefilter");
}

static void test_start_guards_change_nothing(void)
{
	char *text = read_whole(SHIPPED), *plain = text != NULL ? without_guards(text) : NULL;
	struct rules *r = plain != NULL ? load_text(plain) : NULL;

	/* the guards are there and strip to a file that loads */
	CHECK(text != NULL && strstr(text, "\t(?=[") != NULL);
	CHECK(r != NULL);
	rules_free(r);
	free(plain);
	free(text);
	for (size_t f = 0; f < CASE_FILES; f++)
		same_answers_on(case_files[f], without_guards, "without guards");
}

/* ---- whole chats through the engine ------------------------------------------------ */

#define T0 1795485600000LL /* 2026-11-24T10:00:00+08:00 */
#define S 1000LL

struct chat_fixture {
	struct names *names;
	struct reasons reasons;
	struct counter_table *table;
	struct rules *rules;
	struct engine *engine;
};

/* The engine with the shipped rules, or with `text` as the rules when not NULL. */
static int chat_setup_rules(struct chat_fixture *f, const char *text)
{
	struct engine_settings settings = {
	    .session_idle_ms = 600 * S,
	    .order_window_ms = 86400 * S,
	    .frt_target_ms = 6000,
	    .art_target_ms = 10000,
	    .track_deadlines = 0,
	};
	char err[512];

	memset(f, 0, sizeof(*f));
	f->names = names_new();
	reasons_init(&f->reasons);
	f->table = counter_table_new(0);
	f->rules = text != NULL ? rules_load_buffer("t.conf", text, strlen(text), err, sizeof(err))
	                        : rules_load(SHIPPED, err, sizeof(err));
	if (f->rules == NULL) {
		fprintf(stderr, "  %s\n", err);
		return -1;
	}
	f->engine = engine_new(&settings, f->names, &f->reasons, f->table);
	return f->engine != NULL ? engine_set_rules(f->engine, f->rules) : -1;
}

static int chat_setup(struct chat_fixture *f)
{
	return chat_setup_rules(f, NULL);
}

static void chat_teardown(struct chat_fixture *f)
{
	engine_free(f->engine);
	rules_free(f->rules);
	counter_table_free(f->table);
	reasons_free(&f->reasons);
	names_free(f->names);
}

static struct text_view view(const char *s)
{
	struct text_view v = {s, s ? strlen(s) : 0};
	return v;
}

/* One message of a chat: 'B' buyer, 'A' agent, 'R' bot (robot). */
struct chat_line {
	char who;
	const char *text;
};

/* Feeds the chat as buyer `buyer` talking to agent "a-" + buyer, one message every
 * 3 s (so no reply is slow). */
static void feed_chat(struct chat_fixture *f, const char *buyer, const struct chat_line *chat,
                      size_t n)
{
	char agent[64], err[128];

	snprintf(agent, sizeof(agent), "a-%s", buyer);
	for (size_t i = 0; i < n; i++) {
		struct record r;
		record_clear(&r);
		r.ts_ms = T0 + (int64_t)i * 3 * S;
		r.kind = RECORD_MSG;
		r.from = chat[i].who == 'B'   ? FROM_BUYER
		         : chat[i].who == 'A' ? FROM_AGENT
		                              : FROM_BOT;
		r.shop = view("s1");
		r.buyer = view(buyer);
		r.agent = view(r.from == FROM_BOT ? NULL : agent);
		r.text = view(chat[i].text);
		CHECK_INT(engine_feed(f->engine, &r, err, sizeof(err)), 0);
	}
}

/* The single lost reason of agent "a-" + buyer, "-" when not exactly one. */
static const char *lost_reason(struct chat_fixture *f, const char *buyer)
{
	char agent[64];
	uint32_t shop = names_find(f->names, "s1", 2), a;
	const char *found = "-";

	snprintf(agent, sizeof(agent), "a-%s", buyer);
	a = names_find(f->names, agent, strlen(agent));
	for (size_t i = 0; i < counter_table_count(f->table); i++) {
		struct counter_row *row = counter_table_at(f->table, i);
		if (row->shop != shop || row->agent != a || row->value[COUNTER_LOST] != 1)
			continue;
		for (unsigned id = 0; id < f->reasons.count; id++)
			if (row->value[COUNTER_LOST_REASON + id] == 1)
				found = f->reasons.names[id];
	}
	return found;
}

#define CHAT(f, buyer, ...)                                                                        \
	do {                                                                                       \
		static const struct chat_line chat_[] = {__VA_ARGS__};                             \
		feed_chat(f, buyer, chat_, sizeof(chat_) / sizeof(chat_[0]));                      \
	} while (0)

static void test_whole_chats_get_the_rubric_reason(void)
{
	struct chat_fixture f;

	if (chat_setup(&f) != 0) {
		CHECK(0);
		chat_teardown(&f);
		return;
	}
	/* The agent says it is being transferred from another warehouse; the buyer then
	 * complains it is slow and cancels: the cause, out_of_stock, wins. */
	CHAT(&f, "stock", {'B', "京东快递(移动端) 你好"}, {'A', "您好，请讲"},
	     {'B', "我前天买的电饭煲怎么还没发货"},
	     {'A', "亲，这款商品仓库正在为您调货，调好马上发出"}, {'B', "太慢了，那帮我取消吧"},
	     {'A', "好的，这边帮您取消订单"});
	/* Marked as delivered but never received: courier, although the buyer also
	 * says they no longer want it. */
	CHAT(&f, "courier", {'B', "[订单编号:[订单x]，订单金额:[金额x]，下单时间:[日期x] [时间x]]"},
	     {'A', "您好，请讲"}, {'B', "订单显示已签收，可是我一直没收到"},
	     {'A', "请问是否有家人帮您代收了呢"}, {'B', "没有，找不到就不要了，给我退款"});
	/* Invoices, a price protection that is paid, a booked installation: no rule. */
	CHAT(&f, "topics", {'B', "你好，发票抬头能改成公司吗"}, {'A', "可以的，请提供抬头和税号"},
	     {'B', "另外降价了，帮我申请价保"}, {'A', "已经为您申请价保，差价原路退回"},
	     {'B', "好的，空调什么时候上门安装"}, {'A', "安装师傅明天会联系您"},
	     {'B', "暂时不需要了，谢谢"}, {'A', "请问还有什么可以帮您的吗？"});
	/* Pre-sale: the product cannot do what the buyer needs (decision 5). */
	CHAT(&f, "feature", {'B', "[链接x]"}, {'A', "您好，在的"}, {'B', "这款音箱能放光盘吗"},
	     {'A', "抱歉，这款不支持播放光盘的"}, {'B', "好吧，我再看看"});
	/* The buyer cancels for no reason at all (decision 1). */
	CHAT(&f, "cancel", {'B', "在吗，我想取消订单"}, {'A', "好的，请提供订单号"},
	     {'B', "[订单x]"}, {'A', "您的订单拦截成功，退款原路返回"});
	/* Only the auto-reply mentions stock and shipping: no evidence. */
	CHAT(&f, "bot", {'B', "有现货吗"}, {'R', "亲，欢迎光临，如遇缺货会联系您，48小时内发货"},
	     {'A', "有现货的亲，今天下单今天发"}, {'B', "好的我考虑一下"});
	engine_finish(f.engine);
	CHECK_STR(lost_reason(&f, "stock"), "out_of_stock");
	CHECK_STR(lost_reason(&f, "courier"), "courier");
	CHECK_STR(lost_reason(&f, "topics"), "other");
	CHECK_STR(lost_reason(&f, "feature"), "product_doubt");
	CHECK_STR(lost_reason(&f, "cancel"), "personal");
	CHECK_STR(lost_reason(&f, "bot"), "other");
	chat_teardown(&f);
}

/* patterns/whole-inquiry.conf pasted into the shipped file before the line its header
 * names (the weakest courier line, right after the "WHOLE-INQUIRY lines" comment).
 * Each invented chat ends with the reason it is written for (other: none). */
static void test_whole_inquiry_lines_where_the_file_says(void)
{
	static const struct {
		const char *buyer, *want;
		struct chat_line chat[4];
	} chats[] = {
	    {"give-up",
	     "shipping_time",
	     {{'B', "请问这个多久能发货"}, {'A', "预计下周三发出"}, {'B', "这么久啊，那我不要了"}}},
	    {"not-tomorrow",
	     "shipping_time",
	     {{'B', "明天能送到吗"},
	      {'A', "您的包裹刚到分拣中心"},
	      {'B', "我要出门的"},
	      {'A', "明天可能送不到呢"}}},
	    {"regret",
	     "shipping_time",
	     {{'B', "我的书几时发出呀"},
	      {'A', "亲，仓库按顺序发货的"},
	      {'B', "早知道就去书店买了"}}},
	    {"accepted",
	     "other",
	     {{'B', "几号可以到呀"}, {'A', "预计明天送达"}, {'B', "好的谢谢"}}},
	    {"hypothetical",
	     "other",
	     {{'B', "今晚能送到吗"}, {'A', "稍等我查一下"}, {'B', "赶不过来的话就算了"}}},
	    {"before",
	     "other",
	     {{'B', "算了先不看了"}, {'B', "哪天发货呢"}, {'A', "下单后两天内发出"}}},
	    {"station",
	     "courier",
	     {{'B', "买的东西我没收到呢"}, {'A', "我去问一下配送员什么情况"}, {'B', "好的谢谢"}}},
	    {"pickup",
	     "courier",
	     {{'B', "说好来取件的，一直没人来取"}, {'A', "亲，已为您催促站点重新安排"}}},
	    {"refund", "other", {{'B', "退款还没收到账"}, {'A', "我去找站点核实一下"}}},
	    {"tracking",
	     "other",
	     {{'B', "我的快递到哪了"}, {'A', "我跟站点确认下位置"}, {'B', "好的"}}},
	    {"on-its-way",
	     "other",
	     {{'B', "东西还没收到"}, {'A', "您的包裹正在派送中，请耐心等待"}, {'B', "行"}}},
	};
	char *shipped = read_whole(SHIPPED), *lines = read_whole(WHOLE_INQUIRY), *text = NULL;
	const char *at = shipped ? strstr(shipped, "# Buyer, weakest courier") : NULL;
	struct chat_fixture f;

	CHECK(shipped != NULL && lines != NULL && at != NULL &&
	      strstr(shipped, "# WHOLE-INQUIRY lines") != NULL);
	if (at == NULL || lines == NULL ||
	    (text = malloc(strlen(shipped) + strlen(lines) + 1)) == NULL)
		goto end;
	memcpy(text, shipped, (size_t)(at - shipped));
	strcpy(text + (at - shipped), lines);
	strcat(text, at);
	if (chat_setup_rules(&f, text) != 0) {
		CHECK(0);
		chat_teardown(&f);
		goto end;
	}
	CHECK_INT(rules_first_inquiry(f.rules), 11);
	for (size_t i = 0; i < sizeof(chats) / sizeof(chats[0]); i++) {
		size_t n = 0;
		while (n < 4 && chats[i].chat[n].who != 0)
			n++;
		feed_chat(&f, chats[i].buyer, chats[i].chat, n);
	}
	engine_finish(f.engine);
	for (size_t i = 0; i < sizeof(chats) / sizeof(chats[0]); i++) {
		const char *got = lost_reason(&f, chats[i].buyer);
		if (strcmp(got, chats[i].want) != 0)
			fprintf(stderr, "  chat %s\n", chats[i].buyer);
		CHECK_STR(got, chats[i].want);
	}
	chat_teardown(&f);
end:
	free(text);
	free(lines);
	free(shipped);
}

int main(void)
{
	RUN(test_cases_against_the_shipped_file);
	RUN(test_prefilter_agrees_on_the_cases);
	RUN(test_start_guards_change_nothing);
	RUN(test_whole_chats_get_the_rubric_reason);
	RUN(test_whole_inquiry_lines_where_the_file_says);
	return check_done();
}
