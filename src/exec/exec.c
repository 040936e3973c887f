#include "exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "env_name.h"
#include "random.h"
#include "dotenv.h"
#include "env_build.h"
#include "envs.h"
#include "exec_deps.h"
#include "log.h"
#include "mpl_show.h"
#include "client_path.h"
#include "paths.h"
#include "scripts.h"
#include "wire.h"
#include "smart.h"

/* What the finish and cleanup hooks need about one execution. */
struct exec_job {
	const struct exec_env *env;
	enum exec_kind kind;
	struct job *job;
	char *python;	      /* the interpreter's path */
	char *python_version; /* "3.11" */
	bool use_uv;
	json_t *explicit_set;	/* the given dependencies, normalized */
	json_t *set;		/* what the environment holds: those and the
				   detected imports; empty = no environment */
	json_t *spec;		/* the runner's, borrowed while the job is held */
	struct envs_wait *wait; /* while its environment is being built */
	struct env_ref env_ref;
	bool has_env;	  /* env_ref is in use */
	json_t *warnings; /* detected dependencies that could not be installed */
	exec_shape_fn shape;
	void *shape_data;
	double timeout_seconds;
	int ws_fd;		 /* the workspace, for its artifacts; -1: a scratch one */
	struct timespec started; /* artifacts_clock() before the run */
};

