/*
 * chatlogd-import: converts what a Taobao/Tmall shop has (Qianniu chat copies, the
 * chat-record page, the seller center's order report) into reference.md §1 JSON Lines and
 * appends them to the file chatlogd follows, each record once however often an export
 * is imported. Options and the rules behind them: docs/import.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatlogd/decimal.h"
#include "chatlogd/import_batch.h"
#include "chatlogd/import_chat.h"
#include "chatlogd/import_chatpage.h"
#include "chatlogd/import_input.h"
#include "chatlogd/import_orders.h"
#include "chatlogd/import_workbench.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"

enum shape { SHAPE_AUTO, SHAPE_WORKBENCH, SHAPE_PAGE, SHAPE_ORDERS };

static const char *const shape_names[] = {"auto", "workbench", "page", "orders"};

struct settings {
	const char *output;
	enum shape shape;
	enum import_encoding encoding;
	const char *timezone;
	int dry_run;
	struct import_roles roles;
	struct import_order_options orders;
	char **agents, **bots;
	size_t agent_count, bot_count;
};

static void usage(void)
{
	fprintf(stderr,
	        "usage: chatlogd-import -o FILE [options] EXPORT...\n"
	        "  -o, --output FILE        append the records to FILE, leaving out those it has\n"
	        "                           already (\"-\": stdout, no memory of earlier imports)\n"
	        "  -t, --type SHAPE         auto (default), workbench, page or orders\n"
	        "      --shop NAME          the shop, when no agent is named SHOP:SUB\n"
	        "      --buyer NAME         the buyer of a chat, when it cannot be told\n"
	        "      --agent NAME         an agent whose name is not SHOP:SUB (repeat)\n"
	        "      --agents FILE        agents, one per line (# comments)\n"
	        "      --bot NAME           a sender that is a bot (repeat)\n"
	        "      --timezone ZONE      time zone of the exports (Asia/Shanghai)\n"
	        "      --encoding ENC       auto (default), utf-8 or gbk\n"
	        "      --column KEY=NAME    order report column: order buyer amount status\n"
	        "                           created paid shop (defaults: the Taobao names)\n"
	        "      --closed-status WORD the status of a closed order (交易关闭)\n"
	        "      --closed order|skip  closed orders: count as placed (default) or leave out\n"
	        "      --transfer-idle SECS how long a transfer holds in silence (600)\n"
	        "  -n, --dry-run            convert and summarise, write nothing\n");
	exit(2);
}

static void add_name(char ***list, size_t *count, const char *name)
{
	*list = xreallocarray(*list, *count + 1, sizeof(**list));
	(*list)[(*count)++] = xstrdup(name);
}

static void read_agents(struct settings *s, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (f == NULL) {
		fprintf(stderr, "chatlogd-import: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len > 0 && strchr(" \t\r\n", line[len - 1]) != NULL)
			line[--len] = '\0';
		char *name = line + strspn(line, " \t");
		if (*name != '\0' && *name != '#')
			add_name(&s->agents, &s->agent_count, name);
	}
	free(line);
	fclose(f);
}

static void set_column(struct settings *s, const char *arg)
{
	struct import_order_columns *c = &s->orders.columns;
	const char *eq = strchr(arg, '=');
	const char **target = NULL;
	if (eq == NULL || eq[1] == '\0')
		usage();
	size_t n = (size_t)(eq - arg);
	const struct {
		const char *key;
		const char **field;
	} keys[] = {{"order", &c->order},   {"buyer", &c->buyer},     {"amount", &c->amount},
	            {"status", &c->status}, {"created", &c->created}, {"paid", &c->paid},
	            {"shop", &c->shop}};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].key) == n && strncmp(arg, keys[i].key, n) == 0)
			target = keys[i].field;
	if (target == NULL) {
		fprintf(stderr, "chatlogd-import: --column: unknown key in \"%s\"\n", arg);
		exit(2);
	}
	*target = eq + 1;
}

static void parse_options(struct settings *s, int argc, char **argv)
{
	static const struct option long_options[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"type", required_argument, NULL, 't'},
	    {"shop", required_argument, NULL, 'S'},
	    {"buyer", required_argument, NULL, 'B'},
	    {"agent", required_argument, NULL, 'A'},
	    {"agents", required_argument, NULL, 'F'},
	    {"bot", required_argument, NULL, 'R'},
	    {"timezone", required_argument, NULL, 'z'},
	    {"encoding", required_argument, NULL, 'e'},
	    {"column", required_argument, NULL, 'c'},
	    {"closed-status", required_argument, NULL, 'C'},
	    {"closed", required_argument, NULL, 'k'},
	    {"transfer-idle", required_argument, NULL, 'i'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:t:nh", long_options, NULL)) != -1) {
		switch (c) {
		case 'o':
			s->output = optarg;
			break;
		case 't':
			s->shape = SHAPE_AUTO;
			while (s->shape <= SHAPE_ORDERS &&
			       strcmp(optarg, shape_names[s->shape]) != 0)
				s->shape++;
			if (s->shape > SHAPE_ORDERS)
				usage();
			break;
		case 'S':
			s->roles.shop = optarg;
			s->orders.shop = optarg;
			break;
		case 'B':
			s->roles.buyer = optarg;
			break;
		case 'A':
			add_name(&s->agents, &s->agent_count, optarg);
			break;
		case 'F':
			read_agents(s, optarg);
			break;
		case 'R':
			add_name(&s->bots, &s->bot_count, optarg);
			break;
		case 'z':
			s->timezone = optarg;
			break;
		case 'e':
			if (strcmp(optarg, "auto") == 0)
				s->encoding = IMPORT_ENCODING_AUTO;
			else if (strcasecmp(optarg, "utf-8") == 0 ||
			         strcasecmp(optarg, "utf8") == 0)
				s->encoding = IMPORT_ENCODING_UTF8;
			else if (strcasecmp(optarg, "gbk") == 0 ||
			         strcasecmp(optarg, "gb18030") == 0)
				s->encoding = IMPORT_ENCODING_GBK;
			else
				usage();
			break;
		case 'c':
			set_column(s, optarg);
			break;
		case 'C':
			s->orders.closed_status = optarg;
			break;
		case 'k':
			if (strcmp(optarg, "order") != 0 && strcmp(optarg, "skip") != 0)
				usage();
			s->orders.skip_closed = strcmp(optarg, "skip") == 0;
			break;
		case 'i': {
			uint64_t seconds;
			/* at most 7 days, session_idle's own limit */
			if (decimal_parse(optarg, strlen(optarg), 7 * 86400, &seconds) == -1)
				usage();
			s->roles.transfer_idle_ms = (int64_t)seconds * 1000;
			break;
		}
		case 'n':
			s->dry_run = 1;
			break;
		default:
			usage();
		}
	}
	if (optind == argc || (s->output == NULL && !s->dry_run))
		usage();
	s->roles.agents = (const char *const *)s->agents;
	s->roles.agent_count = s->agent_count;
	s->roles.bots = (const char *const *)s->bots;
	s->roles.bot_count = s->bot_count;
}

