/* The policy's workspace.max_bytes and max_inodes for a host directory.
 *
 * A scratch workspace is a tmpfs the kernel limits itself.  A client's
 * directory lies on a host filesystem, which offers no per-directory
 * limit without project quotas set up beforehand; so the launcher
 * measures it: once before the job starts (the baseline) and then from a
 * thread, more rarely the longer a measure takes.  When the job has added
 * more than the policy allows, the watcher's descriptor becomes readable
 * and the supervisor ends the run with limit "disk".  Between two
 * measures a job can write past the limit (RLIMIT_FSIZE still caps every
 * single file); README.md says so. */
#ifndef SB_DISK_WATCH_H
#define SB_DISK_WATCH_H

#include <stdint.h>

#include "error.h"

struct sb_disk_watch;

/* Measures the baseline of the directory ws_fd (not crossing into other
 * filesystems, never following links) and starts watching it; limits
 * are SB_UNSET when not set.  *out stays NULL when neither is set. */
int sb_disk_watch_start(int ws_fd, int64_t max_bytes, int64_t max_inodes,
			struct sb_disk_watch **out, struct pm_error *err);

/* Readable once a limit was passed (or the tree could not be measured). */
int sb_disk_watch_fd(const struct sb_disk_watch *w);

/* What was passed, for the run's error output. */
const char *sb_disk_watch_reason(const struct sb_disk_watch *w);

/* Stops the thread and frees everything; NULL is fine. */
void sb_disk_watch_stop(struct sb_disk_watch *w);

/* One measure of the tree at fd: bytes allocated (st_blocks) and entries,
 * directories deeper than `max_depth` refused (-ELOOP).  For tests. */
int sb_disk_usage(int fd, unsigned max_depth, uint64_t *bytes, uint64_t *inodes);

#endif
