/* What a call that waits for its job tells the client while it waits:
 * progress notifications (when the request carried a progress token) and
 * log notifications of the job's events (started, finished, a limit hit,
 * switched to the background; the protocol sends them only at the level
 * the client asked for).
 *
 * Progress: while the script reports none, `progress` is the bytes of
 * output it has produced and `message` its newest lines; once it reports
 * (PYMCP_PROGRESS_FD), its own current/total and message, shifted by what
 * was sent before so that `progress` only ever increases.  At most two
 * a second (rate_gate.h): changes in between are folded into the next one. */
#include "live_feed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rate_gate.h"
#include "tools_internal.h"

#define MIN_INTERVAL_MS 500
/* A held change goes out at the latest this long after the last one. */
#define HOLD_MS 1000
/* What the message keeps of the newest lines. */
#define MESSAGE_BYTES 300

struct live_feed {
	struct tools *t;
	struct tool_call *call;
	struct job *job;
	struct jobs_watch *watch;
	struct rate_gate gate; /* its timer's close callback frees the feed */
	bool progress;	       /* the client wants progress */
	bool running_logged;
	double last_sent; /* the last notification's progress value */
	double offset;	  /* added to the script's own numbers */
	bool script_mode; /* the script reports its progress */
	uint64_t last_bytes;
};

static uint64_t produced(const struct job *j)
{
	return j->produced[JOB_STDOUT] + j->produced[JOB_STDERR];
}

/* The newest lines of stdout (or of stderr when stdout has none), at most
 * MESSAGE_BYTES, into buf. */
static void newest_lines(struct live_feed *f, char *buf, size_t size)
{
	size_t len;
	const char *text = jobs_tail(f->job, JOB_STDOUT, &len), *start;

	/* From memory (jobs_tail), not the output files: this runs a few
	 * times a second for every watched job. */
	if (len == 0)
		text = jobs_tail(f->job, JOB_STDERR, &len);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	/* Back to the start of the third line from the end, within the cap. */
	start = text + len;
	for (int lines = 0; start > text && lines < 3;) {
		start--;
		if (*start == '\n' && ++lines == 3)
			start++;
	}
	if ((size_t)(text + len - start) > size - 1)
		start = text + len - (size - 1);
	/* Never start inside a UTF-8 sequence; bytes that are no UTF-8 at all
	 * are replaced where the notification is built. */
	while (start < text + len && ((unsigned char)*start & 0xC0) == 0x80)
		start++;
	snprintf(buf, size, "%.*s", (int)(text + len - start), start);
}

static void send_progress(void *data)
{
	struct live_feed *f = data;
	const json_t *p = f->job->progress;
	double current = json_number_value(json_object_get(p, "current"));
	double total = json_number_value(json_object_get(p, "total"));
	const char *smsg = json_string_value(json_object_get(p, "message"));
	char message[MESSAGE_BYTES + 64];
	double value, of = NAN;

	if (f->script_mode) {
		value = f->offset + current;
		of = total > 0 ? f->offset + total : NAN;
		snprintf(message, sizeof(message), "%s", smsg ? smsg : "");
	} else {
		uint64_t bytes = produced(f->job);
		if (bytes == f->last_bytes)
			return;
		f->last_bytes = bytes;
		value = (double)bytes;
		newest_lines(f, message, MESSAGE_BYTES);
	}
	if (!(value > f->last_sent))
		return; /* the protocol wants it to increase */
	f->last_sent = value;
	tool_progress(f->call, value, of, message);
}

static void progress_changed(struct live_feed *f)
{
	if (f->progress)
		rate_gate_changed(&f->gate);
}

static void log_end(struct live_feed *f)
{
	struct job *j = f->job;
	/* The stored result alone: the limit is there, and jobs_result()
	 * would read the output files only to throw them away. */
	json_t *result = j->result ? json_loads(j->result, 0, NULL) : NULL;
	const char *limit = json_string_value(json_object_get(result, "limit"));
	char msg[512];

	if (limit && strcmp(limit, "cancel") != 0) {
		snprintf(msg, sizeof(msg), "job %s hit its %s limit", j->id, limit);
		tool_log(f->call, "warning", msg);
	}
	snprintf(msg, sizeof(msg), "job %s %s%s%s", j->id, job_status_name(j->status),
		 j->error ? ": " : "", j->error ? j->error : "");
	tool_log(f->call, j->status == JOB_COMPLETED ? "info" : "warning", msg);
	json_decref(result);
}

static void on_event(struct job *j, enum job_event ev, void *data)
{
	struct live_feed *f = data;

	switch (ev) {
	case JOB_EVENT_STATUS:
		if (j->status == JOB_RUNNING && !f->running_logged) {
			char msg[96];
			f->running_logged = true;
			snprintf(msg, sizeof(msg), "job %s started", j->id);
			tool_log(f->call, "info", msg);
		} else if (job_status_is_final(j->status)) {
			/* What it printed last goes before the answer. */
			rate_gate_flush(&f->gate);
			log_end(f);
		}
		break;
	case JOB_EVENT_PROGRESS:
		/* Before the script runs, progress is the server's own
		 * (dependency installs): not the script's. */
		if (j->status == JOB_RUNNING && !f->script_mode) {
			f->script_mode = true;
			f->offset = f->last_sent;
		}
		progress_changed(f);
		break;
	case JOB_EVENT_OUTPUT:
		if (!f->script_mode)
			progress_changed(f);
		break;
	case JOB_EVENT_REMOVED:
		f->watch = NULL; /* the table drops the watch with the job */
		break;
	}
}

struct live_feed *live_feed_start(struct tools *t, struct tool_call *call, struct job *j)
{
	struct live_feed *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	*f = (struct live_feed){
	    .t = t, .call = call, .job = j, .progress = call->wants_progress, .last_sent = 0};
	if ((f->watch = jobs_watch(t->cfg.exec.jobs, j, on_event, f)) == NULL) {
		free(f);
		return NULL;
	}
	rate_gate_init(&f->gate, t->cfg.exec.loop, MIN_INTERVAL_MS, HOLD_MS, send_progress, f);
	return f;
}

void live_feed_background(struct live_feed *f, double budget)
{
	char msg[160];

	if (f == NULL)
		return;
	snprintf(msg, sizeof(msg), "job %s runs on in the background after the %.1f s budget",
		 f->job->id, budget);
	tool_log(f->call, "info", msg);
}

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

void live_feed_stop(struct live_feed *f)
{
	if (f == NULL)
		return;
	jobs_unwatch(f->t->cfg.exec.jobs, f->watch);
	rate_gate_stop(&f->gate);
	uv_close((uv_handle_t *)&f->gate.timer, on_closed);
}
