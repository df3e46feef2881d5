/*
 * The Redis schema and the apply script (reference.md §6, docs/exactly-once.md), against a
 * real redis-server: exact hash contents, whole-shop sums, TTLs, sets, splitting into
 * batches, idempotent re-sends, deterministic batches, and a foreign key stopping a
 * batch before it writes anything.
 */
#include <stdlib.h>
#include <string.h>

#include "chatlogd/publish.h"
#include "chatlogd/timefmt.h"
#include "check.h"
#include "redis_server.h"

/* 2026-11-24T10:00:30+08:00 = 02:00:30Z: minute key 202611240200, Shanghai day 20261124.
 * 2026-11-24T23:59:10+08:00 = 15:59:10Z: minute 202611241559, same local day.
 * 2026-11-25T00:00:10+08:00 = 16:00:10Z: minute 202611241600, local day 20261125. */
#define T_MORNING 1795485630000LL
#define T_LATE 1795535950000LL
#define T_NEXT_DAY 1795536010000LL

static struct publish_settings settings = {.prefix = "cs",
                                           .instance = "test",
                                           .minute_ttl_s = 172800,
                                           .day_ttl_s = 34560000,
                                           .max_rows_per_batch = 1000};

struct fixture {
	struct names *names;
	struct reasons reasons;
	struct counter_table *cut;
	uint32_t s1, alice, bob;
};

static void setup(struct fixture *f)
{
	f->names = names_new();
	reasons_init(&f->reasons);
	reasons_intern(&f->reasons, "price");
	f->cut = counter_table_new(1);
	f->s1 = names_intern(f->names, "s1", 2);
	f->alice = names_intern(f->names, "alice", 5);
	f->bob = names_intern(f->names, "客服小美", strlen("客服小美"));
}

static void fill(struct fixture *f, int reverse)
{
	struct {
		uint32_t agent;
		int64_t ts;
		enum counter_id id;
		int64_t delta;
	} adds[] = {
	    {f->alice, T_MORNING, COUNTER_INQUIRIES, 1},
	    {f->alice, T_MORNING, COUNTER_FRT_MS_SUM, 4500},
	    {f->alice, T_MORNING, COUNTER_FRT_H + 4, 1},
	    {f->alice, T_MORNING, COUNTER_LOST_REASON + 3, 1},
	    {f->bob, T_MORNING, COUNTER_INQUIRIES, 2},
	    {f->bob, T_LATE, COUNTER_RESPONSES, 3},
	    {f->bob, T_NEXT_DAY, COUNTER_RESPONSES, 5},
	    {NAME_WHOLE_SHOP, T_MORNING, COUNTER_SILENT_ORDERS, 1},
	};
	int n = (int)(sizeof(adds) / sizeof(adds[0]));
	for (int k = 0; k < n; k++) {
		int i = reverse ? n - 1 - k : k;
		counter_table_add(f->cut, f->s1, adds[i].agent, adds[i].ts, adds[i].id,
		                  adds[i].delta);
	}
}

static void teardown(struct fixture *f)
{
	counter_table_free(f->cut);
	reasons_free(&f->reasons);
	names_free(f->names);
}

/* EVAL of a batch; the reply (the caller frees it). */
static redisReply *eval_batch(const struct redis_server *srv, const struct publish_batch *b)
{
	redisContext *c = redis_server_connect(srv, 0);
	const char **argv = malloc((size_t)(b->argc + 3) * sizeof(*argv));
	size_t *lens = malloc((size_t)(b->argc + 3) * sizeof(*lens));
	redisReply *reply;

	argv[0] = "EVAL";
	lens[0] = 4;
	argv[1] = publish_script;
	lens[1] = strlen(publish_script);
	argv[2] = "1";
	lens[2] = 1;
	for (int i = 0; i < b->argc; i++) {
		argv[i + 3] = b->argv[i];
		lens[i + 3] = b->argvlen[i];
	}
	reply = redisCommandArgv(c, b->argc + 3, argv, lens);
	redisFree(c);
	free(argv);
	free(lens);
	return reply;
}

