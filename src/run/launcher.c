/* One python-mcp-sandbox process: its spawn, its four pipes (stdout,
 * stderr, the spec it reads, the status lines it writes), the spec sent
 * with the workspace descriptor, and its end, which the runner hears of
 * once the process exited and every pipe is drained. */
#include "runner_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "wire.h"

/* A status line longer than this is a launcher bug; it is dropped. */
#define STATUS_LINE_MAX 65536

enum { H_PROC, H_IN, H_OUT, H_ERR, H_SPEC, H_STATUS, H_COUNT };

static void on_handle_closed(uv_handle_t *h)
{
	struct launcher *l = h->data;

	if (--l->open_handles > 0)
		return;
	runner_launcher_gone(l);
	free(l->policy);
	json_decref(l->exit_event);
	framer_free(&l->status_lines);
	free(l);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_handle_closed);
}

void launcher_close_spec(struct launcher *l)
{
	close_handle((uv_handle_t *)&l->spec);
}

void launcher_close(struct launcher *l)
{
	uv_handle_t *hs[] = {(uv_handle_t *)&l->in,	(uv_handle_t *)&l->out,
			     (uv_handle_t *)&l->err,	(uv_handle_t *)&l->spec,
			     (uv_handle_t *)&l->status, (uv_handle_t *)&l->proc};

	for (size_t h = 0; h < sizeof(hs) / sizeof(*hs); h++)
		close_handle(hs[h]);
}

/* The run ends when the process has exited and every pipe is drained:
 * only then is all of its output in the job's files. */
static void maybe_done(struct launcher *l)
{
	if (l->exited && l->out_eof && l->err_eof && l->status_eof)
		runner_launcher_done(l);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct launcher *l = h->data;

	(void)suggested;
	*buf = uv_buf_init(l->r->buf, sizeof(l->r->buf));
}

static void on_launcher_exit(uv_process_t *p, int64_t status, int term_signal)
{
	struct launcher *l = p->data;

	l->exited = true;
	l->exit_status = status;
	l->term_signal = term_signal;
	runner_launcher_exited(l);
	maybe_done(l);
}

