/* What the mcp_*.c files share: the server object and the helpers each
 * method handler uses.  Not for the rest of the server. */
#ifndef PYMCP_MCP_INTERNAL_H
#define PYMCP_MCP_INTERNAL_H

#include <sys/queue.h>

#include "jsonrpc.h"
#include "mcp.h"

struct mcp_tool_entry {
	const struct tool_decl *decl;
	void *ctx;
	json_t *input_schema, *output_schema; /* built once from decl */
};

struct mcp_template_entry {
	char *uri_template, *scheme, *name, *title, *description, *mime_type;
	mcp_resource_read_fn read;
	void *ctx;
};

struct mcp_call {
	struct tool_call tc; /* what the tool answers through (first member) */
	struct mcp_server *server;
	LIST_ENTRY(mcp_call) link; /* server->calls: every live call */
	json_t *id;
	json_t *progress_token; /* NULL when the request carried none */
	double last_progress;
	void (*cancel_cb)(struct tool_call *call, void *data);
	void *cancel_data;
	bool cancelled; /* by the client or the transport: the answer is dropped */
	bool gone;	/* the cancel callback ran: its owner forgot the call */
	bool answered;
	int busy; /* inside the handler or the cancel callback: freeing waits */
};

struct mcp_server {
	uv_loop_t *loop;
	struct mcp_limits limits;
	char *name, *version, *title, *instructions;

	struct mcp_tool_entry *tools;
	size_t n_tools;
	struct mcp_template_entry *templates;
	size_t n_templates;

	bool initialized;	      /* initialize was answered */
	bool client_ready;	      /* notifications/initialized arrived */
	const char *protocol_version; /* negotiated; static storage */
	int client_log_level;	      /* for notifications/message */

	struct mcp_sink sink;
	bool attached;
	json_t *sending_for; /* during sink.send: see mcp_server_sending_for() */
	LIST_HEAD(, mcp_call) calls;
};

/* Sends a response (never dropped while a sink is attached). */
void mcp_send_new(struct mcp_server *s, json_t *msg_new);
/* Sends a notification unless the transport is congested: notifications
 * are advisory and must not grow memory when the client stops reading.
 * request_id: the request it belongs to, or NULL. */
void mcp_send_notification_new(struct mcp_server *s, json_t *msg_new, json_t *request_id);

void mcp_reply_new(struct mcp_server *s, json_t *id, json_t *result_new);
void mcp_reply_error(struct mcp_server *s, json_t *id, int code, json_t *data_new, const char *fmt,
		     ...) __attribute__((format(printf, 5, 6)));

/* Answers -32602 and returns false unless params.cursor is absent or "":
 * every list of this server fits in one page. */
bool mcp_check_cursor(struct mcp_server *s, json_t *id, json_t *params);

/* A required string member of params, or NULL after answering -32602. */
const char *mcp_require_string(struct mcp_server *s, json_t *id, json_t *params, const char *key,
			       const char *hint);

/* Method handlers; params may be NULL (absent), otherwise an object. */
void mcp_handle_initialize(struct mcp_server *s, json_t *id, json_t *params);
void mcp_handle_ping(struct mcp_server *s, json_t *id, json_t *params);
void mcp_handle_set_level(struct mcp_server *s, json_t *id, json_t *params);
void mcp_handle_tools_list(struct mcp_server *s, json_t *id, json_t *params);
void mcp_handle_tools_call(struct mcp_server *s, json_t *id, json_t *params);
void mcp_handle_resources_list(struct mcp_server *s, json_t *id, json_t *params);
void mcp_handle_templates_list(struct mcp_server *s, json_t *id, json_t *params);
void mcp_handle_resources_read(struct mcp_server *s, json_t *id, json_t *params);

/* Notification handlers. */
void mcp_handle_initialized(struct mcp_server *s, json_t *params);
void mcp_handle_cancelled(struct mcp_server *s, json_t *params);

/* Cancels one pending call: runs its cancel callback, after which the call
 * is released; without a callback, its eventual answer is dropped. */
void mcp_call_cancel(struct mcp_call *call);
/* Cancels every pending call (the transport is going away). */
void mcp_calls_cancel_all(struct mcp_server *s);
/* Frees every call, answered or not (the server is being freed). */
void mcp_calls_free_all(struct mcp_server *s);

void mcp_tools_free(struct mcp_server *s);
void mcp_templates_free(struct mcp_server *s);

#endif