/* Runs one batch with EVAL; returns the script's first element (1 applied, 0
 * skipped) or -1 for an error reply. */
static int apply(const struct redis_server *srv, const struct publish_batch *b)
{
	redisReply *reply = eval_batch(srv, b);
	int result = -1;

	if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2)
		result = (int)reply->element[0]->integer;
	else if (reply && reply->type == REDIS_REPLY_ERROR)
		fprintf(stderr, "script error: %s\n", reply->str);
	freeReplyObject(reply);
	return result;
}

static long long hget(const struct redis_server *srv, const char *key, const char *field)
{
	redisReply *r = redis_server_command(srv, 0, "HGET %s %s", key, field);
	long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
	freeReplyObject(r);
	return v;
}

static long long integer(const struct redis_server *srv, const char *fmt, const char *arg)
{
	redisReply *r = redis_server_command(srv, 0, fmt, arg);
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return v;
}

static void test_batch_writes_the_spec_schema(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct fixture f;
	struct publish_batch *batches;
	int n;

	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	setup(&f);
	fill(&f, 0);
	n = publish_build(&settings, f.cut, f.names, &f.reasons, 1, &batches);
	CHECK_INT(n, 1);
	CHECK_INT(apply(&srv, &batches[0]), 1);

	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:m:202611240200", "inquiries"), 1);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:m:202611240200", "frt_ms_sum"), 4500);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:m:202611240200", "frt_h:5000"), 1);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:m:202611240200", "lost:price"), 1);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:d:20261124", "inquiries"), 1);
	CHECK_INT(hget(&srv, "cs:{s1}:a:客服小美:d:20261124", "responses"), 3);
	CHECK_INT(hget(&srv, "cs:{s1}:a:客服小美:d:20261125", "responses"), 5);
	CHECK_INT(hget(&srv, "cs:{s1}:a:客服小美:m:202611241600", "responses"), 5);
	/* the whole shop: sum of agents plus shop-level counters */
	CHECK_INT(hget(&srv, "cs:{s1}:a:*:m:202611240200", "inquiries"), 3);
	CHECK_INT(hget(&srv, "cs:{s1}:a:*:m:202611240200", "silent_orders"), 1);
	CHECK_INT(hget(&srv, "cs:{s1}:a:*:d:20261124", "responses"), 3);
	CHECK_INT(hget(&srv, "cs:{s1}:a:*:d:20261124", "inquiries"), 3);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:m:202611240200", "silent_orders"), -1);
	/* TTLs: minute keys 2 days, day keys 400 days */
	long long ttl = integer(&srv, "TTL %s", "cs:{s1}:a:alice:m:202611240200");
	CHECK(ttl > 172700 && ttl <= 172800);
	ttl = integer(&srv, "TTL %s", "cs:{s1}:a:*:d:20261124");
	CHECK(ttl > 34559000 && ttl <= 34560000);
	/* sets: agents seen (not "*"), shops seen */
	CHECK_INT(integer(&srv, "SCARD %s", "cs:{s1}:agents"), 2);
	CHECK_INT(integer(&srv, "SISMEMBER cs:{s1}:agents %s", "客服小美"), 1);
	CHECK_INT(integer(&srv, "SISMEMBER cs:shops %s", "s1"), 1);
	CHECK_INT(hget(&srv, "cs:instance:test:seq", "x"), -1); /* it is a string */
	redisReply *r = redis_server_command(&srv, 0, "GET cs:instance:test:seq");
	CHECK_STR(r ? r->str : NULL, "1");
	freeReplyObject(r);

	/* a re-send of the same batch is a no-op */
	CHECK_INT(apply(&srv, &batches[0]), 0);
	CHECK_INT(hget(&srv, "cs:{s1}:a:*:m:202611240200", "inquiries"), 3);
	publish_batches_free(batches, n);
	teardown(&f);
	redis_server_stop(&srv);
}

/* Small batches: the cut splits into several with consecutive sequences; applying
 * all, then all again, gives the same totals as one batch. */
