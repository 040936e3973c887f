#include "hostaddrs.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

static int add(struct sb_hostaddrs *out, const struct sockaddr *sa, struct pm_error *err)
{
	struct sockaddr_in in;
	struct in_addr a;

	if (sa == NULL || sa->sa_family != AF_INET)
		return 0;
	/* Copied: a struct sockaddr promises less alignment than sockaddr_in. */
	memcpy(&in, sa, sizeof(in));
	a = in.sin_addr;
	for (size_t i = 0; i < out->n; i++)
		if (out->addr[i].s_addr == a.s_addr)
			return 0;
	if (out->n == SB_HOSTADDRS_MAX)
		return pm_error_set(err, "user_network", E2BIG,
				    "the host has more than %d IPv4 "
				    "addresses; the sandbox could not be kept from all of them",
				    SB_HOSTADDRS_MAX);
	out->addr[out->n++] = a;
	return 0;
}

int sb_hostaddrs_read(struct sb_hostaddrs *out, struct pm_error *err)
{
	struct ifaddrs *list, *ifa;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (getifaddrs(&list) < 0)
		return pm_error_errno(err, "user_network",
				      "list the host's addresses (getifaddrs)");
	/* Interfaces that are down count too: they may come up while the
	 * sandbox runs. */
	for (ifa = list; ifa && r == 0; ifa = ifa->ifa_next) {
		r = add(out, ifa->ifa_addr, err);
		if (r == 0 && ifa->ifa_addr && ifa->ifa_addr->sa_family == AF_INET &&
		    (ifa->ifa_flags & IFF_BROADCAST))
			r = add(out, ifa->ifa_broadaddr, err);
	}
	freeifaddrs(list);
	return r;
}
