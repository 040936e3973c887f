/* The execution tools: py_run_script_in_dir, py_run_script_with_dependencies,
 * py_benchmark_script and py_run_saved_script.  Each is declared once
 * below; a call becomes an exec_request, the run a job, and the answer
 * comes at once (async_mode), or when the job ends within the smart-async
 * budget, or as {job_id, status: "running"} when the budget runs out. */
#include "tools_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "envs.h"
#include "limit_note.h"
#include "live_feed.h"
#include "pep723.h"
#include "scripts.h"
#include "smart.h"

#define SMART_NOTE                                                                                 \
	" Answers inline when the script ends within the smart timeout (20 s by default);"         \
	" otherwise returns {job_id, status: \"running\"} and the job goes on: poll it with"       \
	" py_job_status. Every run is sandboxed: a read-only system, the server's environment"     \
	" hidden."

static const char *const python_version_pattern = "^3\\.[0-9]+$";

/* TOOLS.md, "Common parameters of the execution tools". */
#define COMMON_PARAMS                                                                              \
	TOOL_P_STRINGS("args", "argv appended after the script"),                                  \
	    TOOL_P_INT("timeout_seconds", 0, 10000000, RUN_TIMEOUT_DEFAULT,                        \
		       "Hard limit in seconds: the whole sandbox is killed and stderr ends with"   \
		       " [TIMEOUT]. 0 = no limit."),                                               \
	    {.name = "env_vars",                                                                   \
	     .type = TOOL_STRING_MAP,                                                              \
	     .description = "Variables for the script; they win over env_file. The script never"   \
			    " sees the server's own environment."},                                \
	    TOOL_P_STRING("env_file", false,                                                       \
			  "dotenv file (comments, export, quotes, \\n escapes in double quotes);"  \
			  " relative to `directory`; must exist"),                                 \
	    TOOL_P_BOOL("async_mode", false,                                                       \
			"Start in the background at once and return the job id"),                  \
	    {.name = "job_label",                                                                  \
	     .type = TOOL_STRING,                                                                  \
	     .max_length = 256,                                                                    \
	     .description = "Label shown in job listings (default: the tool name)"},               \
	    TOOL_P_BOOL("enable_streaming", false,                                                 \
			"Accepted for compatibility: output is always captured incrementally")

#define SCRIPT_PARAMS                                                                              \
	TOOL_P_STRING("script_path", false,                                                        \
		      "Script to run (relative paths resolve against directory). Give this or"     \
		      " script_content."),                                                         \
	    TOOL_P_STRING(                                                                         \
		"script_content", false,                                                           \
		"Python source to run. It is written inside the sandbox only, never into"          \
		" your directory.")

#define PYTHON_VERSION_PARAM(doc)                                                                  \
	{                                                                                          \
		.name = "python_version", .type = TOOL_STRING, .pattern = python_version_pattern,  \
		.description = (doc)                                                               \
	}

#define DEPS_PARAMS                                                                                \
	PYTHON_VERSION_PARAM("Interpreter minor version, e.g. 3.11 (default: the policy's"         \
			     " interpreter); one that is not installed is an error naming the"     \
			     " installed ones"),                                                   \
	    TOOL_P_STRINGS("dependencies", "PEP 508 requirements"),                                \
	    TOOL_P_BOOL("ignore_project_requirements", true, NULL)

