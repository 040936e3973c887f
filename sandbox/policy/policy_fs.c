/* The filesystem sections: "workspace" (where a client may point a job)
 * and "mounts" (what of the host the sandbox sees besides the workspace).
 */
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_read.h"

int sb_policy_read_workspace(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	static const char *const keys[] = {"roots",	"protected",  "readonly",
					   "max_bytes", "max_inodes", NULL};
	json_t *ws, *roots;

	SB_TRY(sb_rd_require(r, root, "workspace", &ws));
	sb_json_path_push_key(&r->path, "workspace");
	SB_TRY(sb_rd_object(r, ws, keys));
	SB_TRY(sb_rd_require(r, ws, "roots", &roots));
	SB_TRY(sb_rd_path_list(r, ws, "roots", false, &p->workspace_roots, &p->n_workspace_roots));
	if (p->n_workspace_roots == 0) {
		sb_json_path_push_key(&r->path, "roots");
		sb_rd_fail(r, SB_JSON_VALUE, "at least one workspace root is required");
		return pm_error_hint(r->err, "list the directories under which a client may name a "
					     "workspace, e.g. [\"/workspace\"]");
	}
	SB_TRY(
	    sb_rd_path_list(r, ws, "protected", true, &p->protected_paths, &p->n_protected_paths));
	SB_TRY(sb_rd_bool(r, ws, "readonly", false, &p->workspace_readonly));
	/* Growth a job may add to its workspace: a scratch workspace is a
	 * tmpfs of this size; a client's directory is measured while the job
	 * runs.  null: no limit. */
	SB_TRY(sb_rd_int(r, ws, "max_bytes", 4096, INT64_MAX, SB_UNSET, true,
			 &p->workspace_max_bytes));
	SB_TRY(sb_rd_int(r, ws, "max_inodes", 16, INT64_MAX, SB_UNSET, true,
			 &p->workspace_max_inodes));
	sb_json_path_pop(&r->path);
	return 0;
}

static int read_mount_type(struct sb_reader *r, const json_t *m, enum sb_mount_type *type)
{
	const char *s;
	json_t *v;

	SB_TRY(sb_rd_require(r, m, "type", &v));
	sb_json_path_push_key(&r->path, "type");
	SB_TRY(sb_rd_string_value(r, v, &s));
	if (strcmp(s, "bind") == 0) {
		*type = SB_MOUNT_BIND;
	} else if (strcmp(s, "tmpfs") == 0) {
		*type = SB_MOUNT_TMPFS;
	} else {
		char quoted[96];

		return sb_rd_fail(r, SB_JSON_VALUE, "expected \"bind\" or \"tmpfs\", got \"%s\"",
				  sb_rd_quote(s, quoted, sizeof(quoted)));
	}
	sb_json_path_pop(&r->path);
	return 0;
}

/* A key that the other mount type takes: reported at the key. */
static int refuse_key(struct sb_reader *r, const json_t *m, const char *key, const char *why)
{
	if (json_object_get(m, key) == NULL)
		return 0;
	sb_json_path_push_key(&r->path, key);
	return sb_rd_fail(r, SB_JSON_KEY, "%s", why);
}

/* The entries of /dev the sandbox makes itself (mounts_dev.c). */
static bool reserved_dev_entry(const char *rest)
{
	static const char *const own[] = {"null",   "zero",   "full",	"random", "urandom",
					  "ptmx",   "pts",    "shm",	"fd",	  "stdin",
					  "stdout", "stderr", "mqueue", NULL};
	size_t len = strcspn(rest, "/");

	for (size_t i = 0; own[i] != NULL; i++)
		if (strlen(own[i]) == len && strncmp(rest, own[i], len) == 0)
			return true;
	return len == 0;
}

/* "device": true binds one character device of the host's /dev (a GPU's
 * nodes, say) without `nodev`; the mount step checks that it is one. */
