/* py_job_status, py_list_jobs, py_prune_jobs and job-stream://{job_id}
 * (py_cancel_job is in cancel_tool.c).  Output is always read in bounded
 * windows, so a status call costs the same whatever the job printed: one
 * hash lookup and at most four reads of the inline cap. */
#include "tools_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Texts are built in a memory stream: libc grows it, and a failed write
 * shows at close (-ENOMEM, the buffer freed). */
struct text {
	FILE *f;
	char *data;
	size_t len;
};

static int text_open(struct text *t)
{
	*t = (struct text){0};
	t->f = open_memstream(&t->data, &t->len);
	return t->f ? 0 : -ENOMEM;
}

static int text_close(struct text *t)
{
	bool failed = ferror(t->f) != 0;

	if (fclose(t->f) != 0 || failed) {
		free(t->data);
		t->data = NULL;
		return -ENOMEM;
	}
	return 0;
}

enum window { WHOLE, SINCE_CURSOR };

/* Appends to out a window of a stream's output followed, when the window
 * does not show everything, by a marker saying what is left out and where
 * it is.  *consumed (may be NULL) is what a cursor should advance by. */
static int add_output(struct tools *t, struct job *j, enum job_stream s, enum window w, size_t cap,
		      FILE *out, uint64_t *consumed, struct pm_error *err)
{
	uint64_t from = w == WHOLE ? 0 : j->cursor[s];
	struct job_read rd;
	char more[PATH_MAX + 256], loss[256];
	int r;

	r = jobs_read(t->cfg.exec.jobs, j, s, from, cap, &rd, err);
	if (r < 0)
		return r;
	fwrite(rd.text, 1, rd.len, out);
	job_read_release(&rd);
	jobs_more_note(t->cfg.exec.jobs, j, s, w == WHOLE ? JOBS_VIEW_WHOLE : JOBS_VIEW_SINCE, from,
		       &rd, more, sizeof(more));
	fputs(more, out);
	/* Said always by the whole view, once by the incremental one: when
	 * it reaches the end of what was kept (or at once when nothing is). */
	jobs_loss_note(t->cfg.exec.jobs, j, s, loss, sizeof(loss));
	if (w == WHOLE || (!rd.more && (rd.consumed > 0 || (j->evicted && from == 0))))
		fputs(loss, out);
	if (consumed)
		*consumed = rd.consumed;
	return 0;
}

/* The window as a JSON string, or NULL with err filled. */
static json_t *output_json(struct tools *t, struct job *j, enum job_stream s, enum window w,
			   uint64_t *consumed, struct pm_error *err)
{
	struct text out;
	json_t *v = NULL;
	int r;

	if (text_open(&out) < 0) {
		pm_error_set(err, "jobs", ENOMEM, "output of job `%s`", j->id);
		return NULL;
	}
	r = add_output(t, j, s, w, t->cfg.inline_output_bytes, out.f, consumed, err);
	if (text_close(&out) < 0 && r == 0)
		r = pm_error_set(err, "jobs", ENOMEM, "output of job `%s`", j->id);
	if (r == 0 && (v = json_stringn(out.data, out.len)) == NULL)
		pm_error_set(err, "jobs", EINVAL, "output of job `%s` is not UTF-8", j->id);
	free(out.data);
	return v;
}

/* Client-supplied ids go into messages cut to a sane length, never in the
 * middle of a UTF-8 character. */
static void id_for_message(const char *id, char *buf, size_t size)
{
	size_t n = strlen(id), max = size - 4;

	if (n <= max) {
		memcpy(buf, id, n + 1);
		return;
	}
	while (max > 0 && ((unsigned char)id[max] & 0xC0) == 0x80)
		max--;
	memcpy(buf, id, max);
	memcpy(buf + max, "...", 4);
}

struct job *tools_job_of(struct tools *t, const char *tenant, const char *id)
{
	struct job *j = id ? jobs_get(t->cfg.exec.jobs, id) : NULL;

	/* Another tenant's job is no job at all for this one: the same
	 * answer as an unknown id, so ids cannot be probed. */
	return j && jobs_visible(j, tenant) ? j : NULL;
}

struct job *tools_find_job(struct tools *t, struct tool_call *call, const char *id)
{
	struct job *j = tools_job_of(t, call->tenant, id);
	char shown[80];

	if (j != NULL)
		return j;
	id_for_message(id, shown, sizeof(shown));
	tool_fail(call,
		  "Job %s not found. Hint: py_list_jobs lists the jobs this server keeps "
		  "(py_prune_jobs removes old ones)",
		  shown);
	return NULL;
}

json_t *tools_final_result(struct tools *t, const struct job *j, bool *is_error)
{
	json_t *result = jobs_result(t->cfg.exec.jobs, j);

	/* A completed run whose shaper said why it failed ({"error"}, as
	 * every isError result says it) is a tool error too. */
	*is_error =
	    !(j->status == JOB_COMPLETED && result) || json_object_get(result, "error") != NULL;
	if (j->status == JOB_COMPLETED && result)
		return result;
	/* Failed or cancelled: the model needs to read why, and the id to
	 * look at whatever output there was. */
	json_t *o =
	    json_pack("{s:s, s:s, s:s}", "job_id", j->id, "status", job_status_name(j->status),
		      "error", j->error ? j->error : job_status_name(j->status));
	if (o && result)
		json_object_set_new(o, "result", result);
	else
		json_decref(result);
	return o;
}

