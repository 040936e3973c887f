#include "sandbox_facts.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int64_t limit_of(const json_t *policy, const char *section, const char *key)
{
	const json_t *v = json_object_get(json_object_get(policy, section), key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v)
								: SANDBOX_UNSET;
}

void sandbox_facts_read(const json_t *policy, struct sandbox_facts *out)
{
	const json_t *net = json_object_get(policy, "network");
	const char *mode = json_is_object(net) ? json_string_value(json_object_get(net, "mode"))
					       : json_string_value(net);
	const json_t *wall = json_object_get(json_object_get(policy, "limits"), "wall_seconds");
	const json_t *tmp = json_object_get(policy, "tmp_size_bytes");

	*out = (struct sandbox_facts){
	    .network = mode && strcmp(mode, "host") == 0   ? SANDBOX_NET_HOST
		       : mode && strcmp(mode, "user") == 0 ? SANDBOX_NET_USER
							   : SANDBOX_NET_NONE,
	    .memory_max_bytes = limit_of(policy, "cgroup", "memory_max_bytes"),
	    .as_bytes = limit_of(policy, "rlimits", "as_bytes"),
	    .cpu_seconds = limit_of(policy, "rlimits", "cpu_seconds"),
	    .fsize_bytes = limit_of(policy, "rlimits", "fsize_bytes"),
	    .nproc = limit_of(policy, "rlimits", "nproc"),
	    .pids_max = limit_of(policy, "cgroup", "pids_max"),
	    .wall_seconds = json_is_number(wall) ? json_number_value(wall) : 0,
	    .output_bytes = limit_of(policy, "limits", "output_bytes"),
	    .workspace_bytes = limit_of(policy, "workspace", "max_bytes"),
	    .workspace_inodes = limit_of(policy, "workspace", "max_inodes"),
	    .tmp_bytes = json_is_integer(tmp) ? json_integer_value(tmp) : SANDBOX_UNSET,
	    .workspace_readonly =
		json_is_true(json_object_get(json_object_get(policy, "workspace"), "readonly")),
	};
	if (out->output_bytes == 0)
		out->output_bytes = SANDBOX_UNSET;
}

void sandbox_bytes_text(int64_t bytes, char *buf, size_t size)
{
	static const struct {
		const char *name;
		int shift;
	} units[] = {{"GiB", 30}, {"MiB", 20}, {"KiB", 10}};

	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
		if (bytes >= (1LL << units[i].shift) && bytes % (1LL << units[i].shift) == 0) {
			snprintf(buf, size, "%lld %s", (long long)(bytes >> units[i].shift),
				 units[i].name);
			return;
		}
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
		if (bytes >= (1LL << units[i].shift)) {
			snprintf(buf, size, "%.1f %s",
				 (double)bytes / (double)(1LL << units[i].shift), units[i].name);
			return;
		}
	snprintf(buf, size, "%lld bytes", (long long)bytes);
}

static void add(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void add(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(buf, size);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

void sandbox_facts_describe(const struct sandbox_facts *f, char *buf, size_t size)
{
	static const char *const networks[] = {
	    [SANDBOX_NET_NONE] = "no network",
	    [SANDBOX_NET_USER] = "outbound internet, not the host",
	    [SANDBOX_NET_HOST] = "the host's network",
	};
	char a[32], b[32];

	buf[0] = '\0';
	add(buf, size, "Sandbox limits (the resource policy://effective has the whole policy): %s",
	    networks[f->network]);
	if (f->memory_max_bytes != SANDBOX_UNSET) {
		sandbox_bytes_text(f->memory_max_bytes, a, sizeof(a));
		add(buf, size, "; memory %s (cgroup.memory_max_bytes)", a);
	} else if (f->as_bytes != SANDBOX_UNSET) {
		sandbox_bytes_text(f->as_bytes, a, sizeof(a));
		add(buf, size, "; memory %s of address space (rlimits.as_bytes)", a);
	}
	add(buf, size, "; time: the call's timeout_seconds (default %d s)", RUN_TIMEOUT_DEFAULT);
	if (f->wall_seconds > 0)
		add(buf, size, ", at most %g s (limits.wall_seconds)", f->wall_seconds);
	if (f->cpu_seconds != SANDBOX_UNSET)
		add(buf, size, ", %lld s of CPU (rlimits.cpu_seconds)", (long long)f->cpu_seconds);
	if (f->workspace_readonly) {
		add(buf, size, "; disk: the workspace is read-only");
	} else if (f->workspace_bytes != SANDBOX_UNSET) {
		sandbox_bytes_text(f->workspace_bytes, a, sizeof(a));
		add(buf, size, "; disk: %s of new files in the workspace (workspace.max_bytes)", a);
	} else {
		add(buf, size, "; disk: the workspace's own filesystem");
	}
	if (f->tmp_bytes != SANDBOX_UNSET) {
		sandbox_bytes_text(f->tmp_bytes, b, sizeof(b));
		add(buf, size, ", %s in /tmp (tmp_size_bytes)", b);
	}
	add(buf, size,
	    ". Files persist only in the directory the script runs in (`directory`, or "
	    "a script_path's folder); /tmp, and the scratch folder of script_content "
	    "without a directory, are private to the run and discarded.");
}
