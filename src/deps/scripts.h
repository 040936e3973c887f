/* Saved scripts: files in the scripts folder (<state>/scripts by default),
 * with an optional PEP 723 header ("# /// script" ... "# ///") carrying
 * dependencies and requires-python. */
#ifndef PYMCP_SCRIPTS_H
#define PYMCP_SCRIPTS_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

/* "name.py" from a client's script_name: path parts dropped, ".py" added
 * when missing.  Refuses names that would be empty, hidden or special. */
int scripts_file_name(const char *script_name, char **out, struct pm_error *err);

/* The PEP 723 block for `dependencies` (array of strings, may be NULL) and
 * `requires_python` (may be NULL), or NULL when both are empty. */
char *scripts_header(json_t *dependencies, const char *requires_python);

/* 0 when `spec` (may be NULL) is a plain version specifier. */
int scripts_check_requires_python(const char *spec, struct pm_error *err);

/* Whether `source` already starts with (or contains) a PEP 723 block. */
bool scripts_has_header(const char *source);

/* The module docstring, at most `max` characters, or "" (malloc'd). */
char *scripts_docstring(const char *source, size_t max);

/* Writes `dir`/`name` (atomically: temp file and rename), refusing to
 * replace an existing file unless `overwrite`.  Returns 1 when written,
 * 0 when it existed and was kept. */
int scripts_write(const char *dir, const char *name, const char *source, bool overwrite,
		  struct pm_error *err);

/* Whether a folder entry is a saved script: "*.py", not hidden. */
bool scripts_is_script_name(const char *name);

/* Whether `dir`/`name` exists (as anything). */
bool scripts_exists(const char *dir, const char *name);

/* The number of saved scripts (.py files) in `dir`; 0 when it is missing. */
size_t scripts_count(const char *dir);

/* Reads a script of at most 4 MiB (malloc'd, NUL-terminated). */
int scripts_read(const char *path, char **out, struct pm_error *err);

/* The largest script read (a saved one, or script_path for its imports). */
#define SCRIPTS_MAX_BYTES (4 << 20)

#endif
