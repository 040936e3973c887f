/* What the mcp_*.c files share: the server (what every client sees: its
 * tools, resources and identity), a connection (one client's state: the
 * legacy lifecycle, its sink, its live calls) and one request being
 * handled.  Not for the rest of the server. */
#ifndef PYMCP_MCP_INTERNAL_H
#define PYMCP_MCP_INTERNAL_H

#include <sys/queue.h>

#include "jsonrpc.h"
#include "mcp.h"

/* 2026-07-28 error codes (schema.ts). */
#define MCP_HEADER_MISMATCH		       -32020
#define MCP_MISSING_REQUIRED_CLIENT_CAPABILITY -32021
#define MCP_UNSUPPORTED_PROTOCOL_VERSION       -32022

/* The modern revision, and the _meta keys of its requests. */
#define MCP_MODERN_VERSION   "2026-07-28"
#define MCP_META_VERSION     "io.modelcontextprotocol/protocolVersion"
#define MCP_META_CLIENT_CAPS "io.modelcontextprotocol/clientCapabilities"
#define MCP_META_LOG_LEVEL   "io.modelcontextprotocol/logLevel"
#define MCP_META_SERVER_INFO "io.modelcontextprotocol/serverInfo"

struct mcp_tool_entry {
	const struct tool_decl *decl;
	void *ctx;
	json_t *input_schema, *output_schema; /* built once from decl */
};

struct mcp_resource_entry {
	char *uri, *name, *title, *description, *mime_type;
	mcp_resource_read_fn read;
	void *ctx;
};

struct mcp_template_entry {
	char *uri_template, *scheme, *name, *title, *description, *mime_type;
	mcp_resource_read_fn read;
	int (*watch)(const char *uri, const char *tenant, void (*changed)(void *data, bool gone),
		     void *data, void **handle, struct pm_error *err, void *ctx);
	void (*unwatch)(void *handle, void *ctx);
	json_t *(*complete)(const char *name, const char *prefix, const char *tenant, size_t max,
			    size_t *total, void *ctx);
	void *ctx;
};

/* One request being handled: its id and what its era says of it. */
struct mcp_req {
	json_t *id;
	bool modern;	     /* 2026-07-28: stateless, described by its own _meta */
	int log_level;	     /* modern: _meta logLevel, or -1 (no log notifications) */
	json_t *progress;    /* _meta.progressToken (borrowed), or NULL */
	json_t *client_caps; /* what the client declared (borrowed), or NULL */
};

struct mcp_call {
	struct tool_call tc; /* what the tool answers through (first member) */
	struct mcp_conn *conn;
	LIST_ENTRY(mcp_call) link; /* conn->calls: every live call */
	json_t *id;
	bool modern;
	int64_t task_ttl_ms;	/* a 2025-11-25 task's requested ttl, or 0 */
	int log_level;		/* modern: the request's logLevel, or -1: none */
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
	char *limits_note; /* NULL: none (mcp_server_set_limits_note) */

	struct mcp_tool_entry *tools;
	size_t n_tools;
	struct mcp_template_entry *templates;
	size_t n_templates;
	struct mcp_resource_entry *resources;
	size_t n_resources;

	struct mcp_conn *stdio;	   /* the connection of the mcp_server_* calls */
	struct tools *task_source; /* jobs as tasks (mcp_serve_tools), or NULL */
};

struct mcp_conn {
	struct mcp_server *server;
	bool initialized;	      /* legacy: initialize was answered */
	bool client_ready;	      /* legacy: notifications/initialized arrived */
	const char *protocol_version; /* legacy: negotiated; static storage */
	int client_log_level;	      /* legacy: for notifications/message */
	json_t *client_caps;	      /* legacy: initialize's capabilities (owned) */
	/* Who is calling (mcp_conn_set_principal): the tenant ("" = the one
	 * tenant) and the scopes it holds (all, without authorization). */
	char tenant[MCP_TENANT_MAX + 1];
	unsigned scopes;

	struct mcp_sink sink;
	bool attached;
	/* During sink.send: see mcp_conn_sending_for() and _status(). */
	json_t *sending_for;
	int sending_status;
	bool sending_response;
	LIST_HEAD(, mcp_call) calls;
	LIST_HEAD(, mcp_task_watch) task_watches; /* mcp_tasks.c */
	LIST_HEAD(, mcp_sub) subs;		  /* mcp_subscriptions.c */
	unsigned n_subs;
};

/* Sends a response (never dropped while a sink is attached); http_status
 * is what Streamable HTTP answers it with. */
void mcp_send_new(struct mcp_conn *c, json_t *msg_new, int http_status);
/* Sends a notification unless the transport is congested: notifications
 * are advisory and must not grow memory when the client stops reading.
 * request_id: the request it belongs to, or NULL. */
void mcp_send_notification_new(struct mcp_conn *c, json_t *msg_new, json_t *request_id);

/* The result of a request; a modern one gains resultType "complete"
 * (unless it has one) and the server's identity in _meta. */
void mcp_reply_new(struct mcp_conn *c, const struct mcp_req *rq, json_t *result_new);
/* A cacheable result (lists, reads, server/discover): modern ones also
 * carry ttlMs and cacheScope ("public" or "private"). */
void mcp_reply_cacheable(struct mcp_conn *c, const struct mcp_req *rq, json_t *result_new,
			 long long ttl_ms, const char *scope);
