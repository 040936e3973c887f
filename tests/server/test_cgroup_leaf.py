#!/usr/bin/python3
"""The server's step down into a leaf cgroup (base/cgroup_leaf.c) on the
real cgroup v2 hierarchy: a cgroup handed to the server (systemd's
Delegate=yes, marked with the trusted.delegate xattr; a container's, the
root of its cgroup namespace) that holds it alone cannot hand domain
controllers to the runs' cgroups until the server moves into a child of
its own.  One that holds other processes too, or that is not handed to
the server, is left as it was (nothing written), and the log says why.

On a hybrid host the v2 hierarchy offers only what v1 does not hold
(hugetlb here, not memory): the move and the enabling are the same for
every controller, so the cases use whatever the hierarchy offers.  Where
the runs' cgroups are v2 ones (a pure v2 host), the first case also
checks that a run's cgroup is beside the leaf; on a hybrid host it says
loudly that it could not.

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
    enabled for it; remove() takes it away and gives the root back what
    it had.  Use it as a context manager."""

    def __init__(self, name, delegate=True):
        self.root = v2_mount()
        if os.geteuid() != 0 or self.root is None:
            cannot("needs root and a cgroup v2 hierarchy")
        self.ctl = os.path.join(self.root, "cgroup.subtree_control")
        self.added = []
        self.dir = os.path.join(self.root, f"pymcp-{name}-{os.getpid()}")
        self.delegate = delegate

    def __enter__(self):
        before = open(self.ctl).read().split()
        offered = open(os.path.join(self.root, "cgroup.controllers")).read().split()
        try:
            for c in offered:
                if c not in before:
                    with open(self.ctl, "w") as f:
                        f.write("+" + c)
                    self.added.append(c)
            os.mkdir(self.dir)
            self.controllers = open(os.path.join(self.dir, "cgroup.controllers")).read().split()
            if not self.controllers:
                cannot("the v2 hierarchy offers no controller")
            if self.delegate:
                os.setxattr(self.dir, "trusted.delegate", b"1")  # as systemd's Delegate=yes
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc):
        self.remove()

    def wrapper(self, server_bin, base, namespace=False):
        """A program that joins the cgroup, then becomes the server; with
        namespace, in a cgroup and mount namespace of its own with the v2
        hierarchy mounted anew, as a container engine starts it."""
        path = os.path.join(base, "in-cgroup")
        start = f"exec {server_bin} \"$@\""
        if namespace:
            start = (f"exec unshare --cgroup --mount --propagation private sh -c "
                     f"'umount {self.root} && mount -t cgroup2 none {self.root} && "
                     f"exec {server_bin} \"$@\"' sh \"$@\"")
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\necho $$ > {self.dir}/cgroup.procs || exit 1\n{start}\n")
        os.chmod(path, 0o755)
        return path

    def subtree_control(self):
        return open(os.path.join(self.dir, "cgroup.subtree_control")).read().split()

    def remove(self):
        if os.path.isdir(self.dir):
            for d in sorted((os.path.join(self.dir, e) for e in os.listdir(self.dir)
                             if os.path.isdir(os.path.join(self.dir, e))), reverse=True) + [self.dir]:
                try:
                    wait_until(lambda: not open(os.path.join(d, "cgroup.procs")).read(), 10,
                               f"{d} empties")
                    os.rmdir(d)
                except Exception as e:
                    print(f"LEFT BEHIND: cgroup {d}: {e}")
        for c in self.added:
            try:
                with open(self.ctl, "w") as f:
                    f.write("-" + c)
            except OSError as e:
                print(f"note: could not disable {c} again at the v2 root: {e}")


def cannot(why):
    print("!" * 78 + f"\n!!! CANNOT TEST the leaf cgroup ON THIS MACHINE: {why}; it did NOT "
          "run\n" + "!" * 78)
    sys.exit(77)


def server_in(env, cg, namespace=False, **kw):
    s = Server(cg.wrapper(env.bin, env.base, namespace), env.state, roots=[env.root],
               log_path=os.path.join(env.base, f"server{len(env.servers)}.log"), **kw)
    env.servers.append(s)
    return s.start()


def stop_servers(env):
    for srv in env.servers:
        if srv.proc and srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()


def own_cgroup(pid):
    return open(f"/proc/{pid}/cgroup").read().splitlines()[-1].split("::", 1)[1]


