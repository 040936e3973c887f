/* Network namespace: a new one has only a loopback interface, and it is
 * down.  Bringing it up lets a script talk to itself on 127.0.0.1 while
 * nothing outside is reachable. */
#ifndef SB_NET_H
#define SB_NET_H

#include "error.h"

int sb_net_loopback_up(struct sb_error *err);

#endif
