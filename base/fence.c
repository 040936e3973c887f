#include "fence.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"

/* Deeper than this, a directory is refused rather than walked: PATH_MAX
 * allows about 2048 levels of one-letter names. */
#define CHAIN_MAX 4096

int pm_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {.flags = (uint64_t)flags, .resolve = resolve};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static bool same(const struct pm_ino *a, const struct pm_ino *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static bool in_chain(const struct pm_ino *x, const struct pm_ino *chain, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (same(x, &chain[i]))
			return true;
	return false;
}

/* fd's inode, then each parent's through `..` up to the root of the
 * mount namespace (whose `..` is itself). */
static int build_chain(int fd, struct pm_ino **out, size_t *n, struct pm_error *err)
{
	_cleanup_close_ int cur = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	struct pm_ino *chain = NULL;
	size_t len = 0, cap = 0;
	struct stat st;

	*out = NULL;
	*n = 0;
	if (cur < 0)
		return pm_error_errno(err, "fence", "duplicate a descriptor");
	for (;;) {
		if (fstat(cur, &st) < 0) {
			free(chain);
			return pm_error_errno(err, "fence", "stat a parent directory");
		}
		struct pm_ino here = {st.st_dev, st.st_ino};
		if (len > 0 && same(&here, &chain[len - 1]))
			break;
		if (len == CHAIN_MAX) {
			free(chain);
			return pm_error_set(err, "fence", ELOOP,
					    "a directory nested more than %d "
					    "levels deep",
					    CHAIN_MAX);
		}
		if (len == cap) {
			struct pm_ino *grown =
			    realloc(chain, (cap = cap ? 2 * cap : 16) * sizeof(*chain));
			if (grown == NULL) {
				free(chain);
				return pm_error_set(err, "fence", ENOMEM, "parents of a directory");
			}
			chain = grown;
		}
		chain[len++] = here;
		/* A file's parent is its directory; `..` works on directories. */
		int up =
		    S_ISDIR(st.st_mode) ? openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
		if (!S_ISDIR(st.st_mode)) {
			char *p = pm_fd_path(cur, err), *slash;
			if (p == NULL) {
				free(chain);
				return pm_error_code(err);
			}
			slash = strrchr(p, '/');
			if (slash == p)
				slash[1] = '\0';
			else if (slash)
				*slash = '\0';
			up = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
			free(p);
		}
		if (up < 0) {
			free(chain);
			return pm_error_errno(err, "fence", "open a parent directory");
		}
		close(cur);
		cur = up;
	}
	*out = chain;
	*n = len;
	return 0;
}

char *pm_fd_path(int fd, struct pm_error *err)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0) {
		pm_error_errno(err, "fence", "read `%s`", link);
		pm_error_hint(err, "/proc must be mounted");
		return NULL;
	}
	buf[n] = '\0';
	/* A removed directory, or one outside this mount namespace's root,
	 * has no path that means it. */
	if (buf[0] != '/' || (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)) {
		pm_error_set(err, "fence", ENOENT, "`%s` was removed while it was being opened",
			     buf);
		return NULL;
	}
	char *copy = strdup(buf);
	if (copy == NULL)
		pm_error_set(err, "fence", ENOMEM, "path of a descriptor");
	return copy;
}

static int add_mark(struct pm_mark **marks, size_t *n, const char *path, bool root,
		    struct pm_error *err)
{
	struct pm_mark *grown = realloc(*marks, (*n + 1) * sizeof(**marks));
	_cleanup_close_ int fd = -1;

	if (grown == NULL)
		return pm_error_set(err, "fence", ENOMEM, "`%s`", path);
	*marks = grown;
	struct pm_mark *m = &grown[*n];
	*m = (struct pm_mark){.fd = -1, .path = strdup(path)};
	if (m->path == NULL)
		return pm_error_set(err, "fence", ENOMEM, "`%s`", path);
	(*n)++;
	fd = open(path, O_PATH | O_CLOEXEC | (root ? O_DIRECTORY : 0));
	if (fd < 0 && !root && (errno == ENOENT || errno == ENOTDIR || errno == EACCES))
		return 0; /* compared by path */
	if (fd < 0) {
		pm_error_errno(err, "fence", "%s `%s`", root ? "workspace root" : "protected path",
			       path);
		return root ? pm_error_hint(err, "a workspace root must be an existing directory")
			    : pm_error_code(err);
	}
	if ((m->real = pm_fd_path(fd, err)) == NULL)
		return pm_error_code(err);
	int r = build_chain(fd, &m->chain, &m->chain_len, err);
	if (r < 0)
		return r;
	if (root)
		m->fd = TAKE_FD(fd);
	return 0;
}

