#!/usr/bin/python3
"""What the MCP server costs on top of running Python, over its real stdio
transport with the real launcher (default policy):

  round trip   a hello-world py_run_script_in_dir call, median and p95,
               against bare `/usr/bin/python3 -c "print('hello')"`
               (the two interleaved, so that machine noise hits both)
  throughput   runs/s with 8 calls in flight over 200 calls, against 8 bare
               python3 processes in flight over as many runs
  idle RSS     VmRSS of the server after start, initialize and tools/list,
               against an idle bare python3
  job status   median py_job_status latency with 10,000 jobs stored
               (written as <state>/meta/jobs.json in the server's format
               before it starts), against the same server's ping and
               against py_job_status with a single stored job

Not a test: it asserts nothing and prints ratios to the baselines measured
in the same run.

Usage: bench/server.py [--build DIR] [--runs N] [--calls N] [--concurrency N]
                       [--jobs N] [--status-calls N]
"""
import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
from mcp_client import Server, proc_status_kb  # noqa: E402

PYTHON = "/usr/bin/python3"
HELLO = ["-c", "print('hello')"]
RUN = "py_run_script_in_dir"


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def ms(s):
    return f"{s * 1000:8.2f} ms"


def bare_hello():
    t = time.perf_counter()
    subprocess.run([PYTHON, *HELLO], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def mcp_hello(s, ws):
    t = time.perf_counter()
    r = s.call(RUN, {"directory": ws, "script_content": "print('hello')"})
    dt = time.perf_counter() - t
    if r.get("stdout") != "hello\n":
        sys.exit(f"unexpected result: {r}")
    return dt


def round_trip(s, ws, runs):
    for _ in range(3):  # warm-up: prepared launchers, page cache
        mcp_hello(s, ws)
        bare_hello()
    bare, mcp = [], []
    for _ in range(runs):
        bare.append(bare_hello())
        mcp.append(mcp_hello(s, ws))
    return bare, mcp


def throughput_mcp(s, ws, calls, width):
    t = time.perf_counter()
    inflight, sent, done = [], 0, 0
    while done < calls:
        while sent < calls and len(inflight) < width:
            inflight.append(s.send_call(RUN, {"directory": ws, "script_content": "print('hello')"}))
            sent += 1
        rid = inflight.pop(0)
        sc, is_error = s.wait_call(RUN, rid, timeout=300)
        if is_error or sc.get("stdout") != "hello\n":
            sys.exit(f"unexpected result: {sc}")
        done += 1
    return calls / (time.perf_counter() - t)


def throughput_bare(calls, width):
    t = time.perf_counter()
    inflight, sent, done = [], 0, 0
    while done < calls:
        while sent < calls and len(inflight) < width:
            inflight.append(subprocess.Popen([PYTHON, *HELLO], stdout=subprocess.DEVNULL))
            sent += 1
        inflight.pop(0).wait()
        done += 1
    return calls / (time.perf_counter() - t)


def idle_python_rss_kb():
    p = subprocess.Popen([PYTHON, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    time.sleep(0.5)
    kb = proc_status_kb(p.pid, "VmRSS")
    p.stdin.close()
    p.wait()
    return kb


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def write_jobs(state, n):
    """n completed jobs in the format of src/job_json.c (job_to_record),
    newest first, each with its output files under <state>/jobs/<id>/."""
    os.makedirs(os.path.join(state, "meta"), exist_ok=True)
    now = time.time()
    records, ids = [], []
    out, err = b"hello\n", b""
    for i in range(n):
        jid = str(uuid.uuid4())
        ids.append(jid)
        t = now - 3600 + i * 0.1
        d = os.path.join(state, "jobs", jid)
        os.makedirs(d)
        with open(os.path.join(d, "stdout"), "wb") as f:
            f.write(out)
        with open(os.path.join(d, "stderr"), "wb") as f:
            f.write(err)
        records.append({
            "id": jid, "label": f"bench-{i}", "status": "completed",
            "created_at": iso(t), "started_at": iso(t), "completed_at": iso(t + 0.05),
            "result": {"stdout": "hello\n", "stderr": "", "exit_code": 0,
                       "execution_strategy": "system-python", "elapsed_seconds": 0.05,
                       "limit": None},
            "error": None, "progress": None, "tool": RUN,
            "output": {"stdout": {"produced": len(out), "kept": len(out), "cursor": 0},
                       "stderr": {"produced": len(err), "kept": len(err), "cursor": 0}},
        })
    records.reverse()
    with open(os.path.join(state, "meta", "jobs.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in records) + "\n]\n")
    return ids


def status_latency(s, ids, calls):
    lat = []
    for i in range(calls):
        jid = random.choice(ids)
        t = time.perf_counter()
        j = s.call("py_job_status", {"job_id": jid, "incremental": False})["job"]
        lat.append(time.perf_counter() - t)
        if j["id"] != jid:
            sys.exit(f"wrong job: {j}")
    return lat


def ping_latency(s, calls):
    lat = []
    for _ in range(calls):
        t = time.perf_counter()
        s.request("ping")
        lat.append(time.perf_counter() - t)
    return lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=10000)
    ap.add_argument("--status-calls", type=int, default=200)
    a = ap.parse_args()
    server = os.path.join(a.build, "src", "python-mcp")
    if not os.access(server, os.X_OK):
        sys.exit(f"no server at {server}: build first, or pass --build")
    base = tempfile.mkdtemp(prefix="pymcp-bench-", dir="/tmp")
    os.chmod(base, 0o755)
    ws = os.path.join(base, "roots", "ws")
    os.makedirs(ws)
    servers = []

    def start(state, **kw):
        s = Server(server, os.path.join(base, state), roots=[os.path.join(base, "roots")],
                   log_path=os.path.join(base, f"{state}.log"), validate=False, **kw)
        servers.append(s)
        return s.start()

    try:
        print(f"python-mcp {server}; {os.cpu_count()} CPUs; baseline {PYTHON}")
        s = start("state-main")
        idle_kb = proc_status_kb(s.pid, "VmRSS")
        py_kb = idle_python_rss_kb()
        print(f"\nidle RSS     server {idle_kb / 1024:7.1f} MiB   bare python3 {py_kb / 1024:7.1f} MiB"
              f"   ratio {idle_kb / py_kb:5.2f}")

        bare, mcp = round_trip(s, ws, a.runs)
        print(f"\nround trip ({a.runs} runs, hello world)")
        print(f"  bare python3      median {ms(statistics.median(bare))}  p95 {ms(pct(bare, 95))}")
        print(f"  MCP call          median {ms(statistics.median(mcp))}  p95 {ms(pct(mcp, 95))}")
        print(f"  ratio             median {statistics.median(mcp) / statistics.median(bare):8.2f}"
              f"     p95 {pct(mcp, 95) / pct(bare, 95):8.2f}")

        tb = throughput_bare(a.calls, a.concurrency)
        tm = throughput_mcp(s, ws, a.calls, a.concurrency)
        print(f"\nthroughput ({a.calls} runs, {a.concurrency} in flight; server --max-jobs default)")
        print(f"  bare python3  {tb:8.1f} runs/s")
        print(f"  MCP calls     {tm:8.1f} runs/s   ratio {tm / tb:5.2f}")
        ping = ping_latency(s, a.status_calls)
        s.stop()

        one = start("state-one")
        one_id = one.call(RUN, {"directory": ws, "script_content": "print('hello')",
                                "async_mode": True})["job_id"]
        one.wait_job(one_id)
        lat1 = status_latency(one, [one_id], a.status_calls)
        one.stop()

        t = time.perf_counter()
        ids = write_jobs(os.path.join(base, "state-many"), a.jobs)
        made = time.perf_counter() - t
        t = time.perf_counter()
        many = start("state-many")
        boot = time.perf_counter() - t
        many_kb = proc_status_kb(many.pid, "VmRSS")
        latn = status_latency(many, ids, a.status_calls)
        listed = many.call("py_list_jobs", {"limit": 1000})["total"]
        many.stop()
        print(f"\npy_job_status ({a.status_calls} calls, incremental=false)")
        print(f"  {'ping (same server)':<26} median {ms(statistics.median(ping))}")
        print(f"  {'1 stored job':<26} median {ms(statistics.median(lat1))}")
        print(f"  {f'{a.jobs} stored jobs':<26} median {ms(statistics.median(latn))}"
              f"  p95 {ms(pct(latn, 95))}   ratio to 1 job {statistics.median(latn) / statistics.median(lat1):5.2f}"
              f"   to ping {statistics.median(latn) / statistics.median(ping):5.2f}")
        print(f"  ({a.jobs} jobs written in {made:.1f} s; server start + initialize with them "
              f"{boot * 1000:.0f} ms, VmRSS {many_kb / 1024:.1f} MiB; py_list_jobs limit 1000 "
              f"returned {listed})")
    finally:
        for s in servers:
            if s.proc and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
