/*
 * State files: snapshot round trip and corruption detection, journal replay, torn
 * records, stale generations, and SIGKILL at random moments while appending.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chatlogd/state.h"
#include "chatlogd/wire.h"
#include "check.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/chatlogd-state-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static void remove_dir(void)
{
	char path[128];
	static const char *const names[] = {"snapshot", "snapshot.tmp", "journal", "journal.tmp"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void test_snapshot_round_trip_and_missing(void)
{
	char err[256], body[5000];
	void *got;
	size_t len;
	uint64_t generation = 0;

	make_dir();
	CHECK_INT(state_snapshot_read(dir, &generation, &got, &len, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)(i * 7);
	CHECK_INT(state_snapshot_write(dir, 41, body, sizeof(body), err, sizeof(err)), 0);
	CHECK_INT(state_snapshot_write(dir, 42, body, sizeof(body), err, sizeof(err)), 0);
	CHECK_INT(state_snapshot_read(dir, &generation, &got, &len, err, sizeof(err)), 1);
	CHECK_INT(generation, 42);
	CHECK_INT(len, sizeof(body));
	CHECK(got != NULL && memcmp(got, body, sizeof(body)) == 0);
	free(got);
	/* an empty body is fine too */
	CHECK_INT(state_snapshot_write(dir, 43, NULL, 0, err, sizeof(err)), 0);
	CHECK_INT(state_snapshot_read(dir, &generation, &got, &len, err, sizeof(err)), 1);
	CHECK_INT(len, 0);
	free(got);
	remove_dir();
}

/* Any flipped byte or truncation is detected; the reader never returns garbage. */
static void test_snapshot_corruption_is_detected(void)
{
	char err[256], body[300], path[128];
	void *got;
	size_t len;
	uint64_t generation;
	int detected = 0, tries = 0;

	make_dir();
	memset(body, 'x', sizeof(body));
	snprintf(path, sizeof(path), "%s/snapshot", dir);
	for (off_t at = 0; at < (off_t)(8 + 16 + sizeof(body) + 4); at += 13) {
		unsigned char c;
		int fd;
		state_snapshot_write(dir, 7, body, sizeof(body), err, sizeof(err));
		fd = open(path, O_RDWR);
		CHECK_INT(pread(fd, &c, 1, at), 1);
		c ^= 0x40;
		CHECK_INT(pwrite(fd, &c, 1, at), 1);
		close(fd);
		detected +=
		    state_snapshot_read(dir, &generation, &got, &len, err, sizeof(err)) == -1;
		tries++;
		free(got);
	}
	CHECK_INT(detected, tries);
	CHECK_INT(truncate(path, 100), 0);
	CHECK_INT(state_snapshot_read(dir, &generation, &got, &len, err, sizeof(err)), -1);
	CHECK(strstr(err, "corrupt") != NULL);
	remove_dir();
}

struct collected {
	int count;
	int in_order;
	int last;
};

static int collect(void *ctx, const void *record, size_t len)
{
	struct collected *c = ctx;
	int value;
	if (len != sizeof(value))
		return -1;
	memcpy(&value, record, sizeof(value));
	if (value != c->last + 1)
		c->in_order = 0;
	c->last = value;
	c->count++;
	return 0;
}

/* A smaller write chunk writes queued records out as soon as that many wait, so the
 * queue stays within a small max_pending_bytes; they are still durable only at sync. */
static void test_journal_write_chunk_bounds_the_queue(void)
{
	char err[256];
	struct state_journal *j;
	struct collected c = {0, 1, 0};

	make_dir();
	j = state_journal_create(dir, 5, err, sizeof(err));
	CHECK(j != NULL);
	state_journal_set_write_chunk(j, 100);
	for (int i = 1; i <= 20; i++) {
		state_journal_append(j, &i, sizeof(i));
		CHECK(state_journal_queued(j) < 100);
	}
	/* 8 records of 12 bytes fit under 100; the 9th wrote all nine out, twice */
	CHECK_INT(state_journal_queued(j), 2 * 12);
	CHECK_INT(state_journal_size(j), 16 + 18 * 12);
	CHECK_INT(state_journal_sync(j, err, sizeof(err)), 0);
	CHECK_INT(state_journal_replay(dir, 5, collect, &c, err, sizeof(err)), 20);
	state_journal_close(j);
	remove_dir();
}

