/* Unit tests of the MCP server driven through a recording sink, with
 * tools and a resource template that the transcripts (which run the bare
 * binary) cannot have: asynchronous answers, cancellation, progress,
 * client logging, double answers, back-pressure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "tool.h"

static json_t *outbox;
static bool congested;

static void record(void *ctx, const char *msg, size_t len)
{
	json_t *request_id = mcp_server_sending_for(ctx);
	json_error_t jerr;
	json_t *m = json_loadb(msg, len, 0, &jerr);
	json_t *id = json_object_get(m, "id");
	json_t *token = json_object_get(json_object_get(m, "params"), "progressToken");

	CHECK(m != NULL);
	CHECK(memchr(msg, '\n', len) == NULL);
	/* Responses and progress name their request; log notifications not. */
	if (id && !json_is_null(id))
		CHECK(json_equal(id, request_id));
	else if (token)
		CHECK(request_id != NULL);
	else
		CHECK(request_id == NULL);
	json_array_append_new(outbox, m ? m : json_null());
}

static bool is_congested(void *ctx)
{
	(void)ctx;
	return congested;
}

/* The oldest message not yet looked at, or NULL. */
static json_t *next_msg(void)
{
	static json_t *last;

	json_decref(last);
	last = NULL;
	if (json_array_size(outbox) == 0)
		return NULL;
	last = json_incref(json_array_get(outbox, 0));
	json_array_remove(outbox, 0);
	return last;
}

static void send_line(struct mcp_server *s, const char *text)
{
	mcp_server_receive(s, text, strlen(text));
}

static json_int_t error_code(json_t *m)
{
	return json_integer_value(json_object_get(json_object_get(m, "error"), "code"));
}

static struct tool_call *held;
static int cancels;
static bool answer_in_cancel;

/* The call is released when this returns: forget it. */
static void on_cancel(struct tool_call *call, void *data)
{
	(void)data;
	CHECK(call == held);
	cancels++;
	if (answer_in_cancel)
		tool_reply_new(call, json_object(), false); /* allowed, dropped */
	held = NULL;
}

static void tool_echo(struct tool_call *call, const struct tool_args *a, void *ctx)
{
	json_t *args = json_object();

	(void)ctx;
	if (tool_json(a, "x"))
		json_object_set(args, "x", tool_json(a, "x"));
	tool_reply_new(call, json_pack("{s:o}", "args", args), false);
}

static void tool_later(struct tool_call *call, const struct tool_args *args, void *ctx)
{
	(void)args;
	(void)ctx;
	held = call;
	tool_on_cancel(call, on_cancel, NULL);
}

/* Registers no cancel callback: the call lives until answered. */
static void tool_nocb(struct tool_call *call, const struct tool_args *args, void *ctx)
{
	(void)args;
	(void)ctx;
	held = call;
}

static void tool_twice(struct tool_call *call, const struct tool_args *args, void *ctx)
{
	(void)args;
	(void)ctx;
	tool_fail(call, "first: %s", call->tool);
	tool_reply_new(call, json_object(), false);
}

static const struct tool_param no_params[] = {TOOL_P_END};
static const struct tool_param echo_params[] = {{.name = "x", .type = TOOL_JSON}, TOOL_P_END};
static const struct tool_field echo_result[] = {{"args", "{\"type\": \"object\"}"}, {NULL, NULL}};

static const struct tool_decl test_tools_decl[] = {
    {.name = "echo",
     .title = "Echo",
     .description = "Answers its arguments.",
     .params = echo_params,
     .result = echo_result,
     .handler = tool_echo},
    {.name = "later",
     .description = "Answers when the test says so.",
     .params = no_params,
     .handler = tool_later},
    {.name = "twice",
     .description = "Answers twice (a bug).",
     .params = no_params,
     .handler = tool_twice},
    {.name = "nocb",
     .description = "Answers later, ignoring cancellation.",
     .params = no_params,
     .handler = tool_nocb},
};

