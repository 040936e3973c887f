#include "proc_parent.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

pid_t pm_proc_parent_at(int dirfd, const char *stat_path)
{
	char buf[512], *close_paren;
	_cleanup_close_ int fd = openat(dirfd, stat_path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold anything, ')' and
	 * spaces too, but ends at the last ')' (the fields after it are
	 * numbers and one letter). */
	if ((close_paren = strrchr(buf, ')')) == NULL || strlen(close_paren) < 4)
		return -1;
	return (pid_t)strtol(close_paren + 3, NULL, 10);
}
