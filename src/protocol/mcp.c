/* The server and its connections, their sinks, the replies, and the
 * dispatch of incoming messages to the method handlers of
 * mcp_lifecycle.c, mcp_modern.c, mcp_tools.c and mcp_resources.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_text.h"
#include "log.h"
#include "mcp_internal.h"

/* Which era may call a method: legacy clients after initialize (or
 * before, for the lifecycle), modern ones on any request. */
enum era { LEGACY = 1, MODERN = 2, BOTH = 3 };

struct method {
	const char *name;
	mcp_method_fn *handle;
	enum era era;
	bool before_initialize; /* legacy: allowed before initialize was answered */
	unsigned scope;		/* MCP_SCOPE_* the caller needs (tools/call: per tool) */
};

/* 2026-07-28 removed initialize, ping and logging/setLevel: a modern
 * request for them is an unknown method. */
static const struct method methods[] = {
    {"initialize", mcp_handle_initialize, LEGACY, true},
    {"ping", mcp_handle_ping, LEGACY, true},
    {"logging/setLevel", mcp_handle_set_level, LEGACY, false},
    {"server/discover", mcp_handle_discover, MODERN, false},
    {"tools/list", mcp_handle_tools_list, BOTH, false},
    {"tools/call", mcp_handle_tools_call, BOTH, false},
    {"resources/list", mcp_handle_resources_list, BOTH, false},
    {"resources/templates/list", mcp_handle_templates_list, BOTH, false},
    {"resources/read", mcp_handle_resources_read, BOTH, false, MCP_SCOPE_JOBS},
    /* Modern only: the caching rules probe it; legacy clients were never
     * offered prompts. */
    {"prompts/list", mcp_handle_prompts_list, MODERN, false},
    /* Tasks: the legacy ones check the session negotiated 2025-11-25. */
    {"tasks/get", mcp_handle_tasks_get, BOTH, false, MCP_SCOPE_JOBS},
    {"tasks/cancel", mcp_handle_tasks_cancel, BOTH, false, MCP_SCOPE_JOBS},
    {"tasks/result", mcp_handle_tasks_result, LEGACY, false, MCP_SCOPE_JOBS},
    {"tasks/list", mcp_handle_tasks_list, LEGACY, false, MCP_SCOPE_JOBS},
    {"tasks/update", mcp_handle_tasks_update, MODERN, false, MCP_SCOPE_JOBS},
    {"resources/subscribe", mcp_handle_subscribe, LEGACY, false, MCP_SCOPE_JOBS},
    {"resources/unsubscribe", mcp_handle_unsubscribe, LEGACY, false, MCP_SCOPE_JOBS},
    {"subscriptions/listen", mcp_handle_listen, MODERN, false, MCP_SCOPE_JOBS},
    {"completion/complete", mcp_handle_complete, BOTH, false, MCP_SCOPE_JOBS},
};

#define LEGACY_METHOD_NAMES                                                                        \
	"initialize, ping, logging/setLevel, tools/list, tools/call, resources/list, "             \
	"resources/templates/list, resources/read, resources/subscribe, resources/unsubscribe, "   \
	"completion/complete, tasks/* (2025-11-25)"
#define MODERN_METHOD_NAMES                                                                        \
	"server/discover, tools/list, tools/call, resources/list, resources/templates/list, "      \
	"resources/read, prompts/list, subscriptions/listen, completion/complete, tasks/get, "     \
	"tasks/update, tasks/cancel"

struct notification {
	const char *name;
	void (*handle)(struct mcp_conn *c, json_t *params);
};

static const struct notification notifications[] = {
    {"notifications/initialized", mcp_handle_initialized},
    {"notifications/cancelled", mcp_handle_cancelled},
};

