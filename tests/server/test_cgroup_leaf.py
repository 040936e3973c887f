#!/usr/bin/python3
"""The server's step down into a leaf cgroup (base/cgroup_leaf.c) on the
real cgroup v2 hierarchy: a cgroup that holds the server alone (a
container's, a service's) cannot hand controllers to the runs' cgroups
until the server moves into a child of its own; one that holds other
processes too is left alone, and the log says why.

On a hybrid host the v2 hierarchy offers only what v1 does not hold
(hugetlb here, not memory): the move and the enabling are the same for
every controller, so the case uses whatever the hierarchy offers.

Usage: test_cgroup_leaf.py --server PATH CASE     (CASE "list" prints the cases)
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp_client import Server, wait_until  # noqa: E402
from test_server import check, run_cases, run_inline  # noqa: E402

LEAF = "python-mcp.server"


def v2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    return None


class TestCgroup:
    """A child of the v2 root with every controller the root offers
    enabled for it; removed at the end with what the root had before."""

    def __init__(self, name):
        self.root = v2_mount()
        if os.geteuid() != 0 or self.root is None:
            print("!" * 78 + "\n!!! CANNOT TEST the leaf cgroup ON THIS MACHINE: needs root "
                  "and a cgroup v2 hierarchy; it did NOT run\n" + "!" * 78)
            sys.exit(77)
        self.ctl = os.path.join(self.root, "cgroup.subtree_control")
        self.before = open(self.ctl).read().split()
        offered = open(os.path.join(self.root, "cgroup.controllers")).read().split()
        self.added = [c for c in offered if c not in self.before]
        for c in self.added:
            with open(self.ctl, "w") as f:
                f.write("+" + c)
        self.dir = os.path.join(self.root, f"pymcp-{name}-{os.getpid()}")
        os.mkdir(self.dir)
        self.controllers = open(os.path.join(self.dir, "cgroup.controllers")).read().split()
        if not self.controllers:
            self.remove()
            print("!" * 78 + "\n!!! CANNOT TEST the leaf cgroup ON THIS MACHINE: the v2 "
                  "hierarchy offers no controller; it did NOT run\n" + "!" * 78)
            sys.exit(77)

    def wrapper(self, server_bin, base):
        """A program that joins the cgroup, then becomes the server."""
        path = os.path.join(base, "in-cgroup")
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\necho $$ > {self.dir}/cgroup.procs || exit 1\n"
                    f"exec {server_bin} \"$@\"\n")
        os.chmod(path, 0o755)
        return path

    def remove(self):
        for d in (os.path.join(self.dir, LEAF), self.dir):
            if os.path.isdir(d):
                wait_until(lambda: not open(os.path.join(d, "cgroup.procs")).read(), 10,
                           f"{d} empties")
                os.rmdir(d)
        for c in self.added:
            try:
                with open(self.ctl, "w") as f:
                    f.write("-" + c)
            except OSError as e:
                print(f"note: could not disable {c} again at the v2 root: {e}")


def server_in(env, cg, **kw):
    s = Server(cg.wrapper(env.bin, env.base), env.state, roots=[env.root],
               log_path=os.path.join(env.base, f"server{len(env.servers)}.log"), **kw)
    env.servers.append(s)
    return s.start()


def case_moves_into_a_leaf(env):
    """Alone in its cgroup, the server moves into python-mcp.server below
    it, the cgroup then hands every controller it offers to its children,
    and runs work (their launchers start in the leaf)."""
    cg = TestCgroup("leaf")
    try:
        s = server_in(env, cg)
        own = open(f"/proc/{s.pid}/cgroup").read().splitlines()[-1]
        rel = "/" + os.path.relpath(cg.dir, cg.root)
        check(own == f"0::{rel}/{LEAF}", "the server is in the leaf", own)
        enabled = open(os.path.join(cg.dir, "cgroup.subtree_control")).read().split()
        check(sorted(enabled) == sorted(cg.controllers),
              f"{rel} hands {cg.controllers} to its children", enabled)
        check("moved into the leaf cgroup" in s.stderr_tail(20000), "the log says so",
              s.stderr_tail(2000))
        r = run_inline(s, env, "print('ran', 6 * 7)")
        check(r.get("exit_code") == 0 and "ran 42" in r.get("stdout", ""), "a run works", r)
        s.stop()
    finally:
        for srv in env.servers:
            if srv.proc and srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait()
        cg.remove()


def case_stays_with_company(env):
    """With another process in its cgroup (an init in a container, a
    shell) the server moves nothing and says why."""
    cg = TestCgroup("company")
    other = subprocess.Popen(["sleep", "300"],
                             preexec_fn=lambda: open(os.path.join(cg.dir, "cgroup.procs"),
                                                     "w").write(str(os.getpid())))
    try:
        s = server_in(env, cg)
        own = open(f"/proc/{s.pid}/cgroup").read().splitlines()[-1]
        check(own.endswith("/" + os.path.basename(cg.dir)), "the server stays", own)
        check(not os.path.exists(os.path.join(cg.dir, LEAF)), "no leaf is made")
        log = s.stderr_tail(20000)
        check("holds other processes besides the server" in log, "the log says why",
              log[-2000:])
        r = run_inline(s, env, "print('ran')")
        check(r.get("exit_code") == 0, "runs still work", r)
        s.stop()
    finally:
        other.kill()
        other.wait()
        for srv in env.servers:
            if srv.proc and srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait()
        cg.remove()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run_cases(CASES))
