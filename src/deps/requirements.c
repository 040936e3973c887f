#include "requirements.h"

#include "hash.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "loopback.h"

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* Appends src[0..n) to out at *len with every whitespace run removed, or
 * collapsed into one space when `keep_spaces`. */
static void append(char *out, size_t *len, const char *src, size_t n, bool keep_spaces)
{
	bool space = false;

	for (size_t i = 0; i < n; i++) {
		if (isspace((unsigned char)src[i])) {
			space = true;
			continue;
		}
		if (space && keep_spaces && *len > 0 && out[*len - 1] != ' ')
			out[(*len)++] = ' ';
		space = false;
		out[(*len)++] = src[i];
	}
	out[*len] = '\0';
}

/* `name @ URL`: a URL on this machine's loopback reaches the host's own
 * services, unless it is one the admin configured (loopback.h). */
static int check_url(const char *req, const char *url, const char *stop, struct pm_error *err)
{
	char copy[REQ_MAX_LEN + 1], host[256];
	int port = 0;

	while (url < stop && isspace((unsigned char)*url))
		url++;
	snprintf(copy, sizeof(copy), "%.*s", (int)(stop - url), url);
	copy[strcspn(copy, " \t;")] = '\0';
	if (loopback_url(copy, host, sizeof(host), &port) != 1 ||
	    (port > 0 && loopback_admin_port(port)))
		return 0;
	pm_error_set(err, "dependencies", EINVAL,
		     "dependency `%s`: its URL's host `%s` is this machine's loopback; installs "
		     "do not reach the host's own services",
		     req, host);
	return pm_error_hint(err,
			     "serve the package from the index the server is configured "
			     "with (PIP_INDEX_URL, PIP_FIND_LINKS), or from a wheel directory");
}

int req_normalize(const char *in, char *out, struct pm_error *err)
{
	size_t n = strlen(in), len = 0, start = 0, end;

	while (start < n && isspace((unsigned char)in[start]))
		start++;
	while (n > start && isspace((unsigned char)in[n - 1]))
		n--;
	if (n == start)
		return pm_error_set(err, "dependencies", EINVAL, "a dependency is empty");
	if (n - start > REQ_MAX_LEN)
		return pm_error_set(err, "dependencies", EINVAL,
				    "dependency `%.40s...` is longer "
				    "than %d bytes",
				    in + start, REQ_MAX_LEN);
	for (size_t i = start; i < n; i++)
		if ((unsigned char)in[i] < 0x20 || (unsigned char)in[i] >= 0x7f)
			return pm_error_set(err, "dependencies", EINVAL,
					    "dependency `%s` holds a "
					    "control or non-ASCII character",
					    in);
	if (!isalnum((unsigned char)in[start])) {
		pm_error_set(err, "dependencies", EINVAL,
			     "dependency `%s` does not start with a "
			     "package name",
			     in + start);
		return pm_error_hint(err, "give PEP 508 requirements such as `requests`, "
					  "`numpy>=1.26` or `pkg[extra]==1.0`; options, paths "
					  "and files are not accepted");
	}
	/* The name: PEP 503 normalized. */
	for (end = start; end < n && name_char(in[end]); end++) {
		char c = in[end];
		if (c == '-' || c == '_' || c == '.') {
			if (len > 0 && out[len - 1] != '-')
				out[len++] = '-';
			continue;
		}
		out[len++] = (char)tolower((unsigned char)c);
	}
	if (out[len - 1] == '-')
		return pm_error_set(err, "dependencies", EINVAL,
				    "dependency `%s`: a package name "
				    "ends with a letter or digit",
				    in + start);
	out[len] = '\0';
	/* The rest: "[extras] specifiers ; markers" or "@ url ; markers".
	 * Anything else after a name is a path or a URL pip would fetch
	 * ("file:///x.whl", "dir/../x"): not a requirement. */
	const char *rest = in + end, *stop = in + n;
	while (rest < stop && isspace((unsigned char)*rest))
		rest++;
	if (rest < stop && strchr("[(<>=!~@;", *rest) == NULL) {
		pm_error_set(err, "dependencies", EINVAL,
			     "dependency `%s` is not a requirement: `%c` follows the name",
			     in + start, *rest);
		return pm_error_hint(err, "give PEP 508 requirements such as `requests`, "
					  "`numpy>=1.26`, `pkg[extra]==1.0` or `pkg @ URL`; "
					  "paths and bare URLs are not accepted");
	}
	if (rest < stop && *rest == '@') {
		out[len++] = ' ';
		append(out, &len, rest, (size_t)(stop - rest), true);
		return check_url(in + start, rest + 1, stop, err);
	}
	const char *semi = memchr(rest, ';', (size_t)(stop - rest));
	append(out, &len, rest, (size_t)((semi ? semi : stop) - rest), false);
	if (semi) {
		out[len++] = ';';
		out[len++] = ' ';
		append(out, &len, semi + 1, (size_t)(stop - semi - 1), true);
	}
	return 0;
}

void req_name(const char *normalized, char *name, size_t size)
{
	size_t n = 0;

	while (normalized[n] && name_char(normalized[n]))
		n++;
	snprintf(name, size, "%.*s", (int)n, normalized);
}

int req_set_add(json_t *set, const char *requirement, struct pm_error *err)
{
	char norm[REQ_NORM_SIZE];
	size_t i, at;
	json_t *v;
	int r;

	if ((r = req_normalize(requirement, norm, err)) < 0)
		return r;
	at = json_array_size(set);
	json_array_foreach (set, i, v) {
		int c = strcmp(norm, json_string_value(v));
		if (c == 0)
			return 0;
		if (c < 0) {
			at = i;
			break;
		}
	}
	if (json_array_size(set) >= REQ_MAX_COUNT)
		return pm_error_set(err, "dependencies", E2BIG, "more than %d dependencies",
				    REQ_MAX_COUNT);
	return json_array_insert_new(set, at, json_string(norm)) < 0
		   ? pm_error_set(err, "dependencies", ENOMEM, "dependencies")
		   : 0;
}

json_t *req_set_new(json_t *given, struct pm_error *err)
{
	json_t *set = json_array(), *v;
	size_t i;

	if (set == NULL) {
		pm_error_set(err, "dependencies", ENOMEM, "dependencies");
		return NULL;
	}
	json_array_foreach (given, i, v) {
		if (!json_is_string(v)) {
			pm_error_set(err, "dependencies", EINVAL,
				     "dependencies[%zu] must be a string", i);
			json_decref(set);
			return NULL;
		}
		if (req_set_add(set, json_string_value(v), err) < 0) {
			json_decref(set);
			return NULL;
		}
	}
	return set;
}

void req_set_key(const char *interpreter, json_t *set, char out[PM_SHA256_HEX])
{
	struct pm_sha256 h;
	size_t i;
	json_t *v;

	/* NUL separators: "a" + "bc" and "ab" + "c" differ. */
	pm_sha256_init(&h);
	pm_sha256_update(&h, interpreter, strlen(interpreter) + 1);
	json_array_foreach (set, i, v)
		pm_sha256_update(&h, json_string_value(v), json_string_length(v) + 1);
	pm_sha256_hex(&h, out);
}
