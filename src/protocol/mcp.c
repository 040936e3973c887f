/* The server object, its sink, and the dispatch of incoming messages to
 * the method handlers of mcp_lifecycle.c, mcp_tools.c and
 * mcp_resources.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_text.h"
#include "log.h"
#include "mcp_internal.h"

struct method {
	const char *name;
	void (*handle)(struct mcp_server *s, json_t *id, json_t *params);
	bool before_initialize; /* allowed before initialize was answered */
};

static const struct method methods[] = {
    {"initialize", mcp_handle_initialize, true},
    {"ping", mcp_handle_ping, true},
    {"logging/setLevel", mcp_handle_set_level, false},
    {"tools/list", mcp_handle_tools_list, false},
    {"tools/call", mcp_handle_tools_call, false},
    {"resources/list", mcp_handle_resources_list, false},
    {"resources/templates/list", mcp_handle_templates_list, false},
    {"resources/read", mcp_handle_resources_read, false},
};

#define METHOD_NAMES                                                                               \
	"initialize, ping, logging/setLevel, tools/list, tools/call, resources/list, "             \
	"resources/templates/list, resources/read"

struct notification {
	const char *name;
	void (*handle)(struct mcp_server *s, json_t *params);
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
	LIST_INIT(&s->calls);
	s->loop = loop;
	s->limits = *limits;
	/* A limit of 0 would refuse everything; 1 is at least explicit. */
	if (s->limits.max_message_bytes == 0)
		s->limits.max_message_bytes = 1;
	if (s->limits.max_json_depth == 0)
		s->limits.max_json_depth = 1;
	s->name = strdup(name);
	s->version = strdup(version);
	s->client_log_level = 1; /* info, until logging/setLevel */
	mcp_server_set_info(s, NULL, NULL);
	if (s->name == NULL || s->version == NULL || s->title == NULL || s->instructions == NULL) {
		mcp_server_free(s);
		return NULL;
	}
	return s;
}

void mcp_server_free(struct mcp_server *s)
{
	if (s == NULL)
		return;
	mcp_server_detach(s);
	mcp_calls_free_all(s);
	mcp_tools_free(s);
	mcp_templates_free(s);
	free(s->name);
	free(s->version);
	free(s->title);
	free(s->instructions);
	free(s);
}

const char *mcp_server_protocol_version(const struct mcp_server *s)
{
	return s->protocol_version;
}

void mcp_server_attach(struct mcp_server *s, const struct mcp_sink *sink)
{
	s->sink = *sink;
	s->attached = true;
}

void mcp_server_detach(struct mcp_server *s)
{
	/* Cancel callbacks may still log to the client: detach after them. */
	mcp_calls_cancel_all(s);
	s->attached = false;
	memset(&s->sink, 0, sizeof(s->sink));
}

static void send_msg(struct mcp_server *s, json_t *msg_new, bool droppable, json_t *request_id)
{
	_cleanup_json_ json_t *msg = msg_new;
	_cleanup_free_ char *text = NULL;
	json_t *outer;

	if (!s->attached)
		return;
	if (msg == NULL) {
		log_error("out of memory building a message; it is lost");
		return;
	}
	if (droppable && s->sink.congested && s->sink.congested(s->sink.ctx))
		return;
	/* JSON_COMPACT puts no newline between tokens and strings escape
	 * theirs: one message, one line. */
	text = json_dumps(msg, JSON_COMPACT);
	if (text == NULL) {
		log_error("cannot serialize a message; it is lost");
		return;
	}
	outer = s->sending_for;
	s->sending_for = request_id;
	s->sink.send(s->sink.ctx, text, strlen(text));
	s->sending_for = outer;
}

json_t *mcp_server_sending_for(const struct mcp_server *s)
{
	return s->sending_for;
}

void mcp_send_new(struct mcp_server *s, json_t *msg_new)
{
	json_t *id = json_object_get(msg_new, "id");

	send_msg(s, msg_new, false, json_is_null(id) ? NULL : id);
}

void mcp_send_notification_new(struct mcp_server *s, json_t *msg_new, json_t *request_id)
{
	send_msg(s, msg_new, true, request_id);
}

void mcp_reply_new(struct mcp_server *s, json_t *id, json_t *result_new)
{
	mcp_send_new(s, jrpc_result_new(id, result_new));
}

void mcp_reply_error(struct mcp_server *s, json_t *id, int code, json_t *data_new, const char *fmt,
		     ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	mcp_send_new(s, jrpc_error_new(id, code, data_new, "%s", message));
}

