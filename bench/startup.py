#!/usr/bin/python3
"""Start-up cost of the sandbox: median wall time of `python3 -c pass`
bare, under python-mcp-sandbox (default policy, cold and prepared, and the
same policy without cgroup limits to show what they cost), and under
bubblewrap with comparable isolation when it is installed.

"--cache-dir" keeps the compiled seccomp filter between runs, as the
server does.  "Prepared" is how the server runs jobs: a launcher started with --spec-fd
has built its sandbox before the job exists.  The time counted runs from
writing the job to the "exit" status event, which is when the server can
answer (every process of the sandbox is gone by then; the launcher only
removes its cgroups afterwards).  Every variant runs in the same loop,
interleaved, so that machine noise hits them alike; the output is ratios to
bare python measured in this run.  Not a test: it asserts nothing.

Usage: bench/startup.py [--build DIR] [--runs N]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"


def bwrap_argv(ws):
    """bubblewrap with the layers our launcher applies, minus seccomp and
    cgroups (bubblewrap takes a compiled filter, and has no cgroups)."""
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr"]
    for d in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
             "--bind", ws, ws, "--chdir", ws, "--clearenv",
             "--setenv", "PATH", "/usr/bin:/bin", "--"]
    return argv


def prepared_run(launcher, policy, ws, cmd, cache):
    """Starts a launcher with --spec-fd, waits for "ready", then times the
    job alone."""
    spec_r, spec_w = os.pipe()
    stat_r, stat_w = os.pipe()
    p = subprocess.Popen([launcher, "--policy", policy, "--spec-fd", str(spec_r),
                          "--status-fd", str(stat_w), "--cache-dir", cache],
                         pass_fds=(spec_r, stat_w),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(spec_r)
    os.close(stat_w)
    with os.fdopen(stat_r) as status:
        ready = json.loads(status.readline() or "{}")
        if ready.get("event") != "ready":
            os.close(spec_w)
            p.wait()
            sys.exit(f"prepared launcher did not get ready: {ready}")
        t = time.perf_counter()
        os.write(spec_w, json.dumps({"workspace": ws, "argv": cmd}).encode())
        os.close(spec_w)
        for line in status:
            if json.loads(line).get("event") == "exit":
                break
        dt = time.perf_counter() - t
        status.read()
        p.wait()
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=60)
    args = ap.parse_args()

    launcher = os.path.join(args.build, "sandbox", "python-mcp-sandbox")
    policy = os.path.join(ROOT, "policies", "default.json")
    if not os.access(launcher, os.X_OK):
        sys.exit(f"no launcher at {launcher}: build first (scripts/test or scripts/run)")
    ws = tempfile.mkdtemp(prefix="pymcp-bench-")
    with open(policy) as f:
        nocg = json.load(f)
    nocg["cgroup"] = {}
    nocg["optional_layers"] = [l for l in nocg.get("optional_layers", []) if l != "cgroup"]
    nocg_path = os.path.join(tempfile.mkdtemp(prefix="pymcp-bench-policy-"), "nocgroup.json")
    with open(nocg_path, "w") as f:
        json.dump(nocg, f)

    cmd = [PYTHON, "-c", "pass"]
    cache = tempfile.mkdtemp(prefix="pymcp-bench-cache-")
    variants = {
        "bare python": cmd,
        "python-mcp-sandbox": [launcher, "--policy", policy, "--workspace", ws, "--"] + cmd,
        "python-mcp-sandbox, --cache-dir": [launcher, "--policy", policy, "--workspace", ws,
                                            "--cache-dir", cache, "--"] + cmd,
        "python-mcp-sandbox, no cgroups, --cache-dir": [
            launcher, "--policy", nocg_path, "--workspace", ws, "--cache-dir", cache, "--"] + cmd,
    }
    if shutil.which("bwrap"):
        variants["bubblewrap (no seccomp, no cgroups)"] = bwrap_argv(ws) + cmd
    else:
        print("bubblewrap not installed (apt-get install bubblewrap): not compared")

    for name, argv in variants.items():  # warm caches, and fail early
        r = subprocess.run(argv, capture_output=True)
        if r.returncode != 0:
            sys.exit(f"{name} failed ({r.returncode}): {r.stderr.decode()[-500:]}")

    prepared = {
        "python-mcp-sandbox, prepared": policy,
        "python-mcp-sandbox, prepared, no cgroups": nocg_path,
    }
    times = {name: [] for name in list(variants) + list(prepared)}
    for _ in range(args.runs):
        for name, argv in variants.items():
            t = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t)
        for name, pol in prepared.items():
            times[name].append(prepared_run(launcher, pol, ws, cmd, cache))

    base = statistics.median(times["bare python"])
    print(f"start-up of `python3 -c pass`, median of {args.runs} interleaved runs")
    print(f"{'variant':46} {'median ms':>10} {'p90 ms':>8} {'ratio':>7}")
    for name, ts in times.items():
        med = statistics.median(ts)
        p90 = statistics.quantiles(ts, n=10)[-1]
        print(f"{name:46} {med*1e3:10.2f} {p90*1e3:8.2f} {med/base:7.2f}x")
    shutil.rmtree(ws, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
