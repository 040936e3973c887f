/* Lifecycle and utilities: initialize and version negotiation, ping,
 * logging/setLevel and notifications/message, notifications/initialized
 * and notifications/cancelled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_internal.h"

/* Newest first: the first is what a client asking for anything else gets. */
static const char *const legacy_versions[] = {"2025-11-25", "2025-06-18"};

#define DEFAULT_TITLE "Python MCP (sandboxed)"
#define DEFAULT_INSTRUCTIONS                                                                       \
	"Tools that run Python answer inline when the script finishes within the smart-async "     \
	"timeout (20 s by default, SMART_ASYNC_TIMEOUT_SECONDS); otherwise they return a job_id "  \
	"at once while the script keeps running: poll it with py_job_status, or stop it with "     \
	"py_cancel_job."

/* Sets a copy of value; NULL keeps the current one, or sets the default
 * the first time. */
static void replace(char **field, const char *value, const char *fallback)
{
	char *copy;

	if (value == NULL && *field != NULL)
		return;
	copy = strdup(value ? value : fallback);
	if (copy == NULL)
		return; /* keeps the old one; mcp_server_new() checks the first */
	free(*field);
	*field = copy;
}

void mcp_server_set_info(struct mcp_server *s, const char *title, const char *instructions)
{
	replace(&s->title, title, DEFAULT_TITLE);
	replace(&s->instructions, instructions, DEFAULT_INSTRUCTIONS);
}

void mcp_server_set_limits_note(struct mcp_server *s, const char *note)
{
	char *copy = note && note[0] ? strdup(note) : NULL;

	if (note && note[0] && copy == NULL)
		return; /* keeps the old one */
	free(s->limits_note);
	s->limits_note = copy;
}

/* text, a space and the note. */
static json_t *with_note(const char *text, const char *note)
{
	char *joined = NULL;
	json_t *j;

	if (note == NULL)
		return json_string(text);
	if (asprintf(&joined, "%s %s", text, note) < 0)
		return NULL;
	j = json_string(joined);
	free(joined);
	return j;
}

json_t *mcp_instructions_new(const struct mcp_server *s)
{
	return with_note(s->instructions, s->limits_note);
}

json_t *mcp_tool_description_new(const struct mcp_server *s, const struct tool_decl *d)
{
	return with_note(d->description, d->shows_limits ? s->limits_note : NULL);
}

static const char *negotiate(const char *requested)
{
	for (size_t i = 0; i < sizeof(legacy_versions) / sizeof(legacy_versions[0]); i++)
		if (strcmp(requested, legacy_versions[i]) == 0)
			return legacy_versions[i];
	return legacy_versions[0];
}

void mcp_handle_initialize(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct mcp_server *s = c->server;
	const char *requested;
	json_t *result;

	if (c->initialized) {
		mcp_reply_error(c, rq, JRPC_INVALID_REQUEST, NULL,
				"Invalid request: the server is already initialized. Hint: send "
				"initialize once per session; start a new server process for a "
				"new session");
		return;
	}
	requested = mcp_require_string(c, rq, params, "protocolVersion",
				       "send the protocol version the client speaks, e.g. "
				       "\"2025-11-25\"");
	if (requested == NULL)
		return;
	c->protocol_version = negotiate(requested);
	if (strcmp(c->protocol_version, requested) != 0)
		log_info("client asked for protocol %.*s; offering %s", JRPC_Q(requested),
			 c->protocol_version);
	/* listChanged:false: the tool set is fixed at start-up. */
	result = json_pack("{s:s, s:{s:{s:b}, s:{s:b, s:b}, s:{}}, s:{s:s, s:s, s:s}, s:o}",
			   "protocolVersion", c->protocol_version, "capabilities", "tools",
			   "listChanged", 0, "resources", "subscribe", 0, "listChanged", 0,
			   "logging", "serverInfo", "name", s->name, "title", s->title, "version",
			   s->version, "instructions", mcp_instructions_new(s));
	if (result == NULL) {
		c->protocol_version = NULL;
		mcp_reply_error(c, rq, JRPC_INTERNAL_ERROR, NULL,
				"Internal error: out of memory. Hint: retry initialize");
		return;
	}
	/* Subscriptions and completion where a template offers them. */
	json_t *rcaps = json_object_get(result, "capabilities");
	if (mcp_subscriptions_offered(s))
		json_object_set_new(json_object_get(rcaps, "resources"), "subscribe", json_true());
	if (mcp_completions_offered(s))
		json_object_set_new(rcaps, "completions", json_object());
	/* 2025-11-25 core tasks: the runs of the execution tools. */
	if (mcp_tasks_legacy(c))
		json_object_set_new(json_object_get(result, "capabilities"), "tasks",
				    json_pack("{s:{}, s:{}, s:{s:{s:{}}}}", "list", "cancel",
					      "requests", "tools", "call"));
	c->initialized = true;
	json_t *caps = json_object_get(params, "capabilities");
	c->client_caps = json_is_object(caps) ? json_incref(caps) : json_object();
	mcp_reply_new(c, rq, result);
}

void mcp_handle_ping(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	(void)params;
	mcp_reply_new(c, rq, json_object());
}

void mcp_handle_set_level(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	const char *name = mcp_require_string(c, rq, params, "level",
					      "one of debug, info, notice, warning, error, "
					      "critical, alert, emergency");
	int level;

	if (name == NULL)
		return;
	level = log_level_from_name(name);
	if (level < 0) {
		mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL,
				"Invalid params: unknown log level `%.*s`. Hint: use one of %s",
				JRPC_Q(name), log_level_names());
		return;
	}
	c->client_log_level = level;
	mcp_reply_new(c, rq, json_object());
}

void mcp_handle_initialized(struct mcp_conn *c, json_t *params)
{
	(void)params;
	c->client_ready = true;
}

bool mcp_conn_cancel_request(struct mcp_conn *c, json_t *id)
{
	struct mcp_call *call;

	LIST_FOREACH (call, &c->calls, link) {
		if (!call->cancelled && !call->answered && json_equal(call->id, id)) {
			log_debug("client cancelled a call of `%s`", call->tc.tool);
			mcp_call_cancel(call);
			return true;
		}
	}
	return false;
}

void mcp_handle_cancelled(struct mcp_conn *c, json_t *params)
{
	json_t *request_id = json_object_get(params, "requestId");

	/* Unknown or already answered: a race the spec says to tolerate. */
	if (request_id != NULL && !mcp_conn_cancel_request(c, request_id) &&
	    !mcp_tasks_cancel_wait(c, request_id))
		mcp_subscriptions_end_listen(c, request_id);
}

void mcp_notify_log(struct mcp_server *s, const char *level, const char *logger, json_t *data_new)
{
	struct mcp_conn *c = s->stdio;
	int l = log_level_from_name(level);
	json_t *params;

	if (l < 0) {
		log_error("bug: mcp_notify_log with unknown level `%s`", level);
		json_decref(data_new);
		return;
	}
	/* Nothing but ping may precede the initialize response. */
	if (data_new == NULL || !c->initialized || l < c->client_log_level) {
		json_decref(data_new);
		return;
	}
	params = json_pack("{s:s, s:o}", "level", level, "data", data_new);
	if (params != NULL && logger != NULL)
		json_object_set_new(params, "logger", json_string(logger));
	mcp_send_notification_new(c, jrpc_notification_new("notifications/message", params), NULL);
}
