#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_dir.h"
#include "cleanup.h"
#include "fileio.h"
#include "fence.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "envs.h"
#include "interp_info.h"
#include "pep723.h"
#include "policy_snapshot.h"
#include "runner.h"
#include "sessions.h"
#include "smart.h"
#include "tools.h"

/* After an interrupt, how long a session's code may take to stop before
 * the whole session is killed. */
#define SESSION_GRACE_SECONDS 2.0

struct app {
	char *state_dir, *scripts_dir, *cache_dir, *policy, *launcher;
	char *install_policy, *envs_dir, *uv, *self;
	int lock_fd;	    /* holds <state>/lock for the server's life */
	unsigned prepared;  /* sandboxes kept ready (0: readiness needs none up) */
	char cwd[PATH_MAX]; /* relative client paths start here */
	/* What no workspace may contain or lie in (each malloc'd). */
	char **protected_paths;
	size_t n_protected;
	struct pm_fence fence; /* the roots and the protected paths */
	struct jobs *jobs;
	struct runner *runner;
	struct pep723 *pep723;
	struct envs *envs;
	struct smart *smart;
	struct exec_env exec; /* what runs need, for the tools and the sessions */
	struct sessions *sessions;
	struct tools *tools;
	struct mcp_server *server;
	/* The policies in force: snapshots in <state>/policies that
	 * launchers load (policy_snapshot.h); a reload replaces both. */
	char *snapshots_dir;
	struct policy_snapshot run_snap, install_snap;
	void (*done)(void *data);
	void *done_data;
};

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

