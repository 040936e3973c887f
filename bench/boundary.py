#!/usr/bin/python3
"""What the host-boundary defences cost, over the real stdio transport
with the real launcher (default policy):

  round trip   a hello-world py_run_script_in_dir call with this build's
               server against a baseline build's (--baseline-build, e.g. a
               checkout of the commit before the defences, built the same
               way), the two interleaved so that machine noise hits both
  stored jobs  --stored-jobs runs (10,000 by default) that each print 256
               KiB of control bytes (escaped six-fold in JSON), made through
               the server itself: its VmRSS and the size of jobs.json after
               them, and py_job_status latency among them.  The state
               directory lives in /dev/shm (a tmpfs), never on the disk.

Not a test: it asserts nothing and prints figures and ratios measured in
the same run.

Usage: bench/boundary.py [--build DIR] [--baseline-build DIR] [--runs N]
                         [--stored-jobs N] [--concurrency N]
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp_client import Server, proc_status_kb  # noqa: E402
from server import mcp_hello as hello, pct  # noqa: E402  (bench/server.py)

RUN = "py_run_script_in_dir"
HOSTILE = "import sys; sys.stdout.write(''.join(chr(i % 32) for i in range(262144)))"


def round_trip(new, old, ws, runs):
    for _ in range(5):
        hello(new, ws)
        hello(old, ws)
    a, b = [], []
    for i in range(runs):
        # Alternate which goes first: neither always follows the other.
        if i % 2:
            a.append(hello(new, ws))
            b.append(hello(old, ws))
        else:
            b.append(hello(old, ws))
            a.append(hello(new, ws))
    return a, b


def unfinished(s):
    """Jobs still pending or running: listings of those carry no output."""
    return sum(s.call("py_list_jobs", {"status_filter": st, "limit": 1000})["total"]
               for st in ("pending", "running"))


def stored_jobs(s, ws, n, width):
    ids = []
    t0 = time.perf_counter()
    while len(ids) < n:
        for _ in range(min(width, n - len(ids))):
            ids.append(s.call(RUN, {"directory": ws, "script_content": HOSTILE,
                                    "async_mode": True})["job_id"])
        while unfinished(s) > width // 2:
            time.sleep(0.01)
        if len(ids) % 1000 < width:
            print(f"  {len(ids)} jobs started in {time.perf_counter() - t0:.0f} s", flush=True)
    while unfinished(s):
        time.sleep(0.05)
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--baseline-build", help="a build of the server to compare against")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--stored-jobs", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=4)
    a = ap.parse_args()
    server = os.path.join(a.build, "src", "python-mcp")
    base = tempfile.mkdtemp(prefix="pymcp-bench-", dir="/tmp")
    shm = tempfile.mkdtemp(prefix="pymcp-bench-", dir="/dev/shm")
    os.chmod(base, 0o755)
    ws = os.path.join(base, "roots", "ws")
    os.makedirs(ws)
    servers = []

    def start(binary, state, args=()):
        s = Server(binary, state, roots=[os.path.join(base, "roots")],
                   log_path=os.path.join(base, f"{len(servers)}.log"), validate=False,
                   args=list(args))
        servers.append(s)
        return s.start()

    try:
        print(f"python-mcp {server}; {os.cpu_count()} CPUs")
        if a.baseline_build:
            old_bin = os.path.join(a.baseline_build, "src", "python-mcp")
            new = start(server, os.path.join(base, "state-new"))
            old = start(old_bin, os.path.join(base, "state-old"))
            mine, theirs = round_trip(new, old, ws, a.runs)
            new.stop()
            old.stop()
            print(f"\nround trip ({a.runs} hello-world calls each, interleaved)")
            print(f"  baseline {old_bin}: median {statistics.median(theirs) * 1000:7.2f} ms"
                  f"  p95 {pct(theirs, 95) * 1000:7.2f} ms")
            print(f"  this build:        median {statistics.median(mine) * 1000:7.2f} ms"
                  f"  p95 {pct(mine, 95) * 1000:7.2f} ms")
            print(f"  ratio              median {statistics.median(mine) / statistics.median(theirs):6.3f}"
                  f"      p95 {pct(mine, 95) / pct(theirs, 95):6.3f}")
        if a.stored_jobs:
            state = os.path.join(shm, "state")
            budget = (a.stored_jobs + 16) * 2 * 262144
            s = start(server, state, ["--max-state-bytes", str(budget), "--max-stored-jobs",
                                      str(a.stored_jobs + 16), "--max-jobs", str(a.concurrency)])
            idle = proc_status_kb(s.pid, "VmRSS")
            print(f"\nstored jobs: {a.stored_jobs} runs of 256 KiB of control bytes each")
            t = time.perf_counter()
            ids = stored_jobs(s, ws, a.stored_jobs, a.concurrency * 2)
            took = time.perf_counter() - t
            rss = proc_status_kb(s.pid, "VmRSS")
            hwm = proc_status_kb(s.pid, "VmHWM")
            lat = []
            for jid in ids[:: max(1, len(ids) // 200)]:
                t = time.perf_counter()
                j = s.call("py_job_status", {"job_id": jid, "incremental": False})["job"]
                lat.append(time.perf_counter() - t)
                if len(j["result"]["stdout"]) < 262144:
                    sys.exit(f"job {jid} lost its output")
            peak = proc_status_kb(s.pid, "VmHWM")
            after = proc_status_kb(s.pid, "VmRSS")
            s.stop()
            size = os.path.getsize(os.path.join(state, "meta", "jobs.json"))
            print(f"  made in {took:.0f} s ({a.stored_jobs / took:.0f} runs/s)")
            print(f"  server VmRSS {idle / 1024:.1f} MiB idle, {rss / 1024:.1f} MiB with them "
                  f"stored (peak so far {hwm / 1024:.1f} MiB); jobs.json {size / 1048576:.2f} MiB")
            print(f"  after reading {len(lat)} whole results: VmRSS {after / 1024:.1f} MiB, peak "
                  f"{peak / 1024:.1f} MiB (an answer holds six 256 KiB streams, escaped)")
            print(f"  py_job_status with the whole result: median "
                  f"{statistics.median(lat) * 1000:.2f} ms, p95 {pct(lat, 95) * 1000:.2f} ms")
    finally:
        for s in servers:
            if s.proc and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(shm, ignore_errors=True)


if __name__ == "__main__":
    main()
