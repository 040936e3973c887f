/* Diagnostic tools of the MCP conformance suite, served only with
 * --conformance-fixtures: each exercises a protocol mechanism the real
 * tools never need, or needs in a shape the suite can predict, so that
 * the suite can check it against this server rather than report it
 * untestable.  The test_* tools and greet run no code and touch no
 * state; the tasks extension's slow_compute and failing_job are real
 * sandboxed runs (jobs, tasks, cancellation as for
 * py_run_script_with_dependencies), and protocol_error_job makes a job
 * that ends failed. */
#include "tools_internal.h"

#include <stdio.h>

#include "exec.h"

static const struct tool_param no_params[] = {TOOL_P_END};
static const struct tool_field text_result[] = {
    {"text", "{\"type\": \"string\"}"}, TOOL_FIELD_ERROR, {NULL, NULL}};

static void answer(struct tool_call *call, const char *text)
{
	tool_reply_new(call, json_pack("{s:s}", "text", text), false);
}

/* Reached only when the client declared sampling (the protocol checks
 * requires_client_capability first). */
static void missing_capability(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	(void)a;
	(void)ctx;
	answer(call, "the client declared sampling");
}

/* Three log lines: the protocol sends them only where the request asked
 * for a log level. */
static void logging_tool(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	(void)a;
	(void)ctx;
	tool_log(call, "info", "Tool execution started");
	tool_log(call, "info", "Tool processing data");
	tool_log(call, "info", "Tool execution completed");
	answer(call, "Tool with logging executed successfully");
}

/* Progress 0, 50, 100 of 100 on the request's stream, then the result. */
static void progress_tool(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	(void)a;
	(void)ctx;
	for (int p = 0; p <= 100; p += 50) {
		char message[32];

		snprintf(message, sizeof(message), "step %d of 3", p / 50 + 1);
		tool_progress(call, p, 100, message);
	}
	answer(call, "Tool with progress executed successfully");
}

/* This server sends no requests on a response stream (2026-07-28 has
 * none to send): the answer comes alone. */
static void streaming_elicitation(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	(void)a;
	(void)ctx;
	tool_progress(call, 1, 2, "working");
	answer(call, "no elicitation: this server never sends requests to the client");
}

static void greet(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	char text[320];

	(void)ctx;
	snprintf(text, sizeof(text), "Hello, %s!", tool_str(a, "name"));
	answer(call, text);
}

/* The suite's fixture results: slow_compute's text, or failing_job's
 * tool error (a completed run that says why it failed). */
static json_t *shape_slept(const struct exec_outcome *eo)
{
	(void)eo;
	return json_pack("{s:s}", "text", "slow_compute finished");
}

static json_t *shape_failed(const struct exec_outcome *eo)
{
	(void)eo;
	return json_pack("{s:s}", "error", "failing_job failed, as this fixture always does");
}

/* A sandboxed `time.sleep(seconds)`.  The suite expects a task from
 * every call that may be one and takes time, where the real tools wait
 * for the smart-async budget first: with `seconds` > 0 the answer is the
 * task at once; 0 takes the immediate path. */
static void sleep_run(struct tool_call *call, double seconds, exec_shape_fn shape, void *ctx)
{
	char code[96];
	struct exec_request req = {.kind = EXEC_WITH_DEPS,
				   .tool = call->tool,
				   .tenant = call->tenant,
				   .script_content = code,
				   .timeout_seconds = seconds + 60,
				   .shape = shape};

	snprintf(code, sizeof(code), "import time\ntime.sleep(%.3f)\n", seconds);
	if (call->task == TOOL_TASK_LATER && seconds > 0)
		call->task = TOOL_TASK_NOW;
	tools_start_run(ctx, call, &req);
}

static void slow_compute(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	sleep_run(call, tool_num(a, "seconds"), shape_slept, ctx);
}

static void failing_job(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	(void)a;
	sleep_run(call, 1, shape_failed, ctx);
}

/* A task that fails as a protocol error does: a job that ends failed
 * (never started), which tasks/get shows as `failed` with its error. */
static void protocol_error_job(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	static const char why[] = "protocol_error_job failed, as this fixture always does";
	struct tools *t = ctx;
	struct pm_error err = {0};
	struct job *j;

	(void)a;
	if (call->task == TOOL_TASK_NONE) {
		tool_fail(call, "%s", why);
		return;
	}
	if ((j = jobs_create(t->cfg.exec.jobs, call->tool, NULL, call->tenant, &err)) == NULL) {
		tool_fail_error(call, &err);
		return;
	}
	jobs_end(t->cfg.exec.jobs, j, JOB_FAILED, NULL, false, why);
	tools_reply_task(t, call, j);
}

static const struct tool_param greet_params[] = {TOOL_P_STRING("name", true, "Who to greet"),
						 TOOL_P_END};
static const struct tool_param slow_params[] = {
    TOOL_P_NUMBER("seconds", 0, 3600, 1, "How long the sandboxed script sleeps"),
    {.name = "label", .type = TOOL_STRING, .max_length = 256, .description = "Ignored"},
    TOOL_P_END};

static const struct tool_decl fixture_missing_capability = {
    .name = "test_missing_capability",
    .description = "Conformance fixture: needs the client's sampling capability.",
    .params = no_params,
    .result = text_result,
    .requires_client_capability = "sampling",
    .handler = missing_capability};
static const struct tool_decl fixture_logging = {
    .name = "test_logging_tool",
    .description = "Conformance fixture: logs three lines at info.",
    .params = no_params,
    .result = text_result,
    .handler = logging_tool};
static const struct tool_decl fixture_progress = {
    .name = "test_tool_with_progress",
    .description = "Conformance fixture: reports progress 0, 50, 100 of 100.",
    .params = no_params,
    .result = text_result,
    .handler = progress_tool};
static const struct tool_decl fixture_streaming = {
    .name = "test_streaming_elicitation",
    .description = "Conformance fixture: a streamed answer with no request in it.",
    .params = no_params,
    .result = text_result,
    .handler = streaming_elicitation};

static const struct tool_decl fixture_greet = {
    .name = "greet",
    .description = "Conformance fixture (tasks extension): answers Hello, {name}!",
    .params = greet_params,
    .result = text_result,
    .handler = greet};
static const struct tool_decl fixture_slow_compute = {
    .name = "slow_compute",
    .description = "Conformance fixture (tasks extension): a sandboxed sleep of `seconds`.",
    .params = slow_params,
    .result = text_result,
    .task_support = true,
    .handler = slow_compute};
static const struct tool_decl fixture_failing_job = {
    .name = "failing_job",
    .description = "Conformance fixture (tasks extension): a run that ends in a tool error.",
    .params = no_params,
    .result = text_result,
    .task_support = true,
    .task_required = true,
    .handler = failing_job};

static const struct tool_decl fixture_protocol_error_job = {
    .name = "protocol_error_job",
    .description = "Conformance fixture (tasks extension): a task that ends failed.",
    .params = no_params,
    .result = text_result,
    .task_support = true,
    .handler = protocol_error_job};

const struct tool_decl *const tools_fixtures[] = {
    &fixture_missing_capability,
    &fixture_logging,
    &fixture_progress,
    &fixture_streaming,
    &fixture_greet,
    &fixture_slow_compute,
    &fixture_failing_job,
    &fixture_protocol_error_job,
    NULL,
};
