/* --check-policy, --print-effective-policy, --explain-policy: each loads
 * the policy and compiles its seccomp filter for this machine, as a run
 * would, so that what they print is what a run would apply. */
#include "policy_cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "integrity.h"
#include "policy.h"
#include "policy_explain.h"
#include "seccomp.h"

void sb_policy_cli_find_shipped(void)
{
	static char dir[PATH_MAX];
	struct pm_error err = {0};
	_cleanup_free_ char *self = sb_self_exe(&err);
	char *slash = self != NULL ? strrchr(self, '/') : NULL;
	char probe[PATH_MAX + 32];

	if (slash == NULL)
		return;
	*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/../share/python-mcp/policies", self);
	snprintf(probe, sizeof(probe), "%s/default.json", dir);
	if (access(probe, R_OK) == 0)
		sb_policy_set_shipped_dir(dir);
}

static void report(const struct pm_error *err)
{
	char buf[PM_ERROR_MESSAGE_MAX + PM_ERROR_HINT_MAX + 16];

	pm_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "python-mcp-sandbox: %s\n", buf);
}

static int print_effective(const struct sb_policy *p, struct pm_error *err)
{
	_cleanup_json_ json_t *doc = sb_policy_to_json(p);

	if (doc == NULL)
		return pm_error_set(err, "policy", ENOMEM, "policy `%s`", p->file);
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ||
	    fputc('\n', stdout) == EOF)
		return pm_error_errno(err, "policy", "writing the effective policy");
	return 0;
}

int sb_policy_cli_run(enum sb_policy_command cmd, const char *file, char *const *protect,
		      size_t n_protect)
{
	struct sb_policy policy;
	struct pm_error err = {0};
	scmp_filter_ctx filter = NULL;
	int r = sb_policy_load(file, &policy, &err);

	if (r == 0 && policy.seccomp_profile)
		r = sb_seccomp_build(policy.seccomp_profile, policy.file, &filter, &err);
	if (r == 0 && cmd == SB_POLICY_CHECK)
		r = sb_integrity_check(&policy, protect, n_protect, &err);
	if (r == 0 && cmd == SB_POLICY_PRINT_EFFECTIVE)
		r = print_effective(&policy, &err);
	if (r == 0 && cmd == SB_POLICY_EXPLAIN)
		sb_policy_explain(stdout, &policy);
	if (filter)
		seccomp_release(filter);
	sb_policy_free(&policy);
	if (r == 0 && fflush(stdout) != 0)
		r = pm_error_errno(&err, "policy", "writing to stdout");
	if (r < 0) {
		report(&err);
		return 1;
	}
	if (cmd == SB_POLICY_CHECK)
		printf("policy `%s`: ok\n", file);
	return 0;
}
