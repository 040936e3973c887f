/* One answer owed to an HTTP client: JSON when the response is all there
 * is, SSE once a notification precedes it, or a legacy GET stream.  h2o
 * takes one buffer at a time (the next waits for `proceed`), so a client
 * that does not read holds at most one event and a bounded queue; past
 * that, notifications are dropped (the sink reports congestion) and the
 * response still goes. */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "log.h"
#include "metrics.h"

/* Queued SSE bytes past which notifications are dropped. */
#define QUEUE_SOFT_MAX (1 << 20)

static void on_reap(uv_timer_t *t)
{
	http_exchange_reap(t->data);
}

/* Soon, outside whatever callback found the exchange done: a protocol
 * connection may not be freed from inside its own sink. */
static void schedule_reap(struct mcp_http *h)
{
	if (!uv_is_active((uv_handle_t *)&h->reaper))
		uv_timer_start(&h->reaper, on_reap, 0, 0);
}

/* Off every list that could still route output to it. */
static void unlink_exchange(struct http_exchange *x)
{
	LIST_REMOVE(x, link);
	if (x->session) {
		LIST_REMOVE(x, session_link);
		if (x->session->stream == x)
			x->session->stream = NULL;
		x->session = NULL;
	}
}

/* h2o is done with the request (answered, or the connection closed). */
static void on_dispose(void *p)
{
	struct http_exchange *x = *(struct http_exchange **)p;

	x->req = NULL;
	if (!x->finished)
		x->gone = true;
	unlink_exchange(x);
	/* A modern request's calls end with it; a legacy one's answer is
	 * simply dropped (2025-11-25: a disconnect is no cancellation). */
	if (x->conn)
		mcp_conn_detach(x->conn);
	LIST_INSERT_HEAD(&x->h->dead, x, link);
	schedule_reap(x->h);
}

static void flush(struct http_exchange *x);

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
	struct http_exchange *x = (struct http_exchange *)gen; /* its first member */

	(void)req;
	free(x->out);
	x->out = NULL;
	x->sending = false;
	flush(x);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
	struct http_exchange *x = (struct http_exchange *)gen; /* its first member */

	(void)req;
	x->gone = true;
}

struct http_exchange *http_exchange_new(struct mcp_http *h, h2o_req_t *req)
{
	struct http_exchange *x = calloc(1, sizeof(*x));
	struct http_exchange **hook;

	if (x == NULL)
		return NULL;
	hook = h2o_mem_alloc_shared(&req->pool, sizeof(*hook), on_dispose);
	*hook = x;
	x->h = h;
	x->req = req;
	x->gen.proceed = on_proceed;
	x->gen.stop = on_stop;
	LIST_INSERT_HEAD(&h->exchanges, x, link);
	h->n_inflight++;
	return x;
}

void http_set_status(h2o_req_t *req, int status, const char *reason)
{
	char code[16];

	req->res.status = status;
	req->res.reason = reason;
	snprintf(code, sizeof(code), "%d", status);
	pm_metric_inc("python_mcp_http_requests_total", "status", code);
}

static void start_sse(struct http_exchange *x)
{
	h2o_req_t *req = x->req;

	http_set_status(req, 200, "OK");
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		       H2O_STRLIT("text/event-stream"));
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
		       H2O_STRLIT("no-cache"));
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0,
			      NULL, H2O_STRLIT("no"));
	if (x->new_session_id)
		h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("mcp-session-id"),
				      0, NULL, x->new_session_id, strlen(x->new_session_id));
	x->started = true;
	h2o_start_response(req, &x->gen);
}

static const char *reason_of(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 413:
		return "Payload Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/* The whole answer at once, as application/json. */
static void send_json(struct http_exchange *x, const char *msg, size_t len, int status)
{
	h2o_req_t *req = x->req;
	h2o_iovec_t body;

	if ((x->out = malloc(len)) == NULL) {
		http_reply_error(req, 503, "Service Unavailable", -32603,
				 "Internal error: out of memory writing the response. Hint: retry",
				 NULL, NULL);
		x->finished = true;
		return;
	}
	memcpy(x->out, msg, len);
	body = h2o_iovec_init(x->out, len);
	http_set_status(req, status, reason_of(status));
	req->res.content_length = len;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		       H2O_STRLIT("application/json"));
	if (status == 403)
		http_scope_challenge(x->h, req);
	if (x->new_session_id)
		h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("mcp-session-id"),
				      0, NULL, x->new_session_id, strlen(x->new_session_id));
	x->finished = true;
	x->sending = true;
	h2o_start_response(req, &x->gen);
	h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

