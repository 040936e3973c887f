#include "paths.h"

#include <stdlib.h>
#include <string.h>

bool pm_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool pm_path_overlaps(const char *a, const char *b)
{
	return pm_path_within(a, b) || pm_path_within(b, a);
}

bool pm_path_is_clean_absolute(const char *path)
{
	if (path[0] != '/' || path[1] == '\0')
		return false;
	for (const char *c = path; *c;) {
		/* c is at a '/': look at the component after it. */
		const char *comp = c + 1, *end = strchrnul(comp, '/');
		size_t len = (size_t)(end - comp);
		if (len == 0 || (len == 1 && comp[0] == '.') ||
		    (len == 2 && comp[0] == '.' && comp[1] == '.'))
			return false;
		c = end;
	}
	return true;
}

char *pm_path_lexical(const char *path)
{
	char *out = malloc(strlen(path) + 2), *o = out;

	if (out == NULL)
		return NULL;
	for (const char *c = path; *c;) {
		while (*c == '/')
			c++;
		const char *end = strchrnul(c, '/');
		size_t len = (size_t)(end - c);
		if (len > 0 && !(len == 1 && c[0] == '.')) {
			*o++ = '/';
			memcpy(o, c, len);
			o += len;
		}
		c = end;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	return out;
}
