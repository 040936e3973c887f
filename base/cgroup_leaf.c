/* The server's move into a leaf cgroup (cgroup_dir.h), as nsjail and
 * container engines do: on cgroup v2 a cgroup that holds processes cannot
 * enable controllers for its children, so a container's cgroup (or a
 * systemd service's with Delegate=yes) that holds only the server gives
 * the runs no memory, pids or CPU limits until the server steps down
 * into a child of its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_dir.h"
#include "cleanup.h"
#include "fileio.h"

/* The controllers of a cgroup fit in a line far shorter than this. */
#define LIST_MAX 1024

static int read_list(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((n = read(fd, buf, size - 1)) < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0'; /* one line */
	return 0;
}

static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

/* Writes "+c" for every controller `dir` offers and does not yet hand
 * to its children; *missing gets those left out (space-separated) and
 * the last error is returned (-EBUSY: we hold processes). */
static int enable_all(const char *dir, char *missing, size_t size)
{
	char offered[LIST_MAX], enabled[LIST_MAX], path[PATH_MAX + 64], *sp;
	int r = 0;

	missing[0] = '\0';
	if (read_list(dir, "cgroup.controllers", offered, sizeof(offered)) < 0 ||
	    read_list(dir, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0)
		return 0; /* no v2 cgroup to speak of */
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	for (char *c = strtok_r(offered, " ", &sp); c; c = strtok_r(NULL, " ", &sp)) {
		char plus[64];
		int w;
		if (has_word(enabled, c))
			continue;
		snprintf(plus, sizeof(plus), "+%.60s", c);
		if ((w = pm_write_file(path, plus)) < 0) {
			size_t len = strlen(missing);
			snprintf(missing + len, size - len, "%s%s", len ? " " : "", c);
			r = w;
		}
	}
	return r;
}

/* True when cgroup.procs of `dir` lists our pid and no other. */
static bool alone_in(const char *dir)
{
	char path[PATH_MAX + 64], procs[64], mine[24];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(mine, sizeof(mine), "%d\n", (int)getpid());
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (n = read(fd, procs, sizeof(procs) - 1)) < 0)
		return false;
	procs[n] = '\0';
	return strcmp(procs, mine) == 0;
}

int pm_cgroup_enter_leaf(char *note, size_t size)
{
	char dir[PATH_MAX], leaf[PATH_MAX + 32], procs[PATH_MAX + 64], missing[LIST_MAX];
	char pid[24];
	int r;

	note[0] = '\0';
	if (pm_cgroup_own_dir(NULL, dir, sizeof(dir), NULL) < 0)
		return 0; /* no cgroup v2 */
	const char *base = strrchr(dir, '/');
	if (base && strcmp(base + 1, PM_CGROUP_LEAF) == 0)
		return 0; /* moved already (an earlier server of this cgroup) */
	/* Already delegating (the root, or a cgroup of no processes of its
	 * own): nothing to move. */
	if ((r = enable_all(dir, missing, sizeof(missing))) != -EBUSY)
		return 0;
	if (!alone_in(dir)) {
		snprintf(note, size,
			 "cgroup `%s` holds other processes besides the server, so it cannot hand "
			 "%s to the runs' cgroups; the server stays where it is (start it as the "
			 "only process of its cgroup, e.g. without --init in a container)",
			 dir, missing);
		return 0;
	}
	snprintf(leaf, sizeof(leaf), "%s/" PM_CGROUP_LEAF, dir);
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(note, size,
			 "cannot create the leaf cgroup `%s` (%s), so the runs get no cgroup %s "
			 "limits%s",
			 leaf, strerror(e), missing,
			 e == EROFS ? "; a container needs a writable cgroup filesystem "
				      "(podman: --security-opt unmask=/sys/fs/cgroup)"
				    : "");
		/* A read-only cgroupfs is what containers get by default. */
		return e == EROFS ? 0 : -e;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", leaf);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if ((r = pm_write_file(procs, pid)) < 0) {
		rmdir(leaf);
		snprintf(note, size, "cannot move into the leaf cgroup `%s` (%s)", leaf,
			 strerror(-r));
		return r;
	}
	if ((r = enable_all(dir, missing, sizeof(missing))) < 0) {
		snprintf(
		    note, size,
		    "moved into `%s`, but `%s` still cannot hand %s to the runs' cgroups (%s): "
		    "another process may have joined it; run the server as the only process "
		    "of its cgroup",
		    leaf, dir, missing, strerror(-r));
		return r;
	}
	snprintf(note, size,
		 "moved into the leaf cgroup `%s` so that `%s` hands its controllers to the "
		 "runs' cgroups",
		 leaf, dir);
	return 1;
}
