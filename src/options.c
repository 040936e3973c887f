#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define JANSSON_MAX_DEPTH 2048 /* jansson's own parser refuses deeper input */

static const char usage[] =
    "Usage: python-mcp [OPTION]...\n"
    "Serves the Model Context Protocol on stdin/stdout (newline-delimited JSON-RPC), or\n"
    "over Streamable HTTP at /mcp; logs go to stderr.  Exits when stdin ends (stdio) or\n"
    "on SIGTERM/SIGINT.\n"
    "\n"
    "  --transport stdio|http     how clients reach the server (default stdio)\n"
    "  --listen ADDRESS:PORT      where HTTP listens (default 127.0.0.1:8765; port 0\n"
    "                             picks a free one, logged at start)\n"
    "  --http-allow-host NAME     a Host the server answers to besides localhost,\n"
    "                             127.0.0.1 and ::1; repeatable\n"
    "  --http-allow-origin ORIGIN a browser Origin allowed besides the allowed hosts';\n"
    "                             repeatable\n"
    "  --http-max-connections N   open HTTP connections (default 256)\n"
    "  --http-max-sessions N      legacy (2025-11-25) HTTP sessions (default 4096)\n"
    "  --http-max-inflight N      HTTP requests awaiting an answer, streams included\n"
    "                             (default 256)\n"
    "  --http-max-header-bytes N  request line and headers (default 8192, at most 8192)\n"
    "  --http-request-timeout S   seconds to receive a whole request (default 10)\n"
    "  --http-session-idle S      a legacy session unused this long ends (default 1800)\n"
    "  --auth-tokens FILE         bearer tokens, `NAME TOKEN` a line; NAME is the tenant\n"
    "                             (reloaded on SIGHUP)\n"
    "  --auth-jwks FILE|URL       JWKS of the authorization server: JWT access tokens\n"
    "                             signed by its keys are accepted (reloaded on SIGHUP);\n"
    "                             a URL (https, or http to loopback) is fetched at start,\n"
    "                             every --auth-jwks-refresh and on an unknown key id\n"
    "  --auth-jwks-refresh S      seconds between fetches of a JWKS URL (default 600)\n"
    "  --auth-issuer URL          the `iss` JWTs must carry\n"
    "  --auth-audience URL        the `aud` JWTs must carry (RFC 8707: this server's URL)\n"
    "  --auth-tenant-claim NAME   the JWT claim naming the tenant (default sub)\n"
    "  --auth-resource URL        this server's URL in its protected resource metadata\n"
    "  --auth-server URL          an authorization server for the metadata; repeatable\n"
    "  --allow-unauthenticated    serve HTTP on a non-loopback address without tokens\n"
    "  --metrics-tenant NAME      only this tenant's tokens read /metrics (default: any)\n"
    "  --drain-seconds S          on SIGTERM over HTTP, how long calls in progress may\n"
    "                             take to end before their jobs are ended (default 10)\n"
    "  --state-dir DIR            jobs and scripts live here (default ~/.python_mcp)\n"
    "  --policy FILE              sandbox policy (default: policies/default.json of the\n"
    "                             build tree, or share/python-mcp/policies of the install)\n"
    "  --install-policy FILE      policy of dependency installs (default: install.json\n"
    "                             beside the run policy)\n"
    "  --max-envs N               dependency environments kept; the least recently used\n"
    "                             go first (default 16)\n"
    "  --install-timeout SECONDS  longest dependency install (default 900)\n"
    "  --launcher PATH            python-mcp-sandbox (default: found next to this binary)\n"
    "  --workspace-root DIR       a directory under which clients may name workspaces;\n"
    "                             repeatable (default: the working directory and $TMPDIR\n"
    "                             or /tmp)\n"
    "  --max-jobs N               jobs running at once; others wait as pending (default 4)\n"
    "  --max-pending N            jobs waiting as pending; more are refused (default 64)\n"
    "  --prepared N               sandboxes kept ready ahead of jobs (default 2)\n"
    "  --max-inline-output BYTES  output per stream returned inline (default 262144)\n"
    "  --max-output-disk BYTES    output per stream kept on disk (default 268435456)\n"
    "  --max-state-bytes BYTES    output of all jobs kept on disk; the oldest finished\n"
    "                             jobs' output of the tenant that keeps the most goes\n"
    "                             first (default 2147483648)\n"
    "  --max-stored-jobs N        jobs kept in jobs.json; the oldest finished ones of the\n"
    "                             tenant that keeps the most are forgotten first\n"
    "                             (default 20000)\n"
    "  --max-scripts N            saved scripts kept (of at most 4 MiB each); saving\n"
    "                             one more is refused (default 1000; per tenant)\n"
    "  --artifact-max-bytes BYTES files a run created or changed in its directory kept\n"
    "                             with its job, per run, readable as job-file://\n"
    "                             resources (default 16777216; 0: none are listed)\n"
    "  --image-max-bytes BYTES    images among them up to this size also come back as\n"
    "                             image content (default 1048576)\n"
    "  --max-images N             image blocks per result (default 4)\n"
    "  --max-sessions N           open sessions (py_session_start) of all tenants; more\n"
    "                             are refused (default 8; 0: none)\n"
    "  --tenant-max-sessions N    open sessions of one tenant (HTTP with\n"
    "                             authorization; default 4)\n"
    "  --tenant-max-jobs N        pending and running jobs of one tenant (HTTP with\n"
    "                             authorization); more are refused (default 16)\n"
    "  --tenant-max-stored-jobs N jobs kept of one tenant; its oldest finished ones are\n"
    "                             forgotten first (default 2000)\n"
    "  --log-level LEVEL          debug, info, notice, warning, error, critical, alert,\n"
    "                             emergency (default info; MCP_DEBUG=true means debug)\n"
    "  --log-file PATH            also append log lines to PATH\n"
    "  --max-request-bytes N      longest message (stdio line, HTTP body) accepted\n"
    "                             (default 4194304)\n"
    "  --max-json-depth N         deepest JSON nesting accepted (default 64)\n"
    "  --conformance-fixtures     also serve the MCP conformance suite's diagnostic\n"
    "                             tools (test_*); for testing only\n"
    "  -h, --help                 show this help\n"
    "  -V, --version              show the version\n"
    "\n"
    "Environment: SMART_ASYNC_TIMEOUT_SECONDS (default 20) is how long an execution tool\n"
    "waits before answering with a job id; MCP_DEBUG=true means --log-level debug.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "python-mcp: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry `python-mcp --help`.\n");
	return 2;
}

