/* Loading policies: the schema of every section but "seccomp" (which
 * policy_seccomp.c checks), reading the file, and freeing.  Each key's
 * type, unit and default are documented in policies/README.md; keep the two
 * in step.
 */
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "policy_chain.h"
#include "policy_read.h"
#include "seccomp_profile.h"

#define MiB (INT64_C(1) << 20)

#define DEFAULT_HOSTNAME "sandbox"
#define ID_MAX		 INT64_C(4294967294) /* (uid_t)-1 means "no id" */

static int read_hostname(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	const char *name;
	char quoted[96];
	size_t len;

	SB_TRY(sb_rd_string(r, root, "hostname", &name));
	if (name == NULL)
		name = DEFAULT_HOSTNAME;
	sb_json_path_push_key(&r->path, "hostname");
	len = strlen(name);
	if (len == 0 || len > 64)
		return sb_rd_fail(r, SB_JSON_VALUE, "a hostname has 1 to 64 characters, got %zu",
				  len);
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") != len)
		return sb_rd_fail(r, SB_JSON_VALUE,
				  "hostname `%s` may only contain letters, digits, `.` and `-`",
				  sb_rd_quote(name, quoted, sizeof(quoted)));
	sb_json_path_pop(&r->path);
	p->hostname = strdup(name);
	return p->hostname != NULL ? 0 : sb_rd_oom(r);
}

/* host_uid and host_gid: never 0, with a message that says why. */
static int read_host_id(struct sb_reader *r, const json_t *user, const char *key, int64_t *out)
{
	json_t *v = json_object_get(user, key);

	if (json_is_integer(v) && json_integer_value(v) == 0) {
		sb_json_path_push_key(&r->path, key);
		sb_rd_fail(r, SB_JSON_VALUE, "expected a non-root host id, got 0");
		return pm_error_hint(r->err, "the script never runs as root of the host; "
					     "use an unprivileged id such as 65534");
	}
	return sb_rd_int(r, user, key, 1, ID_MAX, 65534, false, out);
}

static int read_user(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	static const char *const keys[] = {"uid", "gid", "host_uid", "host_gid", NULL};
	json_t *user = json_object_get(root, "user");
	int64_t uid = 1000, gid = 1000, host_uid = 65534, host_gid = 65534;

	if (user != NULL) {
		sb_json_path_push_key(&r->path, "user");
		SB_TRY(sb_rd_object(r, user, keys));
		SB_TRY(sb_rd_int(r, user, "uid", 0, ID_MAX, 1000, false, &uid));
		SB_TRY(sb_rd_int(r, user, "gid", 0, ID_MAX, 1000, false, &gid));
		SB_TRY(read_host_id(r, user, "host_uid", &host_uid));
		SB_TRY(read_host_id(r, user, "host_gid", &host_gid));
		sb_json_path_pop(&r->path);
	}
	p->uid = (uid_t)uid;
	p->gid = (gid_t)gid;
	p->host_uid = (uid_t)host_uid;
	p->host_gid = (gid_t)host_gid;
	return 0;
}

static int read_proc(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	static const char *const keys[] = {"subset_pid", NULL};
	json_t *proc = json_object_get(root, "proc");

	p->proc_subset_pid = true;
	if (proc == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "proc");
	SB_TRY(sb_rd_object(r, proc, keys));
	SB_TRY(sb_rd_bool(r, proc, "subset_pid", true, &p->proc_subset_pid));
	sb_json_path_pop(&r->path);
	return 0;
}

struct limit_key {
	const char *key;
	int64_t *field;
	int64_t min;
	int64_t max;
};

/* A section of optional integer limits: absent or null means SB_UNSET. */
static int read_limit_section(struct sb_reader *r, const json_t *root, const char *section,
			      const struct limit_key *lk, size_t n)
{
	const char *keys[16];
	json_t *obj = json_object_get(root, section);

	for (size_t i = 0; i < n; i++) {
		keys[i] = lk[i].key;
		*lk[i].field = SB_UNSET;
	}
	keys[n] = NULL;
	if (obj == NULL)
		return 0;
	sb_json_path_push_key(&r->path, section);
	SB_TRY(sb_rd_object(r, obj, keys));
	for (size_t i = 0; i < n; i++)
		SB_TRY(sb_rd_int(r, obj, lk[i].key, lk[i].min, lk[i].max, SB_UNSET, true,
				 lk[i].field));
	sb_json_path_pop(&r->path);
	return 0;
}

