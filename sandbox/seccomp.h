/* Compiles the policy's seccomp section (Docker/OCI profile format) into a
 * libseccomp filter for the native architecture of this machine, for a
 * process that holds no capabilities. */
#ifndef SB_SECCOMP_H
#define SB_SECCOMP_H

#include <jansson.h>
#include <seccomp.h>

#include "error.h"

/* Builds the filter; *out must be released with seccomp_release().  Errors
 * name the JSON path of the offending rule (syscalls[3].action, say). */
int sb_seccomp_build(const json_t *profile, const char *file, scmp_filter_ctx *out,
		     struct sb_error *err);

#endif
