/* Opening a canonical host path (a workspace that init mounts itself, a
 * bind source) without following any symlink on the way, so that a
 * component swapped for a symlink fails instead of leading elsewhere
 * (runc CVE-2021-30465).  Where the workspace may be is fence.h's
 * question; this is only the opening. */
#ifndef SB_WORKSPACE_H
#define SB_WORKSPACE_H

#include "error.h"

/* O_PATH descriptor of the canonical path, refusing symlinks anywhere in it. */
int sb_workspace_open(const char *canonical, struct pm_error *err);

/* The same, and it must be the very inode dev:ino that was checked
 * before (by the launcher, on the descriptor the server sent). */
int sb_workspace_open_checked(const char *canonical, unsigned long long dev, unsigned long long ino,
			      struct pm_error *err);

#endif
