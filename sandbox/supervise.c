#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "fileio.h"
#include "init.h"
#include "oom_guard.h"
#include "progress.h"
#include "status.h"

/* How long a script may take to exit after a forwarded SIGTERM. */
#define GRACE_SECONDS 2.0
/* How long init may take to kill and reap everything before it is killed
 * itself (then the figures of the script are lost, nothing else). */
#define KILL_ALL_SECONDS 1.0

enum { PFD_INIT, PFD_REPORT, PFD_SIGNAL, PFD_OUT, PFD_ERR, PFD_DISK, PFD_PROGRESS, PFD_COUNT };

/* Copies what is readable from a relay pipe; returns false at EOF. */
static bool relay(int from, int to, const struct sb_supervise *s, struct sb_supervised *out)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (s->output_cap > 0 && out->output_bytes + n > s->output_cap) {
		(void)pm_write_all(to, buf, (size_t)(s->output_cap - out->output_bytes));
		out->output_bytes = s->output_cap;
		if (out->limit == NULL)
			out->limit = "output";
		kill(s->pid, SB_SIGNAL_KILL_ALL);
		return false;
	}
	/* A reader that went away loses the output; the run goes on. */
	(void)pm_write_all(to, buf, (size_t)n);
	out->output_bytes += n;
	return true;
}

static void handle_msg(const struct sb_msg *m, const struct sb_supervise *s,
		       struct sb_supervised *out)
{
	switch (m->type) {
	case SB_MSG_ERROR:
		if (!out->setup_failed) {
			out->setup_failed = true;
			out->setup_err = m->err;
		}
		break;
	case SB_MSG_DEGRADED:
		sb_msg_emit_degraded(s->status_fd, m);
		break;
	case SB_MSG_EXIT:
		out->script_ended = true;
		out->script_status = m->wait_status;
		break;
	default:
		break;
	}
}

/* Reads one message; returns false at EOF. */
static bool read_report(int fd, const struct sb_supervise *s, struct sb_supervised *out)
{
	struct sb_msg m;
	int r = sb_msg_read(fd, &m);

	if (r == 1)
		handle_msg(&m, s, out);
	return r != 0;
}

static int signal_fd(sigset_t *set, struct pm_error *err)
{
	int fd;

	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return pm_error_errno(err, "supervise", "block signals");
	fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return pm_error_errno(err, "supervise", "signalfd");
	return fd;
}

