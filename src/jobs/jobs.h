/* The job table: every execution is a job with an unguessable id.  Jobs
 * live in memory, newest first, with metadata persisted to
 * <state>/meta/jobs.json (written atomically: temp file, fsync, rename; and
 * coalesced, so many status changes cost one write) and output in
 * per-job files under <state>/jobs/<id>/, so memory stays bounded whatever
 * a script prints.  A result's stdout and stderr are never stored: they
 * are read from those files when the result is asked for, so neither
 * jobs.json nor memory grows with what jobs print.  All output together
 * stays under a cap: the oldest finished jobs' output goes first, and a
 * running job that would pass it is cut, with a note where its output
 * is read. */
#ifndef PYMCP_JOBS_H
#define PYMCP_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <uv.h>

#include "error.h"

enum job_status { JOB_PENDING, JOB_RUNNING, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED };

enum job_stream { JOB_STDOUT, JOB_STDERR };

struct job {
	char id[37]; /* UUID v4 text, from getrandom() */
	char *label;
	char *tool; /* tool that created it */
	/* Whose job it is (over HTTP with authorization, the caller's
	 * tenant); NULL: the server's one tenant (stdio, no authorization).
	 * Nobody sees another tenant's job. */
	char *tenant;
	enum job_status status;
	double created_at; /* Unix seconds; 0 = not yet */
	double started_at;
	double completed_at;
	char *result;	      /* the tool's result object as compact JSON
				 text, without stdout/stderr; or NULL */
	bool result_output;   /* the result shows stdout and stderr (read
				 from the output files when asked) */
	bool evicted;	      /* its output was removed for the state cap */
	bool cut[2];	      /* the state cap stopped keeping this stream */
	char *error;	      /* owned, or NULL */
	json_t *progress;     /* owned {"current","total","message"}, or NULL */
	uint64_t produced[2]; /* bytes the script wrote, per stream */
	uint64_t kept[2];     /* bytes kept on disk (<= the disk cap) */
	uint64_t kept_files;  /* bytes of the run's files kept (job_files.c) */
	uint64_t cursor[2];   /* incremental read position, per stream */
	/* As a task (MCP tasks, task id = job id): how long it is kept and
	 * how often clients should poll, in ms; 0 when it is no task. */
	int64_t task_ttl_ms, task_poll_ms;

	/* Runtime only, never persisted. */
	void *run;			 /* the runner's handle while pending/running */
	LIST_HEAD(, jobs_watch) watches; /* job_events.c: watches of this job */
	TAILQ_ENTRY(job) age;		 /* the table's list, newest first */
	struct job *hash_next;		 /* chain of the id index */
	int fd[2];			 /* output files open for appending, or -1 */
	/* The newest JOB_TAIL_BYTES the script wrote, per stream, while it
	 * runs (live progress messages read them, not the files). */
	char *tail[2];
	size_t tail_len[2];
	char *saved; /* this job's line of jobs.json, until it changes */
	size_t saved_len;
};

struct jobs_limits {
	uint64_t disk_bytes_per_stream; /* output kept on disk; the rest is counted, not kept */
	uint64_t state_bytes;		/* output of all jobs kept on disk (0 = no cap) */
	size_t inline_bytes;		/* per stream, in a result's stdout/stderr */
	size_t max_kept_per_tenant;	/* the same for each tenant's own jobs (0: none) */
	size_t max_kept;		/* jobs kept; past it the oldest finished
					   ones are forgotten (0 = no cap) */
	double save_delay_seconds;	/* coalescing window for jobs.json */
};

struct jobs;

/* jobs_open() succeeded but had to recover: err says what (for the log). */
#define JOBS_OPEN_RECOVERED 1

/* Opens the table under state_dir (creates it, meta/ and jobs/), loading
 * meta/jobs.json: jobs found pending or running are marked failed with
 * "Server restarted while job was running".  A corrupt file (or one with
 * invalid entries, which are skipped) is moved aside to
 * jobs.json.corrupt-<unix time>; that is never fatal: jobs_open() then
 * returns JOBS_OPEN_RECOVERED with err describing it, for the caller to
 * log.  A negative errno means the state directory itself is unusable. */
int jobs_open(uv_loop_t *loop, const char *state_dir, const struct jobs_limits *limits,
	      struct jobs **out, struct pm_error *err);

/* Runs the at-close hooks, flushes (synchronously) and frees every job.
 * The table's own memory goes in the close callback of its save timer
 * (libuv's rule), so the loop must run once more before uv_loop_close(). */
void jobs_close(struct jobs *t);

/* Failures of background saves (the table retries them with a backoff)
 * are reported here; the library itself never logs. */
void jobs_set_error_handler(struct jobs *t, void (*fn)(const struct pm_error *err, void *data),
			    void *data);

