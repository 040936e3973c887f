/* User namespace: the script is never uid 0 of the host, also when the
 * launcher runs as root.  One id is mapped: the policy's inside uid/gid to
 * the launcher's own ids (unprivileged launcher) or to an unprivileged host
 * id chosen by launch.c (root launcher). */
#ifndef SB_USERNS_H
#define SB_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct sb_idmap {
	uid_t inside_uid, host_uid;
	gid_t inside_gid, host_gid;
};

/* Parent side: writes uid_map, setgroups and gid_map of `child`.  A
 * privileged parent leaves setgroups allowed, so the child can drop the
 * supplementary groups it inherited from root. */
int sb_userns_write_maps(pid_t child, const struct sb_idmap *map, bool privileged,
			 struct pm_error *err);

/* Child side: takes the inside ids while keeping the namespace's
 * capabilities for the rest of the setup. */
int sb_userns_become(const struct sb_idmap *map, bool drop_groups, struct pm_error *err);

/* Returns an fd of a fresh user namespace mapping one id `from` -> `to`,
 * for an id-mapped mount.  Needs root. */
int sb_userns_idmap_fd(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid,
		       struct pm_error *err);

/* Sets user.max_user_namespaces=0 for the sandbox's own namespace, so a
 * script cannot create nested ones even if a filter allowed it.  `proc` is
 * where a procfs of the sandbox's pid namespace is mounted. */
int sb_userns_block_nested(const char *proc, struct pm_error *err);

#endif
