#include "fds.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

static int close_range_(unsigned first, unsigned last, unsigned flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

int sb_fds_close_except(const int *keep, size_t n, struct pm_error *err)
{
	unsigned first = 3;

	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)first)
			continue;
		if ((unsigned)keep[i] > first && close_range_(first, (unsigned)keep[i] - 1, 0) < 0)
			return pm_error_errno(err, "fds", "close inherited descriptors");
		first = (unsigned)keep[i] + 1;
	}
	if (close_range_(first, ~0U, 0) < 0)
		return pm_error_errno(err, "fds", "close inherited descriptors");
	return 0;
}

int sb_fds_cloexec_all(struct pm_error *err)
{
	if (close_range_(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return pm_error_errno(err, "fds", "mark descriptors close-on-exec");
	return 0;
}

int sb_fds_inherit(int fd, struct pm_error *err)
{
	if (fd >= 0 && fcntl(fd, F_SETFD, 0) < 0)
		return pm_error_errno(err, "fds", "let descriptor %d be inherited", fd);
	return 0;
}

int sb_fds_move(int fd, int target, struct pm_error *err)
{
	if (fd == target)
		return 0;
	if (dup2(fd, target) < 0)
		return pm_error_errno(err, "fds", "dup2(%d, %d)", fd, target);
	close(fd);
	return 0;
}
