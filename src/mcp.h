/* The MCP protocol layer: JSON-RPC 2.0 over a transport (stdio for now),
 * lifecycle and version negotiation, ping, tools, resources, logging and
 * cancellation.  Tools and resources are registered by the rest of the
 * server; their handlers answer asynchronously, which is what smart async
 * needs: a tools/call may be answered seconds later from a libuv callback.
 *
 * Everything runs on one libuv loop; nothing here is thread-safe. */
#ifndef PYMCP_MCP_H
#define PYMCP_MCP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "error.h"

struct mcp_server;
struct mcp_call; /* one tools/call awaiting its answer */

struct mcp_limits {
	size_t max_message_bytes; /* a longer line is refused (-32600) and skipped */
	unsigned max_json_depth;  /* deeper nesting is refused (-32600) */
};

/* Handler of a tool.  `args` is the call's "arguments" object (borrowed,
 * never NULL: {} when absent).  The handler must eventually answer with
 * exactly one of mcp_call_reply_new() or mcp_call_fail(), now or later.
 * The call stays valid until then (or until its cancel callback returns,
 * or mcp_server_free()); answering releases it, so the handler must forget
 * it right after. */
typedef void (*mcp_tool_fn)(struct mcp_call *call, json_t *args, void *ctx);

struct mcp_tool {
	const char *name;
	const char *title;
	const char *description;
	json_t *input_schema;  /* stolen: JSON Schema 2020-12, type object */
	json_t *output_schema; /* stolen, may be NULL */
	mcp_tool_fn handler;
	void *ctx;
};

/* Reads a resource.  Fills *contents_new with the "contents" array of a
 * resources/read result; a negative errno with err filled means not found
 * (-ENOENT, answered -32002) or another failure (-32603). */
typedef int (*mcp_resource_read_fn)(const char *uri, json_t **contents_new, struct sb_error *err,
				    void *ctx);

struct mcp_resource_template {
	const char *uri_template; /* e.g. "job-stream://{job_id}" */
	const char *scheme;       /* "job-stream://": URIs with this prefix go to read */
	const char *name;
	const char *title;
	const char *description;
	const char *mime_type;
	mcp_resource_read_fn read;
	void *ctx;
};

struct mcp_server *mcp_server_new(uv_loop_t *loop, const struct mcp_limits *limits,
				  const char *name, const char *version);
/* Frees the server and every call still unanswered (their cancel callbacks
 * run first): nothing may answer a call after this.  Call it once the
 * transport's handles are closed, that is after uv_run() returned. */
void mcp_server_free(struct mcp_server *s);

/* serverInfo.title and the instructions of the InitializeResult (copied;
 * NULL keeps the current one).  The defaults describe smart async. */
void mcp_server_set_info(struct mcp_server *s, const char *title, const char *instructions);

/* The protocol version initialize negotiated, or NULL before it. */
const char *mcp_server_protocol_version(const struct mcp_server *s);

int mcp_register_tool(struct mcp_server *s, const struct mcp_tool *tool);
int mcp_register_resource_template(struct mcp_server *s, const struct mcp_resource_template *t);

/* Serves newline-delimited JSON-RPC on fds 0/1.  on_eof runs once when
 * stdin reaches EOF (the client is gone), after pending writes flushed (or
 * after a second, if stdout does not drain); without it the server stops. */
int mcp_server_start_stdio(struct mcp_server *s, void (*on_eof)(void *data), void *data,
			   struct sb_error *err);

/* Stops reading, flushes what is queued, closes the transport handles.
 * Calls still pending are dropped (their handlers may still answer; the
 * answer is discarded). */
void mcp_server_stop(struct mcp_server *s);

/* The transport side, for transports other than stdio (and for tests and
 * fuzz targets, which feed messages without I/O).  A sink receives every
 * outgoing message, serialized on one line without its newline. */
struct mcp_sink {
	void (*send)(void *ctx, const char *msg, size_t len);
	/* True while the peer is not keeping up: notifications (progress,
	 * log) are then dropped, responses never.  May be NULL. */
	bool (*congested)(void *ctx);
	void *ctx;
};

/* While sink.send runs: the id of the request the message answers or
 * belongs to (a response, the progress of a call), or NULL (log
 * notifications, errors about unreadable messages).  What Streamable HTTP
 * needs to pick the stream of a message.  Borrowed. */
json_t *mcp_server_sending_for(const struct mcp_server *s);

/* Routes output to `sink` (copied).  One sink at a time. */
void mcp_server_attach(struct mcp_server *s, const struct mcp_sink *sink);
/* Cancels every pending call (see mcp_call_on_cancel) and drops the sink:
 * later output is discarded. */
void mcp_server_detach(struct mcp_server *s);
/* Handles one incoming message of len bytes (one line, no newline). */
void mcp_server_receive(struct mcp_server *s, const char *msg, size_t len);
/* Answers a message that exceeded limits.max_message_bytes (-32600, with
 * id_new, stolen, when the transport could read it; else null), for
 * transports that refuse it before reading it whole. */
void mcp_server_reject_oversized(struct mcp_server *s, json_t *id_new);

/* Answers a call: `structured` (stolen) becomes structuredContent and, as
 * JSON text, the single text content block; is_error sets isError. */
void mcp_call_reply_new(struct mcp_call *call, json_t *structured, bool is_error);

/* Answers a call with isError:true and {"error": "<message>"}: for invalid
 * arguments and failures the model should read and fix. */
void mcp_call_fail(struct mcp_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Name of the tool being called (for job labels). */
const char *mcp_call_tool(const struct mcp_call *call);

/* Runs `cb` if the client cancels this request (notifications/cancelled) or
 * the transport goes away before the answer.  When `cb` returns, the call
 * is released: its owner must forget it (answering inside `cb` is allowed
 * and dropped).  A call cancelled without a callback stays valid until its
 * answer, which is dropped.  One callback per call. */
void mcp_call_on_cancel(struct mcp_call *call, void (*cb)(struct mcp_call *call, void *data),
			void *data);

/* Sends notifications/progress when the request carried a progressToken. */
void mcp_call_progress(struct mcp_call *call, double progress, double total, const char *message);

/* notifications/message to the client if `level` passes logging/setLevel
 * (levels as in RFC 5424: "debug" ... "emergency"). */
void mcp_notify_log(struct mcp_server *s, const char *level, const char *logger, json_t *data_new);

#endif
