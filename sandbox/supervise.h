/* The launcher's side while a sandbox runs: waits for init, enforces the
 * wall-clock limit and the output cap, forwards termination signals (then
 * kills after a grace period), and collects what the sandbox reports. */
#ifndef SB_SUPERVISE_H
#define SB_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "error.h"

struct sb_oom_guard;

struct sb_supervise {
	pid_t pid; /* the sandbox's init */
	int pidfd;
	int report_fd;			/* read end of the report pipe */
	int out_fd, err_fd;		/* relay pipes (read ends), or -1 */
	int64_t output_cap;		/* bytes of stdout+stderr, 0 = none */
	double timeout;			/* seconds of wall time, 0 = none */
	int status_fd;			/* for "degraded" events, or -1 */
	int disk_fd;			/* readable when the workspace grew past its limit, or -1 */
	int progress_fd;		/* read end of the script's progress pipe, or -1 */
	struct sb_oom_guard *oom_guard; /* looks while the job runs, or NULL */
};

struct sb_supervised {
	int init_status;   /* wait status of init */
	bool script_ended; /* init reported the script's end */
	int script_status; /* its wait status */
	bool setup_failed; /* init reported a setup error */
	struct pm_error setup_err;
	struct rusage usage; /* of init and every process it reaped */
	const char *limit;   /* "time", "output", "disk", "cancel" or "memory" (oom_guard.h)
				when the launcher ended it */
	int64_t output_bytes;
};

/* Returns when init has exited and every pipe is drained. */
int sb_supervise(const struct sb_supervise *s, struct sb_supervised *out, struct pm_error *err);

#endif
