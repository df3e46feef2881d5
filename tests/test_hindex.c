/* The hash index and name interning: insert, find, remove keeping chains intact. */
#include <stdlib.h>

#include "chatlogd/hindex.h"
#include "chatlogd/names.h"
#include "check.h"

static uint64_t keys[5000];
static int present[5000];

static int key_equals(const void *ctx, uint32_t id)
{
	return *(const uint64_t *)ctx == keys[id];
}

/* Deliberately weak hash so chains collide and backward-shift removal is exercised. */
static uint64_t weak_hash(uint64_t key)
{
	return key % 97;
}

static void test_remove_keeps_colliding_chains_findable(void)
{
	struct hindex h = {0};
	for (uint32_t i = 0; i < 5000; i++) {
		keys[i] = (uint64_t)i * 7919;
		CHECK_INT(hindex_insert(&h, weak_hash(keys[i]), i), 0);
		present[i] = 1;
	}
	for (uint32_t i = 0; i < 5000; i += 3) {
		hindex_remove(&h, weak_hash(keys[i]), i);
		present[i] = 0;
	}
	int wrong = 0;
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t got = hindex_find(&h, weak_hash(keys[i]), key_equals, &keys[i]);
		if ((present[i] && got != i) || (!present[i] && got != HINDEX_NONE))
			wrong++;
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(h.count, 5000 - 1667);
	hindex_free(&h);
}

static void test_names_intern_is_stable_and_reserved_ids_exist(void)
{
	struct names *n = names_new();
	char buf[32];
	CHECK_STR(names_get(n, NAME_NO_AGENT), "-");
	CHECK_STR(names_get(n, NAME_WHOLE_SHOP), "*");
	uint32_t alice = names_intern(n, "alice", 5);
	uint32_t chinese = names_intern(n, "客服小美", strlen("客服小美"));
	for (int i = 0; i < 10000; i++) {
		snprintf(buf, sizeof(buf), "agent%d", i);
		names_intern(n, buf, strlen(buf));
	}
	CHECK_INT(names_intern(n, "alice", 5), alice);
	CHECK_INT(names_find(n, "客服小美", strlen("客服小美")), chinese);
	CHECK_STR(names_get(n, chinese), "客服小美");
	CHECK_INT(names_find(n, "nobody", 6), UINT32_MAX);
	CHECK_INT(names_count(n), 10004);
	/* same bytes with an embedded NUL are a different name */
	CHECK(names_intern(n, "a\0b", 3) != names_intern(n, "a", 1));
	names_free(n);
}

int main(void)
{
	RUN(test_remove_keeps_colliding_chains_findable);
	RUN(test_names_intern_is_stable_and_reserved_ids_exist);
	return check_done();
}
