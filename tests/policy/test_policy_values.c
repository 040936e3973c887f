/* What a policy loads into: every field of valid/full.json, the defaults of
 * valid/minimal.json (which policies/README.md documents), and the load
 * entry points' contract (zeroed output on failure, errno-style codes).
 *
 *   test_policy_values DIR     (DIR = tests/policy/valid)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "policy.h"

#include "check.h"

#define STREQ(a, b) ((a) != NULL && strcmp((a), (b)) == 0)

static int load(const char *dir, const char *name, struct sb_policy *p)
{
	char path[4096];
	struct pm_error err;
	char msg[2048];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = sb_policy_load(path, p, &err);
	if (rc < 0) {
		pm_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "cannot load %s: %s\n", path, msg);
		failures++;
	}
	return rc;
}

static void test_full(const char *dir)
{
	struct sb_policy p;

	if (load(dir, "full.json", &p) < 0)
		return;
	CHECK(strstr(p.file, "full.json") != NULL);
	CHECK(STREQ(p.description,
		    "Every key, none at its default (test_policy_values.c checks each)."));
	CHECK(p.net_mode == SB_NET_HOST && p.net_helper == NULL);
	CHECK(STREQ(p.hostname, "box-1.example"));
	CHECK(p.uid == 0 && p.gid == 100 && p.host_uid == 1234 && p.host_gid == 4321);
	CHECK(p.n_workspace_roots == 2 && STREQ(p.workspace_roots[0], "/srv/jobs") &&
	      STREQ(p.workspace_roots[1], "/tmp"));
	CHECK(p.n_protected_paths == 2 && STREQ(p.protected_paths[0], "/") &&
	      STREQ(p.protected_paths[1], "/etc"));
	CHECK(p.workspace_readonly);

	/* The "etc" entries follow the mounts, as read-only optional binds. */
	CHECK(p.n_mounts == 6);
	if (p.n_mounts == 6) {
		CHECK(p.mounts[0].type == SB_MOUNT_BIND && STREQ(p.mounts[0].source, "/usr") &&
		      STREQ(p.mounts[0].target, "/usr") && !p.mounts[0].readonly &&
		      !p.mounts[0].optional);
		CHECK(p.mounts[1].type == SB_MOUNT_BIND && STREQ(p.mounts[1].source, "/opt/data") &&
		      STREQ(p.mounts[1].target, "/data") && p.mounts[1].readonly &&
		      p.mounts[1].optional);
		CHECK(p.mounts[2].type == SB_MOUNT_TMPFS && p.mounts[2].source == NULL &&
		      STREQ(p.mounts[2].target, "/scratch") && !p.mounts[2].readonly &&
		      p.mounts[2].size_bytes == 1048576);
		CHECK(p.mounts[3].type == SB_MOUNT_TMPFS && p.mounts[3].readonly &&
		      p.mounts[3].size_bytes == 4096 && !p.mounts[3].etc_entry);
		CHECK(p.mounts[4].type == SB_MOUNT_BIND &&
		      STREQ(p.mounts[4].source, "/etc/alternatives") &&
		      STREQ(p.mounts[4].target, "/etc/alternatives") && p.mounts[4].readonly &&
		      p.mounts[4].optional && p.mounts[4].etc_entry);
		CHECK(STREQ(p.mounts[5].source, "/etc/ssl/certs") &&
		      STREQ(p.mounts[5].target, "/etc/ssl/certs") && p.mounts[5].etc_entry);
	}
	CHECK(p.tmp_size_bytes == 1000 && p.shm_size_bytes == 2000);
	CHECK(!p.proc_subset_pid);
	CHECK(p.rlimits.as_bytes == 1 && p.rlimits.cpu_seconds == 2 && p.rlimits.fsize_bytes == 3 &&
	      p.rlimits.nofile == 4 && p.rlimits.nproc == 5 && p.rlimits.core_bytes == 0 &&
	      p.rlimits.stack_bytes == SB_UNSET);
	CHECK(p.cgroup.memory_max_bytes == 10 && p.cgroup.swap_max_bytes == 0 &&
	      p.cgroup.pids_max == 12 && p.cgroup.cpu_max_percent == 250);
	CHECK(p.wall_seconds == 1.5 && p.output_bytes == 99);

	/* File order, not sorted. */
	CHECK(p.n_env_set == 4);
	if (p.n_env_set == 4) {
		CHECK(STREQ(p.env_set[0].name, "Z") && STREQ(p.env_set[0].value, "set first"));
		CHECK(STREQ(p.env_set[1].name, "A") &&
		      STREQ(p.env_set[1].value, "${WORKSPACE}/bin:${WORKSPACE}"));
		CHECK(STREQ(p.env_set[2].name, "EMPTY") && STREQ(p.env_set[2].value, ""));
		CHECK(STREQ(p.env_set[3].name, "odd name!") &&
		      STREQ(p.env_set[3].value, "$HOME {x}"));
	}
	CHECK(p.n_env_pass == 2 && STREQ(p.env_pass[0], "TZ") &&
	      STREQ(p.env_pass[1], "lower_case"));
	CHECK(p.optional_layers == (SB_LAYER_CGROUP | SB_LAYER_CGROUP_NS | SB_LAYER_USERNS_LIMIT));
	CHECK(json_is_object(p.seccomp));
	CHECK(STREQ(json_string_value(json_object_get(p.seccomp, "defaultAction")),
		    "SCMP_ACT_ALLOW"));
	sb_policy_free(&p);
	CHECK(p.file == NULL && p.seccomp == NULL && p.n_mounts == 0);
}

