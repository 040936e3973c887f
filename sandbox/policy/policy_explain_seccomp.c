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
	V_ALLOWED,    /* an unconditional allow (or log), or the default's */
	V_DENIED,     /* an unconditional errno, kill or trap, or the default's */
	V_SOME_ALLOW, /* denied, but allowed for some arguments */
	V_SOME_DENY,  /* allowed, but denied for some arguments */
};

#define PROCESS_FAMILY 15

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
    [PROCESS_FAMILY] = {"processes and programs",
			{"clone", "clone3", "fork", "vfork", "execve", "execveat"}},
    {"sockets", {"socket", "socketpair", "connect", "bind", "listen", "accept4"}},
    {"device control", {"ioctl"}},
    {"files", {"openat", "read", "write", "mmap", "rename", "unlink"}},
};

static bool is_allow(const struct sb_scmp_action *a)
{
	return strcmp(a->name, "SCMP_ACT_ALLOW") == 0 || strcmp(a->name, "SCMP_ACT_LOG") == 0;
}

/* The no-fork filter "subprocesses": false stacks on the profile's. */
static enum verdict no_fork(const struct sb_policy *p, const char *name, enum verdict v)
{
	if (p->subprocesses || v == V_DENIED)
		return v;
	if (strcmp(name, "fork") == 0 || strcmp(name, "vfork") == 0 || strcmp(name, "clone3") == 0)
		return V_DENIED;
	if (strcmp(name, "clone") == 0)
		return V_SOME_ALLOW; /* threads only */
	return v;
}

/* With prof NULL (no filter) every syscall is allowed. */
static enum verdict verdict_of(const struct sb_policy *p, const struct sb_scmp_host *h,
			       const char *name)
{
	const struct sb_scmp_profile *prof = p->seccomp_profile;
	bool conditional = false, cond_allow = false;

	for (size_t i = 0; prof != NULL && i < prof->n_rules; i++) {
		const struct sb_scmp_rule *r = &prof->rules[i];
		bool named = false;

		for (size_t j = 0; j < r->n_names && !named; j++)
			named = strcmp(r->names[j], name) == 0;
		if (!named || !sb_scmp_rule_applies(h, r))
			continue;
		if (r->n_args == 0)
			return no_fork(p, name, is_allow(r->action) ? V_ALLOWED : V_DENIED);
		conditional = true;
		cond_allow = cond_allow || is_allow(r->action);
	}
	bool base_allows = prof == NULL || is_allow(prof->default_action);
	enum verdict v = base_allows ? V_ALLOWED : V_DENIED;
	/* Conditional rules matter only where they differ from the default. */
	if (conditional && base_allows && !cond_allow)
		v = V_SOME_DENY;
	else if (conditional && !base_allows && cond_allow)
		v = V_SOME_ALLOW;
	return no_fork(p, name, v);
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

static void family_line(FILE *out, const struct sb_policy *p, const struct sb_scmp_host *h,
			const struct family *f)
{
	static const char *const words[] = {"allowed", "denied", "allowed for some arguments",
					    "denied for some arguments"};
	enum verdict first = V_ALLOWED;
	bool mixed = false;
	size_t n = 0;

	for (; n < sizeof(f->names) / sizeof(f->names[0]) && f->names[n] != NULL; n++) {
		enum verdict v = verdict_of(p, h, f->names[n]);
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
			words[verdict_of(p, h, f->names[i])]);
	fputc('\n', out);
}

void sb_policy_explain_seccomp(FILE *out, const struct sb_policy *p)
{
	const struct sb_scmp_profile *prof = p->seccomp_profile;
	struct sb_scmp_host host;
	size_t outright = 0, some = 0;

	fputs("\nSeccomp\n", out);
	sb_scmp_host_detect(&host);
	if (prof == NULL) {
		fputs("  No filter of the policy's: every syscall the kernel lets an unprivileged "
		      "process make",
		      out);
		fputs(p->subprocesses ? ".\n" : ", except new processes (below).\n", out);
		if (!p->subprocesses)
			family_line(out, p, &host, &families[PROCESS_FAMILY]);
		return;
	}
	bool base_allows = is_allow(prof->default_action);
	for (size_t i = 0; i < prof->n_rules; i++) {
		const struct sb_scmp_rule *r = &prof->rules[i];

		if (!sb_scmp_rule_applies(&host, r))
			continue;
		/* Each name once, at the first rule that names it; counted
		 * where it differs from the default. */
		for (size_t j = 0; j < r->n_names; j++) {
			if (!first_mention(prof, &host, i, r->names[j]))
				continue;
			enum verdict v = verdict_of(p, &host, r->names[j]);
			outright += v == (base_allows ? V_DENIED : V_ALLOWED);
			some += v == (base_allows ? V_SOME_DENY : V_SOME_ALLOW);
		}
	}
	fprintf(out, "  Default action: %s", prof->default_action->name);
	if (prof->default_action->with_data)
		fprintf(out, " (errno %u, %s)", prof->has_default_errno ? prof->default_errno : 1,
			strerror((int)(prof->has_default_errno ? prof->default_errno : 1)));
	fprintf(out,
		" for every syscall no rule names; on this machine the profile %s %zu "
		"syscalls outright and %zu more for some arguments only.\n",
		base_allows ? "denies" : "allows", outright, some);
	if (!p->subprocesses)
		fputs("  \"subprocesses\": false stacks a filter that refuses fork, vfork, clone3 "
		      "and clone without CLONE_THREAD.\n",
		      out);
	fputs("  By family:\n", out);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		family_line(out, p, &host, &families[i]);
}