struct mcp_server *mcp_server_new(uv_loop_t *loop, const struct mcp_limits *limits,
				  const char *name, const char *version)
{
	struct mcp_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->loop = loop;
	s->limits = *limits;
	/* A limit of 0 would refuse everything; 1 is at least explicit. */
	if (s->limits.max_message_bytes == 0)
		s->limits.max_message_bytes = 1;
	if (s->limits.max_json_depth == 0)
		s->limits.max_json_depth = 1;
	s->name = strdup(name);
	s->version = strdup(version);
	mcp_server_set_info(s, NULL, NULL);
	s->stdio = mcp_conn_new(s);
	if (s->name == NULL || s->version == NULL || s->title == NULL || s->instructions == NULL ||
	    s->stdio == NULL) {
		mcp_server_free(s);
		return NULL;
	}
	return s;
}

void mcp_server_stop_watching(struct mcp_server *s)
{
	if (s == NULL || s->stdio == NULL)
		return;
	mcp_tasks_conn_free(s->stdio);
	mcp_subscriptions_conn_free(s->stdio);
}

void mcp_server_free(struct mcp_server *s)
{
	if (s == NULL)
		return;
	mcp_conn_free(s->stdio);
	mcp_tools_free(s);
	mcp_templates_free(s);
	free(s->name);
	free(s->version);
	free(s->title);
	free(s->instructions);
	free(s->limits_note);
	free(s);
}

struct mcp_conn *mcp_conn_new(struct mcp_server *s)
{
	struct mcp_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	LIST_INIT(&c->calls);
	LIST_INIT(&c->task_watches);
	LIST_INIT(&c->subs);
	c->server = s;
	c->client_log_level = 1; /* info, until logging/setLevel */
	c->scopes = MCP_SCOPE_ALL;
	return c;
}

void mcp_conn_free(struct mcp_conn *c)
{
	if (c == NULL)
		return;
	mcp_conn_detach(c);
	mcp_calls_free_all(c);
	mcp_tasks_conn_free(c);
	mcp_subscriptions_conn_free(c);
	json_decref(c->client_caps);
	free(c);
}

void mcp_conn_set_principal(struct mcp_conn *c, const char *tenant, unsigned scopes)
{
	snprintf(c->tenant, sizeof(c->tenant), "%s", tenant ? tenant : "");
	c->scopes = scopes;
}

const char *mcp_conn_tenant(const struct mcp_conn *c)
{
	return c->tenant[0] ? c->tenant : NULL;
}

const char *mcp_conn_protocol_version(const struct mcp_conn *c)
{
	return c->protocol_version;
}

const char *mcp_server_protocol_version(const struct mcp_server *s)
{
	return mcp_conn_protocol_version(s->stdio);
}

void mcp_conn_attach(struct mcp_conn *c, const struct mcp_sink *sink)
{
	c->sink = *sink;
	c->attached = true;
}

void mcp_conn_detach(struct mcp_conn *c)
{
	/* Cancel callbacks may still log to the client: detach after them. */
	mcp_calls_cancel_all(c);
	c->attached = false;
	memset(&c->sink, 0, sizeof(c->sink));
}

void mcp_server_attach(struct mcp_server *s, const struct mcp_sink *sink)
{
	mcp_conn_attach(s->stdio, sink);
}

void mcp_server_detach(struct mcp_server *s)
{
	mcp_conn_detach(s->stdio);
}

static void send_msg(struct mcp_conn *c, json_t *msg_new, bool droppable, json_t *request_id,
		     int http_status)
{
	_cleanup_json_ json_t *msg = msg_new;
	_cleanup_free_ char *text = NULL;
	json_t *outer_for;
	int outer_status;
	bool outer_response;

	if (!c->attached)
		return;
	if (msg == NULL) {
		log_error("out of memory building a message; it is lost");
		return;
	}
	if (droppable && c->sink.congested && c->sink.congested(c->sink.ctx))
		return;
	/* JSON_COMPACT puts no newline between tokens and strings escape
	 * theirs: one message, one line. */
	text = json_dumps(msg, JSON_COMPACT);
	if (text == NULL) {
		log_error("cannot serialize a message; it is lost");
		return;
	}
	outer_for = c->sending_for;
	outer_status = c->sending_status;
	outer_response = c->sending_response;
	c->sending_for = request_id;
	c->sending_status = http_status;
	c->sending_response = !droppable; /* only notifications may be dropped */
	c->sink.send(c->sink.ctx, text, strlen(text));
	c->sending_for = outer_for;
	c->sending_status = outer_status;
	c->sending_response = outer_response;
}

