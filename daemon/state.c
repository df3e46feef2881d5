/*
 * state.c owns the files in state_dir and their crash safety: atomic snapshot
 * replacement and a framed, checksummed journal. It never interprets records.
 *
 * snapshot:  "CLDSNAP1" u64 generation u64 length body u32 crc(generation..body)
 * journal:   "CLDJRNL1" u64 generation, then records: u32 length u32 crc payload
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatlogd/state.h"
#include "chatlogd/wire.h"
#include "chatlogd/util.h"

#define SNAPSHOT_MAGIC "CLDSNAP1"
#define JOURNAL_MAGIC "CLDJRNL1"
#define MAGIC_LEN 8
#define MAX_RECORD (256u * 1024 * 1024)
/* Queued records are written out in pieces this large, so a busy second never makes
 * one long blocking write at the next sync; durability still comes from the sync. */
#define JOURNAL_WRITE_CHUNK (8u * 1024 * 1024)

struct state_journal {
	int fd;
	uint64_t size;
	struct wire_writer queued;
	size_t write_chunk;
	char *prepared_dir; /* prepared, not committed: the file is DIR/journal.tmp */
};

static void path_join(char *out, size_t size, const char *dir, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Writes header+body to dir/name via dir/name.tmp, durably. */
static int replace_file(const char *dir, const char *name, const struct wire_writer *w, char *err,
                        size_t errlen)
{
	char path[4096], tmp[4200];
	int fd;

	path_join(path, sizeof(path), dir, name);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		goto fail;
	if (write_all(fd, w->data, w->len) == -1 || fsync(fd) == -1) {
		close(fd);
		unlink(tmp);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1 || sync_dir(dir) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	return -1;
}

int state_snapshot_write(const char *dir, uint64_t generation, const void *body, size_t len,
                         char *err, size_t errlen)
{
	struct wire_writer w = {0};
	uint32_t crc;
	int rc;

	for (size_t i = 0; i < MAGIC_LEN; i++)
		wire_put_u8(&w, (uint8_t)SNAPSHOT_MAGIC[i]);
	wire_put_u64(&w, generation);
	wire_put_u64(&w, len);
	wire_put_data(&w, body, len);
	crc = wire_crc32(0, w.data ? w.data + MAGIC_LEN : NULL, w.len - MAGIC_LEN);
	wire_put_u32(&w, crc); /* no wire_put_bytes: the writer cannot fail */
	rc = replace_file(dir, "snapshot", &w, err, errlen);
	wire_writer_free(&w);
	return rc;
}

/* Reads a whole file; 0 when it does not exist. */
static int read_file(const char *path, unsigned char **data, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t got = 0;

	*data = NULL;
	*len = 0;
	if (fd == -1 && errno == ENOENT)
		return 0;
	if (fd == -1 || fstat(fd, &st) == -1)
		goto fail;
	*data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return 1;
fail:
	snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	free(*data);
	*data = NULL;
	return -1;
}

int state_snapshot_read(const char *dir, uint64_t *generation, void **body, size_t *len, char *err,
                        size_t errlen)
{
	char path[4096];
	unsigned char *data;
	size_t size;
	struct wire_reader r;
	uint64_t body_len;
	int found;

	*body = NULL;
	*len = 0;
	path_join(path, sizeof(path), dir, "snapshot");
	if ((found = read_file(path, &data, &size, err, errlen)) <= 0)
		return found;
	wire_reader_init(&r, data, size);
	if (size < MAGIC_LEN + 20 || memcmp(data, SNAPSHOT_MAGIC, MAGIC_LEN) != 0)
		goto corrupt;
	r.pos = MAGIC_LEN;
	*generation = wire_get_u64(&r);
	body_len = wire_get_u64(&r);
	if (body_len != size - MAGIC_LEN - 20 ||
	    wire_crc32(0, data + MAGIC_LEN, size - MAGIC_LEN - 4) !=
	        (uint32_t)(data[size - 4] | data[size - 3] << 8 | data[size - 2] << 16 |
	                   (uint32_t)data[size - 1] << 24))
		goto corrupt;
	memmove(data, data + MAGIC_LEN + 16, body_len);
	*body = data;
	*len = body_len;
	return 1;
corrupt:
	snprintf(err, errlen, "%s is corrupt (bad header, length or checksum)", path);
	free(data);
	return -1;
}

/*
 * A journal is made in two steps around its snapshot: state_journal_prepare writes
 * and opens "journal.tmp", and state_journal_commit renames it to "journal" once the
 * snapshot of its generation is written. What can fail for want of space fails in
 * the first step, while the running snapshot and journal still stand; recovery never
 * reads journal.tmp.
 */
struct state_journal *state_journal_prepare(const char *dir, uint64_t generation, char *err,
                                            size_t errlen)
{
	struct state_journal *j = xcalloc(1, sizeof(*j));
	struct wire_writer header = {0};
	char path[4200];

	j->prepared_dir = xstrdup(dir);
	snprintf(path, sizeof(path), "%s/journal.tmp", dir);
	for (size_t i = 0; i < MAGIC_LEN; i++)
		wire_put_u8(&header, (uint8_t)JOURNAL_MAGIC[i]);
	wire_put_u64(&header, generation); /* fixed-size fields: the writer cannot fail */
	if ((j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		goto fail;
	}
	if (write_all(j->fd, header.data, header.len) == -1 || fsync(j->fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		close(j->fd);
		unlink(path);
		goto fail;
	}
	j->size = header.len;
	j->write_chunk = JOURNAL_WRITE_CHUNK;
	wire_writer_free(&header);
	return j;
fail:
	wire_writer_free(&header);
	free(j->prepared_dir);
	free(j);
	return NULL;
}

int state_journal_commit(struct state_journal *j, char *err, size_t errlen)
{
	char tmp[4200], path[4096];

	snprintf(tmp, sizeof(tmp), "%s/journal.tmp", j->prepared_dir);
	path_join(path, sizeof(path), j->prepared_dir, "journal");
	if (rename(tmp, path) == -1 || sync_dir(j->prepared_dir) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	free(j->prepared_dir);
	j->prepared_dir = NULL;
	return 0;
}

struct state_journal *state_journal_create(const char *dir, uint64_t generation, char *err,
                                           size_t errlen)
{
	struct state_journal *j = state_journal_prepare(dir, generation, err, errlen);

	if (j != NULL && state_journal_commit(j, err, errlen) == -1) {
		state_journal_close(j);
		return NULL;
	}
	return j;
}

/* Writes the queued records (no fsync). On failure a torn tail is cut off, so a retry
 * appends after intact records; the records stay queued. */
static int journal_write(struct state_journal *j)
{
	if (j->queued.len > 0 && write_all(j->fd, j->queued.data, j->queued.len) == -1) {
		int saved = errno;
		if (ftruncate(j->fd, (off_t)j->size) == -1) {
			/* nothing more to do: replay stops at the torn record anyway */
		}
		errno = saved;
		return -1;
	}
	j->size += j->queued.len;
	j->queued.len = 0;
	return 0;
}

int state_journal_append(struct state_journal *j, const void *record, size_t len)
{
	if (len > MAX_RECORD)
		return -1;
	wire_put_u32(&j->queued, (uint32_t)len);
	wire_put_u32(&j->queued, wire_crc32(0, record, len));
	wire_put_data(&j->queued, record, len);
	if (j->queued.failed)
		return -1;
	if (j->queued.len >= j->write_chunk)
		(void)journal_write(j); /* an error is reported by the next sync */
	return 0;
}

void state_journal_set_write_chunk(struct state_journal *j, size_t bytes)
{
	j->write_chunk = bytes;
}

int state_journal_sync(struct state_journal *j, char *err, size_t errlen)
{
	if (j->queued.failed) {
		snprintf(err, errlen, "a journal record too large to encode");
		return -1;
	}
	if (journal_write(j) == -1 || fdatasync(j->fd) == -1) {
		snprintf(err, errlen, "cannot write the journal: %s", strerror(errno));
		return -1;
	}
	return 0;
}

uint64_t state_journal_size(const struct state_journal *j)
{
	return j->size;
}

size_t state_journal_queued(const struct state_journal *j)
{
	return j->queued.len;
}

void state_journal_close(struct state_journal *j)
{
	if (j == NULL)
		return;
	close(j->fd);
	if (j->prepared_dir != NULL) {
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s/journal.tmp", j->prepared_dir);
		unlink(tmp);
		free(j->prepared_dir);
	}
	wire_writer_free(&j->queued);
	free(j);
}

/*
 * A crash while appending leaves the journal's last records cut short: every record
 * before them is intact, nothing intact comes after. So a record that fails its
 * checksum with an intact record somewhere after it is damage (a flipped byte, a bad
 * sector, a stale or foreign block), and replaying up to it would silently drop
 * everything after. Looks for any well-formed record (length in bounds, checksum
 * right) starting at or after `from`; a false match is a 2^-32 chance per offset.
 */
static int intact_record_after(const unsigned char *data, size_t size, size_t from)
{
	for (size_t pos = from; pos + 8 <= size; pos++) {
		uint32_t len = (uint32_t)data[pos] | (uint32_t)data[pos + 1] << 8 |
		               (uint32_t)data[pos + 2] << 16 | (uint32_t)data[pos + 3] << 24;
		uint32_t crc = (uint32_t)data[pos + 4] | (uint32_t)data[pos + 5] << 8 |
		               (uint32_t)data[pos + 6] << 16 | (uint32_t)data[pos + 7] << 24;
		if (len > 0 && len <= size - pos - 8 && wire_crc32(0, data + pos + 8, len) == crc)
			return 1;
	}
	return 0;
}

long state_journal_replay(const char *dir, uint64_t generation,
                          int (*fn)(void *ctx, const void *record, size_t len), void *ctx,
                          char *err, size_t errlen)
{
	char path[4096];
	unsigned char *data;
	size_t size, pos = MAGIC_LEN + 8;
	long records = 0;
	int found;
	struct wire_reader r;

	path_join(path, sizeof(path), dir, "journal");
	if ((found = read_file(path, &data, &size, err, errlen)) <= 0)
		return found;
	wire_reader_init(&r, data, size);
	r.pos = MAGIC_LEN;
	if (size < pos || memcmp(data, JOURNAL_MAGIC, MAGIC_LEN) != 0 ||
	    wire_get_u64(&r) != generation) {
		free(data);
		return 0; /* another generation's journal: stale */
	}
	while (size - pos >= 8) {
		uint32_t len, crc;
		r.pos = pos;
		len = wire_get_u32(&r);
		crc = wire_get_u32(&r);
		if (len > size - pos - 8 || wire_crc32(0, data + pos + 8, len) != crc) {
			if (!intact_record_after(data, size, pos + 1))
				break; /* torn by a crash while appending */
			snprintf(err, errlen,
			         "%s is corrupt: record %ld at offset %zu fails its checksum, and "
			         "intact records follow it (damage, not a write a crash cut short)",
			         path, records + 1, pos);
			free(data);
			return -1;
		}
		if (fn(ctx, data + pos + 8, len) == -1) {
			snprintf(err, errlen, "%s: record %ld could not be replayed", path,
			         records + 1);
			free(data);
			return -1;
		}
		records++;
		pos += 8 + (size_t)len;
	}
	free(data);
	return records;
}
