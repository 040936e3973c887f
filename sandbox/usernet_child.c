/* The helper's processes (see usernet.h):
 *
 *   launcher ── keeper ──(new pid namespace)── reaper (pid 1) ── pasta
 *
 * The keeper joins the run's cgroups, takes the sandbox's host ids (a root
 * launcher's child is root until then), enters the sandbox's user
 * namespace and creates the pid namespace; it waits for the launcher to
 * close the stop pipe, then kills the reaper and reaps it.  The reaper is
 * pid 1 there and dies with the keeper, which dies with the launcher: the
 * kernel then kills pasta, whatever credentials pasta gave itself (a
 * credential change clears PR_SET_PDEATHSIG, so pasta's own would not
 * hold).  Each failure goes to the error pipe, which the launcher reports.
 */
#include "usernet.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fds.h"
#include "job.h"
#include "net.h"
#include "signals.h"

/* The tun device's numbers (Documentation/admin-guide/devices.txt). */
#define TUN_MAJOR 10
#define TUN_MINOR 200

static _Noreturn void die(const char *what, int errnum)
{
	dprintf(STDERR_FILENO, "helper setup: %s: %s\n", what, strerror(errnum));
	_exit(125);
}

/* A credential change clears the parent-death signal: set it again, then
 * make sure the parent did not die in between. */
static void die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die("prctl(PR_SET_PDEATHSIG)", errno);
	if (parent > 0 && getppid() != parent)
		_exit(125);
}

/* A /dev with only net/tun, mode 0666, in a mount namespace of the
 * helper's own.  Skipped where even root may not mount (a container):
 * the host's node must then be accessible to the helper's uid. */
static void private_tun(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		if (errno == EPERM)
			return;
		die("unshare(CLONE_NEWNS)", errno);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make the helper's mounts private", errno);
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
		  "size=16k,nr_inodes=8,mode=0755") < 0)
		die("mount a tmpfs on the helper's /dev", errno);
	if (mkdir("/dev/net", 0755) < 0)
		die("mkdir /dev/net", errno);
	if (mknod("/dev/net/tun", S_IFCHR | 0666, makedev(TUN_MAJOR, TUN_MINOR)) < 0)
		die("mknod /dev/net/tun", errno);
	if (chmod("/dev/net/tun", 0666) < 0) /* the umask took bits away */
		die("chmod /dev/net/tun", errno);
}

static void become(uid_t uid, gid_t gid, pid_t launcher)
{
	if (setgroups(0, NULL) < 0)
		die("drop supplementary groups", errno);
	if (setresgid(gid, gid, gid) < 0)
		die("switch to the sandbox's host gid", errno);
	if (setresuid(uid, uid, uid) < 0)
		die("switch to the sandbox's host uid", errno);
	die_with_parent(launcher);
}

/* Capabilities pasta needs, in the sandbox's user namespace only; exec
 * keeps them as ambient capabilities (pasta's uid there is not 0). */
