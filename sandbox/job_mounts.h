/* What a job brings into a prepared sandbox: its workspace, opened once
 * and checked on the descriptor against the fence, id-mapped for a root
 * launcher; and its read-only binds, checked against the policy's mounts
 * and protected paths. */
#ifndef SB_JOB_MOUNTS_H
#define SB_JOB_MOUNTS_H

#include "error.h"
#include "job.h"
#include "launch.h"
#include "policy.h"

/* The workspace target `inside` and the job's binds against the policy:
 * nothing over the kernel's trees, /etc, a policy mount or each other; a
 * bind source is a real path holding no protected path. */
int sb_job_check_binds(const struct sb_policy *p, const char *inside, const struct sb_job *job,
		       struct pm_error *err);

/* A root launcher's clones of the binds' trees into trees[] (in job
 * order); nothing for an unprivileged one. */
int sb_job_bind_trees(const struct sb_sandbox *sb, const struct sb_job *job, int *trees,
		      struct pm_error *err);

/* The workspace's id-mapped tree for a root launcher, or *tree -1 when
 * init mounts it by path. */
int sb_job_workspace_tree(const struct sb_sandbox *sb, int ws_fd, const char *path, int *tree,
			  struct pm_error *err);

/* The workspace opened once (the server's descriptor or the spec's path)
 * and checked against the fence: *fd and its real path. */
int sb_job_open_workspace(struct sb_sandbox *sb, const struct sb_job *job, int *fd, char **real,
			  struct pm_error *err);

#endif
