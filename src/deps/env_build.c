#include "env_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "envs.h"
#include "index_env.h"
#include "loopback.h"
#include "paths.h"
#include "wire.h"

static int make_dir(const char *root, const char *sub, struct pm_error *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	return pm_mkdir(path, 0755, "environment", err);
}

static int make_link(const char *root, const char *name, const char *to, struct pm_error *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (symlink(to, path) < 0)
		return pm_error_errno(err, "environment", "create `%s`", path);
	return 0;
}

int env_build_skeleton(const char *dir, const char *interpreter, const char *full_version,
		       struct pm_error *err)
{
	char lib[64], minor_name[64], home[PATH_MAX], cfg_path[PATH_MAX];
	int major = 0, minor = 0, r;

	if (sscanf(full_version, "%d.%d", &major, &minor) != 2)
		return pm_error_set(err, "environment", EINVAL, "interpreter version `%s`",
				    full_version);
	snprintf(lib, sizeof(lib), "lib/python%d.%d", major, minor);
	snprintf(minor_name, sizeof(minor_name), "bin/python%d.%d", major, minor);
	snprintf(home, sizeof(home), "%s", interpreter);
	*strrchr(home, '/') = '\0';
	if ((r = make_dir(dir, "bin", err)) < 0 || (r = make_dir(dir, "lib", err)) < 0 ||
	    (r = make_dir(dir, lib, err)) < 0)
		return r;
	snprintf(cfg_path, sizeof(cfg_path), "%s/site-packages", lib);
	if ((r = make_dir(dir, cfg_path, err)) < 0 ||
	    (r = make_link(dir, "lib64", "lib", err)) < 0 ||
	    (r = make_link(dir, "bin/python", interpreter, err)) < 0 ||
	    (r = make_link(dir, "bin/python3", "python", err)) < 0 ||
	    (r = make_link(dir, minor_name, "python", err)) < 0)
		return r;
	snprintf(cfg_path, sizeof(cfg_path), "%s/pyvenv.cfg", dir);
	_cleanup_fclose_ FILE *f = fopen(cfg_path, "wxe");
	if (f == NULL)
		return pm_error_errno(err, "environment", "create `%s`", cfg_path);
	fprintf(f,
		"home = %s\ninclude-system-site-packages = true\nversion = %s\n"
		"executable = %s\n",
		home[0] ? home : "/", full_version, interpreter);
	if (fflush(f) != 0 || ferror(f))
		return pm_error_errno(err, "environment", "write `%s`", cfg_path);
	return 0;
}

struct local_indexes {
	json_t *binds;
	char *const *protected;
	size_t n_protected;
};

/* A directory named by an index variable (a plain path or a file://
 * URL), shown read-only where it is on the host. */
static void add_local_index(char *location, void *data)
{
	struct local_indexes *li = data;
	char real[PATH_MAX];
	struct stat st;
	size_t i;
	json_t *b;

	if (strncmp(location, "file://", 7) == 0)
		location += 7;
	if (location[0] != '/' || realpath(location, real) == NULL || stat(real, &st) < 0)
		return;
	/* A file (a single wheel) is shown through its directory. */
	if (!S_ISDIR(st.st_mode) && strrchr(real, '/') != real)
		*strrchr(real, '/') = '\0';
	/* Below /usr it is in the install sandbox already; what the server
	 * keeps from every job (its state, keys in $HOME) is never shown to
	 * a networked install. */
	bool seen = pm_path_within(real, "/usr") || strcmp(real, "/") == 0;
	for (size_t k = 0; k < li->n_protected; k++)
		seen = seen || pm_path_overlaps(real, li->protected[k]);
	json_array_foreach (li->binds, i, b)
		seen = seen || strcmp(json_string_value(json_object_get(b, "source")), real) == 0;
	/* One bind is kept for uv. */
	if (!seen && json_array_size(li->binds) < 7)
		json_array_append_new(li->binds,
				      json_pack("{s:s, s:s}", "source", real, "target", real));
}

