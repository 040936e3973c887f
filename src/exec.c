#include "exec.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "dotenv.h"
#include "env_build.h"
#include "envs.h"
#include "exec_deps.h"
#include "log.h"
#include "paths.h"
#include "remove_tree.h"
#include "smart.h"

/* What the finish and cleanup hooks need about one execution. */
struct exec_job {
	const struct exec_env *env;
	enum exec_kind kind;
	struct job *job;
	char *scratch;          /* scratch workspace removed at the end, or NULL */
	char *python;           /* the interpreter's path */
	char *python_version;   /* "3.11" */
	bool use_uv;
	json_t *explicit_set;   /* the given dependencies, normalized */
	json_t *set;            /* what the environment holds: those and the
				   detected imports; empty = no environment */
	json_t *spec;           /* the runner's, borrowed while the job is held */
	struct envs_wait *wait; /* while its environment is being built */
	struct env_ref env_ref;
	bool has_env;           /* env_ref is in use */
	json_t *warnings;       /* detected dependencies that could not be installed */
};

int exec_resolve_in_roots(const struct exec_env *env, const char *base, const char *path,
			  const char *what, char **out, struct sb_error *err)
{
	_cleanup_free_ char *joined = NULL, *real = NULL;

	if (path[0] != '/' && base != NULL) {
		if (asprintf(&joined, "%s/%s", base, path) < 0)
			return sb_error_set(err, what, ENOMEM, "%s", what);
		path = joined;
	}
	real = realpath(path, NULL);
	if (real == NULL) {
		sb_error_errno(err, what, "%s `%s`", what, path);
		if (errno != ENOENT)
			return sb_error_code(err);
		return base ? sb_error_hint(err, "check the path; relative paths are taken from "
						 "`%s`", base)
			    : sb_error_hint(err, "check the path; give an absolute one");
	}
	for (size_t i = 0; i < env->n_protected; i++) {
		if (!sb_path_overlaps(real, env->protected_paths[i]))
			continue;
		const char *p = env->protected_paths[i];
		sb_error_set(err, what, 0, "%s `%s` overlaps %s `%s`, which no job may see", what,
			     real,
			     strcmp(p, env->state_dir) == 0 ? "the server's state directory"
			     : strcmp(p, env->scratch_dir) == 0 ? "the server's scratch directory"
								 : "the credentials folder",
			     p);
		return sb_error_hint(err, "the server's state and scratch directories and the "
					  "keys in your home directory are off limits; use another "
					  "directory");
	}
	for (size_t i = 0; i < env->n_workspace_roots; i++) {
		if (sb_path_within(real, env->workspace_roots[i])) {
			*out = TAKE_PTR(real);
			return 0;
		}
	}
	sb_error_set(err, what, 0, "%s `%s` is outside the workspace roots", what, real);
	char roots[1024] = "";
	for (size_t i = 0; i < env->n_workspace_roots; i++) {
		size_t n = strlen(roots);
		snprintf(roots + n, sizeof(roots) - n, "%s`%s`", i ? ", " : "",
			 env->workspace_roots[i]);
	}
	return sb_error_hint(err, "use a path under %s (the server's --workspace-root)", roots);
}

static int random_hex(char *out, size_t bytes)
{
	unsigned char b[16];

	if (bytes > sizeof(b) || getrandom(b, bytes, 0) != (ssize_t)bytes)
		return -1;
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	return 0;
}

static json_t *build_env(const struct exec_env *env, const struct exec_request *req,
			 const char *directory, struct sb_error *err)
{
	json_t *vars = json_object();
	const char *k;
	json_t *v;

	if (req->env_file) {
		_cleanup_free_ char *path = NULL;
		if (exec_resolve_in_roots(env, directory, req->env_file, "env_file", &path, err) < 0 ||
		    dotenv_load(path, vars, err) < 0) {
			json_decref(vars);
			return NULL;
		}
	}
	json_object_foreach(req->env_vars, k, v) {
		bool name_ok = k[0] != '\0' && !(k[0] >= '0' && k[0] <= '9');
		for (const char *c = k; *c && name_ok; c++)
			name_ok = *c == '_' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
				  (*c >= '0' && *c <= '9');
		if (!name_ok || !json_is_string(v)) {
			sb_error_set(err, "env_vars", 0, "env_vars `%s`: %s", k,
				     name_ok ? "the value must be a string"
					     : "names hold letters, digits and _, and do not "
					       "start with a digit");
			json_decref(vars);
			return NULL;
		}
		json_object_set(vars, k, v);
	}
	return vars;
}

