/*
 * Tests for secret.c: the first line of a file, its limits and its refusals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatlogd/secret.h"
#include "check.h"

static char dir[64], path[128];

static void write_file(const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(text, 1, len, f) != len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static int read_secret(char *out, size_t size, char *err, size_t errlen)
{
	return secret_read_file(path, "password", "test", out, size, err, errlen);
}

static void test_first_line_without_its_ending(void)
{
	char out[16], err[256];

	write_file("s3cret\r\nsecond line\n", 20);
	CHECK_INT(read_secret(out, sizeof(out), err, sizeof(err)), 6);
	CHECK_STR(out, "s3cret");
	write_file("no newline", 10);
	CHECK_INT(read_secret(out, sizeof(out), err, sizeof(err)), 10);
	CHECK_STR(out, "no newline");
}

/* out has room for 15 bytes and the NUL: 15 fit, 16 do not. */
static void test_longest_secret_fits_one_more_is_refused(void)
{
	char out[16], err[256], want[256];

	write_file("123456789012345\n", 16);
	CHECK_INT(read_secret(out, sizeof(out), err, sizeof(err)), 15);
	write_file("1234567890123456\n", 17);
	CHECK_INT(read_secret(out, sizeof(out), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: password longer than 15 bytes", path);
	CHECK_STR(err, want);
	CHECK_STR(out, "");
}

static void test_empty_first_line_missing_file_and_directory_are_refused(void)
{
	char out[16], err[256], want[256];

	write_file("\nsecret\n", 8);
	CHECK_INT(read_secret(out, sizeof(out), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: password file's first line is empty", path);
	CHECK_STR(err, want);
	write_file("a\0b\n", 4);
	CHECK_INT(read_secret(out, sizeof(out), err, sizeof(err)), -1);
	CHECK_INT(secret_read_file("/nonexistent/pw", "password", "test", out, sizeof(out), err,
	                           sizeof(err)),
	          -1);
	CHECK_STR(err, "/nonexistent/pw: cannot open password file: No such file or directory");
	CHECK_INT(secret_read_file(dir, "secret", "test", out, sizeof(out), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: secret file is not a regular file", dir);
	CHECK_STR(err, want);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_secret.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pw", dir);
	RUN(test_first_line_without_its_ending);
	RUN(test_longest_secret_fits_one_more_is_refused);
	RUN(test_empty_first_line_missing_file_and_directory_are_refused);
	unlink(path);
	rmdir(dir);
	return check_done();
}
