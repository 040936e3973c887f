/* The launcher's side of the status channel: JSON lines on --status-fd
 * for whoever runs the launcher (the server, a test, an admin).  The
 * events and their members are the wire protocol's (base/wire.h,
 * docs/wire.md). */
#ifndef SB_STATUS_H
#define SB_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "json_text.h"

struct sb_result {
	int exit_code; /* exit status, or -1 when killed by a signal */
	int signal;    /* terminating signal, 0 when it exited */
	double cpu_user_seconds;
	double cpu_system_seconds;
	double wall_seconds;
	/* Peak memory of the run: the larger of the memory cgroup's peak
	 * (every process of the tree, private pages only: shared library
	 * pages already cached elsewhere are not charged) and the largest
	 * single process's peak RSS (shared pages included). */
	int64_t peak_rss_bytes;
	const char *peak_rss_source;	  /* "cgroup" or "rusage": which was larger */
	int64_t max_process_rss_bytes;	  /* getrusage(RUSAGE_CHILDREN) */
	int64_t cgroup_memory_peak_bytes; /* -1 without a memory cgroup */
	const char *limit;		  /* "time", "memory", "pids", "output", "cpu", "disk",
					     "cancel" or NULL */
	char limit_detail[256];		  /* what the limit was and its value, or "" */
	int64_t output_bytes;		  /* bytes relayed, when output is capped */
};

/* Writes one JSON object and a newline to fd; fd < 0 is a no-op.  Takes a
 * reference to obj ("_new" in jansson's sense). */
void sb_status_emit_new(int fd, json_t *obj);

void sb_status_error(int fd, const struct pm_error *err);

void sb_status_exit(int fd, const struct sb_result *res);

#endif
