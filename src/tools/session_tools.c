/* py_session_start, py_session_run, py_session_list, py_session_close:
 * a long-lived sandbox that keeps its variables between runs
 * (sessions.h).  A run in a session is a job like any other: smart
 * async, py_job_status, py_cancel_job, tasks and progress all apply. */
#include "tools_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "sessions.h"

#define SESSION_IDLE_DEFAULT 600

/* ---- py_session_start ---- */

struct starting {
	struct tools *t;
	struct tool_call *call;
	struct sessions_start *start;
	double idle_timeout;
};

static void on_started(void *data, struct job *j, json_t *info, const char *error)
{
	struct starting *w = data;

	tool_on_cancel(w->call, NULL, NULL);
	if (error != NULL) {
		tool_fail(w->call, "%s", error);
	} else {
		json_t *r = json_deep_copy(info);
		json_object_set_new(r, "idle_timeout_seconds", json_real(w->idle_timeout));
		json_object_set_new(r, "label", json_string(j->label));
		tool_reply_new(w->call, r, false);
	}
	free(w);
}

static void on_start_gone(struct tool_call *call, void *data)
{
	struct starting *w = data;

	(void)call;
	sessions_forget(w->start);
	free(w);
}

static void session_start(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	struct exec_request req = {.kind = EXEC_RUN,
				   .tool = call->tool,
				   .tenant = call->tenant,
				   .label = tool_str(a, "label"),
				   .directory = tool_str(a, "directory"),
				   .python_version = tool_str(a, "python_version"),
				   .dependencies = tool_json(a, "dependencies"),
				   .env_vars = tool_json(a, "env_vars"),
				   .env_file = tool_str(a, "env_file"),
				   .use_uv = true};
	struct starting *w = calloc(1, sizeof(*w));
	struct pm_error err = {0};

	if (w == NULL) {
		tool_fail(call, "out of memory");
		return;
	}
	if (t->cfg.sessions == NULL) {
		free(w);
		tool_fail(call, "this server runs no sessions");
		return;
	}
	*w = (struct starting){
	    .t = t, .call = call, .idle_timeout = (double)tool_int(a, "idle_timeout_seconds")};
	if (sessions_start(t->cfg.sessions, &req, w->idle_timeout, on_started, w, &w->start, &err) <
	    0) {
		free(w);
		tool_fail_error(call, &err);
		return;
	}
	tool_on_cancel(call, on_start_gone, w);
}

/* ---- py_session_run ---- */

static void session_run(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	struct pm_error err = {0};
	struct job *j;

	if (t->cfg.sessions == NULL ||
	    sessions_run(t->cfg.sessions, call->tenant, tool_str(a, "session_id"),
			 tool_str(a, "code"), (double)tool_int(a, "timeout_seconds"),
			 tool_str(a, "job_label"), &j, &err) < 0) {
		if (t->cfg.sessions == NULL)
			pm_error_set(&err, "session", ENOENT, "this server runs no sessions");
		tool_fail_error(call, &err);
		return;
	}
	tools_answer_job(t, call, j, tool_bool(a, "async_mode"));
}

/* ---- py_session_list and py_session_close ---- */

static void session_list(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	json_t *list = t->cfg.sessions ? sessions_list(t->cfg.sessions, call->tenant,
						       (size_t)tool_int(a, "limit"))
				       : json_array();

	tool_reply_new(call, json_pack("{s:o}", "sessions", list), false);
}

struct closing {
	struct tool_call *call; /* NULL once the client went away */
};

static void on_closed(struct job *j, void *arg)
{
	struct closing *w = arg;

	if (w->call) {
		tool_on_cancel(w->call, NULL, NULL);
		tool_reply_new(w->call,
			       json_pack("{s:s, s:s, s:s?}", "session_id", j->id, "status",
					 "closed", "reason", j->error),
			       false);
	}
	free(w);
}

static void on_close_gone(struct tool_call *call, void *data)
{
	struct closing *w = data;

	(void)call;
	w->call = NULL; /* the close goes on; on_closed frees */
}

static void session_close(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	struct tools *t = ctx;
	struct closing *w = calloc(1, sizeof(*w));
	struct pm_error err = {0};

	if (w == NULL) {
		tool_fail(call, "out of memory");
		return;
	}
	w->call = call;
	tool_on_cancel(call, on_close_gone, w);
	if (t->cfg.sessions == NULL ||
	    sessions_close(t->cfg.sessions, call->tenant, tool_str(a, "session_id"), on_closed, w,
			   &err) < 0) {
		if (t->cfg.sessions == NULL)
			pm_error_set(&err, "session", ENOENT, "this server runs no sessions");
		tool_on_cancel(call, NULL, NULL);
		free(w);
		tool_fail_error(call, &err);
	}
}

/* ---- the declarations ---- */

static const struct tool_param start_params[] = {
    TOOL_P_STRING("directory", false,
		  "Working directory and the only writable tree of the session; must exist "
		  "under a workspace root. Without it the session works in a tmpfs of its own."),
    {.name = "python_version",
     .type = TOOL_STRING,
     .pattern = "^3\\.[0-9]+$",
     .description = "Interpreter minor version, e.g. 3.11 (default: the policy's)"},
    TOOL_P_STRINGS("dependencies", "PEP 508 requirements, installed as for "
				   "py_run_script_with_dependencies"),
    {.name = "env_vars",
     .type = TOOL_STRING_MAP,
     .description = "Variables for the session; they win over env_file."},
    TOOL_P_STRING("env_file", false, "dotenv file, relative to `directory`"),
    TOOL_P_INT("idle_timeout_seconds", 1, 86400, SESSION_IDLE_DEFAULT,
	       "The session is closed after this long without a run."),
    {.name = "label",
     .type = TOOL_STRING,
     .max_length = 256,
     .description = "Label shown in py_session_list"},
    TOOL_P_END,
};

