#!/usr/bin/python3
"""The server and its policies, end to end: the real server on stdio (and
once over HTTP), the real launcher, real Python, test policies of a few
lines that extend policies/default.json with small limits.

- agents see the limits: the instructions (initialize, server/discover)
  and the execution tools' descriptions state the network and memory of
  the policy in force; policy://effective is --print-effective-policy;
- a run that hits a limit gets a limit_note naming the limit and its
  value (memory, disk, time, network);
- SIGHUP reloads the policies: new runs and the descriptions follow the
  new file, a job started before keeps its limits; a broken file leaves
  the old policy in force and the log says why.

Usage: test_policy_server.py --server PATH CASE     (CASE "list" prints the cases)

No timing decides a verdict: scripts wait for files the test creates, and
the test polls with generous limits.
"""
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "http"))
from mcp_client import wait_until  # noqa: E402
from test_server import RUN, check, run_cases  # noqa: E402

DEFAULT = os.path.abspath(os.path.join(HERE, "..", "..", "policies", "default.json"))
INSTALL = os.path.abspath(os.path.join(HERE, "..", "..", "policies", "install.json"))
RUN_TOOLS = ["py_run_script_in_dir", "py_run_script_with_dependencies", "py_benchmark_script",
             "py_run_saved_script"]
MODERN = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientCapabilities": {}}
MiB, GiB = 1 << 20, 1 << 30

# The limits of the first policy of every case, and of the one a reload
# brings.
SMALL = {"cgroup": {"memory_max_bytes": 256 * MiB}, "rlimits": {"as_bytes": 1 * GiB},
         "tmp_size_bytes": 16 * MiB, "workspace": {"max_bytes": 32 * MiB}}
LARGER = {"cgroup": {"memory_max_bytes": 512 * MiB}, "rlimits": {"as_bytes": 2 * GiB},
          "tmp_size_bytes": 16 * MiB, "workspace": {"max_bytes": 32 * MiB}}

REPORT_AS = "import resource\nprint('AS', resource.getrlimit(resource.RLIMIT_AS)[0])\n"


def launcher(env):
    return os.path.join(os.path.dirname(env.bin), "..", "sandbox", "python-mcp-sandbox")


def write_policy(env, changes, name="policy.json"):
    """A policy of a few lines on top of the shipped default."""
    path = os.path.join(env.base, name)
    with open(path, "w") as f:
        json.dump(dict({"version": 1, "extends": DEFAULT}, **changes), f, indent=1)
    return path


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def start(env, policy, **kw):
    return env.server(args=["--policy", policy, "--install-policy", INSTALL], **kw)


def effective(env, policy):
    out = subprocess.run([launcher(env), "--print-effective-policy", policy],
                         capture_output=True, text=True)
    check(out.returncode == 0, "--print-effective-policy loads the test policy", out.stderr)
    return json.loads(out.stdout)


def instructions(s):
    """The instructions of server/discover (2026-07-28, on the same stdio)."""
    return s.request("server/discover", {"_meta": MODERN})["instructions"]


def descriptions(s):
    tools = {t["name"]: t for t in s.request("tools/list")["tools"]}
    return {name: tools[name]["description"] for name in RUN_TOOLS}


def read_policy(s, modern=False):
    params = {"uri": "policy://effective"}
    if modern:
        params["_meta"] = MODERN
    c = s.request("resources/read", params)["contents"]
    check(len(c) == 1 and c[0]["uri"] == "policy://effective" and
          c[0]["mimeType"] == "application/json", "policy://effective: one JSON content", c)
    return json.loads(c[0]["text"])


def snapshots(env):
    d = os.path.join(env.state, "policies")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def run(s, env, code, **kw):
    args = {"directory": env.ws, "script_content": code}
    args.update(kw)
    return s.call(RUN, args)


def note_names(sc, what, *needles):
    note = sc.get("limit_note")
    check(isinstance(note, str), f"{what}: the result has a limit_note", sc)
    for n in needles:
        check(n in note, f"{what}: the note names {n!r}", note)
    return note


