/* Tools: registration, tools/list, tools/call and the life of a call,
 * which a handler may answer long after tools/call arrived. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_text.h"
#include "log.h"
#include "mcp_internal.h"
#include "tools.h"

/* Names every client accepts: the intersection of the 2025-11-25 guidance
 * ([A-Za-z0-9_.-], 1-128) and the conformance suite's check (1-64). */
static bool valid_tool_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	       len;
}

static const struct tool_call_ops call_ops;

static struct mcp_tool_entry *find_tool(struct mcp_server *s, const char *name)
{
	for (size_t i = 0; i < s->n_tools; i++)
		if (strcmp(s->tools[i].decl->name, name) == 0)
			return &s->tools[i];
	return NULL;
}

/* A programming error of the caller: logged, since the signature has no
 * room for an error object, and returned. */
static int refuse(const struct tool_decl *d, int rc, const char *why)
{
	log_error("bug: cannot register tool `%s`: %s", d->name ? d->name : "(null)", why);
	return rc;
}

int mcp_register_tool(struct mcp_server *s, const struct tool_decl *decl, void *ctx)
{
	struct mcp_tool_entry e = {.decl = decl, .ctx = ctx}, *grown;

	if (decl->name == NULL || !valid_tool_name(decl->name))
		return refuse(decl, -EINVAL, "names are 1-64 characters of [A-Za-z0-9_.-]");
	if (find_tool(s, decl->name))
		return refuse(decl, -EEXIST, "a tool of that name exists");
	if (decl->description == NULL || decl->description[0] == '\0')
		return refuse(decl, -EINVAL, "a description is required");
	if (decl->handler == NULL || decl->params == NULL)
		return refuse(decl, -EINVAL, "a handler and parameters are required");
	e.input_schema = tool_input_schema(decl);
	e.output_schema = tool_output_schema(decl);
	grown = e.input_schema ? realloc(s->tools, (s->n_tools + 1) * sizeof(*s->tools)) : NULL;
	if (grown == NULL) {
		json_decref(e.input_schema);
		json_decref(e.output_schema);
		return -ENOMEM;
	}
	s->tools = grown;
	s->tools[s->n_tools++] = e;
	return 0;
}

int mcp_serve_tools(struct mcp_server *s, struct tools *t, struct pm_error *err)
{
	struct mcp_resource_template stream = {
	    .uri_template = TOOLS_JOB_STREAM_SCHEME "{job_id}",
	    .scheme = TOOLS_JOB_STREAM_SCHEME,
	    .name = "job-stream",
	    .title = "Job output stream",
	    .description = "stdout and stderr of a job so far, as text: ---STDOUT---, the output, "
			   "---STDERR---, the output. Reading it does not affect py_job_status's "
			   "new_* output.",
	    .mime_type = "text/plain",
	    .read = tools_read_job_stream,
	    .watch = tools_watch_job_stream,
	    .unwatch = tools_unwatch_job_stream,
	    .complete = tools_complete_job_id,
	    .ctx = t,
	};
	struct mcp_resource_template file = {
	    .uri_template = TOOLS_JOB_FILE_SCHEME "{job_id}/{path}",
	    .scheme = TOOLS_JOB_FILE_SCHEME,
	    .name = "job-file",
	    .title = "A file a run left",
	    .description = "A file a run created or changed in its directory, as its job keeps "
			   "it (the run's result lists them in `files`): text, or a base64 "
			   "blob. Kept as long as the job is.",
	    .read = tools_read_job_file,
	    .ctx = t,
	};
	struct mcp_resource policy = {
	    .uri = TOOLS_POLICY_URI,
	    .name = "effective-policy",
	    .title = "Effective sandbox policy",
	    .description = "The sandbox policy in force for runs, as the launcher applies it "
			   "(python-mcp-sandbox --print-effective-policy): network, mounts, "
			   "limits, environment, seccomp. Optional limits are null when not set.",
	    .mime_type = "application/json",
	    .read = tools_read_policy,
	    .ctx = t,
	};
	int r;

	s->task_source = t;
	for (const struct tool_decl *const *d = tools_catalog; *d; d++)
		if ((r = mcp_register_tool(s, *d, t)) < 0)
			return pm_error_set(err, "tools", -r, "register tool `%s`", (*d)->name);
	for (const struct tool_decl *const *d = tools_fixtures; tools_serve_fixtures(t) && *d; d++)
		if ((r = mcp_register_tool(s, *d, t)) < 0)
			return pm_error_set(err, "tools", -r, "register tool `%s`", (*d)->name);
	if ((r = mcp_register_resource_template(s, &stream)) < 0)
		return pm_error_set(err, "tools", -r, "register `%s{job_id}`",
				    TOOLS_JOB_STREAM_SCHEME);
	if ((r = mcp_register_resource_template(s, &file)) < 0)
		return pm_error_set(err, "tools", -r, "register `%s{job_id}/{path}`",
				    TOOLS_JOB_FILE_SCHEME);
	if ((r = mcp_register_resource(s, &policy)) < 0)
		return pm_error_set(err, "tools", -r, "register `%s`", TOOLS_POLICY_URI);
	return 0;
}

