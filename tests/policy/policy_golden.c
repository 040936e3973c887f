/* Golden policy cases: loads a policy and compiles its seccomp section, as
 * `python-mcp-sandbox --check-policy` does, then compares the outcome with
 * the expectation.
 *
 *   policy_golden [--seccomp-from PROFILE] [--expect-error FILE] POLICY
 *
 * Without --expect-error the policy must load and compile.  With it, the
 * formatted error ("<message>. Hint: <hint>") must equal the first line of
 * FILE.  --seccomp-from replaces the policy's "seccomp" object with the
 * JSON object in PROFILE (Docker's default profile, say) before loading,
 * through sb_policy_load_buffer().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cleanup.h"
#include "error.h"
#include "policy.h"
#include "seccomp.h"

static char *read_line(const char *file)
{
	char buf[4096];
	FILE *f = fopen(file, "re");
	char *nl;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s: %s\n", file, strerror(errno));
		exit(2);
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
	return strdup(buf);
}

/* The policy text with its "seccomp" replaced by the object in profile. */
static char *splice(const char *policy, const char *profile)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_json_ json_t *seccomp = NULL;
	json_error_t jerr;
	char *text;

	root = json_load_file(policy, 0, &jerr);
	seccomp = json_load_file(profile, 0, &jerr);
	if (root == NULL || seccomp == NULL) {
		fprintf(stderr, "cannot splice %s into %s: %s (line %d)\n", profile, policy,
			jerr.text, jerr.line);
		exit(2);
	}
	json_object_set(root, "seccomp", seccomp);
	text = json_dumps(root, JSON_INDENT(2));
	if (text == NULL)
		exit(2);
	return text;
}

static int check(const char *policy, const char *profile, struct pm_error *err)
{
	struct sb_policy p;
	scmp_filter_ctx ctx = NULL;
	int rc;

	if (profile != NULL) {
		_cleanup_free_ char *text = splice(policy, profile);

		rc = sb_policy_load_buffer(text, strlen(text), policy, &p, err);
	} else {
		rc = sb_policy_load(policy, &p, err);
	}
	if (rc < 0)
		return rc;
	if (p.seccomp != NULL) {
		rc = sb_seccomp_build(p.seccomp_profile, p.file, &ctx, err);
		if (rc >= 0)
			seccomp_release(ctx);
	}
	sb_policy_free(&p);
	return rc;
}

int main(int argc, char **argv)
{
	const char *profile = NULL, *expect_file = NULL, *policy = NULL;
	_cleanup_free_ char *expected = NULL;
	struct pm_error err = {0};
	char got[PM_ERROR_MESSAGE_MAX + PM_ERROR_HINT_MAX + 16];
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seccomp-from") == 0 && i + 1 < argc)
			profile = argv[++i];
		else if (strcmp(argv[i], "--expect-error") == 0 && i + 1 < argc)
			expect_file = argv[++i];
		else
			policy = argv[i];
	}
	if (policy == NULL) {
		fprintf(stderr, "usage: %s [--seccomp-from PROFILE] [--expect-error FILE] POLICY\n",
			argv[0]);
		return 2;
	}
	rc = check(policy, profile, &err);
	if (rc < 0)
		pm_error_format(&err, got, sizeof(got));
	if (expect_file == NULL) {
		if (rc < 0) {
			fprintf(stderr, "FAIL: %s should load, got:\n  %s\n", policy, got);
			return 1;
		}
		printf("ok: %s loads and compiles\n", policy);
		return 0;
	}
	expected = read_line(expect_file);
	if (rc >= 0) {
		fprintf(stderr, "FAIL: %s loaded, expected:\n  %s\n", policy, expected);
		return 1;
	}
	if (rc != pm_error_code(&err) || err.stage[0] == '\0') {
		fprintf(stderr, "FAIL: return value %d does not match the error (stage `%s`)\n", rc,
			err.stage);
		return 1;
	}
	if (strcmp(got, expected) != 0) {
		fprintf(stderr, "FAIL: %s\nexpected: %s\ngot:      %s\n", policy, expected, got);
		return 1;
	}
	printf("ok: %s fails as expected (stage %s)\n", policy, err.stage);
	return 0;
}
