/* The fetch is one HTTP/1.0 GET (so the answer is never chunked and ends
 * when the connection does) over a socket of our own, with OpenSSL (which
 * h2o already brings) for TLS: the system's CAs, the host name checked,
 * TLS 1.2 at least.  No redirects: a jwks_uri is the issuer's final
 * address.  Everything the peer sends is bounded: JWKS_FETCH_MAX of body,
 * 16 KiB of head, JWKS_FETCH_TIMEOUT seconds in all. */
#include "jwks_fetch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

#define HEAD_MAX (16 * 1024)

struct target {
	bool tls;
	char host[256];	     /* without brackets */
	char authority[272]; /* for the Host header: host[:port] as given */
	char port[8];
	char path[2048];
};

bool jwks_is_url(const char *where)
{
	return strncasecmp(where, "https://", 8) == 0 || strncasecmp(where, "http://", 7) == 0;
}

static bool loopback_host(const char *host)
{
	return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0 ||
	       strcasecmp(host, "localhost") == 0;
}

static int parse_url(const char *url, struct target *t, struct pm_error *err)
{
	h2o_url_t u;

	if (h2o_url_parse(url, strlen(url), &u) != 0 || u.host.len == 0 ||
	    u.host.len >= sizeof(t->host) || u.authority.len >= sizeof(t->authority) ||
	    u.path.len >= sizeof(t->path))
		return pm_error_set(err, "auth", EINVAL, "--auth-jwks `%.200s` is not a URL", url);
	t->tls = u.scheme == &H2O_URL_SCHEME_HTTPS;
	memcpy(t->host, u.host.base, u.host.len);
	t->host[u.host.len] = '\0';
	memcpy(t->authority, u.authority.base, u.authority.len);
	t->authority[u.authority.len] = '\0';
	if (t->host[0] == '[') { /* an IPv6 literal */
		memmove(t->host, t->host + 1, u.host.len);
		t->host[strcspn(t->host, "]")] = '\0';
	}
	snprintf(t->port, sizeof(t->port), "%u", (unsigned)h2o_url_get_port(&u));
	if (u.path.len == 0)
		snprintf(t->path, sizeof(t->path), "/");
	else
		snprintf(t->path, sizeof(t->path), "%.*s", (int)u.path.len, u.path.base);
	/* Nothing that could end the request line or add a header. */
	if (strpbrk(t->path, "\r\n ") != NULL || strpbrk(t->authority, "\r\n /@") != NULL)
		return pm_error_set(err, "auth", EINVAL, "--auth-jwks `%.200s` is not a URL", url);
	return 0;
}

int jwks_url_check(const char *url, struct pm_error *err)
{
	struct target t;
	int r;

	if ((r = parse_url(url, &t, err)) < 0)
		return r;
	if (!t.tls && !loopback_host(t.host)) {
		pm_error_set(err, "auth", EINVAL,
			     "--auth-jwks `%.200s`: keys over plain http could be swapped on "
			     "the way",
			     url);
		return pm_error_hint(err, "use the issuer's https jwks_uri (http only to "
					  "127.0.0.1, [::1] or localhost)");
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for fd to be ready for `events` until the deadline. */
static int wait_fd(int fd, short events, double deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	double left = deadline - now_s();
	int r;

	if (left <= 0)
		return -ETIMEDOUT;
	do
		r = poll(&p, 1, (int)(left * 1000) + 1);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0;
}

/* A non-blocking socket connected to one of the host's addresses. */
static int connect_to(const struct target *t, double deadline, struct pm_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *a;
	int fd = -1, r = -EHOSTUNREACH, gai;

	if ((gai = getaddrinfo(t->host, t->port, &hints, &res)) != 0)
		return pm_error_set(err, "auth", EHOSTUNREACH, "resolve `%s`: %s", t->host,
				    gai_strerror(gai));
	for (a = res; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    a->ai_protocol);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
			int so = 0;
			socklen_t len = sizeof(so);

			r = wait_fd(fd, POLLOUT, deadline);
			if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) == 0 &&
			    so == 0)
				break;
			r = r < 0 ? r : -(so ? so : errno);
		} else {
			r = -errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return pm_error_set(err, "auth", -r, "connect to `%s` port %s", t->host, t->port);
	return fd;
}