void mcp_tools_free(struct mcp_server *s)
{
	for (size_t i = 0; i < s->n_tools; i++) {
		json_decref(s->tools[i].input_schema);
		json_decref(s->tools[i].output_schema);
	}
	free(s->tools);
	s->tools = NULL;
	s->n_tools = 0;
}

/* The tool list changes only with a new server binary; the execution
 * tools' descriptions also with a policy reload (SIGHUP), rare enough
 * for an hour's caching. */
#define TOOLS_LIST_TTL_MS 3600000LL

void mcp_handle_tools_list(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct mcp_server *s = c->server;
	json_t *tools;

	if (!mcp_check_cursor(c, rq, params))
		return;
	tools = json_array();
	for (size_t i = 0; i < s->n_tools; i++) {
		struct mcp_tool_entry *e = &s->tools[i];
		json_t *t =
		    json_pack("{s:s, s:o, s:O}", "name", e->decl->name, "description",
			      mcp_tool_description_new(s, e->decl), "inputSchema", e->input_schema);

		if (t && e->decl->title)
			json_object_set_new(t, "title", json_string(e->decl->title));
		if (t && e->output_schema)
			json_object_set(t, "outputSchema", e->output_schema);
		/* 2025-11-25 core tasks; the 2026-07-28 extension has no
		 * per-tool flag. */
		if (t && e->decl->task_support && !rq->modern && mcp_tasks_legacy(c))
			json_object_set_new(
			    t, "execution",
			    json_pack("{s:s}", "taskSupport",
				      e->decl->task_required ? "required" : "optional"));
		json_array_append_new(tools, t);
	}
	mcp_reply_cacheable(c, rq, json_pack("{s:o}", "tools", tools), TOOLS_LIST_TTL_MS, "public");
}

/* {"content":[{"type":"text","text":<compact JSON>}],"structuredContent":
 * ...,"isError":...}: structured content for clients that read it, and
 * the same as text for those that do not (the spec's SHOULD).  A result
 * that is nothing but {"text": "..."} (the conformance fixtures') is
 * shown as that text: it says the same, and the suite reads it so. */
json_t *mcp_tool_result_new(struct mcp_conn *c, json_t *structured_new, bool is_error)
{
	_cleanup_json_ json_t *structured = structured_new;
	_cleanup_free_ char *text = NULL;

	if (!json_is_object(structured)) {
		log_error("bug: a tool answered %s instead of an object; wrapped in `result`",
			  structured ? pm_json_type_name(structured) : "nothing");
		structured =
		    json_pack("{s:o}", "result", structured ? TAKE_PTR(structured) : json_null());
		if (structured == NULL)
			return NULL;
	}
	json_t *only =
	    json_object_size(structured) == 1 ? json_object_get(structured, "text") : NULL;
	text = json_is_string(only) ? strdup(json_string_value(only))
				    : json_dumps(structured, JSON_COMPACT);
	if (text == NULL)
		return NULL;
	json_t *result = json_pack("{s:[{s:s, s:s}], s:O, s:b}", "content", "type", "text", "text",
				   text, "structuredContent", structured, "isError", is_error);
	/* Files the run left: links to them, and images to look at. */
	if (result && c->server->task_source) {
		json_t *blocks =
		    tools_result_blocks(c->server->task_source, mcp_conn_tenant(c), structured);
		json_array_extend(json_object_get(result, "content"), blocks);
		json_decref(blocks);
	}
	return result;
}

