#!/usr/bin/python3
"""Launcher behaviour that is not a THREATS.md item: the prepared mode
(--spec-fd), id mapping of the workspace, the unprivileged launcher,
--check-policy and the exit status.  Each case is one ctest test:

    test_launcher.py --launcher PATH --policy FILE CASE

Exit 0 = passed, 1 = failed, 77 = this machine cannot run the case (said
loudly; ctest counts it as a failure unless skips are allowed)."""
import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3"
CASES = {}


class Skip(Exception):
    pass


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Env:
    def __init__(self, launcher, policy):
        self.launcher = launcher
        self.policy = policy
        self.tmp = tempfile.mkdtemp(prefix="pymcp-launcher-test-", dir="/tmp")

    def public_copies(self):
        """The launcher and the policy where any user can read them.  The
        tree may sit in a 0700 home (a clone in /root): an unprivileged
        launcher could then neither be run nor read its policy there."""
        pub = os.path.join(self.tmp, "pub")
        if not os.path.isdir(pub):
            os.makedirs(pub)
            shutil.copy2(self.launcher, os.path.join(pub, "python-mcp-sandbox"))
            shutil.copy2(self.policy, os.path.join(pub, "policy.json"))
            for p in (self.tmp, pub):
                os.chmod(p, 0o755)
            os.chmod(os.path.join(pub, "policy.json"), 0o644)
        return os.path.join(pub, "python-mcp-sandbox"), os.path.join(pub, "policy.json")

    def workspace(self, owner=None):
        ws = tempfile.mkdtemp(dir=self.tmp)
        if owner is not None:
            os.chown(ws, owner, owner)
        return ws

    def cold(self, ws, argv, extra=(), **kw):
        """Runs a command; returns (returncode, stdout, stderr, events)."""
        r, w = os.pipe()
        p = subprocess.Popen([self.launcher, "--policy", self.policy, "--workspace", ws,
                              "--status-fd", str(w), *extra, "--", *argv],
                             pass_fds=(w,), stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
        os.close(w)
        with os.fdopen(r) as f:
            events = [json.loads(line) for line in f]
        out, err = p.communicate(timeout=60)
        return p.returncode, out.decode(), err.decode(), events

    def prepared(self, policy=None, prefix=(), launcher=None):
        """Starts a launcher with --spec-fd; returns (proc, spec_w, status file)."""
        spec_r, spec_w = os.pipe()
        stat_r, stat_w = os.pipe()
        p = subprocess.Popen([*prefix, launcher or self.launcher, "--policy", policy or self.policy,
                              "--spec-fd", str(spec_r), "--status-fd", str(stat_w)],
                             pass_fds=(spec_r, stat_w), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        os.close(spec_r)
        os.close(stat_w)
        return p, spec_w, os.fdopen(stat_r)


def events_of(status):
    return [json.loads(line) for line in status]


def one(events, kind):
    found = [e for e in events if e.get("event") == kind]
    check(len(found) == 1, f"expected one {kind!r} event, got {events}")
    return found[0]


@case
def prepared_runs_job(env):
    ws = env.workspace()
    p, spec, status = env.prepared()
    ready = json.loads(status.readline())
    check(ready == {"event": "ready"}, f"first event {ready}")
    job = {"workspace": ws, "argv": ["python3", "-c",
           "import os,sys; print(os.getcwd(), os.environ['GREETING'], sys.argv[1:])", "a b"],
           "env": {"GREETING": "hi"}, "timeout": 30}
    os.write(spec, json.dumps(job).encode())
    os.close(spec)
    events = events_of(status)
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0, f"exit {p.returncode}: {err}")
    check(out.decode() == f"{ws} hi ['a b']\n", f"stdout {out!r}")
    check(one(events, "exit")["exit_code"] == 0, events)
    check(one(events, "started")["workspace"] == ws, events)


@case
def prepared_matches_cold(env):
    """The same job gives the same output and exit status both ways."""
    ws = env.workspace()
    argv = ["python3", "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"]
    rc, out, err, _ = env.cold(ws, argv)
    p, spec, status = env.prepared()
    status.readline()
    os.write(spec, json.dumps({"workspace": ws, "argv": argv}).encode())
    os.close(spec)
    events_of(status)
    pout, perr = p.communicate(timeout=60)
    check((rc, out) == (p.returncode, pout.decode()), f"cold {(rc, out)} prepared {(p.returncode, pout)}")
    check(rc == 3 and "err" in err and "err" in perr.decode(), f"{rc} {err!r} {perr!r}")


@case
def spec_files_stay_in_the_sandbox(env):
    """Inline code given as "files" runs from the sandbox's /tmp and never
    lands in the workspace or anywhere on the host."""
    ws = env.workspace()
    p, spec, status = env.prepared()
    status.readline()
    code = "import os, sys\nprint(__file__, sys.argv[1], sorted(os.listdir('.')))\n"
    os.write(spec, json.dumps({"workspace": ws, "argv": ["python3", "/tmp/inline_1f.py", "arg"],
                               "files": {"/tmp/inline_1f.py": code}}).encode())
    os.close(spec)
    events_of(status)
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0, f"exit {p.returncode}: {err}")
    check(out.decode() == "/tmp/inline_1f.py arg []\n", f"stdout {out!r}")
    check(os.listdir(ws) == [], f"workspace not empty: {os.listdir(ws)}")
    check(not os.path.exists("/tmp/inline_1f.py"), "inline file reached the host's /tmp")


