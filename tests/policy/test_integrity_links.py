#!/usr/bin/python3
"""--check-policy as root refuses a policy (or a base it extends) that the
scripts' host ids could swap, through symbolic links as much as through
plain paths: a link in a directory they may write, a link to a file in
such a directory, a relative link through `..`, a base reached by a link.
Links among root's own directories are fine (the control).

    test_integrity_links.py --launcher PATH --default PATH
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

NOBODY = 65534  # the default policy's user.host_uid/host_gid


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--default", required=True)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("!!! not root: the integrity check only runs as root; this test did NOT run",
              file=sys.stderr)
        sys.exit(77)
    # /tmp is sticky: root's entries in it are safe from others.
    root = tempfile.mkdtemp(prefix="pymcp-links-")
    os.chmod(root, 0o755)
    try:
        run_cases(a.launcher, a.default, root)
    finally:
        shutil.rmtree(root)
    print("ok")


def check(launcher, policy, culprit):
    r = subprocess.run([launcher, "--check-policy", policy], capture_output=True, text=True)
    if culprit is None:
        if r.returncode != 0:
            fail(f"control `{policy}` refused: {r.stderr.strip()}")
        return
    if r.returncode == 0:
        fail(f"`{policy}` accepted although `{culprit}` is the scripts' to change")
    want = f"`{culprit}` is writable for them"
    if want not in r.stderr:
        fail(f"`{policy}`: message lacks {want!r}: {r.stderr.strip()}")


def run_cases(launcher, default, root):
    safe = os.path.join(root, "safe")  # root's, 0755
    theirs = os.path.join(root, "theirs")  # the scripts' host ids own it
    os.mkdir(safe)
    os.mkdir(theirs)
    os.chown(theirs, NOBODY, NOBODY)
    real = os.path.join(safe, "real.json")
    shutil.copy(default, real)
    os.chmod(real, 0o644)

    # A link in their directory to root's file: they can point it elsewhere.
    os.symlink(real, os.path.join(theirs, "policy.json"))
    check(launcher, os.path.join(theirs, "policy.json"), theirs)

    # A link in root's directory to a file in theirs.
    planted = os.path.join(theirs, "planted.json")
    shutil.copy(default, planted)
    os.chown(planted, 0, 0)
    os.symlink(planted, os.path.join(safe, "to-theirs.json"))
    check(launcher, os.path.join(safe, "to-theirs.json"), theirs)

    # A relative link whose way runs through an entry of their directory
    # and back up (they could make `sub` a link to anywhere).
    os.mkdir(os.path.join(theirs, "sub"))
    os.symlink("../theirs/sub/../../safe/real.json", os.path.join(safe, "round.json"))
    check(launcher, os.path.join(safe, "round.json"), theirs)

    # A link to a directory they own, used as a path component.
    os.symlink(theirs, os.path.join(safe, "dirlink"))
    check(launcher, os.path.join(safe, "dirlink", "planted.json"), theirs)

    # The base a policy extends, reached by a link in their directory.
    os.symlink(real, os.path.join(theirs, "base.json"))
    top = os.path.join(safe, "top.json")
    with open(top, "w") as f:
        json.dump({"version": 1, "extends": os.path.join(theirs, "base.json")}, f)
    check(launcher, top, theirs)

    # A loop of links is an error, not a hang.
    os.symlink("loop-b", os.path.join(safe, "loop-a"))
    os.symlink("loop-a", os.path.join(safe, "loop-b"))
    r = subprocess.run([launcher, "--check-policy", os.path.join(safe, "loop-a")],
                       capture_output=True, text=True, timeout=60)
    if r.returncode == 0:
        fail("a loop of links accepted")

    # Controls: links that stay among root's directories.
    os.symlink("real.json", os.path.join(safe, "rel.json"))
    check(launcher, os.path.join(safe, "rel.json"), None)
    os.symlink(real, os.path.join(safe, "abs.json"))
    check(launcher, os.path.join(safe, "abs.json"), None)
    # `theirs/..` is root's directory whatever they do inside theirs.
    os.symlink("../theirs/../safe/./real.json", os.path.join(safe, "dots.json"))
    check(launcher, os.path.join(safe, "dots.json"), None)
    good = os.path.join(safe, "good.json")
    with open(good, "w") as f:
        json.dump({"version": 1, "extends": "abs.json"}, f)
    check(launcher, good, None)


if __name__ == "__main__":
    main()