bool mcp_check_cursor(struct mcp_server *s, json_t *id, json_t *params)
{
	json_t *cursor = json_object_get(params, "cursor");

	if (cursor == NULL || (json_is_string(cursor) && json_string_length(cursor) == 0))
		return true;
	mcp_reply_error(s, id, JRPC_INVALID_PARAMS, NULL,
			"Invalid params: unknown `cursor`. Hint: this server returns every item "
			"in the first page and never sends nextCursor; omit `cursor`");
	return false;
}

const char *mcp_require_string(struct mcp_server *s, json_t *id, json_t *params, const char *key,
			       const char *hint)
{
	json_t *v = json_object_get(params, key);

	if (json_is_string(v))
		return json_string_value(v);
	mcp_reply_error(s, id, JRPC_INVALID_PARAMS, NULL, "Invalid params: `%s` %s. Hint: %s", key,
			v ? "must be a string" : "is missing", hint);
	return NULL;
}

static void dispatch_request(struct mcp_server *s, const char *method, json_t *id, json_t *params)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(methods[i].name, method) != 0)
			continue;
		if (!s->initialized && !methods[i].before_initialize) {
			mcp_reply_error(s, id, JRPC_INVALID_REQUEST, NULL,
					"Server not initialized: `%.*s` came before initialize. "
					"Hint: send initialize first (only ping may precede it)",
					JRPC_Q(method));
			return;
		}
		if (params != NULL && !json_is_object(params)) {
			mcp_reply_error(s, id, JRPC_INVALID_PARAMS, NULL,
					"Invalid params: `params` must be an object, not %s. Hint: "
					"send named parameters, or omit `params`",
					pm_json_type_name(params));
			return;
		}
		methods[i].handle(s, id, params);
		return;
	}
	if (!s->initialized) {
		mcp_reply_error(s, id, JRPC_INVALID_REQUEST, NULL,
				"Server not initialized: `%.*s` came before initialize. Hint: send "
				"initialize first (only ping may precede it)",
				JRPC_Q(method));
		return;
	}
	mcp_reply_error(s, id, JRPC_METHOD_NOT_FOUND, NULL,
			"Method not found: `%.*s`. Hint: this server implements " METHOD_NAMES,
			JRPC_Q(method));
}

/* Notifications are never answered, whatever is wrong with them. */
static void dispatch_notification(struct mcp_server *s, const char *method, json_t *params)
{
	if (params != NULL && !json_is_object(params)) {
		log_debug("ignoring notification `%.*s`: params is not an object", JRPC_Q(method));
		return;
	}
	for (size_t i = 0; i < sizeof(notifications) / sizeof(notifications[0]); i++) {
		if (strcmp(notifications[i].name, method) == 0) {
			notifications[i].handle(s, params);
			return;
		}
	}
	log_debug("ignoring notification `%.*s`", JRPC_Q(method));
}

void mcp_server_receive(struct mcp_server *s, const char *text, size_t len)
{
	struct jrpc_message msg;

	jrpc_parse(text, len, s->limits.max_json_depth, &msg);
	switch (msg.kind) {
	case JRPC_EMPTY:
		break;
	case JRPC_REQUEST:
		dispatch_request(s, msg.method, msg.id, msg.params);
		break;
	case JRPC_NOTIFICATION:
		dispatch_notification(s, msg.method, msg.params);
		break;
	case JRPC_RESPONSE:
		/* We send no requests, so nothing waits for an answer. */
		log_debug("ignoring a response from the client");
		break;
	case JRPC_INVALID:
		if (msg.error_new != NULL)
			mcp_send_new(s, TAKE_PTR(msg.error_new));
		else
			log_debug("ignoring an invalid notification: %s", msg.why);
		break;
	}
	jrpc_message_clear(&msg);
}

void mcp_server_reject_oversized(struct mcp_server *s, json_t *id_new)
{
	_cleanup_json_ json_t *id = id_new;

	mcp_reply_error(
	    s, id, JRPC_INVALID_REQUEST,
	    json_pack("{s:I}", "max_message_bytes", (json_int_t)s->limits.max_message_bytes),
	    "Invalid request: the message is longer than the limit of %zu bytes and "
	    "was skipped. Hint: send smaller messages, e.g. pass large scripts by "
	    "path instead of inline",
	    s->limits.max_message_bytes);
}

void mcp_server_reject_dropped(struct mcp_server *s)
{
	mcp_reply_error(s, NULL, JRPC_INTERNAL_ERROR, NULL,
			"Internal error: out of memory reading a message; it was skipped. Hint: "
			"retry, or send smaller messages");
}
