/* Structural check of the "seccomp" section, a profile in the Docker/OCI
 * format (policies/README.md lists the fields).  Everything the file can
 * get wrong is reported here, with its line; what is left for the compiler
 * (seccomp.c) is what depends on the machine: which syscall names this
 * libseccomp knows and what the kernel accepts.
 *
 * As in Docker, where a profile written by Go may hold null for an omitted
 * field, null and absent mean the same for the optional fields.
 */
#include <stdio.h>
#include <string.h>

#include "policy_read.h"
#include "seccomp_names.h"

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

static int check_name(struct sb_reader *r, const json_t *v, enum name_kind kind)
{
	char quoted[96], list[512];
	enum sb_scmp_flag flag;
	const char *s;

	SB_TRY(sb_rd_string_value(r, v, &s));
	if (s[0] == '\0')
		return sb_rd_fail(r, SB_JSON_VALUE, "expected a name, got an empty string");
	switch (kind) {
	case ANY_NAME:
		return 0;
	case ARCH_NAME:
		if (sb_scmp_arch_lookup(s) != NULL)
			return 0;
		sb_rd_fail(r, SB_JSON_VALUE, "unknown architecture `%s`",
			   sb_rd_quote(s, quoted, sizeof(quoted)));
		return sb_error_hint(r->err, "architectures are named like `SCMP_ARCH_X86_64`");
	case FLAG_NAME:
		if (sb_scmp_flag_lookup(s, &flag))
			return 0;
		sb_rd_fail(r, SB_JSON_VALUE, "unknown flag `%s`",
			   sb_rd_quote(s, quoted, sizeof(quoted)));
		sb_scmp_list_flags(list, sizeof(list));
		return sb_error_hint(r->err, "flags are %s", list);
	}
	return 0;
}

static int check_names(struct sb_reader *r, const json_t *obj, const char *key,
		       enum name_kind kind, bool nonempty)
{
	json_t *arr = member(obj, key);
	json_t *item;
	size_t i;

