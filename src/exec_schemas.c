#include "exec_schemas.h"

/* Parameters every execution tool shares (TOOLS.md, "Common parameters"). */
#define COMMON_PARAMS                                                                              \
	"\"args\": {\"type\": \"array\", \"items\": {\"type\": \"string\"},"                      \
	"  \"description\": \"argv appended after the script\"},"                                  \
	"\"timeout_seconds\": {\"type\": \"integer\", \"minimum\": 0, \"default\": 300,"            \
	"  \"description\": \"Hard limit in seconds: the whole sandbox is killed and stderr ends"   \
	" with [TIMEOUT]. 0 = no limit.\"},"                                                          \
	"\"env_vars\": {\"type\": \"object\", \"additionalProperties\": {\"type\": \"string\"},"   \
	"  \"description\": \"Variables for the script; they win over env_file. The script never"  \
	" sees the server's own environment.\"},"                                                   \
	"\"env_file\": {\"type\": \"string\", \"description\": \"dotenv file (comments, export,"   \
	" quotes, \\\\n escapes in double quotes); relative to `directory`; must exist\"}," \
	"\"async_mode\": {\"type\": \"boolean\", \"default\": false, \"description\": \"Start in the" \
	" background at once and return the job id\"},"                                             \
	"\"job_label\": {\"type\": \"string\", \"description\": \"Label shown in job listings"      \
	" (default: the tool name)\"},"                                                               \
	"\"enable_streaming\": {\"type\": \"boolean\", \"default\": false, \"description\":"        \
	" \"Accepted for compatibility: output is always captured incrementally\"}"

#define SCRIPT_PARAMS                                                                              \
	"\"script_path\": {\"type\": \"string\", \"description\": \"Script to run (relative paths"  \
	" resolve against directory). Give this or script_content.\"},"                             \
	"\"script_content\": {\"type\": \"string\", \"description\": \"Python source to run. It is"  \
	" written inside the sandbox only, never into your directory.\"},"

#define DEPS_PARAMS                                                                                \
	"\"python_version\": {\"type\": \"string\", \"pattern\": \"^3\\\\.[0-9]+$\","              \
	"  \"description\": \"Interpreter minor version, e.g. 3.11 (default: the policy's" \
	" interpreter); one that is not installed is an error naming the installed ones\"},"    \
	"\"dependencies\": {\"type\": \"array\", \"items\": {\"type\": \"string\"},"               \
	"  \"description\": \"PEP 508 requirements\"},"                                             \
	"\"ignore_project_requirements\": {\"type\": \"boolean\", \"default\": true},"

const char exec_schema_run_in_dir[] =
	"{\"type\": \"object\", \"additionalProperties\": false, \"required\": [\"directory\"],"
	" \"properties\": {"
	"\"directory\": {\"type\": \"string\", \"description\": \"Working directory and the only"
	" writable tree of the script; must exist under a workspace root\"},"
	SCRIPT_PARAMS
	"\"use_uv\": {\"type\": \"boolean\", \"default\": true},"
	"\"python_version\": {\"type\": \"string\", \"pattern\": \"^3\\\\.[0-9]+$\"},"
	"\"auto_install_deps\": {\"type\": \"boolean\", \"default\": true},"
	COMMON_PARAMS "}}";

const char exec_schema_with_deps[] =
	"{\"type\": \"object\", \"additionalProperties\": false, \"properties\": {"
	SCRIPT_PARAMS DEPS_PARAMS
	"\"auto_parse_imports\": {\"type\": \"boolean\", \"default\": true},"
	COMMON_PARAMS "}}";

const char exec_schema_benchmark[] =
	"{\"type\": \"object\", \"additionalProperties\": false, \"properties\": {"
	SCRIPT_PARAMS DEPS_PARAMS
	"\"sample_interval\": {\"type\": \"number\", \"default\": 0.05, \"description\":"
	" \"Accepted for compatibility: peak memory comes from kernel accounting\"},"
	COMMON_PARAMS "}}";

const char exec_schema_run_saved[] =
	"{\"type\": \"object\", \"additionalProperties\": false, \"required\": [\"script_name\"],"
	" \"properties\": {"
	"\"script_name\": {\"type\": \"string\", \"description\": \"Name of a saved script\"},"
	"\"auto_install_deps\": {\"type\": \"boolean\", \"default\": true},"
	COMMON_PARAMS "}}";

const char exec_output_schema[] =
	"{\"type\": \"object\","
	" \"anyOf\": ["
	"  {\"required\": [\"stdout\", \"stderr\", \"exit_code\", \"execution_strategy\","
	"   \"elapsed_seconds\"]},"
	"  {\"required\": [\"job_id\", \"status\"]},"
	"  {\"required\": [\"error\"], \"description\": \"isError results: why the call"
	" failed\"}],"
	" \"properties\": {"
	"  \"stdout\": {\"type\": \"string\"}, \"stderr\": {\"type\": \"string\"},"
	"  \"exit_code\": {\"type\": \"integer\", \"description\": \"negative: killed by that signal\"},"
	"  \"execution_strategy\": {\"type\": \"string\", \"enum\": [\"uv-run\", \"system-python\","
	"   \"venv-pip\", \"venv-uv\"], \"description\": \"system-python: the interpreter alone;"
	" venv-pip, venv-uv: a cached dependency environment built by pip or uv\"},"
	"  \"environment\": {\"type\": \"object\", \"description\": \"the dependency environment"
	" used: its name, whether it was reused, what built it\"},"
	"  \"dependency_warnings\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
	"  \"elapsed_seconds\": {\"type\": \"number\"},"
	"  \"limit\": {\"type\": [\"string\", \"null\"], \"description\": \"which limit ended the"
	" run: time, memory, pids, cpu, output, cancel\"},"
	"  \"resolved_dependencies\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
	"  \"python_version_used\": {\"type\": \"string\"},"
	"  \"wall_time_seconds\": {\"type\": \"number\"}, \"cpu_time_seconds\": {\"type\": \"number\"},"
	"  \"peak_rss_mb\": {\"type\": \"number\"},"
	"  \"job_id\": {\"type\": \"string\"},"
	"  \"status\": {\"type\": \"string\", \"enum\": [\"pending\", \"running\", \"completed\","
	"   \"failed\", \"cancelled\"]},"
	"  \"message\": {\"type\": \"string\"}, \"error\": {\"type\": \"string\"},"
	"  \"result\": {\"type\": \"object\"}}}";
