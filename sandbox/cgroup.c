#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "random.h"
#include "fileio.h"

#define RUN_PREFIX "python-mcp-sandbox."

static const char *const names[SB_CG_COUNT] = {"memory", "pids", "cpu"};

const char *sb_cg_controller_name(enum sb_cg_controller c)
{
	return names[c];
}

static int write_text(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return pm_write_file(path, text);
}

static int64_t read_number(const char *dir, const char *file)
{
	char buf[64];

	if (pm_cgroup_read(dir, file, buf, sizeof(buf)) < 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/* Removes run cgroups left behind by launchers that were killed. */
static void reap_stale(const char *parent)
{
	_cleanup_(closedir_p) DIR *d = NULL;
	struct dirent *e;

	d = opendir(parent);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		long pid;
		if (strncmp(e->d_name, RUN_PREFIX, strlen(RUN_PREFIX)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(RUN_PREFIX), NULL, 10);
		if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		rmdir(path); /* fails harmlessly while processes remain */
	}
}

static bool list_has(const char *dir, const char *file, const char *controller)
{
	char buf[512];

	return pm_cgroup_read(dir, file, buf, sizeof(buf)) == 0 &&
	       pm_cgroup_list_has(buf, controller);
}

/* On v2 the controller must be available to our cgroup and enabled for
 * its children.  Enabling fails with EBUSY when our cgroup holds
 * processes and is not the root: the "no internal processes" rule. */
static int v2_delegates(const char *parent, const char *controller)
{
	char ctl[32];

	if (!list_has(parent, "cgroup.controllers", controller))
		return -ENOENT;
	if (list_has(parent, "cgroup.subtree_control", controller))
		return 0;
	snprintf(ctl, sizeof(ctl), "+%s", controller);
	return write_text(parent, "cgroup.subtree_control", ctl);
}

static int write_limit(enum sb_cg_controller c, int version, const char *dir,
		       const struct sb_cgroup_limits *l)
{
	char buf[64];
	int r = 0;

	switch (c) {
	case SB_CG_MEMORY:
		snprintf(buf, sizeof(buf), "%lld", (long long)l->memory_max_bytes);
		r = write_text(dir, version == 2 ? "memory.max" : "memory.limit_in_bytes", buf);
		if (r == 0 && l->swap_max_bytes != SB_UNSET) {
			/* v1 limits memory+swap together; v2 limits swap alone. */
			long long swap = l->swap_max_bytes;
			if (version == 1)
				swap += l->memory_max_bytes;
			snprintf(buf, sizeof(buf), "%lld", swap);
			int s = write_text(
			    dir, version == 2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes",
			    buf);
			if (s < 0 && s != -ENOENT) /* no swap accounting: nothing to cap */
				r = s;
		}
		if (r == 0 && version == 2)
			(void)write_text(dir, "memory.oom.group", "1");
		return r;
	case SB_CG_PIDS:
		snprintf(buf, sizeof(buf), "%lld", (long long)l->pids_max);
		return write_text(dir, "pids.max", buf);
	case SB_CG_CPU:
		if (version == 2) {
			snprintf(buf, sizeof(buf), "%lld 100000",
				 (long long)l->cpu_max_percent * 1000);
			return write_text(dir, "cpu.max", buf);
		}
		if ((r = write_text(dir, "cpu.cfs_period_us", "100000")) < 0)
			return r;
		snprintf(buf, sizeof(buf), "%lld", (long long)l->cpu_max_percent * 1000);
		return write_text(dir, "cpu.cfs_quota_us", buf);
	case SB_CG_COUNT:
		break;
	}
	return -EINVAL;
}

static int64_t wanted(enum sb_cg_controller c, const struct sb_cgroup_limits *l)
{
	switch (c) {
	case SB_CG_MEMORY:
		return l->memory_max_bytes;
	case SB_CG_PIDS:
		return l->pids_max;
	case SB_CG_CPU:
		return l->cpu_max_percent;
	case SB_CG_COUNT:
		break;
	}
	return SB_UNSET;
}

/* Tries v2 first, then the controller's v1 hierarchy.  Returns the run's
 * directory or NULL, with the reason in cg->reason. */
static char *create_for(enum sb_cg_controller c, const struct sb_cgroup_limits *l,
			struct sb_cgroup *cg, int *version)
{
	char parent[PATH_MAX], dir[PATH_MAX];
	bool busy = false;
	int r = -ENOENT;

	for (int v = 2; v >= 1; v--) {
		if (pm_cgroup_own_dir(v == 2 ? NULL : names[c], parent, sizeof(parent), NULL) < 0)
			continue;
		/* The server's leaf (cgroup_dir.h) holds the server: the runs
		 * go beside it, into the cgroup it stepped down from. */
		char *base = strrchr(parent, '/');
		if (v == 2 && base && strcmp(base + 1, PM_CGROUP_LEAF) == 0)
			*base = '\0';
		bool created;
		if (v == 2 && (r = v2_delegates(parent, names[c])) < 0) {
			if (r == -EBUSY)
				busy = true;
			continue;
		}
		reap_stale(parent);
		snprintf(dir, sizeof(dir), "%s/%s", parent, cg->name);
		created = mkdir(dir, 0755) == 0;
		if (!created && errno != EEXIST) {
			r = -errno;
			continue;
		}
		r = write_limit(c, v, dir, l);
		if (r == 0) {
			*version = v;
			return strdup(dir);
		}
		if (created)
			rmdir(dir);
	}
	size_t len = strlen(cg->reason);
	snprintf(cg->reason + len, sizeof(cg->reason) - len, "%s%s: %s", len ? "; " : "", names[c],
		 busy ? "our cgroup holds processes, so it cannot hand controllers to children"
		 : r == -ENOENT ? "controller not available"
				: strerror(-r));
	cg->busy |= busy;
	return NULL;
}

int sb_cgroup_create(const struct sb_cgroup_limits *limits, struct sb_cgroup *cg,
		     struct pm_error *err)
{
	bool missing = false;

	memset(cg, 0, sizeof(*cg));
	/* pid.random: the pid lets a later launcher see the run's owner is
	 * gone; the random part keeps a reused pid from joining a cgroup
	 * left behind (EEXIST then only means "another controller of this
	 * run, on v2"). */
	snprintf(cg->name, sizeof(cg->name), RUN_PREFIX "%d.%08x", (int)getpid(), pm_random_u32());
	for (int c = 0; c < SB_CG_COUNT; c++) {
		if (wanted(c, limits) == SB_UNSET)
			continue;
		/* On v2 one directory serves every controller. */
		cg->dir[c] = create_for(c, limits, cg, &cg->version[c]);
		missing |= cg->dir[c] == NULL;
	}
	if (!missing)
		return 0;
	pm_error_set(err, "cgroup", 0, "cgroup limits not applied (%s)", cg->reason);
	if (cg->busy)
		pm_error_hint(err,
			      "start the launcher (or the server) from a leaf cgroup of its "
			      "own, e.g. `systemd-run --scope -p Delegate=yes`, so that its "
			      "parent can delegate; list \"cgroup\" in \"optional_layers\" to run "
			      "without them");
	else
		pm_error_hint(err,
			      "run the launcher as root or in a cgroup delegated to its user "
			      "(systemd: Delegate=yes); list \"cgroup\" in \"optional_layers\" to "
			      "run without them");
	err->errnum = ENOTSUP;
	return -ENOTSUP;
}

bool sb_cgroup_any(const struct sb_cgroup *cg)
{
	for (int c = 0; c < SB_CG_COUNT; c++)
		if (cg->dir[c])
			return true;
	return false;
}

int sb_cgroup_add(const struct sb_cgroup *cg, pid_t pid, struct pm_error *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (int c = 0; c < SB_CG_COUNT; c++) {
		int r;
		if (cg->dir[c] == NULL)
			continue;
		/* The same v2 directory appears once per controller. */
		if (c > 0 && cg->dir[c - 1] && strcmp(cg->dir[c - 1], cg->dir[c]) == 0)
			continue;
		if ((r = write_text(cg->dir[c], "cgroup.procs", buf)) < 0)
			return pm_error_set(err, "cgroup", -r, "move the sandbox into `%s`",
					    cg->dir[c]);
	}
	return 0;
}

void sb_cgroup_stats(const struct sb_cgroup *cg, struct sb_cgroup_stats *st)
{
	const char *mem = cg->dir[SB_CG_MEMORY], *pids = cg->dir[SB_CG_PIDS];

	st->memory_peak_bytes = -1;
	st->oom_kills = 0;
	st->pids_max_events = 0;
	if (mem && cg->version[SB_CG_MEMORY] == 2) {
		st->memory_peak_bytes = read_number(mem, "memory.peak");
		st->oom_kills = pm_cgroup_read_key(mem, "memory.events", "oom_kill");
	} else if (mem) {
		st->memory_peak_bytes = read_number(mem, "memory.max_usage_in_bytes");
		st->oom_kills = pm_cgroup_read_key(mem, "memory.oom_control", "oom_kill");
	}
	if (pids)
		st->pids_max_events = pm_cgroup_read_key(pids, "pids.events", "max");
	if (st->oom_kills < 0)
		st->oom_kills = 0;
	if (st->pids_max_events < 0)
		st->pids_max_events = 0;
}

int sb_cgroup_oom_counter(const struct sb_cgroup *cg, char *dir_out, size_t size, const char **file)
{
	const char *mem = cg ? cg->dir[SB_CG_MEMORY] : NULL;
	char dir[PATH_MAX];
	size_t mount_len;

	if (mem) {
		snprintf(dir_out, size, "%s", mem);
		*file = cg->version[SB_CG_MEMORY] == 2 ? "memory.events" : "memory.oom_control";
		return 0;
	}
	/* v2 counts a kill in the victim's cgroup and every ancestor: the
	 * nearest cgroup up from the run's that has the file is where its
	 * memory is accounted, and its count covers our jobs, not other
	 * containers'. */
	if (pm_cgroup_own_dir(NULL, dir, sizeof(dir), &mount_len) == 0) {
		/* The run's processes are in its v2 cgroup where it has one for
		 * another controller (beside the server's leaf, not below us). */
		for (int c = 0; c < SB_CG_COUNT; c++)
			if (cg && cg->dir[c] && cg->version[c] == 2)
				snprintf(dir, sizeof(dir), "%s", cg->dir[c]);
		for (;;) {
			if (pm_cgroup_read_key(dir, "memory.events", "oom_kill") >= 0) {
				snprintf(dir_out, size, "%s", dir);
				*file = "memory.events";
				return 0;
			}
			char *slash = strrchr(dir, '/');
			if (slash == NULL || (size_t)(slash - dir) < mount_len)
				break;
			*slash = '\0';
		}
	}
	/* v1 counts it in the victim's memory cgroup alone: without one of
	 * the run's own, that is the launcher's. */
	if (pm_cgroup_own_dir("memory", dir, sizeof(dir), NULL) == 0 &&
	    pm_cgroup_read_key(dir, "memory.oom_control", "oom_kill") >= 0) {
		snprintf(dir_out, size, "%s", dir);
		*file = "memory.oom_control";
		return 0;
	}
	return -ENOENT;
}

static void kill_dir(const char *dir, int version)
{
	char path[PATH_MAX];

	if (version == 2 && write_text(dir, "cgroup.kill", "1") == 0)
		return;
	/* v1 has no cgroup.kill: signal what is listed until nothing is.
	 * fscanf reads whole numbers, never a pid cut at a buffer's end. */
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	for (int round = 0; round < 100; round++) {
		FILE *f = fopen(path, "re");
		int pid, n = 0;
		if (f == NULL)
			return;
		while (fscanf(f, "%d", &pid) == 1) {
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
			n++;
		}
		fclose(f);
		if (n == 0)
			return;
		usleep(1000);
	}
}

void sb_cgroup_kill(const struct sb_cgroup *cg)
{
	for (int c = 0; c < SB_CG_COUNT; c++)
		if (cg->dir[c])
			kill_dir(cg->dir[c], cg->version[c]);
}

void sb_cgroup_destroy(struct sb_cgroup *cg)
{
	for (int c = 0; c < SB_CG_COUNT; c++) {
		if (cg->dir[c] == NULL)
			continue;
		/* Processes killed a moment ago may still be exiting. */
		for (int i = 0; i < 200 && rmdir(cg->dir[c]) < 0 && errno == EBUSY; i++)
			usleep(500);
		for (int d = c + 1; d < SB_CG_COUNT; d++)
			if (cg->dir[d] && strcmp(cg->dir[d], cg->dir[c]) == 0) {
				free(cg->dir[d]);
				cg->dir[d] = NULL;
			}
		free(cg->dir[c]);
		cg->dir[c] = NULL;
	}
}