/* RunScriptResult and what the dependency and benchmark tools add. */
static const struct tool_field run_result[] = {
    {"stdout", "{\"type\": \"string\"}"},
    {"stderr", "{\"type\": \"string\"}"},
    {"exit_code", "{\"type\": \"integer\", \"description\": \"negative: killed by that signal\"}"},
    {"execution_strategy",
     "{\"type\": \"string\", \"enum\": [\"uv-run\", \"system-python\", \"venv-pip\", "
     "\"venv-uv\"], \"description\": \"system-python: the interpreter alone; venv-pip, "
     "venv-uv: a cached dependency environment built by pip or uv\"}"},
    {"environment", "{\"type\": \"object\", \"description\": \"the dependency environment used: "
		    "its name, whether it was reused, what built it\"}"},
    {"dependency_warnings", "{\"type\": \"array\", \"items\": {\"type\": \"string\"}}"},
    {"elapsed_seconds", "{\"type\": \"number\"}"},
    {"limit", "{\"type\": [\"string\", \"null\"], \"description\": \"which limit ended the run: "
	      "time, memory, pids, cpu, output, disk, cancel\"}"},
    {"limit_note", "{\"type\": \"string\", \"description\": \"when a limit of the sandbox's "
		   "policy explains how the run ended: which limit and its value, e.g. "
		   "MemoryError: the sandbox allows 2 GiB of memory (policy "
		   "cgroup.memory_max_bytes)\"}"},
    TOOL_FIELDS_FILES,
    {"resolved_dependencies", "{\"type\": \"array\", \"items\": {\"type\": \"string\"}}"},
    {"python_version_used", "{\"type\": \"string\"}"},
    {"wall_time_seconds", "{\"type\": \"number\"}"},
    {"cpu_time_seconds", "{\"type\": \"number\"}"},
    {"peak_rss_mb", "{\"type\": \"number\"}"},
    TOOL_FIELDS_JOB_STUB,
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

static const char *const run_shapes[] = {
    "stdout stderr exit_code execution_strategy elapsed_seconds", "job_id status", "error", NULL};

/* ---- the result ---- */

/* "limit_note" when a limit of the policy the run's launcher loaded
 * explains its end (limit_note.h). */
static void add_limit_note(json_t *r, const struct exec_outcome *eo)
{
	const struct run_outcome *o = eo->run;
	struct limit_run lr = {.limit = o->limit,
			       .limit_detail = o->limit_detail,
			       .exit_code = o->exit_code,
			       .signal = o->signal,
			       .timeout_seconds = eo->timeout_seconds};
	char note[512];

	if (eo->shape_data == NULL || eo->job == NULL)
		return;
	lr.stderr_tail = jobs_tail(eo->job, JOB_STDERR, &lr.stderr_len);
	if (limit_note(tools_policy_facts(eo->shape_data, o->policy), &lr, note, sizeof(note)))
		json_object_set_new(r, "limit_note", json_string(note));
}

/* RunScriptResult (stdout and stderr are added from the output files
 * whenever the result is read), plus the dependency and benchmark
 * fields. */
static json_t *shape_result(const struct exec_outcome *eo)
{
	const struct run_outcome *o = eo->run;
	const char *strategy = eo->env == NULL			       ? "system-python"
			       : strcmp(eo->env->installer, "uv") == 0 ? "venv-uv"
								       : "venv-pip";
	json_t *r = json_pack("{s:i, s:s, s:f}", "exit_code", o->signal ? -o->signal : o->exit_code,
			      "execution_strategy", strategy, "elapsed_seconds", o->wall_seconds);

	json_object_set_new(r, "limit", o->limit ? json_string(o->limit) : json_null());
	add_limit_note(r, eo);
	if (eo->env)
		json_object_set_new(r, "environment",
				    json_pack("{s:s, s:b, s:s}", "name", eo->env->name, "reused",
					      eo->env->reused, "installer", eo->env->installer));
	if (json_array_size(eo->warnings) > 0)
		json_object_set(r, "dependency_warnings", eo->warnings);
	if (json_array_size(eo->files) > 0)
		json_object_set(r, "files", eo->files);
	if (eo->files_note)
		json_object_set_new(r, "files_note", json_string(eo->files_note));
	if (eo->kind != EXEC_RUN) {
		json_object_set_new(r, "resolved_dependencies",
				    eo->resolved ? json_incref(eo->resolved) : json_array());
		json_object_set_new(r, "python_version_used", json_string(eo->python_version));
	}
	if (eo->kind == EXEC_BENCHMARK) {
		json_object_set_new(r, "wall_time_seconds", json_real(o->wall_seconds));
		json_object_set_new(r, "cpu_time_seconds",
				    json_real(o->cpu_user_seconds + o->cpu_system_seconds));
		json_object_set_new(r, "peak_rss_mb",
				    json_real((double)o->peak_rss_bytes / 1048576.0));
	}
	return r;
}

/* ---- the answer ---- */

/* A call waiting for its run through smart async. */
struct waiting {
	struct tools *t;
	struct tool_call *call;
	struct job *job;
	struct smart_wait *wait;
	struct live_feed *feed; /* progress and logs while it waits, or NULL */
};

void tools_reply_task(struct tools *t, struct tool_call *call, struct job *j)
{
	struct pm_error err = {0};

	if (jobs_flush(t->cfg.exec.jobs, &err) < 0) {
		tool_fail(call,
			  "job %s runs, but its task could not be saved (%s); poll it with "
			  "py_job_status",
			  j->id, err.message);
		return;
	}
	call->ops->reply_task(call, j->id);
}

static void on_smart(struct job *j, enum smart_event ev, void *data)
{
	struct waiting *w = data;
	char msg[128];

	tool_on_cancel(w->call, NULL, NULL);
	if (ev == SMART_ENDED) {
		live_feed_stop(w->feed);
		tools_reply_final(w->t, w->call, j);
	} else if (w->call->task == TOOL_TASK_LATER) {
		live_feed_background(w->feed, smart_budget(w->t->cfg.exec.smart));
		live_feed_stop(w->feed);
		tools_reply_task(w->t, w->call, j);
	} else {
		live_feed_background(w->feed, smart_budget(w->t->cfg.exec.smart));
		live_feed_stop(w->feed);
		/* TOOLS.md: the job goes on in the background, "running"
		 * (even if it still waits for a slot). */
		snprintf(msg, sizeof(msg), "Task exceeded %.1fs time budget; running in background",
			 smart_budget(w->t->cfg.exec.smart));
		tool_reply_new(w->call,
			       json_pack("{s:s, s:s, s:s}", "job_id", j->id, "status", "running",
					 "message", msg),
			       false);
	}
	free(w);
}

/* The client gave up on the request: it no longer wants the job either. */
static void on_call_gone(struct tool_call *call, void *data)
{
	struct waiting *w = data;
	struct pm_error err = {0};
	struct job *j = w->job;
	struct tools *t = w->t;

	(void)call;
	smart_wait_cancel(w->wait);
	live_feed_stop(w->feed);
	free(w);
	if (!job_status_is_final(j->status) && t->cfg.cancel)
		t->cfg.cancel(j, NULL, NULL, t->cfg.cancel_data, &err);
}

void tools_start_run(struct tools *t, struct tool_call *call, const struct exec_request *given)
{
	struct exec_request run = *given;
	struct pm_error err = {0};
	struct job *j;

	run.shape_data = t;
	if (exec_start(&t->cfg.exec, &run, &j, &err) < 0) {
		tool_fail_error(call, &err);
		return;
	}
	tools_answer_job(t, call, j, run.async_mode);
}

void tools_answer_job(struct tools *t, struct tool_call *call, struct job *j, bool async_mode)
{
	struct waiting *w;

	if (call->task == TOOL_TASK_NOW) {
		tools_reply_task(t, call, j);
		return;
	}
	if (async_mode) {
		tool_reply_new(
		    call,
		    json_pack("{s:s, s:s}", "job_id", j->id, "status", job_status_name(j->status)),
		    false);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		tool_fail(call,
			  "out of memory while waiting for job %s; poll it with py_job_status",
			  j->id);
		return;
	}
	*w = (struct waiting){.t = t, .call = call, .job = j};
	w->feed = live_feed_start(t, call, j);
	if ((w->wait = smart_wait(t->cfg.exec.smart, j, on_smart, w)) == NULL) {
		live_feed_stop(w->feed);
		free(w);
		if (job_status_is_final(j->status))
			tools_reply_final(t, call, j);
		else
			tool_fail(call,
				  "out of memory while waiting for job %s; poll it with "
				  "py_job_status",
				  j->id);
		return;
	}
	tool_on_cancel(call, on_call_gone, w);
}

/* ---- the requests ---- */

static int common(const struct tool_args *a, struct exec_request *req, struct tool_call *call)
{
	req->tool = call->tool;
	req->tenant = call->tenant;
	req->args = tool_json(a, "args");
	req->timeout_seconds = (double)tool_int(a, "timeout_seconds");
	req->env_vars = tool_json(a, "env_vars");
	req->env_file = tool_str(a, "env_file");
	req->async_mode = tool_bool(a, "async_mode");
	req->label = tool_str(a, "job_label");
	req->shape = shape_result;
	return 0;
}

/* script_path XOR script_content. */
static int script(const struct tool_args *a, struct exec_request *req, struct tool_call *call)
{
	req->script_path = tool_str(a, "script_path");
	req->script_content = tool_str(a, "script_content");
	if ((req->script_path == NULL) == (req->script_content == NULL)) {
		tool_fail(call, "give exactly one of `script_path` and `script_content`");
		return -1;
	}
	return common(a, req, call);
}

static void run_in_dir(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct exec_request req = {.kind = EXEC_RUN};

	if (script(a, &req, call) < 0)
		return;
	req.directory = tool_str(a, "directory");
	req.use_uv = tool_bool(a, "use_uv");
	req.python_version = tool_str(a, "python_version");
	req.detect_imports = tool_bool(a, "auto_install_deps");
	tools_start_run(ctx, call, &req);
}

static void with_deps(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct exec_request req = {.kind = EXEC_WITH_DEPS, .use_uv = true};

	if (script(a, &req, call) < 0)
		return;
	req.python_version = tool_str(a, "python_version");
	req.dependencies = tool_json(a, "dependencies");
	req.detect_imports = tool_bool(a, "auto_parse_imports");
	tools_start_run(ctx, call, &req);
}

static void benchmark(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct exec_request req = {.kind = EXEC_BENCHMARK, .use_uv = true};

	if (script(a, &req, call) < 0)
		return;
	req.python_version = tool_str(a, "python_version");
	req.dependencies = tool_json(a, "dependencies");
	tools_start_run(ctx, call, &req);
}

/* py_run_saved_script between reading the script and its header's
 * parse (which runs in the sandbox, so it answers later). */
struct saved_run {
	struct tools *t;
	struct tool_call *call; /* NULL once the client gave up */
	struct tool_args *args; /* kept */
	char *name, *source;
};

static void saved_run_free(struct saved_run *s)
{
	tool_args_release(s->args);
	free(s->name);
	free(s->source);
	free(s);
}

static void on_saved_gone(struct tool_call *call, void *data)
{
	struct saved_run *s = data;

	(void)call;
	s->call = NULL; /* the parse still ends in on_header, which frees */
}

static void on_header(void *data, const struct pep723_result *res, size_t n)
{
	struct saved_run *s = data;
	struct exec_request req = {.kind = EXEC_RUN, .use_uv = true};
	struct pm_error err = res ? res->err : (struct pm_error){0};

	if (s->call == NULL) {
		saved_run_free(s);
		return;
	}
	tool_on_cancel(s->call, NULL, NULL);
	if (n != 1 || !res->ok) {
		if (n != 1)
			pm_error_set(&err, "header", ENOMEM, "PEP 723 header");
		pm_error_wrap(&err, "script `%s`", s->name);
		tool_fail_error(s->call, &err);
		saved_run_free(s);
		return;
	}
	/* The script runs from the sandbox's /tmp, in a scratch workspace: the
	 * scripts folder lives in the state directory, which no sandbox sees.
	 * Its header says what it needs; without one, its imports do. */
	common(s->args, &req, s->call);
	req.script_content = s->source;
	req.content_name = s->name;
	req.dependencies = res->header.dependencies;
	req.requires_python = res->header.requires_python;
	req.detect_imports =
	    tool_bool(s->args, "auto_install_deps") && !scripts_has_header(s->source);
	tools_start_run(s->t, s->call, &req);
	saved_run_free(s);
}

static void run_saved(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	_cleanup_free_ char *path = NULL;
	struct pep723_block block = {0};
	struct pm_error err = {0};
	struct saved_run *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->args = tool_args_keep(a)) == NULL) {
		free(s);
		tool_fail(call, "out of memory");
		return;
	}
	s->t = t;
	s->call = call;
	if (scripts_file_name(tool_str(a, "script_name"), &s->name, &err) < 0)
		goto fail;
	char dir[PATH_MAX];
	if (tools_scripts_dir(t, call, dir, sizeof(dir), &err) < 0)
		goto fail;
	if (asprintf(&path, "%s/%s", dir, s->name) < 0) {
		path = NULL;
		pm_error_set(&err, "scripts", ENOMEM, "script path");
		goto fail;
	}
	if (scripts_read(path, &s->source, &err) < 0) {
		if (err.errnum == ENOENT)
			pm_error_hint(&err, "save it first with py_save_script, or see "
					    "py_list_scripts for the saved ones");
		goto fail;
	}
	if (pep723_find(s->source, &block, &err) < 0)
		goto fail;
	tool_on_cancel(call, on_saved_gone, s);
	pep723_parse(t->cfg.pep723, &block, 1, on_header, s);
	return;
