/* The MCP protocol layer: JSON-RPC 2.0 messages from a transport,
 * lifecycle and version negotiation, ping, tools, resources, logging and
 * cancellation; the only layer that builds replies.  It serves the tools
 * layer's declarations (tool.h): their handlers answer through the
 * tool_call this layer hands them, possibly seconds later from a libuv
 * callback, which is what smart async needs.
 *
 * Everything runs on one libuv loop; nothing here is thread-safe. */
#ifndef PYMCP_MCP_H
#define PYMCP_MCP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "error.h"
#include "tool.h"

struct mcp_server;
struct mcp_conn; /* one client: a stdio peer, an HTTP session or request */
struct mcp_call; /* one tools/call awaiting its answer */
struct tools;

struct mcp_limits {
	size_t max_message_bytes; /* a longer line is refused (-32600) and skipped */
	unsigned max_json_depth;  /* deeper nesting is refused (-32600) */
};

/* Reads a resource for `tenant` (the caller's; NULL: the one tenant).
 * Fills *contents_new with the "contents" array of a
 * resources/read result; a negative errno with err filled means not found
 * (-ENOENT, answered -32002, or -32602 to a 2026-07-28 request) or another
 * failure (-32603). */
typedef int (*mcp_resource_read_fn)(const char *uri, const char *tenant, json_t **contents_new,
				    struct pm_error *err, void *ctx);

struct mcp_resource_template {
	const char *uri_template; /* e.g. "job-stream://{job_id}" */
	const char *scheme;	  /* "job-stream://": URIs with this prefix go to read */
	const char *name;
	const char *title;
	const char *description;
	const char *mime_type;
	mcp_resource_read_fn read;
	/* Subscriptions (may be NULL: none): changed(data, gone) when the
	 * resource changes, until unwatch; -ENOENT when it does not exist. */
	int (*watch)(const char *uri, const char *tenant, void (*changed)(void *data, bool gone),
		     void *data, void **handle, struct pm_error *err, void *ctx);
	void (*unwatch)(void *handle, void *ctx);
	/* completion/complete of the template's argument `name` (may be
	 * NULL): values starting with prefix, at most max (new array). */
	json_t *(*complete)(const char *name, const char *prefix, const char *tenant, size_t max,
			    size_t *total, void *ctx);
	void *ctx;
};

/* Scopes of an authorized caller (OAuth scope python-mcp:run and
 * python-mcp:jobs); a connection starts with all of them. */
#define MCP_SCOPE_RUN	    1u /* run code: the execution and script tools */
#define MCP_SCOPE_JOBS	    2u /* read and manage jobs: job tools, tasks, job streams */
#define MCP_SCOPE_ALL	    (MCP_SCOPE_RUN | MCP_SCOPE_JOBS)
#define MCP_SCOPE_RUN_NAME  "python-mcp:run"
#define MCP_SCOPE_JOBS_NAME "python-mcp:jobs"
#define MCP_TENANT_MAX	    64

struct mcp_server *mcp_server_new(uv_loop_t *loop, const struct mcp_limits *limits,
				  const char *name, const char *version);
/* Drops what the stdio connection watches (task status, subscribed job
 * streams) while the jobs and tools it watches still exist: a shutdown
 * calls it before the app goes away. */
void mcp_server_stop_watching(struct mcp_server *s);

/* Frees the server, its stdio connection and every call still unanswered
 * there (their cancel callbacks run first): nothing may answer a call
 * after this.  Free the other connections first.  Call it once the
 * transport's handles are closed, that is after uv_run() returned. */
void mcp_server_free(struct mcp_server *s);

/* serverInfo.title and the instructions of the InitializeResult (copied;
 * NULL keeps the current one).  The defaults describe smart async. */
void mcp_server_set_info(struct mcp_server *s, const char *title, const char *instructions);

/* What the sandbox allows (a sentence or two, copied; NULL or "": none):
 * appended to the instructions and to the descriptions of the tools that
 * declare shows_limits.  It may change while clients are connected (a
 * policy reload); the tools declare listChanged false, so clients learn
 * it from their next tools/list or initialize. */
void mcp_server_set_limits_note(struct mcp_server *s, const char *note);

/* The protocol version initialize negotiated on stdio, or NULL before. */
const char *mcp_server_protocol_version(const struct mcp_server *s);

/* Serves a declared tool: ctx goes to its handler.  Names are 1-64
 * characters of [A-Za-z0-9_.-], unique; a description is required. */
int mcp_register_tool(struct mcp_server *s, const struct tool_decl *decl, void *ctx);

/* Serves the whole catalog of the tools layer and job-stream://{job_id}. */
int mcp_serve_tools(struct mcp_server *s, struct tools *t, struct pm_error *err);
int mcp_register_resource_template(struct mcp_server *s, const struct mcp_resource_template *t);

/* A resource of a fixed URI, listed by resources/list and read by
 * `read` (the same contract as a template's). */
struct mcp_resource {
	const char *uri; /* e.g. "policy://effective" */
	const char *name;
	const char *title;
	const char *description;
	const char *mime_type;
	mcp_resource_read_fn read;
	void *ctx;
};
int mcp_register_resource(struct mcp_server *s, const struct mcp_resource *r);

