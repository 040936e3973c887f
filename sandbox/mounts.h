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
	const char *workspace;     /* canonical host path, also its path inside */
	int workspace_tree_fd;     /* detached (id-mapped) tree from the parent, or -1 */
	uid_t uid;                 /* inside ids, for the generated /etc/passwd */
	gid_t gid;
	bool block_nested_userns;  /* write max_user_namespaces=0 while /proc is at hand */
	bool nested_userns_optional;
	bool *nested_userns_degraded; /* set when the optional write failed */
};

/* Runs in the sandbox's init, inside the new user and mount namespaces.
 * On success the process's root is the new root and its cwd is "/". */
int sb_mounts_setup(const struct sb_mount_plan *plan, struct sb_error *err);

/* Detached clone of `fd` (an O_PATH directory) for the workspace, id-mapped
 * through `userns_fd` when it is >= 0.  Runs in the parent (needs root for
 * the id mapping). */
int sb_mounts_workspace_tree(int fd, int userns_fd, bool readonly, struct sb_error *err);

#endif
