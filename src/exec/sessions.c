#include "sessions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "artifacts.h"
#include "log.h"
#include "random.h"
#include "session_frames.h"
#include "smart.h"

/* session_driver.py, compiled in (cmake/embed.cmake). */
extern const char session_driver_source[];

#define DRIVER_NAME ".python-mcp/python_mcp_session.py"

struct session_run {
	TAILQ_ENTRY(session_run) link;
	struct job *job;
	char *code;
	double timeout_seconds; /* 0: none */
	long long seq;
	uint64_t t0; /* uv_hrtime() when it started */
	struct timespec started;
	bool got_out, got_err; /* the driver's two end frames */
	json_t *end;	       /* the stdout frame */
	bool cancelled, timed_out, interrupted;
	void (*cancel_done)(struct job *j, void *arg);
	void *cancel_arg;
};

enum session_timer { TIMER_NONE, TIMER_IDLE, TIMER_RUN, TIMER_GRACE };

struct session {
	LIST_ENTRY(session) link;
	struct sessions *t;
	struct job *job; /* the sandbox's; its id is the session's */
	struct jobs_watch *watch;
	struct runner_io io;
	char marker[SESSION_MARKER_MAX];
	struct frame_scan scan[2];
	bool ready;
	double idle_timeout;
	uv_timer_t timer;
	enum session_timer timer_kind;
	TAILQ_HEAD(, session_run) runs; /* the first is under way when `busy` */
	bool busy;
	long long next_seq, runs_done;
	int ws_fd;		       /* the workspace, for the runs' files; -1: scratch */
	struct artifact_memory listed; /* what the last run's files were */
	json_t *resolved;	       /* exec's: interpreter, dependencies, directory */
	struct sessions_start *starter;
	char *kill_reason; /* why the server ends it (close, idle, grace) */
	char *exit_reason; /* how its sandbox ended by itself (a limit, an exit) */
	void (*close_done)(struct job *j, void *arg);
	void *close_arg;
	bool output_error_logged;
};

struct sessions_start {
	struct session *s;
	sessions_started_fn fn;
	void *data;
};

struct sessions {
	const struct exec_env *exec;
	struct sessions_config cfg;
	LIST_HEAD(, session) live;
	size_t n_live;
};

struct sessions *sessions_new(const struct exec_env *exec, const struct sessions_config *cfg)
{
	struct sessions *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->exec = exec;
	t->cfg = *cfg;
	LIST_INIT(&t->live);
	return t;
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *timer);

static void set_timer(struct session *s, enum session_timer kind, double seconds)
{
	uv_timer_stop(&s->timer);
	s->timer_kind = TIMER_NONE;
	if (kind == TIMER_NONE || seconds <= 0)
		return;
	s->timer_kind = kind;
	uv_timer_start(&s->timer, on_timer, (uint64_t)(seconds * 1000.0), 0);
}

/* ---- the sandbox ---- */

/* Ends the session's sandbox, every process with it; the rest happens
 * when its job ends (on_session_job). */
static void kill_session(struct session *s, const char *why)
{
	struct pm_error err = {0};

	if (s->kill_reason == NULL)
		s->kill_reason = strdup(why);
	if (!job_status_is_final(s->job->status) &&
	    runner_cancel(s->t->exec->runner, s->job, NULL, NULL, &err) < 0)
		log_warn("session %s: ending it: %s", s->job->id, err.message);
}

