/* JSON Schemas (2020-12) of the job tools.
 *
 * Output schemas list no top-level "required" and allow more members: a
 * failed call answers {"error": "..."} as structured content, and the
 * TypeScript SDK validates structured content against the output schema
 * even when isError is set, so a stricter root would turn every "Job x
 * not found" into a protocol error on the client. */
#include "tools_jobs_internal.h"

static json_t *str_enum_statuses(void)
{
	return json_pack("[sssss]", "pending", "running", "completed", "failed", "cancelled");
}

static json_t *typed(const char *type, const char *description)
{
	return json_pack("{s:s,s:s}", "type", type, "description", description);
}

static json_t *nullable(const char *type, const char *description)
{
	return json_pack("{s:[ss],s:s}", "type", type, "null", "description", description);
}

static json_t *input(json_t *properties, json_t *required)
{
	return json_pack("{s:s,s:o,s:o,s:b}", "type", "object", "properties", properties,
			 "required", required ? required : json_array(), "additionalProperties", 0);
}

static json_t *job_id_property(void)
{
	return typed("string", "Id of the job, as returned by an execution tool "
			       "(\"job_id\") or listed by py_list_jobs.");
}

/* The job object of TOOLS.md; with_output adds the four output fields of
 * py_job_status. */
static json_t *job_schema(int with_output)
{
	const char *time_doc = "ISO 8601 time in UTC without a zone suffix, e.g. "
			       "\"2025-12-17T14:30:00\"; null when not reached yet.";
	json_t *p = json_object();
	json_t *required = json_pack("[sssssssss]", "id", "label", "status", "created_at",
				     "started_at", "completed_at", "result", "error", "progress");

	json_object_set_new(p, "id", typed("string", "Job id."));
	json_object_set_new(p, "label",
			    nullable("string", "Label given with job_label, or the tool name."));
	json_object_set_new(p, "status",
			    json_pack("{s:s,s:o,s:s}", "type", "string", "enum",
				      str_enum_statuses(), "description", "Job state."));
	json_object_set_new(p, "created_at", nullable("string", time_doc));
	json_object_set_new(p, "started_at", nullable("string", time_doc));
	json_object_set_new(p, "completed_at", nullable("string", time_doc));
	json_object_set_new(p, "result",
			    nullable("object", "The tool's own result once completed (for "
					       "example stdout, stderr, exit_code)."));
	json_object_set_new(p, "error", nullable("string", "Why the job failed, or null."));
	json_object_set_new(p, "progress",
			    nullable("object", "{\"current\", \"total\", \"message\"} when the "
					       "job reports progress."));
	if (with_output) {
		const char *partial = "Output so far, cut at the inline limit with a marker "
				      "naming the file holding all of it.";
		const char *fresh = "Output since the previous incremental py_job_status "
				    "call for this job, cut at the inline limit with a marker; "
				    "the next incremental call continues where this one stopped.";
		json_t *more = json_pack("[ssss]", "partial_stdout", "partial_stderr", "new_stdout",
					 "new_stderr");

		json_object_set_new(p, "partial_stdout", typed("string", partial));
		json_object_set_new(p, "partial_stderr", typed("string", partial));
		json_object_set_new(p, "new_stdout", typed("string", fresh));
		json_object_set_new(p, "new_stderr", typed("string", fresh));
		json_array_extend(required, more); /* does not steal */
		json_decref(more);
	}
	return json_pack("{s:s,s:o,s:o}", "type", "object", "properties", p, "required", required);
}

json_t *schema_job_status_input(void)
{
	return input(
	    json_pack("{s:o,s:o}", "job_id", job_id_property(), "incremental",
		      json_pack("{s:s,s:b,s:s}", "type", "boolean", "default", 1, "description",
				"true: new_stdout/new_stderr hold output since the "
				"previous incremental call, and this call moves the "
				"job's read position on. false: the position stays.")),
	    json_pack("[s]", "job_id"));
}

json_t *schema_job_status_output(void)
{
	return json_pack("{s:s,s:{s:o,s:o}}", "type", "object", "properties", "job", job_schema(1),
			 "incremental", typed("boolean", "The incremental argument of the call."));
}

json_t *schema_list_jobs_input(void)
{
	return input(json_pack("{s:{s:s,s:o,s:s},s:{s:s,s:i,s:i,s:i,s:s}}", "status_filter", "type",
			       "string", "enum", str_enum_statuses(), "description",
			       "Only jobs with this status; all jobs when omitted.", "limit",
			       "type", "integer", "default", 50, "minimum", 1, "maximum", 1000,
			       "description", "At most this many jobs, newest first."),
		     NULL);
}

json_t *schema_list_jobs_output(void)
{
	return json_pack("{s:s,s:{s:{s:s,s:o,s:s},s:o}}", "type", "object", "properties", "jobs",
			 "type", "array", "items", job_schema(0), "description",
			 "Jobs without their output, newest first.", "total",
			 typed("integer", "Number of jobs returned."));
}

json_t *schema_cancel_job_input(void)
{
	return input(json_pack("{s:o}", "job_id", job_id_property()), json_pack("[s]", "job_id"));
}

json_t *schema_cancel_job_output(void)
{
	return json_pack("{s:s,s:{s:o,s:{s:s,s:[s]},s:o}}", "type", "object", "properties",
			 "job_id", typed("string", "The cancelled job."), "status", "type",
			 "string", "enum", "cancelled", "message",
			 typed("string", "\"Job cancelled\"."));
}

json_t *schema_prune_jobs_input(void)
{
	return input(json_pack("{s:{s:s,s:b,s:s},s:{s:s,s:b,s:s},s:{s:s,s:i,s:i,s:s}}",
			       "keep_completed", "type", "boolean", "default", 1, "description",
			       "Keep completed jobs whatever their age.", "keep_failed", "type",
			       "boolean", "default", 1, "description",
			       "Keep failed jobs whatever their age.", "max_age_hours", "type",
			       "number", "default", 24, "minimum", 0, "description",
			       "Remove jobs that finished more than this many hours ago."),
		     NULL);
}

json_t *schema_prune_jobs_output(void)
{
	return json_pack("{s:s,s:{s:o,s:o,s:o}}", "type", "object", "properties", "removed",
			 typed("integer", "Jobs removed, with their stored output."), "remaining",
			 typed("integer", "Jobs left in the table."), "removed_environments",
			 typed("integer", "Dependency environments not used for max_age_hours, "
					  "removed."));
}
