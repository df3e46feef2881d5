/*
 * batch.c owns reading finished files for `--once`: large reads straight into the
 * line framer's buffer, no tailing, no offsets.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "chatlogd/batch.h"
#include "chatlogd/log.h"

static const char *const file_error_text[] = {
    [BATCH_CANNOT_OPEN] = "cannot open",
    [BATCH_NO_MEMORY] = "out of memory reading",
    [BATCH_READ_FAILED] = "read failed",
};

void batch_log_file_error(enum batch_file_error what, const char *path, int errnum)
{
	if (errnum == 0) {
		log_warnx("%s file=%s", file_error_text[what], path);
	} else {
		errno = errnum;
		log_warn("%s file=%s", file_error_text[what], path);
	}
}

int batch_read_lines(const char *path, size_t max_line_bytes, lines_fn fn, batch_error_fn on_error,
                     void *ctx)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	struct lines lr;
	int rc = 0;

	if (fd == -1) {
		on_error(ctx, BATCH_CANNOT_OPEN, path, errno);
		return -1;
	}
	if (lines_init(&lr, max_line_bytes) == -1) {
		on_error(ctx, BATCH_NO_MEMORY, path, 0);
		if (!is_stdin)
			close(fd);
		return -1;
	}
#ifdef POSIX_FADV_SEQUENTIAL
	if (!is_stdin)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	for (;;) {
		char *space;
		size_t room = lines_space(&lr, &space);
		ssize_t n = read(fd, space, room);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			on_error(ctx, BATCH_READ_FAILED, path, errno);
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		lines_commit(&lr, (size_t)n, fn, ctx);
	}
	lines_finish(&lr, fn, ctx);
	lines_free(&lr);
	if (!is_stdin)
		close(fd);
	return rc;
}

static void log_error(void *ctx, enum batch_file_error what, const char *path, int errnum)
{
	(void)ctx;
	batch_log_file_error(what, path, errnum);
}

int batch_read_file(struct ingest *in, const char *path, size_t max_line_bytes)
{
	in->source = path;
	return batch_read_lines(path, max_line_bytes, ingest_line, log_error, in);
}

int batch_read_files(struct ingest *in, char **files, int file_count, size_t max_line_bytes)
{
	int rc = 0;

	for (int i = 0; i < file_count; i++)
		if (batch_read_file(in, files[i], max_line_bytes) == -1)
			rc = -1;
	return rc;
}
