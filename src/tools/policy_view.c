/* The run policy as agents see it: the resource policy://effective, the
 * sentence on limits in the instructions and the execution tools'
 * descriptions, and the facts a run's limit note is written from (those
 * of the policy its launcher loaded, which a reload does not change). */
#include "tools_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void policy_free(struct tools_policy *p)
{
	free(p->path);
	json_decref(p->effective);
	free(p);
}

/* Takes the entry of `path` out of the list, or NULL. */
static struct tools_policy *unlink_policy(struct tools *t, const char *path)
{
	for (struct tools_policy **pp = &t->policies; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->path, path) == 0) {
			struct tools_policy *p = *pp;
			*pp = p->next;
			p->next = NULL;
			return p;
		}
	return NULL;
}

int tools_set_policy(struct tools *t, const char *path, json_t *effective, struct pm_error *err)
{
	struct tools_policy *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->path = strdup(path)) == NULL) {
		free(p);
		return pm_error_set(err, "policy", ENOMEM, "the policy `%s`", path);
	}
	p->effective = json_incref(effective);
	sandbox_facts_read(effective, &p->facts);
	/* The same file again (a reload to an earlier policy) is one entry. */
	struct tools_policy *old = unlink_policy(t, path);
	if (old)
		policy_free(old);
	p->next = t->policies;
	t->policies = p;
	return 0;
}

void tools_forget_policy(struct tools *t, const char *path)
{
	if (t->policies == NULL || strcmp(t->policies->path, path) == 0)
		return;
	struct tools_policy *p = unlink_policy(t, path);
	if (p)
		policy_free(p);
}

void tools_policies_free(struct tools *t)
{
	while (t->policies) {
		struct tools_policy *p = t->policies;
		t->policies = p->next;
		policy_free(p);
	}
}

const struct sandbox_facts *tools_policy_facts(const struct tools *t, const char *path)
{
	for (const struct tools_policy *p = t->policies; p && path; p = p->next)
		if (strcmp(p->path, path) == 0)
			return &p->facts;
	return t->policies ? &t->policies->facts : NULL;
}

void tools_limits_note(const struct tools *t, char *buf, size_t size)
{
	if (size == 0)
		return;
	buf[0] = '\0';
	if (t->policies)
		sandbox_facts_describe(&t->policies->facts, buf, size);
}

int tools_read_policy(const char *uri, const char *tenant, json_t **contents_new,
		      struct pm_error *err, void *ctx)
{
	struct tools *t = ctx;
	char *text;

	(void)tenant;
	*contents_new = NULL;
	if (t->policies == NULL)
		return pm_error_set(err, "policy", ENOENT, "no policy is loaded yet");
	text = json_dumps(t->policies->effective, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		return pm_error_set(err, "policy", ENOMEM, "the effective policy");
	*contents_new = json_pack("[{s:s, s:s, s:s}]", "uri", uri, "mimeType", "application/json",
				  "text", text);
	free(text);
	if (*contents_new == NULL)
		return pm_error_set(err, "policy", ENOMEM, "the effective policy");
	return 0;
}