/* The script's output for the result, cut at the inline cap with a
 * marker that says how much is left and where to read it. */
static json_t *inline_output(const struct exec_env *env, const struct job *j, enum job_stream s,
			     bool timeout)
{
	struct job_read rd = {0};
	struct sb_error err = {0};
	char marker[256] = "";
	json_t *out;

	if (jobs_read(env->jobs, j, s, 0, env->inline_output_bytes, &rd, &err) < 0) {
		log_msg(LOG_LEVEL_ERROR, "job %s: %s", j->id, err.message);
		return json_string(timeout ? "[TIMEOUT]" : "");
	}
	/* Bytes the script wrote beyond what is shown: on disk past the cap,
	 * and past the disk cap, only counted. */
	uint64_t rest = j->produced[s] > rd.consumed ? j->produced[s] - rd.consumed : 0;
	if (rest > 0)
		snprintf(marker, sizeof(marker),
			 "\n[... %llu more bytes not shown; read them with py_job_status or "
			 "the resource job-stream://%s]",
			 (unsigned long long)rest, j->id);
	/* Byte-wise: the text may hold NUL bytes. */
	const char *tail = timeout ? "\n[TIMEOUT]" : "";
	size_t ml = strlen(marker), tl = strlen(tail);
	char *buf = malloc(rd.len + ml + tl + 1);
	if (buf != NULL) {
		memcpy(buf, rd.text ? rd.text : "", rd.len);
		memcpy(buf + rd.len, marker, ml);
		memcpy(buf + rd.len + ml, tail, tl + 1);
		out = json_stringn(buf, rd.len + ml + tl);
		free(buf);
	} else {
		out = NULL;
	}
	job_read_release(&rd);
	return out ? out : json_string("");
}

static void finish(struct job *j, const struct run_outcome *o, void *data)
{
	struct exec_job *x = data;
	const struct exec_env *env = x->env;
	json_t *r;

	if (!o->ran) {
		jobs_set_status(env->jobs, j, JOB_FAILED, NULL, o->error);
		return;
	}
	bool timeout = o->limit && strcmp(o->limit, "time") == 0;
	const char *strategy = !x->has_env ? "system-python"
			       : strcmp(x->env_ref.installer, "uv") == 0 ? "venv-uv" : "venv-pip";
	r = json_pack("{s:o, s:o, s:i, s:s, s:f}", "stdout", inline_output(env, j, JOB_STDOUT, false),
		      "stderr", inline_output(env, j, JOB_STDERR, timeout), "exit_code",
		      o->signal ? -o->signal : o->exit_code, "execution_strategy", strategy,
		      "elapsed_seconds", o->wall_seconds);
	json_object_set_new(r, "limit", o->limit ? json_string(o->limit) : json_null());
	if (x->has_env)
		json_object_set_new(r, "environment",
				    json_pack("{s:s, s:b, s:s}", "name", x->env_ref.name, "reused",
					      x->env_ref.reused, "installer", x->env_ref.installer));
	if (json_array_size(x->warnings) > 0)
		json_object_set(r, "dependency_warnings", x->warnings);
	if (x->kind != EXEC_RUN) {
		json_object_set_new(r, "resolved_dependencies",
				    x->has_env ? json_incref(x->set) : json_array());
		json_object_set_new(r, "python_version_used", json_string(x->python_version));
	}
	if (x->kind == EXEC_BENCHMARK) {
		json_object_set_new(r, "wall_time_seconds", json_real(o->wall_seconds));
		json_object_set_new(r, "cpu_time_seconds",
				    json_real(o->cpu_user_seconds + o->cpu_system_seconds));
		json_object_set_new(r, "peak_rss_mb", json_real((double)o->peak_rss_bytes / 1048576.0));
	}
	jobs_set_status(env->jobs, j, JOB_COMPLETED, r, NULL);
}

/* Removes the scratch workspace, lets go of the environment and frees
 * what the hooks held. */
static void exec_job_free(struct exec_job *x)
{
	if (x->wait)
		envs_cancel_wait(x->env->envs, x->wait);
	if (x->has_env)
		envs_release(x->env->envs, x->env_ref.name);
	if (x->scratch)
		remove_tree_async(x->env->loop, x->scratch);
	free(x->scratch);
	free(x->python);
	free(x->python_version);
	json_decref(x->explicit_set);
	json_decref(x->set);
	json_decref(x->warnings);
	free(x);
}

static void cleanup(struct job *j, void *data)
{
	struct exec_job *x = data;

	smart_job_ended(x->env->smart, j);
	exec_job_free(x);
}

