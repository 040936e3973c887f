/* Loads the filter compiled from a policy (policies/default.json) into a
 * child process and probes it the bubblewrap way (THREATS.md §1): each
 * syscall is called with arguments the kernel would reject (a bad fd, a
 * NULL pointer), so an allowed call fails harmlessly with EBADF/EFAULT/
 * EINVAL, and a denied one returns the filter's errno.  Then, when a Python
 * is named, runs python_smoke.py under the same filter.
 *
 *   test_seccomp_filter POLICY [PYTHON SCRIPT]
 *
 * Exit status 77 when this kernel refuses to load the filter at all.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "policy.h"
#include "seccomp.h"

#define SKIP 77

static int failures;

/* Expects syscall(nr, ...) to fail with `want` (0: to succeed). */
static void expect(const char *what, long rc, int want)
{
	int got = rc < 0 ? errno : 0;

	if (rc >= 0 && want == 0 && rc > 2 && strncmp(what, "socket", 6) == 0)
		close((int)rc);
	if (got != want) {
		fprintf(stderr, "FAIL %s: expected %s, got %s\n", what,
			want ? strerrorname_np(want) : "success",
			got ? strerrorname_np(got) : "success");
		failures++;
	}
}

/* Expects the call to pass the filter: any result but EPERM. */
static void expect_allowed(const char *what, long rc)
{
	if (rc < 0 && errno == EPERM) {
		fprintf(stderr, "FAIL %s: denied by the filter\n", what);
		failures++;
	}
	if (rc > 2 && strncmp(what, "socket", 6) == 0)
		close((int)rc);
}

static void probe_ioctl(void)
{
	/* Every low 16-bit request, with and without high bits, and a spread
	 * of 32-bit ones: only TIOCSTI and TIOCLINUX are denied. */
	static const uint64_t highs[] = {0, 1ULL << 32, 0xFFFFFFFF00000000ULL};
	size_t wrong = 0;

	for (size_t h = 0; h < sizeof(highs) / sizeof(highs[0]); h++) {
		for (uint64_t low = 0; low <= 0xFFFFFFFFULL; low += (low < 0x10000 ? 1 : 0x10001)) {
			uint64_t req = highs[h] | low;
			long rc = syscall(SYS_ioctl, -1, req, 0);
			bool denied = rc < 0 && errno == EPERM;
			bool should = low == 0x5412 || low == 0x541C;

			if (denied != should && wrong++ < 5)
				fprintf(stderr, "FAIL ioctl(-1, %#llx): %s\n",
					(unsigned long long)req, denied ? "denied" : "allowed");
		}
	}
	failures += wrong > 0;
}

static void probe_sockets(void)
{
	expect_allowed("socket(AF_UNIX)", syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
	expect_allowed("socket(AF_INET)", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
	expect_allowed("socket(AF_INET6)", syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0));
	expect_allowed("socket(AF_NETLINK, NETLINK_ROUTE)",
		       syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0));
	expect_allowed("socket(AF_KCM)", syscall(SYS_socket, 41, SOCK_DGRAM, 0));
	/* The kernel reads an int: high bits are ignored, AF_INET it is. */
	expect_allowed("socket(AF_INET | high bits)",
		       syscall(SYS_socket, 0xFFFFFFFF00000002ULL, SOCK_STREAM, 0));
	expect("socket(AF_NETLINK, NETLINK_AUDIT)", syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 9),
	       EPERM);
	expect("socket(AF_PACKET)", syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0), EPERM);
	expect("socket(AF_ALG)", syscall(SYS_socket, 38, SOCK_SEQPACKET, 0), EPERM);
	expect("socket(AF_ALG | high bits)", syscall(SYS_socket, 0x100000026ULL, SOCK_SEQPACKET, 0),
	       EPERM);
	expect("socket(AF_VSOCK)", syscall(SYS_socket, 40, SOCK_STREAM, 0), EPERM);
	expect("socket(48)", syscall(SYS_socket, 48, SOCK_STREAM, 0), EPERM);
	expect("socketpair(AF_INET)", syscall(SYS_socketpair, AF_INET, SOCK_STREAM, 0, NULL),
	       EPERM);
	expect("socketpair(AF_UNIX, NULL)", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, NULL),
	       EFAULT);
}

