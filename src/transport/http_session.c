/* Legacy (2025-11-25/06-18) sessions: one protocol connection each, made
 * by initialize and named by a random Mcp-Session-Id; its POSTs are
 * answered on their own exchanges, anything else goes to its GET stream
 * when one is open.  A session unused for the idle limit ends. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "random.h"

/* The exchange of `s` waiting for the answer to id, or NULL. */
static struct http_exchange *waiting_for(struct http_session *s, json_t *id)
{
	struct http_exchange *x;

	LIST_FOREACH (x, &s->exchanges, session_link)
		if (x->id && json_equal(x->id, id))
			return x;
	return NULL;
}

static void session_send(void *ctx, const char *msg, size_t len)
{
	struct http_session *s = ctx;
	json_t *for_id = mcp_conn_sending_for(s->conn);
	struct http_exchange *x = for_id ? waiting_for(s, for_id) : s->stream;
	bool final = mcp_conn_sending_response(s->conn);

	if (x == NULL)
		return; /* its client went: dropped */
	http_exchange_send(x, msg, len, final && x != s->stream, mcp_conn_sending_status(s->conn));
}

static bool session_congested(void *ctx)
{
	struct http_session *s = ctx;
	json_t *for_id = mcp_conn_sending_for(s->conn);
	struct http_exchange *x = for_id ? waiting_for(s, for_id) : s->stream;

	return x == NULL || http_exchange_congested(x);
}

struct http_session *http_session_new(struct mcp_http *h)
{
	struct http_session *s = calloc(1, sizeof(*s));

	/* Unguessable: a session id is all that stands between a client
	 * and another's session.  No entropy, no session. */
	if (s == NULL || pm_random_hex(s->id, 32) < 0 ||
	    (s->conn = mcp_conn_new(h->server)) == NULL) {
		free(s);
		return NULL;
	}
	s->h = h;
	/* A session is its maker's: nobody else's token reaches it. */
	snprintf(s->tenant, sizeof(s->tenant), "%s", h->principal.tenant);
	LIST_INIT(&s->exchanges);
	s->last_used = uv_now(h->loop);
	mcp_conn_attach(
	    s->conn,
	    &(struct mcp_sink){.send = session_send, .congested = session_congested, .ctx = s});
	LIST_INSERT_HEAD(&h->sessions, s, link);
	h->n_sessions++;
	return s;
}

struct http_session *http_session_find(struct mcp_http *h, const char *id, size_t len)
{
	struct http_session *s;

	if (len != 64)
		return NULL;
	/* Another tenant's session does not exist for this caller. */
	LIST_FOREACH (s, &h->sessions, link)
		if (memcmp(s->id, id, 64) == 0)
			return strcmp(s->tenant, h->principal.tenant) == 0 ? s : NULL;
	return NULL;
}

void http_session_end(struct http_session *s)
{
	LIST_REMOVE(s, link);
	s->h->n_sessions--;
	/* Its exchanges stop receiving; their requests are answered by the
	 * abort (h2o must be let go of them). */
	while (!LIST_EMPTY(&s->exchanges))
		http_exchange_abort(LIST_FIRST(&s->exchanges));
	mcp_conn_free(s->conn);
	free(s);
}

void http_session_expire(struct mcp_http *h)
{
	uint64_t now = uv_now(h->loop), idle = (uint64_t)(h->cfg.session_idle_seconds * 1000);
	struct http_session *s, *next;

	for (s = LIST_FIRST(&h->sessions); s != NULL; s = next) {
		next = LIST_NEXT(s, link);
		/* In use while it waits for answers or holds a stream. */
		if (!LIST_EMPTY(&s->exchanges) || now - s->last_used < idle)
			continue;
		log_debug("HTTP session %.8s... idle for %.0f s: ended", s->id,
			  h->cfg.session_idle_seconds);
		http_session_end(s);
	}
}
