#include "launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "env.h"
#include "fence.h"
#include "init.h"
#include "job_mounts.h"
#include "integrity.h"
#include "mounts.h"
#include "oom_guard.h"
#include "seccomp.h"
#include "seccomp_cache.h"
#include "proc_parent.h"
#include "progress.h"
#include "supervise.h"
#include "paths.h"
#include "wire.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Fails unless the policy lets this layer be missing; then the started
 * event says so. */
static int layer_missing(struct sb_sandbox *sb, enum sb_layer layer, struct pm_error *err)
{
	size_t len = strlen(sb->degraded);

	if (!(sb->policy->optional_layers & layer))
		return pm_error_code(err);
	snprintf(sb->degraded + len, sizeof(sb->degraded) - len, "%s%s: %s", len ? "; " : "",
		 sb_layer_name(layer), err->message);
	return 0;
}

static pid_t clone_init(const struct sb_policy *p, int *pidfd, struct pm_error *err)
{
	struct clone_args args = {
	    .flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
		     CLONE_PIDFD | (p->net_mode == SB_NET_HOST ? 0 : CLONE_NEWNET),
	    .pidfd = (uint64_t)(uintptr_t)pidfd,
	    .exit_signal = SIGCHLD,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0) {
		pm_error_errno(err, "namespaces", "create the sandbox's namespaces");
		if (errno == EPERM || errno == ENOSPC)
			pm_error_hint(err,
				      "user namespaces are disabled or blocked here: check "
				      "sysctl user.max_user_namespaces (and "
				      "kernel.unprivileged_userns_clone); inside a container run "
				      "with the project's profile, `--security-opt "
				      "seccomp=policies/container-seccomp.json` (or "
				      "seccomp=unconfined)");
	}
	return pid;
}

static int open_channels(struct sb_sandbox *sb, struct pm_error *err)
{
	if (pipe2(sb->sync, O_CLOEXEC) < 0 || pipe2(sb->report, O_CLOEXEC) < 0 ||
	    pipe2(sb->progress, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sb->job) < 0)
		return pm_error_errno(err, "launch", "create the channels to the sandbox");
	if (sb->policy->output_bytes > 0 &&
	    (pipe2(sb->out, O_CLOEXEC) < 0 || pipe2(sb->err, O_CLOEXEC) < 0))
		return pm_error_errno(err, "launch", "create the output pipes");
	return 0;
}

static int read_ready(struct sb_sandbox *sb, struct pm_error *err);

/* The policy's part of the fence, built while no job waits.  A root that
 * does not exist on this host holds no workspace and is left out. */
static int build_fence(struct sb_sandbox *sb, struct pm_error *err)
{
	const struct sb_policy *p = sb->policy;
	_cleanup_free_ char *self = sb_self_exe(err);
	int r;

	sb->fence.roots_flag = "\"workspace\".\"roots\" in the policy";
	if (self == NULL)
		return pm_error_code(err);
	for (size_t i = 0; i < p->n_workspace_roots; i++) {
		struct pm_error e = {0};
		if (access(p->workspace_roots[i], F_OK) < 0)
			continue;
		if ((r = pm_fence_add_root(&sb->fence, p->workspace_roots[i], &e)) < 0) {
			*err = e;
			return pm_error_wrap(err, "policy `%s`", p->file);
		}
	}
	for (size_t i = 0; i < p->n_protected_paths; i++)
		if ((r = pm_fence_add_guarded(&sb->fence, p->protected_paths[i], err)) < 0)
			return r;
	if ((r = pm_fence_add_guarded(&sb->fence, self, err)) < 0 ||
	    (r = pm_fence_add_guarded(&sb->fence, p->file, err)) < 0)
		return r;
	for (size_t i = 1; i < p->n_sources; i++)
		if ((r = pm_fence_add_guarded(&sb->fence, p->sources[i], err)) < 0)
			return r;
	return 0;
}

/* Releases init to its next step.  When init already died, its report
 * says why, which is what the caller wants to hear, not EPIPE. */
