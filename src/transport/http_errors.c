/* Errors h2o answers by itself (a body over the size limit, a request it
 * cannot parse) come as text/plain; this output filter turns them into
 * the JSON-RPC error body every other answer of the endpoint has, with
 * the limit named where one was hit. */
#include "http_internal.h"

#include <stdio.h>
#include <string.h>

struct error_filter {
	h2o_filter_t super;
	struct mcp_http *h;
};

/* Sends the replacement body once, in place of h2o's text. */
struct json_body {
	h2o_ostream_t super;
	h2o_iovec_t body;
	bool sent;
};

static void send_json_body(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n,
			   h2o_send_state_t state)
{
	struct json_body *o = (struct json_body *)self;

	(void)bufs;
	(void)n;
	if (o->sent || !h2o_send_state_is_in_progress(state)) {
		h2o_ostream_send_next(self, req, o->sent ? NULL : &o->body, o->sent ? 0 : 1, state);
		o->sent = true;
		return;
	}
	h2o_ostream_send_next(self, req, NULL, 0, state);
}

static const char *message_of(const struct mcp_http *h, int status, char *buf, size_t size)
{
	switch (status) {
	case 413:
		snprintf(
		    buf, size,
		    "Payload too large: the body is longer than the server's limit of %zu bytes "
		    "(--max-request-bytes). Hint: send smaller messages, e.g. pass large "
		    "scripts by path",
		    h->cfg.max_body_bytes);
		return buf;
	case 408:
		return "Request timeout: the request did not arrive whole in time "
		       "(--http-request-timeout)";
	default:
		snprintf(buf, size, "HTTP error %d: the request is not valid HTTP/1.1", status);
		return buf;
	}
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
	struct error_filter *f = (struct error_filter *)self;
	ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
	char buf[320];

	if (req->res.status >= 400 && i >= 0 &&
	    h2o_memis(req->res.headers.entries[i].value.base, req->res.headers.entries[i].value.len,
		      H2O_STRLIT("text/plain; charset=utf-8"))) {
		char *text =
		    mcp_error_text(-32600, message_of(f->h, req->res.status, buf, sizeof(buf)));
		if (text != NULL) {
			struct json_body *o =
			    (struct json_body *)h2o_add_ostream(req, sizeof(*o), slot);
			o->super.do_send = send_json_body;
			o->body = h2o_strdup(&req->pool, text, strlen(text));
			o->sent = false;
			free(text);
			h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
				       H2O_STRLIT("application/json"), 1);
			req->res.content_length = o->body.len;
			slot = &o->super.next;
		}
	}
	h2o_setup_next_ostream(req, slot);
}

void http_errors_register(struct mcp_http *h, h2o_pathconf_t *conf)
{
	struct error_filter *f = (struct error_filter *)h2o_create_filter(conf, sizeof(*f));

	f->super.on_setup_ostream = on_setup_ostream;
	f->h = h;
}
