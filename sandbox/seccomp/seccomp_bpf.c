#include "seccomp_bpf.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

static unsigned load_flags(scmp_filter_ctx ctx)
{
	static const struct {
		enum scmp_filter_attr attr;
		unsigned flag;
	} map[] = {
	    {SCMP_FLTATR_CTL_TSYNC, SECCOMP_FILTER_FLAG_TSYNC},
	    {SCMP_FLTATR_CTL_LOG, SECCOMP_FILTER_FLAG_LOG},
	    {SCMP_FLTATR_CTL_SSB, SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	};
	unsigned flags = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++) {
		uint32_t v = 0;
		if (seccomp_attr_get(ctx, map[i].attr, &v) == 0 && v)
			flags |= map[i].flag;
	}
	return flags;
}

int sb_bpf_export(scmp_filter_ctx ctx, struct sb_bpf *out, struct pm_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	memset(out, 0, sizeof(*out));
	/* A binary tree of syscall numbers instead of a linear list: every
	 * syscall the script makes runs through this program. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		return pm_error_set(err, "seccomp", -r, "optimize the filter");
	fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return pm_error_errno(err, "seccomp", "memfd_create");
	if ((r = seccomp_export_bpf(ctx, fd)) < 0)
		return pm_error_set(err, "seccomp", -r, "generate the filter program");
	if (fstat(fd, &st) < 0)
		return pm_error_errno(err, "seccomp", "fstat");
	out->len = (size_t)st.st_size;
	out->insns = malloc(out->len ? out->len : 1);
	if (out->insns == NULL)
		return pm_error_set(err, "seccomp", ENOMEM, "filter program");
	if (pread(fd, out->insns, out->len, 0) != (ssize_t)out->len) {
		sb_bpf_free(out);
		return pm_error_errno(err, "seccomp", "read the filter program");
	}
	out->flags = load_flags(ctx);
	return 0;
}

int sb_bpf_load(const void *insns, size_t len, unsigned flags, struct pm_error *err)
{
	struct sock_fprog prog = {
	    .len = (unsigned short)(len / sizeof(struct sock_filter)),
	    .filter = (struct sock_filter *)insns,
	};

	if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return pm_error_set(err, "seccomp", EINVAL, "filter program of %zu bytes", len);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
		return pm_error_errno(err, "seccomp", "load the seccomp filter");
	return 0;
}

void sb_bpf_free(struct sb_bpf *bpf)
{
	free(bpf->insns);
	memset(bpf, 0, sizeof(*bpf));
}