/* The defaults policies/README.md promises. */
static void test_defaults(const char *dir)
{
	struct sb_policy p;

	if (load(dir, "minimal.json", &p) < 0)
		return;
	CHECK(p.description == NULL);
	CHECK(p.net_mode == SB_NET_NONE && p.net_helper == NULL);
	CHECK(STREQ(p.hostname, "sandbox"));
	CHECK(p.uid == 1000 && p.gid == 1000 && p.host_uid == 65534 && p.host_gid == 65534);
	CHECK(p.n_workspace_roots == 1 && STREQ(p.workspace_roots[0], "/workspace"));
	CHECK(p.n_protected_paths == 0 && !p.workspace_readonly);
	CHECK(p.n_mounts == 0);
	CHECK(p.tmp_size_bytes == 64 << 20 && p.shm_size_bytes == 16 << 20);
	CHECK(p.proc_subset_pid);
	CHECK(p.rlimits.as_bytes == SB_UNSET && p.rlimits.cpu_seconds == SB_UNSET &&
	      p.rlimits.fsize_bytes == SB_UNSET && p.rlimits.nofile == SB_UNSET &&
	      p.rlimits.nproc == SB_UNSET && p.rlimits.core_bytes == SB_UNSET &&
	      p.rlimits.stack_bytes == SB_UNSET);
	CHECK(p.cgroup.memory_max_bytes == SB_UNSET && p.cgroup.swap_max_bytes == SB_UNSET &&
	      p.cgroup.pids_max == SB_UNSET && p.cgroup.cpu_max_percent == SB_UNSET);
	CHECK(p.wall_seconds == 0 && p.output_bytes == 0);
	CHECK(p.n_env_set == 0 && p.n_env_pass == 0);
	CHECK(p.optional_layers == 0);
	CHECK(p.seccomp == NULL);
	sb_policy_free(&p);
}

static void test_contract(void)
{
	static const char bad[] =
	    "{\"version\": 1, \"workspace\": {\"roots\": [\"/w\"]}, \"x\": 1}";
	static const char good[] = "{\"version\": 1, \"workspace\": {\"roots\": [\"/w\"]}}";
	struct sb_policy p;
	struct pm_error err;
	char zero[sizeof(p)];

	memset(zero, 0, sizeof(zero));
	memset(&p, 0xAA, sizeof(p));
	CHECK(sb_policy_load_buffer(bad, strlen(bad), "mem", &p, &err) == -EINVAL);
	CHECK(memcmp(&p, zero, sizeof(p)) == 0);
	CHECK(STREQ(err.stage, "policy") && err.errnum == 0);
	CHECK(STREQ(err.message, "policy `mem` line 1, at $.x: unknown key `x`"));

	memset(&p, 0xAA, sizeof(p));
	CHECK(sb_policy_load("/nonexistent/policy.json", &p, &err) == -ENOENT);
	CHECK(memcmp(&p, zero, sizeof(p)) == 0);
	CHECK(err.errnum == ENOENT && err.hint[0] != '\0');

	/* Not NUL-terminated: only `len` bytes count. */
	CHECK(sb_policy_load_buffer(good, strlen(good), "mem", &p, &err) == 0);
	sb_policy_free(&p);
	CHECK(sb_policy_load_buffer(good, strlen(good) - 1, "mem", &p, &err) < 0);

	CHECK(STREQ(sb_layer_name(SB_LAYER_CGROUP), "cgroup"));
	CHECK(STREQ(sb_layer_name(SB_LAYER_CGROUP_NS), "cgroup_namespace"));
	CHECK(STREQ(sb_layer_name(SB_LAYER_USERNS_LIMIT), "nested_userns_block"));
	CHECK(STREQ(sb_layer_name(SB_LAYER_USER_NET), "user_network"));
}

/* Every spelling of "network": the two booleans keep their old meaning,
 * the modes as strings or objects, the helper's default. */
static void test_network(const char *dir)
{
	static const struct {
		const char *value;
		enum sb_net_mode mode;
		const char *helper;
	} cases[] = {
	    {"false", SB_NET_NONE, NULL},
	    {"true", SB_NET_HOST, NULL},
	    {"\"none\"", SB_NET_NONE, NULL},
	    {"\"host\"", SB_NET_HOST, NULL},
	    {"\"user\"", SB_NET_USER, "/usr/bin/pasta"},
	    {"{\"mode\": \"host\"}", SB_NET_HOST, NULL},
	    {"{\"mode\": \"user\"}", SB_NET_USER, "/usr/bin/pasta"},
	    {"{\"mode\": \"user\", \"helper\": \"/opt/p/pasta\"}", SB_NET_USER, "/opt/p/pasta"},
	};
	struct sb_policy p;
	struct pm_error err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char text[256];
		snprintf(text, sizeof(text),
			 "{\"version\": 1, \"workspace\": {\"roots\": [\"/w\"]}, "
			 "\"network\": %s}",
			 cases[i].value);
		CHECK(sb_policy_load_buffer(text, strlen(text), "mem", &p, &err) == 0);
		CHECK(p.net_mode == cases[i].mode);
		CHECK(cases[i].helper ? STREQ(p.net_helper, cases[i].helper)
				      : p.net_helper == NULL);
		sb_policy_free(&p);
	}
	if (load(dir, "network-user.json", &p) < 0)
		return;
	CHECK(p.net_mode == SB_NET_USER && STREQ(p.net_helper, "/usr/bin/pasta"));
	CHECK(p.optional_layers == SB_LAYER_USER_NET);
	CHECK(STREQ(sb_net_mode_name(p.net_mode), "user"));
	sb_policy_free(&p);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	test_full(argv[1]);
	test_defaults(argv[1]);
	test_contract();
	test_network(argv[1]);
	if (failures > 0) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("policy values: all checks passed\n");
	return 0;
}
