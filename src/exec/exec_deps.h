/* What an execution needs before its spec: the interpreter (python_version,
 * requires-python) and the dependency set (given, and detected from the
 * script's imports). */
#ifndef PYMCP_EXEC_DEPS_H
#define PYMCP_EXEC_DEPS_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"
#include "exec.h"

/* The interpreter's absolute path into cmd ("/usr/bin/python3.11") and its
 * "3.X" into used: python_version when given (it must be installed), else
 * the default one, else for a requires-python the newest installed one
 * that satisfies it.  Errors list the installed versions. */
int exec_deps_interpreter(const char *version, const char *requires_python, char *cmd, size_t size,
			  char *used, size_t used_size, struct pm_error *err);

/* *explicit_new: the normalized given dependencies; *full_new: those plus
 * the third-party imports of `source` when req->detect_imports (modules
 * found in the directory dirfd, -1 for none, are the script's own). */
int exec_deps_resolve(const struct exec_request *req, const char *python, const char *source,
		      int dirfd, json_t **explicit_new, json_t **full_new, struct pm_error *err);

#endif
