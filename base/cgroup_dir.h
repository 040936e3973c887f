/* Where a process's cgroup lives, and the leaf cgroup the server moves
 * into so that its own cgroup can hand controllers to the runs' cgroups
 * (cgroup v2's "no internal processes" rule). */
#ifndef PM_CGROUP_DIR_H
#define PM_CGROUP_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The leaf the server moves into: the launcher creates the runs'
 * cgroups beside it, in its parent (never inside it: it holds the
 * server, so it cannot delegate). */
#define PM_CGROUP_LEAF "python-mcp.server"

/* Where this process's cgroup lives, for v2 (controller NULL) or for the
 * v1 hierarchy of `controller`: the mount point of that hierarchy joined
 * with our path in it (from /proc/self/mountinfo and /proc/self/cgroup),
 * and the length of the mount point's part in *mount_len (may be NULL). */
int pm_cgroup_own_dir(const char *controller, char *out, size_t size, size_t *mount_len);

/* A small cgroup (or /proc) file dir/file into buf, NUL-terminated:
 * 0 or a negative errno. */
int pm_cgroup_read(const char *dir, const char *file, char *buf, size_t size);

/* N of a "key N" line of dir/file (memory.events, pids.events,
 * memory.oom_control, /proc's vmstat), or -1 when there is none. */
int64_t pm_cgroup_read_key(const char *dir, const char *file, const char *key);

/* Whether `word` is one of the words of `list` (a controllers file). */
bool pm_cgroup_list_has(const char *list, const char *word);

/* On cgroup v2, where our cgroup offers controllers it does not yet hand
 * to children, is handed to us (a container's cgroup namespace root, or
 * systemd's Delegate=yes) and holds no process but us: moves us into
 * PM_CGROUP_LEAF below it and enables every controller it offers for its
 * children (the launcher creates the runs' cgroups beside the leaf).
 * Returns 1 when it moved us, 0 when there was nothing to do or nothing
 * it may do (`note` says why, when there was something to hand down), a
 * negative errno when it tried and failed (`note` says what).  Nothing is
 * written unless it moves us. */
int pm_cgroup_enter_leaf(char *note, size_t size);

#endif
