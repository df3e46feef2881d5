/*
 * Tests for agent_index.c: ids in the order pairs are added, (shop, agent) and
 * (agent, shop) kept apart, and a clear that starts the ids again.
 */
#include <stdint.h>

#include "chatlogd/agent_index.h"
#include "check.h"

static void test_ids_follow_insertion_and_find_them(void)
{
	struct agent_index x = {0};

	CHECK(agent_index_find(&x, 1, 2) == AGENT_INDEX_NONE);
	for (uint32_t i = 0; i < 1000; i++)
		CHECK(agent_index_add(&x, i / 10, i % 10) == i);
	for (uint32_t i = 0; i < 1000; i++)
		CHECK(agent_index_find(&x, i / 10, i % 10) == i);
	CHECK(agent_index_find(&x, 100, 0) == AGENT_INDEX_NONE);
	agent_index_free(&x);
}

static void test_shop_and_agent_are_not_swapped(void)
{
	struct agent_index x = {0};

	CHECK(agent_index_add(&x, 3, 7) == 0);
	CHECK(agent_index_find(&x, 7, 3) == AGENT_INDEX_NONE);
	CHECK(agent_index_add(&x, 7, 3) == 1);
	CHECK(agent_index_find(&x, 3, 7) == 0);
	agent_index_free(&x);
}

static void test_clear_starts_ids_again(void)
{
	struct agent_index x = {0};

	agent_index_add(&x, 1, 1);
	agent_index_add(&x, 2, 2);
	agent_index_clear(&x);
	CHECK(agent_index_find(&x, 1, 1) == AGENT_INDEX_NONE);
	CHECK(agent_index_add(&x, 2, 2) == 0);
	CHECK(agent_index_find(&x, 2, 2) == 0);
	agent_index_free(&x);
}

int main(void)
{
	RUN(test_ids_follow_insertion_and_find_them);
	RUN(test_shop_and_agent_are_not_swapped);
	RUN(test_clear_starts_ids_again);
	return check_done();
}
