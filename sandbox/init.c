#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "job.h"
#include "fds.h"
#include "net.h"
#include "netfilter.h"
#include "rlimits.h"
#include "seccomp_bpf.h"
#include "seccomp_nofork.h"
#include "signals.h"
#include "status.h"
#include "wire.h"
#include "oom_guard.h"

static void send_msg(int fd, int type, int wait_status, const struct pm_error *err)
{
	struct sb_msg m = {.type = type, .wait_status = wait_status};

	if (err)
		m.err = *err;
	while (write(fd, &m, sizeof(m)) < 0 && errno == EINTR)
		;
}

int sb_msg_read(int fd, struct sb_msg *m)
{
	ssize_t n;

	do
		n = read(fd, m, sizeof(*m));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return -EAGAIN;
	if (n != (ssize_t)sizeof(*m))
		return 0;
	m->err.stage[sizeof(m->err.stage) - 1] = '\0';
	m->err.message[sizeof(m->err.message) - 1] = '\0';
	m->err.hint[sizeof(m->err.hint) - 1] = '\0';
	return 1;
}

void sb_msg_emit_degraded(int status_fd, const struct sb_msg *m)
{
	sb_status_emit_new(status_fd, json_pack("{s:s, s:o, s:o}", WIRE_EVENT, WIRE_EVENT_DEGRADED,
						"layer", pm_json_string_lossy(m->err.stage),
						"message", pm_json_string_lossy(m->err.message)));
}

static _Noreturn void fail(const struct sb_init_config *cfg, const struct pm_error *err, int code)
{
	send_msg(cfg->report_fd, SB_MSG_ERROR, 0, err);
	_exit(code);
}

/* For the one-call failure sites: errno-based error, then fail. */
static _Noreturn void fail_errno(const struct sb_init_config *cfg, const char *stage,
				 const char *what)
{
	struct pm_error err = {0};

	pm_error_errno(&err, stage, "%s", what);
	fail(cfg, &err, 125);
}

static bool launcher_gone(int sync_fd)
{
	/* Only a hang-up counts: the next byte may already be waiting.  This
	 * works because init closed its own copy of the write end. */
	struct pollfd p = {.fd = sync_fd, .events = 0};

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

/* Signals init handles: SIGCHLD, the ones it forwards to the script, and
 * SB_SIGNAL_KILL_ALL from the launcher. */
static void init_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SB_SIGNAL_KILL_ALL);
}

/* The script's side: the last steps, in the order the design fixes. */
static _Noreturn void exec_script(const struct sb_init_config *cfg, const struct sb_packed_job *job)
{
	struct pm_error err = {0};

	/* Nothing of the launcher's signal state carries over. */
	sb_signals_reset();
	/* A new session has no controlling terminal: /dev/tty gives ENXIO and
	 * TIOCSTI has no terminal to push into (CVE-2017-5226). */
	if (setsid() < 0)
		fail_errno(cfg, "session", "setsid");
	if ((cfg->stdout_fd >= 0 && sb_fds_move(cfg->stdout_fd, STDOUT_FILENO, &err) < 0) ||
	    (cfg->stderr_fd >= 0 && sb_fds_move(cfg->stderr_fd, STDERR_FILENO, &err) < 0))
		fail(cfg, &err, 125);
	if (chdir(job->cwd) < 0) {
		pm_error_errno(&err, "cwd", "working directory `%s`", job->cwd);
		pm_error_hint(&err, "--cwd must name a directory inside the workspace");
		fail(cfg, &err, 125);
	}
	if (sb_rlimits_apply(&cfg->policy->rlimits, &err) < 0 || sb_fds_cloexec_all(&err) < 0 ||
	    sb_fds_inherit(cfg->progress_fd, &err) < 0 || sb_caps_drop_all(&err) < 0 ||
	    sb_no_new_privs(&err) < 0)
		fail(cfg, &err, 125);
	/* Fail closed: a policy with a filter never execs without it. */
	if (cfg->policy->seccomp != NULL && job->bpf_len == 0) {
		pm_error_set(&err, "seccomp", EINVAL, "the policy's seccomp filter did not arrive");
		fail(cfg, &err, 125);
	}
	/* The no-fork filter first: loading it needs seccomp() and prctl(),
	 * which the profile's filter may deny (the kernel runs both either
	 * way). */
	if (!cfg->policy->subprocesses && sb_seccomp_load_no_fork(&err) < 0)
		fail(cfg, &err, 125);
	if (job->bpf_len && sb_bpf_load(job->bpf, job->bpf_len, job->bpf_flags, &err) < 0)
		fail(cfg, &err, 125);
	/* execvp searches the PATH of `environ`: the sandbox's, not the
	 * launcher's (a caller's PATH could name a planted interpreter). */
	environ = job->envp;
	execvp(job->argv[0], job->argv);
	pm_error_errno(&err, "exec", "execute `%s`", job->argv[0]);
	if (errno == ENOENT)
		pm_error_hint(&err, "the command is looked up in the sandbox's PATH; only the "
				    "directories the policy binds exist there");
	fail(cfg, &err, errno == ENOENT ? 127 : 126);
}

