#include "smart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

struct waiter {
	struct smart *s;
	struct mcp_call *call;    /* NULL once answered */
	struct job *job;          /* NULL once the job is gone for us */
	uv_timer_t timer;         /* freed in its close callback */
	struct waiter *prev, *next;
};

struct smart {
	uv_loop_t *loop;
	struct runner *runner;
	struct jobs *jobs;
	double budget;
	struct waiter *waiters;
};

struct smart *smart_new(uv_loop_t *loop, struct runner *runner, struct jobs *jobs,
			double budget_seconds)
{
	struct smart *s = calloc(1, sizeof(*s));

	if (s) {
		s->loop = loop;
		s->runner = runner;
		s->jobs = jobs;
		s->budget = budget_seconds;
	}
	return s;
}

void smart_free(struct smart *s)
{
	free(s);
}

static void on_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void drop(struct waiter *w)
{
	struct smart *s = w->s;

	if (w->prev)
		w->prev->next = w->next;
	else if (s->waiters == w)
		s->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

void smart_reply_final(struct smart *s, struct mcp_call *call, const struct job *j)
{
	json_t *result = jobs_result(s->jobs, j);

	if (j->status == JOB_COMPLETED && result) {
		mcp_call_reply_new(call, result, false);
		return;
	}
	/* Failed or cancelled: the model needs to read why, and the id to
	 * look at whatever output there was. */
	json_t *o = json_pack("{s:s, s:s, s:s}", "job_id", j->id, "status", job_status_name(j->status),
			      "error", j->error ? j->error : job_status_name(j->status));
	if (result)
		json_object_set_new(o, "result", result);
	mcp_call_reply_new(call, o, true);
}

static void on_budget(uv_timer_t *t)
{
	struct waiter *w = t->data;
	char msg[128];

	snprintf(msg, sizeof(msg), "Task exceeded %.1fs time budget; running in background",
		 w->s->budget);
	/* TOOLS.md: the job goes on in the background, "running" (even if
	 * it still waits for a slot). */
	mcp_call_reply_new(w->call, json_pack("{s:s, s:s, s:s}", "job_id", w->job->id, "status",
					      "running", "message", msg),
			   false);
	drop(w);
}

/* The client gave up on the request: it no longer wants the job either.
 * The waiter goes first: cancelling a queued job ends it at once, and
 * smart_job_ended() must not find (and drop) this waiter again. */
static void on_call_cancelled(struct mcp_call *call, void *data)
{
	struct waiter *w = data;
	struct sb_error err = {0};
	struct job *j = w->job;
	struct smart *s = w->s;

	(void)call;
	drop(w);
	if (j && !job_status_is_final(j->status))
		runner_cancel(s->runner, j, NULL, NULL, &err);
}

void smart_wait(struct smart *s, struct mcp_call *call, struct job *j)
{
	struct waiter *w;

	if (job_status_is_final(j->status)) {
		smart_reply_final(s, call, j);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		mcp_call_fail(call, "out of memory while waiting for job %s; poll it with "
				    "py_job_status", j->id);
		return;
	}
	*w = (struct waiter){.s = s, .call = call, .job = j, .next = s->waiters};
	if (s->waiters)
		s->waiters->prev = w;
	s->waiters = w;
	uv_timer_init(s->loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, on_budget, (uint64_t)(s->budget * 1000), 0);
	mcp_call_on_cancel(call, on_call_cancelled, w);
}

void smart_stop(struct smart *s)
{
	/* Their calls must not call back into freed waiters. */
	for (struct waiter *w = s->waiters; w; w = w->next)
		mcp_call_on_cancel(w->call, NULL, NULL);
	while (s->waiters)
		drop(s->waiters);
}

void smart_job_ended(struct smart *s, struct job *j)
{
	struct waiter *w = s->waiters, *next;

	for (; w; w = next) {
		next = w->next;
		if (w->job != j)
			continue;
		smart_reply_final(s, w->call, j);
		drop(w);
	}
}
