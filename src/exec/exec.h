/* A run from validated parameters: the workspace and files opened by the
 * kernel's rules (client_path.h), the interpreter and the dependency
 * environment, the environment variables, the launcher spec; then the
 * job is queued.  How its result looks is the caller's (the tool layer
 * hands a shaper); how the call is answered too. */
#ifndef PYMCP_EXEC_H
#define PYMCP_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "artifacts.h"
#include "error.h"
#include "fence.h"
#include "jobs.h"
#include "runner.h"

struct smart;
struct envs;
struct env_ref;

enum exec_kind { EXEC_RUN, EXEC_WITH_DEPS, EXEC_BENCHMARK };

struct exec_env {
	uv_loop_t *loop;
	struct jobs *jobs;
	struct runner *runner;
	struct smart *smart;
	struct envs *envs;		  /* dependency environments */
	const struct pm_fence *fence;	  /* the server's workspace roots and what no
					     workspace may reach (fence.h) */
	const char *cwd;		  /* the server's working directory: relative
					     paths of a client start there */
	size_t inline_output_bytes;	  /* per stream, in results */
	size_t tenant_max_live;		  /* pending and running jobs of one tenant (0: no cap) */
	struct artifact_limits artifacts; /* files a run leaves in its directory */
};

/* What a run that ran reports to the shaper of its result. */
struct exec_outcome {
	enum exec_kind kind;
	struct job *job; /* its stderr tail (jobs_tail) is still there */
	const struct run_outcome *run;
	const struct env_ref *env;  /* the dependency environment, or NULL */
	json_t *resolved;	    /* what that environment holds, or NULL */
	json_t *warnings;	    /* detected imports not installed, or NULL */
	const char *python_version; /* "3.11" */
	double timeout_seconds;	    /* the request's (0 = none) */
	json_t *files;		    /* what the run created or changed in its
				       directory (artifacts.h), or NULL */
	const char *files_note;	    /* what is missing from files, or NULL */
	void *shape_data;	    /* the request's */
};

/* Returns the result object of a run (a new reference). */
typedef json_t *(*exec_shape_fn)(const struct exec_outcome *o);

/* One execution request, already validated by the tool layer. */
struct exec_request {
	enum exec_kind kind;
	const char *tool;
	const char *label;	 /* NULL = the tool's name */
	const char *tenant;	 /* whose job it is; NULL: the one tenant */
	const char *directory;	 /* NULL: a scratch directory for the job */
	const char *script_path; /* XOR script_content */
	const char *script_content;
	const char *content_name; /* file name for script_content inside the
				     sandbox's /tmp; NULL = inline_<random>.py */
	json_t *args;		  /* array of strings, borrowed, may be NULL */
	json_t *env_vars;	  /* object of strings, borrowed, may be NULL */
	const char *env_file;
	const char *python_version;  /* "3.11" or NULL */
	const char *requires_python; /* PEP 723 header's, or NULL */
	bool use_uv;		     /* install with uv when it is installed */
	bool detect_imports;	     /* add the script's third-party imports */
	double timeout_seconds;	     /* 0 = none */
	bool async_mode;
	json_t *dependencies;	    /* array of strings, borrowed, may be NULL */
	const struct runner_io *io; /* a session's sandbox (runner.h), or NULL */
	int *keep_ws_fd;	    /* when given: a descriptor of the workspace
				       of the caller's own, or -1 (scratch) */
	json_t **resolved;	    /* when given: {python_version, dependencies,
				       directory} as the run will have them */
	exec_shape_fn shape;	    /* the result of a run that ran */
	void *shape_data;	    /* handed to shape in its outcome */
};

/* Creates the job and queues it (*out); the job may have ended already
 * when this returns (an install that cannot start).  Errors (validation,
 * a full queue) create no job and fill err. */
int exec_start(const struct exec_env *env, const struct exec_request *req, struct job **out,
	       struct pm_error *err);

#endif
