/* Import detection for auto_parse_imports and auto_install_deps: the
 * third-party distributions a script needs, from its import statements. */
#ifndef PYMCP_IMPORTS_H
#define PYMCP_IMPORTS_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* Appends to `modules` (a sorted array of distinct strings) the
 * top-level module of every absolute import in `source`: `import a.b,
 * c as d` gives a and c, `from a.b import c` gives a; relative imports
 * are skipped.  A line scanner, not a parser: it follows backslash
 * continuations, `;`, comments and triple-quoted strings, which is what
 * real scripts need; imports built at run time (importlib) are not
 * seen. */
void imports_scan(const char *source, size_t len, json_t *modules);

/* The distribution that provides `module` where the two names differ
 * (yaml -> PyYAML, PIL -> Pillow, ...), else the module's own name. */
const char *imports_distribution(const char *module);

/* The requirements a script needs beyond what `interpreter` has: its
 * standard library (asked of the interpreter itself,
 * sys.stdlib_module_names), what its site-packages already provide, and
 * the modules that exist in the directory local_dirfd (-1 = none).  Appended to `set`
 * (a sorted requirement set, see requirements.h). */
int imports_requirements(const char *interpreter, const char *source, size_t len, int local_dirfd,
			 json_t *set, struct pm_error *err);

#endif
