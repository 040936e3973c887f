/* One sandboxed run, as a checklist: check the workspace, build the
 * environment and the seccomp filter, create the cgroups, clone init into
 * new namespaces, map its ids, release it, supervise it, report. */
#ifndef SB_LAUNCH_H
#define SB_LAUNCH_H

#include <stddef.h>

#include "error.h"
#include "policy.h"
#include "status.h"

struct sb_launch {
	const struct sb_policy *policy;
	const char *workspace;        /* as given; resolved and checked here */
	const char *cwd;              /* inside the sandbox; NULL = the workspace */
	char *const *env_extra;       /* "K=V" from --env */
	size_t n_env_extra;
	char *const *protect;         /* extra protected paths (--protect) */
	size_t n_protect;
	char *const *argv;            /* the command, NULL-terminated */
	int status_fd;                /* JSON lines, or -1 */
	double timeout;               /* seconds; 0 = the policy's limit */
};

/* Runs the command.  Returns 0 when it ran (res says how it ended) and a
 * negative errno when the sandbox could not be set up (err says why; the
 * error has also been sent on the status channel). */
int sb_launch(const struct sb_launch *cfg, struct sb_result *res, struct sb_error *err);

#endif