static void test_journal_replays_synced_records_only(void)
{
	char err[256];
	struct state_journal *j;
	struct collected c = {0, 1, 0};

	make_dir();
	j = state_journal_create(dir, 5, err, sizeof(err));
	CHECK(j != NULL);
	for (int i = 1; i <= 100; i++)
		state_journal_append(j, &i, sizeof(i));
	CHECK_INT(state_journal_sync(j, err, sizeof(err)), 0);
	for (int i = 101; i <= 150; i++)
		state_journal_append(j, &i, sizeof(i));
	CHECK_INT(state_journal_queued(j), 50 * 12);
	/* not synced: not on disk */
	CHECK_INT(state_journal_replay(dir, 5, collect, &c, err, sizeof(err)), 100);
	CHECK(c.in_order);
	CHECK_INT(state_journal_sync(j, err, sizeof(err)), 0);
	c = (struct collected){0, 1, 0};
	CHECK_INT(state_journal_replay(dir, 5, collect, &c, err, sizeof(err)), 150);
	CHECK_INT(c.last, 150);
	/* another generation's journal is stale: no records */
	c = (struct collected){0, 1, 0};
	CHECK_INT(state_journal_replay(dir, 6, collect, &c, err, sizeof(err)), 0);
	state_journal_close(j);
	/* a new journal replaces the old one */
	j = state_journal_create(dir, 6, err, sizeof(err));
	CHECK_INT(state_journal_replay(dir, 6, collect, &c, err, sizeof(err)), 0);
	CHECK_INT(state_journal_replay(dir, 5, collect, &c, err, sizeof(err)), 0);
	state_journal_close(j);
	remove_dir();
}

/* A prepared journal stays beside the running one until committed: the running
 * journal still replays, and closing it uncommitted leaves no trace. */
static void test_prepared_journal_replaces_the_running_one_only_when_committed(void)
{
	char err[256], path[128];
	struct state_journal *running, *next;
	struct collected c = {0, 1, 0};
	int one = 1, two = 2;

	make_dir();
	snprintf(path, sizeof(path), "%s/journal.tmp", dir);
	running = state_journal_create(dir, 5, err, sizeof(err));
	state_journal_append(running, &one, sizeof(one));
	CHECK_INT(state_journal_sync(running, err, sizeof(err)), 0);
	next = state_journal_prepare(dir, 6, err, sizeof(err));
	CHECK(next != NULL);
	CHECK_INT(state_journal_replay(dir, 5, collect, &c, err, sizeof(err)), 1);
	state_journal_close(next);
	CHECK(access(path, F_OK) == -1);
	CHECK_INT(state_journal_replay(dir, 5, collect, &c, err, sizeof(err)), 1);

	next = state_journal_prepare(dir, 6, err, sizeof(err));
	state_journal_append(next, &two, sizeof(two));
	CHECK_INT(state_journal_sync(next, err, sizeof(err)), 0);
	CHECK_INT(state_journal_commit(next, err, sizeof(err)), 0);
	c = (struct collected){0, 1, 0};
	CHECK_INT(state_journal_replay(dir, 6, collect, &c, err, sizeof(err)), 1);
	CHECK_INT(c.last, 2);
	CHECK_INT(state_journal_replay(dir, 5, collect, &c, err, sizeof(err)), 0);
	state_journal_close(running);
	state_journal_close(next);
	remove_dir();
}

/* A journal that cannot be prepared (here: no such directory) is an error to retry,
 * with the path in the reason. */