static int release_init(struct sb_sandbox *sb, char step, struct pm_error *err)
{
	if (write(sb->sync[1], &step, 1) == 1)
		return 0;
	if (read_ready(sb, err) < 0)
		return pm_error_code(err);
	return pm_error_errno(err, "launch", "release the sandbox");
}

struct cgroup_work {
	struct sb_sandbox *sb;
	int r;
	struct pm_error err;
};

static void *cgroup_thread(void *arg)
{
	struct cgroup_work *w = arg;
	struct sb_sandbox *sb = w->sb;

	w->r = sb_cgroup_create(&sb->policy->cgroup, &sb->cg, &w->err);
	if (w->r == -ENOTSUP)
		w->r = layer_missing(sb, SB_LAYER_CGROUP, &w->err);
	if (w->r == 0)
		w->r = sb_cgroup_add(&sb->cg, sb->pid, &w->err);
	return NULL;
}

static int compile_filter(struct sb_sandbox *sb, const char *cache_dir, struct pm_error *err)
{
	scmp_filter_ctx ctx = NULL;
	struct pm_error cache_err = {0};
	char key[PM_SHA256_HEX];
	int r;

	if (sb->policy->seccomp == NULL)
		return 0;
	bool cached = cache_dir && sb_bpf_cache_key(sb->policy->seccomp, key) == 0;
	if (cached) {
		r = sb_bpf_cache_load(cache_dir, key, &sb->bpf, &cache_err);
		if (r == 0)
			return 0;
		/* An untrustworthy cache is never used, and said so. */
		if (r != -ENOENT) {
			*err = cache_err;
			return r;
		}
	}
	r = sb_seccomp_build(sb->policy->seccomp_profile, sb->policy->file, &ctx, err);
	if (r == 0)
		r = sb_bpf_export(ctx, &sb->bpf, err);
	if (ctx)
		seccomp_release(ctx);
	/* A failed store only costs the next run a compile. */
	if (r == 0 && cached)
		(void)sb_bpf_cache_store(cache_dir, key, &sb->bpf, &cache_err);
	return r;
}

/* The namespaces the user-mode network helper joins.  Opened while init
 * is still dumpable and the launcher still its owner: a root launcher in a
 * container may lack the CAP_SYS_PTRACE it would need later. */