static json_t *build_argv(const char *python, const char *script, json_t *args,
			  struct sb_error *err)
{
	json_t *argv = json_pack("[s, s]", python, script), *v;
	size_t i;

	json_array_foreach(args, i, v) {
		if (!json_is_string(v)) {
			sb_error_set(err, "args", EINVAL, "args[%zu] must be a string", i);
			json_decref(argv);
			return NULL;
		}
		json_array_append(argv, v);
	}
	return argv;
}

/* Everything up to the spec; errors leave nothing behind. */
static json_t *prepare(const struct exec_env *env, const struct exec_request *req,
		       struct exec_job *x, struct sb_error *err)
{
	_cleanup_free_ char *dir = NULL, *script = NULL;
	char python[64], used[32], name[320], hex[17];
	json_t *files = NULL, *argv, *vars, *spec;

	if (exec_deps_interpreter(req->python_version, req->requires_python, python,
				  sizeof(python), used, sizeof(used), err) < 0)
		return NULL;
	if (req->directory) {
		if (exec_resolve_in_roots(env, NULL, req->directory, "directory", &dir, err) < 0)
			return NULL;
	} else if (req->script_path) {
		/* A script given by path runs where it lives. */
		if (exec_resolve_in_roots(env, NULL, req->script_path, "script_path", &script, err) < 0)
			return NULL;
		dir = strndup(script, (size_t)(strrchr(script, '/') - script));
		if (dir && dir[0] == '\0') {
			free(dir);
			dir = strdup("/");
		}
	} else {
		char tmpl[PATH_MAX];
		snprintf(tmpl, sizeof(tmpl), "%s/job-XXXXXX", env->scratch_dir);
		if (mkdir(env->scratch_dir, 0700) < 0 && errno != EEXIST) {
			sb_error_errno(err, "scratch", "create `%s`", env->scratch_dir);
			return NULL;
		}
		if (mkdtemp(tmpl) == NULL) {
			sb_error_errno(err, "scratch", "create a scratch directory in `%s`",
				       env->scratch_dir);
			return NULL;
		}
		dir = strdup(tmpl);
		x->scratch = strdup(tmpl);
	}
	if (dir == NULL) {
		sb_error_set(err, "exec", ENOMEM, "directory");
		return NULL;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		sb_error_set(err, "directory", 0, "directory `%s` is not a directory", dir);
		return NULL;
	}
	if (req->script_content) {
		if (random_hex(hex, 8) < 0) {
			sb_error_errno(err, "exec", "getrandom");
			return NULL;
		}
		if (req->content_name)
			snprintf(name, sizeof(name), "/tmp/%s", req->content_name);
		else
			snprintf(name, sizeof(name), "/tmp/inline_%s.py", hex);
		files = json_pack("{s:s}", name, req->script_content);
		script = strdup(name);
	} else if (script == NULL) {
		if (exec_resolve_in_roots(env, dir, req->script_path, "script_path", &script, err) < 0)
			return NULL;
	}
	if (!sb_path_within(script, dir) && files == NULL) {
		sb_error_set(err, "script_path", 0, "script_path `%s` is not inside directory `%s`",
			     script, dir);
		sb_error_hint(err, "only `directory` is visible in the sandbox; move the script there "
				   "or pass its text as script_content");
		return NULL;
	}
	if (exec_deps_resolve(req, python, files ? NULL : script, x->scratch ? NULL : dir,
			      &x->explicit_set, &x->set, err) < 0) {
		json_decref(files);
		return NULL;
	}
	/* With dependencies, the environment's interpreter runs the script. */
	if ((argv = build_argv(json_array_size(x->set) ? ENVS_TARGET "/bin/python" : python, script,
			       req->args, err)) == NULL) {
		json_decref(files);
		return NULL;
	}
	if ((vars = build_env(env, req, dir, err)) == NULL) {
		json_decref(files);
		json_decref(argv);
		return NULL;
	}
	spec = json_pack("{s:s, s:o, s:o, s:f}", "workspace", dir, "argv", argv, "env", vars,
			 "timeout", req->timeout_seconds);
	if (files)
		json_object_set_new(spec, "files", files);
	x->python_version = strdup(used);
	x->python = strdup(python);
	return spec;
}

static void acquire_env(struct exec_job *x);

