#include "workspace.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

int sb_workspace_open(const char *canonical, struct pm_error *err)
{
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, canonical, &how, sizeof(how));

	if (fd >= 0)
		return fd;
	pm_error_errno(err, "workspace", "open workspace `%s` without following symlinks",
		       canonical);
	if (errno == ELOOP)
		pm_error_hint(err, "a component of the path was replaced by a symlink after it was "
				   "checked; pass the real directory");
	return pm_error_code(err);
}

int sb_workspace_open_checked(const char *canonical, unsigned long long dev, unsigned long long ino,
			      struct pm_error *err)
{
	_cleanup_close_ int fd = sb_workspace_open(canonical, err);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return pm_error_errno(err, "workspace", "stat `%s`", canonical);
	if ((unsigned long long)st.st_dev != dev || (unsigned long long)st.st_ino != ino) {
		pm_error_set(err, "workspace", ESTALE,
			     "workspace `%s` is no longer the directory "
			     "that was checked (it was moved or replaced meanwhile); nothing was "
			     "mounted",
			     canonical);
		return pm_error_hint(err, "something renamed the directory while the job was "
					  "starting; try again");
	}
	return TAKE_FD(fd);
}