static void test_split_batches_apply_once_each(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct publish_settings small = settings;
	struct fixture f;
	struct publish_batch *batches;
	int n, applied = 0;

	small.max_rows_per_batch = 2;
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	setup(&f);
	fill(&f, 0);
	n = publish_build(&small, f.cut, f.names, &f.reasons, 7, &batches);
	CHECK(n >= 4);
	CHECK_INT(batches[0].seq, 7);
	CHECK_INT(batches[n - 1].seq, 7 + n - 1);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < n; i++)
			applied += apply(&srv, &batches[i]);
	CHECK_INT(applied, n);
	CHECK_INT(hget(&srv, "cs:{s1}:a:*:m:202611240200", "inquiries"), 3);
	CHECK_INT(hget(&srv, "cs:{s1}:a:客服小美:d:20261125", "responses"), 5);
	CHECK_INT(integer(&srv, "SCARD %s", "cs:{s1}:agents"), 2);
	publish_batches_free(batches, n);
	teardown(&f);
	redis_server_stop(&srv);
}

/* A backfill's batches (strict_sequence) leave no gap: while batch 7 is not applied,
 * 8 and 9 are refused (2) and write nothing; once 7 is in, they apply in turn. */
static void test_strict_batches_wait_for_the_one_before(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct publish_settings strict = settings;
	struct fixture f;
	struct publish_batch *batches;
	int n;

	strict.max_rows_per_batch = 2;
	strict.strict_sequence = 1;
	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	setup(&f);
	fill(&f, 0);
	n = publish_build(&strict, f.cut, f.names, &f.reasons, 7, &batches);
	CHECK(n >= 3);
	CHECK(strncmp(batches[0].argv[1], "=7", batches[0].argvlen[1]) == 0);
	/* applied is 6, as if batches 1-6 of this instance were in */
	freeReplyObject(redis_server_command(&srv, 0, "SET %s 6", "cs:instance:test:seq"));
	CHECK_INT(apply(&srv, &batches[1]), 2);
	CHECK_INT(apply(&srv, &batches[2]), 2);
	CHECK_INT(integer(&srv, "DBSIZE%s", ""), 1); /* the sequence key alone */
	for (int i = 0; i < n; i++)
		CHECK_INT(apply(&srv, &batches[i]), 1);
	CHECK_INT(apply(&srv, &batches[0]), 0); /* a re-send is still skipped */
	CHECK_INT(hget(&srv, "cs:{s1}:a:*:m:202611240200", "inquiries"), 3);
	publish_batches_free(batches, n);
	teardown(&f);
	redis_server_stop(&srv);
}

/* The same deltas added in another order give byte-identical batches. */
static void test_batches_do_not_depend_on_emission_order(void)
{
	struct fixture a, b;
	struct publish_batch *ba, *bb;
	struct publish_settings small = settings;
	int na, nb, same = 1;

	small.max_rows_per_batch = 3;
	setup(&a);
	setup(&b);
	fill(&a, 0);
	fill(&b, 1);
	na = publish_build(&small, a.cut, a.names, &a.reasons, 1, &ba);
	nb = publish_build(&small, b.cut, b.names, &b.reasons, 1, &bb);
	CHECK_INT(na, nb);
	for (int i = 0; i < na && i < nb; i++) {
		if (ba[i].argc != bb[i].argc) {
			same = 0;
			continue;
		}
		for (int k = 0; k < ba[i].argc; k++)
			if (ba[i].argvlen[k] != bb[i].argvlen[k] ||
			    memcmp(ba[i].argv[k], bb[i].argv[k], ba[i].argvlen[k]) != 0)
				same = 0;
	}
	CHECK(same);
	publish_batches_free(ba, na);
	publish_batches_free(bb, nb);
	teardown(&a);
	teardown(&b);
}

/* A key of the wrong type stops the batch before anything is written. */
static void test_foreign_key_stops_batch_before_any_write(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct fixture f;
	struct publish_batch *batches;
	int n;

	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	freeReplyObject(redis_server_command(&srv, 0, "SET %s oops", "cs:{s1}:agents"));
	setup(&f);
	fill(&f, 0);
	n = publish_build(&settings, f.cut, f.names, &f.reasons, 1, &batches);
	CHECK_INT(apply(&srv, &batches[0]), -1);
	CHECK_INT(integer(&srv, "EXISTS %s", "cs:{s1}:a:alice:m:202611240200"), 0);
	CHECK_INT(integer(&srv, "EXISTS %s", "cs:instance:test:seq"), 0);
	publish_batches_free(batches, n);
	teardown(&f);
	redis_server_stop(&srv);
}