static int send_line(struct session *s, json_t *msg_new, struct pm_error *err)
{
	char *text = json_dumps(msg_new, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t len;
	int r;

	json_decref(msg_new);
	if (text == NULL)
		return pm_error_set(err, "session", ENOMEM, "a request to the session");
	len = strlen(text);
	text[len] = '\n'; /* the NUL goes: the line is len + 1 bytes */
	r = runner_input(s->t->exec->runner, s->job, text, len + 1, err);
	free(text);
	return r;
}

/* ---- runs ---- */

/* The run under way, or NULL. */
static struct session_run *current(const struct session *s)
{
	return s->busy ? TAILQ_FIRST(&s->runs) : NULL;
}

static void start_next(struct session *s);

static void free_run(struct session_run *run)
{
	json_decref(run->end);
	free(run->code);
	free(run);
}

/* Tells everyone the run's job ended (smart async, a cancel waiting). */
static void told_end(struct session *s, struct session_run *run)
{
	smart_job_ended(s->t->exec->smart, run->job);
	if (run->cancel_done)
		run->cancel_done(run->job, run->cancel_arg);
	free_run(run);
}

/* The run's files, as a run in a directory reports them. */
static void add_files(struct session *s, struct session_run *run, json_t *result)
{
	char *note = NULL;
	json_t *files;

	/* Without a directory, the session's own tmpfs (the runner holds it). */
	int ws = s->ws_fd >= 0 ? s->ws_fd : runner_scratch_fd(s->t->exec->runner, s->job);

	if (ws < 0 || s->t->exec->artifacts.max_bytes == 0)
		return;
	files = artifacts_collect(s->t->exec->jobs, run->job, ws, run->started,
				  &s->t->exec->artifacts, &s->listed, &note);
	if (json_array_size(files) > 0)
		json_object_set(result, "files", files);
	if (note)
		json_object_set_new(result, "files_note", json_string(note));
	json_decref(files);
	free(note);
}

/* The driver's `value` (a new reference, or NULL), cut as the driver
 * cuts it: one that tampered code forged cannot make a result (and
 * jobs.json) larger than that. */
static json_t *bounded_value(json_t *v)
{
	const char *text = json_string_value(v);
	size_t len = json_string_length(v), keep = SESSIONS_VALUE_MAX;

	if (text == NULL)
		return NULL;
	if (len <= SESSIONS_VALUE_MAX)
		return json_incref(v);
	while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80)
		keep--;
	return json_sprintf("%.*s... [%zu more bytes]", (int)keep, text, len - keep);
}

/* The driver said the run is over: its job ends with the result. */
static void run_finished(struct session *s, struct session_run *run)
{
	json_t *value = bounded_value(json_object_get(run->end, "value"));
	json_t *code = json_object_get(run->end, "exit_code");
	double elapsed = (double)(uv_hrtime() - run->t0) / 1e9;
	const char *limit = run->timed_out ? "time" : run->cancelled ? "cancel" : NULL;
	json_t *result =
	    json_pack("{s:s, s:I, s:o, s:f, s:b}", "session_id", s->job->id, "exit_code",
		      json_is_integer(code) ? json_integer_value(code) : 1, "value",
		      value ? value : json_null(), "elapsed_seconds", elapsed, "interrupted",
		      json_is_true(json_object_get(run->end, "interrupted")));

	json_object_set_new(result, "limit", limit ? json_string(limit) : json_null());
	add_files(s, run, result);
	TAILQ_REMOVE(&s->runs, run, link);
	s->busy = false;
	s->runs_done++;
	if (run->timed_out)
		jobs_append_output(s->t->exec->jobs, run->job, JOB_STDERR, "\n[TIMEOUT]\n", 11,
				   &(struct pm_error){0});
	jobs_end(s->t->exec->jobs, run->job, run->cancelled ? JOB_CANCELLED : JOB_COMPLETED, result,
		 true, run->cancelled ? "Job cancelled" : NULL);
	told_end(s, run);
	start_next(s);
}

/* A run that cannot go on: the session's sandbox ended under it, or it
 * never got there. */
static void run_failed(struct session *s, struct session_run *run, const char *why)
{
	if (run->cancelled)
		jobs_end(s->t->exec->jobs, run->job, JOB_CANCELLED, NULL, true, "Job cancelled");
	else
		jobs_end(s->t->exec->jobs, run->job, JOB_FAILED, NULL, true, why);
	told_end(s, run);
}

