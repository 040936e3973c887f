/* A session's table, its sandbox, its start and its end; its runs are in
 * session_runs.c (sessions_internal.h). */
#include "sessions_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifacts.h"
#include "log.h"
#include "random.h"

/* session_driver.py, compiled in (cmake/embed.cmake). */
extern const char session_driver_source[];

#define DRIVER_NAME ".python-mcp/python_mcp_session.py"

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

void session_set_timer(struct session *s, enum session_timer kind, double seconds)
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
void session_kill(struct session *s, const char *why)
{
	struct pm_error err = {0};

	if (s->kill_reason == NULL)
		s->kill_reason = strdup(why);
	if (!job_status_is_final(s->job->status) &&
	    runner_cancel(s->t->exec->runner, s->job, NULL, NULL, &err) < 0)
		log_warn("session %s: ending it: %s", s->job->id, err.message);
}

int session_send_line(struct session *s, json_t *msg_new, struct pm_error *err)
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
		session_run_failed(s, run, why);
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
		session_kill(s, why);
	} else if (kind == TIMER_RUN && s->busy) {
		run->timed_out = true;
		session_interrupt(s, run);
	} else if (kind == TIMER_GRACE && s->busy) {
		snprintf(why, sizeof(why),
			 "killed: run %lld did not stop within %.0f s of KeyboardInterrupt",
			 run->seq, s->t->cfg.grace_seconds);
		session_kill(s, why);
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
	s->io = (struct runner_io){
	    .output = session_on_output, .progress = session_on_progress, .data = s};
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
		session_kill(s, "out of memory");
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
		session_free_run(run);
		return pm_error_code(err);
	}
	run->job = j;
	run->timeout_seconds = timeout_seconds;
	run->seq = s->next_seq++;
	TAILQ_INSERT_TAIL(&s->runs, run, link);
	if (s->timer_kind == TIMER_IDLE)
		session_set_timer(s, TIMER_NONE, 0);
	session_start_next(s);
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
		session_interrupt(s, run);
		return 0;
	}
	TAILQ_REMOVE(&s->runs, run, link);
	session_run_failed(s, run, NULL);
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
	session_kill(s, "closed (py_session_close)");
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