def check_moved(env, cg, s):
    rel = "/" + os.path.relpath(cg.dir, cg.root)
    check(own_cgroup(s.pid) == f"{rel}/{LEAF}", "the server is in the leaf", own_cgroup(s.pid))
    check(sorted(cg.subtree_control()) == sorted(cg.controllers),
          f"{rel} hands {cg.controllers} to its children", cg.subtree_control())
    check("moved into the leaf cgroup" in s.stderr_tail(20000), "the log says so",
          s.stderr_tail(2000))
    r = run_inline(s, env, "print('ran')")
    check(r.get("exit_code") == 0 and "ran" in r.get("stdout", ""), "a run works", r)
    if any(c in cg.controllers for c in ("memory", "pids", "cpu")):
        # A pure v2 host: the runs' v2 cgroups are the launcher's, beside
        # the leaf (the job itself sees only its own cgroup namespace).
        sc = run_inline(s, env, "import time; time.sleep(30)")  # past the 5 s budget
        check(sc.get("status") == "running" and sc.get("job_id"), "a long run goes on", sc)
        runs = lambda d: [e for e in os.listdir(d) if e.startswith("python-mcp-sandbox.")]
        check(runs(cg.dir) and not runs(os.path.join(cg.dir, LEAF)),
              "the run's cgroup is beside the leaf, not in it",
              (os.listdir(cg.dir), os.listdir(os.path.join(cg.dir, LEAF))))
        s.call("py_cancel_job", {"job_id": sc["job_id"]})
    else:
        print("!" * 78 + "\n!!! NOT CHECKED ON THIS MACHINE: that the runs' cgroups are beside the "
              "leaf\n!!! (the v2 hierarchy here offers none of memory, pids, cpu: the runs'\n"
              "!!! cgroups are v1 ones)\n" + "!" * 78)


def case_moves_into_a_leaf(env):
    """Alone in a cgroup delegated to it, the server moves into
    python-mcp.server below it, the cgroup then hands every controller it
    offers to its children, and runs work."""
    with TestCgroup("leaf") as cg:
        try:
            s = server_in(env, cg, smart=5)
            check_moved(env, cg, s)
            s.stop()
        finally:
            stop_servers(env)


def case_container_root(env):
    """The same at the root of a cgroup namespace with the hierarchy
    mounted anew (what a container engine gives), without any xattr."""
    with TestCgroup("ns", delegate=False) as cg:
        try:
            s = server_in(env, cg, namespace=True, smart=5)
            check_moved(env, cg, s)
            s.stop()
        finally:
            stop_servers(env)


def case_stays_with_company(env):
    """With another process in its cgroup (an init in a container, a
    shell) the server moves nothing, writes nothing, and says why."""
    with TestCgroup("company") as cg:
        other = subprocess.Popen(["sleep", "300"], preexec_fn=lambda: open(
            os.path.join(cg.dir, "cgroup.procs"), "w").write(str(os.getpid())))
        try:
            s = server_in(env, cg)
            check(own_cgroup(s.pid).endswith("/" + os.path.basename(cg.dir)), "the server stays",
                  own_cgroup(s.pid))
            check(not os.path.exists(os.path.join(cg.dir, LEAF)), "no leaf is made")
            check(cg.subtree_control() == [], "nothing is enabled", cg.subtree_control())
            log = s.stderr_tail(20000)
            check("holds other processes besides the server" in log, "the log says why",
                  log[-2000:])
            r = run_inline(s, env, "print('ran')")
            check(r.get("exit_code") == 0, "runs still work", r)
            s.stop()
        finally:
            other.kill()
            other.wait()
            stop_servers(env)


def case_not_delegated(env):
    """A cgroup not handed to the server (no Delegate=yes, not a
    container's root: a service manager's own) is left as it was."""
    with TestCgroup("plain", delegate=False) as cg:
        try:
            s = server_in(env, cg)
            check(own_cgroup(s.pid).endswith("/" + os.path.basename(cg.dir)), "the server stays",
                  own_cgroup(s.pid))
            check(not os.path.exists(os.path.join(cg.dir, LEAF)) and cg.subtree_control() == [],
                  "no leaf, nothing enabled", cg.subtree_control())
            check("is not delegated to the server" in s.stderr_tail(20000), "the log says why",
                  s.stderr_tail(2000))
            s.stop()
        finally:
            stop_servers(env)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run_cases(CASES))
