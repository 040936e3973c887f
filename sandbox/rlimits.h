/* Resource limits of the sandboxed process tree (set just before exec, so
 * the launcher's own setup is not bound by them). */
#ifndef SB_RLIMITS_H
#define SB_RLIMITS_H

#include "error.h"
#include "policy.h"

int sb_rlimits_apply(const struct sb_rlimits *limits, struct pm_error *err);

#endif
