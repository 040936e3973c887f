#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "line_framer.h"
#include "log.h"
#include "wire.h"

/* A status line longer than this is a launcher bug; it is dropped. */
#define STATUS_LINE_MAX 65536

enum { H_PROC, H_OUT, H_ERR, H_SPEC, H_STATUS, H_COUNT };

struct run;

/* One python-mcp-sandbox process, idle (prepared) or bound to a run. */
struct launcher {
	struct runner *r;
	uv_process_t proc;
	uv_pipe_t out, err, spec, status;
	int open_handles;
	struct line_framer status_lines;
	bool exited, out_eof, err_eof, status_eof;
	bool output_error_logged; /* one line per job, not one per read */
	int64_t exit_status;
	int term_signal;
	json_t *exit_event; /* owned */
	char error[1536];   /* from an "error" event */
	struct run *run;    /* NULL while idle */
	bool idle;	    /* in runner->idle */
	LIST_ENTRY(launcher) idle_link;
	LIST_ENTRY(launcher) all_link; /* runner->all */
};

/* A job's stay in the runner, kept in job->run; or a task's (job NULL). */
struct run {
	struct runner *r;
	struct job *job; /* NULL for a task */
	struct runner_task_config task;
	const char *policy; /* NULL: the run policy, from the pool */
	bool held;	    /* queued but not to be started yet */
	json_t *spec;
	int ws_fd; /* the workspace sent with the spec, or -1 */
	runner_finish_fn finish;
	void (*cleanup)(struct job *j, void *data);
	void *data;
	struct launcher *l; /* while running */
	bool cancelled;
	/* uv_hrtime() at each step, for the debug log. */
	uint64_t t_queued, t_sent, t_started, t_exit_event;
	void (*cancel_done)(struct job *j, void *arg);
	void *cancel_arg;
	bool queued; /* in runner->queue */
	TAILQ_ENTRY(run) link;
};

struct runner_task {
	struct run run;
};

struct runner {
	uv_loop_t *loop;
	struct runner_config cfg;
	struct jobs *jobs;
	LIST_HEAD(, launcher) idle; /* prepared launchers, not bound */
	LIST_HEAD(, launcher) all;  /* every launcher not yet closed */
	unsigned n_idle, n_running, n_alive;
	unsigned n_queued_jobs;	 /* jobs (not installs) in the queue */
	TAILQ_HEAD(, run) queue; /* in submission order */
	bool shutting_down;
	uv_timer_t kill_timer; /* shutdown deadline for launchers that hang */
	bool kill_timer_started;
	void (*shutdown_done)(void *data);
	void *shutdown_data;
	char buf[65536]; /* read buffer shared by every pipe: reads are consumed at once */
};

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

static void free_run(struct run *run)
{
	json_decref(run->spec);
	if (run->ws_fd >= 0)
		close(run->ws_fd);
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
		free_run(run);
		return;
	}
	o->cancelled = run->cancelled;
	settle(r, run, o, started);
	run->job->run = NULL;
	if (run->cancel_done)
		run->cancel_done(run->job, run->cancel_arg);
	if (run->cleanup)
		run->cleanup(run->job, run->data);
	free_run(run);
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

static void on_handle_closed(uv_handle_t *h)
{
	struct launcher *l = h->data;

	if (--l->open_handles > 0)
		return;
	struct runner *r = l->r;
	LIST_REMOVE(l, all_link);
	json_decref(l->exit_event);
	framer_free(&l->status_lines);
	free(l);
	r->n_alive--;
	if (r->shutting_down && r->n_alive == 0)
		shutdown_finished(r);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_handle_closed);
}

static void close_spec(struct launcher *l)
{
	close_handle((uv_handle_t *)&l->spec);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct launcher *l = h->data;

	(void)suggested;
	*buf = uv_buf_init(l->r->buf, sizeof(l->r->buf));
}

/* Copies the launcher's ends into outcome and lets the finish hook decide
 * the job's state; then the launcher goes away. */
