#!/usr/bin/python3
"""Runs a test script (sdk_client.mjs, sdk_live.mjs: the official
TypeScript SDK clients against python-mcp) with the 1.x SDK or the v2
client, over stdio or HTTP; sdk_harness.mjs goes with it.

The SDKs are installed with npm once per build directory, into SDK_DIR (under
the build tree, never the source tree), under a lock so that parallel ctest
runs share one install.  When npm cannot reach its registry this says so
loudly and exits 77, which ctest counts as a failure unless PYMCP_ALLOW_SKIP
was set at configure time.

Usage: sdk_test.py --server PATH --sdk-dir DIR --script sdk_client.mjs
                   --sdk v1|v2 --transport stdio|http
"""
import argparse
import fcntl
import os
import shutil
import subprocess
import sys

# The 1.x SDK speaks up to 2025-11-25; the v2 client speaks 2026-07-28
# when pinned to it.
# ext-tasks is the tasks-extension requester the live-jobs test drives.
SDK_SPECS = ["@modelcontextprotocol/sdk@^1", "@modelcontextprotocol/client@2.3.1",
             "@modelcontextprotocol/ext-tasks@0.2.2"]
NETWORK_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT",
                  "ENETUNREACH", "EHOSTUNREACH", "network", "proxy", "E503", "E502")


def loud(msg):
    bar = "!" * 78
    print(f"{bar}\n!!! {msg}\n{bar}", flush=True)


def install(sdk_dir):
    os.makedirs(sdk_dir, exist_ok=True)
    stamp = os.path.join(sdk_dir, ".installed")
    with open(os.path.join(sdk_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pkgs = [os.path.join(sdk_dir, "node_modules", "@modelcontextprotocol", name, "package.json")
                for name in ("sdk", "client", "ext-tasks")]
        if (os.path.exists(stamp) and open(stamp).read().split() == SDK_SPECS
                and all(os.path.exists(p) for p in pkgs)):
            return 0
        npm = shutil.which("npm")
        if npm is None:
            loud("npm is not installed: cannot install the TypeScript SDKs")
            return 77
        if not os.path.exists(os.path.join(sdk_dir, "package.json")):
            with open(os.path.join(sdk_dir, "package.json"), "w") as f:
                f.write('{"name": "python-mcp-sdk-test", "private": true, "type": "module"}\n')
        print(f"npm install {' '.join(SDK_SPECS)} into {sdk_dir} (once per build directory)",
              flush=True)
        try:
            p = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error",
                                *SDK_SPECS], cwd=sdk_dir, capture_output=True, text=True,
                               timeout=600)
        except subprocess.TimeoutExpired:
            loud("npm install timed out: the npm registry looks unreachable; "
                 "the TypeScript SDK test did NOT run")
            return 77
        if p.returncode != 0:
            out = p.stdout + p.stderr
            print(out[-4000:])
            if any(e in out for e in NETWORK_ERRORS):
                loud("npm cannot reach its registry: the TypeScript SDK test did NOT run")
                return 77
            loud(f"npm install failed (exit {p.returncode})")
            return 1
        with open(stamp, "w") as f:
            f.write(" ".join(SDK_SPECS) + "\n")
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--sdk-dir", required=True)
    ap.add_argument("--script", required=True)
    ap.add_argument("--sdk", choices=("v1", "v2"), default="v1")
    ap.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    a = ap.parse_args()
    node = shutil.which("node")
    if node is None:
        loud("node is not installed: the TypeScript SDK test did NOT run")
        return 77
    rc = install(a.sdk_dir)
    if rc != 0:
        return rc
    # ESM resolves packages from the script's own directory: run a copy
    # that sits next to node_modules.
    # One copy per run: the runs may go in parallel.  The shared harness
    # goes next to it, replaced atomically for the same reason.
    script = os.path.join(a.sdk_dir, f"{a.sdk}-{a.transport}-{os.path.basename(a.script)}")
    shutil.copyfile(a.script, script)
    harness = os.path.join(os.path.dirname(os.path.abspath(a.script)), "sdk_harness.mjs")
    tmp = os.path.join(a.sdk_dir, f".sdk_harness.{os.getpid()}")
    shutil.copyfile(harness, tmp)
    os.replace(tmp, os.path.join(a.sdk_dir, "sdk_harness.mjs"))
    p = subprocess.run([node, script, os.path.abspath(a.server), a.sdk, a.transport], timeout=600)
    return 0 if p.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