static int hgetstr(const struct redis_server *srv, const char *key, const char *field, char *out,
                   size_t size)
{
	redisReply *r = redis_server_command(srv, 0, "HGET %s %s", key, field);
	int found = r && r->type == REDIS_REPLY_STRING;
	snprintf(out, size, "%s", found ? r->str : "");
	freeReplyObject(r);
	return found;
}

/* Window hashes as of 10:00:59+08:00: alice's 1m and 1h hold her 10:00 minute
 * (inquiries 1, frt 4500 over 1 first response → frt_avg_ms 4500); the shop's 1h holds
 * 3 inquiries; as_of is the RFC 3339 time; a later as_of slides the minute out of 1m. */
/* How many arguments of a batch are exactly s (operation names are one letter, and
 * no key, field or number in these tests is). */
static int count_args(const struct publish_batch *b, const char *s)
{
	int n = 0;
	for (int i = 2; i < b->argc; i++)
		n += b->argvlen[i] == strlen(s) && memcmp(b->argv[i], s, b->argvlen[i]) == 0;
	return n;
}

static void test_windows_are_rewritten_with_derived_values(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct fixture f;
	struct windows *w = windows_new();
	struct publish_extra extra = {NULL, 0, NULL, 0};
	struct publish_batch *batches;
	char text[64];
	int n;

	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	setup(&f);
	counter_table_add(f.cut, f.s1, f.alice, T_MORNING, COUNTER_INQUIRIES, 1);
	counter_table_add(f.cut, f.s1, f.alice, T_MORNING, COUNTER_FIRST_RESPONSES, 1);
	counter_table_add(f.cut, f.s1, f.alice, T_MORNING, COUNTER_FRT_MS_SUM, 4500);
	counter_table_add(f.cut, f.s1, f.bob, T_MORNING, COUNTER_INQUIRIES, 2);
	CHECK_INT(windows_add(w, f.cut, 0, T_MORNING + 29000), 0);
	extra.windows = w;
	extra.as_of_ms = T_MORNING + 29000;
	n = publish_build_cut(&settings, f.cut, f.names, &f.reasons, 1, &extra, &batches);
	/* the counters first, in a batch of their own; then the windows */
	CHECK_INT(n, 2);
	CHECK_INT(count_args(&batches[0], "I"), 6); /* minute and day: alice, bob, the shop */
	CHECK_INT(count_args(&batches[0], "W"), 0);
	CHECK_INT(count_args(&batches[1], "W"), 3 * 5);
	CHECK_INT(apply(&srv, &batches[0]), 1);
	CHECK_INT(apply(&srv, &batches[1]), 1);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:w:1m", "inquiries"), 1);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:w:1h", "frt_avg_ms"), 4500);
	CHECK_INT(hget(&srv, "cs:{s1}:a:*:w:1h", "inquiries"), 3);
	CHECK(hgetstr(&srv, "cs:{s1}:a:alice:w:24h", "as_of", text, sizeof(text)));
	CHECK_STR(text, "2026-11-24T10:00:59.000+08:00");
	CHECK(hgetstr(&srv, "cs:{s1}:a:*:w:5m", "reply_rate", text, sizeof(text)));
	CHECK_STR(text, "0.0000");
	publish_batches_free(batches, n);

	/* two minutes later, with nothing new: 1m is empty, 5m still has it; only 1m
	 * changed, the others keep their fields and only move as_of on */
	counter_table_clear(f.cut);
	CHECK_INT(windows_add(w, f.cut, T_MORNING + 29000, T_MORNING + 149000), 0);
	extra.as_of_ms = T_MORNING + 149000;
	n = publish_build_cut(&settings, f.cut, f.names, &f.reasons, 3, &extra, &batches);
	CHECK_INT(n, 1);
	CHECK_INT(count_args(&batches[0], "W"), 3); /* alice's, bob's and the shop's 1m */
	CHECK_INT(count_args(&batches[0], "H"), 3 * 4);
	CHECK_INT(apply(&srv, &batches[0]), 1);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:w:1m", "inquiries"), -1);
	CHECK(hgetstr(&srv, "cs:{s1}:a:alice:w:1m", "as_of", text, sizeof(text)));
	CHECK_STR(text, "2026-11-24T10:02:59.000+08:00");
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:w:5m", "inquiries"), 1);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:w:5m", "frt_avg_ms"), 4500);
	CHECK(hgetstr(&srv, "cs:{s1}:a:alice:w:5m", "as_of", text, sizeof(text)));
	CHECK_STR(text, "2026-11-24T10:02:59.000+08:00");
	publish_batches_free(batches, n);

	/* a restored cut rewrites every window: the same batch split, all W */
	windows_mark_all_changed(w);
	n = publish_build_cut(&settings, f.cut, f.names, &f.reasons, 3, &extra, &batches);
	CHECK_INT(n, 1);
	CHECK_INT(count_args(&batches[0], "W"), 3 * 5);
	CHECK_INT(count_args(&batches[0], "H"), 0);
	CHECK_INT(apply(&srv, &batches[0]), 0); /* seq 3 was applied */
	publish_batches_free(batches, n);

	/* a day with nothing new: the windows go to zero, then are deleted (K) at the
	 * next cut, and the cut after writes nothing of them */
	CHECK_INT(windows_add(w, f.cut, T_MORNING + 149000, T_MORNING + 86400000), 0);
	extra.as_of_ms = T_MORNING + 86400000;
	n = publish_build_cut(&settings, f.cut, f.names, &f.reasons, 4, &extra, &batches);
	CHECK_INT(apply(&srv, &batches[0]), 1);
	publish_batches_free(batches, n);
	CHECK_INT(windows_add(w, f.cut, T_MORNING + 86400000, T_MORNING + 86460000), 0);
	extra.as_of_ms = T_MORNING + 86460000;
	n = publish_build_cut(&settings, f.cut, f.names, &f.reasons, 5, &extra, &batches);
	CHECK_INT(n, 1);
	CHECK_INT(count_args(&batches[0], "K"), 3 * 5);
	CHECK_INT(apply(&srv, &batches[0]), 1);
	CHECK_INT(integer(&srv, "EXISTS %s", "cs:{s1}:a:alice:w:24h"), 0);
	CHECK_INT(integer(&srv, "EXISTS %s", "cs:{s1}:a:*:w:1m"), 0);
	CHECK_INT(integer(&srv, "EXISTS %s", "cs:{s1}:a:alice:m:202611240200"), 1);
	publish_batches_free(batches, n);
	CHECK_INT(windows_add(w, f.cut, T_MORNING + 86460000, T_MORNING + 86520000), 0);
	n = publish_build_cut(&settings, f.cut, f.names, &f.reasons, 6, &extra, &batches);
	CHECK_INT(n, 0);
	publish_batches_free(batches, n);

	windows_free(w);
	teardown(&f);
	redis_server_stop(&srv);
}