/* An error; the HTTP status follows from the code and the era. */
void mcp_reply_error(struct mcp_conn *c, const struct mcp_req *rq, int code, json_t *data_new,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same for a message whose request could not be handled at all (an
 * id but no era yet), with an explicit HTTP status. */
void mcp_reply_error_status(struct mcp_conn *c, json_t *id, int http_status, int code,
			    json_t *data_new, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* True when c holds the MCP_SCOPE_* bits `need` (0: none needed); else
 * answers 403 naming the scope and `what` needed it. */
bool mcp_scope_ok(struct mcp_conn *c, const struct mcp_req *rq, unsigned need, const char *what);

/* Answers -32602 and returns false unless params.cursor is absent or "":
 * every list of this server fits in one page. */
bool mcp_check_cursor(struct mcp_conn *c, const struct mcp_req *rq, json_t *params);

/* A required string member of params, or NULL after answering -32602. */
const char *mcp_require_string(struct mcp_conn *c, const struct mcp_req *rq, json_t *params,
			       const char *key, const char *hint);

/* The instructions with the limits note (a new string), and a tool's
 * description with it when the tool shows limits; NULL without memory. */
json_t *mcp_instructions_new(const struct mcp_server *s);
json_t *mcp_tool_description_new(const struct mcp_server *s, const struct tool_decl *d);

/* Method handlers; params may be NULL (absent), otherwise an object. */
typedef void mcp_method_fn(struct mcp_conn *c, const struct mcp_req *rq, json_t *params);
mcp_method_fn mcp_handle_initialize, mcp_handle_ping, mcp_handle_set_level, mcp_handle_discover,
    mcp_handle_tools_list, mcp_handle_tools_call, mcp_handle_resources_list,
    mcp_handle_templates_list, mcp_handle_resources_read, mcp_handle_prompts_list,
    mcp_handle_tasks_get, mcp_handle_tasks_result, mcp_handle_tasks_list, mcp_handle_tasks_cancel,
    mcp_handle_tasks_update, mcp_handle_subscribe, mcp_handle_unsubscribe, mcp_handle_listen,
    mcp_handle_complete;

/* mcp_subscriptions.c */
bool mcp_subscriptions_offered(const struct mcp_server *s);
bool mcp_completions_offered(const struct mcp_server *s);
/* A notifications/cancelled for a subscriptions/listen: it ends. */
bool mcp_subscriptions_end_listen(struct mcp_conn *c, json_t *id);
void mcp_subscriptions_conn_free(struct mcp_conn *c);

/* {"content": [text, ...], "structuredContent", "isError"} of a tool's
 * structured answer (stolen): after the text, the blocks of the files a
 * run left (tools_result_blocks), for c's tenant.  NULL without memory. */
json_t *mcp_tool_result_new(struct mcp_conn *c, json_t *structured_new, bool is_error);

/* mcp_tasks.c */
/* The request declared the 2026-07-28 tasks extension. */
bool mcp_tasks_requested(const struct mcp_req *rq);
/* True for a legacy request or one that declares the tasks extension;
 * else answers -32021 naming the extension and returns false (the
 * 2026-07-28 task methods, and tools that run only as tasks). */
bool mcp_tasks_capable(struct mcp_conn *c, const struct mcp_req *rq);
/* The connection negotiated 2025-11-25 and the server serves tasks. */
bool mcp_tasks_legacy(const struct mcp_conn *c);
/* The ttl a 2025-11-25 `task` param asks for, bounded. */
int64_t mcp_tasks_ttl_param(json_t *task_param);
/* The answer to a tools/call that became the task of job_id, in the
 * form of its revision; NULL without memory. */
json_t *mcp_tasks_created(struct mcp_conn *c, bool modern, const char *job_id, int64_t ttl_ms);
/* A notifications/cancelled for a waiting tasks/result. */
bool mcp_tasks_cancel_wait(struct mcp_conn *c, json_t *id);
void mcp_tasks_conn_free(struct mcp_conn *c);

/* Notification handlers. */
void mcp_handle_initialized(struct mcp_conn *c, json_t *params);
void mcp_handle_cancelled(struct mcp_conn *c, json_t *params);

/* mcp_modern.c: a request of the modern revision, checked in the order
 * MCP-2026.md §3 gives (its _meta, the HTTP headers against the body,
 * the version).  Fills rq and returns true, or answers the error and
 * returns false. */
bool mcp_modern_accept(struct mcp_conn *c, json_t *id, const char *method, json_t *params,
		       const struct mcp_envelope *env, struct mcp_req *rq);
/* Whether a message is of the modern revision (MCP-2026.md §1). */
bool mcp_modern_message(json_t *params, const struct mcp_envelope *env);
/* The versions this server speaks, newest first, modern included. */
json_t *mcp_supported_versions(void);
/* Whether `v` is a legacy version this server negotiates. */
bool mcp_legacy_version(const char *v);

/* Cancels one pending call: runs its cancel callback, after which the call
 * is released; without a callback, its eventual answer is dropped. */
void mcp_call_cancel(struct mcp_call *call);
/* Cancels every pending call (the transport is going away). */
void mcp_calls_cancel_all(struct mcp_conn *c);
/* Frees every call, answered or not (the connection is being freed). */
void mcp_calls_free_all(struct mcp_conn *c);

void mcp_tools_free(struct mcp_server *s);
/* The templates and the fixed resources. */
void mcp_templates_free(struct mcp_server *s);

#endif
