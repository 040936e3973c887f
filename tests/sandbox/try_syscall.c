/* try-syscall: calls system calls with harmless bad arguments and prints
 * what came back, one `NAME=RESULT` line per probe (the bubblewrap and
 * Flatpak helper, extended for the THREATS.md catalog).
 *
 * Every probe passes a bad pointer (1), a bad fd (-1) or an invalid flag
 * so that, when the seccomp filter lets the call through, the kernel fails
 * it with EFAULT/EBADF/EINVAL (or, where the kernel checks a capability
 * first, EPERM) and nothing happens.  When the filter blocks it, the
 * filter's errno comes back.  RESULT is the errno's name (EPERM), OK when
 * the call succeeded, or SIG<NAME> when the probe's process was killed
 * (SIGSYS for the filter's "bad architecture" kill).
 *
 * Each probe runs in a forked child, so that a kill, a personality change
 * or a call that unexpectedly succeeds never affects the next probe.
 *
 *   try-syscall NAME...      run the named probes
 *   try-syscall all          run every probe
 *   try-syscall host-safe    every probe that may run outside a sandbox
 *   try-syscall list         print the probe names
 *
 * With --simulate-no-ia32 first, the i386 probes raise the vector 0x81
 * instead of 0x80: no gate for user mode, so the CPU faults and the
 * process gets SIGSEGV, exactly as `int $0x80` does on a kernel without
 * IA-32 emulation.  For manual runs of the tests that decide their
 * expectation from such a kernel (PYMCP_SIMULATE_NO_IA32=1).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __x86_64__
#error "try-syscall probes the x86-64 ABI (and its i386 and x32 siblings)"
#endif

#define BAD_PTR ((void *)1)
#define BAD_FD	(-1)
#define X32_BIT 0x40000000L

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* A probe returns the raw result of its call; errno is read right after. */
typedef long (*probe_fn)(void);

struct probe {
	const char *name;
	probe_fn fn;
	/* Acts on something real (pid 1, the terminal on fd 0): never run it
	 * outside a sandbox; `host-safe` skips it. */
	bool sandbox_only;
};

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	return syscall(nr, a, b, c, d, e, f);
}

#define P(a) ((long)(uintptr_t)(a))

