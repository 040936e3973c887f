/* A JSON-RPC client of the real protocol layer for the tool tests:
 * messages go in through mcp_server_receive(), answers come back through a
 * sink into an inbox. */
#ifndef JOBS_MCP_CLIENT_H
#define JOBS_MCP_CLIENT_H

#include <stdarg.h>

#include "jobs_test.h"
#include "mcp.h"
#include "tools.h"

struct client {
	struct mcp_server *s;
	struct tools *tools;
	json_t *inbox;
	int next_id;
};

static inline void on_send(void *ctx, const char *msg, size_t len)
{
	struct client *c = ctx;
	json_error_t jerr;
	json_t *m = json_loadb(msg, len, 0, &jerr);

	if (m == NULL) {
		fprintf(stderr, "server sent invalid JSON (%s): %.*s\n", jerr.text, (int)len, msg);
		failures++;
		return;
	}
	json_array_append_new(c->inbox, m);
}

static inline void send_json(struct client *c, json_t *m_new)
{
	char *text = json_dumps(m_new, JSON_COMPACT);

	mcp_server_receive(c->s, text, strlen(text));
	free(text);
	json_decref(m_new);
}

/* The response to `id`, taken out of the inbox, or NULL. */
static inline json_t *take_response(struct client *c, int id)
{
	size_t i;
	json_t *m;

	json_array_foreach (c->inbox, i, m) {
		json_t *mid = json_object_get(m, "id");

		if (json_is_integer(mid) && json_integer_value(mid) == id) {
			json_incref(m);
			json_array_remove(c->inbox, i);
			return m;
		}
	}
	return NULL;
}

static inline int send_request(struct client *c, const char *method, json_t *params_new)
{
	int id = ++c->next_id;

	send_json(c, json_pack("{s:s,s:i,s:s,s:o}", "jsonrpc", "2.0", "id", id, "method", method,
			       "params", params_new));
	return id;
}

static inline json_t *request(struct client *c, const char *method, json_t *params_new)
{
	return take_response(c, send_request(c, method, params_new));
}

/* structuredContent of a tools/call response; checks the text block
 * carries the same JSON. */
static inline json_t *tool_result(json_t *response, bool *is_error)
{
	json_t *result = json_object_get(response, "result");
	json_t *sc = json_object_get(result, "structuredContent");
	json_t *text =
	    json_object_get(json_array_get(json_object_get(result, "content"), 0), "text");

	*is_error = json_is_true(json_object_get(result, "isError"));
	if (sc == NULL || !json_is_string(text)) {
		char *dump = json_dumps(response, 0);
		fprintf(stderr, "not a tool result: %s\n", dump);
		free(dump);
		failures++;
		return NULL;
	}
	json_t *parsed = json_loads(json_string_value(text), 0, NULL);
	CHECK(json_equal(parsed, sc));
	json_decref(parsed);
	return json_incref(sc);
}

static inline int send_call(struct client *c, const char *tool, const char *args)
{
	json_t *a = json_loads(args, 0, NULL);

	if (a == NULL) {
		fprintf(stderr, "bad test arguments: %s\n", args);
		exit(2);
	}
	return send_request(c, "tools/call", json_pack("{s:s,s:o}", "name", tool, "arguments", a));
}

/* When set, every structured result of call() is kept here by tool name,
 * for the schema check (check_schemas.py). */
static json_t *recorded;

static inline void record(const char *tool, json_t *result)
{
	json_t *list;

	if (recorded == NULL)
		return;
	list = json_object_get(recorded, tool);
	if (list == NULL) {
		list = json_array();
		json_object_set_new(recorded, tool, list);
	}
	json_array_append(list, result);
}

static inline json_t *call(struct client *c, const char *tool, bool *is_error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static inline json_t *call(struct client *c, const char *tool, bool *is_error, const char *fmt, ...)
{
	char args[1024];
	va_list ap;
	json_t *response, *sc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	response = take_response(c, send_call(c, tool, args));
	if (response == NULL) {
		fprintf(stderr, "no answer to %s %s\n", tool, args);
		failures++;
		*is_error = true;
		return json_object();
	}
	sc = tool_result(response, is_error);
	json_decref(response);
	if (sc)
		record(tool, sc);
	return sc ? sc : json_object();
}

static inline const char *str(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_string_value(json_object_get(o, path));
}

/* An error result whose message contains `text`. */
#define CHECK_FAILS(c, tool, text, ...)                                                            \
	do {                                                                                       \
		bool e_;                                                                           \
		json_t *r_ = call(c, tool, &e_, __VA_ARGS__);                                      \
		const char *m_ = str(r_, "error");                                                 \
		if (!e_ || m_ == NULL || strstr(m_, text) == NULL) {                               \
			fprintf(stderr, "%s:%d: expected an error with `%s`, got `%s`\n",          \
				__FILE__, __LINE__, text, m_ ? m_ : "(none)");                     \
			failures++;                                                                \
		}                                                                                  \
		json_decref(r_);                                                                   \
	} while (0)

static inline void client_open(struct client *c, uv_loop_t *loop)
{
	struct mcp_limits limits = {.max_message_bytes = 1 << 22, .max_json_depth = 64};
	json_t *r;

	c->inbox = json_array();
	c->s = mcp_server_new(loop, &limits, "jobs-test", "0");
	mcp_server_attach(c->s, &(struct mcp_sink){.send = on_send, .ctx = c});
	r = request(c, "initialize",
		    json_pack("{s:s,s:{},s:{s:s,s:s}}", "protocolVersion", "2025-06-18",
			      "capabilities", "clientInfo", "name", "t", "version", "1"));
	CHECK(json_object_get(r, "result") != NULL);
	json_decref(r);
	send_json(c,
		  json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", "notifications/initialized"));
}

/* Serves every tool on table t through the client's server (cfg's exec
 * part gets the table; no runner: nothing here runs a script). */
static inline void serve_tools(struct client *c, struct jobs *t, struct tools_config cfg)
{
	struct pm_error err = {0};

	cfg.exec.jobs = t;
	c->tools = tools_new(&cfg);
	CHECK(c->tools != NULL && mcp_serve_tools(c->s, c->tools, &err) == 0);
}

static inline void client_close(struct client *c)
{
	mcp_server_detach(c->s);
	mcp_server_free(c->s);
	tools_free(c->tools);
	json_decref(c->inbox);
}

/* A runner stand-in whose cancellation finishes when the test says. */
static inline void append(struct jobs *t, struct job *j, enum job_stream s, const char *text)
{
	struct pm_error err;

	CHECK(jobs_append_output(t, j, s, text, strlen(text), &err) == 0);
}

#endif