static void hget_text(const struct redis_server *srv, const char *key, const char *field, char *out,
                      size_t size)
{
	if (!hgetstr(srv, key, field, out, size))
		snprintf(out, size, "(none)");
}

/* How many times Redis ran a command, from INFO commandstats ("hincrby" ...). */
static long long calls_of(const struct redis_server *srv, const char *command)
{
	redisReply *r = redis_server_command(srv, 0, "INFO commandstats");
	char needle[64];
	const char *at;
	long long calls = 0;

	snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", command);
	if (r && r->type == REDIS_REPLY_STRING && (at = strstr(r->str, needle)) != NULL)
		calls = atoll(at + strlen(needle));
	freeReplyObject(r);
	return calls;
}

/* Increments are folded into HMGET + one HSET per hash while the sum is exact in the
 * script's doubles; a value of 16 digits goes through HINCRBY (exact in Redis), and a
 * value that is not an integer is refused as HINCRBY refuses it. Sums by hand. */
static void test_increments_are_exact_in_few_commands(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	const char *key = "cs:{s1}:a:alice:m:202611240200";
	struct publish_batch *batches;
	struct fixture f;
	char text[64];
	redisReply *r;
	int n;

	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	setup(&f);
	r = redis_server_command(&srv, 0,
	                         "HSET %s frt_ms_sum 999999999999999 responses "
	                         "9007199254740993 inquiries 7",
	                         key);
	freeReplyObject(r);
	counter_table_add(f.cut, f.s1, f.alice, T_MORNING, COUNTER_INQUIRIES, 1);
	counter_table_add(f.cut, f.s1, f.alice, T_MORNING, COUNTER_FRT_MS_SUM, 4500);
	counter_table_add(f.cut, f.s1, f.alice, T_MORNING, COUNTER_RESPONSES, 2);
	counter_table_add(f.cut, f.s1, f.alice, T_MORNING, COUNTER_RESPONSE_MS_SUM, -3);
	n = publish_build(&settings, f.cut, f.names, &f.reasons, 1, &batches);
	CHECK_INT(n, 1);
	freeReplyObject(redis_server_command(&srv, 0, "CONFIG RESETSTAT"));
	CHECK_INT(apply(&srv, &batches[0]), 1);
	hget_text(&srv, key, "inquiries", text, sizeof(text));
	CHECK_STR(text, "8");
	hget_text(&srv, key, "frt_ms_sum", text, sizeof(text));
	CHECK_STR(text, "1000000000004499");
	hget_text(&srv, key, "responses", text, sizeof(text));
	CHECK_STR(text, "9007199254740995");
	hget_text(&srv, key, "response_ms_sum", text, sizeof(text));
	CHECK_STR(text, "-3");
	/* four hashes (alice's and the shop's minute and day): one HMGET and one HSET
	 * each, HINCRBY only for alice's 16-digit responses */
	CHECK_INT(calls_of(&srv, "hmget"), 4);
	CHECK_INT(calls_of(&srv, "hset"), 4);
	CHECK_INT(calls_of(&srv, "hincrby"), 1);
	publish_batches_free(batches, n);

	/* a field someone set to text: the batch fails as HINCRBY fails */
	r = redis_server_command(&srv, 0, "HSET %s inquiries 1.5", key);
	freeReplyObject(r);
	n = publish_build(&settings, f.cut, f.names, &f.reasons, 2, &batches);
	CHECK_INT(apply(&srv, &batches[0]), -1);
	hget_text(&srv, key, "inquiries", text, sizeof(text));
	CHECK_STR(text, "1.5");
	publish_batches_free(batches, n);
	teardown(&f);
	redis_server_stop(&srv);
}

