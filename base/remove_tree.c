#include "remove_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

/* Removes what `dfd` holds, going down one directory at a time and
 * back up through "..": only the names on the way down are kept, never
 * more than one descriptor. */
static void empty_dir(int dfd)
{
	char **names = NULL;
	size_t depth = 0, cap = 0;

	for (;;) {
		int dup_fd = dup(dfd);
		DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
		struct dirent *e;
		char *down = NULL;

		if (d == NULL) {
			if (dup_fd >= 0)
				close(dup_fd);
			break;
		}
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if (unlinkat(dfd, e->d_name, 0) == 0 || errno != EISDIR)
				continue;
			if (unlinkat(dfd, e->d_name, AT_REMOVEDIR) == 0)
				continue;
			if (errno == ENOTEMPTY || errno == EEXIST) {
				down = strdup(e->d_name);
				break;
			}
		}
		closedir(d);
		if (down != NULL) {
			int sub =
			    openat(dfd, down, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			/* A script may have taken its own permissions away. */
			if (sub < 0 && errno == EACCES && fchmodat(dfd, down, 0700, 0) == 0)
				sub = openat(dfd, down,
					     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (depth == cap) {
				char **grown =
				    realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
				if (grown == NULL) {
					free(down);
					if (sub >= 0)
						close(sub);
					break;
				}
				names = grown;
			}
			if (sub < 0) {
				free(down);
				break;
			}
			names[depth++] = down;
			close(dfd);
			dfd = sub;
			continue;
		}
		/* Empty (or what is left cannot go): up, and remove it. */
		if (depth == 0)
			break;
		int up = openat(dfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (up < 0)
			break;
		close(dfd);
		dfd = up;
		char *name = names[--depth];
		if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			/* Something in it resists: do not loop on it. */
			free(name);
			break;
		}
		free(name);
	}
	while (depth > 0)
		free(names[--depth]);
	free(names);
	close(dfd);
}

int remove_tree(const char *path)
{
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd < 0) {
		/* Not a directory (or a link to one): the name itself goes. */
		if (errno == ENOTDIR || errno == ELOOP)
			return unlink(path) < 0 ? -errno : 0;
		return errno == ENOENT ? 0 : -errno;
	}
	empty_dir(dfd);
	return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
}

struct removal {
	uv_work_t req;
	char path[];
};

static void work(uv_work_t *req)
{
	struct removal *rm = (struct removal *)req;

	remove_tree(rm->path);
}

static void after(uv_work_t *req, int status)
{
	struct removal *rm = (struct removal *)req;

	(void)status;
	free(rm);
}

void remove_tree_async(uv_loop_t *loop, const char *path)
{
	size_t n = strlen(path) + 1;
	struct removal *rm = malloc(sizeof(*rm) + n);

	if (rm == NULL) {
		remove_tree(path);
		return;
	}
	memcpy(rm->path, path, n);
	if (uv_queue_work(loop, &rm->req, work, after) < 0) {
		remove_tree(rm->path);
		free(rm);
	}
}