static void probe_process(void)
{
	/* CLONE_THREAD without CLONE_SIGHAND: EINVAL from the kernel when the
	 * filter lets the call through. */
	expect("clone(CLONE_THREAD)", syscall(SYS_clone, 0x00010000, 0, 0, 0, 0), EINVAL);
	expect("clone(CLONE_THREAD | CLONE_NEWUSER)", syscall(SYS_clone, 0x10010000, 0, 0, 0, 0),
	       EPERM);
	expect("clone(CLONE_THREAD | CLONE_NEWNET)", syscall(SYS_clone, 0x40010000, 0, 0, 0, 0),
	       EPERM);
	expect("clone3", syscall(SYS_clone3, NULL, 0), ENOSYS);
	expect("unshare(0)", syscall(SYS_unshare, 0), EPERM);
	expect("setns", syscall(SYS_setns, -1, 0), EPERM);
	expect("ptrace", syscall(SYS_ptrace, -1, 0, 0, 0), EPERM);
	expect("process_vm_readv", syscall(SYS_process_vm_readv, 0, NULL, 0, NULL, 0, 0), EPERM);
	expect("kcmp", syscall(SYS_kcmp, 0, 0, 0, 0, 0), EPERM);
	expect("pidfd_getfd", syscall(SYS_pidfd_getfd, -1, -1, 0), EPERM);
	expect("personality(READ_IMPLIES_EXEC)", syscall(SYS_personality, 0x0400000), EPERM);
	expect_allowed("personality(query)", syscall(SYS_personality, 0xffffffffUL));
	expect("read(-1)", syscall(SYS_read, -1, NULL, 0), EBADF);
	expect("getpid", syscall(SYS_getpid) > 0 ? 0 : -1, 0);
}

/* Ids: only the sandbox's own (1000) or -1 pass; any other id gets EPERM
 * from the filter, where the kernel would give EINVAL for an id the user
 * namespace does not map.  Run as root here, so every call is harmless:
 * the denied ones would only confirm root's ids, the allowed ones fail on
 * a bad path or fd or change nothing. */
static void probe_ids(void)
{
	expect("setuid(0)", syscall(SYS_setuid, 0), EPERM);
	expect("setresgid(0, -1, -1)", syscall(SYS_setresgid, 0, -1, -1), EPERM);
	expect("setreuid(-1, 0)", syscall(SYS_setreuid, -1, 0), EPERM);
	expect("setresuid(-1, -1, -1)", syscall(SYS_setresuid, -1, -1, -1), 0);
	expect("chown(\"/nonexistent\", 0, 0)", syscall(SYS_chown, "/nonexistent", 0, 0), EPERM);
	expect("chown(\"/nonexistent\", 1000, -1)", syscall(SYS_chown, "/nonexistent", 1000, -1),
	       ENOENT);
	expect("fchown(-1, -1, 1000)", syscall(SYS_fchown, -1, -1, 1000), EBADF);
	expect("fchownat(-1, \"x\", 0, 1000, 0)", syscall(SYS_fchownat, -1, "x", 0, 1000, 0),
	       EPERM);
	expect("fchownat(-1, \"x\", 1000, 1000, 0)", syscall(SYS_fchownat, -1, "x", 1000, 1000, 0),
	       EBADF);
}

static void probe_kernel_surface(void)
{
	static const struct {
		const char *name;
		long nr;
	} denied[] = {
	    {"keyctl", SYS_keyctl},
	    {"add_key", SYS_add_key},
	    {"request_key", SYS_request_key},
	    {"bpf", SYS_bpf},
	    {"perf_event_open", SYS_perf_event_open},
	    {"userfaultfd", SYS_userfaultfd},
	    {"io_uring_setup", SYS_io_uring_setup},
	    {"mount", SYS_mount},
	    {"umount2", SYS_umount2},
	    {"fsopen", SYS_fsopen},
	    {"open_tree", SYS_open_tree},
	    {"move_mount", SYS_move_mount},
	    {"pivot_root", SYS_pivot_root},
	    {"chroot", SYS_chroot},
	    {"kexec_load", SYS_kexec_load},
	    {"init_module", SYS_init_module},
	    {"finit_module", SYS_finit_module},
	    {"clock_settime", SYS_clock_settime},
	    {"settimeofday", SYS_settimeofday},
	    {"adjtimex", SYS_adjtimex},
	    {"clock_adjtime", SYS_clock_adjtime},
	    {"reboot", SYS_reboot},
	    {"swapon", SYS_swapon},
	    {"acct", SYS_acct},
	    {"quotactl", SYS_quotactl},
	    {"name_to_handle_at", SYS_name_to_handle_at},
	    {"open_by_handle_at", SYS_open_by_handle_at},
	    {"syslog", SYS_syslog},
	    {"move_pages", SYS_move_pages},
	    {"mbind", SYS_mbind},
	    {"set_mempolicy", SYS_set_mempolicy},
	    {"sethostname", SYS_sethostname},
#ifdef __x86_64__
	    {"iopl", SYS_iopl},
	    {"ioperm", SYS_ioperm},
	    {"modify_ldt", SYS_modify_ldt},
#endif
	};

	/* All arguments -1: invalid for each of these calls (bad pointer, fd,
	 * length or magic), so that a call the filter wrongly lets through
	 * still does nothing, even when the test runs as root.  vhangup takes
	 * no argument to spoil and is left out. */
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		expect(denied[i].name, syscall(denied[i].nr, -1L, -1L, -1L, -1L, -1L, -1L), EPERM);
}