static void interrupt(struct session *s, struct session_run *run)
{
	struct pm_error err = {0};

	if (run->interrupted)
		return;
	run->interrupted = true;
	if (send_line(s, json_pack("{s:I}", "interrupt", run->seq), &err) < 0)
		log_warn("session %s: interrupting run %lld: %s", s->job->id, run->seq,
			 err.message);
	set_timer(s, TIMER_GRACE, s->t->cfg.grace_seconds);
}

static void start_next(struct session *s)
{
	struct session_run *run = TAILQ_FIRST(&s->runs);
	struct pm_error err = {0};

	if (!s->ready || s->busy || job_status_is_final(s->job->status))
		return;
	if (run == NULL) {
		set_timer(s, TIMER_IDLE, s->idle_timeout);
		return;
	}
	s->busy = true;
	run->t0 = uv_hrtime();
	run->started = artifacts_clock();
	jobs_set_status(s->t->exec->jobs, run->job, JOB_RUNNING, NULL, NULL);
	set_timer(s, run->timeout_seconds > 0 ? TIMER_RUN : TIMER_NONE, run->timeout_seconds);
	if (send_line(s, json_pack("{s:I, s:s}", "seq", run->seq, "code", run->code), &err) < 0) {
		/* The sandbox is going: its end fails this run with the reason. */
		log_warn("session %s: %s", s->job->id, err.message);
		kill_session(s, "its sandbox stopped taking requests");
	}
	free(run->code);
	run->code = NULL;
}

/* ---- the driver's streams ---- */

struct stream_ctx {
	struct session *s;
	enum job_stream stream;
};

static void route_output(void *data, const char *buf, size_t len)
{
	struct stream_ctx *c = data;
	struct session *s = c->s;
	struct session_run *run = current(s);
	struct pm_error err = {0};

	/* Between runs (a thread that prints on, the driver's own errors)
	 * it is the session's own output: py_job_status of its id. */
	if (jobs_append_output(s->t->exec->jobs, run ? run->job : s->job, c->stream, buf, len,
			       &err) < 0 &&
	    !s->output_error_logged) {
		s->output_error_logged = true;
		log_warn("session %s: %s", s->job->id, err.message);
	}
}

static void ready(struct session *s, json_t *frame)
{
	struct sessions_start *st = s->starter;

	s->ready = true;
	/* Its record is on disk before anyone hears of it: a restart right
	 * after still lists it. */
	struct pm_error err = {0};
	if (jobs_flush(s->t->exec->jobs, &err) < 0)
		log_warn("session %s: saving jobs.json: %s", s->job->id, err.message);
	if (st != NULL) {
		json_t *info = json_pack("{s:s, s:s?}", "session_id", s->job->id, "python",
					 json_string_value(json_object_get(frame, "python")));
		if (s->resolved)
			json_object_update_missing(info, s->resolved);
		s->starter = NULL;
		if (st->fn)
			st->fn(st->data, s->job, info, NULL);
		json_decref(info);
		free(st);
	}
	start_next(s);
}

static int on_frame(void *data, const char *text, size_t len)
{
	struct stream_ctx *c = data;
	struct session *s = c->s;
	struct session_run *run = current(s);
	json_t *frame = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *seq = json_object_get(frame, "seq");

	/* A frame the code forged can only confuse its own session. */
	if (c->stream == JOB_STDOUT && !s->ready && json_is_true(json_object_get(frame, "ready")))
		ready(s, frame);
	else if (run && json_is_integer(seq) && json_integer_value(seq) == run->seq) {
		if (c->stream == JOB_STDOUT && !run->got_out) {
			run->got_out = true;
			run->end = json_incref(frame);
		} else if (c->stream == JOB_STDERR) {
			run->got_err = true;
		}
		if (run->got_out && run->got_err)
			run_finished(s, run);
	}
	json_decref(frame);
	return 0;
}

static void on_progress(void *data, double done, double total, const char *message)
{
	struct session *s = data;
	struct session_run *run = current(s);

	jobs_set_progress(s->t->exec->jobs, run ? run->job : s->job, done, total, message);
}