struct conn {
	int fd;
	SSL *ssl;
	double deadline;
	bool unclean; /* TLS ended without close_notify: the length must say */
};

/* One read or write of the connection, waiting as TLS or the socket
 * asks; the byte count, 0 at the end, or -errno. */
static int io(struct conn *c, bool writing, void *buf, size_t len)
{
	for (;;) {
		ssize_t n;
		short want = writing ? POLLOUT : POLLIN;
		int r;

		if (c->ssl) {
			n = writing ? SSL_write(c->ssl, buf, (int)len)
				    : SSL_read(c->ssl, buf, (int)len);
			if (n > 0)
				return (int)n;
			int e = SSL_get_error(c->ssl, (int)n);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			/* Many servers just close: an end take_body() checks
			 * against Content-Length. */
			if (!writing && e == SSL_ERROR_SSL &&
			    ERR_GET_REASON(ERR_peek_error()) ==
				SSL_R_UNEXPECTED_EOF_WHILE_READING) {
				ERR_clear_error();
				c->unclean = true;
				return 0;
			}
			if (e == SSL_ERROR_WANT_READ)
				want = POLLIN;
			else if (e == SSL_ERROR_WANT_WRITE)
				want = POLLOUT;
			else
				return -EPROTO;
		} else {
			n = writing ? write(c->fd, buf, len) : read(c->fd, buf, len);
			if (n >= 0)
				return (int)n;
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		if ((r = wait_fd(c->fd, want, c->deadline)) < 0)
			return r;
	}
}

static int handshake(struct conn *c, SSL_CTX *ctx, const struct target *t, struct pm_error *err)
{
	unsigned char probe[16];
	bool ip =
	    inet_pton(AF_INET, t->host, probe) == 1 || inet_pton(AF_INET6, t->host, probe) == 1;

	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return pm_error_set(err, "auth", ENOMEM, "TLS to `%s`", t->host);
	if (ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), t->host);
	} else {
		SSL_set_tlsext_host_name(c->ssl, t->host);
		SSL_set1_host(c->ssl, t->host);
	}
	for (;;) {
		int n = SSL_connect(c->ssl), r;

		if (n == 1)
			return 0;
		int e = SSL_get_error(c->ssl, n);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			long v = SSL_get_verify_result(c->ssl);
			char why[256];

			ERR_error_string_n(ERR_get_error(), why, sizeof(why));
			return pm_error_set(err, "auth", EPROTO, "TLS to `%s`: %s", t->host,
					    v != X509_V_OK ? X509_verify_cert_error_string(v)
							   : why);
		}
		if ((r = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, c->deadline)) <
		    0)
			return pm_error_set(err, "auth", -r, "TLS to `%s`", t->host);
	}
}

/* The body of a complete "HTTP/1.x 200" answer of `len` bytes. */
static int take_body(const char *url, char *buf, size_t len, bool unclean, char **text,
		     size_t *text_len, struct pm_error *err)
{
	char *end = memmem(buf, len, "\r\n\r\n", 4), *cl;
	int status = 0;

	if (end == NULL || end - buf > HEAD_MAX || sscanf(buf, "HTTP/1.%*1[01] %3d", &status) != 1)
		return pm_error_set(err, "auth", EPROTO, "JWKS `%.200s`: not an HTTP answer", url);
	if (status != 200)
		return pm_error_set(err, "auth", EIO, "JWKS `%.200s`: HTTP status %d", url, status);
	*end = '\0';
	size_t body = len - (size_t)(end + 4 - buf);
	/* A Content-Length the connection fell short of: cut off. */
	cl = strcasestr(buf, "\r\ncontent-length:");
	if ((cl != NULL && strtoull(cl + 17, NULL, 10) != body) || (cl == NULL && unclean))
		return pm_error_set(err, "auth", EIO, "JWKS `%.200s`: the answer was cut off", url);
	if (body == 0)
		return pm_error_set(err, "auth", EIO, "JWKS `%.200s`: empty answer", url);
	if ((*text = malloc(body + 1)) == NULL)
		return pm_error_set(err, "auth", ENOMEM, "JWKS `%.200s`", url);
	memcpy(*text, end + 4, body);
	(*text)[body] = '\0';
	*text_len = body;
	return 0;
}

