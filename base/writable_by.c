/* Could the scripts' host ids change a file the launcher trusts?  The
 * walk follows the path the way the kernel resolves it, one component at
 * a time: a directory on the way that they may write lets them swap what
 * comes after it, and a symbolic link makes its target (and every
 * directory on the target's way) part of the path too.  realpath() would
 * hide the directories that hold the links. */
#include "fence.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/* As the kernel's MAXSYMLINKS: more links than this on one path is a loop. */
#define LINKS_MAX 40

struct walk {
	uid_t uid;
	gid_t gid;
	unsigned links;
	char done[PATH_MAX]; /* the resolved prefix: no links, no dots */
	char *culprit;
};

static bool may_write(const struct stat *st, uid_t uid, gid_t gid)
{
	return st->st_uid == uid || (st->st_gid == gid && (st->st_mode & S_IWGRP)) ||
	       (st->st_mode & S_IWOTH);
}

/* A directory they may write lets them replace `entry` in it, unless the
 * sticky bit keeps entries they do not own. */
static bool may_replace(const struct stat *dir, const struct stat *entry, uid_t uid, gid_t gid)
{
	return may_write(dir, uid, gid) &&
	       !((dir->st_mode & S_ISVTX) && dir->st_uid != uid && entry->st_uid != uid);
}

static int found(struct walk *w, const char *path, struct pm_error *err)
{
	if ((w->culprit = strdup(path)) == NULL)
		return pm_error_set(err, "install", ENOMEM, "`%s`", path);
	return 1;
}

static int walk(struct walk *w, const char *path, struct pm_error *err);

/* Follows the link at w->done (whose parent is `parent`) with `rest`
 * still to walk after it. */
static int follow(struct walk *w, size_t parent, const char *rest, struct pm_error *err)
{
	char target[PATH_MAX], next[PATH_MAX];
	ssize_t n = readlink(w->done, target, sizeof(target) - 1);

	if (n < 0)
		return pm_error_errno(err, "install", "read the link `%s`", w->done);
	target[n] = '\0';
	if (++w->links > LINKS_MAX)
		return pm_error_set(err, "install", ELOOP, "`%s`: too many symbolic links",
				    w->done);
	w->done[parent] = '\0';
	n = snprintf(next, sizeof(next), "%s/%s/%s", target[0] == '/' ? "" : w->done, target, rest);
	if (n < 0 || (size_t)n >= sizeof(next))
		return pm_error_set(err, "install", ENAMETOOLONG, "`%s/%s`", target, rest);
	w->done[0] = '\0';
	return walk(w, next, err);
}

/* Walks the absolute `path` from the root: 1 when something on it is
 * theirs to change (w->culprit names it), 0 when not. */
static int walk(struct walk *w, const char *path, struct pm_error *err)
{
	struct stat dir, st;
	const char *p = path;

	w->done[0] = '\0';
	if (lstat("/", &dir) < 0)
		return pm_error_errno(err, "install", "stat `/`");
	if (may_write(&dir, w->uid, w->gid))
		return found(w, "/", err);
	while (*p) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/"), at = strlen(w->done);
		if (len == 0)
			break;
		if (len == 1 && p[0] == '.') {
			p += len;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			/* w->done holds no links, so `..` is its parent. */
			char *slash = strrchr(w->done, '/');
			if (slash)
				*slash = '\0';
			if (lstat(w->done[0] ? w->done : "/", &dir) < 0)
				return pm_error_errno(err, "install", "stat `%s`", w->done);
			p += len;
			continue;
		}
		if (at + 1 + len >= sizeof(w->done))
			return pm_error_set(err, "install", ENAMETOOLONG, "`%s`", path);
		w->done[at] = '/';
		memcpy(w->done + at + 1, p, len);
		w->done[at + 1 + len] = '\0';
		p += len;
		if (lstat(w->done, &st) < 0)
			return pm_error_errno(err, "install", "stat `%s`", w->done);
		if (may_replace(&dir, &st, w->uid, w->gid)) {
			w->done[at] = '\0';
			return found(w, at ? w->done : "/", err);
		}
		if (S_ISLNK(st.st_mode))
			return follow(w, at, p, err);
		dir = st;
	}
	/* The file itself (or the last directory). */
	if (may_write(&dir, w->uid, w->gid))
		return found(w, w->done[0] ? w->done : "/", err);
	return 0;
}

int pm_path_writable_by(const char *path, uid_t uid, gid_t gid, bool *writable, char **culprit,
			struct pm_error *err)
{
	_cleanup_free_ struct walk *w = calloc(1, sizeof(*w));
	char abs[PATH_MAX];
	int r;

	*writable = false;
	if (culprit)
		*culprit = NULL;
	if (w == NULL)
		return pm_error_set(err, "install", ENOMEM, "`%s`", path);
	w->uid = uid;
	w->gid = gid;
	if (path[0] != '/') {
		if (getcwd(abs, sizeof(abs)) == NULL)
			return pm_error_errno(err, "install", "the working directory");
		size_t n = strlen(abs);
		if (n + 1 + strlen(path) >= sizeof(abs))
			return pm_error_set(err, "install", ENAMETOOLONG, "`%s`", path);
		abs[n] = '/';
		strcpy(abs + n + 1, path);
	} else if (strlen(path) >= sizeof(abs)) {
		return pm_error_set(err, "install", ENAMETOOLONG, "`%s`", path);
	} else {
		strcpy(abs, path);
	}
	if ((r = walk(w, abs, err)) < 0)
		return r;
	*writable = r > 0;
	if (culprit)
		*culprit = w->culprit;
	else
		free(w->culprit);
	return 0;
}
