#include "wire.h"

#include <stdio.h>
#include <string.h>

enum wire_event wire_event_kind(const json_t *ev)
{
	static const struct {
		const char *name;
		enum wire_event kind;
	} kinds[] = {
	    {WIRE_EVENT_READY, WIRE_READY},	  {WIRE_EVENT_STARTED, WIRE_STARTED},
	    {WIRE_EVENT_DEGRADED, WIRE_DEGRADED}, {WIRE_EVENT_ERROR, WIRE_ERROR},
	    {WIRE_EVENT_EXIT, WIRE_EXIT},	  {WIRE_EVENT_PROGRESS, WIRE_PROGRESS},
	};
	const char *name = json_string_value(json_object_get(ev, WIRE_EVENT));

	for (size_t i = 0; name && i < sizeof(kinds) / sizeof(*kinds); i++)
		if (strcmp(name, kinds[i].name) == 0)
			return kinds[i].kind;
	return WIRE_UNKNOWN;
}

void wire_exit_read(const json_t *ev, struct wire_exit *out)
{
	json_t *code = json_object_get(ev, "exit_code");
	json_t *sig = json_object_get(ev, "signal");

	*out = (struct wire_exit){
	    .exit_code = json_is_integer(code) ? (int)json_integer_value(code) : -1,
	    .signal = json_is_integer(sig) ? (int)json_integer_value(sig) : 0,
	    .limit = json_string_value(json_object_get(ev, "limit")),
	    .limit_detail = json_string_value(json_object_get(ev, "limit_detail")),
	    .wall_seconds = json_number_value(json_object_get(ev, "wall_seconds")),
	    .cpu_user_seconds = json_number_value(json_object_get(ev, "cpu_user_seconds")),
	    .cpu_system_seconds = json_number_value(json_object_get(ev, "cpu_system_seconds")),
	    .peak_rss_bytes = json_integer_value(json_object_get(ev, "peak_rss_bytes")),
	};
}

void wire_progress_read(const json_t *ev, struct wire_progress *out)
{
	const json_t *total = json_object_get(ev, "total");

	*out = (struct wire_progress){
	    .current = json_number_value(json_object_get(ev, "current")),
	    .total = json_is_number(total) ? json_number_value(total) : -1,
	    .message = json_string_value(json_object_get(ev, "message")),
	};
}

void wire_error_text(const json_t *ev, char *buf, size_t size)
{
	const char *msg = json_string_value(json_object_get(ev, "message"));
	const char *hint = json_string_value(json_object_get(ev, "hint"));

	snprintf(buf, size, "%s%s%s", msg ? msg : "sandbox setup failed", hint ? ". Hint: " : "",
		 hint ? hint : "");
}