static int find_file(const char *given, const char *installed, const char *in_build, int mode,
		     const char *what, const char *flag, char **out, struct pm_error *err)
{
	char dir[PATH_MAX], a[PATH_MAX + 64] = "", b[PATH_MAX + 64] = "";

	if (given) {
		*out = realpath(given, NULL);
		if (*out == NULL || access(*out, mode) < 0) {
			pm_error_errno(err, "config", "%s `%s`", what, given);
			free(*out);
			*out = NULL;
			return pm_error_code(err);
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
	pm_error_set(err, "config", ENOENT, "no %s found (looked for `%s` and `%s`)", what, a, b);
	return pm_error_hint(err, "build the project, or pass %s PATH", flag);
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

/* The state directory and what it holds: private to the server. */
static int make_state_dir(const char *path, struct pm_error *err)
{
	return pm_mkdir(path, 0700, "state", err);
}

static int setup_roots(struct app *a, const struct app_config *cfg, struct pm_error *err)
{
	const char *tmp =
	    getenv("TMPDIR") && getenv("TMPDIR")[0] == '/' ? getenv("TMPDIR") : "/tmp";
	const char *defaults[2] = {a->cwd, tmp};
	const char *const *given = cfg->workspace_roots ? cfg->workspace_roots : defaults;
	size_t n = cfg->workspace_roots ? cfg->n_workspace_roots : 2;
	int r;

	a->fence.roots_flag = "--workspace-root";
	for (size_t i = 0; i < n; i++) {
		if ((r = pm_fence_add_root(&a->fence, given[i], err)) < 0)
			return pm_error_hint(err, "pass existing directories other than `/` with "
						  "--workspace-root");
	}
	return 0;
}

/* A session's run is the session's to interrupt; every other job is the
 * runner's to kill. */
static int cancel_job(struct job *j, tools_cancel_done_fn done, void *call, void *data,
		      struct pm_error *err)
{
	struct app *a = data;

	if (sessions_owns_run(a->sessions, j))
		return sessions_cancel_run(a->sessions, j, done, call, err);
	return runner_cancel(a->runner, j, done, call, err);
}

static int prune_envs(double max_age_seconds, unsigned *removed, void *data, struct pm_error *err)
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
			log_msg(LOG_LEVEL_WARNING,
				"not using `%s`: uv is used from a `bin` "
				"directory only; installs use pip",
				real);
		free(real);
	}
	return NULL;
}

static int open_state(struct app *a, const struct app_config *cfg, struct pm_error *err)
{
	char logs[PATH_MAX];
	int r;

	a->state_dir = cfg->state_dir ? strdup(cfg->state_dir) : default_state_dir();
	if (a->state_dir == NULL)
		return pm_error_set(err, "state", ENOMEM, "state directory");
	if ((r = make_state_dir(a->state_dir, err)) < 0)
		return r;
	/* Canonical, so that workspace checks compare like with like. */
	char *real = realpath(a->state_dir, NULL);
	if (real == NULL)
		return pm_error_errno(err, "state", "state directory `%s`", a->state_dir);
	free(a->state_dir);
	a->state_dir = real;
	/* One server per state directory: a second one would mark the first
	 * one's running jobs failed and race it on jobs.json. */
	snprintf(logs, sizeof(logs), "%s/lock", a->state_dir);
	a->lock_fd = open(logs, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->lock_fd < 0)
		return pm_error_errno(err, "state", "open `%s`", logs);
	if (flock(a->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		pm_error_errno(err, "state", "lock `%s`", logs);
		if (errno != EWOULDBLOCK)
			return pm_error_code(err);
		pm_error_set(err, "state", EBUSY,
			     "another python-mcp is serving the state directory "
			     "`%s`",
			     a->state_dir);
		return pm_error_hint(err, "give each server its own --state-dir");
	}
	snprintf(logs, sizeof(logs), "%s/logs", a->state_dir);
	if ((r = make_state_dir(logs, err)) < 0)
		return r;
	if (!cfg->log_file_given) {
		strncat(logs, "/server.log", sizeof(logs) - strlen(logs) - 1);
		if ((r = log_set_file(logs, err)) < 0)
			return r;
	}
	/* Compiled seccomp programs, private to this user like the rest. */
	if (asprintf(&a->cache_dir, "%s/cache", a->state_dir) < 0)
		return pm_error_set(err, "state", ENOMEM, "cache folder");
	if ((r = make_state_dir(a->cache_dir, err)) < 0)
		return r;
	if (asprintf(&a->scripts_dir, "%s/scripts", a->state_dir) < 0)
		return pm_error_set(err, "state", ENOMEM, "scripts folder");
	if ((r = make_state_dir(a->scripts_dir, err)) < 0)
		return r;
	return 0;
}

static int protect(struct app *a, const char *path, struct pm_error *err)
{
	char **grown = realloc(a->protected_paths, (a->n_protected + 1) * sizeof(*grown));

	if (grown == NULL)
		return pm_error_set(err, "config", ENOMEM, "protected paths");
	a->protected_paths = grown;
	if ((grown[a->n_protected] = strdup(path)) == NULL)
		return pm_error_set(err, "config", ENOMEM, "protected paths");
	a->n_protected++;
	return pm_fence_add_guarded(&a->fence, path, err);
}

/* What no workspace may contain or lie in (THREATS.md S5, S8): what the
 * server reads as configuration or runs (its own binary, the launcher,
 * the policies, the install prefix, the interpreters), its state, and the
 * keys a home directory (which a working-directory root may hold) keeps. */
static int protect_paths(struct app *a, struct pm_error *err)
{
	static const char *const secrets[] = {".ssh", ".gnupg", ".aws", ".kube", ".docker"};
	const char *home = getenv("HOME");
	char path[PATH_MAX];
	int r;

	const char *own[] = {a->state_dir, a->self, a->launcher, a->policy, a->install_policy};
	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++)
		if ((r = protect(a, own[i], err)) < 0)
			return r;
	/* Installed as <prefix>/bin/python-mcp: the whole prefix (its
	 * share/ holds the policies). */
	snprintf(path, sizeof(path), "%s", a->self);
	char *slash = strrchr(path, '/');
	if (slash && slash - path >= 4 && strncmp(slash - 4, "/bin", 4) == 0) {
		slash[-4] = '\0';
		if (path[0] && strcmp(path, "/usr") != 0 && (r = protect(a, path, err)) < 0)
			return r;
	}
	/* The interpreters a run may pick, and their standard libraries. */
	_cleanup_(closedir_p) DIR *d = opendir("/usr/bin");
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		if (strncmp(e->d_name, "python3", 7) != 0 || strchr(e->d_name, '-'))
			continue;
		snprintf(path, sizeof(path), "/usr/bin/%s", e->d_name);
		_cleanup_free_ char *real = realpath(path, NULL);
		if (real && (r = protect(a, real, err)) < 0)
			return r;
		if (strncmp(e->d_name, "python3.", 8) == 0) {
			snprintf(path, sizeof(path), "/usr/lib/%s", e->d_name);
			if (access(path, F_OK) == 0 && (r = protect(a, path, err)) < 0)
				return r;
		}
	}
	for (size_t i = 0; home && home[0] == '/' && i < sizeof(secrets) / sizeof(*secrets); i++) {
		snprintf(path, sizeof(path), "%s/%s", home, secrets[i]);
		if ((r = protect(a, path, err)) < 0)
			return r;
	}
	return 0;
}

