/* Resources: a few of fixed URIs (policy://effective) and templates
 * (job-stream://{job_id}), whose URIs are read by the reader registered
 * for their scheme. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_internal.h"

static char *dup_or_null(const char *s, bool *failed)
{
	char *copy;

	if (s == NULL)
		return NULL;
	copy = strdup(s);
	if (copy == NULL)
		*failed = true;
	return copy;
}

static void free_entry(struct mcp_template_entry *e)
{
	free(e->uri_template);
	free(e->scheme);
	free(e->name);
	free(e->title);
	free(e->description);
	free(e->mime_type);
}

int mcp_register_resource_template(struct mcp_server *s, const struct mcp_resource_template *t)
{
	struct mcp_template_entry e = {0}, *grown;
	bool failed = false;

	if (t->uri_template == NULL || t->scheme == NULL || t->scheme[0] == '\0' ||
	    t->name == NULL || t->read == NULL) {
		log_error("bug: a resource template needs uri_template, scheme, name and read");
		return -EINVAL;
	}
	e.uri_template = dup_or_null(t->uri_template, &failed);
	e.scheme = dup_or_null(t->scheme, &failed);
	e.name = dup_or_null(t->name, &failed);
	e.title = dup_or_null(t->title, &failed);
	e.description = dup_or_null(t->description, &failed);
	e.mime_type = dup_or_null(t->mime_type, &failed);
	e.read = t->read;
	e.watch = t->watch;
	e.unwatch = t->unwatch;
	e.complete = t->complete;
	e.ctx = t->ctx;
	grown = failed ? NULL : realloc(s->templates, (s->n_templates + 1) * sizeof(*grown));
	if (grown == NULL) {
		free_entry(&e);
		return -ENOMEM;
	}
	s->templates = grown;
	s->templates[s->n_templates++] = e;
	return 0;
}

static void free_resource(struct mcp_resource_entry *e)
{
	free(e->uri);
	free(e->name);
	free(e->title);
	free(e->description);
	free(e->mime_type);
}

int mcp_register_resource(struct mcp_server *s, const struct mcp_resource *r)
{
	struct mcp_resource_entry e = {0}, *grown;
	bool failed = false;

	if (r->uri == NULL || r->name == NULL || r->read == NULL) {
		log_error("bug: a resource needs uri, name and read");
		return -EINVAL;
	}
	e.uri = dup_or_null(r->uri, &failed);
	e.name = dup_or_null(r->name, &failed);
	e.title = dup_or_null(r->title, &failed);
	e.description = dup_or_null(r->description, &failed);
	e.mime_type = dup_or_null(r->mime_type, &failed);
	e.read = r->read;
	e.ctx = r->ctx;
	grown = failed ? NULL : realloc(s->resources, (s->n_resources + 1) * sizeof(*grown));
	if (grown == NULL) {
		free_resource(&e);
		return -ENOMEM;
	}
	s->resources = grown;
	s->resources[s->n_resources++] = e;
	return 0;
}

void mcp_templates_free(struct mcp_server *s)
{
	for (size_t i = 0; i < s->n_templates; i++)
		free_entry(&s->templates[i]);
	free(s->templates);
	s->templates = NULL;
	s->n_templates = 0;
	for (size_t i = 0; i < s->n_resources; i++)
		free_resource(&s->resources[i]);
	free(s->resources);
	s->resources = NULL;
	s->n_resources = 0;
}

/* Lists change only with a new server binary. */
#define LIST_TTL_MS 3600000LL

static void set_optional(json_t *obj, const char *key, const char *value);

void mcp_handle_resources_list(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct mcp_server *s = c->server;
	json_t *list;

	if (!mcp_check_cursor(c, rq, params))
		return;
	list = json_array();
	for (size_t i = 0; i < s->n_resources; i++) {
		struct mcp_resource_entry *e = &s->resources[i];
		json_t *r = json_pack("{s:s, s:s}", "uri", e->uri, "name", e->name);

		set_optional(r, "title", e->title);
		set_optional(r, "description", e->description);
		set_optional(r, "mimeType", e->mime_type);
		json_array_append_new(list, r);
	}
	mcp_reply_cacheable(c, rq, json_pack("{s:o}", "resources", list), LIST_TTL_MS, "public");
}

/* No prompts: an empty list, for clients that probe it. */
void mcp_handle_prompts_list(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	if (!mcp_check_cursor(c, rq, params))
		return;
	mcp_reply_cacheable(c, rq, json_pack("{s:[]}", "prompts"), LIST_TTL_MS, "public");
}

