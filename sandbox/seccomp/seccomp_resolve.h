/* How Docker resolves a profile's per-rule conditions ("includes" and
 * "excludes") for one machine and one process, here for this machine and a
 * process that holds no capabilities.
 */
#ifndef SB_SECCOMP_RESOLVE_H
#define SB_SECCOMP_RESOLVE_H

#include <stdbool.h>

#include "seccomp_profile.h"

struct sb_scmp_host {
	const struct sb_scmp_arch *native;   /* NULL when not in our table */
	unsigned kernel_major, kernel_minor; /* 0.0 when uname is unreadable */
};

void sb_scmp_host_detect(struct sb_scmp_host *host);

/* Whether a rule of the profile applies here. */
bool sb_scmp_rule_applies(const struct sb_scmp_host *host, const struct sb_scmp_rule *rule);

#endif
