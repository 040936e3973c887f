#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pm_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pm_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = pm_write_all(fd, text, strlen(text));
	close(fd);
	return r;
}

int pm_mkdir(const char *path, mode_t mode, const char *stage, struct pm_error *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return pm_error_errno(err, stage, "create `%s`", path);
	return 0;
}

int pm_mkdirs(const char *path, mode_t mode, const char *stage, struct pm_error *err)
{
	char *p = strdup(path);
	int r = 0;

	if (p == NULL)
		return pm_error_set(err, stage, ENOMEM, "`%s`", path);
	for (char *s = strchr(p + 1, '/'); s != NULL && r == 0; s = strchr(s + 1, '/')) {
		*s = '\0';
		r = pm_mkdir(p, mode, stage, err);
		*s = '/';
	}
	if (r == 0)
		r = pm_mkdir(p, mode, stage, err);
	free(p);
	return r;
}

int pm_read_file(const char *path, size_t max, char **out, size_t *len, struct pm_error *err)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return pm_error_errno(err, "file", "open `%s`", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		int e = errno;
		close(fd);
		if (S_ISREG(st.st_mode) && (size_t)st.st_size > max)
			return pm_error_set(err, "file", EFBIG, "`%s` is larger than %zu bytes",
					    path, max);
		return pm_error_set(err, "file", S_ISREG(st.st_mode) ? e : EINVAL,
				    "`%s` is not a regular file", path);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return pm_error_set(err, "file", ENOMEM, "read `%s`", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}
