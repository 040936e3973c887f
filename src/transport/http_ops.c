/* What operators and orchestrators ask a service: /healthz (the process
 * answers), /readyz (it can take jobs: the launcher pool is up, the state
 * directory writable, the policy loaded; else 503 with the reason) and
 * /metrics (Prometheus text format).  /healthz and /readyz need no token
 * (an orchestrator's probe has none); /metrics does when the server has
 * a token source, since it tells how busy every tenant keeps it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "log.h"
#include "metrics.h"

static void send_text(h2o_req_t *req, int status, const char *reason, const char *type,
		      const char *text, size_t len)
{
	http_set_status(req, status, reason);
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type,
		       strlen(type));
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
		       H2O_STRLIT("no-store"));
	h2o_send_inline(req, text, len);
}

static void readyz(struct mcp_http *h, h2o_req_t *req)
{
	char why[512] = "", body[600];

	if (h->stopping)
		snprintf(why, sizeof(why), "shutting down");
	else if (h->cfg.ready && !h->cfg.ready(h->cfg.ops_data, why, sizeof(why)) && !why[0])
		snprintf(why, sizeof(why), "not ready");
	if (why[0]) {
		/* 503 with a JSON-RPC error body, as every error here.  The
		 * reason names paths: anyone may ask /readyz, so with
		 * authorization it goes to the log only. */
		log_msg(LOG_LEVEL_WARNING, "not ready: %s", why);
		snprintf(body, sizeof(body), "Not ready: %s",
			 h->cfg.auth ? "see the server's log" : why);
		http_reply_error(req, 503, "Service Unavailable", -32000, body, "retry-after", "5");
	} else {
		send_text(req, 200, "OK", "text/plain; charset=utf-8", H2O_STRLIT("ready\n"));
	}
}

static void metrics(struct mcp_http *h, h2o_req_t *req)
{
	struct auth_principal p;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	if (!http_authorize(h, req, &p))
		return;
	/* Server-wide counts: not every tenant's business. */
	if (h->cfg.auth && h->cfg.metrics_tenant && strcmp(p.tenant, h->cfg.metrics_tenant) != 0) {
		http_reply_error(
		    req, 403, "Forbidden", -32600,
		    "Forbidden: /metrics is for the tenant --metrics-tenant names. Hint: "
		    "scrape with that tenant's token",
		    NULL, NULL);
		return;
	}
	if ((out = open_memstream(&text, &len)) == NULL) {
		http_reply_error(req, 503, "Service Unavailable", -32603,
				 "Internal error: out of memory. Hint: retry", NULL, NULL);
		return;
	}
	pm_metrics_write(out);
	pm_metric_gauge(out, "python_mcp_http_sessions", "Legacy HTTP sessions open", NULL, NULL,
			h->n_sessions);
	pm_metric_gauge(out, "python_mcp_http_connections", "HTTP connections open", NULL, NULL,
			h->n_connections);
	if (h->cfg.gauges)
		h->cfg.gauges(h->cfg.ops_data, out);
	fclose(out);
	send_text(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}

bool http_serve_ops(struct mcp_http *h, h2o_req_t *req)
{
	const h2o_iovec_t *path = &req->path_normalized;
	const h2o_iovec_t *m = &req->input.method;

	if (!h2o_memis(path->base, path->len, H2O_STRLIT("/healthz")) &&
	    !h2o_memis(path->base, path->len, H2O_STRLIT("/readyz")) &&
	    !h2o_memis(path->base, path->len, H2O_STRLIT("/metrics")))
		return false;
	if (!h2o_memis(m->base, m->len, H2O_STRLIT("GET")) &&
	    !h2o_memis(m->base, m->len, H2O_STRLIT("HEAD"))) {
		http_reply_error(req, 405, "Method Not Allowed", -32000,
				 "Method not allowed: this path takes GET", "allow", "GET, HEAD");
		return true;
	}
	if (h2o_memis(path->base, path->len, H2O_STRLIT("/healthz")))
		send_text(req, 200, "OK", "text/plain; charset=utf-8", H2O_STRLIT("ok\n"));
	else if (h2o_memis(path->base, path->len, H2O_STRLIT("/readyz")))
		readyz(h, req);
	else
		metrics(h, req);
	return true;
}
