/* python-mcp: the MCP server.  Parses the command line, serves MCP on
 * stdio until stdin ends or SIGTERM/SIGINT arrives, then exits 0. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "log.h"
#include "mcp_stdio.h"
#include "mcp.h"

#define JANSSON_MAX_DEPTH 2048 /* jansson's own parser refuses deeper input */

#define MAX_ROOTS 64

struct options {
	const char *state_dir;
	const char *log_file;
	int log_level;
	struct mcp_limits limits;
	struct app_config app;
	const char *roots[MAX_ROOTS];
};

struct server {
	uv_loop_t loop;
	struct mcp_server *server;
	struct mcp_stdio *stdio;
	struct app *app;
	uv_signal_t sigterm, sigint;
	bool stopping;
};

static const char usage[] =
    "Usage: python-mcp [OPTION]...\n"
    "Serves the Model Context Protocol on stdin/stdout (newline-delimited JSON-RPC);\n"
    "logs go to stderr.  Exits when stdin ends or on SIGTERM/SIGINT.\n"
    "\n"
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
    "                             jobs' output goes first (default 2147483648)\n"
    "  --max-stored-jobs N        jobs kept in jobs.json; the oldest finished ones are\n"
    "                             forgotten first (default 20000)\n"
    "  --max-scripts N            saved scripts kept (of at most 4 MiB each); saving\n"
    "                             one more is refused (default 1000)\n"
    "  --log-level LEVEL          debug, info, notice, warning, error, critical, alert,\n"
    "                             emergency (default info; MCP_DEBUG=true means debug)\n"
    "  --log-file PATH            also append log lines to PATH\n"
    "  --max-request-bytes N      longest message accepted (default 4194304)\n"
    "  --max-json-depth N         deepest JSON nesting accepted (default 64)\n"
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
};

_Static_assert(NUM_COUNT == 12, "NUMERIC_LONGOPTS lists every numeric option");
#define NUMERIC_LONGOPT(i)                                                                         \
	{                                                                                          \
		numeric[i].name, required_argument, NULL, OPT_NUMERIC + (i)                        \
	}
#define NUMERIC_LONGOPTS                                                                           \
	NUMERIC_LONGOPT(0), NUMERIC_LONGOPT(1), NUMERIC_LONGOPT(2), NUMERIC_LONGOPT(3),            \
	    NUMERIC_LONGOPT(4), NUMERIC_LONGOPT(5), NUMERIC_LONGOPT(6), NUMERIC_LONGOPT(7),        \
	    NUMERIC_LONGOPT(8), NUMERIC_LONGOPT(9), NUMERIC_LONGOPT(10), NUMERIC_LONGOPT(11)

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
	}
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum {
		OPT_STATE_DIR = 256,
		OPT_LOG_LEVEL,
		OPT_LOG_FILE,
		OPT_POLICY,
		OPT_LAUNCHER,
		OPT_ROOT,
		OPT_INSTALL_POLICY
	};
	/* Not static: the numeric entries come from numeric[]. */
	const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"log-file", required_argument, NULL, OPT_LOG_FILE},
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"launcher", required_argument, NULL, OPT_LAUNCHER},
	    {"workspace-root", required_argument, NULL, OPT_ROOT},
	    {"install-policy", required_argument, NULL, OPT_INSTALL_POLICY},
	    NUMERIC_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	const char *debug = getenv("MCP_DEBUG");
	unsigned long long n;
	int c;

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
	o->app.install_timeout = 900;
	o->app.inline_output_bytes = 256 * 1024;
	o->app.disk_output_bytes = 256 * 1024 * 1024;
	o->app.smart_timeout = 20.0;
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
			if (o->app.n_workspace_roots == MAX_ROOTS)
				return usage_error("more than %d --workspace-root options",
						   MAX_ROOTS);
			o->roots[o->app.n_workspace_roots++] = optarg;
			o->app.workspace_roots = o->roots;
			break;
		case OPT_INSTALL_POLICY:
			o->app.install_policy = optarg;
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
	return -1;
}

/* Still caught while stdout flushes (a second SIGTERM must not kill us
 * mid-write and turn exit status 0 into death by signal), but no longer
 * keeping the loop alive; closed once uv_run() returns. */
static void on_stopped(void *data)
{
	struct server *srv = data;

	uv_unref((uv_handle_t *)&srv->sigterm);
	uv_unref((uv_handle_t *)&srv->sigint);
}

/* Stop reading requests, end every sandbox (recording those jobs as
 * failed), write jobs.json, then let the loop run out. */
static void shutdown_server(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	mcp_stdio_stop(srv->stdio);
	srv->stdio = NULL;
	if (srv->app)
		app_stop(srv->app, on_stopped, srv);
	else
		on_stopped(srv);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	log_info("%s received; shutting down", strsignal(signum));
	shutdown_server(handle->data);
}

static void on_eof(void *data)
{
	log_debug("stdin closed; shutting down");
	shutdown_server(data);
}

int main(int argc, char **argv)
{
	struct options opts = {0};
	struct server srv = {0};
	struct pm_error err;
	int rc;

	rc = parse_options(argc, argv, &opts);
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
	if (mcp_stdio_start(&srv.loop, srv.server, opts.limits.max_message_bytes, on_eof, &srv,
			    &srv.stdio, &err) < 0) {
		log_error("%s", err.message);
		/* The app is running: stop it like any shutdown. */
		srv.stopping = true;
		app_stop(srv.app, NULL, NULL);
		uv_run(&srv.loop, UV_RUN_DEFAULT);
		mcp_server_free(srv.server);
		uv_loop_close(&srv.loop);
		return 1;
	}
	uv_signal_init(&srv.loop, &srv.sigterm);
	uv_signal_init(&srv.loop, &srv.sigint);
	srv.sigterm.data = srv.sigint.data = &srv;
	uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
	uv_signal_start(&srv.sigint, on_signal, SIGINT);
	log_debug("serving MCP on stdio (state dir %s)",
		  opts.state_dir ? opts.state_dir : "~/.python_mcp");

	/* Runs until shutdown_server() has stopped everything and the last
	 * handle is closed. */
	uv_run(&srv.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&srv.sigterm, NULL);
	uv_close((uv_handle_t *)&srv.sigint, NULL);
	uv_run(&srv.loop, UV_RUN_DEFAULT);
	mcp_server_free(srv.server);
	uv_loop_close(&srv.loop);
	log_set_file(NULL, &err);
	return 0;
}
