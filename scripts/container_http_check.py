#!/usr/bin/python3
"""Part of scripts/container-smoke: the image's default command (HTTP on
8765 with a token file), driven from the host through the published
port.  Prints PASS/FAIL lines like the rest of the smoke; exits 1 when
any check fails.

Usage: container_http_check.py PORT TOKEN CONTAINER
"""
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

PORT, TOKEN, CONTAINER = sys.argv[1], sys.argv[2], sys.argv[3]
BASE = f"http://127.0.0.1:{PORT}"
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "container-smoke", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {}}
failed = 0


def check(cond, what, detail=""):
    global failed
    print(f"{'PASS' if cond else 'FAIL'}  {what}")
    if not cond:
        failed += 1
        print("\n".join("        | " + line for line in str(detail)[-3000:].splitlines()))


def get(path, token=None):
    req = urllib.request.Request(BASE + path)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


def call(tool, args, token=TOKEN, timeout=180):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": tool, "arguments": args, "_meta": META}}).encode()
    req = urllib.request.Request(BASE + "/mcp", data=body, method="POST")
    for k, v in {"Content-Type": "application/json",
                 "Accept": "application/json, text/event-stream",
                 "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call",
                 "Mcp-Name": tool}.items():
        req.add_header(k, v)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("www-authenticate", "")


deadline = time.time() + 120
status = None
while time.time() < deadline:
    status, text = get("/readyz")
    if status == 200:
        break
    time.sleep(1)
check(status == 200, "/readyz answers 200 once a sandbox is up", text)
status, text = get("/healthz")
check(status == 200, "/healthz", text)
status, challenge = call("py_list_jobs", {}, token=None)
check(status == 401 and "resource_metadata" in challenge, "no token: 401 naming the metadata",
      (status, challenge))
ws = "/workspace/me"
status, r = call("py_run_script_in_dir", {"directory": ws, "script_content": "print(6*7)"})
check(status == 200 and r.get("result", {}).get("structuredContent", {}).get("stdout") == "42\n",
      "tools/call over HTTP with the token runs Python: 42", r)
tls = ("import ssl\n"
       "c = ssl.create_default_context(cafile='/etc/ssl/certs/ca-certificates.crt')\n"
       "print(len(c.get_ca_certs()) > 100)")
status, r = call("py_run_script_in_dir", {"directory": ws, "script_content": tls})
check(status == 200 and r.get("result", {}).get("structuredContent", {}).get("stdout") == "True\n",
      "scripts see the CA store (ssl loads over 100 certificates)", r)
hostile = ("import os\n"
           "for p in ('/run/secrets/python-mcp-tokens', '/home/python-mcp/.python_mcp/meta/jobs.json',"
           " '/proc/1/environ'):\n"
           "    try:\n        open(p).read(); print('READ', p)\n"
           "    except OSError as e:\n        print('refused', p, e.errno)\n")
status, r = call("py_run_script_in_dir", {"directory": ws, "script_content": hostile})
out = r.get("result", {}).get("structuredContent", {}).get("stdout", "") if status == 200 else ""
check(status == 200 and "READ" not in out and out.count("refused") == 3,
      "a hostile script reads neither the tokens, the server's state nor init's environment", r)
# A memory bomb in one job, a neighbour holding 300 MiB: the bomb ends as
# a job, the neighbour and the server live on.
neighbour = ("import time\nx = bytearray(300 * 1024 * 1024)\n"
             "for i in range(0, len(x), 4096): x[i] = 1\n"
             "print('holding', flush=True)\ntime.sleep(20)\nprint('neighbour ok')")
status, n = call("py_run_script_in_dir", {"directory": ws, "script_content": neighbour,
                                          "async_mode": True})
jid = n.get("result", {}).get("structuredContent", {}).get("job_id") if status == 200 else None
# The bomb starts only once the neighbour really holds its 300 MiB: where
# the kernel's OOM killer decides (no memory cgroup of the job's own), a
# neighbour still allocating would not be a fair test.
held = False
for _ in range(60):
    s2, j = call("py_job_status", {"job_id": jid, "incremental": False})
    job = j.get("result", {}).get("structuredContent", {}).get("job", {}) if s2 == 200 else {}
    if "holding" in (job.get("partial_stdout") or ""):
        held = True
        break
    time.sleep(0.5)
check(held, "the neighbour holds 300 MiB (touched) before the bomb starts", job)
bomb = ("chunks = []\nwhile True:\n    b = bytearray(64 * 1024 * 1024)\n"
        "    for i in range(0, len(b), 4096): b[i] = 1\n    chunks.append(b)\n")
t0 = time.time()
status, r = call("py_run_script_in_dir", {"directory": ws, "script_content": bomb})
res = r.get("result", {}).get("structuredContent", {}) if status == 200 else {}
check(status == 200 and res.get("limit") == "memory",
      f"the memory bomb ends as a job with limit memory in {time.time() - t0:.0f} s "
      f"(exit {res.get('exit_code')!r})", r)
check(get("/healthz")[0] == 200, "the server is alive after the bomb")
job = {}
for _ in range(120):
    s2, j = call("py_job_status", {"job_id": jid})
    job = j.get("result", {}).get("structuredContent", {}).get("job", {})
    if job.get("status") in ("completed", "failed", "cancelled"):
        break
    time.sleep(1)
check(job.get("status") == "completed" and "neighbour ok" in (job.get("result") or {}).get("stdout", ""),
      "the neighbour holding 300 MiB lived through it", job)
status, text = get("/metrics", TOKEN)
check(status == 200 and "python_mcp_runs_total" in text and "python_mcp_jobs" in text,
      "/metrics with the token", text[:1500])
p = subprocess.run(["podman", "stop", "-t", "30", CONTAINER], capture_output=True, text=True)
code = subprocess.run(["podman", "inspect", "--format", "{{.State.ExitCode}}", CONTAINER],
                      capture_output=True, text=True).stdout.strip()
check(code == "0", f"SIGTERM (podman stop): the server exits 0 (got {code})", p.stderr)
sys.exit(1 if failed else 0)
