/* The 2026-07-28 revision beside the legacy ones (MCP-2026.md): which
 * era a message belongs to, the checks a modern request passes before it
 * is handled (its _meta, the HTTP headers against the body, its version),
 * and server/discover. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mcp_internal.h"

/* Newest first; legacy ones are what initialize negotiates. */
static const char *const versions[] = {MCP_MODERN_VERSION, "2025-11-25", "2025-06-18"};
/* Legacy versions a client may name in MCP-Protocol-Version. */
static const char *const legacy_header_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
						     "2024-11-05"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Discovery and lists change only with a new server binary. */
#define DISCOVER_TTL_MS 3600000LL

json_t *mcp_supported_versions(void)
{
	json_t *list = json_array();

	for (size_t i = 0; i < N(versions); i++)
		json_array_append_new(list, json_string(versions[i]));
	return list;
}

bool mcp_legacy_version(const char *v)
{
	for (size_t i = 1; i < N(versions); i++)
		if (strcmp(v, versions[i]) == 0)
			return true;
	return false;
}

bool mcp_legacy_header_version(const char *v)
{
	for (size_t i = 0; i < N(legacy_header_versions); i++)
		if (strcmp(v, legacy_header_versions[i]) == 0)
			return true;
	return false;
}

static json_t *meta_of(json_t *params)
{
	json_t *meta = json_object_get(params, "_meta");

	return json_is_object(meta) ? meta : NULL;
}

bool mcp_modern_message(json_t *params, const struct mcp_envelope *env)
{
	/* The modern signals first: a conformance probe sends initialize
	 * with a modern header and _meta and expects -32601. */
	if (json_object_get(meta_of(params), MCP_META_VERSION) != NULL)
		return true;
	return env != NULL && env->protocol_version != NULL &&
	       !mcp_legacy_header_version(env->protocol_version);
}

/* A header value as the client meant it: non-ASCII values arrive as
 * "=?base64?...?=" (MCP-2026.md §3).  NULL when it does not decode. */
static char *header_value(const char *raw)
{
	static const char prefix[] = "=?base64?", suffix[] = "?=";
	size_t len = strlen(raw), n;
	char *out;
	unsigned bits = 0;
	int nbits = 0;

	if (len < sizeof(prefix) + 1 || strncasecmp(raw, prefix, sizeof(prefix) - 1) != 0 ||
	    strcmp(raw + len - 2, suffix) != 0)
		return strdup(raw);
	raw += sizeof(prefix) - 1;
	len -= sizeof(prefix) - 1 + 2;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	n = 0;
	for (size_t i = 0; i < len; i++) {
		static const char alphabet[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *p;

		if (raw[i] == '=')
			break;
		if ((p = strchr(alphabet, raw[i])) == NULL || raw[i] == '\0') {
			free(out);
			return NULL;
		}
		bits = (bits << 6) | (unsigned)(p - alphabet);
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out[n++] = (char)((bits >> nbits) & 0xff);
		}
	}
	out[n] = '\0';
	if (strlen(out) != n) { /* a NUL inside: no name has one */
		free(out);
		return NULL;
	}
	return out;
}

/* What Mcp-Name must equal for `method`, or NULL when the method has no
 * name header. */
static const char *name_in_body(const char *method, json_t *params, bool *needed)
{
	static const struct {
		const char *method, *member;
	} named[] = {
	    {"tools/call", "name"},  {"prompts/get", "name"},	 {"resources/read", "uri"},
	    {"tasks/get", "taskId"}, {"tasks/update", "taskId"}, {"tasks/cancel", "taskId"},
	};

	*needed = false;
	for (size_t i = 0; i < N(named); i++) {
		if (strcmp(method, named[i].method) == 0) {
			*needed = true;
			return json_string_value(json_object_get(params, named[i].member));
		}
	}
	return NULL;
}

static bool mismatch(struct mcp_conn *c, json_t *id, const char *header, const char *got,
		     const char *want)
{
	if (got == NULL)
		mcp_reply_error_status(
		    c, id, 400, MCP_HEADER_MISMATCH, NULL,
		    "Header mismatch: the %s header is missing; it must be `%.*s` "
		    "as in the body. Hint: send %s on every request of "
		    "protocol " MCP_MODERN_VERSION,
		    header, JRPC_Q(want ? want : ""), header);
	else
		mcp_reply_error_status(
		    c, id, 400, MCP_HEADER_MISMATCH, NULL,
		    "Header mismatch: %s header value `%.*s` does not match body "
		    "value `%.*s`. Hint: the header mirrors the body exactly "
		    "(case-sensitive)",
		    header, JRPC_Q(got), JRPC_Q(want ? want : ""));
	return false;
}

