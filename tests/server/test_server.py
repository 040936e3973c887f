#!/usr/bin/python3
"""End-to-end tests of python-mcp over its real stdio transport, with the
real sandbox launcher.  One case per run; every case starts its own server
with a fresh state directory and workspace roots under /tmp.

Usage: test_server.py --server PATH CASE     (CASE "list" prints the cases)

Timing never decides a verdict: waits are generous polls, and the only
numeric bound is a memory one (the output flood).
"""
import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp_client import (Failure, Server, VALIDATOR, alive, descendants,  # noqa: E402
                        pids_with_cmdline, proc_stat, proc_status_kb, wait_until)

TOOLS = ["py_run_script_in_dir", "py_run_script_with_dependencies", "py_benchmark_script",
         "py_save_script", "py_run_saved_script", "py_list_scripts", "py_job_status",
         "py_list_jobs", "py_cancel_job", "py_prune_jobs"]
SESSION_TOOLS = ["py_session_start", "py_session_run", "py_session_list", "py_session_close"]
RUN = "py_run_script_in_dir"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check(cond, what, detail=None):
    if not cond:
        raise Failure(what + (f"\n  got: {detail}" if detail is not None else ""))


def contains(text, needle, what):
    check(needle.lower() in text.lower(), f"{what}: expected {needle!r} in the message", text)


