/* Resource subscriptions and completion:
 *
 * - legacy resources/subscribe and resources/unsubscribe: the connection
 *   gets notifications/resources/updated {uri} (on stdio a line, over HTTP
 *   the session's GET stream);
 * - 2026-07-28 subscriptions/listen: a request that stays open; its first
 *   message acknowledges the honoured subscriptions, then every update
 *   carries its id as _meta subscriptionId, on its own stream; it ends
 *   when the client cancels it (stdio) or closes the stream (HTTP);
 * - completion/complete of a template's argument.
 *
 * What changes is the template's to say (its watch callback); a
 * connection holds at most MAX_SUBS subscriptions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_internal.h"

#define MAX_SUBS	256
#define MAX_COMPLETIONS 100
#define SUBSCRIPTION_ID "io.modelcontextprotocol/subscriptionId"

struct mcp_sub {
	struct mcp_conn *conn;
	const struct mcp_template_entry *t;
	char *uri;
	void *handle;
	json_t *listen; /* the subscriptions/listen request, or NULL (legacy) */
	LIST_ENTRY(mcp_sub) link;
};

static const struct mcp_template_entry *template_of(const struct mcp_server *s, const char *uri)
{
	for (size_t i = 0; i < s->n_templates; i++)
		if (strncmp(uri, s->templates[i].scheme, strlen(s->templates[i].scheme)) == 0)
			return &s->templates[i];
	return NULL;
}

bool mcp_subscriptions_offered(const struct mcp_server *s)
{
	for (size_t i = 0; i < s->n_templates; i++)
		if (s->templates[i].watch)
			return true;
	return false;
}

bool mcp_completions_offered(const struct mcp_server *s)
{
	for (size_t i = 0; i < s->n_templates; i++)
		if (s->templates[i].complete)
			return true;
	return false;
}

static void drop(struct mcp_sub *sub)
{
	LIST_REMOVE(sub, link);
	sub->conn->n_subs--;
	sub->t->unwatch(sub->handle, sub->t->ctx);
	json_decref(sub->listen);
	free(sub->uri);
	free(sub);
}

static void on_changed(void *data, bool gone)
{
	struct mcp_sub *sub = data;
	json_t *params = json_pack("{s:s}", "uri", sub->uri);

	if (params && sub->listen)
		json_object_set_new(params, "_meta",
				    json_pack("{s:O}", SUBSCRIPTION_ID, sub->listen));
	mcp_send_notification_new(sub->conn,
				  jrpc_notification_new("notifications/resources/updated", params),
				  sub->listen);
	/* A resource that is gone changes no more. */
	if (gone)
		drop(sub);
}

static int add(struct mcp_conn *c, const char *uri, json_t *listen, struct pm_error *err)
{
	const struct mcp_template_entry *t = template_of(c->server, uri);
	struct mcp_sub *sub;
	int r;

	if (t == NULL || t->watch == NULL)
		return pm_error_set(err, "resources", ENOENT,
				    "no resource `%.*s` can be subscribed to", JRPC_Q(uri));
	if (c->n_subs >= MAX_SUBS)
		return pm_error_set(err, "resources", EMFILE,
				    "this connection already holds %d subscriptions", MAX_SUBS);
	if ((sub = calloc(1, sizeof(*sub))) == NULL || (sub->uri = strdup(uri)) == NULL) {
		free(sub);
		return pm_error_set(err, "resources", ENOMEM, "subscribe to `%.*s`", JRPC_Q(uri));
	}
	sub->conn = c;
	sub->t = t;
	sub->listen = json_incref(listen);
	if ((r = t->watch(uri, mcp_conn_tenant(c), on_changed, sub, &sub->handle, err, t->ctx)) <
	    0) {
		json_decref(sub->listen);
		free(sub->uri);
		free(sub);
		return r;
	}
	LIST_INSERT_HEAD(&c->subs, sub, link);
	c->n_subs++;
	return 0;
}

static struct mcp_sub *find(struct mcp_conn *c, const char *uri, json_t *listen)
{
	struct mcp_sub *sub;

	LIST_FOREACH (sub, &c->subs, link)
		if (strcmp(sub->uri, uri) == 0 &&
		    (listen ? sub->listen && json_equal(sub->listen, listen) : !sub->listen))
			return sub;
	return NULL;
}