static void on_output(void *data, enum job_stream stream, const char *buf, size_t len)
{
	struct session *s = data;
	struct stream_ctx c = {.s = s, .stream = stream};
	struct frame_sink sink = {.output = route_output, .frame = on_frame, .data = &c};
	int r;

	if (s->kill_reason != NULL)
		sink.frame = NULL; /* going: its output is kept, its frames do not matter */
	if (sink.frame == NULL) {
		route_output(&c, buf, len);
		return;
	}
	if ((r = frame_scan_feed(&s->scan[stream], buf, len, &sink)) < 0)
		kill_session(s, r == -E2BIG ? "its driver wrote a frame over 512 KiB (was it "
					      "tampered with?)"
					    : "out of memory reading its output");
}

/* ---- the session's end ---- */

static void on_timer_closed(uv_handle_t *h)
{
	struct session *s = h->data;

	free(s->kill_reason);
	free(s->exit_reason);
	json_decref(s->resolved);
	free(s);
}

/* Why a session that ended did: what the server did to it, else what its
 * sandbox said. */
static const char *end_reason(struct session *s, char *buf, size_t size)
{
	size_t len = 0;
	const char *tail = jobs_tail(s->job, JOB_STDERR, &len);

	if (s->kill_reason)
		return s->kill_reason;
	if (s->job->error && strcmp(s->job->error, "Job cancelled") != 0)
		return s->job->error;
	if (s->job->status == JOB_CANCELLED)
		return "cancelled (py_cancel_job of its id)";
	/* It ended by itself (a limit, os._exit, a crash): how, and its
	 * last words between runs. */
	snprintf(buf, size, "%s%s%.*s", s->exit_reason ? s->exit_reason : "its interpreter exited",
		 len ? ": " : "", (int)(len > 400 ? 400 : len),
		 len > 400 ? tail + len - 400 : tail);
	return buf;
}

