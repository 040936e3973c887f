/* py_cancel_job.  The runner kills asynchronously (a sandbox takes a
 * moment to die), and the tool answers only once every process of the job
 * is gone, so each cancellation in progress is a wait record holding the
 * calls to answer.  Calls for a job already being cancelled join its
 * record: the runner is asked once per job. */
#include "tools_jobs_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

struct cancel_wait {
	struct cancel_wait *next;
	struct tools_jobs *tj; /* NULL once the tools are gone: only free */
	struct job *job;
	struct mcp_call **calls;
	size_t ncalls;
};

static int add_call(struct cancel_wait *w, struct mcp_call *call)
{
	struct mcp_call **calls = realloc(w->calls, (w->ncalls + 1) * sizeof(*calls));

	if (calls == NULL)
		return -ENOMEM;
	w->calls = calls;
	w->calls[w->ncalls++] = call;
	return 0;
}

/* The protocol layer gives up on a call (the client cancelled the request,
 * or the server is being freed): it must not be answered any more.  The
 * job's cancellation itself goes on. */
static void on_call_gone(struct mcp_call *call, void *data)
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
	if (w->tj == NULL)
		return;
	for (struct cancel_wait **p = &w->tj->waits; *p != NULL; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	w->tj = NULL;
}

static void free_wait(struct cancel_wait *w)
{
	free(w->calls);
	free(w);
}

static void reply(struct mcp_call *call, const struct job *j)
{
	if (j->status == JOB_CANCELLED)
		mcp_call_reply_new(call,
				   json_pack("{s:s,s:s,s:s}", "job_id", j->id, "status",
					     "cancelled", "message", "Job cancelled"),
				   false);
	else /* it ended by itself before the kill landed */
		mcp_call_fail(call, "Job %s is not running (status: %s)", j->id,
			      job_status_name(j->status));
}

static void on_cancelled(struct job *j, void *data)
{
	struct cancel_wait *w = data;

	/* After jobs_close() neither the job nor the calls may be touched. */
	if (w->tj != NULL) {
		unlink_wait(w);
		for (size_t i = 0; i < w->ncalls; i++)
			reply(w->calls[i], j);
	}
	free_wait(w);
}

static struct cancel_wait *find_wait(struct tools_jobs *tj, const struct job *j)
{
	for (struct cancel_wait *w = tj->waits; w != NULL; w = w->next)
		if (w->job == j)
			return w;
	return NULL;
}

void tools_jobs_cancel_call(struct mcp_call *call, json_t *args, void *ctx)
{
	static const char *const known[] = {"job_id", NULL};
	struct tools_jobs *tj = ctx;
	struct cancel_wait *w;
	struct sb_error err;
	const char *id;
	struct job *j;

	if (args_check_known(args, known, &err) < 0 ||
	    args_string(args, "job_id", true, &id, &err) < 0) {
		mcp_call_fail(call, "%s", err.message);
		return;
	}
	if ((j = tools_jobs_find(tj, call, id)) == NULL)
		return;
	if (job_status_is_final(j->status)) {
		mcp_call_fail(call, "Job %s is not running (status: %s)", j->id,
			      job_status_name(j->status));
		return;
	}
	w = find_wait(tj, j);
	if (w != NULL) {
		if (add_call(w, call) < 0)
			mcp_call_fail(call, "Cannot cancel job %s: out of memory", j->id);
		else
			mcp_call_on_cancel(call, on_call_gone, w);
		return;
	}
	if (tj->cancel == NULL) {
		/* No runner (tests): nothing runs, so nothing is left to stop. */
		jobs_set_status(tj->jobs, j, JOB_CANCELLED, NULL, NULL);
		reply(call, j);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL || add_call(w, call) < 0) {
		free(w);
		mcp_call_fail(call, "Cannot cancel job %s: out of memory", j->id);
		return;
	}
	w->tj = tj;
	w->job = j;
	w->next = tj->waits;
	tj->waits = w;
	mcp_call_on_cancel(call, on_call_gone, w);
	/* done may run before the hook returns; w is not touched after a
	 * successful call. */
	if (tj->cancel(j, on_cancelled, w, tj->cancel_data, &err) < 0) {
		bool answer = w->ncalls > 0; /* not if the client gave up already */

		unlink_wait(w);
		free_wait(w);
		if (answer)
			mcp_call_fail(call, "Cannot cancel job %s: %s", j->id, err.message);
	}
}

void tools_jobs_cancel_orphan(struct tools_jobs *tj)
{
	while (tj->waits != NULL) {
		struct cancel_wait *w = tj->waits;

		/* Answered now, while the calls are known to be alive: after
		 * this nothing may look at them (the record only waits for
		 * done, to be freed). */
		for (size_t i = 0; i < w->ncalls; i++)
			mcp_call_fail(w->calls[i],
				      "The server is shutting down; cancelling job %s was not "
				      "confirmed",
				      w->job->id);
		w->ncalls = 0;
		unlink_wait(w);
	}
}