static int open_namespaces(struct sb_sandbox *sb, struct pm_error *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)sb->pid);
	if ((sb->userns_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return pm_error_errno(err, "user_network", "open `%s`", path);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)sb->pid);
	if ((sb->netns_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return pm_error_errno(err, "user_network", "open `%s`", path);
	return 0;
}

static int become_owner(struct sb_sandbox *sb, struct pm_error *err)
{
	if (setgroups(0, NULL) < 0)
		return pm_error_errno(err, "userns", "drop the launcher's supplementary groups");
	if (setresgid(-1, sb->map.host_gid, -1) < 0)
		return pm_error_errno(err, "userns", "switch to host gid %u", sb->map.host_gid);
	if (setresuid(-1, sb->map.host_uid, -1) < 0)
		return pm_error_errno(err, "userns", "switch to host uid %u", sb->map.host_uid);
	/* The uid change made us non-dumpable; the child must not be, or its
	 * /proc files would belong to root and its owner could not write its
	 * maps.  Init makes itself non-dumpable once the maps are written. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return pm_error_errno(err, "userns", "prctl(PR_SET_DUMPABLE)");
	return 0;
}

static int back_to_root(pid_t parent, struct pm_error *err)
{
	/* Cannot fail for a process whose real and saved ids are 0. */
	if (setresuid(-1, 0, -1) < 0 || setresgid(-1, 0, -1) < 0)
		return pm_error_errno(err, "userns", "switch back to root");
	/* Every credential change clears the parent-death signal: arm it
	 * again, then make sure the parent did not die meanwhile. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return pm_error_errno(err, "userns", "prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		return pm_error_set(err, "launch", ESRCH,
				    "the process that started the launcher "
				    "is gone");
	/* Dumpable again: the id-map helper this launcher clones later must
	 * be openable without CAP_SYS_PTRACE (containers withhold it). */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return pm_error_errno(err, "userns", "prctl(PR_SET_DUMPABLE)");
	return 0;
}

int sb_sandbox_prepare(struct sb_sandbox *sb, const struct sb_policy *p, int status_fd,
		       const char *cache_dir, struct pm_error *err)
{
	struct sb_init_config init = {0};
	int r = 0, rr;

	*sb = (struct sb_sandbox){.policy = p,
				  .status_fd = status_fd,
				  .sync = {-1, -1},
				  .report = {-1, -1},
				  .job = {-1, -1},
				  .out = {-1, -1},
				  .err = {-1, -1},
				  .progress = {-1, -1},
				  .progress_script_fd = -1,
				  .pidfd = -1,
				  .userns_fd = -1,
				  .netns_fd = -1,
				  .usernet = {.stop_fd = -1}};
	/* A root launcher never maps the script to host root: it runs as the
	 * policy's unprivileged host ids, and the workspace is mounted
	 * id-mapped so that its owner's files stay writable. */
	sb->privileged = geteuid() == 0;
	sb->map = (struct sb_idmap){
	    .inside_uid = p->uid,
	    .inside_gid = p->gid,
	    .host_uid = sb->privileged ? p->host_uid : geteuid(),
	    .host_gid = sb->privileged ? p->host_gid : getegid(),
	};
	if ((r = sb_integrity_check(p, NULL, 0, err)) < 0 || (r = build_fence(sb, err)) < 0 ||
	    (r = open_channels(sb, err)) < 0)
		return r;
	/* The host's addresses as the host's namespace shows them; init
	 * inherits the list with the launcher's memory. */
	if (p->net_mode == SB_NET_USER && (r = sb_hostaddrs_read(&sb->host_addrs, err)) < 0)
		return r;

	init = (struct sb_init_config){
	    .policy = p,
	    .map = sb->map,
	    .drop_groups = false, /* the launcher dropped its own before the clone */
	    .mounts = {.policy = p,
		       .block_nested_userns = true,
		       .nested_userns_optional = p->optional_layers & SB_LAYER_USERNS_LIMIT},
	    .sync_fd = sb->sync[0],
	    .report_fd = sb->report[1],
	    .job_fd = sb->job[1],
	    .stdout_fd = sb->out[1],
	    .stderr_fd = sb->err[1],
	    .progress_fd = sb->progress[1],
	    .host_addrs = &sb->host_addrs,
	};
	/* A root launcher creates the namespace as the unprivileged host user
	 * and writes its id maps as that owner:
	 * - per-user kernel counts (inotify instances and watches, among
	 *   others) are charged to the namespace's creator, so a job can only
	 *   exhaust that user's share, never root's;
	 * - an owner may write a one-id map of itself without any capability,
	 *   which a root launcher inside a container may not have.
	 * Root's supplementary groups go first, since the child could not
	 * drop them once setgroups is denied. */
	pid_t parent = getppid();
	if (sb->privileged && (r = become_owner(sb, err)) < 0)
		return r;
	sb->pid = clone_init(p, &sb->pidfd, err);
	if (sb->pid == 0)
		sb_init_main(&init);
	if (sb->pid > 0)
		r = sb_userns_write_maps(sb->pid, &sb->map, false, err);
	if (sb->pid > 0 && r == 0 && p->net_mode == SB_NET_USER)
		r = open_namespaces(sb, err);
	if (sb->privileged && (rr = back_to_root(parent, err)) < 0)
		return rr;
	if (sb->pid < 0)
		return pm_error_code(err);
	if (r < 0)
		return r;

	close_fd(&sb->sync[0]);
	close_fd(&sb->report[1]);
	close_fd(&sb->job[1]);
	close_fd(&sb->out[1]);
	close_fd(&sb->err[1]);
	/* The script has the write end under the same number. */
	sb->progress_script_fd = sb->progress[1];
	close_fd(&sb->progress[1]);
	if ((r = release_init(sb, 'g', err)) < 0)
		return r;
	/* Three things now overlap: init builds its root, a thread moves init
	 * into its cgroups (on v1 that waits for an RCU grace period), and
	 * this thread compiles the seccomp filter. */
	struct cgroup_work cw = {.sb = sb};
	pthread_t thread;
	if ((r = pthread_create(&thread, NULL, cgroup_thread, &cw)) != 0)
		return pm_error_set(err, "cgroup", r, "start the cgroup thread");
	r = compile_filter(sb, cache_dir, err);
	pthread_join(thread, NULL);
	if (r < 0)
		return r;
	if (cw.r < 0) {
		*err = cw.err;
		return cw.r;
	}
	return release_init(sb, 'c', err);
}

/* Reads init's messages without the supervisor (before the run) until
 * the one of `type`. */
static int read_until(struct sb_sandbox *sb, enum sb_msg_type type, struct pm_error *err)
{
	struct sb_msg m;

	for (;;) {
		if (sb_msg_read(sb->report[0], &m) != 1)
			return pm_error_set(err, "launch", EPIPE,
					    "the sandbox ended while it was being prepared");
		if (m.type == type)
			return 0;
		if (m.type == SB_MSG_ERROR) {
			*err = m.err;
			return pm_error_code(err);
		}
		if (m.type == SB_MSG_DEGRADED)
			sb_msg_emit_degraded(sb->status_fd, &m);
	}
}

static int read_ready(struct sb_sandbox *sb, struct pm_error *err)
{
	return read_until(sb, SB_MSG_READY, err);
}

int sb_sandbox_wait_ready(struct sb_sandbox *sb, struct pm_error *err)
{
	int r = read_ready(sb, err);

	sb->ready = r == 0;
	if (r < 0)
		sb_status_error(sb->status_fd, err);
	else
		sb_status_emit_new(sb->status_fd, json_pack("{s:s}", WIRE_EVENT, WIRE_EVENT_READY));
	return r;
}

/* Init's child, the script (host pid), or 0; looked for only for a
 * scratch workspace, which the server reaches through it.  /proc/<init>/task/<init>/
 * children needs leave to trace init, which a launcher that is not root
 * lacks (init never exec'd and is not dumpable); the parents in
 * /proc/<pid>/stat are there for everyone. */
static pid_t script_pid(pid_t init)
{
	char path[64], buf[64];
	_cleanup_close_ int fd = -1;
	_cleanup_(closedir_p) DIR *d = NULL;
	struct dirent *e;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)init, (int)init);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		return (pid_t)strtol(buf, NULL, 10);
	}
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char stat_path[64];
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(stat_path, sizeof(stat_path), "%.20s/stat", e->d_name);
		if (pm_proc_parent_at(dirfd(d), stat_path) == init)
			return (pid_t)strtol(e->d_name, NULL, 10);
	}
	return 0;
}

