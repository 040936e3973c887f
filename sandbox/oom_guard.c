#include "oom_guard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "clock.h"

/* A job of more processes than this is measured and raised in part (its
 * first ones, breadth first: init and the script's own). */
#define MAX_PIDS 1024
/* Threads whose children one look reads at most: a job of many threads
 * must not make the launcher's looks expensive. */
#define MAX_TASKS 2048
/* A look costs about one /proc read per process: with more processes
 * than this, the launcher looks less often, in proportion. */
#define PIDS_PER_PERIOD 16
/* Growth between two looks that counts as growing: above what an idle
 * interpreter's allocator does, far below what a bomb does. */
#define GROW_BYTES  (1 << 20)
#define MIN_RESERVE (64LL << 20)
/* v1 reports "no limit" as a page-rounded INT64_MAX. */
#define NO_LIMIT (1LL << 62)

struct sb_oom_guard {
	pid_t init;
	struct sb_oom_counter kills; /* where the run's OOM kills are counted */
	char usage_path[PATH_MAX];   /* of the cgroup with the lowest limit */
	long long limit, reserve;
	long long last_rss; /* at the previous look; -1 before the first */
	double due;
	long long kills_at_raise; /* the kernel's OOM kills when first raised, -1: never */
	pid_t pids[MAX_PIDS];
	size_t n_pids, n_tasks;
};

static long long read_ll(const char *path)
{
	char buf[64];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (strncmp(buf, "max", 3) == 0)
		return NO_LIMIT;
	return strtoll(buf, NULL, 10);
}

/* The lowest limit on the path from our cgroup up to the hierarchy's
 * root, and the usage file beside it.  Returns false when none is set. */
static bool lowest_limit(struct sb_oom_guard *g, const char *controller, const char *limit_file,
			 const char *usage_file)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	size_t mount_len;
	bool found = false;

	if (pm_cgroup_own_dir(controller, dir, sizeof(dir), &mount_len) < 0)
		return false;
	for (;;) {
		snprintf(path, sizeof(path), "%s/%s", dir, limit_file);
		long long limit = read_ll(path);
		if (limit > 0 && limit < NO_LIMIT && (!found || limit < g->limit)) {
			g->limit = limit;
			snprintf(g->usage_path, sizeof(g->usage_path), "%.*s/%s",
				 (int)(sizeof(g->usage_path) - 32), dir, usage_file);
			found = true;
		}
		char *slash = strrchr(dir, '/');
		if (slash == NULL || (size_t)(slash - dir) < mount_len)
			break;
		*slash = '\0';
	}
	return found;
}

/* Appends the children of every thread of `pid`. */
static void add_children(struct sb_oom_guard *g, pid_t pid)
{
	char path[64];
	_cleanup_(closedir_p) DIR *d = NULL;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL && g->n_pids < MAX_PIDS && g->n_tasks < MAX_TASKS) {
		char file[96], buf[4096];
		if (e->d_name[0] == '.')
			continue;
		g->n_tasks++;
		snprintf(file, sizeof(file), "/proc/%d/task/%.16s/children", (int)pid, e->d_name);
		_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (char *sp, *t = strtok_r(buf, " \n", &sp); t && g->n_pids < MAX_PIDS;
		     t = strtok_r(NULL, " \n", &sp))
			g->pids[g->n_pids++] = (pid_t)atoi(t);
	}
}

/* Every process of the job, breadth first from init, and their resident
 * memory together. */
static long long job_rss(struct sb_oom_guard *g)
{
	long long pages = 0, page = sysconf(_SC_PAGESIZE);

	g->n_pids = g->n_tasks = 0;
	g->pids[g->n_pids++] = g->init;
	for (size_t i = 0; i < g->n_pids; i++) {
		char path[48], buf[128];
		long long size, resident;
		snprintf(path, sizeof(path), "/proc/%d/statm", (int)g->pids[i]);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (n > 0) {
			buf[n] = '\0';
			if (sscanf(buf, "%lld %lld", &size, &resident) == 2)
				pages += resident;
		}
		add_children(g, g->pids[i]);
	}
	return pages * page;
}

