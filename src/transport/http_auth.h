/* Who is calling, over HTTP (MCP authorization, RFC 9728, RFC 6750):
 * static bearer tokens from a file (each name a tenant, every scope), and
 * OAuth 2.1 access tokens as JWTs verified against a JWKS (issuer,
 * audience, expiry, scopes; a claim names the tenant).  Crypto is cjose's
 * (Debian's libcjose); nothing here parses or verifies signatures by
 * hand. */
#ifndef PYMCP_HTTP_AUTH_H
#define PYMCP_HTTP_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "error.h"

#define AUTH_SCOPE_RUN	"python-mcp:run"
#define AUTH_SCOPE_JOBS "python-mcp:jobs"
#define AUTH_TENANT_MAX 64
/* JWT tenants are `jwt-` and a digest; no static token's name may start
 * so. */
#define AUTH_JWT_TENANT_PREFIX "jwt-"

struct http_auth_config {
	const char *tokens_file;   /* "name token" a line; NULL: no static tokens */
	const char *jwks_file;	   /* JSON Web Key Set of the issuer, a file or a URL;
				      NULL: no JWTs */
	uint64_t jwks_refresh_s;   /* a JWKS by URL is fetched again this often */
	const char *issuer;	   /* required `iss` of JWTs */
	const char *audience;	   /* required `aud` (RFC 8707: this server's URL) */
	const char *tenant_claim;  /* claim naming the tenant (default "sub") */
	const char *resource;	   /* this resource's URL, for the metadata */
	char *const *auth_servers; /* authorization servers, for the metadata */
	size_t n_auth_servers;
};

/* The caller of one request. */
struct auth_principal {
	char tenant[AUTH_TENANT_MAX + 1]; /* [A-Za-z0-9._-], never empty */
	bool run, jobs;			  /* the scopes it holds */
	double expires;			  /* unix time its token stops being accepted; 0: never */
};

struct http_auth;

/* Loads the token file and the JWKS; NULL config members are off.
 * *out is NULL when neither is configured (no authentication). */
int http_auth_new(const struct http_auth_config *cfg, struct http_auth **out, struct pm_error *err);
void http_auth_free(struct http_auth *a);
/* Reads the token file and the JWKS again (SIGHUP); on failure the old
 * ones stay.  Once started, a JWKS by URL is fetched in the background
 * (a failure is logged, and the old keys stay). */
int http_auth_reload(struct http_auth *a, struct pm_error *err);
/* Serving: a JWKS by URL is refreshed on a timer and on unknown keys
 * from now on; http_auth_stop() ends that (before the loop runs out).
 * Both do nothing for a NULL auth or a JWKS file. */
void http_auth_start(struct http_auth *a, uv_loop_t *loop);
void http_auth_stop(struct http_auth *a);

enum auth_verdict { AUTH_OK, AUTH_MISSING, AUTH_INVALID };

/* Checks an Authorization header (NULL: absent).  AUTH_INVALID fills why
 * (for the WWW-Authenticate error_description and the log). */
enum auth_verdict http_auth_check(struct http_auth *a, const char *header, size_t len,
				  struct auth_principal *out, char *why, size_t why_size);

/* RFC 9728 protected resource metadata (new). */
json_t *http_auth_metadata(const struct http_auth *a);

/* A tenant name that is safe as a path component: letters, digits, '.',
 * '_' and '-', 1 to AUTH_TENANT_MAX of them, not "." or "..". */
bool auth_tenant_valid(const char *name);

/* Whether the token file names `tenant` (after a reload: whether it
 * still does).  JWT tenants are never in it. */
bool http_auth_has_static_tenant(const struct http_auth *a, const char *tenant);

#endif
