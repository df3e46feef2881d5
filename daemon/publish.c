/*
 * publish.c owns the Redis key schema of reference.md §6 and the apply script that makes a
 * batch exactly-once. It turns deltas into batches; redisconn.c sends them.
 *
 * Batch arguments after the sequence are operations:
 *   I KEY TTL N FIELD VALUE ...   add each value to its field, then EXPIRE KEY TTL
 *   W KEY N FIELD VALUE ...       replace the hash (DEL, HSET): rolling windows
 *   K KEY                         DEL (the window of a (shop, agent) idle for a day)
 *   S KEY N MEMBER ...            SADD
 *   H KEY FIELD VALUE             HSET (an agent's active alert)
 *   D KEY FIELD                   HDEL (an alert cleared)
 *   X KEY MESSAGE                 XADD KEY MAXLEN ~ 100000 * alert MESSAGE
 *   P CHANNEL MESSAGE             PUBLISH
 *   O KEY INSTANCE TTL            claim the shop for this instance (SET KEY with a TTL),
 *                                 or, when KEY names another, leave out the writes to
 *                                 the shop's keys up to the next O or Q and report it
 *   Q KEY INSTANCE                the same without claiming: a shop's windows and alerts,
 *                                 which a daemon writes after it stops reading the shop
 * O and Q are live only (publish_settings.claim_shops); they come before a shop's first
 * operation of a batch (the next ones of the same shop too when another shop came
 * between), so every operation after one is that shop's until the next.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatlogd/publish.h"
#include "chatlogd/rediskey.h"
#include "chatlogd/timefmt.h"
#include "chatlogd/util.h"

/* Checks every key's type before the first write: Redis does not roll back a
 * script that fails half way, so a foreign key must stop the batch up front. Returns
 * {1, applied, {KEY, OWNER, ...}} when O operations met shops another instance holds. */
