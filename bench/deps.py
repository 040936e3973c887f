#!/usr/bin/python3
"""What dependency environments cost, over the server's real stdio transport
with the real launcher and pip, with wheels built here (no index needed):

  repeated run  a script with one dependency whose environment exists,
                against the same script without dependencies (interleaved,
                median of --runs each); the bar is 1.5x
  first run     a script with one small local wheel never seen before (a
                new wheel per sample, so each builds its environment),
                against a bare `python3 -m venv` of the same machine (with
                its pip bootstrap, the usual way to get an environment one
                can install into); the bar is 3x.  `venv --without-pip` is
                printed for reference.

Not a test: it asserts nothing and prints ratios to baselines measured in
the same run.

Usage: bench/deps.py [--build DIR] [--runs N] [--first N]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "server"))
sys.path.insert(0, os.path.join(ROOT, "tests", "deps"))
from mcp_client import Server  # noqa: E402
from test_deps import build_wheel  # noqa: E402

PYTHON = "/usr/bin/python3"
DEPS = "py_run_script_with_dependencies"


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--first", type=int, default=5)
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="pymcp-bench-deps-", dir="/tmp")
    os.chmod(base, 0o755)
    wheels = os.path.join(base, "wheels")
    for i in range(a.first + 1):
        build_wheel(wheels, f"benchpkg{i}", "1.0", f"benchpkg{i}", "VALUE = 1\n")
    s = Server(os.path.join(a.build, "src", "python-mcp"), os.path.join(base, "state"),
               roots=[base], env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": wheels},
               log_path=os.path.join(base, "server.log")).start()
    try:
        with_dep = {"script_content": "import benchpkg0", "dependencies": ["benchpkg0"],
                    "auto_parse_imports": False}
        without = {"script_content": "pass", "auto_parse_imports": False}
        r = s.call(DEPS, with_dep)          # builds benchpkg0's environment
        assert r["exit_code"] == 0, r
        s.call(DEPS, without)
        rep, plain = [], []
        for _ in range(a.runs):
            rep.append(timed(lambda: s.call(DEPS, with_dep)))
            plain.append(timed(lambda: s.call(DEPS, without)))
        first, venv_pip, venv_bare = [], [], []
        for i in range(1, a.first + 1):
            d = os.path.join(base, f"venv{i}")
            venv_pip.append(timed(lambda: subprocess.run([PYTHON, "-m", "venv", d], check=True)))
            shutil.rmtree(d)
            venv_bare.append(timed(lambda: subprocess.run(
                [PYTHON, "-m", "venv", "--without-pip", d], check=True)))
            shutil.rmtree(d)
            args = {"script_content": f"import benchpkg{i}", "dependencies": [f"benchpkg{i}"],
                    "auto_parse_imports": False}
            first.append(timed(lambda: s.call(DEPS, args)))
    finally:
        s.stop()
        shutil.rmtree(base, ignore_errors=True)
    m = statistics.median
    print(f"repeated run, environment reused:  {m(rep) * 1e3:8.1f} ms median of {a.runs}")
    print(f"same call without dependencies:    {m(plain) * 1e3:8.1f} ms")
    print(f"  ratio {m(rep) / m(plain):.2f}x   (bar: 1.5x)")
    print(f"first run, one new local wheel:    {m(first) * 1e3:8.1f} ms median of {a.first}")
    print(f"python3 -m venv (with pip):        {m(venv_pip) * 1e3:8.1f} ms")
    print(f"python3 -m venv --without-pip:     {m(venv_bare) * 1e3:8.1f} ms")
    print(f"  ratio to venv with pip    {m(first) / m(venv_pip):.2f}x   (bar: 3x)")
    print(f"  ratio to venv without pip {m(first) / m(venv_bare):.2f}x   (for reference)")


if __name__ == "__main__":
    main()