static bool parse_size(const char *text, unsigned long long min, unsigned long long max,
		       unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' && text[0] != '-' && *out >= min &&
	       *out <= max;
}

/* The options that take a number: parsed and checked one way. */
enum {
	NUM_MAX_BYTES,
	NUM_MAX_DEPTH,
	NUM_MAX_JOBS,
	NUM_PREPARED,
	NUM_INLINE,
	NUM_DISK,
	NUM_MAX_ENVS,
	NUM_INSTALL_TIMEOUT,
	NUM_MAX_PENDING,
	NUM_MAX_STATE,
	NUM_MAX_STORED,
	NUM_MAX_SCRIPTS,
	NUM_HTTP_CONNECTIONS,
	NUM_HTTP_SESSIONS,
	NUM_HTTP_INFLIGHT,
	NUM_HTTP_HEADER_BYTES,
	NUM_HTTP_REQUEST_TIMEOUT,
	NUM_HTTP_SESSION_IDLE,
	NUM_TENANT_JOBS,
	NUM_TENANT_STORED,
	NUM_DRAIN,
	NUM_JWKS_REFRESH,
	NUM_ARTIFACT_BYTES,
	NUM_IMAGE_BYTES,
	NUM_MAX_IMAGES,
	NUM_MAX_SESSIONS,
	NUM_TENANT_SESSIONS,
	NUM_COUNT
};