static int read_device(struct sb_reader *r, const json_t *m, struct sb_mount *out)
{
	SB_TRY(sb_rd_bool(r, m, "device", false, &out->device));
	if (!out->device)
		return 0;
	sb_json_path_push_key(&r->path, "device");
	if (out->type != SB_MOUNT_BIND)
		return sb_rd_fail(r, SB_JSON_KEY, "only bind mounts take `device`");
	if (strncmp(out->source, "/dev/", 5) != 0 || strncmp(out->target, "/dev/", 5) != 0) {
		sb_rd_fail(r, SB_JSON_VALUE,
			   "a device mount binds a node of /dev at a path in /dev");
		return pm_error_hint(r->err, "give the node's path, such as /dev/nvidia0, as both "
					     "source and target");
	}
	if (reserved_dev_entry(out->target + 5)) {
		sb_json_path_pop(&r->path);
		sb_json_path_push_key(&r->path, "target");
		sb_rd_fail(r, SB_JSON_VALUE, "`%s` is the sandbox's own", out->target);
		return pm_error_hint(r->err,
				     "the sandbox makes null, zero, full, random, urandom, "
				     "ptmx, pts, shm, fd and stdin/stdout/stderr itself; bind "
				     "another node");
	}
	if (out->readonly) {
		sb_rd_fail(r, SB_JSON_KEY,
			   "a device mount needs \"readonly\": false: a read-only mount does not "
			   "make a device read-only (writes and ioctls go to the driver)");
		return pm_error_hint(r->err, "add \"readonly\": false to say so; keep the node "
					     "out of the policy if scripts must not write it");
	}
	sb_json_path_pop(&r->path);
	return 0;
}

static int read_mount(struct sb_reader *r, const json_t *m, struct sb_mount *out)
{
	static const char *const keys[] = {"type",     "source",     "target", "readonly",
					   "optional", "size_bytes", "device", NULL};
	json_t *v;

	SB_TRY(sb_rd_object(r, m, keys));
	SB_TRY(read_mount_type(r, m, &out->type));
	if (out->type == SB_MOUNT_BIND) {
		SB_TRY(sb_rd_require(r, m, "source", &v));
		sb_json_path_push_key(&r->path, "source");
		SB_TRY(sb_rd_path_value(r, v, false, &out->source));
		SB_TRY(sb_rd_refuse_secret(r, out->source));
		sb_json_path_pop(&r->path);
		SB_TRY(refuse_key(r, m, "size_bytes", "only tmpfs mounts take `size_bytes`"));
		out->size_bytes = 0;
	} else {
		SB_TRY(refuse_key(r, m, "source", "tmpfs mounts take no `source`"));
		SB_TRY(sb_rd_require(r, m, "size_bytes", &v));
		SB_TRY(sb_rd_int(r, m, "size_bytes", 1, INT64_MAX, 0, false, &out->size_bytes));
	}
	SB_TRY(sb_rd_require(r, m, "target", &v));
	sb_json_path_push_key(&r->path, "target");
	SB_TRY(sb_rd_path_value(r, v, false, &out->target));
	sb_json_path_pop(&r->path);
	SB_TRY(sb_rd_bool(r, m, "readonly", out->type == SB_MOUNT_BIND, &out->readonly));
	SB_TRY(sb_rd_bool(r, m, "optional", false, &out->optional));
	return read_device(r, m, out);
}

int sb_policy_read_mounts(struct sb_reader *r, const json_t *root, struct sb_policy *p)
{
	json_t *mounts = json_object_get(root, "mounts");
	json_t *m;
	size_t i;

	if (mounts == NULL)
		return 0;
	sb_json_path_push_key(&r->path, "mounts");
	if (!json_is_array(mounts))
		return sb_rd_type_error(r, mounts, "an array of mounts");
	p->mounts = calloc(json_array_size(mounts) + 1, sizeof(*p->mounts));
	if (p->mounts == NULL)
		return sb_rd_oom(r);
	json_array_foreach (mounts, i, m) {
		sb_json_path_push_index(&r->path, i);
		p->n_mounts = i + 1;
		SB_TRY(read_mount(r, m, &p->mounts[i]));
		for (size_t j = 0; j < i; j++) {
			if (strcmp(p->mounts[j].target, p->mounts[i].target) == 0) {
				char quoted[96];

				sb_json_path_push_key(&r->path, "target");
				return sb_rd_fail(
				    r, SB_JSON_VALUE,
				    "target `%s` is already mounted by $.mounts[%zu]",
				    sb_rd_quote(p->mounts[i].target, quoted, sizeof(quoted)), j);
			}
		}
		sb_json_path_pop(&r->path);
	}
	sb_json_path_pop(&r->path);
	return 0;
}
