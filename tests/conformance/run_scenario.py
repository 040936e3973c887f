#!/usr/bin/python3
"""Runs one scenario of the official MCP conformance suite
(@modelcontextprotocol/conformance) against the real server over HTTP.

Node 22 (which the suite needs; the machine's node may be older) and the
suite are installed with npm once per build directory, under WORK (in the
build tree, never the source tree), under a lock so that parallel ctest runs
share one install.  When npm cannot reach its registry this says so loudly
and exits 77, which ctest counts as a failure unless PYMCP_ALLOW_SKIP was
set at configure time.

The server runs with --conformance-fixtures: the suite's diagnostic tools
(test_missing_capability, test_logging_tool, ...) exercise protocol
mechanisms the real tools never need.  A scenario passes when the suite
exits 0 and reports every check passed.

An extension scenario (tasks-*) is not on the spec timeline: --extension
runs it anyway (the suite's --force).

Usage: run_scenario.py --server BIN --work DIR --suite VERSION [--spec-version V]
                       [--extension] SCENARIO
"""
import argparse
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

NODE_SPEC = "node@22"
NETWORK_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT",
                  "ENETUNREACH", "EHOSTUNREACH", "network", "proxy", "E503", "E502")


def loud(msg):
    bar = "!" * 78
    print(f"{bar}\n!!! {msg}\n{bar}", flush=True)


def npm_install(prefix, spec, marker):
    """spec into prefix/node_modules once; 0, 1, or 77 (registry unreachable)."""
    os.makedirs(prefix, exist_ok=True)
    stamp = os.path.join(prefix, ".installed")
    if (os.path.exists(stamp) and open(stamp).read().strip() == spec
            and os.path.exists(os.path.join(prefix, marker))):
        return 0
    npm = shutil.which("npm")
    if npm is None:
        loud(f"npm is not installed: cannot install {spec}; the conformance test did NOT run")
        return 77
    if not os.path.exists(os.path.join(prefix, "package.json")):
        with open(os.path.join(prefix, "package.json"), "w") as f:
            f.write('{"name": "python-mcp-conformance", "private": true}\n')
    print(f"npm install {spec} into {prefix} (once per build directory)", flush=True)
    try:
        p = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", spec],
                           cwd=prefix, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        loud(f"npm install {spec} timed out: the registry looks unreachable; "
             "the conformance test did NOT run")
        return 77
    if p.returncode != 0:
        out = p.stdout + p.stderr
        print(out[-4000:])
        if any(e in out for e in NETWORK_ERRORS):
            loud("npm cannot reach its registry: the conformance test did NOT run")
            return 77
        loud(f"npm install {spec} failed (exit {p.returncode})")
        return 1
    with open(stamp, "w") as f:
        f.write(spec + "\n")
    return 0


def install(work, suite):
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rc = npm_install(os.path.join(work, "node22"), NODE_SPEC, "node_modules/.bin/node")
        if rc == 0:
            rc = npm_install(os.path.join(work, f"suite-{suite}"),
                             f"@modelcontextprotocol/conformance@{suite}",
                             "node_modules/.bin/conformance")
        return rc


def start_server(binary, base):
    log = os.path.join(base, "server.log")
    proc = subprocess.Popen(
        [binary, "--transport", "http", "--listen", "127.0.0.1:0", "--conformance-fixtures",
         "--state-dir", os.path.join(base, "state"), "--workspace-root", base],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.time() + 30
    while time.time() < deadline:
        m = re.search(r"serving MCP over HTTP at (http://\S+/mcp)", open(log).read())
        if m:
            return proc, m.group(1), log
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    print(open(log).read()[-4000:])
    raise SystemExit("the server did not start listening")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--suite", required=True, help="conformance package version")
    ap.add_argument("--spec-version")
    ap.add_argument("--extension", action="store_true")
    ap.add_argument("scenario")
    a = ap.parse_args()
    rc = install(a.work, a.suite)
    if rc != 0:
        return rc
    node = os.path.join(a.work, "node22", "node_modules", ".bin", "node")
    cli = os.path.join(a.work, f"suite-{a.suite}", "node_modules", ".bin", "conformance")
    base = tempfile.mkdtemp(prefix="pymcp-conformance-", dir="/tmp")
    os.chmod(base, 0o755)
    proc, url, log = start_server(os.path.abspath(a.server), base)
    ok = False
    try:
        cmd = [node, cli, "server", "--url", url, "--scenario", a.scenario]
        if a.spec_version:
            cmd += ["--spec-version", a.spec_version]
        if a.extension:
            cmd += ["--force"]
        print("$ " + " ".join(cmd), flush=True)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, NO_COLOR="1", FORCE_COLOR="0"))
        out = re.sub(r"\x1b\[[0-9;]*m", "", p.stdout + p.stderr)
        print(out[-8000:])
        m = re.search(r"Passed: (\d+)/(\d+), (\d+) failed", out)
        ok = (p.returncode == 0 and m is not None and int(m.group(3)) == 0
              and int(m.group(1)) == int(m.group(2)) > 0)
        print(f"{'PASS' if ok else 'FAIL'} {a.scenario} (suite {a.suite}, exit {p.returncode})")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not ok:
            print("--- server log ---\n" + open(log).read()[-4000:])
        shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