/* Reaps every child; returns when the script itself has ended.  On
 * SB_SIGNAL_KILL_ALL (timeout, cancel) it kills every other process of
 * the namespace and goes on reaping: the script is then waited for here,
 * so its CPU time and memory are counted in init's rusage. */
static _Noreturn void reap_and_forward(const struct sb_init_config *cfg, pid_t script)
{
	sigset_t set;

	init_signals(&set);
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&set, &info), status;
		pid_t pid;

		if (sig < 0)
			continue;
		if (sig == SB_SIGNAL_KILL_ALL) {
			kill(-1, SIGKILL);
			continue;
		}
		if (sig != SIGCHLD) {
			kill(script, sig);
			continue;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != script)
				continue; /* an orphan reparented to us */
			send_msg(cfg->report_fd, SB_MSG_EXIT, status, NULL);
			/* Exiting makes the kernel kill every process left in
			 * the namespace: daemons do not survive the script. */
			_exit(0);
		}
	}
}

static void expect_byte(int fd, char want)
{
	char got;

	/* EOF instead of the byte: the launcher failed or died. */
	if (read(fd, &got, 1) != 1 || got != want)
		_exit(125);
}

/* Steps that do not depend on the job; returns the new root's fd. */
static int prepare(const struct sb_init_config *cfg)
{
	struct pm_error err = {0};
	bool nested_degraded = false;
	struct sb_mount_plan plan = cfg->mounts;
	int rootfd;

	expect_byte(cfg->sync_fd, 'g');
	/* The launcher has written our maps: nothing may read our memory or
	 * /proc entries from now on (CVE-2019-5736 went through
	 * /proc/<pid>/exe). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail_errno(cfg, "init", "prctl(PR_SET_DUMPABLE)");
	if (sb_userns_become(&cfg->map, cfg->drop_groups, &err) < 0)
		fail(cfg, &err, 125);
	/* A credential change clears the parent-death signal: set it again,
	 * then make sure the launcher did not die in between (it holds the
	 * sync pipe open for as long as it lives). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || launcher_gone(cfg->sync_fd))
		_exit(125);
	if (sethostname(cfg->policy->hostname, strlen(cfg->policy->hostname)) < 0) {
		pm_error_errno(&err, "uts", "sethostname");
		if (errno == EPERM)
			pm_error_hint(&err, "a seccomp filter around the launcher refuses it (the "
					    "default profiles of Docker and Podman do): run the "
					    "container with the project's profile, `--security-opt "
					    "seccomp=policies/container-seccomp.json` (or "
					    "seccomp=unconfined), and `--security-opt "
					    "systempaths=unconfined`, which a fresh /proc needs");
		fail(cfg, &err, 125);
	}
	/* Before anything can send: the rules hold from the helper's first
	 * packet on. */
	if (cfg->policy->net_mode != SB_NET_HOST && sb_net_loopback_up(&err) < 0)
		fail(cfg, &err, 125);
	if (cfg->policy->net_mode == SB_NET_USER &&
	    sb_netfilter_user_net(cfg->host_addrs, &err) < 0)
		fail(cfg, &err, 125);
	plan.nested_userns_degraded = &nested_degraded;
	rootfd = sb_mounts_prepare(&plan, &err);
	if (rootfd < 0)
		fail(cfg, &err, 125);
	if (nested_degraded) {
		pm_error_set(&err, "nested_userns_block", 0,
			     "nested user namespaces are not blocked outside seccomp");
		send_msg(cfg->report_fd, SB_MSG_DEGRADED, 0, &err);
	}

	/* The launcher moves us into the run's cgroups meanwhile; the cgroup
	 * namespace must be created after that, so its root is the run's
	 * cgroup. */
	expect_byte(cfg->sync_fd, 'c');
	close(cfg->sync_fd);
	if (unshare(CLONE_NEWCGROUP) < 0) {
		pm_error_errno(&err, "cgroup_namespace", "unshare(CLONE_NEWCGROUP)");
		if (!(cfg->policy->optional_layers & SB_LAYER_CGROUP_NS))
			fail(cfg, &err, 125);
		send_msg(cfg->report_fd, SB_MSG_DEGRADED, 0, &err);
	}
	return rootfd;
}

