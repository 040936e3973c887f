#include "index_env.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static const char *const index_vars[] = {
    "PIP_INDEX_URL",	  "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS",	 "UV_INDEX",	   "UV_DEFAULT_INDEX",
};
static const char *const proxy_vars[] = {
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
};

/* uv names indexes as NAME=URL; a name is letters, digits, "-", "_", ".". */
static char *without_name(char *location)
{
	size_t name = strspn(location, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789-_.");

	return name > 0 && location[name] == '=' ? location + name + 1 : location;
}

static void each_value(const char *const *vars, size_t n, void (*fn)(char *, void *), void *data)
{
	for (size_t v = 0; v < n; v++) {
		const char *value = getenv(vars[v]);
		_cleanup_free_ char *copy = value ? strdup(value) : NULL;
		char *save = NULL;

		for (char *tok = copy ? strtok_r(copy, " \t\n,", &save) : NULL; tok;
		     tok = strtok_r(NULL, " \t\n,", &save))
			fn(without_name(tok), data);
	}
}

void index_env_foreach(unsigned kinds, void (*fn)(char *location, void *data), void *data)
{
	if (kinds & INDEX_ENV_INDEXES)
		each_value(index_vars, sizeof(index_vars) / sizeof(*index_vars), fn, data);
	if (kinds & INDEX_ENV_PROXIES)
		each_value(proxy_vars, sizeof(proxy_vars) / sizeof(*proxy_vars), fn, data);
}
