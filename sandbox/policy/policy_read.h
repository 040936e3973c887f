/* Typed reading of policy values with precise errors (private to policy*.c).
 *
 * A reader walks the parsed document and keeps the JSON path of the value it
 * is looking at; every failure is reported as
 *   policy `FILE` line N, at $.some.path: <what is wrong>
 * with the line found again in the raw text (json_locate.h).  Member readers
 * take the parent object and a key, push the key while they work and pop it
 * before returning, so on failure the error already names the full path.
 */
#ifndef SB_POLICY_READ_H
#define SB_POLICY_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "json_locate.h"

/* Returns from the calling function on failure.  The reader's path is left
 * as it was at the failure, which is fine: the error text is already made. */
#define SB_TRY(expr)                                                                               \
	do {                                                                                       \
		int _sb_rc = (expr);                                                               \
		if (_sb_rc < 0)                                                                    \
			return _sb_rc;                                                             \
	} while (0)

struct sb_policy_chain;

struct sb_reader {
	const char *text; /* the raw policy text, for line numbers */
	size_t len;
	const char *file; /* as given by the caller, for messages */
	const char *top;  /* when `file` is a base: the policy that extends it */
	/* When set, the document read is the chain's merge: an error's line
	 * and path are those of the file the value came from. */
	const struct sb_policy_chain *chain;
	struct pm_error *err;
	struct sb_json_path path; /* path of the value being read */
};

/* Fills r->err at the current path (stage "policy", errnum 0) and returns
 * -EINVAL.  `target` picks the line: the value's, or the key's for errors
 * about the key itself. */
int sb_rd_fail(struct sb_reader *r, enum sb_json_target target, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Out of memory while reading `r->file`. */
int sb_rd_oom(struct sb_reader *r);

/* Copies a user string for a message: at most about 80 bytes, control
 * characters and backquotes replaced, so a message stays one line. */
const char *sb_rd_quote(const char *s, char *buf, size_t size);

/* "expected <what>, got <type of v>" at the current path. */
int sb_rd_type_error(struct sb_reader *r, const json_t *v, const char *what);

/* Checks that v is an object whose keys are all in `allowed` (a NULL
 * terminated list).  An unknown key is reported at its own line, with the
 * allowed keys (and the closest one) as a hint. */
int sb_rd_object(struct sb_reader *r, const json_t *v, const char *const *allowed);

/* The member `key` of obj, or an error naming it as missing. */
int sb_rd_require(struct sb_reader *r, const json_t *obj, const char *key, json_t **out);

/* Values at the current path. */
int sb_rd_int_value(struct sb_reader *r, const json_t *v, int64_t min, int64_t max, int64_t *out);
int sb_rd_string_value(struct sb_reader *r, const json_t *v, const char **out);
/* An absolute path without `.`/`..` components, repeated or trailing
 * slashes; `allow_root` says whether "/" itself is acceptable. */
int sb_rd_path_value(struct sb_reader *r, const json_t *v, bool allow_root, char **out);

/* Members: an absent member leaves the default.  `nullable` members accept
 * null as SB_UNSET. */
int sb_rd_bool(struct sb_reader *r, const json_t *obj, const char *key, bool def, bool *out);
int sb_rd_int(struct sb_reader *r, const json_t *obj, const char *key, int64_t min, int64_t max,
	      int64_t def, bool nullable, int64_t *out);
int sb_rd_number(struct sb_reader *r, const json_t *obj, const char *key, double min, double max,
		 double def, double *out);
/* A borrowed string (owned by the document); NULL when absent. */
int sb_rd_string(struct sb_reader *r, const json_t *obj, const char *key, const char **out);
/* An array of paths (see sb_rd_path_value), duplicates refused.  The array
 * and its strings are allocated; free with sb_rd_free_strv(). */
int sb_rd_path_list(struct sb_reader *r, const json_t *obj, const char *key, bool allow_root,
		    char ***out, size_t *n);

void sb_rd_free_strv(char **v, size_t n);

/* "version" of root, which must be 1; read before anything else, so a
 * newer file fails on its version, not on the first key it does not know. */
int sb_policy_read_version(struct sb_reader *r, const json_t *root);

/* Sections read in their own files; each reads `root`'s member of its
 * name into p.  policy.c calls them in order. */
struct sb_policy;
int sb_policy_read_workspace(struct sb_reader *r, const json_t *root, struct sb_policy *p);
int sb_policy_read_mounts(struct sb_reader *r, const json_t *root, struct sb_policy *p);
/* "etc" (policy_etc.c), after "mounts": appended to p->mounts. */
int sb_policy_read_etc(struct sb_reader *r, const json_t *root, struct sb_policy *p);
/* Fails at the current path when the host path `path` is, lies in or
 * holds a secret of /etc (policy_etc.c lists them). */
int sb_rd_refuse_secret(struct sb_reader *r, const char *path);
int sb_policy_read_environment(struct sb_reader *r, const json_t *root, struct sb_policy *p);
/* After sb_policy_read_mounts: checks the mounts against the mode. */
int sb_policy_read_network(struct sb_reader *r, const json_t *root, struct sb_policy *p);

/* The "seccomp" section (policy_seccomp.c): a Docker/OCI profile at the
 * current path, checked and parsed once (seccomp_profile.h), so that every
 * name the compiler (seccomp.c) meets is one it knows. */
struct sb_scmp_profile;
int sb_policy_read_seccomp(struct sb_reader *r, const json_t *profile,
			   struct sb_scmp_profile **out);

#endif