/* getopt values of the numeric options: OPT_NUMERIC + NUM_*. */
#define OPT_NUMERIC 512

static const struct numeric_option {
	const char *name;
	unsigned long long min, max;
	const char *unit;
} numeric[NUM_COUNT] = {
    [NUM_MAX_BYTES] = {"max-request-bytes", 1, SIZE_MAX / 2, " bytes"},
    [NUM_MAX_DEPTH] = {"max-json-depth", 1, JANSSON_MAX_DEPTH, ""},
    [NUM_MAX_JOBS] = {"max-jobs", 1, 1024, ""},
    [NUM_PREPARED] = {"prepared", 0, 64, ""},
    [NUM_INLINE] = {"max-inline-output", 1024, 1ULL << 30, " bytes"},
    [NUM_DISK] = {"max-output-disk", 1024, 1ULL << 40, " bytes"},
    [NUM_MAX_ENVS] = {"max-envs", 1, 100000, ""},
    [NUM_INSTALL_TIMEOUT] = {"install-timeout", 1, 86400, " seconds"},
    [NUM_MAX_PENDING] = {"max-pending", 1, 100000, ""},
    [NUM_MAX_STATE] = {"max-state-bytes", 1 << 20, 1ULL << 50, " bytes"},
    [NUM_MAX_STORED] = {"max-stored-jobs", 16, 10000000, ""},
    [NUM_MAX_SCRIPTS] = {"max-scripts", 1, 1000000, ""},
    [NUM_HTTP_CONNECTIONS] = {"http-max-connections", 1, 65536, ""},
    [NUM_HTTP_SESSIONS] = {"http-max-sessions", 1, 1000000, ""},
    [NUM_HTTP_INFLIGHT] = {"http-max-inflight", 1, 65536, ""},
    /* h2o refuses longer request heads itself (H2O_MAX_REQLEN). */
    [NUM_HTTP_HEADER_BYTES] = {"http-max-header-bytes", 256, 8192, " bytes"},
    [NUM_HTTP_REQUEST_TIMEOUT] = {"http-request-timeout", 1, 3600, " seconds"},
    [NUM_HTTP_SESSION_IDLE] = {"http-session-idle", 1, 604800, " seconds"},
    [NUM_TENANT_JOBS] = {"tenant-max-jobs", 1, 100000, ""},
    [NUM_TENANT_STORED] = {"tenant-max-stored-jobs", 1, 10000000, ""},
    [NUM_DRAIN] = {"drain-seconds", 0, 3600, " seconds"},
    [NUM_ARTIFACT_BYTES] = {"artifact-max-bytes", 0, 1ULL << 40, " bytes"},
    [NUM_IMAGE_BYTES] = {"image-max-bytes", 0, 64 << 20, " bytes"},
    [NUM_MAX_IMAGES] = {"max-images", 0, 64, ""},
    [NUM_MAX_SESSIONS] = {"max-sessions", 0, 1024, ""},
    [NUM_TENANT_SESSIONS] = {"tenant-max-sessions", 1, 1024, ""},
    [NUM_JWKS_REFRESH] = {"auth-jwks-refresh", 1, 86400, " seconds"},
};

