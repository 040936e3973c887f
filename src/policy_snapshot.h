/* Snapshots of the server's policies.  Launchers never read an admin's
 * policy file (which may be half edited when one starts): the server
 * reads it at start and on SIGHUP only, through
 * `python-mcp-sandbox --print-effective-policy FILE` (its bases merged,
 * every default written out), writes that into its state directory
 * atomically, under a name from its content, checks the copy with
 * `--check-policy` as a launcher would load it, and hands launchers the
 * copy. */
#ifndef PYMCP_POLICY_SNAPSHOT_H
#define PYMCP_POLICY_SNAPSHOT_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct policy_snapshot {
	char *path;	   /* <dir>/<kind>-<16 hex digits of its SHA-256>.json */
	json_t *effective; /* its content */
};

struct policy_source {
	const char *launcher; /* python-mcp-sandbox */
	const char *self;     /* the server's binary, for --protect */
	const char *dir;      /* where snapshots are written (made 0755) */
};

/* Takes a snapshot of the policy in `file` ("run", "install": kind).
 * Errors name the step (err->stage: "effective policy", "snapshot",
 * "policy check"), the file, and what the launcher said. */
int policy_snapshot_take(const struct policy_source *src, const char *file, const char *kind,
			 struct policy_snapshot *out, struct pm_error *err);

void policy_snapshot_clear(struct policy_snapshot *s);

/* Runs `launcher --check-policy file --protect self` (as root, that also
 * refuses files the scripts' ids could change); the launcher's message
 * in err when it refuses. */
int policy_check(const struct policy_source *src, const char *file, struct pm_error *err);

/* Removes the snapshots of src->dir that keep(path, data) does not
 * want; returns how many went. */
unsigned policy_snapshot_prune(const struct policy_source *src,
			       bool (*keep)(const char *path, void *data), void *data);

#endif