def hup_and_wait(s, marker):
    """SIGHUP, then the log line that says how it went (counted, so that an
    earlier reload's line does not count)."""
    before = s.stderr_tail(1 << 22).count(marker)
    os.kill(s.pid, signal.SIGHUP)
    wait_until(lambda: s.stderr_tail(1 << 22).count(marker) > before, 60,
               f"the log line {marker!r} after SIGHUP")
    lines = [ln for ln in s.stderr_tail(1 << 22).splitlines() if marker in ln]
    return lines[-1]


# ---------------------------------------------------------------------------
# Agents see the limits

def case_limits_shown(env):
    """initialize, server/discover and the four execution tools'
    descriptions name the network and the memory of the policy in use;
    with network "user" they say outbound internet instead."""
    s = start(env, write_policy(env, SMALL))
    for text, what in [(instructions(s), "server/discover instructions")] + \
            [(d, f"{n} description") for n, d in descriptions(s).items()]:
        check("no network" in text, f"{what}: says there is no network", text)
        check("256 MiB" in text and "cgroup.memory_max_bytes" in text,
              f"{what}: names the memory limit", text)
        check("timeout_seconds" in text and "/tmp" in text, f"{what}: time and disk", text)
    s.stop()
    # The legacy initialize of a fresh server says the same.
    net = write_policy(env, {"network": "user", "cgroup": {"memory_max_bytes": 3 * GiB}},
                       name="net.json")
    s2 = start(env, net, start=False)
    s2.start(initialize=False)
    init = s2.initialize()
    check("outbound internet, not the host" in init["instructions"] and
          "3 GiB" in init["instructions"], "initialize: network user and 3 GiB",
          init["instructions"])
    check("no network" not in s2.tools[RUN]["description"],
          "a tool description does not claim no network under network user",
          s2.tools[RUN]["description"])
    s2.stop()


def case_policy_resource(env):
    """resources/list names policy://effective; resources/read (legacy and
    2026-07-28) gives exactly what --print-effective-policy prints."""
    policy = write_policy(env, SMALL)
    s = start(env, policy)
    listed = s.request("resources/list")["resources"]
    check(any(r["uri"] == "policy://effective" and r.get("mimeType") == "application/json"
              for r in listed), "resources/list has policy://effective", listed)
    want = effective(env, policy)
    check(read_policy(s) == want, "policy://effective equals --print-effective-policy")
    check(read_policy(s, modern=True) == want, "the same for a 2026-07-28 resources/read")
    check(want["cgroup"]["memory_max_bytes"] == 256 * MiB, "the test policy's limit is in it",
          want["cgroup"])
    s.stop()


# ---------------------------------------------------------------------------
# Errors name the limit and its value

def case_limit_memory(env):
    """Past the memory cgroup: killed, limit memory, note naming 256 MiB
    and cgroup.memory_max_bytes.  Past the address space: MemoryError,
    note naming 1 GiB and rlimits.as_bytes."""
    s = start(env, write_policy(env, SMALL), smart=120)
    sc = run(s, env, "chunks = []\nwhile True:\n    chunks.append(bytearray(32 << 20))\n")
    check(sc["limit"] == "memory", "the cgroup ended the run (limit memory)", sc)
    note_names(sc, "cgroup", "256 MiB", "cgroup.memory_max_bytes")
    sc = run(s, env, "x = bytearray(3 << 30)\n")
    check(sc["exit_code"] == 1 and "MemoryError" in sc["stderr"], "a MemoryError", sc)
    note_names(sc, "address space", "MemoryError", "1 GiB", "rlimits.as_bytes")
    # Nothing to say about a run that ends well, or on an error of its own.
    sc = run(s, env, "print('fine')\n")
    check("limit_note" not in sc, "no note for a run that ended well", sc)
    sc = run(s, env, "raise ValueError('mine')\n")
    check(sc["exit_code"] == 1 and "limit_note" not in sc, "no note for the script's own error",
          sc)
    s.stop()


