/* Shared by tools_jobs.c, tools_jobs_cancel.c and tools_jobs_schema.c. */
#ifndef PYMCP_TOOLS_JOBS_INTERNAL_H
#define PYMCP_TOOLS_JOBS_INTERNAL_H

#include "tools_jobs.h"

struct cancel_wait;

struct tools_jobs {
	struct jobs *jobs;
	size_t inline_bytes;
	size_t resource_bytes;
	tools_jobs_cancel_fn cancel;
	void *cancel_data;
	int (*prune_envs)(double max_age_seconds, unsigned *removed, void *data,
			  struct sb_error *err);
	void *prune_envs_data;
	struct cancel_wait *waits; /* cancellations the runner is carrying out */
};

/* tools_jobs.c: the job, or NULL once the call has failed with "Job <id>
 * not found" (the id cut to a sane length) and what to do. */
struct job *tools_jobs_find(struct tools_jobs *tj, struct mcp_call *call, const char *id);

/* tools_jobs_cancel.c */
void tools_jobs_cancel_call(struct mcp_call *call, json_t *args, void *ctx);
/* At close: the calls of cancellations still in progress are answered
 * with an error; their records stay allocated for the runner's done
 * callback, which then only frees them. */
void tools_jobs_cancel_orphan(struct tools_jobs *tj);

/* tools_jobs_schema.c: input and output schemas (new references). */
json_t *schema_job_status_input(void);
json_t *schema_job_status_output(void);
json_t *schema_list_jobs_input(void);
json_t *schema_list_jobs_output(void);
json_t *schema_cancel_job_input(void);
json_t *schema_cancel_job_output(void);
json_t *schema_prune_jobs_input(void);
json_t *schema_prune_jobs_output(void);

#endif