@case
def spec_errors_name_the_key(env):
    ws = env.workspace()
    bad = [
        (b"{not json", "job spec line 1"),
        (json.dumps({"workspace": ws, "argv": ["true"], "colour": 1}).encode(), "`colour` is not a known key"),
        (json.dumps({"workspace": ws, "argv": "python3"}).encode(), "`argv` must be an array"),
        (json.dumps({"argv": ["true"]}).encode(), "`workspace` is required"),
        (json.dumps({"workspace": ws, "argv": ["true"], "env": {"A": 1}}).encode(), "`env` must be an object of strings"),
        (json.dumps({"workspace": ws, "argv": ["true"], "timeout": -1}).encode(), "`timeout` must be a number"),
        (json.dumps({"workspace": ws, "argv": ["true"], "files": {"/etc/x": ""}}).encode(), "`files` paths must be files below /tmp"),
        (json.dumps({"workspace": ws, "argv": ["true"], "files": {"/tmp/../etc/x": ""}}).encode(), "`files` paths must be files below /tmp"),
        (json.dumps({"workspace": ws, "argv": ["true"], "workspace_target": "/"}).encode(), "`workspace_target` must be an absolute path other than `/`"),
        (json.dumps({"workspace": ws, "argv": ["true"], "workspace_target": "/opt/../etc"}).encode(), "`workspace_target` must be an absolute path"),
        (json.dumps({"workspace": ws, "argv": ["true"], "binds": [{"source": "/usr", "target": "rel"}]}).encode(), "`binds` needs absolute paths"),
        (json.dumps({"workspace": ws, "argv": ["true"], "binds": [{"source": "/usr", "target": ws + "/x"}]}).encode(), "overlaps the workspace"),
        (json.dumps({"workspace": ws, "argv": ["true"], "workspace_target": "/etc/w"}).encode(), "which the sandbox fills itself"),
        (json.dumps({"workspace": ws, "argv": ["true"], "binds": [{"source": "/usr/share", "target": "/usr/x"}]}).encode(), "lies in the policy's mount `/usr`"),
        (json.dumps({"workspace": ws, "argv": ["true"], "binds": [{"source": "/", "target": "/opt/root"}]}).encode(), "holds the protected path"),
        (json.dumps({"workspace": ws, "argv": ["true"], "binds": [{"source": "/tmp/../root", "target": "/opt/root"}]}).encode(), "is not the real path"),
        (json.dumps({"workspace": ws, "argv": ["true"], "workspace_target": "/usr/lib/x"}).encode(), "overlaps the policy's mount `/usr`"),
        (json.dumps({"workspace": ws, "argv": ["true"], "binds": [{"source": "/usr", "target": "/opt/u", "rw": True}]}).encode(), "`binds` entries must be"),
        (json.dumps({"workspace": ws, "argv": ["true"], "binds": [{"source": "/usr", "target": f"/opt/{i}"} for i in range(9)]}).encode(), "`binds` must be an array of at most 8"),
    ]
    for text, expect in bad:
        p, spec, status = env.prepared()
        status.readline()
        os.write(spec, text)
        os.close(spec)
        events = events_of(status)
        _, err = p.communicate(timeout=60)
        check(p.returncode == 125, f"{text!r}: exit {p.returncode}")
        e = one(events, "error")
        check(e["stage"] == "spec" and expect in e["message"], f"{text!r}: {e}")
        check(expect in err.decode(), f"stderr lacks {expect!r}: {err!r}")


def run_spec(env, job, prefix=(), launcher=None, policy=None):
    p, spec, status = env.prepared(prefix=prefix, launcher=launcher, policy=policy)
    status.readline()
    os.write(spec, json.dumps(job).encode())
    os.close(spec)
    events = events_of(status)
    out, err = p.communicate(timeout=60)
    return p.returncode, out.decode(), err.decode(), events


