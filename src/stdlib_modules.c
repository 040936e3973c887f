#include "stdlib_modules.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"

/* One interpreter's names, as a JSON object used as a set. */
struct names {
	char *interpreter;
	json_t *set;
	struct names *next;
};

static struct names *known;

/* Runs the trusted interpreter itself, isolated (-I: no environment, no
 * user site; -S: no site), on a fixed one-liner; it touches no client
 * data, so it needs no sandbox.  It blocks the loop once per interpreter
 * for one interpreter start-up. */
static int ask(const char *interpreter, json_t *set, struct sb_error *err)
{
	char *argv[] = {(char *)interpreter, (char *)"-I", (char *)"-S", (char *)"-c",
			(char *)"import sys; print('\\n'.join(sorted(sys.stdlib_module_names)))",
			NULL};
	char *envp[] = {(char *)"LC_ALL=C.UTF-8", NULL};
	posix_spawn_file_actions_t fa;
	int pipefd[2], status;
	pid_t pid;
	char buf[65536];
	size_t len = 0;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sb_error_errno(err, "imports", "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	int r = posix_spawn(&pid, interpreter, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return sb_error_set(err, "imports", r, "run `%s` to list its standard library",
				    interpreter);
	}
	for (;;) {
		ssize_t n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == sizeof(buf) - 1)
			break;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || len == 0)
		return sb_error_set(err, "imports", EIO, "`%s` did not list its standard library "
				    "(sys.stdlib_module_names needs Python 3.10 or later)",
				    interpreter);
	buf[len] = '\0';
	for (char *save = NULL, *tok = strtok_r(buf, "\n", &save); tok;
	     tok = strtok_r(NULL, "\n", &save))
		json_object_set_new(set, tok, json_true());
	return 0;
}

int stdlib_modules_contains(const char *interpreter, const char *module, bool *out,
			    struct sb_error *err)
{
	struct names *n;

	for (n = known; n; n = n->next)
		if (strcmp(n->interpreter, interpreter) == 0)
			break;
	if (n == NULL) {
		_cleanup_free_ struct names *fresh = calloc(1, sizeof(*fresh));
		if (fresh == NULL || (fresh->set = json_object()) == NULL ||
		    (fresh->interpreter = strdup(interpreter)) == NULL) {
			if (fresh)
				json_decref(fresh->set);
			return sb_error_set(err, "imports", ENOMEM, "standard library list");
		}
		int r = ask(interpreter, fresh->set, err);
		if (r < 0) {
			json_decref(fresh->set);
			free(fresh->interpreter);
			return r;
		}
		fresh->next = known;
		known = n = TAKE_PTR(fresh);
	}
	*out = json_object_get(n->set, module) != NULL;
	return 0;
}

void stdlib_modules_free(void)
{
	while (known) {
		struct names *n = known;
		known = n->next;
		json_decref(n->set);
		free(n->interpreter);
		free(n);
	}
}
