/* The effective policy in plain words (python-mcp-sandbox
 * --explain-policy): policy_explain.c for files, network, limits,
 * environment and layers, policy_explain_seccomp.c for the filter. */
#ifndef SB_POLICY_EXPLAIN_H
#define SB_POLICY_EXPLAIN_H

#include <stdint.h>
#include <stdio.h>

#include "policy.h"

void sb_policy_explain(FILE *out, const struct sb_policy *p);

/* The "Seccomp" section: the default action, how many syscalls the
 * profile allows here, and what it does with each family of syscalls a
 * sandbox escape or a host attack would use. */
void sb_policy_explain_seccomp(FILE *out, const struct sb_policy *p);

/* "2 GiB", "1.5 GiB", "512 bytes". */
const char *sb_explain_bytes(int64_t v, char *buf, size_t size);

#endif
