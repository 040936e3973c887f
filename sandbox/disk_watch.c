#include "disk_watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "policy.h"

/* Deeper trees are not measured: a job that nests this deep is ended.
 * One open directory per level, well inside the launcher's descriptors. */
#define MAX_DEPTH 256
/* Between measures: at least this, and ten times what a measure took. */
#define MIN_INTERVAL_SECONDS 0.25
#define MAX_INTERVAL_SECONDS 5.0

struct sb_disk_watch {
	int ws_fd;    /* our own duplicate */
	int limit_fd; /* eventfd, readable once a limit is passed */
	int stop_fd;  /* eventfd, readable when the thread must stop */
	pthread_t thread;
	bool started;
	int64_t max_bytes, max_inodes;
	uint64_t base_bytes, base_inodes;
	char reason[256];
};

int sb_disk_usage(int fd, unsigned max_depth, uint64_t *bytes, uint64_t *inodes)
{
	DIR *stack[MAX_DEPTH + 1];
	unsigned depth = 0;
	struct stat top;
	int r = 0;

	*bytes = *inodes = 0;
	if (max_depth > MAX_DEPTH)
		max_depth = MAX_DEPTH;
	if (fstat(fd, &top) < 0)
		return -errno;
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || (stack[0] = fdopendir(dfd)) == NULL) {
		r = -errno;
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	while (true) {
		struct dirent *e = readdir(stack[depth]);
		struct stat st;

		if (e == NULL) {
			closedir(stack[depth]);
			if (depth == 0)
				break;
			depth--;
			continue;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* Gone meanwhile (the job is running): not counted. */
		if (fstatat(dirfd(stack[depth]), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		(*inodes)++;
		*bytes += (uint64_t)st.st_blocks * 512;
		/* Another filesystem mounted below is not the workspace's. */
		if (!S_ISDIR(st.st_mode) || st.st_dev != top.st_dev)
			continue;
		if (depth + 1 > max_depth) {
			r = -ELOOP;
			break;
		}
		int sub = openat(dirfd(stack[depth]), e->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d = sub >= 0 ? fdopendir(sub) : NULL;
		if (d == NULL) {
			/* A directory the job made unreadable is counted, not
			 * walked: its content is the job's own to lose. */
			if (sub >= 0)
				close(sub);
			continue;
		}
		stack[++depth] = d;
	}
	if (r < 0)
		while (true) {
			closedir(stack[depth]);
			if (depth == 0)
				break;
			depth--;
		}
	return r;
}

static void *watch(void *arg)
{
	struct sb_disk_watch *w = arg;
	double interval = MIN_INTERVAL_SECONDS;
	uint64_t one = 1;

	for (;;) {
		struct pollfd p = {.fd = w->stop_fd, .events = POLLIN};
		if (poll(&p, 1, (int)(interval * 1000)) != 0)
			return NULL; /* stop (or a poll error: stop as well) */
		double t0 = pm_monotonic_seconds();
		uint64_t bytes, inodes;
		int r = sb_disk_usage(w->ws_fd, MAX_DEPTH, &bytes, &inodes);
		if (r == -ELOOP)
			snprintf(w->reason, sizeof(w->reason),
				 "the workspace nests deeper than %d "
				 "directories, which the launcher does not measure",
				 MAX_DEPTH);
		else if (r == 0 && w->max_bytes != SB_UNSET && bytes > w->base_bytes &&
			 bytes - w->base_bytes > (uint64_t)w->max_bytes)
			snprintf(w->reason, sizeof(w->reason),
				 "the job added %llu bytes to its "
				 "workspace; the policy allows %lld (workspace.max_bytes)",
				 (unsigned long long)(bytes - w->base_bytes),
				 (long long)w->max_bytes);
		else if (r == 0 && w->max_inodes != SB_UNSET && inodes > w->base_inodes &&
			 inodes - w->base_inodes > (uint64_t)w->max_inodes)
			snprintf(w->reason, sizeof(w->reason),
				 "the job added %llu files to its "
				 "workspace; the policy allows %lld (workspace.max_inodes)",
				 (unsigned long long)(inodes - w->base_inodes),
				 (long long)w->max_inodes);
		if (w->reason[0]) {
			(void)!write(w->limit_fd, &one, sizeof(one));
			return NULL;
		}
		double took = pm_monotonic_seconds() - t0;
		interval = took * 10;
		if (interval < MIN_INTERVAL_SECONDS)
			interval = MIN_INTERVAL_SECONDS;
		if (interval > MAX_INTERVAL_SECONDS)
			interval = MAX_INTERVAL_SECONDS;
	}
}

int sb_disk_watch_start(int ws_fd, int64_t max_bytes, int64_t max_inodes,
			struct sb_disk_watch **out, struct pm_error *err)
{
	struct sb_disk_watch *w;
	int r;

	*out = NULL;
	if (max_bytes == SB_UNSET && max_inodes == SB_UNSET)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return pm_error_set(err, "disk", ENOMEM, "workspace watch");
	*w = (struct sb_disk_watch){.max_bytes = max_bytes,
				    .max_inodes = max_inodes,
				    .ws_fd = fcntl(ws_fd, F_DUPFD_CLOEXEC, 3),
				    .limit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
				    .stop_fd = eventfd(0, EFD_CLOEXEC)};
	if (w->ws_fd < 0 || w->limit_fd < 0 || w->stop_fd < 0) {
		r = pm_error_errno(err, "disk", "set up the workspace watch");
		goto fail;
	}
	r = sb_disk_usage(w->ws_fd, MAX_DEPTH, &w->base_bytes, &w->base_inodes);
	if (r == -ELOOP) {
		pm_error_set(err, "disk", ELOOP, "the workspace nests deeper than %d directories",
			     MAX_DEPTH);
		pm_error_hint(err,
			      "the policy limits workspaces (workspace.max_bytes/max_inodes), "
			      "and the launcher cannot measure this one; use a flatter directory");
		goto fail;
	}
	if (r < 0) {
		r = pm_error_set(err, "disk", -r, "measure the workspace");
		goto fail;
	}
	/* Signals are the supervisor's (a signalfd in the main thread): the
	 * watcher blocks them all, or a SIGTERM meant for the supervisor
	 * could be delivered to it and kill the launcher outright. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, NULL, watch, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		r = pm_error_set(err, "disk", r, "start the workspace watch");
		goto fail;
	}
	w->started = true;
	*out = w;
	return 0;
fail:
	sb_disk_watch_stop(w);
	return r < 0 ? r : -EIO;
}

int sb_disk_watch_fd(const struct sb_disk_watch *w)
{
	return w ? w->limit_fd : -1;
}

const char *sb_disk_watch_reason(const struct sb_disk_watch *w)
{
	return w ? w->reason : "";
}

void sb_disk_watch_stop(struct sb_disk_watch *w)
{
	uint64_t one = 1;

	if (w == NULL)
		return;
	if (w->started) {
		(void)!write(w->stop_fd, &one, sizeof(one));
		pthread_join(w->thread, NULL);
	}
	if (w->ws_fd >= 0)
		close(w->ws_fd);
	if (w->limit_fd >= 0)
		close(w->limit_fd);
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	free(w);
}
