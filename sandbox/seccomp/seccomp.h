/* Compiles the policy's seccomp section (Docker/OCI profile format) into a
 * libseccomp filter for the native architecture of this machine, for a
 * process that holds no capabilities. */
#ifndef SB_SECCOMP_H
#define SB_SECCOMP_H

#include <seccomp.h>

#include "error.h"
#include "seccomp_profile.h"

/* Builds the filter from the parsed profile; *out must be released with
 * seccomp_release().  Errors name the JSON path of the offending rule
 * (syscalls[3].names[0], say) in `file`. */
int sb_seccomp_build(const struct sb_scmp_profile *profile, const char *file, scmp_filter_ctx *out,
		     struct pm_error *err);

#endif