const char publish_script[] =
    "-- '=SEQ' (a backfill, which pipelines): applied only right after the batch before\n"
    "local strict = string.byte(ARGV[1]) == 61\n"
    "local seq = tonumber(strict and string.sub(ARGV[1], 2) or ARGV[1])\n"
    "local applied = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "if seq <= applied then return {0, applied} end\n"
    "if strict and seq ~= applied + 1 then return {2, applied} end\n"
    "-- op -> type its key must have (false: a channel), fields per item, items count at\n"
    "local spec = {I = {'hash', 2, 3}, W = {'hash', 2, 2}, S = {'set', 1, 2},\n"
    "              H = {'hash', 2, nil}, D = {'hash', 1, nil}, X = {'stream', 1, nil},\n"
    "              P = {false, 1, nil}, K = {'hash', 0, nil}, O = {'string', 2, nil},\n"
    "              Q = {'string', 1, nil}}\n"
    "-- Adds count FIELD DELTA pairs from ARGV[first] to hash key in three commands,\n"
    "-- whatever the count (HMGET, add, one HSET), where the sum is exact in Lua's\n"
    "-- doubles (both sides under 10^15); otherwise, or for a value that is not a\n"
    "-- plain integer, HINCRBY does it (and refuses a non-integer, as it always did).\n"
    "local function add(key, first, count)\n"
    "  local names = {}\n"
    "  for k = 1, count do names[k] = ARGV[first + 2 * k - 2] end\n"
    "  local old = redis.call('HMGET', key, unpack(names))\n"
    "  local set = {}\n"
    "  for k = 1, count do\n"
    "    local delta, cur = ARGV[first + 2 * k - 1], old[k] or '0'\n"
    "    if #delta <= 15 and #cur <= 15 and (cur == '0' or string.find(cur, '^-?[1-9]%d*$')) "
    "then\n"
    "      set[#set + 1] = names[k]\n"
    "      set[#set + 1] = string.format('%d', tonumber(cur) + tonumber(delta))\n"
    "    else\n"
    "      redis.call('HINCRBY', key, names[k], delta)\n"
    "    end\n"
    "  end\n"
    "  if #set > 0 then redis.call('HSET', key, unpack(set)) end\n"
    "end\n"
    "local ops, types, skip, refused, said = {}, {}, {}, {}, {}\n"
    "local i, n = 2, #ARGV\n"
    "while i <= n do\n"
    "  local op, key = ARGV[i], ARGV[i + 1]\n"
    "  local sp = spec[op]\n"
    "  if not sp then return redis.error_reply('chatlogd: bad batch operation') end\n"
    "  local count, first = 1, i + 2\n"
    "  if sp[3] then count, first = tonumber(ARGV[i + sp[3]]), i + sp[3] + 1 end\n"
    "  if sp[1] then\n"
    "    local t = types[key] or redis.call('TYPE', key).ok\n"
    "    if t ~= 'none' and t ~= sp[1] then\n"
    "      return redis.error_reply('chatlogd: key ' .. key .. ' is a ' .. t .. ', not a ' .. "
    "sp[1])\n"
    "    end\n"
    "    types[key] = sp[1] -- once checked, the batch writes that type (alerts reuse keys)\n"
    "  end\n"
    "  if op == 'O' or op == 'Q' then -- another instance's shop: left out\n"
    "    local owner = redis.call('GET', key)\n"
    "    if owner and owner ~= ARGV[first] then\n"
    "      skip[#ops + 1] = true\n"
    "      if op == 'O' and not said[key] then\n"
    "        said[key] = true\n"
    "        refused[#refused + 1] = key\n"
    "        refused[#refused + 1] = owner\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  ops[#ops + 1] = {op, key, first, count, i}\n"
    "  i = first + count * sp[2]\n"
    "end\n"
    "-- A shop left out: its keys (PREFIX:{SHOP}:...) are not written until the next O or\n"
    "-- Q; the keys of every shop (PREFIX:shops, the alert stream and channel) still are,\n"
    "-- as on a cluster, where they are written apart from the shop's\n"
    "local skipping = false\n"
    "for idx, o in ipairs(ops) do\n"
    "  local op, key, first, count = o[1], o[2], o[3], o[4]\n"
    "  if op == 'O' or op == 'Q' then\n"
    "    skipping = skip[idx] and string.sub(key, 1, #key - 8) -- less 'instance'\n"
    "    if op == 'O' and not skipping then\n"
    "      redis.call('SET', key, ARGV[first], 'EX', ARGV[first + 1])\n"
    "    end\n"
    "  elseif skipping and string.sub(key, 1, #skipping) == skipping then\n"
    "  elseif op == 'I' then\n"
    "    add(key, first, count)\n"
    "    local ttl = tonumber(ARGV[o[5] + 2])\n"
    "    if ttl > 0 then redis.call('EXPIRE', key, ttl) end\n"
    "  elseif op == 'W' then\n"
    "    redis.call('DEL', key)\n"
    "    redis.call('HSET', key, unpack(ARGV, first, first + 2 * count - 1))\n"
    "  elseif op == 'S' then\n"
    "    for k = first, first + count - 1 do redis.call('SADD', key, ARGV[k]) end\n"
    "  elseif op == 'H' then redis.call('HSET', key, ARGV[first], ARGV[first + 1])\n"
    "  elseif op == 'D' then redis.call('HDEL', key, ARGV[first])\n"
    "  elseif op == 'K' then redis.call('DEL', key)\n"
    "  elseif op == 'X' then\n"
    "    redis.call('XADD', key, 'MAXLEN', '~', '100000', '*', 'alert', ARGV[first])\n"
    "  else redis.call('PUBLISH', key, ARGV[first]) end\n"
    "end\n"
    "redis.call('SET', KEYS[1], seq)\n"
    "if #refused > 0 then return {1, applied, refused} end\n"
    "return {1, applied}\n";

/* Arguments of the batch being built; strings live in one growing arena. */
struct args {
	char *arena;
	size_t arena_len, arena_capacity;
	size_t *offsets, *lengths;
	int count, capacity;
};

