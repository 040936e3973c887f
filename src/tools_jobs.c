/* py_job_status, py_list_jobs, py_prune_jobs and job-stream://{job_id};
 * py_cancel_job is in tools_jobs_cancel.c.  Output is always read in
 * bounded windows, so a status call costs the same whatever the job
 * printed: one hash lookup and at most four reads of the inline cap. */
#include "tools_jobs_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "log.h"

static const char stream_prefix[] = "job-stream://";

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
static int add_output(struct tools_jobs *tj, struct job *j, enum job_stream s, enum window w,
		      size_t cap, FILE *out, uint64_t *consumed, struct sb_error *err)
{
	uint64_t from = w == WHOLE ? 0 : j->cursor[s];
	struct job_read rd;
	char path[PATH_MAX], loss[256];
	int r;

	r = jobs_read(tj->jobs, j, s, from, cap, &rd, err);
	if (r < 0)
		return r;
	fwrite(rd.text, 1, rd.len, out);
	job_read_release(&rd);
	jobs_output_path(tj->jobs, j, s, path, sizeof(path));
	if (rd.more && w == WHOLE)
		fprintf(out, "\n[... %" PRIu64 " bytes not shown; full output in %s]",
			j->kept[s] - rd.consumed, path);
	else if (rd.more)
		fprintf(out,
			"\n[... %" PRIu64 " more bytes not shown yet; call py_job_status again to "
			"continue, or read %s]",
			j->kept[s] - from - rd.consumed, path);
	/* Said always by the whole view, once by the incremental one: when
	 * it reaches the end of what was kept (or at once when nothing is). */
	jobs_loss_note(tj->jobs, j, s, loss, sizeof(loss));
	if (w == WHOLE || (!rd.more && (rd.consumed > 0 || (j->evicted && from == 0))))
		fputs(loss, out);
	if (consumed)
		*consumed = rd.consumed;
	return 0;
}

