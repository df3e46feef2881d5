/*
 * Tests for util.c: the x* allocators return usable memory for every size,
 * including zero, and an impossible size ends the process with status 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chatlogd/util.h"
#include "check.h"

static void test_zero_sizes_give_memory(void)
{
	void *a = xmalloc(0), *b = xcalloc(0, 8), *c = xreallocarray(NULL, 0, 8);

	CHECK(a != NULL && b != NULL && c != NULL);
	free(a);
	free(b);
	free(c);
}

static void test_calloc_zeroes_and_reallocarray_keeps(void)
{
	int *v = xcalloc(4, sizeof(*v));

	CHECK(v[0] == 0 && v[3] == 0);
	v[3] = 7;
	v = xreallocarray(v, 1000, sizeof(*v));
	CHECK_INT(v[3], 7);
	free(v);
}

static void test_strndup_copies_len_bytes_and_terminates(void)
{
	char *s = xstrndup("abcdef", 3), *t = xstrdup("小王"), *u = xstrndup("", 0);

	CHECK_STR(s, "abc");
	CHECK_STR(t, "小王");
	CHECK_STR(u, "");
	free(s);
	free(t);
	free(u);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* count * size past SIZE_MAX is refused by reallocarray: fatal, exit status 1.
 * AddressSanitizer reports such a call itself and aborts, so it is skipped there. */
static void test_reallocarray_overflow_is_fatal(void)
{
	pid_t pid;
	int status = 0;

#ifdef UNDER_ASAN
	return;
#endif
	pid = fork();
	if (pid == 0) {
		close(STDERR_FILENO); /* the fatal line is expected */
		xreallocarray(NULL, SIZE_MAX / 2, 4);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

int main(void)
{
	RUN(test_zero_sizes_give_memory);
	RUN(test_calloc_zeroes_and_reallocarray_keeps);
	RUN(test_strndup_copies_len_bytes_and_terminates);
	RUN(test_reallocarray_overflow_is_fatal);
	return check_done();
}