/* Alerts of one cut: each is published and logged; a raise sets the agent's active
 * alert, a clear removes it, a waiting alert does neither. Every key's type is
 * checked once per batch, however many alerts reuse it. */
static void test_alerts_are_delivered_with_one_type_check_per_key(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct publish_batch *batches;
	struct fixture f;
	struct alert_event ev[4] = {
	    {ALERT_RAISED, 0, 0, 1, 9000, 6000, 3, 300, T_MORNING, ""},
	    {ALERT_RAISED, 0, 0, 0, 12500, 10000, 7, 300, T_MORNING, ""},
	    {ALERT_CLEARED, 0, 0, 1, 4000, 6000, 3, 300, T_MORNING + 60000, ""},
	    {ALERT_WAITING, 0, 0, 1, 7000, 6000, 1, 300, T_MORNING + 61000, "buyer-1"},
	};
	struct publish_extra extra = {NULL, 0, ev, 4};
	int n;

	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	setup(&f);
	for (int i = 0; i < 4; i++) {
		ev[i].shop = f.s1;
		ev[i].agent = i == 1 ? f.bob : f.alice;
	}
	n = publish_build_cut(&settings, f.cut, f.names, &f.reasons, 1, &extra, &batches);
	CHECK_INT(n, 1);
	freeReplyObject(redis_server_command(&srv, 0, "CONFIG RESETSTAT"));
	CHECK_INT(apply(&srv, &batches[0]), 1);
	CHECK_INT(integer(&srv, "XLEN %s", "cs:alerts:log"), 4);
	CHECK_INT(integer(&srv, "HLEN %s", "cs:{s1}:alerts"), 1); /* bob's; alice cleared */
	CHECK_INT(integer(&srv, "HEXISTS cs:{s1}:alerts %s", "客服小美"), 1);
	CHECK_INT(calls_of(&srv, "publish"), 4);
	CHECK_INT(calls_of(&srv, "type"), 2); /* the stream and the shop's alert hash */
	publish_batches_free(batches, n);
	teardown(&f);
	redis_server_stop(&srv);
}

