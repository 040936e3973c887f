/* py_cancel_job.  The runner kills asynchronously (a sandbox takes a
 * moment to die), and the tool answers only once every process of the job
 * is gone, so each cancellation in progress is a wait record holding the
 * calls to answer.  Calls for a job already being cancelled join its
 * record: the runner is asked once per job, and it alone sets the job's
 * final status. */
#include "tools_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct cancel_wait {
	LIST_ENTRY(cancel_wait) link; /* tools->waits while t is set */
	struct tools *t;	      /* NULL once the tools are gone: only free */
	struct job *job;
	struct tool_call **calls;
	size_t ncalls;
};

static int add_call(struct cancel_wait *w, struct tool_call *call)
{
	struct tool_call **calls = realloc(w->calls, (w->ncalls + 1) * sizeof(*calls));

	if (calls == NULL)
		return -ENOMEM;
	w->calls = calls;
	w->calls[w->ncalls++] = call;
	return 0;
}

/* The protocol layer gives up on a call (the client cancelled the request,
 * or the server is being freed): it must not be answered any more.  The
 * job's cancellation itself goes on. */
static void on_call_gone(struct tool_call *call, void *data)
{
	struct cancel_wait *w = data;

	for (size_t i = 0; i < w->ncalls; i++) {
		if (w->calls[i] == call) {
			w->calls[i] = w->calls[--w->ncalls];
			return;
		}
	}
}

static void unlink_wait(struct cancel_wait *w)
{
	if (w->t == NULL)
		return;
	LIST_REMOVE(w, link);
	w->t = NULL;
}

static void free_wait(struct cancel_wait *w)
{
	free(w->calls);
	free(w);
}

static void reply(struct tool_call *call, const struct job *j)
{
	tool_on_cancel(call, NULL, NULL);
	if (j->status == JOB_CANCELLED)
		tool_reply_new(call,
			       json_pack("{s:s,s:s,s:s}", "job_id", j->id, "status", "cancelled",
					 "message", "Job cancelled"),
			       false);
	else /* it ended by itself before the kill landed */
		tool_fail(call, "Job %s is not running (status: %s)", j->id,
			  job_status_name(j->status));
}

static void on_cancelled(struct job *j, void *data)
{
	struct cancel_wait *w = data;

	/* After tools_free() neither the job nor the calls may be touched. */
	if (w->t != NULL) {
		unlink_wait(w);
		for (size_t i = 0; i < w->ncalls; i++)
			reply(w->calls[i], j);
	}
	free_wait(w);
}

static struct cancel_wait *find_wait(struct tools *t, const struct job *j)
{
	struct cancel_wait *w;

	LIST_FOREACH (w, &t->waits, link)
		if (w->job == j)
			return w;
	return NULL;
}

static void cancel_job(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	struct cancel_wait *w;
	struct pm_error err;
	struct job *j;

	if ((j = tools_find_job(t, call, tool_str(a, "job_id"))) == NULL)
		return;
	if (job_status_is_final(j->status)) {
		tool_fail(call, "Job %s is not running (status: %s)", j->id,
			  job_status_name(j->status));
		return;
	}
	w = find_wait(t, j);
	if (w != NULL) {
		if (add_call(w, call) < 0)
			tool_fail(call, "Cannot cancel job %s: out of memory", j->id);
		else
			tool_on_cancel(call, on_call_gone, w);
		return;
	}
	if (t->cfg.cancel == NULL) {
		tool_fail(call, "Cannot cancel job %s: this server has no runner", j->id);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL || add_call(w, call) < 0) {
		free(w);
		tool_fail(call, "Cannot cancel job %s: out of memory", j->id);
		return;
	}
	w->t = t;
	w->job = j;
	LIST_INSERT_HEAD(&t->waits, w, link);
	tool_on_cancel(call, on_call_gone, w);
	/* done may run before the hook returns; w is not touched after a
	 * successful call. */
	if (t->cfg.cancel(j, on_cancelled, w, t->cfg.cancel_data, &err) < 0) {
		bool answer = w->ncalls > 0; /* not if the client gave up already */

		unlink_wait(w);
		free_wait(w);
		if (answer) {
			tool_on_cancel(call, NULL, NULL);
			tool_fail(call, "Cannot cancel job %s: %s", j->id, err.message);
		}
	}
}

void tools_cancel_orphan(struct tools *t)
{
	while (!LIST_EMPTY(&t->waits)) {
		struct cancel_wait *w = LIST_FIRST(&t->waits);

		/* Answered now, while the calls are known to be alive: after
		 * this nothing may look at them (the record only waits for
		 * done, to be freed). */
		for (size_t i = 0; i < w->ncalls; i++) {
			tool_on_cancel(w->calls[i], NULL, NULL);
			tool_fail(
			    w->calls[i],
			    "The server is shutting down; cancelling job %s was not confirmed",
			    w->job->id);
		}
		w->ncalls = 0;
		unlink_wait(w);
	}
}

static const struct tool_param cancel_params[] = {
    TOOL_P_STRING("job_id", true,
		  "Id of the job, as returned by an execution tool (\"job_id\") or listed by "
		  "py_list_jobs."),
    TOOL_P_END,
};

static const struct tool_field cancel_result[] = {
    {"job_id", "{\"type\": \"string\", \"description\": \"The cancelled job.\"}"},
    {"status", "{\"type\": \"string\", \"enum\": [\"cancelled\"]}"},
    {"message", "{\"type\": \"string\", \"description\": \"\\\"Job cancelled\\\".\"}"},
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

const struct tool_decl tool_cancel_job = {
    .manages_jobs = true,
    .name = "py_cancel_job",
    .title = "Cancel a job",
    .description = "Stops a pending or running job. Answers once every process of the job's "
		   "sandbox is gone. A job that has already finished cannot be cancelled: the "
		   "error gives its status.",
    .params = cancel_params,
    .result = cancel_result,
    .handler = cancel_job,
};
