/* The workspace: the one host directory a sandbox may write.  A client
 * names it, so it is checked against the policy before anything runs and
 * later opened without following any symlink, which makes a swap of a
 * path component for a symlink between check and use fail instead of
 * escaping (runc CVE-2021-30465). */
#ifndef SB_WORKSPACE_H
#define SB_WORKSPACE_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "paths.h"
#include "policy.h"

struct sb_workspace {
	char *path;      /* canonical absolute path (symlinks resolved) */
};

/* Resolves `given`, requires a directory under one of the policy's roots
 * that neither contains nor lies inside a protected path (the policy's and
 * `extra_protected`, e.g. the server's state directory). */
int sb_workspace_check(const char *given, const struct sb_policy *policy,
		       char *const *extra_protected, size_t n_extra, struct sb_workspace *out,
		       struct sb_error *err);

void sb_workspace_free(struct sb_workspace *ws);

/* O_PATH descriptor of the canonical path, refusing symlinks anywhere in it. */
int sb_workspace_open(const char *canonical, struct sb_error *err);

#endif
