/* Where a workspace may be, decided by the kernel, shared by the server
 * and the launcher.
 *
 * A fence holds roots (directories under which a client may name a
 * workspace) and guarded paths (what no workspace may contain or lie in:
 * the launcher, the server, the policies, the state directory, keys).
 * Both are recorded as inodes with the chain of their parents.  A client's
 * path is opened once, beneath the root it names, with openat2()
 * (RESOLVE_BENEATH: no `..` or symlink may leave the root, no magic
 * links); everything after that works on the open descriptor, so a
 * component swapped for a symlink between check and use changes nothing
 * (THREATS.md S6, runc CVE-2021-30465).  The checks compare inodes,
 * walking `..` from the descriptor, so a bind mount or a second name of a
 * guarded directory is caught as well; guarded paths that do not exist
 * yet are compared by path. */
#ifndef PM_FENCE_H
#define PM_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct pm_ino {
	dev_t dev;
	ino_t ino;
};

struct pm_mark {
	char *path;	      /* as configured */
	char *real;	      /* canonical, or NULL when it does not exist */
	int fd;		      /* O_PATH descriptor of a root, else -1 */
	struct pm_ino *chain; /* the mark itself, then each parent up to / */
	size_t chain_len;     /* 0 when it does not exist */
};

struct pm_fence {
	struct pm_mark *roots;
	size_t n_roots;
	struct pm_mark *guarded;
	size_t n_guarded;
	/* Names for messages: "workspace root", "protected path". */
	const char *roots_flag; /* how an admin adds a root ("--workspace-root") */
};

/* A root must be an existing directory (symlinks in its path are
 * resolved: it is configuration, not client input). */
int pm_fence_add_root(struct pm_fence *f, const char *path, struct pm_error *err);

/* A guarded path may be a file or a directory, and may not exist yet. */
int pm_fence_add_guarded(struct pm_fence *f, const char *path, struct pm_error *err);

void pm_fence_free(struct pm_fence *f);

/* Opens `given` (absolute) as an O_PATH directory beneath the root its
 * path names and checks it with pm_fence_check_dir().  *fd and *real
 * (canonical path, malloc'd) are set on success.  `what` names the
 * argument in messages ("directory", "workspace"). */
int pm_fence_open_dir(const struct pm_fence *f, const char *given, bool root_itself_ok,
		      const char *what, int *fd, char **real, struct pm_error *err);

/* The directory open at fd lies beneath a root (or is one, when
 * root_itself_ok), and neither contains nor lies inside a guarded path.
 * *real (may be NULL) is its canonical path. */
int pm_fence_check_dir(const struct pm_fence *f, int fd, bool root_itself_ok, const char *what,
		       char **real, struct pm_error *err);

/* The canonical path of what fd refers to, from /proc/self/fd (malloc'd,
 * or NULL with err filled). */
char *pm_fd_path(int fd, struct pm_error *err);

/* openat2(2) with `how` = {flags, resolve} (mode 0): -1 with errno set
 * on failure, as open(2). */
int pm_openat2(int dirfd, const char *path, int flags, uint64_t resolve);

/* Opens `rel` beneath the directory dirfd (RESOLVE_BENEATH, no magic
 * links) for reading, without blocking on a FIFO or a device, and
 * requires a regular file of at most max bytes; *out (malloc'd,
 * NUL-terminated) and *len are its bytes.  With out NULL it only checks
 * that `rel` is a regular file there.  `what` and `shown` name it in
 * messages. */
int pm_read_file_beneath(int dirfd, const char *rel, size_t max, const char *what,
			 const char *shown, char **out, size_t *len, struct pm_error *err);

/* True when a process with host ids uid/gid (and no supplementary
 * groups) could change `path`: write it, or replace it or any directory
 * on its way (a writable parent without the sticky bit's protection).
 * *culprit (may be NULL) receives the canonical path that allows it. */
int pm_path_writable_by(const char *path, uid_t uid, gid_t gid, bool *writable, char **culprit,
			struct pm_error *err);

#endif
