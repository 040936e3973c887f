/* What an environment variable's name may be, one rule for the dotenv
 * reader, env_vars and the launcher: letters, digits and `_`, not
 * starting with a digit (what every shell can set). */
#ifndef PM_ENV_NAME_H
#define PM_ENV_NAME_H

#include <stdbool.h>
#include <stddef.h>

static inline bool pm_env_name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

/* The first len bytes of name (len > 0) are a valid name. */
static inline bool pm_env_name_ok(const char *name, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!pm_env_name_char(name[i], i == 0))
			return false;
	return true;
}

#endif
