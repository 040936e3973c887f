/* The files a run created or changed in its workspace ("artifacts"):
 * found by a bounded walk that never follows a link nor leaves the
 * workspace's mount, copied into the job's own folder (jobs_files_*), and
 * listed for the result as `files`: [{path, bytes, mime_type, uri}], the
 * uri `job-file://<job id>/<path>` (resources/read serves it).
 *
 * "Changed" is the kernel's word: a ctime at or after the run's start
 * (CLOCK_REALTIME_COARSE, the clock file times come from).  No process
 * can set a ctime back, so a run cannot hide a file it wrote, nor pass an
 * old file off as new except by changing it. */
#ifndef PYMCP_ARTIFACTS_H
#define PYMCP_ARTIFACTS_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "jobs.h"

struct artifact_limits {
	uint64_t max_bytes; /* bytes of files kept per run; 0: none are collected */
	size_t max_files;   /* entries listed per run */
};

/* Entries a walk visits at most, and how deep it goes: a workspace of a
 * million files costs the server no more than this. */
#define ARTIFACTS_SCAN_MAX	4096
#define ARTIFACTS_DEPTH_MAX	16
#define ARTIFACTS_FILES_DEFAULT 64

/* What one scan listed, so that the next one in the same workspace (a
 * session's next run) does not list them again while they are unchanged:
 * file times tick coarsely, so a file written at the end of one run can
 * carry the tick the next run starts in.  A file rewritten within that
 * same tick with the same size is missed (documented). */
struct artifact_stamp {
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
	off_t size;
};
struct artifact_memory {
	struct artifact_stamp *stamps; /* malloc'd */
	size_t n;
};
void artifact_memory_clear(struct artifact_memory *m);

/* The start time to hand to artifacts_collect(). */
struct timespec artifacts_clock(void);

/* Walks ws_fd for regular files changed since `since`, keeps copies of
 * as many as max_bytes and the state cap allow, and returns the `files`
 * array (a new reference; empty when nothing changed).  *note (malloc'd,
 * or NULL) says what is missing from the list and why.  mem (may be
 * NULL): files it holds unchanged are skipped, and it is replaced by
 * what this scan listed. */
json_t *artifacts_collect(struct jobs *jobs, struct job *j, int ws_fd, struct timespec since,
			  const struct artifact_limits *lim, struct artifact_memory *mem,
			  char **note);

/* The uri of entry `path` of job `id` (malloc'd): path percent-encoded
 * but for its slashes. */
char *artifacts_uri(const char *job_id, const char *path);

#endif
