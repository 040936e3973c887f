/* Compiles a Docker/OCI seccomp profile with libseccomp, the way Docker
 * resolves it for a container that holds no capabilities, for the native
 * architecture of this machine (plus the compat architectures the profile
 * names for it).  The profile was checked by sb_policy_load(); what can
 * still fail here depends on this machine: libseccomp's syscall table and
 * what the kernel supports.
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
#include "json_locate.h"
#include "seccomp_names.h"
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
	struct sb_error *err;
	struct sb_json_path path;
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
	char where[256], what[SB_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sb_json_path_format(&b->path, where, sizeof(where));
	return sb_error_set(b->err, "seccomp", errnum, "policy `%s`, at %s: %s", b->file, where,
			    what);
}

/* The profile did not come through sb_policy_load(). */
static int not_validated(struct build *b)
{
	fail(b, 0, "malformed seccomp profile");
	return sb_error_hint(b->err, "check the policy with `python-mcp-sandbox --check-policy`");
}

static json_t *member(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* The action named at obj[key], with its data: errnoRet from obj[errno_key]
 * when present, else the profile's default. */
static int parse_action(struct build *b, const json_t *obj, const char *key, const char *errno_key,
			uint32_t *out)
{
	const char *name = json_string_value(json_object_get(obj, key));
	const struct sb_scmp_action *a = name != NULL ? sb_scmp_action_lookup(name) : NULL;
	json_t *data = member(obj, errno_key);
	int rc = 0;

	sb_json_path_push_key(&b->path, key);
	if (a == NULL)
		rc = not_validated(b);
	else if (!a->supported)
		rc = fail(b, 0, "%s is not supported: the launcher runs no seccomp listener", name);
	else if (!a->with_data)
		*out = a->action;
	else if (data == NULL)
		*out = a->action | b->default_data;
	else if (json_is_integer(data) && json_integer_value(data) >= 0 &&
		 json_integer_value(data) <= SB_SCMP_ERRNO_MAX)
		*out = a->action | (uint32_t)json_integer_value(data);
	else
		rc = not_validated(b);
	sb_json_path_pop(&b->path);
	return rc;
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
static int add_arch_list(struct build *b, const json_t *list)
{
	json_t *item;
	size_t i;

	json_array_foreach (list, i, item) {
		const char *name = json_string_value(item);
		const struct sb_scmp_arch *arch = name != NULL ? sb_scmp_arch_lookup(name) : NULL;

		if (arch == NULL)
			continue;
		sb_json_path_push_index(&b->path, i);
		if (b->host.native != NULL && sb_scmp_arch_is_sub(b->host.native, name)) {
			int rc = add_arch(b, arch);

			if (rc < 0)
				return rc;
		}
		sb_json_path_pop(&b->path);
	}
	return 0;
}

static int add_arches(struct build *b, const json_t *profile)
{
	json_t *list = member(profile, "architectures");
	json_t *map = member(profile, "archMap");
	json_t *entry;
	size_t i;
	int rc;

	if (list != NULL) {
		sb_json_path_push_key(&b->path, "architectures");
		rc = add_arch_list(b, list);
		if (rc < 0)
			return rc;
		sb_json_path_pop(&b->path);
	}
	if (map == NULL || b->host.native == NULL)
		return 0;
	sb_json_path_push_key(&b->path, "archMap");
	json_array_foreach (map, i, entry) {
		const char *name = json_string_value(json_object_get(entry, "architecture"));
		json_t *subs = member(entry, "subArchitectures");

		if (name == NULL || strcmp(name, b->host.native->name) != 0 || subs == NULL)
			continue;
		sb_json_path_push_index(&b->path, i);
		sb_json_path_push_key(&b->path, "subArchitectures");
		rc = add_arch_list(b, subs);
		if (rc < 0)
			return rc;
		sb_json_path_pop(&b->path);
		sb_json_path_pop(&b->path);
	}
	sb_json_path_pop(&b->path);
	return 0;
}

static int set_flags(struct build *b, const json_t *profile)
{
	json_t *flags = member(profile, "flags");
	json_t *item;
	size_t i;

	sb_json_path_push_key(&b->path, "flags");
	json_array_foreach (flags, i, item) {
		const char *name = json_string_value(item);
		enum sb_scmp_flag flag;
		int rc = 0;

		sb_json_path_push_index(&b->path, i);
		if (name == NULL || !sb_scmp_flag_lookup(name, &flag))
			return not_validated(b);
		switch (flag) {
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
			return fail(b, -rc, "libseccomp cannot set %s", name);
		sb_json_path_pop(&b->path);
	}
	sb_json_path_pop(&b->path);
	return 0;
}

static int parse_args(struct build *b, const json_t *rule, struct scmp_arg_cmp cmp[6],
		      unsigned *n)
{
	json_t *args = member(rule, "args");
	json_t *arg;
	size_t i;

	*n = 0;
	json_array_foreach (args, i, arg) {
		const char *op = json_string_value(json_object_get(arg, "op"));
		json_int_t index = json_integer_value(json_object_get(arg, "index"));
		enum scmp_compare cmp_op;

		if (i >= 6 || op == NULL || !sb_scmp_op_lookup(op, &cmp_op) || index < 0 ||
		    index > 5) {
			sb_json_path_push_key(&b->path, "args");
			sb_json_path_push_index(&b->path, i);
			return not_validated(b);
		}
		/* For MASKED_EQ, Docker's value is the mask and valueTwo the
		 * datum, which is libseccomp's order too. */
		cmp[i].arg = (unsigned)index;
		cmp[i].op = cmp_op;
		cmp[i].datum_a = (scmp_datum_t)json_integer_value(json_object_get(arg, "value"));
		cmp[i].datum_b = (scmp_datum_t)json_integer_value(json_object_get(arg, "valueTwo"));
		*n = (unsigned)i + 1;
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
		fail(b, 0, "`%s` already has an unconditional rule with another action at "
			   "$.seccomp.syscalls[%zu]",
		     name, other);
	else
		fail(b, 0, "`%s` has both an unconditional rule and a conditional rule with "
			   "another action (the other one at $.seccomp.syscalls[%zu]); libseccomp "
			   "would silently keep only the unconditional one",
		     name, other);
	return sb_error_hint(b->err, "express exceptions as conditional rules only, e.g. several "
				     "conditional SCMP_ACT_ALLOW rules (policies/README.md)");
}

/* libseccomp 2.5 accepts, without an error, an unconditional rule next to
 * conditional rules of another action for the same syscall and then keeps
 * only the unconditional one; it also accepts two unconditional rules with
 * different actions.  A profile that says "allow ioctl, but deny TIOCSTI"
 * that way would allow TIOCSTI, so such combinations are refused.
 * Conditional rules that equal the default action count too: they are
 * dropped (libseccomp refuses them) but say what the author expects. */
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
	if (action == b->default_action)
		return 0;
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
			return sb_error_hint(b->err, "another rule gives `%s` a different "
						     "action for the same arguments",
					     name);
		return rc;
	}
	return 0;
}

static int add_rule(struct build *b, const json_t *rule, size_t index)
{
	struct scmp_arg_cmp cmp[6];
	json_t *names = member(rule, "names");
	json_t *legacy = member(rule, "name");
	uint32_t action;
	unsigned n;
	json_t *item;
	size_t j;
	int rc;

	if (!sb_scmp_rule_applies(&b->host, rule))
		return 0;
	rc = parse_action(b, rule, "action", "errnoRet", &action);
	if (rc < 0)
		return rc;
	rc = parse_args(b, rule, cmp, &n);
	if (rc < 0)
		return rc;
	if (legacy != NULL) {
		sb_json_path_push_key(&b->path, "name");
		if (json_string_value(legacy) == NULL)
			return not_validated(b);
		rc = add_rule_checked(b, json_string_value(legacy), index, action, cmp, n);
		sb_json_path_pop(&b->path);
		return rc;
	}
	sb_json_path_push_key(&b->path, "names");
	if (!json_is_array(names))
		return not_validated(b);
	json_array_foreach (names, j, item) {
		sb_json_path_push_index(&b->path, j);
		if (json_string_value(item) == NULL)
			return not_validated(b);
		rc = add_rule_checked(b, json_string_value(item), index, action, cmp, n);
		if (rc < 0)
			return rc;
		sb_json_path_pop(&b->path);
	}
	sb_json_path_pop(&b->path);
	return 0;
}

static int add_rules(struct build *b, const json_t *profile)
{
	json_t *rules = member(profile, "syscalls");
	json_t *rule;
	size_t i;

	sb_json_path_push_key(&b->path, "syscalls");
	json_array_foreach (rules, i, rule) {
		int rc;

		sb_json_path_push_index(&b->path, i);
		rc = add_rule(b, rule, i);
		if (rc < 0)
			return rc;
		sb_json_path_pop(&b->path);
	}
	sb_json_path_pop(&b->path);
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

static int build(struct build *b, const json_t *profile)
{
	json_t *data = member(profile, "defaultErrnoRet");
	int rc;

	if (!json_is_object(profile))
		return not_validated(b);
	sb_scmp_host_detect(&b->host);
	b->default_data = EPERM;
	if (json_is_integer(data) && json_integer_value(data) >= 0 &&
	    json_integer_value(data) <= SB_SCMP_ERRNO_MAX)
		b->default_data = (uint32_t)json_integer_value(data);
	rc = parse_action(b, profile, "defaultAction", "defaultErrnoRet", &b->default_action);
	if (rc < 0)
		return rc;
	b->ctx = seccomp_init(b->default_action);
	if (b->ctx == NULL) {
		sb_json_path_push_key(&b->path, "defaultAction");
		return fail(b, EINVAL, "libseccomp refuses this default action");
	}
	rc = set_attributes(b);
	if (rc >= 0)
		rc = add_arches(b, profile);
	if (rc >= 0)
		rc = set_flags(b, profile);
	if (rc >= 0)
		rc = add_rules(b, profile);
	return rc;
}

int sb_seccomp_build(const json_t *profile, const char *file, scmp_filter_ctx *out,
		     struct sb_error *err)
{
	struct build b = {.file = file, .err = err};
	_cleanup_(release_ctx) scmp_filter_ctx ctx = NULL;
	int rc;

	*out = NULL;
	sb_json_path_init(&b.path);
	sb_json_path_push_key(&b.path, "seccomp");
	rc = build(&b, profile);
	ctx = b.ctx;
	free(b.seen);
	if (rc < 0)
		return rc;
	*out = TAKE_PTR(ctx);
	return 0;
}