/* The transport side (and tests and fuzz targets, which feed messages
 * without I/O).  A sink receives every outgoing message, serialized on
 * one line without its newline. */
struct mcp_sink {
	void (*send)(void *ctx, const char *msg, size_t len);
	/* True while the peer is not keeping up: notifications (progress,
	 * log) are then dropped, responses never.  May be NULL. */
	bool (*congested)(void *ctx);
	void *ctx;
};

/* What Streamable HTTP knows of a message besides its body: the headers
 * the 2026-07-28 revision checks against it (NULL: absent).  stdio passes
 * no envelope at all. */
struct mcp_envelope {
	const char *protocol_version; /* MCP-Protocol-Version */
	const char *method;	      /* Mcp-Method */
	const char *name;	      /* Mcp-Name */
};

/* The serialized JSON-RPC error (id null, malloc'd, NULL without memory)
 * a transport answers with when a message never reaches a connection:
 * HTTP's refusals (403, 413, 503, ...). */
char *mcp_error_text(int code, const char *message);

/* What a transport needs to know of a message before choosing the
 * connection that handles it (Streamable HTTP: a session, or a connection
 * of its own). */
enum mcp_peek_kind { MCP_PEEK_REQUEST, MCP_PEEK_OTHER, MCP_PEEK_INVALID };
struct mcp_peek {
	enum mcp_peek_kind kind; /* OTHER: a notification or a response (no answer) */
	bool modern;		 /* of the 2026-07-28 revision (MCP-2026.md §1) */
	bool initialize;	 /* a legacy initialize request */
	json_t *id;		 /* a request's id (new reference), else NULL */
};
void mcp_peek_message(const struct mcp_server *s, const char *msg, size_t len,
		      const struct mcp_envelope *env, struct mcp_peek *out);

/* A connection: what one client sees of the server's state.  stdio has
 * one (the server's own, behind the mcp_server_* calls below); HTTP makes
 * one per legacy session and one per modern request. */
struct mcp_conn *mcp_conn_new(struct mcp_server *s);
/* Cancels its pending calls (their cancel callbacks run) and frees it. */
void mcp_conn_free(struct mcp_conn *c);
/* Routes output to `sink` (copied).  One sink at a time. */
void mcp_conn_attach(struct mcp_conn *c, const struct mcp_sink *sink);
/* Cancels every pending call and drops the sink: later output is
 * discarded. */
void mcp_conn_detach(struct mcp_conn *c);
/* Handles one incoming message of len bytes; env: HTTP's headers. */
void mcp_conn_receive(struct mcp_conn *c, const char *msg, size_t len,
		      const struct mcp_envelope *env);
/* The client gave up on request `id` (its HTTP stream closed): as a
 * notifications/cancelled for it.  False when no call of that id waits. */
bool mcp_conn_cancel_request(struct mcp_conn *c, json_t *id);
/* While sink.send runs: the id of the request the message answers or
 * belongs to (a response, the progress of a call), or NULL (log
 * notifications, errors about unreadable messages); borrowed.  And the
 * HTTP status a response goes with (200 for notifications). */
json_t *mcp_conn_sending_for(const struct mcp_conn *c);
int mcp_conn_sending_status(const struct mcp_conn *c);
/* And whether it is a response (the last message of its request). */
bool mcp_conn_sending_response(const struct mcp_conn *c);
/* The legacy version initialize negotiated, or NULL before it. */
const char *mcp_conn_protocol_version(const struct mcp_conn *c);

/* Who calls on c: tenant (NULL or "": the one tenant; at most
 * MCP_TENANT_MAX characters, checked by the caller) and MCP_SCOPE_* bits.
 * Jobs, tasks and job streams of other tenants do not exist for c; a
 * request needing a scope c lacks is refused (HTTP 403). */
void mcp_conn_set_principal(struct mcp_conn *c, const char *tenant, unsigned scopes);
/* c's tenant, or NULL for the one tenant. */
const char *mcp_conn_tenant(const struct mcp_conn *c);
/* Answers a message that exceeded limits.max_message_bytes (-32600, with
 * id_new, stolen, when the transport could read it; else null), for
 * transports that refuse it before reading it whole. */
void mcp_conn_reject_oversized(struct mcp_conn *c, json_t *id_new);

/* Whether an MCP-Protocol-Version header names a legacy revision this
 * server accepts from a legacy session (2025-11-25 back to 2024-11-05;
 * clients may send an older one than they negotiated). */
bool mcp_legacy_header_version(const char *v);

/* The stdio connection (created with the server). */
json_t *mcp_server_sending_for(const struct mcp_server *s);
void mcp_server_attach(struct mcp_server *s, const struct mcp_sink *sink);
void mcp_server_detach(struct mcp_server *s);
void mcp_server_receive(struct mcp_server *s, const char *msg, size_t len);
void mcp_server_reject_oversized(struct mcp_server *s, json_t *id_new);
/* Answers a message the transport could not buffer (out of memory). */
void mcp_server_reject_dropped(struct mcp_server *s);

/* notifications/message to the stdio client if `level` passes its legacy
 * logging/setLevel (levels as in RFC 5424: "debug" ... "emergency"). */
void mcp_notify_log(struct mcp_server *s, const char *level, const char *logger, json_t *data_new);

#endif