static void args_add(struct args *a, const char *s, size_t len)
{
	if (a->count == a->capacity) {
		int capacity = a->capacity ? a->capacity * 2 : 256;
		a->offsets = xreallocarray(a->offsets, (size_t)capacity, sizeof(*a->offsets));
		a->lengths = xreallocarray(a->lengths, (size_t)capacity, sizeof(*a->lengths));
		a->capacity = capacity;
	}
	if (a->arena_len + len + 1 > a->arena_capacity) {
		size_t capacity = a->arena_capacity ? a->arena_capacity : 4096;
		while (capacity < a->arena_len + len + 1)
			capacity *= 2;
		a->arena = xreallocarray(a->arena, capacity, 1);
		a->arena_capacity = capacity;
	}
	memcpy(a->arena + a->arena_len, s, len);
	a->arena[a->arena_len + len] = '\0';
	a->offsets[a->count] = a->arena_len;
	a->lengths[a->count] = len;
	a->arena_len += len + 1;
	a->count++;
}

/* A decimal integer, without printf: a cut formats hundreds of thousands. */
static void args_add_i64(struct args *a, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	args_add(a, p, (size_t)(buf + sizeof(buf) - p));
}

/* Moves the arguments into a batch (argv pointers into one block). */
static void args_to_batch(struct args *a, uint64_t seq, struct publish_batch *b)
{
	char *block;

	b->seq = seq;
	b->argc = a->count;
	b->argv = xreallocarray(NULL, (size_t)a->count, sizeof(*b->argv));
	b->argvlen = xreallocarray(NULL, (size_t)a->count, sizeof(*b->argvlen));
	block = xmalloc(a->arena_len);
	memcpy(block, a->arena, a->arena_len);
	for (int i = 0; i < a->count; i++) {
		b->argv[i] = block + a->offsets[i];
		b->argvlen[i] = a->lengths[i];
	}
	a->count = 0;
	a->arena_len = 0;
}

void publish_seq_key(const struct publish_settings *s, char *out, size_t out_size)
{
	snprintf(out, out_size, "%s:instance:%s:seq", s->prefix, s->instance);
}

static int compare_rows(const void *a, const void *b)
{
	const struct counter_row *x = *(const struct counter_row *const *)a;
	const struct counter_row *y = *(const struct counter_row *const *)b;
	if (x->shop != y->shop)
		return x->shop < y->shop ? -1 : 1;
	if (x->agent != y->agent)
		return x->agent < y->agent ? -1 : 1;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	return 0;
}

/* Day tables are keyed by YYYYMMDD in the `minute` slot; this is its fake time. */
static int64_t day_slot(int64_t minute)
{
	char day[9];
	timefmt_day_key(minute * 60000, day);
	return strtoll(day, NULL, 10) * 60000;
}

static void add_row(struct counter_table *t, uint32_t shop, uint32_t agent, int64_t ts,
                    const int64_t *value, int *failed)
{
	struct counter_row *row = counter_table_row(t, shop, agent, ts);
	if (row == NULL) {
		*failed = 1;
		return;
	}
	for (int id = 0; id < COUNTER_WIDTH; id++)
		row->value[id] += value[id];
}

static struct counter_row **sorted_rows(struct counter_table *t)
{
	size_t n = counter_table_count(t);
	struct counter_row **rows = xreallocarray(NULL, n, sizeof(*rows));
	for (size_t i = 0; i < n; i++)
		rows[i] = counter_table_at(t, i);
	qsort(rows, n, sizeof(*rows), compare_rows);
	return rows;
}

struct builder {
	const struct publish_settings *s;
	const struct names *names;
	const struct reasons *reasons;
	struct args args;
	char seq_key[256];
	struct publish_batch *batches;
	int batch_count, batch_capacity;
	uint64_t next_seq;
	size_t rows_in_batch;
	uint32_t claimed_shop; /* the shop of the batch's last O or Q */
	char claimed;          /* 'O', 'Q', or 0 for none yet */
	/* counter field names, made on first use in this build */
	char field_name[COUNTER_WIDTH][80];
	uint8_t field_name_len[COUNTER_WIDTH];
};

static int nonzero_counters(const int64_t *value)
{
	int n = 0;
	for (int id = 0; id < COUNTER_WIDTH; id++)
		n += value[id] != 0;
	return n;
}

