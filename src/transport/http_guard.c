/* DNS rebinding: a page on another site that gets its name to resolve to
 * this machine reaches the server with its own Host and Origin.  Both are
 * checked before a request is read: Host must name this server (loopback
 * names when it listens on loopback, else the admin's --http-allow-host
 * list or, without one, whatever Host says), and an Origin, when a
 * browser sends one, must be one of those hosts or an allowed origin. */
#include "http_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *http_header(h2o_req_t *req, const char *name, size_t *len)
{
	ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);

	if (i < 0)
		return NULL;
	*len = req->headers.entries[i].value.len;
	return req->headers.entries[i].value.base;
}

size_t http_header_bytes(h2o_req_t *req)
{
	size_t n = req->input.method.len + req->input.path.len + 12;

	for (size_t i = 0; i < req->headers.size; i++)
		n += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
	return n;
}

/* The host part of "host", "host:port", "[v6]" or "[v6]:port" into out
 * (without brackets, lowercase); false when it is none of those. */
static bool host_part(const char *v, size_t len, char *out, size_t size)
{
	const char *end = v + len, *colon;
	size_t n;

	if (len > 0 && v[0] == '[') {
		const char *close = memchr(v, ']', len);
		if (close == NULL || (close + 1 != end && close[1] != ':'))
			return false;
		v++;
		n = (size_t)(close - v);
	} else {
		colon = memchr(v, ':', len);
		n = colon ? (size_t)(colon - v) : len;
		(void)end;
	}
	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (c <= ' ' || c == '/' || c == '@' || c == '\\')
			return false;
		out[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	out[n] = '\0';
	return true;
}

static bool loopback_name(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
	       strcmp(host, "::1") == 0;
}

static bool allowed_host(const struct mcp_http *h, const char *host)
{
	if (loopback_name(host))
		return true;
	for (size_t i = 0; i < h->cfg.n_allow_hosts; i++)
		if (strcasecmp(h->cfg.allow_hosts[i], host) == 0)
			return true;
	return false;
}

/* No list and not on loopback: an admin serving others without naming
 * the server's host; Host is then whatever the client says. */
static bool any_host(const struct mcp_http *h)
{
	return !h->loopback && h->cfg.n_allow_hosts == 0;
}

static int forbid(h2o_req_t *req, const char *what, const char *value, size_t len, const char *hint)
{
	char message[512];

	snprintf(message, sizeof(message),
		 "Forbidden: %s `%.*s` is not this server's (a DNS-rebinding guard). Hint: %s",
		 what, (int)(len > 100 ? 100 : len), value, hint);
	http_reply_error(req, 403, "Forbidden", -32600, message, NULL, NULL);
	return -1;
}

int http_guard_origin(struct mcp_http *h, h2o_req_t *req)
{
	char host[256], origin_host[256];
	size_t len;
	const char *origin = http_header(req, "origin", &len);
	const char *sep;

	if (!host_part(req->input.authority.base, req->input.authority.len, host, sizeof(host)) ||
	    (!any_host(h) && !allowed_host(h, host)))
		return forbid(req, "Host", req->input.authority.base, req->input.authority.len,
			      "connect by a name the server allows (localhost, or one given with "
			      "--http-allow-host)");
	if (origin == NULL)
		return 0; /* not a browser */
	for (size_t i = 0; i < h->cfg.n_allow_origins; i++)
		if (strlen(h->cfg.allow_origins[i]) == len &&
		    strncasecmp(h->cfg.allow_origins[i], origin, len) == 0)
			return 0;
	/* scheme://host[:port], the host one the server allows, or with no
	 * list, the one the request came to. */
	sep = len > 3 ? memmem(origin, len, "://", 3) : NULL;
	if (sep != NULL &&
	    (strncasecmp(origin, "http://", 7) == 0 || strncasecmp(origin, "https://", 8) == 0)) {
		const char *start = sep + 3;
		if (host_part(start, len - (size_t)(start - origin), origin_host,
			      sizeof(origin_host)) &&
		    (any_host(h) ? strcmp(origin_host, host) == 0 : allowed_host(h, origin_host)))
			return 0;
	}
	return forbid(req, "Origin", origin, len,
		      "browsers may reach this server only from pages it allows "
		      "(--http-allow-origin)");
}
