/* fileio.c - reading whole input files, bounded (see fileio.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

int
m365_open_input(const char *path, struct stat *st, struct m365_err *err)
{
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer; the check
	 * below refuses it before anything is read */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0)
		return m365_err_set(err, M365_E_IO, "%s: %s", path,
		                    strerror(errno));
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return m365_err_set(err, M365_E_INPUT, "%s: not a regular file",
		                    path);
	}
	return fd;
}

char *
m365_read_file_st(const char *path, size_t max, size_t *len, struct stat *out,
                  struct m365_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t off = 0;
	int fd;

	if ((fd = m365_open_input(path, &st, err)) < 0)
		return NULL;
	if (out != NULL)
		*out = st;
	if ((size_t)st.st_size > max) {
		m365_err_set(err, M365_E_INPUT, "%s: larger than %zu bytes",
		             path, max);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		m365_err_set(err, M365_E_NOMEM, "%s: out of memory", path);
		goto fail;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			m365_err_set(err, M365_E_IO, "%s: %s", path,
			             strerror(errno));
			goto fail;
		}
		if (n == 0)
			break; /* the file shrank: take what is there */
		off += (size_t)n;
	}
	buf[off] = '\0';
	*len = off;
	close(fd);
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

char *
m365_read_file(const char *path, size_t max, size_t *len, struct m365_err *err)
{
	return m365_read_file_st(path, max, len, NULL, err);
}

int
m365_write_file_atomic(const char *path, const char *data, size_t len,
                       struct m365_err *err)
{
	char tmp[4096];
	size_t off = 0;
	int fd, saved;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0)
		return m365_err_set(err, M365_E_IO, "%s: %s", tmp,
		                    strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off == len && fsync(fd) == 0 && close(fd) == 0 &&
	    rename(tmp, path) == 0)
		return 0;
	saved = errno ? errno : EIO;
	if (off != len)
		close(fd);
	unlink(tmp);
	return m365_err_set(err, M365_E_IO, "%s: %s", path, strerror(saved));
}