static int read_test(const char *uri, const char *tenant, json_t **contents_new,
		     struct pm_error *err, void *ctx)
{
	(void)ctx;
	(void)tenant;
	if (strcmp(uri, "test://missing") == 0)
		return pm_error_set(err, "resource", ENOENT, "no job `missing`");
	if (strcmp(uri, "test://broken") == 0)
		return pm_error_set(err, "resource", EIO, "read `broken`");
	*contents_new = json_pack("[{s:s, s:s}]", "uri", uri, "text", "hello");
	return 0;
}

static struct mcp_server *new_server(void)
{
	const struct mcp_limits limits = {.max_message_bytes = 1 << 20, .max_json_depth = 64};
	struct mcp_server *s = mcp_server_new(uv_default_loop(), &limits, "test", "1.0");
	const struct mcp_sink sink = {.send = record, .congested = is_congested, .ctx = s};
	const struct mcp_resource_template tpl = {
	    .uri_template = "test://{name}",
	    .scheme = "test://",
	    .name = "test",
	    .mime_type = "text/plain",
	    .read = read_test,
	};

	for (size_t i = 0; i < sizeof(test_tools_decl) / sizeof(test_tools_decl[0]); i++)
		CHECK(mcp_register_tool(s, &test_tools_decl[i], NULL) == 0);
	CHECK(mcp_register_resource_template(s, &tpl) == 0);
	mcp_server_attach(s, &sink);
	return s;
}

static void initialize(struct mcp_server *s)
{
	json_t *m;

	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
		     "{\"protocolVersion\":\"2025-06-18\"}}");
	m = next_msg();
	CHECK(m && strcmp(json_string_value(
			      json_object_get(json_object_get(m, "result"), "protocolVersion")),
			  "2025-06-18") == 0);
	CHECK(
	    strstr(json_string_value(json_object_get(json_object_get(m, "result"), "instructions")),
		   "py_job_status") != NULL);
	CHECK(strcmp(mcp_server_protocol_version(s), "2025-06-18") == 0);
}

static void test_registration(void)
{
	struct mcp_server *s = new_server();
	const struct tool_decl bad[] = {
	    {.name = "has space", .description = "d", .params = no_params, .handler = tool_echo},
	    {.name = "echo", .description = "duplicate", .params = no_params, .handler = tool_echo},
	    {.name = "nodesc", .params = no_params, .handler = tool_echo},
	    {.name = "noparams", .description = "d", .handler = tool_echo},
	    {.name = "nohandler", .description = "d", .params = no_params},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(mcp_register_tool(s, &bad[i], NULL) < 0);
	mcp_server_free(s);
}

static void test_tools(void)
{
	struct mcp_server *s = new_server();
	json_t *m, *result, *tools;

	initialize(s);
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	m = next_msg();
	tools = json_object_get(json_object_get(m, "result"), "tools");
	CHECK(json_array_size(tools) == 4);
	CHECK(json_object_get(json_array_get(tools, 0), "outputSchema") != NULL);
	CHECK(json_object_get(json_array_get(tools, 0), "title") != NULL);
	CHECK(json_object_get(json_array_get(tools, 1), "outputSchema") == NULL);
	CHECK(json_object_get(json_array_get(tools, 1), "title") == NULL);

	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"echo\",\"arguments\":{\"x\":[1,2]}}}");
	m = next_msg();
	result = json_object_get(m, "result");
	CHECK(json_is_false(json_object_get(result, "isError")));
	CHECK(strcmp(json_string_value(json_object_get(
			 json_array_get(json_object_get(result, "content"), 0), "text")),
		     "{\"args\":{\"x\":[1,2]}}") == 0);
	CHECK(json_integer_value(json_array_get(
		  json_object_get(
		      json_object_get(json_object_get(result, "structuredContent"), "args"), "x"),
		  1)) == 2);

	/* No arguments: the handler gets {}. */
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"echo\"}}");
	m = next_msg();
	CHECK(json_object_size(json_object_get(
		  json_object_get(json_object_get(m, "result"), "structuredContent"), "args")) ==
	      0);

	/* Arguments of the wrong type are the model's to fix: isError. */
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"echo\",\"arguments\":[1]}}");
	m = next_msg();
	result = json_object_get(m, "result");
	CHECK(json_is_true(json_object_get(result, "isError")));
	CHECK(strstr(json_string_value(
			 json_object_get(json_object_get(result, "structuredContent"), "error")),
		     "must be an object, not an array") != NULL);

	/* A second answer is ignored. */
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"twice\"}}");
	m = next_msg();
	result = json_object_get(m, "result");
	CHECK(json_is_true(json_object_get(result, "isError")));
	CHECK(strcmp(json_string_value(
			 json_object_get(json_object_get(result, "structuredContent"), "error")),
		     "first: twice") == 0);
	CHECK(next_msg() == NULL);
	mcp_server_free(s);
}