json_t *mcp_conn_sending_for(const struct mcp_conn *c)
{
	return c->sending_for;
}

int mcp_conn_sending_status(const struct mcp_conn *c)
{
	return c->sending_status;
}

bool mcp_conn_sending_response(const struct mcp_conn *c)
{
	return c->sending_response;
}

json_t *mcp_server_sending_for(const struct mcp_server *s)
{
	return mcp_conn_sending_for(s->stdio);
}

void mcp_send_new(struct mcp_conn *c, json_t *msg_new, int http_status)
{
	json_t *id = json_object_get(msg_new, "id");

	send_msg(c, msg_new, false, json_is_null(id) ? NULL : id, http_status);
}

void mcp_send_notification_new(struct mcp_conn *c, json_t *msg_new, json_t *request_id)
{
	send_msg(c, msg_new, true, request_id, 200);
}

void mcp_reply_new(struct mcp_conn *c, const struct mcp_req *rq, json_t *result_new)
{
	if (rq->modern && result_new != NULL) {
		/* Every modern result says what it is; identity goes in _meta. */
		if (json_object_get(result_new, "resultType") == NULL)
			json_object_set_new(result_new, "resultType", json_string("complete"));
		json_t *meta = json_object_get(result_new, "_meta");
		if (meta == NULL) {
			meta = json_object();
			json_object_set_new(result_new, "_meta", meta);
		}
		json_object_set_new(meta, MCP_META_SERVER_INFO,
				    json_pack("{s:s, s:s}", "name", c->server->name, "version",
					      c->server->version));
	}
	mcp_send_new(c, jrpc_result_new(rq->id, result_new), 200);
}

void mcp_reply_cacheable(struct mcp_conn *c, const struct mcp_req *rq, json_t *result_new,
			 long long ttl_ms, const char *scope)
{
	if (rq->modern && result_new != NULL) {
		json_object_set_new(result_new, "ttlMs", json_integer(ttl_ms));
		json_object_set_new(result_new, "cacheScope", json_string(scope));
	}
	mcp_reply_new(c, rq, result_new);
}

/* The HTTP status of an error (MCP-2026.md §6); legacy clients get 400
 * only for messages that are no request at all. */
static int error_status(bool modern, int code)
{
	switch (code) {
	case JRPC_PARSE_ERROR:
	case JRPC_INVALID_REQUEST:
		return 400;
	case JRPC_METHOD_NOT_FOUND:
		return modern ? 404 : 200;
	case MCP_HEADER_MISMATCH:
	case MCP_MISSING_REQUIRED_CLIENT_CAPABILITY:
	case MCP_UNSUPPORTED_PROTOCOL_VERSION:
		return 400;
	default:
		return 200;
	}
}

static void reply_error_va(struct mcp_conn *c, json_t *id, int http_status, int code,
			   json_t *data_new, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

static void reply_error_va(struct mcp_conn *c, json_t *id, int http_status, int code,
			   json_t *data_new, const char *fmt, va_list ap)
{
	char message[1024];

	vsnprintf(message, sizeof(message), fmt, ap);
	mcp_send_new(c, jrpc_error_new(id, code, data_new, "%s", message), http_status);
}

void mcp_reply_error(struct mcp_conn *c, const struct mcp_req *rq, int code, json_t *data_new,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_error_va(c, rq->id, error_status(rq->modern, code), code, data_new, fmt, ap);
	va_end(ap);
}

void mcp_reply_error_status(struct mcp_conn *c, json_t *id, int http_status, int code,
			    json_t *data_new, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_error_va(c, id, http_status, code, data_new, fmt, ap);
	va_end(ap);
}

bool mcp_check_cursor(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	json_t *cursor = json_object_get(params, "cursor");

	if (cursor == NULL || (json_is_string(cursor) && json_string_length(cursor) == 0))
		return true;
	mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL,
			"Invalid params: unknown `cursor`. Hint: this server returns every item "
			"in the first page and never sends nextCursor; omit `cursor`");
	return false;
}