static void flush(struct http_exchange *x)
{
	h2o_iovec_t buf;

	if (x->sending || x->finished || x->req == NULL)
		return;
	if (x->queued_len == 0 && !x->final_queued)
		return;
	buf = h2o_iovec_init(x->queued, x->queued_len);
	x->out = x->queued;
	x->queued = NULL;
	x->queued_len = 0;
	x->sending = true;
	if (x->final_queued)
		x->finished = true;
	h2o_send(x->req, buf.len ? &buf : NULL, buf.len ? 1 : 0,
		 x->final_queued ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void enqueue(struct http_exchange *x, const char *text, size_t len)
{
	char *grown = realloc(x->queued, x->queued_len + len);

	if (grown == NULL) {
		log_error("out of memory queueing an SSE event; it is lost");
		return;
	}
	memcpy(grown + x->queued_len, text, len);
	x->queued = grown;
	x->queued_len += len;
}

void http_exchange_send(struct http_exchange *x, const char *msg, size_t len, bool final,
			int status)
{
	if (x->gone || x->finished || x->final_queued || x->req == NULL)
		return;
	if (final && !x->started) {
		send_json(x, msg, len, status);
		return;
	}
	if (!x->started)
		start_sse(x);
	/* One JSON message is one line: one data field. */
	enqueue(x, "event: message\ndata: ", 21);
	enqueue(x, msg, len);
	enqueue(x, "\n\n", 2);
	x->final_queued = final;
	flush(x);
}

void http_exchange_start_stream(struct http_exchange *x)
{
	start_sse(x);
	/* A comment, so that the client sees the stream open at once. */
	enqueue(x, ": stream open\n\n", 15);
	flush(x);
}

void http_exchange_keepalive(struct http_exchange *x)
{
	if (!x->started || x->finished || x->gone || x->queued_len > 0)
		return;
	enqueue(x, ": keep-alive\n\n", 14);
	flush(x);
}

bool http_exchange_congested(const struct http_exchange *x)
{
	return x->queued_len > QUEUE_SOFT_MAX;
}

void http_exchange_abort(struct http_exchange *x)
{
	if (x->conn)
		mcp_conn_detach(x->conn); /* a modern request's calls end with it */
	if (x->session) {
		LIST_REMOVE(x, session_link);
		if (x->session->stream == x)
			x->session->stream = NULL;
		x->session = NULL;
	}
	x->gone = true;
	if (x->req == NULL || x->finished)
		return;
	/* h2o learns that the peer is gone only by writing: give it the last
	 * bytes, which fail and close the connection. */
	if (!x->started) {
		http_set_status(x->req, 499, "Client Closed Request");
		x->finished = true;
		h2o_send_inline(x->req, H2O_STRLIT(""));
		return;
	}
	x->final_queued = true;
	flush(x);
}

void http_exchange_end_stream(struct http_exchange *x, const char *why)
{
	char line[256];
	int n = snprintf(line, sizeof(line), ": %s\n\n", why);

	if (x->started && !x->finished && !x->gone && n > 0 && (size_t)n < sizeof(line))
		enqueue(x, line, (size_t)n);
	http_exchange_abort(x);
}

bool http_exchange_peer_closed(const struct http_exchange *x)
{
	h2o_socket_t *sock;
	char byte;
	ssize_t n;

	if (x->req == NULL || x->req->conn->callbacks->get_socket == NULL)
		return false;
	sock = x->req->conn->callbacks->get_socket(x->req->conn);
	if (sock == NULL)
		return false;
	do
		n = recv(h2o_socket_get_fd(sock), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

void http_exchange_reap(struct mcp_http *h)
{
	while (!LIST_EMPTY(&h->dead)) {
		struct http_exchange *x = LIST_FIRST(&h->dead);

		LIST_REMOVE(x, link);
		mcp_conn_free(x->conn);
		json_decref(x->id);
		free(x->out);
		free(x->queued);
		free(x);
		h->n_inflight--;
	}
}

void http_reply_error(h2o_req_t *req, int status, const char *reason, int code, const char *message,
		      const char *extra_name, const char *extra_value)
{
	_cleanup_free_ char *text = mcp_error_text(code, message);
	size_t len = text ? strlen(text) : 0;

	http_set_status(req, status, reason);
	req->res.content_length = len;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		       H2O_STRLIT("application/json"));
	/* h2o keeps the value by reference until the response is written:
	 * it goes into the request's pool. */
	if (extra_name) {
		h2o_iovec_t v = h2o_strdup(&req->pool, extra_value, strlen(extra_value));
		h2o_add_header_by_str(&req->pool, &req->res.headers, extra_name, strlen(extra_name),
				      0, NULL, v.base, v.len);
	}
	/* h2o_send_inline copies the body into the request's pool. */
	h2o_send_inline(req, text ? text : "", len);
}

void http_reply_accepted(h2o_req_t *req)
{
	http_set_status(req, 202, "Accepted");
	req->res.content_length = 0;
	h2o_send_inline(req, H2O_STRLIT(""));
}
