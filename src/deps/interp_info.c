#include "interp_info.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"

struct entry {
	char *interpreter;
	struct interp_info info;
	struct entry *next;
};

static struct entry *known;

/* Line 1: the version; then "s NAME" per standard module and "m NAME"
 * per importable top-level module. */
static const char query[] = "import sys, pkgutil, platform\n"
			    "print(platform.python_version())\n"
			    "for n in sorted(sys.stdlib_module_names): print('s', n)\n"
			    "for m in pkgutil.iter_modules(): print('m', m.name)\n";

/* Runs the trusted interpreter itself, isolated (-I: no environment, no
 * user site, no script directory on sys.path), on a fixed program; it
 * touches no client data, so it needs no sandbox.  It blocks the loop
 * once per interpreter, for about one interpreter start-up. */
static int ask(const char *interpreter, struct interp_info *info, struct pm_error *err)
{
	char *argv[] = {(char *)interpreter, (char *)"-I", (char *)"-c", (char *)query, NULL};
	char *envp[] = {(char *)"LC_ALL=C.UTF-8", NULL};
	posix_spawn_file_actions_t fa;
	int pipefd[2], status = 0;
	pid_t pid;
	size_t len = 0, cap = 1 << 20;
	_cleanup_free_ char *buf = malloc(cap);

	if (buf == NULL)
		return pm_error_set(err, "interpreter", ENOMEM, "interpreter query");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return pm_error_errno(err, "interpreter", "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	int r = posix_spawn(&pid, interpreter, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return pm_error_set(err, "interpreter", r, "run `%s`", interpreter);
	}
	for (;;) {
		ssize_t n = read(pipefd[0], buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == cap - 1)
			break;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || len == 0)
		return pm_error_set(err, "interpreter", EIO,
				    "`%s` could not describe itself "
				    "(sys.stdlib_module_names needs Python 3.10 or later)",
				    interpreter);
	buf[len] = '\0';
	char *save = NULL, *line = strtok_r(buf, "\n", &save);
	snprintf(info->version, sizeof(info->version), "%s", line ? line : "");
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (line[0] && line[1] == ' ')
			json_object_set_new(line[0] == 's' ? info->stdlib : info->importable,
					    line + 2, json_true());
	}
	return 0;
}

int interp_info_get(const char *interpreter, const struct interp_info **out, struct pm_error *err)
{
	struct entry *e;

	for (e = known; e; e = e->next)
		if (strcmp(e->interpreter, interpreter) == 0)
			break;
	if (e == NULL) {
		_cleanup_free_ struct entry *fresh = calloc(1, sizeof(*fresh));
		int r = -ENOMEM;
		if (fresh != NULL && (fresh->info.stdlib = json_object()) != NULL &&
		    (fresh->info.importable = json_object()) != NULL &&
		    (fresh->interpreter = strdup(interpreter)) != NULL)
			r = ask(interpreter, &fresh->info, err);
		else
			pm_error_set(err, "interpreter", ENOMEM, "interpreter query");
		if (r < 0) {
			if (fresh) {
				json_decref(fresh->info.stdlib);
				json_decref(fresh->info.importable);
				free(fresh->interpreter);
			}
			return r;
		}
		fresh->next = known;
		known = e = TAKE_PTR(fresh);
	}
	*out = &e->info;
	return 0;
}

void interp_info_free_all(void)
{
	while (known) {
		struct entry *e = known;
		known = e->next;
		json_decref(e->info.stdlib);
		json_decref(e->info.importable);
		free(e->interpreter);
		free(e);
	}
}
