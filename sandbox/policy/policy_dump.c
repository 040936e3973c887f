/* The effective policy as JSON (`python-mcp-sandbox
 * --print-effective-policy`, and what the server shows agents as
 * policy://effective): every key of the schema with the value in force,
 * defaults written out, optional limits `null` when not set.  It is itself
 * a policy of one file that loads to the same values, so the server can
 * hand it to its launchers as a snapshot of what it checked.
 */
#include "policy.h"

#include <errno.h>

#include "cleanup.h"

/* json_object_set_new() that remembers a failure instead of returning it,
 * so the dump reads as the list of keys it is. */
struct out {
	bool failed;
};

static void put(struct out *o, json_t *obj, const char *key, json_t *v)
{
	if (obj == NULL || v == NULL || json_object_set_new(obj, key, v) < 0) {
		json_decref(v);
		o->failed = true;
	}
}

static void push(struct out *o, json_t *arr, json_t *v)
{
	if (arr == NULL || v == NULL || json_array_append_new(arr, v) < 0) {
		json_decref(v);
		o->failed = true;
	}
}

static json_t *limit(int64_t v)
{
	return v == SB_UNSET ? json_null() : json_integer((json_int_t)v);
}

static json_t *strv(struct out *o, char *const *v, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		push(o, arr, json_string(v[i]));
	return arr;
}

static json_t *network(const struct sb_policy *p)
{
	if (p->net_mode == SB_NET_USER)
		return json_pack("{s:s, s:s}", "mode", "user", "helper", p->net_helper);
	return json_string(sb_net_mode_name(p->net_mode));
}

static json_t *mount(struct out *o, const struct sb_mount *m)
{
	json_t *obj = json_object();

	put(o, obj, "type", json_string(m->type == SB_MOUNT_BIND ? "bind" : "tmpfs"));
	if (m->type == SB_MOUNT_BIND)
		put(o, obj, "source", json_string(m->source));
	put(o, obj, "target", json_string(m->target));
	put(o, obj, "readonly", json_boolean(m->readonly));
	put(o, obj, "optional", json_boolean(m->optional));
	if (m->device)
		put(o, obj, "device", json_true());
	if (m->type == SB_MOUNT_TMPFS)
		put(o, obj, "size_bytes", json_integer((json_int_t)m->size_bytes));
	return obj;
}

static void filesystem(struct out *o, json_t *root, const struct sb_policy *p)
{
	json_t *ws = json_object(), *mounts = json_array(), *etc = json_array();

	put(o, ws, "roots", strv(o, p->workspace_roots, p->n_workspace_roots));
	put(o, ws, "protected", strv(o, p->protected_paths, p->n_protected_paths));
	put(o, ws, "readonly", json_boolean(p->workspace_readonly));
	put(o, ws, "max_bytes", limit(p->workspace_max_bytes));
	put(o, ws, "max_inodes", limit(p->workspace_max_inodes));
	put(o, root, "workspace", ws);
	for (size_t i = 0; i < p->n_mounts; i++) {
		const struct sb_mount *m = &p->mounts[i];
		/* "etc" entries are kept as the names they were given. */
		if (m->etc_entry)
			push(o, etc, json_string(m->target + sizeof("/etc")));
		else
			push(o, mounts, mount(o, m));
	}
	put(o, root, "mounts", mounts);
	put(o, root, "etc", etc);
	put(o, root, "tmp_size_bytes", json_integer((json_int_t)p->tmp_size_bytes));
	put(o, root, "shm_size_bytes", json_integer((json_int_t)p->shm_size_bytes));
	put(o, root, "proc", json_pack("{s:b}", "subset_pid", p->proc_subset_pid));
	put(o, root, "subprocesses", json_boolean(p->subprocesses));
}

static void limits(struct out *o, json_t *root, const struct sb_policy *p)
{
	const struct sb_rlimits *rl = &p->rlimits;
	const struct sb_cgroup_limits *cg = &p->cgroup;
	json_t *rlimits = json_object(), *cgroup = json_object(), *lim = json_object();

	put(o, rlimits, "as_bytes", limit(rl->as_bytes));
	put(o, rlimits, "cpu_seconds", limit(rl->cpu_seconds));
	put(o, rlimits, "fsize_bytes", limit(rl->fsize_bytes));
	put(o, rlimits, "nofile", limit(rl->nofile));
	put(o, rlimits, "nproc", limit(rl->nproc));
	put(o, rlimits, "core_bytes", limit(rl->core_bytes));
	put(o, rlimits, "stack_bytes", limit(rl->stack_bytes));
	put(o, root, "rlimits", rlimits);
	put(o, cgroup, "memory_max_bytes", limit(cg->memory_max_bytes));
	put(o, cgroup, "swap_max_bytes", limit(cg->swap_max_bytes));
	put(o, cgroup, "pids_max", limit(cg->pids_max));
	put(o, cgroup, "cpu_max_percent", limit(cg->cpu_max_percent));
	put(o, root, "cgroup", cgroup);
	put(o, lim, "wall_seconds", json_real(p->wall_seconds));
	put(o, lim, "output_bytes", json_integer((json_int_t)p->output_bytes));
	put(o, root, "limits", lim);
}

static void environment(struct out *o, json_t *root, const struct sb_policy *p)
{
	json_t *env = json_object(), *set = json_object();

	for (size_t i = 0; i < p->n_env_set; i++)
		put(o, set, p->env_set[i].name, json_string(p->env_set[i].value));
	put(o, env, "set", set);
	put(o, env, "pass", strv(o, p->env_pass, p->n_env_pass));
	put(o, root, "environment", env);
}

static void layers(struct out *o, json_t *root, const struct sb_policy *p)
{
	static const enum sb_layer all[] = {SB_LAYER_CGROUP, SB_LAYER_CGROUP_NS,
					    SB_LAYER_USERNS_LIMIT, SB_LAYER_USER_NET};
	json_t *arr = json_array();

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (p->optional_layers & all[i])
			push(o, arr, json_string(sb_layer_name(all[i])));
	put(o, root, "optional_layers", arr);
}

json_t *sb_policy_to_json(const struct sb_policy *p)
{
	struct out o = {0};
	_cleanup_json_ json_t *root = json_object();

	put(&o, root, "version", json_integer(1));
	if (p->description != NULL)
		put(&o, root, "description", json_string(p->description));
	put(&o, root, "network", network(p));
	put(&o, root, "hostname", json_string(p->hostname));
	put(&o, root, "user",
	    json_pack("{s:I, s:I, s:I, s:I}", "uid", (json_int_t)p->uid, "gid", (json_int_t)p->gid,
		      "host_uid", (json_int_t)p->host_uid, "host_gid", (json_int_t)p->host_gid));
	filesystem(&o, root, p);
	limits(&o, root, p);
	environment(&o, root, p);
	layers(&o, root, p);
	if (p->seccomp != NULL)
		put(&o, root, "seccomp", json_incref(p->seccomp));
	if (o.failed)
		return NULL;
	return TAKE_PTR(root);
}