/* Runs fn in a child and returns its wait status. */
static int in_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

/* PYMCP_SIMULATE_NO_IA32=1 (manual runs): the i386 probe raises vector 0x81,
 * which has no user gate, so it faults with SIGSEGV exactly as `int $0x80`
 * does on a kernel without IA-32 emulation. */
static bool simulate_no_ia32;

/* Whether this kernel runs i386 syscalls: measured unfiltered, in main(). */
static bool ia32_emulation;

#ifdef __x86_64__
static void i386_getpid(void)
{
	long rc = 20; /* getpid in the i386 table */

	/* The kernel's own verdict, never a sanitizer's: ASan turns SIGSEGV
	 * into an exit status, which would hide a fault. */
	signal(SIGSEGV, SIG_DFL);
	if (simulate_no_ia32)
		__asm__ volatile("int $0x81" : "+a"(rc) : : "memory");
	else
		__asm__ volatile("int $0x80" : "+a"(rc) : : "memory");
}

static void x32_getpid(void)
{
	syscall(0x40000000 | 39);
}
#endif

static void probe_foreign_abis(void)
{
#ifdef __x86_64__
	int status = in_child(i386_getpid);
	/* With IA-32 emulation the filter must kill (SIGSYS); without it the
	 * kernel faults the call (SIGSEGV) before any filter runs. */
	int want = ia32_emulation ? SIGSYS : SIGSEGV;

	if (!(WIFSIGNALED(status) && WTERMSIG(status) == want)) {
		fprintf(stderr, "FAIL int 0x80 (IA-32 emulation %s): expected %s, status %#x\n",
			ia32_emulation ? "on" : "off", sigabbrev_np(want), status);
		failures++;
	}
	status = in_child(x32_getpid);
	if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)) {
		fprintf(stderr, "FAIL x32 syscall was not killed (status %#x)\n", status);
		failures++;
	}
#endif
}

/* The control: the same i386 call, unfiltered.  It returns where the
 * kernel has IA-32 emulation and faults (SIGSEGV) where it has not. */
static int measure_ia32(void)
{
#ifdef __x86_64__
	const char *sim = getenv("PYMCP_SIMULATE_NO_IA32");
	int status;

	simulate_no_ia32 = sim && *sim && strcmp(sim, "0") != 0;
	status = in_child(i386_getpid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ia32_emulation = true;
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
		ia32_emulation = false;
		printf("control: no IA-32 emulation here (int 0x80 faults unfiltered)\n");
	} else {
		fprintf(stderr, "control: int 0x80 unfiltered gave status %#x\n", status);
		return -1;
	}
#endif
	return 0;
}

static int run_python(const char *python, const char *script)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execl(python, python, "-I", script, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", python, strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "FAIL %s %s: status %#x\n", python, script, status);
		return 1;
	}
	return 0;
}

/* The filtered part, in a child: sanitizer runtimes need syscalls at exit
 * (LeakSanitizer uses ptrace) that the filter denies, so the child leaves
 * with _exit() and the parent stays unfiltered. */
static int filtered_child(scmp_filter_ctx ctx, int argc, char **argv)
{
	int rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || (rc = seccomp_load(ctx)) < 0) {
		fprintf(stderr, "cannot load the filter here (%s); skipping\n", strerror(errno));
		return SKIP;
	}
	probe_ioctl();
	probe_sockets();
	probe_process();
	probe_kernel_surface();
	probe_ids();
	probe_foreign_abis();
	if (argc == 4)
		failures += run_python(argv[2], argv[3]);
	if (failures > 0) {
		fprintf(stderr, "%d probe(s) failed\n", failures);
		return 1;
	}
	printf("seccomp filter: all probes passed\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct sb_policy p;
	struct pm_error err;
	scmp_filter_ctx ctx;
	char msg[2048];
	int rc, status;
	pid_t pid;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: %s POLICY [PYTHON SCRIPT]\n", argv[0]);
		return 2;
	}
	rc = sb_policy_load(argv[1], &p, &err);
	if (rc >= 0 && p.seccomp == NULL)
		rc = pm_error_set(&err, "policy", 0, "%s has no seccomp section", argv[1]);
	if (rc >= 0)
		rc = sb_seccomp_build(p.seccomp_profile, p.file, &ctx, &err);
	sb_policy_free(&p);
	if (rc < 0) {
		pm_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return 1;
	}
	if (measure_ia32() < 0) {
		seccomp_release(ctx);
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		rc = filtered_child(ctx, argc, argv);
		fflush(stdout);
		_exit(rc);
	}
	seccomp_release(ctx);
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		perror("fork");
		return 1;
	}
	if (!WIFEXITED(status)) {
		fprintf(stderr, "the filtered child died (status %#x)\n", status);
		return 1;
	}
	return WEXITSTATUS(status);
}
