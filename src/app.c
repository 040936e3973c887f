#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "jobs.h"
#include "log.h"
#include "envs.h"
#include "interp_info.h"
#include "runner.h"
#include "smart.h"
#include "tools_exec.h"
#include "tools_jobs.h"

struct app {
	char *state_dir, *scripts_dir, *scratch_dir, *cache_dir, *policy, *launcher;
	char *install_policy, *envs_dir, *uv;
	int lock_fd;                /* holds <state>/lock for the server's life */
	char **roots;
	size_t n_roots;
	char *protected_paths[8];
	size_t n_protected;
	struct jobs *jobs;
	struct runner *runner;
	struct envs *envs;
	struct smart *smart;
	void (*done)(void *data);
	void *done_data;
};

static int make_dir(const char *path, struct sb_error *err)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return sb_error_errno(err, "state", "create `%s`", path);
	return 0;
}

/* Where this binary lives, to find its launcher and policy in the build
 * tree (src/ next to sandbox/) and after `cmake --install` (bin/ next to
 * share/python-mcp/). */
static int self_dir(char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	char *slash;

	if (n <= 0)
		return -1;
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

static char *first_existing(const char *const *candidates, size_t n, int mode)
{
	for (size_t i = 0; i < n; i++)
		if (candidates[i] && access(candidates[i], mode) == 0)
			return realpath(candidates[i], NULL);
	return NULL;
}

static int find_file(const char *given, const char *installed, const char *in_build,
		     int mode, const char *what, const char *flag, char **out, struct sb_error *err)
{
	char dir[PATH_MAX], a[PATH_MAX + 64] = "", b[PATH_MAX + 64] = "";

	if (given) {
		*out = realpath(given, NULL);
		if (*out == NULL || access(*out, mode) < 0) {
			sb_error_errno(err, "config", "%s `%s`", what, given);
			free(*out);
			*out = NULL;
			return sb_error_code(err);
		}
		return 0;
	}
	if (self_dir(dir, sizeof(dir)) == 0) {
		snprintf(a, sizeof(a), "%s/%s", dir, installed);
		if (in_build[0] == '/')
			snprintf(b, sizeof(b), "%s", in_build);
		else
			snprintf(b, sizeof(b), "%s/%s", dir, in_build);
	}
	const char *c[] = {a[0] ? a : NULL, b[0] ? b : NULL};
	*out = first_existing(c, 2, mode);
	if (*out)
		return 0;
	sb_error_set(err, "config", ENOENT, "no %s found (looked for `%s` and `%s`)", what, a, b);
	return sb_error_hint(err, "build the project, or pass %s PATH", flag);
}

static char *default_state_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	char *s = NULL;

	if (home == NULL || home[0] != '/') {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	if (asprintf(&s, "%s/.python_mcp", home) < 0)
		return NULL;
	return s;
}

static int setup_roots(struct app *a, const struct app_config *cfg, struct sb_error *err)
{
	const char *tmp = getenv("TMPDIR") && getenv("TMPDIR")[0] == '/' ? getenv("TMPDIR") : "/tmp";
	char cwd[PATH_MAX];
	const char *defaults[2] = {getcwd(cwd, sizeof(cwd)), tmp};
	const char *const *given = cfg->workspace_roots ? cfg->workspace_roots : defaults;
	size_t n = cfg->workspace_roots ? cfg->n_workspace_roots : 2;

	a->roots = calloc(n + 1, sizeof(*a->roots));
	if (a->roots == NULL)
		return sb_error_set(err, "config", ENOMEM, "workspace roots");
	for (size_t i = 0; i < n; i++) {
		char *real = given[i] ? realpath(given[i], NULL) : NULL;
		if (real == NULL) {
			sb_error_errno(err, "config", "workspace root `%s`", given[i] ? given[i] : "(cwd)");
			return sb_error_hint(err, "pass existing directories with --workspace-root");
		}
		if (strcmp(real, "/") == 0) {
			free(real);
			return sb_error_set(err, "config", EINVAL, "workspace root `/` would expose "
					    "the whole host; name narrower directories");
		}
		a->roots[a->n_roots++] = real;
	}
	return 0;
}

static int cancel_with_runner(struct job *j, tools_jobs_cancel_done_fn done, void *call, void *data,
			      struct sb_error *err)
{
	return runner_cancel(data, j, done, call, err);
}

static int private_dir(const char *path, struct sb_error *err);

static int prune_envs(double max_age_seconds, unsigned *removed, void *data,
		      struct sb_error *err)
{
	return envs_prune(data, max_age_seconds, removed, err);
}

/* uv when it is on the server's PATH (installs use it when asked). */
static char *find_uv(void)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = path ? strdup(path) : NULL;
	char *save = NULL;

	for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char file[PATH_MAX];
		snprintf(file, sizeof(file), "%s/uv", dir);
		char *real = dir[0] == '/' && access(file, X_OK) == 0 ? realpath(file, NULL) : NULL;
		/* Its directory is shown read-only to installs, which have the
		 * network: only a `bin` directory (~/.local/bin, ~/.cargo/bin,
		 * /usr/local/bin), never a home directory or `/`. */
		char *slash = real ? strrchr(real, '/') : NULL;
		if (slash && slash - real >= 4 && strncmp(slash - 4, "/bin", 4) == 0)
			return real;
		if (real)
			log_msg(LOG_LEVEL_WARNING, "not using `%s`: uv is used from a `bin` "
				"directory only; installs use pip", real);
		free(real);
	}
	return NULL;
}

