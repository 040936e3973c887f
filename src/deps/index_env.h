/* The server's own package index and proxy settings, from its environment
 * (the variables install.json passes to installs), read one way for both
 * uses: the loopback ports an install may reach and the local index
 * directories it is shown. */
#ifndef PYMCP_INDEX_ENV_H
#define PYMCP_INDEX_ENV_H

enum index_env_kind {
	INDEX_ENV_INDEXES = 1u << 0, /* PIP_INDEX_URL, PIP_FIND_LINKS, UV_INDEX, ... */
	INDEX_ENV_PROXIES = 1u << 1, /* HTTP_PROXY, https_proxy, ... */
};

/* Calls fn with each location the chosen variables name: values split at
 * blanks and commas, uv's "NAME=" prefix of a named index taken off.
 * `location` may be changed by fn; it lives only during the call. */
void index_env_foreach(unsigned kinds, void (*fn)(char *location, void *data), void *data);

#endif
