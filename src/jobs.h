/* The job table: every execution is a job with an unguessable id.  Jobs
 * live in memory, newest first, with metadata persisted to
 * <state>/meta/jobs.json (written atomically: temp file, fsync, rename; and
 * coalesced, so many status changes cost one write) and output in
 * per-job files under <state>/jobs/<id>/, so memory stays bounded whatever
 * a script prints. */
#ifndef PYMCP_JOBS_H
#define PYMCP_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "error.h"

enum job_status { JOB_PENDING, JOB_RUNNING, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED };

enum job_stream { JOB_STDOUT, JOB_STDERR };

struct job {
	char id[37];            /* UUID v4 text, from getrandom() */
	char *label;
	char *tool;             /* tool that created it */
	enum job_status status;
	double created_at;      /* Unix seconds; 0 = not yet */
	double started_at;
	double completed_at;
	json_t *result;         /* owned; the tool's result object, or NULL */
	char *error;            /* owned, or NULL */
	json_t *progress;       /* owned {"current","total","message"}, or NULL */
	uint64_t produced[2];   /* bytes the script wrote, per stream */
	uint64_t kept[2];       /* bytes kept on disk (<= the disk cap) */
	uint64_t cursor[2];     /* incremental read position, per stream */

	/* Runtime only, never persisted. */
	void *run;              /* the runner's handle while pending/running */
	struct job *newer, *older;
};

struct jobs_limits {
	uint64_t disk_bytes_per_stream; /* output kept on disk; the rest is counted, not kept */
	double save_delay_seconds;      /* coalescing window for jobs.json */
};

struct jobs;

/* Opens the table under state_dir (creates meta/ and jobs/), loading
 * meta/jobs.json: jobs found pending or running are marked failed with
 * "Server restarted while job was running".  A corrupt file is moved aside
 * to jobs.json.corrupt-<time> and reported in err's message via the log,
 * never fatal. */
int jobs_open(uv_loop_t *loop, const char *state_dir, const struct jobs_limits *limits,
	      struct jobs **out, struct sb_error *err);

/* Flushes (synchronously) and frees everything. */
void jobs_close(struct jobs *t);

/* A new pending job, newest of all, with its output directory created. */
struct job *jobs_create(struct jobs *t, const char *tool, const char *label, struct sb_error *err);

struct job *jobs_get(struct jobs *t, const char *id);
struct job *jobs_newest(struct jobs *t);
size_t jobs_count(const struct jobs *t);

/* Sets the status (and started_at/completed_at as it implies), then
 * schedules a save.  result_new (stolen) and error may be NULL. */
void jobs_set_status(struct jobs *t, struct job *j, enum job_status status, json_t *result_new,
		     const char *error);

/* Any other change to a job's persisted fields: schedules a save. */
void jobs_touch(struct jobs *t, struct job *j);

/* Writes jobs.json now (shutdown, tests). */
int jobs_flush(struct jobs *t, struct sb_error *err);

/* Removes a job and its output files. */
void jobs_remove(struct jobs *t, struct job *j);

/* Appends output to the job's file for `stream`, up to the disk cap; bytes
 * past the cap are only counted in produced[]. */
int jobs_append_output(struct jobs *t, struct job *j, enum job_stream stream, const char *buf,
		       size_t len, struct sb_error *err);

/* Reads up to `max` bytes of kept output of `stream` from byte `from`.
 * *out_new is a NUL-terminated malloc'd string (invalid UTF-8 replaced so
 * it is valid JSON text); *more says whether kept output goes on past what
 * was returned. */
int jobs_read_output(struct jobs *t, const struct job *j, enum job_stream stream, uint64_t from,
		     size_t max, char **out_new, size_t *len, bool *more, struct sb_error *err);

/* The job object of TOOLS.md ("id", "label", "status", "created_at",
 * "started_at", "completed_at", "result", "error", "progress"), without
 * output; ISO 8601 times, null when unset. */
json_t *job_to_json(const struct job *j);

const char *job_status_name(enum job_status s);
int job_status_parse(const char *name, enum job_status *out);
bool job_status_is_final(enum job_status s);

#endif