static void set_optional(json_t *obj, const char *key, const char *value)
{
	if (obj && value)
		json_object_set_new(obj, key, json_string(value));
}

void mcp_handle_templates_list(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct mcp_server *s = c->server;
	json_t *list;

	if (!mcp_check_cursor(c, rq, params))
		return;
	list = json_array();
	for (size_t i = 0; i < s->n_templates; i++) {
		struct mcp_template_entry *e = &s->templates[i];
		json_t *t =
		    json_pack("{s:s, s:s}", "uriTemplate", e->uri_template, "name", e->name);

		set_optional(t, "title", e->title);
		set_optional(t, "description", e->description);
		set_optional(t, "mimeType", e->mime_type);
		json_array_append_new(list, t);
	}
	mcp_reply_cacheable(c, rq, json_pack("{s:o}", "resourceTemplates", list), LIST_TTL_MS,
			    "public");
}

static const struct mcp_resource_entry *find_resource(const struct mcp_server *s, const char *uri)
{
	for (size_t i = 0; i < s->n_resources; i++)
		if (strcmp(uri, s->resources[i].uri) == 0)
			return &s->resources[i];
	return NULL;
}

static struct mcp_template_entry *find_scheme(struct mcp_server *s, const char *uri)
{
	for (size_t i = 0; i < s->n_templates; i++)
		if (strncmp(uri, s->templates[i].scheme, strlen(s->templates[i].scheme)) == 0)
			return &s->templates[i];
	return NULL;
}

static void template_list(struct mcp_server *s, char *buf, size_t size)
{
	size_t len = 0;

	snprintf(buf, size, "none");
	for (size_t i = 0; i < s->n_templates && len < size; i++) {
		int n = snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
				 s->templates[i].uri_template);

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/* 2026-07-28 answers a missing resource -32602 (and never -32002). */
static int not_found_code(const struct mcp_req *rq)
{
	return rq->modern ? JRPC_INVALID_PARAMS : MCP_RESOURCE_NOT_FOUND;
}

void mcp_handle_resources_read(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct mcp_server *s = c->server;
	const struct mcp_resource_entry *fixed;
	struct mcp_template_entry *t = NULL;
	json_t *contents = NULL;
	struct pm_error err = {0};
	const char *uri;
	char known[512], message[PM_ERROR_MESSAGE_MAX + PM_ERROR_HINT_MAX + 16];
	int rc;

	uri = mcp_require_string(c, rq, params, "uri",
				 "name the resource to read, e.g. \"job-stream://<job_id>\"");
	if (uri == NULL)
		return;
	fixed = find_resource(s, uri);
	if (fixed == NULL && (t = find_scheme(s, uri)) == NULL) {
		template_list(s, known, sizeof(known));
		mcp_reply_error(c, rq, not_found_code(rq), json_pack("{s:s}", "uri", uri),
				"Resource not found: no resource has the URI `%.*s`. Hint: this "
				"server serves the templates resources/templates/list returns (%s) "
				"and the resources resources/list returns",
				JRPC_Q(uri), known);
		return;
	}
	if (fixed)
		rc = fixed->read(uri, mcp_conn_tenant(c), &contents, &err, fixed->ctx);
	else
		rc = t->read(uri, mcp_conn_tenant(c), &contents, &err, t->ctx);
	if (rc < 0) {
		json_decref(contents);
		pm_error_format(&err, message, sizeof(message));
		if (rc == -ENOENT)
			mcp_reply_error(c, rq, not_found_code(rq), json_pack("{s:s}", "uri", uri),
					"Resource not found: %s", message);
		else
			mcp_reply_error(c, rq, JRPC_INTERNAL_ERROR, json_pack("{s:s}", "uri", uri),
					"Internal error reading `%.*s`: %s", JRPC_Q(uri), message);
		return;
	}
	if (!json_is_array(contents)) {
		log_error("bug: the reader of `%s` returned no contents array",
			  fixed ? fixed->uri : t->uri_template);
		json_decref(contents);
		mcp_reply_error(c, rq, JRPC_INTERNAL_ERROR, NULL,
				"Internal error reading `%.*s`. Hint: report this bug",
				JRPC_Q(uri));
		return;
	}
	/* A job's output grows while it runs, the policy changes with a
	 * reload: never cached, and only for whoever may read the job. */
	mcp_reply_cacheable(c, rq, json_pack("{s:o}", "contents", contents), 0, "private");
}