static void emit_started(const struct sb_sandbox *sb, const char *workspace, bool scratch)
{
	json_t *cg = json_object();
	/* A user-mode network whose helper could not start (an optional
	 * layer) leaves loopback only. */
	bool outbound = sb->policy->net_mode == SB_NET_HOST || sb->usernet.keeper > 0;

	for (int c = 0; c < SB_CG_COUNT; c++)
		json_object_set_new(cg, sb_cg_controller_name(c),
				    sb->cg.dir[c] ? json_integer(sb->cg.version[c]) : json_null());
	sb_status_emit_new(
	    sb->status_fd,
	    json_pack("{s:s, s:i, s:i, s:o, s:o, s:b, s:s, s:b, s:s?}", WIRE_EVENT,
		      WIRE_EVENT_STARTED, "pid", (int)sb->pid, "script_pid",
		      scratch ? (int)script_pid(sb->pid) : 0, "workspace",
		      pm_json_string_lossy(workspace), "cgroup", cg, "network", outbound,
		      "network_mode", sb_net_mode_name(sb->policy->net_mode), "seccomp",
		      sb->bpf.len > 0, "degraded", sb->degraded[0] ? sb->degraded : NULL));
}

/* A "user" network's helper, once init has its netfilter rules in place
 * and before the script can run.  The job names the host loopback ports
 * it needs (an index, a proxy): a user-mode network forwards those and no
 * other; the host's network reaches them anyway, no network none. */