static void teardown(struct session *s)
{
	struct sessions *t = s->t;
	struct session_run *run;
	char buf[512], why[640];
	const char *reason = end_reason(s, buf, sizeof(buf));

	snprintf(why, sizeof(why), "Session %s ended: %s", s->job->id, reason);
	/* Its record says why, for py_session_list now and after a restart. */
	if (reason != s->job->error) {
		char *copy = strdup(reason);
		if (copy != NULL) {
			free(s->job->error);
			s->job->error = copy;
			jobs_touch(t->exec->jobs, s->job);
		}
	}
	while ((run = TAILQ_FIRST(&s->runs)) != NULL) {
		TAILQ_REMOVE(&s->runs, run, link);
		run_failed(s, run, why);
	}
	if (s->starter) {
		struct sessions_start *st = s->starter;
		s->starter = NULL;
		if (st->fn)
			st->fn(st->data, s->job, NULL, why);
		free(st);
	}
	if (s->close_done)
		s->close_done(s->job, s->close_arg);
	LIST_REMOVE(s, link);
	t->n_live--;
	jobs_unwatch(t->exec->jobs, s->watch);
	for (int i = 0; i < 2; i++)
		frame_scan_free(&s->scan[i]);
	if (s->ws_fd >= 0)
		close(s->ws_fd);
	artifact_memory_clear(&s->listed);
	uv_timer_stop(&s->timer);
	uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

static void on_session_job(struct job *j, enum job_event ev, void *data)
{
	struct session *s = data;

	if (ev == JOB_EVENT_STATUS && job_status_is_final(j->status))
		teardown(s);
}

static void on_timer(uv_timer_t *timer)
{
	struct session *s = timer->data;
	struct session_run *run = TAILQ_FIRST(&s->runs);
	char why[160];
	enum session_timer kind = s->timer_kind;

	s->timer_kind = TIMER_NONE;
	if (kind == TIMER_IDLE) {
		snprintf(why, sizeof(why),
			 "closed after %.0f s without a run (idle_timeout_seconds)",
			 s->idle_timeout);
		kill_session(s, why);
	} else if (kind == TIMER_RUN && s->busy) {
		run->timed_out = true;
		interrupt(s, run);
	} else if (kind == TIMER_GRACE && s->busy) {
		snprintf(why, sizeof(why),
			 "killed: run %lld did not stop within %.0f s of KeyboardInterrupt",
			 run->seq, s->t->cfg.grace_seconds);
		kill_session(s, why);
	}
}

/* ---- starting ---- */

/* The session's job: its result names it; the session itself hears of
 * the end through its watch. */
static json_t *shape_session(const struct exec_outcome *o)
{
	struct session *s = o->shape_data;
	const struct run_outcome *r = o->run;
	char why[640];

	if (r->limit)
		snprintf(why, sizeof(why), "the sandbox's %s limit ended it%s%s%s", r->limit,
			 r->limit_detail ? " (" : "", r->limit_detail ? r->limit_detail : "",
			 r->limit_detail ? ")" : "");
	else if (r->signal)
		snprintf(why, sizeof(why), "its interpreter was killed by signal %d", r->signal);
	else
		snprintf(why, sizeof(why), "its interpreter exited with code %d", r->exit_code);
	free(s->exit_reason);
	s->exit_reason = strdup(why);

	return json_pack("{s:s, s:I}", "session_id", o->job->id, "runs", s->runs_done);
}

static int make_request(struct session *s, const struct exec_request *given,
			struct exec_request *req, json_t **vars, struct pm_error *err)
{
	char token[33];
	int r;

	if ((r = pm_random_hex(token, 16)) < 0)
		return pm_error_set(err, "session", -r, "getrandom");
	snprintf(s->marker, sizeof(s->marker), "\x1epymcp-%s:", token);
	*vars = given->env_vars ? json_deep_copy(given->env_vars) : json_object();
	if (*vars == NULL ||
	    json_object_set_new(*vars, "PYMCP_SESSION_TOKEN", json_sprintf("pymcp-%s", token)) < 0)
		return pm_error_set(err, "session", ENOMEM, "the session's environment");
	*req = *given;
	req->script_path = NULL;
	req->script_content = session_driver_source;
	req->content_name = DRIVER_NAME;
	req->args = NULL;
	req->env_vars = *vars;
	req->timeout_seconds = 0;
	req->async_mode = true;
	req->detect_imports = false;
	req->io = &s->io;
	req->keep_ws_fd = &s->ws_fd;
	req->resolved = &s->resolved;
	req->shape = shape_session;
	req->shape_data = s;
	return 0;
}

/* The server's cap, and (over HTTP with tenants) each tenant's share of
 * it, so that one tenant cannot hold every session. */
static int admit(struct sessions *t, const char *tenant, struct pm_error *err)
{
	size_t mine = 0;
	struct session *s;

	LIST_FOREACH (s, &t->live, link)
		if (tenant && jobs_visible(s->job, tenant))
			mine++;
	if (t->n_live >= t->cfg.max_sessions)
		pm_error_set(err, "session", 0,
			     "%zu sessions are open, the most this server allows (--max-sessions)",
			     t->n_live);
	else if (tenant && t->cfg.tenant_max_sessions && mine >= t->cfg.tenant_max_sessions)
		pm_error_set(err, "session", 0,
			     "%zu of your sessions are open, the most one tenant may have "
			     "(--tenant-max-sessions)",
			     mine);
	else
		return 0;
	return pm_error_hint(err, "close one with py_session_close (py_session_list lists them)");
}

int sessions_start(struct sessions *t, const struct exec_request *given, double idle_timeout,
		   sessions_started_fn fn, void *data, struct sessions_start **out,
		   struct pm_error *err)
{
	struct session *s;
	struct sessions_start *st;
	struct exec_request req;
	json_t *vars = NULL;
	struct job *j;
	int r;

	*out = NULL;
	if ((r = admit(t, given->tenant, err)) < 0)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL || (st = calloc(1, sizeof(*st))) == NULL) {
		free(s);
		return pm_error_set(err, "session", ENOMEM, "a session");
	}
	s->t = t;
	s->ws_fd = -1;
	s->idle_timeout = idle_timeout;
	s->io = (struct runner_io){.output = on_output, .progress = on_progress, .data = s};
	s->next_seq = 1;
	TAILQ_INIT(&s->runs);
	if ((r = make_request(s, given, &req, &vars, err)) < 0 ||
	    (r = exec_start(t->exec, &req, &j, err)) < 0) {
		json_decref(vars);
		json_decref(s->resolved);
		if (s->ws_fd >= 0)
			close(s->ws_fd);
		free(st);
		free(s);
		return r;
	}
	json_decref(vars);
	s->job = j;
	for (int i = 0; i < 2; i++)
		frame_scan_init(&s->scan[i], s->marker);
	uv_timer_init(t->exec->loop, &s->timer);
	s->timer.data = s;
	LIST_INSERT_HEAD(&t->live, s, link);
	t->n_live++;
	/* An install that could not start has ended the job already. */
	if (job_status_is_final(j->status)) {
		pm_error_set(err, "session", EIO, "session %s could not start: %s", j->id,
			     j->error ? j->error : "its sandbox ended");
		free(st);
		teardown(s);
		return pm_error_code(err);
	}
	if ((s->watch = jobs_watch(t->exec->jobs, j, on_session_job, s)) == NULL) {
		/* Unheard, its end could not free it: it stays counted. */
		free(st);
		kill_session(s, "out of memory");
		return pm_error_set(err, "session", ENOMEM, "watching session %s", j->id);
	}
	*st = (struct sessions_start){.s = s, .fn = fn, .data = data};
	s->starter = st;
	*out = st;
	return 0;
}

