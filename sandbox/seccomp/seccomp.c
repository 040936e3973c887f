/* Compiles a Docker/OCI seccomp profile with libseccomp, the way Docker
 * resolves it for a container that holds no capabilities, for the native
 * architecture of this machine (plus the compat architectures the profile
 * names for it).  The profile was checked and parsed by sb_policy_load()
 * (seccomp_profile.h); what can still fail here depends on this machine:
 * libseccomp's syscall table and what the kernel supports.
 *
 * libseccomp 2.5 quietly resolves some rule combinations that a profile
 * author would not expect (see check_combination()), so those are refused
 * here with the paths of both rules.
 */
#include "seccomp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "seccomp_resolve.h"

/* What the rules for one syscall did so far, to catch combinations that
 * libseccomp resolves silently. */
struct seen {
	int nr;
	bool has_uncond;
	uint32_t uncond;
	size_t uncond_rule;
	/* The first two distinct actions of conditional rules. */
	size_t n_cond;
	uint32_t cond[2];
	size_t cond_rule[2];
};

struct build {
	const char *file;
	struct pm_error *err;
	char where[96]; /* the JSON path of what is being compiled */
	scmp_filter_ctx ctx;
	struct sb_scmp_host host;
	uint32_t default_action;
	uint32_t default_data; /* defaultErrnoRet, or EPERM */
	struct seen *seen;
	size_t n_seen, cap_seen;
};

static int fail(struct build *b, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct build *b, int errnum, const char *fmt, ...)
{
	char what[PM_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return pm_error_set(b->err, "seccomp", errnum, "policy `%s`, at $.seccomp%s: %s", b->file,
			    b->where, what);
}

static void at(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void at(struct build *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->where, sizeof(b->where), fmt, ap);
	va_end(ap);
}

/* The action with its data: errnoRet when given, else the profile's
 * default (EPERM unless defaultErrnoRet says otherwise). */
static uint32_t action_of(const struct build *b, const struct sb_scmp_action *a, bool has_errno,
			  uint32_t errno_ret)
{
	if (!a->with_data)
		return a->action;
	return a->action | (has_errno ? errno_ret : b->default_data);
}

static int add_arch(struct build *b, const struct sb_scmp_arch *arch)
{
	int rc;

	if (arch->token == 0)
		return 0;
	rc = seccomp_arch_add(b->ctx, arch->token);
	if (rc < 0 && rc != -EEXIST)
		return fail(b, -rc, "libseccomp cannot add architecture `%s`", arch->name);
	return 0;
}

/* Only compat architectures of the native one are added: the native one is
 * always in the filter, and others could never run here anyway. */
static int add_arch_list(struct build *b, const struct sb_scmp_arch *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b->host.native == NULL || !sb_scmp_arch_is_sub(b->host.native, list[i]->name))
			continue;
		int rc = add_arch(b, list[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_arches(struct build *b, const struct sb_scmp_profile *p)
{
	int rc;

	at(b, ".architectures");
	if ((rc = add_arch_list(b, p->arches, p->n_arches)) < 0 || b->host.native == NULL)
		return rc;
	for (size_t i = 0; i < p->n_arch_map; i++) {
		const struct sb_scmp_arch_map *m = &p->arch_map[i];
		if (m->arch != b->host.native)
			continue;
		at(b, ".archMap[%zu].subArchitectures", i);
		if ((rc = add_arch_list(b, m->subs, m->n_subs)) < 0)
			return rc;
	}
	return 0;
}

static int set_flags(struct build *b, const struct sb_scmp_profile *p)
{
	for (size_t i = 0; i < p->n_flags; i++) {
		int rc = 0;

		at(b, ".flags[%zu]", i);
		switch (p->flags[i]) {
		case SB_SCMP_FLAG_TSYNC:
			rc = seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_TSYNC, 1);
			break;
		case SB_SCMP_FLAG_LOG:
			rc = seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_LOG, 1);
			break;
		case SB_SCMP_FLAG_SPEC_ALLOW:
			rc = seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_SSB, 1);
			break;
		case SB_SCMP_FLAG_WAIT_KILLABLE_RECV:
			/* Only changes how a listener's wait behaves; there
			 * is no listener. */
			break;
		}
		if (rc < 0)
			return fail(b, -rc, "libseccomp cannot set this flag");
	}
	return 0;
}

