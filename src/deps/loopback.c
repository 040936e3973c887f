#include "loopback.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cleanup.h"
#include "index_env.h"

#define HOST_MAX 256

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decoded and lowercased: `%31%32%37.0.0.1` is 127.0.0.1 to a
 * URL library that decodes hosts.  False when it does not fit or hides
 * a NUL. */
static bool decode(const char *s, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%' && i + 2 < len && hex_digit(s[i + 1]) >= 0 &&
		    hex_digit(s[i + 2]) >= 0) {
			c = (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
			i += 2;
		}
		if (c == '\0' || n + 1 >= size)
			return false;
		out[n++] = (char)tolower((unsigned char)c);
	}
	out[n] = '\0';
	return true;
}

/* 127.0.0.0/8, and 0.0.0.0/8, which connect() takes for this host. */
static bool v4_loopback(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return (h >> 24) == 127 || (h >> 24) == 0;
}

/* ::1 and ::, and IPv4 loopback embedded as ::ffff:a.b.c.d (mapped),
 * ::a.b.c.d (compatible) or 64:ff9b::a.b.c.d (NAT64). */
static bool v6_loopback(const struct in6_addr *a)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	static const unsigned char zero[12] = {0};
	struct in_addr v4;

	if (memcmp(a->s6_addr, mapped, 12) != 0 && memcmp(a->s6_addr, zero, 12) != 0 &&
	    memcmp(a->s6_addr, nat64, 12) != 0)
		return false;
	memcpy(&v4, a->s6_addr + 12, sizeof(v4));
	return v4_loopback(v4) || IN6_IS_ADDR_LOOPBACK(a);
}

static bool address_loopback(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET6, s, &a6) == 1)
		return v6_loopback(&a6);
	return inet_pton(AF_INET, s, &a4) == 1 && v4_loopback(a4);
}

/* Names /etc/hosts gives a loopback address (localhost.localdomain,
 * ip6-localhost, the machine's own name on Debian, ...). */
static bool hosts_file_loopback(const char *name)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/hosts", "re");
	char line[1024];

	while (f && fgets(line, sizeof(line), f)) {
		char *save = NULL, *addr;
		line[strcspn(line, "#")] = '\0';
		if ((addr = strtok_r(line, " \t\r\n", &save)) == NULL || !address_loopback(addr))
			continue;
		for (char *n = strtok_r(NULL, " \t\r\n", &save); n;
		     n = strtok_r(NULL, " \t\r\n", &save))
			if (strcasecmp(n, name) == 0)
				return true;
	}
	return false;
}

bool loopback_host(const char *host, size_t len)
{
	char h[HOST_MAX], self[HOST_MAX];
	struct in6_addr a6;
	struct in_addr a4;
	size_t n;

	if (!decode(host, len, h, sizeof(h)))
		return false;
	n = strlen(h);
	if (n > 0 && h[n - 1] == '.') /* the root label: `localhost.` */
		h[--n] = '\0';
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h[n - 1] = '\0';
		h[strcspn(h, "%")] = '\0'; /* a zone: [::1%lo] */
		return inet_pton(AF_INET6, h + 1, &a6) == 1 && v6_loopback(&a6);
	}
	if (n == 0)
		return false;
	/* Every form getaddrinfo() takes for a number: inet_aton's. */
	if (inet_aton(h, &a4) != 0)
		return v4_loopback(a4);
	if (strcmp(h, "localhost") == 0 || (n > 10 && strcmp(h + n - 10, ".localhost") == 0))
		return true;
	if (gethostname(self, sizeof(self)) == 0 && strcasecmp(self, h) == 0)
		return true;
	return hosts_file_loopback(h);
}

static int default_port(const char *scheme, size_t len)
{
	static const struct {
		const char *name;
		int port;
	} ports[] = {{"http", 80}, {"https", 443}, {"git", 9418},
		     {"ssh", 22},  {"svn", 3690},  {"ftp", 21}};

	for (size_t i = 0; i < sizeof(ports) / sizeof(*ports); i++)
		if (strlen(ports[i].name) == len && strncasecmp(ports[i].name, scheme, len) == 0)
			return ports[i].port;
	return 0;
}

/* The host and port of one reading of the authority (text up to the
 * first of `stops`): after the last `@`, `[v6]` or `name`, then `:port`. */
static bool check_authority(const char *auth, const char *stops, int def_port, char *host,
			    size_t host_size, int *port)
{
	size_t alen = strcspn(auth, stops);
	const char *hp = auth, *end = auth + alen, *colon = NULL;

	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			hp = p + 1;
	if (*hp == '[') {
		const char *close = memchr(hp, ']', (size_t)(end - hp));
		if (close && close + 1 < end && close[1] == ':')
			colon = close + 1;
	} else {
		for (const char *p = hp; p < end; p++)
			if (*p == ':')
				colon = p;
	}
	size_t hlen = (size_t)((colon ? colon : end) - hp);
	if (!loopback_host(hp, hlen))
		return false;
	snprintf(host, host_size, "%.*s", (int)hlen, hp);
	*port = def_port;
	if (colon && colon + 1 < end) {
		char *stop;
		long p = strtol(colon + 1, &stop, 10);
		*port = stop == end && p > 0 && p < 65536 ? (int)p : 0;
	}
	return true;
}

int loopback_url(const char *url, char *host, size_t host_size, int *port)
{
	const char *sep = strstr(url, "://");
	const char *scheme = url, *plus;

	if (sep == NULL)
		return 0;
	/* VCS URLs: git+https://..., the transport after the `+`. */
	if ((plus = memchr(url, '+', (size_t)(sep - url))) != NULL)
		scheme = plus + 1;
	if ((size_t)(sep - scheme) == 4 && strncasecmp(scheme, "file", 4) == 0)
		return 0;
	int def = default_port(scheme, (size_t)(sep - scheme));
	/* WHATWG URLs end the authority at a backslash too, Python's
	 * urlsplit does not: a host either reading finds counts. */
	if (check_authority(sep + 3, "/?#\\ \t", def, host, host_size, port) ||
	    check_authority(sep + 3, "/?# \t", def, host, host_size, port))
		return 1;
	return 0;
}

struct ports {
	int *ports;
	size_t n, max;
};

static void add_port(char *location, void *data)
{
	struct ports *p = data;
	char url[1024], host[HOST_MAX];
	int port = 0;

	/* A proxy may be given as host:port. */
	snprintf(url, sizeof(url), "%s%s", strstr(location, "://") ? "" : "http://", location);
	if (loopback_url(url, host, sizeof(host), &port) != 1 || port <= 0)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (p->ports[i] == port)
			return;
	if (p->n < p->max)
		p->ports[p->n++] = port;
}

size_t loopback_admin_ports(int *ports, size_t max)
{
	struct ports p = {ports, 0, max};

	index_env_foreach(INDEX_ENV_INDEXES | INDEX_ENV_PROXIES, add_port, &p);
	return p.n;
}

bool loopback_admin_port(int port)
{
	int ports[32];
	size_t n = loopback_admin_ports(ports, sizeof(ports) / sizeof(*ports));

	for (size_t i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}
