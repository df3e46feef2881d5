/*
 * Tests for log.c's rate limit: events per window, the window's length (a second, or
 * window_ms for a condition that lasts, like a full disk), and the whole-run mode.
 */
#include <unistd.h>

#include "chatlogd/log.h"
#include "check.h"

static void test_one_per_second_by_default(void)
{
	struct log_ratelimit rl = {.per_second = 2};

	CHECK_INT(log_ratelimit_allow(&rl, "test"), 1);
	CHECK_INT(log_ratelimit_allow(&rl, "test"), 1);
	CHECK_INT(log_ratelimit_allow(&rl, "test"), 0);
	CHECK_INT(rl.suppressed, 1);
}

/* A window of 300 ms: a repeat within it is suppressed, the first after it is not
 * (and the suppressed count is reported, then reset). */
static void test_window_ms_sets_the_window(void)
{
	struct log_ratelimit rl = {.per_second = 1, .window_ms = 300};

	CHECK_INT(log_ratelimit_allow(&rl, "test"), 1);
	for (int i = 0; i < 5; i++)
		CHECK_INT(log_ratelimit_allow(&rl, "test"), 0);
	CHECK_INT(rl.suppressed, 5);
	usleep(350 * 1000);
	CHECK_INT(log_ratelimit_allow(&rl, "test"), 1);
	CHECK_INT(rl.suppressed, 0);
	CHECK_INT(log_ratelimit_allow(&rl, "test"), 0);
}

/* A long window outlasts a second: what a flush tick repeats every 200 ms stays
 * suppressed. */
static void test_long_window_outlasts_a_second(void)
{
	struct log_ratelimit rl = {.per_second = 1, .window_ms = 60000};

	CHECK_INT(log_ratelimit_allow(&rl, "test"), 1);
	usleep(1100 * 1000);
	CHECK_INT(log_ratelimit_allow(&rl, "test"), 0);
	CHECK_INT(rl.suppressed, 1);
}

static void test_whole_run_never_opens_a_new_window(void)
{
	struct log_ratelimit rl = {.per_second = 1, .whole_run = 1};

	CHECK_INT(log_ratelimit_allow(&rl, "test"), 1);
	usleep(1100 * 1000);
	CHECK_INT(log_ratelimit_allow(&rl, "test"), 0);
	log_ratelimit_flush(&rl, "test");
	CHECK_INT(rl.suppressed, 0);
}

int main(void)
{
	RUN(test_one_per_second_by_default);
	RUN(test_window_ms_sets_the_window);
	RUN(test_long_window_outlasts_a_second);
	RUN(test_whole_run_never_opens_a_new_window);
	return check_done();
}
