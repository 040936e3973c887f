#include "runner_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "wire.h"

static void pump(struct runner *r);

/* Takes a run out of the queue; one not in it stays as it is. */
static void unqueue(struct runner *r, struct run *run)
{
	if (!run->queued)
		return;
	TAILQ_REMOVE(&r->queue, run, link);
	run->queued = false;
	if (run->job != NULL)
		r->n_queued_jobs--;
}

static struct launcher *take_idle(struct runner *r, struct launcher *l)
{
	LIST_REMOVE(l, idle_link);
	l->idle = false;
	r->n_idle--;
	return l;
}

static bool names(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

bool runner_policy_in_use(const struct runner *r, const char *policy)
{
	const struct launcher *l;
	const struct run *run;

	LIST_FOREACH (l, &r->all, all_link)
		if (names(l->policy, policy))
			return true;
	TAILQ_FOREACH (run, &r->queue, link)
		if (names(run->policy, policy))
			return true;
	return false;
}

/* Tells the owner of a policy file that nothing here needs it any more
 * (a launcher that loaded it, or a task that named it, is gone). */
static void maybe_unused(struct runner *r, const char *policy)
{
	if (policy == NULL || r->shutting_down || r->cfg.policy_unused == NULL ||
	    names(policy, r->policy) || runner_policy_in_use(r, policy))
		return;
	r->cfg.policy_unused(policy, r->cfg.policy_data);
}

static void free_run(struct runner *r, struct run *run)
{
	json_decref(run->spec);
	if (run->ws_fd >= 0)
		close(run->ws_fd);
	if (run->scratch_fd >= 0)
		close(run->scratch_fd);
	maybe_unused(r, run->policy);
	free(run->policy);
	free(run);
}

/* The one place a job's final status is decided: shut down, cancelled,
 * never started, or completed (whatever its exit code: the result says
 * it).  The owner shapes the result of a run that ran. */
static void settle(struct runner *r, struct run *run, const struct run_outcome *o, bool started)
{
	struct job *j = run->job;
	json_t *result = o->ran && run->finish ? run->finish(j, o, run->data) : NULL;

	if (r->shutting_down)
		jobs_end(r->jobs, j, JOB_FAILED, result, true,
			 started ? "Server shut down while the job was running"
				 : "Server shut down before the job started");
	else if (run->cancelled)
		jobs_end(r->jobs, j, JOB_CANCELLED, result, true, "Job cancelled");
	else if (!o->ran)
		jobs_end(r->jobs, j, JOB_FAILED, result, true,
			 o->error[0] ? o->error : "the sandbox did not start");
	else
		jobs_end(r->jobs, j, JOB_COMPLETED, result, true, NULL);
}

/* A run is over (it ran, failed to start, or never will): the job
 * settles, or the task's owner hears of it; then the run is freed. */
static void end_run(struct runner *r, struct run *run, struct run_outcome *o, bool started)
{
	if (run->job == NULL) {
		o->cancelled = run->cancelled || r->shutting_down;
		run->task.done(o, run->task.data);
		free_run(r, run);
		return;
	}
	o->cancelled = run->cancelled;
	settle(r, run, o, started);
	run->job->run = NULL;
	if (run->cancel_done)
		run->cancel_done(run->job, run->cancel_arg);
	if (run->cleanup)
		run->cleanup(run->job, run->data);
	free_run(r, run);
}

static void on_kill_timer_closed(uv_handle_t *h)
{
	struct runner *r = h->data;

	if (r->shutdown_done)
		r->shutdown_done(r->shutdown_data);
}

/* Every launcher is gone: done runs once the deadline timer is closed too,
 * so that the runner may be freed in it. */
static void shutdown_finished(struct runner *r)
{
	if (!r->kill_timer_started) {
		if (r->shutdown_done)
			r->shutdown_done(r->shutdown_data);
		return;
	}
	uv_timer_stop(&r->kill_timer);
	uv_close((uv_handle_t *)&r->kill_timer, on_kill_timer_closed);
}

void runner_launcher_exited(struct launcher *l)
{
	/* An idle launcher that died (its policy failed, say) leaves the
	 * pool; the next job starts a fresh one. */
	if (l->idle) {
		take_idle(l->r, l);
		if (l->error[0])
			log_msg(LOG_LEVEL_ERROR, "prepared sandbox failed: %s", l->error);
	}
}

void runner_launcher_gone(struct launcher *l)
{
	struct runner *r = l->r;

	LIST_REMOVE(l, all_link);
	r->n_alive--;
	maybe_unused(r, l->policy);
	if (r->shutting_down && r->n_alive == 0)
		shutdown_finished(r);
}

static void on_kill_deadline(uv_timer_t *t)
{
	struct runner *r = t->data;

	struct launcher *l;

	LIST_FOREACH (l, &r->all, all_link) {
		if (l->exited)
			continue;
		log_msg(LOG_LEVEL_WARNING, "sandbox launcher %d did not stop in time; killing it",
			(int)l->proc.pid);
		uv_process_kill(&l->proc, SIGKILL);
	}
}

/* Copies the launcher's ends into the outcome and ends its run; then the
 * launcher goes away. */
void runner_launcher_done(struct launcher *l)
{
	struct runner *r = l->r;
	struct run *run = l->run;
	struct run_outcome o = {.scratch_fd = -1};
	json_t *e = l->exit_event;

	if (run != NULL) {
		o.cancelled = run->cancelled;
		o.exit_event = e;
		o.policy = l->policy;
		o.scratch_fd = run->scratch_fd;
		if (e != NULL) {
			struct wire_exit x;
			wire_exit_read(e, &x);
			o.ran = true;
			o.exit_code = x.exit_code;
			o.signal = x.signal;
			o.limit = x.limit;
			o.limit_detail = x.limit_detail;
			o.wall_seconds = x.wall_seconds;
			o.cpu_user_seconds = x.cpu_user_seconds;
			o.cpu_system_seconds = x.cpu_system_seconds;
			o.peak_rss_bytes = x.peak_rss_bytes;
		} else if (l->error[0]) {
			snprintf(o.error, sizeof(o.error), "%s", l->error);
		} else {
			snprintf(o.error, sizeof(o.error),
				 "the sandbox launcher ended without a result (%s %d)",
				 l->term_signal ? "signal" : "exit status",
				 l->term_signal ? l->term_signal : (int)l->exit_status);
		}
		run->l = NULL;
		l->run = NULL;
		if (run->io.output == NULL)
			r->n_running--;
		uint64_t now = uv_hrtime();
		log_msg(LOG_LEVEL_DEBUG,
			"%s %s: waited %.2f ms for a sandbox, started %.2f ms after its spec, ran "
			"%.2f ms, ended %.2f ms after its exit event",
			run->job ? "job" : "task", run->job ? run->job->id : "(install)",
			(double)(run->t_sent - run->t_queued) / 1e6,
			run->t_started ? (double)(run->t_started - run->t_sent) / 1e6 : -1.0,
			run->t_exit_event && run->t_started
			    ? (double)(run->t_exit_event - run->t_started) / 1e6
			    : -1.0,
			run->t_exit_event ? (double)(now - run->t_exit_event) / 1e6 : -1.0);
		end_run(r, run, &o, true);
	}
	launcher_close(l);
	/* Only a finished job frees a slot.  An idle launcher that died is
	 * not replaced here: a broken policy would respawn it in a loop; the
	 * next submitted job starts a fresh one. */
	if (run != NULL && !r->shutting_down)
		pump(r);
}

/* Keeps launchers ready.  Preparing one costs a few milliseconds of CPU,
 * which a running script would feel on a small machine: while jobs run,
 * one ready launcher is enough for the next request; the rest of the
 * pool is refilled once the runner is idle. */
static void fill_pool(struct runner *r)
{
	unsigned want = r->n_running > 0 && r->cfg.prepared > 1 ? 1 : r->cfg.prepared;

	while (!r->shutting_down && r->n_idle < want) {
		struct pm_error err = {0};
		struct launcher *l = launcher_spawn(r, r->policy, false, &err);
		if (l == NULL) {
			log_msg(LOG_LEVEL_ERROR, "%s", err.message);
			return;
		}
		LIST_INSERT_HEAD(&r->idle, l, idle_link);
		l->idle = true;
		r->n_idle++;
	}
}

/* The first queued run that may start: one that is not held, and takes
 * a free slot or needs none (a session's sandbox). */
static struct run *next_run(struct runner *r)
{
	bool slot = r->n_running < r->cfg.max_running;
	struct run *run;

	TAILQ_FOREACH (run, &r->queue, link)
		if (!run->held && (slot || run->io.output))
			return run;
	return NULL;
}

static void pump(struct runner *r)
{
	struct run *run;

	while (!r->shutting_down && (run = next_run(r)) != NULL) {
		struct pm_error err = {0};
		struct launcher *l;

		unqueue(r, run);
		/* Another policy (an install) needs a launcher of its own, and
		 * so does a session (prepared ones have no stdin pipe). */
		l = run->policy || run->io.output ? NULL : LIST_FIRST(&r->idle);
		if (l == NULL && (l = launcher_spawn(r, run->policy ? run->policy : r->policy,
						     run->io.output != NULL, &err)) == NULL) {
			/* Nothing can run: fail the job rather than wait forever. */
			struct run_outcome o = {.scratch_fd = -1};
			pm_error_format(&err, o.error, sizeof(o.error));
			end_run(r, run, &o, false);
			continue;
		}
		if (l->idle)
			take_idle(r, l);
		run->l = l;
		if (run->io.output == NULL)
			r->n_running++;
		run->t_sent = uv_hrtime();
		launcher_start(l, run);
	}
	fill_pool(r);
}

int runner_new(uv_loop_t *loop, const struct runner_config *cfg, struct jobs *jobs,
	       struct runner **out, struct pm_error *err)
{
	struct runner *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return pm_error_set(err, "runner", ENOMEM, "runner");
	r->loop = loop;
	r->cfg = *cfg;
	r->cfg.policy = NULL;
	r->jobs = jobs;
	if ((r->policy = strdup(cfg->policy)) == NULL) {
		free(r);
		return pm_error_set(err, "runner", ENOMEM, "runner");
	}
	LIST_INIT(&r->idle);
	LIST_INIT(&r->all);
	TAILQ_INIT(&r->queue);
	if (r->cfg.max_running == 0)
		r->cfg.max_running = 1;
	fill_pool(r);
	*out = r;
	return 0;
}

static struct run *enqueue(struct runner *r, struct job *j, json_t *spec_new, int ws_fd, bool held,
			   struct pm_error *err)
{
	struct run *run = calloc(1, j ? sizeof(struct run) : sizeof(struct runner_task));

	if (run == NULL) {
		json_decref(spec_new);
		if (ws_fd >= 0)
			close(ws_fd);
		pm_error_set(err, "runner", ENOMEM, "queue the %s", j ? "job" : "install");
		return NULL;
	}
	if (r->cfg.n_protect > 0 && json_object_get(spec_new, WIRE_SPEC_PROTECT) == NULL) {
		json_t *list = json_array();
		for (size_t i = 0; i < r->cfg.n_protect; i++)
			json_array_append_new(list, json_string(r->cfg.protect[i]));
		json_object_set_new(spec_new, WIRE_SPEC_PROTECT, list);
	}
	*run = (struct run){.r = r,
			    .job = j,
			    .spec = spec_new,
			    .ws_fd = ws_fd,
			    .scratch = json_is_true(json_object_get(spec_new, WIRE_SPEC_SCRATCH)),
			    .scratch_fd = -1,
			    .held = held,
			    .t_queued = uv_hrtime()};
	TAILQ_INSERT_TAIL(&r->queue, run, link);
	run->queued = true;
	if (j != NULL)
		r->n_queued_jobs++;
	return run;
}

int runner_admit(struct runner *r, struct pm_error *err)
{
	if (r->cfg.max_pending == 0 || r->n_queued_jobs < r->cfg.max_pending)
		return 0;
	pm_error_set(err, "runner", EAGAIN,
		     "%u jobs already wait for a free slot (the server's "
		     "--max-pending)",
		     r->n_queued_jobs);
	return pm_error_hint(err, "wait for some to finish (py_list_jobs shows them), cancel some "
				  "with py_cancel_job, or start the server with a larger "
				  "--max-pending");
}

static int submit(struct runner *r, struct job *j, json_t *spec_new, int ws_fd, bool held,
		  const struct runner_io *io, runner_finish_fn finish,
		  void (*cleanup)(struct job *j, void *data), void *data, struct pm_error *err)
{
	struct run *run = enqueue(r, j, spec_new, ws_fd, held, err);

	if (run == NULL) {
		jobs_end(r->jobs, j, JOB_FAILED, NULL, false, err->message);
		return pm_error_code(err);
	}
	if (io != NULL)
		run->io = *io;
	run->finish = finish;
	run->cleanup = cleanup;
	run->data = data;
	j->run = run;
	pump(r);
	return 0;
}

int runner_submit(struct runner *r, struct job *j, json_t *spec_new, int ws_fd,
		  const struct runner_io *io, runner_finish_fn finish,
		  void (*cleanup)(struct job *j, void *data), void *data, struct pm_error *err)
{
	return submit(r, j, spec_new, ws_fd, false, io, finish, cleanup, data, err);
}

int runner_submit_held(struct runner *r, struct job *j, json_t *spec_new, int ws_fd,
		       const struct runner_io *io, runner_finish_fn finish,
		       void (*cleanup)(struct job *j, void *data), void *data, struct pm_error *err)
{
	return submit(r, j, spec_new, ws_fd, true, io, finish, cleanup, data, err);
}

int runner_scratch_fd(const struct runner *r, const struct job *j)
{
	(void)r;
	return j->run ? ((const struct run *)j->run)->scratch_fd : -1;
}

int runner_input(struct runner *r, struct job *j, const char *buf, size_t len, struct pm_error *err)
{
	struct run *run = j->run;
	int rc;

	(void)r;
	if (run == NULL || run->l == NULL || run->io.output == NULL)
		return pm_error_set(err, "runner", EPIPE, "job %s is not running", j->id);
	if ((rc = launcher_input(run->l, buf, len)) < 0)
		return pm_error_set(err, "runner", -rc, "write to job %s", j->id);
	return 0;
}

void runner_release(struct runner *r, struct job *j, const char *error)
{
	struct run *run = j->run;

	if (run == NULL || !run->held || !run->queued)
		return;
	run->held = false;
	if (error != NULL) {
		struct run_outcome o = {.scratch_fd = -1};
		snprintf(o.error, sizeof(o.error), "%s", error);
		unqueue(r, run);
		end_run(r, run, &o, false);
	}
	pump(r);
}

int runner_start_task(struct runner *r, json_t *spec_new, const struct runner_task_config *cfg,
		      struct runner_task **out, struct pm_error *err)
{
	struct run *run = enqueue(r, NULL, spec_new, -1, false, err);

	if (run == NULL)
		return pm_error_code(err);
	run->task = *cfg;
	if (cfg->policy != NULL && (run->policy = strdup(cfg->policy)) == NULL) {
		unqueue(r, run);
		free_run(r, run);
		return pm_error_set(err, "runner", ENOMEM, "queue the install");
	}
	*out = (struct runner_task *)run;
	pump(r);
	return 0;
}

void runner_cancel_task(struct runner *r, struct runner_task *t)
{
	struct run *run = &t->run;

	run->cancelled = true;
	if (run->queued) {
		struct run_outcome o = {.scratch_fd = -1};
		snprintf(o.error, sizeof(o.error), "cancelled before it started");
		unqueue(r, run);
		end_run(r, run, &o, false);
	} else if (run->l && !run->l->exited) {
		uv_process_kill(&run->l->proc, SIGUSR1);
	}
}

int runner_cancel(struct runner *r, struct job *j, void (*done)(struct job *j, void *arg),
		  void *arg, struct pm_error *err)
{
	struct run *run = j->run;

	if (run == NULL)
		return pm_error_set(err, "runner", ESRCH, "job %s is not running", j->id);
	if (run->l == NULL) {
		/* Still queued: nothing was started, so it ends here. */
		struct run_outcome o = {.scratch_fd = -1};
		unqueue(r, run);
		run->cancelled = true;
		run->cancel_done = done;
		run->cancel_arg = arg;
		end_run(r, run, &o, false);
		return 0;
	}
	/* A second request (the client gave up on a call while py_cancel_job
	 * waits) must not take the first one's answer away. */
	if (done != NULL && run->cancel_done == NULL) {
		run->cancel_done = done;
		run->cancel_arg = arg;
	}
	if (run->cancelled)
		return 0;
	run->cancelled = true;
	/* Reaped already (only its pipes are pending): there is nothing to
	 * signal, and the pid may belong to someone else by now. */
	if (run->l->exited)
		return 0;
	/* The launcher kills the whole sandbox at once on SIGUSR1 and exits
	 * after reaping it; the job ends in runner_launcher_done(). */
	uv_process_kill(&run->l->proc, SIGUSR1);
	return 0;
}

void runner_shutdown(struct runner *r, void (*done)(void *data), void *data)
{
	r->shutting_down = true;
	r->shutdown_done = done;
	r->shutdown_data = data;
	/* Ending a task may release held jobs, which leave the queue by
	 * themselves: take from the head until it is empty. */
	while (!TAILQ_EMPTY(&r->queue)) {
		struct run *run = TAILQ_FIRST(&r->queue);
		struct run_outcome o = {.scratch_fd = -1};
		unqueue(r, run);
		snprintf(o.error, sizeof(o.error), "Server shut down before the job started");
		end_run(r, run, &o, false);
	}
	/* Idle launchers clean up and exit when their spec descriptor closes. */
	while (!LIST_EMPTY(&r->idle))
		launcher_close_spec(take_idle(r, LIST_FIRST(&r->idle)));
	/* Running ones are killed at once; runner_launcher_done() records them failed. */
	struct launcher *l;
	LIST_FOREACH (l, &r->all, all_link)
		if (l->run && !l->exited)
			uv_process_kill(&l->proc, SIGUSR1);
	if (r->n_alive == 0) {
		shutdown_finished(r);
		return;
	}
	/* A launcher that hangs must not keep the server from exiting. */
	uv_timer_init(r->loop, &r->kill_timer);
	r->kill_timer.data = r;
	r->kill_timer_started = true;
	uv_timer_start(&r->kill_timer, on_kill_deadline, 5000, 0);
}

void runner_free(struct runner *r)
{
	if (r != NULL)
		free(r->policy);
	free(r);
}

int runner_set_policy(struct runner *r, const char *policy, struct pm_error *err)
{
	char *copy = strdup(policy);
	char *old = r->policy;

	if (copy == NULL)
		return pm_error_set(err, "runner", ENOMEM, "the new run policy");
	r->policy = copy;
	/* Prepared launchers loaded the old policy: they clean up and exit
	 * when their spec descriptor closes, and fresh ones take their
	 * place.  A running launcher keeps its policy to the end. */
	while (!LIST_EMPTY(&r->idle))
		launcher_close_spec(take_idle(r, LIST_FIRST(&r->idle)));
	maybe_unused(r, old);
	free(old);
	fill_pool(r);
	return 0;
}

void runner_counts(const struct runner *r, struct runner_counts *out)
{
	*out = (struct runner_counts){.alive = r->n_alive,
				      .idle = r->n_idle,
				      .running = r->n_running,
				      .queued = r->n_queued_jobs};
}
