/* What a sandbox with a user-mode network may send out of its interface.
 *
 * The helper (pasta) turns every connection the sandbox makes into a
 * socket of its own on the host, so a packet to an address of the host
 * would reach the host's services.  Routes cannot stop that: a socket
 * bound to the interface (SO_BINDTODEVICE, IP_MULTICAST_IF, IP_PKTINFO,
 * none of which needs a capability) makes the kernel send "on link" when
 * the route lookup fails.  A netfilter rule on the output hook sees every
 * packet, whatever picked its interface, and the script cannot remove it
 * (no CAP_NET_ADMIN; its seccomp filter refuses NETLINK_NETFILTER). */
#ifndef SB_NETFILTER_H
#define SB_NETFILTER_H

#include "error.h"
#include "hostaddrs.h"

/* Runs in init, in the sandbox's network namespace, with CAP_NET_ADMIN:
 * refuses every packet that leaves by another interface than loopback and
 * is IPv6 (the helper runs IPv4 only), or goes to the host's addresses,
 * 0.0.0.0/8, 127.0.0.0/8, link-local 169.254.0.0/16 (cloud metadata
 * services hand out credentials there), multicast or broadcast (the
 * host's own socket would loop those back to its listeners). */
int sb_netfilter_user_net(const struct sb_hostaddrs *host, struct pm_error *err);

#endif
