/* The launcher's commands about a policy rather than a run:
 * --check-policy, --print-effective-policy and --explain-policy. */
#ifndef SB_POLICY_CLI_H
#define SB_POLICY_CLI_H

#include <stddef.h>

enum sb_policy_command {
	SB_POLICY_CHECK,	   /* "policy `F`: ok", or the error */
	SB_POLICY_PRINT_EFFECTIVE, /* the effective policy as JSON */
	SB_POLICY_EXPLAIN,	   /* the effective policy in plain words */
};

/* Finds the shipped policies that "extends" names beside an installed
 * launcher (<prefix>/share/python-mcp/policies). */
void sb_policy_cli_find_shipped(void);

/* Runs the command on `file`; returns the exit status (0, or 1 with the
 * error on stderr).  The check also applies the integrity check with the
 * `protect` paths, as root. */
int sb_policy_cli_run(enum sb_policy_command cmd, const char *file, char *const *protect,
		      size_t n_protect);

#endif
