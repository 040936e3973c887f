/* A sandbox's life, as a checklist.
 *
 * Prepare (nothing job-specific): build the seccomp filter, create the
 * cgroups, clone init into new namespaces, write its id maps, move it into
 * the cgroups; init builds the new root meanwhile and reports ready.
 * Run: check the workspace, build the environment, start the user-mode
 * network helper when the policy has one, hand init the job (and, for a
 * root launcher, an id-mapped workspace mount), supervise, report.
 *
 * The command line does both at once; --spec-fd prepares first and runs
 * the job when it arrives, which takes the set-up off the job's path. */
#ifndef SB_LAUNCH_H
#define SB_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "disk_watch.h"
#include "fence.h"
#include "hostaddrs.h"
#include "job.h"
#include "policy.h"
#include "seccomp_bpf.h"
#include "status.h"
#include "usernet.h"
#include "userns.h"

struct sb_sandbox {
	const struct sb_policy *policy;
	int status_fd;
	bool privileged; /* the launcher runs as root */
	struct sb_idmap map;
	struct sb_bpf bpf; /* the policy's seccomp filter, compiled */
	struct sb_cgroup cg;
	char degraded[512]; /* optional layers that are missing */
	int sync[2], report[2], job[2], out[2], err[2];
	int progress[2];	/* the script's progress reports (progress.h) */
	int progress_script_fd; /* the write end's number in the sandbox */
	int pidfd;
	pid_t pid;  /* init, until reaped */
	bool ready; /* init reported ready */
	/* Where a workspace may be: the policy's roots, its protected
	 * paths, the launcher itself and the policy file; the job's own
	 * protected paths are added when it arrives. */
	struct pm_fence fence;
	/* Measures a host workspace the policy limits (disk_watch.h). */
	struct sb_disk_watch *disk;
	/* A "user" network: what it must not reach, the namespaces the
	 * helper joins (opened while init is still ours to open), and the
	 * helper once started. */
	struct sb_hostaddrs host_addrs;
	int userns_fd, netns_fd;
	struct sb_usernet usernet;
};

/* cache_dir (may be NULL): where compiled seccomp programs are kept. */
int sb_sandbox_prepare(struct sb_sandbox *sb, const struct sb_policy *policy, int status_fd,
		       const char *cache_dir, struct pm_error *err);

/* Waits until init reports ready (for --spec-fd: the caller then says so). */
int sb_sandbox_wait_ready(struct sb_sandbox *sb, struct pm_error *err);

/* Runs the job.  Returns 0 when it ran (res says how it ended) and a
 * negative errno when it could not start (err says why).  Either way the
 * outcome has been sent on the status channel. */
int sb_sandbox_run(struct sb_sandbox *sb, const struct sb_job *job, struct sb_result *res,
		   struct pm_error *err);

/* Kills whatever is left and frees everything. */
void sb_sandbox_release(struct sb_sandbox *sb);

#endif
