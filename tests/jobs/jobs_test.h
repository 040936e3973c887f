/* Helpers of the job table tests: checks that count failures, a scratch
 * state directory, and opening/closing a table on a loop. */
#ifndef JOBS_TEST_H
#define JOBS_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "jobs.h"

#include "check.h"

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static inline void remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh state directory under $TMPDIR (or /tmp); free() it. */
static inline char *make_state_dir(void)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *path;

	if (asprintf(&path, "%s/pymcp-jobs-XXXXXX", base) < 0 || mkdtemp(path) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return path;
}

static inline struct jobs *open_table(uv_loop_t *loop, const char *dir, uint64_t disk_cap,
				      double delay, int *rc, struct pm_error *err)
{
	struct jobs_limits limits = {.disk_bytes_per_stream = disk_cap,
				     .save_delay_seconds = delay};
	struct jobs *t = NULL;
	struct pm_error local;

	*rc = jobs_open(loop, dir, &limits, &t, err ? err : &local);
	if (*rc < 0)
		return NULL;
	return t;
}

/* jobs_close() and the loop turn that frees the table (its timer). */
static inline void close_table(uv_loop_t *loop, struct jobs *t)
{
	jobs_close(t);
	uv_run(loop, UV_RUN_DEFAULT);
}

#endif
