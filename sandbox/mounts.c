#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "job.h"
#include "userns.h"
#include "paths.h"
#include "workspace.h"
#include "mounts_internal.h"

/* A bind source made ready before the new root hides the host's /tmp. */
struct prepared {
	int tree_fd; /* detached mount, or -1 */
	char *link;  /* host source is a symlink: recreate it with this target */
	bool is_dir;
};

static int set_attr(int fd, unsigned flags, uint64_t attrs, struct pm_error *err, const char *what)
{
	struct mount_attr attr = {.attr_set = attrs};

	if (mount_setattr(fd, "", AT_EMPTY_PATH | flags, &attr, sizeof(attr)) < 0)
		return pm_error_errno(err, "mount", "set flags of `%s`", what);
	return 0;
}

int sb_mounts_workspace_tree(int fd, int userns_fd, bool readonly, struct pm_error *err)
{
	_cleanup_close_ int tree = -1;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};

	/* Not recursive: mounts below the workspace are not part of it. */
	tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return pm_error_errno(err, "mount", "clone the workspace mount");
	if (readonly)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (userns_fd >= 0) {
		attr.attr_set |= MOUNT_ATTR_IDMAP;
		attr.userns_fd = (uint64_t)userns_fd;
	}
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		pm_error_errno(err, "mount", "set up the workspace mount%s",
			       userns_fd >= 0 ? " id-mapped" : "");

		return pm_error_code(err);
	}
	return TAKE_FD(tree);
}

static int prepare_bind(const struct sb_mount *m, struct prepared *out, struct pm_error *err)
{
	_cleanup_close_ int parent = -1;
	const char *name = m->source;
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

	out->tree_fd = -1;
	/* An "etc" entry is looked up from a directory reached without
	 * following links: a link in /etc leads nowhere beyond /etc. */
	if (m->etc_entry) {
		parent = sb_mnt_open_etc_parent(m->source, &name, err);
		if (m->optional && (parent == -ENOENT || parent == -ENOTDIR))
			return 0;
		if (parent < 0)
			return parent;
	}
	int at = m->etc_entry ? parent : AT_FDCWD;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT && m->optional)
			return 0;
		pm_error_errno(err, "mount", "bind source `%s`", m->source);
		if (errno == ENOENT)
			pm_error_hint(err,
				      "mark the mount \"optional\": true in the policy if this "
				      "host may lack it");
		return pm_error_code(err);
	}
	/* A link is recreated as a link: it resolves inside the sandbox,
	 * where only what the policy binds exists. */
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(at, name, target, sizeof(target) - 1);
		if (n < 0)
			return pm_error_errno(err, "mount", "readlink `%s`", m->source);
		target[n] = '\0';
		/* A device the policy asks for must be there as a device: a
		 * link alone would name a node the sandbox does not have. */
		if (m->device) {
			pm_error_set(err, "mount", ENODEV,
				     "device mount `%s` is a symbolic link (to `%s`), not a "
				     "character device",
				     m->source, target);
			pm_error_hint(err, "name the device node the link points to as the "
					   "mount's source");
			return pm_error_code(err);
		}
		out->link = strdup(target);
		return out->link ? 0 : pm_error_set(err, "mount", ENOMEM, "readlink");
	}
	/* No symlink following: a source swapped for a link after the stat
	 * fails instead of binding whatever the link names. */
	out->tree_fd = open_tree(
	    at, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	if (out->tree_fd < 0)
		return pm_error_errno(err, "mount", "clone mount of `%s`", m->source);
	if (fstat(out->tree_fd, &st) < 0)
		return pm_error_errno(err, "mount", "stat `%s`", m->source);
	out->is_dir = S_ISDIR(st.st_mode);
	if (m->device) {
		/* The admin asked for this node: it must be one, and then
		 * only it keeps working as a device. */
		if (!S_ISCHR(st.st_mode))
			return pm_error_set(err, "mount", ENODEV,
					    "device mount `%s` is not a character device",
					    m->source);
		attrs &= ~(uint64_t)MOUNT_ATTR_NODEV;
	}
	if (m->readonly)
		attrs |= MOUNT_ATTR_RDONLY;
	return set_attr(out->tree_fd, AT_RECURSIVE, attrs, err, m->source);
}

/* Opens `path` below the new root, resolving it as if the new root were
 * "/" (absolute symlinks we recreated must not lead to the host). */
int sb_mnt_open_in_root(int rootfd, const char *path, int flags, struct pm_error *err)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*path == '/')
		path++;
	fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
	if (fd < 0)
		return pm_error_errno(err, "mount", "open `/%s` in the new root", path);
	return fd;
}

/* mkdir -p of `path` below the new root; the last component is a file when
 * `leaf_is_file`.  Returns an O_PATH fd of it. */
