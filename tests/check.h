/*
 * Minimal test harness: CHECK* macros record failures and keep going, so one
 * run reports every broken assertion; check_done() prints the plain summary
 * line CTest logs show ("N passed, N failed") and returns the exit status.
 */
#ifndef CHATLOGD_TEST_CHECK_H
#define CHATLOGD_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed;
static int check_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond)                                                                          \
			check_passed++;                                                            \
		else {                                                                             \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_INT(got, want)                                                                       \
	do {                                                                                       \
		long long check_got_ = (long long)(got);                                           \
		long long check_want_ = (long long)(want);                                         \
		if (check_got_ == check_want_)                                                     \
			check_passed++;                                                            \
		else {                                                                             \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #got, \
			        check_got_, check_want_);                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *check_got_ = (got);                                                    \
		const char *check_want_ = (want);                                                  \
		if (check_got_ != NULL && strcmp(check_got_, check_want_) == 0)                    \
			check_passed++;                                                            \
		else {                                                                             \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: %s = \"%s\", want \"%s\"\n", __FILE__, __LINE__,   \
			        #got, check_got_ ? check_got_ : "(null)", check_want_);            \
		}                                                                                  \
	} while (0)

/* Runs one named test function, printing its name so failures are located. */
#define RUN(test)                                                                                  \
	do {                                                                                       \
		int check_before_ = check_failed;                                                  \
		test();                                                                            \
		fprintf(stderr, "%s %s\n", check_failed == check_before_ ? "ok  " : "FAIL",        \
		        #test);                                                                    \
	} while (0)

/* The seed of a random test: CHATLOGD_TEST_SEED when it is set (to repeat a failed
 * run, or to try other seeds), else the test's own. Printed as "seed N" with what it
 * seeds, so every log of a random run says how to repeat it. */
static inline unsigned long long check_seed(const char *what, unsigned long long own)
{
	const char *env = getenv("CHATLOGD_TEST_SEED");
	unsigned long long seed = own;
	char *end;

	if (env != NULL && *env != '\0') {
		seed = strtoull(env, &end, 0);
		if (*end != '\0') {
			fprintf(stderr, "CHATLOGD_TEST_SEED=%s is not a number\n", env);
			exit(2);
		}
	}
	fprintf(stderr, "     seed %llu (%s; CHATLOGD_TEST_SEED=%llu repeats it)\n", seed, what,
	        seed);
	return seed;
}

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed == 0 ? 0 : 1;
}

#endif