void sessions_forget(struct sessions_start *st)
{
	/* The caller went away: the session lives on (until idle). */
	st->fn = NULL;
}

/* ---- finding ---- */

static struct session *find_live(struct sessions *t, const char *tenant, const char *id)
{
	struct session *s;

	LIST_FOREACH (s, &t->live, link)
		if (strcmp(s->job->id, id) == 0 && jobs_visible(s->job, tenant))
			return s;
	return NULL;
}

/* What a closed session's record says, as its owner sees it: a
 * session the server's end took was ended by a restart. */
static const char *shown_reason(const char *error)
{
	if (error == NULL)
		return "it ended";
	if (strncmp(error, "Server restarted", 16) == 0 ||
	    strncmp(error, "Server shut down", 16) == 0)
		return "Server restarted";
	return error;
}

/* Why there is no live session `id`: err says. */
static int not_live(struct sessions *t, const char *tenant, const char *id, struct pm_error *err)
{
	struct job *j = jobs_get(t->exec->jobs, id);

	if (j && jobs_visible(j, tenant) && j->tool && strcmp(j->tool, SESSIONS_TOOL) == 0) {
		pm_error_set(err, "session", 0, "session %s is closed: %s", id,
			     shown_reason(j->error));
		return pm_error_hint(err, "start a new one with py_session_start");
	}
	pm_error_set(err, "session", 0, "no session %.64s", id);
	return pm_error_hint(err, "py_session_list lists your sessions; py_session_start starts "
				  "one");
}

/* ---- the tools' operations ---- */

