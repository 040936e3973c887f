#include "client_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"

/* `path` taken from cwd when relative, without empty and `.` parts. */
static char *absolute(const char *cwd, const char *path)
{
	_cleanup_free_ char *joined = NULL;

	if (path[0] != '/' && asprintf(&joined, "%s/%s", cwd, path) < 0)
		return NULL;
	return pm_path_lexical(joined ? joined : path);
}

/* The directory part of an absolute lexical path, in place. */
static void cut_to_dir(char *abs)
{
	char *slash = strrchr(abs, '/');

	if (slash == abs)
		slash[1] = '\0';
	else
		*slash = '\0';
}

/* A tenant works in `<root>/<tenant>` of each workspace root, made on
 * first use (the roots are the admin's; the name is checked safe). */
static void make_tenant_dirs(const struct pm_fence *fence, const char *tenant)
{
	for (size_t i = 0; i < fence->n_roots; i++)
		if (fence->roots[i].fd >= 0)
			(void)mkdirat(fence->roots[i].fd, tenant, 0700);
}

/* The kernel's own path of what was opened (`real`) must lie in one of
 * the tenant's folders: a link that led elsewhere beneath a root fails
 * here, however it was spelled. */
static int tenant_owns(const struct pm_fence *fence, const char *tenant, const char *real,
		       const char *what, const char *given, struct pm_error *err)
{
	char mine[PATH_MAX];

	if (tenant == NULL)
		return 0;
	for (size_t i = 0; i < fence->n_roots; i++) {
		if (fence->roots[i].real == NULL)
			continue;
		snprintf(mine, sizeof(mine), "%s/%s", fence->roots[i].real, tenant);
		if (!pm_path_within(real, mine))
			continue;
		/* The folder must be the server's own and closed to others: one
		 * made first by someone else (a shared /tmp) is not the
		 * tenant's. */
		struct stat st;
		if (fence->roots[i].fd >= 0 &&
		    fstatat(fence->roots[i].fd, tenant, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 022) == 0)
			return 0;
		pm_error_set(err, what, EACCES,
			     "your workspace folder `%s` is not this server's own (it must belong "
			     "to the server's user and be writable by it alone)",
			     mine);
		return pm_error_hint(err, "ask the admin to remove or chown it; roots like /tmp "
					  "that others can write are no place for tenants");
	}
	pm_error_set(err, what, EACCES, "%s `%s` is not in your workspaces", what, given);
	return pm_error_hint(err,
			     "with authorization, your directories are below `%s/%s` (one "
			     "per workspace root)",
			     fence->n_roots ? fence->roots[0].path : "ROOT", tenant);
}

int client_open_workspace(const struct pm_fence *fence, const char *cwd, const char *directory,
			  const char *script_path, const char *tenant, struct client_place *out,
			  struct pm_error *err)
{
	const char *given = directory ? directory : script_path;
	int r;

	*out = (struct client_place){.fd = -1};
	if (given == NULL)
		return 0;
	if ((out->given = absolute(cwd, given)) == NULL)
		return pm_error_set(err, "path", ENOMEM, "%s", given);
	/* A script given by path runs where it lives. */
	if (directory == NULL) {
		if ((out->script = strdup(strrchr(out->given, '/') + 1)) == NULL)
			return pm_error_set(err, "path", ENOMEM, "%s", given);
		cut_to_dir(out->given);
	}
	if (tenant)
		make_tenant_dirs(fence, tenant);
	r = pm_fence_open_dir(fence, out->given, true,
			      directory ? "directory" : "the directory of script_path", &out->fd,
			      &out->real, err);
	if (r == 0)
		r = tenant_owns(fence, tenant, out->real,
				directory ? "directory" : "the directory of script_path", given,
				err);
	if (r < 0)
		client_place_free(out);
	return r;
}

/* rel (malloc'd) when `abs` lies in the workspace, by the name the client
 * gave it or by its canonical one; NULL otherwise. */
static char *relative_to(const struct client_place *ws, const char *abs)
{
	const char *forms[] = {ws->given, ws->real};

	for (size_t i = 0; ws->fd >= 0 && i < 2; i++) {
		size_t n = strlen(forms[i]);
		if (!pm_path_within(abs, forms[i]))
			continue;
		const char *rest = abs + (n == 1 ? 0 : n);
		while (*rest == '/')
			rest++;
		return strdup(rest[0] ? rest : ".");
	}
	return NULL;
}

int client_read_file(const struct pm_fence *fence, const struct client_place *ws, const char *given,
		     const char *what, bool outside_ok, const char *tenant, size_t max, char **text,
		     size_t *len, char **inside, struct pm_error *err)
{
	_cleanup_free_ char *abs = NULL, *rel = NULL, *dir = NULL, *real = NULL;
	_cleanup_close_ int dfd = -1;
	int r;

	if (inside)
		*inside = NULL;
	if (given[0] != '/' && ws->fd < 0) {
		pm_error_set(err, what, EINVAL,
			     "%s `%s` is relative, but the run has no directory "
			     "to take it from",
			     what, given);
		return pm_error_hint(err, "give an absolute path, or `directory`");
	}
	if (given[0] != '/') {
		_cleanup_free_ char *lex = NULL;
		if (asprintf(&lex, "/%s", given) < 0 || (rel = pm_path_lexical(lex)) == NULL)
			return pm_error_set(err, what, ENOMEM, "%s", what);
		memmove(rel, rel + 1, strlen(rel));
		if (rel[0] == '\0')
			rel[0] = '.', rel[1] = '\0';
	} else {
		if ((abs = pm_path_lexical(given)) == NULL)
			return pm_error_set(err, what, ENOMEM, "%s", what);
		rel = relative_to(ws, abs);
	}
	if (rel != NULL) {
		r = pm_read_file_beneath(ws->fd, rel, max, what, given, text, len, err);
		if (r == 0 && inside && asprintf(inside, "%s/%s", ws->real, rel) < 0) {
			*inside = NULL;
			if (text) {
				free(*text);
				*text = NULL;
			}
			return pm_error_set(err, what, ENOMEM, "%s", what);
		}
		return r;
	}
	if (!outside_ok) {
		pm_error_set(err, what, EACCES, "%s `%s` is not inside directory `%s`", what, given,
			     ws->fd >= 0 ? ws->given : "(none)");
		return pm_error_hint(err,
				     "only `directory` is visible in the sandbox; move the file "
				     "there or pass its text as script_content");
	}
	/* Elsewhere: its directory passes the fence as a workspace would. */
	if ((dir = strdup(abs)) == NULL)
		return pm_error_set(err, what, ENOMEM, "%s", what);
	cut_to_dir(dir);
	if ((r = pm_fence_open_dir(fence, dir, true, what, &dfd, &real, err)) < 0 ||
	    (r = tenant_owns(fence, tenant, real, what, given, err)) < 0)
		return r;
	return pm_read_file_beneath(dfd, abs + strlen(dir) + (strcmp(dir, "/") != 0), max, what,
				    given, text, len, err);
}

void client_place_free(struct client_place *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p->real);
	free(p->given);
	free(p->script);
	*p = (struct client_place){.fd = -1};
}
