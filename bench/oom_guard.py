#!/usr/bin/python3
"""What the OOM guard (sandbox/oom_guard.h) costs: the launcher's own CPU
time while a job sleeps, with the guard looking every 20 ms (the launcher
in a memory cgroup with a limit, as in a container) against the same job
without a limit (no guard), alternating, in one run.  Needs root (it makes
a cgroup).  Not a test: it prints the ratio and what the guard takes of
one core.

Usage: bench/oom_guard.py [--build DIR] [--runs N] [--seconds S]
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def launcher_cpu(launcher, policy, cgroup, seconds):
    """The launcher's user+system seconds, read just before its job ends."""
    ws = tempfile.mkdtemp(prefix="pymcp-bench-")

    def enter():
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
    p = subprocess.Popen([launcher, "--policy", policy, "--workspace", ws, "--", "python3", "-c",
                          f"import time; time.sleep({seconds + 0.5})"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=enter)
    time.sleep(seconds)
    with open(f"/proc/{p.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    p.wait()
    os.rmdir(ws)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=4)
    a = ap.parse_args()
    launcher = os.path.join(a.build, "sandbox", "python-mcp-sandbox")
    policy = os.path.join(ROOT, "policies", "default.json")
    v1 = "/sys/fs/cgroup/memory"
    base = v1 if os.path.isdir(v1) else "/sys/fs/cgroup"
    cgroup = os.path.join(base, f"pymcp-bench-{os.getpid()}")
    os.mkdir(cgroup)
    try:
        limit = "memory.limit_in_bytes" if base == v1 else "memory.max"
        with open(os.path.join(cgroup, limit), "w") as f:
            f.write(str(4 << 30))
        plain, guarded = [], []
        for _ in range(a.runs):
            plain.append(launcher_cpu(launcher, policy, None, a.seconds))
            guarded.append(launcher_cpu(launcher, policy, cgroup, a.seconds))
    finally:
        os.rmdir(cgroup)
    p, g = statistics.median(plain), statistics.median(guarded)
    print(f"launcher CPU over {a.seconds:.1f} s of a sleeping job, median of {a.runs}:")
    print(f"  without a limit (no guard): {p:.3f} s")
    print(f"  with the guard:             {g:.3f} s  ({g / p if p else float('inf'):.2f}x)")
    print(f"  the guard's share of one core: {100 * (g - p) / a.seconds:.2f} %")


if __name__ == "__main__":
    main()