static int start_network(struct sb_sandbox *sb, const struct sb_job *job, struct pm_error *err)
{
	const struct sb_policy *p = sb->policy;

	if (p->net_mode != SB_NET_USER)
		return 0;
	struct sb_usernet_config cfg = {.helper = p->net_helper,
					.userns_fd = sb->userns_fd,
					.netns_fd = sb->netns_fd,
					.privileged = sb->privileged,
					.host_uid = sb->map.host_uid,
					.host_gid = sb->map.host_gid,
					.cg = &sb->cg,
					.loopback_ports = job->loopback_ports,
					.n_loopback_ports = job->n_loopback_ports};
	int r = sb_usernet_start(&sb->usernet, &cfg, err);
	return r < 0 ? layer_missing(sb, SB_LAYER_USER_NET, err) : 0;
}

/* The policy's environment, the job's, and last (so that no one else
 * sets it) the number of the script's progress descriptor. */
static int build_env(const struct sb_sandbox *sb, const char *inside, const struct sb_job *job,
		     size_t n_env, char ***envp, struct pm_error *err)
{
	_cleanup_free_ char **extra = calloc(n_env + 2, sizeof(*extra));
	char progress[64];

	if (extra == NULL)
		return pm_error_set(err, "environment", ENOMEM, "build the environment");
	for (size_t i = 0; i < n_env; i++)
		extra[i] = job->env[i];
	snprintf(progress, sizeof(progress), SB_PROGRESS_ENV "=%d", sb->progress_script_fd);
	extra[n_env] = progress;
	return sb_env_build(sb->policy, inside, extra, n_env + 1, envp, err);
}

/* Resolves the job against the policy and hands it to init. */
static int deliver(struct sb_sandbox *sb, const struct sb_job *job, struct pm_error *err)
{
	const struct sb_policy *p = sb->policy;
	char **envp = NULL, *cwd = NULL, *buf = NULL, *ws_path = NULL;
	int trees[SB_JOB_FDS_MAX], r, ws_fd = -1;
	size_t n_trees = 0, n_env = 0, len;
	const char *inside;
	struct stat st = {0};

	while (job->env && job->env[n_env])
		n_env++;
	if (!job->scratch && (r = sb_job_open_workspace(sb, job, &ws_fd, &ws_path, err)) < 0)
		goto out;
	if (ws_fd >= 0 && fstat(ws_fd, &st) < 0) {
		r = pm_error_errno(err, "workspace", "stat `%s`", ws_path);
		goto out;
	}
	/* Where the script sees its workspace: its own path unless the job
	 * names another (a dependency environment built where it will be
	 * used); a scratch workspace has no host path at all. */
	inside = job->workspace_target ? job->workspace_target
		 : job->scratch	       ? SB_SCRATCH_TARGET
				       : ws_path;
	if ((r = sb_job_check_binds(p, inside, job, err)) < 0)
		goto out;
	if ((r = build_env(sb, inside, job, n_env, &envp, err)) < 0)
		goto out;
	/* A relative working directory is taken relative to the workspace. */
	if (job->cwd == NULL)
		cwd = strdup(inside);
	else if (job->cwd[0] == '/')
		cwd = strdup(job->cwd);
	else if (asprintf(&cwd, "%s/%s", inside, job->cwd) < 0)
		cwd = NULL;
	if (cwd == NULL) {
		r = pm_error_set(err, "launch", ENOMEM, "working directory");
		goto out;
	}
	int ws_tree = -1;
	if (ws_fd >= 0 && (r = sb_job_workspace_tree(sb, ws_fd, ws_path, &ws_tree, err)) < 0)
		goto out;
	/* The baseline is measured before the job can write anything. */
	if (ws_fd >= 0 && !p->workspace_readonly &&
	    (r = sb_disk_watch_start(ws_fd, p->workspace_max_bytes, p->workspace_max_inodes,
				     &sb->disk, err)) < 0)
		goto out;
	if (ws_tree >= 0)
		trees[n_trees++] = ws_tree;
	bool ws_sent = n_trees > 0;
	for (size_t i = 0; sb->privileged && i < job->n_binds; i++)
		trees[n_trees + i] = -1;
	r = sb_job_bind_trees(sb, job, trees + n_trees, err);
	if (sb->privileged)
		n_trees += job->n_binds;
	if (r < 0)
		goto out;
	struct sb_job_layout layout = {.workspace = ws_path ? ws_path : "",
				       .workspace_target = inside,
				       .cwd = cwd,
				       .argv = job->argv,
				       .envp = envp,
				       .files = job->files,
				       .n_files = job->n_files,
				       .binds = job->binds,
				       .n_binds = job->n_binds,
				       .bpf = &sb->bpf,
				       .ws_tree_sent = ws_sent,
				       .bind_trees_sent = sb->privileged,
				       .scratch = job->scratch,
				       .ws_dev = (unsigned long long)st.st_dev,
				       .ws_ino = (unsigned long long)st.st_ino};
	if ((r = sb_job_pack(&layout, &buf, &len, err)) < 0)
		goto out;
	/* Init may have failed while preparing; its own error says more than
	 * a broken pipe would. */
	if (!sb->ready && (r = read_ready(sb, err)) < 0)
		goto out;
	sb->ready = true;
	if ((r = start_network(sb, job, err)) < 0)
		goto out;
	r = sb_job_send(sb->job[0], buf, len, trees, n_trees, err);
	/* Init mounts the job's tree, pivots, then says so. */
	if (r == 0 && (r = read_until(sb, SB_MSG_RUNNING, err)) == 0)
		emit_started(sb, ws_path ? ws_path : inside, job->scratch);
out:
	close_fd(&sb->job[0]);
	for (size_t i = 0; i < n_trees; i++)
		close_fd(&trees[i]);
	close_fd(&ws_fd);
	free(buf);
	free(cwd);
	free(ws_path);
	sb_env_free(envp);
	return r;
}

