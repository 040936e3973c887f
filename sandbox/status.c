#include "status.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

void sb_status_emit_new(int fd, json_t *obj)
{
	_cleanup_json_ json_t *owned = obj;
	_cleanup_free_ char *line = NULL;
	size_t len, off = 0;

	if (fd < 0 || owned == NULL)
		return;
	line = json_dumps(owned, JSON_COMPACT);
	if (line == NULL)
		return;
	len = strlen(line);
	line[len++] = '\n'; /* replaces the terminator; the buffer is ours */
	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the reader went away; nothing sensible to do */
		off += (size_t)n;
	}
}

void sb_status_error(int fd, const struct sb_error *err)
{
	json_t *o = json_object();

	json_object_set_new(o, "event", json_string("error"));
	json_object_set_new(o, "stage", json_string(err->stage));
	json_object_set_new(o, "errno", json_integer(err->errnum));
	json_object_set_new(o, "error", json_string(err->errnum ? strerror(err->errnum) : ""));
	json_object_set_new(o, "message", json_string(err->message));
	json_object_set_new(o, "hint", err->hint[0] ? json_string(err->hint) : json_null());
	sb_status_emit_new(fd, o);
}

void sb_status_exit(int fd, const struct sb_result *res)
{
	json_t *o = json_object();

	json_object_set_new(o, "event", json_string("exit"));
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
			    res->cgroup_memory_peak_bytes < 0 ? json_null()
							      : json_integer(res->cgroup_memory_peak_bytes));
	json_object_set_new(o, "limit", res->limit ? json_string(res->limit) : json_null());
	json_object_set_new(o, "output_bytes", json_integer(res->output_bytes));
	sb_status_emit_new(fd, o);
}