const char *mcp_require_string(struct mcp_conn *c, const struct mcp_req *rq, json_t *params,
			       const char *key, const char *hint)
{
	json_t *v = json_object_get(params, key);

	if (json_is_string(v))
		return json_string_value(v);
	mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL, "Invalid params: `%s` %s. Hint: %s", key,
			v ? "must be a string" : "is missing", hint);
	return NULL;
}

static const struct method *find_method(const char *name, enum era era)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, name) == 0 && (methods[i].era & era))
			return &methods[i];
	return NULL;
}

static bool params_ok(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	if (params == NULL || json_is_object(params))
		return true;
	mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL,
			"Invalid params: `params` must be an object, not %s. Hint: send named "
			"parameters, or omit `params`",
			pm_json_type_name(params));
	return false;
}

bool mcp_scope_ok(struct mcp_conn *c, const struct mcp_req *rq, unsigned need, const char *what)
{
	const char *name = need & MCP_SCOPE_RUN ? MCP_SCOPE_RUN_NAME : MCP_SCOPE_JOBS_NAME;

	if ((c->scopes & need) == need)
		return true;
	mcp_reply_error_status(
	    c, rq->id, 403, JRPC_INVALID_REQUEST, json_pack("{s:s}", "requiredScope", name),
	    "Forbidden: %s needs the scope `%s`, which this token does not hold. "
	    "Hint: ask the authorization server for a token with scope `%s`",
	    what, name, name);
	return false;
}

static void dispatch_modern(struct mcp_conn *c, const char *method, json_t *id, json_t *params,
			    const struct mcp_envelope *env)
{
	struct mcp_req rq;
	const struct method *m;

	if (!mcp_modern_accept(c, id, method, params, env, &rq))
		return;
	if ((m = find_method(method, MODERN)) == NULL) {
		mcp_reply_error(c, &rq, JRPC_METHOD_NOT_FOUND, NULL,
				"Method not found: `%.*s`%s. Hint: under protocol %s this server "
				"implements " MODERN_METHOD_NAMES,
				JRPC_Q(method),
				find_method(method, LEGACY) ? " (removed in " MCP_MODERN_VERSION ")"
							    : "",
				MCP_MODERN_VERSION);
		return;
	}
	if (mcp_scope_ok(c, &rq, m->scope, method))
		m->handle(c, &rq, params);
}

static void dispatch_legacy(struct mcp_conn *c, const char *method, json_t *id, json_t *params)
{
	const struct mcp_req rq = {
	    .id = id,
	    .log_level = -1,
	    .progress = json_object_get(json_object_get(params, "_meta"), "progressToken"),
	    .client_caps = c->client_caps};
	const struct method *m = find_method(method, LEGACY);

	if (!c->initialized && (m == NULL || !m->before_initialize)) {
		/* Neither era: no initialize yet and no modern _meta.  Legacy
		 * clients get what they always got. */
		mcp_reply_error(c, &rq, JRPC_INVALID_REQUEST, NULL,
				"Server not initialized: `%.*s` came before initialize. Hint: send "
				"initialize first (only ping may precede it), or give each request "
				"`_meta` \"" MCP_META_VERSION "\" of protocol " MCP_MODERN_VERSION,
				JRPC_Q(method));
		return;
	}
	if (m == NULL) {
		mcp_reply_error(
		    c, &rq, JRPC_METHOD_NOT_FOUND, NULL,
		    "Method not found: `%.*s`. Hint: this server implements " LEGACY_METHOD_NAMES,
		    JRPC_Q(method));
		return;
	}
	if (params_ok(c, &rq, params) && mcp_scope_ok(c, &rq, m->scope, method))
		m->handle(c, &rq, params);
}

