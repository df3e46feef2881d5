/*
 * batch.c owns reading finished files for `--once`: large reads straight into the
 * line framer's buffer, no tailing, no offsets.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "chatlogd/batch.h"
#include "chatlogd/lines.h"
#include "chatlogd/log.h"

int batch_read_file(struct ingest *in, const char *path, size_t max_line_bytes)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	struct lines lr;
	int rc = 0;

	if (fd == -1) {
		log_warn("cannot open file=%s", path);
		return -1;
	}
	if (lines_init(&lr, max_line_bytes) == -1) {
		log_warnx("out of memory reading file=%s", path);
		if (!is_stdin)
			close(fd);
		return -1;
	}
	in->source = path;
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
			log_warn("read failed file=%s", path);
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		lines_commit(&lr, (size_t)n, ingest_line, in);
	}
	lines_finish(&lr, ingest_line, in);
	lines_free(&lr);
	if (!is_stdin)
		close(fd);
	return rc;
}
