#include "seccomp_nofork.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>

int sb_seccomp_load_no_fork(struct pm_error *err)
{
	static const char *const denied[] = {"fork", "vfork"};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int nr, r = 0;

	if (ctx == NULL)
		return pm_error_set(err, "seccomp", ENOMEM, "the no-subprocess filter");
	for (size_t i = 0; r == 0 && i < sizeof(denied) / sizeof(denied[0]); i++) {
		/* Architectures without the call (arm64 has no fork) skip it. */
		if ((nr = seccomp_syscall_resolve_name(denied[i])) != __NR_SCMP_ERROR)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return pm_error_set(err, "seccomp", -r,
				    "the no-subprocess filter (policy "
				    "\"subprocesses\": false)");
	return 0;
}