class Env:
    """A temporary tree: <base>/state (the server's), <base>/roots/ws (the
    workspace root and default workspace), <base>/outside (not a root)."""

    def __init__(self, server_bin):
        self.bin = server_bin
        self.base = tempfile.mkdtemp(prefix="pymcp-e2e-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.state = os.path.join(self.base, "state")
        self.root = os.path.join(self.base, "roots")
        self.ws = os.path.join(self.root, "ws")
        self.outside = os.path.join(self.base, "outside")
        for d in (self.root, self.ws, self.outside):
            os.makedirs(d)
        self.servers = []
        self.tracked = []   # (pid, starttime) of processes our servers started

    def track(self, procs):
        self.tracked += procs

    def server(self, start=True, **kw):
        kw.setdefault("roots", [self.root])
        kw.setdefault("log_path", os.path.join(self.base, f"server{len(self.servers)}.log"))
        s = Server(self.bin, self.state, **kw)
        self.servers.append(s)
        return s.start() if start else s

    def write(self, rel, text, mode=0o644):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def cleanup(self, ok):
        for s in self.servers:
            if s.proc and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        # Whatever a failed case left behind: only processes of our own
        # servers, by pid (checked against their start time).
        for pid, start in self.tracked:
            if alive(pid, start):
                print(f"killing leftover process {pid}")
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if ok:
            shutil.rmtree(self.base, ignore_errors=True)
        else:
            print(f"(kept {self.base} for inspection)")

    def dump_logs(self):
        for s in self.servers:
            tail = s.stderr_tail(3000)
            if tail:
                print(f"--- server stderr ({s.log_path}) ---\n{tail}")


def run_inline(s, env, code, **kw):
    args = {"directory": env.ws, "script_content": code}
    args.update(kw)
    return s.call(RUN, args)


def job_stub(sc, status, what):
    check(set(sc) >= {"job_id", "status"}, f"{what}: expected a job stub", sc)
    check(UUID.match(sc["job_id"]), f"{what}: job_id is a UUID", sc["job_id"])
    check(sc["status"] == status, f"{what}: status {status!r}", sc)
    return sc["job_id"]


# ---------------------------------------------------------------------------
# tools/list

def case_tools_list(env):
    s = env.server()
    tools = s.request("tools/list")["tools"]
    names = [t["name"] for t in tools]
    check(sorted(names) == sorted(TOOLS + SESSION_TOOLS),
          "tools/list names the 10 tools of TOOLS.md and the 4 session tools", names)
    for t in tools:
        check(isinstance(t.get("description"), str) and t["description"].strip(),
              f"{t['name']}: description")
        check(isinstance(t.get("inputSchema"), dict) and t["inputSchema"].get("type") == "object",
              f"{t['name']}: inputSchema of type object", t.get("inputSchema"))
        check(isinstance(t.get("outputSchema"), dict) and t["outputSchema"].get("type") == "object",
              f"{t['name']}: outputSchema of type object", t.get("outputSchema"))
    run = s.tools[RUN]["inputSchema"]
    check(run.get("required") == ["directory"], "py_run_script_in_dir requires directory", run)
    for p in ("directory", "script_path", "script_content", "args", "use_uv", "python_version",
              "timeout_seconds", "env_vars", "env_file", "async_mode", "job_label",
              "auto_install_deps", "enable_streaming"):
        check(p in run["properties"], f"py_run_script_in_dir parameter {p}", list(run["properties"]))
    # One call per listing tool, so that their results are validated too.
    s.call("py_list_jobs", {})
    s.call("py_list_scripts", {})
    s.call("py_prune_jobs", {})
    s.call("py_session_list", {})
    s.stop()


# ---------------------------------------------------------------------------
# py_run_script_in_dir

def case_run_inline(env):
    s = env.server()
    before = sorted(os.listdir(env.ws))
    code = ("import os, sys\nprint('hello from', os.getcwd())\n"
            "print('to stderr', file=sys.stderr)\nsys.exit(0)\n")
    r = run_inline(s, env, code)
    check(r["stdout"] == f"hello from {env.ws}\n", "stdout, cwd = directory", r)
    check(r["stderr"] == "to stderr\n", "stderr", r)
    check(r["exit_code"] == 0, "exit_code 0", r)
    check(isinstance(r["elapsed_seconds"], (int, float)) and r["elapsed_seconds"] >= 0,
          "elapsed_seconds", r)
    check(r["execution_strategy"] in ("uv-run", "system-python"), "execution_strategy", r)
    after = sorted(os.listdir(env.ws))
    check(before == after, "no inline script left in the directory", after)
    check(not os.path.exists(os.path.join(env.ws, "inline_scripts")), "no inline_scripts/")
    # A file the script writes lands in the directory (its writable tree).
    r = run_inline(s, env, "open('made.txt','w').write('x')\n")
    check(os.path.exists(os.path.join(env.ws, "made.txt")), "the script writes its directory", r)
    s.stop()


def case_run_script_path(env):
    s = env.server()
    env.write("ws/sub/hello.py", "import sys, os\nprint(sys.argv[1:])\nprint(os.getcwd())\n")
    r = s.call(RUN, {"directory": env.ws, "script_path": "sub/hello.py",
                     "args": ["a", "b c", "--flag", "é"]})
    check(r["stdout"] == f"['a', 'b c', '--flag', 'é']\n{env.ws}\n", "args and cwd", r)
    check(r["exit_code"] == 0, "exit 0", r)
    # An absolute script_path inside the directory works as well.
    r = s.call(RUN, {"directory": env.ws, "script_path": os.path.join(env.ws, "sub/hello.py")})
    check(r["stdout"].startswith("[]\n"), "absolute script_path", r)
    s.stop()


def case_run_env(env):
    secret = "s3cr3t-" + os.urandom(6).hex()
    s = env.server(env={"PYMCP_E2E_SECRET": secret})
    env.write("ws/.env", "# a comment\n"
              "export A=from_file\n"
              "B='single $quoted # not a comment'\n"
              'C="line1\\nline2"\n'
              "D=file_loses\n"
              "\n")
    code = ("import os, json\n"
            "print(json.dumps({k: os.environ.get(k) for k in "
            "['A', 'B', 'C', 'D', 'E', 'PYMCP_E2E_SECRET', 'HOME']}))\n"
            "print(json.dumps(dict(os.environ)))\n")
    r = run_inline(s, env, code, env_file=".env", env_vars={"D": "vars_win", "E": "only_vars"})
    lines = r["stdout"].splitlines()
    got = json.loads(lines[0])
    check(got["A"] == "from_file", "export A=...", got)
    check(got["B"] == "single $quoted # not a comment", "single quotes are literal", got)
    check(got["C"] == "line1\nline2", "\\n in double quotes is a newline", got)
    check(got["D"] == "vars_win", "env_vars win over env_file", got)
    check(got["E"] == "only_vars", "env_vars alone", got)
    check(got["PYMCP_E2E_SECRET"] is None, "the server's environment is not visible", got)
    check(secret not in r["stdout"], "the secret appears nowhere in the script's environment")
    # An absolute env_file path too.
    r = run_inline(s, env, "import os; print(os.environ.get('A'))",
                   env_file=os.path.join(env.ws, ".env"))
    check(r["stdout"] == "from_file\n", "absolute env_file", r)
    # Missing env_file: an error result, no run.
    err = s.call_error(RUN, {"directory": env.ws, "script_content": "print(1)",
                             "env_file": "nope.env"})
    contains(err, "env_file", "missing env_file")
    contains(err, "nope.env", "missing env_file")
    s.stop()


def case_run_errors(env):
    s = env.server()
    ok = {"directory": env.ws, "script_content": "print(1)"}
    # Directory outside the workspace roots.
    err = s.call_error(RUN, {**ok, "directory": env.outside})
    contains(err, "outside the workspace roots", "directory outside the roots")
    contains(err, env.outside, "directory outside the roots")
    err = s.call_error(RUN, {**ok, "directory": "/etc"})
    contains(err, "outside the workspace roots", "/etc")
    # Missing directory.
    err = s.call_error(RUN, {**ok, "directory": os.path.join(env.root, "missing")})
    contains(err, "missing", "missing directory")
    # Both and neither of script_path and script_content.
    err = s.call_error(RUN, {**ok, "script_path": "x.py"})
    contains(err, "script_path", "both given")
    err = s.call_error(RUN, {"directory": env.ws})
    contains(err, "script_content", "neither given")
    # Unknown argument, wrong types.
    err = s.call_error(RUN, {**ok, "bogus_argument": 1})
    contains(err, "bogus_argument", "unknown argument")
    err = s.call_error(RUN, {**ok, "timeout_seconds": "ten"})
    contains(err, "timeout_seconds", "wrong type")
    err = s.call_error(RUN, {**ok, "args": "not-a-list"})
    contains(err, "args", "wrong type")
    err = s.call_error(RUN, {**ok, "env_vars": {"A": 1}})
    contains(err, "env_vars", "env_vars value not a string")
    err = s.call_error(RUN, {"script_content": "print(1)"})
    contains(err, "directory", "missing directory argument")
    # script_path outside directory.
    other = env.write("other/x.py", "print('should not run')\n")
    err = s.call_error(RUN, {"directory": env.ws, "script_path": other})
    contains(err, "script_path", "script_path outside directory")
    err = s.call_error(RUN, {"directory": env.ws, "script_path": "../other/x.py"})
    contains(err, "script_path", "../ script_path")
    err = s.call_error(RUN, {"directory": env.ws, "script_path": "nonexistent.py"})
    contains(err, "nonexistent.py", "missing script_path")
    # python_version not installed: the message names the installed ones.
    err = s.call_error(RUN, {**ok, "python_version": "3.99"})
    contains(err, "3.99", "python_version 3.99")
    installed = sorted(n[len("python"):] for n in os.listdir("/usr/bin")
                       if re.fullmatch(r"python3\.\d+", n))
    for v in installed:
        contains(err, v, "python_version 3.99 names the installed ones")
    # The installed one works.
    if installed:
        r = s.call(RUN, {**ok, "script_content": "import sys; print(sys.version_info[:2])",
                         "python_version": installed[0]})
        check(r["stdout"].strip() == str(tuple(int(x) for x in installed[0].split("."))),
              "python_version picks that interpreter", r)
    # Unknown tool: a protocol error.
    msg = s.wait_response(s.send_call("no_such_tool", {}))
    check("error" in msg or msg.get("result", {}).get("isError"), "unknown tool is an error", msg)
    s.stop()
    # The state directory is never a workspace, even under a workspace root.
    s = env.server(roots=[env.base])
    for d in (env.state, os.path.join(env.state, "scripts")):
        err = s.call_error(RUN, {**ok, "directory": d})
        contains(err, "state directory", f"directory {d}")
    s.stop()


def case_run_exit_and_timeout(env):
    s = env.server()
    r = run_inline(s, env, "import sys\nprint('bye')\nsys.exit(3)\n")
    check(r["exit_code"] == 3 and r["stdout"] == "bye\n", "nonzero exit is a normal result", r)
    r = run_inline(s, env, "raise ValueError('boom')\n")
    check(r["exit_code"] == 1 and "ValueError: boom" in r["stderr"], "traceback in stderr", r)
    sc, is_error = s.call_any(RUN, {"directory": env.ws, "timeout_seconds": 1,
                                    "script_content": "import time, sys\nprint('before', flush=True)\n"
                                                      "print('err-before', file=sys.stderr, flush=True)\n"
                                                      "time.sleep(120)\nprint('after')\n"})
    check(not is_error, "a timeout is a result, not an error", sc)
    check(sc["stderr"].rstrip().endswith("[TIMEOUT]"), "stderr ends with [TIMEOUT]", sc)
    check("err-before" in sc["stderr"], "stderr captured before the kill is kept", sc)
    check(sc["stdout"] == "before\n", "stdout captured before the kill is kept", sc)
    check(sc["exit_code"] != 0, "killed: nonzero exit_code", sc)
    check(sc.get("limit") == "time", "limit is time", sc)
    s.stop()


# ---------------------------------------------------------------------------
# Smart async

TWO_LINES = ("import time\nprint('first line', flush=True)\ntime.sleep(3)\n"
             "print('second line', flush=True)\n")


def case_smart_async(env):
    s = env.server(smart=1)
    sc = s.call(RUN, {"directory": env.ws, "script_content": TWO_LINES, "job_label": "two-lines"})
    jid = job_stub(sc, "running", "over the smart budget")
    contains(sc.get("message", ""), "time budget", "the running stub's message")
    # First incremental read: the first line, partial and new.
    first = wait_until(lambda: (lambda j: j if "first line" in j["new_stdout"] else None)(
        s.job(jid, incremental=False)), 60, "the first line")
    check(first["status"] in ("running", "completed"), "status while sleeping", first)
    j1 = s.job(jid, incremental=True)
    check(j1["partial_stdout"].startswith("first line\n"), "partial_stdout has the first line", j1)
    check(j1["new_stdout"].startswith("first line\n"), "new_stdout has the first line", j1)
    seen = j1["new_stdout"]
    # Later incremental reads return only what is new.
    j2 = s.job(jid, incremental=True)
    check("first line" not in j2["new_stdout"], "second incremental read: only what is new", j2)
    seen += j2["new_stdout"]

    def finished():
        nonlocal seen
        j = s.job(jid, incremental=True)
        check("first line" not in j["new_stdout"], "no repeat of the first line", j)
        seen += j["new_stdout"]
        return j if j["status"] in ("completed", "failed", "cancelled") else None
    j = wait_until(finished, 120, "completion", interval=0.2)
    check(j["status"] == "completed", "completed", j)
    check(j["result"]["exit_code"] == 0, "result.exit_code 0", j)
    check(j["result"]["stdout"] == "first line\nsecond line\n", "result.stdout", j)
    check(seen == "first line\nsecond line\n", "the new_stdout pieces add up to the output", seen)
    check(j["label"] == "two-lines", "label", j)
    # A non-incremental read shows everything and leaves new_* empty now.
    j = s.job(jid, incremental=False)
    check(j["partial_stdout"] == "first line\nsecond line\n", "partial_stdout at the end", j)
    check(j["completed_at"] and j["started_at"] and j["created_at"], "times set", j)
    # async_mode: a pending stub at once.
    sc = s.call(RUN, {"directory": env.ws, "script_content": "print('bg')", "async_mode": True,
                      "job_label": "my-label"})
    jid2 = job_stub(sc, "pending", "async_mode=true")
    j = s.wait_job(jid2)
    check(j["status"] == "completed" and j["result"]["stdout"] == "bg\n", "async job completed", j)
    listed = s.call("py_list_jobs", {})
    labels = {x["id"]: x["label"] for x in listed["jobs"]}
    check(labels.get(jid2) == "my-label", "job_label shows in py_list_jobs", listed)
    check(labels.get(jid) == "two-lines", "job_label shows in py_list_jobs", listed)
    # A default label: the tool name.
    sc = s.call(RUN, {"directory": env.ws, "script_content": "pass", "async_mode": True})
    s.wait_job(sc["job_id"])
    listed = {x["id"]: x for x in s.call("py_list_jobs", {})["jobs"]}
    check(listed[sc["job_id"]]["label"] == RUN, "default label is the tool name", listed[sc["job_id"]])
    s.stop()


# ---------------------------------------------------------------------------
# Job tools

def case_job_status_unknown(env):
    s = env.server()
    fake = "00000000-0000-4000-8000-000000000000"
    err = s.call_error("py_job_status", {"job_id": fake})
    contains(err, f"Job {fake} not found", "unknown job id")
    err = s.call_error("py_job_status", {"job_id": "../../etc/passwd"})
    contains(err, "not found", "path-like job id")
    err = s.call_error("py_job_status", {})
    contains(err, "job_id", "missing job_id")
    err = s.call_error("py_cancel_job", {"job_id": fake})
    contains(err, f"Job {fake} not found", "cancel of an unknown job")
    s.stop()


def case_list_jobs(env):
    s = env.server(smart=60)
    ids = []
    for i in range(4):
        sc = s.call(RUN, {"directory": env.ws, "script_content": f"print({i})",
                          "job_label": f"L{i}", "async_mode": True})
        ids.append(sc["job_id"])
        s.wait_job(sc["job_id"])
    all_jobs = s.call("py_list_jobs", {})
    check(all_jobs["total"] == len(all_jobs["jobs"]) == 4, "total = number returned", all_jobs)
    check([j["id"] for j in all_jobs["jobs"]] == ids[::-1], "newest first",
          [j["label"] for j in all_jobs["jobs"]])
    for j in all_jobs["jobs"]:
        check(not any(k in j for k in ("partial_stdout", "new_stdout")), "listing without output", j)
    two = s.call("py_list_jobs", {"limit": 2})
    check([j["id"] for j in two["jobs"]] == ids[:1:-1] and two["total"] == 2, "limit 2", two)
    # A running one, for the filter.
    sc = s.call(RUN, {"directory": env.ws, "script_content": "import time; time.sleep(300)",
                      "async_mode": True, "job_label": "runner"})
    s.wait_job(sc["job_id"], statuses=("running",))
    running = s.call("py_list_jobs", {"status_filter": "running"})
    check([j["id"] for j in running["jobs"]] == [sc["job_id"]], "status_filter running", running)
    completed = s.call("py_list_jobs", {"status_filter": "completed", "limit": 3})
    check([j["id"] for j in completed["jobs"]] == ids[:0:-1], "status_filter completed, limit 3",
          completed)
    check(s.call("py_list_jobs", {"status_filter": "failed"})["jobs"] == [], "no failed jobs")
    err = s.call_error("py_list_jobs", {"status_filter": "weird"})
    contains(err, "status_filter", "bad status_filter")
    err = s.call_error("py_list_jobs", {"limit": "many"})
    contains(err, "limit", "bad limit")
    s.call("py_cancel_job", {"job_id": sc["job_id"]})
    cancelled = s.call("py_list_jobs", {"status_filter": "cancelled"})
    check([j["id"] for j in cancelled["jobs"]] == [sc["job_id"]], "status_filter cancelled",
          cancelled)
    s.stop()


DAEMON = r'''
import os, sys, time
marker_arg = sys.argv[1]
path = os.path.join(os.getcwd(), "marker.txt")
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    # The daemon: detached twice, keeps appending.
    while True:
        with open(path, "a") as f:
            f.write("x")
        time.sleep(0.02)
os.waitpid(pid, 0)
print("daemon started", flush=True)
time.sleep(600)
'''


def case_cancel(env):
    s = env.server(smart=1)
    marker = "pymcp-e2e-cancel-" + os.urandom(6).hex()
    mfile = os.path.join(env.ws, "marker.txt")
    sc = s.call(RUN, {"directory": env.ws, "script_content": DAEMON, "args": [marker],
                      "async_mode": True})
    jid = sc["job_id"]
    wait_until(lambda: os.path.exists(mfile) and os.path.getsize(mfile) > 10, 60,
               "the daemon to write the marker file")
    j = s.job(jid)
    check(j["status"] == "running", "running before the cancel", j)
    procs = pids_with_cmdline(marker)
    env.track(descendants(s.pid))
    check(len(procs) >= 2, "the script and its daemon are visible by their marker", procs)
    r = s.call("py_cancel_job", {"job_id": jid})
    check(r == {"job_id": jid, "status": "cancelled", "message": "Job cancelled"} or
          (r.get("job_id") == jid and r.get("status") == "cancelled"), "cancel reply", r)
    # Right after the reply: no process of the job is left.
    left = pids_with_cmdline(marker)
    check(left == [], "no process of the job is left when py_cancel_job returns", left)
    j = s.job(jid)
    check(j["status"] == "cancelled", "status cancelled", j)
    size = os.path.getsize(mfile)
    time.sleep(1.0)
    check(os.path.getsize(mfile) == size, "the marker file stops growing",
          (size, os.path.getsize(mfile)))
    # Cancelling a finished job is an error naming its status.
    err = s.call_error("py_cancel_job", {"job_id": jid})
    contains(err, "is not running (status: cancelled)", "cancel twice")
    sc = s.call(RUN, {"directory": env.ws, "script_content": "print('done')", "async_mode": True})
    s.wait_job(sc["job_id"])
    err = s.call_error("py_cancel_job", {"job_id": sc["job_id"]})
    contains(err, f"Job {sc['job_id']} is not running (status: completed)", "cancel completed")
    # A pending job (queued behind --max-jobs 1) cancels too.
    s.stop()
    s = env.server(smart=1, args=["--max-jobs", "1"])
    a = s.call(RUN, {"directory": env.ws, "script_content": "import time; time.sleep(300)",
                     "async_mode": True})["job_id"]
    b = s.call(RUN, {"directory": env.ws, "script_content": "print('never')",
                     "async_mode": True})["job_id"]
    s.wait_job(a, statuses=("running",))
    check(s.job(b)["status"] == "pending", "queued behind --max-jobs 1", s.job(b))
    s.call("py_cancel_job", {"job_id": b})
    check(s.job(b)["status"] == "cancelled", "pending job cancelled", s.job(b))
    s.call("py_cancel_job", {"job_id": a})
    check(s.job(a)["status"] == "cancelled", "running job cancelled", s.job(a))
    s.stop()


def case_review_regressions(env):
    """What a second read of the server found, each fixed and kept fixed:
    a cancelled call waiting on a queued job crashed the server; an env_file
    FIFO blocked its loop; an env_file swapped for a symlink after the
    check was followed; py_cancel_job went unanswered when the run's own
    call was cancelled next."""
    s = env.server(smart=30, args=["--max-jobs", "1"])
    a = s.call(RUN, {"directory": env.ws, "script_content": "import time; time.sleep(300)",
                     "async_mode": True})["job_id"]
    s.wait_job(a, statuses=("running",))
    rid = s.send_call(RUN, {"directory": env.ws, "script_content": "print('queued')"})
    time.sleep(0.3)
    s.notify("notifications/cancelled", {"requestId": rid, "reason": "test"})
    check(s.request("ping") == {}, "the server survives a cancelled call on a queued job")
    # The run's own call cancelled after py_cancel_job: both ends answered.
    s.call("py_cancel_job", {"job_id": a})
    b_rid = s.send_call(RUN, {"directory": env.ws,
                              "script_content": "import time; time.sleep(300)"})
    b = None
    def b_running():
        nonlocal b
        jobs = s.call("py_list_jobs", {"status_filter": "running"})["jobs"]
        b = jobs[0]["id"] if jobs else None
        return b is not None
    wait_until(b_running, 60, "the second job to run")
    c_rid = s.send_call("py_cancel_job", {"job_id": b})
    s.notify("notifications/cancelled", {"requestId": b_rid, "reason": "test"})
    sc, is_error = s.wait_call("py_cancel_job", c_rid, timeout=60)
    check(not is_error and sc.get("status") == "cancelled", "py_cancel_job answered", sc)
    # env_file: a FIFO is refused at once (the loop keeps serving) ...
    fifo = os.path.join(env.ws, "fifo.env")
    os.mkfifo(fifo)
    err = s.call_error(RUN, {"directory": env.ws, "script_content": "pass",
                             "env_file": "fifo.env"}, timeout=30)
    contains(err, "regular file", "env_file FIFO")
    check(s.request("ping") == {}, "the server still answers after an env_file FIFO")
    # ... and a path through a symlink is never followed out of the workspace.
    with open(os.path.join(env.outside, "secret.env"), "w") as f:
        f.write("SECRET_FROM_OUTSIDE=1\n")
    os.symlink(env.outside, os.path.join(env.ws, "link"))
    err = s.call_error(RUN, {"directory": env.ws, "script_content": "pass",
                             "env_file": "link/secret.env"})
    contains(err, "leads out of its directory", "env_file through a symlink")
    s.stop()


def case_prune_jobs(env):
    s = env.server()
    ids = []
    for i in range(3):
        sc = s.call(RUN, {"directory": env.ws, "script_content": f"print({i})", "async_mode": True})
        ids.append(sc["job_id"])
        s.wait_job(sc["job_id"])
    r = s.call("py_prune_jobs", {})
    check(r == {"removed": 0, "remaining": 3, "removed_environments": 0},
          "defaults keep fresh completed jobs", r)
    r = s.call("py_prune_jobs", {"keep_completed": False})
    check(r == {"removed": 0, "remaining": 3, "removed_environments": 0},
          "younger than 24 h: kept", r)
    r = s.call("py_prune_jobs", {"keep_completed": False, "max_age_hours": 0})
    check(r == {"removed": 3, "remaining": 0, "removed_environments": 0},
          "max_age_hours 0 removes completed ones", r)
    for jid in ids:
        contains(s.call_error("py_job_status", {"job_id": jid}), "not found", "pruned job")
        check(not os.path.exists(os.path.join(env.state, "jobs", jid)), "output of a pruned job")
    err = s.call_error("py_prune_jobs", {"max_age_hours": -1})
    contains(err, "max_age_hours", "negative age")
    err = s.call_error("py_prune_jobs", {"keep_failed": "yes"})
    contains(err, "keep_failed", "wrong type")
    s.stop()


def case_resources(env):
    s = env.server()
    t = s.request("resources/templates/list")["resourceTemplates"]
    check(any(x.get("uriTemplate") == "job-stream://{job_id}" for x in t), "job-stream template", t)
    sc = s.call(RUN, {"directory": env.ws, "async_mode": True,
                      "script_content": "import sys\nprint('out line')\n"
                                        "print('err line', file=sys.stderr)\n"})
    jid = sc["job_id"]
    s.wait_job(jid)
    r = s.request("resources/read", {"uri": f"job-stream://{jid}"})
    c = r["contents"]
    check(len(c) == 1 and c[0]["uri"] == f"job-stream://{jid}", "one content for the uri", c)
    text = c[0]["text"]
    check(text.startswith("---STDOUT---\n"), "---STDOUT--- first", text)
    i_out, i_err = text.find("out line"), text.find("---STDERR---")
    check(0 < i_out < i_err < text.find("err line"), "stdout, ---STDERR---, stderr in order", text)
    # Reading the resource does not move the incremental cursor.
    j = s.job(jid, incremental=True)
    check(j["new_stdout"] == "out line\n", "the cursor did not move", j)
    err = s.request_error("resources/read", {"uri": "job-stream://00000000-0000-4000-8000-000000000000"})
    check(isinstance(err.get("code"), int) and err.get("message"), "unknown job: an error", err)
    err = s.request_error("resources/read", {"uri": "file:///etc/passwd"})
    check(isinstance(err.get("code"), int), "other scheme: an error", err)
    s.stop()


# ---------------------------------------------------------------------------
# Saved scripts

def case_scripts(env):
    s = env.server()
    r = s.call("py_save_script", {"script_name": "hello", "source": '"""Say hello."""\nimport sys\n'
                                  'print("hello", sys.argv[1:])\n',
                                  "dependencies": ["requests<3"], "requires_python": ">=3.11"})
    check(r["written"] == "true" and r["message"] == "Script saved", "saved", r)
    path = os.path.join(env.state, "scripts", "hello.py")
    check(os.path.realpath(r["path"]) == os.path.realpath(path), "path in the scripts folder", r)
    text = open(path).read()
    check(text.startswith("# /// script\n"), "PEP 723 header first", text)
    check('#   "requests<3",\n' in text and '# requires-python = ">=3.11"\n' in text
          and "# ///\n" in text, "header lists dependencies and requires-python", text)
    r = s.call("py_save_script", {"script_name": "hello.py", "source": "print('replaced')\n"})
    check(r["written"] == "false" and "overwrite" in r["message"], "exists: not written", r)
    check(open(path).read() == text, "file unchanged")
    r = s.call("py_save_script", {"script_name": "sub/dir/plain.py", "source":
                                  '"""Plain script, no header."""\nimport sys\n'
                                  'print("plain", sys.argv[1:])\n'})
    check(r["written"] == "true" and os.path.basename(r["path"]) == "plain.py", "path part dropped", r)
    check(os.path.exists(os.path.join(env.state, "scripts", "plain.py")), "plain.py saved")
    s.call("py_save_script", {"script_name": "broken", "source":
                              "# /// script\n# dependencies = [ not toml\n# ///\nprint(1)\n"})
    listed = s.call("py_list_scripts", {})["result"]
    by = {x["name"]: x for x in listed}
    check(sorted(by) == ["broken.py", "hello.py", "plain.py"], "listed names", sorted(by))
    check(by["hello.py"]["docstring"] == "Say hello.", "docstring", by["hello.py"])
    check("requires-python=>=3.11" in by["hello.py"]["header"] and
          "dependencies=requests<3" in by["hello.py"]["header"], "header summary", by["hello.py"])
    check(by["plain.py"]["header"] == "" and not by["plain.py"].get("parse_error"),
          "no header", by["plain.py"])
    check(by["broken.py"].get("parse_error") is True, "malformed header: parse_error", by["broken.py"])
    contains(by["broken.py"]["parse_error_message"], "line 2 of the script",
             "the TOML error names the script's line")
    # Headers are TOML as PEP 723 says (tomllib reads them, in the
    # sandbox): literal strings, comments, multi-line arrays, and a
    # [tool.*] table whose keys are not the script's.
    s.call("py_save_script", {"script_name": "real_toml", "source":
                              "# /// script\n"
                              "# requires-python = '>=3.8'  # a literal string\n"
                              "# dependencies = [\n"
                              "#   'alpha>=1',  # why alpha\n"
                              "#   \"beta[extra] ; python_version >= '3.8'\",\n"
                              "# ]\n"
                              "#\n"
                              "# [tool.uv]\n"
                              "# dependencies = ['not-this-one']\n"
                              "# ///\n"
                              "print('ok')\n"})
    # The PEP's own examples.
    s.call("py_save_script", {"script_name": "pep_example1", "source":
                              "# /// script\n# requires-python = \">=3.11\"\n# dependencies = [\n"
                              "#   \"requests<3\",\n#   \"rich\",\n# ]\n# ///\n\n"
                              "import requests\nfrom rich.pretty import pprint\n"})
    s.call("py_save_script", {"script_name": "pep_example2", "source":
                              "# /// script\n# dependencies = [\n#   \"requests<3\",\n"
                              "#   \"rich\",\n# ]\n#\n# [tool.my-runner]\n"
                              "# mode = \"isolated\"\n# ///\n"})
    s.call("py_save_script", {"script_name": "wrong_type", "source":
                              "# /// script\n# dependencies = 'alpha'\n# ///\n"})
    s.call("py_save_script", {"script_name": "unclosed", "source":
                              "# /// script\n# dependencies = []\nprint(1)\n"})
    for _ in range(2):  # the second listing comes from the cache
        by = {x["name"]: x for x in s.call("py_list_scripts", {})["result"]}
        check(by["real_toml.py"]["header"] == "requires-python=>=3.8; dependencies=alpha>=1, "
              "beta[extra] ; python_version >= '3.8'" and not by["real_toml.py"].get("parse_error"),
              "real TOML header", by["real_toml.py"])
        check(by["pep_example1.py"]["header"] == "requires-python=>=3.11; dependencies="
              "requests<3, rich", "PEP 723's first example", by["pep_example1.py"])
        check(by["pep_example2.py"]["header"] == "dependencies=requests<3, rich",
              "PEP 723's example with a tool table", by["pep_example2.py"])
        contains(by["wrong_type.py"].get("parse_error_message", ""), "array of strings",
                 "dependencies of the wrong type")
        contains(by["unclosed.py"].get("parse_error_message", ""), "line 3",
                 "a block broken by a line that is no comment")
    err = s.call_error("py_run_saved_script", {"script_name": "wrong_type"})
    contains(err, "array of strings", "running a script whose header is wrong says why")
    # overwrite
    r = s.call("py_save_script", {"script_name": "plain", "source": "import sys\n"
                                  "print('v2', sys.argv[1:])\n", "overwrite": True})
    check(r["written"] == "true", "overwrite", r)
    r = s.call("py_run_saved_script", {"script_name": "plain", "args": ["x", "y"]})
    check(r["stdout"] == "v2 ['x', 'y']\n" and r["exit_code"] == 0, "run saved script", r)
    r = s.call("py_run_saved_script", {"script_name": "plain.py", "async_mode": True,
                                       "job_label": "saved"})
    check(s.wait_job(r["job_id"])["result"]["stdout"] == "v2 []\n", "async saved script")
    err = s.call_error("py_run_saved_script", {"script_name": "missing"})
    contains(err, "missing", "missing saved script")
    err = s.call_error("py_run_saved_script", {})
    contains(err, "script_name", "no script_name")
    # The saved hello.py has dependencies that no index here has: the
    # error names them (tests/deps installs real ones).
    err = s.call_error("py_run_saved_script", {"script_name": "hello"})
    contains(err, "requests<3", "saved script with dependencies")
    err = s.call_error("py_save_script", {"script_name": "x"})
    contains(err, "source", "missing source")
    s.stop()
    # --max-scripts: one more is refused with the way out, replacing one
    # still works.
    saved = len([n for n in os.listdir(os.path.join(env.state, "scripts")) if n.endswith(".py")])
    s = env.server(args=["--max-scripts", str(saved)])
    err = s.call_error("py_save_script", {"script_name": "one_more", "source": "print(1)\n"})
    contains(err, "--max-scripts", "a script past the cap is refused")
    check(not os.path.exists(os.path.join(env.state, "scripts", "one_more.py")), "and not written")
    r = s.call("py_save_script", {"script_name": "plain", "source": "print(3)\n", "overwrite": True})
    check(r["written"] == "true", "replacing a saved script stays possible at the cap", r)
    s.stop()


# ---------------------------------------------------------------------------
# Dependencies and benchmark

def case_with_dependencies(env):
    s = env.server()
    r = s.call("py_run_script_with_dependencies", {"script_content":
                                                    "import sys; print(sys.version_info[:2])"})
    check(r["resolved_dependencies"] == [], "resolved_dependencies []", r)
    check(re.fullmatch(r"3\.\d+", r["python_version_used"]), "python_version_used 3.X", r)
    check(r["stdout"].strip() == str(tuple(int(x) for x in r["python_version_used"].split("."))),
          "python_version_used is the interpreter that ran", r)
    check(r["exit_code"] == 0, "exit 0", r)
    # script_path: runs in its own directory.
    p = env.write("ws/dep_script.py", "import os; print(os.getcwd())\n")
    r = s.call("py_run_script_with_dependencies", {"script_path": p, "dependencies": []})
    check(r["stdout"] == f"{env.ws}\n", "script_path runs in its directory", r)
    # Installs are tests/deps' subject; here: a package no index has is an
    # error that names it (this server's pip sees no index at all).
    err = s.call_error("py_run_script_with_dependencies", {"script_content": "print(1)",
                                                           "dependencies": ["no-such-dist-qq"]})
    contains(err, "no-such-dist-qq", "names the package that could not be installed")
    err = s.call_error("py_run_script_with_dependencies", {"script_content": "print(1)",
                                                           "python_version": "3.99"})
    contains(err, "3.99", "python_version 3.99")
    err = s.call_error("py_run_script_with_dependencies", {"script_content": "x", "bogus": 1})
    contains(err, "bogus", "unknown argument")
    s.stop()


def case_benchmark(env):
    s = env.server(smart=120)
    code = ("b = bytearray(100 * 1024 * 1024)\n"
            "for i in range(0, len(b), 4096):\n    b[i] = 1\n"
            "print('touched', len(b))\n")
    r = s.call("py_benchmark_script", {"script_content": code}, timeout=300)
    check(r["exit_code"] == 0 and r["stdout"] == f"touched {100 * 1024 * 1024}\n", "ran", r)
    check(r["peak_rss_mb"] >= 100, "peak_rss_mb >= 100", r)
    check(r["cpu_time_seconds"] > 0, "cpu_time_seconds > 0", r)
    check(r["wall_time_seconds"] > 0, "wall_time_seconds > 0", r)
    check(r["resolved_dependencies"] == [] and "python_version_used" in r, "deps fields", r)
    r = s.call("py_benchmark_script", {"script_content": "print(1)", "sample_interval": 0.01})
    check(r["peak_rss_mb"] < 100, "a small script's peak is small", r)
    err = s.call_error("py_benchmark_script", {"script_content": "x", "sample_interval": "fast"})
    contains(err, "sample_interval", "wrong type")
    s.stop()


# ---------------------------------------------------------------------------
# Transport

def case_concurrent(env):
    s = env.server(smart=300)
    ids = {}
    for n in range(20):
        rid = s.send_call(RUN, {"directory": env.ws,
                                "script_content": f"import time; time.sleep(0.{n % 5}); print('n={n}')"})
        ids[rid] = n
    for rid, n in ids.items():
        sc, is_error = s.wait_call(RUN, rid, timeout=300)
        check(not is_error, f"call {n}", sc)
        check(sc["stdout"] == f"n={n}\n", f"response {rid} carries the output of call {n}", sc)
    # Mixed with job-tool calls that answer at once, interleaved by id.
    a = s.send_call(RUN, {"directory": env.ws, "script_content": "print('slow')"})
    b = s.send_call("py_list_jobs", {"limit": 1})
    check(s.wait_call("py_list_jobs", b)[0]["total"] == 1, "list answered")
    check(s.wait_call(RUN, a)[0]["stdout"] == "slow\n", "run answered")
    s.stop()


def case_output_flood(env):
    # Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
    # default) before reuse, which a flood of reads fills: the bound below
    # is about the server's own buffers, so the quarantine is kept small.
    asan = os.environ.get("ASAN_OPTIONS", "")
    s = env.server(smart=1, env={"ASAN_OPTIONS": (asan + ":" if asan else "") +
                                 "quarantine_size_mb=8"})
    code = ("import sys\n"
            "chunk = (b'a' * 1000 + b'\\xff\\xfe' + 'é'.encode() + b'\\xe2\\x82') * 1024\n"
            "n = 0\n"
            "while n < 500 * 1000 * 1000:\n"
            "    sys.stdout.buffer.write(chunk)\n"
            "    n += len(chunk)\n"
            "sys.stdout.flush()\n"
            "print('flood done', file=sys.stderr)\n")
    sc = s.call(RUN, {"directory": env.ws, "script_content": code, "async_mode": True,
                      "timeout_seconds": 0})
    jid = sc["job_id"]
    j = s.wait_job(jid, timeout=600)
    check(j["status"] == "completed", "flood job completed", j)
    res = j["result"]
    check(res["exit_code"] == 0, "exit 0", res)
    check("flood done" in res["stderr"], "stderr kept", res["stderr"][:500])
    out = res["stdout"]
    m = re.search(r"\[\.\.\. (\d+) more bytes not shown[^\]]*\]", out)
    print(f"inline stdout: {len(out.encode())} bytes; marker: {m.group(0) if m else None}")
    check("more bytes not shown" in out or "truncat" in out.lower(),
          "the inline result is capped with a truncation marker", out[-300:])
    check(len(out.encode()) < 2 * 1024 * 1024, "the inline stdout is capped", len(out))
    check("\ufffd" in out and "é" in out, "invalid UTF-8 repaired, valid kept", out[:2100])
    # The job's JSON: every line of stdout parsed (the client fails otherwise),
    # and jobs.json on disk is valid JSON naming the job.
    check(s.bad_lines == [], "every stdout line is JSON", s.bad_lines[:3])
    wait_until(lambda: json_has_job(env.state, jid, "completed"), 30, "jobs.json to record it")
    # Streams through py_job_status stay valid while bounded.
    j = s.job(jid, incremental=True)
    check(len(j["new_stdout"].encode()) < 2 * 1024 * 1024, "new_stdout capped", len(j["new_stdout"]))
    hwm = proc_status_kb(s.pid, "VmHWM") / 1024
    print(f"server VmHWM after a 500 MB flood: {hwm:.1f} MiB")
    check(hwm < 64, "server peak RSS under 64 MiB", f"{hwm:.1f} MiB")
    s.stop()


def json_has_job(state, jid, status):
    try:
        with open(os.path.join(state, "meta", "jobs.json")) as f:
            jobs = json.load(f)
    except (OSError, ValueError):
        return False
    return any(x.get("id") == jid and x.get("status") == status for x in jobs)


def start_long_job(s, env, marker):
    sc = s.call(RUN, {"directory": env.ws, "args": [marker], "async_mode": True,
                      "script_content": "import time, sys\nprint('long job', flush=True)\n"
                                        "time.sleep(3600)\n"})
    jid = sc["job_id"]
    wait_until(lambda: "long job" in s.job(jid)["partial_stdout"], 60, "the long job to start")
    wait_until(lambda: json_has_job(env.state, jid, "running"), 30, "jobs.json to say running")
    wait_until(lambda: pids_with_cmdline(marker), 30, "the job's process")
    return jid


def check_gone(procs, marker, what):
    # Generous: the kernel takes milliseconds; this is no timing assertion.
    wait_until(lambda: not any(alive(p, t) for p, t in procs) and not pids_with_cmdline(marker),
               30, what)


def case_restart_after_kill(env):
    s = env.server()
    marker = "pymcp-e2e-kill-" + os.urandom(6).hex()
    jid = start_long_job(s, env, marker)
    procs = descendants(s.pid)
    env.track(procs)
    check(len(procs) >= 2, "the server has a launcher and its sandbox", procs)
    s.kill(signal.SIGKILL)
    s.proc.wait()
    survivors = None
    try:
        check_gone(procs, marker, "every launcher and sandbox process of the killed server to go")
    except Failure:
        survivors = [(p, " ".join(open(f"/proc/{p}/cmdline").read().split("\0")),
                      proc_stat(p)[1]) for p, t in procs if alive(p, t)]
        print("FAIL (checked last): processes of the killed server still alive 30 s later "
              "(pid, cmdline, ppid):\n  " + "\n  ".join(map(str, survivors)))
    s2 = env.server()
    j = s2.job(jid)
    check(j["status"] == "failed", "failed after restart", j)
    check(j["error"] == "Server restarted while job was running", "error text", j)
    check("long job" in j["partial_stdout"], "output kept across the restart", j)
    err = s2.call_error("py_cancel_job", {"job_id": jid})
    contains(err, "is not running (status: failed)", "cancel after restart")
    # The restarted server runs jobs.
    r = run_inline(s2, env, "print('alive')")
    check(r["stdout"] == "alive\n", "runs after restart", r)
    s2.stop()
    check(survivors is None, "no launcher or sandbox process survives kill -9 of the server "
          "(the launcher must die with its parent)", survivors)


def shutdown_case(env, how):
    s = env.server()
    marker = f"pymcp-e2e-{how}-" + os.urandom(6).hex()
    jid = start_long_job(s, env, marker)
    procs = descendants(s.pid)
    env.track(procs)
    if how == "eof":
        s.close_stdin()
    else:
        s.kill(signal.SIGTERM)
    rc = s.wait_exit(timeout=60)
    check(rc == 0, f"exit status 0 after {how}", f"{rc}\n{s.stderr_tail()}")
    check_gone(procs, marker, f"the job's sandbox to be gone after {how}")
    check(not json_has_job(env.state, jid, "running"), "jobs.json does not say running")
    s2 = env.server()
    j = s2.job(jid)
    check(j["status"] in ("failed", "cancelled"), "the job ended with the server", j)
    check(j["status"] == "failed", "failed, as TOOLS.md says for interrupted jobs", j)
    print(f"after {how}: status {j['status']}, error {j['error']!r}")
    s2.stop()


def case_state_dir_lock(env):
    """A second server on the same state directory refuses to start (it
    would mark the first one's running jobs failed); once the first one is
    gone, it starts."""
    first = env.server()
    sc = run_inline(first, env, "import time; time.sleep(30)", async_mode=True)
    second = env.server(start=False)
    second.start(initialize=False)
    rc = second.wait_exit(timeout=30)
    check(rc != 0, "the second server exits with an error", rc)
    contains(second.stderr_tail(), "another python-mcp is serving the state directory",
             "it says why")
    contains(second.stderr_tail(), "--state-dir", "and what to do")
    st = first.call("py_job_status", {"job_id": sc["job_id"]})["job"]
    check(st["status"] in ("pending", "running"), "the first server's job is untouched", st)
    first.call("py_cancel_job", {"job_id": sc["job_id"]})
    first.stop()
    third = env.server()
    check(third.call("py_list_jobs", {})["total"] >= 1, "a server starts once the first is gone")
    third.stop()


def case_orphans_swept(env):
    """What a crash leaves in the state directory (output of jobs no longer
    in jobs.json, half-built environments) goes at the next start; the
    output of known jobs stays."""
    s = env.server()
    r = run_inline(s, env, "print('kept')")
    s.stop()
    jobs_dir = os.path.join(env.state, "jobs")
    known = os.listdir(jobs_dir)
    check(len(known) == 1, "the job that ran has its output folder", known)
    orphan = os.path.join(jobs_dir, "0badc0de-0000-4000-8000-000000000000")
    os.makedirs(orphan)
    with open(os.path.join(orphan, "stdout"), "w") as f:
        f.write("left by a crash")
    half = os.path.join(env.state, "envs", ".build-python3-0000000000000000-1234")
    os.makedirs(os.path.join(half, "lib"))
    s = env.server()
    check(not os.path.exists(orphan), "orphan output removed")
    check(not os.path.exists(half), "half-built environment removed")
    check(sorted(os.listdir(jobs_dir)) == sorted(known), "known jobs' output kept",
          (known, os.listdir(jobs_dir)))
    check(r["stdout"] == "kept\n", "the job ran", r)
    s.stop()


def case_shutdown_eof(env):
    shutdown_case(env, "eof")


def case_shutdown_sigterm(env):
    shutdown_case(env, "sigterm")


def case_malformed_lines(env):
    s = env.server()
    garbage = [b"this is not json\n", b'{"jsonrpc":"2.0","id":\n', b"\xff\xfe\n",
               b'{"jsonrpc":"2.0","method":"tools/call","id":null,"params":{}}\n',
               b"[]\n", b"42\n", b'{"jsonrpc":"1.0","id":77,"method":"ping"}\n']
    valid = []
    for i, g in enumerate(garbage):
        s.send_raw(g)
        rid = s.send_call(RUN, {"directory": env.ws, "script_content": f"print('valid {i}')"})
        valid.append((rid, i))
        rid = s.send_call("py_list_jobs", {"limit": 1})
        valid.append((rid, None))
    for rid, i in valid:
        if i is None:
            s.wait_call("py_list_jobs", rid)
        else:
            sc = s.wait_call(RUN, rid)[0]
            check(sc["stdout"] == f"valid {i}\n", f"valid call {i} answered right", sc)
    r = s.request("ping")
    check(r == {}, "ping after the garbage", r)
    check(s.bad_lines == [], "the server wrote only JSON", s.bad_lines)
    bad_version = s.wait_response(77, timeout=30)
    check("error" in bad_version, "jsonrpc 1.0 is refused", bad_version)
    print(f"{len(s.orphans)} id-less error answers for {len(garbage)} bad lines")
    for o in s.orphans:
        check("error" in o and isinstance(o["error"].get("code"), int), "an error object", o)
    check(len(s.orphans) >= 4, "parse errors are answered", s.orphans)
    s.stop()


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


def run_cases(cases, doc_validated="structuredContent validated against outputSchema"):
    """The command line every end-to-end suite shares: --server PATH CASE
    (CASE "list" prints the cases).  One case per run, in a fresh Env; a
    sanitizer report in any server's stderr fails it."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("case")
    a = ap.parse_args()
    if a.case == "list":
        print("\n".join(cases))
        return 0
    if a.case not in cases:
        print(f"unknown case {a.case}; known: {', '.join(cases)}")
        return 2
    env = Env(os.path.abspath(a.server))
    ok = False
    t0 = time.monotonic()
    try:
        cases[a.case](env)
        ok = True
    except Failure as e:
        print(f"FAIL {a.case}: {e}")
        env.dump_logs()
    except Exception:
        print(f"ERROR {a.case}:")
        traceback.print_exc()
        env.dump_logs()
    # Sanitizer builds: a report in any server's stderr fails the case, even
    # when the server went on (or was killed before it could exit nonzero).
    for s in env.servers:
        log = s.stderr_tail(1 << 20)
        for pat in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if pat in log:
                i = log.index(pat)
                print(f"FAIL {a.case}: sanitizer report in {s.log_path}:\n{log[max(0, i - 200):i + 3000]}")
                ok = False
    env.cleanup(ok)
    n = sum(s.validated for s in env.servers)
    print(f"{'PASS' if ok else 'FAIL'} {a.case} in {time.monotonic() - t0:.1f} s; "
          f"{n} {doc_validated} with the {VALIDATOR} validator")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run_cases(CASES))
