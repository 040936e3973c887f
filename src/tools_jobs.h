/* The job tools of TOOLS.md (py_job_status, py_list_jobs, py_cancel_job,
 * py_prune_jobs) and the resource template job-stream://{job_id}, served
 * from the job table through the protocol layer. */
#ifndef PYMCP_TOOLS_JOBS_H
#define PYMCP_TOOLS_JOBS_H

#include <stddef.h>

#include "error.h"
#include "jobs.h"
#include "mcp.h"

#define TOOLS_JOBS_INLINE_DEFAULT   (64 * 1024)
#define TOOLS_JOBS_RESOURCE_DEFAULT (1024 * 1024)

/* The runner calls this once every process of the job is gone and the
 * job is marked (cancelled, or whatever final status it reached first).
 * `call` is the opaque value it was handed. */
typedef void (*tools_jobs_cancel_done_fn)(struct job *j, void *call);

/* Starts cancelling a pending or running job.  Returns 0 and later calls
 * done(j, call) exactly once (it may do so before returning), or returns
 * a negative errno with err filled and never calls done.  The tools call
 * it at most once per job at a time: concurrent py_cancel_job calls for
 * the same job wait for the same done. */
typedef int (*tools_jobs_cancel_fn)(struct job *j, tools_jobs_cancel_done_fn done, void *call,
				    void *data, struct sb_error *err);

struct tools_jobs_config {
	/* Cap on partial_* and new_* output returned inline by py_job_status
	 * (0: TOOLS_JOBS_INLINE_DEFAULT); the rest is named by a marker. */
	size_t inline_output_bytes;
	/* Cap per stream on what a job-stream:// read returns
	 * (0: TOOLS_JOBS_RESOURCE_DEFAULT). */
	size_t resource_output_bytes;
	/* The runner's cancellation; NULL (tests, no runner) marks the job
	 * cancelled at once. */
	tools_jobs_cancel_fn cancel;
	void *cancel_data;
	/* py_prune_jobs also prunes dependency environments not used for the
	 * same age; NULL: none. */
	int (*prune_envs)(double max_age_seconds, unsigned *removed, void *data,
			  struct sb_error *err);
	void *prune_envs_data;
};

/* Registers the four tools and the resource template.  Their state lives
 * as long as the table: jobs_close() frees it, so close the protocol layer
 * (mcp_server_stop) and the runner (which calls every outstanding done)
 * before the table. */
int tools_jobs_register(struct mcp_server *s, struct jobs *t, const struct tools_jobs_config *cfg,
			struct sb_error *err);

#endif
