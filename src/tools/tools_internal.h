/* What the tool files share (tools.c, run_tools.c, script_tools.c,
 * job_tools.c, cancel_tool.c, fixture_tools.c, ...); nothing outside src/tools includes this. */
#ifndef PYMCP_TOOLS_INTERNAL_H
#define PYMCP_TOOLS_INTERNAL_H

#include <sys/queue.h>

#include "sandbox_facts.h"
#include "tools.h"

struct cancel_wait;

/* An effective run policy the server used (policy_view.c). */
struct tools_policy {
	char *path;	   /* its snapshot file, which launchers load */
	json_t *effective; /* its JSON */
	struct sandbox_facts facts;
	struct tools_policy *next;
};

struct tools {
	struct tools_config cfg;
	LIST_HEAD(, cancel_wait) waits; /* cancellations the runner is carrying out */
	/* The run policy in force first, then older ones whose launchers
	 * may still be running jobs. */
	struct tools_policy *policies;
};

/* The facts of the policy in file `path`, else those of the policy in
 * force; NULL before any policy was set. */
const struct sandbox_facts *tools_policy_facts(const struct tools *t, const char *path);
/* Frees every policy (tools_free). */
void tools_policies_free(struct tools *t);

/* The declarations, one per file that handles them. */
extern const struct tool_decl tool_run_script_in_dir, tool_run_with_dependencies,
    tool_benchmark_script, tool_run_saved_script;
extern const struct tool_decl tool_save_script, tool_list_scripts;
extern const struct tool_decl tool_job_status, tool_list_jobs, tool_prune_jobs;
extern const struct tool_decl tool_cancel_job;
extern const struct tool_decl tool_session_start, tool_session_run, tool_session_list,
    tool_session_close;

/* The job, or NULL once the call has failed with "Job <id> not found"
 * (the id cut to a sane length) and what to do. */
struct job *tools_find_job(struct tools *t, struct tool_call *call, const char *id);
/* The caller's folder of saved scripts into buf: the server's, or its
 * tenant's own below it (made on first use). */
int tools_scripts_dir(struct tools *t, const struct tool_call *call, char *buf, size_t size,
		      struct pm_error *err);
/* Job `id` if `tenant` may see it (NULL: the one tenant), else NULL. */
struct job *tools_job_of(struct tools *t, const char *tenant, const char *id);

/* Starts the run of an execution tool and answers the call: at once
 * (async_mode, a task), when the run ends within the smart-async budget,
 * or with the job id when the budget runs out (run_tools.c). */
struct exec_request;
void tools_start_run(struct tools *t, struct tool_call *call, const struct exec_request *req);
/* The same for a job started otherwise (a session's run). */
void tools_answer_job(struct tools *t, struct tool_call *call, struct job *j, bool async_mode);

/* The answer is the job's task: once the job is in jobs.json, so that
 * the task can be asked for at once, and after a restart. */
void tools_reply_task(struct tools *t, struct tool_call *call, struct job *j);

/* The answer for an ended job: its result, or isError with its error
 * (and its result, when it has one). */
void tools_reply_final(struct tools *t, struct tool_call *call, const struct job *j);

/* cancel_tool.c: at free, calls of cancellations still in progress are
 * answered with an error; their records stay for the runner's done. */
void tools_cancel_orphan(struct tools *t);

/* The job object of TOOLS.md, as a JSON Schema (text).  JOB_SCHEMA_OUTPUT
 * adds the four output members of py_job_status. */
#define JOB_TIME_DOC                                                                               \
	"ISO 8601 time in UTC without a zone suffix, e.g. \\\"2025-12-17T14:30:00\\\"; null "      \
	"when not reached yet."
