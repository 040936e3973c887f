/* Files and directories, one way for both programs: whole buffers are
 * written once (a short write is an error, EIO when the kernel gave no
 * errno, never a silent success), and directories are made with the
 * error convention. */
#ifndef PM_FILEIO_H
#define PM_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Writes all of buf, retrying on EINTR; 0 or a negative errno. */
int pm_write_all(int fd, const void *buf, size_t len);

/* Opens path (O_WRONLY, no O_CREAT) and writes text; 0 or a negative
 * errno.  For /proc and cgroup files, where one write is one setting. */
int pm_write_file(const char *path, const char *text);

/* A whole regular file of at most max bytes (malloc'd, NUL-terminated;
 * *len its length): an admin's configuration, named by the admin.  A
 * larger file, a FIFO or a directory is an error naming it. */
int pm_read_file(const char *path, size_t max, char **out, size_t *len, struct pm_error *err);

/* mkdir(path, mode); one that exists already is fine.  `stage` names
 * the step in the error ("state", "jobs", ...). */
int pm_mkdir(const char *path, mode_t mode, const char *stage, struct pm_error *err);

/* mkdir -p: every missing directory of path, each with mode. */
int pm_mkdirs(const char *path, mode_t mode, const char *stage, struct pm_error *err);

#endif