int pm_fence_add_root(struct pm_fence *f, const char *path, struct pm_error *err)
{
	int r = add_mark(&f->roots, &f->n_roots, path, true, err);

	if (r == 0 && strcmp(f->roots[f->n_roots - 1].real, "/") == 0)
		return pm_error_set(err, "fence", EINVAL,
				    "workspace root `%s` is `/`, which would "
				    "expose the whole host; name narrower directories",
				    path);
	return r;
}

int pm_fence_add_guarded(struct pm_fence *f, const char *path, struct pm_error *err)
{
	return add_mark(&f->guarded, &f->n_guarded, path, false, err);
}

static void free_marks(struct pm_mark *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].path);
		free(m[i].real);
		free(m[i].chain);
		if (m[i].fd >= 0)
			close(m[i].fd);
	}
	free(m);
}

void pm_fence_free(struct pm_fence *f)
{
	free_marks(f->roots, f->n_roots);
	free_marks(f->guarded, f->n_guarded);
	f->roots = f->guarded = NULL;
	f->n_roots = f->n_guarded = 0;
}

static int outside_roots(const struct pm_fence *f, const char *what, const char *path,
			 struct pm_error *err)
{
	char roots[768] = "";

	pm_error_set(err, what, EACCES, "%s `%s` is outside the workspace roots", what, path);
	for (size_t i = 0; i < f->n_roots; i++) {
		size_t len = strlen(roots);
		snprintf(roots + len, sizeof(roots) - len, "%s`%s`", i ? ", " : "",
			 f->roots[i].path);
	}
	return pm_error_hint(err, "use a directory under %s%s%s", roots[0] ? roots : "(none)",
			     f->roots_flag ? ", or add a root with " : "",
			     f->roots_flag ? f->roots_flag : "");
}

static int guarded_overlap(const struct pm_mark *g, const char *what, const char *real,
			   bool contains, struct pm_error *err)
{
	pm_error_set(err, what, EACCES, "%s `%s` %s `%s`, which no job may reach", what, real,
		     contains ? "contains" : "lies inside", g->real ? g->real : g->path);
	return pm_error_hint(err, "the sandbox launcher, the server, their policies, the "
				  "interpreters, the state directory and keys are off limits: use "
				  "a directory that neither holds nor lies inside them");
}

int pm_fence_check_dir(const struct pm_fence *f, int fd, bool root_itself_ok, const char *what,
		       char **real_out, struct pm_error *err)
{
	_cleanup_free_ struct pm_ino *chain = NULL;
	_cleanup_free_ char *real = NULL;
	struct stat st;
	size_t n;
	int r;

	if (fstat(fd, &st) < 0)
		return pm_error_errno(err, what, "stat the %s", what);
	if (!S_ISDIR(st.st_mode))
		return pm_error_set(err, what, ENOTDIR, "the %s", what);
	if ((real = pm_fd_path(fd, err)) == NULL)
		return pm_error_wrap(err, "%s", what);
	if ((r = build_chain(fd, &chain, &n, err)) < 0)
		return pm_error_wrap(err, "%s `%s`", what, real);
	bool beneath = false;
	for (size_t i = 0; i < f->n_roots && !beneath; i++) {
		const struct pm_mark *root = &f->roots[i];
		if (root->chain_len == 0)
			continue;
		if (same(&root->chain[0], &chain[0]) && !root_itself_ok) {
			pm_error_set(err, what, EACCES, "%s `%s` is a workspace root itself", what,
				     real);
			return pm_error_hint(err, "use a directory below it: the root holds every "
						  "other job's workspace too");
		}
		beneath = in_chain(&root->chain[0], chain, n);
	}
	if (!beneath)
		return outside_roots(f, what, real, err);
	for (size_t i = 0; i < f->n_guarded; i++) {
		const struct pm_mark *g = &f->guarded[i];
		bool inside = g->chain_len > 0 && in_chain(&g->chain[0], chain, n);
		bool contains = g->chain_len > 0 && in_chain(&chain[0], g->chain, g->chain_len);
		/* And by path: a guarded path made after the fence, or made
		 * anew, has no inode here. */
		inside = inside || pm_path_within(real, g->path) ||
			 (g->real && pm_path_within(real, g->real));
		contains = contains || pm_path_within(g->path, real) ||
			   (g->real && pm_path_within(g->real, real));
		if (inside || contains)
			return guarded_overlap(g, what, real, contains && !inside, err);
	}
	if (real_out)
		*real_out = TAKE_PTR(real);
	return 0;
}

