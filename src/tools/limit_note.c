#include "limit_note.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static bool said(const struct limit_run *r, const char *needle)
{
	return r->stderr_len > 0 && memmem(r->stderr_tail, r->stderr_len, needle, strlen(needle));
}

static bool is(const char *limit, const char *name)
{
	return limit != NULL && strcmp(limit, name) == 0;
}

/* A connection refused with no loopback address in sight: with no
 * network, only loopback answers at all. */
static bool refused_elsewhere(const struct limit_run *r)
{
	static const char *const loopback[] = {"127.0.0.1", "localhost", "::1", "0.0.0.0"};

	if (!said(r, "Connection refused"))
		return false;
	for (size_t i = 0; i < sizeof(loopback) / sizeof(*loopback); i++)
		if (said(r, loopback[i]))
			return false;
	return true;
}

static bool offline(const struct limit_run *r)
{
	return said(r, "Network is unreachable") ||
	       said(r, "Temporary failure in name resolution") ||
	       said(r, "Name or service not known") ||
	       said(r, "No address associated with hostname") || refused_elsewhere(r);
}

static bool memory_note(const struct sandbox_facts *f, const struct limit_run *r, char *buf,
			size_t size)
{
	char mem[32], as[32];

	sandbox_bytes_text(f->memory_max_bytes, mem, sizeof(mem));
	sandbox_bytes_text(f->as_bytes, as, sizeof(as));
	if (is(r->limit, "memory")) {
		if (f->memory_max_bytes != SANDBOX_UNSET)
			snprintf(buf, size,
				 "MemoryError: the sandbox allows %s of memory (policy "
				 "cgroup.memory_max_bytes); the run was killed when it went past",
				 mem);
		else
			snprintf(buf, size, "MemoryError: %s",
				 r->limit_detail ? r->limit_detail : "the run ran out of memory");
		return true;
	}
	if (f->as_bytes != SANDBOX_UNSET && f->memory_max_bytes != SANDBOX_UNSET)
		snprintf(buf, size,
			 "MemoryError: the sandbox allows %s of address space (policy "
			 "rlimits.as_bytes) and %s of memory (policy cgroup.memory_max_bytes)",
			 as, mem);
	else if (f->as_bytes != SANDBOX_UNSET)
		snprintf(buf, size,
			 "MemoryError: the sandbox allows %s of address space (policy "
			 "rlimits.as_bytes)",
			 as);
	else if (f->memory_max_bytes != SANDBOX_UNSET)
		snprintf(buf, size,
			 "MemoryError: the sandbox allows %s of memory (policy "
			 "cgroup.memory_max_bytes)",
			 mem);
	else
		return false;
	return true;
}

static bool time_note(const struct sandbox_facts *f, const struct limit_run *r, char *buf,
		      size_t size)
{
	/* The launcher applies the shorter of the two, the policy's on a tie. */
	bool call = r->timeout_seconds > 0 &&
		    (f->wall_seconds <= 0 || r->timeout_seconds < f->wall_seconds);

	if (call)
		snprintf(buf, size,
			 "Timeout: the sandbox stopped the run after %g s (the call's "
			 "timeout_seconds; default %d s)",
			 r->timeout_seconds, RUN_TIMEOUT_DEFAULT);
	else if (f->wall_seconds > 0)
		snprintf(buf, size,
			 "Timeout: the sandbox stopped the run after %g s (policy "
			 "limits.wall_seconds)",
			 f->wall_seconds);
	else
		snprintf(buf, size, "Timeout: the sandbox stopped the run at its time limit");
	return true;
}

