#!/usr/bin/python3
"""What live jobs cost the server: its CPU time for one job with progress
notifications, log notifications and a resource subscription, against the
same job without them, the same server, in one run.

The job runs about 3 s and prints a line every 20 ms (what a chatty
training loop does); with --script-progress it also reports its own
progress every 5 ms on PYMCP_PROGRESS_FD, which the launcher thins out to
ten a second.  The two kinds of call alternate, so machine noise hits both;
the server's CPU is read from /proc/<pid>/schedstat around each call, after the job's end and its last notification.

Not a test: it asserts nothing timing-related and prints ratios to the
baseline measured in the same run (the issue's bar: at most 1.02x).

Usage: bench/live.py [--build DIR] [--runs N] [--script-progress] [--no-subscribe] [--same]
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
from mcp_client import Server  # noqa: E402

SCRIPT = """
import os, sys, time
fd = int(os.environ["PYMCP_PROGRESS_FD"]) if {progress} else -1
end = time.monotonic() + 3.0
i = 0
next_line = 0.0
while time.monotonic() < end:
    now = time.monotonic()
    if now >= next_line:
        i += 1
        print("step", i, "loss", 1.0 / i, flush=True)
        next_line = now + 0.02
    if fd >= 0:
        os.write(fd, b"progress %d/150 training\\n" % i)
    time.sleep(0.005)
"""


def server_cpu(pid):
    """CPU seconds of the server so far, to the nanosecond (schedstat;
    /proc/<pid>/stat counts in 10 ms ticks, coarser than one call)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def server_syscalls(pid):
    """Read-like and write-like syscalls of the server so far (/proc/<pid>/io):
    a count machine noise does not change."""
    with open(f"/proc/{pid}/io") as f:
        io = dict(line.split(": ") for line in f.read().splitlines())
    return int(io["syscr"]) + int(io["syscw"])


def started_job(s, since):
    """The id in the first "job <id> started" log line after the first
    `since` notifications."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with s._lock:
            for n in s.notifications[since:]:
                data = str(n.get("params", {}).get("data", ""))
                if n["method"] == "notifications/message" and data.endswith(" started"):
                    return data.split()[1]
        time.sleep(0.01)
    raise RuntimeError("no log line of the job's start")


def one_call(s, ws, script, live, subscribe=True):
    """Server CPU seconds spent on one call (and its notifications).  A
    live call carries a progress token and, once the job's start is logged,
    subscribes to its output."""
    with s._lock:
        since = len(s.notifications)
    before = server_cpu(s.pid)
    calls_before = server_syscalls(s.pid)
    params = {"name": "py_run_script_in_dir",
              "arguments": {"directory": ws, "script_content": script}}
    if live:
        params["_meta"] = {"progressToken": f"p{time.monotonic_ns()}"}
    rid = s.send_request("tools/call", params)
    if live and subscribe:
        s.request("resources/subscribe", {"uri": f"job-stream://{started_job(s, since)}"})
    resp = s.wait_response(rid, timeout=120)
    assert "result" in resp and not resp["result"].get("isError"), resp
    # The end's notifications (resource updated, last log) go right
    # after the answer: let them out before reading the clock.
    time.sleep(0.3)
    SYSCALLS[live].append(server_syscalls(s.pid) - calls_before)
    return server_cpu(s.pid) - before


SYSCALLS = {False: [], True: []}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=24)
    ap.add_argument("--script-progress", action="store_true")
    ap.add_argument("--no-subscribe", action="store_true",
                    help="live calls carry a progress token only")
    ap.add_argument("--same", action="store_true",
                    help="both arms plain: the ratio this machine's noise alone gives")
    a = ap.parse_args()
    binary = os.path.join(a.build, "src", "python-mcp")
    tmp = tempfile.mkdtemp(prefix="pymcp-bench-live-", dir="/tmp")
    ws = os.path.join(tmp, "ws")
    os.makedirs(ws)
    script = SCRIPT.format(progress=a.script_progress)
    s = Server(binary, os.path.join(tmp, "state"), roots=[tmp], smart=60, validate=False).start()
    try:
        # Log notifications at every level: the plain calls make them too
        # (the level is the session's), so the ratio prices progress and
        # subscriptions; the log lines are counted below.
        s.request("logging/setLevel", {"level": "debug"})
        one_call(s, ws, script, True)  # warm-up
        one_call(s, ws, script, False)
        plain, live = [], []
        for _ in range(a.runs):
            plain.append(one_call(s, ws, script, False))
            live.append(one_call(s, ws, script, not a.same, not a.no_subscribe))
        notes = [n for n in s.notifications if n["method"] == "notifications/progress"]
        logs = [n for n in s.notifications if n["method"] == "notifications/message"]
        updates = [n for n in s.notifications if n["method"] == "notifications/resources/updated"]
    finally:
        s.stop()
    p, l = sum(plain), sum(live)
    print(f"live jobs, {a.runs} calls each, job ~3 s printing every 20 ms"
          f"{', reporting progress every 5 ms' if a.script_progress else ''}")
    print(f"  server CPU per call, plain: median {statistics.median(plain) * 1000:.1f} ms")
    print(f"  server CPU per call, live:  median {statistics.median(live) * 1000:.1f} ms")
    print(f"  notifications sent: {len(notes)} progress, {len(updates)} resource updates, "
          f"{len(logs)} log ({len(notes) / (a.runs + 1):.1f} progress and "
          f"{len(updates) / (a.runs + 1):.1f} updates per live call)")
    sp, sl = statistics.median(SYSCALLS[False]), statistics.median(SYSCALLS[True])
    print(f"  server read/write syscalls per call (median): plain {sp:.0f}, live {sl:.0f} "
          f"({sl / sp:.3f}x)")
    if p > 0:
        low, high = ratio_interval(plain, live)
        print(f"  ratio live/plain, medians: "
              f"{statistics.median(live) / statistics.median(plain):.3f}x; "
              f"totals: {l / p:.3f}x (95% of resampled totals within {low:.3f}x-{high:.3f}x: "
              f"what this machine's noise allows one to tell)")


def ratio_interval(plain, live, rounds=2000):
    """The 2.5th and 97.5th percentiles of the totals' ratio over pairs
    (plain, live) drawn with replacement: a ratio outside it is a cost,
    not noise."""
    rng = random.Random(1)
    pairs = list(zip(plain, live))
    ratios = []
    for _ in range(rounds):
        draw = [rng.choice(pairs) for _ in pairs]
        ratios.append(sum(x for _, x in draw) / sum(x for x, _ in draw))
    ratios.sort()
    return ratios[int(rounds * 0.025)], ratios[int(rounds * 0.975) - 1]


if __name__ == "__main__":
    main()
