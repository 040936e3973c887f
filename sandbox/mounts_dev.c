/* The sandbox's /dev: a small tmpfs holding binds of the host's null,
 * zero, full, random and urandom, the usual links into /proc, a private
 * devpts instance for pseudo-terminals and a size-limited /dev/shm;
 * read-only once populated. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "mounts_internal.h"

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom"};
_Static_assert(sizeof(dev_nodes) / sizeof(*dev_nodes) == SB_MNT_DEV_NODES,
	       "SB_MNT_DEV_NODES counts dev_nodes");

const char *sb_mnt_dev_node_name(size_t i)
{
	return dev_nodes[i];
}

int sb_mnt_capture_dev_nodes(int *trees, struct pm_error *err)
{
	for (size_t i = 0; i < SB_MNT_DEV_NODES; i++) {
		char host[32];
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		trees[i] = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (trees[i] < 0)
			return pm_error_errno(err, "mount", "clone mount of `%s`", host);
	}
	return 0;
}

/* A new devpts instance of the sandbox's own: the host's terminals are not
 * in it, a terminal made here is seen nowhere else, and `max` bounds how
 * many of the kernel's (kernel.pty.max, shared by every instance but the
 * host's reserve) one sandbox can hold.  No gid=: the tty group is not
 * mapped in the user namespace.  TIOCSTI and TIOCLINUX stay refused by
 * the seccomp filter on these terminals too. */
static int setup_pts(int rootfd, struct pm_error *err)
{
	int r;

	if (mkdirat(rootfd, "dev/pts", 0755) < 0)
		return pm_error_errno(err, "mount", "create `/dev/pts`");
	r = sb_mnt_mount_fs("devpts", NEWROOT "/dev/pts", MS_NOSUID | MS_NOEXEC,
			    "newinstance,ptmxmode=0666,mode=0620,max=" SB_MNT_PTS_MAX, err);
	if (r < 0)
		return r;
	if (symlinkat("pts/ptmx", rootfd, "dev/ptmx") < 0)
		return pm_error_errno(err, "mount", "symlink `/dev/ptmx`");
	return 0;
}

int sb_mnt_setup_dev(int rootfd, const struct sb_mount_plan *plan, const int *node_trees,
		     struct pm_error *err)
{
	static const char *const links[][2] = {{"fd", "/proc/self/fd"},
					       {"stdin", "/proc/self/fd/0"},
					       {"stdout", "/proc/self/fd/1"},
					       {"stderr", "/proc/self/fd/2"}};
	char where[PATH_MAX], opts[64];
	int r;

	if (mkdirat(rootfd, "dev", 0755) < 0)
		return pm_error_errno(err, "mount", "create `/dev`");
	/* nodev: the bound nodes below keep their own mount's flags. */
	if ((r = sb_mnt_mount_fs("tmpfs", NEWROOT "/dev", MS_NOSUID | MS_NOEXEC | MS_NODEV,
				 "mode=0755,size=64k,nr_inodes=64", err)) < 0)
		return r;
	for (size_t i = 0; i < SB_MNT_DEV_NODES; i++) {
		snprintf(where, sizeof(where), "/dev/%s", dev_nodes[i]);
		if ((r = sb_mnt_attach(rootfd, node_trees[i], where, false, err)) < 0)
			return r;
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++) {
		snprintf(where, sizeof(where), NEWROOT "/dev/%s", links[i][0]);
		if (symlink(links[i][1], where) < 0)
			return pm_error_errno(err, "mount", "symlink `/dev/%s`", links[i][0]);
	}
	if ((r = setup_pts(rootfd, err)) < 0)
		return r;
	if (mkdirat(rootfd, "dev/shm", 01777) < 0)
		return pm_error_errno(err, "mount", "create `/dev/shm`");
	snprintf(opts, sizeof(opts), "mode=1777,size=%lld",
		 (long long)plan->policy->shm_size_bytes);
	return sb_mnt_mount_fs("tmpfs", NEWROOT "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts,
			       err);
}

int sb_mnt_seal_dev(struct pm_error *err)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};

	if (mount_setattr(AT_FDCWD, NEWROOT "/dev", 0, &ro, sizeof(ro)) < 0)
		return pm_error_errno(err, "mount", "make `/dev` read-only");
	return 0;
}