/* FIELD VALUE for each non-zero counter of a row. */
static void add_counter_fields(struct builder *b, const int64_t *value)
{
	for (int id = 0; id < COUNTER_WIDTH; id++) {
		if (value[id] == 0)
			continue;
		if (b->field_name_len[id] == 0) {
			counters_field_name((enum counter_id)id,
			                    (const char *const *)b->reasons->names,
			                    b->field_name[id], sizeof(b->field_name[id]));
			b->field_name_len[id] = (uint8_t)strlen(b->field_name[id]);
		}
		args_add(&b->args, b->field_name[id], b->field_name_len[id]);
		args_add_i64(&b->args, value[id]);
	}
}

/* One I operation: KEY TTL N and the non-zero fields of the row. */
static void add_increments(struct builder *b, const char *key, int64_t ttl, const int64_t *value)
{
	args_add(&b->args, "I", 1);
	args_add(&b->args, key, strlen(key));
	args_add_i64(&b->args, ttl);
	args_add_i64(&b->args, nonzero_counters(value));
	add_counter_fields(b, value);
}

static void builder_begin(struct builder *b)
{
	b->args.count = 0;
	b->args.arena_len = 0;
	args_add(&b->args, b->seq_key, strlen(b->seq_key));
	if (b->s->strict_sequence) {
		char seq[24];
		int len = snprintf(seq, sizeof(seq), "=%llu", (unsigned long long)b->next_seq);
		args_add(&b->args, seq, (size_t)len);
	} else {
		args_add_i64(&b->args, (int64_t)b->next_seq);
	}
	b->rows_in_batch = 0;
	b->claimed = 0;
}

static int builder_end(struct builder *b)
{
	if (b->rows_in_batch == 0)
		return 0;
	if (b->batch_count == b->batch_capacity) {
		int capacity = b->batch_capacity ? b->batch_capacity * 2 : 4;
		b->batches = xreallocarray(b->batches, (size_t)capacity, sizeof(*b->batches));
		b->batch_capacity = capacity;
	}
	args_to_batch(&b->args, b->next_seq, &b->batches[b->batch_count]);
	b->batch_count++;
	b->next_seq++;
	builder_begin(b);
	return 0;
}

/* Starts a new batch when the current one is full. */
static int builder_room(struct builder *b)
{
	if (b->rows_in_batch >= b->s->max_rows_per_batch && builder_end(b) == -1)
		return -1;
	b->rows_in_batch++;
	return 0;
}

/* Room for PREFIX:{SHOP}:a:AGENT:w:WINDOW with both names fully escaped. */
#define KEY_BYTES (LIMIT_PREFIX_BYTES + 2 * REDISKEY_NAME_MAX + 64)

/* "PREFIX:{SHOP}" with the name escaped (reference.md §6); returns its length. */
static size_t shop_key_base(const struct builder *b, uint32_t shop, char *key, size_t size)
{
	int n = snprintf(key, size, "%s:{", b->s->prefix);
	size_t len = (size_t)n;

	len += rediskey_escape(names_get(b->names, shop), names_length(b->names, shop), key + len,
	                       size - len);
	len += (size_t)snprintf(key + len, size - len, "}");
	return len;
}

/* With claim_shops (a live daemon), an O (claim) or Q (check) operation before the
 * batch's first write to a shop's keys: Redis leaves the shop out when another
 * instance publishes it (two daemons' windows and alerts would overwrite each other's).
 * Counters, which come from lines read, claim the shop; windows and alerts only check,
 * since a daemon keeps rewriting a shop's windows for a day after it stops reading the
 * shop, and its clock still raises and clears alerts, and neither must take the shop
 * back from the daemon it moved to. Rows come sorted by shop, so one per shop and
 * batch, mostly. */
static void claim_shop(struct builder *b, uint32_t shop, char kind)
{
	char key[KEY_BYTES];
	size_t len;

	if (!b->s->claim_shops || (b->claimed == kind && b->claimed_shop == shop))
		return;
	len = shop_key_base(b, shop, key, sizeof(key));
	len += (size_t)snprintf(key + len, sizeof(key) - len, ":instance");
	args_add(&b->args, &kind, 1);
	args_add(&b->args, key, len);
	args_add(&b->args, b->s->instance, strlen(b->s->instance));
	if (kind == 'O')
		args_add_i64(&b->args, b->s->claim_ttl_s);
	b->claimed_shop = shop;
	b->claimed = kind;
}

