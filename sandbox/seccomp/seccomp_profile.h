/* A seccomp profile (Docker/OCI format), parsed once.  The policy loader
 * fills it while it checks the "seccomp" section (policy_seccomp.c, with
 * the file's line and JSON path in every error); the filter compiler
 * (seccomp.c) and Docker's rule resolution (seccomp_resolve.c) read only
 * this, never the JSON again. */
#ifndef SB_SECCOMP_PROFILE_H
#define SB_SECCOMP_PROFILE_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seccomp_names.h"

/* A rule's "includes" or "excludes" (Docker's extension). */
struct sb_scmp_cond {
	bool present;
	char **arches; /* Docker or libseccomp names ("amd64", "x86_64") */
	size_t n_arches;
	size_t n_caps; /* capabilities named (only whether any matters) */
	bool has_min_kernel;
	unsigned kernel_major, kernel_minor;
};

struct sb_scmp_rule {
	size_t index;	  /* position in "syscalls", for messages */
	bool legacy_name; /* written with "name" instead of "names" */
	char **names;
	size_t n_names;
	const struct sb_scmp_action *action;
	bool has_errno; /* errnoRet given */
	uint32_t errno_ret;
	struct scmp_arg_cmp args[6];
	unsigned n_args;
	struct sb_scmp_cond includes, excludes;
};

struct sb_scmp_arch_map {
	const struct sb_scmp_arch *arch;
	const struct sb_scmp_arch **subs;
	size_t n_subs;
};

struct sb_scmp_profile {
	const struct sb_scmp_action *default_action;
	bool has_default_errno;
	uint32_t default_errno;
	const struct sb_scmp_arch **arches; /* "architectures" */
	size_t n_arches;
	struct sb_scmp_arch_map *arch_map; /* "archMap" */
	size_t n_arch_map;
	enum sb_scmp_flag *flags;
	size_t n_flags;
	struct sb_scmp_rule *rules;
	size_t n_rules;
};

void sb_scmp_profile_free(struct sb_scmp_profile *p);

#endif
