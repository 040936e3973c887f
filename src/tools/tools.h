/* The tools of TOOLS.md: the execution tools (py_run_script_in_dir,
 * py_run_script_with_dependencies, py_benchmark_script,
 * py_run_saved_script), the saved-script tools (py_save_script,
 * py_list_scripts), the job tools (py_job_status, py_list_jobs,
 * py_cancel_job, py_prune_jobs) and the resource job-stream://{job_id}.
 * Each is declared once (tool.h); the protocol layer serves the catalog. */
#ifndef PYMCP_TOOLS_H
#define PYMCP_TOOLS_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"
#include "exec.h"
#include "jobs.h"
#include "tool.h"

#define TOOLS_INLINE_DEFAULT   (64 * 1024)
#define TOOLS_RESOURCE_DEFAULT (1024 * 1024)

/* Called once every process of the job is gone and the job has its final
 * status; `arg` is the opaque value handed to the cancel function. */
typedef void (*tools_cancel_done_fn)(struct job *j, void *arg);

/* Starts cancelling a pending or running job.  Returns 0 and later calls
 * done(j, arg) exactly once (it may do so before returning), or returns a
 * negative errno with err filled and never calls done.  The tools call it
 * at most once per job at a time: concurrent py_cancel_job calls for the
 * same job wait for the same done.  (The runner's runner_cancel().) */
typedef int (*tools_cancel_fn)(struct job *j, tools_cancel_done_fn done, void *arg, void *data,
			       struct pm_error *err);

struct tools_config {
	/* What runs need; exec.jobs is the job table every tool reads. */
	struct exec_env exec;
	const char *scripts_dir; /* py_save_script's folder; NULL: no scripts */
	struct pep723 *pep723;	 /* reads saved scripts' headers (pep723.h) */
	size_t max_scripts;	 /* saved scripts kept (0: no limit) */
	/* Cap on partial_* and new_* output returned inline by py_job_status
	 * (0: TOOLS_INLINE_DEFAULT); the rest is named by a marker. */
	size_t inline_output_bytes;
	/* Cap per stream of a job-stream:// read (0: TOOLS_RESOURCE_DEFAULT). */
	size_t resource_output_bytes;
	tools_cancel_fn cancel;
	void *cancel_data;
	/* py_prune_jobs also prunes dependency environments not used for the
	 * same age; NULL: none. */
	int (*prune_envs)(double max_age_seconds, unsigned *removed, void *data,
			  struct pm_error *err);
	void *prune_envs_data;
	bool fixtures;		   /* also serve tools_fixtures (--conformance-fixtures) */
	struct sessions *sessions; /* py_session_*; NULL: none may start */
	size_t image_max_bytes;	   /* images shown as image content up to this */
	unsigned max_images;	   /* image blocks per result */
};

struct tools;

/* The tools' state (config copied). */
struct tools *tools_new(const struct tools_config *cfg);

/* Frees it.  Cancellations still in progress are answered with an error
 * and forgotten: free the runner first (it calls every outstanding done),
 * or call this only when nothing runs. */
void tools_free(struct tools *t);

/* The catalog, in the order tools/list shows it; NULL-terminated. */
extern const struct tool_decl *const tools_catalog[];
/* The conformance suite's diagnostic tools (fixture_tools.c), served
 * after the catalog when cfg.fixtures is set; NULL-terminated. */
extern const struct tool_decl *const tools_fixtures[];
bool tools_serve_fixtures(const struct tools *t);

/* ---- the sandbox's policy (policy_view.c) ---- */

/* The run policy in force from now on: its snapshot file (the path
 * launchers are given) and its effective JSON (a new reference is
 * taken).  Runs that report an older file keep that policy's facts until
 * tools_forget_policy(). */
int tools_set_policy(struct tools *t, const char *path, json_t *effective, struct pm_error *err);
/* No run will report `path` any more (not the policy in force). */
void tools_forget_policy(struct tools *t, const char *path);
/* What a script can expect of its sandbox, in a sentence or two, for
 * the instructions and the execution tools' descriptions; "" before a
 * policy was set. */