/* "PREFIX:{SHOP}:a:AGENT:" with both names escaped; returns its length. */
static size_t agent_key_base(const struct builder *b, uint32_t shop, uint32_t agent, char *key,
                             size_t size)
{
	size_t len = shop_key_base(b, shop, key, size);

	len += (size_t)snprintf(key + len, size - len, ":a:");
	if (agent == NAME_WHOLE_SHOP) /* AGENT "*": the whole shop, the one unescaped '*' */
		len += (size_t)snprintf(key + len, size - len, "*");
	else
		len += rediskey_escape(names_get(b->names, agent), names_length(b->names, agent),
		                       key + len, size - len);
	len += (size_t)snprintf(key + len, size - len, ":");
	return len;
}

static int emit_hashes(struct builder *b, struct counter_table *t, int days)
{
	struct counter_row **rows = sorted_rows(t);
	size_t n = counter_table_count(t);
	char key[KEY_BYTES];

	for (size_t i = 0; i < n; i++) {
		const struct counter_row *row = rows[i];
		if (builder_room(b) == -1) {
			free(rows);
			return -1;
		}
		claim_shop(b, row->shop, 'O');
		size_t base = agent_key_base(b, row->shop, row->agent, key, sizeof(key));
		if (days) {
			snprintf(key + base, sizeof(key) - base, "d:%08" PRId64, row->minute);
			add_increments(b, key, b->s->day_ttl_s, row->value);
		} else {
			char minute[13];
			timefmt_minute_key(row->minute * 60000, minute);
			snprintf(key + base, sizeof(key) - base, "m:%s", minute);
			add_increments(b, key, b->s->minute_ttl_s, row->value);
		}
	}
	free(rows);
	return 0;
}

/* rows[k] starts a new agent of its shop's run [first, k]: not "*", and not the same
 * agent as the row before (an agent has one day row per day in the cut). */
static int agent_starts(struct counter_row *const *rows, size_t first, size_t k)
{
	return rows[k]->agent != NAME_WHOLE_SHOP &&
	       (k == first || rows[k]->agent != rows[k - 1]->agent);
}

/* SADD of every agent per shop and of every shop; rows are sorted by shop, agent. */
static int emit_sets(struct builder *b, struct counter_table *days)
{
	struct counter_row **rows = sorted_rows(days);
	size_t n = counter_table_count(days);
	char key[KEY_BYTES];
	int rc = 0;

	for (size_t i = 0, j; i < n && rc == 0; i = j) {
		uint32_t shop = rows[i]->shop;
		size_t agents = 0;
		for (j = i; j < n && rows[j]->shop == shop; j++)
			agents += agent_starts(rows, i, j);
		if ((rc = builder_room(b)) == -1)
			break;
		claim_shop(b, shop, 'O');
		if (agents > 0) {
			size_t base = shop_key_base(b, shop, key, sizeof(key));
			snprintf(key + base, sizeof(key) - base, ":agents");
			args_add(&b->args, "S", 1);
			args_add(&b->args, key, strlen(key));
			args_add_i64(&b->args, (int64_t)agents);
			for (size_t k = i; k < j; k++)
				if (agent_starts(rows, i, k))
					args_add(&b->args, names_get(b->names, rows[k]->agent),
					         names_length(b->names, rows[k]->agent));
		}
		snprintf(key, sizeof(key), "%s:shops", b->s->prefix);
		args_add(&b->args, "S", 1);
		args_add(&b->args, key, strlen(key));
		args_add(&b->args, "1", 1);
		args_add(&b->args, names_get(b->names, shop), names_length(b->names, shop));
	}
	free(rows);
	return rc;
}

/* One W operation per window: the non-zero counters, derived values and as_of. */
struct window_ctx {
	struct builder *b;
	char as_of[30]; /* RFC 3339 */
};

