/* Strict checking of a tool call's "arguments", shared by every tool.
 *
 * Each helper reads one member of the arguments object.  An absent member
 * or a JSON null counts as not given (clients of the original server send
 * null for optional parameters): the default applies, or, when required,
 * the call fails.  A value of the wrong type or out of range fails.  On
 * failure err's message names the argument and what was expected, ready
 * for mcp_call_fail(call, "%s", err.message), and the return is -EINVAL.
 * Returned strings and arrays are borrowed from args. */
#ifndef PYMCP_ARGS_H
#define PYMCP_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* args must be an object whose keys are all among names (NULL-ended). */
int args_check_known(json_t *args, const char *const *names, struct pm_error *err);

/* *out is NULL when an optional string is not given. */
int args_string(json_t *args, const char *name, bool required, const char **out,
		struct pm_error *err);

/* A string that must be one of values (NULL-ended); *index is its
 * position, or -1 when an optional one is not given. */
int args_enum(json_t *args, const char *name, const char *const *values, bool required, int *index,
	      struct pm_error *err);

int args_bool(json_t *args, const char *name, bool def, bool *out, struct pm_error *err);

/* An integer in [min, max].  A JSON number with a fractional part is
 * refused; 5.0 is accepted as 5. */
int args_int(json_t *args, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out,
	     struct pm_error *err);

/* Any finite number in [min, max]. */
int args_number(json_t *args, const char *name, double min, double max, double def, double *out,
		struct pm_error *err);

/* An array of strings; *out is NULL when not given. */
int args_string_array(json_t *args, const char *name, bool required, json_t **out,
		      struct pm_error *err);

/* An object whose values are all strings (env_vars); *out is NULL when
 * not given. */
int args_string_map(json_t *args, const char *name, bool required, json_t **out,
		    struct pm_error *err);

#endif
