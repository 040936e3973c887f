/* The "seccomp" section, a profile in the Docker/OCI format
 * (policies/README.md lists the fields), checked and parsed in one walk
 * into a struct sb_scmp_profile.  Everything the file can get wrong is
 * reported here, with its line; what is left for the compiler (seccomp.c)
 * is what depends on the machine: which syscall names this libseccomp
 * knows and what the kernel accepts.
 *
 * As in Docker, where a profile written by Go may hold null for an omitted
 * field, null and absent mean the same for the optional fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_read.h"
#include "seccomp_profile.h"

enum name_kind {
	ANY_NAME,  /* a non-empty string (syscalls, capabilities, arches of filters) */
	ARCH_NAME, /* SCMP_ARCH_* */
	FLAG_NAME, /* SECCOMP_FILTER_FLAG_* */
};

/* An optional member: NULL when absent or null. */
static json_t *member(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* A name of the kind; *out is the string (borrowed), an arch's table
 * entry, or the flag's value, by kind. */
union name_value {
	const char *s;
	const struct sb_scmp_arch *arch;
	enum sb_scmp_flag flag;
};

static int check_name(struct sb_reader *r, const json_t *v, enum name_kind kind,
		      union name_value *out)
{
	char quoted[96], list[512];
	enum sb_scmp_flag flag;
	const char *s;

	SB_TRY(sb_rd_string_value(r, v, &s));
	if (s[0] == '\0')
		return sb_rd_fail(r, SB_JSON_VALUE, "expected a name, got an empty string");
	switch (kind) {
	case ANY_NAME:
		out->s = s;
		return 0;
	case ARCH_NAME:
		if ((out->arch = sb_scmp_arch_lookup(s)) != NULL)
			return 0;
		sb_rd_fail(r, SB_JSON_VALUE, "unknown architecture `%s`",
			   sb_rd_quote(s, quoted, sizeof(quoted)));
		return pm_error_hint(r->err, "architectures are named like `SCMP_ARCH_X86_64`");
	case FLAG_NAME:
		if (sb_scmp_flag_lookup(s, &flag)) {
			out->flag = flag;
			return 0;
		}
		sb_rd_fail(r, SB_JSON_VALUE, "unknown flag `%s`",
			   sb_rd_quote(s, quoted, sizeof(quoted)));
		sb_scmp_list_flags(list, sizeof(list));
		return pm_error_hint(r->err, "flags are %s", list);
	}
	return 0;
}

/* The names at obj[key] into *out (an array of n union values,
 * malloc'd; NULL and 0 when absent). */
static int check_names(struct sb_reader *r, const json_t *obj, const char *key, enum name_kind kind,
		       bool nonempty, union name_value **out, size_t *n)
{
	json_t *arr = member(obj, key);
	json_t *item;
	size_t i;

	*out = NULL;
	*n = 0;
	if (arr == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	if (!json_is_array(arr))
		return sb_rd_type_error(r, arr, "an array of names");
	if (nonempty && json_array_size(arr) == 0)
		return sb_rd_fail(r, SB_JSON_VALUE,
				  "expected at least one name, got an empty array");
	if ((*out = calloc(json_array_size(arr) + 1, sizeof(**out))) == NULL)
		return sb_rd_oom(r);
	json_array_foreach (arr, i, item) {
		sb_json_path_push_index(&r->path, i);
		SB_TRY(check_name(r, item, kind, &(*out)[i]));
		(*n)++;
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

/* Copies of the names (the profile outlives the JSON document). */
static int copy_strings(struct sb_reader *r, union name_value *v, size_t n, char ***out)
{
	*out = calloc(n + 1, sizeof(**out));
	if (*out == NULL)
		return sb_rd_oom(r);
	for (size_t i = 0; i < n; i++)
		if (((*out)[i] = strdup(v[i].s)) == NULL)
			return sb_rd_oom(r);
	return 0;
}

static int read_strings(struct sb_reader *r, const json_t *obj, const char *key, bool nonempty,
			char ***out, size_t *n)
{
	union name_value *v = NULL;
	int rc = check_names(r, obj, key, ANY_NAME, nonempty, &v, n);

	if (rc == 0 && v != NULL)
		rc = copy_strings(r, v, *n, out);
	free(v);
	return rc;
}

static int read_arches(struct sb_reader *r, const json_t *obj, const char *key,
		       const struct sb_scmp_arch ***out, size_t *n)
{
	union name_value *v = NULL;
	int rc = check_names(r, obj, key, ARCH_NAME, false, &v, n);

	if (rc == 0 && v != NULL && (*out = calloc(*n + 1, sizeof(**out))) == NULL)
		rc = sb_rd_oom(r);
	for (size_t i = 0; rc == 0 && v != NULL && i < *n; i++)
		(*out)[i] = v[i].arch;
	free(v);
	return rc;
}

static int check_action(struct sb_reader *r, const json_t *obj, const char *key,
			const struct sb_scmp_action **out)
{
	char quoted[96], list[512];
	const char *s;
	json_t *v;

	SB_TRY(sb_rd_require(r, obj, key, &v));
	sb_json_path_push_key(&r->path, key);
	SB_TRY(sb_rd_string_value(r, v, &s));
	*out = sb_scmp_action_lookup(s);
	if (*out == NULL) {
		sb_rd_fail(r, SB_JSON_VALUE, "unknown action `%s`",
			   sb_rd_quote(s, quoted, sizeof(quoted)));
		sb_scmp_list_actions(list, sizeof(list));
		return pm_error_hint(r->err, "actions are %s", list);
	}
	if (!(*out)->supported) {
		sb_rd_fail(r, SB_JSON_VALUE, "%s is not supported", s);
		return pm_error_hint(r->err, "the launcher runs no seccomp listener, and a "
					     "listener decides after a time-of-check/time-of-"
					     "use race; use SCMP_ACT_ERRNO or "
					     "SCMP_ACT_KILL_PROCESS");
	}
	sb_json_path_pop(&r->path);
	return 0;
}

/* errnoRet and defaultErrnoRet: only for the actions that carry data, as
 * the OCI specification requires. */
static int check_errno_ret(struct sb_reader *r, const json_t *obj, const char *key,
			   const struct sb_scmp_action *action, bool *given, uint32_t *out)
{
	json_t *v = member(obj, key);
	int64_t n;

	*given = false;
	if (v == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	if (!action->with_data)
		return sb_rd_fail(r, SB_JSON_KEY,
				  "`%s` only applies to SCMP_ACT_ERRNO and "
				  "SCMP_ACT_TRACE, not to %s",
				  key, action->name);
	SB_TRY(sb_rd_int_value(r, v, 0, SB_SCMP_ERRNO_MAX, &n));
	*given = true;
	*out = (uint32_t)n;
	sb_json_path_pop(&r->path);
	return 0;
}

static int check_arg(struct sb_reader *r, const json_t *arg, bool seen[6], struct scmp_arg_cmp *cmp)
{
	static const char *const keys[] = {"index", "value", "valueTwo", "op", NULL};
	char quoted[96], list[256];
	enum scmp_compare op;
	int64_t index, n;
	const char *s;
	json_t *v;

	SB_TRY(sb_rd_object(r, arg, keys));
	SB_TRY(sb_rd_require(r, arg, "index", &v));
	sb_json_path_push_key(&r->path, "index");
	SB_TRY(sb_rd_int_value(r, v, 0, 5, &index));
	if (seen[index]) {
		sb_rd_fail(r, SB_JSON_VALUE,
			   "argument %lld is compared twice; libseccomp takes one comparison "
			   "per argument and rule",
			   (long long)index);
		return pm_error_hint(r->err, "write one rule per comparison (rules are ORed)");
	}
	seen[index] = true;
	sb_json_path_pop(&r->path);
	/* JSON integers reach 2^63 - 1 here; masks with the top bit set
	 * cannot be written, which no known profile needs.  For MASKED_EQ,
	 * Docker's value is the mask and valueTwo the datum, which is
	 * libseccomp's order too. */
	cmp->arg = (unsigned)index;
	SB_TRY(sb_rd_require(r, arg, "value", &v));
	SB_TRY(sb_rd_int(r, arg, "value", 0, INT64_MAX, 0, false, &n));
	cmp->datum_a = (scmp_datum_t)n;
	n = 0;
	if (member(arg, "valueTwo") != NULL)
		SB_TRY(sb_rd_int(r, arg, "valueTwo", 0, INT64_MAX, 0, false, &n));
	cmp->datum_b = (scmp_datum_t)n;
	SB_TRY(sb_rd_require(r, arg, "op", &v));
	sb_json_path_push_key(&r->path, "op");
	SB_TRY(sb_rd_string_value(r, v, &s));
	if (!sb_scmp_op_lookup(s, &op)) {
		sb_rd_fail(r, SB_JSON_VALUE, "unknown operator `%s`",
			   sb_rd_quote(s, quoted, sizeof(quoted)));
		sb_scmp_list_ops(list, sizeof(list));
		return pm_error_hint(r->err, "operators are %s", list);
	}
	cmp->op = op;
	sb_json_path_pop(&r->path);
	return 0;
}

static int check_args(struct sb_reader *r, const json_t *rule, struct sb_scmp_rule *out)
{
	json_t *args = member(rule, "args");
	bool seen[6] = {false};
	json_t *arg;
	size_t i;

	if (args == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "args");
	if (!json_is_array(args))
		return sb_rd_type_error(r, args, "an array of conditions");
	json_array_foreach (args, i, arg) {
		sb_json_path_push_index(&r->path, i);
		/* At most six: each index once (checked in check_arg). */
		SB_TRY(check_arg(r, arg, seen, &out->args[i < 6 ? i : 5]));
		out->n_args = (unsigned)i + 1;
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

/* "major.minor", as Docker writes minKernel. */
static bool kernel_version_ok(const char *s)
{
	size_t major = strspn(s, "0123456789");
	size_t minor;

	if (major == 0 || major > 9 || s[major] != '.')
		return false;
	minor = strspn(s + major + 1, "0123456789");
	return minor > 0 && minor <= 9 && s[major + 1 + minor] == '\0';
}

static int check_filter(struct sb_reader *r, const json_t *rule, const char *key,
			struct sb_scmp_cond *out)
{
	static const char *const keys[] = {"caps", "arches", "minKernel", NULL};
	json_t *filter = member(rule, key);
	union name_value *caps = NULL;
	json_t *v;
	int rc;

	if (filter == NULL)
		return 0;
	out->present = true;
	sb_json_path_push_key(&r->path, key);
	SB_TRY(sb_rd_object(r, filter, keys));
	rc = check_names(r, filter, "caps", ANY_NAME, false, &caps, &out->n_caps);
	free(caps);
	SB_TRY(rc);
	SB_TRY(read_strings(r, filter, "arches", false, &out->arches, &out->n_arches));
	v = member(filter, "minKernel");
	if (v != NULL) {
		const char *s;
		char quoted[96];

		sb_json_path_push_key(&r->path, "minKernel");
		SB_TRY(sb_rd_string_value(r, v, &s));
		if (!kernel_version_ok(s))
			return sb_rd_fail(r, SB_JSON_VALUE,
					  "expected a kernel version like \"4.8\", got \"%s\"",
					  sb_rd_quote(s, quoted, sizeof(quoted)));
		out->has_min_kernel =
		    sscanf(s, "%u.%u", &out->kernel_major, &out->kernel_minor) == 2;
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

static int check_rule(struct sb_reader *r, const json_t *rule, struct sb_scmp_rule *out)
{
	static const char *const keys[] = {"names",    "name",	   "action",  "errnoRet", "args",
					   "includes", "excludes", "comment", NULL};
	const char *s;
	json_t *v;

	SB_TRY(sb_rd_object(r, rule, keys));
	if (member(rule, "name") != NULL) {
		union name_value name;
		if (member(rule, "names") != NULL) {
			sb_json_path_push_key(&r->path, "name");
			return sb_rd_fail(r, SB_JSON_KEY,
					  "use either `names` or the legacy `name`, not both");
		}
		sb_json_path_push_key(&r->path, "name");
		SB_TRY(check_name(r, member(rule, "name"), ANY_NAME, &name));
		out->legacy_name = true;
		out->n_names = 1;
		SB_TRY(copy_strings(r, &name, 1, &out->names));
		sb_json_path_pop(&r->path);
	} else {
		SB_TRY(sb_rd_require(r, rule, "names", &v));
		if (json_is_null(v)) {
			sb_json_path_push_key(&r->path, "names");
			return sb_rd_type_error(r, v, "an array of names");
		}
		SB_TRY(read_strings(r, rule, "names", true, &out->names, &out->n_names));
	}
	SB_TRY(check_action(r, rule, "action", &out->action));
	SB_TRY(check_errno_ret(r, rule, "errnoRet", out->action, &out->has_errno, &out->errno_ret));
	SB_TRY(check_args(r, rule, out));
	SB_TRY(check_filter(r, rule, "includes", &out->includes));
	SB_TRY(check_filter(r, rule, "excludes", &out->excludes));
	if (member(rule, "comment") != NULL)
		SB_TRY(sb_rd_string(r, rule, "comment", &s));
	return 0;
}

static int check_arch_map(struct sb_reader *r, const json_t *profile, struct sb_scmp_profile *out)
{
	static const char *const keys[] = {"architecture", "subArchitectures", NULL};
	json_t *map = member(profile, "archMap");
	json_t *entry, *v;
	size_t i;

	if (map == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "archMap");
	if (member(profile, "architectures") != NULL)
		return sb_rd_fail(r, SB_JSON_KEY,
				  "`architectures` and `archMap` cannot be used together");
	if (!json_is_array(map))
		return sb_rd_type_error(r, map, "an array");
	if ((out->arch_map = calloc(json_array_size(map) + 1, sizeof(*out->arch_map))) == NULL)
		return sb_rd_oom(r);
	json_array_foreach (map, i, entry) {
		struct sb_scmp_arch_map *m = &out->arch_map[i];
		union name_value arch;
		sb_json_path_push_index(&r->path, i);
		SB_TRY(sb_rd_object(r, entry, keys));
		SB_TRY(sb_rd_require(r, entry, "architecture", &v));
		sb_json_path_push_key(&r->path, "architecture");
		SB_TRY(check_name(r, v, ARCH_NAME, &arch));
		m->arch = arch.arch;
		out->n_arch_map++;
		sb_json_path_pop(&r->path);
		SB_TRY(read_arches(r, entry, "subArchitectures", &m->subs, &m->n_subs));
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

static int check_rules(struct sb_reader *r, const json_t *profile, struct sb_scmp_profile *out)
{
	json_t *rules = member(profile, "syscalls");
	json_t *rule;
	size_t i;

	if (rules == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "syscalls");
	if (!json_is_array(rules))
		return sb_rd_type_error(r, rules, "an array of rules");
	if ((out->rules = calloc(json_array_size(rules) + 1, sizeof(*out->rules))) == NULL)
		return sb_rd_oom(r);
	json_array_foreach (rules, i, rule) {
		sb_json_path_push_index(&r->path, i);
		out->rules[i].index = i;
		out->n_rules++;
		SB_TRY(check_rule(r, rule, &out->rules[i]));
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

static int read_profile(struct sb_reader *r, const json_t *profile, struct sb_scmp_profile *out)
{
	static const char *const keys[] = {
	    "defaultAction", "defaultErrnoRet",	 "architectures", "archMap", "flags",
	    "listenerPath",  "listenerMetadata", "syscalls",	  NULL,
	};
	union name_value *flags = NULL;
	const char *s;
	int rc;

	SB_TRY(sb_rd_object(r, profile, keys));
	SB_TRY(check_action(r, profile, "defaultAction", &out->default_action));
	SB_TRY(check_errno_ret(r, profile, "defaultErrnoRet", out->default_action,
			       &out->has_default_errno, &out->default_errno));
	SB_TRY(read_arches(r, profile, "architectures", &out->arches, &out->n_arches));
	SB_TRY(check_arch_map(r, profile, out));
	rc = check_names(r, profile, "flags", FLAG_NAME, false, &flags, &out->n_flags);
	if (rc == 0 && flags != NULL &&
	    (out->flags = calloc(out->n_flags + 1, sizeof(*out->flags))) == NULL)
		rc = sb_rd_oom(r);
	for (size_t i = 0; rc == 0 && flags != NULL && i < out->n_flags; i++)
		out->flags[i] = flags[i].flag;
	free(flags);
	SB_TRY(rc);
	/* Accepted for compatibility and ignored: with SCMP_ACT_NOTIFY
	 * refused, there is nothing to listen to. */
	if (member(profile, "listenerPath") != NULL)
		SB_TRY(sb_rd_string(r, profile, "listenerPath", &s));
	if (member(profile, "listenerMetadata") != NULL)
		SB_TRY(sb_rd_string(r, profile, "listenerMetadata", &s));
	return check_rules(r, profile, out);
}

int sb_policy_read_seccomp(struct sb_reader *r, const json_t *profile, struct sb_scmp_profile **out)
{
	struct sb_scmp_profile *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (p == NULL)
		return sb_rd_oom(r);
	if ((rc = read_profile(r, profile, p)) < 0) {
		sb_scmp_profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void sb_scmp_profile_free(struct sb_scmp_profile *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_rules; i++) {
		free_strv(p->rules[i].names);
		free_strv(p->rules[i].includes.arches);
		free_strv(p->rules[i].excludes.arches);
	}
	free(p->rules);
	for (size_t i = 0; i < p->n_arch_map; i++)
		free(p->arch_map[i].subs);
	free(p->arch_map);
	free(p->arches);
	free(p->flags);
	free(p);
}
