/* A job's result as the tool returned it.  The table keeps the result
 * without stdout and stderr; they come from the output files when asked
 * for, the first inline_bytes of each stream, with notes of what is left
 * out and why.  So a result costs the same in memory and in jobs.json
 * whatever the script printed. */
#include "jobs_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jobs_loss_note(const struct jobs *t, const struct job *j, enum job_stream s, char *buf,
		    size_t size)
{
	uint64_t dropped = j->produced[s] - j->kept[s];

	buf[0] = '\0';
	if (j->evicted)
		snprintf(buf, size,
			 "\n[output removed: the server keeps at most %" PRIu64 " bytes of output "
			 "(--max-state-bytes) and the oldest jobs' output goes first]",
			 t->limits.state_bytes);
	else if (j->cut[s] && dropped > 0)
		snprintf(buf, size,
			 "\n[... %" PRIu64
			 " further bytes were not kept: the server's output store "
			 "was full (--max-state-bytes, or its filesystem)]",
			 dropped);
	else if (dropped > 0)
		snprintf(buf, size,
			 "\n[... %" PRIu64
			 " further bytes exceeded the disk cap and were not kept]",
			 dropped);
}

void jobs_more_note(const struct jobs *t, const struct job *j, enum job_stream s, enum jobs_view v,
		    uint64_t from, const struct job_read *rd, char *buf, size_t size)
{
	uint64_t left = j->kept[s] - from - rd->consumed;
	char path[PATH_MAX];

	buf[0] = '\0';
	if (!rd->more)
		return;
	jobs_output_path(t, j, s, path, sizeof(path));
	if (v == JOBS_VIEW_RESULT)
		snprintf(buf, size,
			 "\n[... %" PRIu64 " more bytes not shown; read them with py_job_status or "
			 "the resource job-stream://%s]",
			 left, j->id);
	else if (v == JOBS_VIEW_WHOLE)
		snprintf(buf, size, "\n[... %" PRIu64 " bytes not shown; full output in %s]", left,
			 path);
	else
		snprintf(buf, size,
			 "\n[... %" PRIu64 " more bytes not shown yet; call py_job_status again to "
			 "continue, or read %s]",
			 left, path);
}

/* The first inline_bytes of a stream, a note of what is not shown, and
 * "[TIMEOUT]" after a time limit. */
static json_t *inline_output(struct jobs *t, const struct job *j, enum job_stream s, bool timeout)
{
	struct job_read rd = {0};
	struct pm_error err = {0};
	char more[PATH_MAX + 256], loss[256];
	char *text = NULL;
	size_t len = 0;
	json_t *out;

	if (jobs_read(t, j, s, 0, t->limits.inline_bytes, &rd, &err) < 0)
		return json_string(timeout ? "[TIMEOUT]" : "");
	jobs_more_note(t, j, s, JOBS_VIEW_RESULT, 0, &rd, more, sizeof(more));
	jobs_loss_note(t, j, s, loss, sizeof(loss));
	FILE *f = open_memstream(&text, &len);
	if (f != NULL) {
		/* Byte-wise: the text may hold NUL bytes. */
		fwrite(rd.text ? rd.text : "", 1, rd.len, f);
		fputs(more, f);
		fputs(loss, f);
		fputs(timeout ? "\n[TIMEOUT]" : "", f);
		fclose(f);
	}
	job_read_release(&rd);
	out = text ? json_stringn(text, len) : NULL;
	free(text);
	return out ? out : json_string("");
}

json_t *jobs_result(struct jobs *t, const struct job *j)
{
	json_t *stored, *full, *v;
	const char *k;

	if (j->result == NULL || (stored = json_loads(j->result, 0, NULL)) == NULL)
		return NULL;
	if (!j->result_output)
		return stored;
	/* stdout and stderr first, as the tool returned them. */
	const char *limit = json_string_value(json_object_get(stored, "limit"));
	bool timeout = limit != NULL && strcmp(limit, "time") == 0;
	full = json_object();
	json_object_set_new(full, "stdout", inline_output(t, j, JOB_STDOUT, false));
	json_object_set_new(full, "stderr", inline_output(t, j, JOB_STDERR, timeout));
	json_object_foreach (stored, k, v)
		json_object_set(full, k, v);
	json_decref(stored);
	return full;
}

uint64_t jobs_stored_bytes(const struct jobs *t)
{
	return t->stored_bytes;
}