static void fill_result(const struct sb_supervised *sv, const struct sb_cgroup *cg,
			int64_t cpu_limit, double wall, struct sb_result *res)
{
	struct sb_cgroup_stats st;
	int status = sv->script_ended ? sv->script_status : sv->init_status;

	memset(res, 0, sizeof(*res));
	res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	res->cpu_user_seconds =
	    (double)sv->usage.ru_utime.tv_sec + sv->usage.ru_utime.tv_usec / 1e6;
	res->cpu_system_seconds =
	    (double)sv->usage.ru_stime.tv_sec + sv->usage.ru_stime.tv_usec / 1e6;
	res->wall_seconds = wall;
	res->output_bytes = sv->output_bytes;
	res->limit = sv->limit;
	res->max_process_rss_bytes = (int64_t)sv->usage.ru_maxrss * 1024;
	res->peak_rss_bytes = res->max_process_rss_bytes;
	res->peak_rss_source = "rusage";
	sb_cgroup_stats(cg, &st);
	res->cgroup_memory_peak_bytes = st.memory_peak_bytes;
	if (st.memory_peak_bytes > res->peak_rss_bytes) {
		res->peak_rss_bytes = st.memory_peak_bytes;
		res->peak_rss_source = "cgroup";
	}
	if (res->limit == NULL && st.oom_kills > 0)
		res->limit = "memory";
	else if (res->limit == NULL && st.pids_max_events > 0)
		res->limit = "pids";
	else if (res->limit == NULL && cpu_limit != SB_UNSET &&
		 (res->signal == SIGXCPU || res->signal == SIGKILL) &&
		 res->cpu_user_seconds + res->cpu_system_seconds >= (double)cpu_limit - 0.5)
		res->limit = "cpu";
}

/* Without a memory cgroup of ours (a container without delegation), the
 * job's memory is bounded only by what holds the launcher; when that
 * runs out, the kernel's OOM killer takes the job first (init set
 * oom_score_adj 1000).  A SIGKILL nobody here sent while the kernel
 * counted an OOM kill is that, and says so. */
