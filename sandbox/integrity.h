/* What a root launcher runs and reads must not be writable by the ids its
 * scripts run as (THREATS.md S5): otherwise one job could replace the
 * launcher or its policy, and the next job would run the replacement as
 * root.  The workspace checks keep such files out of every sandbox; this
 * check makes sure the host's own permissions agree. */
#ifndef SB_INTEGRITY_H
#define SB_INTEGRITY_H

#include <stddef.h>

#include "error.h"
#include "policy.h"

/* For a launcher running as root: the launcher's own binary, the policy
 * file and each of `extra` (n entries), and every directory above them,
 * must not be writable by the policy's host_uid/host_gid.  An
 * unprivileged launcher runs scripts as its own user, whose files are its
 * own by definition: there the workspace checks are the whole guard, and
 * this returns 0. */
int sb_integrity_check(const struct sb_policy *p, char *const *extra, size_t n_extra,
		       struct pm_error *err);

/* The launcher's own binary (canonical, malloc'd), or NULL with err set. */
char *sb_self_exe(struct pm_error *err);

#endif
