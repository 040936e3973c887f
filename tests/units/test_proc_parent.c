/* A process's parent from its /proc stat line (base/proc_parent.c): a
 * job names its own processes, and a name may hold ")", spaces and
 * digits; the parent is read after the last ")", which only the kernel
 * writes.  Also the real /proc: our own parent.  A short or malformed
 * line gives -1. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "proc_parent.h"

static pid_t parent_in(int dir, const char *line)
{
	int fd = openat(dir, "stat", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, line, strlen(line)) == (ssize_t)strlen(line));
	close(fd);
	return pm_proc_parent_at(dir, "stat");
}

int main(void)
{
	char tmp[] = "/tmp/pymcp-proc-parent-XXXXXX";
	int dir, proc;

	CHECK(mkdtemp(tmp) != NULL);
	dir = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dir >= 0);
	CHECK(parent_in(dir, "123 (python3) S 77 123 1 0 -1 4194560\n") == 77);
	/* A hostile name: ") R 1 " inside it must not be taken. */
	CHECK(parent_in(dir, "123 (x) R 1 (y)) S 4242 123 1 0\n") == 4242);
	CHECK(parent_in(dir, "123 ( ) ) ) S 9 1\n") == 9);
	CHECK(parent_in(dir, "123 (no end S 9\n") == -1);
	CHECK(parent_in(dir, "123 (x)\n") == -1);
	CHECK(parent_in(dir, "") == -1);
	CHECK(pm_proc_parent_at(dir, "missing") == -1);
	unlinkat(dir, "stat", 0);
	close(dir);
	rmdir(tmp);

	proc = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(pm_proc_parent_at(proc, "stat") == getppid());
	close(proc);
	return check_done("proc_parent");
}