int sb_mnt_make_target(int rootfd, const char *path, bool leaf_is_file, struct pm_error *err)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return pm_error_set(err, "mount", ENAMETOOLONG, "mount target `%s`", path);
	for (p = buf + 1;; p++) {
		bool last = (*p == '\0');
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (last && leaf_is_file) {
			_cleanup_close_ int dir = -1;
			char *slash = strrchr(buf, '/');
			*slash = '\0';
			dir = sb_mnt_open_in_root(rootfd, buf[0] ? buf : "/", O_PATH | O_DIRECTORY,
						  err);
			if (dir < 0)
				return dir;
			int fd = openat(dir, slash + 1, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
					0644);
			if (fd < 0 && errno != EISDIR)
				return pm_error_errno(err, "mount", "create mount point `%s`",
						      path);
			if (fd >= 0)
				close(fd);
			*slash = '/';
		} else if (buf[0] != '\0') {
			_cleanup_close_ int dir = -1;
			char *slash = strrchr(buf, '/');
			*slash = '\0';
			dir = sb_mnt_open_in_root(rootfd, buf[0] ? buf : "/", O_PATH | O_DIRECTORY,
						  err);
			*slash = '/';
			if (dir < 0)
				return dir;
			if (mkdirat(dir, slash + 1, 0755) < 0 && errno != EEXIST)
				return pm_error_errno(err, "mount", "create mount point `%s`", buf);
		}
		if (last)
			break;
		*p = '/';
	}
	return sb_mnt_open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, err);
}

int sb_mnt_attach(int rootfd, int tree_fd, const char *target, bool is_dir, struct pm_error *err)
{
	_cleanup_close_ int fd = sb_mnt_make_target(rootfd, target, !is_dir, err);

	if (fd < 0)
		return fd;
	if (move_mount(tree_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return pm_error_errno(err, "mount", "attach `%s`", target);
	return 0;
}

static int make_link(int rootfd, const char *target, const char *link, struct pm_error *err)
{
	_cleanup_close_ int dir = -1;
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", target);
	slash = strrchr(parent, '/');
	*slash = '\0';
	dir = parent[0] ? sb_mnt_make_target(rootfd, parent, false, err)
			: sb_mnt_open_in_root(rootfd, "/", O_PATH, err);
	if (dir < 0)
		return dir;
	if (symlinkat(link, dir, slash + 1) < 0 && errno != EEXIST)
		return pm_error_errno(err, "mount", "symlink `%s` -> `%s`", target, link);
	return 0;
}

int sb_mnt_mount_fs(const char *type, const char *where, unsigned long flags, const char *data,
		    struct pm_error *err)
{
	if (mount(type, where, type, flags, data) == 0)
		return 0;
	pm_error_errno(err, "mount", "mount %s on `%s`", type,
		       strcmp(where, NEWROOT) == 0 ? "/ (the new root)" : where + strlen(NEWROOT));
	if (strcmp(type, "proc") == 0 && (errno == EPERM || errno == EACCES))
		pm_error_hint(err,
			      "the host's /proc is partly masked (a container?); run the "
			      "container with `--security-opt systempaths=unconfined` (Docker, "
			      "Podman) or `--security-opt unmask=ALL` (Podman)");
	return pm_error_code(err);
}

static int pivot(int rootfd, struct pm_error *err)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};

	if (fchdir(rootfd) < 0)
		return pm_error_errno(err, "pivot_root", "chdir to the new root");
	/* pivot_root(".", ".") stacks the old root on top of the new one;
	 * detaching "." then removes the old root from this namespace. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return pm_error_errno(err, "pivot_root", "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return pm_error_errno(err, "pivot_root", "detach the old root");
	if (chdir("/") < 0)
		return pm_error_errno(err, "pivot_root", "chdir /");
	if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		return pm_error_errno(err, "pivot_root", "make the new root read-only");
	return 0;
}

static void release(struct prepared *prep, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (prep[i].tree_fd >= 0)
			close(prep[i].tree_fd);
		free(prep[i].link);
	}
	free(prep);
}

static int check_target(const struct sb_mount *m, struct pm_error *err)
{
	static const char *const reserved[] = {"/proc", "/dev", "/etc/passwd", "/etc/group"};
	const char *target = m->target;

	/* A device node goes in /dev, beside the launcher's own, but not
	 * over them or into the ptys and shared memory. */
	if (m->device && !pm_path_within(target, "/dev/shm") &&
	    !pm_path_within(target, "/dev/pts")) {
		for (size_t i = 0; i < SB_MNT_DEV_NODES; i++)
			if (strcmp(target + 5, sb_mnt_dev_node_name(i)) == 0)
				return pm_error_set(err, "mount", EINVAL,
						    "device mount `%s` would cover the launcher's "
						    "own node",
						    target);
		return 0;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (pm_path_within(target, reserved[i]))
			return pm_error_set(err, "mount", EINVAL,
					    "mount target `%s` lies in `%s`, which the launcher "
					    "sets up itself",
					    target, reserved[i]);
	return 0;
}

static int mount_policy_entries(int rootfd, const struct sb_policy *p, struct prepared *prep,
				struct pm_error *err)
{
	char opts[64];
	int r = 0;

	for (size_t i = 0; i < p->n_mounts && r == 0; i++) {
		const struct sb_mount *m = &p->mounts[i];
		if (m->type == SB_MOUNT_TMPFS) {
			_cleanup_close_ int fd = sb_mnt_make_target(rootfd, m->target, false, err);
			char where[PATH_MAX];
			if (fd < 0)
				return fd;
			snprintf(where, sizeof(where), "/proc/self/fd/%d", fd);
			snprintf(opts, sizeof(opts), "mode=1777,size=%lld",
				 (long long)m->size_bytes);
			if (mount("tmpfs", where, "tmpfs",
				  MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0), opts) < 0)
				r = pm_error_errno(err, "mount", "mount tmpfs on `%s`", m->target);
		} else if (prep[i].link != NULL) {
			r = make_link(rootfd, m->target, prep[i].link, err);
		} else if (prep[i].tree_fd >= 0 && !m->device) {
			r = sb_mnt_attach(rootfd, prep[i].tree_fd, m->target, prep[i].is_dir, err);
		}
	}
	return r;
}

