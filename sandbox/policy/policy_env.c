/* The "environment" section: the variables a script sees.  Nothing of the
 * launcher's own environment reaches the script unless "pass" names it
 * (THREATS.md I1), and values set here may refer to the workspace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_read.h"

/* Names are anything the environment can hold: non-empty, without `=`. */
static int check_env_name(struct sb_reader *r, const char *name, enum sb_json_target target)
{
	char quoted[96];

	if (name[0] != '\0' && strchr(name, '=') == NULL)
		return 0;
	sb_rd_fail(r, target, "`%s` is not a valid environment variable name",
		   sb_rd_quote(name, quoted, sizeof(quoted)));
	return pm_error_hint(r->err, "a name is non-empty and contains no `=`");
}

/* Only ${WORKSPACE} is replaced at launch; any other ${...} is most likely a
 * typo that would otherwise reach the script verbatim. */
static int check_placeholders(struct sb_reader *r, const char *value)
{
	static const char workspace[] = "${WORKSPACE}";

	for (const char *s = strstr(value, "${"); s != NULL; s = strstr(s + 2, "${")) {
		char quoted[96];
		size_t n = strcspn(s, "}");

		if (strncmp(s, workspace, sizeof(workspace) - 1) == 0)
			continue;
		int shown = s[n] == '}' && n < 64 ? (int)n + 1 : 2;

		snprintf(quoted, sizeof(quoted), "%.*s", shown, s);
		sb_rd_fail(r, SB_JSON_VALUE, "unknown placeholder `%s`", quoted);
		return pm_error_hint(r->err, "only `${WORKSPACE}` is replaced, by the workspace "
					     "path inside the sandbox");
	}
	return 0;
}

static int read_env_set(struct sb_reader *r, const json_t *env, struct sb_policy *p)
{
	json_t *set = json_object_get(env, "set");
	const char *name;
	json_t *v;

	if (set == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "set");
	if (!json_is_object(set))
		return sb_rd_type_error(r, set, "an object of NAME: value");
	p->env_set = calloc(json_object_size(set) + 1, sizeof(*p->env_set));
	if (p->env_set == NULL)
		return sb_rd_oom(r);
	/* jansson iterates objects in file order, which is the order the
	 * variables are set in. */
	json_object_foreach ((json_t *)set, name, v) {
		struct sb_env_var *e = &p->env_set[p->n_env_set];
		const char *value;

		sb_json_path_push_key(&r->path, name);
		SB_TRY(check_env_name(r, name, SB_JSON_KEY));
		SB_TRY(sb_rd_string_value(r, v, &value));
		SB_TRY(check_placeholders(r, value));
		e->name = strdup(name);
		e->value = strdup(value);
		p->n_env_set++;
		if (e->name == NULL || e->value == NULL)
			return sb_rd_oom(r);
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

static int read_env_pass(struct sb_reader *r, const json_t *env, struct sb_policy *p)
{
	json_t *pass = json_object_get(env, "pass");
	json_t *item;
	size_t i;

	if (pass == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "pass");
	if (!json_is_array(pass))
		return sb_rd_type_error(r, pass, "an array of variable names");
	p->env_pass = calloc(json_array_size(pass) + 1, sizeof(*p->env_pass));
	if (p->env_pass == NULL)
		return sb_rd_oom(r);
	json_array_foreach (pass, i, item) {
		const char *name;
		char quoted[96];

		sb_json_path_push_index(&r->path, i);
		SB_TRY(sb_rd_string_value(r, item, &name));
		SB_TRY(check_env_name(r, name, SB_JSON_VALUE));
		for (size_t j = 0; j < p->n_env_pass; j++) {
			if (strcmp(p->env_pass[j], name) == 0)
				return sb_rd_fail(r, SB_JSON_VALUE, "`%s` is listed twice",
						  sb_rd_quote(name, quoted, sizeof(quoted)));
		}
		for (size_t j = 0; j < p->n_env_set; j++) {
			if (strcmp(p->env_set[j].name, name) == 0)
				return sb_rd_fail(r, SB_JSON_VALUE,
						  "`%s` is both set and passed; keep one",
						  sb_rd_quote(name, quoted, sizeof(quoted)));
		}
		p->env_pass[p->n_env_pass] = strdup(name);
		if (p->env_pass[p->n_env_pass] == NULL)
			return sb_rd_oom(r);
		p->n_env_pass++;
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

int sb_policy_read_environment(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	static const char *const keys[] = {"set", "pass", NULL};
	json_t *env = json_object_get(root, "environment");

	if (env == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "environment");
	SB_TRY(sb_rd_object(r, env, keys));
	SB_TRY(read_env_set(r, env, p));
	SB_TRY(read_env_pass(r, env, p));
	sb_json_path_pop(&r->path);
	return 0;
}