/* The shape of an export from its lines: the report's header row, a workbench message
 * header anywhere, else the chat-record page. */
static enum shape detect_shape(const struct settings *s, const struct import_input *input)
{
	size_t i = 0;
	while (i < input->count && strspn(input->lines[i].text, " \t") == input->lines[i].len)
		i++;
	if (i < input->count &&
	    import_orders_is_header(&s->orders, input->lines[i].text, input->lines[i].len))
		return SHAPE_ORDERS;
	for (; i < input->count; i++)
		if (import_workbench_is_header(input->lines[i].text, input->lines[i].len))
			return SHAPE_WORKBENCH;
	return SHAPE_PAGE;
}

static int import_file(const struct settings *s, struct import_batch *batch, const char *path)
{
	char err[512];
	struct import_input *input = import_input_read(path, s->encoding, err, sizeof(err));
	size_t before = import_batch_line_total(batch);

	if (input == NULL) {
		fprintf(stderr, "chatlogd-import: %s\n", err);
		return -1;
	}
	enum shape shape = s->shape != SHAPE_AUTO ? s->shape : detect_shape(s, input);
	import_batch_begin_input(batch, input->name);
	if (shape == SHAPE_WORKBENCH)
		import_workbench_parse(input, &s->roles, batch);
	else if (shape == SHAPE_PAGE)
		import_chatpage_parse(input, &s->roles, batch);
	else
		import_orders_parse(input, &s->orders, batch);
	fprintf(stderr, "chatlogd-import: file=%s shape=%s encoding=%s lines=%zu\n", path,
	        shape_names[shape], input->detected == IMPORT_ENCODING_GBK ? "gbk" : "utf-8",
	        import_batch_line_total(batch) - before);
	if (import_batch_line_total(batch) - before != input->count)
		fprintf(stderr,
		        "chatlogd-import: %s: %zu lines read but %zu accounted for (a bug)\n", path,
		        input->count, import_batch_line_total(batch) - before);
	import_input_free(input);
	return 0;
}

