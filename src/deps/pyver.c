#include "pyver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARTS 4

/* "3.11.2" -> {3, 11, 2, 0}; returns the number of components given. */
static int parse(const char *s, long v[PARTS], bool *wildcard)
{
	int n = 0;

	*wildcard = false;
	memset(v, 0, sizeof(long) * PARTS);
	while (n < PARTS) {
		char *end;
		if (*s == '*' && n > 0 && s[1] == '\0') {
			*wildcard = true;
			return n;
		}
		if (*s < '0' || *s > '9')
			return -1;
		v[n++] = strtol(s, &end, 10);
		if (*end == '\0')
			return n;
		if (*end != '.')
			return -1;
		s = end + 1;
	}
	return -1;
}

static int compare(const long a[PARTS], const long b[PARTS], int n)
{
	for (int i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int clause(const char *c, const long have[PARTS], bool *ok, struct pm_error *err)
{
	static const char *const ops[] = {"~=", "==", "!=", "<=", ">=", "<", ">"};
	const char *op = NULL;
	long want[PARTS];
	bool wild;
	int n;

	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops) && !op; i++)
		if (strncmp(c, ops[i], strlen(ops[i])) == 0)
			op = ops[i];
	if (op == NULL || (n = parse(c + strlen(op), want, &wild)) < 0 ||
	    (wild && strcmp(op, "==") && strcmp(op, "!=")) || (strcmp(op, "~=") == 0 && n < 2)) {
		pm_error_set(err, "requires_python", EINVAL,
			     "requires-python clause `%s` is not "
			     "understood",
			     c);
		return pm_error_hint(err, "use PEP 440 clauses such as \">=3.10\", \"<3.13\", "
					  "\"~=3.11\" or \"==3.11.*\"");
	}
	int cmp_n = compare(have, want, wild ? n : PARTS), cmp_prefix = compare(have, want, n - 1);
	if (strcmp(op, "==") == 0)
		*ok = cmp_n == 0;
	else if (strcmp(op, "!=") == 0)
		*ok = cmp_n != 0;
	else if (strcmp(op, "<=") == 0)
		*ok = cmp_n <= 0;
	else if (strcmp(op, ">=") == 0)
		*ok = cmp_n >= 0;
	else if (strcmp(op, "<") == 0)
		*ok = cmp_n < 0;
	else if (strcmp(op, ">") == 0)
		*ok = cmp_n > 0;
	else /* ~=X.Y.Z means >=X.Y.Z and ==X.Y.* */
		*ok = cmp_n >= 0 && cmp_prefix == 0;
	return 0;
}

int pyver_satisfies(const char *spec, const char *version, bool *out, struct pm_error *err)
{
	char buf[256], *save = NULL;
	long have[PARTS];
	bool wild;

	if (parse(version, have, &wild) < 0 || wild)
		return pm_error_set(err, "requires_python", EINVAL, "interpreter version `%s`",
				    version);
	/* Spaces mean nothing in a specifier. */
	size_t n = 0;
	for (const char *s = spec; *s && n < sizeof(buf) - 1; s++)
		if (*s != ' ' && *s != '\t')
			buf[n++] = *s;
	buf[n] = '\0';
	*out = true;
	for (char *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		bool ok = false;
		int r = clause(c, have, &ok, err);
		if (r < 0)
			return r;
		*out = *out && ok;
	}
	return 0;
}