static void finalize(struct launcher *l)
{
	struct runner *r = l->r;
	struct run *run = l->run;
	struct run_outcome o = {0};
	json_t *e = l->exit_event;

	if (!(l->exited && l->out_eof && l->err_eof && l->status_eof))
		return;
	if (run != NULL) {
		o.cancelled = run->cancelled;
		o.exit_event = e;
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
	for (int h = H_OUT; h < H_COUNT; h++) {
		uv_handle_t *hs[] = {NULL, (uv_handle_t *)&l->out, (uv_handle_t *)&l->err,
				     (uv_handle_t *)&l->spec, (uv_handle_t *)&l->status};
		close_handle(hs[h]);
	}
	close_handle((uv_handle_t *)&l->proc);
	/* Only a finished job frees a slot.  An idle launcher that died is
	 * not replaced here: a broken policy would respawn it in a loop; the
	 * next submitted job starts a fresh one. */
	if (run != NULL && !r->shutting_down)
		pump(r);
}

static void on_launcher_exit(uv_process_t *p, int64_t status, int term_signal)
{
	struct launcher *l = p->data;
	struct runner *r = l->r;

	l->exited = true;
	l->exit_status = status;
	l->term_signal = term_signal;
	/* An idle launcher that died (its policy failed, say) leaves the
	 * pool; the next job starts a fresh one. */
	if (l->idle) {
		take_idle(r, l);
		if (l->error[0])
			log_msg(LOG_LEVEL_ERROR, "prepared sandbox failed: %s", l->error);
	}
	finalize(l);
}

static void handle_event(struct launcher *l, json_t *ev)
{
	switch (wire_event_kind(ev)) {
	case WIRE_STARTED:
		if (l->run == NULL)
			break;
		l->run->t_started = uv_hrtime();
		if (l->run->job)
			jobs_set_status(l->r->jobs, l->run->job, JOB_RUNNING, NULL, NULL);
		break;
	case WIRE_EXIT:
		if (l->run)
			l->run->t_exit_event = uv_hrtime();
		json_decref(l->exit_event);
		l->exit_event = json_incref(ev);
		break;
	case WIRE_ERROR:
		wire_error_text(ev, l->error, sizeof(l->error));
		break;
	case WIRE_DEGRADED:
		log_msg(LOG_LEVEL_WARNING, "sandbox layer missing: %s",
			json_string_value(json_object_get(ev, "message")));
		break;
	case WIRE_READY:
	case WIRE_UNKNOWN:
		break;
	}
}

/* One JSON object a line (wire.h); an overlong or unparsable line is a
 * launcher bug, and dropped. */
static void on_status(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct launcher *l = s->data;

	if (n < 0) {
		l->status_eof = true;
		uv_read_stop(s);
		finalize(l);
		return;
	}
	for (size_t off = 0; off < (size_t)n;) {
		enum framer_event fe;
		const char *line;
		size_t len;

		off += framer_feed(&l->status_lines, buf->base + off, (size_t)n - off, &fe, &line,
				   &len);
		if (fe != FRAMER_LINE)
			continue;
		json_t *ev = json_loadb(line, len, 0, NULL);
		if (ev)
			handle_event(l, ev);
		json_decref(ev);
	}
}

static void on_output(struct launcher *l, enum job_stream stream, ssize_t n, const uv_buf_t *buf)
{
	if (n < 0) {
		if (stream == JOB_STDOUT)
			l->out_eof = true;
		else
			l->err_eof = true;
		uv_read_stop(stream == JOB_STDOUT ? (uv_stream_t *)&l->out
						  : (uv_stream_t *)&l->err);
		finalize(l);
		return;
	}
	if (n > 0 && l->run && l->run->job == NULL) {
		l->run->task.output(l->run->task.data, stream, buf->base, (size_t)n);
	} else if (n > 0 && l->run) {
		struct pm_error err = {0};
		/* A full disk would fail every read after the first: it is
		 * said once per job. */
		if (jobs_append_output(l->r->jobs, l->run->job, stream, buf->base, (size_t)n,
				       &err) < 0 &&
		    !l->output_error_logged) {
			l->output_error_logged = true;
			log_msg(LOG_LEVEL_ERROR,
				"job %s: %s (further output errors of this job are "
				"not logged)",
				l->run->job->id, err.message);
		}
	}
}

static void on_stdout(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	on_output(s->data, JOB_STDOUT, n, buf);
}

static void on_stderr(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	on_output(s->data, JOB_STDERR, n, buf);
}

static struct launcher *spawn_launcher(struct runner *r, const char *policy, struct pm_error *err)
{
	struct launcher *l = calloc(1, sizeof(*l));
	uv_pipe_t *pipes[] = {&l->out, &l->err, &l->spec, &l->status};
	uv_stdio_container_t stdio[5];
	/* uv_process_options_t wants char *; libuv copies them. */
	char *args[] = {(char *)r->cfg.launcher,
			(char *)"--policy",
			(char *)policy,
			(char *)"--spec-fd",
			(char *)"3",
			(char *)"--status-fd",
			(char *)"4",
			r->cfg.cache_dir ? (char *)"--cache-dir" : NULL,
			(char *)r->cfg.cache_dir,
			NULL};
	uv_process_options_t opts = {0};
	int rc;

	if (l == NULL) {
		pm_error_set(err, "runner", ENOMEM, "start a sandbox launcher");
		return NULL;
	}
	l->r = r;
	framer_init(&l->status_lines, STATUS_LINE_MAX);
	/* Linked at once: on_handle_closed() unlinks it whatever happens. */
	LIST_INSERT_HEAD(&r->all, l, all_link);
	for (size_t i = 0; i < 4; i++) {
		uv_pipe_init(r->loop, pipes[i], 0);
		pipes[i]->data = l;
	}
	l->proc.data = l;
	stdio[0].flags = UV_IGNORE;
	/* Flags are from the launcher's side: it writes 1, 2 and 4, reads 3. */
	stdio[1] =
	    (uv_stdio_container_t){UV_CREATE_PIPE | UV_WRITABLE_PIPE, {(uv_stream_t *)&l->out}};
	stdio[2] =
	    (uv_stdio_container_t){UV_CREATE_PIPE | UV_WRITABLE_PIPE, {(uv_stream_t *)&l->err}};
	stdio[3] =
	    (uv_stdio_container_t){UV_CREATE_PIPE | UV_READABLE_PIPE, {(uv_stream_t *)&l->spec}};
	stdio[4] =
	    (uv_stdio_container_t){UV_CREATE_PIPE | UV_WRITABLE_PIPE, {(uv_stream_t *)&l->status}};
	opts.file = r->cfg.launcher;
	opts.args = args;
	opts.stdio = stdio;
	opts.stdio_count = 5;
	opts.exit_cb = on_launcher_exit;
	rc = uv_spawn(r->loop, &l->proc, &opts);
	l->open_handles = H_COUNT;
	r->n_alive++;
	if (rc < 0) {
		pm_error_set(err, "runner", -rc, "start the sandbox launcher `%s`",
			     r->cfg.launcher);
		pm_error_hint(err, "build it, or pass its path with --launcher");
		/* The process handle needs closing even when spawn failed. */
		l->exited = l->out_eof = l->err_eof = l->status_eof = true;
		for (size_t i = 0; i < 4; i++)
			close_handle((uv_handle_t *)pipes[i]);
		close_handle((uv_handle_t *)&l->proc);
		return NULL;
	}
	uv_read_start((uv_stream_t *)&l->out, alloc_cb, on_stdout);
	uv_read_start((uv_stream_t *)&l->err, alloc_cb, on_stderr);
	uv_read_start((uv_stream_t *)&l->status, alloc_cb, on_status);
	return l;
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
		struct launcher *l = spawn_launcher(r, r->cfg.policy, &err);
		if (l == NULL) {
			log_msg(LOG_LEVEL_ERROR, "%s", err.message);
			return;
		}
		LIST_INSERT_HEAD(&r->idle, l, idle_link);
		l->idle = true;
		r->n_idle++;
	}
}

