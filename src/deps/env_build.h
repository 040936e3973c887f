/* Building one dependency environment: the virtual environment's
 * skeleton (written here, so no environment pays for `python -m venv` or
 * for bootstrapping pip), the install task's launcher spec, and the
 * reason an install failed, from its output. */
#ifndef PYMCP_ENV_BUILD_H
#define PYMCP_ENV_BUILD_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"
#include "runner.h"

/* bin/python* -> the interpreter, lib/pythonX.Y/site-packages, and a
 * pyvenv.cfg that also sees the interpreter's own site-packages (what a
 * run without dependencies sees, so that adding one loses nothing). */
int env_build_skeleton(const char *dir, const char *interpreter, const char *full_version,
		       struct pm_error *err);

/* The install task: the environment directory mounted writable at
 * ENVS_TARGET, pip (or uv, when `uv` is its path) installing `set` into
 * it, local wheel directories and file:// indexes named by the pip and
 * uv variables of the server's environment mounted read-only, and the
 * ports of those on this machine's loopback forwarded (loopback.h). */
struct env_build_config {
	const char *uv;		      /* uv's path, or NULL: pip */
	double timeout;		      /* seconds */
	char *const *protected_paths; /* never shown to an install */
	size_t n_protected;
};
json_t *env_build_spec(const char *dir, json_t *set, const struct env_build_config *cfg);

/* "`a`, `b`": the set, for messages. */
void env_build_names(json_t *set, char *out, size_t size);

/* "installing `a`, `b` with pip failed: ERROR: ..." from the tail of the
 * install's output. */
void env_build_error(const char *output, size_t len, json_t *set, const char *installer,
		     const struct run_outcome *o, char *msg, size_t size);

#endif
