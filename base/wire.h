/* The one protocol between the server and the launcher, defined once for
 * both sides (docs/wire.md says it in prose).
 *
 * The job spec: one JSON object the server writes on the launcher's
 * --spec-fd (a Unix socket) and closes; the workspace directory may come
 * with its first bytes as a descriptor (SCM_RIGHTS).  The launcher parses
 * it (sandbox/job.c); the server builds it (src/exec, src/deps, src/run).
 *
 * The status events: one JSON object a line on --status-fd, each with
 * "event": ready, started, degraded, error, progress, exit.  The launcher writes
 * them (sandbox/status.c, launch.c, init.c); the server reads them
 * through the line framer (src/run/runner.c). */
#ifndef PM_WIRE_H
#define PM_WIRE_H

#include <jansson.h>
#include <stdbool.h>

/* Job spec keys. */
#define WIRE_SPEC_WORKSPACE	   "workspace"	      /* host path of the workspace */
#define WIRE_SPEC_WORKSPACE_FD	   "workspace_fd"     /* true: it came as a descriptor */
#define WIRE_SPEC_SCRATCH	   "scratch"	      /* true: a tmpfs, no host workspace */
#define WIRE_SPEC_WORKSPACE_TARGET "workspace_target" /* where it appears inside */
#define WIRE_SPEC_ARGV		   "argv"
#define WIRE_SPEC_CWD		   "cwd"
#define WIRE_SPEC_ENV		   "env"	    /* {"NAME": "value"} */
#define WIRE_SPEC_TIMEOUT	   "timeout"	    /* seconds, 0 = the policy's */
#define WIRE_SPEC_PROTECT	   "protect"	    /* [path]: no workspace overlaps these */
#define WIRE_SPEC_FILES		   "files"	    /* {"/tmp/x.py": "content"} */
#define WIRE_SPEC_BINDS		   "binds"	    /* [{"source", "target"}], read-only */
#define WIRE_SPEC_LOOPBACK_PORTS   "loopback_ports" /* [port]: a user network forwards them */

/* Status events and their members. */
#define WIRE_EVENT	    "event"
#define WIRE_EVENT_READY    "ready"    /* prepared; waiting for the spec */
#define WIRE_EVENT_STARTED  "started"  /* the job runs: pid, script_pid, workspace, cgroup, ... */
#define WIRE_EVENT_DEGRADED "degraded" /* an optional layer is missing: layer, message */
#define WIRE_EVENT_ERROR    "error"    /* set-up failed: stage, errno, error, message, hint */
#define WIRE_EVENT_EXIT	    "exit"     /* the job ended: see struct wire_exit */
#define WIRE_EVENT_PROGRESS "progress" /* the script reported: see struct wire_progress */

enum wire_event {
	WIRE_UNKNOWN,
	WIRE_READY,
	WIRE_STARTED,
	WIRE_DEGRADED,
	WIRE_ERROR,
	WIRE_EXIT,
	WIRE_PROGRESS,
};

/* The kind of a status event (WIRE_UNKNOWN for anything else). */
enum wire_event wire_event_kind(const json_t *ev);

/* The exit event as the server uses it; strings borrowed from the event. */
struct wire_exit {
	int exit_code;		  /* -1 when a signal ended it */
	int signal;		  /* 0 when it exited */
	const char *limit;	  /* "time", "memory", "pids", "cpu", "output", "disk",
				     "cancel", or NULL */
	const char *limit_detail; /* which limit and its value, or NULL */
	double wall_seconds;
	double cpu_user_seconds, cpu_system_seconds;
	long long peak_rss_bytes;
};

void wire_exit_read(const json_t *ev, struct wire_exit *out);

/* What the script reported on its progress descriptor (sandbox/progress.h);
 * message borrowed from the event. */
struct wire_progress {
	double current;
	double total;	     /* < 0: none given */
	const char *message; /* or NULL */
};

void wire_progress_read(const json_t *ev, struct wire_progress *out);

/* "message. Hint: hint" of an error event into buf. */
void wire_error_text(const json_t *ev, char *buf, size_t size);

#endif
