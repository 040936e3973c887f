#include "launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "env.h"
#include "init.h"
#include "mounts.h"
#include "seccomp.h"
#include "supervise.h"
#include "userns.h"
#include "workspace.h"

/* Everything a run holds, released in one place whatever the outcome. */
struct run {
	struct sb_workspace ws;
	char **envp;
	scmp_filter_ctx filter;
	struct sb_cgroup cg;
	int ws_tree, idmap_ns;
	int sync[2], report[2], out[2], err[2];
	int pidfd;
	pid_t pid;
	char *cwd;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void run_release(struct run *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	if (sb_cgroup_any(&r->cg)) {
		sb_cgroup_kill(&r->cg);
		sb_cgroup_destroy(&r->cg);
	}
	sb_workspace_free(&r->ws);
	sb_env_free(r->envp);
	free(r->cwd);
	if (r->filter)
		seccomp_release(r->filter);
	int *fds[] = {&r->ws_tree, &r->idmap_ns, &r->sync[0], &r->sync[1], &r->report[0],
		      &r->report[1], &r->out[0], &r->out[1], &r->err[0], &r->err[1], &r->pidfd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++)
		close_fd(fds[i]);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Chooses the host ids of the sandbox.  A root launcher never maps the
 * script to host root: it runs as the workspace's owner, or, for a
 * root-owned workspace, as the policy's unprivileged host id with the
 * workspace mounted id-mapped so that it stays writable. */
static int choose_ids(const struct sb_launch *cfg, struct run *r, struct sb_idmap *map,
		      struct sb_error *err)
{
	const struct sb_policy *p = cfg->policy;

	map->inside_uid = p->uid;
	map->inside_gid = p->gid;
	if (geteuid() != 0) {
		map->host_uid = geteuid();
		map->host_gid = getegid();
		return 0;
	}
	if (r->ws.owner_uid != 0) {
		map->host_uid = r->ws.owner_uid;
		map->host_gid = r->ws.owner_gid;
		return 0;
	}
	map->host_uid = p->host_uid;
	map->host_gid = p->host_gid;
	_cleanup_close_ int ws = sb_workspace_open(r->ws.path, err);
	if (ws < 0)
		return ws;
	r->idmap_ns = sb_userns_idmap_fd(r->ws.owner_uid, r->ws.owner_gid, map->host_uid,
					 map->host_gid, err);
	if (r->idmap_ns < 0)
		return r->idmap_ns;
	r->ws_tree = sb_mounts_workspace_tree(ws, r->idmap_ns, p->workspace_readonly, err);
	return r->ws_tree < 0 ? r->ws_tree : 0;
}

static void emit_started(const struct sb_launch *cfg, const struct run *r, const char *degraded)
{
	json_t *cg = json_object();

	for (int c = 0; c < SB_CG_COUNT; c++)
		json_object_set_new(cg, sb_cg_controller_name(c),
				    r->cg.dir[c] ? json_integer(r->cg.version[c]) : json_null());
	sb_status_emit_new(cfg->status_fd,
			   json_pack("{s:s, s:i, s:s, s:o, s:b, s:b, s:s?}", "event", "started",
				     "pid", (int)r->pid, "workspace", r->ws.path, "cgroup", cg,
				     "network", cfg->policy->network, "seccomp",
				     r->filter != NULL, "degraded", degraded));
}

static pid_t clone_init(const struct sb_policy *p, int *pidfd, struct sb_error *err)
{
	struct clone_args args = {
		.flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC |
			 CLONE_NEWUTS | CLONE_PIDFD | (p->network ? 0 : CLONE_NEWNET),
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0) {
		sb_error_errno(err, "namespaces", "create the sandbox's namespaces");
		if (errno == EPERM || errno == ENOSPC)
			sb_error_hint(err, "user namespaces are disabled or blocked here: check "
					   "sysctl user.max_user_namespaces (and "
					   "kernel.unprivileged_userns_clone); inside Docker run with "
					   "`--security-opt seccomp=unconfined`");
	}
	return pid;
}

static void fill_result(const struct sb_supervised *sv, const struct sb_cgroup *cg,
			int64_t cpu_limit, double wall, struct sb_result *res)
{
	struct sb_cgroup_stats st;
	int status = sv->script_ended ? sv->script_status : sv->init_status;

	memset(res, 0, sizeof(*res));
	res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	res->cpu_user_seconds = (double)sv->usage.ru_utime.tv_sec + sv->usage.ru_utime.tv_usec / 1e6;
	res->cpu_system_seconds = (double)sv->usage.ru_stime.tv_sec + sv->usage.ru_stime.tv_usec / 1e6;
	res->wall_seconds = wall;
	res->output_bytes = sv->output_bytes;
	res->limit = sv->limit;
	res->peak_rss_bytes = (int64_t)sv->usage.ru_maxrss * 1024;
	res->peak_rss_source = "rusage";
	sb_cgroup_stats(cg, &st);
	if (st.memory_peak_bytes >= 0) {
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

/* Fails the run unless the policy lets this layer be missing; then the
 * result says so.  `degraded` collects the text for the started event. */
static int layer_missing(const struct sb_policy *p, enum sb_layer layer, struct sb_error *err,
			 char *degraded, size_t size)
{
	size_t len = strlen(degraded);

	if (!(p->optional_layers & layer))
		return sb_error_code(err);
	snprintf(degraded + len, size - len, "%s%s: %s", len ? "; " : "", sb_layer_name(layer),
		 err->message);
	return 0;
}

static int start(const struct sb_launch *cfg, struct run *r, struct sb_error *err)
{
	const struct sb_policy *p = cfg->policy;
	struct sb_init_config init = {0};
	char degraded[512] = "";
	bool privileged = geteuid() == 0;
	int rc;

	if ((rc = sb_workspace_check(cfg->workspace, p, cfg->protect, cfg->n_protect, &r->ws,
				     err)) < 0)
		return rc;
	if ((rc = sb_env_build(p, r->ws.path, cfg->env_extra, cfg->n_env_extra, &r->envp, err)) < 0)
		return rc;
	if (p->seccomp && (rc = sb_seccomp_build(p->seccomp, p->file, &r->filter, err)) < 0)
		return rc;
	if ((rc = choose_ids(cfg, r, &init.map, err)) < 0)
		return rc;
	rc = sb_cgroup_create(&p->cgroup, &r->cg, err);
	if (rc == -ENOTSUP)
		rc = layer_missing(p, SB_LAYER_CGROUP, err, degraded, sizeof(degraded));
	if (rc < 0)
		return rc;
	if (pipe2(r->sync, O_CLOEXEC) < 0 || pipe2(r->report, O_CLOEXEC) < 0)
		return sb_error_errno(err, "launch", "pipe");
	if (p->output_bytes > 0 && (pipe2(r->out, O_CLOEXEC) < 0 || pipe2(r->err, O_CLOEXEC) < 0))
		return sb_error_errno(err, "launch", "pipe");

	init.policy = p;
	init.drop_groups = privileged;
	init.mounts = (struct sb_mount_plan){
		.policy = p,
		.workspace = r->ws.path,
		.workspace_tree_fd = r->ws_tree,
		.uid = p->uid,
		.gid = p->gid,
		.block_nested_userns = true,
		.nested_userns_optional = p->optional_layers & SB_LAYER_USERNS_LIMIT,
	};
	/* A relative --cwd is taken relative to the workspace. */
	if (cfg->cwd == NULL)
		r->cwd = strdup(r->ws.path);
	else if (cfg->cwd[0] == '/')
		r->cwd = strdup(cfg->cwd);
	else if (asprintf(&r->cwd, "%s/%s", r->ws.path, cfg->cwd) < 0)
		r->cwd = NULL;
	if (r->cwd == NULL)
		return sb_error_set(err, "launch", ENOMEM, "working directory");
	init.cwd = r->cwd;
	init.argv = cfg->argv;
	init.envp = r->envp;
	init.seccomp = r->filter;
	init.sync_fd = r->sync[0];
	init.report_fd = r->report[1];
	init.stdout_fd = r->out[1];
	init.stderr_fd = r->err[1];

	r->pid = clone_init(p, &r->pidfd, err);
	if (r->pid < 0)
		return sb_error_code(err);
	if (r->pid == 0)
		sb_init_main(&init);

	close_fd(&r->sync[0]);
	close_fd(&r->report[1]);
	close_fd(&r->out[1]);
	close_fd(&r->err[1]);
	close_fd(&r->ws_tree);
	if ((rc = sb_userns_write_maps(r->pid, &init.map, privileged, err)) < 0)
		return rc;
	if ((rc = sb_cgroup_add(&r->cg, r->pid, err)) < 0)
		return rc;
	if (write(r->sync[1], "g", 1) != 1)
		return sb_error_errno(err, "launch", "release the sandbox");
	emit_started(cfg, r, degraded[0] ? degraded : NULL);
	return 0;
}

int sb_launch(const struct sb_launch *cfg, struct sb_result *res, struct sb_error *err)
{
	const struct sb_policy *p = cfg->policy;
	struct run r = {.ws_tree = -1, .idmap_ns = -1, .sync = {-1, -1}, .report = {-1, -1},
			.out = {-1, -1}, .err = {-1, -1}, .pidfd = -1};
	struct sb_supervised sv;
	double t0 = now(), timeout = p->wall_seconds;
	int rc;

	if (cfg->timeout > 0 && (timeout == 0 || cfg->timeout < timeout))
		timeout = cfg->timeout;
	rc = start(cfg, &r, err);
	if (rc == 0) {
		struct sb_supervise s = {
			.pid = r.pid, .pidfd = r.pidfd, .report_fd = r.report[0],
			.out_fd = r.out[0], .err_fd = r.err[0], .output_cap = p->output_bytes,
			.timeout = timeout, .status_fd = cfg->status_fd,
		};
		rc = sb_supervise(&s, &sv, err);
		if (rc == 0)
			r.pid = 0; /* reaped */
	}
	if (rc == 0 && sv.setup_failed) {
		*err = sv.setup_err;
		rc = sb_error_code(err);
	}
	if (rc == 0) {
		/* Kill leftovers before reading the figures: a run's end
		 * means none of its processes is left. */
		sb_cgroup_kill(&r.cg);
		fill_result(&sv, &r.cg, p->rlimits.cpu_seconds, now() - t0, res);
		sb_status_exit(cfg->status_fd, res);
	} else {
		sb_status_error(cfg->status_fd, err);
	}
	run_release(&r);
	return rc;
}
