#include "integrity.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fence.h"

char *sb_self_exe(struct pm_error *err)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *p;

	if (n <= 0) {
		pm_error_errno(err, "install", "find the launcher's own binary (/proc/self/exe)");
		return NULL;
	}
	buf[n] = '\0';
	/* Replaced or removed since it started (an upgrade): its path is
	 * still what the next run executes, and what stays protected. */
	if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
		buf[n - 10] = '\0';
	if ((p = strdup(buf)) == NULL)
		pm_error_set(err, "install", ENOMEM, "the launcher's own path");
	return p;
}

static int check_one(const struct sb_policy *p, const char *path, const char *what,
		     struct pm_error *err)
{
	_cleanup_free_ char *culprit = NULL;
	bool writable;
	int r = pm_path_writable_by(path, p->host_uid, p->host_gid, &writable, &culprit, err);

	if (r == -ENOENT)
		return 0; /* nothing there to replace (an optional path) */
	if (r < 0)
		return r;
	if (!writable)
		return 0;
	pm_error_set(err, "install", EPERM,
		     "%s `%s` can be changed by the scripts' host ids "
		     "%u:%u (policy `%s`, user.host_uid/host_gid): `%s` is writable for them",
		     what, path, (unsigned)p->host_uid, (unsigned)p->host_gid, p->file, culprit);
	return pm_error_hint(err, "make it and every directory above it owned by root and not "
				  "writable by others, or choose host ids that own nothing on the "
				  "host");
}

int sb_integrity_check(const struct sb_policy *p, char *const *extra, size_t n_extra,
		       struct pm_error *err)
{
	_cleanup_free_ char *self = NULL;
	int r;

	if (geteuid() != 0)
		return 0;
	if ((self = sb_self_exe(err)) == NULL)
		return pm_error_code(err);
	if ((r = check_one(p, self, "the sandbox launcher", err)) < 0 ||
	    (r = check_one(p, p->file, "the policy", err)) < 0)
		return r;
	/* A base it extends is as much the policy as the file itself. */
	for (size_t i = 1; i < p->n_sources; i++)
		if ((r = check_one(p, p->sources[i], "the base policy", err)) < 0)
			return r;
	for (size_t i = 0; i < n_extra; i++)
		if ((r = check_one(p, extra[i], "the protected path", err)) < 0)
			return r;
	return 0;
}