def case_limit_disk(env):
    """A full /tmp: No space left on device, note naming 16 MiB and
    tmp_size_bytes.  Past workspace.max_bytes: the launcher ends the run
    (limit disk), note naming 32 MiB."""
    s = start(env, write_policy(env, SMALL), smart=120)
    sc = run(s, env, "open('/tmp/big', 'wb').write(b'x' * (32 << 20))\n")
    check(sc["exit_code"] == 1 and "No space left on device" in sc["stderr"],
          "/tmp is full", sc)
    note_names(sc, "tmp", "16 MiB", "tmp_size_bytes")
    sc = run(s, env, "import time\nopen('big', 'wb').write(b'x' * (48 << 20))\n"
                     "for _ in range(2400):\n    time.sleep(0.05)\n")
    check(sc["limit"] == "disk", "the workspace limit ended the run", sc)
    note_names(sc, "workspace", "32 MiB", "workspace.max_bytes")
    os.unlink(os.path.join(env.ws, "big"))
    s.stop()


def case_limit_time(env):
    """A script that sleeps past its timeout: limit time, stderr still ends
    with [TIMEOUT], note naming the call's 1 s and timeout_seconds."""
    s = start(env, write_policy(env, SMALL), smart=120)
    sc = run(s, env, "import time\ntime.sleep(600)\n", timeout_seconds=1)
    check(sc["limit"] == "time" and sc["stderr"].endswith("[TIMEOUT]"),
          "the timeout ended the run, [TIMEOUT] as before", sc)
    note_names(sc, "timeout", "1 s", "timeout_seconds")
    s.stop()


def case_limit_network(env):
    """Without network: a connection and a name lookup each fail, and the
    note says the sandbox has no network (policy network: none)."""
    s = start(env, write_policy(env, SMALL), smart=120)
    sc = run(s, env, "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=30)\n")
    check(sc["exit_code"] == 1, "the connection failed", sc)
    note_names(sc, "connect", "no network", "network: none")
    sc = run(s, env, "import urllib.request\nurllib.request.urlopen('http://example.com/')\n")
    check(sc["exit_code"] == 1, "the lookup failed", sc)
    note_names(sc, "lookup", "no network", "network: none")
    s.stop()


# ---------------------------------------------------------------------------
# Reload

def case_reload(env):
    """SIGHUP with a changed file: the descriptions, the instructions,
    policy://effective and the next run follow it; a job started before
    keeps its address space (and its note names the old value); the old
    snapshot goes once its launcher is gone."""
    policy = write_policy(env, SMALL)
    s = start(env, policy, smart=120)
    old = snapshots(env)
    check(len(old) == 2 and old[0].startswith("install-") and old[1].startswith("run-"),
          "two snapshots in <state>/policies", old)
    mode = os.stat(os.path.join(env.state, "policies", old[1])).st_mode & 0o777
    check(mode == 0o644, f"a snapshot is 0644 (got {oct(mode)})")
    waiter = REPORT_AS + ("import os, sys, time\nsys.stdout.flush()\n"
                          "while not os.path.exists('go'):\n    time.sleep(0.05)\n"
                          "x = bytearray(1536 << 20)\n")
    stub = run(s, env, waiter, async_mode=True)
    wait_until(lambda: "AS" in s.job(stub["job_id"])["partial_stdout"], 120,
               "the first job to report its address space")

    write_policy(env, LARGER)
    line = hup_and_wait(s, "SIGHUP: policies")
    check("policies reloaded" in line, "the reload succeeded", line)
    check("512 MiB" in instructions(s), "server/discover: the new memory limit", instructions(s))
    for name, d in descriptions(s).items():
        check("512 MiB" in d and "256 MiB" not in d, f"{name}: the new limit", d)
    check(read_policy(s) == effective(env, policy), "policy://effective: the new policy")
    sc = run(s, env, REPORT_AS)
    check(sc["stdout"].strip() == f"AS {2 * GiB}", "a new run has the new address space", sc)

    write_text(os.path.join(env.ws, "go"), "")
    job = s.wait_job(stub["job_id"])
    res = job["result"]
    check(res["stdout"].startswith(f"AS {GiB}"), "the first job kept its address space", res)
    check("MemoryError" in res["stderr"], "and its 1.5 GiB did not fit", res)
    note_names(res, "the first job", "1 GiB", "rlimits.as_bytes")
    wait_until(lambda: old[1] not in snapshots(env) and
               len([n for n in snapshots(env) if n.startswith("run-")]) == 1, 60,
               "the old run snapshot to go once no launcher needs it")
    check(old[0] in snapshots(env), "the unchanged install snapshot stays", snapshots(env))
    s.stop()


