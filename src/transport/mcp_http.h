/* MCP over Streamable HTTP (one endpoint, /mcp), on the server's libuv
 * loop through h2o (docs/http.md says why h2o).
 *
 * Both generations on one endpoint: a 2026-07-28 request is served
 * statelessly (a connection of the protocol made for it alone, POST only,
 * its stream's close cancels it); a legacy client gets a session from
 * initialize (Mcp-Session-Id), POSTs answered with JSON or SSE, the GET
 * stream and DELETE.  Origin and Host are checked against DNS rebinding
 * before anything else; every limit answers with its HTTP status and a
 * JSON-RPC error body that names it. */
#ifndef PYMCP_MCP_HTTP_H
#define PYMCP_MCP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <uv.h>

#include "error.h"
#include "mcp.h"

struct http_auth;

struct mcp_http_config {
	const char *listen; /* "127.0.0.1:8765", "[::1]:8765", "0.0.0.0:8765"; port 0 picks one */
	size_t max_body_bytes;	     /* a longer body gets 413 */
	size_t max_header_bytes;     /* request line and headers; more get 431 */
	unsigned max_connections;    /* more are answered 503 and closed */
	unsigned max_sessions;	     /* legacy sessions; initialize past it gets 503 */
	unsigned max_inflight;	     /* requests awaiting their answer, GET streams included */
	double request_timeout;	     /* seconds to receive a whole request */
	double session_idle_seconds; /* a legacy session unused this long ends */
	char *const *allow_hosts;    /* Host values accepted besides loopback names */
	size_t n_allow_hosts;
	char *const *allow_origins; /* Origin values accepted besides loopback ones */
	size_t n_allow_origins;
	/* Authorization (http_auth.h): NULL serves everyone, which a
	 * non-loopback address allows only with allow_unauthenticated. */
	struct http_auth *auth;
	const char *auth_resource;  /* this server's URL for the metadata, or NULL */
	const char *metrics_tenant; /* only its tokens read /metrics (NULL: any) */
	bool allow_unauthenticated;
	/* For /readyz and /metrics (may be NULL): whether the server can take
	 * jobs (else why), and its gauges in the Prometheus text format. */
	bool (*ready)(void *data, char *why, size_t size);
	void (*gauges)(void *data, FILE *out);
	void *ops_data;
};

#define MCP_HTTP_DEFAULT_MAX_HEADER_BYTES 8192
#define MCP_HTTP_DEFAULT_MAX_CONNECTIONS  256
#define MCP_HTTP_DEFAULT_MAX_SESSIONS	  4096
#define MCP_HTTP_DEFAULT_MAX_INFLIGHT	  256
#define MCP_HTTP_DEFAULT_REQUEST_TIMEOUT  10.0
#define MCP_HTTP_DEFAULT_SESSION_IDLE	  1800.0

struct mcp_http;

/* Listens and serves s.  cfg's strings must outlive the transport.  On
 * failure *out is set as well, for mcp_http_stop() to close it. */
int mcp_http_start(uv_loop_t *loop, struct mcp_server *s, const struct mcp_http_config *cfg,
		   struct mcp_http **out, struct pm_error *err);

/* The address it listens on ("127.0.0.1:41234"), with the port it got. */
const char *mcp_http_address(const struct mcp_http *h);

/* After the token file was reloaded: ends the legacy sessions (and their
 * open streams) of tenants it no longer names; returns how many. */
unsigned mcp_http_end_revoked(struct mcp_http *h);

/* SIGTERM's first step: stops listening and answers new requests 503,
 * while the calls already made may still end. */
void mcp_http_drain(struct mcp_http *h);
/* POST requests still owed an answer (GET streams do not count). */
unsigned mcp_http_calls_waiting(const struct mcp_http *h);

/* Stops listening, ends every exchange and session (pending calls are
 * cancelled as if their clients had gone) and closes the handles; done
 * runs once the last is closed. */
void mcp_http_stop(struct mcp_http *h, void (*done)(void *data), void *data);

#endif
