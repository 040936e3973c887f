/* Network namespace: a new one has only a loopback interface, and it is
 * down.  Bringing it up lets a script talk to itself on 127.0.0.1 while
 * nothing outside is reachable.
 *
 * A "user" network (policy "network": "user") adds one interface, made
 * and served by the user-mode helper (usernet.h), with fixed addresses:
 * the sandbox never learns the host's own, and its resolv.conf names the
 * helper's DNS forwarder, whatever resolver the host uses (127.0.0.53
 * would be the sandbox's own loopback). */
#ifndef SB_NET_H
#define SB_NET_H

#include "error.h"

#define SB_USERNET_IFNAME  "tap0"
#define SB_USERNET_ADDR	   "10.0.2.100"
#define SB_USERNET_PREFIX  "24"
#define SB_USERNET_GATEWAY "10.0.2.2"
#define SB_USERNET_DNS	   "10.0.2.3"

int sb_net_loopback_up(struct pm_error *err);

#endif
