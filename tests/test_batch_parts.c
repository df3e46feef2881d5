/*
 * A batch cut into a Redis Cluster's parts (batch_parts.h), checked against a real
 * redis-server: the parts, applied one by one into one db, leave exactly the keys the
 * whole batch leaves in another (counters, sets, windows, alerts), plus the tags'
 * sequence keys; each part's keys share one hash tag; a re-sent part is a no-op; the
 * closing part moves the instance's sequence, strictly when the batch is strict.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/batch_parts.h"
#include "chatlogd/publish.h"
#include "check.h"
#include "redis_server.h"

#define T_MORNING 1795485630000LL /* 2026-11-24T02:00:30Z */

static struct publish_settings settings = {.prefix = "cs",
                                           .instance = "test",
                                           .minute_ttl_s = 172800,
                                           .day_ttl_s = 34560000,
                                           .max_rows_per_batch = 1000};

/* EVAL of the apply script with numkeys keys on db; the script's first element (1
 * applied, 0 before, 2 out of sequence) or -1 for an error. */
static int eval_on(const struct redis_server *srv, int db, int argc, const char **args,
                   const size_t *lens, int numkeys)
{
	redisContext *c = redis_server_connect(srv, db);
	const char **argv = malloc((size_t)(argc + 3) * sizeof(*argv));
	size_t *argvlen = malloc((size_t)(argc + 3) * sizeof(*argvlen));
	char keys[16];
	redisReply *reply;
	int result = -1;

	snprintf(keys, sizeof(keys), "%d", numkeys);
	argv[0] = "EVAL";
	argvlen[0] = 4;
	argv[1] = publish_script;
	argvlen[1] = strlen(publish_script);
	argv[2] = keys;
	argvlen[2] = strlen(keys);
	memcpy(argv + 3, args, (size_t)argc * sizeof(*argv));
	memcpy(argvlen + 3, lens, (size_t)argc * sizeof(*argvlen));
	reply = redisCommandArgv(c, argc + 3, argv, argvlen);
	/* {outcome, applied}, or with the shops left out as a third element */
	if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2)
		result = (int)reply->element[0]->integer;
	else if (reply && reply->type == REDIS_REPLY_ERROR)
		fprintf(stderr, "script error: %s\n", reply->str);
	freeReplyObject(reply);
	redisFree(c);
	free(argv);
	free(argvlen);
	return result;
}

static int apply_whole(const struct redis_server *srv, int db, const struct publish_batch *b)
{
	return eval_on(srv, db, b->argc, (const char **)b->argv, b->argvlen, 1);
}

static int apply_part(const struct redis_server *srv, int db, const struct batch_part *p)
{
	return eval_on(srv, db, p->argc, p->argv, p->argvlen, p->numkeys);
}