static void test_async_progress_cancel(void)
{
	struct mcp_server *s = new_server();
	json_t *m, *params;

	initialize(s);
	cancels = 0;
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"later\",\"_meta\":{\"progressToken\":\"tok\"}}}");
	CHECK(held != NULL && next_msg() == NULL);
	CHECK(strcmp(held->tool, "later") == 0);

	tool_progress(held, 1, 10, "one");
	m = next_msg();
	params = json_object_get(m, "params");
	CHECK(strcmp(json_string_value(json_object_get(m, "method")), "notifications/progress") ==
	      0);
	CHECK(strcmp(json_string_value(json_object_get(params, "progressToken")), "tok") == 0);
	CHECK(json_number_value(json_object_get(params, "total")) == 10);
	CHECK(strcmp(json_string_value(json_object_get(params, "message")), "one") == 0);
	tool_progress(held, 1, 10, NULL); /* not increasing: dropped */
	CHECK(next_msg() == NULL);
	congested = true;
	tool_progress(held, 2, 0, NULL); /* congested: dropped */
	CHECK(next_msg() == NULL);
	congested = false;
	tool_progress(held, 3, 0, NULL);
	m = next_msg();
	CHECK(m && json_object_get(json_object_get(m, "params"), "total") == NULL);

	/* The same id while the call runs is refused. */
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"echo\"}}");
	m = next_msg();
	CHECK(error_code(m) == JRPC_INVALID_REQUEST);

	/* Answered later: the response carries the request's id. */
	tool_reply_new(held, json_pack("{s:i}", "n", 1), false);
	m = next_msg();
	CHECK(strcmp(json_string_value(json_object_get(m, "id")), "a") == 0);
	held = NULL;

	/* Cancelled: the callback runs, the answer goes nowhere. */
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"later\"}}");
	send_line(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
		     "{\"requestId\":\"7\"}}");
	CHECK(cancels == 0); /* "7" is not 7 */
	send_line(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
		     "{\"requestId\":7}}");
	CHECK(cancels == 1 && held == NULL);
	CHECK(next_msg() == NULL);

	/* The callback may answer while it runs: dropped too. */
	answer_in_cancel = true;
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"later\"}}");
	send_line(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
		     "{\"requestId\":9}}");
	CHECK(cancels == 2 && held == NULL && next_msg() == NULL);
	answer_in_cancel = false;

	/* Without a callback the call stays valid; its answer is dropped. */
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"nocb\",\"_meta\":{\"progressToken\":1}}}");
	send_line(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
		     "{\"requestId\":10}}");
	tool_progress(held, 1, 0, NULL);
	tool_reply_new(held, json_object(), false);
	CHECK(next_msg() == NULL);
	held = NULL;

	/* Pending when the transport goes: cancelled, and freed with the
	 * server when nobody answers. */
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"later\"}}");
	mcp_server_detach(s);
	CHECK(cancels == 3 && held == NULL);
	/* And one without a callback, never answered: freed with the server. */
	mcp_server_attach(s, &(struct mcp_sink){.send = record, .ctx = s});
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"nocb\"}}");
	mcp_server_free(s);
	CHECK(cancels == 3);
	held = NULL;
}

