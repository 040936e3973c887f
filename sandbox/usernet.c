/* The launcher's side of the user-mode network helper: start it, wait
 * until the sandbox's interface is configured, stop it (usernet.h). */
#include "usernet.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

/* pasta configures the interface in milliseconds; a helper that takes
 * this long is stuck, and the run fails rather than wait for it. */
#define READY_SECONDS 10.0

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The last line the helper wrote, for the message. */
static const char *last_line(char *buf, size_t len)
{
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	char *nl = strrchr(buf, '\n');
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return nl ? nl + 1 : buf;
}

static int failed(const struct sb_usernet_config *cfg, char *said, size_t len, const char *why,
		  struct pm_error *err)
{
	const char *line = len ? last_line(said, len) : why;

	pm_error_set(err, "user_network", 0, "the user-mode network helper `%s` did not start: %s",
		     cfg->helper, line);
	if (strstr(line, "tun"))
		return pm_error_hint(err,
				     "it could not open /dev/net/tun: make it readable and "
				     "writable by uid %u (Debian's udev rule makes it 0666), or "
				     "in a container pass `--device /dev/net/tun`",
				     cfg->host_uid);
	if (strstr(line, "nterface"))
		return pm_error_hint(err,
				     "pasta needs a host interface with a default route; on a "
				     "host without one, set the policy's \"network\" to \"none\"");
	return pm_error_hint(err, "or list \"user_network\" in the policy's \"optional_layers\" "
				  "to run without outbound access when the helper cannot start");
}

/* Appends to a NUL-terminated buffer, dropping its oldest bytes: the
 * reason for a failure comes last. */
static void keep_tail(char *said, size_t size, size_t *len, const char *buf, size_t n)
{
	if (n >= size) {
		buf += n - (size - 1);
		n = size - 1;
	}
	if (*len + n >= size) {
		size_t drop = *len + n - (size - 1);
		memmove(said, said + drop, *len - drop);
		*len -= drop;
	}
	memcpy(said + *len, buf, n);
	*len += n;
	said[*len] = '\0';
}

/* Success once pasta writes its pid to the ready pipe.  EOF there means
 * it ended; its stderr says why. */
static int wait_ready(const struct sb_usernet_config *cfg, int ready, int errfd,
		      struct pm_error *err)
{
	struct pollfd p[2] = {{.fd = ready, .events = POLLIN}, {.fd = errfd, .events = POLLIN}};
	double deadline = pm_monotonic_seconds() + READY_SECONDS;
	char said[1024];
	size_t len = 0;
	bool ended = false;

	said[0] = '\0';
	while (p[1].fd >= 0 || !ended) {
		double left = deadline - pm_monotonic_seconds();
		if (left <= 0)
			return failed(cfg, said, len,
				      ended ? "it ended without a word"
					    : "it did not report ready in time",
				      err);
		int n = poll(p, 2, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pm_error_errno(err, "user_network", "poll the helper");
		if (!ended && (p[0].revents & (POLLIN | POLLHUP))) {
			char buf[32];
			ssize_t r = read(ready, buf, sizeof(buf));
			if (r > 0)
				return 0;
			if (r == 0 || (r < 0 && errno != EINTR)) {
				ended = true;
				p[0].fd = -1;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			char buf[512];
			ssize_t r = read(errfd, buf, sizeof(buf));
			if (r <= 0 && !(r < 0 && errno == EINTR)) {
				p[1].fd = -1;
				continue;
			}
			if (r > 0)
				keep_tail(said, sizeof(said), &len, buf, (size_t)r);
		}
	}
	return failed(cfg, said, len, "it ended without a word", err);
}

int sb_usernet_start(struct sb_usernet *un, const struct sb_usernet_config *cfg,
		     struct pm_error *err)
{
	int ready[2] = {-1, -1}, errp[2] = {-1, -1}, stop[2] = {-1, -1}, devnull = -1, r;
	pid_t launcher = getpid();

	*un = (struct sb_usernet){.keeper = 0, .stop_fd = -1};
	if (access(cfg->helper, X_OK) < 0) {
		pm_error_errno(err, "user_network", "the user-mode network helper `%s`",
			       cfg->helper);
		return pm_error_hint(err,
				     "install pasta (Debian: `apt-get install passt`), or "
				     "set the policy's \"network\" to \"none\" (no network), or "
				     "list \"user_network\" in its \"optional_layers\"");
	}
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(stop, O_CLOEXEC) < 0 || (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		r = pm_error_errno(err, "user_network", "create the helper's pipes");
		goto out;
	}
	/* pasta reopens the ready pipe through /proc/self/fd by its path, as
	 * a uid of the sandbox's namespace: the pipe must be that uid's, not
	 * root's, which the namespace does not map. */
	if (cfg->privileged && fchown(ready[1], cfg->host_uid, cfg->host_gid) < 0) {
		r = pm_error_errno(err, "user_network", "hand the ready pipe to the helper's uid");
		goto out;
	}
	un->keeper = fork();
	if (un->keeper < 0) {
		un->keeper = 0;
		r = pm_error_errno(err, "user_network", "fork the helper");
		goto out;
	}
	if (un->keeper == 0) {
		struct sb_usernet_pipes pipes = {
		    .ready_w = ready[1], .err_w = errp[1], .stop_r = stop[0], .devnull = devnull};
		sb_usernet_keeper(cfg, &pipes, launcher);
	}
	un->stop_fd = stop[1];
	stop[1] = -1;
	close_fd(&ready[1]);
	close_fd(&errp[1]);
	close_fd(&stop[0]);
	r = wait_ready(cfg, ready[0], errp[0], err);
out:
	close_fd(&ready[0]);
	close_fd(&ready[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&stop[0]);
	close_fd(&stop[1]);
	close_fd(&devnull);
	if (r < 0)
		sb_usernet_stop(un);
	return r;
}

void sb_usernet_stop(struct sb_usernet *un)
{
	close_fd(&un->stop_fd);
	if (un->keeper > 0) {
		while (waitpid(un->keeper, NULL, 0) < 0 && errno == EINTR)
			;
		un->keeper = 0;
	}
}
