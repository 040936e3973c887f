#!/usr/bin/env python3
"""The layering rules of docs/architecture.md, checked on the source tree.

- A file includes only headers of its own folder or of folders below it
  (the CMake targets enforce this for the include path; this also catches
  relative includes such as "../protocol/mcp.h"). Hence no include cycle
  between folders.
- No file of the server (src/) includes a header of the launcher
  (sandbox/); the launcher includes none of the server's.
- Only src/protocol/ builds JSON-RPC messages (jrpc_result_new,
  jrpc_error_new, jrpc_notification_new, or a "jsonrpc" member by hand).

Usage: check_layers.py SOURCE_DIR      check the tree
       check_layers.py --self-test     plant each violation in a copy of a
                                       small tree and expect it found
"""
import os
import re
import shutil
import sys
import tempfile

# Folders from the top down; a folder may include its own headers and those
# of any folder after it in its own stack.
SERVER = ["src", "src/transport", "src/protocol", "src/tools", "src/exec", "src/deps",
          "src/run", "src/jobs", "base"]
LAUNCHER = ["sandbox", "sandbox/policy", "sandbox/seccomp", "base"]
REPLY_BUILDERS = re.compile(r'\bjrpc_(result|error|notification)_new\s*\(|\\?"jsonrpc\\?"\s*[,:]')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def headers_of(root, folders):
    """header name -> folder, for the top level of each folder."""
    where = {}
    for folder in folders:
        path = os.path.join(root, folder)
        for name in os.listdir(path) if os.path.isdir(path) else []:
            if name.endswith(".h"):
                where.setdefault(name, []).append(folder)
    return where


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def check(root):
    problems = []
    all_folders = sorted(set(SERVER + LAUNCHER))
    where = headers_of(root, all_folders)
    for name, folders in where.items():
        if len(folders) > 1:
            problems.append(f"header `{name}` exists in {', '.join(folders)}: names must be "
                            "unique so that an include says which floor it reaches")
    for stack in (SERVER, LAUNCHER):
        for i, folder in enumerate(stack):
            if folder == "base" and stack is LAUNCHER:
                continue  # checked once, with the server's stack
            allowed = set(stack[i:])
            path = os.path.join(root, folder)
            for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
                if not name.endswith((".c", ".h")):
                    continue
                rel = f"{folder}/{name}"
                text = open(os.path.join(path, name), encoding="utf-8").read()
                for inc in INCLUDE.findall(text):
                    base = os.path.basename(inc)
                    owners = where.get(base)
                    if inc != base:
                        problems.append(f"{rel}: `#include \"{inc}\"` names a path; include "
                                        "by name, so the build's include path decides")
                    elif owners is None:
                        problems.append(f"{rel}: `#include \"{inc}\"` is no header of the tree")
                    elif owners[0] not in allowed:
                        up = owners[0]
                        kind = ("the launcher's" if up.startswith("sandbox") and stack is SERVER
                                else "the server's" if up.startswith("src") and stack is LAUNCHER
                                else "a higher layer's")
                        problems.append(f"{rel}: includes `{inc}`, {kind} header ({up}/); "
                                        f"{folder}/ may use only {', '.join(stack[i:])}")
                if not folder.startswith("src/protocol") and REPLY_BUILDERS.search(
                        strip_comments(text)):
                    problems.append(f"{rel}: builds a JSON-RPC message; only src/protocol/ "
                                    "does (a tool answers through its tool_call)")
    return problems


def self_test(root):
    """Each planted violation must be found; the untouched copy is clean."""
    plants = [
        ("src/jobs/jobs_planted.c", '#include "mcp.h"\n', "higher layer"),
        ("src/run/runner_planted.c", '#include "policy.h"\n', "the launcher's"),
        ("sandbox/seccomp/planted.c", '#include "policy.h"\n', "higher layer"),
        ("src/tools/planted.c", '#include "../protocol/mcp.h"\n', "names a path"),
        ("src/tools/reply.c", 'json_t *r = jrpc_result_new(id, x);\n', "JSON-RPC"),
        ("src/exec/reply.c", 'json_pack("{s:s}", "jsonrpc", "2.0");\n', "JSON-RPC"),
        ("src/transport/literal.c", 'const char *t = "{\\"jsonrpc\\":\\"2.0\\"}";\n', "JSON-RPC"),
        ("base/dup.c", "", None),
        ("src/deps/mcp.h", "", "unique"),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for folder in sorted(set(SERVER + LAUNCHER)):
            src = os.path.join(root, folder)
            dst = os.path.join(tmp, folder)
            os.makedirs(dst, exist_ok=True)
            for name in os.listdir(src):
                if name.endswith((".c", ".h")):
                    shutil.copy(os.path.join(src, name), dst)
        clean = check(tmp)
        if clean:
            print("self-test: the copied tree is not clean:", *clean, sep="\n  ")
            return 1
        for path, text, expect in plants:
            full = os.path.join(tmp, path)
            with open(full, "w") as f:
                f.write(text)
            found = check(tmp)
            os.unlink(full)
            ok = (not found) if expect is None else any(expect in p for p in found)
            print(f"{'ok  ' if ok else 'FAIL'} {path}: {found or 'nothing found'}")
            failures += not ok
    return 1 if failures else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--self-test":
        return self_test(sys.argv[2])
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    problems = check(sys.argv[1])
    for p in problems:
        print(p)
    print(f"{len(problems)} layering problem(s)" if problems else "layers: clean")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
