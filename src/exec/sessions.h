/* Sessions: one long-lived sandbox running the project's driver
 * (session_driver.py), which keeps a persistent __main__ between runs.
 *
 * A session is a job (its id is the session's id) started through exec
 * like any run (workspace, interpreter, dependencies, environment, the
 * run policy), but outside the job slots (a cap of its own) and with a
 * pipe as its stdin (runner_io).  Each run in it is a job of its own,
 * which the session drives: pending while another run of the session is
 * under way, running while the driver runs its code, ended by the
 * driver's frames (session_frames.h).  Cancel and timeout interrupt the
 * code (KeyboardInterrupt); code that does not stop within a grace gets
 * the whole session killed.  A session's sandbox ends when it is closed,
 * idle too long, killed, or the server stops; its job then says why, so
 * a restarted server lists it closed ("Server restarted"). */
#ifndef PYMCP_SESSIONS_H
#define PYMCP_SESSIONS_H

#include <jansson.h>
#include <stdbool.h>

#include "exec.h"

struct sessions;

#define SESSIONS_TOOL		 "py_session_start" /* the tool of a session's job */
#define SESSIONS_RUN_TOOL	 "py_session_run"   /* the tool of a run's job */
#define SESSIONS_RUNS_QUEUED_MAX 16		    /* runs waiting in one session */
#define SESSIONS_CODE_MAX	 (1024 * 1024)	    /* bytes of code in one run */
#define SESSIONS_VALUE_MAX                                                                         \
	(256 * 1024) /* bytes of a run's value (the driver cuts at 64 Ki characters) */

struct sessions_config {
	size_t max_sessions;	    /* live sessions of all tenants (0: none may start) */
	size_t tenant_max_sessions; /* of one tenant, over HTTP with tenants (0: no cap) */
	double grace_seconds;	    /* after an interrupt, before the session is killed */
};

/* exec is borrowed: it outlives the table. */
struct sessions *sessions_new(const struct exec_env *exec, const struct sessions_config *cfg);
/* The server stops: the runner kills the sandboxes; nothing is told. */
void sessions_free(struct sessions *t);

/* The session is ready (job: its sandbox job, info: what it resolved) or
 * could not start (error).  Called once, unless the caller forgot it. */
typedef void (*sessions_started_fn)(void *data, struct job *job, json_t *info, const char *error);
struct sessions_start;

/* Starts a session from req (its script fields are the driver's; the
 * caller gives workspace, interpreter, dependencies, environment, label
 * and tenant).  *out lets the caller stop waiting (sessions_forget). */
int sessions_start(struct sessions *t, const struct exec_request *req, double idle_timeout,
		   sessions_started_fn fn, void *data, struct sessions_start **out,
		   struct pm_error *err);
void sessions_forget(struct sessions_start *s);

/* Queues code as a run of session `id` (tenant's): the run's job, pending
 * or running, in *out.  Errors: no such session, one that is closed (and
 * why), a full queue, code too long. */
int sessions_run(struct sessions *t, const char *tenant, const char *id, const char *code,
		 double timeout_seconds, const char *label, struct job **out, struct pm_error *err);

/* Whether j is a run of a session (which the runner does not hold). */
bool sessions_owns_run(const struct sessions *t, const struct job *j);
/* Cancels run j: a pending one ends at once; a running one is
 * interrupted, and its session killed when it does not stop within the
 * grace.  done(j, arg) once it has ended. */
int sessions_cancel_run(struct sessions *t, struct job *j, void (*done)(struct job *j, void *arg),
			void *arg, struct pm_error *err);

/* Closes session `id`: every process of it gone, then done(job, arg). */
int sessions_close(struct sessions *t, const char *tenant, const char *id,
		   void (*done)(struct job *j, void *arg), void *arg, struct pm_error *err);

/* The tenant's sessions, newest first, live and closed (at most max):
 * [{session_id, label, status, reason, created_at, runs, ...}]. */
json_t *sessions_list(struct sessions *t, const char *tenant, size_t max);

#endif
