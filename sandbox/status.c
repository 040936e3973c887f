#include "status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "json_text.h"
#include "wire.h"

void sb_status_emit_new(int fd, json_t *obj)
{
	_cleanup_json_ json_t *owned = obj;
	_cleanup_free_ char *line = NULL;
	size_t len;

	if (fd < 0 || owned == NULL)
		return;
	line = json_dumps(owned, JSON_COMPACT);
	if (line == NULL)
		return;
	len = strlen(line);
	line[len++] = '\n'; /* replaces the terminator; the buffer is ours */
	/* A reader that went away gets nothing; there is no one to tell. */
	(void)pm_write_all(fd, line, len);
}

void sb_status_error(int fd, const struct pm_error *err)
{
	json_t *o = json_object();

	json_object_set_new(o, WIRE_EVENT, json_string(WIRE_EVENT_ERROR));
	json_object_set_new(o, "stage", pm_json_string_lossy(err->stage));
	json_object_set_new(o, "errno", json_integer(err->errnum));
	json_object_set_new(o, "error", json_string(err->errnum ? strerror(err->errnum) : ""));
	json_object_set_new(o, "message", pm_json_string_lossy(err->message));
	json_object_set_new(o, "hint",
			    err->hint[0] ? pm_json_string_lossy(err->hint) : json_null());
	sb_status_emit_new(fd, o);
}

void sb_status_exit(int fd, const struct sb_result *res)
{
	json_t *o = json_object();

	json_object_set_new(o, WIRE_EVENT, json_string(WIRE_EVENT_EXIT));
	json_object_set_new(o, "exit_code",
			    res->signal ? json_null() : json_integer(res->exit_code));
	json_object_set_new(o, "signal", res->signal ? json_integer(res->signal) : json_null());
	json_object_set_new(o, "cpu_user_seconds", json_real(res->cpu_user_seconds));
	json_object_set_new(o, "cpu_system_seconds", json_real(res->cpu_system_seconds));
	json_object_set_new(o, "wall_seconds", json_real(res->wall_seconds));
	json_object_set_new(o, "peak_rss_bytes", json_integer(res->peak_rss_bytes));
	json_object_set_new(o, "peak_rss_source", json_string(res->peak_rss_source));
	json_object_set_new(o, "max_process_rss_bytes", json_integer(res->max_process_rss_bytes));
	json_object_set_new(o, "cgroup_memory_peak_bytes",
			    res->cgroup_memory_peak_bytes < 0
				? json_null()
				: json_integer(res->cgroup_memory_peak_bytes));
	json_object_set_new(o, "limit", res->limit ? json_string(res->limit) : json_null());
	if (res->limit_detail[0])
		json_object_set_new(o, "limit_detail", pm_json_string_lossy(res->limit_detail));
	json_object_set_new(o, "output_bytes", json_integer(res->output_bytes));
	sb_status_emit_new(fd, o);
}
