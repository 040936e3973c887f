/* A policy and the bases it extends (private to policy*.c).
 *
 * A policy may name a base with "extends" (a name of a shipped policy such
 * as "default", or a path, relative to the extending file) and set only
 * what it changes.  The chain is read file by file, each file checked for
 * its version and its "extends", and merged from the base up into one
 * document that the schema then reads as if it were one file:
 *   - objects merge key by key;
 *   - any other value, arrays included, replaces the base's;
 *   - `null` removes the key, which then takes its default;
 *   - a key `name+` appends its array to the base's array `name`.
 * Every value of the merged document remembers which file and which path
 * in that file it came from, so that an error about it names that file's
 * line, as for a policy of one file.
 */
#ifndef SB_POLICY_CHAIN_H
#define SB_POLICY_CHAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "json_locate.h"

/* Files in one chain, the policy itself included: deep enough for any
 * sensible layering, shallow enough that a loop is caught early. */
#define SB_POLICY_CHAIN_MAX 8

struct sb_policy_file {
	char *name; /* as the policy was named, or the base's resolved path */
	char *text; /* raw text, for line numbers */
	size_t len;
	json_t *root;
	bool has_id; /* dev and ino known (not for a policy given as text) */
	dev_t dev;
	ino_t ino;
};

struct sb_policy_chain {
	struct sb_policy_file files[SB_POLICY_CHAIN_MAX]; /* [0] the policy, then its bases */
	size_t n;
	json_t *merged;	 /* what the schema reads */
	json_t *origins; /* merged path -> [file index, steps of the path in that file...] */
};

/* Reads `file` (or, with text != NULL, takes text/len as the file called
 * `file`) and the chain of its bases, and merges them.  Errors name the
 * file, line and path as the schema's do.  Free with
 * sb_policy_chain_free() on success and failure alike. */
int sb_policy_chain_load(const char *file, const char *text, size_t len,
			 struct sb_policy_chain *chain, struct pm_error *err);
void sb_policy_chain_free(struct sb_policy_chain *chain);

/* Where the merged value at `path` came from: the index of its file and
 * its path there (keys borrowed from the chain and from `path`). */
size_t sb_policy_chain_locate(const struct sb_policy_chain *chain, const struct sb_json_path *path,
			      struct sb_json_path *in_file);

#endif