/* fn(data) runs at the start of jobs_close(), newest registration first:
 * for state whose lifetime is the table's (the job tools' context). */
int jobs_at_close(struct jobs *t, void (*fn)(void *data), void *data);

const char *jobs_state_dir(const struct jobs *t);

/* Wall-clock Unix seconds, the clock of created_at and friends. */
double jobs_now(void);

/* A new pending job of `tenant` (NULL: the one tenant), newest of all,
 * with its output directory created. */
struct job *jobs_create(struct jobs *t, const char *tool, const char *label, const char *tenant,
			struct pm_error *err);

/* Whether `tenant` (NULL or "": the one tenant) may see j: its own jobs
 * only, whatever the id. */
bool jobs_visible(const struct job *j, const char *tenant);

/* How many of `tenant`'s jobs the table holds, and how many of them are
 * pending or running. */
void jobs_count_tenant(const struct jobs *t, const char *tenant, size_t *stored, size_t *live);

struct job *jobs_get(struct jobs *t, const char *id);
struct job *jobs_newest(struct jobs *t);
/* The job created before j, or NULL. */
struct job *jobs_older(const struct job *j);
size_t jobs_count(const struct jobs *t);

/* Sets the status (and started_at/completed_at as it implies), then
 * schedules a save.  result_new (stolen) and error may be NULL. */
void jobs_set_status(struct jobs *t, struct job *j, enum job_status status, json_t *result_new,
		     const char *error);

/* A job's end: its final status, its result (stolen, may be NULL) and
 * why it did not complete (NULL when it did).  The result is kept as
 * text; with_output means it shows the job's stdout and stderr (the
 * execution tools' results): they are not in result_new but read from
 * the output files whenever the result is asked for (jobs_result()). */
void jobs_end(struct jobs *t, struct job *j, enum job_status status, json_t *result_new,
	      bool with_output, const char *error);

/* The result as the tool returned it: stdout and stderr (when it shows
 * them) are the first inline_bytes of each stream, with a note of what is
 * left and where, "[TIMEOUT]" after a time limit, or a note saying the
 * output was removed.  NULL when the job has no result. */
json_t *jobs_result(struct jobs *t, const struct job *j);

/* Why bytes of a stream are missing from disk, as a note for readers
 * ("" when nothing is): the per-stream cap, the state cap, or removal. */
void jobs_loss_note(const struct jobs *t, const struct job *j, enum job_stream s, char *buf,
		    size_t size);

/* Bytes of output all jobs keep on disk (the state cap's measure). */
uint64_t jobs_stored_bytes(const struct jobs *t);

/* Any other change to a job's persisted fields (made directly in struct
 * job): schedules a save.  Required, not only for the save: the table
 * keeps each job's serialized form until it is told the job changed. */
void jobs_touch(struct jobs *t, struct job *j);

#define JOB_TAIL_BYTES 1024

/* The newest bytes (at most JOB_TAIL_BYTES) the job wrote on a stream, as
 * written (may start inside a UTF-8 sequence); kept while it runs and
 * until its end is told, empty afterwards. */
const char *jobs_tail(const struct job *j, enum job_stream stream, size_t *len);

/* Writes jobs.json now (shutdown, tests). */
int jobs_flush(struct jobs *t, struct pm_error *err);

/* Replaces the progress object {"current","total","message"} (total < 0
 * and message NULL: none) and schedules a save. */
void jobs_set_progress(struct jobs *t, struct job *j, double current, double total,
		       const char *message);

/* What changed of a job, for those who watch jobs live. */
enum job_event {
	JOB_EVENT_STATUS,   /* its status (result, error) changed */
	JOB_EVENT_OUTPUT,   /* bytes were added to stdout or stderr */
	JOB_EVENT_PROGRESS, /* its progress changed */
	JOB_EVENT_REMOVED,  /* it is about to be freed: forget the pointer */
};
struct jobs_watch;
typedef void (*jobs_watch_fn)(struct job *j, enum job_event ev, void *data);

/* fn(j, ev, data) after each change of job `only`, or of every job when
 * only is NULL, until jobs_unwatch (or, for one job, its removal, after
 * JOB_EVENT_REMOVED).  NULL without memory.  The callback may watch and
 * unwatch, but not remove jobs. */
struct jobs_watch *jobs_watch(struct jobs *t, struct job *only, jobs_watch_fn fn, void *data);
/* Ends a watch (NULL is nothing); never after the job's REMOVED event. */
void jobs_unwatch(struct jobs *t, struct jobs_watch *w);

/* Files a run left, kept with its job (job_files.c): <jobs>/<id>/files/<n>,
 * named by the server's own numbers.  jobs_files_create() makes the
 * folder and returns it open (a negative errno on failure);
 * jobs_files_reserve() counts bytes about to be written toward the state
 * cap (false: no room even after removing older jobs' files);
 * jobs_files_release() gives back what was reserved and not written;
 * jobs_files_open() opens file n for reading. */