/* clone() with fork semantics: a child that gets through exits at once. */
static long clone_flags(unsigned long flags)
{
	long r = syscall(SYS_clone, (long)(flags | SIGCHLD), 0L, 0L, 0L, 0L);

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static bool simulate_no_ia32;

/* The i386 ABI through `int $0x80`.  Arguments are truncated to 32 bits,
 * so pointers must lie below 4 GiB. */
static long int80(long nr, long a, long b, long c)
{
	long ret;

	if (simulate_no_ia32)
		__asm__ volatile("int $0x81" : "=a"(ret) : "a"(nr) : "memory");
	else
		__asm__ volatile("int $0x80"
				 : "=a"(ret)
				 : "a"(nr), "b"(a), "c"(b), "d"(c)
				 : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static void *low_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		       -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* One probe per line: the table reads as a list of system calls. */
/* clang-format off */
/* ---- filesystem and mounts (F10, F11, F12) ---- */
static long p_mount(void) { return sys6(SYS_mount, P(BAD_PTR), P(BAD_PTR), P(BAD_PTR), 0, 0, 0); }
static long p_umount2(void) { return sys6(SYS_umount2, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_fsopen(void) { return sys6(SYS_fsopen, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_fsconfig(void) { return sys6(SYS_fsconfig, BAD_FD, 0, 0, 0, 0, 0); }
static long p_fsmount(void) { return sys6(SYS_fsmount, BAD_FD, 0, 0, 0, 0, 0); }
static long p_fspick(void) { return sys6(SYS_fspick, BAD_FD, P(BAD_PTR), 0, 0, 0, 0); }
static long p_move_mount(void)
{
	return sys6(SYS_move_mount, BAD_FD, P(BAD_PTR), BAD_FD, P(BAD_PTR), 0, 0);
}
static long p_open_tree(void) { return sys6(SYS_open_tree, BAD_FD, P(BAD_PTR), 0, 0, 0, 0); }
static long p_mount_setattr(void)
{
	return sys6(SYS_mount_setattr, BAD_FD, P(BAD_PTR), 0, P(BAD_PTR), 32, 0);
}
static long p_pivot_root(void) { return sys6(SYS_pivot_root, P(BAD_PTR), P(BAD_PTR), 0, 0, 0, 0); }
static long p_chroot(void) { return sys6(SYS_chroot, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_quotactl(void) { return sys6(SYS_quotactl, 0, P(BAD_PTR), 0, 0, 0, 0); }
static long p_quotactl_fd(void) { return sys6(SYS_quotactl_fd, BAD_FD, 0, 0, 0, 0, 0); }
static long p_name_to_handle_at(void)
{
	return sys6(SYS_name_to_handle_at, AT_FDCWD, P(BAD_PTR), P(BAD_PTR), P(BAD_PTR), 0, 0);
}
static long p_open_by_handle_at(void)
{
	return sys6(SYS_open_by_handle_at, BAD_FD, P(BAD_PTR), O_RDONLY, 0, 0, 0);
}
/* char 1:1 (/dev/mem) at a bad path: EFAULT when let through. */
static long p_mknod_mem(void)
{
	return sys6(SYS_mknodat, AT_FDCWD, P(BAD_PTR), 020600, (1 << 8) | 1, 0, 0);
}

/* ---- namespaces (1e, T2) ---- */
static long p_unshare_user(void) { return sys6(SYS_unshare, CLONE_NEWUSER, 0, 0, 0, 0, 0); }
static long p_unshare_ns(void) { return sys6(SYS_unshare, CLONE_NEWNS, 0, 0, 0, 0, 0); }
static long p_unshare_net(void) { return sys6(SYS_unshare, CLONE_NEWNET, 0, 0, 0, 0, 0); }
static long p_unshare_time(void) { return sys6(SYS_unshare, CLONE_NEWTIME, 0, 0, 0, 0, 0); }
static long p_setns(void) { return sys6(SYS_setns, BAD_FD, 0, 0, 0, 0, 0); }
static long p_clone_newuser(void) { return clone_flags(CLONE_NEWUSER); }
static long p_clone_newns(void) { return clone_flags(CLONE_NEWNS); }
static long p_clone_newpid(void) { return clone_flags(CLONE_NEWPID); }
static long p_clone_newnet(void) { return clone_flags(CLONE_NEWNET); }
static long p_clone_newipc(void) { return clone_flags(CLONE_NEWIPC); }
static long p_clone_newuts(void) { return clone_flags(CLONE_NEWUTS); }
static long p_clone_newcgroup(void) { return clone_flags(CLONE_NEWCGROUP); }
static long p_clone_plain(void) { return clone_flags(0); }
static long p_clone3(void) { return sys6(SYS_clone3, P(BAD_PTR), 88, 0, 0, 0, 0); }

/* ---- kernel attack surface (1e) ---- */
static long p_keyctl(void) { return sys6(SYS_keyctl, 6 /* DESCRIBE */, -1, P(BAD_PTR), 16, 0, 0); }
static long p_add_key(void) { return sys6(SYS_add_key, P(BAD_PTR), P(BAD_PTR), 0, 0, 0, 0); }
static long p_request_key(void) { return sys6(SYS_request_key, P(BAD_PTR), P(BAD_PTR), 0, 0, 0, 0); }
static long p_bpf(void) { return sys6(SYS_bpf, 5 /* PROG_LOAD */, P(BAD_PTR), 64, 0, 0, 0); }
static long p_perf_event_open(void)
{
	return sys6(SYS_perf_event_open, P(BAD_PTR), 0, -1, -1, 0, 0);
}
/* UFFD_USER_MODE_ONLY plus an unknown flag: EINVAL when let through. */
static long p_userfaultfd(void) { return sys6(SYS_userfaultfd, 1 | 2, 0, 0, 0, 0, 0); }
static long p_io_uring_setup(void) { return sys6(SYS_io_uring_setup, 1, P(BAD_PTR), 0, 0, 0, 0); }
static long p_io_uring_enter(void) { return sys6(SYS_io_uring_enter, BAD_FD, 0, 0, 0, 0, 0); }
static long p_io_uring_register(void)
{
	return sys6(SYS_io_uring_register, BAD_FD, 0, 0, 0, 0, 0);
}
static long p_ptrace(void) { return sys6(SYS_ptrace, 3 /* PEEKUSER */, -1, 0, 0, 0, 0); }
static long p_ptrace_attach_1(void) { return sys6(SYS_ptrace, 16 /* ATTACH */, 1, 0, 0, 0, 0); }
/* An unknown flag: EINVAL when let through. */
static long p_process_vm_readv(void)
{
	return sys6(SYS_process_vm_readv, 1, P(BAD_PTR), 1, P(BAD_PTR), 1, 1);
}
static long p_process_vm_writev(void)
{
	return sys6(SYS_process_vm_writev, 1, P(BAD_PTR), 1, P(BAD_PTR), 1, 1);
}
static long p_kcmp(void) { return sys6(SYS_kcmp, getpid(), getpid(), 0x7f, 0, 0, 0); }
static long p_pidfd_getfd(void) { return sys6(SYS_pidfd_getfd, BAD_FD, 0, 0, 0, 0, 0); }
static long p_process_madvise(void) { return sys6(SYS_process_madvise, BAD_FD, 0, 0, 0, 0, 0); }
static long p_personality_query(void) { return sys6(SYS_personality, 0xffffffff, 0, 0, 0, 0, 0); }
static long p_personality_linux32(void) { return sys6(SYS_personality, PER_LINUX32, 0, 0, 0, 0, 0); }
static long p_personality_norandom(void)
{
	return sys6(SYS_personality, ADDR_NO_RANDOMIZE, 0, 0, 0, 0, 0);
}
static long p_personality_readexec(void)
{
	return sys6(SYS_personality, READ_IMPLIES_EXEC, 0, 0, 0, 0, 0);
}
static long p_tiocsti(void) { return sys6(SYS_ioctl, BAD_FD, TIOCSTI, P(BAD_PTR), 0, 0, 0); }
/* CVE-2019-10063: the filter must compare only the low 32 bits. */
static long p_tiocsti_highbits(void)
{
	return sys6(SYS_ioctl, BAD_FD, (long)((0x123UL << 32) | TIOCSTI), P(BAD_PTR), 0, 0, 0);
}
static long p_tiocsti_stdin(void) { return sys6(SYS_ioctl, 0, TIOCSTI, P("x"), 0, 0, 0); }
static long p_tioclinux(void) { return sys6(SYS_ioctl, BAD_FD, TIOCLINUX, P(BAD_PTR), 0, 0, 0); }
static long p_tioclinux_highbits(void)
{
	return sys6(SYS_ioctl, BAD_FD, (long)((0x123UL << 32) | TIOCLINUX), P(BAD_PTR), 0, 0, 0);
}
static long p_ioctl_tcgets(void) { return sys6(SYS_ioctl, BAD_FD, TCGETS, P(BAD_PTR), 0, 0, 0); }
static long p_clock_settime(void) { return sys6(SYS_clock_settime, CLOCK_REALTIME, P(BAD_PTR), 0, 0, 0, 0); }
static long p_settimeofday(void) { return sys6(SYS_settimeofday, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_adjtimex(void) { return sys6(SYS_adjtimex, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_clock_adjtime(void) { return sys6(SYS_clock_adjtime, CLOCK_REALTIME, P(BAD_PTR), 0, 0, 0, 0); }
/* Wrong magic numbers: EINVAL (or EPERM without CAP_SYS_BOOT) when let
 * through, never a reboot. */
static long p_reboot(void) { return sys6(SYS_reboot, 0, 0, 0, 0, 0, 0); }
static long p_swapon(void) { return sys6(SYS_swapon, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_swapoff(void) { return sys6(SYS_swapoff, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_acct(void) { return sys6(SYS_acct, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_syslog(void) { return sys6(SYS_syslog, 3 /* READ_ALL */, P(BAD_PTR), 16, 0, 0, 0); }
static long p_lookup_dcookie(void) { return sys6(SYS_lookup_dcookie, 0, P(BAD_PTR), 0, 0, 0, 0); }
static long p_init_module(void) { return sys6(SYS_init_module, P(BAD_PTR), 0, P(BAD_PTR), 0, 0, 0); }
static long p_finit_module(void) { return sys6(SYS_finit_module, BAD_FD, P(BAD_PTR), 0, 0, 0, 0); }
static long p_delete_module(void) { return sys6(SYS_delete_module, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_kexec_load(void) { return sys6(SYS_kexec_load, 0, 0, 0, 0xdead0000, 0, 0); }
static long p_kexec_file_load(void) { return sys6(SYS_kexec_file_load, BAD_FD, BAD_FD, 0, 0, 0xdead, 0); }
static long p_iopl(void) { return sys6(SYS_iopl, 4, 0, 0, 0, 0, 0); }
static long p_ioperm(void) { return sys6(SYS_ioperm, 0x10000, 1, 1, 0, 0, 0); }
static long p_sethostname(void) { return sys6(SYS_sethostname, P(BAD_PTR), 4, 0, 0, 0, 0); }
static long p_setdomainname(void) { return sys6(SYS_setdomainname, P(BAD_PTR), 4, 0, 0, 0, 0); }
static long p_move_pages(void) { return sys6(SYS_move_pages, 0, 1, P(BAD_PTR), 0, P(BAD_PTR), 0x7f0); }
static long p_migrate_pages(void) { return sys6(SYS_migrate_pages, 0, 64, P(BAD_PTR), P(BAD_PTR), 0, 0); }
static long p_mbind(void) { return sys6(SYS_mbind, 0, 0, 0x7f, 0, 0, 0); }
static long p_set_mempolicy(void) { return sys6(SYS_set_mempolicy, 0x7f, 0, 0, 0, 0, 0); }
static long p_get_mempolicy(void) { return sys6(SYS_get_mempolicy, 0, 0, 0, 0, 0x7f, 0); }
static long p_uselib(void) { return sys6(SYS_uselib, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_ustat(void) { return sys6(SYS_ustat, 0, P(BAD_PTR), 0, 0, 0, 0); }
static long p_sysfs(void) { return sys6(SYS_sysfs, 0x7f, 0, 0, 0, 0, 0); }
static long p_sysctl(void) { return sys6(SYS__sysctl, P(BAD_PTR), 0, 0, 0, 0, 0); }
static long p_nfsservctl(void) { return sys6(SYS_nfsservctl, 0, 0, 0, 0, 0, 0); }
static long p_prctl_set_tsc(void) { return sys6(SYS_prctl, PR_SET_TSC, 0x7f, 0, 0, 0, 0); }

/* ---- sockets (N5..N8, F15) ---- */
static long sock(int family, int type, int proto)
{
	long fd = sys6(SYS_socket, family, type, proto, 0, 0, 0);

	if (fd >= 0)
		close((int)fd);
	return fd < 0 ? fd : 0;
}
static long p_socket_alg(void) { return sock(AF_ALG, SOCK_SEQPACKET, 0); }
static long p_socket_vsock(void) { return sock(AF_VSOCK, SOCK_STREAM, 0); }
static long p_socket_packet(void) { return sock(AF_PACKET, SOCK_RAW, 0); }
static long p_socket_inet_raw(void) { return sock(AF_INET, SOCK_RAW, 1 /* ICMP */); }
static long p_socket_netlink_route(void) { return sock(AF_NETLINK, SOCK_RAW, 0 /* ROUTE */); }
static long p_socket_netlink_netfilter(void) { return sock(AF_NETLINK, SOCK_RAW, 12); }
static long p_socket_netlink_audit(void) { return sock(AF_NETLINK, SOCK_RAW, 9); }
static long p_socket_netlink_uevent(void) { return sock(AF_NETLINK, SOCK_RAW, 15); }
static long p_socket_inet(void) { return sock(AF_INET, SOCK_STREAM, 0); }
static long p_socket_unix(void) { return sock(AF_UNIX, SOCK_STREAM, 0); }

/* ---- other ABIs (N10): the filter knows only the native one ---- */
static long p_i386_getpid(void) { return int80(20, 0, 0, 0); }
static long p_i386_socketcall_alg(void)
{
	uint32_t *args = low_page();

	if (args == NULL)
		return -1;
	args[0] = AF_ALG;
	args[1] = SOCK_SEQPACKET;
	args[2] = 0;
	return int80(102 /* socketcall */, 1 /* SYS_SOCKET */, (long)(uintptr_t)args, 0);
}
static long p_i386_vm86old(void) { return int80(113, 1, 0, 0); }
static long p_i386_setns(void) { return int80(346, BAD_FD, 0, 0); }
static long p_x32_getpid(void) { return syscall(X32_BIT | SYS_getpid); }
static long p_x32_socket_alg(void) { return syscall(X32_BIT | SYS_socket, AF_ALG, SOCK_SEQPACKET, 0); }

/* ---- allowed calls: the filter must not be a blanket deny ---- */
static long p_read_badfd(void) { return sys6(SYS_read, BAD_FD, P(BAD_PTR), 1, 0, 0, 0); }
static long p_open_badptr(void) { return sys6(SYS_openat, AT_FDCWD, P(BAD_PTR), O_RDONLY, 0, 0, 0); }
static long p_getpid(void) { return sys6(SYS_getpid, 0, 0, 0, 0, 0, 0) > 0 ? 0 : -1; }
/* clang-format on */

static const struct probe probes[] = {
    {"mount", p_mount},
    {"umount2", p_umount2},
    {"fsopen", p_fsopen},
    {"fsconfig", p_fsconfig},
    {"fsmount", p_fsmount},
    {"fspick", p_fspick},
    {"move_mount", p_move_mount},
    {"open_tree", p_open_tree},
    {"mount_setattr", p_mount_setattr},
    {"pivot_root", p_pivot_root},
    {"chroot", p_chroot},
    {"quotactl", p_quotactl},
    {"quotactl_fd", p_quotactl_fd},
    {"name_to_handle_at", p_name_to_handle_at},
    {"open_by_handle_at", p_open_by_handle_at},
    {"mknod_mem", p_mknod_mem},
    {"unshare_user", p_unshare_user},
    {"unshare_ns", p_unshare_ns},
    {"unshare_net", p_unshare_net},
    {"unshare_time", p_unshare_time},
    {"setns", p_setns},
    {"clone_newuser", p_clone_newuser},
    {"clone_newns", p_clone_newns},
    {"clone_newpid", p_clone_newpid},
    {"clone_newnet", p_clone_newnet},
    {"clone_newipc", p_clone_newipc},
    {"clone_newuts", p_clone_newuts},
    {"clone_newcgroup", p_clone_newcgroup},
    {"clone_plain", p_clone_plain},
    {"clone3", p_clone3},
    {"keyctl", p_keyctl},
    {"add_key", p_add_key},
    {"request_key", p_request_key},
    {"bpf", p_bpf},
    {"perf_event_open", p_perf_event_open},
    {"userfaultfd", p_userfaultfd},
    {"io_uring_setup", p_io_uring_setup},
    {"io_uring_enter", p_io_uring_enter},
    {"io_uring_register", p_io_uring_register},
    {"ptrace", p_ptrace},
    {"ptrace_attach_1", p_ptrace_attach_1, true},
    {"process_vm_readv", p_process_vm_readv},
    {"process_vm_writev", p_process_vm_writev},
    {"kcmp", p_kcmp},
    {"pidfd_getfd", p_pidfd_getfd},
    {"process_madvise", p_process_madvise},
    {"personality_query", p_personality_query},
    {"personality_linux32", p_personality_linux32},
    {"personality_norandom", p_personality_norandom},
    {"personality_readexec", p_personality_readexec},
    {"ioctl_tiocsti", p_tiocsti},
    {"ioctl_tiocsti_highbits", p_tiocsti_highbits},
    {"ioctl_tiocsti_stdin", p_tiocsti_stdin, true},
    {"ioctl_tioclinux", p_tioclinux},
    {"ioctl_tioclinux_highbits", p_tioclinux_highbits},
    {"ioctl_tcgets", p_ioctl_tcgets},
    {"clock_settime", p_clock_settime},
    {"settimeofday", p_settimeofday},
    {"adjtimex", p_adjtimex},
    {"clock_adjtime", p_clock_adjtime},
    {"reboot", p_reboot},
    {"swapon", p_swapon},
    {"swapoff", p_swapoff},
    {"acct", p_acct},
    {"syslog", p_syslog},
    {"lookup_dcookie", p_lookup_dcookie},
    {"init_module", p_init_module},
    {"finit_module", p_finit_module},
    {"delete_module", p_delete_module},
    {"kexec_load", p_kexec_load},
    {"kexec_file_load", p_kexec_file_load},
    {"iopl", p_iopl},
    {"ioperm", p_ioperm},
    {"sethostname", p_sethostname},
    {"setdomainname", p_setdomainname},
    {"move_pages", p_move_pages},
    {"migrate_pages", p_migrate_pages},
    {"mbind", p_mbind},
    {"set_mempolicy", p_set_mempolicy},
    {"get_mempolicy", p_get_mempolicy},
    {"uselib", p_uselib},
    {"ustat", p_ustat},
    {"sysfs", p_sysfs},
    {"_sysctl", p_sysctl},
    {"nfsservctl", p_nfsservctl},
    {"prctl_set_tsc", p_prctl_set_tsc},
    {"socket_alg", p_socket_alg},
    {"socket_vsock", p_socket_vsock},
    {"socket_packet", p_socket_packet},
    {"socket_inet_raw", p_socket_inet_raw},
    {"socket_netlink_route", p_socket_netlink_route},
    {"socket_netlink_netfilter", p_socket_netlink_netfilter},
    {"socket_netlink_audit", p_socket_netlink_audit},
    {"socket_netlink_uevent", p_socket_netlink_uevent},
    {"socket_inet", p_socket_inet},
    {"socket_unix", p_socket_unix},
    {"i386_getpid", p_i386_getpid},
    {"i386_socketcall_alg", p_i386_socketcall_alg},
    {"i386_vm86old", p_i386_vm86old},
    {"i386_setns", p_i386_setns},
    {"x32_getpid", p_x32_getpid},
    {"x32_socket_alg", p_x32_socket_alg},
    {"read_badfd", p_read_badfd},
    {"openat_badptr", p_open_badptr},
    {"getpid", p_getpid},
};

#define N_PROBES (sizeof(probes) / sizeof(*probes))

static const char *errno_name(int e)
{
	static char buf[16];

	switch (e) {
#define E(x)                                                                                       \
	case x:                                                                                    \
		return #x
		E(EPERM);
		E(ENOENT);
		E(ESRCH);
		E(EINTR);
		E(EIO);
		E(ENXIO);
		E(E2BIG);
		E(ENOEXEC);
		E(EBADF);
		E(ECHILD);
		E(EAGAIN);
		E(ENOMEM);
		E(EACCES);
		E(EFAULT);
		E(EBUSY);
		E(EEXIST);
		E(EXDEV);
		E(ENODEV);
		E(ENOTDIR);
		E(EISDIR);
		E(EINVAL);
		E(ENFILE);
		E(EMFILE);
		E(ENOTTY);
		E(ETXTBSY);
		E(EFBIG);
		E(ENOSPC);
		E(ESPIPE);
		E(EROFS);
		E(EMLINK);
		E(EPIPE);
		E(ERANGE);
		E(ENAMETOOLONG);
		E(ENOSYS);
		E(ENOTEMPTY);
		E(ELOOP);
		E(ENOKEY);
		E(EOPNOTSUPP);
		E(EAFNOSUPPORT);
		E(EPROTONOSUPPORT);
		E(ESOCKTNOSUPPORT);
		E(ECONNREFUSED);
		E(ENETUNREACH);
		E(EADDRNOTAVAIL);
		E(ENOTSOCK);
		E(EPROTOTYPE);
		E(ENOBUFS);
		E(EKEYREVOKED);
		E(ENODATA);
		E(EOVERFLOW);
		E(EBADFD);
		E(ENOTBLK);
		E(ENOPROTOOPT);
#undef E
	}
	snprintf(buf, sizeof(buf), "E#%d", e);
	return buf;
}

/* Runs one probe in a child; the child reports errno through its exit
 * status (0 = the call succeeded, 255 = an errno above 254). */
static void run(const struct probe *p)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("%s=FORK_FAILED:%s\n", p->name, errno_name(errno));
		return;
	}
	if (pid == 0) {
		long r;
		errno = 0;
		r = p->fn();
		if (r >= 0)
			_exit(0);
		_exit(errno > 0 && errno < 255 ? errno : 255);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			printf("%s=WAIT_FAILED\n", p->name);
			return;
		}
	if (WIFSIGNALED(status))
		printf("%s=SIG%s\n", p->name, sigabbrev_np(WTERMSIG(status)) ?: "?");
	else if (WEXITSTATUS(status) == 0)
		printf("%s=OK\n", p->name);
	else
		printf("%s=%s\n", p->name, errno_name(WEXITSTATUS(status)));
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: try-syscall NAME... | all | host-safe | list\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int first = 1;
	if (strcmp(argv[1], "--simulate-no-ia32") == 0) {
		simulate_no_ia32 = true;
		first = 2;
	}
	for (int i = first; i < argc; i++) {
		bool found = false;
		for (size_t j = 0; j < N_PROBES; j++) {
			if (strcmp(argv[i], "list") == 0) {
				printf("%s\n", probes[j].name);
				found = true;
			} else if (strcmp(argv[i], "all") == 0 ||
				   strcmp(argv[i], probes[j].name) == 0 ||
				   (strcmp(argv[i], "host-safe") == 0 && !probes[j].sandbox_only)) {
				run(&probes[j]);
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "try-syscall: unknown probe `%s`\n", argv[i]);
			rc = 2;
		}
	}
	return rc;
}
