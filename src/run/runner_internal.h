/* What runner.c (the queue, the pool, settling runs) and launcher.c (one
 * launcher process and its pipes) share; nothing outside src/run includes
 * this. */
#ifndef PYMCP_RUNNER_INTERNAL_H
#define PYMCP_RUNNER_INTERNAL_H

#include <sys/queue.h>

#include "line_framer.h"
#include "runner.h"

struct run;

/* One python-mcp-sandbox process, idle (prepared) or bound to a run. */
struct launcher {
	struct runner *r;
	uv_process_t proc;
	uv_pipe_t in, out, err, spec, status; /* in: the job's stdin, for an io run */
	int open_handles;
	struct line_framer status_lines;
	bool exited, out_eof, err_eof, status_eof;
	bool output_error_logged; /* one line per job, not one per read */
	int64_t exit_status;
	int term_signal;
	json_t *exit_event; /* owned */
	char error[1536];   /* from an "error" event */
	struct run *run;    /* NULL while idle */
	char *policy;	    /* the policy file it was started with (owned) */
	bool idle;	    /* in runner->idle */
	LIST_ENTRY(launcher) idle_link;
	LIST_ENTRY(launcher) all_link; /* runner->all */
};

/* A job's stay in the runner, kept in job->run; or a task's (job NULL). */
struct run {
	struct runner *r;
	struct job *job; /* NULL for a task */
	struct runner_task_config task;
	struct runner_io io; /* io.output set: a session's sandbox (runner_io) */
	char *policy;	     /* owned; NULL: the run policy, from the pool */
	bool held;	     /* queued but not to be started yet */
	json_t *spec;
	int ws_fd;	/* the workspace sent with the spec, or -1 */
	bool scratch;	/* its spec asks for a scratch workspace */
	int scratch_fd; /* that workspace, once it runs (scratch_view.c), or -1 */
	runner_finish_fn finish;
	void (*cleanup)(struct job *j, void *data);
	void *data;
	struct launcher *l; /* while running */
	bool cancelled;
	/* uv_hrtime() at each step, for the debug log. */
	uint64_t t_queued, t_sent, t_started, t_exit_event;
	void (*cancel_done)(struct job *j, void *arg);
	void *cancel_arg;
	bool queued; /* in runner->queue */
	TAILQ_ENTRY(run) link;
};

struct runner_task {
	struct run run;
};

struct runner {
	uv_loop_t *loop;
	struct runner_config cfg; /* cfg.policy: NULL, see policy */
	char *policy;		  /* the run policy new launchers load (owned) */
	struct jobs *jobs;
	LIST_HEAD(, launcher) idle; /* prepared launchers, not bound */
	LIST_HEAD(, launcher) all;  /* every launcher not yet closed */
	unsigned n_idle, n_running, n_alive;
	unsigned n_queued_jobs;	 /* jobs (not installs) in the queue */
	TAILQ_HEAD(, run) queue; /* in submission order */
	bool shutting_down;
	uv_timer_t kill_timer; /* shutdown deadline for launchers that hang */
	bool kill_timer_started;
	void (*shutdown_done)(void *data);
	void *shutdown_data;
	char buf[65536]; /* read buffer shared by every pipe: reads are consumed at once */
};

/* ---- launcher.c: one python-mcp-sandbox process ---- */

/* Starts a launcher under `policy` (with a pipe as its stdin when input), linked in r->all at once
 * (it leaves when its last handle is closed); NULL with err when it cannot start. */
struct launcher *launcher_spawn(struct runner *r, const char *policy, bool input,
				struct pm_error *err);

/* Binds run to l and sends its spec (with the workspace descriptor); a
 * launcher that cannot be told is killed, and its run ends with it. */
void launcher_start(struct launcher *l, struct run *run);

/* Writes to the stdin of a launcher started with input (copied); a
 * negative errno when it cannot. */
int launcher_input(struct launcher *l, const char *buf, size_t len);

/* An idle launcher cleans up and exits when its spec descriptor closes. */
void launcher_close_spec(struct launcher *l);

/* Closes every handle; the launcher is freed once they are closed. */
void launcher_close(struct launcher *l);

/* ---- scratch_view.c ---- */

/* The scratch workspace of the sandbox whose init (a child of launcher)
 * and script (a child of init) the launcher reported, `workspace` its
 * path inside: a descriptor, or a negative errno. */
int runner_open_scratch(pid_t launcher, pid_t init, pid_t script, const char *workspace);

/* ---- runner.c, told by launcher.c ---- */

/* The launcher exited and every pipe reached its end: its run ends. */
void runner_launcher_done(struct launcher *l);

/* The launcher process exited (its pipes may still hold output). */
void runner_launcher_exited(struct launcher *l);

/* The launcher's last handle closed; it is freed after this returns. */
void runner_launcher_gone(struct launcher *l);

#endif
