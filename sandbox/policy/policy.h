/* Sandbox policies: the JSON files admins edit (policies/README.md documents
 * every key).  Loading validates everything a run needs, so that a policy
 * that loads never fails later for a reason the file could have shown.
 *
 * Errors name the file, the line and the JSON path of the offending value,
 * for example:
 *   policy `p.json` line 12, at $.rlimits.nofile: expected an integer, got a string
 */
#ifndef SB_POLICY_H
#define SB_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct sb_scmp_profile;

/* "Not set" for the optional numeric limits below: leave as inherited. */
#define SB_UNSET (-1)

enum sb_mount_type {
	SB_MOUNT_BIND,	/* host `source` bound at `target` */
	SB_MOUNT_TMPFS, /* empty tmpfs of `size_bytes` at `target` */
};

struct sb_mount {
	enum sb_mount_type type;
	char *source;	    /* absolute host path; NULL for tmpfs */
	char *target;	    /* absolute path inside the sandbox */
	bool readonly;	    /* default true for binds, false for tmpfs */
	bool optional;	    /* a missing bind source is skipped instead of failing */
	bool etc_entry;	    /* from "etc": resolved below /etc without following links */
	bool device;	    /* a character device of /dev, bound without nodev */
	int64_t size_bytes; /* tmpfs only; required for tmpfs */
};

/* Layers a policy may mark optional ("optional_layers"); every other layer
 * is mandatory.  A run without an optional layer reports it as degraded. */
enum sb_layer {
	SB_LAYER_CGROUP = 1u << 0,	 /* "cgroup": cgroup limits */
	SB_LAYER_CGROUP_NS = 1u << 1,	 /* "cgroup_namespace" */
	SB_LAYER_USERNS_LIMIT = 1u << 2, /* "nested_userns_block": max_user_namespaces=0 inside */
	SB_LAYER_USER_NET = 1u << 3,	 /* "user_network": the user-mode network helper */
};

/* What network the sandbox has ("network"; policies/README.md). */
enum sb_net_mode {
	SB_NET_NONE, /* a network namespace of its own with only loopback */
	SB_NET_HOST, /* the host's network namespace: no isolation at all */
	SB_NET_USER, /* its own namespace, outbound through a user-mode stack
			(pasta) that cannot reach the host (usernet.h) */
};

struct sb_rlimits {
	int64_t as_bytes;    /* RLIMIT_AS */
	int64_t cpu_seconds; /* RLIMIT_CPU (soft = hard) */
	int64_t fsize_bytes; /* RLIMIT_FSIZE */
	int64_t nofile;	     /* RLIMIT_NOFILE */
	int64_t nproc;	     /* RLIMIT_NPROC */
	int64_t core_bytes;  /* RLIMIT_CORE */
	int64_t stack_bytes; /* RLIMIT_STACK */
};

struct sb_cgroup_limits {
	int64_t memory_max_bytes; /* memory.max / memory.limit_in_bytes */
	int64_t swap_max_bytes;	  /* memory.swap.max / memsw (v1: memory+swap) */
	int64_t pids_max;	  /* pids.max */
	int64_t cpu_max_percent;  /* cpu.max / cfs quota, percent of one CPU */
};

struct sb_env_var {
	char *name;
	char *value; /* may contain ${WORKSPACE}, replaced at launch */
};

struct sb_policy {
	char *file;	/* path it was loaded from (for messages) */
	char **sources; /* the files read: `file`, then the bases it extends */
	size_t n_sources;
	char *description; /* free text, may be NULL */

	enum sb_net_mode net_mode;
	char *net_helper; /* SB_NET_USER: absolute path of pasta */
	char *hostname;	  /* uts name inside */

	uid_t uid, gid; /* ids of the script inside the sandbox */
	uid_t host_uid; /* host ids when the launcher runs as root */
	gid_t host_gid; /*   and the workspace is owned by root */

	char **workspace_roots; /* absolute, canonical-looking paths */
	size_t n_workspace_roots;
	char **protected_paths; /* a workspace may not contain these */
	size_t n_protected_paths;
	bool workspace_readonly;      /* bind the workspace read-only */
	int64_t workspace_max_bytes;  /* growth of a workspace, or SB_UNSET */
	int64_t workspace_max_inodes; /* files a job may add, or SB_UNSET */

	struct sb_mount *mounts; /* "mounts" in file order, then the "etc" entries */
	size_t n_mounts;
	int64_t tmp_size_bytes; /* /tmp tmpfs size */
	int64_t shm_size_bytes; /* /dev/shm tmpfs size */
	bool proc_subset_pid;	/* mount /proc with subset=pid */
	bool subprocesses;	/* false: threads only (seccomp_nofork.h) */

	struct sb_rlimits rlimits;
	struct sb_cgroup_limits cgroup;

	double wall_seconds;  /* 0 = no wall-clock limit */
	int64_t output_bytes; /* 0 = no cap on stdout+stderr bytes */

	struct sb_env_var *env_set; /* "environment.set", in file order */
	size_t n_env_set;
	char **env_pass; /* "environment.pass": copied from the launcher's env */
	size_t n_env_pass;

	unsigned optional_layers; /* enum sb_layer bits */

	json_t *seccomp;			 /* the validated "seccomp" object (owned), or NULL:
						    what the compiled-filter cache hashes */
	struct sb_scmp_profile *seccomp_profile; /* the same, parsed (owned), or NULL */
};

/* Loads and validates `file`, with the bases it extends ("extends";
 * policy_chain.h has the merge rules).  On failure *out is left zeroed. */
int sb_policy_load(const char *file, struct sb_policy *out, struct pm_error *err);

/* Same, from memory; `name` stands for the file in messages, and a base
 * named by a relative path is found beside it.  (Fuzz entry.) */
int sb_policy_load_buffer(const char *text, size_t len, const char *name, struct sb_policy *out,
			  struct pm_error *err);

void sb_policy_free(struct sb_policy *p);

/* Where "extends" finds shipped policies by name ("default" is
 * <dir>/default.json); the launcher sets it from where it is installed. */
void sb_policy_set_shipped_dir(const char *dir);
const char *sb_policy_shipped_dir(void);

/* The effective policy as a policy file of its own (policy_dump.c): every
 * key written out, optional limits null when unset.  Loading it gives the
 * same policy.  NULL when out of memory. */
json_t *sb_policy_to_json(const struct sb_policy *p);

/* "cgroup" for SB_LAYER_CGROUP, and so on. */
const char *sb_layer_name(enum sb_layer layer);

/* "none", "host" or "user". */
const char *sb_net_mode_name(enum sb_net_mode mode);

#endif