static void keep_caps(void)
{
	static const cap_value_t keep[] = {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_BIND_SERVICE};
	const int n = (int)(sizeof(keep) / sizeof(*keep));
	cap_t caps;

	/* Up to 63: the running kernel may know more than these headers. */
	for (int c = 0; c < 64; c++) {
		bool kept = false;
		for (int k = 0; k < n; k++)
			kept = kept || keep[k] == c;
		if (!kept && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			die("drop the bounding set", errno);
	}
	if ((caps = cap_get_proc()) == NULL || cap_clear_flag(caps, CAP_INHERITABLE) < 0 ||
	    cap_set_flag(caps, CAP_INHERITABLE, n, keep, CAP_SET) < 0 || cap_set_proc(caps) < 0)
		die("set the inheritable capabilities", errno);
	cap_free(caps);
	for (int k = 0; k < n; k++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, keep[k], 0, 0) < 0)
			die("raise an ambient capability", errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("prctl(PR_SET_NO_NEW_PRIVS)", errno);
}

/* The sandbox's loopback ports that lead to the host's: "8080,3128" or
 * "none". */
static void port_list(const struct sb_usernet_config *cfg, char *out, size_t size)
{
	size_t n = 0;

	snprintf(out, size, "none");
	for (size_t i = 0; i < cfg->n_loopback_ports && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%d", i ? "," : "",
				      cfg->loopback_ports[i]);
}

/* pasta, with the ready pipe on fd 3 and the network namespace on fd 4.
 * Every default that reaches the host is off: no inbound forwarding (-t,
 * -u), no outbound forwarding to the host's loopback but the given ports
 * (-T, -U), no gateway-to-loopback mapping, IPv4 only, no ICMP. */
static _Noreturn void exec_pasta(const struct sb_usernet_config *cfg,
				 const struct sb_usernet_pipes *pipes)
{
	static const int keep[] = {3, 4};
	char ports[SB_LOOPBACK_PORTS_MAX * 7 + 8];
	struct pm_error err = {0};
	int ready = fcntl(pipes->ready_w, F_DUPFD_CLOEXEC, 10);
	int netns = fcntl(cfg->netns_fd, F_DUPFD_CLOEXEC, 10);

	if (ready < 0 || netns < 0 || dup2(ready, 3) < 0 || dup2(netns, 4) < 0 ||
	    sb_fds_close_except(keep, 2, &err) < 0)
		die("pass descriptors to pasta", errno);
	port_list(cfg, ports, sizeof(ports));
	keep_caps();
	const char *const argv[] = {"pasta",
				    "--foreground",
				    "--quiet",
				    "--netns",
				    "/proc/self/fd/4",
				    "--no-netns-quit",
				    "--pid",
				    "/proc/self/fd/3",
				    "--config-net",
				    "--ipv4-only",
				    "--no-map-gw",
				    "--no-icmp",
				    "--no-dhcp",
				    "--no-dhcpv6",
				    "--no-ndp",
				    "--no-ra",
				    "--ns-ifname",
				    SB_USERNET_IFNAME,
				    "--address",
				    SB_USERNET_ADDR,
				    "--netmask",
				    SB_USERNET_PREFIX,
				    "--gateway",
				    SB_USERNET_GATEWAY,
				    "--dns-forward",
				    SB_USERNET_DNS,
				    "--tcp-ports",
				    "none",
				    "--udp-ports",
				    "none",
				    "--tcp-ns",
				    ports,
				    "--udp-ns",
				    "none",
				    NULL};
	char *const envp[] = {NULL};
	/* execve's prototype predates const; it does not write them. */
	execve(cfg->helper, (char *const *)argv, envp);
	die(cfg->helper, errno);
}

/* Pid 1 of the helper's pid namespace: starts pasta and ends with it. */
static _Noreturn void reaper(const struct sb_usernet_config *cfg,
			     const struct sb_usernet_pipes *pipes, int keeper_alive)
{
	struct pollfd alive = {.fd = keeper_alive, .events = 0};
	int status = 0;
	pid_t pasta, pid;

	/* Our parent is outside the namespace (getppid() is 0 here): its
	 * end of the pipe tells whether it died before this was set. */
	die_with_parent(0);
	if (poll(&alive, 1, 0) > 0 && (alive.revents & (POLLHUP | POLLERR)))
		_exit(125);
	pasta = fork();
	if (pasta < 0)
		die("fork the helper", errno);
	if (pasta == 0) {
		die_with_parent(0);
		exec_pasta(cfg, pipes);
	}
	/* Only pasta holds the pipes now: the launcher sees them close when
	 * it ends. */
	close(pipes->ready_w);
	close(cfg->netns_fd);
	dup2(pipes->devnull, STDERR_FILENO);
	for (;;) {
		pid = waitpid(-1, &status, 0);
		if (pid == pasta)
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		if (pid < 0 && errno != EINTR)
			_exit(125);
	}
}

_Noreturn void sb_usernet_keeper(const struct sb_usernet_config *cfg,
				 const struct sb_usernet_pipes *pipes, pid_t launcher)
{
	struct pm_error err = {0};
	int keep[] = {pipes->ready_w, pipes->stop_r, pipes->devnull, cfg->userns_fd, cfg->netns_fd};
	int alive[2], status;
	pid_t child;
	char c;

	die_with_parent(launcher);
	sb_signals_reset();
	if (dup2(pipes->err_w, STDERR_FILENO) < 0 || dup2(pipes->devnull, STDIN_FILENO) < 0 ||
	    dup2(pipes->devnull, STDOUT_FILENO) < 0)
		_exit(125);
	for (size_t i = 1; i < sizeof(keep) / sizeof(*keep); i++)
		for (size_t k = i; k > 0 && keep[k - 1] > keep[k]; k--) {
			int t = keep[k];
			keep[k] = keep[k - 1];
			keep[k - 1] = t;
		}
	if (sb_fds_close_except(keep, sizeof(keep) / sizeof(*keep), &err) < 0)
		die("close the launcher's descriptors", err.errnum);
	if (sb_cgroup_any(cfg->cg) && sb_cgroup_add(cfg->cg, getpid(), &err) < 0)
		die("join the run's cgroups", err.errnum);
	if (cfg->privileged) {
		private_tun();
		become(cfg->host_uid, cfg->host_gid, launcher);
	}
	if (setns(cfg->userns_fd, CLONE_NEWUSER) < 0)
		die("enter the sandbox's user namespace", errno);
	close(cfg->userns_fd);
	die_with_parent(launcher);
	if (unshare(CLONE_NEWPID) < 0)
		die("create the helper's pid namespace", errno);
	if (pipe2(alive, O_CLOEXEC) < 0)
		die("pipe", errno);
	child = fork();
	if (child < 0)
		die("fork the helper's pid 1", errno);
	if (child == 0) {
		close(alive[1]);
		close(pipes->stop_r);
		reaper(cfg, pipes, alive[0]);
	}
	close(alive[0]);
	close(pipes->ready_w);
	close(cfg->netns_fd);
	dup2(pipes->devnull, STDERR_FILENO);
	/* EOF (or any byte) on the stop pipe: the run is over, or the
	 * launcher is gone. */
	while (read(pipes->stop_r, &c, 1) < 0 && errno == EINTR)
		;
	kill(child, SIGKILL);
	/* Pid 1's exit waits for every process of its namespace: once it is
	 * reaped, pasta is gone. */
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}
