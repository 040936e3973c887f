/* The host's own IPv4 addresses, read in the host's network namespace
 * before the sandbox gets one of its own.  A user-mode network helper
 * connects from the host, where these addresses are local: the sandbox
 * must never send to them (netfilter.h), or every service the host listens
 * on with 0.0.0.0 would be reachable. */
#ifndef SB_HOSTADDRS_H
#define SB_HOSTADDRS_H

#include <netinet/in.h>
#include <stddef.h>

#include "error.h"

#define SB_HOSTADDRS_MAX 256

struct sb_hostaddrs {
	struct in_addr addr[SB_HOSTADDRS_MAX]; /* interface and broadcast addresses */
	size_t n;
};

/* Fails (closed) when the host has more addresses than fit. */
int sb_hostaddrs_read(struct sb_hostaddrs *out, struct pm_error *err);

#endif
