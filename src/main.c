/* python-mcp: the MCP server.  Parses the command line (options.c),
 * serves MCP on stdio until stdin ends, or over HTTP, until SIGTERM or
 * SIGINT arrives, then exits 0. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "log.h"
#include "mcp.h"
#include "mcp_http.h"
#include "mcp_stdio.h"
#include "options.h"

struct server {
	uv_loop_t loop;
	struct mcp_server *server;
	struct mcp_stdio *stdio;
	struct mcp_http *http;
	struct app *app;
	struct http_auth *auth; /* HTTP with a token source, else NULL */
	uv_signal_t sigterm, sigint, sighup;
	uv_timer_t drain;	 /* SIGTERM over HTTP: waits for calls to end */
	double drain_seconds;	 /* how long at most (0: no waiting) */
	uint64_t drain_deadline; /* uv_now() when the wait ends */
	bool draining, stopping;
};

/* Still caught while stdout flushes (a second SIGTERM must not kill us
 * mid-write and turn exit status 0 into death by signal), but no longer
 * keeping the loop alive; closed once uv_run() returns. */
static void on_stopped(void *data)
{
	struct server *srv = data;

	uv_unref((uv_handle_t *)&srv->sigterm);
	uv_unref((uv_handle_t *)&srv->sigint);
	uv_unref((uv_handle_t *)&srv->sighup);
	uv_unref((uv_handle_t *)&srv->drain);
}

/* SIGHUP: the policies, the token file and the JWKS are read again;
 * what fails to load leaves the old ones in force. */
static void on_sighup(uv_signal_t *handle, int signum)
{
	struct server *srv = handle->data;
	struct pm_error err = {0};
	char what[3 * PATH_MAX];

	(void)signum;
	if (srv->app && !srv->stopping) {
		if (app_reload_policies(srv->app, what, sizeof(what), &err) < 0) {
			char msg[PM_ERROR_MESSAGE_MAX + PM_ERROR_HINT_MAX + 16];
			pm_error_format(&err, msg, sizeof(msg));
			log_error(
			    "SIGHUP: policies not reloaded, the old ones stay in force: %s: %s",
			    err.stage, msg);
		} else {
			log_info("SIGHUP: policies reloaded: %s", what);
		}
	}
	if (srv->auth == NULL)
		return;
	if (http_auth_reload(srv->auth, &err) < 0) {
		log_error("SIGHUP: tokens not reloaded, the old ones stay: %s", err.message);
		return;
	}
	unsigned ended = srv->http ? mcp_http_end_revoked(srv->http) : 0;
	log_info("SIGHUP: tokens reloaded; %u sessions of tenants without a token ended", ended);
}

/* Stop reading requests, end every sandbox (recording those jobs as
 * failed), write jobs.json, then let the loop run out. */
static void shutdown_server(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	if (srv->stdio)
		mcp_stdio_stop(srv->stdio);
	srv->stdio = NULL;
	if (srv->http)
		mcp_http_stop(srv->http, NULL, NULL);
	srv->http = NULL;
	http_auth_stop(srv->auth);
	/* Watches of jobs go before the jobs and tools do. */
	mcp_server_stop_watching(srv->server);
	if (srv->app)
		app_stop(srv->app, on_stopped, srv);
	else
		on_stopped(srv);
}

static void on_drain_tick(uv_timer_t *t)
{
	struct server *srv = t->data;
	unsigned waiting = srv->http ? mcp_http_calls_waiting(srv->http) : 0;

	if (waiting > 0 && uv_now(&srv->loop) < srv->drain_deadline)
		return;
	uv_timer_stop(t);
	if (waiting > 0)
		log_info("drain: %u calls did not end within %.0f s; their jobs are recorded as "
			 "failed",
			 waiting, srv->drain_seconds);
	shutdown_server(srv);
}

/* Over HTTP the first SIGTERM drains: no new connections or requests
 * (503), the calls already made may end within --drain-seconds, then the
 * shutdown ends the rest.  A second signal, or stdio, stops at once. */
static void on_signal(uv_signal_t *handle, int signum)
{
	struct server *srv = handle->data;

	if (srv->http && !srv->draining && !srv->stopping && srv->drain_seconds > 0) {
		srv->draining = true;
		log_info("%s received; draining: new requests get 503, the %u calls in progress "
			 "may end within %.0f s",
			 strsignal(signum), mcp_http_calls_waiting(srv->http), srv->drain_seconds);
		mcp_http_drain(srv->http);
		srv->drain_deadline = uv_now(&srv->loop) + (uint64_t)(srv->drain_seconds * 1000);
		uv_timer_start(&srv->drain, on_drain_tick, 0, 100);
		return;
	}
	log_info("%s received; shutting down", strsignal(signum));
	uv_timer_stop(&srv->drain);
	shutdown_server(srv);
}