struct spec_write {
	uv_write_t req;
	char *text;
	struct launcher *l;
};

static void on_spec_written(uv_write_t *req, int status)
{
	struct spec_write *w = (struct spec_write *)req;

	if (status < 0)
		log_msg(LOG_LEVEL_ERROR, "sending a job to the sandbox launcher: %s",
			uv_strerror(status));
	/* EOF on the spec descriptor is what tells the launcher to start. */
	close_spec(w->l);
	free(w->text);
	free(w);
}

/* The workspace descriptor rides on the spec's first bytes (SCM_RIGHTS;
 * libuv's stdio pipes are socket pairs), sent here before libuv writes
 * the rest, so the order holds.  The socket is new and empty: a short
 * send of its first bytes does not block.  Returns how many bytes went,
 * or -1. */
static ssize_t send_with_fd(struct launcher *l, const char *text, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf = {0};
	struct iovec iov = {.iov_base = (void *)text, .iov_len = len < 512 ? len : 512};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	uv_os_fd_t sock;
	ssize_t n;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (uv_fileno((uv_handle_t *)&l->spec, &sock) < 0)
		return -1;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n;
}

static void start_run(struct runner *r, struct run *run, struct launcher *l)
{
	struct spec_write *w = calloc(1, sizeof(*w));
	size_t len, sent = 0;

	run->l = l;
	l->run = run;
	r->n_running++;
	run->t_sent = uv_hrtime();
	if (w == NULL || (w->text = json_dumps(run->spec, JSON_COMPACT)) == NULL) {
		free(w);
		log_msg(LOG_LEVEL_ERROR, "out of memory sending a spec to the sandbox launcher");
		uv_process_kill(&l->proc, SIGKILL);
		return;
	}
	w->l = l;
	len = strlen(w->text);
	if (run->ws_fd >= 0) {
		ssize_t n = send_with_fd(l, w->text, len, run->ws_fd);
		/* Ours to close once it is on its way: the launcher has its own. */
		close(run->ws_fd);
		run->ws_fd = -1;
		if (n <= 0) {
			log_msg(LOG_LEVEL_ERROR, "sending a workspace to the sandbox launcher: %s",
				n < 0 ? strerror(errno) : "nothing sent");
			free(w->text);
			free(w);
			uv_process_kill(&l->proc, SIGKILL);
			return;
		}
		sent = (size_t)n;
	}
	uv_buf_t b = uv_buf_init(w->text + sent, (unsigned)(len - sent));
	if (uv_write(&w->req, (uv_stream_t *)&l->spec, &b, 1, on_spec_written) < 0) {
		free(w->text);
		free(w);
		uv_process_kill(&l->proc, SIGKILL);
	}
}