/* Each process of the last measure to the highest score; one that is
 * gone or refuses is skipped (there is nothing else to do).  A pid that
 * ended since the measure a moment ago and was reused at once would be
 * raised instead: it is only a preference for the OOM killer, and pids
 * are not reused that fast. */
static void raise_job(struct sb_oom_guard *g)
{
	for (size_t i = 0; i < g->n_pids; i++) {
		char path[48];
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)g->pids[i]);
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0)
			(void)!write(fd, "1000", 4);
	}
	if (g->kills_at_raise < 0)
		g->kills_at_raise = sb_oom_counter_read(&g->kills);
}

void sb_oom_counter_init(struct sb_oom_counter *c, const struct sb_cgroup *cg)
{
	/* No memory cgroup to read (no memory controller at all): the
	 * machine's count is all there is. */
	if (sb_cgroup_oom_counter(cg, c->dir, sizeof(c->dir), &c->file) < 0) {
		snprintf(c->dir, sizeof(c->dir), "/proc");
		c->file = "vmstat";
	}
}

long long sb_oom_counter_read(const struct sb_oom_counter *c)
{
	return pm_cgroup_read_key(c->dir, c->file, "oom_kill");
}

struct sb_oom_guard *sb_oom_guard_start(pid_t init, const struct sb_oom_counter *kills)
{
	struct sb_oom_guard *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	/* v2 where the memory controller is there; else its v1 hierarchy
	 * (a hybrid host, a v1 container). */
	if (!lowest_limit(g, NULL, "memory.max", "memory.current") &&
	    !lowest_limit(g, "memory", "memory.limit_in_bytes", "memory.usage_in_bytes")) {
		free(g);
		return NULL;
	}
	g->init = init;
	g->kills = *kills;
	g->due = pm_monotonic_seconds();
	g->reserve = g->limit / 4 > MIN_RESERVE ? g->limit / 4 : MIN_RESERVE;
	g->last_rss = -1;
	g->kills_at_raise = -1;
	return g;
}

double sb_oom_guard_due(const struct sb_oom_guard *g)
{
	return g ? g->due : 0;
}

bool sb_oom_guard_tick(struct sb_oom_guard *g, double now)
{
	if (g == NULL || now < g->due)
		return false;
	g->due = now + SB_OOM_GUARD_PERIOD;
	if (g->kills_at_raise >= 0 && sb_oom_counter_read(&g->kills) > g->kills_at_raise)
		return true;
	/* The job is measured only while memory is getting short (twice the
	 * reserve), so that the measure at the first short look has one
	 * before it to compare with; elsewhere a look is one read. */
	long long usage = read_ll(g->usage_path), left = g->limit - usage;
	if (usage < 0 || left >= 2 * g->reserve) {
		g->last_rss = -1;
		return false;
	}
	long long rss = job_rss(g), grew = g->last_rss < 0 ? 0 : rss - g->last_rss;
	g->last_rss = rss;
	if (g->n_pids > PIDS_PER_PERIOD)
		g->due = now + SB_OOM_GUARD_PERIOD * (double)g->n_pids / PIDS_PER_PERIOD;
	if (grew >= GROW_BYTES && left < g->reserve)
		raise_job(g);
	return false;
}

void sb_oom_guard_explain(const struct sb_oom_guard *g, char *buf, size_t size)
{
	if (g == NULL || g->kills_at_raise < 0) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, size,
		 "the memory of what holds the sandbox (a limit of %lld MiB: the container's "
		 "or the service's) ran short while this job grew; the kernel's OOM killer "
		 "took it, and the launcher ended the rest of it",
		 g->limit >> 20);
}

void sb_oom_guard_free(struct sb_oom_guard *g)
{
	free(g);
}