static int open_state(struct app *a, const struct app_config *cfg, struct sb_error *err)
{
	char logs[PATH_MAX], tmpl[PATH_MAX];
	int r;

	a->state_dir = cfg->state_dir ? strdup(cfg->state_dir) : default_state_dir();
	if (a->state_dir == NULL)
		return sb_error_set(err, "state", ENOMEM, "state directory");
	if ((r = make_dir(a->state_dir, err)) < 0)
		return r;
	/* Canonical, so that workspace checks compare like with like. */
	char *real = realpath(a->state_dir, NULL);
	if (real == NULL)
		return sb_error_errno(err, "state", "state directory `%s`", a->state_dir);
	free(a->state_dir);
	a->state_dir = real;
	/* One server per state directory: a second one would mark the first
	 * one's running jobs failed and race it on jobs.json. */
	snprintf(logs, sizeof(logs), "%s/lock", a->state_dir);
	a->lock_fd = open(logs, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->lock_fd < 0)
		return sb_error_errno(err, "state", "open `%s`", logs);
	if (flock(a->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		sb_error_errno(err, "state", "lock `%s`", logs);
		if (errno != EWOULDBLOCK)
			return sb_error_code(err);
		sb_error_set(err, "state", EBUSY, "another python-mcp is serving the state directory "
			     "`%s`", a->state_dir);
		return sb_error_hint(err, "give each server its own --state-dir");
	}
	snprintf(logs, sizeof(logs), "%s/logs", a->state_dir);
	if ((r = make_dir(logs, err)) < 0)
		return r;
	if (!cfg->log_file_given) {
		strncat(logs, "/server.log", sizeof(logs) - strlen(logs) - 1);
		if ((r = log_set_file(logs, err)) < 0)
			return r;
	}
	/* Compiled seccomp programs, private to this user like the rest. */
	if (asprintf(&a->cache_dir, "%s/cache", a->state_dir) < 0)
		return sb_error_set(err, "state", ENOMEM, "cache folder");
	if ((r = make_dir(a->cache_dir, err)) < 0)
		return r;
	if (asprintf(&a->scripts_dir, "%s/scripts", a->state_dir) < 0)
		return sb_error_set(err, "state", ENOMEM, "scripts folder");
	if ((r = make_dir(a->scripts_dir, err)) < 0)
		return r;
	/* Scratch workspaces live under the temporary directory, outside the
	 * state directory, which no sandbox may see. */
	snprintf(tmpl, sizeof(tmpl), "%s/python-mcp-%u",
		 getenv("TMPDIR") && getenv("TMPDIR")[0] == '/' ? getenv("TMPDIR") : "/tmp",
		 (unsigned)getuid());
	a->scratch_dir = strdup(tmpl);
	if (a->scratch_dir == NULL)
		return sb_error_set(err, "state", ENOMEM, "scratch directory");
	return private_dir(a->scratch_dir, err);
}

/* A directory of ours in a shared place (/tmp): one that someone else
 * created first, or made a symlink, or left open to others, would let
 * them watch or plant files in every scratch workspace. */
static int private_dir(const char *path, struct sb_error *err)
{
	struct stat st;
	int r = make_dir(path, err);

	if (r < 0)
		return r;
	if (lstat(path, &st) < 0)
		return sb_error_errno(err, "state", "`%s`", path);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		sb_error_set(err, "state", EPERM, "`%s` is not a private directory of uid %u",
			     path, (unsigned)geteuid());
		return sb_error_hint(err, "remove it (someone else may have created it), or set "
					  "TMPDIR to a private directory");
	}
	return 0;
}

