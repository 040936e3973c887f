"""Sandbox cases of THREATS.md 1e: kernel attack surface; registered in threatlib.CASES."""
from threatlib import *  # noqa: F401,F403
from threats_fs import *  # noqa: F401,F403
from threats_process import *  # noqa: F401,F403
from threats_resources import *  # noqa: F401,F403
from threats_network import *  # noqa: F401,F403

# ==========================================================================
# 1e Kernel attack surface: the whole table through try-syscall

TABLE_1E = {
    "keyctl": {"EPERM"}, "add_key": {"EPERM"}, "request_key": {"EPERM"},
    "bpf": {"EPERM"}, "perf_event_open": {"EPERM"}, "userfaultfd": {"EPERM"},
    "io_uring_setup": {"EPERM"}, "io_uring_enter": {"EPERM"}, "io_uring_register": {"EPERM"},
    "unshare_user": {"EPERM"}, "unshare_ns": {"EPERM"}, "unshare_net": {"EPERM"},
    "unshare_time": {"EPERM"}, "setns": {"EPERM"},
    "clone_newuser": {"EPERM"}, "clone_newns": {"EPERM"}, "clone_newpid": {"EPERM"},
    "clone_newnet": {"EPERM"}, "clone_newipc": {"EPERM"}, "clone_newuts": {"EPERM"},
    "clone_newcgroup": {"EPERM"}, "clone3": {"ENOSYS"},
    "mount": {"EPERM"}, "umount2": {"EPERM"}, "fsopen": {"EPERM", "ENOSYS"},
    "fsconfig": {"EPERM", "ENOSYS"}, "fsmount": {"EPERM", "ENOSYS"}, "fspick": {"EPERM", "ENOSYS"},
    "move_mount": {"EPERM", "ENOSYS"}, "open_tree": {"EPERM", "ENOSYS"},
    "mount_setattr": {"EPERM", "ENOSYS"}, "pivot_root": {"EPERM"}, "chroot": {"EPERM"},
    "kexec_load": {"EPERM"}, "kexec_file_load": {"EPERM"},
    "init_module": {"EPERM"}, "finit_module": {"EPERM"}, "delete_module": {"EPERM"},
    "ptrace": {"EPERM"}, "process_vm_readv": {"EPERM"}, "process_vm_writev": {"EPERM"},
    "kcmp": {"EPERM"}, "pidfd_getfd": {"EPERM"}, "process_madvise": {"EPERM"},
    "personality_norandom": {"EPERM"}, "personality_readexec": {"EPERM"},
    "ioctl_tiocsti": {"EPERM"}, "ioctl_tiocsti_highbits": {"EPERM"},
    "ioctl_tioclinux": {"EPERM"}, "ioctl_tioclinux_highbits": {"EPERM"},
    "clock_settime": {"EPERM"}, "settimeofday": {"EPERM"}, "adjtimex": {"EPERM"},
    "clock_adjtime": {"EPERM"}, "reboot": {"EPERM"}, "swapon": {"EPERM"}, "swapoff": {"EPERM"},
    "acct": {"EPERM"}, "quotactl": {"EPERM"}, "quotactl_fd": {"EPERM"},
    "name_to_handle_at": {"EPERM"}, "open_by_handle_at": {"EPERM"}, "syslog": {"EPERM"},
    "lookup_dcookie": {"EPERM"}, "i386_vm86old": {"SIGSYS"},
    "move_pages": {"EPERM"}, "migrate_pages": {"EPERM"}, "mbind": {"EPERM"},
    "set_mempolicy": {"EPERM"}, "get_mempolicy": {"EPERM"},
    "socket_alg": {"EPERM"}, "socket_vsock": {"EPERM"}, "socket_packet": {"EPERM"},
    "i386_socketcall_alg": {"SIGSYS"},
    "uselib": {"EPERM"}, "ustat": {"EPERM"}, "sysfs": {"EPERM"}, "_sysctl": {"EPERM"},
    "nfsservctl": {"EPERM"}, "iopl": {"EPERM"}, "ioperm": {"EPERM"},
    "sethostname": {"EPERM"}, "setdomainname": {"EPERM"},
}
ALLOWED_1E = ["clone_plain", "personality_query", "personality_linux32", "ioctl_tcgets",
              "socket_inet", "socket_unix", "socket_netlink_route", "read_badfd",
              "openat_badptr", "getpid"]


@case("1e", "every syscall of the THREATS.md 1e table is refused; ordinary calls are not")
def t_1e(ctx):
    check_seccomp(ctx, TABLE_1E, allowed=ALLOWED_1E)


@case("1e.nested-userns", "nested user namespaces stay blocked even without the filter")
def t_1e_userns(ctx):
    ws = ctx.workspace()
    r, res = ctx.syscalls(ws, ["unshare_user", "clone_newuser"],
                          policy=ctx.policy(drop_seccomp, "no-seccomp"))
    check(r["unshare_user"] in ("ENOSPC", "EPERM", "EUSERS") and
          r["clone_newuser"] in ("ENOSPC", "EPERM", "EUSERS"),
          f"inside, filter removed: unshare/clone(CLONE_NEWUSER) -> {r} "
          "(user.max_user_namespaces=0 in the sandbox)")
    check(not (res.started or {}).get("degraded") and
          not any(e.get("event") == "degraded" for e in res.events),
          "the nested-userns block was not reported as degraded", res.text())
    ctl = subprocess.run([ctx.try_syscall_bin, "clone_newuser", "unshare_user"],
                         capture_output=True, text=True).stdout
    check("clone_newuser=OK" in ctl and "unshare_user=OK" in ctl,
          f"control: outside the sandbox the same probes create user namespaces ({ctl.split()})")