void mcp_handle_subscribe(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct pm_error err = {0};
	const char *uri = mcp_require_string(c, rq, params, "uri",
					     "name the resource, e.g. \"job-stream://<job_id>\"");

	if (uri == NULL)
		return;
	if (find(c, uri, NULL) == NULL && add(c, uri, NULL, &err) < 0) {
		mcp_reply_error(
		    c, rq, err.errnum == ENOENT ? MCP_RESOURCE_NOT_FOUND : JRPC_INVALID_PARAMS,
		    json_pack("{s:s}", "uri", uri), "Cannot subscribe: %s. Hint: %s", err.message,
		    err.errnum == ENOENT ? "subscribe to the job-stream of a job this "
					   "server keeps (py_list_jobs)"
					 : "unsubscribe from some first");
		return;
	}
	mcp_reply_new(c, rq, json_object());
}

void mcp_handle_unsubscribe(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	const char *uri = mcp_require_string(c, rq, params, "uri", "the URI subscribed to");
	struct mcp_sub *sub;

	if (uri == NULL)
		return;
	if ((sub = find(c, uri, NULL)) != NULL)
		drop(sub);
	mcp_reply_new(c, rq, json_object());
}

void mcp_handle_listen(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	json_t *wanted =
	    json_object_get(json_object_get(params, "notifications"), "resourceSubscriptions");
	json_t *honoured = json_array(), *uri;
	struct pm_error err;
	size_t i;

	if (wanted != NULL && !json_is_array(wanted)) {
		json_decref(honoured);
		mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL,
				"Invalid params: notifications.resourceSubscriptions must be an "
				"array of URIs");
		return;
	}
	/* Only what can be watched is acknowledged; list changes never
	 * happen here (the lists are fixed), so they are not honoured. */
	json_array_foreach (wanted, i, uri) {
		const char *u = json_string_value(uri);

		if (u && find(c, u, rq->id) == NULL && add(c, u, rq->id, &err) == 0)
			json_array_append(honoured, uri);
	}
	mcp_send_notification_new(
	    c,
	    jrpc_notification_new("notifications/subscriptions/acknowledged",
				  json_pack("{s:{s:O}, s:{s:o}}", "_meta", SUBSCRIPTION_ID, rq->id,
					    "notifications", "resourceSubscriptions", honoured)),
	    rq->id);
	/* No answer: the request stays open until the client ends it. */
}

bool mcp_subscriptions_end_listen(struct mcp_conn *c, json_t *id)
{
	struct mcp_sub *sub, *next;
	bool found = false;

	for (sub = LIST_FIRST(&c->subs); sub != NULL; sub = next) {
		next = LIST_NEXT(sub, link);
		if (sub->listen && json_equal(sub->listen, id)) {
			drop(sub);
			found = true;
		}
	}
	return found;
}

void mcp_subscriptions_conn_free(struct mcp_conn *c)
{
	while (!LIST_EMPTY(&c->subs))
		drop(LIST_FIRST(&c->subs));
}

void mcp_handle_complete(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	json_t *ref = json_object_get(params, "ref"), *arg = json_object_get(params, "argument");
	const char *type = json_string_value(json_object_get(ref, "type"));
	const char *uri = json_string_value(json_object_get(ref, "uri"));
	const char *name = json_string_value(json_object_get(arg, "name"));
	const char *value = json_string_value(json_object_get(arg, "value"));
	const struct mcp_template_entry *t = NULL;
	size_t total = 0;
	json_t *values;

	if (type == NULL || strcmp(type, "ref/resource") != 0 || uri == NULL || name == NULL ||
	    value == NULL) {
		mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL,
				"Invalid params: completion/complete takes ref {\"type\": "
				"\"ref/resource\", \"uri\": <template>} and argument {\"name\", "
				"\"value\"}. Hint: this server has no prompts");
		return;
	}
	for (size_t i = 0; i < c->server->n_templates; i++)
		if (strcmp(c->server->templates[i].uri_template, uri) == 0)
			t = &c->server->templates[i];
	if (t == NULL || t->complete == NULL) {
		mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, json_pack("{s:s}", "uri", uri),
				"Invalid params: no template `%.*s` offers completion. Hint: see "
				"resources/templates/list",
				JRPC_Q(uri));
		return;
	}
	values = t->complete(name, value, mcp_conn_tenant(c), MAX_COMPLETIONS, &total, t->ctx);
	mcp_reply_new(c, rq,
		      json_pack("{s:{s:o, s:I, s:b}}", "completion", "values",
				values ? values : json_array(), "total", (json_int_t)total,
				"hasMore", total > json_array_size(values)));
}
