/* "extends": a policy of a few lines on top of the shipped default, the
 * merge rules of policies/README.md (objects by key, arrays replaced,
 * `name+` appended, null removed) over chains of files, and that a later
 * change of a base reaches every policy that extends it.
 *
 *   test_policy_extends POLICIES_DIR     (the project's policies/)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "error.h"
#include "policy.h"

#include "check.h"

#define GiB (INT64_C(1) << 30)

static char dir[] = "/tmp/policy-extends-XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static int load(const char *name, struct sb_policy *p, struct pm_error *err)
{
	char path[512];
	char msg[2048];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = sb_policy_load(path, p, err);
	if (rc < 0) {
		pm_error_format(err, msg, sizeof(msg));
		fprintf(stderr, "%s: %s\n", name, msg);
	}
	return rc;
}

static const char *env_value(const struct sb_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_env_set; i++)
		if (strcmp(p->env_set[i].name, name) == 0)
			return p->env_set[i].value;
	return NULL;
}

/* The bar of the issue: three lines on top of `default` raise the memory
 * limit and add a read-only directory; all else is the default's. */
static void test_three_lines(const char *policies)
{
	char path[512];
	struct sb_policy def, p;
	struct pm_error err;

	snprintf(path, sizeof(path), "%s/default.json", policies);
	write_file("admin.json",
		   "{\"version\": 1, \"extends\": \"default\",\n"
		   " \"cgroup\": {\"memory_max_bytes\": 4294967296},\n"
		   " \"mounts+\": [{\"type\": \"bind\", \"source\": \"/usr/share\", \"target\": "
		   "\"/data\"}]}\n");
	if (sb_policy_load(path, &def, &err) < 0 || load("admin.json", &p, &err) < 0) {
		failures++;
		return;
	}
	CHECK(p.cgroup.memory_max_bytes == 4 * GiB);
	CHECK(p.cgroup.pids_max == def.cgroup.pids_max && p.cgroup.pids_max > 0);
	CHECK(p.cgroup.swap_max_bytes == def.cgroup.swap_max_bytes);
	CHECK(p.n_mounts == def.n_mounts + 1);
	/* The default's own mounts, then the new one, then the "etc" entries. */
	for (size_t i = 0; i < def.n_mounts && i < p.n_mounts; i++) {
		size_t j = def.mounts[i].etc_entry ? i + 1 : i;
		CHECK_STR(p.mounts[j].target, def.mounts[i].target);
	}
	for (size_t i = 0; i < p.n_mounts; i++) {
		if (strcmp(p.mounts[i].target, "/data") == 0) {
			CHECK_STR(p.mounts[i].source, "/usr/share");
			CHECK(p.mounts[i].readonly && !p.mounts[i].etc_entry);
		}
	}
	CHECK(json_equal(p.seccomp, def.seccomp));
	CHECK(p.net_mode == def.net_mode && p.n_env_set == def.n_env_set);
	CHECK(p.n_sources == 2);
	if (p.n_sources == 2) {
		CHECK(strstr(p.sources[0], "admin.json") != NULL);
		CHECK_STR(p.sources[1], path);
	}
	sb_policy_free(&def);
	sb_policy_free(&p);
}

/* A base edited after the policy was written: the policy follows. */
static void test_base_changes_reach(void)
{
	struct sb_policy p;
	struct pm_error err;

	write_file("base.json", "{\"version\": 1, \"workspace\": {\"roots\": [\"/w\"]},\n"
				"\"cgroup\": {\"pids_max\": 64},\n"
				"\"environment\": {\"set\": {\"A\": \"1\"}}}\n");
	write_file("mine.json", "{\"version\": 1, \"extends\": \"base.json\",\n"
				"\"environment\": {\"set\": {\"B\": \"2\"}}}\n");
	if (load("mine.json", &p, &err) == 0) {
		CHECK(p.cgroup.pids_max == 64);
		CHECK_STR(env_value(&p, "A"), "1");
		CHECK_STR(env_value(&p, "B"), "2");
		sb_policy_free(&p);
	} else {
		failures++;
	}
	/* The base gains a limit and a variable, and drops one. */
	write_file("base.json", "{\"version\": 1, \"workspace\": {\"roots\": [\"/w\"]},\n"
				"\"cgroup\": {\"pids_max\": 32, \"memory_max_bytes\": 1048576},\n"
				"\"environment\": {\"set\": {\"C\": \"3\"}}}\n");
	if (load("mine.json", &p, &err) == 0) {
		CHECK(p.cgroup.pids_max == 32 && p.cgroup.memory_max_bytes == 1048576);
		CHECK(env_value(&p, "A") == NULL);
		CHECK_STR(env_value(&p, "C"), "3");
		CHECK_STR(env_value(&p, "B"), "2");
		sb_policy_free(&p);
	} else {
		failures++;
	}
}

/* Arrays replace, `+` appends (at any depth and over a chain of three),
 * null removes; objects merge. */
