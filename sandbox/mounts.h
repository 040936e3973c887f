/* Mount namespace: a tmpfs root holding read-only binds of the system
 * directories the policy lists, the workspace read-write, a fresh /proc, a
 * minimal /dev and a size-limited /tmp; then pivot_root, and the old root
 * is detached so nothing of the host stays reachable. */
#ifndef SB_MOUNTS_H
#define SB_MOUNTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "policy.h"

struct sb_mount_plan {
	const struct sb_policy *policy;
	bool block_nested_userns; /* write max_user_namespaces=0 while /proc is at hand */
	bool nested_userns_optional;
	bool *nested_userns_degraded; /* set when the optional write failed */
};

/* Runs in the sandbox's init, inside the new user and mount namespaces, before
 * the job is known: builds the new root (everything but the workspace) and
 * returns an O_PATH fd of it.  Host paths other than /dev stay reachable, so
 * that a workspace can still be opened by path afterwards. */
int sb_mounts_prepare(const struct sb_mount_plan *plan, struct pm_error *err);

/* Attaches the workspace at its target (its tree from the launcher, or
 * opened here by path without following symlinks) and the job's
 * read-only binds, writes the job's files into the sandbox's /tmp and
 * /etc/passwd and friends, pivots into the new root and detaches the old
 * one.  On success the process's root is the new root and its cwd is "/". */
struct sb_packed_job;
int sb_mounts_finish(int rootfd, const struct sb_policy *policy, const struct sb_packed_job *job,
		     const int *trees, uid_t uid, gid_t gid, struct pm_error *err);

/* Detached read-only clone of the directory `source` for a bind (not
 * recursive; nosuid, nodev).  Runs in the launcher (a root launcher may
 * reach what the sandbox's own uid may not) or in init. */
int sb_mounts_bind_tree(const char *source, struct pm_error *err);

/* Detached clone of `fd` (an O_PATH directory) for the workspace, id-mapped
 * through `userns_fd` when it is >= 0.  Runs in the launcher (the id mapping
 * needs root) or in init. */
int sb_mounts_workspace_tree(int fd, int userns_fd, bool readonly, struct pm_error *err);

#endif
