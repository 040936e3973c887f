/* The standard library's top-level module names, asked once of each
 * interpreter (sys.stdlib_module_names) and kept for the server's life. */
#ifndef PYMCP_STDLIB_MODULES_H
#define PYMCP_STDLIB_MODULES_H

#include <stdbool.h>

#include "error.h"

int stdlib_modules_contains(const char *interpreter, const char *module, bool *out,
			    struct sb_error *err);

/* Forgets every list (at exit, for leak checkers). */
void stdlib_modules_free(void);

#endif
