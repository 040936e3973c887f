"""The shared part of the sandbox tests (threats.py): the case registry,
checks, machine checks, running the launcher, policy changes and the
seccomp pattern.  The cases live in threats_*.py, one module per
section of THREATS.md 1; threats.py runs one."""
import argparse
import ctypes
import errno
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
import tty

PY = "/usr/bin/python3"
SKIP = 77
SENTINEL = "ECONNREFUSED"  # the errno a "sentinel" policy's filter returns
SENTINEL_NO = errno.ECONNREFUSED
NOBODY = 65534             # host uid of the sandbox for a root-owned workspace
OTHER_UID = 4242           # owner of "chowned" workspaces (no account needed)
MiB = 1 << 20
# PYMCP_SIMULATE_NO_IA32=1 (manual runs only): try-syscall's i386 probes
# fault as `int $0x80` does on a kernel without IA-32 emulation, inside and
# outside, so that the cases that adapt to such a kernel can be checked on
# one that has it.
SIMULATE_NO_IA32 = (["--simulate-no-ia32"]
                    if os.environ.get("PYMCP_SIMULATE_NO_IA32", "0") not in ("", "0") else [])

# Init is invisible in the sandbox's /proc (hidepid=invisible: the script
# may not ptrace it) and, were it visible, not dumpable: either way its
# entries are closed to the script.
INIT_HIDDEN = ("EACCES", "ENOENT")

CASES = {}        # id -> (function, one-line description)
NOT_COVERED = {}  # catalog id -> reason

# THREATS.md section 1a-1g, in order; sandbox.catalog checks that each id is
# a case or listed in NOT_COVERED with its reason.
CATALOG = ([f"F{i}" for i in range(1, 17)] + [f"P{i}" for i in range(1, 12)] +
           [f"R{i}" for i in range(1, 10)] + [f"N{i}" for i in range(1, 11)] + ["1e"] +
           [f"I{i}" for i in range(1, 10)] + [f"T{i}" for i in range(1, 6)])


class Fail(AssertionError):
    pass


class Skip(Exception):
    pass


def case(cid, desc):
    def deco(fn):
        CASES[cid] = (fn, desc)
        return fn
    return deco


def log(msg):
    print(msg, flush=True)