static json_t *build_env(const struct exec_env *env, const struct exec_request *req,
			 const struct client_place *ws, struct pm_error *err)
{
	json_t *vars = json_object();
	const char *k;
	json_t *v;

	if (req->env_file) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (client_read_file(env->fence, ws, req->env_file, "env_file", true, req->tenant,
				     DOTENV_MAX_BYTES, &text, &len, NULL, err) < 0 ||
		    dotenv_parse(text, len, req->env_file, vars, err) < 0) {
			json_decref(vars);
			return NULL;
		}
	}
	json_object_foreach (req->env_vars, k, v) {
		bool name_ok = pm_env_name_ok(k, strlen(k));
		if (!name_ok || !json_is_string(v)) {
			pm_error_set(err, "env_vars", 0, "env_vars `%s`: %s", k,
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

/* The tool that started the run shapes its result from what happened. */
static json_t *finish(struct job *j, const struct run_outcome *o, void *data)
{
	struct exec_job *x = data;
	_cleanup_free_ char *note = NULL;
	/* A directory's, or the scratch tmpfs the runner held for us. */
	int ws = x->ws_fd >= 0 ? x->ws_fd : o->scratch_fd;
	_cleanup_json_ json_t *files = ws >= 0 && x->env->artifacts.max_bytes > 0
					   ? artifacts_collect(x->env->jobs, j, ws, x->started,
							       &x->env->artifacts, NULL, &note)
					   : NULL;
	const struct exec_outcome eo = {.kind = x->kind,
					.job = j,
					.run = o,
					.env = x->has_env ? &x->env_ref : NULL,
					.resolved = x->has_env ? x->set : NULL,
					.warnings = x->warnings,
					.python_version = x->python_version,
					.timeout_seconds = x->timeout_seconds,
					.files = files,
					.files_note = note,
					.shape_data = x->shape_data};

	return x->shape ? x->shape(&eo) : NULL;
}

/* Lets go of the environment and frees what the hooks held. */
static void exec_job_free(struct exec_job *x)
{
	if (x->wait)
		envs_cancel_wait(x->env->envs, x->wait);
	if (x->has_env)
		envs_release(x->env->envs, x->env_ref.name);
	if (x->ws_fd >= 0)
		close(x->ws_fd);
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
			  struct pm_error *err)
{
	json_t *argv = json_pack("[s, s]", python, script), *v;
	size_t i;

	json_array_foreach (args, i, v) {
		if (!json_is_string(v)) {
			pm_error_set(err, "args", EINVAL, "args[%zu] must be a string", i);
			json_decref(argv);
			return NULL;
		}
		json_array_append(argv, v);
	}
	return argv;
}

/* Everything up to the spec; errors leave nothing behind.  *ws_fd is
 * the workspace the launcher will get (or -1 for a scratch one). */
static json_t *prepare(const struct exec_env *env, const struct exec_request *req,
		       struct exec_job *x, int *ws_fd, struct pm_error *err)
{
	_cleanup_(client_place_free) struct client_place ws = {.fd = -1};
	_cleanup_free_ char *script = NULL, *text = NULL;
	const char *source = req->script_content;
	char python[64], used[32], name[320], hex[17];
	json_t *files = NULL, *argv, *vars, *spec;
	size_t len;

	*ws_fd = -1;
	if (exec_deps_interpreter(req->python_version, req->requires_python, python, sizeof(python),
				  used, sizeof(used), err) < 0 ||
	    client_open_workspace(env->fence, env->cwd, req->directory, req->script_path,
				  req->tenant, &ws, err) < 0)
		return NULL;
	if (req->script_content) {
		int r = pm_random_hex(hex, 8);
		if (r < 0) {
			pm_error_set(err, "exec", -r, "getrandom");
			return NULL;
		}
		if (req->content_name)
			snprintf(name, sizeof(name), "/tmp/%s", req->content_name);
		else
			snprintf(name, sizeof(name), "/tmp/inline_%s.py", hex);
		script = strdup(name);
	} else if (client_read_file(env->fence, &ws, ws.script ? ws.script : req->script_path,
				    "script_path", false, req->tenant, SCRIPTS_MAX_BYTES,
				    req->detect_imports ? &text : NULL, &len, &script, err) < 0) {
		return NULL;
	} else {
		source = text;
	}
	if (script == NULL) {
		pm_error_set(err, "exec", ENOMEM, "script");
		return NULL;
	}
	if (exec_deps_resolve(req, python, source, ws.fd, &x->explicit_set, &x->set, err) < 0)
		return NULL;
	/* With dependencies, the environment's interpreter runs the script. */
	if ((argv = build_argv(json_array_size(x->set) ? ENVS_TARGET "/bin/python" : python, script,
			       req->args, err)) == NULL)
		return NULL;
	if ((vars = build_env(env, req, &ws, err)) == NULL) {
		json_decref(argv);
		return NULL;
	}
	spec = json_pack("{s:o, s:o, s:f}", WIRE_SPEC_ARGV, argv, WIRE_SPEC_ENV, vars,
			 WIRE_SPEC_TIMEOUT, req->timeout_seconds);
	/* The directory the server opened and checked travels as a
	 * descriptor; without one the job gets a fresh tmpfs. */
	if (ws.fd >= 0) {
		json_object_set_new(spec, WIRE_SPEC_WORKSPACE, json_string(ws.real));
		json_object_set_new(spec, WIRE_SPEC_WORKSPACE_FD, json_true());
	} else {
		json_object_set_new(spec, WIRE_SPEC_SCRATCH, json_true());
	}
	if ((files = json_object()) == NULL || mpl_show_add(files, vars) < 0 ||
	    (req->script_content &&
	     json_object_set_new(files, name, json_string(req->script_content)) < 0)) {
		json_decref(files);
		json_decref(spec);
		pm_error_set(err, "exec", ENOMEM, "job spec");
		return NULL;
	}
	json_object_set_new(spec, WIRE_SPEC_FILES, files);
	x->python_version = strdup(used);
	x->python = strdup(python);
	if (req->resolved)
		*req->resolved =
		    json_pack("{s:s, s:O, s:s*}", "python_version", used, "dependencies", x->set,
			      "directory", ws.fd >= 0 ? ws.real : NULL);
	/* The launcher takes the workspace; the server keeps one of its own
	 * to find what the run left there. */
	if (ws.fd >= 0 && env->artifacts.max_bytes > 0)
		x->ws_fd = fcntl(ws.fd, F_DUPFD_CLOEXEC, 3);
	if (req->keep_ws_fd)
		*req->keep_ws_fd = ws.fd >= 0 ? fcntl(ws.fd, F_DUPFD_CLOEXEC, 3) : -1;
	*ws_fd = TAKE_FD(ws.fd);
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
		json_object_set_new(
		    x->spec, WIRE_SPEC_BINDS,
		    json_pack("[{s:s, s:s}]", "source", ref->path, "target", ENVS_TARGET));
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
								"installed: %s",
								error));
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
	struct env_request req = {.interpreter = x->python,
				  .set = x->set,
				  .use_uv = x->use_uv,
				  .guess =
				      json_array_size(x->set) > json_array_size(x->explicit_set)};
	/* The job outlives x (the table owns it); x may be gone once
	 * envs_acquire() returns 0: an install that cannot even start ends
	 * the job at once. */
	struct jobs *jobs = x->env->jobs;
	struct job *j = x->job;
	struct pm_error err = {0};
	struct env_ref ref;
	char names[512], msg[PM_ERROR_MESSAGE_MAX + PM_ERROR_HINT_MAX + 16];

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
		pm_error_wrap(&err, "preparing the environment for %s", names);
		pm_error_format(&err, msg, sizeof(msg));
		on_env(x, NULL, msg);
	}
}

