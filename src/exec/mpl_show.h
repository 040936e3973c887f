/* matplotlib's show() inside the sandbox: a backend module the server
 * writes into each run's private /tmp saves every open figure into the
 * working directory as figure-<n>.png (the first free n; never over an
 * existing file), where the run's artifacts are found.  A sitecustomize
 * beside it (on PYTHONPATH) chooses that backend when matplotlib is
 * imported, in the interpreters that find it, not through MPLBACKEND:
 * a child started with -I, -E or its own PYTHONPATH keeps matplotlib's
 * default instead of failing to import ours.  A run that sets MPLBACKEND
 * keeps its own. */
#ifndef PYMCP_MPL_SHOW_H
#define PYMCP_MPL_SHOW_H

#include <jansson.h>

#define MPL_SHOW_DIR	"/tmp/.python-mcp"
#define MPL_SHOW_MODULE "python_mcp_show"

/* Adds the module and the sitecustomize to a spec's files (path:
 * content) and their folder to PYTHONPATH in its environment (name:
 * value), after the run's own. */
int mpl_show_add(json_t *files, json_t *vars);

#endif
