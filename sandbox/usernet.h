/* The user-mode network helper: pasta (from passt) gives the sandbox's
 * network namespace a tap interface and carries what the sandbox sends
 * over ordinary sockets of the host, so the sandbox has outbound access
 * without a veth, a bridge, NAT or root.
 *
 * Why pasta, not slirp4netns: it forwards chosen ports of the sandbox's
 * loopback to the host's loopback (-T), which is how an index the admin
 * runs on the host's 127.0.0.1 stays reachable, and nothing else of the
 * host's loopback is (slirp4netns offers all of it or none); its DNS
 * forwarder maps UDP port 53 only (slirp4netns forwards every port of its
 * DNS address to the host's resolver, which may be on loopback); it has
 * no TCP stack of its own to get wrong; and it isolates itself (empty
 * filesystem, seccomp filter, no capability outside the sandbox's user
 * namespace).  Its defaults are unsafe here and are all turned off: -T/-U
 * "auto" would forward every port the host listens on, and the gateway
 * address would map to the host's loopback (--no-map-gw).
 *
 * The helper handles packets a hostile build writes, so it runs with as
 * little as it can:
 * - as the sandbox's unprivileged host uid (the policy's host_uid under a
 *   root launcher), never root; inside the sandbox's user namespace, where
 *   that uid owns the namespaces it must configure, and nowhere else;
 * - with three capabilities of that namespace only (CAP_SYS_ADMIN to join
 *   the network namespace, CAP_NET_ADMIN to configure the interface,
 *   CAP_NET_BIND_SERVICE for a forwarded port below 1024), no_new_privs;
 * - in the run's cgroups, so its memory and tasks count as the run's;
 * - in a pid namespace of its own whose init dies with the launcher
 *   (PR_SET_PDEATHSIG), so the kernel kills the helper however the
 *   launcher ends: no process of a run outlives it.
 *
 * A root launcher shows the helper a /dev/net/tun of mode 0666 in a
 * private mount namespace, because hosts often make the real one 0600;
 * the node only lets its opener create interfaces in namespaces it has
 * CAP_NET_ADMIN in, the sandbox's. */
#ifndef SB_USERNET_H
#define SB_USERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"

struct sb_usernet_config {
	const char *helper;	 /* pasta's absolute path */
	int userns_fd, netns_fd; /* the sandbox's namespaces */
	bool privileged;	 /* root launcher: private /dev, then the ids below */
	uid_t host_uid;
	gid_t host_gid;
	const struct sb_cgroup *cg; /* the run's cgroups (may hold none) */
	const int *loopback_ports;  /* the sandbox's 127.0.0.1:P reaches the host's */
	size_t n_loopback_ports;
};

struct sb_usernet {
	pid_t keeper; /* the helper's keeper process, or 0 */
	int stop_fd;  /* closing it stops the helper */
};

/* Starts the helper and waits until the sandbox's interface is up and
 * configured.  On failure nothing of it is left and err carries what the
 * helper said, with a hint. */
int sb_usernet_start(struct sb_usernet *un, const struct sb_usernet_config *cfg,
		     struct pm_error *err);

/* Stops the helper and waits until it is gone; a no-op when not started. */
void sb_usernet_stop(struct sb_usernet *un);

/* The helper's side (usernet_child.c), in a child of the launcher:
 * becomes the keeper, starts pasta below it, never returns. */
struct sb_usernet_pipes {
	int ready_w; /* pasta writes its pid here once the interface is configured */
	int err_w;   /* stderr of the helper and of the steps before it */
	int stop_r;  /* EOF: stop */
	int devnull;
};
_Noreturn void sb_usernet_keeper(const struct sb_usernet_config *cfg,
				 const struct sb_usernet_pipes *pipes, pid_t launcher);

#endif
