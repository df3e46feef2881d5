/* The hash index and name interning: insert, find, remove keeping chains intact. */
#include <stdlib.h>
#include <string.h>

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

/* hindex_hash as first written: bytes copied into a zeroed word one by one. */
static uint64_t reference_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t reference_hash(const unsigned char *p, size_t len, uint64_t seed)
{
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ull ^ len;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w = 0;
		for (unsigned i = 0; i < 8; i++)
			w |= (uint64_t)p[i] << (8 * i);
		h = reference_mix(h ^ w, 0xa0761d6478bd642full);
	}
	if (len > 0) {
		uint64_t w = 0;
		for (unsigned i = 0; i < len; i++)
			w |= (uint64_t)p[i] << (8 * i);
		h = reference_mix(h ^ w ^ ((uint64_t)len << 56), 0xe7037ed1a0b428dbull);
	}
	return reference_mix(h, 0x8ebc6af09c88c6e3ull);
}

/* The hash must never change: tail.c keeps it in state files as a file fingerprint.
 * Each key is copied into a buffer of exactly its size, so the sanitizer build
 * catches a read past either end. */
static void test_hash_is_unchanged_for_every_length(void)
{
	const char *text = "优衣库官方旗舰店:售前小美 tb1234567890 {\"ts\":1}";
	int wrong = 0;

	for (size_t len = 0; len <= strlen(text); len++) {
		for (size_t start = 0; start + len <= strlen(text); start += 7) {
			unsigned char *key = malloc(len ? len : 1);
			memcpy(key, text + start, len);
			if (hindex_hash(key, len, start * 31) !=
			    reference_hash(key, len, start * 31))
				wrong++;
			free(key);
		}
	}
	CHECK_INT(wrong, 0);
	/* values taken from the first implementation */
	CHECK(hindex_hash("", 0, 0) == 0x82234897c7d04a2cull);
	CHECK(hindex_hash(text, strlen("优衣库官方旗舰店:售前小美 tb1234567890"), 0) ==
	      0xf0275418ed616490ull);
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
	CHECK_INT(names_find(n, "nobody", 6), NAME_NONE);
	CHECK_INT(names_count(n), 10004);
	/* same bytes with an embedded NUL are a different name */
	CHECK(names_intern(n, "a\0b", 3) != names_intern(n, "a", 1));
	names_free(n);
}

int main(void)
{
	RUN(test_remove_keeps_colliding_chains_findable);
	RUN(test_hash_is_unchanged_for_every_length);
	RUN(test_names_intern_is_stable_and_reserved_ids_exist);
	return check_done();
}
