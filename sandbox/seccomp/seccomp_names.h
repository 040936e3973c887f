/* The names of the Docker/OCI seccomp profile format (actions, comparison
 * operators, architectures, flags) and what they mean to libseccomp.  Both
 * the policy validator (policy_seccomp.c) and the filter compiler
 * (seccomp.c) read these tables, so a name is accepted at load exactly when
 * the compiler knows what to do with it.
 */
#ifndef SB_SECCOMP_NAMES_H
#define SB_SECCOMP_NAMES_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest errno a seccomp filter can return (the kernel caps at
 * MAX_ERRNO). */
#define SB_SCMP_ERRNO_MAX 4095

struct sb_scmp_action {
	const char *name; /* "SCMP_ACT_ERRNO" */
	uint32_t action;  /* libseccomp value, without data */
	bool with_data;	  /* ERRNO and TRACE take errnoRet as their data */
	bool supported;	  /* false for SCMP_ACT_NOTIFY: there is no listener */
};

struct sb_scmp_arch {
	const char *name;	     /* "SCMP_ARCH_X86_64" */
	uint32_t token;		     /* 0 when this libseccomp lacks the arch */
	const char *docker_name;     /* "amd64", as in includes.arches */
	const char *libseccomp_name; /* "x86_64" */
	/* Architectures whose binaries a kernel of this one also runs
	 * (compat ABIs); the only ones a filter of ours may add. */
	const char *subs[2];
};

enum sb_scmp_flag {
	SB_SCMP_FLAG_TSYNC,
	SB_SCMP_FLAG_LOG,
	SB_SCMP_FLAG_SPEC_ALLOW,
	SB_SCMP_FLAG_WAIT_KILLABLE_RECV,
};

/* Lookups by profile name; NULL or false when the name is unknown. */
const struct sb_scmp_action *sb_scmp_action_lookup(const char *name);
bool sb_scmp_op_lookup(const char *name, enum scmp_compare *op);
const struct sb_scmp_arch *sb_scmp_arch_lookup(const char *name);
const struct sb_scmp_arch *sb_scmp_arch_by_token(uint32_t token);
bool sb_scmp_flag_lookup(const char *name, enum sb_scmp_flag *flag);

/* Whether `sub` names a compat architecture of `native`. */
bool sb_scmp_arch_is_sub(const struct sb_scmp_arch *native, const char *sub);

/* Comma-separated lists of the accepted names, for hints. */
void sb_scmp_list_actions(char *buf, size_t size);
void sb_scmp_list_ops(char *buf, size_t size);
void sb_scmp_list_flags(char *buf, size_t size);

#endif
