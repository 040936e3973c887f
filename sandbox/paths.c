#include "paths.h"

#include <string.h>

bool sb_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool sb_path_overlaps(const char *a, const char *b)
{
	return sb_path_within(a, b) || sb_path_within(b, a);
}
