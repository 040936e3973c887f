/* A seccomp filter compiled to BPF ahead of time.  Generating the program
 * takes about a millisecond for the default allow-list; doing it while the
 * sandbox is prepared keeps it off the job's path, and init loads the
 * finished program just before exec. */
#ifndef SB_SECCOMP_BPF_H
#define SB_SECCOMP_BPF_H

#include <seccomp.h>
#include <stddef.h>

#include "error.h"

struct sb_bpf {
	void *insns;	/* struct sock_filter[], owned */
	size_t len;	/* bytes */
	unsigned flags; /* SECCOMP_FILTER_FLAG_* the profile asked for */
};

/* Exports ctx as a binary-tree-optimized BPF program. */
int sb_bpf_export(scmp_filter_ctx ctx, struct sb_bpf *out, struct pm_error *err);

/* Installs the program on the calling thread (no_new_privs must be set). */
int sb_bpf_load(const void *insns, size_t len, unsigned flags, struct pm_error *err);

void sb_bpf_free(struct sb_bpf *bpf);

#endif
