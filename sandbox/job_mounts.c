#include "job_mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fence.h"
#include "mounts.h"
#include "paths.h"
#include "userns.h"

/* Where nothing of the job may be mounted: the kernel's trees, and the
 * files init writes itself (/etc) or the job's files go (/tmp, for the
 * workspace). */
static bool reserved(const char *target, bool workspace)
{
	static const char *const kernel[] = {"/proc", "/sys", "/dev", "/etc"};

	for (size_t i = 0; i < sizeof(kernel) / sizeof(*kernel); i++)
		if (pm_path_within(target, kernel[i]))
			return true;
	return workspace && pm_path_within(target, "/tmp");
}

/* Mount points are made in the sandbox's own root: a target in the
 * workspace or below a policy bind (which may be writable) would create
 * directories on the host.  A source may not hold what the policy keeps
 * from every sandbox. */
int sb_job_check_binds(const struct sb_policy *p, const char *inside, const struct sb_job *job,
		       struct pm_error *err)
{
	if (job->workspace_target && reserved(inside, true))
		return pm_error_set(
		    err, "spec", EINVAL,
		    "job spec: `workspace_target` `%s` lies in "
		    "/proc, /sys, /dev, /etc or /tmp, which the sandbox fills itself",
		    inside);
	for (size_t m = 0; job->workspace_target && m < p->n_mounts; m++)
		if (pm_path_overlaps(inside, p->mounts[m].target))
			return pm_error_set(err, "spec", EINVAL,
					    "job spec: `workspace_target` `%s` "
					    "overlaps the policy's mount `%s`",
					    inside, p->mounts[m].target);
	for (size_t i = 0; i < job->n_binds; i++) {
		const struct sb_job_bind *b = &job->binds[i];
		if (reserved(b->target, false) || pm_path_overlaps(b->target, inside))
			return pm_error_set(err, "spec", EINVAL,
					    "job spec: bind target `%s` overlaps "
					    "the workspace or lies in /proc, /sys, /dev or /etc",
					    b->target);
		for (size_t m = 0; m < p->n_mounts; m++)
			if (pm_path_within(b->target, p->mounts[m].target))
				return pm_error_set(err, "spec", EINVAL,
						    "job spec: bind target `%s` lies "
						    "in the policy's mount `%s`",
						    b->target, p->mounts[m].target);
		/* By its real path only: `/tmp/../root` must not pass for
		 * something below /tmp. */
		char real[PATH_MAX];
		if (realpath(b->source, real) == NULL || strcmp(real, b->source) != 0)
			return pm_error_set(err, "spec", EINVAL,
					    "job spec: bind source `%s` is not "
					    "the real path of an existing directory",
					    b->source);
		for (size_t k = 0; k < p->n_protected_paths; k++)
			if (pm_path_within(p->protected_paths[k], b->source))
				return pm_error_set(err, "spec", EINVAL,
						    "job spec: bind source `%s` holds "
						    "the protected path `%s`",
						    b->source, p->protected_paths[k]);
	}
	return 0;
}

/* A root launcher clones each bind's tree here: init runs as the
 * policy's unprivileged host uid, which may not reach the source (a state
 * directory below /root, say).  An unprivileged launcher leaves it to
 * init, which has the same access as the launcher. */
int sb_job_bind_trees(const struct sb_sandbox *sb, const struct sb_job *job, int *trees,
		      struct pm_error *err)
{
	for (size_t i = 0; sb->privileged && i < job->n_binds; i++)
		if ((trees[i] = sb_mounts_bind_tree(job->binds[i].source, err)) < 0)
			return trees[i];
	return 0;
}

/* The workspace's tree for a root launcher, id-mapped from its owner to
 * the sandbox's host ids; *tree stays -1 (init mounts it by path, and
 * checks it found this very inode) when it already belongs to them or
 * the launcher is unprivileged. */
int sb_job_workspace_tree(const struct sb_sandbox *sb, int ws_fd, const char *path, int *tree,
			  struct pm_error *err)
{
	const struct sb_policy *p = sb->policy;
	_cleanup_close_ int idmap = -1;
	struct stat st;

	*tree = -1;
	if (!sb->privileged)
		return 0;
	/* The owner of what was opened, not of what was checked. */
	if (fstat(ws_fd, &st) < 0)
		return pm_error_errno(err, "workspace", "stat `%s`", path);
	/* Already the sandbox's own: init mounts it by path, as for an
	 * unprivileged launcher (no mapping needed, and no CAP_SYS_ADMIN
	 * here, which a root launcher in a container lacks). */
	if (st.st_uid == sb->map.host_uid && st.st_gid == sb->map.host_gid)
		return 0;
	idmap = sb_userns_idmap_fd(st.st_uid, st.st_gid, sb->map.host_uid, sb->map.host_gid, err);
	if (idmap < 0)
		return idmap;
	int r = sb_mounts_workspace_tree(ws_fd, idmap, p->workspace_readonly, err);
	if (r >= 0)
		*tree = r;
	if (r == -EINVAL || r == -EPERM)
		pm_error_hint(err,
			      "%s; or chown the workspace to %u:%u (then it needs no "
			      "mapping), or run the launcher as a non-root user",
			      r == -EINVAL ? "this filesystem cannot do id-mapped mounts "
					     "(overlayfs, say): put workspaces on ext4, xfs, "
					     "btrfs or tmpfs"
					   : "id-mapped mounts need CAP_SYS_ADMIN, which a "
					     "container withholds",
			      sb->map.host_uid, sb->map.host_gid);
	return r < 0 ? r : 0;
}

/* The workspace, opened once: the descriptor the server sent, or the
 * path of the command line opened beneath the policy's root it names.
 * Either way it is checked against the fence (with the job's own
 * protected paths) on the descriptor, never by resolving a name again. */
int sb_job_open_workspace(struct sb_sandbox *sb, const struct sb_job *job, int *fd, char **real,
			  struct pm_error *err)
{
	_cleanup_free_ char *abs = NULL;
	int r;

	for (size_t i = 0; job->protect && job->protect[i]; i++)
		if ((r = pm_fence_add_guarded(&sb->fence, job->protect[i], err)) < 0)
			return r;
	if (job->workspace_fd >= 0) {
		if ((r = pm_fence_check_dir(&sb->fence, job->workspace_fd, false, "workspace", real,
					    err)) < 0)
			return r;
		*fd = fcntl(job->workspace_fd, F_DUPFD_CLOEXEC, 3);
		return *fd < 0 ? pm_error_errno(err, "workspace", "duplicate its descriptor") : 0;
	}
	if (job->workspace[0] != '/') {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    asprintf(&abs, "%s/%s", cwd, job->workspace) < 0)
			return pm_error_errno(err, "workspace", "workspace `%s`", job->workspace);
	}
	r = pm_fence_open_dir(&sb->fence, abs ? abs : job->workspace, false, "workspace", fd, real,
			      err);
	if (r == -ENOENT)
		pm_error_hint(err, "create the directory first");
	return r;
}