static struct policy_source policy_source(const struct app *a)
{
	return (struct policy_source){
	    .launcher = a->launcher, .self = a->self, .dir = a->snapshots_dir};
}

/* Both policies read again, as a pair, and snapshot; then a root server
 * refuses files the scripts' ids could change (the launcher checks
 * itself, the policy, its bases and the server binary, once per policy
 * since each names its own host ids). */
static int take_snapshots(struct app *a, struct policy_snapshot *run,
			  struct policy_snapshot *install, struct pm_error *err)
{
	struct policy_source src = policy_source(a);
	int r;

	if ((r = policy_snapshot_take(&src, a->policy, "run", run, err)) < 0)
		return r;
	if ((r = policy_snapshot_take(&src, a->install_policy, "install", install, err)) == 0 &&
	    geteuid() == 0 &&
	    ((r = policy_check(&src, a->policy, err)) < 0 ||
	     (r = policy_check(&src, a->install_policy, err)) < 0))
		policy_snapshot_clear(install);
	if (r < 0)
		policy_snapshot_clear(run);
	return r;
}

static bool names(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* A snapshot stays while it is in force or a launcher (or a queued
 * install) may still load it; the tools forget the others. */
static bool keep_snapshot(const char *path, void *data)
{
	struct app *a = data;

	if (names(path, a->run_snap.path) || names(path, a->install_snap.path) ||
	    (a->runner && runner_policy_in_use(a->runner, path)))
		return true;
	if (a->tools)
		tools_forget_policy(a->tools, path);
	return false;
}

/* The runner's word that no launcher needs `path` any more. */
static void on_policy_unused(const char *path, void *data)
{
	struct app *a = data;
	size_t n = strlen(a->snapshots_dir);

	if (strncmp(path, a->snapshots_dir, n) == 0 && path[n] == '/' && !keep_snapshot(path, a))
		unlink(path);
}

/* What agents read of the run policy in force. */
static int show_policy(struct app *a, struct pm_error *err)
{
	char note[2048];
	int r;

	if ((r = tools_set_policy(a->tools, a->run_snap.path, a->run_snap.effective, err)) < 0)
		return r;
	tools_limits_note(a->tools, note, sizeof(note));
	mcp_server_set_limits_note(a->server, note);
	return 0;
}

/* New snapshots in force (the old ones end up in run and install): new
 * runs and installs load them; runs under way keep theirs. */
static int adopt(struct app *a, struct policy_snapshot *run, struct policy_snapshot *install,
		 struct pm_error *err)
{
	struct policy_snapshot swap;
	int r;

	if (!names(run->path, a->run_snap.path) &&
	    (r = runner_set_policy(a->runner, run->path, err)) < 0)
		return r;
	if ((r = envs_set_install_policy(a->envs, install->path, err)) < 0)
		return r;
	swap = a->run_snap, a->run_snap = *run, *run = swap;
	swap = a->install_snap, a->install_snap = *install, *install = swap;
	return show_policy(a, err);
}

int app_reload_policies(struct app *a, char *what, size_t size, struct pm_error *err)
{
	struct policy_snapshot run = {0}, install = {0};
	struct policy_source src = policy_source(a);
	int r = take_snapshots(a, &run, &install, err);

	if (r == 0 && (r = adopt(a, &run, &install, err)) == 0)
		snprintf(what, size,
			 "run policy `%s` (snapshot `%s`), install policy `%s` "
			 "(snapshot `%s`)",
			 a->policy, a->run_snap.path, a->install_policy, a->install_snap.path);
	policy_snapshot_clear(&run);
	policy_snapshot_clear(&install);
	/* The replaced snapshots no launcher loads, or new ones refused. */
	policy_snapshot_prune(&src, keep_snapshot, a);
	return r;
}

static void on_jobs_error(const struct pm_error *err, void *data)
{
	(void)data;
	log_msg(LOG_LEVEL_ERROR, "saving jobs.json: %s%s%s", err->message,
		err->hint[0] ? ". Hint: " : "", err->hint);
}

int app_start(uv_loop_t *loop, struct mcp_server *server, const struct app_config *cfg,
	      struct app **out, struct pm_error *err)
{
	struct app *a = calloc(1, sizeof(*a));
	int r;

	if (a == NULL)
		return pm_error_set(err, "app", ENOMEM, "server state");
	a->lock_fd = -1;
	a->prepared = cfg->prepared;
	a->server = server;
	*out = a;
	if (getcwd(a->cwd, sizeof(a->cwd)) == NULL)
		return pm_error_errno(err, "config", "the working directory");
	if ((r = open_state(a, cfg, err)) < 0 || (r = setup_roots(a, cfg, err)) < 0)
		return r;
	if ((r = find_file(cfg->launcher, "python-mcp-sandbox", "../sandbox/python-mcp-sandbox",
			   X_OK, "sandbox launcher", "--launcher", &a->launcher, err)) < 0 ||
	    (r = find_file(cfg->policy, "../share/python-mcp/policies/default.json",
			   PYMCP_SOURCE_DIR "/policies/default.json", R_OK, "sandbox policy",
			   "--policy", &a->policy, err)) < 0)
		return r;
	if (cfg->install_policy == NULL) {
		/* Beside the run policy: the two are installed together. */
		char sibling[PATH_MAX];
		snprintf(sibling, sizeof(sibling), "%s", a->policy);
		char *slash = strrchr(sibling, '/');
		snprintf(slash ? slash + 1 : sibling,
			 sizeof(sibling) - (size_t)(slash ? slash + 1 - sibling : 0),
			 "install.json");
		a->install_policy = realpath(sibling, NULL);
		if (a->install_policy == NULL) {
			pm_error_errno(err, "config", "install policy `%s`", sibling);
			return pm_error_hint(err, "pass one with --install-policy");
		}
	} else if ((a->install_policy = realpath(cfg->install_policy, NULL)) == NULL) {
		pm_error_errno(err, "config", "install policy `%s`", cfg->install_policy);
		return pm_error_hint(err, "pass an existing file with --install-policy");
	}
	if ((a->self = realpath("/proc/self/exe", NULL)) == NULL)
		return pm_error_errno(err, "config", "the server's own binary (/proc/self/exe)");
	if (asprintf(&a->snapshots_dir, "%s/policies", a->state_dir) < 0) {
		a->snapshots_dir = NULL;
		return pm_error_set(err, "app", ENOMEM, "policy snapshots");
	}
	if ((r = protect_paths(a, err)) < 0 ||
	    (r = take_snapshots(a, &a->run_snap, &a->install_snap, err)) < 0)
		return r;
	if (asprintf(&a->envs_dir, "%s/envs", a->state_dir) < 0) {
		a->envs_dir = NULL;
		return pm_error_set(err, "app", ENOMEM, "environments");
	}
	a->uv = find_uv();
	struct jobs_limits limits = {.disk_bytes_per_stream = cfg->disk_output_bytes,
				     .state_bytes = cfg->max_state_bytes,
				     .inline_bytes = cfg->inline_output_bytes,
				     .max_kept = cfg->max_stored_jobs,
				     .max_kept_per_tenant = cfg->tenant_max_stored_jobs,
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
	/* Before the first launcher starts: they inherit our cgroup. */
	char note[PATH_MAX * 3];
	int moved = pm_cgroup_enter_leaf(note, sizeof(note));
	if (note[0])
		log_msg(moved < 0 ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO, "cgroup: %s", note);
	struct runner_config rc = {.launcher = a->launcher,
				   .policy = a->run_snap.path,
				   .protect = a->protected_paths,
				   .n_protect = a->n_protected,
				   .cache_dir = a->cache_dir,
				   .max_running = cfg->max_jobs,
				   .prepared = cfg->prepared,
				   .max_pending = cfg->max_pending,
				   .policy_unused = on_policy_unused,
				   .policy_data = a};
	if ((r = runner_new(loop, &rc, a->jobs, &a->runner, err)) < 0)
		return r;
	struct envs_config envc = {.loop = loop,
				   .dir = a->envs_dir,
				   .protected_paths = a->protected_paths,
				   .n_protected = a->n_protected,
				   .install_policy = a->install_snap.path,
				   .uv = a->uv,
				   .max_envs = cfg->max_envs,
				   .install_timeout = cfg->install_timeout};
	if ((r = envs_new(a->runner, &envc, &a->envs, err)) < 0)
		return r;
	/* Headers are parsed by the system interpreter's tomllib, under the
	 * run policy. */
	if ((a->pep723 = pep723_new(a->runner, "/usr/bin/python3")) == NULL)
		return pm_error_set(err, "app", ENOMEM, "PEP 723 headers");
	a->smart = smart_new(loop, cfg->smart_timeout);
	if (a->smart == NULL)
		return pm_error_set(err, "app", ENOMEM, "smart async");
	a->exec = (struct exec_env){.loop = loop,
				    .jobs = a->jobs,
				    .runner = a->runner,
				    .smart = a->smart,
				    .envs = a->envs,
				    .fence = &a->fence,
				    .cwd = a->cwd,
				    .inline_output_bytes = cfg->inline_output_bytes,
				    .tenant_max_live = cfg->tenant_max_jobs,
				    .artifacts = {.max_bytes = cfg->artifact_max_bytes,
						  .max_files = ARTIFACTS_FILES_DEFAULT}};
	struct sessions_config sc = {.max_sessions = cfg->max_sessions,
				     .tenant_max_sessions = cfg->tenant_max_sessions,
				     .grace_seconds = SESSION_GRACE_SECONDS};
	if ((a->sessions = sessions_new(&a->exec, &sc)) == NULL)
		return pm_error_set(err, "app", ENOMEM, "sessions");
	struct tools_config tc = {
	    .exec = a->exec,
	    .sessions = a->sessions,
	    .image_max_bytes = cfg->image_max_bytes,
	    .max_images = cfg->max_images,
	    .scripts_dir = a->scripts_dir,
	    .pep723 = a->pep723,
	    .max_scripts = cfg->max_scripts,
	    .fixtures = cfg->conformance_fixtures,
	    .inline_output_bytes = cfg->inline_output_bytes,
	    .cancel = cancel_job,
	    .cancel_data = a,
	    .prune_envs = prune_envs,
	    .prune_envs_data = a->envs,
	};
	if ((a->tools = tools_new(&tc)) == NULL)
		return pm_error_set(err, "app", ENOMEM, "tools");
	if ((r = mcp_serve_tools(server, a->tools, err)) < 0 || (r = show_policy(a, err)) < 0)
		return r;
	/* Snapshots of an earlier server's policies go. */
	struct policy_source src = policy_source(a);
	policy_snapshot_prune(&src, keep_snapshot, a);
	log_info("python-mcp: state `%s`, launcher `%s`, policy `%s` (snapshot `%s`), install "
		 "policy `%s` (snapshot `%s`), installer %s, %u concurrent jobs",
		 a->state_dir, a->launcher, a->policy, a->run_snap.path, a->install_policy,
		 a->install_snap.path, a->uv ? a->uv : "pip", cfg->max_jobs);
	return 0;
}

static void on_runner_stopped(void *data)
{
	struct app *a = data;
	struct pm_error err = {0};

	if (a->jobs && jobs_flush(a->jobs, &err) < 0)
		log_msg(LOG_LEVEL_ERROR, "saving jobs: %s", err.message);
	smart_free(a->smart);
	envs_free(a->envs);
	interp_info_free_all();
	runner_free(a->runner);
	pep723_free(a->pep723); /* after the runner: its tasks were parses */
	tools_free(a->tools);
	sessions_free(a->sessions); /* their sandboxes ended with the runner */
	jobs_close(a->jobs);
	for (size_t i = 0; i < a->n_protected; i++)
		free(a->protected_paths[i]);
	free(a->protected_paths);
	pm_fence_free(&a->fence);
	free(a->self);
	free(a->state_dir);
	free(a->scripts_dir);
	free(a->cache_dir);
	free(a->policy);
	free(a->install_policy);
	policy_snapshot_clear(&a->run_snap);
	policy_snapshot_clear(&a->install_snap);
	free(a->snapshots_dir);
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

bool app_ready(void *data, char *why, size_t size)
{
	struct app *a = data;
	struct runner_counts rc;
	char probe[PATH_MAX];
	int fd;

	runner_counts(a->runner, &rc);
	if (rc.alive == 0 && a->prepared > 0) {
		snprintf(why, size,
			 "no sandbox launcher is up (the launcher `%s` with policy `%s`)",
			 a->launcher, a->policy);
		return false;
	}
	/* Writable for real: a file made and removed, not access(). */
	snprintf(probe, sizeof(probe), "%s/meta/.ready-probe", a->state_dir);
	if ((fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		snprintf(why, size, "the state directory `%s` is not writable: %s", a->state_dir,
			 strerror(errno));
		return false;
	}
	close(fd);
	unlink(probe);
	return true;
}

void app_gauges(void *data, FILE *out)
{
	struct app *a = data;
	static const char *const names[] = {"pending", "running", "completed", "failed",
					    "cancelled"};
	size_t by_status[5] = {0};
	struct runner_counts rc;

	for (struct job *j = jobs_newest(a->jobs); j != NULL; j = jobs_older(j))
		by_status[j->status]++;
	for (int s = 0; s < 5; s++)
		pm_metric_gauge(out, "python_mcp_jobs", s == 0 ? "Jobs kept, by status" : NULL,
				"status", names[s], (double)by_status[s]);
	runner_counts(a->runner, &rc);
	pm_metric_gauge(out, "python_mcp_queue_length", "Jobs waiting for a sandbox", NULL, NULL,
			rc.queued);
	pm_metric_gauge(out, "python_mcp_runs_in_progress", "Runs going now", NULL, NULL,
			rc.running);
	pm_metric_gauge(out, "python_mcp_launchers_ready", "Sandboxes prepared ahead of jobs", NULL,
			NULL, rc.idle);
}
