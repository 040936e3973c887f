/* Dependency environments: one per (interpreter, requirement set), built
 * once under <state>/envs and reused.
 *
 * An environment is built in a temporary directory by an install task
 * (its own sandbox, the install policy, writes only into that directory)
 * and renamed into place with its manifest once complete, so a half-built
 * one is never used.  Requests for a set being built wait for that build.
 * Scripts see an environment read-only at ENVS_TARGET.  Beyond max_envs
 * the least recently used ones not in use are removed. */
#ifndef PYMCP_ENVS_H
#define PYMCP_ENVS_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

#include "error.h"
#include "runner.h"

/* Where an environment appears inside a sandbox, for the install and for
 * the runs: the same path, so what pip writes (script shebangs) holds. */
#define ENVS_TARGET "/opt/python-mcp/env"

struct envs_config {
	uv_loop_t *loop; /* removals run on its thread pool */
	const char *dir; /* <state>/envs */
	const char *install_policy;
	const char *uv;		      /* uv's path, or NULL when not installed */
	unsigned max_envs;	      /* least recently used ones go beyond this */
	double install_timeout;	      /* seconds per install */
	char *const *protected_paths; /* the server's: never shown to an install */
	size_t n_protected;
};

struct env_request {
	const char *interpreter; /* "/usr/bin/python3.11" */
	json_t *set;		 /* sorted normalized requirements (borrowed) */
	bool use_uv;		 /* install with uv when it is installed */
	bool guess;		 /* the set holds detected imports: a failed
				    install is remembered for ENVS_GUESS_RETRY
				    seconds instead of paid again on every run */
};

#define ENVS_GUESS_RETRY 600

/* An environment a job uses; it stays in use until envs_release(). */
struct env_ref {
	char name[64];	     /* directory name below the envs dir */
	char path[PATH_MAX]; /* host path */
	char installer[8];   /* "pip" or "uv": what built it */
	bool reused;	     /* it existed before the request */
};

struct envs;
struct envs_wait;

/* Called once the environment is ready (ref, in use) or cannot be built
 * (error: what failed, naming the packages, with the installer's reason). */
typedef void (*envs_done_fn)(void *data, const struct env_ref *ref, const char *error);

int envs_new(struct runner *runner, const struct envs_config *cfg, struct envs **out,
	     struct pm_error *err);
void envs_free(struct envs *e);

/* Installs started from now on run under `policy` (copied); those under
 * way keep theirs. */
int envs_set_install_policy(struct envs *e, const char *policy, struct pm_error *err);

/* 1: ready now (ref filled and in use); 0: being built, `done` comes
 * later and *wait may be cancelled until then; < 0: err set. */
int envs_acquire(struct envs *e, const struct env_request *req, envs_done_fn done, void *data,
		 struct envs_wait **wait, struct env_ref *ref, struct pm_error *err);

/* The waiter leaves (its job ended first); `done` will not be called.
 * A build nobody waits for any more is cancelled. */
void envs_cancel_wait(struct envs *e, struct envs_wait *w);

void envs_release(struct envs *e, const char *name);

/* Removes environments not used for max_age_seconds and not in use, and
 * leftovers of interrupted builds (the server holds the state directory,
 * see app.c); *removed counts the environments. */
int envs_prune(struct envs *e, double max_age_seconds, unsigned *removed, struct pm_error *err);

#endif