static void store_numeric(struct options *o, int which, unsigned long long n)
{
	switch (which) {
	case NUM_MAX_BYTES:
		o->limits.max_message_bytes = (size_t)n;
		break;
	case NUM_MAX_DEPTH:
		o->limits.max_json_depth = (unsigned)n;
		break;
	case NUM_MAX_JOBS:
		o->app.max_jobs = (unsigned)n;
		break;
	case NUM_PREPARED:
		o->app.prepared = (unsigned)n;
		break;
	case NUM_INLINE:
		o->app.inline_output_bytes = (size_t)n;
		break;
	case NUM_DISK:
		o->app.disk_output_bytes = (size_t)n;
		break;
	case NUM_MAX_ENVS:
		o->app.max_envs = (unsigned)n;
		break;
	case NUM_INSTALL_TIMEOUT:
		o->app.install_timeout = (double)n;
		break;
	case NUM_MAX_PENDING:
		o->app.max_pending = (unsigned)n;
		break;
	case NUM_MAX_STATE:
		o->app.max_state_bytes = (uint64_t)n;
		break;
	case NUM_MAX_STORED:
		o->app.max_stored_jobs = (size_t)n;
		break;
	case NUM_MAX_SCRIPTS:
		o->app.max_scripts = (size_t)n;
		break;
	case NUM_TENANT_JOBS:
		o->app.tenant_max_jobs = (size_t)n;
		break;
	case NUM_TENANT_STORED:
		o->app.tenant_max_stored_jobs = (size_t)n;
		break;
	case NUM_DRAIN:
		o->drain_seconds = (double)n;
		break;
	case NUM_ARTIFACT_BYTES:
		o->app.artifact_max_bytes = (uint64_t)n;
		break;
	case NUM_IMAGE_BYTES:
		o->app.image_max_bytes = (size_t)n;
		break;
	case NUM_MAX_IMAGES:
		o->app.max_images = (unsigned)n;
		break;
	case NUM_MAX_SESSIONS:
		o->app.max_sessions = (size_t)n;
		break;
	case NUM_TENANT_SESSIONS:
		o->app.tenant_max_sessions = (size_t)n;
		break;
	case NUM_JWKS_REFRESH:
		o->auth.jwks_refresh_s = (uint64_t)n;
		break;
	case NUM_HTTP_CONNECTIONS:
		o->http.max_connections = (unsigned)n;
		break;
	case NUM_HTTP_SESSIONS:
		o->http.max_sessions = (unsigned)n;
		break;
	case NUM_HTTP_INFLIGHT:
		o->http.max_inflight = (unsigned)n;
		break;
	case NUM_HTTP_HEADER_BYTES:
		o->http.max_header_bytes = (size_t)n;
		break;
	case NUM_HTTP_REQUEST_TIMEOUT:
		o->http.request_timeout = (double)n;
		break;
	case NUM_HTTP_SESSION_IDLE:
		o->http.session_idle_seconds = (double)n;
		break;
	}
}

/* A repeatable option's value appended to list (of *n entries). */
static int append(const char *name, char **list, size_t *n, const char *value)
{
	if (*n == OPTIONS_MAX_LIST)
		return usage_error("more than %d --%s options", OPTIONS_MAX_LIST, name);
	list[(*n)++] = (char *)value;
	return -1;
}

static void defaults(struct options *o)
{
	const char *debug = getenv("MCP_DEBUG");

	/* As the original server: MCP_DEBUG=true (any case) means debug. */
	o->log_level = debug && (strcasecmp(debug, "true") == 0 || strcmp(debug, "1") == 0)
			   ? LOG_LEVEL_DEBUG
			   : LOG_LEVEL_INFO;
	o->limits.max_message_bytes = 4 * 1024 * 1024;
	o->limits.max_json_depth = 64;
	o->app.max_jobs = 4;
	o->app.prepared = 2;
	o->app.max_envs = 16;
	o->app.max_pending = 64;
	o->app.max_state_bytes = 2ULL << 30;
	o->app.max_stored_jobs = 20000;
	o->app.max_scripts = 1000;
	o->app.tenant_max_jobs = 16;
	o->app.tenant_max_stored_jobs = 2000;
	o->app.artifact_max_bytes = 16 << 20;
	o->app.image_max_bytes = 1 << 20;
	o->app.max_images = 4;
	o->app.max_sessions = 8;
	o->app.tenant_max_sessions = 4;
	o->drain_seconds = 10;
	o->auth.jwks_refresh_s = 600;
	o->app.install_timeout = 900;
	o->app.inline_output_bytes = 256 * 1024;
	o->app.disk_output_bytes = 256 * 1024 * 1024;
	o->app.smart_timeout = 20.0;
	o->transport = TRANSPORT_STDIO;
	o->http = (struct mcp_http_config){
	    .listen = "127.0.0.1:8765",
	    .max_header_bytes = MCP_HTTP_DEFAULT_MAX_HEADER_BYTES,
	    .max_connections = MCP_HTTP_DEFAULT_MAX_CONNECTIONS,
	    .max_sessions = MCP_HTTP_DEFAULT_MAX_SESSIONS,
	    .max_inflight = MCP_HTTP_DEFAULT_MAX_INFLIGHT,
	    .request_timeout = MCP_HTTP_DEFAULT_REQUEST_TIMEOUT,
	    .session_idle_seconds = MCP_HTTP_DEFAULT_SESSION_IDLE,
	    .allow_hosts = o->allow_hosts,
	    .allow_origins = o->allow_origins,
	};
}