static int open_error(const char *what, const char *given, const char *root, int e,
		      struct pm_error *err)
{
	errno = e;
	pm_error_errno(err, what, "%s `%s`", what, given);
	switch (e) {
	case EXDEV:
		return pm_error_hint(err,
				     "the path leaves the workspace root `%s` through `..` or a "
				     "symlink; name the real directory below the root",
				     root);
	case ELOOP:
		return pm_error_hint(err, "too many symlinks; name the real directory");
	case EAGAIN:
		return pm_error_hint(err, "something was renamed while the path was being opened; "
					  "try again");
	case ENOSYS:
		return pm_error_hint(err, "openat2() needs Linux 5.6 or newer");
	case ENOENT:
		return pm_error_hint(err, "check the path");
	default:
		return pm_error_code(err);
	}
}

int pm_fence_open_dir(const struct pm_fence *f, const char *given, bool root_itself_ok,
		      const char *what, int *fd_out, char **real, struct pm_error *err)
{
	_cleanup_free_ char *norm = NULL;
	_cleanup_close_ int fd = -1;
	const struct pm_mark *best = NULL;
	size_t best_len = 0;
	int r;

	if (given[0] != '/')
		return pm_error_set(err, what, EINVAL, "%s `%s` must be an absolute path", what,
				    given);
	if ((norm = pm_path_lexical(given)) == NULL)
		return pm_error_set(err, what, ENOMEM, "%s", what);
	for (size_t i = 0; i < f->n_roots; i++) {
		const char *forms[] = {f->roots[i].path, f->roots[i].real};
		for (size_t k = 0; k < 2; k++) {
			_cleanup_free_ char *form = forms[k] ? pm_path_lexical(forms[k]) : NULL;
			size_t len = form ? strlen(form) : 0;
			if (form && len > best_len && f->roots[i].fd >= 0 &&
			    pm_path_within(norm, form)) {
				best = &f->roots[i];
				best_len = len;
			}
		}
	}
	if (best == NULL)
		return outside_roots(f, what, norm, err);
	const char *rest = norm + best_len;
	while (*rest == '/')
		rest++;
	fd = pm_openat2(best->fd, rest[0] ? rest : ".", O_PATH | O_DIRECTORY | O_CLOEXEC,
			RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return open_error(what, given, best->path, errno, err);
	if ((r = pm_fence_check_dir(f, fd, root_itself_ok, what, real, err)) < 0)
		return r;
	*fd_out = TAKE_FD(fd);
	return 0;
}

static const char *kind_of(mode_t m)
{
	return S_ISFIFO(m)   ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISDIR(m)  ? "a directory"
			     : "not a regular file";
}

int pm_read_file_beneath(int dirfd, const char *rel, size_t max, const char *what,
			 const char *shown, char **out, size_t *len, struct pm_error *err)
{
	_cleanup_close_ int path_fd = -1, fd = -1;
	_cleanup_free_ char *buf = NULL;
	char link[64];
	struct stat st, st2;
	size_t got = 0;

	if (out)
		*out = NULL;
	*len = 0;
	/* O_PATH first: opening a FIFO or a device for reading may block or
	 * act; an O_PATH descriptor does neither, and pins the inode that
	 * the reopen below then reads. */
	path_fd =
	    pm_openat2(dirfd, rel, O_PATH | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	if (path_fd < 0) {
		int e = errno;
		open_error(what, shown, "the workspace", e, err);
		if (e == EXDEV)
			pm_error_hint(err,
				      "`%s` leads out of its directory (an absolute symlink, or "
				      "`..`); only files inside it can be used",
				      shown);
		return pm_error_code(err);
	}
	if (fstat(path_fd, &st) < 0)
		return pm_error_errno(err, what, "stat %s `%s`", what, shown);
	if (!S_ISREG(st.st_mode)) {
		pm_error_set(err, what, EINVAL, "%s `%s` is %s", what, shown, kind_of(st.st_mode));
		return pm_error_hint(err, "name a regular file");
	}
	if (out == NULL)
		return 0;
	if ((uint64_t)st.st_size > max)
		return pm_error_set(err, what, EFBIG, "%s `%s` is larger than %zu bytes", what,
				    shown, max);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", path_fd);
	fd = open(link, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return pm_error_errno(err, what, "open %s `%s`", what, shown);
	if (fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
		return pm_error_set(err, what, ESTALE, "%s `%s` changed while it was opened", what,
				    shown);
	if ((buf = malloc(max + 1)) == NULL)
		return pm_error_set(err, what, ENOMEM, "%s `%s`", what, shown);
	for (;;) {
		ssize_t n = read(fd, buf + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pm_error_errno(err, what, "read %s `%s`", what, shown);
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max)
			return pm_error_set(err, what, EFBIG, "%s `%s` is larger than %zu bytes",
					    what, shown, max);
	}
	buf[got] = '\0';
	*out = TAKE_PTR(buf);
	*len = got;
	return 0;
}
