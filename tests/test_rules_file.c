/*
 * Tests for textfile.c and rules_file.c: a patterns file is read whole or refused
 * with a reason, the same way at start-up and on SIGHUP (issue 14: a reload loaded
 * a directory as no rules and cut a file past 1 MiB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatlogd/limits.h"
#include "chatlogd/rules.h"
#include "chatlogd/rules_file.h"
#include "chatlogd/textfile.h"
#include "check.h"

static char dir[64], path[128];

static void write_file(const char *name, const char *text, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(text, 1, len, f) != len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

/* A file of exactly len bytes: rule lines, then comment lines to fill it. */
static void write_padded(const char *name, const char *rules, size_t len)
{
	char *text = malloc(len);
	size_t at = strlen(rules);

	memcpy(text, rules, at);
	while (at < len) {
		size_t line = len - at < 80 ? len - at : 80;
		memset(text + at, '#', line - 1);
		text[at + line - 1] = '\n';
		at += line;
	}
	write_file(name, text, len);
	free(text);
}

static void test_file_is_read_whole_and_nul_terminated(void)
{
	char err[256], *text;
	size_t len;

	write_file("a.txt", "one\ntwo", 7);
	text = textfile_read(path, 7, &len, err, sizeof(err));
	CHECK(text != NULL);
	CHECK_INT(len, 7);
	CHECK_STR(text, "one\ntwo");
	free(text);
}

static void test_limit_bytes_are_read_one_more_is_refused(void)
{
	char err[256], want[256], *text;
	size_t len = 99;

	write_file("a.txt", "12345", 5);
	text = textfile_read(path, 5, &len, err, sizeof(err));
	CHECK(text != NULL);
	CHECK_INT(len, 5);
	free(text);
	text = textfile_read(path, 4, &len, err, sizeof(err));
	CHECK(text == NULL);
	CHECK_INT(len, 0);
	snprintf(want, sizeof(want), "%s: larger than 4 bytes", path);
	CHECK_STR(err, want);
}

static void test_directory_and_missing_file_are_refused_with_the_reason(void)
{
	char err[256], want[256];
	size_t len;

	CHECK(textfile_read(dir, 100, &len, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	CHECK_STR(err, want);
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK(textfile_read(path, 100, &len, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	CHECK_STR(err, want);
}

static void test_patterns_file_gives_rules_and_its_text(void)
{
	static const char patterns[] = "# reasons\nprice 价格 buyer 太贵\nstock 缺货 any 没货\n";
	char err[256], *text = NULL;
	size_t len = 0;
	struct rules *r;

	write_file("lost.conf", patterns, strlen(patterns));
	r = rules_file_load(path, &text, &len, err, sizeof(err));
	CHECK(r != NULL);
	CHECK_INT(rules_count(r), 2);
	CHECK_STR(rules_reason(r, 1), "stock");
	CHECK_INT(len, strlen(patterns));
	CHECK_STR(text, patterns);
	rules_free(r);
	free(text);
}

static void test_no_patterns_and_an_empty_file_are_no_rules(void)
{
	char err[256], *text = NULL;
	size_t len = 9;
	struct rules *r = rules_file_load(NULL, &text, &len, err, sizeof(err));

	CHECK(r != NULL && rules_count(r) == 0);
	CHECK_INT(len, 0);
	CHECK_STR(text, "");
	rules_free(r);
	free(text);
	r = rules_file_load("", NULL, NULL, err, sizeof(err));
	CHECK(r != NULL && rules_count(r) == 0);
	rules_free(r);
	write_file("empty.conf", "", 0);
	r = rules_file_load(path, NULL, NULL, err, sizeof(err));
	CHECK(r != NULL && rules_count(r) == 0);
	rules_free(r);
}

/* What SIGHUP used to load as 0 rules. */
static void test_patterns_directory_is_refused(void)
{
	char err[256], want[256], *text = NULL;
	size_t len = 0;

	CHECK(rules_file_load(dir, &text, &len, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	CHECK_STR(err, want);
	CHECK(text == NULL);
}

/* What SIGHUP used to cut at 1 MiB and load: exactly the limit loads, one more byte
 * is refused. */
static void test_patterns_file_past_the_limit_is_refused_not_cut(void)
{
	char err[256], want[256];
	struct rules *r;

	write_padded("big.conf", "price 价格 buyer 太贵\n", LIMIT_SETTINGS_FILE_BYTES);
	r = rules_file_load(path, NULL, NULL, err, sizeof(err));
	CHECK(r != NULL && rules_count(r) == 1);
	rules_free(r);
	write_padded("big.conf", "price 价格 buyer 太贵\n", LIMIT_SETTINGS_FILE_BYTES + 1);
	CHECK(rules_file_load(path, NULL, NULL, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: larger than %d bytes", path, LIMIT_SETTINGS_FILE_BYTES);
	CHECK_STR(err, want);
}

static void test_bad_rule_names_file_line_and_column(void)
{
	static const char bad[] = "# x\nprice 价格 buyer (unclosed\n";
	char err[256], want[256];

	write_file("bad.conf", bad, strlen(bad));
	CHECK(rules_file_load(path, NULL, NULL, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s:2:", path);
	CHECK(strncmp(err, want, strlen(want)) == 0);
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/chatlogd-rules-file-%d", (int)getpid());
	if (mkdir(dir, 0700) == -1) {
		perror(dir);
		return 1;
	}
	RUN(test_file_is_read_whole_and_nul_terminated);
	RUN(test_limit_bytes_are_read_one_more_is_refused);
	RUN(test_directory_and_missing_file_are_refused_with_the_reason);
	RUN(test_patterns_file_gives_rules_and_its_text);
	RUN(test_no_patterns_and_an_empty_file_are_no_rules);
	RUN(test_patterns_directory_is_refused);
	RUN(test_patterns_file_past_the_limit_is_refused_not_cut);
	RUN(test_bad_rule_names_file_line_and_column);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_done();
}
