#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

static int write_file(const char *path, const char *text, struct pm_error *err)
{
	int r = pm_write_file(path, text);

	if (r < 0)
		return pm_error_set(err, "userns", -r, "write `%s` to `%s`", text, path);
	return 0;
}

static int write_proc(pid_t pid, const char *name, const char *text, struct pm_error *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	return write_file(path, text, err);
}

int sb_userns_write_maps(pid_t child, const struct sb_idmap *map, bool privileged,
			 struct pm_error *err)
{
	char line[64];
	int r;

	snprintf(line, sizeof(line), "%u %u 1\n", map->inside_uid, map->host_uid);
	if ((r = write_proc(child, "uid_map", line, err)) < 0)
		goto fail;
	if (!privileged && (r = write_proc(child, "setgroups", "deny", err)) < 0)
		goto fail;
	snprintf(line, sizeof(line), "%u %u 1\n", map->inside_gid, map->host_gid);
	if ((r = write_proc(child, "gid_map", line, err)) < 0)
		goto fail;
	return 0;
fail:
	if (err->errnum == EPERM || err->errnum == EACCES)
		pm_error_hint(err, "the host refuses id maps for user namespaces; on Ubuntu set "
				   "kernel.apparmor_restrict_unprivileged_userns=0 or run the "
				   "launcher as root");
	else if (err->errnum == EINVAL && privileged)
		pm_error_hint(err,
			      "host id %u/%u is not mapped where the launcher runs (a user "
			      "namespace?); set \"user\".\"host_uid\"/\"host_gid\" to ids "
			      "mapped there",
			      map->host_uid, map->host_gid);
	return r;
}

int sb_userns_become(const struct sb_idmap *map, bool drop_groups, struct pm_error *err)
{
	cap_t caps;
	int r;

	if (drop_groups && setgroups(0, NULL) < 0)
		return pm_error_errno(err, "userns", "drop supplementary groups");
	if (setresgid(map->inside_gid, map->inside_gid, map->inside_gid) < 0)
		return pm_error_errno(err, "userns", "setresgid(%u)", map->inside_gid);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return pm_error_errno(err, "userns", "prctl(PR_SET_KEEPCAPS)");
	if (setresuid(map->inside_uid, map->inside_uid, map->inside_uid) < 0)
		return pm_error_errno(err, "userns", "setresuid(%u)", map->inside_uid);
	/* A uid change clears the effective set; the permitted set survives
	 * thanks to KEEPCAPS and is raised again for the remaining setup. */
	caps = cap_from_text("all=ep");
	if (caps == NULL)
		return pm_error_errno(err, "userns", "cap_from_text");
	r = cap_set_proc(caps);
	cap_free(caps);
	if (r < 0)
		return pm_error_errno(err, "userns", "raise capabilities inside the namespace");
	return 0;
}

int sb_userns_idmap_fd(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid,
		       struct pm_error *err)
{
	struct sb_idmap map = {from_uid, to_uid, from_gid, to_gid};
	char path[64];
	int pipefd[2], fd = -1, r = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return pm_error_errno(err, "userns", "pipe");
	/* A child holds the namespace alive while its maps are written and
	 * its fd is taken; it only waits for the pipe to close. */
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		(void)!read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	if (pid < 0) {
		close(pipefd[1]);
		return pm_error_errno(err, "userns",
				      "create a user namespace for the id-mapped mount");
	}
	r = sb_userns_write_maps(pid, &map, true, err);
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = pm_error_errno(err, "userns", "open `%s`", path);
	}
	close(pipefd[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r < 0 ? r : fd;
}

int sb_userns_block_nested(const char *proc, struct pm_error *err)
{
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/sys/user/max_user_namespaces", proc);
	r = write_file(path, "0", err);
	if (r < 0)
		pm_error_hint(err, "/proc/sys is read-only here (a container?); run it with "
				   "`--security-opt systempaths=unconfined`, or list "
				   "\"nested_userns_block\" in the policy's \"optional_layers\"");
	return r;
}
