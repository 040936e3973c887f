"""Sandbox cases of THREATS.md 1g: time; registered in threatlib.CASES."""
from threatlib import *  # noqa: F401,F403
from threats_fs import *  # noqa: F401,F403
from threats_process import *  # noqa: F401,F403
from threats_resources import *  # noqa: F401,F403
from threats_network import *  # noqa: F401,F403
from threats_kernel import *  # noqa: F401,F403
from threats_leaks import *  # noqa: F401,F403

# ==========================================================================
# 1g Time

@case("T1", "clock_settime, settimeofday, adjtimex and clock_adjtime are refused")
def t_t1(ctx):
    wall0, mono0 = time.time(), time.monotonic()
    check_seccomp(ctx, {"clock_settime": {"EPERM"}, "settimeofday": {"EPERM"},
                        "adjtimex": {"EPERM"}, "clock_adjtime": {"EPERM"}})
    # A real ADJ_SETOFFSET request (+1 day), refused before the kernel sees it.
    r = ctx.probe(ctx.workspace(), '''
    buf = ctypes.create_string_buffer(208)
    struct.pack_into("I", buf, 0, 0x0100)           # modes = ADJ_SETOFFSET
    struct.pack_into("qq", buf, 72, 86400, 0)       # time = +1 day
    attempt("adjtimex ADJ_SETOFFSET", sysc, 159, buf)
    ''').result
    check(r["adjtimex ADJ_SETOFFSET"] == "EPERM", f"inside: adjtimex(ADJ_SETOFFSET) -> {r}")
    drift = (time.time() - wall0) - (time.monotonic() - mono0)
    check(abs(drift) < 60, "host: the wall clock did not jump")


@case("T2", "unshare(CLONE_NEWTIME) is refused by the filter")
def t_t2(ctx):
    check_seccomp(ctx, {"unshare_time": {"EPERM"}})


@case("T5", "perf_event_open (high-resolution counters) is refused by the filter")
def t_t5(ctx):
    check_seccomp(ctx, {"perf_event_open": {"EPERM"}})


# Catalog items whose case checks what the launcher can; the rest, and why.
PARTIAL = {
    "F4": "the server's own refusal to return out.txt is tested with the server; here: the "
          "symlink leads nowhere inside and openat2 RESOLVE_BENEATH|NO_SYMLINKS refuses it",
    "F15": "Dirty Pipe (CVE-2022-0847) needs an unpatched kernel (< 5.16.11); only AF_ALG and "
           "the hashes of bound files are checked",
    "R3": "10^6 small files: the workspace is a bind of a host directory without a quota, so "
          "the launcher bounds only the size of one file (RLIMIT_FSIZE) and /tmp's size",
    "R4": "draining, keeping N MiB, marking truncation and writing valid job JSON is the "
          "server's (tested there); the launcher's output_bytes cap is checked, and the "
          "default policy sets none (0)",
    "I8": "accepted and documented; with proc.subset_pid the files are even hidden, sysinfo() "
          "still reports host-wide figures",
    "1h": "S1-S4 concern the server and are tested with it",
}

NOT_COVERED.update({
    "T3": "the server measures timeouts; the launcher's timer uses CLOCK_MONOTONIC (supervise.c), "
          "but proving it needs a wall-clock jump on the host, which a test may not do",
    "T4": "optional in THREATS.md; the default policy does not disable rdtsc (PR_SET_TSC), so "
          "there is nothing to assert yet",
})
