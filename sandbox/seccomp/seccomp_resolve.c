#include "seccomp_resolve.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

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

/* Whether the names hold a or b. */
static bool list_has(char *const *list, size_t n, const char *a, const char *b)
{
	for (size_t i = 0; i < n; i++)
		if (same(list[i], a) || same(list[i], b))
			return true;
	return false;
}

static bool kernel_at_least(const struct sb_scmp_host *h, const struct sb_scmp_cond *c)
{
	return h->kernel_major > c->kernel_major ||
	       (h->kernel_major == c->kernel_major && h->kernel_minor >= c->kernel_minor);
}

/* Docker's resolution of includes/excludes, for a process with no
 * capabilities: a rule that needs a capability is left out, a rule left
 * out for holders of a capability is kept.  Arches compare with this
 * machine's Docker name ("amd64") or libseccomp name ("x86_64"). */
bool sb_scmp_rule_applies(const struct sb_scmp_host *h, const struct sb_scmp_rule *rule)
{
	const struct sb_scmp_cond *ex = &rule->excludes, *in = &rule->includes;
	const char *docker = h->native != NULL ? h->native->docker_name : NULL;
	const char *lib = h->native != NULL ? h->native->libseccomp_name : NULL;

	if (ex->present) {
		if (list_has(ex->arches, ex->n_arches, docker, lib))
			return false;
		if (ex->has_min_kernel && kernel_at_least(h, ex))
			return false;
	}
	if (in->present) {
		if (in->n_arches > 0 && !list_has(in->arches, in->n_arches, docker, lib))
			return false;
		if (in->n_caps > 0)
			return false;
		if (in->has_min_kernel && !kernel_at_least(h, in))
			return false;
	}
	return true;
}