/* Notifications are never answered, whatever is wrong with them. */
static void dispatch_notification(struct mcp_conn *c, const char *method, json_t *params)
{
	if (params != NULL && !json_is_object(params)) {
		log_debug("ignoring notification `%.*s`: params is not an object", JRPC_Q(method));
		return;
	}
	for (size_t i = 0; i < sizeof(notifications) / sizeof(notifications[0]); i++) {
		if (strcmp(notifications[i].name, method) == 0) {
			notifications[i].handle(c, params);
			return;
		}
	}
	log_debug("ignoring notification `%.*s`", JRPC_Q(method));
}

void mcp_conn_receive(struct mcp_conn *c, const char *text, size_t len,
		      const struct mcp_envelope *env)
{
	struct jrpc_message msg;

	jrpc_parse(text, len, c->server->limits.max_json_depth, &msg);
	switch (msg.kind) {
	case JRPC_EMPTY:
		break;
	case JRPC_REQUEST:
		if (mcp_modern_message(msg.params, env))
			dispatch_modern(c, msg.method, msg.id, msg.params, env);
		else
			dispatch_legacy(c, msg.method, msg.id, msg.params);
		break;
	case JRPC_NOTIFICATION:
		dispatch_notification(c, msg.method, msg.params);
		break;
	case JRPC_RESPONSE:
		/* We send no requests, so nothing waits for an answer. */
		log_debug("ignoring a response from the client");
		break;
	case JRPC_INVALID:
		if (msg.error_new != NULL)
			mcp_send_new(c, TAKE_PTR(msg.error_new), 400);
		else
			log_debug("ignoring an invalid notification: %s", msg.why);
		break;
	}
	jrpc_message_clear(&msg);
}

char *mcp_error_text(int code, const char *message)
{
	_cleanup_json_ json_t *e = jrpc_error_new(NULL, code, NULL, "%s", message);

	return e ? json_dumps(e, JSON_COMPACT) : NULL;
}

void mcp_peek_message(const struct mcp_server *s, const char *text, size_t len,
		      const struct mcp_envelope *env, struct mcp_peek *out)
{
	struct jrpc_message msg;

	jrpc_parse(text, len, s->limits.max_json_depth, &msg);
	*out = (struct mcp_peek){.kind = MCP_PEEK_INVALID};
	switch (msg.kind) {
	case JRPC_REQUEST:
		out->kind = MCP_PEEK_REQUEST;
		out->id = json_incref(msg.id);
		out->modern = mcp_modern_message(msg.params, env);
		out->initialize = !out->modern && strcmp(msg.method, "initialize") == 0;
		break;
	case JRPC_NOTIFICATION:
		out->modern = mcp_modern_message(msg.params, env);
		out->kind = MCP_PEEK_OTHER;
		break;
	case JRPC_RESPONSE:
		out->kind = MCP_PEEK_OTHER;
		break;
	case JRPC_EMPTY:
	case JRPC_INVALID:
		break;
	}
	jrpc_message_clear(&msg);
}

void mcp_server_receive(struct mcp_server *s, const char *text, size_t len)
{
	mcp_conn_receive(s->stdio, text, len, NULL);
}

void mcp_conn_reject_oversized(struct mcp_conn *c, json_t *id_new)
{
	_cleanup_json_ json_t *id = id_new;

	mcp_reply_error_status(
	    c, id, 413, JRPC_INVALID_REQUEST,
	    json_pack("{s:I}", "max_message_bytes",
		      (json_int_t)c->server->limits.max_message_bytes),
	    "Invalid request: the message is longer than the limit of %zu bytes and "
	    "was skipped. Hint: send smaller messages, e.g. pass large scripts by "
	    "path instead of inline",
	    c->server->limits.max_message_bytes);
}

void mcp_server_reject_oversized(struct mcp_server *s, json_t *id_new)
{
	mcp_conn_reject_oversized(s->stdio, id_new);
}

void mcp_server_reject_dropped(struct mcp_server *s)
{
	mcp_reply_error_status(s->stdio, NULL, 503, JRPC_INTERNAL_ERROR, NULL,
			       "Internal error: out of memory reading a message; it was skipped. "
			       "Hint: retry, or send smaller messages");
}