static struct seen *seen_for(struct build *b, int nr)
{
	for (size_t i = 0; i < b->n_seen; i++) {
		if (b->seen[i].nr == nr)
			return &b->seen[i];
	}
	if (b->n_seen == b->cap_seen) {
		size_t cap = b->cap_seen == 0 ? 128 : b->cap_seen * 2;
		struct seen *grown = realloc(b->seen, cap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		b->seen = grown;
		b->cap_seen = cap;
	}
	memset(&b->seen[b->n_seen], 0, sizeof(b->seen[0]));
	b->seen[b->n_seen].nr = nr;
	return &b->seen[b->n_seen++];
}

static int conflict(struct build *b, const char *name, size_t other, bool both_uncond)
{
	if (both_uncond)
		fail(b, 0,
		     "`%s` already has an unconditional rule with another action at "
		     "$.seccomp.syscalls[%zu]",
		     name, other);
	else
		fail(b, 0,
		     "`%s` has both an unconditional rule and a conditional rule with "
		     "another action (the other one at $.seccomp.syscalls[%zu]); libseccomp "
		     "would silently keep only the unconditional one",
		     name, other);
	return pm_error_hint(b->err, "express exceptions as conditional rules only, e.g. several "
				     "conditional SCMP_ACT_ALLOW rules (policies/README.md)");
}

/* libseccomp 2.5 accepts, without an error, an unconditional rule next to
 * conditional rules of another action for the same syscall and then keeps
 * only the unconditional one; it also accepts two unconditional rules with
 * different actions.  A profile that says "allow ioctl, but deny TIOCSTI"
 * that way would allow TIOCSTI, so such combinations are refused.
 * Rules that equal the default action count too: they are dropped
 * (libseccomp refuses them) but say what the author expects. */
static int check_combination(struct build *b, const char *name, int nr, size_t rule, bool cond,
			     uint32_t action)
{
	struct seen *s = seen_for(b, nr);

	if (s == NULL)
		return fail(b, ENOMEM, "compiling `%s`", name);
	if (cond) {
		if (s->has_uncond && s->uncond != action)
			return conflict(b, name, s->uncond_rule, false);
		if (s->n_cond < 2 && (s->n_cond == 0 || s->cond[0] != action)) {
			s->cond[s->n_cond] = action;
			s->cond_rule[s->n_cond++] = rule;
		}
		return 0;
	}
	/* An unconditional rule equal to the default is dropped too, but next
	 * to an allow of the same syscall (a base's, say) it would deny
	 * nothing: refused like any other pair. */
	if (s->has_uncond && s->uncond != action && action == b->default_action) {
		fail(b, 0,
		     "`%s` is denied here but allowed by the unconditional rule at "
		     "$.seccomp.syscalls[%zu]; libseccomp would keep the allow",
		     name, s->uncond_rule);
		return pm_error_hint(b->err,
				     "drop `%s` from that rule instead (to change a "
				     "base's list, give the whole `seccomp.syscalls`: "
				     "`syscalls+` only adds rules)",
				     name);
	}
	if (s->has_uncond && s->uncond != action)
		return conflict(b, name, s->uncond_rule, true);
	for (size_t k = 0; k < s->n_cond; k++) {
		if (s->cond[k] != action)
			return conflict(b, name, s->cond_rule[k], false);
	}
	s->has_uncond = true;
	s->uncond = action;
	s->uncond_rule = rule;
	return 0;
}

/* Adds the rule for one syscall name.  Names this libseccomp does not know
 * are skipped, as Docker does: profiles list syscalls of other kernels. */
static int add_rule_checked(struct build *b, const char *name, size_t rule, uint32_t action,
			    const struct scmp_arg_cmp *cmp, unsigned n)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	if (nr == __NR_SCMP_ERROR)
		return 0;
	rc = check_combination(b, name, nr, rule, n > 0, action);
	if (rc < 0)
		return rc;
	/* libseccomp refuses rules that repeat the default action. */
	if (action == b->default_action)
		return 0;
	rc = seccomp_rule_add_array(b->ctx, action, nr, n, cmp);
	if (rc < 0) {
		fail(b, -rc, "libseccomp cannot add the rule for `%s`", name);
		if (rc == -EEXIST)
			return pm_error_hint(b->err,
					     "another rule gives `%s` a different "
					     "action for the same arguments",
					     name);
		return rc;
	}
	return 0;
}

static int add_rule(struct build *b, const struct sb_scmp_rule *rule)
{
	uint32_t action = action_of(b, rule->action, rule->has_errno, rule->errno_ret);

	if (!sb_scmp_rule_applies(&b->host, rule))
		return 0;
	for (size_t j = 0; j < rule->n_names; j++) {
		if (rule->legacy_name)
			at(b, ".syscalls[%zu].name", rule->index);
		else
			at(b, ".syscalls[%zu].names[%zu]", rule->index, j);
		int rc = add_rule_checked(b, rule->names[j], rule->index, action, rule->args,
					  rule->n_args);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The process that loads the filter has set no_new_privs itself; libseccomp
 * must not do it again.  A syscall of a foreign architecture kills the
 * whole process (THREATS.md N10); kernels before 4.14 know only thread
 * kills. */
static int set_attributes(struct build *b)
{
	int rc;

	rc = seccomp_attr_set(b->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc < 0)
		rc = seccomp_attr_set(b->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_THREAD);
	if (rc < 0)
		return fail(b, -rc, "libseccomp cannot set the action for foreign architectures");
	rc = seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return fail(b, -rc, "libseccomp cannot leave no_new_privs to the launcher");
	return 0;
}

static void release_ctx(scmp_filter_ctx *ctx)
{
	if (*ctx != NULL)
		seccomp_release(*ctx);
}

static int build(struct build *b, const struct sb_scmp_profile *p)
{
	int rc;

	sb_scmp_host_detect(&b->host);
	b->default_data = p->has_default_errno ? p->default_errno : EPERM;
	b->default_action = action_of(b, p->default_action, p->has_default_errno, p->default_errno);
	b->ctx = seccomp_init(b->default_action);
	if (b->ctx == NULL) {
		at(b, ".defaultAction");
		return fail(b, EINVAL, "libseccomp refuses this default action");
	}
	rc = set_attributes(b);
	if (rc >= 0)
		rc = add_arches(b, p);
	if (rc >= 0)
		rc = set_flags(b, p);
	for (size_t i = 0; rc >= 0 && i < p->n_rules; i++)
		rc = add_rule(b, &p->rules[i]);
	return rc;
}

int sb_seccomp_build(const struct sb_scmp_profile *profile, const char *file, scmp_filter_ctx *out,
		     struct pm_error *err)
{
	struct build b = {.file = file, .err = err};
	_cleanup_(release_ctx) scmp_filter_ctx ctx = NULL;
	int rc;

	*out = NULL;
	rc = build(&b, profile);
	ctx = b.ctx;
	free(b.seen);
	if (rc < 0)
		return rc;
	*out = TAKE_PTR(ctx);
	return 0;
}
