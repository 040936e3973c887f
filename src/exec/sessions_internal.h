/* What the two halves of sessions share: the table, a session and its
 * runs.  sessions.c keeps the table, a session's sandbox and its end;
 * session_runs.c its runs and the driver's streams that end them. */
#ifndef PYMCP_SESSIONS_INTERNAL_H
#define PYMCP_SESSIONS_INTERNAL_H

#include <sys/queue.h>
#include <time.h>

#include "artifacts.h"
#include "session_frames.h"
#include "sessions.h"

struct session_run {
	TAILQ_ENTRY(session_run) link;
	struct job *job;
	char *code;
	double timeout_seconds; /* 0: none */
	long long seq;
	uint64_t t0; /* uv_hrtime() when it started */
	struct timespec started;
	bool got_out, got_err; /* the driver's two end frames */
	json_t *end;	       /* the stdout frame */
	bool cancelled, timed_out, interrupted;
	void (*cancel_done)(struct job *j, void *arg);
	void *cancel_arg;
};

enum session_timer { TIMER_NONE, TIMER_IDLE, TIMER_RUN, TIMER_GRACE };

struct session {
	LIST_ENTRY(session) link;
	struct sessions *t;
	struct job *job; /* the sandbox's; its id is the session's */
	struct jobs_watch *watch;
	struct runner_io io;
	char marker[SESSION_MARKER_MAX];
	struct frame_scan scan[2];
	bool ready;
	double idle_timeout;
	uv_timer_t timer;
	enum session_timer timer_kind;
	TAILQ_HEAD(, session_run) runs; /* the first is under way when `busy` */
	bool busy;
	long long next_seq, runs_done;
	int ws_fd;		       /* the workspace, for the runs' files; -1: scratch */
	struct artifact_memory listed; /* what the last run's files were */
	json_t *resolved;	       /* exec's: interpreter, dependencies, directory */
	struct sessions_start *starter;
	char *kill_reason; /* why the server ends it (close, idle, grace) */
	char *exit_reason; /* how its sandbox ended by itself (a limit, an exit) */
	void (*close_done)(struct job *j, void *arg);
	void *close_arg;
	bool output_error_logged;
};

struct sessions_start {
	struct session *s;
	sessions_started_fn fn;
	void *data;
};

struct sessions {
	const struct exec_env *exec;
	struct sessions_config cfg;
	LIST_HEAD(, session) live;
	size_t n_live;
};

/* sessions.c: the sandbox and its timer. */
void session_set_timer(struct session *s, enum session_timer kind, double seconds);
/* Ends the session's sandbox, every process with it; the rest happens
 * when its job ends. */
void session_kill(struct session *s, const char *why);
/* One request line to the driver (msg_new is consumed). */
int session_send_line(struct session *s, json_t *msg_new, struct pm_error *err);

/* session_runs.c: the runs. */
/* The run under way, or NULL. */
struct session_run *session_current(const struct session *s);
/* Starts the first queued run when the session is ready and idle, else
 * arms the idle timer. */
void session_start_next(struct session *s);
/* A run that cannot go on ends failed with `why` (cancelled when it was). */
void session_run_failed(struct session *s, struct session_run *run, const char *why);
/* KeyboardInterrupt for the run, then the grace timer. */
void session_interrupt(struct session *s, struct session_run *run);
void session_free_run(struct session_run *run);
/* The session's runner_io: the driver's output and progress. */
void session_on_output(void *data, enum job_stream stream, const char *buf, size_t len);
void session_on_progress(void *data, double done, double total, const char *message);

#endif