/* (4) of the order: each header present and equal to the body. */
static bool headers_match(struct mcp_conn *c, json_t *id, const char *method, json_t *params,
			  const char *version, const struct mcp_envelope *env)
{
	bool needed;
	const char *name = name_in_body(method, params, &needed);

	if (env->protocol_version == NULL || strcmp(env->protocol_version, version) != 0)
		return mismatch(c, id, "MCP-Protocol-Version", env->protocol_version, version);
	if (env->method == NULL || strcmp(env->method, method) != 0)
		return mismatch(c, id, "Mcp-Method", env->method, method);
	if (!needed)
		return true;
	char *got = env->name ? header_value(env->name) : NULL;
	bool same = got != NULL && name != NULL && strcmp(got, name) == 0;
	if (!same)
		mismatch(c, id, "Mcp-Name", got ? got : env->name, name);
	free(got);
	return same;
}

bool mcp_modern_accept(struct mcp_conn *c, json_t *id, const char *method, json_t *params,
		       const struct mcp_envelope *env, struct mcp_req *rq)
{
	json_t *meta = meta_of(params), *level;
	const char *version = json_string_value(json_object_get(meta, MCP_META_VERSION));

	*rq = (struct mcp_req){.id = id, .modern = true, .log_level = -1};
	/* (3) what every modern request must say of itself. */
	if (version == NULL || !json_is_object(json_object_get(meta, MCP_META_CLIENT_CAPS))) {
		mcp_reply_error_status(c, id, 400, JRPC_INVALID_PARAMS, NULL,
				       "Invalid params: missing _meta %s. Hint: every request of "
				       "protocol " MCP_MODERN_VERSION
				       " carries `_meta` with \"" MCP_META_VERSION "\" (a string) "
				       "and \"" MCP_META_CLIENT_CAPS "\" (an object)",
				       version == NULL ? "protocolVersion" : "clientCapabilities");
		return false;
	}
	/* (4) on HTTP, the headers mirror the body. */
	if (env != NULL && !headers_match(c, id, method, params, version, env))
		return false;
	/* (5) the version itself. */
	if (strcmp(version, MCP_MODERN_VERSION) != 0) {
		mcp_reply_error_status(c, id, 400, MCP_UNSUPPORTED_PROTOCOL_VERSION,
				       json_pack("{s:o, s:s}", "supported",
						 mcp_supported_versions(), "requested", version),
				       "Unsupported protocol version: `%.*s`. Hint: per-request "
				       "`_meta` is protocol " MCP_MODERN_VERSION
				       "; older clients send initialize",
				       JRPC_Q(version));
		return false;
	}
	if ((level = json_object_get(meta, MCP_META_LOG_LEVEL)) != NULL) {
		rq->log_level =
		    json_is_string(level) ? log_level_from_name(json_string_value(level)) : -1;
		if (rq->log_level < 0) {
			mcp_reply_error(c, rq, JRPC_INVALID_PARAMS, NULL,
					"Invalid params: _meta \"" MCP_META_LOG_LEVEL
					"\" must be one of "
					"%s. Hint: omit it to receive no log notifications",
					log_level_names());
			return false;
		}
	}
	rq->progress = json_object_get(meta, "progressToken");
	rq->client_caps = json_object_get(meta, MCP_META_CLIENT_CAPS);
	return true;
}

void mcp_handle_discover(struct mcp_conn *c, const struct mcp_req *rq, json_t *params)
{
	struct mcp_server *s = c->server;
	json_t *r, *caps;

	(void)params;
	/* The same capabilities legacy clients get, and prompts: an empty
	 * list, so that clients probing prompts/list get an answer. */
	r = json_pack("{s:o, s:{s:{s:b}, s:{s:b, s:b}, s:{s:b}, s:{}}, s:o}", "supportedVersions",
		      mcp_supported_versions(), "capabilities", "tools", "listChanged", 0,
		      "resources", "subscribe", 0, "listChanged", 0, "prompts", "listChanged", 0,
		      "logging", "instructions", mcp_instructions_new(s));
	caps = json_object_get(r, "capabilities");
	if (caps && mcp_subscriptions_offered(s))
		json_object_set_new(json_object_get(caps, "resources"), "subscribe", json_true());
	if (caps && mcp_completions_offered(s))
		json_object_set_new(caps, "completions", json_object());
	/* The tasks extension: the execution tools' runs (mcp_tasks.c). */
	if (caps && s->task_source)
		json_object_set_new(caps, "extensions",
				    json_pack("{s:{}}", "io.modelcontextprotocol/tasks"));
	mcp_reply_cacheable(c, rq, r, DISCOVER_TTL_MS, "public");
}
