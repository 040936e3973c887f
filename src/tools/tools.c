#include "tools_internal.h"

#include <stdlib.h>

const struct tool_decl *const tools_catalog[] = {
    &tool_run_script_in_dir,
    &tool_run_with_dependencies,
    &tool_benchmark_script,
    &tool_save_script,
    &tool_run_saved_script,
    &tool_list_scripts,
    &tool_job_status,
    &tool_list_jobs,
    &tool_cancel_job,
    &tool_prune_jobs,
    &tool_session_start,
    &tool_session_run,
    &tool_session_list,
    &tool_session_close,
    NULL,
};

bool tools_serve_fixtures(const struct tools *t)
{
	return t->cfg.fixtures;
}

struct tools *tools_new(const struct tools_config *cfg)
{
	struct tools *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	LIST_INIT(&t->waits);
	t->cfg = *cfg;
	if (t->cfg.inline_output_bytes == 0)
		t->cfg.inline_output_bytes = TOOLS_INLINE_DEFAULT;
	if (t->cfg.resource_output_bytes == 0)
		t->cfg.resource_output_bytes = TOOLS_RESOURCE_DEFAULT;
	return t;
}

void tools_free(struct tools *t)
{
	if (t == NULL)
		return;
	tools_cancel_orphan(t);
	tools_policies_free(t);
	free(t);
}