int sessions_run(struct sessions *t, const char *tenant, const char *id, const char *code,
		 double timeout_seconds, const char *label, struct job **out, struct pm_error *err)
{
	struct session *s = find_live(t, tenant, id);
	struct session_run *run;
	struct job *j;

	*out = NULL;
	if (s == NULL)
		return not_live(t, tenant, id, err);
	if (strlen(code) > SESSIONS_CODE_MAX)
		return pm_error_set(err, "session", 0, "code of %zu bytes: at most %d per run",
				    strlen(code), SESSIONS_CODE_MAX);
	size_t waiting = 0;
	TAILQ_FOREACH (run, &s->runs, link)
		waiting++;
	if (waiting - (s->busy ? 1 : 0) >= SESSIONS_RUNS_QUEUED_MAX) {
		pm_error_set(err, "session", 0, "%d runs already wait in session %s",
			     SESSIONS_RUNS_QUEUED_MAX, id);
		return pm_error_hint(err, "wait for them (py_job_status) or cancel some");
	}
	if ((run = calloc(1, sizeof(*run))) == NULL || (run->code = strdup(code)) == NULL) {
		free(run);
		return pm_error_set(err, "session", ENOMEM, "a run");
	}
	j = jobs_create(t->exec->jobs, SESSIONS_RUN_TOOL, label ? label : SESSIONS_RUN_TOOL, tenant,
			err);
	if (j == NULL) {
		free_run(run);
		return pm_error_code(err);
	}
	run->job = j;
	run->timeout_seconds = timeout_seconds;
	run->seq = s->next_seq++;
	TAILQ_INSERT_TAIL(&s->runs, run, link);
	if (s->timer_kind == TIMER_IDLE)
		set_timer(s, TIMER_NONE, 0);
	start_next(s);
	*out = j;
	return 0;
}

static struct session_run *find_run(struct sessions *t, const struct job *j, struct session **out)
{
	struct session *s;
	struct session_run *run;

	LIST_FOREACH (s, &t->live, link)
		TAILQ_FOREACH (run, &s->runs, link)
			if (run->job == j) {
				*out = s;
				return run;
			}
	return NULL;
}

bool sessions_owns_run(const struct sessions *t, const struct job *j)
{
	struct session *s;

	return j->tool && strcmp(j->tool, SESSIONS_RUN_TOOL) == 0 &&
	       find_run((struct sessions *)t, j, &s) != NULL;
}

int sessions_cancel_run(struct sessions *t, struct job *j, void (*done)(struct job *j, void *arg),
			void *arg, struct pm_error *err)
{
	struct session *s;
	struct session_run *run = find_run(t, j, &s);

	if (run == NULL)
		return pm_error_set(err, "session", 0, "run %s is not under way", j->id);
	if (done != NULL && run->cancel_done == NULL) {
		run->cancel_done = done;
		run->cancel_arg = arg;
	}
	run->cancelled = true;
	if (s->busy && run == TAILQ_FIRST(&s->runs)) {
		interrupt(s, run);
		return 0;
	}
	TAILQ_REMOVE(&s->runs, run, link);
	run_failed(s, run, NULL);
	return 0;
}

int sessions_close(struct sessions *t, const char *tenant, const char *id,
		   void (*done)(struct job *j, void *arg), void *arg, struct pm_error *err)
{
	struct session *s = find_live(t, tenant, id);

	if (s == NULL)
		return not_live(t, tenant, id, err);
	if (done != NULL && s->close_done == NULL) {
		s->close_done = done;
		s->close_arg = arg;
	}
	kill_session(s, "closed (py_session_close)");
	return 0;
}

json_t *sessions_list(struct sessions *t, const char *tenant, size_t max)
{
	json_t *list = json_array();

	for (struct job *j = jobs_newest(t->exec->jobs); j && json_array_size(list) < max;
	     j = jobs_older(j)) {
		struct session *s;
		const char *status = "closed", *reason = shown_reason(j->error);

		if (!j->tool || strcmp(j->tool, SESSIONS_TOOL) != 0 || !jobs_visible(j, tenant))
			continue;
		if ((s = find_live(t, tenant, j->id)) != NULL) {
			status = !s->ready ? "starting" : s->busy ? "busy" : "idle";
			reason = NULL;
		}
		json_t *e = json_pack("{s:s, s:s, s:s, s:o}", "session_id", j->id, "label",
				      j->label ? j->label : SESSIONS_TOOL, "status", status,
				      "created_at", job_time_json(j->created_at));
		if (s)
			json_object_set_new(e, "runs", json_integer(s->runs_done));
		if (reason)
			json_object_set_new(e, "reason", json_string(reason));
		json_array_append_new(list, e);
	}
	return list;
}

void sessions_free(struct sessions *t)
{
	free(t);
}
