/* Authorization at the HTTP boundary (MCP's authorization spec for a
 * resource server; RFC 6750, RFC 9728): every /mcp request carries a
 * bearer token when the server has a token source; without one (or with
 * a bad one) the answer is 401 with a WWW-Authenticate header naming the
 * protected resource metadata, which this server serves itself.  What a
 * token may do (its scopes) is the protocol's to check; a 403 it answers
 * gets the insufficient_scope challenge here. */
#include <stdio.h>
#include <string.h>

#include "http_auth.h"
#include "http_internal.h"
#include "log.h"

#define WELL_KNOWN "/.well-known/oauth-protected-resource"

/* The metadata's URL: RFC 9728 puts the well-known path between the
 * resource's origin and its path.  Without a configured resource URL it
 * is this request's own origin (Host), over http. */
static void metadata_url(const struct mcp_http *h, h2o_req_t *req, char *buf, size_t size)
{
	const char *resource = h->cfg.auth_resource;
	const char *scheme_end = resource ? strstr(resource, "://") : NULL;

	if (scheme_end != NULL) {
		const char *path = strchr(scheme_end + 3, '/');
		int origin = path ? (int)(path - resource) : (int)strlen(resource);
		snprintf(buf, size, "%.*s" WELL_KNOWN "%s", origin, resource, path ? path : "");
		return;
	}
	snprintf(buf, size, "http://%.*s" WELL_KNOWN "/mcp", (int)req->input.authority.len,
		 req->input.authority.base);
}

/* A quoted-string of RFC 7230 may not hold '"' or '\\' unescaped, nor
 * control characters: whatever the reason text holds is replaced. */
static void quotable(char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '\'';
}

static void challenge(struct mcp_http *h, h2o_req_t *req, int status, const char *error,
		      const char *why)
{
	char url[512], header[1024], message[512];

	metadata_url(h, req, url, sizeof(url));
	quotable(url); /* it may hold the request's Host */
	if (error == NULL) {
		snprintf(header, sizeof(header), "Bearer resource_metadata=\"%s\"", url);
		snprintf(message, sizeof(message),
			 "Unauthorized: this server needs a bearer token. Hint: send "
			 "`Authorization: Bearer TOKEN`; %s says where to get one",
			 url);
	} else {
		char desc[256];
		snprintf(desc, sizeof(desc), "%s", why ? why : "");
		quotable(desc);
		snprintf(header, sizeof(header),
			 "Bearer error=\"%s\", error_description=\"%s\", resource_metadata=\"%s\"",
			 error, desc, url);
		snprintf(message, sizeof(message), "%s: %s. Hint: %s",
			 status == 403 ? "Forbidden" : "Unauthorized", desc,
			 status == 403 ? "ask for a token with the scope the error names"
				       : "get a new token for this server");
	}
	http_reply_error(req, status, status == 403 ? "Forbidden" : "Unauthorized", -32600, message,
			 "www-authenticate", header);
}

bool http_authorize(struct mcp_http *h, h2o_req_t *req, struct auth_principal *p)
{
	const h2o_header_t *hdr = NULL;
	char why[256];
	ssize_t i;

	*p = (struct auth_principal){.run = true, .jobs = true};
	if (h->cfg.auth == NULL)
		return true;
	i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
	if (i >= 0)
		hdr = &req->headers.entries[i];
	switch (http_auth_check(h->cfg.auth, hdr ? hdr->value.base : NULL, hdr ? hdr->value.len : 0,
				p, why, sizeof(why))) {
	case AUTH_OK:
		return true;
	case AUTH_MISSING:
		challenge(h, req, 401, NULL, NULL);
		return false;
	case AUTH_INVALID:
		log_msg(LOG_LEVEL_INFO, "HTTP: refused a token: %s", why);
		challenge(h, req, 401, "invalid_token", why);
		return false;
	}
	return false;
}

bool http_serve_metadata(struct mcp_http *h, h2o_req_t *req)
{
	const h2o_iovec_t *path = &req->path_normalized;
	static const char wk[] = WELL_KNOWN;

	if (path->len < sizeof(wk) - 1 || memcmp(path->base, wk, sizeof(wk) - 1) != 0)
		return false;
	if (h->cfg.auth == NULL) {
		http_reply_error(req, 404, "Not Found", -32601,
				 "Not found: this server asks for no authorization", NULL, NULL);
		return true;
	}
	json_t *meta = http_auth_metadata(h->cfg.auth);
	if (meta && !json_is_string(json_object_get(meta, "resource"))) {
		char url[512];
		snprintf(url, sizeof(url), "http://%.*s/mcp", (int)req->input.authority.len,
			 req->input.authority.base);
		json_object_set_new(meta, "resource", json_string(url));
	}
	char *text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
	json_decref(meta);
	if (text == NULL) {
		http_reply_error(req, 503, "Service Unavailable", -32603,
				 "Internal error: out of memory. Hint: retry", NULL, NULL);
		return true;
	}
	http_set_status(req, 200, "OK");
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		       H2O_STRLIT("application/json"));
	h2o_send_inline(req, text, strlen(text));
	free(text);
	return true;
}

void http_scope_challenge(struct mcp_http *h, h2o_req_t *req)
{
	char url[512], header[640];

	if (h->cfg.auth == NULL)
		return;
	metadata_url(h, req, url, sizeof(url));
	quotable(url);
	snprintf(header, sizeof(header),
		 "Bearer error=\"insufficient_scope\", scope=\"python-mcp:run python-mcp:jobs\", "
		 "resource_metadata=\"%s\"",
		 url);
	/* By reference until the response is written: into the pool. */
	h2o_iovec_t v = h2o_strdup(&req->pool, header, strlen(header));
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("www-authenticate"), 0,
			      NULL, v.base, v.len);
}

unsigned http_principal_scopes(const struct auth_principal *p)
{
	return (p->run ? MCP_SCOPE_RUN : 0) | (p->jobs ? MCP_SCOPE_JOBS : 0);
}