static void test_journal_prepare_failure_names_the_file(void)
{
	char err[256];

	CHECK(state_journal_prepare("/nonexistent/chatlogd-state", 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent/chatlogd-state/journal.tmp") != NULL);
}

/* A record cut anywhere, or garbage after the last record, ends the replay there. */
static void test_torn_journal_tail_is_ignored(void)
{
	char err[256], path[128];
	struct state_journal *j;
	struct stat st;
	int ok = 1;

	make_dir();
	snprintf(path, sizeof(path), "%s/journal", dir);
	j = state_journal_create(dir, 1, err, sizeof(err));
	for (int i = 1; i <= 10; i++)
		state_journal_append(j, &i, sizeof(i));
	state_journal_sync(j, err, sizeof(err));
	state_journal_close(j);
	stat(path, &st);
	for (off_t size = st.st_size; size >= 16; size--) {
		struct collected c = {0, 1, 0};
		long n;
		if (truncate(path, size) == -1)
			ok = 0;
		n = state_journal_replay(dir, 1, collect, &c, err, sizeof(err));
		if (n != (long)((size - 16) / 12) || !c.in_order)
			ok = 0;
	}
	CHECK(ok);
	remove_dir();
}

/* A byte flipped in any record but the last is damage, not a torn tail: the replay
 * refuses with the offset instead of silently stopping early. Garbage appended after
 * the last record is still a torn tail (test above). */
static void test_flipped_byte_before_the_tail_is_corruption(void)
{
	char err[256], path[128];
	struct state_journal *j;
	struct stat st;
	int refused = 1, last_ok = 1;

	make_dir();
	snprintf(path, sizeof(path), "%s/journal", dir);
	j = state_journal_create(dir, 1, err, sizeof(err));
	for (int i = 1; i <= 10; i++)
		state_journal_append(j, &i, sizeof(i));
	state_journal_sync(j, err, sizeof(err));
	state_journal_close(j);
	stat(path, &st);
	/* records are 12 bytes from offset 16: flip each byte of records 1..9 in turn */
	for (off_t at = 16; at < st.st_size; at++) {
		struct collected c = {0, 1, 0};
		unsigned char byte = 0;
		long n;
		int fd = open(path, O_RDWR);
		if (fd == -1 || pread(fd, &byte, 1, at) != 1)
			refused = 0;
		byte ^= 0x10;
		if (pwrite(fd, &byte, 1, at) != 1)
			refused = 0;
		n = state_journal_replay(dir, 1, collect, &c, err, sizeof(err));
		if (at < 16 + 9 * 12) {
			if (n != -1 || strstr(err, "is corrupt: record") == NULL)
				refused = 0;
		} else if (n != 9) { /* the last record: indistinguishable from a torn write */
			last_ok = 0;
		}
		byte ^= 0x10;
		if (pwrite(fd, &byte, 1, at) != 1)
			refused = 0;
		close(fd);
	}
	CHECK(refused);
	CHECK(last_ok);
	remove_dir();
}

/* A writer SIGKILLed at random moments: every record it reported synced replays,
 * in order, and nothing else but possibly later intact ones. */
static void test_kill_9_while_appending_loses_nothing_synced(void)
{
	char err[256];
	int bad = 0;

	srand((unsigned)check_seed("kill moments", (unsigned long long)time(NULL)));
	for (int round = 0; round < 20; round++) {
		int fds[2];
		pid_t pid;
		int synced = 0, value;
		struct collected c = {0, 1, 0};

		make_dir();
		if (pipe(fds) == -1)
			return;
		if ((pid = fork()) == 0) {
			struct state_journal *j = state_journal_create(dir, 9, err, sizeof(err));
			close(fds[0]);
			for (int i = 1;; i++) {
				state_journal_append(j, &i, sizeof(i));
				if (i % 7 == 0 && state_journal_sync(j, err, sizeof(err)) == 0)
					if (write(fds[1], &i, sizeof(i)) != sizeof(i))
						_exit(1);
			}
		}
		close(fds[1]);
		usleep((useconds_t)(2000 + rand() % 30000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		while (read(fds[0], &value, sizeof(value)) == sizeof(value))
			synced = value;
		close(fds[0]);
		if (state_journal_replay(dir, 9, collect, &c, err, sizeof(err)) < synced ||
		    !c.in_order)
			bad++;
		remove_dir();
	}
	CHECK_INT(bad, 0);
}

/* zlib's CRC equals a plain bitwise CRC-32 and the standard check value, so state
 * files written before the switch to zlib still load. */
static void test_crc32_matches_the_bitwise_definition(void)
{
	unsigned char buf[600];
	int bad = 0;

	CHECK_INT(wire_crc32(0, "123456789", 9), 0xcbf43926u);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += 7) {
			uint32_t crc = 0xffffffffu;
			for (size_t k = 0; k < len; k++) {
				crc ^= buf[off + k];
				for (int b = 0; b < 8; b++)
					crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
			}
			bad += wire_crc32(0, buf + off, len) != ~crc;
		}
	CHECK_INT(bad, 0);
}

/* Known values and continuation: a journal record's checksum is the same whether
 * computed in one call or in pieces, and an empty piece changes nothing. */
static void test_crc32_known_values_and_continuation(void)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint32_t crc;

	CHECK_INT(wire_crc32(0, fox, strlen(fox)), 0x414fa339u);
	CHECK_INT(wire_crc32(0, "", 0), 0);
	CHECK_INT(wire_crc32(0x414fa339u, NULL, 0), 0x414fa339u);
	crc = wire_crc32(0, fox, 10);
	crc = wire_crc32(crc, fox + 10, 0);
	crc = wire_crc32(crc, fox + 10, strlen(fox) - 10);
	CHECK_INT(crc, 0x414fa339u);
}

int main(void)
{
	RUN(test_crc32_matches_the_bitwise_definition);
	RUN(test_crc32_known_values_and_continuation);
	RUN(test_snapshot_round_trip_and_missing);
	RUN(test_snapshot_corruption_is_detected);
	RUN(test_journal_write_chunk_bounds_the_queue);
	RUN(test_journal_replays_synced_records_only);
	RUN(test_prepared_journal_replaces_the_running_one_only_when_committed);
	RUN(test_journal_prepare_failure_names_the_file);
	RUN(test_torn_journal_tail_is_ignored);
	RUN(test_flipped_byte_before_the_tail_is_corruption);
	RUN(test_kill_9_while_appending_loses_nothing_synced);
	return check_done();
}