static int read_rlimits(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	struct sb_rlimits *rl = &p->rlimits;
	const struct limit_key lk[] = {
	    {"as_bytes", &rl->as_bytes, 0, INT64_MAX},
	    {"cpu_seconds", &rl->cpu_seconds, 0, INT64_MAX},
	    {"fsize_bytes", &rl->fsize_bytes, 0, INT64_MAX},
	    {"nofile", &rl->nofile, 0, INT64_MAX},
	    {"nproc", &rl->nproc, 0, INT64_MAX},
	    {"core_bytes", &rl->core_bytes, 0, INT64_MAX},
	    {"stack_bytes", &rl->stack_bytes, 0, INT64_MAX},
	};

	return read_limit_section(r, root, "rlimits", lk, sizeof(lk) / sizeof(lk[0]));
}

static int read_cgroup(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	struct sb_cgroup_limits *cg = &p->cgroup;
	const struct limit_key lk[] = {
	    {"memory_max_bytes", &cg->memory_max_bytes, 1, INT64_MAX},
	    {"swap_max_bytes", &cg->swap_max_bytes, 0, INT64_MAX},
	    {"pids_max", &cg->pids_max, 1, INT64_MAX},
	    /* 100 per CPU; the cap keeps quota arithmetic far from overflow. */
	    {"cpu_max_percent", &cg->cpu_max_percent, 1, 1000000},
	};

	return read_limit_section(r, root, "cgroup", lk, sizeof(lk) / sizeof(lk[0]));
}

static int read_limits(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	static const char *const keys[] = {"wall_seconds", "output_bytes", NULL};
	json_t *limits = json_object_get(root, "limits");

	p->wall_seconds = 0;
	p->output_bytes = 0;
	if (limits == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "limits");
	SB_TRY(sb_rd_object(r, limits, keys));
	/* A billion seconds is 31 years; the bound keeps conversions to
	 * milliseconds exact. */
	SB_TRY(sb_rd_number(r, limits, "wall_seconds", 0, 1e9, 0, &p->wall_seconds));
	SB_TRY(sb_rd_int(r, limits, "output_bytes", 0, INT64_MAX, 0, false, &p->output_bytes));
	sb_json_path_pop(&r->path);
	return 0;
}

