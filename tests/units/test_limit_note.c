/* sandbox_facts.c and limit_note.c: the facts read from an effective
 * policy, sizes in words, and the note each way a run can end on a limit
 * gets (or does not). */
#include <signal.h>
#include <string.h>

#include "../check.h"
#include "limit_note.h"

static const char *bytes(int64_t n)
{
	static char buf[32];

	sandbox_bytes_text(n, buf, sizeof(buf));
	return buf;
}

static void test_bytes(void)
{
	CHECK_STR(bytes(2LL << 30), "2 GiB");
	CHECK_STR(bytes(1536LL << 20), "1536 MiB");
	CHECK_STR(bytes(512 << 10), "512 KiB");
	CHECK_STR(bytes((3LL << 29) + 1), "1.5 GiB");
	CHECK_STR(bytes(100), "100 bytes");
}

static struct sandbox_facts facts(const char *policy)
{
	json_t *p = json_loads(policy, 0, NULL);
	struct sandbox_facts f;

	CHECK(p != NULL);
	sandbox_facts_read(p, &f);
	json_decref(p);
	return f;
}

static const char *POLICY =
    "{\"network\": \"none\", \"tmp_size_bytes\": 16777216,"
    " \"workspace\": {\"max_bytes\": 33554432, \"max_inodes\": 1000, \"readonly\": false},"
    " \"rlimits\": {\"as_bytes\": 1073741824, \"cpu_seconds\": 60, \"fsize_bytes\": 8388608,"
    "  \"nproc\": 512, \"stack_bytes\": null},"
    " \"cgroup\": {\"memory_max_bytes\": 268435456, \"pids_max\": 64},"
    " \"limits\": {\"wall_seconds\": 0.0, \"output_bytes\": 0}}";

static void test_facts(void)
{
	struct sandbox_facts f = facts(POLICY);
	char text[2048];

	CHECK(f.network == SANDBOX_NET_NONE);
	CHECK(f.memory_max_bytes == 268435456 && f.as_bytes == 1073741824);
	CHECK(f.output_bytes == SANDBOX_UNSET && f.wall_seconds == 0);
	sandbox_facts_describe(&f, text, sizeof(text));
	CHECK_MSG(strstr(text, "no network") && strstr(text, "memory 256 MiB") &&
		      strstr(text, "16 MiB in /tmp") && strstr(text, "32 MiB of new files"),
		  "%s", text);

	f = facts(
	    "{\"network\": {\"mode\": \"user\", \"helper\": \"/usr/bin/pasta\"},"
	    " \"cgroup\": {\"memory_max_bytes\": null}, \"rlimits\": {\"as_bytes\": 4294967296},"
	    " \"limits\": {\"wall_seconds\": 30}}");
	CHECK(f.network == SANDBOX_NET_USER && f.memory_max_bytes == SANDBOX_UNSET);
	sandbox_facts_describe(&f, text, sizeof(text));
	CHECK_MSG(strstr(text, "outbound internet, not the host") &&
		      strstr(text, "4 GiB of address space (rlimits.as_bytes)") &&
		      strstr(text, "at most 30 s (limits.wall_seconds)") && !strstr(text, "/tmp ("),
		  "%s", text);
}

/* The note for a run, or "" when there is none. */
static const char *note(const struct sandbox_facts *f, struct limit_run r, const char *tail)
{
	static char buf[512];

	r.stderr_tail = tail ? tail : "";
	r.stderr_len = strlen(r.stderr_tail);
	if (!limit_note(f, &r, buf, sizeof(buf)))
		CHECK_MSG(buf[0] == '\0', "false but a note: %s", buf);
	return buf;
}

#define HAS(text, needle) CHECK_MSG(strstr((text), (needle)) != NULL, "%s", (text))

static void test_notes(void)
{
	struct sandbox_facts f = facts(POLICY);
	const char *n;

	n = note(&f, (struct limit_run){.limit = "memory", .signal = SIGKILL}, NULL);
	HAS(n, "256 MiB of memory (policy cgroup.memory_max_bytes)");
	n = note(&f, (struct limit_run){.exit_code = 1}, "  x = bytearray(1 << 40)\nMemoryError\n");
	HAS(n, "1 GiB of address space (policy rlimits.as_bytes)");
	n = note(&f, (struct limit_run){.limit = "time", .signal = SIGKILL, .timeout_seconds = 2},
		 NULL);
	HAS(n, "after 2 s (the call's timeout_seconds");
	n = note(&f, (struct limit_run){.limit = "cpu", .signal = SIGXCPU}, NULL);
	HAS(n, "60 s of CPU time (policy rlimits.cpu_seconds)");
	n = note(&f,
		 (struct limit_run){.limit = "disk",
				    .limit_detail =
					"the job added 40000000 bytes to its workspace; "
					"the policy allows 33554432 (workspace.max_bytes)"},
		 NULL);
	HAS(n, "32 MiB of new files in the workspace (policy workspace.max_bytes)");
	n = note(&f,
		 (struct limit_run){.limit = "disk",
				    .limit_detail =
					"the job added 2000 files to its workspace; the "
					"policy allows 1000 (workspace.max_inodes)"},
		 NULL);
	HAS(n, "1000 new files in the workspace (policy workspace.max_inodes)");
	n = note(&f, (struct limit_run){.exit_code = 1},
		 "OSError: [Errno 28] No space left on device\n");
	HAS(n, "/tmp holds 16 MiB (policy tmp_size_bytes)");
	HAS(n, "32 MiB (policy workspace.max_bytes)");
	n = note(&f, (struct limit_run){.exit_code = 1}, "OSError: [Errno 27] File too large\n");
	HAS(n, "8 MiB (policy rlimits.fsize_bytes)");
	n = note(&f, (struct limit_run){.limit = "pids"}, NULL);
	HAS(n, "64 processes and threads (policy cgroup.pids_max)");
	n = note(&f, (struct limit_run){.exit_code = 1},
		 "socket.gaierror: [Errno -3] Temporary failure in name resolution\n");
	HAS(n, "no network (policy network: none)");
	n = note(&f, (struct limit_run){.exit_code = 1},
		 "OSError: [Errno 101] Network is unreachable\n");
	HAS(n, "no network");
	/* Nothing to say: a run that ended well whatever it printed, the
	 * script's own error, a refused loopback connection, or network
	 * errors where the policy has a network. */
	CHECK_STR(note(&f, (struct limit_run){0}, "MemoryError\n"), "");
	CHECK_STR(note(&f, (struct limit_run){.exit_code = 1}, "ValueError: x\n"), "");
	CHECK_STR(note(&f, (struct limit_run){.exit_code = 1},
		       "connect to 127.0.0.1:8000: Connection refused\n"),
		  "");
	struct sandbox_facts online = f;
	online.network = SANDBOX_NET_USER;
	CHECK_STR(note(&online, (struct limit_run){.exit_code = 1}, "Network is unreachable\n"),
		  "");
	/* A limit the policy does not set is not made up. */
	struct sandbox_facts bare = facts("{}");
	CHECK_STR(note(&bare, (struct limit_run){.exit_code = 1}, "MemoryError\n"), "");
	n = note(&bare,
		 (struct limit_run){.limit = "memory",
				    .signal = SIGKILL,
				    .limit_detail = "the kernel's OOM killer ended the job"},
		 NULL);
	HAS(n, "OOM killer");
	CHECK_STR(note(NULL, (struct limit_run){.limit = "memory"}, NULL), "");
}

int main(void)
{
	test_bytes();
	test_facts();
	test_notes();
	return check_done("limit_note");
}