	if (arr == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	if (!json_is_array(arr))
		return sb_rd_type_error(r, arr, "an array of names");
	if (nonempty && json_array_size(arr) == 0)
		return sb_rd_fail(r, SB_JSON_VALUE,
				  "expected at least one name, got an empty array");
	json_array_foreach (arr, i, item) {
		sb_json_path_push_index(&r->path, i);
		SB_TRY(check_name(r, item, kind));
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
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
		return sb_error_hint(r->err, "actions are %s", list);
	}
	if (!(*out)->supported) {
		sb_rd_fail(r, SB_JSON_VALUE, "%s is not supported", s);
		return sb_error_hint(r->err, "the launcher runs no seccomp listener, and a "
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
			   const struct sb_scmp_action *action)
{
	json_t *v = member(obj, key);
	int64_t n;

	if (v == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	if (!action->with_data)
		return sb_rd_fail(r, SB_JSON_KEY, "`%s` only applies to SCMP_ACT_ERRNO and "
						  "SCMP_ACT_TRACE, not to %s",
				  key, action->name);
	SB_TRY(sb_rd_int_value(r, v, 0, SB_SCMP_ERRNO_MAX, &n));
	sb_json_path_pop(&r->path);
	return 0;
}

static int check_arg(struct sb_reader *r, const json_t *arg, bool seen[6])
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
		return sb_error_hint(r->err, "write one rule per comparison (rules are ORed)");
	}
	seen[index] = true;
	sb_json_path_pop(&r->path);
	/* JSON integers reach 2^63 - 1 here; masks with the top bit set
	 * cannot be written, which no known profile needs. */
	SB_TRY(sb_rd_require(r, arg, "value", &v));
	SB_TRY(sb_rd_int(r, arg, "value", 0, INT64_MAX, 0, false, &n));
	if (member(arg, "valueTwo") != NULL)
		SB_TRY(sb_rd_int(r, arg, "valueTwo", 0, INT64_MAX, 0, false, &n));
	SB_TRY(sb_rd_require(r, arg, "op", &v));
	sb_json_path_push_key(&r->path, "op");
	SB_TRY(sb_rd_string_value(r, v, &s));
	if (!sb_scmp_op_lookup(s, &op)) {
		sb_rd_fail(r, SB_JSON_VALUE, "unknown operator `%s`",
			   sb_rd_quote(s, quoted, sizeof(quoted)));
		sb_scmp_list_ops(list, sizeof(list));
		return sb_error_hint(r->err, "operators are %s", list);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

static int check_args(struct sb_reader *r, const json_t *rule)
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
		SB_TRY(check_arg(r, arg, seen));
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

static int check_filter(struct sb_reader *r, const json_t *rule, const char *key)
{
	static const char *const keys[] = {"caps", "arches", "minKernel", NULL};
	json_t *filter = member(rule, key);
	json_t *v;

	if (filter == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	SB_TRY(sb_rd_object(r, filter, keys));
	SB_TRY(check_names(r, filter, "caps", ANY_NAME, false));
	SB_TRY(check_names(r, filter, "arches", ANY_NAME, false));
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
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

static int check_rule(struct sb_reader *r, const json_t *rule)
{
	static const char *const keys[] = {"names",    "name",	   "action",   "errnoRet",
					   "args",     "includes", "excludes", "comment", NULL};
	const struct sb_scmp_action *action;
	const char *s;
	json_t *v;

	SB_TRY(sb_rd_object(r, rule, keys));
	if (member(rule, "name") != NULL) {
		if (member(rule, "names") != NULL) {
			sb_json_path_push_key(&r->path, "name");
			return sb_rd_fail(r, SB_JSON_KEY,
					  "use either `names` or the legacy `name`, not both");
		}
		sb_json_path_push_key(&r->path, "name");
		SB_TRY(check_name(r, member(rule, "name"), ANY_NAME));
		sb_json_path_pop(&r->path);
	} else {
		SB_TRY(sb_rd_require(r, rule, "names", &v));
		if (json_is_null(v)) {
			sb_json_path_push_key(&r->path, "names");
			return sb_rd_type_error(r, v, "an array of names");
		}
		SB_TRY(check_names(r, rule, "names", ANY_NAME, true));
	}
	SB_TRY(check_action(r, rule, "action", &action));
	SB_TRY(check_errno_ret(r, rule, "errnoRet", action));
	SB_TRY(check_args(r, rule));
	SB_TRY(check_filter(r, rule, "includes"));
	SB_TRY(check_filter(r, rule, "excludes"));
	if (member(rule, "comment") != NULL)
		SB_TRY(sb_rd_string(r, rule, "comment", &s));
	return 0;
}

static int check_arch_map(struct sb_reader *r, const json_t *profile)
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
	json_array_foreach (map, i, entry) {
		sb_json_path_push_index(&r->path, i);
		SB_TRY(sb_rd_object(r, entry, keys));
		SB_TRY(sb_rd_require(r, entry, "architecture", &v));
		sb_json_path_push_key(&r->path, "architecture");
		SB_TRY(check_name(r, v, ARCH_NAME));
		sb_json_path_pop(&r->path);
		SB_TRY(check_names(r, entry, "subArchitectures", ARCH_NAME, false));
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

static int check_rules(struct sb_reader *r, const json_t *profile)
{
	json_t *rules = member(profile, "syscalls");
	json_t *rule;
	size_t i;

	if (rules == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "syscalls");
	if (!json_is_array(rules))
		return sb_rd_type_error(r, rules, "an array of rules");
	json_array_foreach (rules, i, rule) {
		sb_json_path_push_index(&r->path, i);
		SB_TRY(check_rule(r, rule));
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

int sb_policy_check_seccomp(struct sb_reader *r, const json_t *profile)
{
	static const char *const keys[] = {
		"defaultAction", "defaultErrnoRet", "architectures",	"archMap",
		"flags",	 "listenerPath",    "listenerMetadata", "syscalls",
		NULL,
	};
	const struct sb_scmp_action *action;
	const char *s;

	SB_TRY(sb_rd_object(r, profile, keys));
	SB_TRY(check_action(r, profile, "defaultAction", &action));
	SB_TRY(check_errno_ret(r, profile, "defaultErrnoRet", action));
	SB_TRY(check_names(r, profile, "architectures", ARCH_NAME, false));
	SB_TRY(check_arch_map(r, profile));
	SB_TRY(check_names(r, profile, "flags", FLAG_NAME, false));
	/* Accepted for compatibility and ignored: with SCMP_ACT_NOTIFY
	 * refused, there is nothing to listen to. */
	if (member(profile, "listenerPath") != NULL)
		SB_TRY(sb_rd_string(r, profile, "listenerPath", &s));
	if (member(profile, "listenerMetadata") != NULL)
		SB_TRY(sb_rd_string(r, profile, "listenerMetadata", &s));
	return check_rules(r, profile);
}