fail:
	if (s->name)
		pm_error_wrap(&err, "script `%s`", s->name);
	tool_fail_error(call, &err);
	saved_run_free(s);
}

/* ---- the declarations ---- */

static const struct tool_param run_in_dir_params[] = {
    TOOL_P_STRING("directory", true,
		  "Working directory and the only writable tree of the script; must exist under a"
		  " workspace root"),
    SCRIPT_PARAMS,
    TOOL_P_BOOL("use_uv", true, NULL),
    PYTHON_VERSION_PARAM(NULL),
    TOOL_P_BOOL("auto_install_deps", true, NULL),
    COMMON_PARAMS,
    TOOL_P_END,
};

static const struct tool_param with_deps_params[] = {
    SCRIPT_PARAMS, DEPS_PARAMS, TOOL_P_BOOL("auto_parse_imports", true, NULL),
    COMMON_PARAMS, TOOL_P_END,
};

static const struct tool_param benchmark_params[] = {
    SCRIPT_PARAMS,
    DEPS_PARAMS,
    TOOL_P_NUMBER("sample_interval", 0, 3600, 0.05,
		  "Accepted for compatibility: peak memory comes from kernel accounting"),
    COMMON_PARAMS,
    TOOL_P_END,
};

static const struct tool_param run_saved_params[] = {
    TOOL_P_STRING("script_name", true, "Name of a saved script"),
    TOOL_P_BOOL("auto_install_deps", true, NULL),
    COMMON_PARAMS,
    TOOL_P_END,
};