void tools_reply_final(struct tools *t, struct tool_call *call, const struct job *j)
{
	bool is_error;
	json_t *r = tools_final_result(t, j, &is_error);

	tool_reply_new(call, r, is_error);
}

static void job_status(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	static const char *const keys[2][2] = {{"partial_stdout", "partial_stderr"},
					       {"new_stdout", "new_stderr"}};
	struct tools *t = ctx;
	bool incremental = tool_bool(a, "incremental"), moved = false;
	struct pm_error err;
	struct job *j;
	json_t *job;

	if ((j = tools_find_job(t, call, tool_str(a, "job_id"))) == NULL)
		return;
	job = job_to_json(t->cfg.exec.jobs, j);
	for (int s = JOB_STDOUT; s <= JOB_STDERR; s++) {
		uint64_t consumed = 0;
		json_t *partial = output_json(t, j, s, WHOLE, NULL, &err);
		json_t *fresh =
		    partial ? output_json(t, j, s, SINCE_CURSOR, &consumed, &err) : NULL;

		if (fresh == NULL) {
			json_decref(partial);
			json_decref(job);
			tool_fail_error(call, &err);
			return;
		}
		json_object_set_new(job, keys[0][s], partial);
		json_object_set_new(job, keys[1][s], fresh);
		/* Only an incremental read moves the position on; a plain
		 * look (incremental=false) shows the same new_* again. */
		if (incremental && consumed > 0) {
			j->cursor[s] += consumed;
			moved = true;
		}
	}
	if (moved)
		jobs_touch(t->cfg.exec.jobs, j); /* cursors are persisted */
	tool_reply_new(call, json_pack("{s:o,s:b}", "job", job, "incremental", incremental), false);
}

static const char *const status_values[] = {"pending", "running",   "completed",
					    "failed",  "cancelled", NULL};

static void list_jobs(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	int filter = tool_enum(a, "status_filter");
	size_t limit = (size_t)tool_int(a, "limit");
	json_t *list = json_array();

	for (struct job *j = jobs_newest(t->cfg.exec.jobs);
	     j != NULL && json_array_size(list) < limit; j = jobs_older(j)) {
		if (jobs_visible(j, call->tenant) &&
		    (filter < 0 || j->status == (enum job_status)filter))
			json_array_append_new(list, job_to_json(t->cfg.exec.jobs, j));
	}
	tool_reply_new(
	    call, json_pack("{s:I,s:o}", "total", (json_int_t)json_array_size(list), "jobs", list),
	    false);
}

static void prune_jobs(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	double hours = tool_num(a, "max_age_hours");
	struct pm_error err;
	size_t removed;

	removed = jobs_prune(t->cfg.exec.jobs, call->tenant, tool_bool(a, "keep_completed"),
			     tool_bool(a, "keep_failed"), hours * 3600.0, jobs_now());
	size_t remaining, live;
	jobs_count_tenant(t->cfg.exec.jobs, call->tenant, &remaining, &live);
	json_t *reply = json_pack("{s:I,s:I}", "removed", (json_int_t)removed, "remaining",
				  (json_int_t)remaining);
	unsigned envs_removed = 0;
	/* Environments are the server's, shared by every tenant: only the
	 * one tenant of an unauthenticated server prunes them. */
	if (call->tenant == NULL && t->cfg.prune_envs &&
	    t->cfg.prune_envs(hours * 3600.0, &envs_removed, t->cfg.prune_envs_data, &err) < 0)
		log_msg(LOG_LEVEL_WARNING, "pruning environments: %s", err.message);
	if (call->tenant == NULL && t->cfg.prune_envs)
		json_object_set_new(reply, "removed_environments", json_integer(envs_removed));
	tool_reply_new(call, reply, false);
}

int tools_read_job_stream(const char *uri, const char *tenant, json_t **contents_new,
			  struct pm_error *err, void *ctx)
{
	static const char prefix[] = TOOLS_JOB_STREAM_SCHEME;
	struct tools *t = ctx;
	const char *id = uri + strlen(prefix);
	struct text out;
	struct job *j;
	json_t *text;
	int r;