static void test_empty_cut_builds_no_batch(void)
{
	struct fixture f;
	struct publish_batch *batches;
	setup(&f);
	CHECK_INT(publish_build(&settings, f.cut, f.names, &f.reasons, 1, &batches), 0);
	publish_batches_free(batches, 0);
	teardown(&f);
}

/* What max_pending_bytes counts for a cut's batches: every argument's bytes and NUL,
 * its pointer and length, and the batch structs. */
static void test_batches_bytes_count_arguments_and_arrays(void)
{
	char block[] = "HSET\0key\0f\0";
	char *argv[3] = {block, block + 5, block + 9};
	size_t argvlen[3] = {4, 3, 1};
	struct publish_batch batches[2] = {{.seq = 1, .argc = 3, .argv = argv, .argvlen = argvlen},
	                                   {.seq = 2, .argc = 0}};

	CHECK_INT(publish_batches_bytes(batches, 2), 2 * sizeof(struct publish_batch) +
	                                                 (4 + 3 + 1) +
	                                                 3 * (1 + sizeof(char *) + sizeof(size_t)));
	CHECK_INT(publish_batches_bytes(batches, 0), 0);
}

static int key_exists(const struct redis_server *srv, const char *key)
{
	return (int)integer(srv, "EXISTS %s", key);
}

/* One daemon per shop: a live daemon's counters claim each shop they write
 * (cs:{SHOP}:instance, with a TTL); a shop another instance holds is left out of the
 * batch (its counters, sets and windows), reported in the reply, and the rest of the
 * batch applied; windows only check, never claim. */
