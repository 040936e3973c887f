#include "workspace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"

/* Roots and protected paths may themselves be symlinks on some hosts
 * (/home -> /usr/home); compare against their canonical form when they
 * exist.  A workspace lies strictly below a root: the root itself holds
 * every other job's workspace. */
static bool below_canonical(const char *path, const char *dir)
{
	char resolved[PATH_MAX];
	const char *d = realpath(dir, resolved) != NULL ? resolved : dir;

	return sb_path_within(path, d) && strcmp(path, d) != 0;
}

static bool is_root(const char *path, const char *dir)
{
	char resolved[PATH_MAX];

	return strcmp(path, realpath(dir, resolved) != NULL ? resolved : dir) == 0;
}

static bool overlaps_canonical(const char *path, const char *dir)
{
	char resolved[PATH_MAX];
	const char *d = realpath(dir, resolved) != NULL ? resolved : dir;

	return sb_path_overlaps(path, d);
}

static int check_protected(const char *path, const char *prot, struct sb_error *err)
{
	if (!overlaps_canonical(path, prot))
		return 0;
	sb_error_set(err, "workspace", EACCES, "workspace `%s` overlaps protected path `%s`", path,
		     prot);
	return sb_error_hint(err, "choose a directory that neither contains nor lies inside `%s`",
			     prot);
}

int sb_workspace_check(const char *given, const struct sb_policy *policy,
		       char *const *extra_protected, size_t n_extra, struct sb_workspace *out,
		       struct sb_error *err)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	bool allowed = false;
	int r;

	memset(out, 0, sizeof(*out));
	path = realpath(given, NULL);
	if (path == NULL) {
		sb_error_errno(err, "workspace", "workspace `%s`", given);
		if (errno == ENOENT)
			sb_error_hint(err, "create the directory first");
		return sb_error_code(err);
	}
	if (stat(path, &st) < 0)
		return sb_error_errno(err, "workspace", "stat `%s`", path);
	if (!S_ISDIR(st.st_mode))
		return sb_error_set(err, "workspace", ENOTDIR, "workspace `%s`", path);

	for (size_t i = 0; i < policy->n_workspace_roots && !allowed; i++) {
		if (is_root(path, policy->workspace_roots[i])) {
			sb_error_set(err, "workspace", EACCES,
				     "workspace `%s` is a workspace root itself", path);
			return sb_error_hint(err, "use a directory below it: the root holds every "
						  "other job's workspace too");
		}
		allowed = below_canonical(path, policy->workspace_roots[i]);
	}
	if (!allowed) {
		char roots[512] = "";
		for (size_t i = 0; i < policy->n_workspace_roots; i++) {
			size_t len = strlen(roots);
			snprintf(roots + len, sizeof(roots) - len, "%s`%s`", i ? ", " : "",
				 policy->workspace_roots[i]);
		}
		sb_error_set(err, "workspace", EACCES,
			     "workspace `%s` is outside the workspace roots of policy `%s`", path,
			     policy->file);
		return sb_error_hint(err, "use a directory under %s, or add a root to \"workspace\".\"roots\"",
				     roots);
	}
	for (size_t i = 0; i < policy->n_protected_paths; i++)
		if ((r = check_protected(path, policy->protected_paths[i], err)) < 0)
			return r;
	for (size_t i = 0; i < n_extra; i++)
		if ((r = check_protected(path, extra_protected[i], err)) < 0)
			return r;

	out->path = TAKE_PTR(path);
	return 0;
}

void sb_workspace_free(struct sb_workspace *ws)
{
	free(ws->path);
	ws->path = NULL;
}

int sb_workspace_open(const char *canonical, struct sb_error *err)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, canonical, &how, sizeof(how));

	if (fd >= 0)
		return fd;
	sb_error_errno(err, "workspace", "open workspace `%s` without following symlinks",
		       canonical);
	if (errno == ELOOP)
		sb_error_hint(err, "a component of the path was replaced by a symlink after it was "
				   "checked; pass the real directory");
	return sb_error_code(err);
}
