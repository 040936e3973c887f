/* JSON paths ("$.seccomp.syscalls[4].args[0]") and where they sit in the
 * text.  jansson keeps no positions for values, so error messages about a
 * value that parsed fine find its line again with a small scanner over the
 * raw text (json_locate.c).
 */
#ifndef SB_JSON_LOCATE_H
#define SB_JSON_LOCATE_H

#include <stdbool.h>
#include <stddef.h>

/* Deep enough for every path of the policy schema; deeper pushes are
 * counted but not stored, so the path is only shown shortened. */
#define SB_JSON_PATH_MAX 16

enum sb_json_step_kind {
	SB_JSON_STEP_KEY,
	SB_JSON_STEP_INDEX,
};

struct sb_json_step {
	enum sb_json_step_kind kind;
	const char *key; /* SB_JSON_STEP_KEY; borrowed, must outlive the path */
	size_t index;	 /* SB_JSON_STEP_INDEX */
};

struct sb_json_path {
	size_t depth;
	struct sb_json_step steps[SB_JSON_PATH_MAX];
};

/* What sb_json_locate() looks for at the end of the path. */
enum sb_json_target {
	SB_JSON_VALUE, /* the first character of the value */
	SB_JSON_KEY,   /* the key of the last step (for "unknown key" errors) */
};

void sb_json_path_init(struct sb_json_path *path);
void sb_json_path_push_key(struct sb_json_path *path, const char *key);
void sb_json_path_push_index(struct sb_json_path *path, size_t index);
void sb_json_path_pop(struct sb_json_path *path);

/* "$", "$.rlimits.nofile", "$.seccomp.syscalls[4]", `$["odd key"]`.  Keys
 * that are not plain identifiers are written as quoted JSON strings. */
void sb_json_path_format(const struct sb_json_path *path, char *buf, size_t size);

/* The 1-based line of `path` in `text` (which need not be NUL-terminated).
 * When the path cannot be followed to its end (a missing key, an index past
 * the end, malformed text) the line of the deepest value that was found is
 * returned instead, so the answer is always a line of the text (1 for an
 * empty text).  Keys are compared after decoding their escapes. */
unsigned sb_json_locate(const char *text, size_t len, const struct sb_json_path *path,
			enum sb_json_target target);

#endif
