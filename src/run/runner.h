/* Runs jobs through the sandbox launcher.
 *
 * The runner keeps a few launchers started with --spec-fd: each has built
 * its sandbox (namespaces, cgroups, root filesystem, seccomp program)
 * before any job exists, so a job only pays for its own exec.  A job takes
 * a prepared launcher, receives its spec, and from then on the runner
 * streams its stdout/stderr into the job's output files and reads the
 * launcher's status events.  At most max_running jobs run at once; the
 * others wait as pending, in order. */
#ifndef PYMCP_RUNNER_H
#define PYMCP_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "error.h"
#include "jobs.h"

struct runner_config {
	const char *launcher; /* path of python-mcp-sandbox */
	const char *policy;   /* the run policy (copied; runner_set_policy changes it) */
	char *const *protect; /* paths no workspace may overlap (the state dir, ...) */
	size_t n_protect;
	const char *cache_dir; /* compiled seccomp programs (--cache-dir), or NULL */
	unsigned max_running;  /* concurrent jobs */
	unsigned prepared;     /* launchers kept ready */
	unsigned max_pending;  /* jobs waiting for a slot; more are refused */
	/* A policy file that no launcher alive and no queued run names any
	 * more, and that is not the run policy (may be NULL): its owner may
	 * remove it.  Not called during shutdown. */
	void (*policy_unused)(const char *policy, void *data);
	void *policy_data;
};

/* How a run ended, from the launcher's status events. */
struct run_outcome {
	bool ran;		  /* the script started; false: setup failed */
	int exit_code;		  /* valid when ran and signal == 0 */
	int signal;		  /* terminating signal, 0 if none */
	const char *limit;	  /* "time", "memory", "pids", "cpu", "output", "disk", "cancel"
				     or NULL (wire.h) */
	const char *limit_detail; /* which limit and its value, or NULL */
	double wall_seconds;
	double cpu_user_seconds, cpu_system_seconds;
	long long peak_rss_bytes;
	bool cancelled;	    /* py_cancel_job or shutdown */
	char error[1536];   /* setup error ("stage: message. Hint: ...") when !ran */
	const char *policy; /* the policy file the launcher loaded, or NULL */
	json_t *exit_event; /* borrowed: the launcher's exit event, or NULL */
	int scratch_fd;	    /* borrowed: the run's scratch workspace, which
			       outlives its sandbox until the run is settled;
			       -1: none (a directory, or not opened) */
};

/* Shapes the result of a run that ran (a new reference, or NULL); the
 * runner alone decides the job's final status.  Called once per job, on
 * the loop. */
typedef json_t *(*runner_finish_fn)(struct job *j, const struct run_outcome *o, void *data);

struct runner;

int runner_new(uv_loop_t *loop, const struct runner_config *cfg, struct jobs *jobs,
	       struct runner **out, struct pm_error *err);

/* New runs use `policy` (copied): prepared launchers of the old one
 * are retired and new ones prepared.  Runs under way keep the policy
 * their launcher loaded. */
int runner_set_policy(struct runner *r, const char *policy, struct pm_error *err);

/* Whether a launcher alive or a run waiting in the queue names `policy`
 * (the run policy counts only once a launcher or a run uses it). */
bool runner_policy_in_use(const struct runner *r, const char *policy);

/* 0 when one more job may be queued, else -EAGAIN with err saying that
 * max_pending jobs already wait. */
int runner_admit(struct runner *r, struct pm_error *err);

/* A job that is a session's sandbox: it takes no job slot (sessions have
 * a cap of their own), its stdin is a pipe its owner writes with
 * runner_input(), and its stdout and stderr go to `output` instead of
 * the job's files.  Given at submission (NULL: an ordinary job). */
struct runner_io {
	void (*output)(void *data, enum job_stream s, const char *buf, size_t len);
	/* What the script reports on PYMCP_PROGRESS_FD (may be NULL: the
	 * job's own progress). */
	void (*progress)(void *data, double current, double total, const char *message);
	void *data;
};

/* Queues job j (pending) with its launcher spec (stolen): {"workspace",
 * "argv", "cwd", "env", "timeout", "files", "binds", ...}, and ws_fd
 * (taken over; -1 for none), the workspace directory the spec's
 * "workspace_fd" stands for, which goes to the launcher with the spec.
 * `finish` decides the job's final state when it ends, `cleanup` (may be
 * NULL) runs after it.  The config's protected paths are added to the
 * spec's "protect" unless the spec names its own.  When it cannot be
 * queued, the job ends failed with err's message. */
int runner_submit(struct runner *r, struct job *j, json_t *spec_new, int ws_fd,
		  const struct runner_io *io, runner_finish_fn finish,
		  void (*cleanup)(struct job *j, void *data), void *data, struct pm_error *err);

/* The same, but the job is held (pending, cancellable, never started)
 * until runner_release(): it waits for something else first, its
 * dependency environment, say.  runner_release() with an error ends it
 * failed with that message instead of starting it. */
int runner_submit_held(struct runner *r, struct job *j, json_t *spec_new, int ws_fd,
		       const struct runner_io *io, runner_finish_fn finish,
		       void (*cleanup)(struct job *j, void *data), void *data,
		       struct pm_error *err);
/* The scratch workspace of running job j (borrowed), or -1. */
int runner_scratch_fd(const struct runner *r, const struct job *j);
/* Writes len bytes (copied) to the stdin of job j, submitted with an io:
 * -EPIPE when it is not running (not yet, or no more). */
int runner_input(struct runner *r, struct job *j, const char *buf, size_t len,
		 struct pm_error *err);
void runner_release(struct runner *r, struct job *j, const char *error);

/* A run that belongs to no job (a dependency install): it runs under
 * its own policy in a fresh launcher, its output goes to `output`, and
 * `done` gets the outcome (with o->cancelled when runner_cancel_task()
 * or shutdown ended it).  Queued with the jobs, under the same cap. */
struct runner_task;
struct runner_task_config {
	const char *policy;
	void (*output)(void *data, enum job_stream s, const char *buf, size_t len);
	void (*done)(const struct run_outcome *o, void *data);
	void *data;
};
int runner_start_task(struct runner *r, json_t *spec_new, const struct runner_task_config *cfg,
		      struct runner_task **out, struct pm_error *err);
/* `done` still runs, once the task's processes are gone. */
void runner_cancel_task(struct runner *r, struct runner_task *t);

/* Cancels a pending or running job; `done(j, arg)` (may be NULL) runs
 * once every process of the job is gone and the job is marked cancelled.
 * A second cancel of the same job keeps the first done. */
int runner_cancel(struct runner *r, struct job *j, void (*done)(struct job *j, void *arg),
		  void *arg, struct pm_error *err);

/* Kills every job and prepared launcher; `done` runs when all launchers
 * have exited (their jobs are then marked failed). */
void runner_shutdown(struct runner *r, void (*done)(void *data), void *data);

void runner_free(struct runner *r);

/* For readiness and metrics: launchers alive and prepared, runs going,
 * jobs waiting in the queue. */
struct runner_counts {
	unsigned alive, idle, running, queued;
};
void runner_counts(const struct runner *r, struct runner_counts *out);

#endif