static void handle_event(struct launcher *l, json_t *ev)
{
	switch (wire_event_kind(ev)) {
	case WIRE_STARTED:
		if (l->run == NULL)
			break;
		l->run->t_started = uv_hrtime();
		/* Held from now on, what the run writes in a scratch
		 * workspace outlives the sandbox until it is collected. */
		if (l->run->scratch && l->run->scratch_fd < 0) {
			json_t *pid = json_object_get(ev, "pid");
			json_t *script = json_object_get(ev, "script_pid");
			int fd = runner_open_scratch(
			    l->proc.pid, json_is_integer(pid) ? (pid_t)json_integer_value(pid) : 0,
			    json_is_integer(script) ? (pid_t)json_integer_value(script) : 0,
			    json_string_value(json_object_get(ev, "workspace")));
			if (fd >= 0)
				l->run->scratch_fd = fd;
			else
				log_msg(LOG_LEVEL_DEBUG, "scratch workspace not opened: %s",
					strerror(-fd));
		}
		if (l->run->job)
			jobs_set_status(l->r->jobs, l->run->job, JOB_RUNNING, NULL, NULL);
		break;
	case WIRE_EXIT:
		if (l->run)
			l->run->t_exit_event = uv_hrtime();
		if (l->run && l->run->job) {
			struct wire_exit ex;
			wire_exit_read(ev, &ex);
			pm_metric_inc2("python_mcp_runs_total", "outcome",
				       ex.signal	   ? "killed"
				       : ex.exit_code == 0 ? "success"
							   : "error",
				       "limit", ex.limit ? ex.limit : "none");
			pm_metric_observe_run_seconds(ex.wall_seconds);
		}
		json_decref(l->exit_event);
		l->exit_event = json_incref(ev);
		break;
	case WIRE_ERROR:
		wire_error_text(ev, l->error, sizeof(l->error));
		pm_metric_inc("python_mcp_sandbox_setup_failures_total", "stage",
			      json_string_value(json_object_get(ev, "stage")));
		break;
	case WIRE_PROGRESS:
		/* The launcher already bounded its rate and size. */
		if (l->run && l->run->job) {
			struct wire_progress wp;
			wire_progress_read(ev, &wp);
			/* A session's progress is its run's. */
			if (l->run->io.progress)
				l->run->io.progress(l->run->io.data, wp.current, wp.total,
						    wp.message);
			else
				jobs_set_progress(l->r->jobs, l->run->job, wp.current, wp.total,
						  wp.message);
		}
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
		maybe_done(l);
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
		maybe_done(l);
		return;
	}
	if (n > 0 && l->run && l->run->io.output) {
		l->run->io.output(l->run->io.data, stream, buf->base, (size_t)n);
	} else if (n > 0 && l->run && l->run->job == NULL) {
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

struct launcher *launcher_spawn(struct runner *r, const char *policy, bool input,
				struct pm_error *err)
{
	struct launcher *l = calloc(1, sizeof(*l));
	uv_pipe_t *pipes[] = {&l->in, &l->out, &l->err, &l->spec, &l->status};
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

	if (l == NULL || (l->policy = strdup(policy)) == NULL) {
		free(l);
		pm_error_set(err, "runner", ENOMEM, "start a sandbox launcher");
		return NULL;
	}
	l->r = r;
	framer_init(&l->status_lines, STATUS_LINE_MAX);
	/* Linked at once: on_handle_closed() unlinks it whatever happens. */
	LIST_INSERT_HEAD(&r->all, l, all_link);
	for (size_t i = 0; i < 5; i++) {
		uv_pipe_init(r->loop, pipes[i], 0);
		pipes[i]->data = l;
	}
	l->proc.data = l;
	/* A session's driver reads its requests on stdin; the launcher hands
	 * its fd 0 down to the job as it is. */
	stdio[0] = input ? (uv_stdio_container_t){UV_CREATE_PIPE | UV_READABLE_PIPE,
						  {(uv_stream_t *)&l->in}}
			 : (uv_stdio_container_t){.flags = UV_IGNORE};
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
		for (size_t i = 0; i < 5; i++)
			close_handle((uv_handle_t *)pipes[i]);
		close_handle((uv_handle_t *)&l->proc);
		return NULL;
	}
	uv_read_start((uv_stream_t *)&l->out, alloc_cb, on_stdout);
	uv_read_start((uv_stream_t *)&l->err, alloc_cb, on_stderr);
	uv_read_start((uv_stream_t *)&l->status, alloc_cb, on_status);
	return l;
}

struct input_write {
	uv_write_t req;
	char bytes[];
};

static void on_input_written(uv_write_t *req, int status)
{
	/* A job that stopped reading (it ended, or was killed) fails the
	 * write; its end is told by its exit, not here. */
	(void)status;
	free(req);
}

int launcher_input(struct launcher *l, const char *buf, size_t len)
{
	struct input_write *w;
	uv_buf_t b;
	int rc;

	if (l->exited || uv_is_closing((uv_handle_t *)&l->in) ||
	    !uv_is_writable((uv_stream_t *)&l->in))
		return -EPIPE;
	if ((w = malloc(sizeof(*w) + len)) == NULL)
		return -ENOMEM;
	memcpy(w->bytes, buf, len);
	b = uv_buf_init(w->bytes, (unsigned)len);
	if ((rc = uv_write(&w->req, (uv_stream_t *)&l->in, &b, 1, on_input_written)) < 0)
		free(w);
	return rc;
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
	launcher_close_spec(w->l);
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

void launcher_start(struct launcher *l, struct run *run)
{
	struct spec_write *w = calloc(1, sizeof(*w));
	size_t len, sent = 0;

	l->run = run;
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
