/* What an interpreter says about itself, asked once and kept for the
 * server's life: its full version, its standard library's top-level
 * module names (sys.stdlib_module_names) and the top-level modules it
 * can import as installed (its site-packages included). */
#ifndef PYMCP_INTERP_INFO_H
#define PYMCP_INTERP_INFO_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct interp_info {
	char version[32]; /* "3.11.2" */
	json_t *stdlib;	  /* object used as a set */
	json_t *importable;
};

int interp_info_get(const char *interpreter, const struct interp_info **out, struct pm_error *err);

/* Forgets everything (at exit, for leak checkers). */
void interp_info_free_all(void);

#endif
