/* A process's parent as /proc says it, for the two programs that look
 * for the sandbox's processes from outside (the launcher for the
 * script's pid, the server before it looks through one). */
#ifndef PM_PROC_PARENT_H
#define PM_PROC_PARENT_H

#include <sys/types.h>

/* The parent pid in the "stat" file at `stat_path` relative to dirfd
 * (a /proc/<pid> descriptor and "stat", or /proc's and "<pid>/stat"),
 * or -1 when it cannot be read. */
pid_t pm_proc_parent_at(int dirfd, const char *stat_path);

#endif
