/*
 * secret.c owns reading a secret from a file: the Redis password (redisconn.c) and
 * the robots' signing secret (robot.c). What the secret is for is the caller's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatlogd/log.h"
#include "chatlogd/secret.h"

int secret_read_file(const char *path, const char *what, const char *who, char *out,
                     size_t out_size, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0, len;
	ssize_t n;
	int fd, rc = -1;

	/* Read straight into out, one line's worth and no more: out_size bytes without a
	 * line ending mean the secret is too long. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: cannot open %s file: %s", path, what, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s file is not a regular file", path, what);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH))
		log_warnx("%s: %s file is accessible to all users file=%s mode=%04o", who, what,
		          path, (unsigned)(st.st_mode & 07777));
	while (got < out_size && (n = read(fd, out + got, out_size - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: cannot read %s file: %s", path, what,
			         strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	for (len = 0; len < got && out[len] != '\r' && out[len] != '\n'; len++)
		;
	if (len >= out_size)
		snprintf(err, errlen, "%s: %s longer than %zu bytes", path, what, out_size - 1);
	else if (len == 0 || memchr(out, '\0', len) != NULL)
		snprintf(err, errlen, "%s: %s file's first line is empty", path, what);
	else
		rc = (int)len;
out:
	close(fd);
	/* nothing of the file stays behind but the secret itself */
	if (rc == -1)
		explicit_bzero(out, got);
	else
		explicit_bzero(out + len, got - len);
	if (out_size > 0)
		out[rc == -1 ? 0 : len] = '\0';
	return rc;
}
