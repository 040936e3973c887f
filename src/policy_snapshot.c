#include "policy_snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "hash.h"

extern char **environ;

/* An effective policy is a few dozen KiB (Docker's seccomp profile is
 * the bulk of it). */
#define SNAPSHOT_MAX (4u << 20)

/* Runs the launcher with argv, its stdout on out_fd (-1: with its
 * stderr), its stderr's first line in msg; 0 when it exits 0, else
 * -EPERM (or the spawn's error) with msg set. */
static int run_launcher(const struct policy_source *src, char *const argv[], int out_fd, char *msg,
			size_t size, struct pm_error *err)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], status = 0, r;
	size_t got = 0;
	char drain[512];
	pid_t pid;

	msg[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return pm_error_errno(err, "policy", "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd >= 0 ? out_fd : pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	r = posix_spawn(&pid, src->launcher, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return pm_error_set(err, "policy", r, "run `%s`", src->launcher);
	}
	/* Read to the end (what does not fit is drained), so that the
	 * launcher never blocks on a full pipe. */
	for (ssize_t n; (n = read(pipefd[0], got < size - 1 ? msg + got : drain,
				  got < size - 1 ? size - 1 - got : sizeof(drain))) != 0;)
		if (n > 0 && got < size - 1)
			got += (size_t)n;
		else if (n < 0 && errno != EINTR)
			break;
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (msg[0] == '\0')
		snprintf(msg, size, "the launcher ended with %s %d",
			 WIFSIGNALED(status) ? "signal" : "exit status",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return -EPERM;
}

int policy_check(const struct policy_source *src, const char *file, struct pm_error *err)
{
	char *argv[] = {(char *)src->launcher, (char *)"--check-policy", (char *)file,
			(char *)"--protect",   (char *)src->self,	 NULL};
	char msg[PM_ERROR_MESSAGE_MAX];
	int r = run_launcher(src, argv, -1, msg, sizeof(msg), err);

	if (r == -EPERM)
		pm_error_set(err, "policy check", 0, "%s", msg);
	return r;
}

/* The snapshots' directory: the server's own, closed to others. */
static int snapshot_dir(const char *dir, struct pm_error *err)
{
	struct stat st;
	int r;

	if ((r = pm_mkdir(dir, 0755, "snapshot", err)) < 0)
		return r;
	if (lstat(dir, &st) < 0)
		return pm_error_errno(err, "snapshot", "`%s`", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return pm_error_set(err, "snapshot", EPERM,
				    "`%s` is not a directory of the server's own user", dir);
	if ((st.st_mode & 022) && chmod(dir, 0755) < 0)
		return pm_error_errno(err, "snapshot", "chmod `%s`", dir);
	return 0;
}

/* The launcher's output, written into tmp, as JSON, and its digest. */
static int read_output(const char *tmp, const char *file, json_t **out, char hex[PM_SHA256_HEX],
		       struct pm_error *err)
{
	_cleanup_free_ char *text = NULL;
	json_error_t jerr;
	size_t len;
	int r;

	if ((r = pm_read_file(tmp, SNAPSHOT_MAX, &text, &len, err)) < 0)
		return r;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return pm_error_set(err, "effective policy", 0,
				    "policy `%s`: the launcher printed no JSON object (%s)", file,
				    jerr.text);
	}
	pm_sha256_of(text, len, hex);
	return 0;
}

int policy_snapshot_take(const struct policy_source *src, const char *file, const char *kind,
			 struct policy_snapshot *out, struct pm_error *err)
{
	char *argv[] = {(char *)src->launcher, (char *)"--print-effective-policy", (char *)file,
			NULL};
	char tmp[PATH_MAX], final[PATH_MAX], hex[PM_SHA256_HEX] = "", msg[PM_ERROR_MESSAGE_MAX];
	json_t *effective = NULL;
	int fd, r;

	*out = (struct policy_snapshot){0};
	if ((r = snapshot_dir(src->dir, err)) < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s/.%s-XXXXXX", src->dir, kind);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return pm_error_errno(err, "snapshot", "create a file in `%s`", src->dir);
	if (fchmod(fd, 0644) < 0)
		r = pm_error_errno(err, "snapshot", "chmod `%s`", tmp);
	else if ((r = run_launcher(src, argv, fd, msg, sizeof(msg), err)) == -EPERM)
		pm_error_set(err, "effective policy", 0, "%s", msg);
	if (r == 0 && fsync(fd) < 0)
		r = pm_error_errno(err, "snapshot", "fsync `%s`", tmp);
	close(fd);
	if (r == 0)
		r = read_output(tmp, file, &effective, hex, err);
	snprintf(final, sizeof(final), "%s/%s-%.16s.json", src->dir, kind, hex);
	if (r == 0 && rename(tmp, final) < 0)
		r = pm_error_errno(err, "snapshot", "rename `%s` to `%s`", tmp, final);
	if (r < 0) {
		unlink(tmp);
		json_decref(effective);
		return r;
	}
	/* The copy must load as the launchers will load it. */
	if ((r = policy_check(src, final, err)) < 0) {
		json_decref(effective);
		return pm_error_wrap(err, "the snapshot of `%s`", file);
	}
	if ((out->path = strdup(final)) == NULL) {
		json_decref(effective);
		return pm_error_set(err, "snapshot", ENOMEM, "`%s`", final);
	}
	out->effective = effective;
	return 0;
}

void policy_snapshot_clear(struct policy_snapshot *s)
{
	free(s->path);
	json_decref(s->effective);
	*s = (struct policy_snapshot){0};
}

unsigned policy_snapshot_prune(const struct policy_source *src,
			       bool (*keep)(const char *path, void *data), void *data)
{
	_cleanup_(closedir_p) DIR *d = opendir(src->dir);
	char path[PATH_MAX];
	unsigned removed = 0;

	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", src->dir, e->d_name);
		if (!keep(path, data) && unlink(path) == 0)
			removed++;
	}
	return removed;
}