@case
def binds_are_read_only(env):
    """A bind shows a host directory read-only where the job says, even one
    the sandbox's own uid could not reach (a root launcher clones it), and
    creates nothing on the host."""
    private = os.path.join(env.tmp, "private")
    os.makedirs(os.path.join(private, "src"))
    os.chmod(private, 0o700)
    with open(os.path.join(private, "src", "data"), "w") as f:
        f.write("bound")
    ws = env.workspace()
    code = ("import os\nprint(open('/opt/python-mcp/b/data').read())\n"
            "try:\n    open('/opt/python-mcp/b/new', 'w')\nexcept OSError as e:\n    print(e.errno)\n"
            "print(os.path.exists(%r))\n" % private)
    rc, out, err, _ = run_spec(env, {"workspace": ws, "argv": [PYTHON, "-c", code],
                                     "binds": [{"source": os.path.join(private, "src"),
                                                "target": "/opt/python-mcp/b"}]})
    check(rc == 0, f"exit {rc}: {err}")
    check(out == "bound\n30\nFalse\n", f"read, EROFS on write, host path unseen: {out!r}")
    check(sorted(os.listdir(os.path.join(private, "src"))) == ["data"], "nothing written")
    check(os.listdir(ws) == [], f"nothing in the workspace: {os.listdir(ws)}")
    # Negative control: the same job without the bind sees nothing there.
    rc, out, err, _ = run_spec(env, {"workspace": ws, "argv": [PYTHON, "-c",
                               "import os; print(os.path.exists('/opt/python-mcp/b'))"]})
    check(rc == 0 and out == "False\n", f"without the bind: {rc} {out!r} {err}")
    # A source that does not exist is a setup error naming it.
    rc, out, err, events = run_spec(env, {"workspace": ws, "argv": ["true"], "binds": [
        {"source": "/nonexistent-src", "target": "/opt/x"}]})
    check(rc == 125 and "/nonexistent-src" in one(events, "error")["message"], f"{rc} {events}")
    # An unprivileged launcher: init clones the bind itself, with the
    # launcher's own access.
    if not shutil.which("setpriv"):
        raise Skip("setpriv (util-linux) is missing")
    nobody = pwd.getpwnam("nobody").pw_uid
    public = os.path.join(env.tmp, "public")
    os.makedirs(public)
    with open(os.path.join(public, "data"), "w") as f:
        f.write("public")
    os.chmod(env.tmp, 0o755)
    ws = env.workspace(owner=nobody)
    prefix = ["setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups"]
    launcher, policy = env.public_copies()
    rc, out, err, _ = run_spec(env, {"workspace": ws, "argv": [PYTHON, "-c", code.replace(
        private, "/nonexistent")], "binds": [{"source": public, "target": "/opt/python-mcp/b"}]},
        prefix=prefix, launcher=launcher, policy=policy)
    check(rc == 0 and out == "public\n30\nFalse\n", f"unprivileged: {rc} {out!r} {err}")


@case
def workspace_target_moves_the_workspace(env):
    """workspace_target: the workspace appears there (cwd, HOME), writes reach
    the host directory, and its host path is not shown."""
    ws = env.workspace()
    code = ("import os\nopen('made', 'w').write('x')\n"
            "print(os.getcwd(), os.environ['HOME'], os.path.exists(%r))\n" % ws)
    rc, out, err, events = run_spec(env, {"workspace": ws, "workspace_target": "/opt/w/env",
                                          "argv": [PYTHON, "-c", code]})
    check(rc == 0, f"exit {rc}: {err}")
    check(out == "/opt/w/env /opt/w/env False\n", f"stdout {out!r}")
    check(os.listdir(ws) == ["made"], f"the write reached the host: {os.listdir(ws)}")


@case
def prepared_dies_with_launcher(env):
    """SIGKILL of a prepared launcher leaves no sandbox process behind."""
    p, spec, status = env.prepared()
    status.readline()
    children = [int(c) for c in open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()]
    check(children, "no sandbox init under the launcher")
    p.kill()
    p.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{c}") for c in children):
        time.sleep(0.05)
    check(not any(os.path.exists(f"/proc/{c}") for c in children), f"init {children} survived")
    os.close(spec)


