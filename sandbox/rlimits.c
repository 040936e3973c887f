#include "rlimits.h"

#include <errno.h>
#include <sys/resource.h>

static int apply_one(int resource, const char *name, int64_t value, struct pm_error *err)
{
	struct rlimit rl;

	if (value == SB_UNSET)
		return 0;
	if (getrlimit(resource, &rl) < 0)
		return pm_error_errno(err, "rlimits", "getrlimit(%s)", name);
	/* Only ever lower: a limit above the inherited hard one is clamped,
	 * since raising it needs CAP_SYS_RESOURCE on the host. */
	if (rl.rlim_max != RLIM_INFINITY && (rlim_t)value > rl.rlim_max)
		value = (int64_t)rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = (rlim_t)value;
	if (setrlimit(resource, &rl) < 0)
		return pm_error_errno(err, "rlimits", "setrlimit(%s, %lld)", name,
				      (long long)value);
	return 0;
}

int sb_rlimits_apply(const struct sb_rlimits *l, struct pm_error *err)
{
	int r;

	if ((r = apply_one(RLIMIT_AS, "RLIMIT_AS", l->as_bytes, err)) < 0 ||
	    (r = apply_one(RLIMIT_CPU, "RLIMIT_CPU", l->cpu_seconds, err)) < 0 ||
	    (r = apply_one(RLIMIT_FSIZE, "RLIMIT_FSIZE", l->fsize_bytes, err)) < 0 ||
	    (r = apply_one(RLIMIT_NOFILE, "RLIMIT_NOFILE", l->nofile, err)) < 0 ||
	    (r = apply_one(RLIMIT_NPROC, "RLIMIT_NPROC", l->nproc, err)) < 0 ||
	    (r = apply_one(RLIMIT_CORE, "RLIMIT_CORE", l->core_bytes, err)) < 0 ||
	    (r = apply_one(RLIMIT_STACK, "RLIMIT_STACK", l->stack_bytes, err)) < 0)
		return r;
	return 0;
}
