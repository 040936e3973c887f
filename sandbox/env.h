/* The environment of the sandboxed command.  Nothing of the launcher's own
 * environment reaches it except the names the policy passes through:
 * leaking a server's secrets into untrusted code is a defect. */
#ifndef SB_ENV_H
#define SB_ENV_H

#include <stddef.h>

#include "error.h"
#include "policy.h"

/* Builds a NULL-terminated "K=V" array: the policy's "set" values (with
 * ${WORKSPACE} replaced), then its "pass" names present in the launcher's
 * environment, then `extra` ("K=V" from --env); later entries win. */
int sb_env_build(const struct sb_policy *policy, const char *workspace, char *const *extra,
		 size_t n_extra, char ***out, struct pm_error *err);

void sb_env_free(char **env);

/* Validates a "K=V" argument of --env. */
int sb_env_check_assignment(const char *kv, struct pm_error *err);

#endif
