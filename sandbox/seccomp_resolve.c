#include "seccomp_resolve.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

/* An optional member: NULL when absent or null. */
static json_t *member(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

void sb_scmp_host_detect(struct sb_scmp_host *host)
{
	struct utsname u;

	host->native = sb_scmp_arch_by_token(seccomp_arch_native());
	host->kernel_major = 0;
	host->kernel_minor = 0;
	if (uname(&u) == 0 &&
	    sscanf(u.release, "%u.%u", &host->kernel_major, &host->kernel_minor) != 2)
		host->kernel_major = host->kernel_minor = 0;
}

static bool same(const char *s, const char *name)
{
	return s != NULL && name != NULL && strcmp(s, name) == 0;
}

/* Whether the array of names holds a or b. */
static bool list_has(const json_t *list, const char *a, const char *b)
{
	json_t *item;
	size_t i;

	json_array_foreach (list, i, item) {
		const char *s = json_string_value(item);

		if (same(s, a) || same(s, b))
			return true;
	}
	return false;
}

static bool kernel_at_least(const struct sb_scmp_host *h, const json_t *version)
{
	unsigned major = 0, minor = 0;
	const char *s = json_string_value(version);

	if (s == NULL || sscanf(s, "%u.%u", &major, &minor) != 2)
		return false;
	return h->kernel_major > major || (h->kernel_major == major && h->kernel_minor >= minor);
}

/* Docker's resolution of includes/excludes, for a process with no
 * capabilities: a rule that needs a capability is left out, a rule left
 * out for holders of a capability is kept.  Arches compare with this
 * machine's Docker name ("amd64") or libseccomp name ("x86_64"). */
bool sb_scmp_rule_applies(const struct sb_scmp_host *h, const json_t *rule)
{
	const json_t *ex = member(rule, "excludes"), *in = member(rule, "includes");
	const char *docker = h->native != NULL ? h->native->docker_name : NULL;
	const char *lib = h->native != NULL ? h->native->libseccomp_name : NULL;
	const json_t *v;

	if (ex != NULL) {
		if ((v = member(ex, "arches")) != NULL && list_has(v, docker, lib))
			return false;
		if ((v = member(ex, "minKernel")) != NULL && kernel_at_least(h, v))
			return false;
	}
	if (in != NULL) {
		if ((v = member(in, "arches")) != NULL && json_array_size(v) > 0 &&
		    !list_has(v, docker, lib))
			return false;
		if ((v = member(in, "caps")) != NULL && json_array_size(v) > 0)
			return false;
		if ((v = member(in, "minKernel")) != NULL && !kernel_at_least(h, v))
			return false;
	}
	return true;
}