static void test_pending_at_free(void)
{
	struct mcp_server *s = new_server();

	initialize(s);
	cancels = 0;
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"later\"}}");
	mcp_server_free(s);
	CHECK(cancels == 1 && held == NULL);
}

static void test_client_log(void)
{
	struct mcp_server *s = new_server();
	json_t *m;

	mcp_notify_log(s, "error", "test", json_string("before initialize"));
	CHECK(next_msg() == NULL);
	initialize(s);
	mcp_notify_log(s, "debug", "test", json_string("below info"));
	CHECK(next_msg() == NULL);
	mcp_notify_log(s, "warning", "test", json_pack("{s:i}", "n", 1));
	m = next_msg();
	CHECK(strcmp(json_string_value(json_object_get(m, "method")), "notifications/message") ==
	      0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(m, "params"), "logger")),
		     "test") == 0);
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\",\"params\":"
		     "{\"level\":\"error\"}}");
	CHECK(json_object_size(json_object_get(next_msg(), "result")) == 0);
	mcp_notify_log(s, "warning", NULL, json_string("now below"));
	CHECK(next_msg() == NULL);
	mcp_notify_log(s, "critical", NULL, json_string("above"));
	m = next_msg();
	CHECK(m && json_object_get(json_object_get(m, "params"), "logger") == NULL);
	mcp_notify_log(s, "loud", NULL, json_string("bad level"));
	CHECK(next_msg() == NULL);
	/* Responses are never dropped, even when congested. */
	congested = true;
	mcp_notify_log(s, "emergency", NULL, json_string("dropped"));
	CHECK(next_msg() == NULL);
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
	CHECK(next_msg() != NULL);
	congested = false;
	mcp_server_free(s);
}

static void test_resources(void)
{
	struct mcp_server *s = new_server();
	json_t *m, *list;

	initialize(s);
	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/templates/list\"}");
	m = next_msg();
	list = json_object_get(json_object_get(m, "result"), "resourceTemplates");
	CHECK(json_array_size(list) == 1);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(list, 0), "uriTemplate")),
		     "test://{name}") == 0);
	CHECK(json_object_get(json_array_get(list, 0), "title") == NULL);

	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/read\",\"params\":"
		     "{\"uri\":\"test://ok\"}}");
	m = next_msg();
	CHECK(
	    strcmp(json_string_value(json_object_get(
		       json_array_get(json_object_get(json_object_get(m, "result"), "contents"), 0),
		       "text")),
		   "hello") == 0);

	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":"
		     "{\"uri\":\"test://missing\"}}");
	m = next_msg();
	CHECK(error_code(m) == MCP_RESOURCE_NOT_FOUND);
	CHECK(strcmp(json_string_value(json_object_get(
			 json_object_get(json_object_get(m, "error"), "data"), "uri")),
		     "test://missing") == 0);

	send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/read\",\"params\":"
		     "{\"uri\":\"test://broken\"}}");
	m = next_msg();
	CHECK(error_code(m) == JRPC_INTERNAL_ERROR);
	CHECK(strstr(json_string_value(json_object_get(json_object_get(m, "error"), "message")),
		     "Input/output error") != NULL);
	mcp_server_free(s);
}

int main(void)
{
	log_set_level(LOG_LEVEL_CRITICAL); /* the "bug:" lines are expected here */
	outbox = json_array();
	test_registration();
	test_tools();
	test_async_progress_cancel();
	test_pending_at_free();
	test_client_log();
	test_resources();
	next_msg(); /* releases the last message */
	json_decref(outbox);
	uv_loop_close(uv_default_loop());
	return check_done("MCP server");
}