/* What no client path may overlap besides the state and scratch dirs:
 * the keys and credentials in the home directory, which a workspace root
 * such as the working directory could otherwise contain. */
static void protect_paths(struct app *a)
{
	static const char *const secrets[] = {".ssh", ".gnupg", ".aws", ".kube", ".docker"};
	const char *home = getenv("HOME");

	a->protected_paths[a->n_protected++] = a->state_dir;
	a->protected_paths[a->n_protected++] = a->scratch_dir;
	for (size_t i = 0; home && home[0] == '/' && i < sizeof(secrets) / sizeof(*secrets); i++) {
		char *p = NULL;
		if (asprintf(&p, "%s/%s", home, secrets[i]) >= 0)
			a->protected_paths[a->n_protected++] = p;
	}
}

static void on_jobs_error(const struct sb_error *err, void *data)
{
	(void)data;
	log_msg(LOG_LEVEL_ERROR, "saving jobs.json: %s%s%s", err->message,
		err->hint[0] ? ". Hint: " : "", err->hint);
}

int app_start(uv_loop_t *loop, struct mcp_server *server, const struct app_config *cfg,
	      struct app **out, struct sb_error *err)
{
	struct app *a = calloc(1, sizeof(*a));
	int r;

	if (a == NULL)
		return sb_error_set(err, "app", ENOMEM, "server state");
	a->lock_fd = -1;
	*out = a;
	if ((r = open_state(a, cfg, err)) < 0 || (r = setup_roots(a, cfg, err)) < 0)
		return r;
	protect_paths(a);
	if ((r = find_file(cfg->launcher, "python-mcp-sandbox", "../sandbox/python-mcp-sandbox",
			   X_OK, "sandbox launcher", "--launcher", &a->launcher, err)) < 0 ||
	    (r = find_file(cfg->policy, "../share/python-mcp/policies/default.json",
			   PYMCP_SOURCE_DIR "/policies/default.json", R_OK, "sandbox policy", "--policy",
			   &a->policy, err)) < 0)
		return r;
	if (cfg->install_policy == NULL) {
		/* Beside the run policy: the two are installed together. */
		char sibling[PATH_MAX];
		snprintf(sibling, sizeof(sibling), "%s", a->policy);
		char *slash = strrchr(sibling, '/');
		snprintf(slash ? slash + 1 : sibling, sizeof(sibling) - (size_t)(slash ? slash + 1 - sibling : 0),
			 "install.json");
		a->install_policy = realpath(sibling, NULL);
		if (a->install_policy == NULL) {
			sb_error_errno(err, "config", "install policy `%s`", sibling);
			return sb_error_hint(err, "pass one with --install-policy");
		}
	} else if ((a->install_policy = realpath(cfg->install_policy, NULL)) == NULL) {
		sb_error_errno(err, "config", "install policy `%s`", cfg->install_policy);
		return sb_error_hint(err, "pass an existing file with --install-policy");
	}
	if (asprintf(&a->envs_dir, "%s/envs", a->state_dir) < 0) {
		a->envs_dir = NULL;
		return sb_error_set(err, "app", ENOMEM, "environments");
	}
	a->uv = find_uv();
	struct jobs_limits limits = {.disk_bytes_per_stream = cfg->disk_output_bytes,
				     .save_delay_seconds = 0.2};
	if ((r = jobs_open(loop, a->state_dir, &limits, &a->jobs, err)) < 0)
		return r;
	if (r == JOBS_OPEN_RECOVERED)
		log_msg(LOG_LEVEL_WARNING, "%s", err->message);
	jobs_set_error_handler(a->jobs, on_jobs_error, NULL);
	size_t orphans = jobs_remove_orphan_output(a->jobs);
	if (orphans > 0)
		log_msg(LOG_LEVEL_INFO, "removed the output of %zu jobs no longer in jobs.json",
			orphans);
	struct runner_config rc = {.launcher = a->launcher, .policy = a->policy,
				   .protect = a->state_dir, .cache_dir = a->cache_dir,
				   .max_running = cfg->max_jobs, .prepared = cfg->prepared};
	if ((r = runner_new(loop, &rc, a->jobs, &a->runner, err)) < 0)
		return r;
	struct envs_config envc = {.loop = loop, .dir = a->envs_dir,
				   .protected_paths = a->protected_paths,
				   .n_protected = a->n_protected, .install_policy = a->install_policy,
				   .uv = a->uv, .max_envs = cfg->max_envs,
				   .install_timeout = cfg->install_timeout};
	if ((r = envs_new(a->runner, &envc, &a->envs, err)) < 0)
		return r;
	a->smart = smart_new(loop, a->runner, cfg->smart_timeout);
	if (a->smart == NULL)
		return sb_error_set(err, "app", ENOMEM, "smart async");
	struct tools_jobs_config jc = {.inline_output_bytes = cfg->inline_output_bytes,
				       .cancel = cancel_with_runner, .cancel_data = a->runner,
				       .prune_envs = prune_envs, .prune_envs_data = a->envs};
	if ((r = tools_jobs_register(server, a->jobs, &jc, err)) < 0)
		return r;
	struct tools_exec_config ec = {
		.env = {.loop = loop, .jobs = a->jobs, .runner = a->runner, .smart = a->smart, .envs = a->envs,
			.workspace_roots = a->roots, .n_workspace_roots = a->n_roots,
			.state_dir = a->state_dir, .scratch_dir = a->scratch_dir,
			.protected_paths = a->protected_paths, .n_protected = a->n_protected,
			.inline_output_bytes = cfg->inline_output_bytes},
		.scripts_dir = a->scripts_dir,
	};
	if ((r = tools_exec_register(server, &ec, err)) < 0)
		return r;
	log_info("python-mcp: state `%s`, launcher `%s`, policy `%s`, install policy `%s`, "
		 "installer %s, %u concurrent jobs",
		 a->state_dir, a->launcher, a->policy, a->install_policy, a->uv ? a->uv : "pip",
		 cfg->max_jobs);
	return 0;
}

