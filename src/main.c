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

#include "log.h"
#include "mcp.h"

#define JANSSON_MAX_DEPTH 2048 /* jansson's own parser refuses deeper input */

struct options {
	const char *state_dir;
	const char *log_file;
	int log_level;
	struct mcp_limits limits;
};

struct app {
	uv_loop_t loop;
	struct mcp_server *server;
	uv_signal_t sigterm, sigint;
	bool stopping;
};

static const char usage[] =
	"Usage: python-mcp [OPTION]...\n"
	"Serves the Model Context Protocol on stdin/stdout (newline-delimited JSON-RPC);\n"
	"logs go to stderr.  Exits when stdin ends or on SIGTERM/SIGINT.\n"
	"\n"
	"  --state-dir DIR            jobs and scripts live here (default ~/.python_mcp)\n"
	"  --log-level LEVEL          debug, info, notice, warning, error, critical, alert,\n"
	"                             emergency (default info; MCP_DEBUG=true means debug)\n"
	"  --log-file PATH            also append log lines to PATH\n"
	"  --max-request-bytes N      longest message accepted (default 4194304)\n"
	"  --max-json-depth N         deepest JSON nesting accepted (default 64)\n"
	"  -h, --help                 show this help\n"
	"  -V, --version              show the version\n";

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

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_STATE_DIR = 256, OPT_LOG_LEVEL, OPT_LOG_FILE, OPT_MAX_BYTES, OPT_MAX_DEPTH };
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"log-file", required_argument, NULL, OPT_LOG_FILE},
		{"max-request-bytes", required_argument, NULL, OPT_MAX_BYTES},
		{"max-json-depth", required_argument, NULL, OPT_MAX_DEPTH},
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
		case OPT_MAX_BYTES:
			if (!parse_size(optarg, 1, SIZE_MAX / 2, &n))
				return usage_error("--max-request-bytes `%s`: expected a positive "
						   "number of bytes",
						   optarg);
			o->limits.max_message_bytes = (size_t)n;
			break;
		case OPT_MAX_DEPTH:
			if (!parse_size(optarg, 1, JANSSON_MAX_DEPTH, &n))
				return usage_error("--max-json-depth `%s`: expected a number from 1 "
						   "to 2048",
						   optarg);
			o->limits.max_json_depth = (unsigned)n;
			break;
		case ':':
			return usage_error("option `%s` needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option `%s`", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument `%s`", argv[optind]);
	return -1;
}

static void shutdown_app(struct app *app)
{
	if (app->stopping)
		return;
	app->stopping = true;
	mcp_server_stop(app->server);
	/* Still caught while stdout flushes (a second SIGTERM must not kill
	 * us mid-write), but no longer keeping the loop alive. */
	uv_unref((uv_handle_t *)&app->sigterm);
	uv_unref((uv_handle_t *)&app->sigint);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	log_info("%s received; shutting down", strsignal(signum));
	shutdown_app(handle->data);
}

static void on_eof(void *data)
{
	log_debug("stdin closed; shutting down");
	shutdown_app(data);
}

int main(int argc, char **argv)
{
	struct options opts = {0};
	struct app app = {0};
	struct sb_error err;
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

	uv_loop_init(&app.loop);
	app.server = mcp_server_new(&app.loop, &opts.limits, "python-mcp", PYMCP_VERSION);
	if (app.server == NULL) {
		log_error("out of memory");
		return 1;
	}
	if (mcp_server_start_stdio(app.server, on_eof, &app, &err) < 0) {
		log_error("%s", err.message);
		mcp_server_free(app.server);
		uv_run(&app.loop, UV_RUN_DEFAULT);
		uv_loop_close(&app.loop);
		return 1;
	}
	uv_signal_init(&app.loop, &app.sigterm);
	uv_signal_init(&app.loop, &app.sigint);
	app.sigterm.data = app.sigint.data = &app;
	uv_signal_start(&app.sigterm, on_signal, SIGTERM);
	uv_signal_start(&app.sigint, on_signal, SIGINT);
	log_debug("serving MCP on stdio (state dir %s)",
		  opts.state_dir ? opts.state_dir : "~/.python_mcp");

	uv_run(&app.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&app.sigterm, NULL);
	uv_close((uv_handle_t *)&app.sigint, NULL);
	uv_run(&app.loop, UV_RUN_DEFAULT);
	mcp_server_free(app.server);
	uv_loop_close(&app.loop);
	log_set_file(NULL, &err);
	return 0;
}