int sb_supervise(const struct sb_supervise *s, struct sb_supervised *out, struct pm_error *err)
{
	struct pollfd p[PFD_COUNT];
	struct sb_progress progress;
	_cleanup_close_ int sigfd = -1;
	double start = pm_monotonic_seconds(), kill_at = 0;
	bool exited = false;
	sigset_t set;

	memset(out, 0, sizeof(*out));
	sigfd = signal_fd(&set, err);
	if (sigfd < 0)
		return sigfd;
	p[PFD_INIT] = (struct pollfd){.fd = s->pidfd, .events = POLLIN};
	p[PFD_REPORT] = (struct pollfd){.fd = s->report_fd, .events = POLLIN};
	p[PFD_SIGNAL] = (struct pollfd){.fd = sigfd, .events = POLLIN};
	p[PFD_OUT] = (struct pollfd){.fd = s->out_fd, .events = POLLIN};
	p[PFD_ERR] = (struct pollfd){.fd = s->err_fd, .events = POLLIN};
	p[PFD_DISK] = (struct pollfd){.fd = s->disk_fd, .events = POLLIN};
	p[PFD_PROGRESS] = (struct pollfd){.fd = s->progress_fd, .events = POLLIN};
	sb_progress_init(&progress, s->status_fd);

	/* After init exits, keep going until the pipes reach EOF: the kernel
	 * has killed the rest of the namespace, so EOF comes promptly. */
	while (!exited || p[PFD_REPORT].fd >= 0 || p[PFD_OUT].fd >= 0 || p[PFD_ERR].fd >= 0 ||
	       p[PFD_PROGRESS].fd >= 0) {
		double deadline = sb_progress_due(&progress), t = pm_monotonic_seconds();
		int timeout_ms = -1;

		/* The wall-clock deadline counts until it fired once. */
		if (!exited && s->timeout > 0 && out->limit == NULL &&
		    (deadline == 0 || start + s->timeout < deadline))
			deadline = start + s->timeout;
		if (!exited && kill_at > 0 && (deadline == 0 || kill_at < deadline))
			deadline = kill_at;
		if (!exited && s->oom_guard &&
		    (deadline == 0 || sb_oom_guard_due(s->oom_guard) < deadline))
			deadline = sb_oom_guard_due(s->oom_guard);
		if (deadline > 0)
			timeout_ms = deadline <= t ? 0 : (int)((deadline - t) * 1000) + 1;
		int n = poll(p, PFD_COUNT, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pm_error_errno(err, "supervise", "poll");
		t = pm_monotonic_seconds();
		if (!exited && s->timeout > 0 && t >= start + s->timeout && out->limit == NULL) {
			/* Init kills the tree and reaps the script itself, so
			 * its CPU time and memory still count. */
			out->limit = "time";
			kill(s->pid, SB_SIGNAL_KILL_ALL);
			kill_at = t + KILL_ALL_SECONDS;
		}
		if (!exited && kill_at > 0 && t >= kill_at)
			kill(s->pid, SIGKILL);
		if (!exited && sb_oom_guard_tick(s->oom_guard, t) && out->limit == NULL) {
			out->limit = "memory";
			kill(s->pid, SB_SIGNAL_KILL_ALL);
			kill_at = t + KILL_ALL_SECONDS;
		}
		if (p[PFD_DISK].revents & POLLIN) {
			p[PFD_DISK].fd = -1;
			if (!exited && out->limit == NULL) {
				out->limit = "disk";
				kill(s->pid, SB_SIGNAL_KILL_ALL);
				kill_at = t + KILL_ALL_SECONDS;
			}
		}
		if (p[PFD_SIGNAL].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && !exited) {
				/* SIGUSR1 is the caller's "cancel": kill at once.
				 * Otherwise the first signal lets the script clean
				 * up; a second one, or the grace period running
				 * out, kills. */
				if (si.ssi_signo == SIGUSR1) {
					if (out->limit == NULL)
						out->limit = "cancel";
					kill(s->pid, SB_SIGNAL_KILL_ALL);
					kill_at = t + KILL_ALL_SECONDS;
				} else if (kill_at > 0) {
					kill(s->pid, SIGKILL);
				} else {
					kill(s->pid, (int)si.ssi_signo);
					kill_at = t + GRACE_SECONDS;
				}
			}
		}
		if ((p[PFD_OUT].revents & (POLLIN | POLLHUP)) &&
		    !relay(p[PFD_OUT].fd, STDOUT_FILENO, s, out))
			p[PFD_OUT].fd = -1;
		if ((p[PFD_ERR].revents & (POLLIN | POLLHUP)) &&
		    !relay(p[PFD_ERR].fd, STDERR_FILENO, s, out))
			p[PFD_ERR].fd = -1;
		if ((p[PFD_PROGRESS].revents & (POLLIN | POLLHUP)) &&
		    !sb_progress_read(&progress, p[PFD_PROGRESS].fd, t)) {
			sb_progress_end(&progress, t);
			p[PFD_PROGRESS].fd = -1;
		}
		sb_progress_flush(&progress, t, false);
		if ((p[PFD_REPORT].revents & (POLLIN | POLLHUP)) &&
		    !read_report(p[PFD_REPORT].fd, s, out))
			p[PFD_REPORT].fd = -1;
		if (!exited && (p[PFD_INIT].revents & POLLIN)) {
			if (wait4(s->pid, &out->init_status, 0, &out->usage) < 0)
				return pm_error_errno(err, "supervise", "wait for the sandbox");
			exited = true;
			p[PFD_INIT].fd = -1;
		}
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 0;
}
