#!/usr/bin/python3
"""What a session saves: `1 + 1` as a py_session_run against the same code
as a fresh sandboxed py_run_script_in_dir, on one server, in one run.

- round trip: the median of N calls of each kind, one at a time (the two
  kinds alternate, so machine noise hits both);
- throughput: calls completed per second with 8 in flight for a few
  seconds, 8 sessions against fresh runs (the server's default 4 job
  slots).

Not a test: it asserts nothing timing-related and prints ratios to the
baseline measured in the same run (the issue's bars: a session run at
most 0.1x a fresh run's round trip, 8 sessions at least 10x its
throughput).

Usage: bench/sessions.py [--build DIR] [--runs N] [--seconds S]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
from mcp_client import Server  # noqa: E402

CODE = "1 + 1"


def fresh_args(ws):
    return "py_run_script_in_dir", {"directory": ws, "script_content": f"print({CODE})"}


def session_args(sid):
    return "py_session_run", {"session_id": sid, "code": CODE}


def timed(s, call):
    t0 = time.perf_counter()
    sc, is_error = s.call_any(*call)
    if is_error:
        sys.exit(f"{call[0]} failed: {sc}")
    return time.perf_counter() - t0


def throughput(s, calls, seconds):
    """Completed calls per second, each of `calls` kept in flight."""
    inflight = {s.send_call(*c): c for c in calls}
    done, end = 0, time.perf_counter() + seconds
    t0 = time.perf_counter()
    while inflight:
        rid = next(iter(inflight))
        c = inflight.pop(rid)
        s.wait_call(c[0], rid)
        done += 1
        if time.perf_counter() < end:
            inflight[s.send_call(*c)] = c
    return done / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=5.0)
    a = ap.parse_args()
    binary = os.path.join(a.build, "src", "python-mcp")
    with tempfile.TemporaryDirectory(prefix="pymcp-bench-sessions-") as tmp:
        ws = os.path.join(tmp, "ws")
        os.makedirs(ws)
        s = Server(binary, os.path.join(tmp, "state"), roots=[tmp], smart=60,
                   validate=False, args=["--max-sessions", "8"]).start()
        try:
            sids = [s.call("py_session_start", {"directory": ws})["session_id"]
                    for _ in range(8)]
            for _ in range(3):  # warm both paths
                timed(s, fresh_args(ws))
                timed(s, session_args(sids[0]))
            fresh, session = [], []
            for _ in range(a.runs):
                fresh.append(timed(s, fresh_args(ws)))
                session.append(timed(s, session_args(sids[0])))
            f, m = statistics.median(fresh), statistics.median(session)
            print(f"round trip, median of {a.runs}: fresh run {f * 1000:.1f} ms (1.00x), "
                  f"session run {m * 1000:.2f} ms ({m / f:.3f}x; bar: at most 0.1x)")
            tf = throughput(s, [fresh_args(ws)] * 8, a.seconds)
            ts = throughput(s, [session_args(sid) for sid in sids], a.seconds)
            print(f"throughput, 8 in flight for {a.seconds:.0f} s: fresh runs {tf:.1f}/s (1.00x), "
                  f"8 sessions {ts:.1f}/s ({ts / tf:.1f}x; bar: at least 10x)")
        finally:
            s.stop()


if __name__ == "__main__":
    main()