json_t *env_build_spec(const char *dir, json_t *set, const struct env_build_config *cfg)
{
	const char *uv = cfg->uv;
	double timeout = cfg->timeout;
	json_t *argv, *binds = json_array(), *env, *v;
	size_t i;

	struct local_indexes li = {binds, cfg->protected_paths, cfg->n_protected};
	index_env_foreach(INDEX_ENV_INDEXES, add_local_index, &li);
	/* pip comes from the interpreter: the environment needs no pip of
	 * its own. */
	env = json_pack("{s:s}", "HOME", "/tmp");
	if (uv != NULL) {
		char uv_dir[PATH_MAX], uv_inside[PATH_MAX];
		snprintf(uv_dir, sizeof(uv_dir), "%s", uv);
		*strrchr(uv_dir, '/') = '\0';
		/* Below /usr it is in the sandbox already; elsewhere its
		 * directory is shown read-only (see app.c: never `/`). */
		if (strncmp(uv, "/usr/", 5) == 0) {
			snprintf(uv_inside, sizeof(uv_inside), "%s", uv);
		} else {
			snprintf(uv_inside, sizeof(uv_inside), "/opt/python-mcp/uv%s",
				 strrchr(uv, '/'));
			json_array_append_new(binds, json_pack("{s:s, s:s}", "source", uv_dir,
							       "target", "/opt/python-mcp/uv"));
		}
		/* The environment is read-only when scripts run: compile now. */
		argv = json_pack("[s, s, s, s, s, s]", uv_inside, "pip", "install", "--python",
				 ENVS_TARGET "/bin/python", "--compile-bytecode");
		json_object_set_new(env, "UV_LINK_MODE", json_string("copy"));
		json_object_set_new(env, "UV_PYTHON_DOWNLOADS", json_string("never"));
	} else {
		/* The environment's own interpreter runs the interpreter's pip
		 * (its site-packages are visible, see pyvenv.cfg) and so
		 * installs into the environment: one pip start-up, where
		 * `pip --python` would pay two. */
		argv = json_pack("[s, s, s, s, s, s, s, s, s]", ENVS_TARGET "/bin/python", "-m",
				 "pip", "install", "--no-input", "--disable-pip-version-check",
				 "--no-warn-script-location", "--progress-bar", "off");
		/* Requirements never start with `-` (requirements.c); this says
		 * so to pip as well. */
		json_array_append_new(argv, json_string("--"));
	}
	json_array_foreach (set, i, v)
		json_array_append(argv, v);
	/* The admin's indexes and proxies on this machine's loopback: the
	 * install sandbox's network reaches those ports of the host's
	 * loopback and no other. */
	int ports[16];
	size_t n_ports = loopback_admin_ports(ports, sizeof(ports) / sizeof(*ports));
	json_t *loopback = json_array();
	for (size_t k = 0; k < n_ports; k++)
		json_array_append_new(loopback, json_integer(ports[k]));
	return json_pack("{s:s, s:s, s:o, s:o, s:f, s:[], s:o, s:o}", WIRE_SPEC_WORKSPACE, dir,
			 WIRE_SPEC_WORKSPACE_TARGET, ENVS_TARGET, WIRE_SPEC_ARGV, argv,
			 WIRE_SPEC_ENV, env, WIRE_SPEC_TIMEOUT, timeout, WIRE_SPEC_PROTECT,
			 WIRE_SPEC_BINDS, binds, WIRE_SPEC_LOOPBACK_PORTS, loopback);
}

void env_build_names(json_t *set, char *out, size_t size)
{
	size_t i;
	json_t *v;

	out[0] = '\0';
	json_array_foreach (set, i, v) {
		size_t at = strlen(out);
		snprintf(out + at, size - at, "%s`%s`", i ? ", " : "", json_string_value(v));
	}
}

void env_build_error(const char *output, size_t len, json_t *set, const char *installer,
		     const struct run_outcome *o, char *msg, size_t size)
{
	char names[512], reason[1024] = "";
	size_t n = 0;

	env_build_names(set, names, sizeof(names));
	if (!o->ran) {
		snprintf(msg, size, "installing %s: the install sandbox did not start: %s", names,
			 o->error);
		return;
	}
	if (o->limit != NULL) {
		snprintf(msg, size, "installing %s with %s was stopped by its %s limit", names,
			 installer, o->limit);
		return;
	}
	/* pip and uv say why in their "ERROR:" / "error:" lines; else the
	 * last lines say most. */
	for (const char *p = output, *end = output + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((eol ? eol : end) - p);
		if ((l >= 6 && (strncmp(p, "ERROR:", 6) == 0 || strncmp(p, "error:", 6) == 0)) ||
		    (l >= 8 && strncmp(p, "  Caused", 8) == 0))
			n += (size_t)snprintf(reason + n,
					      n < sizeof(reason) ? sizeof(reason) - n : 0, "%s%.*s",
					      n ? "\n" : "", (int)l, p);
		if (n >= sizeof(reason))
			break;
		p = eol ? eol + 1 : end;
	}
	if (n == 0) {
		const char *tail = len > 600 ? output + len - 600 : output;
		snprintf(reason, sizeof(reason), "%.*s", (int)(output + len - tail), tail);
	}
	snprintf(msg, size, "installing %s with %s failed (exit code %d): %s", names, installer,
		 o->signal ? -o->signal : o->exit_code, reason);
}
