/* What the execution tools share: turning validated parameters into a
 * launcher spec, and a finished run into the tool's result
 * (RunScriptResult, plus the dependency and benchmark fields). */
#ifndef PYMCP_EXEC_H
#define PYMCP_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "error.h"
#include "fence.h"
#include "jobs.h"
#include "runner.h"

struct smart;
struct mcp_call;
struct envs;

enum exec_kind { EXEC_RUN, EXEC_WITH_DEPS, EXEC_BENCHMARK };

struct exec_env {
	uv_loop_t *loop;
	struct jobs *jobs;
	struct runner *runner;
	struct smart *smart;
	struct envs *envs;          /* dependency environments */
	const struct sb_fence *fence; /* the server's workspace roots and what no
					 workspace may reach (fence.h) */
	const char *cwd;            /* the server's working directory: relative
				       paths of a client start there */
	size_t inline_output_bytes; /* per stream, in results */
};

/* One execution request, already validated by the tool layer. */
struct exec_request {
	enum exec_kind kind;
	const char *tool;
	const char *label;          /* NULL = the tool's name */
	const char *directory;      /* NULL: a scratch directory for the job */
	const char *script_path;    /* XOR script_content */
	const char *script_content;
	const char *content_name;   /* file name for script_content inside the
				       sandbox's /tmp; NULL = inline_<random>.py */
	json_t *args;               /* array of strings, borrowed, may be NULL */
	json_t *env_vars;           /* object of strings, borrowed, may be NULL */
	const char *env_file;
	const char *python_version; /* "3.11" or NULL */
	const char *requires_python; /* PEP 723 header's, or NULL */
	bool use_uv;                /* install with uv when it is installed */
	bool detect_imports;        /* add the script's third-party imports */
	double timeout_seconds;     /* 0 = none */
	bool async_mode;
	json_t *dependencies;       /* array of strings, borrowed, may be NULL */
};

/* Creates the job, queues it and answers the call: at once with
 * async_mode, else through smart async.  Validation errors answer the
 * call with isError and create no job. */
void exec_start(const struct exec_env *env, struct mcp_call *call, const struct exec_request *req);

#endif