static void test_merge_rules(void)
{
	struct sb_policy p;
	struct pm_error err;

	write_file("root.json", "{\"version\": 1, \"workspace\": {\"roots\": [\"/w\", \"/v\"]},\n"
				"\"etc\": [\"hosts\", \"services\"],\n"
				"\"rlimits\": {\"as_bytes\": 100, \"nofile\": 64},\n"
				"\"environment\": {\"pass\": [\"TZ\"]},\n"
				"\"hostname\": \"root\"}\n");
	write_file("mid.json", "{\"version\": 1, \"extends\": \"root.json\",\n"
			       "\"workspace\": {\"roots\": [\"/x\"]},\n"
			       "\"environment\": {\"pass+\": [\"LANG\"]},\n"
			       "\"rlimits\": {\"as_bytes\": null}}\n");
	write_file("top.json", "{\"version\": 1, \"extends\": \"./mid.json\",\n"
			       "\"etc\": [\"protocols\"],\n"
			       "\"environment\": {\"pass+\": [\"LC_ALL\"]},\n"
			       "\"hostname\": null}\n");
	if (load("top.json", &p, &err) < 0) {
		failures++;
		return;
	}
	CHECK(p.n_workspace_roots == 1 && strcmp(p.workspace_roots[0], "/x") == 0);
	CHECK(p.n_env_pass == 3);
	if (p.n_env_pass == 3) {
		CHECK_STR(p.env_pass[0], "TZ");
		CHECK_STR(p.env_pass[1], "LANG");
		CHECK_STR(p.env_pass[2], "LC_ALL");
	}
	CHECK(p.rlimits.as_bytes == SB_UNSET && p.rlimits.nofile == 64);
	CHECK_STR(p.hostname, "sandbox"); /* removed: the default */
	CHECK(p.n_mounts == 1 && strcmp(p.mounts[0].target, "/etc/protocols") == 0);
	CHECK(p.n_sources == 3);
	sb_policy_free(&p);
}

/* `name+` inside an object the base does not have appends to nothing. */
static void test_append_inside_new_object(void)
{
	struct sb_policy p;
	struct pm_error err;

	write_file("bare.json", "{\"version\": 1, \"workspace\": {\"roots\": [\"/w\"]}}\n");
	write_file("adds.json", "{\"version\": 1, \"extends\": \"bare.json\",\n"
				"\"environment\": {\"pass+\": [\"LANG\"]}}\n");
	if (load("adds.json", &p, &err) < 0) {
		failures++;
		return;
	}
	CHECK(p.n_env_pass == 1 && strcmp(p.env_pass[0], "LANG") == 0);
	sb_policy_free(&p);
}

/* An error in a value a base gave names the base, with its line, as
 * loaded through the policy that extends it. */
static void test_error_in_chain(void)
{
	struct sb_policy p;
	struct pm_error err;
	char expected[1024];

	write_file("bad-base.json", "{\"version\": 1,\n\"workspace\": {\"roots\": [\"/w\"]},\n"
				    "\"tmp_size_bytes\": 0}\n");
	write_file("uses-bad.json",
		   "{\"version\": 1, \"extends\": \"bad-base.json\",\n"
		   "\"mounts+\": [\n{\"type\": \"tmpfs\", \"target\": \"/t\"}]}\n");
	CHECK(load("uses-bad.json", &p, &err) == -EINVAL);
	snprintf(expected, sizeof(expected),
		 "policy `%s/uses-bad.json` line 3, at $[\"mounts+\"][0]: missing required key "
		 "`size_bytes`",
		 dir);
	CHECK_STR(err.message, expected);
	write_file("uses-bad.json", "{\"version\": 1, \"extends\": \"bad-base.json\"}\n");
	CHECK(load("uses-bad.json", &p, &err) == -EINVAL);
	snprintf(expected, sizeof(expected),
		 "policy `%s/uses-bad.json`, in its base `%s/bad-base.json` line 3, at "
		 "$.tmp_size_bytes: expected an integer >= 1, got 0",
		 dir, dir);
	CHECK_STR(err.message, expected);
}

/* Shipped names: found in the directory the launcher sets, and a missing
 * one says where shipped policies are. */
static void test_shipped_names(void)
{
	struct sb_policy p;
	struct pm_error err;

	sb_policy_set_shipped_dir(dir);
	write_file("site.json", "{\"version\": 1, \"workspace\": {\"roots\": [\"/site\"]}}\n");
	write_file("by-name.json", "{\"version\": 1, \"extends\": \"site\"}\n");
	if (load("by-name.json", &p, &err) == 0) {
		CHECK(p.n_workspace_roots == 1 && strcmp(p.workspace_roots[0], "/site") == 0);
		sb_policy_free(&p);
	} else {
		failures++;
	}
	write_file("by-name.json", "{\"version\": 1, \"extends\": \"nosuch\"}\n");
	CHECK(load("by-name.json", &p, &err) == -ENOENT);
	CHECK(strstr(err.message, "/nosuch.json") != NULL);
	CHECK(strstr(err.hint, dir) != NULL);
}

int main(int argc, char **argv)
{
	char cmd[600];

	if (argc != 2) {
		fprintf(stderr, "usage: %s POLICIES_DIR\n", argv[0]);
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	sb_policy_set_shipped_dir(argv[1]);
	test_three_lines(argv[1]);
	test_base_changes_reach();
	test_merge_rules();
	test_append_inside_new_object();
	test_error_in_chain();
	test_shipped_names();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	if (failures > 0) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("policy extends: all checks passed\n");
	return 0;
}
