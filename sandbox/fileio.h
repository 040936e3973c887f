/* Writing whole buffers, once, for every file and pipe the launcher
 * writes: a short write is an error (EIO when the kernel gave no errno),
 * never a silent success. */
#ifndef SB_FILEIO_H
#define SB_FILEIO_H

#include <stddef.h>

/* Writes all of buf, retrying on EINTR; 0 or a negative errno. */
int sb_write_all(int fd, const void *buf, size_t len);

/* Opens path (O_WRONLY, no O_CREAT) and writes text; 0 or a negative
 * errno.  For /proc and cgroup files, where one write is one setting. */
int sb_write_file(const char *path, const char *text);

#endif