static int read_optional_layers(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	static const enum sb_layer layers[] = {SB_LAYER_CGROUP, SB_LAYER_CGROUP_NS,
					       SB_LAYER_USERNS_LIMIT, SB_LAYER_USER_NET};
	json_t *arr = json_object_get(root, "optional_layers");
	json_t *item;
	size_t i;

	p->optional_layers = 0;
	if (arr == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "optional_layers");
	if (!json_is_array(arr))
		return sb_rd_type_error(r, arr, "an array of layer names");
	json_array_foreach (arr, i, item) {
		const char *name;
		char quoted[96];
		bool known = false;

		sb_json_path_push_index(&r->path, i);
		SB_TRY(sb_rd_string_value(r, item, &name));
		for (size_t l = 0; l < sizeof(layers) / sizeof(layers[0]) && !known; l++) {
			if (strcmp(name, sb_layer_name(layers[l])) == 0) {
				p->optional_layers |= layers[l];
				known = true;
			}
		}
		if (!known) {
			sb_rd_fail(r, SB_JSON_VALUE, "unknown layer `%s`",
				   sb_rd_quote(name, quoted, sizeof(quoted)));
			return pm_error_hint(r->err, "optional layers are `cgroup`, `cgroup_"
						     "namespace`, `nested_userns_block` and "
						     "`user_network`");
		}
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}

static int read_seccomp(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	json_t *profile = json_object_get(root, "seccomp");

	if (profile == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "seccomp");
	SB_TRY(sb_policy_read_seccomp(r, profile, &p->seccomp_profile));
	sb_json_path_pop(&r->path);
	p->seccomp = json_incref(profile);
	return 0;
}

int sb_policy_read_version(struct sb_reader *r, const json_t *root)
{
	json_t *v;
	int64_t version;

	SB_TRY(sb_rd_require(r, root, "version", &v));
	sb_json_path_push_key(&r->path, "version");
	if (json_is_integer(v) && json_integer_value(v) != 1) {
		sb_rd_fail(r, SB_JSON_VALUE, "unsupported policy version %lld",
			   (long long)json_integer_value(v));
		return pm_error_hint(r->err, "this launcher reads version 1");
	}
	SB_TRY(sb_rd_int_value(r, v, 1, 1, &version));
	sb_json_path_pop(&r->path);
	return 0;
}

static int read_policy(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	static const char *const keys[] = {
	    "version",
	    "extends",
	    "description",
	    "network",
	    "hostname",
	    "user",
	    "workspace",
	    "mounts",
	    "etc",
	    "tmp_size_bytes",
	    "shm_size_bytes",
	    "proc",
	    "rlimits",
	    "cgroup",
	    "limits",
	    "environment",
	    "optional_layers",
	    "seccomp",
	    "subprocesses",
	    NULL,
	};
	const char *description;

	/* Each file of the chain was checked to be an object of version 1
	 * (policy_chain.c). */
	SB_TRY(sb_rd_object(r, root, keys));
	SB_TRY(sb_rd_string(r, root, "description", &description));
	if (description != NULL && (p->description = strdup(description)) == NULL)
		return sb_rd_oom(r);
	SB_TRY(read_hostname(r, root, p));
	SB_TRY(read_user(r, root, p));
	SB_TRY(sb_policy_read_workspace(r, root, p));
	SB_TRY(sb_policy_read_mounts(r, root, p));
	SB_TRY(sb_policy_read_etc(r, root, p));
	/* After the mounts: a user-mode network refuses some of them. */
	SB_TRY(sb_policy_read_network(r, root, p));
	SB_TRY(sb_rd_int(r, root, "tmp_size_bytes", 1, INT64_MAX, 64 * MiB, false,
			 &p->tmp_size_bytes));
	SB_TRY(sb_rd_int(r, root, "shm_size_bytes", 1, INT64_MAX, 16 * MiB, false,
			 &p->shm_size_bytes));
	SB_TRY(read_proc(r, root, p));
	SB_TRY(sb_rd_bool(r, root, "subprocesses", true, &p->subprocesses));
	SB_TRY(read_rlimits(r, root, p));
	SB_TRY(read_cgroup(r, root, p));
	SB_TRY(read_limits(r, root, p));
	SB_TRY(sb_policy_read_environment(r, root, p));
	SB_TRY(read_optional_layers(r, root, p));
	return read_seccomp(r, root, p);
}

/* The chain's files, the policy first: what a root launcher checks and
 * guards like the policy itself. */
static int keep_sources(struct sb_reader *r, const struct sb_policy_chain *c, struct sb_policy *p)
{
	if ((p->sources = calloc(c->n, sizeof(*p->sources))) == NULL)
		return sb_rd_oom(r);
	for (size_t i = 0; i < c->n; i++) {
		if ((p->sources[i] = strdup(c->files[i].name)) == NULL)
			return sb_rd_oom(r);
		p->n_sources++;
	}
	return 0;
}

static int load(const char *name, const char *text, size_t len, struct sb_policy *out,
		struct pm_error *err)
{
	struct sb_policy p = {0};
	struct sb_policy_chain chain;
	struct sb_reader r = {.file = name, .chain = &chain, .err = err};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sb_policy_chain_load(name, text, len, &chain, err);
	if (rc == 0) {
		r.text = chain.files[0].text;
		r.len = chain.files[0].len;
		sb_json_path_init(&r.path);
		if ((p.file = strdup(name)) == NULL)
			rc = sb_rd_oom(&r);
		else if ((rc = keep_sources(&r, &chain, &p)) == 0)
			rc = read_policy(&r, chain.merged, &p);
	}
	sb_policy_chain_free(&chain);
	if (rc < 0) {
		sb_policy_free(&p);
		return rc;
	}
	*out = p;
	return 0;
}

int sb_policy_load_buffer(const char *text, size_t len, const char *name, struct sb_policy *out,
			  struct pm_error *err)
{
	return load(name, text, len, out, err);
}

int sb_policy_load(const char *file, struct sb_policy *out, struct pm_error *err)
{
	return load(file, NULL, 0, out, err);
}

void sb_policy_free(struct sb_policy *p)
{
	free(p->file);
	sb_rd_free_strv(p->sources, p->n_sources);
	free(p->description);
	free(p->hostname);
	free(p->net_helper);
	sb_rd_free_strv(p->workspace_roots, p->n_workspace_roots);
	sb_rd_free_strv(p->protected_paths, p->n_protected_paths);
	for (size_t i = 0; p->mounts != NULL && i < p->n_mounts; i++) {
		free(p->mounts[i].source);
		free(p->mounts[i].target);
	}
	free(p->mounts);
	for (size_t i = 0; p->env_set != NULL && i < p->n_env_set; i++) {
		free(p->env_set[i].name);
		free(p->env_set[i].value);
	}
	free(p->env_set);
	sb_rd_free_strv(p->env_pass, p->n_env_pass);
	json_decref(p->seccomp);
	sb_scmp_profile_free(p->seccomp_profile);
	memset(p, 0, sizeof(*p));
}

const char *sb_layer_name(enum sb_layer layer)
{
	switch (layer) {
	case SB_LAYER_CGROUP:
		return "cgroup";
	case SB_LAYER_CGROUP_NS:
		return "cgroup_namespace";
	case SB_LAYER_USERNS_LIMIT:
		return "nested_userns_block";
	case SB_LAYER_USER_NET:
		return "user_network";
	}
	return "unknown";
}

const char *sb_net_mode_name(enum sb_net_mode mode)
{
	switch (mode) {
	case SB_NET_NONE:
		return "none";
	case SB_NET_HOST:
		return "host";
	case SB_NET_USER:
		return "user";
	}
	return "unknown";
}
