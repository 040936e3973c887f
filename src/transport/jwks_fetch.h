/* A JSON Web Key Set by URL: the issuer's jwks_uri, fetched over TLS
 * (OpenSSL, the system's CAs, the host name checked).  Plain http only to
 * a loopback address (a local identity provider, the tests). */
#ifndef PYMCP_JWKS_FETCH_H
#define PYMCP_JWKS_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* The largest JWKS document accepted, and how long a fetch may take. */
#define JWKS_FETCH_MAX	   (256 * 1024)
#define JWKS_FETCH_TIMEOUT 10

/* True when --auth-jwks names a URL rather than a file. */
bool jwks_is_url(const char *where);

/* Refuses a URL the server would not fetch keys from (with why and how
 * to fix it). */
int jwks_url_check(const char *url, struct pm_error *err);

/* GETs url into *text (malloc'd, NUL-terminated) and *len.  Blocking and
 * thread-safe: at start, or on the thread pool. */
int jwks_fetch(const char *url, char **text, size_t *len, struct pm_error *err);

#endif
