/* The server's move into a leaf cgroup (cgroup_dir.h), as nsjail and
 * container engines do: on cgroup v2 a cgroup that holds processes cannot
 * enable its domain controllers (memory, io) for its children, so a
 * container's cgroup (or a systemd service's with Delegate=yes) that
 * holds only the server gives the runs no memory limit until the server
 * steps down into a child of its own.
 *
 * Nothing is written before the decision to move: a cgroup the server
 * shares with others, or one that is not handed to it, stays as it was. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_dir.h"
#include "cleanup.h"
#include "fileio.h"

/* The controllers of a cgroup fit in a line far shorter than this. */
#define LIST_MAX 1024
/* Enabling right after the move can fail with EBUSY for a moment, while
 * the kernel still counts the moved process where it was. */
#define ENABLE_TRIES 20

/* The controllers `dir` offers and does not yet hand to its children,
 * space-separated, into wanted ("" when none or unreadable). */
static void wanted_controllers(const char *dir, char *wanted, size_t size)
{
	char offered[LIST_MAX], enabled[LIST_MAX], *sp;

	wanted[0] = '\0';
	if (pm_cgroup_read(dir, "cgroup.controllers", offered, sizeof(offered)) < 0 ||
	    pm_cgroup_read(dir, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0)
		return;
	for (char *c = strtok_r(offered, " \n", &sp); c; c = strtok_r(NULL, " \n", &sp)) {
		size_t len = strlen(wanted);
		if (!pm_cgroup_list_has(enabled, c))
			snprintf(wanted + len, size - len, "%s%s", len ? " " : "", c);
	}
}

/* Whether `dir` is handed to us: the root of our cgroup namespace (a
 * container's cgroup, as the engine mounts it) or marked delegated by
 * systemd (Delegate=yes sets trusted.delegate; a user manager's units,
 * user.delegate).  A cgroup the service manager keeps for itself is
 * left alone: it may rewrite its controllers under the runs. */
static bool delegated(const char *dir, size_t mount_len)
{
	char value[8];

	if (strlen(dir) == mount_len)
		return true;
	return getxattr(dir, "trusted.delegate", value, sizeof(value)) > 0 ||
	       getxattr(dir, "user.delegate", value, sizeof(value)) > 0;
}

/* True when cgroup.procs of `dir` lists our pid and no other. */
static bool alone_in(const char *dir)
{
	char procs[64], mine[24];

	snprintf(mine, sizeof(mine), "%d\n", (int)getpid());
	return pm_cgroup_read(dir, "cgroup.procs", procs, sizeof(procs)) == 0 &&
	       strcmp(procs, mine) == 0;
}

/* Writes "+c" for each of `wanted` into dir's subtree_control; those that
 * fail, each with its errno, go into failed.  Returns the first error. */
static int enable(const char *dir, const char *wanted, char *failed, size_t size)
{
	char path[PATH_MAX + 64], list[LIST_MAX], *sp;
	int first = 0;

	failed[0] = '\0';
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	snprintf(list, sizeof(list), "%s", wanted);
	for (char *c = strtok_r(list, " ", &sp); c; c = strtok_r(NULL, " ", &sp)) {
		char plus[64];
		int r = 0;
		snprintf(plus, sizeof(plus), "+%.60s", c);
		for (int i = 0; i < ENABLE_TRIES; i++) {
			if ((r = pm_write_file(path, plus)) != -EBUSY)
				break;
			nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
		}
		if (r < 0) {
			size_t len = strlen(failed);
			snprintf(failed + len, size - len, "%s%s (%s)", len ? ", " : "", c,
				 strerror(-r));
			first = first ? first : r;
		}
	}
	return first;
}

int pm_cgroup_enter_leaf(char *note, size_t size)
{
	char dir[PATH_MAX], leaf[PATH_MAX + 32], procs[PATH_MAX + 64], wanted[LIST_MAX];
	char type[32], failed[LIST_MAX * 2], pid[24];
	size_t mount_len;
	int r;

	note[0] = '\0';
	if (pm_cgroup_own_dir(NULL, dir, sizeof(dir), &mount_len) < 0)
		return 0; /* no cgroup v2 */
	const char *base = strrchr(dir, '/');
	if (base && strcmp(base + 1, PM_CGROUP_LEAF) == 0)
		return 0; /* moved already (an earlier server of this cgroup) */
	wanted_controllers(dir, wanted, sizeof(wanted));
	/* Nothing to hand down, or the machine's root cgroup (it has no
	 * cgroup.type: it may hold processes and delegate at once). */
	if (wanted[0] == '\0' || pm_cgroup_read(dir, "cgroup.type", type, sizeof(type)) < 0)
		return 0;
	if (!delegated(dir, mount_len)) {
		snprintf(note, size,
			 "cgroup `%s` is not delegated to the server (not a container's, no "
			 "Delegate=yes), so it stays there and the runs' cgroups get only what "
			 "the launcher can enable in place; for per-run memory limits start the "
			 "server in a cgroup of its own (systemd: Delegate=yes, or systemd-run "
			 "--scope -p Delegate=yes)",
			 dir);
		return 0;
	}
	if (!alone_in(dir)) {
		snprintf(note, size,
			 "cgroup `%s` holds other processes besides the server, so it cannot hand "
			 "%s to the runs' cgroups; the server stays where it is (start it as the "
			 "only process of its cgroup, e.g. without --init in a container)",
			 dir, wanted);
		return 0;
	}
	snprintf(leaf, sizeof(leaf), "%s/" PM_CGROUP_LEAF, dir);
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(note, size,
			 "cannot create the leaf cgroup `%s` (%s), so the runs get no cgroup %s "
			 "limits%s",
			 leaf, strerror(e), wanted,
			 e == EROFS ? "; a container needs a writable cgroup filesystem "
				      "(podman: --security-opt unmask=/sys/fs/cgroup)"
			 : e == EACCES || e == EPERM
			     ? "; the server's user must be able to write there (run it as root, "
			       "or hand the cgroup to its uid)"
			     : "");
		/* A read-only cgroupfs is what containers get by default. */
		return e == EROFS ? 0 : -e;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", leaf);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if ((r = pm_write_file(procs, pid)) < 0) {
		rmdir(leaf);
		snprintf(note, size,
			 "cannot move into the leaf cgroup `%s` (%s), so the runs get no cgroup %s "
			 "limits; the server's user must be able to write `%s/cgroup.procs`",
			 leaf, strerror(-r), wanted, dir);
		return r == -EACCES || r == -EPERM || r == -EROFS ? 0 : r;
	}
	if ((r = enable(dir, wanted, failed, sizeof(failed))) < 0) {
		snprintf(note, size,
			 "moved into `%s`, but `%s` cannot hand %s to the runs' cgroups%s", leaf,
			 dir, failed,
			 r == -EBUSY ? ": another process joined it; run the server as the only "
				       "process of its cgroup"
				     : "");
		return r;
	}
	snprintf(note, size,
		 "moved into the leaf cgroup `%s` so that `%s` hands %s to the runs' cgroups", leaf,
		 dir, wanted);
	return 1;
}
