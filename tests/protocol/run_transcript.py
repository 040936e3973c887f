#!/usr/bin/python3
"""Runs one JSON-RPC transcript through the real server and compares what
it prints with the expected messages.

A transcript is a directory:
  input.jsonl      bytes fed to the server's stdin (through a pipe, which
                   is then closed, so the server sees EOF)
  expected.jsonl   the messages expected on stdout, one JSON value a line,
                   in order; lines starting with '#' are comments
  args             optional: extra command-line arguments (shell-split)
  stdin-is-file    optional: stdin is input.jsonl itself, a regular file

Comparison is structural (key order and spacing do not matter).  In
expected values these strings are placeholders, for what other parts of the
server decide (its version, instructions, the tools it registers):
  "<any>"             any value
  "<string>"          any string
  "<array>"           any array
  "<startswith:TEXT>" any string that starts with TEXT

The server runs with --state-dir in a fresh temporary directory.  It must
exit 0, print only complete JSON lines on stdout and exit by itself once
its stdin ends.

Usage: run_transcript.py SERVER DIR [--update]
  --update rewrites expected.jsonl from the actual output: review every
  message, and put the placeholders back.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

TIMEOUT = 30


def matches(expected, actual):
    if expected == "<any>":
        return True
    if expected == "<string>":
        return isinstance(actual, str)
    if expected == "<array>":
        return isinstance(actual, list)
    if isinstance(expected, str) and expected.startswith("<startswith:") and expected.endswith(">"):
        return isinstance(actual, str) and actual.startswith(expected[len("<startswith:"):-1])
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(matches(expected[k], actual[k]) for k in expected))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(matches(e, a) for e, a in zip(expected, actual)))
    # bool is an int in Python: keep true distinct from 1.
    return type(expected) is type(actual) and expected == actual


def run(server, case):
    args = []
    if os.path.exists(os.path.join(case, "args")):
        with open(os.path.join(case, "args")) as f:
            args = shlex.split(f.read())
    input_path = os.path.join(case, "input.jsonl")
    with open(input_path, "rb") as f:
        data = f.read()
    with tempfile.TemporaryDirectory(prefix="transcript-") as state:
        argv = [server, "--state-dir", state] + args
        if os.path.exists(os.path.join(case, "stdin-is-file")):
            with open(input_path, "rb") as stdin:
                return subprocess.run(argv, stdin=stdin, capture_output=True, timeout=TIMEOUT)
        return subprocess.run(argv, input=data, capture_output=True, timeout=TIMEOUT)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    server, case = sys.argv[1], sys.argv[2]
    update = "--update" in sys.argv[3:]
    proc = run(server, case)
    failures = []
    if proc.returncode != 0:
        failures.append(f"exit status {proc.returncode}, expected 0")
    out = proc.stdout
    if out and not out.endswith(b"\n"):
        failures.append("stdout does not end with a newline")
    actual = []
    for n, raw in enumerate(out.splitlines(), 1):
        try:
            actual.append(json.loads(raw))
        except ValueError as e:
            failures.append(f"stdout line {n} is not JSON ({e}): {raw[:200]!r}")
    expected_path = os.path.join(case, "expected.jsonl")
    if update:
        with open(expected_path, "w") as f:
            for msg in actual:
                f.write(json.dumps(msg, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(f"wrote {len(actual)} messages to {expected_path}")
        return
    with open(expected_path) as f:
        expected = [json.loads(line) for line in f
                    if line.strip() and not line.startswith("#")]
    for n in range(max(len(expected), len(actual))):
        e = expected[n] if n < len(expected) else None
        a = actual[n] if n < len(actual) else None
        if n >= len(actual):
            failures.append(f"message {n + 1}: missing, expected {json.dumps(e)}")
        elif n >= len(expected):
            failures.append(f"message {n + 1}: unexpected {json.dumps(a)}")
        elif not matches(e, a):
            failures.append(f"message {n + 1}:\n  expected {json.dumps(e)}\n"
                            f"  actual   {json.dumps(a)}")
    if failures:
        print(f"transcript {case} failed:")
        for f in failures:
            print(" ", f)
        print("stderr of the server:")
        print(proc.stderr.decode(errors="replace")[-4000:])
        sys.exit(1)
    print(f"transcript {os.path.basename(case)}: {len(actual)} messages as expected")


if __name__ == "__main__":
    main()
