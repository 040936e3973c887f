/* File descriptors: nothing the launcher inherited may reach the script
 * (CVE-2024-21626 was a leaked host directory fd). */
#ifndef SB_FDS_H
#define SB_FDS_H

#include <stddef.h>

#include "error.h"

/* Closes every fd >= 3 except those in keep[] (which must be sorted). */
int sb_fds_close_except(const int *keep, size_t n, struct pm_error *err);

/* Marks every fd >= 3 close-on-exec, so exec itself closes them; used last,
 * when the status pipe must stay open until the exec succeeds. */
int sb_fds_cloexec_all(struct pm_error *err);

/* Clears close-on-exec on fd (when >= 0): the one descriptor a script
 * inherits on purpose. */
int sb_fds_inherit(int fd, struct pm_error *err);

/* Moves fd to `target` (dup2, closing the old one unless equal). */
int sb_fds_move(int fd, int target, struct pm_error *err);

#endif