	j = strncmp(uri, prefix, strlen(prefix)) == 0 ? tools_job_of(t, tenant, id) : NULL;
	if (j == NULL) {
		char shown[80];

		id_for_message(id, shown, sizeof(shown));
		return pm_error_set(err, "jobs", ENOENT, "Job %s not found", shown);
	}
	if ((r = text_open(&out)) < 0)
		return pm_error_set(err, "jobs", ENOMEM, "output of job `%s`", j->id);
	fputs("---STDOUT---\n", out.f);
	r = add_output(t, j, JOB_STDOUT, WHOLE, t->cfg.resource_output_bytes, out.f, NULL, err);
	if (r == 0) {
		fputs("\n---STDERR---\n", out.f);
		r = add_output(t, j, JOB_STDERR, WHOLE, t->cfg.resource_output_bytes, out.f, NULL,
			       err);
	}
	if (text_close(&out) < 0 && r == 0)
		r = pm_error_set(err, "jobs", ENOMEM, "output of job `%s`", j->id);
	if (r < 0) {
		free(out.data);
		return r;
	}
	text = json_stringn(out.data, out.len);
	free(out.data);
	if (text == NULL)
		return pm_error_set(err, "jobs", EINVAL, "output of job `%s`", j->id);
	*contents_new =
	    json_pack("[{s:s,s:s,s:o}]", "uri", uri, "mimeType", "text/plain", "text", text);
	return *contents_new ? 0 : pm_error_set(err, "jobs", ENOMEM, "resource `%s`", uri);
}

#define JOB_ID_PARAM                                                                               \
	TOOL_P_STRING("job_id", true,                                                              \
		      "Id of the job, as returned by an execution tool (\"job_id\") or listed by " \
		      "py_list_jobs.")

/* The job tools' output schemas list no shapes and allow more members: a
 * failed call answers {"error": "..."} as structured content, and the
 * TypeScript SDK validates structured content against the output schema
 * even when isError is set, so a stricter root would turn every "Job x
 * not found" into a protocol error on the client. */
static const struct tool_param status_params[] = {
    JOB_ID_PARAM,
    TOOL_P_BOOL("incremental", true,
		"true: new_stdout/new_stderr hold output since the previous incremental call, and "
		"this call moves the job's read position on. false: the position stays."),
    TOOL_P_END,
};

static const struct tool_field status_result[] = {
    {"job", JOB_SCHEMA_OUTPUT},
    {"incremental", "{\"type\": \"boolean\", \"description\": \"The incremental argument of "
		    "the call.\"}"},
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

const struct tool_decl tool_job_status = {
    .manages_jobs = true,
    .name = "py_job_status",
    .title = "Job status and output",
    .description =
	"Status, result and output of a background job started by an execution tool "
	"(async_mode=true, or a call that outlived the smart-async budget and returned a "
	"job_id). status is pending, running, completed, failed or cancelled; times are "
	"ISO 8601 in UTC; result is the tool's own result once completed, error says why a "
	"job failed. partial_stdout/partial_stderr hold the output so far; new_stdout/"
	"new_stderr only what was printed since the previous incremental call, so polling "
	"shows each line once. Long output is cut with a marker that names the file holding "
	"all of it. Poll every few seconds while the job is pending or running.",
    .params = status_params,
    .result = status_result,
    .handler = job_status,
};

static const struct tool_param list_params[] = {
    {.name = "status_filter",
     .type = TOOL_ENUM,
     .values = status_values,
     .description = "Only jobs with this status; all jobs when omitted."},
    TOOL_P_INT("limit", 1, 1000, 50, "At most this many jobs, newest first."),
    TOOL_P_END,
};

static const struct tool_field list_result[] = {
    {"jobs", "{\"type\": \"array\", \"items\": " JOB_SCHEMA ", \"description\": \"Jobs "
	     "without their output, newest first.\"}"},
    {"total", "{\"type\": \"integer\", \"description\": \"Number of jobs returned.\"}"},
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

const struct tool_decl tool_list_jobs = {
    .manages_jobs = true,
    .name = "py_list_jobs",
    .title = "List jobs",
    .description = "Background jobs, newest first, optionally only those with one status. Each "
		   "job has its id, label, status, times (ISO 8601, UTC), result, error and "
		   "progress, without output: use py_job_status for that.",
    .params = list_params,
    .result = list_result,
    .handler = list_jobs,
};

static const struct tool_param prune_params[] = {
    TOOL_P_BOOL("keep_completed", true, "Keep completed jobs whatever their age."),
    TOOL_P_BOOL("keep_failed", true, "Keep failed jobs whatever their age."),
    TOOL_P_NUMBER("max_age_hours", 0, 1e9, 24,
		  "Remove jobs that finished more than this many hours ago."),
    TOOL_P_END,
};

static const struct tool_field prune_result[] = {
    {"removed", "{\"type\": \"integer\", \"description\": \"Jobs removed, with their stored "
		"output.\"}"},
    {"remaining", "{\"type\": \"integer\", \"description\": \"Jobs left in the table.\"}"},
    {"removed_environments", "{\"type\": \"integer\", \"description\": \"Dependency "
			     "environments not used for max_age_hours, removed.\"}"},
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

const struct tool_decl tool_prune_jobs = {
    .manages_jobs = true,
    .name = "py_prune_jobs",
    .title = "Delete old jobs",
    .description = "Deletes finished jobs older than max_age_hours (counted from when they "
		   "finished) together with their stored output. Completed jobs are kept while "
		   "keep_completed is true and failed ones while keep_failed is true; cancelled "
		   "jobs are always removable; pending and running jobs are never removed.",
    .params = prune_params,
    .result = prune_result,
    .handler = prune_jobs,
};