void tools_limits_note(const struct tools *t, char *buf, size_t size);
/* policy://effective: the run policy in force as JSON. */
#define TOOLS_POLICY_URI "policy://effective"
int tools_read_policy(const char *uri, const char *tenant, json_t **contents_new,
		      struct pm_error *err, void *ctx);

/* ---- jobs as MCP tasks (task id = job id; task_source.c) ---- */

struct tools_task {
	const struct job *job; /* borrowed: valid until the job is removed */
	const char *status;    /* "working", "completed", "failed", "cancelled" */
	double updated_at;     /* its last change, Unix seconds */
	bool expired;	       /* older than its ttl: no longer a task */
};

/* The job of task `id` if it is `tenant`'s (-ENOENT: none; another
 * tenant's task does not exist for this one). */
int tools_task_get(struct tools *t, const char *tenant, const char *id, struct tools_task *out);
/* What tools/call answers for an ended job: the tool's result (with
 * is_error set when it carries "error"), or the isError object. */
json_t *tools_final_result(struct tools *t, const struct job *j, bool *is_error);
/* Makes job `id` a task kept ttl_ms and polled every poll_ms (persisted). */
void tools_task_mark(struct tools *t, const char *id, int64_t ttl_ms, int64_t poll_ms);
/* Cancels it; done(data) runs once every process of it is gone (maybe
 * at once).  -ENOENT, or -EALREADY when it has ended. */
int tools_task_cancel(struct tools *t, const char *id, void (*done)(void *data), void *data,
		      struct pm_error *err);
/* `tenant`'s jobs newest first, starting after job `after` (NULL: from the newest),
 * at most n into out; *more when others follow. */
size_t tools_task_list(struct tools *t, const char *tenant, const char *after,
		       struct tools_task *out, size_t n, bool *more);
/* fn on every change of task `id` (jobs_watch of the job); NULL when
 * there is no such task or no memory. */
struct jobs_watch *tools_task_watch(struct tools *t, const char *tenant, const char *id,
				    jobs_watch_fn fn, void *data);
void tools_task_unwatch(struct tools *t, struct jobs_watch *w);

/* job-stream://{job_id}: both streams so far, each cut at the resource
 * cap with a marker.  -ENOENT when there is no such job. */
#define TOOLS_JOB_STREAM_SCHEME "job-stream://"
int tools_read_job_stream(const char *uri, const char *tenant, json_t **contents_new,
			  struct pm_error *err, void *ctx);
/* Subscriptions to it (stream_watch.c): changed(data, gone) when the
 * job's output grows (at most once a second), when it ends, and (gone) when it is
 * removed; -ENOENT when there is no such job. */
int tools_watch_job_stream(const char *uri, const char *tenant,
			   void (*changed)(void *data, bool gone), void *data, void **handle,
			   struct pm_error *err, void *ctx);
void tools_unwatch_job_stream(void *handle, void *ctx);
/* job-file://{job_id}/{path} (job_files_view.c): a file a run left in
 * its directory, as the job keeps it: text when its type is textual and
 * it is UTF-8, else a base64 blob.  -ENOENT when the job, the file, or
 * the kept copy is not there (err says which). */
#define TOOLS_JOB_FILE_SCHEME	"job-file://"
#define TOOLS_JOB_FILE_READ_MAX (16u << 20)
int tools_read_job_file(const char *uri, const char *tenant, json_t **contents_new,
			struct pm_error *err, void *ctx);
/* The content blocks a result's `files` add after its text: a
 * resource_link per kept file, and an image block per image (up to
 * cfg.image_max_bytes, at most cfg.max_images).  A new array. */
json_t *tools_result_blocks(struct tools *t, const char *tenant, json_t *structured);

/* Job ids that start with prefix, newest first, at most max (new array);
 * *total: how many match. */
json_t *tools_complete_job_id(const char *name, const char *prefix, const char *tenant, size_t max,
			      size_t *total, void *ctx);

#endif