const struct tool_decl tool_run_script_in_dir = {
    .name = "py_run_script_in_dir",
    .title = "Run a Python script in a directory",
    .description =
	"Run a Python script (script_path, or script_content written only inside the"
	" sandbox) with `directory` as its working directory and only writable tree." SMART_NOTE,
    .params = run_in_dir_params,
    .result = run_result,
    .shapes = run_shapes,
    .task_support = true,
    .shows_limits = true,
    .handler = run_in_dir,
};

const struct tool_decl tool_run_with_dependencies = {
    .name = "py_run_script_with_dependencies",
    .title = "Run a Python script with dependencies",
    .description = "Run a Python script with the given interpreter version and dependencies. A"
		   " script given by path runs in its own directory; script_content runs in a"
		   " scratch directory." SMART_NOTE,
    .params = with_deps_params,
    .result = run_result,
    .shapes = run_shapes,
    .task_support = true,
    .shows_limits = true,
    .handler = with_deps,
};

const struct tool_decl tool_benchmark_script = {
    .name = "py_benchmark_script",
    .title = "Benchmark a Python script",
    .description =
	"Run a Python script and report wall time, CPU time (user+system of the whole"
	" process tree) and peak memory from kernel accounting, with its output." SMART_NOTE,
    .params = benchmark_params,
    .result = run_result,
    .shapes = run_shapes,
    .task_support = true,
    .shows_limits = true,
    .handler = benchmark,
};

const struct tool_decl tool_run_saved_script = {
    .name = "py_run_saved_script",
    .title = "Run a saved script",
    .description =
	"Run a script saved with py_save_script, honouring its PEP 723 header." SMART_NOTE,
    .params = run_saved_params,
    .result = run_result,
    .shapes = run_shapes,
    .task_support = true,
    .shows_limits = true,
    .handler = run_saved,
};