static json_t *error_structured_new(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static json_t *error_structured_new(const char *fmt, va_list ap)
{
	char message[4096];

	vsnprintf(message, sizeof(message), fmt, ap);
	return json_pack("{s:o}", "error", pm_json_string_lossy(message));
}

static void reply_tool_result(struct mcp_conn *c, const struct mcp_req *rq, json_t *structured_new,
			      bool is_error)
{
	json_t *result = mcp_tool_result_new(c, structured_new, is_error);

	if (result == NULL)
		mcp_reply_error(c, rq, JRPC_INTERNAL_ERROR, NULL,
				"Internal error: cannot build the tool's result (out of memory). "
				"Hint: retry the call");
	else
		mcp_reply_new(c, rq, result);
}

static void reply_tool_error(struct mcp_conn *c, const struct mcp_req *rq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_tool_error(struct mcp_conn *c, const struct mcp_req *rq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_tool_result(c, rq, error_structured_new(fmt, ap), true);
	va_end(ap);
}

static void call_free(struct mcp_call *call)
{
	LIST_REMOVE(call, link);
	json_decref(call->id);
	json_decref(call->progress_token);
	free(call);
}

/* A call lives until it is answered, or until its cancel callback told
 * its owner to forget it; never while the handler or that callback runs,
 * so that they may answer (or be told of cancellation) on the way. */
static void release_if_done(struct mcp_call *call)
{
	if (call->busy == 0 && (call->answered || call->gone))
		call_free(call);
}

void mcp_call_cancel(struct mcp_call *call)
{
	call->cancelled = true;
	if (call->cancel_cb == NULL || call->gone)
		return; /* released by its answer, which is dropped */
	call->gone = true;
	call->busy++;
	call->cancel_cb(&call->tc, call->cancel_data);
	call->busy--;
	release_if_done(call);
}

static bool id_in_use(struct mcp_conn *c, json_t *id)
{
	struct mcp_call *call;

	LIST_FOREACH (call, &c->calls, link)
		if (!call->cancelled && !call->answered && json_equal(call->id, id))
			return true;
	return false;
}

/* "a, b, c" of the registered tools, for the unknown-tool message. */
static void tool_names(struct mcp_server *s, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n_tools && len < size; i++) {
		int n =
		    snprintf(buf + len, size - len, "%s%s", i ? ", " : "", s->tools[i].decl->name);

		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (s->n_tools == 0)
		snprintf(buf, size, "none");
}

void mcp_handle_tools_call(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct mcp_server *s = c->server;
	struct mcp_tool_entry *tool;
	_cleanup_json_ json_t *empty = NULL;
	struct mcp_call *call;
	json_t *args, *token = rq->progress;
	const char *name;
	char names[512];

	name = mcp_require_string(c, rq, params, "name",
				  "name the tool to call, as tools/list returns it");
	if (name == NULL)
		return;
	tool = find_tool(s, name);
	if (tool == NULL) {
		tool_names(s, names, sizeof(names));
		mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL,
				"Unknown tool: `%.*s`. Hint: call one of the tools tools/list "
				"returns (%s)",
				JRPC_Q(name), names);
		return;
	}
	/* Task augmentation: 2025-11-25's `task` param on a session that
	 * negotiated it (a tool that cannot be a task refuses it, -32601);
	 * 2026-07-28's extension declared on the request (a modern `task`
	 * param means nothing and is ignored). */
	enum tool_task task = TOOL_TASK_NONE;
	int64_t task_ttl = 0;
	json_t *task_param = json_object_get(params, "task");
	if (!rq->modern && json_is_object(task_param) && mcp_tasks_legacy(c)) {
		if (!tool->decl->task_support) {
			mcp_reply_error(c, rq, JRPC_METHOD_NOT_FOUND, NULL,
					"Method not found: tool `%s` cannot run as a task "
					"(execution.taskSupport is absent). Hint: call it without "
					"`task`",
					tool->decl->name);
			return;
		}
		task = TOOL_TASK_NOW;
		task_ttl = mcp_tasks_ttl_param(task_param);
	} else if (mcp_tasks_requested(rq) && tool->decl->task_support) {
		task = TOOL_TASK_LATER;
	}
	if (task == TOOL_TASK_NONE && tool->decl->task_required) {
		if (!rq->modern)
			mcp_reply_error(c, rq, JRPC_METHOD_NOT_FOUND, NULL,
					"Method not found: tool `%s` runs only as a task "
					"(execution.taskSupport is required). Hint: call it with "
					"`task`",
					tool->decl->name);
		else
			mcp_tasks_capable(c, rq);
		return;
	}
	if (!mcp_scope_ok(c, rq, tool->decl->manages_jobs ? MCP_SCOPE_JOBS : MCP_SCOPE_RUN,
			  tool->decl->name))
		return;
	/* A tool that needs what the client did not declare cannot run. */
	const char *cap = tool->decl->requires_client_capability;
	if (cap != NULL && json_object_get(rq->client_caps, cap) == NULL) {
		mcp_reply_error(c, rq, MCP_MISSING_REQUIRED_CLIENT_CAPABILITY,
				json_pack("{s:{s:{}}}", "requiredCapabilities", cap),
				"Missing required client capability: tool `%s` needs `%s`. Hint: "
				"declare it in the request's clientCapabilities (or initialize's "
				"capabilities) if the client supports it",
				tool->decl->name, cap);
		return;
	}
	if (id_in_use(c, rq->id)) {
		mcp_reply_error(c, rq, JRPC_INVALID_REQUEST, NULL,
				"Invalid request: this id is already used by a call in progress. "
				"Hint: give every request a new id");
		return;
	}
	/* 2025-11-25 (SEP-1303) wants input errors as results the model can
	 * read and fix, not protocol errors. */
	args = json_object_get(params, "arguments");
	if (args == NULL) {
		args = empty = json_object();
	} else if (!json_is_object(args)) {
		reply_tool_error(c, rq,
				 "Invalid arguments for tool `%s`: `arguments` must be an object, "
				 "not %s. Hint: pass the parameters by name, e.g. {\"arguments\": "
				 "{...}}",
				 tool->decl->name, pm_json_type_name(args));
		return;
	}
	call = calloc(1, sizeof(*call));
	if (call == NULL || args == NULL) {
		free(call);
		mcp_reply_error(c, rq, JRPC_INTERNAL_ERROR, NULL,
				"Internal error: out of memory. Hint: retry the call");
		return;
	}
	call->tc =
	    (struct tool_call){.ops = &call_ops,
			       .tool = tool->decl->name,
			       .tenant = mcp_conn_tenant(c),
			       .wants_progress = json_is_string(token) || json_is_integer(token),
			       .task = task};
	call->task_ttl_ms = task_ttl;
	call->conn = c;
	call->id = json_incref(rq->id);
	call->modern = rq->modern;
	call->log_level = rq->log_level;
	if (json_is_string(token) || json_is_integer(token))
		call->progress_token = json_incref(token);
	call->last_progress = -HUGE_VAL;
	LIST_INSERT_HEAD(&c->calls, call, link);

	call->busy++;
	tool_invoke(tool->decl, tool->ctx, &call->tc, args);
	call->busy--;
	release_if_done(call);
}

/* The tool_call operations: how a handler answers. */
static void call_reply(struct tool_call *tc, json_t *structured, bool is_error)
{
	struct mcp_call *call = (struct mcp_call *)tc;

	if (call->answered) {
		log_error("bug: tool `%s` answered a call twice; the second answer is ignored",
			  tc->tool);
		json_decref(structured);
		return;
	}
	call->answered = true;
	if (call->cancelled)
		json_decref(structured); /* the client asked for no answer */
	else
		reply_tool_result(call->conn,
				  &(struct mcp_req){.id = call->id, .modern = call->modern},
				  structured, is_error);
	release_if_done(call);
}

static void call_on_cancel(struct tool_call *tc, void (*cb)(struct tool_call *call, void *data),
			   void *data)
{
	struct mcp_call *call = (struct mcp_call *)tc;

	call->cancel_cb = cb;
	call->cancel_data = data;
	/* Registered after the fact: it still learns of the cancellation. */
	if (call->cancelled && !call->answered && cb)
		mcp_call_cancel(call);
}

/* Whole numbers as integers (byte counts, steps), the rest as reals. */
static json_t *number(double v)
{
	return v == floor(v) && fabs(v) < 9e15 ? json_integer((json_int_t)v) : json_real(v);
}

static void call_progress(struct tool_call *tc, double progress, double total, const char *message)
{
	struct mcp_call *call = (struct mcp_call *)tc;
	json_t *params;

	/* The spec wants progress to increase, and none after the answer. */
	if (call->progress_token == NULL || call->cancelled || call->answered ||
	    !isfinite(progress) || progress <= call->last_progress)
		return;
	call->last_progress = progress;
	params = json_pack("{s:O, s:o}", "progressToken", call->progress_token, "progress",
			   number(progress));
	if (params && isfinite(total) && total > 0)
		json_object_set_new(params, "total", number(total));
	if (params && message) {
		char buf[1024];

		snprintf(buf, sizeof(buf), "%s", message);
		json_object_set_new(params, "message", pm_json_string_lossy(buf));
	}
	mcp_send_notification_new(
	    call->conn, jrpc_notification_new("notifications/progress", params), call->id);
}

/* 2026-07-28: only at or above the request's own logLevel, and none
 * without one; legacy: the session's logging/setLevel.  On the request's
 * stream either way. */
static void call_log(struct tool_call *tc, const char *level, const char *message)
{
	struct mcp_call *call = (struct mcp_call *)tc;
	int l = log_level_from_name(level);
	int floor = call->modern ? call->log_level : call->conn->client_log_level;
	json_t *params;

	if (l < 0 || floor < 0 || l < floor || call->cancelled || call->answered)
		return;
	params = json_pack("{s:s, s:s, s:o}", "level", level, "logger", tc->tool, "data",
			   pm_json_string_lossy(message));
	mcp_send_notification_new(call->conn,
				  jrpc_notification_new("notifications/message", params), call->id);
}

/* The answer is a task: its form is the call's revision's. */
static void call_reply_task(struct tool_call *tc, const char *job_id)
{
	struct mcp_call *call = (struct mcp_call *)tc;
	json_t *r;

	if (call->answered) {
		log_error("bug: tool `%s` answered a call twice; the task is not sent", tc->tool);
		return;
	}
	call->answered = true;
	if (!call->cancelled) {
		const struct mcp_req rq = {.id = call->id, .modern = call->modern};
		r = mcp_tasks_created(call->conn, call->modern, job_id, call->task_ttl_ms);
		if (r == NULL)
			mcp_reply_error(call->conn, &rq, JRPC_INTERNAL_ERROR, NULL,
					"Internal error: job %s runs, but its task cannot be "
					"described. Hint: poll it with py_job_status",
					job_id);
		else
			mcp_reply_new(call->conn, &rq, r);
	}
	release_if_done(call);
}

static const struct tool_call_ops call_ops = {.reply = call_reply,
					      .on_cancel = call_on_cancel,
					      .progress = call_progress,
					      .log = call_log,
					      .reply_task = call_reply_task};

/* Restarts from the head after each callback: a callback may answer (and
 * so free) any call, not only its own. */
void mcp_calls_cancel_all(struct mcp_conn *c)
{
	for (;;) {
		struct mcp_call *call;

		LIST_FOREACH (call, &c->calls, link)
			if (!call->cancelled && !call->answered)
				break;
		if (call == NULL)
			return;
		mcp_call_cancel(call);
	}
}

void mcp_calls_free_all(struct mcp_conn *c)
{
	mcp_calls_cancel_all(c);
	while (!LIST_EMPTY(&c->calls))
		call_free(LIST_FIRST(&c->calls));
}
