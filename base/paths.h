/* Path containment on canonical paths, shared by the launcher and the
 * server (both refuse workspaces outside their roots). */
#ifndef PM_PATHS_H
#define PM_PATHS_H

#include <stdbool.h>

/* True when `path` equals `dir` or lies below it (both canonical). */
bool pm_path_within(const char *path, const char *dir);

/* True when either path lies within the other. */
bool pm_path_overlaps(const char *a, const char *b);

/* True when `path` is absolute, not "/", and has no empty, `.` or `..`
 * component: a path that means the same before and after resolution
 * against any root (a mount target inside the sandbox). */
bool pm_path_is_clean_absolute(const char *path);

/* An absolute path without empty and `.` components (malloc'd; NULL when
 * out of memory).  `..` stays: whether it leaves a directory is for the
 * kernel to judge when the path is opened beneath it. */
char *pm_path_lexical(const char *path);

#endif