static void on_runner_stopped(void *data)
{
	struct app *a = data;
	struct sb_error err = {0};

	if (a->jobs && jobs_flush(a->jobs, &err) < 0)
		log_msg(LOG_LEVEL_ERROR, "saving jobs: %s", err.message);
	smart_free(a->smart);
	envs_free(a->envs);
	interp_info_free_all();
	runner_free(a->runner);
	jobs_close(a->jobs);
	tools_exec_free();
	for (size_t i = 2; i < a->n_protected; i++) /* 0 and 1 are freed below */
		free(a->protected_paths[i]);
	for (size_t i = 0; i < a->n_roots; i++)
		free(a->roots[i]);
	free(a->roots);
	free(a->state_dir);
	free(a->scripts_dir);
	free(a->scratch_dir);
	free(a->cache_dir);
	free(a->policy);
	free(a->install_policy);
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	free(a->envs_dir);
	free(a->uv);
	free(a->launcher);
	void (*done)(void *) = a->done;
	void *done_data = a->done_data;
	free(a);
	if (done)
		done(done_data);
}

void app_stop(struct app *a, void (*done)(void *data), void *data)
{
	a->done = done;
	a->done_data = data;
	if (a->smart)
		smart_stop(a->smart);
	if (a->runner) {
		runner_shutdown(a->runner, on_runner_stopped, a);
		return;
	}
	on_runner_stopped(a);
}