def case_reload_broken(env):
    """SIGHUP with a file that does not parse, a bad value, a missing base:
    each time the log names the step, the file and the launcher's message,
    and the old policy stays in force (runs, descriptions, the resource);
    a good file then takes effect."""
    policy = write_policy(env, SMALL)
    s = start(env, policy, smart=120)
    before = snapshots(env)
    want = effective(env, policy)
    good = json.load(open(policy))
    cases = [
        ('{"version": 1, "rlimits": {"as_bytes": 2147483648,}', "line"),
        (json.dumps(dict(good, rlimits={"as_bytes": "lots"})), "as_bytes"),
        (json.dumps(dict(good, extends="/nonexistent/base.json")), "/nonexistent/base.json"),
    ]
    for text, needle in cases:
        write_text(policy, text)
        line = hup_and_wait(s, "SIGHUP: policies")
        check("policies not reloaded, the old ones stay in force" in line,
              "the reload failed and says so", line)
        check("effective policy" in line and policy in line and needle in line,
              f"the log names the step, the file and {needle!r}", line)
        sc = run(s, env, REPORT_AS)
        check(sc["stdout"].strip() == f"AS {GiB}", "runs keep the old policy", sc)
        check(all("256 MiB" in d for d in descriptions(s).values()), "so do the descriptions")
        check(read_policy(s) == want, "and policy://effective")
        check(snapshots(env) == before, "no snapshot left behind", snapshots(env))
    write_policy(env, LARGER)
    line = hup_and_wait(s, "SIGHUP: policies")
    check("policies reloaded" in line, "a good file is then taken", line)
    sc = run(s, env, REPORT_AS)
    check(sc["stdout"].strip() == f"AS {2 * GiB}", "with its limits", sc)
    s.stop()


def case_reload_http(env):
    """Over HTTP: server/discover names the limit; after a failed reload
    /readyz is still ready and the old limit is still described; after a
    good one the new limit is."""
    from http_client import Server as HttpServer
    policy = write_policy(env, SMALL)
    s = HttpServer(env.bin, args=["--policy", policy, "--install-policy", INSTALL])
    try:
        def discover():
            r = s.modern(1, "server/discover")
            check(r.status == 200, "server/discover answers", (r.status, r.body[:500]))
            return r.message()["result"]["instructions"]

        def ready():
            return s.request(method="GET", path="/readyz").status == 200
        wait_until(ready, 60, "/readyz")
        check("256 MiB" in discover(), "discover names the limit", discover())
        write_text(policy, "{ not json")
        marker = "SIGHUP: policies"
        os.kill(s.proc.pid, signal.SIGHUP)
        wait_until(lambda: marker in open(s.log).read(), 60, "the reload's log line")
        check("not reloaded" in s.logs(), "the reload failed", s.logs())
        check(ready(), "/readyz: still ready with the old policy in force")
        check("256 MiB" in discover(), "the old limit is still described", discover())
        r = s.modern(2, "resources/read", {"uri": "policy://effective"},
                     name="policy://effective")
        check(r.status == 200 and "result" in r.message(), "resources/read answers",
              (r.status, r.body[:500]))
        got = json.loads(r.message()["result"]["contents"][0]["text"])
        check(got["cgroup"]["memory_max_bytes"] == 256 * MiB, "policy://effective: the old one")
        write_policy(env, LARGER)
        os.kill(s.proc.pid, signal.SIGHUP)
        wait_until(lambda: "policies reloaded" in open(s.log).read(), 60, "a good reload")
        check("512 MiB" in discover(), "discover names the new limit", discover())
        wait_until(ready, 60, "/readyz after the reload")
        check(s.stop() == 0, "the server exits 0")
        log = open(s.log).read()
        for pat in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            check(pat not in log, "no sanitizer report in the HTTP server's log", log[-3000:])
    finally:
        s.cleanup()


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run_cases(CASES))