static const struct tool_field start_result[] = {
    {"session_id", "{\"type\": \"string\"}"},
    {"python_version", "{\"type\": \"string\", \"description\": \"the interpreter's minor "
		       "version, e.g. 3.11\"}"},
    {"python", "{\"type\": \"string\", \"description\": \"its full version\"}"},
    {"dependencies", "{\"type\": \"array\", \"items\": {\"type\": \"string\"}, "
		     "\"description\": \"the requirements its environment holds, normalized\"}"},
    {"directory", "{\"type\": \"string\", \"description\": \"the working directory's real "
		  "path; absent: a tmpfs of the session's own\"}"},
    {"idle_timeout_seconds", "{\"type\": \"number\"}"},
    {"label", "{\"type\": \"string\"}"},
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

static const char *const start_shapes[] = {"session_id", "error", NULL};

const struct tool_decl tool_session_start = {
    .name = "py_session_start",
    .title = "Start a Python session",
    .description =
	"Start a long-lived sandboxed Python session whose variables, imports and loaded data "
	"stay between py_session_run calls (as in a notebook). Closed by py_session_close, or "
	"after idle_timeout_seconds without a run.",
    .params = start_params,
    .result = start_result,
    .shapes = start_shapes,
    .shows_limits = true,
    .handler = session_start,
};

static const struct tool_param run_params[] = {
    TOOL_P_STRING("session_id", true, "A session of py_session_start"),
    TOOL_P_STRING("code", true,
		  "Python code, run in the session's __main__: the value of a final expression "
		  "comes back as `value`"),
    TOOL_P_INT("timeout_seconds", 0, 10000000, RUN_TIMEOUT_DEFAULT,
	       "The code is interrupted (KeyboardInterrupt) after this long; if it does not "
	       "stop within 2 s, the session is killed. 0 = no limit."),
    TOOL_P_BOOL("async_mode", false, "Start in the background at once and return the job id"),
    {.name = "job_label",
     .type = TOOL_STRING,
     .max_length = 256,
     .description = "Label shown in job listings"},
    TOOL_P_END,
};

static const struct tool_field run_result[] = {
    {"stdout", "{\"type\": \"string\"}"},
    {"stderr", "{\"type\": \"string\"}"},
    {"exit_code", "{\"type\": \"integer\", \"description\": \"1 when the code raised (the "
		  "traceback is in stderr); the session lives on\"}"},
    {"value", "{\"type\": [\"string\", \"null\"], \"description\": \"repr of the final "
	      "expression's value, at most 64 KiB\"}"},
    {"interrupted", "{\"type\": \"boolean\"}"},
    {"session_id", "{\"type\": \"string\"}"},
    {"elapsed_seconds", "{\"type\": \"number\"}"},
    {"limit", "{\"type\": [\"string\", \"null\"]}"},
    TOOL_FIELDS_FILES,
    TOOL_FIELDS_JOB_STUB,
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

static const char *const run_shapes[] = {"stdout stderr exit_code session_id", "job_id status",
					 "error", NULL};

const struct tool_decl tool_session_run = {
    .name = "py_session_run",
    .title = "Run code in a Python session",
    .description = "Run code in a session of py_session_start, REPL-style: stdout, stderr, and "
		   "the value of a final expression. One run at a time per session; others "
		   "wait as pending. Answers inline within the smart timeout, else returns "
		   "{job_id, status: \"running\"}: poll it with py_job_status.",
    .params = run_params,
    .result = run_result,
    .shapes = run_shapes,
    .task_support = true,
    .handler = session_run,
};

static const struct tool_param list_params[] = {
    TOOL_P_INT("limit", 1, 1000, 100, "Most sessions listed, newest first"),
    TOOL_P_END,
};

static const struct tool_field list_result[] = {
    {"sessions",
     "{\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {\"session_id\": "
     "{\"type\": \"string\"}, \"label\": {\"type\": \"string\"}, \"status\": {\"type\": "
     "\"string\", \"enum\": [\"starting\", \"idle\", \"busy\", \"closed\"]}, \"reason\": "
     "{\"type\": \"string\"}, \"runs\": {\"type\": \"integer\"}, \"created_at\": {}}}}"},
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

const struct tool_decl tool_session_list = {
    .name = "py_session_list",
    .title = "List Python sessions",
    .description = "Your sessions, newest first: open ones (starting, idle, busy) and closed "
		   "ones with the reason.",
    .params = list_params,
    .result = list_result,
    .manages_jobs = true,
    .handler = session_list,
};

static const struct tool_param close_params[] = {
    TOOL_P_STRING("session_id", true, "A session of py_session_start"),
    TOOL_P_END,
};

static const struct tool_field close_result[] = {
    {"session_id", "{\"type\": \"string\"}"},
    {"status", "{\"type\": \"string\"}"},
    {"reason", "{\"type\": \"string\"}"},
    TOOL_FIELD_ERROR,
    {NULL, NULL},
};

const struct tool_decl tool_session_close = {
    .name = "py_session_close",
    .title = "Close a Python session",
    .description = "Close a session: every process of it is gone when this answers.",
    .params = close_params,
    .result = close_result,
    .manages_jobs = true,
    .handler = session_close,
};
