/* A session's runs (sessions_internal.h): queued, started one at a time
 * by a request line to the driver, ended by its two end frames (or
 * failed when the sandbox goes), with the driver's output routed to the
 * run under way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sessions_internal.h"
#include "smart.h"

/* The run under way, or NULL. */
struct session_run *session_current(const struct session *s)
{
	return s->busy ? TAILQ_FIRST(&s->runs) : NULL;
}

void session_free_run(struct session_run *run)
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
	session_free_run(run);
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
	session_start_next(s);
}

/* A run that cannot go on: the session's sandbox ended under it, or it
 * never got there. */
void session_run_failed(struct session *s, struct session_run *run, const char *why)
{
	if (run->cancelled)
		jobs_end(s->t->exec->jobs, run->job, JOB_CANCELLED, NULL, true, "Job cancelled");
	else
		jobs_end(s->t->exec->jobs, run->job, JOB_FAILED, NULL, true, why);
	told_end(s, run);
}

void session_interrupt(struct session *s, struct session_run *run)
{
	struct pm_error err = {0};

	if (run->interrupted)
		return;
	run->interrupted = true;
	if (session_send_line(s, json_pack("{s:I}", "interrupt", run->seq), &err) < 0)
		log_warn("session %s: interrupting run %lld: %s", s->job->id, run->seq,
			 err.message);
	session_set_timer(s, TIMER_GRACE, s->t->cfg.grace_seconds);
}

void session_start_next(struct session *s)
{
	struct session_run *run = TAILQ_FIRST(&s->runs);
	struct pm_error err = {0};

	if (!s->ready || s->busy || job_status_is_final(s->job->status))
		return;
	if (run == NULL) {
		session_set_timer(s, TIMER_IDLE, s->idle_timeout);
		return;
	}
	s->busy = true;
	run->t0 = uv_hrtime();
	run->started = artifacts_clock();
	jobs_set_status(s->t->exec->jobs, run->job, JOB_RUNNING, NULL, NULL);
	session_set_timer(s, run->timeout_seconds > 0 ? TIMER_RUN : TIMER_NONE,
			  run->timeout_seconds);
	if (session_send_line(s, json_pack("{s:I, s:s}", "seq", run->seq, "code", run->code),
			      &err) < 0) {
		/* The sandbox is going: its end fails this run with the reason. */
		log_warn("session %s: %s", s->job->id, err.message);
		session_kill(s, "its sandbox stopped taking requests");
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
	struct session_run *run = session_current(s);
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
	session_start_next(s);
}

static int on_frame(void *data, const char *text, size_t len)
{
	struct stream_ctx *c = data;
	struct session *s = c->s;
	struct session_run *run = session_current(s);
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

void session_on_progress(void *data, double done, double total, const char *message)
{
	struct session *s = data;
	struct session_run *run = session_current(s);

	jobs_set_progress(s->t->exec->jobs, run ? run->job : s->job, done, total, message);
}

void session_on_output(void *data, enum job_stream stream, const char *buf, size_t len)
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
		session_kill(s, r == -E2BIG ? "its driver wrote a frame over 512 KiB (was it "
					      "tampered with?)"
					    : "out of memory reading its output");
}
