/* The server's parts put together: state directory, job table, runner
 * (prepared sandbox launchers), smart async and the tools, and their
 * orderly stop.  main.c only reads options and runs the loop. */
#ifndef PYMCP_APP_H
#define PYMCP_APP_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "error.h"
#include "mcp.h"

struct app_config {
	const char *state_dir;		    /* NULL: ~/.python_mcp */
	const char *policy;		    /* NULL: found next to the binary */
	const char *install_policy;	    /* NULL: install.json next to the run policy */
	unsigned max_envs;		    /* dependency environments kept */
	double install_timeout;		    /* seconds per dependency install */
	const char *launcher;		    /* NULL: found next to the binary */
	const char *const *workspace_roots; /* NULL: the working directory and $TMPDIR or /tmp */
	size_t n_workspace_roots;
	bool log_file_given;	       /* else <state>/logs/server.log */
	unsigned max_jobs;	       /* concurrent jobs (others wait as pending) */
	unsigned prepared;	       /* sandbox launchers kept ready */
	double smart_timeout;	       /* seconds; SMART_ASYNC_TIMEOUT_SECONDS */
	size_t inline_output_bytes;    /* per stream, returned inline */
	size_t disk_output_bytes;      /* per stream, kept on disk */
	uint64_t max_state_bytes;      /* output of all jobs kept on disk */
	unsigned max_pending;	       /* jobs waiting for a slot */
	size_t max_stored_jobs;	       /* jobs kept; the oldest finished ones go first */
	size_t max_scripts;	       /* saved scripts kept; saving more is refused */
	size_t tenant_max_jobs;	       /* pending and running jobs of one tenant */
	size_t tenant_max_stored_jobs; /* jobs kept of one tenant */
	uint64_t artifact_max_bytes;   /* files of a run kept with its job */
	size_t image_max_bytes;	       /* images shown as image content up to this */
	unsigned max_images;	       /* image blocks per result */
	size_t max_sessions;	       /* live sessions of all tenants */
	size_t tenant_max_sessions;    /* live sessions of one tenant */
	bool conformance_fixtures;     /* also serve the conformance suite's test_* tools */
};

struct app;

int app_start(uv_loop_t *loop, struct mcp_server *server, const struct app_config *cfg,
	      struct app **out, struct pm_error *err);

/* Ends every job's sandbox (those jobs are recorded failed), writes
 * jobs.json, then calls done; the loop ends once it has closed its
 * handles. */
void app_stop(struct app *a, void (*done)(void *data), void *data);

/* SIGHUP: both policies read again and snapshot; on success new runs
 * and installs use them (idle launchers of the old run policy are
 * retired, runs under way keep theirs) and agents see the new limits,
 * with `what` saying which files are in force.  On failure the old
 * policies stay in force and err says which step failed on which file,
 * with the launcher's message. */
int app_reload_policies(struct app *a, char *what, size_t size, struct pm_error *err);

/* /readyz: the launcher pool has a sandbox up (or none is to be kept
 * ready), the state directory is writable, the policy loaded; else false
 * with why.  data is the app. */
bool app_ready(void *data, char *why, size_t size);
/* /metrics: jobs by status, the queue, the launchers (gauges). */
void app_gauges(void *data, FILE *out);

#endif