static void test_shops_claimed_by_another_instance_are_left_out(void)
{
	struct redis_server srv;
	struct redis_server_options opt = {1, NULL, NULL, NULL};
	struct publish_settings claims = settings;
	struct fixture f;
	struct windows *w = windows_new();
	struct publish_extra extra = {NULL, 0, NULL, 0};
	struct publish_batch *batches;
	redisReply *r;
	uint32_t s2, s3;
	int n;

	if (redis_server_start(&srv, &opt) == -1) {
		CHECK(!"redis-server did not start");
		return;
	}
	setup(&f);
	s2 = names_intern(f.names, "s2", 2);
	s3 = names_intern(f.names, "s3", 2);
	claims.claim_shops = 1;
	claims.claim_ttl_s = 86400;
	claims.instance = "a";
	freeReplyObject(redis_server_command(&srv, 0, "SET cs:{s2}:instance b"));
	counter_table_add(f.cut, f.s1, f.alice, T_MORNING, COUNTER_INQUIRIES, 1);
	counter_table_add(f.cut, s2, f.alice, T_MORNING, COUNTER_INQUIRIES, 2);
	n = publish_build_cut(&claims, f.cut, f.names, &f.reasons, 1, &extra, &batches);
	CHECK_INT(n, 1);
	r = eval_batch(&srv, &batches[0]);
	CHECK(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 3);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
		CHECK_INT(r->element[0]->integer, 1);
		CHECK_INT(r->element[2]->elements, 2);
		CHECK_STR(r->element[2]->element[0]->str, "cs:{s2}:instance");
		CHECK_STR(r->element[2]->element[1]->str, "b");
	}
	freeReplyObject(r);
	publish_batches_free(batches, n);
	CHECK_INT(hget(&srv, "cs:{s1}:a:alice:d:20261124", "inquiries"), 1);
	CHECK_INT(key_exists(&srv, "cs:{s2}:a:alice:d:20261124"), 0); /* left out */
	CHECK_INT(key_exists(&srv, "cs:{s2}:agents"), 0);
	/* the keys of every shop are written still, as on a cluster, where they go apart */
	CHECK_INT(integer(&srv, "SISMEMBER cs:shops %s", "s2"), 1);
	CHECK_INT(integer(&srv, "SISMEMBER cs:shops %s", "s1"), 1);
	CHECK_INT(integer(&srv, "TTL %s", "cs:{s1}:instance") > 86000, 1);
	{
		char owner[16];
		redisReply *g = redis_server_command(&srv, 0, "GET cs:{s1}:instance");
		snprintf(owner, sizeof(owner), "%s", g && g->str ? g->str : "");
		CHECK_STR(owner, "a");
		freeReplyObject(g);
		g = redis_server_command(&srv, 0, "GET cs:instance:a:seq");
		CHECK(g != NULL && g->str != NULL && strcmp(g->str, "1") == 0);
		freeReplyObject(g);
	}

	/* windows and alerts: s2 (b's) left out, s3 (nobody's) written but not claimed:
	 * a daemon writes both for a while after it stops reading a shop */
	struct alert_event ev[2] = {
	    {ALERT_RAISED, 0, 0, 1, 9000, 6000, 3, 300, T_MORNING, ""},
	    {ALERT_RAISED, 0, 0, 1, 9000, 6000, 3, 300, T_MORNING, ""},
	};
	ev[0].shop = s2;
	ev[1].shop = s3;
	ev[0].agent = ev[1].agent = f.bob;
	extra.alerts = ev;
	extra.alert_count = 2;
	counter_table_clear(f.cut);
	counter_table_add(f.cut, s2, f.bob, T_MORNING, COUNTER_INQUIRIES, 1);
	counter_table_add(f.cut, s3, f.bob, T_MORNING, COUNTER_INQUIRIES, 1);
	CHECK_INT(windows_add(w, f.cut, 0, T_MORNING + 29000), 0);
	counter_table_clear(f.cut);
	extra.windows = w;
	extra.as_of_ms = T_MORNING + 29000;
	n = publish_build_cut(&claims, f.cut, f.names, &f.reasons, 2, &extra, &batches);
	CHECK_INT(n, 2); /* the alerts, then the windows */
	for (int i = 0; i < n; i++) {
		r = eval_batch(&srv, &batches[i]);
		/* Q says nothing */
		CHECK(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
		freeReplyObject(r);
	}
	publish_batches_free(batches, n);
	CHECK_INT(key_exists(&srv, "cs:{s2}:alerts"), 0);
	CHECK_INT(key_exists(&srv, "cs:{s3}:alerts"), 1);
	CHECK_INT(key_exists(&srv, "cs:{s2}:a:客服小美:w:1h"), 0);
	CHECK_INT(hget(&srv, "cs:{s3}:a:客服小美:w:1h", "inquiries"), 1);
	CHECK_INT(key_exists(&srv, "cs:{s3}:instance"), 0);
	windows_free(w);
	teardown(&f);
	redis_server_stop(&srv);
}

int main(void)
{
	timefmt_set_timezone("Asia/Shanghai");
	RUN(test_batches_bytes_count_arguments_and_arrays);
	RUN(test_batch_writes_the_spec_schema);
	RUN(test_split_batches_apply_once_each);
	RUN(test_strict_batches_wait_for_the_one_before);
	RUN(test_batches_do_not_depend_on_emission_order);
	RUN(test_foreign_key_stops_batch_before_any_write);
	RUN(test_windows_are_rewritten_with_derived_values);
	RUN(test_increments_are_exact_in_few_commands);
	RUN(test_alerts_are_delivered_with_one_type_check_per_key);
	RUN(test_empty_cut_builds_no_batch);
	RUN(test_shops_claimed_by_another_instance_are_left_out);
	return check_done();
}