static void pump(struct runner *r)
{
	while (!r->shutting_down && r->n_running < r->cfg.max_running) {
		struct pm_error err = {0};
		struct launcher *l;
		struct run *run;

		TAILQ_FOREACH (run, &r->queue, link)
			if (!run->held)
				break;
		if (run == NULL)
			break;
		unqueue(r, run);
		/* Another policy (an install) needs a launcher of its own. */
		l = run->policy ? NULL : LIST_FIRST(&r->idle);
		if (l == NULL && (l = spawn_launcher(r, run->policy ? run->policy : r->cfg.policy,
						     &err)) == NULL) {
			/* Nothing can run: fail the job rather than wait forever. */
			struct run_outcome o = {0};
			pm_error_format(&err, o.error, sizeof(o.error));
			end_run(r, run, &o, false);
			continue;
		}
		if (l->idle)
			take_idle(r, l);
		start_run(r, run, l);
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
	r->jobs = jobs;
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
		  runner_finish_fn finish, void (*cleanup)(struct job *j, void *data), void *data,
		  struct pm_error *err)
{
	struct run *run = enqueue(r, j, spec_new, ws_fd, held, err);

	if (run == NULL) {
		jobs_end(r->jobs, j, JOB_FAILED, NULL, false, err->message);
		return pm_error_code(err);
	}
	run->finish = finish;
	run->cleanup = cleanup;
	run->data = data;
	j->run = run;
	pump(r);
	return 0;
}

int runner_submit(struct runner *r, struct job *j, json_t *spec_new, int ws_fd,
		  runner_finish_fn finish, void (*cleanup)(struct job *j, void *data), void *data,
		  struct pm_error *err)
{
	return submit(r, j, spec_new, ws_fd, false, finish, cleanup, data, err);
}

int runner_submit_held(struct runner *r, struct job *j, json_t *spec_new, int ws_fd,
		       runner_finish_fn finish, void (*cleanup)(struct job *j, void *data),
		       void *data, struct pm_error *err)
{
	return submit(r, j, spec_new, ws_fd, true, finish, cleanup, data, err);
}

void runner_release(struct runner *r, struct job *j, const char *error)
{
	struct run *run = j->run;

	if (run == NULL || !run->held || !run->queued)
		return;
	run->held = false;
	if (error != NULL) {
		struct run_outcome o = {0};
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
	run->policy = cfg->policy;
	*out = (struct runner_task *)run;
	pump(r);
	return 0;
}

void runner_cancel_task(struct runner *r, struct runner_task *t)
{
	struct run *run = &t->run;

	run->cancelled = true;
	if (run->queued) {
		struct run_outcome o = {0};
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
		struct run_outcome o = {0};
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
	 * after reaping it; the job ends in finalize(). */
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
		struct run_outcome o = {0};
		unqueue(r, run);
		snprintf(o.error, sizeof(o.error), "Server shut down before the job started");
		end_run(r, run, &o, false);
	}
	/* Idle launchers clean up and exit when their spec descriptor closes. */
	while (!LIST_EMPTY(&r->idle))
		close_spec(take_idle(r, LIST_FIRST(&r->idle)));
	/* Running ones are killed at once; finalize() records them failed. */
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
	free(r);
}
