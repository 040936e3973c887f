/* What the mount steps share (mounts.c, mounts_dev.c, mounts_proc.c,
 * mounts_etc.c); not for the rest of the launcher. */
#ifndef SB_MOUNTS_INTERNAL_H
#define SB_MOUNTS_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "mounts.h"
#include "policy.h"

/* Where the new root is assembled, in our own mount namespace only.  It
 * hides what is below it until the pivot, so it must be a place no
 * workspace can be: /dev is protected by every sane policy, and its device
 * nodes are captured before it is covered. */
#define NEWROOT "/dev"

#define SB_MNT_DEV_NODES 5

/* Pseudo-terminals one sandbox may hold at once (devpts `max=`). */
#define SB_MNT_PTS_MAX "64"

/* Opens `path` below the new root, resolved as if the new root were "/". */
int sb_mnt_open_in_root(int rootfd, const char *path, int flags, struct pm_error *err);

/* mkdir -p of `path` below the new root (the leaf a file when
 * leaf_is_file); returns an O_PATH fd of it. */
int sb_mnt_make_target(int rootfd, const char *path, bool leaf_is_file, struct pm_error *err);

/* Attaches a detached mount at `target` below the new root. */
int sb_mnt_attach(int rootfd, int tree_fd, const char *target, bool is_dir, struct pm_error *err);

/* mount(2) of a pseudo filesystem at a path under NEWROOT, with hints. */
int sb_mnt_mount_fs(const char *type, const char *where, unsigned long flags, const char *data,
		    struct pm_error *err);

int sb_mnt_capture_dev_nodes(int *trees, struct pm_error *err);
/* The name in /dev of node i of the launcher's own ("null", ...). */
const char *sb_mnt_dev_node_name(size_t i);
/* A private /dev with the launcher's nodes, ptys and /dev/shm; the
 * policy's device mounts go in next, then sb_mnt_seal_dev() makes it
 * read-only, so nothing more can appear there. */
int sb_mnt_setup_dev(int rootfd, const struct sb_mount_plan *plan, const int *node_trees,
		     struct pm_error *err);
int sb_mnt_seal_dev(struct pm_error *err);
int sb_mnt_setup_proc(int rootfd, const struct sb_mount_plan *plan, struct pm_error *err);
/* For the "etc" entry `source` (/etc/A/NAME): an O_PATH fd of its
 * directory (/etc/A), reached without following any symbolic link, and in
 * *leaf its last component.  -ENOENT or -ENOTDIR when it is missing. */
int sb_mnt_open_etc_parent(const char *source, const char **leaf, struct pm_error *err);
int sb_mnt_populate_etc(int rootfd, const struct sb_policy *policy, const char *workspace,
			uid_t uid, gid_t gid, struct pm_error *err);

#endif