static void oom_outside(const struct sb_sandbox *sb, const struct sb_oom_counter *kills,
			long long before, struct sb_result *res)
{
	long long after;

	if (res->limit != NULL || res->signal != SIGKILL || sb->cg.dir[SB_CG_MEMORY] != NULL ||
	    before < 0 || (after = sb_oom_counter_read(kills)) <= before)
		return;
	res->limit = "memory";
	snprintf(res->limit_detail, sizeof(res->limit_detail),
		 "the kernel's OOM killer ended the job: the memory of what holds the sandbox "
		 "(the container or the machine) ran out, and no memory cgroup of the sandbox's "
		 "own bounded it (policy cgroup.memory_max_bytes needs cgroup delegation)");
}

int sb_sandbox_run(struct sb_sandbox *sb, const struct sb_job *job, struct sb_result *res,
		   struct pm_error *err)
{
	struct sb_oom_counter kills;
	const struct sb_policy *p = sb->policy;
	double t0 = pm_monotonic_seconds(), timeout = p->wall_seconds;
	struct sb_supervised sv;
	struct sb_oom_guard *guard = NULL;
	long long oom_before;
	int r;

	sb_oom_counter_init(&kills, &sb->cg);
	oom_before = sb_oom_counter_read(&kills);
	if (job->timeout > 0 && (timeout == 0 || job->timeout < timeout))
		timeout = job->timeout;
	r = deliver(sb, job, err);
	if (r == 0) {
		struct sb_supervise s = {
		    .pid = sb->pid,
		    .pidfd = sb->pidfd,
		    .report_fd = sb->report[0],
		    .out_fd = sb->out[0],
		    .err_fd = sb->err[0],
		    .output_cap = p->output_bytes,
		    .timeout = timeout,
		    .status_fd = sb->status_fd,
		    .disk_fd = sb_disk_watch_fd(sb->disk),
		    .progress_fd = sb->progress[0],
		    .oom_guard = guard = sb_oom_guard_start(sb->pid, &kills),
		};
		r = sb_supervise(&s, &sv, err);
		if (r == 0)
			sb->pid = 0; /* reaped */
	}
	/* The run is over for its network too, before anyone hears so. */
	sb_usernet_stop(&sb->usernet);
	if (r == 0 && sv.setup_failed) {
		*err = sv.setup_err;
		r = pm_error_code(err);
	}
	if (r < 0) {
		sb_oom_guard_free(guard);
		sb_status_error(sb->status_fd, err);
		return r;
	}
	/* Kill leftovers before reading the figures: a run's end means none
	 * of its processes is left. */
	sb_cgroup_kill(&sb->cg);
	fill_result(&sv, &sb->cg, p->rlimits.cpu_seconds, pm_monotonic_seconds() - t0, res);
	oom_outside(sb, &kills, oom_before, res);
	if (res->limit && strcmp(res->limit, "memory") == 0 && res->limit_detail[0] == '\0')
		sb_oom_guard_explain(guard, res->limit_detail, sizeof(res->limit_detail));
	sb_oom_guard_free(guard);
	if (res->limit && strcmp(res->limit, "disk") == 0)
		snprintf(res->limit_detail, sizeof(res->limit_detail), "%s",
			 sb_disk_watch_reason(sb->disk));
	sb_disk_watch_stop(sb->disk);
	sb->disk = NULL;
	sb_status_exit(sb->status_fd, res);
	return 0;
}

void sb_sandbox_release(struct sb_sandbox *sb)
{
	if (sb->pid > 0) {
		kill(sb->pid, SIGKILL);
		waitpid(sb->pid, NULL, 0);
		sb->pid = 0;
	}
	if (sb_cgroup_any(&sb->cg)) {
		sb_cgroup_kill(&sb->cg);
		sb_cgroup_destroy(&sb->cg);
	}
	sb_usernet_stop(&sb->usernet);
	sb_bpf_free(&sb->bpf);
	pm_fence_free(&sb->fence);
	sb_disk_watch_stop(sb->disk);
	sb->disk = NULL;
	int *fds[] = {&sb->sync[0],  &sb->sync[1],     &sb->report[0],	&sb->report[1],
		      &sb->job[0],   &sb->job[1],      &sb->out[0],	&sb->out[1],
		      &sb->err[0],   &sb->err[1],      &sb->pidfd,	&sb->userns_fd,
		      &sb->netns_fd, &sb->progress[0], &sb->progress[1]};
	for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++)
		close_fd(fds[i]);
}