int jobs_files_create(struct jobs *t, struct job *j, struct pm_error *err);
bool jobs_files_reserve(struct jobs *t, struct job *j, uint64_t bytes);
void jobs_files_release(struct jobs *t, struct job *j, uint64_t bytes);
int jobs_files_open(struct jobs *t, const struct job *j, size_t index, struct pm_error *err);

/* Removes a job and its output files.  Never call it for a job the runner
 * still holds (j->run != NULL). */
void jobs_remove(struct jobs *t, struct job *j);

/* Removes output folders of jobs the table does not hold (left by a crash
 * between removing a job and its folder); returns how many.  Only for the
 * one server that holds the state directory. */
size_t jobs_remove_orphan_output(struct jobs *t);

/* Removes every job that is final, older than max_age_seconds at `now`
 * (age counted from completed_at, or created_at when that is unset), and
 * not kept: completed ones are kept when keep_completed, failed ones when
 * keep_failed; cancelled ones are never kept; pending and running ones are
 * never removed; only `tenant`'s jobs are looked at.  Returns how many
 * were removed. */
size_t jobs_prune(struct jobs *t, const char *tenant, bool keep_completed, bool keep_failed,
		  double max_age_seconds, double now);

/* Appends output to the job's file for `stream`, up to the disk cap; bytes
 * past the cap are only counted in produced[].  It does not schedule a
 * save (a chatty script would rewrite jobs.json all the time): the counts
 * are saved with the next status change, and jobs_open() recounts the
 * files of jobs that were still running. */
int jobs_append_output(struct jobs *t, struct job *j, enum job_stream stream, const char *buf,
		       size_t len, struct pm_error *err);

/* One bounded read of kept output, as valid UTF-8. */
struct job_read {
	char *text;	   /* malloc'd, NUL-terminated; may hold NUL bytes, so use len */
	size_t len;	   /* bytes of text */
	uint64_t consumed; /* bytes of kept output it covers: advance a cursor by this */
	bool more;	   /* kept output goes on past from + consumed */
};

/* Reads up to `max` bytes of kept output of `stream` from byte `from`.
 * Ill-formed UTF-8 becomes U+FFFD.  A character cut by the end of the
 * window, or by the end of output a running job is still writing, is left
 * for the next read (consumed stops before it) rather than mangled. */
int jobs_read(struct jobs *t, const struct job *j, enum job_stream stream, uint64_t from,
	      size_t max, struct job_read *out, struct pm_error *err);
void job_read_release(struct job_read *r);

/* Where a window of a stream was shown, for the note of what it leaves
 * out: a job's result, the whole stream (py_job_status, the resource),
 * or what is new since the reader's cursor. */
enum jobs_view { JOBS_VIEW_RESULT, JOBS_VIEW_WHOLE, JOBS_VIEW_SINCE };

/* The note after a window read from `from` that did not reach the end
 * (rd->more), saying how many bytes are left and where to read them; ""
 * when the window showed the rest. */
void jobs_more_note(const struct jobs *t, const struct job *j, enum job_stream s, enum jobs_view v,
		    uint64_t from, const struct job_read *rd, char *buf, size_t size);

/* Reads up to `max` bytes of kept output of `stream` from byte `from`.
 * *out_new is a NUL-terminated malloc'd string (invalid UTF-8 replaced so
 * it is valid JSON text) of *len bytes (the text's length, which differs
 * from the bytes of output read when something was replaced: use
 * jobs_read() to advance a cursor); *more says whether kept output goes on
 * past what was returned. */
int jobs_read_output(struct jobs *t, const struct job *j, enum job_stream stream, uint64_t from,
		     size_t max, char **out_new, size_t *len, bool *more, struct pm_error *err);

/* <state>/jobs/<id>/stdout or stderr, into buf. */
void jobs_output_path(const struct jobs *t, const struct job *j, enum job_stream stream, char *buf,
		      size_t size);

/* The job object of TOOLS.md ("id", "label", "status", "created_at",
 * "started_at", "completed_at", "result", "error", "progress"), without
 * output; ISO 8601 times, null when unset. */
json_t *job_to_json(struct jobs *t, const struct job *j);

/* The form saved in jobs.json: the job object with its result as stored
 * (no stdout/stderr), plus "tool", "result_output", "evicted" and
 * "output": {"stdout": {"produced","kept","cursor","cut"}, "stderr": {...}}. */
json_t *job_to_record(const struct job *j);

/* ISO 8601 UTC without zone suffix ("2025-12-17T14:30:00"), or null for 0. */
json_t *job_time_json(double t);

const char *job_status_name(enum job_status s);
int job_status_parse(const char *name, enum job_status *out);
bool job_status_is_final(enum job_status s);

#endif
