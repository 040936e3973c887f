/* dotenv files for the env_file argument: KEY=VALUE lines, `export`
 * prefixes, # comments (whole lines, or after an unquoted value and a
 * space), single quotes taken literally, double quotes with \n \t \r \"
 * \\ and \$ escapes.  A line that is none of these is an error naming the
 * file and line: silently dropping a variable would be worse. */
#ifndef PYMCP_DOTENV_H
#define PYMCP_DOTENV_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* Adds every variable of `text` to `env` (an object of strings); later
 * lines win.  `name` stands for the file in messages. */
int dotenv_parse(const char *text, size_t len, const char *name, json_t *env, struct pm_error *err);

/* The largest env_file read. */
#define DOTENV_MAX_BYTES (1 << 20)

#endif