def check(cond, msg, detail=None):
    if not cond:
        if detail is not None:
            msg += "\n--- detail ---\n" + (detail if isinstance(detail, str)
                                          else json.dumps(detail, indent=1, default=str))
        raise Fail(msg)
    log(f"ok - {msg}")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wait_until(pred, timeout=30.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


# --------------------------------------------------------------------------
# The code every probe script starts with.  Results go into R and are printed
# as one "RESULT {json}" line.

PRELUDE = r'''
import ctypes, errno, json, os, signal, socket, struct, sys, time
R = {}
ARGS = sys.argv[1:]

def en(e):
    return errno.errorcode.get(e, "E#%d" % e) if e else "OK"

def attempt(name, fn, *args, **kw):
    """Runs fn; R[name] is OK or the errno's name.  Returns fn's value."""
    try:
        v = fn(*args, **kw)
    except OSError as e:
        R[name] = en(e.errno) if e.errno else type(e).__name__
        return None
    except MemoryError:
        R[name] = "MemoryError"
        return None
    R[name] = "OK"
    return v

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def sysc(nr, *args):
    a = [ctypes.c_long(x) if isinstance(x, int) else x for x in args]
    r = libc.syscall(ctypes.c_long(nr), *a)
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r

def wait_for(path, timeout=60):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise SystemExit("timed out waiting for " + path)
        time.sleep(0.02)

def touch(path):
    open(path, "w").close()

def report():
    sys.stdout.write("\nRESULT " + json.dumps(R) + "\n")
    sys.stdout.flush()
'''

# A process that keeps appending to a marker file, detached from everything
# (double fork + setsid), and one that ignores SIGTERM.  MARK (argv[1]) is in
# the command line of every process, for the host's `ps` check.
LIFETIME_SCRIPT = r'''
mark, mode = ARGS[0], ARGS[1]

def appender(path):
    while True:
        with open(path, "a") as f:
            f.write("x")
        time.sleep(0.05)

if os.fork() == 0:              # the daemon: double fork and setsid
    os.setsid()
    if os.fork() == 0:
        appender("daemon.marker")
    os._exit(0)
if os.fork() == 0:              # a child that ignores SIGTERM
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    appender("stubborn.marker")
wait_for("daemon.marker")
wait_for("stubborn.marker")
touch("running")
if mode == "exit":
    os._exit(0)
if mode == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    time.sleep(1000)
'''


# --------------------------------------------------------------------------
# Machine checks

def userns_works():
    if os.path.exists("/proc/sys/user/max_user_namespaces"):
        with open("/proc/sys/user/max_user_namespaces") as f:
            if int(f.read()) == 0:
                return False
    pid = os.fork()
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        os._exit(0 if libc.unshare(0x10000000) == 0 else 1)
    _, st = os.waitpid(pid, 0)
    return os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0


def delegable_controllers():
    """Controllers this process could give a run its own cgroup for: the
    machine fact the launcher's cgroup layer depends on, found without the
    launcher, so that a launcher that silently fails to use them fails the
    test instead of skipping it."""
    found = set()
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ")
            fields, rf = left.split(), right.split()
            mounts.append((fields[3], fields[4], rf[0], rf[2].split(",")))
    groups = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctl, path = line.rstrip("\n").split(":", 2)
            groups[ctl] = path
    for ctl in ("memory", "pids", "cpu"):
        for root, mnt, fstype, opts in mounts:
            if fstype == "cgroup2":
                path = groups.get("", "/")
                d = mnt + (path[len(root):] if root != "/" and path.startswith(root) else path)
                try:
                    with open(os.path.join(d, "cgroup.controllers")) as f:
                        if ctl in f.read().split() and os.access(d, os.W_OK):
                            found.add(ctl)
                except OSError:
                    pass
            elif fstype == "cgroup" and ctl in opts:
                for k, path in groups.items():
                    if ctl in k.split(","):
                        d = mnt + (path[len(root):] if root != "/" and path.startswith(root)
                                   else path)
                        if os.access(d, os.W_OK):
                            found.add(ctl)
    return found


def host_pids_with(text):
    """Host pids whose command line contains `text` (the `ps` check)."""
    hits = []
    needle = text.encode()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if needle in f.read():
                    hits.append(int(d))
        except OSError:
            pass
    return hits


def kill_pids(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def children_of(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def proc_status(pid):
    d = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            d[k] = v.strip()
    return d


def find_run_cgroup(launcher_pid, controller):
    """The directory of the launcher's run cgroup for a controller."""
    # "python-mcp-sandbox.<launcher pid>.<random>": the random part keeps a
    # reused pid from joining a stale cgroup.
    prefix = f"python-mcp-sandbox.{launcher_pid}."
    roots = [f"/sys/fs/cgroup/{controller}", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
    for r in roots:
        if not os.path.isdir(r):
            continue
        for dirpath, dirnames, _ in os.walk(r):
            for d in dirnames:
                if d.startswith(prefix):
                    return os.path.join(dirpath, d)
            if dirpath.count("/") - r.count("/") >= 3:
                dirnames[:] = []
    return None


# --------------------------------------------------------------------------
# Running the launcher

class Run:
    def __init__(self, rc, out, err, events, argv):
        self.rc, self.out, self.err, self.events, self.argv = rc, out, err, events, argv

    def event(self, name):
        for e in self.events:
            if e.get("event") == name:
                return e
        return None

    @property
    def started(self):
        return self.event("started")

    @property
    def exit(self):
        return self.event("exit")

    @property
    def error(self):
        return self.event("error")

    def text(self):
        return (f"argv: {' '.join(self.argv)}\nrc: {self.rc}\nevents: {self.events}\n"
                f"stdout: {self.out[-3000:]!r}\nstderr: {self.err[-3000:]!r}")

    @property
    def result(self):
        for line in reversed(self.out.decode(errors="replace").splitlines()):
            if line.startswith("RESULT "):
                return json.loads(line[7:])
        raise Fail("the probe printed no RESULT line\n" + self.text())


def read_events(fd, timeout=10.0):
    data = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


class Job:
    """A launcher running in the background."""

    def __init__(self, proc, status_r, argv):
        self.proc, self.status_r, self.argv = proc, status_r, argv
        self.buf = b""
        self.events = []

    def _pump(self, timeout):
        r, _, _ = select.select([self.status_r], [], [], timeout)
        if not r:
            return False
        chunk = os.read(self.status_r, 65536)
        if not chunk:
            return False
        self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                self.events.append(json.loads(line))
        return True

    def wait_started(self, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for e in self.events:
                if e.get("event") in ("started", "error"):
                    return e
            if not self._pump(min(0.2, max(0.0, end - time.monotonic()))) and \
                    self.proc.poll() is not None:
                break
        for e in self.events:
            if e.get("event") in ("started", "error"):
                return e
        raise Fail(f"the launcher reported no start: {self.events}")

    def finish(self, timeout=60.0):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise Fail(f"the launcher did not return within {timeout}s: {self.argv}")
        self.events += read_events(self.status_r)
        os.close(self.status_r)
        return Run(self.proc.returncode, out or b"", err or b"", self.events, self.argv)


class Ctx:
    def __init__(self, args, cid):
        self.launcher = os.path.abspath(args.launcher)
        self.try_syscall_bin = os.path.abspath(args.try_syscall)
        self.policy_file = os.path.abspath(args.policy)
        with open(self.policy_file) as f:
            self.default = json.load(f)
        base = os.environ.get("PYMCP_TEST_TMPDIR", "/var/tmp")
        self.root = tempfile.mkdtemp(prefix=f"pymcp-sbtest-{cid}-", dir=base)
        os.chmod(self.root, 0o711)
        self.n = 0
        self.cleanup_pids = []
        self.secret = "S3CR3T-" + os.urandom(8).hex()
        self.launcher_env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PYMCP_TEST_API_KEY": self.secret,
            "AWS_SECRET_ACCESS_KEY": self.secret,
        }

    def close(self):
        kill_pids(self.cleanup_pids)
        if os.environ.get("PYMCP_TEST_KEEP"):
            log(f"# kept {self.root}")
            return
        shutil.rmtree(self.root, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def mark(self, what="mark"):
        return f"pymcp-{what}-{os.urandom(6).hex()}"

    # ---- policies
    def policy(self, mutate=None, name=None):
        """Writes the default policy, changed by `mutate(p)`, and returns its
        path.  Without `mutate` it is the default policy unchanged."""
        p = json.loads(json.dumps(self.default))
        if mutate:
            mutate(p)
        self.n += 1
        path = self.path(f"policy-{self.n}-{name or 'custom'}.json")
        with open(path, "w") as f:
            json.dump(p, f, indent=1)
        return path

    # ---- workspaces
    def workspace(self, name="ws", owner=None, mode=0o755):
        d = self.path(name)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, mode)
        if owner is not None:
            os.chown(d, owner, owner)
        return d

    def script(self, ws, code, name="probe.py", body=True):
        path = os.path.join(ws, name)
        with open(path, "w") as f:
            f.write(PRELUDE + "\n" + textwrap.dedent(code) + ("\nreport()\n" if body else "\n"))
        os.chmod(path, 0o644)
        return path

    def try_syscall(self, ws):
        dst = os.path.join(ws, "try-syscall")
        if not os.path.exists(dst):
            shutil.copy(self.try_syscall_bin, dst)
            os.chmod(dst, 0o755)
        return dst

    # ---- launching
    def argv(self, cmd, policy, ws, extra, status_fd):
        return ([self.launcher, "--policy", policy or self.policy_file, "--workspace", ws,
                 "--status-fd", str(status_fd)] + list(extra) + ["--"] + list(cmd))

    def start(self, cmd, ws, policy=None, extra=(), stdin=subprocess.DEVNULL, pass_fds=(),
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=None):
        r, w = os.pipe()
        argv = self.argv(cmd, policy, ws, extra, w)
        proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr,
                                pass_fds=(w,) + tuple(pass_fds),
                                env=env if env is not None else self.launcher_env,
                                cwd=self.root)
        os.close(w)
        return Job(proc, r, argv)

    def run(self, cmd, ws, policy=None, extra=(), timeout=120.0, **kw):
        return self.start(cmd, ws, policy=policy, extra=extra, **kw).finish(timeout)

    def probe(self, ws, code, policy=None, extra=(), args=(), name="probe.py", **kw):
        """Runs a probe script in the sandbox; returns the Run (and checks
        that the sandbox started)."""
        path = self.script(ws, code, name)
        res = self.run([PY, path] + list(args), ws, policy=policy, extra=extra, **kw)
        if res.started is None:
            raise Fail("the sandbox did not start\n" + res.text())
        return res

    def host(self, code, cwd=None, user=None, args=(), pass_fds=(), env=None, timeout=120,
             name="host-probe.py", stdin=subprocess.DEVNULL):
        """Runs the same kind of probe OUTSIDE the sandbox (controls only;
        never with a dangerous probe)."""
        d = self.path("host")
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        path = self.script(d, code, name)
        p = subprocess.run([PY, path] + list(args), cwd=cwd or d, user=user, group=user,
                           extra_groups=[] if user is not None else None,
                           pass_fds=pass_fds, stdin=stdin,
                           env=env if env is not None else self.launcher_env,
                           capture_output=True, timeout=timeout)
        return Run(p.returncode, p.stdout, p.stderr, [], [PY, path])

    def syscalls(self, ws, probes, policy=None):
        """try-syscall in the sandbox: {probe: result}."""
        ts = self.try_syscall(ws)
        res = self.run([ts] + SIMULATE_NO_IA32 + list(probes), ws, policy=policy)
        check(res.rc == 0, f"try-syscall ran (rc {res.rc})", res.text())
        out = {}
        for line in res.out.decode().splitlines():
            k, _, v = line.partition("=")
            out[k] = v
        missing = [p for p in probes if p not in out]
        if missing:
            raise Fail(f"try-syscall printed nothing for {missing}\n" + res.text())
        return out, res


# Policy changes used by tests.  Narrowing (lower limits, fewer roots) keeps
# the layer under test; the weakening ones switch one layer off for a
# negative control.

def drop_seccomp(p):
    p.pop("seccomp", None)


def sentinel_seccomp(p):
    """Every EPERM of the filter becomes ECONNREFUSED, an errno no blocked
    call can produce by itself: blocked-by-the-filter is then never
    confused with a kernel refusal (bubblewrap's trick)."""
    sc = p["seccomp"]
    if sc.get("defaultAction") == "SCMP_ACT_ERRNO" and sc.get("defaultErrnoRet", 1) in (None, 1):
        sc["defaultErrnoRet"] = SENTINEL_NO
    for rule in sc.get("syscalls", []):
        if rule.get("action") == "SCMP_ACT_ERRNO" and rule.get("errnoRet", 1) in (None, 1):
            rule["errnoRet"] = SENTINEL_NO


def compose(*fns):
    def m(p):
        for f in fns:
            f(p)
    return m


def set_key(path, value):
    def m(p):
        d = p
        keys = path.split(".")
        for k in keys[:-1]:
            d = d.setdefault(k, {})
        d[keys[-1]] = value
    return m


def add_mount(m_):
    def m(p):
        p.setdefault("mounts", []).append(m_)
    return m


# --------------------------------------------------------------------------
# The seccomp pattern: try-syscall under the default policy (the documented
# errno), under the sentinel policy (the filter's own errno, so the refusal
# is the filter's and not a missing capability), and, as the negative
# control, under the sentinel policy with the seccomp section removed
# (the kernel's own answer: EFAULT/EBADF/EINVAL or a capability EPERM,
# never the sentinel, never SIGSYS).

def ia32_emulation(ctx):
    """Whether this kernel runs i386 syscalls at all: `int $0x80` outside
    any sandbox returns (OK) or faults (SIGSEGV: no IA-32 emulation, as
    more and more kernels ship, or ia32_emulation=0 on the command line)."""
    out = subprocess.run([ctx.try_syscall_bin] + SIMULATE_NO_IA32 + ["i386_getpid"],
                         capture_output=True, text=True).stdout.strip()
    if out == "i386_getpid=OK":
        return True
    if out == "i386_getpid=SIGSEGV":
        return False
    raise Fail(f"control: int $0x80 outside the sandbox gave {out!r} (expected OK or SIGSEGV)")


def check_seccomp(ctx, expect, allowed=(), ws=None):
    ws = ws or ctx.workspace("ws-seccomp")
    names = list(expect) + list(allowed)
    # Where the kernel has no IA-32 emulation it refuses `int $0x80` itself
    # with SIGSEGV before any filter runs: the i386 probes are then checked
    # for that (killed, never run), and the filter's own kill cannot be seen.
    no_ia32 = any(n.startswith("i386_") for n in expect) and not ia32_emulation(ctx)
    if no_ia32:
        log("# control: this kernel has no IA-32 emulation (int $0x80 faults outside the "
            "sandbox); the i386 probes must fault inside too")
    dflt, _ = ctx.syscalls(ws, names)
    sent, _ = ctx.syscalls(ws, names, policy=ctx.policy(sentinel_seccomp, "sentinel"))
    ctl, ctl_run = ctx.syscalls(ws, names,
                                policy=ctx.policy(compose(sentinel_seccomp, drop_seccomp),
                                                  "no-seccomp"))
    check(ctl_run.started and ctl_run.started.get("seccomp") is False,
          "control policy runs without a filter", ctl_run.text())
    table = "\n".join(f"  {n:28} default={dflt[n]:14} sentinel={sent[n]:14} no-filter={ctl[n]}"
                      for n in names)
    log("# probe results:\n" + table)
    for n, exp in expect.items():
        if no_ia32 and n.startswith("i386_"):
            check(dflt[n] == sent[n] == ctl[n] == "SIGSEGV",
                  f"{n}: killed inside (SIGSEGV) with and without the filter, as outside: the "
                  f"kernel refuses the i386 ABI by itself")
            continue
        exp = set(exp)
        check(dflt[n] in exp, f"{n}: {dflt[n]} under the default policy (expected {sorted(exp)})")
        sent_exp = {SENTINEL if e == "EPERM" else e for e in exp}
        check(sent[n] in sent_exp,
              f"{n}: the filter itself refuses it ({sent[n]} under the sentinel policy)")
        check(ctl[n] not in sent_exp and ctl[n] != "SIGSYS",
              f"{n}: control without the filter gets the kernel's answer {ctl[n]}, "
              f"so the assertion above would fail without the filter")
    for n in allowed:
        for label, d in (("default", dflt), ("sentinel", sent)):
            check(d[n] not in ("EPERM", SENTINEL, "SIGSYS", "ENOSYS"),
                  f"{n}: allowed under the {label} policy ({d[n]})")
    return dflt, sent, ctl


def machine_checks():
    if os.geteuid() != 0:
        raise Skip("the sandbox tests need root (they chown workspaces, switch uids for "
                   "controls and expect cgroup delegation)")
    if not userns_works():
        raise Skip("user namespaces are not available on this machine "
                   "(user.max_user_namespaces=0 or blocked)")
    if not os.access(PY, os.X_OK):
        raise Skip(f"{PY} is missing")


def need_cgroups(ctx, *controllers):
    have = delegable_controllers()
    missing = [c for c in controllers if c not in have]
    if missing:
        raise Skip(f"this machine cannot delegate the cgroup controller(s) {missing} to "
                   f"the launcher")


def check_cgroups_used(run, *controllers):
    cg = (run.started or {}).get("cgroup") or {}
    for c in controllers:
        check(cg.get(c) in (1, 2), f"the run has its own {c} cgroup (v{cg.get(c)})", run.text())
    check(not (run.started or {}).get("degraded"), "the run is not degraded", run.text())