/* One tenant cannot fill the queue: its pending and running jobs are
 * capped (the one tenant of stdio is not). */
static int tenant_admit(const struct exec_env *env, const struct exec_request *req,
			struct pm_error *err)
{
	size_t stored, live;

	if (req->tenant == NULL || env->tenant_max_live == 0)
		return 0;
	jobs_count_tenant(env->jobs, req->tenant, &stored, &live);
	if (live < env->tenant_max_live)
		return 0;
	pm_error_set(err, "jobs", EAGAIN,
		     "%zu of your jobs are pending or running, the most one tenant may have "
		     "at once (--tenant-max-jobs)",
		     live);
	return pm_error_hint(err, "wait for one to end (py_job_status), or cancel one with "
				  "py_cancel_job");
}

int exec_start(const struct exec_env *env, const struct exec_request *req, struct job **out,
	       struct pm_error *err)
{
	struct exec_job *x = calloc(1, sizeof(*x));
	json_t *spec = NULL;
	struct job *j = NULL;
	int r, ws_fd = -1;

	*out = NULL;
	if (x == NULL)
		return pm_error_set(err, "exec", ENOMEM, "start a run");
	x->env = env;
	x->ws_fd = -1;
	x->started = artifacts_clock();
	x->kind = req->kind;
	x->use_uv = req->use_uv;
	x->shape = req->shape;
	x->shape_data = req->shape_data;
	x->timeout_seconds = req->timeout_seconds;
	/* A full queue refuses before anything is opened or created. */
	if ((r = tenant_admit(env, req, err)) < 0 || (r = runner_admit(env->runner, err)) < 0 ||
	    (spec = prepare(env, req, x, &ws_fd, err)) == NULL ||
	    (j = jobs_create(env->jobs, req->tool, req->label ? req->label : req->tool, req->tenant,
			     err)) == NULL) {
		json_decref(spec);
		if (ws_fd >= 0)
			close(ws_fd);
		exec_job_free(x);
		return r < 0 ? r : pm_error_code(err);
	}
	x->job = j;
	x->spec = spec;
	bool needs_env = json_array_size(x->set) > 0;
	r = needs_env
		? runner_submit_held(env->runner, j, spec, ws_fd, req->io, finish, cleanup, x, err)
		: runner_submit(env->runner, j, spec, ws_fd, req->io, finish, cleanup, x, err);
	if (r < 0) {
		/* The runner ended the job failed; it holds nothing of ours. */
		exec_job_free(x);
		return r;
	}
	/* From here x may be freed at any moment (the job may end at once):
	 * only j is used. */
	if (needs_env)
		acquire_env(x);
	*out = j;
	return 0;
}