int options_parse(int argc, char **argv, struct options *o)
{
	enum {
		OPT_STATE_DIR = 256,
		OPT_LOG_LEVEL,
		OPT_LOG_FILE,
		OPT_POLICY,
		OPT_LAUNCHER,
		OPT_ROOT,
		OPT_INSTALL_POLICY,
		OPT_TRANSPORT,
		OPT_LISTEN,
		OPT_ALLOW_HOST,
		OPT_ALLOW_ORIGIN,
		OPT_FIXTURES,
		OPT_AUTH_TOKENS,
		OPT_AUTH_JWKS,
		OPT_AUTH_ISSUER,
		OPT_AUTH_AUDIENCE,
		OPT_AUTH_CLAIM,
		OPT_AUTH_RESOURCE,
		OPT_AUTH_SERVER,
		OPT_ALLOW_UNAUTH,
		OPT_METRICS_TENANT,
	};
	static const struct option fixed[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"log-file", required_argument, NULL, OPT_LOG_FILE},
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"launcher", required_argument, NULL, OPT_LAUNCHER},
	    {"workspace-root", required_argument, NULL, OPT_ROOT},
	    {"install-policy", required_argument, NULL, OPT_INSTALL_POLICY},
	    {"transport", required_argument, NULL, OPT_TRANSPORT},
	    {"listen", required_argument, NULL, OPT_LISTEN},
	    {"http-allow-host", required_argument, NULL, OPT_ALLOW_HOST},
	    {"http-allow-origin", required_argument, NULL, OPT_ALLOW_ORIGIN},
	    {"conformance-fixtures", no_argument, NULL, OPT_FIXTURES},
	    {"auth-tokens", required_argument, NULL, OPT_AUTH_TOKENS},
	    {"auth-jwks", required_argument, NULL, OPT_AUTH_JWKS},
	    {"auth-issuer", required_argument, NULL, OPT_AUTH_ISSUER},
	    {"auth-audience", required_argument, NULL, OPT_AUTH_AUDIENCE},
	    {"auth-tenant-claim", required_argument, NULL, OPT_AUTH_CLAIM},
	    {"auth-resource", required_argument, NULL, OPT_AUTH_RESOURCE},
	    {"auth-server", required_argument, NULL, OPT_AUTH_SERVER},
	    {"allow-unauthenticated", no_argument, NULL, OPT_ALLOW_UNAUTH},
	    {"metrics-tenant", required_argument, NULL, OPT_METRICS_TENANT},
	};
	struct option longopts[sizeof(fixed) / sizeof(fixed[0]) + NUM_COUNT + 1];
	size_t nopts = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		longopts[nopts++] = fixed[i];
	for (int i = 0; i < NUM_COUNT; i++)
		longopts[nopts++] =
		    (struct option){numeric[i].name, required_argument, NULL, OPT_NUMERIC + i};
	longopts[nopts] = (struct option){NULL, 0, NULL, 0};
	unsigned long long n;
	int c, r;

	defaults(o);
	const char *smart = getenv("SMART_ASYNC_TIMEOUT_SECONDS");
	if (smart && *smart) {
		char *end;
		double v = strtod(smart, &end);
		if (*end != '\0' || !(v > 0) || v > 86400)
			return usage_error("SMART_ASYNC_TIMEOUT_SECONDS=`%s`: expected seconds, "
					   "more than 0 and at most 86400",
					   smart);
		o->app.smart_timeout = v;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("python-mcp %s\n", PYMCP_VERSION);
			return 0;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_LOG_LEVEL:
			o->log_level = log_level_from_name(optarg);
			if (o->log_level < 0)
				return usage_error("unknown log level `%s`; use debug, info, "
						   "notice, warning, error, critical, alert or "
						   "emergency",
						   optarg);
			break;
		case OPT_LOG_FILE:
			o->log_file = optarg;
			break;
		case OPT_POLICY:
			o->app.policy = optarg;
			break;
		case OPT_LAUNCHER:
			o->app.launcher = optarg;
			break;
		case OPT_ROOT:
			if (o->app.n_workspace_roots == OPTIONS_MAX_LIST)
				return usage_error("more than %d --workspace-root options",
						   OPTIONS_MAX_LIST);
			o->roots[o->app.n_workspace_roots++] = optarg;
			o->app.workspace_roots = o->roots;
			break;
		case OPT_INSTALL_POLICY:
			o->app.install_policy = optarg;
			break;
		case OPT_TRANSPORT:
			if (strcmp(optarg, "stdio") == 0)
				o->transport = TRANSPORT_STDIO;
			else if (strcmp(optarg, "http") == 0)
				o->transport = TRANSPORT_HTTP;
			else
				return usage_error("--transport `%s`: use stdio or http", optarg);
			break;
		case OPT_LISTEN:
			o->http.listen = optarg;
			break;
		case OPT_FIXTURES:
			o->app.conformance_fixtures = true;
			break;
		case OPT_ALLOW_HOST:
			if ((r = append("http-allow-host", o->allow_hosts, &o->http.n_allow_hosts,
					optarg)) >= 0)
				return r;
			break;
		case OPT_ALLOW_ORIGIN:
			if ((r = append("http-allow-origin", o->allow_origins,
					&o->http.n_allow_origins, optarg)) >= 0)
				return r;
			break;
		case OPT_AUTH_TOKENS:
			o->auth.tokens_file = optarg;
			break;
		case OPT_AUTH_JWKS:
			o->auth.jwks_file = optarg;
			break;
		case OPT_AUTH_ISSUER:
			o->auth.issuer = optarg;
			break;
		case OPT_AUTH_AUDIENCE:
			o->auth.audience = optarg;
			break;
		case OPT_AUTH_CLAIM:
			o->auth.tenant_claim = optarg;
			break;
		case OPT_AUTH_RESOURCE:
			o->auth.resource = o->http.auth_resource = optarg;
			break;
		case OPT_AUTH_SERVER:
			if ((r = append("auth-server", o->auth_servers, &o->auth.n_auth_servers,
					optarg)) >= 0)
				return r;
			o->auth.auth_servers = o->auth_servers;
			break;
		case OPT_ALLOW_UNAUTH:
			o->http.allow_unauthenticated = true;
			break;
		case OPT_METRICS_TENANT:
			o->http.metrics_tenant = optarg;
			break;
		case ':':
			return usage_error("option `%s` needs a value", argv[optind - 1]);
		default:
			if (c < OPT_NUMERIC || c >= OPT_NUMERIC + NUM_COUNT)
				return usage_error("unknown option `%s`", argv[optind - 1]);
			const struct numeric_option *num = &numeric[c - OPT_NUMERIC];
			if (!parse_size(optarg, num->min, num->max, &n))
				return usage_error(
				    "--%s `%s`: expected a whole number from %llu to "
				    "%llu%s",
				    num->name, optarg, num->min, num->max, num->unit);
			store_numeric(o, c - OPT_NUMERIC, n);
			break;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument `%s`", argv[optind]);
	if (o->transport != TRANSPORT_HTTP && (o->auth.tokens_file || o->auth.jwks_file))
		return usage_error("--auth-tokens and --auth-jwks apply to --transport http; stdio "
				   "has one client, the process that started the server");
	o->http.max_body_bytes = o->limits.max_message_bytes;
	return -1;
}
