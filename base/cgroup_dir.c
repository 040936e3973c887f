#include "cgroup_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

/* Where the hierarchy of `controller` (NULL: v2) is mounted and the
 * mount's root, from /proc/self/mountinfo: 0 or -ENOENT. */
static int find_mount(const char *controller, char *mnt, char *root)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (f == NULL)
		return -errno;
	mnt[0] = '\0';
	while (getline(&line, &cap, f) > 0 && mnt[0] == '\0') {
		char r[PATH_MAX], m[PATH_MAX], type[64], opts[512];
		char *dash = strstr(line, " - ");
		if (dash == NULL || sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
		    sscanf(dash, " - %63s %*s %511s", type, opts) != 2)
			continue;
		if (controller == NULL
			? strcmp(type, "cgroup2") == 0
			: (strcmp(type, "cgroup") == 0 && strstr(opts, controller))) {
			/* v1 options are comma-separated; match a whole word. */
			if (controller != NULL) {
				bool found = false;
				for (char *sp, *t = strtok_r(opts, ",", &sp); t && !found;
				     t = strtok_r(NULL, ",", &sp))
					found = strcmp(t, controller) == 0;
				if (!found)
					continue;
			}
			snprintf(mnt, PATH_MAX, "%s", m);
			snprintf(root, PATH_MAX, "%s", r);
		}
	}
	fclose(f);
	return mnt[0] ? 0 : -ENOENT;
}

/* The mounts do not move for a process that keeps its mount and cgroup
 * namespaces, and the launcher asks for them several times a run (a host
 * may have thousands of mounts): each hierarchy is looked up once.  The
 * callers are single-threaded. */
struct mount_memo {
	char controller[16]; /* "" for v2 */
	int r;
	char mnt[PATH_MAX], root[PATH_MAX];
};

static int memo_mount(const char *controller, char *mnt, char *root)
{
	static struct mount_memo memo[4];
	static size_t n_memo;
	const char *key = controller ? controller : "";

	for (size_t i = 0; i < n_memo; i++)
		if (strcmp(memo[i].controller, key) == 0) {
			memcpy(mnt, memo[i].mnt, PATH_MAX);
			memcpy(root, memo[i].root, PATH_MAX);
			return memo[i].r;
		}
	int r = find_mount(controller, mnt, root);
	if (n_memo < sizeof(memo) / sizeof(memo[0]) && strlen(key) < sizeof(memo[0].controller) &&
	    r != -EMFILE && r != -ENFILE && r != -ENOMEM) {
		struct mount_memo *m = &memo[n_memo++];
		snprintf(m->controller, sizeof(m->controller), "%s", key);
		m->r = r;
		memcpy(m->mnt, mnt, PATH_MAX);
		memcpy(m->root, root, PATH_MAX);
	}
	return r;
}

int pm_cgroup_own_dir(const char *controller, char *out, size_t size, size_t *mount_len)
{
	_cleanup_free_ char *line = NULL;
	char mnt[PATH_MAX] = "", root[PATH_MAX] = "", path[PATH_MAX] = "";
	size_t cap = 0;
	FILE *f;
	int r;

	if ((r = memo_mount(controller, mnt, root)) < 0)
		return r;

	f = fopen("/proc/self/cgroup", "re");
	if (f == NULL)
		return -errno;
	while (getline(&line, &cap, f) > 0 && path[0] == '\0') {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		bool match = false;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		line[strcspn(line, "\n")] = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (controller == NULL) {
			match = c1[1] == '\0';
		} else {
			for (char *sp, *t = strtok_r(c1 + 1, ",", &sp); t && !match;
			     t = strtok_r(NULL, ",", &sp))
				match = strcmp(t, controller) == 0;
		}
		if (match)
			snprintf(path, sizeof(path), "%s", c2 + 1);
	}
	fclose(f);
	if (path[0] == '\0')
		return -ENOENT;
	/* Inside a cgroup namespace or a bind of a subtree, the mount's root
	 * is a prefix of our path. */
	size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (rl && strncmp(path, root, rl) == 0)
		memmove(path, path + rl, strlen(path + rl) + 1);
	snprintf(out, size, "%s%s", mnt, strcmp(path, "/") == 0 ? "" : path);
	if (mount_len)
		*mount_len = strlen(mnt);
	return 0;
}

int pm_cgroup_read(const char *dir, const char *file, char *buf, size_t size)
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
	return 0;
}

int64_t pm_cgroup_read_key(const char *dir, const char *file, const char *key)
{
	/* /proc/vmstat is the longest read here: some 5 KiB. */
	char buf[16384], *p;
	size_t klen = strlen(key);

	if (pm_cgroup_read(dir, file, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoll(p + klen + 1, NULL, 10);
	return -1;
}

bool pm_cgroup_list_has(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += len)
		if ((p == list || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}