static void on_eof(void *data)
{
	log_debug("stdin closed; shutting down");
	shutdown_server(data);
}

static int start_transport(struct server *srv, const struct options *opts, struct pm_error *err)
{
	int r;

	if (opts->transport == TRANSPORT_STDIO) {
		r = mcp_stdio_start(&srv->loop, srv->server, opts->limits.max_message_bytes, on_eof,
				    srv, &srv->stdio, err);
		if (r == 0)
			log_debug("serving MCP on stdio");
		return r;
	}
	struct mcp_http_config http = opts->http;
	if ((r = http_auth_new(&opts->auth, &srv->auth, err)) < 0)
		return r;
	http_auth_start(srv->auth, &srv->loop);
	http.auth = srv->auth;
	http.ready = app_ready;
	http.gauges = app_gauges;
	http.ops_data = srv->app;
	r = mcp_http_start(&srv->loop, srv->server, &http, &srv->http, err);
	if (r == 0)
		/* A line scripts read to learn the port (with --listen ...:0). */
		log_info("serving MCP over HTTP at http://%s/mcp", mcp_http_address(srv->http));
	return r;
}

int main(int argc, char **argv)
{
	struct options opts = {0};
	struct server srv = {0};
	struct pm_error err;
	int rc;

	rc = options_parse(argc, argv, &opts);
	if (rc >= 0)
		return rc;
	log_set_level(opts.log_level);
	if (opts.log_file && log_set_file(opts.log_file, &err) < 0) {
		fprintf(stderr, "python-mcp: %s\n", err.message);
		return 1;
	}
	/* A client that closes our stdout must cost an EPIPE, not the
	 * process.  (Children get the default back: see the launcher.) */
	signal(SIGPIPE, SIG_IGN);

	uv_loop_init(&srv.loop);
	srv.server = mcp_server_new(&srv.loop, &opts.limits, "python-mcp", PYMCP_VERSION);
	if (srv.server == NULL) {
		log_error("out of memory");
		return 1;
	}
	opts.app.state_dir = opts.state_dir;
	opts.app.log_file_given = opts.log_file != NULL;
	if (app_start(&srv.loop, srv.server, &opts.app, &srv.app, &err) < 0) {
		char msg[PM_ERROR_MESSAGE_MAX + PM_ERROR_HINT_MAX + 16];
		pm_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "python-mcp: %s\n", msg);
		log_error("%s", msg);
		/* Whatever was set up goes as in a shutdown. */
		if (srv.app) {
			srv.stopping = true;
			app_stop(srv.app, NULL, NULL);
			uv_run(&srv.loop, UV_RUN_DEFAULT);
		}
		mcp_server_free(srv.server);
		uv_loop_close(&srv.loop);
		return 1;
	}
	if (start_transport(&srv, &opts, &err) < 0) {
		char msg[PM_ERROR_MESSAGE_MAX + PM_ERROR_HINT_MAX + 16];
		pm_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "python-mcp: %s\n", msg);
		log_error("%s", msg);
		/* The app is running: stop it like any shutdown. */
		shutdown_server(&srv);
		uv_run(&srv.loop, UV_RUN_DEFAULT);
		mcp_server_free(srv.server);
		http_auth_free(srv.auth);
		uv_loop_close(&srv.loop);
		return 1;
	}
	uv_signal_init(&srv.loop, &srv.sigterm);
	uv_signal_init(&srv.loop, &srv.sigint);
	uv_signal_init(&srv.loop, &srv.sighup);
	uv_timer_init(&srv.loop, &srv.drain);
	srv.drain.data = &srv;
	srv.drain_seconds = opts.drain_seconds;
	srv.sigterm.data = srv.sigint.data = srv.sighup.data = &srv;
	uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
	uv_signal_start(&srv.sigint, on_signal, SIGINT);
	uv_signal_start(&srv.sighup, on_sighup, SIGHUP);

	/* Runs until shutdown_server() has stopped everything and the last
	 * handle is closed. */
	uv_run(&srv.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&srv.sigterm, NULL);
	uv_close((uv_handle_t *)&srv.sigint, NULL);
	uv_close((uv_handle_t *)&srv.sighup, NULL);
	uv_close((uv_handle_t *)&srv.drain, NULL);
	uv_run(&srv.loop, UV_RUN_DEFAULT);
	mcp_server_free(srv.server);
	http_auth_free(srv.auth);
	uv_loop_close(&srv.loop);
	log_set_file(NULL, &err);
	return 0;
}
