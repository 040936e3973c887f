/* The filter of a policy with "subprocesses": false, stacked on the
 * profile's: a process can start threads but no other process.  A filter
 * of its own rather than rules added to the profile, because the kernel
 * applies the strictest answer of all filters: nothing in the profile can
 * undo it, and no rule of the profile conflicts with it. */
#ifndef SB_SECCOMP_NOFORK_H
#define SB_SECCOMP_NOFORK_H

#include "error.h"

/* Installs it on the calling thread (no_new_privs must be set): fork,
 * vfork and clone without CLONE_THREAD fail with EPERM; clone3 with
 * ENOSYS, so that libc falls back to clone, whose flags a filter can see. */
int sb_seccomp_load_no_fork(struct pm_error *err);

#endif
