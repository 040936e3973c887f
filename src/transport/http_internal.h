/* What the http_*.c files and mcp_http.c share; nothing else includes
 * this.  h2o objects (requests, their pools) belong to h2o: an exchange
 * holds its request only until h2o disposes of it, which it learns from
 * a dispose hook in the request's pool. */
#ifndef PYMCP_HTTP_INTERNAL_H
#define PYMCP_HTTP_INTERNAL_H

#include <h2o.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/queue.h>

#include "http_auth.h"
#include "mcp_http.h"

struct http_session;

/* One HTTP request we owe an answer: a POST carrying a JSON-RPC request
 * (answered with JSON, or SSE once a notification precedes the
 * response), or a legacy session's GET stream. */
struct http_exchange {
	h2o_generator_t gen; /* first: h2o's callbacks get it */
	struct mcp_http *h;
	h2o_req_t *req;			/* NULL once h2o disposed of it (the client went) */
	LIST_ENTRY(http_exchange) link; /* h->exchanges */
	LIST_ENTRY(http_exchange) session_link;
	struct http_session *session; /* legacy: its session; NULL: modern */
	struct mcp_conn *conn;	      /* modern: its own connection (owned) */
	json_t *id;		      /* the JSON-RPC id answered here; NULL for GET */
	bool is_get;
	double expires; /* a GET stream: when its token stops being accepted (0: never) */
	bool started;	/* SSE headers sent */
	bool sending;	/* h2o holds `out` until proceed */
	bool finished;	/* the final bytes were handed to h2o */
	bool gone;	/* the client closed its end */
	bool final_queued;
	char *out;    /* bytes h2o is sending */
	char *queued; /* bytes waiting for proceed */
	size_t queued_len;
	const char *new_session_id; /* legacy initialize: the header to add */
};

struct http_session {
	struct mcp_http *h;
	char id[65]; /* 32 random bytes in hex */
	struct mcp_conn *conn;
	LIST_ENTRY(http_session) link;
	LIST_HEAD(, http_exchange) exchanges; /* its POSTs and GET waiting */
	struct http_exchange *stream;	      /* its GET stream, or NULL */
	uint64_t last_used;		      /* uv_now() of its last request */
	char tenant[AUTH_TENANT_MAX + 1];     /* whose it is ("" without authorization) */
};

struct mcp_http {
	uv_loop_t *loop;
	struct mcp_server *server;
	struct mcp_http_config cfg;
	char address[80];
	bool loopback; /* listening on a loopback address only */
	/* Who sent the request being routed (http_authorize; all scopes and
	 * the one tenant without authorization). */
	struct auth_principal principal;
	bool stopping;
	bool draining; /* SIGTERM: no new connections or requests, calls may end */

	h2o_globalconf_t config;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	uv_tcp_t listener;
	unsigned n_connections;
	unsigned n_inflight;
	unsigned n_sessions;

	LIST_HEAD(, http_exchange) exchanges;
	LIST_HEAD(, http_session) sessions;
	LIST_HEAD(, http_exchange) dead;  /* finished: freed by the reaper */
	LIST_HEAD(, http_socket) sockets; /* accepted, open */
	unsigned ticks;			  /* of the probe timer */
	char *busy_reply;		  /* what a connection past the cap gets */
	uv_timer_t probe;		  /* watches waiting clients, ends idle sessions */
	uv_timer_t reaper;
	int open_handles;
	void (*stopped)(void *data);
	void *stopped_data;
};

/* Sets req's status and reason, and counts it for /metrics. */
void http_set_status(h2o_req_t *req, int status, const char *reason);

/* ---- http_ops.c: /healthz, /readyz, /metrics ---- */

/* Serves them: true when req was one of them (answered). */
bool http_serve_ops(struct mcp_http *h, h2o_req_t *req);

/* ---- http_authorize.c ---- */

/* Checks req's bearer token when the server has a token source: true
 * with *p filled, or false once 401 was answered. */
bool http_authorize(struct mcp_http *h, h2o_req_t *req, struct auth_principal *p);
/* Serves /.well-known/oauth-protected-resource[/...] (RFC 9728): true
 * when req was that (answered). */
bool http_serve_metadata(struct mcp_http *h, h2o_req_t *req);
/* Adds the insufficient_scope challenge to a 403 the protocol answers. */
void http_scope_challenge(struct mcp_http *h, h2o_req_t *req);
/* The protocol's scope bits of a principal. */
unsigned http_principal_scopes(const struct auth_principal *p);

/* ---- http_exchange.c: writing one answer ---- */

/* A new exchange for req, counted in flight; NULL without memory. */
struct http_exchange *http_exchange_new(struct mcp_http *h, h2o_req_t *req);
/* Sends one outgoing message of the protocol on this exchange: the final
 * response (JSON, or the last SSE event), or a notification before it
 * (which turns the answer into SSE). */
void http_exchange_send(struct http_exchange *x, const char *msg, size_t len, bool final,
			int status);
/* The GET stream: SSE headers now, events as they come. */
void http_exchange_start_stream(struct http_exchange *x);
/* A comment on an open SSE stream: keeps proxies from closing it, and
 * makes a closed peer known. */
void http_exchange_keepalive(struct http_exchange *x);
/* True when this exchange's client is not keeping up. */
bool http_exchange_congested(const struct http_exchange *x);
/* The client is gone, or the server stops: no more output; its modern
 * connection (and the calls on it) are cancelled; h2o is let go. */
void http_exchange_abort(struct http_exchange *x);
/* Ends an open SSE stream with a comment saying why. */
void http_exchange_end_stream(struct http_exchange *x, const char *why);
/* Whether the client closed its socket (checked without reading). */
bool http_exchange_peer_closed(const struct http_exchange *x);
/* Frees the exchanges that are done (from the reaper timer). */
void http_exchange_reap(struct mcp_http *h);

/* An answer that is no JSON-RPC message of the protocol: an HTTP error
 * with a JSON-RPC error body (id null), the header `extra` if not NULL. */
void http_reply_error(h2o_req_t *req, int status, const char *reason, int code, const char *message,
		      const char *extra_name, const char *extra_value);
/* 202 Accepted, no body. */
void http_reply_accepted(h2o_req_t *req);

/* ---- http_errors.c ---- */

/* h2o's own text/plain errors on conf's requests become JSON-RPC ones. */
void http_errors_register(struct mcp_http *h, h2o_pathconf_t *conf);

/* ---- http_session.c: legacy sessions ---- */

struct http_session *http_session_new(struct mcp_http *h);
struct http_session *http_session_find(struct mcp_http *h, const char *id, size_t len);
/* Cancels what it still waits for, ends its stream, frees it. */
void http_session_end(struct http_session *s);
/* Ends the sessions unused for cfg.session_idle_seconds. */
void http_session_expire(struct mcp_http *h);

/* ---- http_guard.c: what is checked before a request is read ---- */

/* 0 when Host and Origin are acceptable, else the 403 was sent. */
int http_guard_origin(struct mcp_http *h, h2o_req_t *req);
/* The value of header `name` (lowercase), or NULL; *len its length. */
const char *http_header(h2o_req_t *req, const char *name, size_t *len);
/* Total bytes of the request line and headers. */
size_t http_header_bytes(h2o_req_t *req);

#endif
