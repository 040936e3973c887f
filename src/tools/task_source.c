/* Jobs seen as MCP tasks: the task id is the job id, so py_job_status,
 * py_cancel_job and the task methods of either protocol revision see the
 * same job.  The protocol layer writes the wire forms; this says what a
 * task is (status, times, result, retention) and does what is asked of
 * it (cancel, list, watch). */
#include "tools_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *task_status(enum job_status s)
{
	switch (s) {
	case JOB_COMPLETED:
		return "completed";
	case JOB_FAILED:
		return "failed";
	case JOB_CANCELLED:
		return "cancelled";
	case JOB_PENDING:
	case JOB_RUNNING:
		break;
	}
	return "working";
}

static void describe(const struct job *j, struct tools_task *out)
{
	double updated = j->completed_at > 0 ? j->completed_at
			 : j->started_at > 0 ? j->started_at
					     : j->created_at;

	*out =
	    (struct tools_task){.job = j, .status = task_status(j->status), .updated_at = updated};
	out->expired =
	    j->task_ttl_ms > 0 && (jobs_now() - j->created_at) * 1000.0 > (double)j->task_ttl_ms;
}

int tools_task_get(struct tools *t, const char *tenant, const char *id, struct tools_task *out)
{
	const struct job *j = tools_job_of(t, tenant, id);

	if (j == NULL)
		return -ENOENT;
	describe(j, out);
	return 0;
}

void tools_task_mark(struct tools *t, const char *id, int64_t ttl_ms, int64_t poll_ms)
{
	struct job *j = jobs_get(t->cfg.exec.jobs, id);

	if (j == NULL)
		return;
	j->task_ttl_ms = ttl_ms;
	j->task_poll_ms = poll_ms;
	jobs_touch(t->cfg.exec.jobs, j);
}

struct task_cancel {
	void (*done)(void *data);
	void *data;
};

static void on_cancelled(struct job *j, void *arg)
{
	struct task_cancel *c = arg;

	(void)j;
	if (c->done)
		c->done(c->data);
	free(c);
}

int tools_task_cancel(struct tools *t, const char *id, void (*done)(void *data), void *data,
		      struct pm_error *err)
{
	struct job *j = id ? jobs_get(t->cfg.exec.jobs, id) : NULL;
	struct task_cancel *c;
	int r;

	if (j == NULL)
		return pm_error_set(err, "tasks", ENOENT, "no task `%.64s`", id ? id : "");
	if (job_status_is_final(j->status) || t->cfg.cancel == NULL)
		return pm_error_set(err, "tasks", EALREADY, "task `%s` has ended (%s)", j->id,
				    job_status_name(j->status));
	if ((c = malloc(sizeof(*c))) == NULL)
		return pm_error_set(err, "tasks", ENOMEM, "cancel task `%s`", j->id);
	*c = (struct task_cancel){.done = done, .data = data};
	if ((r = t->cfg.cancel(j, on_cancelled, c, t->cfg.cancel_data, err)) < 0)
		free(c);
	return r;
}

size_t tools_task_list(struct tools *t, const char *tenant, const char *after,
		       struct tools_task *out, size_t n, bool *more)
{
	struct job *j = jobs_newest(t->cfg.exec.jobs);
	size_t got = 0;

	if (after != NULL) {
		struct job *a = tools_job_of(t, tenant, after);
		j = a ? jobs_older(a) : NULL;
	}
	for (; j != NULL && got < n; j = jobs_older(j))
		if (jobs_visible(j, tenant))
			describe(j, &out[got++]);
	while (j != NULL && !jobs_visible(j, tenant))
		j = jobs_older(j);
	*more = j != NULL;
	return got;
}

struct jobs_watch *tools_task_watch(struct tools *t, const char *tenant, const char *id,
				    jobs_watch_fn fn, void *data)
{
	struct job *j = tools_job_of(t, tenant, id);

	return j ? jobs_watch(t->cfg.exec.jobs, j, fn, data) : NULL;
}

void tools_task_unwatch(struct tools *t, struct jobs_watch *w)
{
	jobs_unwatch(t->cfg.exec.jobs, w);
}