@case
def sigusr1_cancels_at_once(env):
    """SIGUSR1 kills the sandbox without a grace period, even a script that
    ignores SIGTERM, and the exit event says limit "cancel"."""
    ws = env.workspace()
    r, w = os.pipe()
    p = subprocess.Popen([env.launcher, "--policy", env.policy, "--workspace", ws,
                          "--status-fd", str(w), "--", PYTHON, "-c",
                          "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                          "open('up','w').close(); time.sleep(60)"], pass_fds=(w,))
    os.close(w)
    deadline = time.time() + 20
    while time.time() < deadline and not os.path.exists(os.path.join(ws, "up")):
        time.sleep(0.02)
    check(os.path.exists(os.path.join(ws, "up")), "script did not start")
    p.send_signal(signal.SIGUSR1)
    rc = p.wait(timeout=10)
    with os.fdopen(r) as f:
        e = one(events_of(f), "exit")
    check(rc == 128 + signal.SIGKILL and e["signal"] == signal.SIGKILL, f"{rc} {e}")
    check(e["limit"] == "cancel", e)


def owner_of(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid


@case
def root_owned_workspace_is_id_mapped(env):
    if os.geteuid() != 0:
        raise Skip("needs a root launcher")
    ws = env.workspace()
    rc, out, err, ev = env.cold(ws, ["python3", "-c",
        "import os; open('new','w').write('x'); print(os.getuid(), os.stat('.').st_uid)"])
    check(rc == 0, f"exit {rc}: {err}")
    check(out.split() == ["1000", "1000"], f"inside ids {out!r}")
    check(owner_of(os.path.join(ws, "new")) == (0, 0), "file not owned by the workspace owner")


@case
def user_owned_workspace_keeps_its_owner(env):
    if os.geteuid() != 0:
        raise Skip("needs a root launcher")
    ws = env.workspace(owner=4321)
    rc, out, err, _ = env.cold(ws, ["python3", "-c", "open('new','w'); import os; print(os.getuid())"])
    check(rc == 0 and out.strip() == "1000", f"exit {rc} {out!r} {err}")
    check(owner_of(os.path.join(ws, "new")) == (4321, 4321), "new file not owned by 4321")


@case
def script_is_never_host_root(env):
    """Seen from the host, every process of the sandbox has a non-zero uid."""
    ws = env.workspace()
    marker = os.path.join(ws, "pid")
    p = subprocess.Popen([env.launcher, "--policy", env.policy, "--workspace", ws, "--",
                          PYTHON, "-c", "import os,time; open('pid','w').write('x'); time.sleep(30)"])
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not os.path.exists(marker):
            time.sleep(0.05)
        check(os.path.exists(marker), "script did not start")
        found = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                status = open(f"/proc/{pid}/status").read()
            except OSError:
                continue
            if b"time.sleep(30)" in cmd and not cmd.startswith(env.launcher.encode()):
                uids = next(l for l in status.splitlines() if l.startswith("Uid:")).split()[1:]
                check(all(u != "0" for u in uids), f"sandboxed process {pid} has host uids {uids}")
                found = True
        check(found, "sandboxed python not found in /proc")
    finally:
        p.kill()
        p.wait()


@case
def unprivileged_launcher(env):
    """A non-root launcher works, and says which cgroup limits it could not apply."""
    if os.geteuid() != 0:
        raise Skip("needs root to switch to an unprivileged user for the test")
    if not shutil.which("setpriv"):
        raise Skip("setpriv (util-linux) is missing")
    nobody = pwd.getpwnam("nobody").pw_uid
    ws = env.workspace(owner=nobody)
    launcher, policy = env.public_copies()
    r, w = os.pipe()
    p = subprocess.run(["setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups",
                        launcher, "--policy", policy, "--workspace", ws,
                        "--status-fd", str(w), "--", "python3", "-c",
                        "open('made-by-nobody','w'); print('ok')"],
                       pass_fds=(w,), capture_output=True, timeout=60)
    os.close(w)
    with os.fdopen(r) as f:
        events = events_of(f)
    if p.returncode == 125 and "namespaces" in p.stderr.decode():
        raise Skip("unprivileged user namespaces are disabled here: " + p.stderr.decode())
    check(p.returncode == 0 and p.stdout == b"ok\n", f"exit {p.returncode}: {p.stderr!r}")
    check(owner_of(os.path.join(ws, "made-by-nobody"))[0] == nobody, "file owner")
    started = one(events, "started")
    check(started["degraded"] and "cgroup" in started["degraded"], f"degraded not reported: {started}")


@case
def init_errors_reach_the_caller(env):
    """A step that fails inside the sandbox reports its own stage, errno and
    hint, cold and prepared, not a broken pipe of the launcher."""
    with open(env.policy) as f:
        pol = json.load(f)
    pol["mounts"].append({"type": "bind", "source": "/nonexistent-for-test", "target": "/opt/x"})
    bad = os.path.join(env.tmp, "missing-bind.json")
    with open(bad, "w") as f:
        json.dump(pol, f)
    ws = env.workspace()
    r, w = os.pipe()
    p = subprocess.run([env.launcher, "--policy", bad, "--workspace", ws, "--status-fd", str(w),
                        "--", "true"], pass_fds=(w,), capture_output=True, timeout=60)
    os.close(w)
    with os.fdopen(r) as f:
        e = one(events_of(f), "error")
    check(p.returncode == 125, f"cold exit {p.returncode}")
    check(e["stage"] == "mount" and "/nonexistent-for-test" in e["message"] and e["hint"], e)
    check(e["error"] == "No such file or directory", e)
    p, spec, status = env.prepared(policy=bad)
    e = one(events_of(status), "error")
    os.close(spec)
    p.communicate(timeout=60)
    check(p.returncode == 125 and e["stage"] == "mount", f"prepared exit {p.returncode} {e}")


@case
def device_mount_of_a_link_is_refused(env):
    """A device mount whose source is a symbolic link would put only the
    link in the sandbox, naming a node it does not have: refused, with the
    link's target and what to write instead."""
    with open(env.policy) as f:
        pol = json.load(f)
    link = f"/dev/pymcp-test-link-{os.getpid()}"  # device mounts name nodes of /dev
    os.symlink("/dev/null", link)
    try:
        pol["mounts"].append({"type": "bind", "source": link, "target": link,
                              "device": True, "readonly": False})
        bad = os.path.join(env.tmp, "device-link.json")
        with open(bad, "w") as f:
            json.dump(pol, f)
        r, w = os.pipe()
        p = subprocess.run([env.launcher, "--policy", bad, "--workspace", env.workspace(),
                            "--status-fd", str(w), "--", "true"], pass_fds=(w,),
                           capture_output=True, timeout=60)
        os.close(w)
    finally:
        os.unlink(link)
    with os.fdopen(r) as f:
        e = one(events_of(f), "error")
    check(p.returncode == 125, f"exit {p.returncode}")
    check(e["stage"] == "mount" and "symbolic link" in e["message"] and "/dev/null" in e["message"]
          and "device node" in e.get("hint", ""), e)


@case
def no_fork_with_a_profile_that_denies_seccomp(env):
    """"subprocesses": false under a profile that denies seccomp() and
    prctl() to the script: the no-fork filter still loads (it goes first)
    and both are in force."""
    with open(env.policy) as f:
        pol = json.load(f)
    pol["subprocesses"] = False
    for rule in pol["seccomp"]["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n not in ("seccomp", "prctl")]
    pol["seccomp"]["syscalls"] = [r for r in pol["seccomp"]["syscalls"] if r["names"]]
    path = os.path.join(env.tmp, "no-fork-no-seccomp.json")
    with open(path, "w") as f:
        json.dump(pol, f)
    ws = env.workspace()
    code = ("import ctypes, os\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "print('prctl', libc.prctl(38, 1, 0, 0, 0), ctypes.get_errno())\n"
            "try:\n os.fork(); print('forked')\nexcept OSError as e: print('fork', e.errno)")
    r, w = os.pipe()
    p = subprocess.run([env.launcher, "--policy", path, "--workspace", ws, "--status-fd", str(w),
                        "--", "python3", "-c", code], pass_fds=(w,), capture_output=True,
                       timeout=60)
    os.close(w)
    os.close(r)
    out = p.stdout.decode().split()
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()}")
    check(out == ["prctl", "-1", "1", "fork", "1"], f"output {out}")


@case
def seccomp_cache(env):
    """--cache-dir keeps the compiled filter; an entry others could have
    written is refused loudly; a torn entry is recompiled; the filter is
    in force either way."""
    ws = env.workspace()
    cache = os.path.join(env.tmp, "cache")
    probe = ["python3", "-c", "print(open('/proc/self/status').read().split('Seccomp:')[1].split()[0])"]
    rc, out, err, _ = env.cold(ws, probe, extra=["--cache-dir", cache])
    check(rc == 0 and out.strip() == "2", f"first run {rc} {out!r} {err}")
    entries = [f for f in os.listdir(cache) if f.endswith(".bpf")]
    check(len(entries) == 1, f"cache entries {os.listdir(cache)}")
    entry = os.path.join(cache, entries[0])
    before = os.stat(entry).st_mtime_ns
    rc, out, err, _ = env.cold(ws, probe, extra=["--cache-dir", cache])
    check(rc == 0 and out.strip() == "2" and os.stat(entry).st_mtime_ns == before,
          "second run reused the entry")
    os.chmod(entry, 0o666)
    rc, out, err, ev = env.cold(ws, probe, extra=["--cache-dir", cache])
    check(rc == 125 and one(ev, "error")["stage"] == "seccomp_cache" and "Hint:" in err,
          f"writable entry accepted: {rc} {err!r}")
    os.chmod(entry, 0o600)
    with open(entry, "r+b") as f:
        f.write(b"garbage!")
    rc, out, err, _ = env.cold(ws, probe, extra=["--cache-dir", cache])
    check(rc == 0 and out.strip() == "2", f"torn entry: {rc} {out!r} {err}")


@case
def check_policy(env):
    ok = subprocess.run([env.launcher, "--check-policy", env.policy], capture_output=True)
    check(ok.returncode == 0 and b": ok" in ok.stdout, f"{ok}")
    bad = os.path.join(env.tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{"version": 1,\n "netwrok": true}\n')
    r = subprocess.run([env.launcher, "--check-policy", bad], capture_output=True)
    msg = r.stderr.decode()
    check(r.returncode != 0 and "line 2" in msg and "netwrok" in msg, f"{r.returncode} {msg!r}")


@case
def exit_status_conventions(env):
    ws = env.workspace()
    rc, *_ = env.cold(ws, ["python3", "-c", "import sys; sys.exit(7)"])
    check(rc == 7, f"exit code {rc}")
    rc, _, _, ev = env.cold(ws, ["python3", "-c", "import os,signal; os.kill(os.getpid(), signal.SIGTERM)"])
    check(rc == 128 + signal.SIGTERM and one(ev, "exit")["signal"] == signal.SIGTERM, f"{rc} {ev}")
    rc, _, err, ev = env.cold(ws, ["no-such-command"])
    check(rc == 127 and one(ev, "error")["stage"] == "exec", f"{rc} {ev}")
    check("Hint:" in err, f"no hint: {err!r}")
    rc, _, err, ev = env.cold(ws, ["true"], extra=["--cwd", "missing-dir"])
    check(rc == 125 and one(ev, "error")["stage"] == "cwd", f"{rc} {ev}")


PROGRESS_SCRIPT = r"""
import os, subprocess, sys, time
fd = int(os.environ["PYMCP_PROGRESS_FD"])
w = lambda b: os.write(fd, b)
w(b"progress 1/10 first\n")
# Not reports: each is ignored whole.
w(b"progress -1/10 negative\nprogress nan\nprogress 1/0 zero total\n"
  b"progress 1e9 exponent\nprogres 2/10 typo\nprogress 2/10x glued\n")
w(b"progress 3/10 " + b"x" * 5000 + b"\n")          # overlong line
w(b"progress 4/10 \xff\xfe bad utf-8\n")
time.sleep(0.3)
w(b"progress 5/10 " + "\u00e9".encode() * 300 + b"\n")   # message cut at a character
time.sleep(0.3)
# A child given the descriptor may report too.
subprocess.run([sys.executable, "-c",
    "import os; os.write(int(os.environ['PYMCP_PROGRESS_FD']), b'progress 6/10 child\\n')"],
    pass_fds=(fd,), check=True)
time.sleep(0.3)
# A flood for a second: the caller hears at most ten a second.
end = time.monotonic() + 1.0
i = 0
while time.monotonic() < end:
    i += 1
    w(b"progress 6.5 flood %d\n" % i)
w(b"progress 7 done")                               # no newline, then exit
"""


@case
def progress_reports_reach_the_caller(env):
    """PYMCP_PROGRESS_FD: lines become "progress" events, bounded in rate
    and size, the last one before "exit"; whatever else is written there
    is ignored; the job cannot choose the variable's value."""
    ws = env.workspace()
    with open(os.path.join(ws, "p.py"), "w") as f:
        f.write(PROGRESS_SCRIPT)
    rc, out, err, events = env.cold(ws, ["python3", "p.py"],
                                    extra=("--env", "PYMCP_PROGRESS_FD=1"))
    check(rc == 0, f"exit {rc}: {err}")
    kinds = [e["event"] for e in events]
    check(kinds[-1] == "exit", kinds)
    prog = [e for e in events if e["event"] == "progress"]
    check(prog and prog[0] == {"event": "progress", "current": 1, "total": 10,
                               "message": "first"}, prog[:1])
    check(prog[-1] == {"event": "progress", "current": 7, "total": None, "message": "done"},
          f"last report: {prog[-1:]}")
    msgs = [e["message"] for e in prog]
    for bad in ("negative", "zero total", "exponent", "typo", "glued"):
        check(not any(m and bad in m for m in msgs), f"{bad!r} taken: {msgs}")
    check(not any(m and m.startswith("xxx") for m in msgs), "the overlong line was taken")
    check("?? bad utf-8" in msgs, f"invalid UTF-8 not replaced: {msgs}")
    cut = [m for m in msgs if m and m.startswith("\u00e9")]
    check(cut == ["\u00e9" * 100], f"message not cut at 200 bytes on a character: {cut}")
    check("child" in msgs, f"the child's report is missing: {msgs}")
    flood = [e for e in prog if (e["message"] or "").startswith("flood")]
    wall = one(events, "exit")["wall_seconds"]
    check(len(prog) <= wall * 10 + 3,
          f"{len(prog)} progress events in {wall:.2f} s: more than ten a second")
    check(1 <= len(flood) <= 13, f"{len(flood)} events for a one-second flood")


@case
def jobs_are_first_for_the_oom_killer(env):
    """Every process of a job has oom_score_adj 500 (oom_guard.h: a job
    that grows while memory is short is raised to 1000): where no memory
    cgroup bounds it, the kernel's OOM killer takes a job, not the server;
    the launcher itself keeps its own score."""
    ws = env.workspace()
    code = ("import subprocess, sys\n"
            "print(open('/proc/self/oom_score_adj').read().strip())\n"
            "print(subprocess.run(['cat', '/proc/self/oom_score_adj'], capture_output=True,"
            " text=True).stdout.strip())\n")
    rc, out, err, _ = env.cold(ws, ["python3", "-c", code])
    check(rc == 0 and out.split() == ["500", "500"], f"inside: {out!r} {err!r}")
    check(open("/proc/self/oom_score_adj").read().strip() != "500", "the caller keeps its own")


class OuterMemory:
    """A memory cgroup above the launcher that it does not know of (a
    container's limit): cgroup v1's memory hierarchy (hybrid hosts), or a
    child of the v2 root; swap counts with memory where it is accounted.
    Processes started with preexec_fn=outer.enter run inside it."""

    made = 0

    def __init__(self, limit):
        v1, v2 = "/sys/fs/cgroup/memory", "/sys/fs/cgroup"
        if os.path.isdir(v1) and os.access(os.path.join(v1, "cgroup.procs"), os.W_OK):
            # swappiness 0: where swap is on and memsw is not accounted,
            # what runs out is killed rather than swapped out.
            base, limits = v1, ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
                                "memory.swappiness")
        elif ("memory" in open(os.path.join(v2, "cgroup.controllers")).read().split()
              if os.path.exists(os.path.join(v2, "cgroup.controllers")) else False):
            base, limits = v2, ("memory.max", "memory.swap.max")
            try:
                with open(os.path.join(v2, "cgroup.subtree_control"), "w") as f:
                    f.write("+memory")
            except OSError as e:
                print(f"cannot enable memory for children of the v2 root: {e}")
        else:
            print("!" * 78 + "\n!!! no writable memory cgroup (v1 or v2) here: this case did "
                  "NOT run\n" + "!" * 78)
            raise SystemExit(77)
        OuterMemory.made += 1
        self.dir = os.path.join(base, f"pymcp-test-{os.getpid()}-{OuterMemory.made}")
        os.mkdir(self.dir)
        for name in limits:
            try:
                with open(os.path.join(self.dir, name), "w") as f:
                    f.write("0" if name in ("memory.swap.max", "memory.swappiness")
                            else str(limit))
            except OSError:
                pass  # no swap accounting (or swappiness, for the root's children)

    def enter(self):
        with open(os.path.join(self.dir, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def remove(self):
        for _ in range(50):
            try:
                os.rmdir(self.dir)
                return
            except OSError:
                time.sleep(0.1)


def no_memory_cgroup_policy(env):
    """The policy without a memory cgroup of the job's own, as in a
    container without delegation."""
    with open(env.policy) as f:
        policy = json.load(f)
    for key in ("memory_max_bytes", "swap_max_bytes"):
        policy.get("cgroup", {}).pop(key, None)
    path = os.path.join(env.tmp, "nomem.json")
    with open(path, "w") as f:
        json.dump(policy, f)
    return path


BOMB = ("chunks = []\nwhile True:\n    b = bytearray(64 << 20)\n"
        "    for i in range(0, len(b), 4096): b[i] = 1\n    chunks.append(b)\n")
POOL_BOMB = ("import multiprocessing as mp\n"
             "def grow(_):\n" + "".join("    " + l + "\n" for l in BOMB.splitlines()) +
             "if __name__ == '__main__':\n"
             "    with mp.Pool(4) as p: p.map(grow, range(4))\n")


def launch(env, policy, outer, code, ws=None):
    """The launcher running `code` inside `outer`, and its status stream."""
    r, w = os.pipe()
    p = subprocess.Popen([env.launcher, "--policy", policy, "--workspace", ws or env.workspace(),
                          "--status-fd", str(w), "--", "python3", "-c", code],
                         pass_fds=(w,), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=outer.enter)
    os.close(w)
    return p, os.fdopen(r)


def finish(p, status):
    events = [json.loads(line) for line in status]
    out, err = p.communicate(timeout=120)
    return out.decode(), err.decode(), one(events, "exit")


@case
def oom_outside_the_sandbox_is_memory(env):
    """No memory cgroup of the sandbox's own (the policy sets none, as in a
    container without delegation), and what holds the launcher runs out:
    the kernel's OOM killer ends the job, and the run says limit memory."""
    outer = OuterMemory(200 << 20)
    try:
        p, status = launch(env, no_memory_cgroup_policy(env), outer, BOMB)
        _, _, ex = finish(p, status)
        check(ex["signal"] == 9 and ex["limit"] == "memory" and ex["limit_detail"],
              f"the OOM kill is the memory limit: {ex}")
    finally:
        outer.remove()


@case
def a_growing_job_goes_before_a_quiet_neighbour(env):
    """Issue 14's bar where the container gives no cgroup of the job's own:
    in 600 MiB, a neighbour holds 300 MiB (touched, then quiet); a memory
    bomb, one process and then a pool of four that would respawn its
    workers, ends as a job with limit memory, and the neighbour lives on.
    The kernel alone would take the larger process: the neighbour.  The
    same where each job has a memory cgroup of its own (2 GiB, the default
    policy's) below the container's limit."""
    neighbour = ("import os, time\nx = bytearray(300 << 20)\n"
                 "for i in range(0, len(x), 4096): x[i] = 1\n"
                 "print('holding', flush=True)\n"
                 "while not os.path.exists('release'): time.sleep(0.05)\n"
                 "print('neighbour ok')\n")
    outer = OuterMemory(600 << 20)
    try:
        rounds = [(f"{bomb_name}, {policy_name}", bomb, policy)
                  for policy_name, policy in (("no job cgroup", no_memory_cgroup_policy(env)),
                                              ("a job cgroup each", env.policy))
                  for bomb_name, bomb in (("one process", BOMB), ("a pool of four", POOL_BOMB))]
        for name, bomb, policy in rounds:
            ws = env.workspace()
            n, nstatus = launch(env, policy, outer, neighbour, ws)
            line = n.stdout.readline().decode()
            check(line == "holding\n", f"the neighbour holds its memory: {line!r}")
            t0 = time.monotonic()
            p, status = launch(env, policy, outer, bomb)
            _, err, ex = finish(p, status)
            took = time.monotonic() - t0
            check(ex["limit"] == "memory" and ex["limit_detail"],
                  f"{name}: the bomb ends as a job with limit memory: {ex} {err[-500:]!r}")
            open(os.path.join(ws, "release"), "w").close()
            out, nerr, nex = finish(n, nstatus)
            out = line + out
            check(nex.get("exit_code") == 0 and "neighbour ok" in out,
                  f"{name}: the neighbour lived through it: {nex} {nerr[-500:]!r}")
            print(f"{name}: the bomb ended in {took:.1f} s: {ex['limit_detail']}")
    finally:
        outer.remove()


@case
def an_oom_kill_elsewhere_is_not_the_jobs(env):
    """A job raised for the OOM killer (it grew while what holds it ran
    short) ends for memory only when a kill is counted where its own
    processes are accounted: an OOM kill in another cgroup (another
    container on the machine) leaves it running.  The machine's count
    (/proc/vmstat) once ended it."""
    grower = ("import os, time\nchunks = []\n"
              "for _ in range(23):\n"
              "    b = bytearray(20 << 20)\n"
              "    for i in range(0, len(b), 4096): b[i] = 1\n"
              "    chunks.append(b)\n    time.sleep(0.06)\n"
              "time.sleep(0.3)\n"
              "print(open('/proc/self/oom_score_adj').read().strip(), flush=True)\n"
              "while not os.path.exists('release'): time.sleep(0.05)\n"
              "print('grower ok')\n")
    outer, other = OuterMemory(600 << 20), OuterMemory(64 << 20)
    p = None
    try:
        ws = env.workspace()
        p, status = launch(env, no_memory_cgroup_policy(env), outer, grower, ws)
        line = p.stdout.readline().decode()
        check(line == "1000\n", f"the grown job was raised for the OOM killer: {line!r}")
        # A process outside any sandbox, in a cgroup of its own, runs out.
        bomb = subprocess.run([sys.executable, "-c", BOMB], preexec_fn=other.enter,
                              capture_output=True, timeout=60)
        check(bomb.returncode == -signal.SIGKILL,
              f"the other cgroup's process was OOM-killed: {bomb.returncode}")
        time.sleep(0.3)  # several looks of the guard
        open(os.path.join(ws, "release"), "w").close()
        out, err, ex = finish(p, status)
        check(ex.get("exit_code") == 0 and ex.get("limit") is None and "grower ok" in out,
              f"the job lives on: {ex} {out!r} {err[-500:]!r}")
    finally:
        if p is not None and p.poll() is None:  # a check failed: the grower waits on
            p.kill()
            p.wait()
        outer.remove()
        other.remove()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    a = ap.parse_args()
    env = Env(a.launcher, a.policy)
    try:
        CASES[a.case](env)
    except Skip as s:
        print(f"CANNOT TEST {a.case} ON THIS MACHINE: {s}", file=sys.stderr)
        return 77
    except AssertionError as e:
        print(f"FAILED {a.case}: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(env.tmp, ignore_errors=True)
    print(f"passed {a.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
