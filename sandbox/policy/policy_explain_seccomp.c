/* The seccomp section of --explain-policy: what the profile does, as this
 * machine's launcher would compile it (Docker's includes/excludes resolved
 * for this kernel and architecture, for a process without capabilities),
 * summed up by family of syscalls rather than as the 400 names of an
 * allow-list.
 */
#include "policy_explain.h"

#include <string.h>

#include "seccomp_profile.h"
#include "seccomp_resolve.h"

enum verdict {
	V_DEFAULT,     /* no rule names it: the default action */
	V_ALLOWED,     /* an unconditional allow (or log) */
	V_DENIED,      /* an unconditional errno, kill or trap */
	V_CONDITIONAL, /* rules with conditions on its arguments */
};

/* The families an escape or an attack on the host reaches for, and the
 * everyday ones a script needs. */
static const struct family {
	const char *what;
	const char *names[14];
} families[] = {
    {"mounting and namespaces",
     {"mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
      "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr"}},
    {"kernel modules and kexec",
     {"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load"}},
    {"tracing other processes",
     {"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp"}},
    {"BPF and performance counters", {"bpf", "perf_event_open"}},
    {"the kernel keyring", {"add_key", "request_key", "keyctl"}},
    {"the system clock", {"settimeofday", "clock_settime", "clock_adjtime", "adjtimex"}},
    {"reboot, swap, accounting and the kernel log",
     {"reboot", "swapon", "swapoff", "acct", "syslog", "vhangup"}},
    {"io_uring", {"io_uring_setup", "io_uring_enter", "io_uring_register"}},
    {"userfaultfd", {"userfaultfd"}},
    {"I/O ports", {"iopl", "ioperm"}},
    {"file handles of other mounts", {"open_by_handle_at", "name_to_handle_at"}},
    {"NUMA memory placement", {"mbind", "set_mempolicy", "move_pages", "migrate_pages"}},
    {"host and domain names", {"sethostname", "setdomainname"}},
    {"quotas and fanotify", {"quotactl", "fanotify_init"}},
    {"personality (ABI switches)", {"personality"}},
    {"processes and programs", {"clone", "clone3", "fork", "vfork", "execve", "execveat"}},
    {"sockets", {"socket", "socketpair", "connect", "bind", "listen", "accept4"}},
    {"device control", {"ioctl"}},
    {"files", {"openat", "read", "write", "mmap", "rename", "unlink"}},
};

static bool is_allow(const struct sb_scmp_action *a)
{
	return strcmp(a->name, "SCMP_ACT_ALLOW") == 0 || strcmp(a->name, "SCMP_ACT_LOG") == 0;
}

static enum verdict verdict_of(const struct sb_scmp_profile *prof, const struct sb_scmp_host *h,
			       const char *name)
{
	enum verdict v = V_DEFAULT;

	for (size_t i = 0; i < prof->n_rules; i++) {
		const struct sb_scmp_rule *r = &prof->rules[i];
		bool named = false;

		for (size_t j = 0; j < r->n_names && !named; j++)
			named = strcmp(r->names[j], name) == 0;
		if (!named || !sb_scmp_rule_applies(h, r))
			continue;
		if (r->n_args > 0)
			v = V_CONDITIONAL;
		else
			return is_allow(r->action) ? V_ALLOWED : V_DENIED;
	}
	if (v == V_DEFAULT)
		return is_allow(prof->default_action) ? V_ALLOWED : V_DENIED;
	return v;
}

static bool first_mention(const struct sb_scmp_profile *prof, const struct sb_scmp_host *h,
			  size_t rule, const char *name)
{
	for (size_t i = 0; i < rule; i++) {
		const struct sb_scmp_rule *r = &prof->rules[i];

		if (!sb_scmp_rule_applies(h, r))
			continue;
		for (size_t j = 0; j < r->n_names; j++)
			if (strcmp(r->names[j], name) == 0)
				return false;
	}
	return true;
}

static void family_line(FILE *out, const struct sb_scmp_profile *prof, const struct sb_scmp_host *h,
			const struct family *f)
{
	static const char *const words[] = {"", "allowed", "denied", "allowed for some arguments"};
	enum verdict first = V_DEFAULT;
	bool mixed = false;
	size_t n = 0;

	for (; n < sizeof(f->names) / sizeof(f->names[0]) && f->names[n] != NULL; n++) {
		enum verdict v = verdict_of(prof, h, f->names[n]);
		if (n == 0)
			first = v;
		else if (v != first)
			mixed = true;
	}
	fprintf(out, "    %s: ", f->what);
	if (!mixed) {
		fprintf(out, "%s (", words[first]);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s%s", i ? ", " : "", f->names[i]);
		fputs(")\n", out);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s %s", i ? ", " : "", f->names[i],
			words[verdict_of(prof, h, f->names[i])]);
	fputc('\n', out);
}

void sb_policy_explain_seccomp(FILE *out, const struct sb_policy *p)
{
	const struct sb_scmp_profile *prof = p->seccomp_profile;
	struct sb_scmp_host host;
	size_t allowed = 0, conditional = 0;

	fputs("\nSeccomp\n", out);
	if (prof == NULL) {
		fputs("  No filter: every syscall the kernel lets an unprivileged process make.\n",
		      out);
		return;
	}
	sb_scmp_host_detect(&host);
	for (size_t i = 0; i < prof->n_rules; i++) {
		const struct sb_scmp_rule *r = &prof->rules[i];

		if (!sb_scmp_rule_applies(&host, r))
			continue;
		/* Each name once, at the first rule that names it. */
		for (size_t j = 0; j < r->n_names; j++) {
			if (!first_mention(prof, &host, i, r->names[j]))
				continue;
			enum verdict v = verdict_of(prof, &host, r->names[j]);
			allowed += v == V_ALLOWED;
			conditional += v == V_CONDITIONAL;
		}
	}
	fprintf(out, "  Default action: %s", prof->default_action->name);
	if (prof->default_action->with_data)
		fprintf(out, " (errno %u, %s)", prof->has_default_errno ? prof->default_errno : 1,
			strerror((int)(prof->has_default_errno ? prof->default_errno : 1)));
	fprintf(out,
		" for every syscall no rule names; on this machine the profile allows %zu "
		"syscalls outright and %zu more for some arguments only.\n",
		allowed, conditional);
	fputs("  By family:\n", out);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		family_line(out, prof, &host, &families[i]);
}