static int emit_window(void *ctx, uint32_t shop, uint32_t agent, unsigned changed,
                       const int64_t (*sums)[COUNTER_WIDTH])
{
	struct window_ctx *wc = ctx;
	struct builder *b = wc->b;
	size_t as_of_len = strlen(wc->as_of);
	char key[KEY_BYTES];
	size_t base = agent_key_base(b, shop, agent, key, sizeof(key));

	base += (size_t)snprintf(key + base, sizeof(key) - base, "w:");
	if (base + 8 > sizeof(key))
		return -1;
	for (unsigned win = 0; win < WINDOW_COUNT; win++) {
		const int64_t *v = sums[win];
		struct derived_field fields[DERIVED_FIELDS];
		size_t name_len = strlen(windows_name(win));
		unsigned derived;
		/* window_writes = changed: an unchanged window is not written at all. A cut
		 * rebuilt from a snapshot knows which changed (windows_save_changed), so it
		 * splits into the same batches (exactly-once.md). */
		if (b->s->windows_changed_only && !(changed & WINDOWS_RETIRED) &&
		    !(changed & (1u << win)))
			continue;
		/* Otherwise one row either way, so a cut splits into the same batches
		 * whichever windows changed (a restored cut rewrites them all). */
		if (builder_room(b) == -1)
			return -1;
		claim_shop(b, shop, 'Q');
		memcpy(key + base, windows_name(win), name_len);
		if (changed & WINDOWS_RETIRED) {
			args_add(&b->args, "K", 1);
			args_add(&b->args, key, (size_t)base + name_len);
			continue;
		}
		if (!(changed & (1u << win))) {
			/* same sums as the last cut wrote: only as_of moves on */
			args_add(&b->args, "H", 1);
			args_add(&b->args, key, (size_t)base + name_len);
			args_add(&b->args, "as_of", 5);
			args_add(&b->args, wc->as_of, as_of_len);
			continue;
		}
		derived = counters_derived_fields(v, fields);
		args_add(&b->args, "W", 1);
		args_add(&b->args, key, (size_t)base + name_len);
		/* the counters, as_of and the derived values */
		args_add_i64(&b->args, nonzero_counters(v) + 1 + (int)derived);
		add_counter_fields(b, v);
		for (unsigned k = 0; k < derived; k++) {
			args_add(&b->args, fields[k].name, strlen(fields[k].name));
			args_add(&b->args, fields[k].text, strlen(fields[k].text));
		}
		args_add(&b->args, "as_of", 5);
		args_add(&b->args, wc->as_of, as_of_len);
	}
	return 0;
}

/* Each alert: PUBLISH to PREFIX:alerts, XADD to PREFIX:alerts:log, and the shop's
 * active-alert hash set (raised) or cleared (cleared); a waiting alert is announced
 * but is not an agent's standing alert. */
static int emit_alerts(struct builder *b, const struct alert_event *alerts, size_t count)
{
	char channel[256], stream[256], key[KEY_BYTES], message[ALERT_MESSAGE_MAX];

	snprintf(channel, sizeof(channel), "%s:alerts", b->s->prefix);
	snprintf(stream, sizeof(stream), "%s:alerts:log", b->s->prefix);
	for (size_t i = 0; i < count; i++) {
		const struct alert_event *ev = &alerts[i];
		size_t len = alert_format(ev, b->names, message, sizeof(message));
		const char *agent = names_get(b->names, ev->agent);
		if (builder_room(b) == -1)
			return -1;
		/* alerts only check: the clock raises and clears them without a line read, and
		 * a daemon that stopped reading the shop must not take it back */
		claim_shop(b, ev->shop, 'Q');
		args_add(&b->args, "P", 1);
		args_add(&b->args, channel, strlen(channel));
		args_add(&b->args, message, len);
		args_add(&b->args, "X", 1);
		args_add(&b->args, stream, strlen(stream));
		args_add(&b->args, message, len);
		if (ev->type == ALERT_WAITING || ev->type == ALERT_WARNING)
			continue;
		size_t base = shop_key_base(b, ev->shop, key, sizeof(key));
		snprintf(key + base, sizeof(key) - base, ":alerts");
		args_add(&b->args, ev->type == ALERT_RAISED ? "H" : "D", 1);
		args_add(&b->args, key, strlen(key));
		args_add(&b->args, agent, strlen(agent));
		if (ev->type == ALERT_RAISED)
			args_add(&b->args, message, len);
	}
	return 0;
}

