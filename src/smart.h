/* Smart async: an execution tool answers inline when its job ends within
 * the smart timeout (SMART_ASYNC_TIMEOUT_SECONDS, 20 s by default), and
 * otherwise answers with the job's id while the job goes on untouched.
 * The timeout only decides when to answer; timeout_seconds is what kills. */
#ifndef PYMCP_SMART_H
#define PYMCP_SMART_H

#include <jansson.h>
#include <uv.h>

#include "jobs.h"
#include "mcp.h"

struct smart;
struct runner;

struct smart *smart_new(uv_loop_t *loop, struct runner *runner, struct jobs *jobs,
			double budget_seconds);
void smart_free(struct smart *s);

/* Stops every wait without answering (the transport is gone). */
void smart_stop(struct smart *s);

/* Answers `call` with the job's outcome if it ends within the budget, else
 * with {"job_id", "status": "running", "message"} when the budget runs out.
 * If the client cancels the request meanwhile, the job is cancelled. */
void smart_wait(struct smart *s, struct mcp_call *call, struct job *j);

/* The job ended: answers everyone waiting for it. */
void smart_job_ended(struct smart *s, struct job *j);

/* The answer for an ended job: its result, or isError with its error. */
void smart_reply_final(struct smart *s, struct mcp_call *call, const struct job *j);

#endif
