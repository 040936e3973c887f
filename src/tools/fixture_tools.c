/* Diagnostic tools of the MCP conformance suite (test_*), served only
 * with --conformance-fixtures: each exercises a protocol mechanism the
 * real tools never need, so that the suite can check it against this
 * server rather than report it untestable.  They run no code and touch
 * no state. */
#include "tools_internal.h"

#include <stdio.h>

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

const struct tool_decl *const tools_fixtures[] = {
    &fixture_missing_capability, &fixture_logging, &fixture_progress, &fixture_streaming, NULL,
};
