#include "jwks_fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct body {
	char *data;
	size_t len;
	bool too_big;
};

bool jwks_is_url(const char *where)
{
	return strncasecmp(where, "https://", 8) == 0 || strncasecmp(where, "http://", 7) == 0;
}

static bool loopback_host(const char *host)
{
	return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 ||
	       strcmp(host, "::1") == 0 || strcasecmp(host, "localhost") == 0;
}

int jwks_url_check(const char *url, struct pm_error *err)
{
	static bool initialized;
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int r = 0;

	if (!initialized) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return pm_error_set(err, "auth", ENOMEM, "initialize libcurl");
		initialized = true;
	}
	if ((u = curl_url()) == NULL)
		return pm_error_set(err, "auth", ENOMEM, "JWKS URL");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		r = pm_error_set(err, "auth", EINVAL, "--auth-jwks `%.200s` is not a URL", url);
	} else if (strcasecmp(scheme, "http") == 0 && !loopback_host(host)) {
		pm_error_set(err, "auth", EINVAL,
			     "--auth-jwks `%.200s`: keys over plain http could be swapped on "
			     "the way",
			     url);
		r = pm_error_hint(err, "use the issuer's https jwks_uri (http only to "
				       "127.0.0.1, [::1] or localhost)");
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata)
{
	struct body *b = userdata;
	size_t add = size * n;
	char *grown;

	if (b->len + add > JWKS_FETCH_MAX) {
		b->too_big = true;
		return 0; /* aborts the transfer */
	}
	if ((grown = realloc(b->data, b->len + add + 1)) == NULL)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, ptr, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

int jwks_fetch(const char *url, char **text, size_t *len, struct pm_error *err)
{
	char curl_err[CURL_ERROR_SIZE] = "";
	struct body b = {0};
	long status = 0;
	CURL *c = curl_easy_init();
	CURLcode rc;

	*text = NULL;
	*len = 0;
	if (c == NULL)
		return pm_error_set(err, "auth", ENOMEM, "fetch the JWKS `%.200s`", url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	/* Only the schemes jwks_url_check() allows, redirects included
	 * (never to plain http). */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)JWKS_FETCH_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* from a worker thread */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)JWKS_FETCH_MAX);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "python-mcp/" PYMCP_VERSION);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (b.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		free(b.data);
		return pm_error_set(err, "auth", EFBIG, "JWKS `%.200s`: larger than %d KiB", url,
				    JWKS_FETCH_MAX / 1024);
	}
	if (rc != CURLE_OK) {
		free(b.data);
		pm_error_set(err, "auth", EIO, "fetch the JWKS `%.200s`: %s", url,
			     curl_err[0] ? curl_err : curl_easy_strerror(rc));
		return pm_error_hint(err, "check that the issuer's jwks_uri is reachable from "
					  "this host");
	}
	if (status != 200) {
		free(b.data);
		return pm_error_set(err, "auth", EIO, "fetch the JWKS `%.200s`: HTTP status %ld",
				    url, status);
	}
	if (b.data == NULL) {
		free(b.data);
		return pm_error_set(err, "auth", EIO, "JWKS `%.200s`: empty answer", url);
	}
	*text = b.data;
	*len = b.len;
	return 0;
}