/* The policy's device nodes, into /dev before it is sealed read-only. */
static int mount_devices(int rootfd, const struct sb_policy *p, struct prepared *prep,
			 struct pm_error *err)
{
	int r = 0;

	for (size_t i = 0; i < p->n_mounts && r == 0; i++)
		if (p->mounts[i].device && prep[i].tree_fd >= 0)
			r = sb_mnt_attach(rootfd, prep[i].tree_fd, p->mounts[i].target, false, err);
	return r < 0 ? r : sb_mnt_seal_dev(err);
}

int sb_mounts_prepare(const struct sb_mount_plan *plan, struct pm_error *err)
{
	const struct sb_policy *p = plan->policy;
	struct prepared *prep = calloc(p->n_mounts + 1, sizeof(*prep));
	int node_trees[SB_MNT_DEV_NODES];
	_cleanup_close_ int rootfd = -1;
	char opts[64];
	int r = 0;

	for (size_t i = 0; i < SB_MNT_DEV_NODES; i++)
		node_trees[i] = -1;
	if (prep == NULL)
		return pm_error_set(err, "mount", ENOMEM, "prepare mounts");
	for (size_t i = 0; i <= p->n_mounts; i++)
		prep[i].tree_fd = -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		r = pm_error_errno(err, "mount", "make `/` private");
		goto out;
	}
	/* Every host path the root needs is captured as a detached mount
	 * before NEWROOT is covered. */
	for (size_t i = 0; i < p->n_mounts && r == 0; i++) {
		if ((r = check_target(&p->mounts[i], err)) < 0)
			break;
		if (p->mounts[i].type == SB_MOUNT_BIND)
			r = prepare_bind(&p->mounts[i], &prep[i], err);
	}
	if (r < 0 || (r = sb_mnt_capture_dev_nodes(node_trees, err)) < 0)
		goto out;

	if ((r = sb_mnt_mount_fs("tmpfs", NEWROOT, MS_NOSUID | MS_NODEV, "mode=0755,size=1m",
				 err)) < 0)
		goto out;
	rootfd = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		r = pm_error_errno(err, "mount", "open the new root");
		goto out;
	}
	if ((r = sb_mnt_setup_proc(rootfd, plan, err)) < 0 ||
	    (r = sb_mnt_setup_dev(rootfd, plan, node_trees, err)) < 0 ||
	    (r = mount_devices(rootfd, p, prep, err)) < 0)
		goto out;
	if (mkdirat(rootfd, "tmp", 01777) < 0) {
		r = pm_error_errno(err, "mount", "create `/tmp`");
		goto out;
	}
	snprintf(opts, sizeof(opts), "mode=1777,size=%lld", (long long)p->tmp_size_bytes);
	if ((r = sb_mnt_mount_fs("tmpfs", NEWROOT "/tmp", MS_NOSUID | MS_NODEV, opts, err)) < 0)
		goto out;
	r = mount_policy_entries(rootfd, p, prep, err);
out:
	for (size_t i = 0; i < SB_MNT_DEV_NODES; i++)
		if (node_trees[i] >= 0)
			close(node_trees[i]);
	release(prep, p->n_mounts + 1);
	return r < 0 ? r : TAKE_FD(rootfd);
}

/* Writes the job's files (inline code) below the sandbox's /tmp, which
 * is a private tmpfs: nothing reaches the host. */