#define JOB_STATUSES "[\"pending\", \"running\", \"completed\", \"failed\", \"cancelled\"]"
#define JOB_PROPERTIES                                                                             \
	"\"id\": {\"type\": \"string\", \"description\": \"Job id.\"},"                            \
	"\"label\": {\"type\": [\"string\", \"null\"], \"description\": \"Label given with "       \
	"job_label, or the tool name.\"},"                                                         \
	"\"status\": {\"type\": \"string\", \"enum\": " JOB_STATUSES ", \"description\": \"Job "   \
	"state.\"},"                                                                               \
	"\"created_at\": {\"type\": [\"string\", \"null\"], \"description\": \"" JOB_TIME_DOC      \
	"\"},"                                                                                     \
	"\"started_at\": {\"type\": [\"string\", \"null\"], \"description\": \"" JOB_TIME_DOC      \
	"\"},"                                                                                     \
	"\"completed_at\": {\"type\": [\"string\", \"null\"], \"description\": \"" JOB_TIME_DOC    \
	"\"},"                                                                                     \
	"\"result\": {\"type\": [\"object\", \"null\"], \"description\": \"The tool's own result " \
	"once completed (for example stdout, stderr, exit_code).\"},"                              \
	"\"error\": {\"type\": [\"string\", \"null\"], \"description\": \"Why the job failed, or " \
	"null.\"},"                                                                                \
	"\"progress\": {\"type\": [\"object\", \"null\"], \"description\": \"{\\\"current\\\", "   \
	"\\\"total\\\", \\\"message\\\"} when the job reports progress.\"}"
#define JOB_REQUIRED                                                                               \
	"\"id\", \"label\", \"status\", \"created_at\", \"started_at\", \"completed_at\", "        \
	"\"result\", \"error\", \"progress\""
#define JOB_SCHEMA                                                                                 \
	"{\"type\": \"object\", \"properties\": {" JOB_PROPERTIES                                  \
	"}, \"required\": [" JOB_REQUIRED "]}"
#define JOB_PARTIAL_DOC                                                                            \
	"Output so far, cut at the inline limit with a marker naming the file holding all of it."
#define JOB_NEW_DOC                                                                                \
	"Output since the previous incremental py_job_status call for this job, cut at the "       \
	"inline limit with a marker; the next incremental call continues where this one "          \
	"stopped."
#define JOB_SCHEMA_OUTPUT                                                                          \
	"{\"type\": \"object\", \"properties\": {" JOB_PROPERTIES ","                              \
	"\"partial_stdout\": {\"type\": \"string\", \"description\": \"" JOB_PARTIAL_DOC "\"},"    \
	"\"partial_stderr\": {\"type\": \"string\", \"description\": \"" JOB_PARTIAL_DOC "\"},"    \
	"\"new_stdout\": {\"type\": \"string\", \"description\": \"" JOB_NEW_DOC "\"},"            \
	"\"new_stderr\": {\"type\": \"string\", \"description\": \"" JOB_NEW_DOC "\"}},"           \
	"\"required\": [" JOB_REQUIRED                                                             \
	", \"partial_stdout\", \"partial_stderr\", \"new_stdout\", "                               \
	"\"new_stderr\"]}"

/* Every failed call answers {"error": "..."}; an output schema lists it. */
/* What a run lists of the files it left (artifacts.h). */
#define TOOL_FIELDS_FILES                                                                          \
	{"files",                                                                                  \
	 "{\"type\": \"array\", \"description\": \"files the run created or changed in its "       \
	 "directory; each kept one is a resource (uri) while the job is kept, images also come "   \
	 "back as image content\", \"items\": {\"type\": \"object\", \"properties\": {\"path\": "  \
	 "{\"type\": \"string\"}, \"bytes\": {\"type\": \"integer\"}, \"mime_type\": {\"type\": "  \
	 "\"string\"}, \"uri\": {\"type\": \"string\"}, \"kept\": {\"type\": \"boolean\"}}, "      \
	 "\"required\": [\"path\", \"bytes\", \"mime_type\"]}}"},                                  \
	{                                                                                          \
		"files_note", "{\"type\": \"string\", \"description\": \"which changed files are " \
			      "not listed or not kept, and why\"}"                                 \
	}

/* The answer of a run that went on in the background, or a failed one's. */
#define TOOL_FIELDS_JOB_STUB                                                                       \
	{"job_id", "{\"type\": \"string\"}"},                                                      \
	    {"status", "{\"type\": \"string\", \"enum\": " JOB_STATUSES "}"},                      \
	    {"message", "{\"type\": \"string\"}"},                                                 \
	{                                                                                          \
		"result", "{\"type\": \"object\"}"                                                 \
	}

#define TOOL_FIELD_ERROR                                                                           \
	{                                                                                          \
		"error", "{\"type\": \"string\", \"description\": \"isError results: why the "     \
			 "call failed\"}"                                                          \
	}

#endif