/* A reply's integer (freed); -1 when it is not one. */
static long long integer_reply(redisReply *r)
{
	long long v = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return v;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A key's contents as one comparable text: type, whether it expires, and its
 * members or field=value pairs sorted (stream entries in order, without their ids). */
static char *describe(const struct redis_server *srv, int db, const char *key)
{
	redisContext *c = redis_server_connect(srv, db);
	redisReply *type = redisCommand(c, "TYPE %s", key), *ttl = redisCommand(c, "TTL %s", key);
	redisReply *r = NULL;
	size_t cap = 4096, len = 0;
	char *out = malloc(cap), **items = NULL;
	size_t n = 0;

	len += (size_t)snprintf(out, cap, "%s ttl=%s", type->str, ttl->integer > 0 ? "yes" : "no");
	if (strcmp(type->str, "hash") == 0) {
		r = redisCommand(c, "HGETALL %s", key);
		n = r->elements / 2;
		items = calloc(n + 1, sizeof(*items));
		for (size_t i = 0; i < n; i++) {
			items[i] = malloc(r->element[2 * i]->len + r->element[2 * i + 1]->len + 2);
			sprintf(items[i], "%s=%s", r->element[2 * i]->str,
			        r->element[2 * i + 1]->str);
		}
	} else if (strcmp(type->str, "set") == 0) {
		r = redisCommand(c, "SMEMBERS %s", key);
		n = r->elements;
		items = calloc(n + 1, sizeof(*items));
		for (size_t i = 0; i < n; i++)
			items[i] = strdup(r->element[i]->str);
	} else if (strcmp(type->str, "stream") == 0) {
		r = redisCommand(c, "XRANGE %s - +", key);
		n = r->elements;
		items = calloc(n + 1, sizeof(*items));
		for (size_t i = 0; i < n; i++)
			items[i] = strdup(r->element[i]->element[1]->element[1]->str);
	} else if (strcmp(type->str, "string") == 0) {
		r = redisCommand(c, "GET %s", key);
		n = 1;
		items = calloc(2, sizeof(*items));
		items[0] = strdup(r->str);
	}
	if (strcmp(type->str, "stream") != 0 && n > 1)
		qsort(items, n, sizeof(*items), compare_strings);
	for (size_t i = 0; i < n; i++) {
		size_t need = len + strlen(items[i]) + 2;
		if (need > cap) {
			cap = need * 2;
			out = realloc(out, cap);
		}
		len += (size_t)sprintf(out + len, " %s", items[i]);
		free(items[i]);
	}
	free(items);
	freeReplyObject(r);
	freeReplyObject(type);
	freeReplyObject(ttl);
	redisFree(c);
	return out;
}

/* Every key of db `whole` has the same contents in db `parts`; parts has no other
 * keys but the sequence keys of tags. Returns the number of keys compared. */
static int compare_dbs(const struct redis_server *srv, int whole, int parts)
{
	redisReply *a = redis_server_command(srv, whole, "KEYS *");
	redisReply *b = redis_server_command(srv, parts, "KEYS *");
	int compared = 0, tag_seqs = 0;

	for (size_t i = 0; i < a->elements; i++) {
		char *x = describe(srv, whole, a->element[i]->str);
		char *y = describe(srv, parts, a->element[i]->str);
		if (strcmp(x, y) != 0)
			fprintf(stderr, "key %s:\n whole: %s\n parts: %s\n", a->element[i]->str, x,
			        y);
		CHECK_STR(y, x);
		compared++;
		free(x);
		free(y);
	}
	for (size_t i = 0; i < b->elements; i++)
		tag_seqs += strstr(b->element[i]->str, "}:instance:test:seq") != NULL;
	CHECK_INT(b->elements, a->elements + (size_t)tag_seqs);
	freeReplyObject(a);
	freeReplyObject(b);
	return compared;
}

static void test_tags(void)
{
	size_t len;
	const char *tag;

	tag = batch_parts_tag("cs:{s1}:a:x:m:1", 15, &len);
	CHECK_INT(len, 2);
	CHECK(memcmp(tag, "s1", 2) == 0);
	tag = batch_parts_tag("cs:shops", 8, &len);
	CHECK_INT(len, 8);
	tag = batch_parts_tag("foo{}{bar}", 10, &len); /* an empty first tag: the whole key */
	CHECK_INT(len, 10);
	tag = batch_parts_tag("foo{{bar}}zap", 13, &len); /* up to the first '}' */
	CHECK_INT(len, 4);
	CHECK(memcmp(tag, "{bar", 4) == 0);
	tag = batch_parts_tag("foo{bar", 7, &len); /* no closing brace */
	CHECK_INT(len, 7);
}

static void test_parts_leave_what_the_batch_leaves(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct names *names = names_new();
	struct reasons reasons;
	struct counter_table *cut = counter_table_new(1);
	struct windows *w = windows_new();
	const char *shop_names[3] = {"s1", "旗舰店:{x}", "s3"};
	uint32_t shop[3], alice, bob;
	struct alert_event ev[3] = {
	    {ALERT_RAISED, 0, 0, 1, 9000, 6000, 3, 300, T_MORNING, ""},
	    {ALERT_CLEARED, 0, 0, 1, 4000, 6000, 3, 300, T_MORNING + 60000, ""},
	    {ALERT_WAITING, 0, 0, 1, 7000, 6000, 1, 300, T_MORNING + 61000, "buyer-1"},
	};
	struct publish_extra extra = {w, T_MORNING + 29000, ev, 3};
	struct publish_batch *batches;
	struct batch_parts parts;
	int n, compared;

	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	reasons_init(&reasons);
	reasons_intern(&reasons, "price");
	for (int i = 0; i < 3; i++)
		shop[i] = names_intern(names, shop_names[i], strlen(shop_names[i]));
	alice = names_intern(names, "alice", 5);
	bob = names_intern(names, "客服小美", strlen("客服小美"));
	for (int i = 0; i < 3; i++) {
		counter_table_add(cut, shop[i], alice, T_MORNING, COUNTER_INQUIRIES, 1 + i);
		counter_table_add(cut, shop[i], bob, T_MORNING + 60000, COUNTER_RESPONSES, 2);
		counter_table_add(cut, shop[i], bob, T_MORNING, COUNTER_FRT_MS_SUM, 4500);
	}
	counter_table_add(cut, shop[1], NAME_WHOLE_SHOP, T_MORNING, COUNTER_SILENT_ORDERS, 1);
	ev[0].shop = ev[1].shop = shop[1];
	ev[2].shop = shop[2];
	ev[0].agent = ev[1].agent = alice;
	ev[2].agent = bob;
	CHECK_INT(windows_add(w, cut, 0, T_MORNING + 29000), 0);
	settings.max_rows_per_batch = 7; /* several batches, a shop split between two */
	/* a live daemon's claims, s3 another instance's: left out the same way */
	settings.claim_shops = 1;
	settings.claim_ttl_s = 86400;
	freeReplyObject(redis_server_command(&srv, 0, "SET cs:{s3}:instance other"));
	freeReplyObject(redis_server_command(&srv, 1, "SET cs:{s3}:instance other"));
	n = publish_build_cut(&settings, cut, names, &reasons, 1, &extra, &batches);
	CHECK(n >= 4);
	for (int i = 0; i < n; i++) {
		CHECK_INT(apply_whole(&srv, 0, &batches[i]), 1);
		CHECK_INT(batch_parts_split(&settings, &batches[i], &parts), 0);
		CHECK(parts.count >= 2);
		for (int k = 0; k < parts.count; k++) {
			const struct batch_part *p = &parts.part[k];
			size_t first_len, len;
			const char *first = batch_parts_tag(p->argv[0], p->argvlen[0], &first_len);
			for (int key = 1; key < p->numkeys; key++) {
				const char *tag =
				    batch_parts_tag(p->argv[key], p->argvlen[key], &len);
				CHECK(len == first_len && memcmp(tag, first, len) == 0);
			}
			CHECK_INT(apply_part(&srv, 1, p), 1);
			CHECK_INT(apply_part(&srv, 1, p), 0); /* a re-send changes nothing */
		}
		/* the closing part is the instance's sequence alone */
		CHECK_INT(parts.part[parts.count - 1].numkeys, 1);
		CHECK_INT(parts.part[parts.count - 1].argc, 2);
		batch_parts_free(&parts);
	}
	compared = compare_dbs(&srv, 0, 1);
	CHECK(compared > 30);
	CHECK_INT(integer_reply(redis_server_command(&srv, 1, "EXISTS cs:{s3}:agents")), 0);
	CHECK_INT(integer_reply(redis_server_command(&srv, 1, "EXISTS cs:{s1}:instance")), 1);
	settings.claim_shops = 0;
	publish_batches_free(batches, n);
	settings.max_rows_per_batch = 1000;
	windows_free(w);
	counter_table_free(cut);
	reasons_free(&reasons);
	names_free(names);
	redis_server_stop(&srv);
}

static void test_strict_closing_part(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct names *names = names_new();
	struct reasons reasons;
	struct counter_table *cut = counter_table_new(1);
	struct publish_batch *batches;
	struct batch_parts parts;
	uint32_t s1, alice;
	int n;

	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	reasons_init(&reasons);
	s1 = names_intern(names, "s1", 2);
	alice = names_intern(names, "alice", 5);
	counter_table_add(cut, s1, alice, T_MORNING, COUNTER_INQUIRIES, 1);
	settings.strict_sequence = 1;
	n = publish_build(&settings, cut, names, &reasons, 2, &batches); /* batch 1 missing */
	CHECK_INT(n, 1);
	CHECK_INT(batch_parts_split(&settings, &batches[0], &parts), 0);
	/* the tags' parts are not strict (their sequences have gaps); the closing one is */
	for (int k = 0; k < parts.count - 1; k++) {
		CHECK(parts.part[k].argv[parts.part[k].numkeys][0] != '=');
		CHECK_INT(apply_part(&srv, 0, &parts.part[k]), 1);
	}
	CHECK_INT(apply_part(&srv, 0, &parts.part[parts.count - 1]), 2);
	batch_parts_free(&parts);
	publish_batches_free(batches, n);
	settings.strict_sequence = 0;
	counter_table_free(cut);
	reasons_free(&reasons);
	names_free(names);
	redis_server_stop(&srv);
}

static void test_bad_batch_is_refused(void)
{
	char *argv[5] = {"cs:instance:test:seq", "1", "I", "cs:{s}:k", "60"};
	size_t argvlen[5] = {20, 1, 1, 8, 2};
	struct publish_batch b = {1, 5, argv, argvlen};
	struct batch_parts parts;

	CHECK_INT(batch_parts_split(&settings, &b, &parts), -1); /* I without its count */
	CHECK_INT(parts.count, 0);
	argv[2] = "Z";
	CHECK_INT(batch_parts_split(&settings, &b, &parts), -1);
}

int main(void)
{
	test_tags();
	test_parts_leave_what_the_batch_leaves();
	test_strict_closing_part();
	test_bad_batch_is_refused();
	return check_done();
}
