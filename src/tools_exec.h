/* The execution tools of TOOLS.md (py_run_script_in_dir,
 * py_run_script_with_dependencies, py_benchmark_script,
 * py_run_saved_script) and the saved-script tools (py_save_script,
 * py_list_scripts), registered on the protocol layer. */
#ifndef PYMCP_TOOLS_EXEC_H
#define PYMCP_TOOLS_EXEC_H

#include "error.h"
#include "exec.h"
#include "mcp.h"

struct tools_exec_config {
	struct exec_env env;        /* copied */
	const char *scripts_dir;    /* the saved scripts folder */
};

int tools_exec_register(struct mcp_server *s, const struct tools_exec_config *cfg,
			struct sb_error *err);

/* Frees what registration allocated (after the protocol layer stopped). */
void tools_exec_free(void);

#endif
