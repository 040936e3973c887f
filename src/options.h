/* python-mcp's command line: every option, its default and its bounds,
 * checked once here; a bad one is a usage error naming it. */
#ifndef PYMCP_OPTIONS_H
#define PYMCP_OPTIONS_H

#include <stdbool.h>

#include "app.h"
#include "mcp.h"
#include "http_auth.h"
#include "mcp_http.h"

#define OPTIONS_MAX_LIST 64

enum transport_kind { TRANSPORT_STDIO, TRANSPORT_HTTP };

struct options {
	const char *state_dir;
	const char *log_file;
	int log_level;
	struct mcp_limits limits;
	struct app_config app;
	enum transport_kind transport;
	struct mcp_http_config http;
	const char *roots[OPTIONS_MAX_LIST];
	char *allow_hosts[OPTIONS_MAX_LIST];
	char *allow_origins[OPTIONS_MAX_LIST];
	struct http_auth_config auth; /* HTTP only; no token source: none */
	double drain_seconds;	      /* SIGTERM over HTTP: the grace of calls */
	char *auth_servers[OPTIONS_MAX_LIST];
};

/* Fills o from argv and the environment.  Returns -1 to go on, else the
 * exit status (0 after --help or --version, 2 after a usage error, which
 * it printed). */
int options_parse(int argc, char **argv, struct options *o);

#endif