/* The window as a JSON string, or NULL with err filled. */
static json_t *output_json(struct tools_jobs *tj, struct job *j, enum job_stream s, enum window w,
			   uint64_t *consumed, struct sb_error *err)
{
	struct text out;
	json_t *v = NULL;
	int r;

	if (text_open(&out) < 0) {
		sb_error_set(err, "jobs", ENOMEM, "output of job `%s`", j->id);
		return NULL;
	}
	r = add_output(tj, j, s, w, tj->inline_bytes, out.f, consumed, err);
	if (text_close(&out) < 0 && r == 0)
		r = sb_error_set(err, "jobs", ENOMEM, "output of job `%s`", j->id);
	if (r == 0 && (v = json_stringn(out.data, out.len)) == NULL)
		sb_error_set(err, "jobs", EINVAL, "output of job `%s` is not UTF-8", j->id);
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

struct job *tools_jobs_find(struct tools_jobs *tj, struct mcp_call *call, const char *id)
{
	struct job *j = jobs_get(tj->jobs, id);
	char shown[80];

	if (j != NULL)
		return j;
	id_for_message(id, shown, sizeof(shown));
	mcp_call_fail(call, "Job %s not found. Hint: py_list_jobs lists the jobs this server "
			    "keeps (py_prune_jobs removes old ones)", shown);
	return NULL;
}

static void job_status(struct mcp_call *call, json_t *args, void *ctx)
{
	static const char *const known[] = {"job_id", "incremental", NULL};
	static const char *const keys[2][2] = {{"partial_stdout", "partial_stderr"},
					       {"new_stdout", "new_stderr"}};
	struct tools_jobs *tj = ctx;
	struct sb_error err;
	bool incremental, moved = false;
	const char *id;
	struct job *j;
	json_t *job;

	if (args_check_known(args, known, &err) < 0 ||
	    args_string(args, "job_id", true, &id, &err) < 0 ||
	    args_bool(args, "incremental", true, &incremental, &err) < 0) {
		mcp_call_fail(call, "%s", err.message);
		return;
	}
	if ((j = tools_jobs_find(tj, call, id)) == NULL)
		return;
	job = job_to_json(tj->jobs, j);
	for (int s = JOB_STDOUT; s <= JOB_STDERR; s++) {
		uint64_t consumed = 0;
		json_t *partial = output_json(tj, j, s, WHOLE, NULL, &err);
		json_t *fresh =
		    partial ? output_json(tj, j, s, SINCE_CURSOR, &consumed, &err) : NULL;

		if (fresh == NULL) {
			json_decref(partial);
			json_decref(job);
			mcp_call_fail(call, "%s", err.message);
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
		jobs_touch(tj->jobs, j); /* cursors are persisted */
	mcp_call_reply_new(call, json_pack("{s:o,s:b}", "job", job, "incremental", incremental),
			   false);
}

static const char *const status_values[] = {"pending", "running",   "completed",
					    "failed",  "cancelled", NULL};

static void list_jobs(struct mcp_call *call, json_t *args, void *ctx)
{
	static const char *const known[] = {"status_filter", "limit", NULL};
	struct tools_jobs *tj = ctx;
	struct sb_error err;
	json_t *list;
	int64_t limit;
	int filter;

	if (args_check_known(args, known, &err) < 0 ||
	    args_enum(args, "status_filter", status_values, false, &filter, &err) < 0 ||
	    args_int(args, "limit", 1, 1000, 50, &limit, &err) < 0) {
		mcp_call_fail(call, "%s", err.message);
		return;
	}
	list = json_array();
	for (struct job *j = jobs_newest(tj->jobs);
	     j != NULL && json_array_size(list) < (size_t)limit; j = j->older) {
		if (filter < 0 || j->status == (enum job_status)filter)
			json_array_append_new(list, job_to_json(tj->jobs, j));
	}
	mcp_call_reply_new(
	    call, json_pack("{s:I,s:o}", "total", (json_int_t)json_array_size(list), "jobs", list),
	    false);
}

static void prune_jobs(struct mcp_call *call, json_t *args, void *ctx)
{
	static const char *const known[] = {"keep_completed", "keep_failed", "max_age_hours", NULL};
	struct tools_jobs *tj = ctx;
	bool keep_completed, keep_failed;
	struct sb_error err;
	double hours;
	size_t removed;

	if (args_check_known(args, known, &err) < 0 ||
	    args_bool(args, "keep_completed", true, &keep_completed, &err) < 0 ||
	    args_bool(args, "keep_failed", true, &keep_failed, &err) < 0 ||
	    args_number(args, "max_age_hours", 0, 1e9, 24, &hours, &err) < 0) {
		mcp_call_fail(call, "%s", err.message);
		return;
	}
	removed = jobs_prune(tj->jobs, keep_completed, keep_failed, hours * 3600.0, jobs_now());
	json_t *reply = json_pack("{s:I,s:I}", "removed", (json_int_t)removed, "remaining",
				  (json_int_t)jobs_count(tj->jobs));
	unsigned envs_removed = 0;
	if (tj->prune_envs &&
	    tj->prune_envs(hours * 3600.0, &envs_removed, tj->prune_envs_data, &err) < 0)
		log_msg(LOG_LEVEL_WARNING, "pruning environments: %s", err.message);
	if (tj->prune_envs)
		json_object_set_new(reply, "removed_environments", json_integer(envs_removed));
	mcp_call_reply_new(call, reply, false);
}

/* job-stream://{job_id}: both streams so far, each cut at the resource cap
 * with a marker.  Reading does not move the incremental position. */
static int read_job_stream(const char *uri, json_t **contents_new, struct sb_error *err, void *ctx)
{
	struct tools_jobs *tj = ctx;
	const char *id = uri + strlen(stream_prefix);
	struct text out;
	struct job *j;
	json_t *text;
	int r;

	j = strncmp(uri, stream_prefix, strlen(stream_prefix)) == 0 ? jobs_get(tj->jobs, id) : NULL;
	if (j == NULL) {
		char shown[80];

		id_for_message(id, shown, sizeof(shown));
		return sb_error_set(err, "jobs", ENOENT, "Job %s not found", shown);
	}
	if ((r = text_open(&out)) < 0)
		return sb_error_set(err, "jobs", ENOMEM, "output of job `%s`", j->id);
	fputs("---STDOUT---\n", out.f);
	r = add_output(tj, j, JOB_STDOUT, WHOLE, tj->resource_bytes, out.f, NULL, err);
	if (r == 0) {
		fputs("\n---STDERR---\n", out.f);
		r = add_output(tj, j, JOB_STDERR, WHOLE, tj->resource_bytes, out.f, NULL, err);
	}
	if (text_close(&out) < 0 && r == 0)
		r = sb_error_set(err, "jobs", ENOMEM, "output of job `%s`", j->id);
	if (r < 0) {
		free(out.data);
		return r;
	}
	text = json_stringn(out.data, out.len);
	free(out.data);
	if (text == NULL)
		return sb_error_set(err, "jobs", EINVAL, "output of job `%s`", j->id);
	*contents_new =
	    json_pack("[{s:s,s:s,s:o}]", "uri", uri, "mimeType", "text/plain", "text", text);
	return *contents_new ? 0 : sb_error_set(err, "jobs", ENOMEM, "resource `%s`", uri);
}

static void free_tools(void *data)
{
	struct tools_jobs *tj = data;

	tools_jobs_cancel_orphan(tj);
	free(tj);
}

/* What the model reads about each tool. */
static const char status_doc[] =
    "Status, result and output of a background job started by an execution tool "
    "(async_mode=true, or a call that outlived the smart-async budget and returned a "
    "job_id). status is pending, running, completed, failed or cancelled; times are "
    "ISO 8601 in UTC; result is the tool's own result once completed, error says why a "
    "job failed. partial_stdout/partial_stderr hold the output so far; new_stdout/"
    "new_stderr only what was printed since the previous incremental call, so polling "
    "shows each line once. Long output is cut with a marker that names the file holding "
    "all of it. Poll every few seconds while the job is pending or running.";
static const char list_doc[] =
    "Background jobs, newest first, optionally only those with one status. Each job has "
    "its id, label, status, times (ISO 8601, UTC), result, error and progress, without "
    "output: use py_job_status for that.";
static const char cancel_doc[] =
    "Stops a pending or running job. Answers once every process of the job's sandbox is "
    "gone. A job that has already finished cannot be cancelled: the error gives its "
    "status.";
static const char prune_doc[] =
    "Deletes finished jobs older than max_age_hours (counted from when they finished) "
    "together with their stored output. Completed jobs are kept while keep_completed is "
    "true and failed ones while keep_failed is true; cancelled jobs are always removable; "
    "pending and running jobs are never removed.";
static const char stream_doc[] =
    "stdout and stderr of a job so far, as text: ---STDOUT---, the output, ---STDERR---, "
    "the output. Reading it does not affect py_job_status's new_* output.";

struct tool_def {
	const char *name, *title, *description;
	json_t *(*input)(void);
	json_t *(*output)(void);
	mcp_tool_fn handler;
};

static const struct tool_def tool_defs[] = {
    {"py_job_status", "Job status and output", status_doc, schema_job_status_input,
     schema_job_status_output, job_status},
    {"py_list_jobs", "List jobs", list_doc, schema_list_jobs_input, schema_list_jobs_output,
     list_jobs},
    {"py_cancel_job", "Cancel a job", cancel_doc, schema_cancel_job_input, schema_cancel_job_output,
     tools_jobs_cancel_call},
    {"py_prune_jobs", "Delete old jobs", prune_doc, schema_prune_jobs_input,
     schema_prune_jobs_output, prune_jobs},
};

int tools_jobs_register(struct mcp_server *s, struct jobs *t, const struct tools_jobs_config *cfg,
			struct sb_error *err)
{
	struct tools_jobs *tj = calloc(1, sizeof(*tj));
	struct mcp_resource_template stream = {
	    .uri_template = "job-stream://{job_id}",
	    .scheme = stream_prefix,
	    .name = "job-stream",
	    .title = "Job output stream",
	    .description = stream_doc,
	    .mime_type = "text/plain",
	    .read = read_job_stream,
	};
	int r;

	if (tj == NULL)
		return sb_error_set(err, "tools", ENOMEM, "job tools");
	tj->jobs = t;
	tj->inline_bytes = cfg->inline_output_bytes;
	if (tj->inline_bytes == 0)
		tj->inline_bytes = TOOLS_JOBS_INLINE_DEFAULT;
	tj->resource_bytes = cfg->resource_output_bytes;
	if (tj->resource_bytes == 0)
		tj->resource_bytes = TOOLS_JOBS_RESOURCE_DEFAULT;
	tj->cancel = cfg->cancel;
	tj->cancel_data = cfg->cancel_data;
	tj->prune_envs = cfg->prune_envs;
	tj->prune_envs_data = cfg->prune_envs_data;
	if (jobs_at_close(t, free_tools, tj) < 0) {
		free(tj);
		return sb_error_set(err, "tools", ENOMEM, "job tools");
	}
	for (size_t i = 0; i < sizeof(tool_defs) / sizeof(tool_defs[0]); i++) {
		const struct tool_def *d = &tool_defs[i];
		struct mcp_tool tool = {
		    .name = d->name,
		    .title = d->title,
		    .description = d->description,
		    .input_schema = d->input(),
		    .output_schema = d->output(),
		    .handler = d->handler,
		    .ctx = tj,
		};

		r = mcp_register_tool(s, &tool); /* takes the schemas, even on failure */
		if (r < 0)
			return sb_error_set(err, "tools", -r, "register tool `%s`", d->name);
	}
	stream.ctx = tj;
	r = mcp_register_resource_template(s, &stream);
	if (r < 0)
		return sb_error_set(err, "tools", -r, "register `job-stream://{job_id}`");
	return 0;
}