/* Appends to the output under an exclusive lock, so two imports into one file cannot
 * both miss each other's ids. A file not ending in a newline gets one first: the
 * records must not join its last line. */
static int write_output(struct import_batch *batch, const char *path)
{
	char err[512], last = '\n', *buffer = NULL;
	size_t size = 0;
	struct stat st;
	FILE *memory;
	int fd;

	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
	    flock(fd, LOCK_EX) < 0) {
		fprintf(stderr, "chatlogd-import: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	if (import_batch_load_seen(batch, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "chatlogd-import: %s\n", err);
		goto fail;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	if ((memory = open_memstream(&buffer, &size)) == NULL) {
		perror("chatlogd-import: open_memstream");
		goto fail;
	}
	if (last != '\n')
		fputc('\n', memory);
	import_batch_write(batch, memory);
	fclose(memory);
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, buffer + done, size - done);
		if (n < 0) {
			fprintf(stderr, "chatlogd-import: %s: %s\n", path, strerror(errno));
			goto fail;
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0 && errno != EINVAL) {
		fprintf(stderr, "chatlogd-import: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	free(buffer);
	close(fd);
	return 0;
fail:
	free(buffer);
	if (fd >= 0)
		close(fd);
	return -1;
}

int main(int argc, char **argv)
{
	struct settings s = {
	    .timezone = "Asia/Shanghai",
	    .roles = {.transfer_idle_ms = 600 * 1000},
	};
	struct import_batch *batch;
	int status = 0;

	import_orders_defaults(&s.orders);
	parse_options(&s, argc, argv);
	if (timefmt_set_timezone(s.timezone) < 0) {
		fprintf(stderr, "chatlogd-import: unknown time zone \"%s\"\n", s.timezone);
		return 2;
	}
	batch = import_batch_new();
	for (int i = optind; i < argc; i++)
		if (import_file(&s, batch, argv[i]) < 0)
			status = 2;
	import_batch_finish(batch);
	if (status == 0 && !s.dry_run) {
		if (strcmp(s.output, "-") == 0)
			status =
			    import_batch_write(batch, stdout) < 0 || fflush(stdout) != 0 ? 2 : 0;
		else if (write_output(batch, s.output) < 0)
			status = 2;
	}
	import_batch_summary(batch, stderr);
	if (import_batch_count_of(batch, IMPORT_COUNT_OLDER) > 0)
		fprintf(stderr,
		        "chatlogd-import: warning: %zu records are older than the newest one "
		        "already in %s; chatlogd reads a file in order, so import exports in date "
		        "order, or into a new file (docs/import.md)\n",
		        import_batch_count_of(batch, IMPORT_COUNT_OLDER), s.output);
	if (status == 0 && import_batch_lines_of(batch, IMPORT_LINE_ERROR) > 0)
		status = 1;
	import_batch_free(batch);
	for (size_t i = 0; i < s.agent_count; i++)
		free(s.agents[i]);
	for (size_t i = 0; i < s.bot_count; i++)
		free(s.bots[i]);
	free(s.agents);
	free(s.bots);
	return status;
}
