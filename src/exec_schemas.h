/* JSON Schemas (2020-12) of the execution tools' inputs and outputs, kept
 * as JSON text so they read like the contract in TOOLS.md. */
#ifndef PYMCP_EXEC_SCHEMAS_H
#define PYMCP_EXEC_SCHEMAS_H

extern const char exec_schema_run_in_dir[];
extern const char exec_schema_with_deps[];
extern const char exec_schema_benchmark[];
extern const char exec_schema_run_saved[];

/* Validates both shapes a smart-async tool answers with: the tool's own
 * result, or job metadata when it went to the background.  The official
 * TypeScript client checks structuredContent against it. */
extern const char exec_output_schema[];

#endif
