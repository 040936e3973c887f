/* The 2026-07-28 checks of a message that arrives with HTTP headers (an
 * mcp_envelope), in the order MCP-2026.md §3 gives, and the HTTP status
 * the protocol tells the transport for each answer; plus two connections
 * of one server keeping apart (one legacy session, one modern request). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jsonrpc.h"
#include "mcp.h"
#include "tool.h"

struct out {
	struct mcp_conn *conn;
	json_t *msg;
	int status;
};

static void record(void *ctx, const char *msg, size_t len)
{
	struct out *o = ctx;

	json_decref(o->msg);
	o->msg = json_loadb(msg, len, 0, NULL);
	o->status = mcp_conn_sending_status(o->conn);
	CHECK(o->msg != NULL);
}

static void tool_echo(struct tool_call *call, const struct tool_args *args, void *ctx)
{
	(void)args;
	(void)ctx;
	tool_reply_new(call, json_pack("{s:s}", "tool", call->tool), false);
}

static const struct tool_param no_params[] = {TOOL_P_END};
static const struct tool_decl echo = {
    .name = "echo", .description = "Answers.", .params = no_params, .handler = tool_echo};

#define META                                                                                       \
	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                   \
	"\"io.modelcontextprotocol/clientCapabilities\":{}}"

/* Sends `body` with the headers given (NULL: absent) and returns the
 * answer's error code (0 for a result), checking its HTTP status. */
static int ask(struct out *o, const char *body, const char *version, const char *method,
	       const char *name, int want_status)
{
	const struct mcp_envelope env = {
	    .protocol_version = version, .method = method, .name = name};
	json_t *error;

	json_decref(o->msg);
	o->msg = NULL;
	mcp_conn_receive(o->conn, body, strlen(body), &env);
	CHECK_MSG(o->msg != NULL, "no answer to %s", body);
	CHECK_MSG(o->status == want_status, "%s: status %d, want %d: %s", body, o->status,
		  want_status, json_dumps(o->msg, 0));
	error = json_object_get(o->msg, "error");
	return error ? (int)json_integer_value(json_object_get(error, "code")) : 0;
}

int main(void)
{
	const struct mcp_limits limits = {.max_message_bytes = 1 << 20, .max_json_depth = 64};
	struct mcp_server *s = mcp_server_new(uv_default_loop(), &limits, "test", "1.0");
	struct out modern = {0}, legacy = {0};
	const char *V = "2026-07-28";

	CHECK(s != NULL && mcp_register_tool(s, &echo, NULL) == 0);
	modern.conn = mcp_conn_new(s);
	legacy.conn = mcp_conn_new(s);
	CHECK(modern.conn && legacy.conn);
	mcp_conn_attach(modern.conn, &(struct mcp_sink){.send = record, .ctx = &modern});
	mcp_conn_attach(legacy.conn, &(struct mcp_sink){.send = record, .ctx = &legacy});

	/* All headers right: 200, and the modern result's fields. */
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" META "}}",
		  V, "tools/list", NULL, 200) == 0);
	CHECK_STR(
	    json_string_value(json_object_get(json_object_get(modern.msg, "result"), "resultType")),
	    "complete");
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
		  "\"echo\"," META "}}",
		  V, "tools/call", "echo", 200) == 0);
	/* Mcp-Name may come base64-encoded ("echo"). */
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
		  "\"echo\"," META "}}",
		  V, "tools/call", "=?base64?ZWNobw==?=", 200) == 0);

	/* (3) missing _meta under a modern header: -32602, 400. */
	CHECK(ask(&modern, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}", V,
		  "tools/list", NULL, 400) == -32602);
	/* (4) each header missing, or not the body's: -32020, 400. */
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\",\"params\":{" META "}}",
		  NULL, "tools/list", NULL, 400) == -32020);
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/list\",\"params\":{" META "}}",
		  V, NULL, NULL, 400) == -32020);
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{" META "}}",
		  V, "Tools/List", NULL, 400) == -32020);
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":"
		  "\"echo\"," META "}}",
		  V, "tools/call", NULL, 400) == -32020);
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":"
		  "\"echo\"," META "}}",
		  V, "tools/call", "ECHO", 400) == -32020);
	CHECK(strstr(json_string_value(
			 json_object_get(json_object_get(modern.msg, "error"), "message")),
		     "Mcp-Name") != NULL);
	/* A v999 body under a modern header is a mismatch, not a version. */
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
		  "\"io.modelcontextprotocol/protocolVersion\":\"v999\","
		  "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
		  V, "tools/list", NULL, 400) == -32020);
	/* (5) both saying an unknown version: -32022, 400. */
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
		  "\"io.modelcontextprotocol/protocolVersion\":\"v999\","
		  "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
		  "v999", "tools/list", NULL, 400) == -32022);
	/* (6) removed or unknown methods: -32601, 404. */
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"ping\",\"params\":{" META "}}", V,
		  "ping", NULL, 404) == -32601);
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"initialize\",\"params\":{" META "}}",
		  V, "initialize", NULL, 404) == -32601);
	/* Other errors stay 200: an unknown tool, a missing resource. */
	CHECK(ask(&modern,
		  "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"tools/call\",\"params\":{\"name\":"
		  "\"nope\"," META "}}",
		  V, "tools/call", "nope", 200) == -32602);
	/* Unparsable bodies: 400 whatever the era. */
	CHECK(ask(&modern, "{not json", V, "tools/list", NULL, 400) == -32700);

	/* A legacy session on the same server: its header names a legacy
	 * version, its lifecycle is its own. */
	CHECK(ask(&legacy,
		  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
		  "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":"
		  "\"t\",\"version\":\"1\"}}}",
		  NULL, NULL, NULL, 200) == 0);
	CHECK_STR(mcp_conn_protocol_version(legacy.conn), "2025-11-25");
	CHECK(mcp_conn_protocol_version(modern.conn) == NULL);
	CHECK(ask(&legacy, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}", "2025-11-25", NULL,
		  NULL, 200) == 0);
	CHECK(json_object_get(json_object_get(legacy.msg, "result"), "resultType") == NULL);
	/* A legacy method-not-found stays 200, as it always was. */
	CHECK(ask(&legacy, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}", "2025-11-25", NULL,
		  NULL, 200) == -32601);

	json_decref(modern.msg);
	json_decref(legacy.msg);
	mcp_conn_free(modern.conn);
	mcp_conn_free(legacy.conn);
	mcp_server_free(s);
	uv_loop_close(uv_default_loop());
	return check_done("envelope");
}