int publish_build(const struct publish_settings *s, struct counter_table *cut,
                  const struct names *names, const struct reasons *reasons, uint64_t first_seq,
                  struct publish_batch **out)
{
	return publish_build_cut(s, cut, names, reasons, first_seq, NULL, out);
}

int publish_build_cut(const struct publish_settings *s, struct counter_table *cut,
                      const struct names *names, const struct reasons *reasons, uint64_t first_seq,
                      const struct publish_extra *extra, struct publish_batch **out)
{
	static const struct publish_extra none = {NULL, 0, NULL, 0};
	struct counter_table *minutes = counter_table_new(1), *days = counter_table_new(1);
	struct builder *b = xcalloc(1, sizeof(*b));
	struct window_ctx wc = {b, ""};
	int failed = 0, count;

	*out = NULL;
	b->s = s;
	b->names = names;
	b->reasons = reasons;
	b->next_seq = first_seq;
	/* Every agent row also counts for the whole shop ("*"). */
	for (size_t i = 0; !failed && i < counter_table_count(cut); i++) {
		const struct counter_row *row = counter_table_at(cut, i);
		int64_t ts = row->minute * 60000, day = day_slot(row->minute);
		add_row(minutes, row->shop, row->agent, ts, row->value, &failed);
		add_row(days, row->shop, row->agent, day, row->value, &failed);
		if (row->agent != NAME_WHOLE_SHOP) {
			add_row(minutes, row->shop, NAME_WHOLE_SHOP, ts, row->value, &failed);
			add_row(days, row->shop, NAME_WHOLE_SHOP, day, row->value, &failed);
		}
	}
	if (extra == NULL)
		extra = &none;
	timefmt_format_rfc3339(extra->as_of_ms, wc.as_of);
	publish_seq_key(s, b->seq_key, sizeof(b->seq_key));
	builder_begin(b);
	/* Counters, alerts and windows each go in batches of their own, in that order:
	 * the counters are what a line waits for and alerts should not wait behind the
	 * windows, the batches that take Redis longest to apply. */
	if (failed || emit_hashes(b, minutes, 0) == -1 || emit_hashes(b, days, 1) == -1 ||
	    emit_sets(b, days) == -1 || builder_end(b) == -1 ||
	    emit_alerts(b, extra->alerts, extra->alert_count) == -1 || builder_end(b) == -1 ||
	    (extra->windows != NULL &&
	     windows_each(extra->windows, extra->as_of_ms, emit_window, &wc) == -1) ||
	    builder_end(b) == -1) {
		publish_batches_free(b->batches, b->batch_count);
		b->batches = NULL;
		b->batch_count = -1;
	}
	free(b->args.arena);
	free(b->args.offsets);
	free(b->args.lengths);
	counter_table_free(minutes);
	counter_table_free(days);
	*out = b->batches;
	count = b->batch_count;
	free(b);
	return count;
}

size_t publish_batches_bytes(const struct publish_batch *batches, int count)
{
	size_t bytes = (size_t)count * sizeof(*batches);

	for (int i = 0; i < count; i++) {
		/* each argument: its bytes and NUL in the block, a pointer and a length */
		bytes += (size_t)batches[i].argc * (1 + sizeof(char *) + sizeof(size_t));
		for (int a = 0; a < batches[i].argc; a++)
			bytes += batches[i].argvlen[a];
	}
	return bytes;
}

void publish_batches_release(struct publish_batch *batches, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (batches[i].argc > 0)
			free(batches[i].argv[0]); /* the block all arguments live in */
		free(batches[i].argv);
		free(batches[i].argvlen);
		batches[i].argc = 0;
		batches[i].argv = NULL;
		batches[i].argvlen = NULL;
	}
}

void publish_batches_free(struct publish_batch *batches, int count)
{
	if (batches != NULL)
		publish_batches_release(batches, (size_t)count);
	free(batches);
}
