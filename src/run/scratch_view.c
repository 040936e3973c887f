/* A scratch workspace seen from the server: the tmpfs the launcher
 * mounted inside the sandbox, opened through /proc/<init>/root while the
 * sandbox lives.  The descriptor keeps the tmpfs (and what the run wrote
 * there) alive after the sandbox is gone, until the run's files are
 * collected (artifacts.h).
 *
 * The pids are the launcher's report; a pid could be reaped and reused
 * behind our back, so the process itself is held: /proc/<pid> is opened
 * first and checked to be a child of the one expected (the script of
 * init, init of the launcher), and "root" is opened through that
 * descriptor, which fails once the process is gone whatever the pid
 * became. */
#include "runner_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "fence.h"
#include "log.h"
#include "proc_parent.h"

/* Through process `pid`, which must be a child of `parent`. */
static int open_through(pid_t parent, pid_t pid, const char *workspace)
{
	char path[32];
	_cleanup_close_ int procfd = -1, rootfd = -1;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if ((procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (pm_proc_parent_at(procfd, "stat") != parent)
		return -ESRCH;
	if ((rootfd = openat(procfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	/* The launcher says "started" after init's pivot; a root that is
	 * still the host's would name a host directory. */
	struct stat ours, theirs;
	if (stat("/", &ours) < 0 || fstat(rootfd, &theirs) < 0)
		return -errno;
	if (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino)
		return -EAGAIN;
	int fd = pm_openat2(rootfd, workspace + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
			    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	struct statfs fs;
	if (fd < 0)
		return -errno;
	/* A scratch workspace is a tmpfs the launcher mounted, nothing else. */
	if (fstatfs(fd, &fs) < 0 || fs.f_type != TMPFS_MAGIC) {
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}

int runner_open_scratch(pid_t launcher, pid_t init, pid_t script, const char *workspace)
{
	int fd;

	if (workspace == NULL || workspace[0] != '/')
		return -EINVAL;
	/* The script first: a server that is not root may look through a
	 * process that exec'd in the sandbox's user namespace, but not
	 * through init, which never exec'd and is not dumpable. */
	if ((fd = open_through(init, script, workspace)) >= 0)
		return fd;
	log_msg(LOG_LEVEL_DEBUG, "scratch workspace through the script (pid %d): %s", (int)script,
		strerror(-fd));
	return open_through(launcher, init, workspace);
}