/* The environment is ready (ref) or could not be built (error). */
static void on_env(void *data, const struct env_ref *ref, const char *error)
{
	struct exec_job *x = data;
	struct runner *runner = x->env->runner;

	x->wait = NULL;
	if (ref != NULL) {
		x->env_ref = *ref;
		x->has_env = true;
		json_object_set_new(x->spec, "binds", json_pack("[{s:s, s:s}]", "source", ref->path,
								"target", ENVS_TARGET));
		if (x->job->progress != NULL)
			jobs_set_progress(x->env->jobs, x->job, 1, 1, "dependencies installed");
		runner_release(runner, x->job, NULL);
		return;
	}
	/* Detected imports are a guess (an optional import, a module of the
	 * script's own elsewhere): when they cannot be installed, the script
	 * runs with what was asked for explicitly, and the result says why. */
	if (json_array_size(x->set) > json_array_size(x->explicit_set)) {
		if (x->warnings == NULL)
			x->warnings = json_array();
		json_array_append_new(x->warnings, json_sprintf("detected imports were not "
								"installed: %s", error));
		json_decref(x->set);
		x->set = json_incref(x->explicit_set);
		if (json_array_size(x->set) == 0) {
			if (x->job->progress != NULL)
				jobs_set_progress(x->env->jobs, x->job, 1, 1,
						  "detected imports not installed: see "
						  "dependency_warnings");
			json_array_set_new(json_object_get(x->spec, "argv"), 0,
					   json_string(x->python));
			runner_release(runner, x->job, NULL);
			return;
		}
		acquire_env(x);
		return;
	}
	runner_release(runner, x->job, error);
}

/* May end the job (and free x) before it returns. */
static void acquire_env(struct exec_job *x)
{
	struct env_request req = {
	    .interpreter = x->python, .set = x->set, .use_uv = x->use_uv,
	    .guess = json_array_size(x->set) > json_array_size(x->explicit_set)};
	/* The job outlives x (the table owns it); x may be gone once
	 * envs_acquire() returns 0: an install that cannot even start ends
	 * the job at once. */
	struct jobs *jobs = x->env->jobs;
	struct job *j = x->job;
	struct sb_error err = {0};
	struct env_ref ref;
	char names[512], msg[SB_ERROR_MESSAGE_MAX + SB_ERROR_HINT_MAX + 16];

	env_build_names(x->set, names, sizeof(names));
	int r = envs_acquire(x->env->envs, &req, on_env, x, &x->wait, &ref, &err);
	if (r == 1) {
		on_env(x, &ref, NULL);
	} else if (r == 0 && !job_status_is_final(j->status)) {
		/* Pending while its environment is built: py_job_status says why. */
		snprintf(msg, sizeof(msg), "installing dependencies: %s", names);
		jobs_set_progress(jobs, j, 0, 1, msg);
	} else if (r < 0) {
		x->wait = NULL;
		sb_error_wrap(&err, "preparing the environment for %s", names);
		sb_error_format(&err, msg, sizeof(msg));
		on_env(x, NULL, msg);
	}
}

void exec_start(const struct exec_env *env, struct mcp_call *call, const struct exec_request *req)
{
	struct exec_job *x = calloc(1, sizeof(*x));
	struct sb_error err = {0};
	char msg[SB_ERROR_MESSAGE_MAX + SB_ERROR_HINT_MAX + 16];
	json_t *spec;
	struct job *j;
	int r;

	if (x == NULL) {
		mcp_call_fail(call, "out of memory");
		return;
	}
	x->env = env;
	x->kind = req->kind;
	x->use_uv = req->use_uv;
	spec = prepare(env, req, x, &err);
	j = spec ? jobs_create(env->jobs, req->tool, req->label ? req->label : req->tool, &err)
		 : NULL;
	x->job = j;
	x->spec = spec;
	bool needs_env = spec && json_array_size(x->set) > 0;
	if (j != NULL)
		r = needs_env ? runner_submit_held(env->runner, j, spec, finish, cleanup, x, &err)
			      : runner_submit(env->runner, j, spec, finish, cleanup, x, &err);
	if (j == NULL || r < 0) {
		if (j == NULL)
			json_decref(spec);
		if (j != NULL)
			jobs_set_status(env->jobs, j, JOB_FAILED, NULL, err.message);
		exec_job_free(x);
		sb_error_format(&err, msg, sizeof(msg));
		mcp_call_fail(call, "%s", msg);
		return;
	}
	/* From here x may be freed at any moment (the job may end at once):
	 * only j is used. */
	if (needs_env)
		acquire_env(x);
	if (req->async_mode) {
		mcp_call_reply_new(call, json_pack("{s:s, s:s}", "job_id", j->id, "status",
						   job_status_name(j->status)),
				   false);
		return;
	}
	smart_wait(env->smart, call, j);
}