static void receive_job(const struct sb_init_config *cfg, struct sb_packed_job *job, int *trees,
			size_t *n_trees)
{
	struct pm_error err = {0};
	size_t len;
	char *buf;
	int r = sb_job_recv(cfg->job_fd, &buf, &len, trees, n_trees);

	if (r == -EPIPE)
		_exit(125); /* the launcher gave up before sending a job */
	if (r == 0 && (r = sb_job_unpack(buf, len, job)) < 0)
		sb_packed_job_free(job);
	/* Exactly the trees the job says were sent. */
	if (r == 0 &&
	    *n_trees != (size_t)job->ws_tree_sent + (job->bind_trees_sent ? job->n_binds : 0))
		r = -EBADMSG;
	if (r < 0)
		pm_error_set(&err, "init", -r, "receive the job"), fail(cfg, &err, 125);
	close(cfg->job_fd);
}

static void sort_fds(int *fds, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && fds[k - 1] > fds[k]; k--) {
			int t = fds[k];
			fds[k] = fds[k - 1];
			fds[k - 1] = t;
		}
}

_Noreturn void sb_init_main(const struct sb_init_config *cfg)
{
	struct pm_error err = {0};
	struct sb_packed_job job;
	sigset_t set;
	int rootfd, trees[SB_JOB_FDS_MAX];
	size_t n_trees = 0;
	pid_t script;

	/* If the launcher dies, so does the sandbox: init's death takes the
	 * whole pid namespace with it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(125);
	/* When memory runs out above the job's own cgroup (a container's
	 * limit, or no delegation at all), the kernel's OOM killer must pick
	 * a job, never the server: every process of the sandbox inherits a
	 * score far above the server's, and the launcher raises a job that
	 * grows while memory is short to the highest (oom_guard.h), so that
	 * it, not a quiet neighbour, is the one taken.  Raising needs no
	 * privilege; should /proc refuse, the run goes on without. */
	int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (oom >= 0) {
		char adj[16];
		int n = snprintf(adj, sizeof(adj), "%d", SB_OOM_ADJ_CALM);
		(void)!write(oom, adj, (size_t)n);
		close(oom);
	}
	init_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* Init starts as a copy of the launcher: it drops every descriptor
	 * but its channels at once, so that neither the script nor a
	 * hang-up check ever sees the launcher's own ends. */
	int keep[] = {cfg->sync_fd,   cfg->report_fd, cfg->job_fd,
		      cfg->stdout_fd, cfg->stderr_fd, cfg->progress_fd};
	sort_fds(keep, sizeof(keep) / sizeof(*keep));
	if (sb_fds_close_except(keep, sizeof(keep) / sizeof(*keep), &err) < 0)
		fail(cfg, &err, 125);

	rootfd = prepare(cfg);
	send_msg(cfg->report_fd, SB_MSG_READY, 0, NULL);
	receive_job(cfg, &job, trees, &n_trees);
	if (sb_mounts_finish(rootfd, cfg->policy, &job, trees, cfg->map.inside_uid,
			     cfg->map.inside_gid, &err) < 0)
		fail(cfg, &err, 125);
	close(rootfd);
	for (size_t i = 0; i < n_trees; i++)
		close(trees[i]);
	/* Nothing in the sandbox may read init's memory or its /proc entries
	 * (CVE-2019-5736 went through /proc/<pid>/exe). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail_errno(cfg, "init", "prctl(PR_SET_DUMPABLE)");

	/* Closed by the script's execve (close-on-exec), or by its end. */
	int execed[2];
	if (pipe2(execed, O_CLOEXEC) < 0)
		fail_errno(cfg, "init", "pipe");
	script = fork();
	if (script < 0)
		fail_errno(cfg, "init", "fork the script");
	if (script == 0)
		exec_script(cfg, &job);
	close(execed[1]);
	char byte;
	while (read(execed[0], &byte, 1) < 0 && errno == EINTR)
		;
	close(execed[0]);
	/* The launcher says "started" only now: whoever looks at the
	 * sandbox's root from outside (the server, for a scratch workspace's
	 * files) sees the job's, never the one before the pivot, and looks
	 * through the script, which has exec'd (a server that is not root
	 * may not look through init, nor through the script before its
	 * exec). */
	send_msg(cfg->report_fd, SB_MSG_RUNNING, 0, NULL);

	/* From here init keeps nothing but the report pipe (and stdio). */
	int report[] = {cfg->report_fd};
	if (sb_fds_close_except(report, 1, &err) < 0)
		fail(cfg, &err, 125);
	reap_and_forward(cfg, script);
}
