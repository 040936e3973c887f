/* Streamable HTTP on one endpoint, /mcp: listening, the connection cap,
 * the checks every request passes (header size, Host and Origin, the
 * method), and the choice of the protocol connection a POST goes to: its
 * own for a 2026-07-28 message, its session's for a legacy one, a new
 * session for initialize.  A timer watches the clients that wait for an
 * answer (h2o notices a closed socket only when it writes to it) and
 * ends idle sessions. */
#include "http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "log.h"

/* How often waiting clients are looked at (a closed one cancels its
 * modern request within this), and the rarer chores. */
#define PROBE_MS	    250
#define KEEPALIVE_EVERY	    60 /* probes: 15 s */
#define SESSION_SWEEP_EVERY 40 /* probes: 10 s */

struct handler {
	h2o_handler_t super;
	struct mcp_http *h;
};

/* An accepted connection; h2o owns the stream's data pointer. */
struct http_socket {
	uv_tcp_t tcp; /* first: h2o's close callback gets it */
	struct mcp_http *h;
	LIST_ENTRY(http_socket) link;
};

/* ---- routing a POST ---- */

/* A header's value, trimmed, NUL-terminated in the request's pool. */
static const char *header_str(h2o_req_t *req, const char *name)
{
	size_t len;
	const char *v = http_header(req, name, &len);

	if (v == NULL)
		return NULL;
	while (len > 0 && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return h2o_strdup(&req->pool, v, len).base;
}

static void modern_send(void *ctx, const char *msg, size_t len)
{
	struct http_exchange *x = ctx;

	http_exchange_send(x, msg, len, mcp_conn_sending_response(x->conn),
			   mcp_conn_sending_status(x->conn));
}

static bool modern_congested(void *ctx)
{
	return http_exchange_congested(ctx);
}

/* A message of its own connection: a 2026-07-28 request, or what no
 * session can take (an unreadable body). */
static void post_alone(struct mcp_http *h, h2o_req_t *req, const struct mcp_peek *pk,
		       const struct mcp_envelope *env)
{
	struct mcp_conn *conn = mcp_conn_new(h->server);
	struct http_exchange *x;

	if (conn == NULL) {
		http_reply_error(req, 503, "Service Unavailable", -32603,
				 "Internal error: out of memory. Hint: retry", NULL, NULL);
		return;
	}
	mcp_conn_set_principal(conn, h->principal.tenant, http_principal_scopes(&h->principal));
	if (pk->kind == MCP_PEEK_OTHER) {
		/* Notifications get nothing back; there is nothing to cancel
		 * across requests of a stateless client. */
		mcp_conn_receive(conn, req->entity.base, req->entity.len, env);
		mcp_conn_free(conn);
		http_reply_accepted(req);
		return;
	}
	if ((x = http_exchange_new(h, req)) == NULL) {
		mcp_conn_free(conn);
		http_reply_error(req, 503, "Service Unavailable", -32603,
				 "Internal error: out of memory. Hint: retry", NULL, NULL);
		return;
	}
	x->conn = conn;
	x->id = json_incref(pk->id);
	mcp_conn_set_principal(conn, h->principal.tenant, http_principal_scopes(&h->principal));
	mcp_conn_attach(
	    conn, &(struct mcp_sink){.send = modern_send, .congested = modern_congested, .ctx = x});
	mcp_conn_receive(conn, req->entity.base, req->entity.len, env);
}

static void post_session(struct mcp_http *h, h2o_req_t *req, struct http_session *s,
			 const struct mcp_peek *pk, const struct mcp_envelope *env, bool created)
{
	struct http_exchange *x;

	s->last_used = uv_now(h->loop);
	/* Its tenant is fixed (http_session_find); this token's scopes. */
	mcp_conn_set_principal(s->conn, h->principal.tenant, http_principal_scopes(&h->principal));
	if (pk->kind != MCP_PEEK_REQUEST) {
		mcp_conn_receive(s->conn, req->entity.base, req->entity.len, env);
		http_reply_accepted(req);
		return;
	}
	if ((x = http_exchange_new(h, req)) == NULL) {
		if (created)
			http_session_end(s);
		http_reply_error(req, 503, "Service Unavailable", -32603,
				 "Internal error: out of memory. Hint: retry", NULL, NULL);
		return;
	}
	x->id = json_incref(pk->id);
	x->session = s;
	LIST_INSERT_HEAD(&s->exchanges, x, session_link);
	if (created)
		x->new_session_id = s->id;
	mcp_conn_receive(s->conn, req->entity.base, req->entity.len, env);
	/* An initialize that failed made no session. */
	if (created && mcp_conn_protocol_version(s->conn) == NULL)
		http_session_end(s);
}

static bool media_ok(const char *v, size_t len, const char *want)
{
	size_t n = strlen(want);

	return len >= n && strncasecmp(v, want, n) == 0 &&
	       (len == n || v[n] == ';' || v[n] == ' ' || v[n] == ',');
}

static bool accepts(h2o_req_t *req, bool sse_only)
{
	size_t len;
	const char *v = http_header(req, "accept", &len);

	if (v == NULL)
		return !sse_only;
	return memmem(v, len, "text/event-stream", 17) || memmem(v, len, "*/*", 3) ||
	       (!sse_only &&
		(memmem(v, len, "application/json", 16) || memmem(v, len, "application/*", 13)));
}

/* A readable message goes to its connection: its own (modern, or
 * unreadable), a new session (initialize), or the session it names. */
static void route_post(struct mcp_http *h, h2o_req_t *req, const struct mcp_peek *pk,
		       const struct mcp_envelope *env)
{
	size_t sid_len = 0;
	const char *sid = http_header(req, "mcp-session-id", &sid_len);
	struct http_session *s;

	if (pk->modern || pk->kind == MCP_PEEK_INVALID)
		return post_alone(h, req, pk, env);
	if (pk->initialize) {
		if (h->n_sessions >= h->cfg.max_sessions)
			return http_reply_error(
			    req, 503, "Service Unavailable", -32000,
			    "Server busy: the limit of sessions is reached "
			    "(--http-max-sessions). Hint: end sessions with DELETE, "
			    "or use protocol 2026-07-28, which needs none",
			    "retry-after", "5");
		if ((s = http_session_new(h)) == NULL)
			return http_reply_error(
			    req, 503, "Service Unavailable", -32603,
			    "Internal error: cannot make a session (out of memory "
			    "or no entropy). Hint: retry",
			    NULL, NULL);
		return post_session(h, req, s, pk, env, true);
	}
	if (sid == NULL)
		return http_reply_error(req, 400, "Bad Request", -32000,
					"Bad request: Mcp-Session-Id header is required. Hint: "
					"send initialize first and echo the Mcp-Session-Id it "
					"returns, or use protocol 2026-07-28 (per-request _meta)",
					NULL, NULL);
	if ((s = http_session_find(h, sid, sid_len)) == NULL)
		return http_reply_error(req, 404, "Not Found", -32001,
					"Session not found: it ended (DELETE, idle, or a restart). "
					"Hint: send initialize for a new session",
					NULL, NULL);
	if (env->protocol_version != NULL && !mcp_legacy_header_version(env->protocol_version))
		return http_reply_error(
		    req, 400, "Bad Request", -32600,
		    "Bad request: unsupported MCP-Protocol-Version for a session. "
		    "Hint: send the protocolVersion initialize returned",
		    NULL, NULL);
	post_session(h, req, s, pk, env, false);
}

static void handle_post(struct mcp_http *h, h2o_req_t *req)
{
	const struct mcp_envelope env = {.protocol_version =
					     header_str(req, "mcp-protocol-version"),
					 .method = header_str(req, "mcp-method"),
					 .name = header_str(req, "mcp-name")};
	size_t len;
	const char *type = http_header(req, "content-type", &len);
	struct mcp_peek pk;

	if (type == NULL || !media_ok(type, len, "application/json"))
		return http_reply_error(req, 415, "Unsupported Media Type", -32700,
					"Unsupported media type: a POST carries one JSON-RPC "
					"message as Content-Type: application/json",
					NULL, NULL);
	if (!accepts(req, false))
		return http_reply_error(req, 406, "Not Acceptable", -32600,
					"Not acceptable: answers are application/json or "
					"text/event-stream. Hint: send Accept: application/json, "
					"text/event-stream",
					NULL, NULL);
	if (req->entity.base == NULL || req->entity.len == 0)
		return http_reply_error(req, 400, "Bad Request", -32700,
					"Parse error: the body is empty. Hint: POST one JSON-RPC "
					"message",
					NULL, NULL);
	if (h->n_inflight >= h->cfg.max_inflight)
		return http_reply_error(req, 503, "Service Unavailable", -32000,
					"Server busy: the limit of requests awaiting an answer is "
					"reached (--http-max-inflight). Hint: retry shortly",
					"retry-after", "1");
	mcp_peek_message(h->server, req->entity.base, req->entity.len, &env, &pk);
	route_post(h, req, &pk, &env);
	json_decref(pk.id);
}

/* ---- GET and DELETE: legacy sessions only ---- */

static struct http_session *session_of(struct mcp_http *h, h2o_req_t *req, const char *verb)
{
	size_t len;
	const char *sid = http_header(req, "mcp-session-id", &len);
	struct http_session *s;
	char message[256];

	if (sid == NULL) {
		snprintf(message, sizeof(message),
			 "Method not allowed: %s needs a legacy session (Mcp-Session-Id). "
			 "Hint: protocol 2026-07-28 uses POST only",
			 verb);
		http_reply_error(req, 405, "Method Not Allowed", -32000, message, "allow", "POST");
		return NULL;
	}
	if ((s = http_session_find(h, sid, len)) == NULL)
		http_reply_error(req, 404, "Not Found", -32001,
				 "Session not found: it ended (DELETE, idle, or a restart). Hint: "
				 "send initialize for a new session",
				 NULL, NULL);
	return s;
}

static void handle_get(struct mcp_http *h, h2o_req_t *req)
{
	struct http_session *s = session_of(h, req, "GET");
	struct http_exchange *x;

	if (s == NULL)
		return;
	if (!accepts(req, true))
		return http_reply_error(
		    req, 406, "Not Acceptable", -32600,
		    "Not acceptable: the GET stream is text/event-stream. Hint: "
		    "send Accept: text/event-stream",
		    NULL, NULL);
	if (s->stream != NULL)
		return http_reply_error(req, 409, "Conflict", -32000,
					"Conflict: this session already has a GET stream open. "
					"Hint: keep one, or close it first",
					NULL, NULL);
	if (h->n_inflight >= h->cfg.max_inflight)
		return http_reply_error(req, 503, "Service Unavailable", -32000,
					"Server busy: the limit of open requests is reached "
					"(--http-max-inflight). Hint: retry shortly",
					"retry-after", "1");
	if ((x = http_exchange_new(h, req)) == NULL)
		return http_reply_error(req, 503, "Service Unavailable", -32603,
					"Internal error: out of memory. Hint: retry", NULL, NULL);
	x->is_get = true;
	/* The stream pushes the session's notifications for as long as it is
	 * open: no longer than the token that opened it is good. */
	x->expires = h->principal.expires;
	x->session = s;
	LIST_INSERT_HEAD(&s->exchanges, x, session_link);
	s->stream = x;
	s->last_used = uv_now(h->loop);
	http_exchange_start_stream(x);
}

static void handle_delete(struct mcp_http *h, h2o_req_t *req)
{
	struct http_session *s = session_of(h, req, "DELETE");

	if (s == NULL)
		return;
	http_session_end(s);
	http_set_status(req, 204, "No Content");
	h2o_send_inline(req, H2O_STRLIT(""));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct mcp_http *h = ((struct handler *)self)->h;
	const h2o_iovec_t *m = &req->input.method;

	if (h->stopping || h->draining) {
		http_reply_error(req, 503, "Service Unavailable", -32000,
				 "Server shutting down. Hint: retry later", NULL, NULL);
		return 0;
	}
	if (http_header_bytes(req) > h->cfg.max_header_bytes) {
		http_reply_error(req, 431, "Request Header Fields Too Large", -32600,
				 "Request headers too large (--http-max-header-bytes). Hint: send "
				 "fewer or shorter headers",
				 NULL, NULL);
		return 0;
	}
	if (http_guard_origin(h, req) < 0)
		return 0;
	if (http_serve_metadata(h, req) || http_serve_ops(h, req))
		return 0;
	if (!h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/mcp"))) {
		http_reply_error(req, 404, "Not Found", -32601,
				 "Not found: the MCP endpoint is /mcp", NULL, NULL);
		return 0;
	}
	if (!http_authorize(h, req, &h->principal))
		return 0;
	if (h2o_memis(m->base, m->len, H2O_STRLIT("POST")))
		handle_post(h, req);
	else if (h2o_memis(m->base, m->len, H2O_STRLIT("GET")))
		handle_get(h, req);
	else if (h2o_memis(m->base, m->len, H2O_STRLIT("DELETE")))
		handle_delete(h, req);
	else
		http_reply_error(req, 405, "Method Not Allowed", -32000,
				 "Method not allowed: /mcp takes POST (and GET and DELETE for "
				 "legacy sessions)",
				 "allow", "GET, POST, DELETE");
	return 0;
}

/* ---- connections ---- */

static void on_socket_closed(uv_handle_t *handle)
{
	struct http_socket *hs = (struct http_socket *)handle;

	hs->h->n_connections--;
	LIST_REMOVE(hs, link);
	free(hs);
}

static void on_refused_closed(uv_handle_t *handle)
{
	free(handle);
}

/* Past the cap: one answer written at once (it fits any socket buffer),
 * then the connection goes. */
static void refuse_connection(struct mcp_http *h, uv_tcp_t *tcp)
{
	uv_buf_t b = uv_buf_init(h->busy_reply, (unsigned)strlen(h->busy_reply));

	int n = uv_try_write((uv_stream_t *)tcp, &b, 1);

	if (n < (int)b.len)
		log_debug("the busy answer went out short (%d of %u bytes)", n, (unsigned)b.len);
	uv_close((uv_handle_t *)tcp, on_refused_closed);
}

/* The whole HTTP answer to a connection past the cap, made once. */
static char *busy_reply(void)
{
	_cleanup_free_ char *body = mcp_error_text(
	    -32000, "Server busy: too many connections (--http-max-connections). Hint: reuse a "
		    "connection, or retry shortly");
	char *reply = NULL;

	if (body == NULL ||
	    asprintf(&reply,
		     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
		     "Retry-After: 1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
		     strlen(body), body) < 0)
		return NULL;
	return reply;
}

static void on_accept(uv_stream_t *listener, int status)
{
	struct mcp_http *h = listener->data;
	struct http_socket *hs;
	h2o_socket_t *sock;

	if (status < 0 || (hs = calloc(1, sizeof(*hs))) == NULL)
		return;
	uv_tcp_init(h->loop, &hs->tcp);
	if (uv_accept(listener, (uv_stream_t *)&hs->tcp) < 0) {
		uv_close((uv_handle_t *)&hs->tcp, on_refused_closed);
		return;
	}
	if (h->stopping || h->n_connections >= h->cfg.max_connections) {
		log_debug("refusing an HTTP connection: %u open (--http-max-connections %u)",
			  h->n_connections, h->cfg.max_connections);
		refuse_connection(h, &hs->tcp);
		return;
	}
	hs->h = h;
	h->n_connections++;
	LIST_INSERT_HEAD(&h->sockets, hs, link);
	sock = h2o_uv_socket_create((uv_stream_t *)&hs->tcp, on_socket_closed);
	h2o_accept(&h->accept_ctx, sock);
}

/* ---- the watch ---- */

static void maybe_stopped(struct mcp_http *h);

static void on_probe(uv_timer_t *t)
{
	struct mcp_http *h = t->data;
	unsigned ticks = ++h->ticks;
	struct http_exchange *x, *next;

	for (x = LIST_FIRST(&h->exchanges); x != NULL; x = next) {
		next = LIST_NEXT(x, link);
		if (x->finished || x->gone)
			continue;
		if (http_exchange_peer_closed(x)) {
			log_debug("HTTP client of a %s went away",
				  x->is_get ? "GET stream" : "request");
			http_exchange_abort(x);
		} else if (x->expires > 0 && (double)time(NULL) >= x->expires) {
			log_info("a GET stream ended: the access token that opened it expired");
			http_exchange_end_stream(x, "the access token expired; open the stream "
						    "again with a new one");
		} else if (ticks % KEEPALIVE_EVERY == 0) {
			http_exchange_keepalive(x);
		}
	}
	if (ticks % SESSION_SWEEP_EVERY == 0)
		http_session_expire(h);
	if (h->stopping)
		maybe_stopped(h);
}

/* ---- start and stop ---- */

static int parse_listen(const char *text, struct sockaddr_storage *ss, bool *loopback,
			struct pm_error *err)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	const char *host_start = text;
	size_t host_len;
	char *end;
	long port;

	if (colon == NULL)
		goto bad;
	if (text[0] == '[') {
		if (colon == text || colon[-1] != ']')
			goto bad;
		host_start = text + 1;
		host_len = (size_t)(colon - 1 - host_start);
	} else {
		host_len = (size_t)(colon - text);
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (host_len == 0 || host_len >= sizeof(host) || *end != '\0' || end == colon + 1 ||
	    errno != 0 || port < 0 || port > 65535)
		goto bad;
	memcpy(host, host_start, host_len);
	host[host_len] = '\0';
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0) {
		*loopback = (ntohl(((struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0) {
		*loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ss)->sin6_addr);
		return 0;
	}
bad:
	pm_error_set(err, "http", EINVAL, "--listen `%s` is no ADDRESS:PORT", text);
	return pm_error_hint(err, "give a numeric address and a port, e.g. 127.0.0.1:8765 or "
				  "[::1]:8765 (port 0 picks a free one)");
}

static int listen_on(struct mcp_http *h, struct pm_error *err)
{
	struct sockaddr_storage ss = {0}, bound = {0};
	int len = sizeof(bound), r;
	char ip[INET6_ADDRSTRLEN];

	if ((r = parse_listen(h->cfg.listen, &ss, &h->loopback, err)) < 0)
		return r;
	uv_tcp_init(h->loop, &h->listener);
	h->listener.data = h;
	h->open_handles++;
	if ((r = uv_tcp_bind(&h->listener, (struct sockaddr *)&ss, 0)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&h->listener, 128, on_accept)) < 0) {
		pm_error_set(err, "http", -r, "listen on `%s`", h->cfg.listen);
		return pm_error_hint(err, r == UV_EADDRINUSE
					      ? "another process has this port: pick another, or "
						"port 0 for a free one"
					      : "check the address is one of this machine's");
	}
	uv_tcp_getsockname(&h->listener, (struct sockaddr *)&bound, &len);
	if (bound.ss_family == AF_INET6) {
		uv_ip6_name((struct sockaddr_in6 *)&bound, ip, sizeof(ip));
		snprintf(h->address, sizeof(h->address), "[%s]:%d", ip,
			 ntohs(((struct sockaddr_in6 *)&bound)->sin6_port));
	} else {
		uv_ip4_name((struct sockaddr_in *)&bound, ip, sizeof(ip));
		snprintf(h->address, sizeof(h->address), "%s:%d", ip,
			 ntohs(((struct sockaddr_in *)&bound)->sin_port));
	}
	return 0;
}

int mcp_http_start(uv_loop_t *loop, struct mcp_server *s, const struct mcp_http_config *cfg,
		   struct mcp_http **out, struct pm_error *err)
{
	struct mcp_http *h = calloc(1, sizeof(*h));
	h2o_hostconf_t *host;
	struct handler *handler;
	int r;

	if (h == NULL)
		return pm_error_set(err, "http", ENOMEM, "HTTP transport");
	h->loop = loop;
	h->server = s;
	h->cfg = *cfg;
	if ((h->busy_reply = busy_reply()) == NULL) {
		free(h);
		return pm_error_set(err, "http", ENOMEM, "HTTP transport");
	}
	LIST_INIT(&h->exchanges);
	LIST_INIT(&h->sessions);
	LIST_INIT(&h->dead);
	LIST_INIT(&h->sockets);
	h2o_config_init(&h->config);
	h->config.server_name = h2o_iovec_init(H2O_STRLIT("python-mcp"));
	h->config.max_request_entity_size = cfg->max_body_bytes;
	h->config.http1.req_timeout = (uint64_t)(cfg->request_timeout * 1000);
	/* HTTP/1.1 only: one request at a time per connection, so the
	 * connection cap bounds requests too, and h2o's HTTP/2 machinery
	 * (and its memory) stays out of the way. */
	h->config.http1.upgrade_to_http2 = 0;
	host = h2o_config_register_host(&h->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
	handler = (struct handler *)h2o_create_handler(path, sizeof(*handler));
	/* Errors h2o answers before a path is chosen use the fallback. */
	http_errors_register(h, path);
	http_errors_register(h, &host->fallback_path);
	handler->super.on_req = on_req;
	handler->h = h;
	h2o_context_init(&h->ctx, loop, &h->config);
	h->accept_ctx.ctx = &h->ctx;
	h->accept_ctx.hosts = h->config.hosts;
	uv_timer_init(loop, &h->probe);
	uv_timer_init(loop, &h->reaper);
	h->probe.data = h->reaper.data = h;
	h->open_handles += 2;
	if ((r = listen_on(h, err)) < 0) {
		*out = h;
		return r;
	}
	if (!h->loopback && cfg->auth == NULL && !cfg->allow_unauthenticated) {
		*out = h;
		pm_error_set(err, "http", EACCES,
			     "refusing to serve MCP on %s, which is not a loopback address, "
			     "without authentication: anyone who reaches it could run code",
			     h->address);
		return pm_error_hint(err, "give --auth-tokens FILE or --auth-jwks FILE (see "
					  "docs/http.md); or listen on 127.0.0.1 behind an "
					  "authenticating proxy; or say --allow-unauthenticated");
	}
	uv_timer_start(&h->probe, on_probe, PROBE_MS, PROBE_MS);
	if (!h->loopback && cfg->auth == NULL)
		log_msg(LOG_LEVEL_WARNING,
			"serving MCP on %s, which is not a loopback address, WITHOUT "
			"AUTHENTICATION: anyone who can reach it can run code in the sandbox. "
			"Listen on 127.0.0.1 behind an authenticating proxy, or keep the port "
			"firewalled%s",
			h->address,
			cfg->n_allow_hosts == 0 ? "; and without --http-allow-host any Host "
						  "header is accepted"
						: "");
	*out = h;
	return 0;
}

const char *mcp_http_address(const struct mcp_http *h)
{
	return h->address;
}

static void on_handle_closed(uv_handle_t *handle)
{
	struct mcp_http *h = handle->data;

	if (--h->open_handles > 0)
		return;
	h2o_context_dispose(&h->ctx);
	h2o_config_dispose(&h->config);
	free(h->busy_reply);
	void (*done)(void *) = h->stopped;
	void *data = h->stopped_data;
	free(h);
	if (done)
		done(data);
}

/* Everything of the clients is gone: the timers and the context go. */
static void maybe_stopped(struct mcp_http *h)
{
	if (h->n_connections > 0 || !LIST_EMPTY(&h->exchanges) || !LIST_EMPTY(&h->dead))
		return;
	uv_close((uv_handle_t *)&h->probe, on_handle_closed);
	uv_close((uv_handle_t *)&h->reaper, on_handle_closed);
}

unsigned mcp_http_end_revoked(struct mcp_http *h)
{
	struct http_session *s, *next;
	unsigned ended = 0;

	if (h->cfg.auth == NULL)
		return 0;
	for (s = LIST_FIRST(&h->sessions); s != NULL; s = next) {
		next = LIST_NEXT(s, link);
		/* A JWT's session lives until the token would fail; a static
		 * tenant's ends with its last token. */
		if (strncmp(s->tenant, AUTH_JWT_TENANT_PREFIX, strlen(AUTH_JWT_TENANT_PREFIX)) ==
			0 ||
		    http_auth_has_static_tenant(h->cfg.auth, s->tenant))
			continue;
		http_session_end(s);
		ended++;
	}
	return ended;
}

void mcp_http_drain(struct mcp_http *h)
{
	if (h->draining || h->stopping)
		return;
	h->draining = true;
	if (!uv_is_closing((uv_handle_t *)&h->listener))
		uv_close((uv_handle_t *)&h->listener, on_handle_closed);
}

unsigned mcp_http_calls_waiting(const struct mcp_http *h)
{
	const struct http_exchange *x;
	unsigned n = 0;

	/* GET streams wait for nothing: only POSTs owed an answer count. */
	LIST_FOREACH (x, &h->exchanges, link)
		if (!x->is_get && !x->finished && !x->gone)
			n++;
	return n;
}

void mcp_http_stop(struct mcp_http *h, void (*done)(void *data), void *data)
{
	struct http_socket *hs;
	struct http_exchange *x, *next;

	if (h->stopping)
		return;
	h->stopping = true;
	h->stopped = done;
	h->stopped_data = data;
	if (!uv_is_closing((uv_handle_t *)&h->listener))
		uv_close((uv_handle_t *)&h->listener, on_handle_closed);
	while (!LIST_EMPTY(&h->sessions))
		http_session_end(LIST_FIRST(&h->sessions));
	for (x = LIST_FIRST(&h->exchanges); x != NULL; x = next) {
		next = LIST_NEXT(x, link);
		http_exchange_abort(x);
	}
	/* Idle keep-alive connections would wait for their timeout: end
	 * them now; h2o reads the end and closes them. */
	LIST_FOREACH (hs, &h->sockets, link) {
		uv_os_fd_t fd;
		if (uv_fileno((uv_handle_t *)&hs->tcp, &fd) == 0)
			shutdown(fd, SHUT_RDWR);
	}
	uv_timer_start(&h->probe, on_probe, 10, 10);
}