static bool disk_note(const struct sandbox_facts *f, const struct limit_run *r, char *buf,
		      size_t size)
{
	char ws[32], tmp[32];

	sandbox_bytes_text(f->workspace_bytes, ws, sizeof(ws));
	sandbox_bytes_text(f->tmp_bytes, tmp, sizeof(tmp));
	if (is(r->limit, "disk")) {
		if (r->limit_detail && strstr(r->limit_detail, "max_inodes") &&
		    f->workspace_inodes != SANDBOX_UNSET)
			snprintf(buf, size,
				 "Disk: the sandbox allows %lld new files in the workspace (policy "
				 "workspace.max_inodes)",
				 (long long)f->workspace_inodes);
		else if (f->workspace_bytes != SANDBOX_UNSET &&
			 !(r->limit_detail && strstr(r->limit_detail, "nests deeper")))
			snprintf(
			    buf, size,
			    "Disk: the sandbox allows %s of new files in the workspace (policy "
			    "workspace.max_bytes)",
			    ws);
		else
			snprintf(buf, size, "Disk: %s",
				 r->limit_detail ? r->limit_detail
						 : "a workspace limit ended the run");
		return true;
	}
	if (f->tmp_bytes == SANDBOX_UNSET && f->workspace_bytes == SANDBOX_UNSET)
		return false;
	snprintf(buf, size, "No space left on device: ");
	size_t len = strlen(buf);
	if (f->tmp_bytes != SANDBOX_UNSET)
		len += (size_t)snprintf(buf + len, size - len,
					"the sandbox's /tmp holds %s (policy tmp_size_bytes)%s",
					tmp, f->workspace_bytes != SANDBOX_UNSET ? "; " : "");
	if (f->workspace_bytes != SANDBOX_UNSET && len < size)
		snprintf(buf + len, size - len,
			 "the workspace may grow by %s (policy workspace.max_bytes)", ws);
	return true;
}

static bool count_note(const struct sandbox_facts *f, char *buf, size_t size)
{
	if (f->pids_max != SANDBOX_UNSET)
		snprintf(buf, size,
			 "Processes: the sandbox allows %lld processes and threads (policy "
			 "cgroup.pids_max)",
			 (long long)f->pids_max);
	else if (f->nproc != SANDBOX_UNSET)
		snprintf(buf, size,
			 "Processes: the sandbox allows %lld processes (policy rlimits.nproc)",
			 (long long)f->nproc);
	else
		return false;
	return true;
}

bool limit_note(const struct sandbox_facts *f, const struct limit_run *r, char *buf, size_t size)
{
	bool failed = r->exit_code != 0 || r->signal != 0;
	char v[32];

	buf[0] = '\0';
	if (f == NULL || size == 0)
		return false;
	if (is(r->limit, "memory"))
		return memory_note(f, r, buf, size);
	if (is(r->limit, "time"))
		return time_note(f, r, buf, size);
	if (is(r->limit, "disk"))
		return disk_note(f, r, buf, size);
	if (is(r->limit, "pids"))
		return count_note(f, buf, size);
	if (is(r->limit, "cpu") && f->cpu_seconds != SANDBOX_UNSET) {
		snprintf(buf, size,
			 "CPU time: the sandbox allows %lld s of CPU time (policy "
			 "rlimits.cpu_seconds)",
			 (long long)f->cpu_seconds);
		return true;
	}
	if (is(r->limit, "output") && f->output_bytes != SANDBOX_UNSET) {
		sandbox_bytes_text(f->output_bytes, v, sizeof(v));
		snprintf(buf, size,
			 "Output: the sandbox allows %s of output (policy limits.output_bytes)", v);
		return true;
	}
	if (r->limit != NULL || !failed)
		return false;
	/* The script ended on its own, with an error: what it printed last
	 * may name a limit. */
	if ((r->signal == SIGXFSZ || said(r, "File too large")) &&
	    f->fsize_bytes != SANDBOX_UNSET) {
		sandbox_bytes_text(f->fsize_bytes, v, sizeof(v));
		snprintf(buf, size,
			 "File too large: the sandbox allows files of at most %s (policy "
			 "rlimits.fsize_bytes)",
			 v);
		return true;
	}
	if (said(r, "MemoryError"))
		return memory_note(f, r, buf, size);
	if (said(r, "No space left on device"))
		return disk_note(f, r, buf, size);
	if (f->network == SANDBOX_NET_NONE && offline(r)) {
		snprintf(buf, size, "Network: the sandbox has no network (policy network: none)");
		return true;
	}
	return false;
}
