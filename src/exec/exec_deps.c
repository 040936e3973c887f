#include "exec_deps.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "imports.h"
#include "interp_info.h"
#include "pyver.h"
#include "requirements.h"
#include "scripts.h"

/* The installed python3.X, newest first, as "3.X" strings. */
static size_t installed(char list[][16], size_t max)
{
	_cleanup_(closedir_p) DIR *d = opendir("/usr/bin");
	struct dirent *e;
	size_t n = 0;

	while (d && n < max && (e = readdir(d)) != NULL) {
		const char *v = e->d_name + 6;
		if (strncmp(e->d_name, "python3.", 8) == 0 &&
		    strspn(v + 2, "0123456789") == strlen(v + 2) && v[2] != '\0')
			snprintf(list[n++], 16, "%s", v);
	}
	/* By minor, descending. */
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && atoi(list[k - 1] + 2) < atoi(list[k] + 2); k--) {
			char t[16];
			memcpy(t, list[k], 16);
			memcpy(list[k], list[k - 1], 16);
			memcpy(list[k - 1], t, 16);
		}
	return n;
}

static int not_installed(struct pm_error *err)
{
	char list[32][16], text[256] = "";
	size_t n = installed(list, 32);

	for (size_t i = 0; i < n; i++) {
		size_t at = strlen(text);
		snprintf(text + at, sizeof(text) - at, "%s%s", i ? ", " : "", list[i]);
	}
	return pm_error_hint(err, "installed: %s", n ? text : "none found in /usr/bin");
}

static int satisfies(const char *path, const char *requires_python, bool *ok, struct pm_error *err)
{
	const struct interp_info *info;
	int r;

	*ok = true;
	if (requires_python == NULL)
		return 0;
	if ((r = interp_info_get(path, &info, err)) < 0)
		return r;
	return pyver_satisfies(requires_python, info->version, ok, err);
}

int exec_deps_interpreter(const char *version, const char *requires_python, char *cmd, size_t size,
			  char *used, size_t used_size, struct pm_error *err)
{
	char target[PATH_MAX];
	bool ok;
	int r;

	if (version != NULL) {
		if (strspn(version, "0123456789.") != strlen(version) ||
		    strncmp(version, "3.", 2) != 0 || strlen(version) > 8 ||
		    strchr(version + 2, '.'))
			return pm_error_set(err, "python_version", EINVAL,
					    "python_version `%s` is "
					    "not of the form 3.X",
					    version);
		snprintf(cmd, size, "/usr/bin/python%s", version);
		if (access(cmd, X_OK) < 0) {
			pm_error_set(err, "python_version", ENOENT, "Python %s is not installed",
				     version);
			return not_installed(err);
		}
		if ((r = satisfies(cmd, requires_python, &ok, err)) < 0)
			return r;
		if (!ok) {
			pm_error_set(err, "python_version", EINVAL,
				     "python_version %s does not "
				     "satisfy the script's requires-python `%s`",
				     version, requires_python);
			return not_installed(err);
		}
		snprintf(used, used_size, "%s", version);
		return 0;
	}
	/* The default: the system's python3 (absolute, so that the sandbox's
	 * PATH, which env_vars may change, does not decide). */
	ssize_t n = readlink("/usr/bin/python3", target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	snprintf(cmd, size, "/usr/bin/python3");
	snprintf(used, used_size, "%s", strncmp(target, "python", 6) == 0 ? target + 6 : "3");
	if ((r = satisfies(cmd, requires_python, &ok, err)) < 0 || ok)
		return r;
	char list[32][16];
	size_t count = installed(list, 32);
	for (size_t i = 0; i < count; i++) {
		snprintf(cmd, size, "/usr/bin/python%s", list[i]);
		if ((r = satisfies(cmd, requires_python, &ok, err)) < 0)
			return r;
		if (ok) {
			snprintf(used, used_size, "%s", list[i]);
			return 0;
		}
	}
	pm_error_set(err, "requires_python", ENOENT,
		     "no installed Python satisfies "
		     "requires-python `%s`",
		     requires_python);
	return not_installed(err);
}

int exec_deps_resolve(const struct exec_request *req, const char *python, const char *source,
		      int dirfd, json_t **explicit_new, json_t **full_new, struct pm_error *err)
{
	*full_new = NULL;
	if ((*explicit_new = req_set_new(req->dependencies, err)) == NULL)
		return pm_error_code(err);
	if ((*full_new = json_deep_copy(*explicit_new)) == NULL)
		return pm_error_set(err, "dependencies", ENOMEM, "dependencies");
	if (!req->detect_imports || source == NULL)
		return 0;
	return imports_requirements(python, source, strlen(source), dirfd, *full_new, err);
}
