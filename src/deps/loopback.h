/* URLs that lead to this machine's own loopback, in every spelling pip,
 * uv and getaddrinfo() accept for it: 127.0.0.0/8 and 0.0.0.0/8 written
 * in decimal, octal, hex or short form (2130706433, 0x7f.1, 127.1),
 * ::1, ::, IPv4-mapped and -compatible and NAT64 forms of those, and the
 * names localhost, *.localhost and whatever /etc/hosts maps to a loopback
 * address (Debian maps the machine's own name to 127.0.1.1).
 *
 * A requirement such as `x @ http://127.0.0.1:8080/x.tar.gz` would make an
 * install fetch from a service of the host.  The install sandbox's own
 * network namespace is what keeps it from the host (a name that resolves
 * to 127.0.0.1 by DNS gets no further than the sandbox's loopback); this
 * check gives the literal spellings a clear error, and holds even where
 * an admin runs installs with the host's network.  Loopback URLs the admin
 * configured (the index, find-links and proxy variables given to the
 * server) are the exception: the install sandbox reaches their ports. */
#ifndef PYMCP_LOOPBACK_H
#define PYMCP_LOOPBACK_H

#include <stdbool.h>
#include <stddef.h>

/* True when `host` (as in a URL: a name, an IPv4 address in any form
 * inet_aton() takes, or an IPv6 literal in brackets, percent-encoded or
 * not) is this machine's loopback. */
bool loopback_host(const char *host, size_t len);

/* 1 when the URL is a network URL (not file:) whose host is loopback,
 * with the host copied into host (for messages) and the port (the
 * scheme's default when not written, or 0 when unknown) into *port; 0
 * otherwise.  Both the WHATWG and the Python reading of the authority
 * are checked (`http://a\@127.0.0.1/` has another host for each). */
int loopback_url(const char *url, char *host, size_t host_size, int *port);

/* The ports of the loopback URLs in the server's own PIP_INDEX_URL,
 * PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, UV_* index variables and proxy
 * variables: what an install may reach of the host.  Returns how many,
 * at most `max`, each once. */
size_t loopback_admin_ports(int *ports, size_t max);

/* True when `port` is one of loopback_admin_ports(). */
bool loopback_admin_port(int port);

#endif