static int exchange(struct conn *c, const struct target *t, const char *url, char **text,
		    size_t *len, struct pm_error *err)
{
	const size_t cap = HEAD_MAX + JWKS_FETCH_MAX;
	_cleanup_free_ char *buf = malloc(cap + 1);
	char req[sizeof(t->path) + sizeof(t->authority) + 128];
	size_t got = 0;
	int n, r;

	if (buf == NULL)
		return pm_error_set(err, "auth", ENOMEM, "JWKS `%.200s`", url);
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.0\r\nHost: %s\r\nAccept: application/json\r\n"
		     "User-Agent: python-mcp/" PYMCP_VERSION "\r\n\r\n",
		     t->path, t->authority);
	for (int sent = 0; sent < n; sent += r)
		if ((r = io(c, true, req + sent, (size_t)(n - sent))) <= 0)
			return pm_error_set(err, "auth", r < 0 ? -r : EPIPE,
					    "JWKS `%.200s`: sending the request", url);
	while ((r = io(c, false, buf + got, cap + 1 - got)) > 0) {
		got += (size_t)r;
		if (got > cap)
			return pm_error_set(err, "auth", EFBIG, "JWKS `%.200s`: larger than %d KiB",
					    url, JWKS_FETCH_MAX / 1024);
	}
	if (r < 0)
		return pm_error_set(err, "auth", -r, "JWKS `%.200s`: reading the answer", url);
	buf[got] = '\0';
	return take_body(url, buf, got, c->unclean, text, len, err);
}

int jwks_fetch(const char *url, char **text, size_t *len, struct pm_error *err)
{
	struct conn c = {.fd = -1, .deadline = now_s() + JWKS_FETCH_TIMEOUT};
	SSL_CTX *ctx = NULL;
	struct target t;
	int r;

	*text = NULL;
	*len = 0;
	if ((r = parse_url(url, &t, err)) < 0)
		return r;
	if ((c.fd = r = connect_to(&t, c.deadline, err)) < 0)
		goto out;
	if (t.tls) {
		ctx = SSL_CTX_new(TLS_client_method());
		if (ctx == NULL || SSL_CTX_set_default_verify_paths(ctx) != 1 ||
		    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
			r = pm_error_set(err, "auth", ENOMEM, "TLS for `%.200s`", url);
			goto out;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if ((r = handshake(&c, ctx, &t, err)) < 0)
			goto out;
	}
	r = exchange(&c, &t, url, text, len, err);
out:
	if (r < 0 && strstr(err->message, url) == NULL) {
		char msg[sizeof(err->message)];

		snprintf(msg, sizeof(msg), "JWKS `%.200s`: %s", url, err->message);
		memcpy(err->message, msg, sizeof(msg));
	}
	if (r < 0 && err->hint[0] == '\0')
		pm_error_hint(err, "check that the issuer's jwks_uri is reachable from this host");
	if (c.ssl) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	SSL_CTX_free(ctx);
	/* OpenSSL's error queue is this thread's: leave nothing in it for
	 * h2o (at start, this is the loop's thread). */
	ERR_clear_error();
	if (c.fd >= 0)
		close(c.fd);
	return r < 0 ? r : 0;
}
