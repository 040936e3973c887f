/* The host paths a client names (`directory`, `script_path`, `env_file`),
 * opened once, the same way for every tool.
 *
 * The workspace directory is opened beneath the workspace root its path
 * names and checked against the fence (sandbox/fence.h): the server keeps
 * that descriptor and hands it to the launcher, so nothing resolves the
 * name again.  Files are opened beneath the workspace with the kernel's
 * RESOLVE_BENEATH (a planted `..` or absolute symlink fails), as O_PATH
 * first, and read only when they are regular files (a FIFO never blocks
 * the loop).  The server's privileges never follow a job's symlink out
 * of the job's own tree (THREATS.md S6-S8). */
#ifndef PYMCP_CLIENT_PATH_H
#define PYMCP_CLIENT_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "fence.h"

struct client_place {
	int fd;	      /* the workspace (O_PATH), or -1: a scratch workspace */
	char *real;   /* its canonical path, or NULL */
	char *given;  /* `directory` as the client wrote it (absolute, normalized), or NULL */
	char *script; /* with script_path alone: its name in that directory */
};

/* Opens the workspace of a run: `directory` when given, else the
 * directory holding `script_path` (when given), else none (a scratch
 * workspace: out->fd is -1).  Relative paths are taken from `cwd`, the
 * server's working directory.  The roots themselves are accepted (a
 * client may run in the server's working directory).  A tenant (not NULL)
 * works only below `<root>/<tenant>`, made on first use. */
int client_open_workspace(const struct pm_fence *fence, const char *cwd, const char *directory,
			  const char *script_path, const char *tenant, struct client_place *out,
			  struct pm_error *err);

/* Reads the regular file `given` (at most max bytes): relative to the
 * workspace, or absolute inside it.  An absolute path elsewhere is an
 * error unless outside_ok; then it is opened through the fence like a
 * workspace (its directory beneath a root, the file beneath that).
 * *inside (may be NULL; malloc'd) is the file's path as a script in the
 * sandbox sees it: set for files of the workspace, NULL otherwise.  With
 * text NULL the file is only checked (a regular file), not read. */
int client_read_file(const struct pm_fence *fence, const struct client_place *ws, const char *given,
		     const char *what, bool outside_ok, const char *tenant, size_t max, char **text,
		     size_t *len, char **inside, struct pm_error *err);

void client_place_free(struct client_place *p);

#endif
