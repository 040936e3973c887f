#!/usr/bin/python3
"""Sessions (py_session_start, py_session_run, py_session_list,
py_session_close) over the real stdio transport, with the real launcher
and real Python: state kept between runs, interrupts, a session killed
with nothing left, idle expiry, restart, the cap, a tampered driver,
charts.

Usage: test_sessions.py --server PATH CASE     (CASE "list" prints the cases)
"""
import base64
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp_client import alive, cmdline, descendants, wait_until  # noqa: E402
from test_server import check, run_cases  # noqa: E402

DRIVER = "python_mcp_session"


def session_procs(s):
    """[(pid, starttime)] of every process of the server's sessions: the
    launcher of each (a child of the server) with all it started."""
    procs = []
    for child in descendants(s.pid):
        try:
            with open(f"/proc/{child[0]}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if ppid != s.pid:
            continue
        tree = [child] + descendants(child[0])
        if any(DRIVER in cmdline(p) for p, _ in tree):
            procs += tree
    return procs


def need_memory_cgroup():
    """Job memory cgroups need root and a memory controller (v2 or v1)."""
    v2 = "/sys/fs/cgroup/cgroup.controllers"
    has = (os.path.exists(v2) and "memory" in open(v2).read().split()) or \
        os.path.isdir("/sys/fs/cgroup/memory")
    if os.geteuid() != 0 or not has:
        print("CANNOT TEST a session's cgroup memory limit ON THIS MACHINE: needs root and "
              "a memory cgroup controller; it did NOT run")
        sys.exit(77)


def start(s, env, **kw):
    args = {"directory": env.ws}
    args.update(kw)
    r = s.call("py_session_start", args)
    check(isinstance(r.get("session_id"), str), "py_session_start gives a session_id", r)
    check(r.get("directory") == os.path.realpath(args["directory"]) and
          r["python_version"] == "3.11" and r["python"].startswith("3.11.") and
          r["dependencies"] == [], "and what it resolved", r)
    return r["session_id"]


def run(s, sid, code, **kw):
    args = {"session_id": sid, "code": code}
    args.update(kw)
    sc, is_error = s.call_any("py_session_run", args)
    check(not is_error, f"py_session_run {code[:60]!r} answers", sc)
    return sc


def listed(s, sid):
    return next(x for x in s.call("py_session_list", {})["sessions"] if x["session_id"] == sid)


def case_keeps_state(env):
    """A variable lives through 100 runs; a 50 MB object is built once and
    reused; an exception does not end the session; stdout, stderr and the
    final expression's value come back per run."""
    s = env.server()
    sid = start(s, env)
    run(s, sid, "n = 0")
    for _ in range(100):
        r = run(s, sid, "n += 1\nn")
    check(r["value"] == "100" and r["exit_code"] == 0, "n after 100 runs", r)
    r = run(s, sid, "builds = 0\ndef load():\n    global builds\n    builds += 1\n"
                    "    return bytearray(50 * 1024 * 1024)\ndata = load()\nlen(data)")
    check(r["value"] == str(50 * 1024 * 1024), "the 50 MB object", r)
    first = run(s, sid, "id(data)")["value"]
    for _ in range(3):
        r = run(s, sid, "data[0] += 1\n(id(data), builds, data[0])")
    check(r["value"] == f"({first}, 1, 3)", "the same object, built once", (first, r))
    r = run(s, sid, "print('out'); import sys; print('err', file=sys.stderr); 1/0")
    check(r["exit_code"] == 1 and r["stdout"] == "out\n" and "ZeroDivisionError" in r["stderr"]
          and r["stderr"].startswith("err\n"), "an exception: exit_code 1, traceback", r)
    check("session_driver" not in r["stderr"] and "<run" in r["stderr"],
          "the traceback shows the run's code, not the driver", r["stderr"])
    check(run(s, sid, "n")["value"] == "100", "the session lives on after it")
    r = run(s, sid, "import os\nos.write(int(os.environ['PYMCP_PROGRESS_FD']), b'progress 2/4 half\\n')\n"
                    "import time\ntime.sleep(0.3)", async_mode=True)
    job = s.wait_job(r["job_id"])
    check(job["progress"] == {"current": 2, "total": 4, "message": "half"},
          "a run's PYMCP_PROGRESS_FD reports are its job's progress", job)
    r = run(s, sid, "input()")
    check(r["exit_code"] == 1 and "EOFError" in r["stderr"], "the code's stdin is empty", r)
    check(listed(s, sid)["status"] == "idle" and listed(s, sid)["runs"] == 110,
          "py_session_list: idle, 110 runs", listed(s, sid))


def case_interrupt(env):
    """A runaway loop is interrupted by timeout_seconds and by
    py_cancel_job; the session and its variables live on; a queued run
    waits as pending and runs after."""
    s = env.server(smart=60)
    sid = start(s, env)
    run(s, sid, "kept = 'yes'")
    r = run(s, sid, "while True:\n    pass", timeout_seconds=1)
    check(r["interrupted"] and r["limit"] == "time" and "KeyboardInterrupt" in r["stderr"]
          and "[TIMEOUT]" in r["stderr"], "timeout: KeyboardInterrupt, limit time", r)
    check(run(s, sid, "kept")["value"] == "'yes'", "the session lives on")
    stub = run(s, sid, "import time\nwhile True:\n    time.sleep(0.01)", async_mode=True)
    queued = run(s, sid, "kept * 2", async_mode=True)
    check(s.job(queued["job_id"])["status"] == "pending", "a second run waits as pending")
    c = s.call("py_cancel_job", {"job_id": stub["job_id"]})
    check(c.get("status") == "cancelled" or "cancel" in json.dumps(c).lower(), "cancelled", c)
    job = s.wait_job(stub["job_id"])
    check(job["status"] == "cancelled", "the cancelled run's job", job)
    job = s.wait_job(queued["job_id"])
    check(job["status"] == "completed" and job["result"]["value"] == "'yesyes'",
          "the queued run ran after it", job)


def case_interrupt_at_once(env):
    """A run cancelled as soon as it is handed to the driver (before the
    driver's main thread took it up) ends cancelled and does not start;
    the session lives on.  The driver once dropped such an interrupt, so
    the run looped on until the grace killed the session (one try in
    about ten here)."""
    s = env.server(smart=60)
    sid = start(s, env)
    # A thread that holds the GIL in long C calls: the driver's main
    # thread then takes up a run late, as on a loaded machine.
    run(s, sid, "import threading\nkept = 0\ndef hog():\n    while True:\n"
                "        sum(range(3_000_000))\n"
                "threading.Thread(target=hog, daemon=True).start()")
    for i in range(20):
        stub = run(s, sid, "import time\nwhile True:\n    time.sleep(0.01)", async_mode=True)
        s.call("py_cancel_job", {"job_id": stub["job_id"]})
        job = s.wait_job(stub["job_id"])
        check(job["status"] == "cancelled", f"try {i}: the run is cancelled", job)
    check(run(s, sid, "kept + 1")["value"] == "1", "and the session lives on")


def case_as_task(env):
    """A session run as a task (2025-11-25): CreateTaskResult at once,
    tasks/result the run's result, tasks/cancel interrupts it."""
    s = env.server(smart=60)
    sid = start(s, env)
    created = s.request("tools/call", {"name": "py_session_run", "task": {"ttl": 60000},
                                       "arguments": {"session_id": sid, "code": "6 * 7"}})
    tid = created["task"]["taskId"]
    res = s.request("tasks/result", {"taskId": tid})
    check(res["structuredContent"]["value"] == "42", "tasks/result: the run's result", res)
    created = s.request("tools/call", {"name": "py_session_run", "task": {"ttl": 60000},
                                       "arguments": {"session_id": sid,
                                                     "code": "while True:\n    pass"}})
    tid = created["task"]["taskId"]
    s.request("tasks/cancel", {"taskId": tid})
    job = s.wait_job(tid)
    check(job["status"] == "cancelled", "tasks/cancel interrupts the run", job)
    check(run(s, sid, "6 * 7")["value"] == "42", "and the session lives on")


def case_ignores_interrupt(env):
    """Code that swallows KeyboardInterrupt (and forks a child) gets its
    session killed after the grace: no process of it is left, the run and
    the list say why, and a later run is a clear error."""
    s = env.server(smart=60)
    sid = start(s, env)
    r = run(s, sid, "import subprocess\nchild = subprocess.Popen(['sleep', '1000'])\nchild.pid")
    check(r["exit_code"] == 0, "the child is started", r)
    wait_until(lambda: any("sleep 1000" in cmdline(p) for p, _ in session_procs(s)), 10,
               "the child among the session's processes")
    procs = session_procs(s)
    code = ("import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
            "    except KeyboardInterrupt:\n        pass")
    sc, is_error = s.call_any("py_session_run", {"session_id": sid, "code": code,
                                                 "timeout_seconds": 1})
    check(is_error and "did not stop" in json.dumps(sc), "the run ends failed, saying why", sc)
    wait_until(lambda: not any(alive(p, t) for p, t in procs), 10,
               "every process of the killed session gone")
    entry = listed(s, sid)
    check(entry["status"] == "closed" and "KeyboardInterrupt" in entry["reason"],
          "py_session_list: closed, why", entry)
    err = s.call_error("py_session_run", {"session_id": sid, "code": "1"})
    check("is closed" in err and "py_session_start" in err, "a run on it: a clear error", err)


def case_idle_and_close(env):
    """An idle session closes after idle_timeout_seconds; py_session_close
    answers once every process is gone; both say why."""
    s = env.server()
    idle = start(s, env, idle_timeout_seconds=1, label="idler")
    procs = session_procs(s)
    check(procs, "the idle session has processes", procs)
    wait_until(lambda: listed(s, idle)["status"] == "closed", 30, "the idle session closes")
    wait_until(lambda: not any(alive(p, t) for p, t in procs), 10,
               "no process of the expired session is left")
    check("idle" in listed(s, idle)["reason"] and listed(s, idle)["label"] == "idler",
          "the reason names idleness", listed(s, idle))
    sid = start(s, env)
    run(s, sid, "import subprocess\nsubprocess.Popen(['sleep', '1000'])")
    procs = session_procs(s)
    check(procs, "the session has processes", procs)
    r = s.call("py_session_close", {"session_id": sid})
    check(r["status"] == "closed", "py_session_close", r)
    left = [p for p, t in procs if alive(p, t)]
    check(not left, "nothing of it is left when the close answers", left)
    err = s.call_error("py_session_close", {"session_id": sid})
    check("is closed" in err, "closing it again: a clear error", err)
    err = s.call_error("py_session_run", {"session_id": "nope", "code": "1"})
    check("no session" in err, "an unknown session: a clear error", err)


def case_restart(env):
    """A server restart ends sessions and says so, after a kill -9 and
    after a clean stop alike."""
    s = env.server()
    killed = start(s, env)
    run(s, killed, "x = 1")
    procs = session_procs(s)
    s.kill(signal.SIGKILL)
    s.wait_exit()
    wait_until(lambda: not any(alive(p, t) for p, t in procs), 10,
               "the sandbox dies with the server")
    s = env.server()
    stopped = start(s, env)
    s.stop()
    s = env.server()
    for sid in (killed, stopped):
        entry = listed(s, sid)
        check(entry["status"] == "closed" and entry["reason"] == "Server restarted",
              "closed: Server restarted", entry)
        err = s.call_error("py_session_run", {"session_id": sid, "code": "x"})
        check("Server restarted" in err, "a run on it says so", err)


def case_cap(env):
    """--max-sessions: one more is refused naming the cap; closing one
    makes room."""
    s = env.server(args=["--max-sessions", "2"])
    a = start(s, env)
    start(s, env)
    err = s.call_error("py_session_start", {"directory": env.ws})
    check("--max-sessions" in err and "py_session_close" in err, "the third is refused", err)
    s.call("py_session_close", {"session_id": a})
    b = start(s, env)
    # 16 runs may wait behind the one under way; the 17th is refused.
    stubs = [run(s, b, "import time\ntime.sleep(30)" if i == 0 else "1", async_mode=True)
             for i in range(17)]
    err = s.call_error("py_session_run", {"session_id": b, "code": "1"})
    check("16 runs already wait" in err, "a full queue is refused", err)
    s.call("py_session_close", {"session_id": b})
    for stub in stubs:
        check(s.wait_job(stub["job_id"])["status"] in ("failed", "cancelled"),
              "runs of a closed session end", stub)


def case_tampered_driver(env):
    """Code that finds the frame marker and forges frames, or floods a
    frame, hurts only its own session: the server and a neighbour session
    go on."""
    s = env.server(smart=60)
    victim, neighbour = start(s, env), start(s, env)
    run(s, neighbour, "y = 'neighbour'")
    fake = run(s, victim, "print('\\x1epymcp-0000:{\"seq\": 1}')")
    check("pymcp-0000" in fake["stdout"], "a frame with the wrong marker is output", fake)
    # The driver's globals are one frame up: the marker is there.
    find = ("import sys\nf = sys._getframe()\nwhile 'MARKER' not in f.f_globals:\n"
            "    f = f.f_back\nM = f.f_globals['MARKER']\n")
    r = run(s, victim, find + "import os\nos.write(1, M + b'{\"seq\": 99, \"value\": \"forged\"}\\n')\n'ok'")
    check(r["value"] == "'ok'", "a forged frame for another run changes nothing", r)
    sc, is_error = s.call_any("py_session_run", {"session_id": victim, "code": find +
                                                 "import os\nos.write(1, M + b'x' * 600000)\n"
                                                 "import time\ntime.sleep(30)"})
    check(is_error and "512 KiB" in json.dumps(sc), "an over-long frame ends the session", sc)
    check(run(s, neighbour, "y")["value"] == "'neighbour'", "the neighbour lives on")
    check(s.proc.poll() is None, "the server lives on")
    # A forged end of the current run with a 1 MB value: the result is cut
    # as the driver would cut it, not stored whole.
    forge = (find + "import json, os\nseq = f.f_globals['current']\n"
             "os.write(1, M + json.dumps({'seq': seq, 'exit_code': 0, 'value': 'v' * 400000})"
             ".encode() + b'\\n')\nos.write(2, M + json.dumps({'seq': seq}).encode() + b'\\n')\n"
             "import time\ntime.sleep(5)")
    r = run(s, neighbour, forge)
    check(len(r["value"]) < 300000 and r["value"].endswith("more bytes]"),
          "a forged value is cut", len(r["value"]))
    err = s.call_error("py_session_run", {"session_id": neighbour, "code": "#" * (1 << 20 + 1)})
    check("at most" in err, "code over 1 MiB is refused", err[:300])


def case_chart(env):
    """plt.show() in a session comes back as an image block; files a run
    writes are listed per run."""
    s = env.server(smart=60)
    sid = start(s, env)
    run(s, sid, "import matplotlib.pyplot as plt")
    res = s.request("tools/call", {"name": "py_session_run", "arguments": {
        "session_id": sid, "code": "plt.figure(figsize=(2, 1), dpi=100)\nplt.plot([1, 2])\n"
                                   "plt.show()\nopen('t.csv', 'w').write('a\\n1\\n')"}})
    sc = s.check_result("py_session_run", res)
    check(sorted(f["path"] for f in sc.get("files", [])) == ["figure-1.png", "t.csv"],
          "the run's files", sc)
    img = [b for b in res["content"] if b["type"] == "image"]
    png = base64.b64decode(img[0]["data"]) if img else b""
    check(png[1:4] == b"PNG" and int.from_bytes(png[16:20], "big") == 200,
          "an image block of the 200x100 figure", [b["type"] for b in res["content"]])
    r = run(s, sid, "x = 1")
    check("files" not in r, "a run that writes nothing lists nothing", r)


def case_limits(env):
    """The policy's limits hold for a session's whole life: memory kept
    from run to run counts, and past the cgroup's limit the session ends,
    saying which limit; a MemoryError of one run leaves it alive."""
    from test_policy_server import SMALL, start as start_with_policy, write_policy
    need_memory_cgroup()
    s = start_with_policy(env, write_policy(env, SMALL), smart=60)
    sid = start(s, env)
    r = run(s, sid, "x = bytearray(3 << 30)")
    check(r["exit_code"] == 1 and "MemoryError" in r["stderr"], "past the address space", r)
    run(s, sid, "kept = [bytearray(64 << 20) for _ in range(2)]")
    procs = session_procs(s)
    sc, is_error = s.call_any("py_session_run", {"session_id": sid, "code":
                                                 "while True:\n    kept.append(bytearray(32 << 20))"})
    check(is_error and "memory limit" in json.dumps(sc), "the session ends at the cgroup's limit",
          sc)
    check("memory" in listed(s, sid)["reason"], "py_session_list says so", listed(s, sid))
    wait_until(lambda: not any(alive(p, t) for p, t in procs), 10, "nothing of it is left")


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run_cases(CASES))
