/* The sandbox's /proc: a fresh procfs of its pid namespace, hiding what
 * the script may not ptrace (init among it) and, by default, everything
 * but the processes (subset=pid). */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "mounts_internal.h"
#include "userns.h"

int sb_mnt_setup_proc(int rootfd, const struct sb_mount_plan *plan, struct pm_error *err)
{
	int r;

	if (mkdirat(rootfd, "proc", 0555) < 0)
		return pm_error_errno(err, "mount", "create `/proc`");
	/* A full procfs first: the nested-userns limit lives in /proc/sys,
	 * which subset=pid hides.  The write applies to our own namespace. */
	if ((r = sb_mnt_mount_fs("proc", NEWROOT "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
				 err)) < 0)
		return r;
	if (plan->block_nested_userns) {
		struct pm_error sub = {0};
		r = sb_userns_block_nested(NEWROOT "/proc", &sub);
		if (r < 0 && !plan->nested_userns_optional) {
			*err = sub;
			return r;
		}
		if (r < 0)
			*plan->nested_userns_degraded = true;
	}
	/* The final /proc hides processes the script may not ptrace: init
	 * (non-dumpable) and its command line, the launcher's argv, among
	 * them. */
	if (umount2(NEWROOT "/proc", MNT_DETACH) < 0)
		return pm_error_errno(err, "mount", "unmount the temporary `/proc`");
	return sb_mnt_mount_fs("proc", NEWROOT "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			       plan->policy->proc_subset_pid ? "subset=pid,hidepid=invisible"
							     : "hidepid=invisible",
			       err);
}