static int write_job_files(int rootfd, const struct sb_job_file *files, size_t n,
			   struct pm_error *err)
{
	for (size_t i = 0; i < n; i++) {
		char parent[PATH_MAX];
		_cleanup_close_ int dir = -1, fd = -1;
		const char *base;
		char *slash;

		snprintf(parent, sizeof(parent), "%s", files[i].path);
		slash = strrchr(parent, '/');
		*slash = '\0';
		base = files[i].path + (slash - parent) + 1;
		dir = sb_mnt_make_target(rootfd, parent, false, err);
		if (dir < 0)
			return dir;
		fd = openat(dir, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return pm_error_errno(err, "files", "create `%s`", files[i].path);
		int r = pm_write_all(fd, files[i].data, files[i].len);
		if (r < 0)
			return pm_error_set(err, "files", -r, "write `%s`", files[i].path);
	}
	return 0;
}

int sb_mounts_bind_tree(const char *source, struct pm_error *err)
{
	/* Canonical paths only, opened without following a link that a
	 * process of the host might swap in. */
	_cleanup_close_ int fd = sb_workspace_open(source, err);

	if (fd < 0) {
		pm_error_wrap(err, "bind source");
		return pm_error_hint(err, "a bind's source must be an existing directory, named "
					  "by its real path");
	}
	return sb_mounts_workspace_tree(fd, -1, true, err);
}

/* A scratch workspace: a fresh tmpfs inside the sandbox, never on the
 * host.  Its size and inode count are the policy's workspace limits, so
 * the kernel refuses what goes past them (ENOSPC), and its pages are
 * charged to the job's memory cgroup. */
static int mount_scratch(int rootfd, const struct sb_policy *policy, const char *target, uid_t uid,
			 gid_t gid, struct pm_error *err)
{
	_cleanup_close_ int fd = sb_mnt_make_target(rootfd, target, false, err);
	char where[64], opts[160];
	int64_t bytes = policy->workspace_max_bytes != SB_UNSET ? policy->workspace_max_bytes
								: policy->tmp_size_bytes;
	int n;

	if (fd < 0)
		return fd;
	snprintf(where, sizeof(where), "/proc/self/fd/%d", fd);
	n = snprintf(opts, sizeof(opts), "mode=0700,uid=%u,gid=%u,size=%lld", (unsigned)uid,
		     (unsigned)gid, (long long)bytes);
	if (policy->workspace_max_inodes != SB_UNSET)
		snprintf(opts + n, sizeof(opts) - (size_t)n, ",nr_inodes=%lld",
			 (long long)policy->workspace_max_inodes);
	if (mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return pm_error_errno(err, "mount", "mount the scratch workspace on `%s`", target);
	return 0;
}

/* trees: the workspace's tree first when the launcher sent it, then one
 * per bind when it sent those; what was not sent is cloned here. */
int sb_mounts_finish(int rootfd, const struct sb_policy *policy, const struct sb_packed_job *job,
		     const int *trees, uid_t uid, gid_t gid, struct pm_error *err)
{
	_cleanup_close_ int own_tree = -1;
	size_t next = 0;
	int ws_tree = -1, r;

	if (job->scratch) {
		if ((r = mount_scratch(rootfd, policy, job->workspace_target, uid, gid, err)) < 0)
			return r;
	} else if (job->ws_tree_sent) {
		ws_tree = trees[next++];
	} else {
		/* By path, as the launcher's user: it must find the very
		 * directory the launcher checked, or a rename meanwhile
		 * would mount something else. */
		_cleanup_close_ int ws =
		    sb_workspace_open_checked(job->workspace, job->ws_dev, job->ws_ino, err);
		if (ws < 0)
			return ws;
		own_tree = sb_mounts_workspace_tree(ws, -1, policy->workspace_readonly, err);
		if (own_tree < 0)
			return own_tree;
		ws_tree = own_tree;
	}
	if (ws_tree >= 0 &&
	    (r = sb_mnt_attach(rootfd, ws_tree, job->workspace_target, true, err)) < 0)
		return r;
	for (size_t i = 0; i < job->n_binds; i++) {
		_cleanup_close_ int own = -1;
		int tree = job->bind_trees_sent ? trees[next++] : -1;
		if (tree < 0 && (tree = own = sb_mounts_bind_tree(job->binds[i].source, err)) < 0)
			return tree;
		if ((r = sb_mnt_attach(rootfd, tree, job->binds[i].target, true, err)) < 0)
			return r;
	}
	if ((r = write_job_files(rootfd, job->files, job->n_files, err)) < 0)
		return r;
	if ((r = sb_mnt_populate_etc(rootfd, policy, job->workspace_target, uid, gid, err)) < 0)
		return r;
	return pivot(rootfd, err);
}
