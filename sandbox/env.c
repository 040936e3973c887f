#include "env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "env_name.h"

struct env_list {
	char **items;
	size_t len, cap;
};

static size_t name_length(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* Stores kv (owned), replacing an earlier entry of the same name. */
static int env_put_take(struct env_list *l, char *kv)
{
	size_t n = name_length(kv);

	for (size_t i = 0; i < l->len; i++) {
		if (name_length(l->items[i]) == n && strncmp(l->items[i], kv, n) == 0) {
			free(l->items[i]);
			l->items[i] = kv;
			return 0;
		}
	}
	if (l->len + 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **items = realloc(l->items, cap * sizeof(*items));
		if (items == NULL) {
			free(kv);
			return -ENOMEM;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->len++] = kv;
	l->items[l->len] = NULL;
	return 0;
}

/* "name=" + value with every ${WORKSPACE} replaced by workspace. */
static char *expand(const char *name, const char *value, const char *workspace)
{
	static const char token[] = "${WORKSPACE}";
	size_t cap = strlen(name) + strlen(value) + 2, len;
	const char *p;
	char *s;

	for (p = value; (p = strstr(p, token)) != NULL; p += sizeof(token) - 1)
		cap += strlen(workspace);
	s = malloc(cap);
	if (s == NULL)
		return NULL;
	len = (size_t)snprintf(s, cap, "%s=", name);
	for (p = value; *p;) {
		if (strncmp(p, token, sizeof(token) - 1) == 0) {
			len += (size_t)snprintf(s + len, cap - len, "%s", workspace);
			p += sizeof(token) - 1;
		} else {
			s[len++] = *p++;
		}
	}
	s[len] = '\0';
	return s;
}

int sb_env_check_assignment(const char *kv, struct pm_error *err)
{
	size_t n = name_length(kv);

	if (kv[n] != '=' || n == 0)
		return pm_error_set(err, "environment", EINVAL,
				    "--env `%s` is not of the form NAME=VALUE", kv);
	if (!pm_env_name_ok(kv, n))
		return pm_error_set(err, "environment", EINVAL,
				    "--env `%s`: the name may hold only letters, digits and `_`, "
				    "and may not start with a digit",
				    kv);
	return 0;
}

int sb_env_build(const struct sb_policy *policy, const char *workspace, char *const *extra,
		 size_t n_extra, char ***out, struct pm_error *err)
{
	struct env_list l = {0};
	int r = 0;

	for (size_t i = 0; i < policy->n_env_set && r == 0; i++) {
		char *kv = expand(policy->env_set[i].name, policy->env_set[i].value, workspace);
		r = kv ? env_put_take(&l, kv) : -ENOMEM;
	}
	for (size_t i = 0; i < policy->n_env_pass && r == 0; i++) {
		const char *v = getenv(policy->env_pass[i]);
		char *kv;
		if (v == NULL)
			continue;
		if (asprintf(&kv, "%s=%s", policy->env_pass[i], v) < 0)
			r = -ENOMEM;
		else
			r = env_put_take(&l, kv);
	}
	for (size_t i = 0; i < n_extra && r == 0; i++) {
		char *kv;
		if ((r = sb_env_check_assignment(extra[i], err)) < 0)
			break;
		kv = strdup(extra[i]);
		r = kv ? env_put_take(&l, kv) : -ENOMEM;
	}
	if (r == 0 && l.items == NULL)
		l.items = calloc(1, sizeof(*l.items)); /* an empty environment */
	if (r == 0 && l.items == NULL)
		r = -ENOMEM;
	if (r < 0) {
		sb_env_free(l.items);
		if (r == -ENOMEM)
			return pm_error_set(err, "environment", ENOMEM, "build the environment");
		return r;
	}
	*out = l.items;
	return 0;
}

void sb_env_free(char **env)
{
	if (env == NULL)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}
